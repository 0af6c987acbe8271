"""Decision detail: one recommendation's evidence, spare parts, schedule impact (or a scenario plan's
levers and its result against the baseline) and history; decide."""

import streamlit as st

from components import decisions as ui
from components import delivery, flash
from components.formatting import money_column
from components.tables import table
from components.warehouse import get_engine
from governance.login import current_user
from governance.workflow import ACTIONS, OVERRIDE_FIELDS, Refused, allowed_actions, decide

st.title("Decision detail")
user = current_user()
engine = get_engine()

flash.show("decision_detail_flash")

choices = ui.recommendations(engine, user.scope, tuple(user.roles))
if choices.empty:
    st.info(
        "No recommendation has been raised in your plants yet. They appear when a risk signal crosses "
        "its plant's threshold (the orchestration runs them).",
        icon=":material/inbox:",
    )
    st.stop()
labels = {int(r["rec_id"]): ui.rec_label(r) for r in choices.to_dict("records")}
requested = st.session_state.pop("decision_detail_requested", None)
if requested in labels:
    st.session_state["decision_detail_pick"] = requested
rec_id = st.selectbox("Recommendation", list(labels), format_func=labels.get, key="decision_detail_pick")

rec, view = ui.detail(engine, user.scope, rec_id)
if rec is None:
    st.warning("That recommendation does not exist or is outside your plant scope.", icon=":material/block:")
    st.stop()
evidence = rec["evidence"]
routing = rec["routing"]

st.subheader(rec["title"])
risk_col, cost_col, state_col, sla_col = st.columns(4)
risk_col.metric(
    "Risk",
    "n/a" if rec["risk"] is None else f"{rec['risk']:.0%}",
    border=True,
    help=f"Source: {rec['source'] or 'n/a'}; rule or model: {evidence.get('rule', 'n/a')}",
)
is_plan = rec["kind"] == "scenario"
cost_label, cost_value, cost_help = ui.cost_metric(rec)
cost_col.metric(cost_label, cost_value, border=True, help=cost_help)
state_col.metric("State", ui.STATE_LABELS.get(rec["state"], rec["state"]), border=True)
sla_col.metric(
    "SLA due (UTC)",
    "n/a" if rec["sla_due_utc"] is None else f"{rec['sla_due_utc']:%Y-%m-%d %H:%M}",
    border=True,
    help=f"Escalates to {', '.join(routing.get('escalate_to', [])) or 'nobody'} "
    f"when still open {routing.get('sla_hours', 0):g} h after it was raised",
)
still = view.missing() if view is not None and rec["state"] in ("open", "escalated") else []
st.caption(
    f"{ui.KIND_LABELS.get(rec['kind'], rec['kind'])} · plant {rec['plant_name']} ({rec['plant_id']}) · subject "
    f"{rec['subject_id']} · raised {rec['created_utc']:%Y-%m-%d %H:%M} UTC · expires "
    f"{'never' if rec['expires_utc'] is None else format(rec['expires_utc'], '%Y-%m-%d %H:%M')} UTC  \n"
    f"Approvers (all required): {', '.join(routing.get('approvers', [])) or 'none'}"
    + (f" · still needed: {', '.join(still)}" if still else "")
    + f" · once escalated: {', '.join(routing.get('escalate_to', [])) or 'nobody'}"
)
if evidence.get("stale_feeds"):
    st.warning(
        f"Raised from a stale feed ({', '.join(evidence['stale_feeds'])}); the policy's rule is "
        f"'{evidence.get('stale_feed_rule')}'. Check the data before deciding.",
        icon=":material/warning:",
    )
if rec["source"] == "fallback_rule":
    st.caption("Scored by a threshold fallback rule (no model score for this subject yet).")
if is_plan:
    st.info(ui.scenario_note(rec), icon=":material/science:")

why_col, action_col = st.columns(2)
with why_col:
    st.markdown("**Evidence**")
    table(
        ui.evidence_readings(evidence, skip=("levers",) if is_plan else ()),
        key="decision_detail_evidence",
        file_name=f"rec_{rec_id}_evidence.csv",
        column_config={
            "reading": st.column_config.TextColumn("Reading"),
            "value": st.column_config.TextColumn("Value", width="large"),
        },
        empty_message="This recommendation carries no readings.",
    )
