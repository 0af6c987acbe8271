"""Risk: failure risk per asset, shortage probability per material, disruption per production order."""

import streamlit as st

from components import intelligence as intel
from components.jobs import worker_progress
from components.tables import table
from components.warehouse import get_engine
from forecasting import failure_risk, shortage
from governance.login import current_user

st.title("Risk")
user = current_user()
engine = get_engine()
st.caption(
    "Probabilities stored by the worker's risk scoring (hourly, and after each data load); this page never trains. "
    "Each row says whether its probability comes from a model or from a fallback rule, and why."
)

run = intel.latest_score_run(engine)
if run is None:
    worker_progress(engine, user.scope, ("risk",), "risk scores", intel.score_runs.clear)
    st.stop()

model = (run["summary"] or {}).get("model") or {}
served_by = f"failure-risk model {model['version']} ({model['status']})" if model else "no failure-risk model"
st.caption(f"Scored as of **{run['as_of_utc']:%Y-%m-%d %H:%M} UTC** (run {run['run_id']}) with {served_by}.")
if model and model.get("status") != "approved":
    st.warning(
        f"Failure-risk model {model['version']} is not approved: every asset's failure risk comes from the "
        "fallback rule (MTBF and time since repair). An admin approves versions on Models & data.",
        icon=":material/rule:",
    )

plants = intel.plants(engine, user.scope)
names = dict(zip(plants["plant_id"], plants["name"]))
chosen = st.multiselect(
    "Plants",
    sorted(names),
    format_func=lambda p: f"{names[p]} ({p})",
    key="risk_plants",
    placeholder="All plants in your scope",
)
scope = user.scope.narrowed(chosen) if chosen else user.scope

RISK = st.column_config.ProgressColumn("Probability", min_value=0.0, max_value=1.0, format="percent")
SOURCE = st.column_config.TextColumn(
    "From", help="model: the approved model's score; fallback rule: the rule's, for the reason given"
)
REASON = st.column_config.TextColumn("Fallback because")
PLANT = st.column_config.TextColumn("Plant")


def shown(frame, config):
    """The column settings of the columns this frame has (rule and sensor details vary by plant)."""
    return {k: v for k, v in config.items() if k in frame.columns}


def banner(frame, what):
    if frame.empty:
        return
    fallback = frame[frame["source"] == "fallback"]
    stale = frame[frame["stale"]]
    if len(fallback):
        st.warning(
            f"{len(fallback)} of {len(frame)} {what} are scored by fallback rules "
            f"({fallback['plant_id'].nunique()} plant(s)).",
            icon=":material/rule:",
        )
    if len(stale):
        st.warning(
            f"{len(stale)} {what} depend on a feed stale beyond its limit: "
            + ", ".join(sorted(stale["plant_name"].unique()))
            + ".",
            icon=":material/schedule:",
        )


failure_tab, shortage_tab, disruption_tab = st.tabs(["Asset failure risk", "Material shortage", "Order disruption"])

with failure_tab:
    st.caption(
        f"Probability that the asset fails within the next {failure_risk.HORIZON_DAYS} days. Model: "
        "gradient-boosted classifier on sensor trends (vibration, temperature, current), time since repair, "
        "age and class, calibrated per plant. Fallback rule: Weibull hazard from the asset's MTBF (run "
        "hours / failures, last 365 days) and run hours since its last repair."
    )
    frame = intel.risk_table(engine, scope, run["run_id"], "failure")
    banner(frame, "assets")
    table(
        frame,
        key="risk_failure",
        file_name="asset_failure_risk.csv",
        column_config=shown(
            frame,
            {
                "plant_name": PLANT,
                "subject_id": st.column_config.TextColumn("Asset"),
                "asset_name": st.column_config.TextColumn("Local name"),
                "asset_class": st.column_config.TextColumn("Class"),
                "criticality": st.column_config.TextColumn("Criticality", help="A: the line stops"),
                "line_name": st.column_config.TextColumn("Line"),
                "risk": RISK,
                "source_label": SOURCE,
                "model_risk": st.column_config.NumberColumn(
                    "Model", format="percent", help="The model's score, also where it is not served"
                ),
                "fallback_risk": st.column_config.NumberColumn("Rule", format="percent"),
                "rule.mtbf_h": st.column_config.NumberColumn("MTBF (run h)", format="%.0f"),
                "rule.run_hours_since_repair": st.column_config.NumberColumn("Run h since repair", format="%.0f"),
                "features.vib_ratio": st.column_config.NumberColumn(
                    "Vibration vs baseline", format="%.2f", help="Mean of the last 7 readings / baseline median"
                ),
                "features.temp_rise": st.column_config.NumberColumn("Temperature rise (°C)", format="%.1f"),
                "reason": REASON,
            },
        ),
        empty_message="No asset in the selected plants.",
    )

