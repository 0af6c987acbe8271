"""Value: what the network's decisions delivered, with service level and procurement responsiveness."""

import streamlit as st

from components.filters import filter_bar
from components.formatting import format_kpi, kpi_column_config, money_column
from components.tables import table
from components.value import value_view
from components.warehouse import get_engine
from data_access.kpis import (
    FROZEN_HORIZON_DAYS,
    RECOVERY_BASELINE_DAYS,
    RECOVERY_SHARE,
    REFERENCE_CURRENCY,
    VALUE_KPI_CATALOG,
)
from data_access.value import LOOKBACK_DAYS, RECOVERY_LOOKAHEAD_DAYS
from governance.login import current_user

st.title("Value")
user = current_user()
engine = get_engine()
st.caption(
    "What followed the recommendations people approved, beside the service the plants gave, how fast "
    "purchasing reacted, how fast lines recovered from failures and what scrap cost. Every number sums its components over the selected plants and days, then divides."
)

selection = filter_bar(engine, user)
if selection is None:
    st.stop()
view = value_view(engine, selection)

st.subheader(f"{selection.start:%d %b %Y} to {selection.end:%d %b %Y} ({selection.days} days)")
keys = list(VALUE_KPI_CATALOG)
for row in range(0, len(keys), 3):
    for column, key in zip(st.columns(3), keys[row : row + 3]):
        label, unit, definition, _better = VALUE_KPI_CATALOG[key]
        value = view.totals.get(key)
        shown = "no data" if key in view.why_empty else format_kpi(key, value, selection.days)
        column.metric(
            f"{label} ({unit})",
            shown,
            border=True,
            help=f"{view.why_empty[key]} {definition}." if key in view.why_empty else f"{definition}.",
        )
if view.why_empty:
    st.caption(" · ".join(f"**{VALUE_KPI_CATALOG[k][0]}**: {text}" for k, text in view.why_empty.items()))

st.subheader("Per plant")
table(
    view.plants.drop(columns=["plant_id"]),
    key="value_plants",
    file_name="value_by_plant.csv",
    column_config={
        "name": st.column_config.TextColumn("Plant"),
        "orders_due": st.column_config.NumberColumn("Orders due", format="%d"),
        "orders_otif": st.column_config.NumberColumn("On time in full", format="%d"),
        "pos_received": st.column_config.NumberColumn("POs received", format="%d"),
        "shortage_signals": st.column_config.NumberColumn("Shortage signals", format="%d"),
        "signals_ordered": st.column_config.NumberColumn("Followed by a PO", format="%d"),
        "maintenance_approved": st.column_config.NumberColumn("Maintenance approved", format="%d"),
        "shortage_approved": st.column_config.NumberColumn("Shortage approved", format="%d"),
        "order_to_receipt_days": None,
        "signal_to_po_days": None,
        "maintenance_observed": None,
        "stockout_known": None,
        "stockout_avoided": st.column_config.NumberColumn("No stockout after", format="%d"),
        **kpi_column_config(["service_level", "order_to_receipt_d", "signal_to_po_d", "downtime_avoided_h"]),
        "working_capital": money_column("Working capital committed"),
        "disruptions": st.column_config.NumberColumn("Line failures", format="%d"),
        "recoveries": None,
        "recovery_days": None,
        "produced_qty": None,
        "scrap_qty": st.column_config.NumberColumn("Scrap (units)", format="%.0f"),
        "scrap_cost": None,
        **kpi_column_config(["time_to_recover_d"]),
        "quality_cost": money_column("Quality cost (scrap)"),
        "orders_planned": None,
        "planned_qty": None,
        "changed_qty": None,
        "orders_redated": None,
        "revisions_any": None,
        **kpi_column_config(["plan_qty_change", "plan_date_change"]),
    },
    empty_message="No order, purchase order or approved recommendation at the selected plants in these days.",
)