with action_col:
    st.markdown("**Proposed action** (what goes to the outbox when approved)")
    table(
        ui.action_frame(evidence),
        key="decision_detail_action",
        file_name=f"rec_{rec_id}_action.csv",
        column_config={
            "field": st.column_config.TextColumn("Field"),
            "value": st.column_config.TextColumn("Value", width="large"),
        },
        empty_message="No action is proposed.",
    )

ORDER_COLUMNS = {
    "order_id": st.column_config.TextColumn("Order"),
    "product_name": st.column_config.TextColumn("Product"),
    "qty": st.column_config.NumberColumn("Qty", format="%.0f"),
    "status": st.column_config.TextColumn("Status"),
    "planned_start_utc": st.column_config.TextColumn("Planned start (UTC)"),
    "planned_end_utc": st.column_config.TextColumn("Planned end (UTC)"),
    "due_utc": st.column_config.TextColumn("Due (UTC)"),
}
if rec["kind"] == "maintenance":
    st.markdown(f"**Spare parts of the {evidence.get('asset_class', '')} class** · {evidence.get('parts_check', '')}")
    table(
        ui.records_frame(evidence, "spare_parts"),
        key="decision_detail_parts",
        file_name=f"rec_{rec_id}_parts.csv",
        column_config={
            "plant_name": st.column_config.TextColumn("Plant"),
            "material_id": st.column_config.TextColumn("Part"),
            "name": st.column_config.TextColumn("Name"),
            "on_hand": st.column_config.NumberColumn("On hand", format="%.0f"),
            "unit_cost": money_column("Unit cost", decimals=2),
            "lead_time_days": st.column_config.NumberColumn("Lead time (d)", format="%.0f"),
            "snapshot_day": st.column_config.TextColumn("Counted on"),
        },
        empty_message="No plant stocks spare parts for this asset class.",
    )
    window = evidence.get("repair_window_utc") or ["?", "?"]
    st.markdown(
        f"**Schedule impact**: production orders on {evidence.get('line_name', 'the line')} "
        f"between {window[0][:16]} and {window[-1][:16]} UTC"
    )
    table(
        ui.records_frame(evidence, "schedule_impact"),
        key="decision_detail_impact",
        file_name=f"rec_{rec_id}_schedule_impact.csv",
        column_config=ORDER_COLUMNS,
        empty_message="No production order is planned on this line in the repair window.",
    )
elif rec["kind"] == "shortage":
    st.markdown("**Open purchase orders**")
    table(
        ui.records_frame(evidence, "open_purchase_orders"),
        key="decision_detail_pos",
        file_name=f"rec_{rec_id}_open_pos.csv",
        column_config={
            "po_id": st.column_config.TextColumn("PO"),
            "supplier_name": st.column_config.TextColumn("Supplier"),
            "qty": st.column_config.NumberColumn("Qty", format="%.0f"),
            "promised_day": st.column_config.TextColumn("Promised"),
        },
        empty_message="No open purchase order for this material at this plant.",
    )
    st.markdown("**Alternative suppliers** (delivery record across the network)")
    table(
        ui.records_frame(evidence, "alternative_suppliers"),
        key="decision_detail_suppliers",
        file_name=f"rec_{rec_id}_suppliers.csv",
        column_config={
            "supplier_name": st.column_config.TextColumn("Supplier"),
            "country": st.column_config.TextColumn("Country"),
            "received": st.column_config.NumberColumn("POs received", format="%d"),
            "on_time_rate": st.column_config.NumberColumn("On time", format="percent"),
            "mean_delay_days": st.column_config.NumberColumn("Mean order-to-receipt (d)", format="%.1f"),
        },
        empty_message="No other supplier has delivered this material to the network.",
    )