with shortage_tab:
    st.caption(
        f"Probability that the material runs out (demand exceeds stock on some day) within its supplier "
        f"lead time. Simulated {shortage.SIMULATIONS} times from the newest stock count, the last "
        f"{shortage.CONSUMPTION_DAYS} days of consumption scaled by the plant's output forecast, and open "
        "purchase orders arriving with delays drawn from the supplier's delivery record. Fallback rule "
        "(stale inventory feed): share of the lead time not covered by days of supply."
    )
    frame = intel.risk_table(engine, scope, run["run_id"], "shortage")
    banner(frame, "materials")
    table(
        frame,
        key="risk_shortage",
        file_name="material_shortage_risk.csv",
        column_config=shown(
            frame,
            {
                "plant_name": PLANT,
                "subject_id": st.column_config.TextColumn("Material"),
                "material_name": st.column_config.TextColumn("Name"),
                "material_type": st.column_config.TextColumn("Type"),
                "risk": RISK,
                "source_label": SOURCE,
                "on_hand": st.column_config.NumberColumn(
                    "On hand", format="%.0f", help="At the newest count (unit of the material)"
                ),
                "snapshot_day": st.column_config.TextColumn("Counted on"),
                "daily_mean": st.column_config.NumberColumn("Use per day", format="%.1f"),
                "forecast_factor": st.column_config.NumberColumn(
                    "Forecast factor", format="%.2f", help="Forecast output / recent output (raw and packaging)"
                ),
                "lead_time_days": st.column_config.NumberColumn("Lead time (d)", format="%.0f"),
                "open_po_qty": st.column_config.NumberColumn("On order", format="%.0f"),
                "supplier_on_time": st.column_config.NumberColumn("Supplier on time", format="percent"),
                "days_of_supply": st.column_config.NumberColumn("Days of supply", format="%.1f"),
                "reason": REASON,
            },
        ),
        empty_message="No stocked material with consumption in the selected plants.",
    )

with disruption_tab:
    st.caption(
        f"Production orders planned or released in the {shortage.DISRUPTION_DAYS} days after the scoring "
        "time: probability that a failure of any asset on the line during the order, or a shortage of any "
        "material of its bill of material by its planned end, disrupts it (inputs assumed independent). "
        "From fallback rules wherever one of its inputs is."
    )
    frame = intel.risk_table(engine, scope, run["run_id"], "disruption")
    banner(frame, "orders")
    table(
        frame,
        key="risk_disruption",
        file_name="order_disruption_risk.csv",
        column_config=shown(
            frame,
            {
                "plant_name": PLANT,
                "subject_id": st.column_config.TextColumn("Order"),
                "product_name": st.column_config.TextColumn("Product"),
                "line_id": st.column_config.TextColumn("Line"),
                "planned_start_utc": st.column_config.TextColumn("Planned start (UTC)"),
                "planned_end_utc": st.column_config.TextColumn("Planned end (UTC)"),
                "risk": RISK,
                "line_risk": st.column_config.NumberColumn("Line failure", format="percent"),
                "material_risk": st.column_config.NumberColumn("Material shortage", format="percent"),
                "worst_material": st.column_config.TextColumn("Riskiest material"),
                "source_label": SOURCE,
                "reason": REASON,
            },
        ),
        empty_message=f"No production order in the next {shortage.DISRUPTION_DAYS} days of the selected plants.",
    )
