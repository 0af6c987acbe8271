"""Plant policies (admin): enterprise defaults and each plant's local values, edited with a reason."""

import streamlit as st

from components import cached, flash
from components import decisions as ui
from components.tables import table
from components.warehouse import get_engine
from data_access.kpis import REFERENCE_CURRENCY
from governance.login import current_user
from governance.policies import SPECS, PolicyError, parse_text, reset_value, set_value

ENTERPRISE = "__enterprise__"

st.title("Plant policies")
user = current_user()
engine = get_engine()
if not user.can("edit_policy"):
    st.error("Only an admin may see and change plant policies.", icon=":material/block:")
    st.stop()
st.caption(
    "Hub and spoke: the enterprise defaults apply to every plant unless the plant has localized a "
    "value. Thresholds, approvers per kind and cost band, automation, escalation and stale-feed rules. "
    "Every change needs a reason and is written to the audit trail; a change that would make any "
    "plant's policy contradictory is refused. Costs (max_cost, auto_approve_max_cost, labour rate) are in "
    f"the enterprise reference currency, {REFERENCE_CURRENCY}."
)

flash.show("policies_flash")

plants = cached.plants(engine, user.scope)
names = {
    ENTERPRISE: "Enterprise defaults (all plants)",
    **{p: f"{n} ({p})" for p, n in zip(plants["plant_id"], plants["name"])},
}
target = st.selectbox("Policy of", list(names), format_func=names.get, key="policies_target")
plant_id = None if target == ENTERPRISE else target

values = ui.policy_table(engine, user.scope, plant_id)
if plant_id:
    localized = values[values["localized"]]
    st.markdown(
        f"**{len(localized)} value(s) localized at {names[target]}**"
        + (": " + ", ".join(localized["key"]) if len(localized) else "; it follows the enterprise defaults.")
    )
table(
    values,
    key="policies_table",
    file_name=f"policy_{plant_id or 'enterprise'}.csv",
    column_config={
        "key": st.column_config.TextColumn("Key"),
        "effective_value": st.column_config.TextColumn("Effective value", width="medium"),
        "origin": st.column_config.TextColumn(
            "From", help="plant: localized here; enterprise: the default; built-in: not stored yet"
        ),
        "localized": st.column_config.CheckboxColumn("Localized"),
        "enterprise_value": st.column_config.TextColumn("Enterprise value"),
        "plant_value": st.column_config.TextColumn("Plant value"),
        "description": st.column_config.TextColumn("Meaning", width="large"),
        "updated_by": st.column_config.TextColumn("Changed by"),
        "updated_utc": st.column_config.DatetimeColumn("Changed (UTC)", format="YYYY-MM-DD HH:mm"),
    },
)

st.subheader("Change a value")
key = st.selectbox("Key", list(SPECS), key="policies_key", help="The meaning of each key is in the table above.")
current = values.set_index("key").loc[key]
st.caption(f"{SPECS[key].description} Effective now: `{current['effective_value']}` (from {current['origin']}).")
with st.form("policies_form"):
    raw = st.text_input(
        "New value (JSON)",
        value=current["plant_value"] or current["effective_value"],
        key=f"policies_value_{target}_{key}",
        help='Numbers as 0.6, text choices as assisted, role lists as ["plant_manager"], no value as null.',
    )
    reason = st.text_input("Reason", key="policies_reason", max_chars=500)
    save_col, reset_col = st.columns(2)
    save = save_col.form_submit_button("Save", key="policies_save", type="primary")
    reset = reset_col.form_submit_button(
        "Reset to the enterprise default", key="policies_reset", disabled=plant_id is None
    )
if save or reset:
    try:
        if reset:
            reset_value(engine, user, plant_id, key, reason)
            message = f"{names[target]} follows the enterprise default for {key} again."
        else:
            set_value(engine, user, plant_id, key, parse_text(key, raw), reason)
            message = f"Saved {key} for {names[target]}."
    except PolicyError as exc:
        st.error(str(exc), icon=":material/block:")
    else:
        ui.clear()
        flash.rerun_with("policies_flash", message)

st.subheader("Localized values per plant")
table(
    ui.localized_by_plant(engine, user.scope),
    key="policies_localized",
    file_name="policy_localized.csv",
    column_config={
        "plant_id": st.column_config.TextColumn("Plant"),
        "localized": st.column_config.NumberColumn("Localized values", format="%d"),
        "keys": st.column_config.TextColumn("Keys", width="large"),
    },
    empty_message="No plant has localized a value: every plant follows the enterprise defaults.",
)
