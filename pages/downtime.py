"""Downtime & maintenance: where hours are lost, why, on which assets, and how each plant maintains."""

import streamlit as st

from components import figures
from components.filters import filter_bar
from components.operations.common import drill_path, metric_row, require_marts
from components.operations.downtime import downtime_view
from components.tables import chart, table
from components.warehouse import get_engine
from data_access.kpis import KPI_CATALOG
from governance.login import current_user

st.title("Downtime & maintenance")
user = current_user()
engine = get_engine()
st.caption(
    "Drill down network → plant → line → asset. Every plant on the same canonical reasons "
    "and definitions; hours are plant-local days (each plant's time zone). Hover a tile "
    "for its definition."
)

selection = filter_bar(engine, user, drill=("line", "asset"))
if selection is None:
    st.stop()
require_marts(engine, selection.scope)
view = downtime_view(engine, selection)
if view.is_empty:
    st.info(
        f"No downtime or production data for {drill_path(engine, selection)} between "
        f"{selection.start} and {selection.end}. Pick a wider date range or another plant.",
        icon=":material/event_busy:",
    )
    st.stop()

days = selection.days
st.subheader(f"{drill_path(engine, selection)}, {selection.start:%d %b %Y} to {selection.end:%d %b %Y} ({days} days)")
metric_row(("unplanned_downtime_h", "planned_downtime_h", "failures", "mtbf_h"), view.totals, view.previous, days)
metric_row(("mttr_h", "wo_backlog", "preventive_share", "mean_close_h"), view.totals, view.previous, days)
if view.totals["failures"] == 0:
    st.info(f"No failures in {days} days here: MTBF and MTTR have nothing to average.", icon=":material/verified:")
if view.missing_plants:
    st.caption("No production or downtime data in this window for: " + ", ".join(view.missing_plants) + ".")

# --- where the hours go --------------------------------------------------------------------
CHILD_TITLES = {"plant": "Plant", "line": "Line", "asset": "Asset", "reason": "Canonical reason"}
child_title = CHILD_TITLES[view.child]
st.subheader(f"Where the hours go, by {child_title.lower()}")
st.caption(
    "Unplanned = failures; planned = planned stops (PM, cleaning); other = changeovers, "
    "starvation and quality holds. Pick a line or asset above to drill down."
)
chart(
    figures.stacked_downtime(view.by_category, "name", child_title),
    view.by_category,
    key="downtime_by_category_chart",
    file_name=f"downtime_by_{view.child}_and_category.csv",
    empty_message="No downtime recorded in this window.",
)
hours = "%.1f h"
breakdown_columns = {
    "name": st.column_config.TextColumn(child_title),
    "unplanned_h": st.column_config.NumberColumn("Unplanned (h)", format=hours, help="hours of failure downtime"),
    "planned_h": st.column_config.NumberColumn("Planned (h)", format=hours, help="hours of planned stops"),
    "other_h": st.column_config.NumberColumn("Other (h)", format=hours, help="changeovers, starvation, quality holds"),
    "failures": st.column_config.NumberColumn("Failures", format="%d"),
    "operating_h": st.column_config.NumberColumn(
        "Operating (h)", format="%.0f h", help="run hours (an asset operates while its line runs)"
    ),
    "mtbf_h_text": st.column_config.TextColumn("MTBF (h)", help=KPI_CATALOG["mtbf_h"][2]),
    "mttr_h_text": st.column_config.TextColumn("MTTR (h)", help=KPI_CATALOG["mttr_h"][2]),
}
if view.child == "reason":
    for column in ("operating_h", "mtbf_h_text", "mttr_h_text"):
        breakdown_columns.pop(column)
    breakdown_columns["events"] = st.column_config.NumberColumn("Events", format="%d")
table(
    view.breakdown,
    key="downtime_breakdown",
    file_name=f"downtime_by_{view.child}.csv",
    column_config=breakdown_columns,
    empty_message="No downtime recorded in this window.",
)

# --- Pareto of reasons ---------------------------------------------------------------------
st.subheader("Pareto of downtime reasons")
basis = st.radio(
    "Hours counted", ["Failures only (unplanned)", "All downtime"], horizontal=True, key="downtime_pareto_basis"
)
unplanned_only = basis.startswith("Failures")
pareto = view.pareto(unplanned_only)
if pareto.empty:
    st.info(f"No {'failures' if unplanned_only else 'downtime'} in {days} days here.", icon=":material/verified:")
else:
    top = pareto[pareto["cumulative_share"].shift(fill_value=0) < 0.8]
    st.caption(
        f"{len(top)} of {len(pareto)} reasons cause {top['share'].sum():.0%} of the "
        f"{pareto['pareto_hours'].sum():,.1f} h; the red line is their cumulative share."
    )
    chart(
        figures.pareto(pareto, "description", "pareto_hours", "Hours"),
        pareto,
        key="downtime_pareto_chart",
        file_name="downtime_pareto.csv",
    )

st.markdown("**Local reason codes behind each canonical reason**")
st.caption("Each plant logs stops in its own words; the canonical reason makes them comparable.")
reason_names = dict(zip(view.reasons["reason_code"], view.reasons["description"]))
reason = st.selectbox(
    "Canonical reason",
    list(reason_names),
    index=None,
    format_func=reason_names.get,
    key="downtime_reason",
    placeholder="All reasons",
)
local = view.local_reasons if reason is None else view.local_reasons[view.local_reasons["reason_code"] == reason]
table(
    local,
    key="downtime_local_reasons",
    file_name="downtime_local_reasons.csv",
    column_config={
        "description": st.column_config.TextColumn("Canonical reason"),
        "category": st.column_config.TextColumn("Category"),
        "plant": st.column_config.TextColumn("Plant"),
        "local_reason": st.column_config.TextColumn("Plant's own reason"),
        "events": st.column_config.NumberColumn("Events", format="%d"),
        "hours": st.column_config.NumberColumn("Hours", format=hours),
    },
    empty_message="No event with this reason in this window.",
)