elif is_plan:
    st.markdown(
        f"**The plan at {rec['plant_name']} against its baseline** (means and 10th-90th percentiles "
        "over the simulated paths)"
    )
    table(
        ui.scenario_summary_frame(evidence),
        key="decision_detail_scenario_summary",
        file_name=f"rec_{rec_id}_scenario_summary.csv",
        column_config=ui.scenario_summary_column_config(),
        empty_message="The scenario carries no result for this plant.",
    )
    st.markdown(
        "**Levers at this plant** (the proposed action keeps the plant's decisions: capacity, overtime, "
        "safety stock, maintenance windows; the rest are the scenario's assumptions)"
    )
    table(
        ui.lever_frame(evidence.get("levers")),
        key="decision_detail_scenario_levers",
        file_name=f"rec_{rec_id}_scenario_levers.csv",
        column_config={
            "lever": st.column_config.TextColumn("Lever"),
            "value": st.column_config.TextColumn("Value", width="large"),
        },
        empty_message="No lever is set: the scenario is the baseline.",
    )
elif rec["kind"] in ("quality", "schedule"):
    key = "affected_lots" if rec["kind"] == "quality" else "schedule_impact"
    st.markdown("**Affected lots**" if rec["kind"] == "quality" else "**Orders to reschedule**")
    table(
        ui.records_frame(evidence, key),
        key="decision_detail_orders",
        file_name=f"rec_{rec_id}_orders.csv",
        column_config=ORDER_COLUMNS,
        empty_message="No production order is listed.",
    )

st.markdown("**History**")
table(
    rec["decisions"],
    key="decision_detail_history",
    file_name=f"rec_{rec_id}_history.csv",
    column_config=ui.history_column_config(),
    empty_message="Nobody has acted on it yet.",
)
if rec["outbox"] is not None:
    st.subheader("Delivery")
    st.caption(
        f"Outbox request #{rec['outbox']['outbox_id']}: {rec['outbox']['request_type'].replace('_', ' ')} "
        f"for the {rec['outbox']['target'].upper()}."
    )
    delivery.show(engine, user, rec_id)

# The version the user saw is the one rendered on the previous run; a decision is taken on it.
seen = st.session_state.setdefault("decision_detail_seen", {})
seen_version = seen.get(rec_id, rec["version"])

st.subheader("Decide")
# Every action stays in the list, whatever the fresh state allows: a choice made on the page the
# user saw must reach the workflow as made (which refuses it with the reason), never turn into another.
allowed = allowed_actions(user, view)
possible = [a for a, why in allowed.items() if why is None]
st.caption(
    "You may "
    + ", ".join(ui.ACTION_LABELS[a].split(" (")[0].lower() for a in possible)
    + " now."
    + "".join(
        f"  \n{ui.ACTION_LABELS[a].split(' (')[0]}: {why}"
        for a, why in allowed.items()
        if why is not None and a in ("approve", "escalate")
    )
)
fields = OVERRIDE_FIELDS.get(rec["kind"], {})
with st.form("decision_detail_form", clear_on_submit=True):
    action = st.selectbox(
        "Action",
        list(ACTIONS),
        index=ACTIONS.index(possible[0]) if possible else 0,
        format_func=lambda a: ui.ACTION_LABELS.get(a, a),
        key="decision_detail_action_pick",
    )
    reason = st.text_area(
        "Reason or comment",
        key="decision_detail_reason",
        max_chars=2000,
        help="Required to reject, override, escalate or comment.",
    )
    field_col, value_col = st.columns(2)
    field = field_col.selectbox(
        "Override: field to change",
        list(fields),
        format_func=lambda f: f"{f} ({fields[f][1]})",
        key="decision_detail_override_field",
    )
    value = value_col.text_input(
        "Override: new value",
        key="decision_detail_override_value",
        help="Only for an override, e.g. 2026-07-03T06:00 or 1200",
    )
    submitted = st.form_submit_button("Submit decision", key="decision_detail_submit", type="primary")
if submitted:
    try:
        outcome = decide(
            engine,
            user,
            rec_id,
            action,
            version=seen_version,
            reason=reason,
            override_value={field: value} if action == "override" and field and value.strip() else None,
        )
    except Refused as exc:
        st.error(str(exc), icon=":material/block:")
        ui.clear()
    else:
        ui.clear()
        seen[rec_id] = outcome.version
        flash.rerun_with("decision_detail_flash", outcome.message)
seen[rec_id] = rec["version"]