st.subheader("Approved recommendations and what followed")
table(
    view.outcomes,
    key="value_outcomes",
    file_name="value_realized.csv",
    column_config={
        "rec_id": st.column_config.NumberColumn("#", format="%d"),
        "plant_id": None,
        "plant": "Plant",
        "kind": "Kind",
        "subject_id": "Asset / material",
        "title": st.column_config.TextColumn("Recommendation"),
        "decided_utc": st.column_config.DatetimeColumn("Approved (UTC)", format="YYYY-MM-DD HH:mm"),
        "estimated_cost": money_column("Estimated cost"),
        "expected": st.column_config.NumberColumn(
            "Expected",
            format="%.1f",
            help="maintenance: failure hours expected within its horizon (risk x "
            "MTTR); shortage: days without stock expected within the lead time",
        ),
        "observed_days": st.column_config.NumberColumn("Days observed after", format="%.1f"),
        "rate_before_h_per_day": st.column_config.NumberColumn("Failure h/day before", format="%.2f"),
        "hours_after": st.column_config.NumberColumn("Failure h after", format="%.1f"),
        "downtime_avoided_h": st.column_config.NumberColumn("Downtime avoided (h)", format="%.1f"),
        "stockout_followed": st.column_config.CheckboxColumn(
            "Stockout followed", help="a stock count at or below zero within the lead time"
        ),
        "working_capital": money_column("Working capital"),
    },
    empty_message="No maintenance or shortage recommendation was approved in these days, so there is no value to "
    "show yet: widen the dates or approve recommendations in the Action queue.",
)

st.subheader("Schedule stability by week")
st.caption(
    f"Orders by the plant-local week of their planned start; a change counts when it came less than "
    f"{FROZEN_HORIZON_DAYS} days before the start it changed (inside the frozen horizon)."
)
table(
    view.stability_weeks,
    key="value_stability",
    file_name="schedule_stability_weekly.csv",
    column_config={
        "week_start": st.column_config.DateColumn("Week of"),
        "orders_planned": st.column_config.NumberColumn("Orders", format="%d"),
        "planned_qty": st.column_config.NumberColumn("Planned qty", format="%.0f"),
        "changed_qty": st.column_config.NumberColumn("Qty changed", format="%.0f"),
        "orders_redated": st.column_config.NumberColumn("Orders re-dated", format="%d"),
        "revisions_any": st.column_config.NumberColumn("Revisions (all)", format="%d"),
        **kpi_column_config(["plan_qty_change", "plan_date_change"]),
    },
    empty_message="No production order was planned to start at the selected plants in these days.",
)

st.subheader("Line failures and recovery")
table(
    view.disruptions,
    key="value_disruptions",
    file_name="disruption_recovery.csv",
    column_config={
        "plant_id": None,
        "plant": "Plant",
        "line_id": "Line",
        "day": st.column_config.DateColumn("Failure day"),
        "disruption": "Disruption",
        "failures": st.column_config.NumberColumn("Failures", format="%d"),
        "baseline_output": st.column_config.NumberColumn("Output before (units/day)", format="%.0f"),
        "recovered_day": st.column_config.DateColumn("Back at that output"),
        "days_to_recover": st.column_config.NumberColumn("Days to recover", format="%.0f"),
    },
    empty_message="No line failure at the selected plants in these days.",
)

st.subheader("Method and limits")
st.markdown(f"""
- **Downtime avoided** compares an asset with itself: its failure hours per day over the {LOOKBACK_DAYS} days
  before the recommendation was raised (fewer where its downtime feed starts later), times the days of downtime
  data after the approval, minus the failure hours that followed. It is an estimate, not a controlled
  comparison: seasonality, other repairs and chance move it too, and a few days after an approval say little.
  It is in hours; a cost per downtime hour is not in the warehouse.
- **Stockouts avoided** reads the stock counts within the lead time after the approval: none at or below zero
  counts as avoided. Weekly-counting plants can miss a short stockout between counts; without a count yet the
  decision is not judged.
- **Working capital committed** is the approved purchase quantity x the material's unit cost, in
  {REFERENCE_CURRENCY} (the enterprise reference currency): tied up until the material is consumed.
- **Service level** is on time in full on the plants' production orders (their actual completion against due
  time + tolerance, and produced against ordered quantity); customer shipments are not in the warehouse.
- **Procurement responsiveness**: order to receipt over purchase orders received in the window; shortage signal to
  purchase order over the shortage recommendations raised in it and the plant's next order of that material
  (whatever triggered it).
- **Time to recover** (resilience) counts line failures only: from the failure's plant-local day to the first
  production day whose good output is back at {RECOVERY_SHARE:.0%} of the mean of the line's
  {RECOVERY_BASELINE_DAYS} production days before (0: the same day), in whole days; supplier delays and feed
  outages are not measured yet. A failure not recovered within {RECOVERY_LOOKAHEAD_DAYS} days of data stays open.
- **Quality cost** is scrap only (produced - good units x the unit cost of what the line made, weighted by its
  production orders); rework is not recorded in the warehouse.
- **Schedule stability** needs the plan revisions the planning system records (`plan_revision`): a plant that
  does not send them shows no value, not "stable". The quantity each order had when its plan froze is the base.
- Recommendations are attributed to the days they were approved; roll-ups sum the components, then divide.
""")