# --- reliability ---------------------------------------------------------------------------
st.subheader("Reliability: MTBF and MTTR")
st.caption(
    "MTBF = operating hours / failures; MTTR = repair hours / failures. Plants and lines "
    "use their lines' run hours; an asset class uses its assets' operating hours (an asset "
    "operates while its line runs). Where there was no failure there is nothing to average."
)
plant_col, class_col = st.columns(2)
reliability_columns = {
    "failures": st.column_config.NumberColumn("Failures", format="%d"),
    "operating_h": st.column_config.NumberColumn("Operating (h)", format="%.0f h"),
    "unplanned_h": st.column_config.NumberColumn("Unplanned (h)", format=hours),
    "mtbf_h_text": st.column_config.TextColumn("MTBF (h)", help=KPI_CATALOG["mtbf_h"][2]),
    "mttr_h_text": st.column_config.TextColumn("MTTR (h)", help=KPI_CATALOG["mttr_h"][2]),
}
with plant_col:
    st.markdown("**By plant**")
    table(
        view.plants,
        key="downtime_reliability_plants",
        file_name="reliability_by_plant.csv",
        column_config={
            "plant": st.column_config.TextColumn("Plant"),
            "maintenance_workflow": st.column_config.TextColumn("Maintenance workflow"),
            **reliability_columns,
        },
        empty_message=f"No production in these {days} days.",
    )
with class_col:
    st.markdown("**By asset class**")
    table(
        view.classes,
        key="downtime_reliability_classes",
        file_name="reliability_by_asset_class.csv",
        column_config={
            "asset_class": st.column_config.TextColumn("Asset class"),
            "assets": st.column_config.NumberColumn("Assets", format="%d"),
            **reliability_columns,
        },
        empty_message=f"No asset operated in these {days} days.",
    )
st.markdown(f"**MTBF and MTTR by {view.period_title.split(' ')[0].lower()}**")
if not view.trend.empty and view.trend["failures"].sum() == 0:
    st.info(f"No failures in {days} days: MTBF and MTTR have no value to plot.", icon=":material/verified:")
else:
    chart(
        figures.reliability_trend(view.trend, view.period_title),
        view.trend,
        key="downtime_reliability_trend",
        file_name="reliability_trend.csv",
        empty_message=f"No production in these {days} days.",
    )
    if (view.trend["failures"] == 0).any():
        st.caption("Periods without a failure have no MTBF or MTTR and show as gaps.")

# --- worst assets --------------------------------------------------------------------------
st.subheader("Worst assets")
st.caption("Assets ranked by unplanned (failure) downtime in the window.")
table(
    view.worst_assets,
    key="downtime_worst_assets",
    file_name="worst_assets.csv",
    column_config={
        "rank": st.column_config.NumberColumn("#", format="%d"),
        "local_name": st.column_config.TextColumn("Asset", help="the plant's own name"),
        "asset_id": st.column_config.TextColumn("Asset id"),
        "asset_class": st.column_config.TextColumn("Class"),
        "criticality": st.column_config.TextColumn("Criticality", help="A: the line stops; B; C"),
        "plant": st.column_config.TextColumn("Plant"),
        "line": st.column_config.TextColumn("Line"),
        "failures": st.column_config.NumberColumn("Failures", format="%d"),
        "unplanned_h": st.column_config.NumberColumn("Unplanned (h)", format=hours),
        "mtbf_h_text": st.column_config.TextColumn("MTBF (h)", help="asset operating hours / failures"),
        "mttr_h_text": st.column_config.TextColumn("MTTR (h)", help=KPI_CATALOG["mttr_h"][2]),
    },
    empty_message=f"No failures in {days} days on any asset here.",
)

# --- maintenance ---------------------------------------------------------------------------
st.subheader("Maintenance: work orders by plant")
st.caption(
    "Plants maintain differently (SAP PM, Maximo, Fiix, spreadsheets, paper, run to failure): "
    "the share of preventive work, the backlog and the time to close show it. Work orders "
    "count on the plant-local day they were created or completed."
)
chart(
    figures.maintenance_mix(view.maintenance_mix),
    view.maintenance_mix,
    key="downtime_maintenance_mix",
    file_name="work_order_mix.csv",
    empty_message=f"No work order created in these {days} days.",
)
table(
    view.maintenance,
    key="downtime_maintenance",
    file_name="maintenance_by_plant.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "maintenance_workflow": st.column_config.TextColumn("Workflow"),
        "created_preventive": st.column_config.NumberColumn("Preventive", format="%d", help="created in the window"),
        "created_corrective": st.column_config.NumberColumn("Corrective", format="%d", help="created in the window"),
        "created_inspection": st.column_config.NumberColumn("Inspections", format="%d", help="created in the window"),
        "preventive_share_text": st.column_config.TextColumn(
            "Preventive share (%)", help="preventive / (preventive + corrective)"
        ),
        "backlog_start": st.column_config.NumberColumn(
            "Backlog at start", format="%d", help="open at the end of the day before the window"
        ),
        "backlog_end": st.column_config.NumberColumn(
            "Backlog at end", format="%d", help="open at the end of the window"
        ),
        "open_corrective": st.column_config.NumberColumn("Open corrective", format="%d"),
        "mean_close_h_text": st.column_config.TextColumn(
            "Time to close (h)", help="creation to completion, of those completed"
        ),
    },
    empty_message=f"No work orders in these {days} days and none open.",
)
