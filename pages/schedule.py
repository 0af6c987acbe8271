"""Schedule risk: adherence and attainment per plant and line, late orders, and what threatens
the orders due next."""

import streamlit as st

from components import figures
from components.filters import filter_bar
from components.operations.common import drill_path, metric_row, require_marts
from components.operations.schedule import HORIZONS, schedule_view
from components.tables import chart, table
from components.warehouse import get_engine
from data_access import kpis
from governance.login import current_user

st.title("Schedule risk")
user = current_user()
engine = get_engine()
st.caption(
    "Drill down network → plant → line. Orders are due on plant-local days; an order is on "
    f"time when it finishes by its due time + {kpis.SCHEDULE_TOLERANCE_HOURS:g} h. Orders "
    "without a due date are not due and are listed apart."
)

selection = filter_bar(engine, user, drill=("line",))
if selection is None:
    st.stop()
require_marts(engine, selection.scope)
horizon = st.selectbox(
    "Look ahead",
    HORIZONS,
    index=1,
    format_func=lambda d: f"next {d} days",
    key="schedule_horizon",
    help="Open orders due in this many days after the latest data day.",
)
view = schedule_view(engine, selection, horizon)
if view.is_empty:
    st.info(
        f"No production order is due at {drill_path(engine, selection)} between {selection.start} and "
        f"{selection.end}, and none is due in the {horizon} days ahead.",
        icon=":material/event_busy:",
    )
    st.stop()

days = selection.days
st.subheader(f"{drill_path(engine, selection)}, {selection.start:%d %b %Y} to {selection.end:%d %b %Y} ({days} days)")
metric_row(
    ("schedule_adherence", "schedule_attainment", "late_orders", "orders_at_risk"), view.totals, view.previous, days
)
st.caption(
    f"{view.totals['orders_due']:,} orders were due in the window, {view.totals['orders_on_time']:,} on time "
    f"and {view.totals['late_orders']:,} late or unfinished. {view.totals['orders_at_risk']:,} open orders "
    f"due {view.first_day:%d %b} to {view.last_day:%d %b} are at risk."
)
if view.totals["orders_due"] == 0:
    st.info(
        f"No order was due in these {days} days: adherence and attainment have nothing to measure.",
        icon=":material/event_available:",
    )

# --- adherence per plant or line --------------------------------------------------------------
st.subheader(f"Adherence and attainment by {view.group_label.lower()}")
table(
    view.groups,
    key="schedule_groups",
    file_name=f"schedule_by_{view.group_label.lower()}.csv",
    column_config={
        "name": st.column_config.TextColumn(view.group_label),
        **({"plant": st.column_config.TextColumn("Plant")} if view.group_label == "Line" else {}),
        "orders_due": st.column_config.NumberColumn("Orders due", format="%d"),
        "orders_on_time": st.column_config.NumberColumn("On time", format="%d"),
        "late": st.column_config.NumberColumn("Late", format="%d"),
        "schedule_adherence_text": st.column_config.TextColumn(
            "Adherence (%)", help=kpis.KPI_CATALOG["schedule_adherence"][2]
        ),
        "schedule_attainment_text": st.column_config.TextColumn(
            "Attainment (%)", help=kpis.OPERATIONS_KPI_CATALOG["schedule_attainment"][2]
        ),
        "unplanned_downtime_h": st.column_config.NumberColumn("Unplanned downtime (h)", format="%.1f h"),
        "mtbf_h_text": st.column_config.TextColumn("MTBF (h)", help=kpis.KPI_CATALOG["mtbf_h"][2]),
    },
    empty_message=f"No production in these {days} days.",
)

st.subheader("Adherence trend")
chart(
    figures.share_trend(view.trend, "schedule_adherence", "group"),
    view.trend,
    key="schedule_trend",
    file_name="schedule_adherence_weekly.csv",
    empty_message=f"No order was due in these {days} days.",
)

# --- orders due next ---------------------------------------------------------------------
st.subheader(f"Orders due {view.first_day:%d %b} to {view.last_day:%d %b} and what threatens them")
st.caption(
    "Line failures: the failure downtime the order can expect on its line (the line's failure "
    "hours per calendar hour in the window x the order's planned run) exceed its slack before the "
    "due time. Short: in due order, the plant's open orders need more of a material than its "
    "latest count plus open purchase orders promised by the due day. Times are plant-local."
)
only_risk = st.toggle("Only orders at risk", value=True, key="schedule_only_at_risk")
upcoming = view.upcoming[view.upcoming["at_risk"]] if only_risk and not view.upcoming.empty else view.upcoming
order_columns = {
    "order_id": st.column_config.TextColumn("Order"),
    "plant": st.column_config.TextColumn("Plant"),
    "line": st.column_config.TextColumn("Line"),
    "product_name": st.column_config.TextColumn("Product"),
    "due_local_text": st.column_config.TextColumn("Due (plant time)"),
}
table(
    upcoming,
    key="schedule_upcoming",
    file_name="orders_due_with_threats.csv",
    column_config={
        **order_columns,
        "remaining_qty": st.column_config.NumberColumn("Remaining qty", format="%.0f"),
        "slack_h": st.column_config.NumberColumn("Slack (h)", format="%.1f h", help="due time - planned end"),
        "at_risk": st.column_config.CheckboxColumn("At risk"),
        "threats": st.column_config.TextColumn("What threatens it", width="large"),
    },
    empty_message=(
        f"No open order due in the next {view.horizon_days} days is at risk."
        if only_risk
        else f"No open order is due in the next {view.horizon_days} days."
    ),
)
if not view.undated.empty:
    count = len(view.undated)
    with st.expander(f"{count} open order{' has' if count == 1 else 's have'} no due date"):
        st.caption(
            "Some plants' ERPs leave the due date empty; such orders are not due, so they count "
            "neither for adherence nor for risk."
        )
        table(
            view.undated,
            key="schedule_undated",
            file_name="open_orders_without_due_date.csv",
            column_config={
                "order_id": st.column_config.TextColumn("Order"),
                "plant": st.column_config.TextColumn("Plant"),
                "line": st.column_config.TextColumn("Line"),
                "product_name": st.column_config.TextColumn("Product"),
                "qty": st.column_config.NumberColumn("Qty", format="%.0f"),
                "status": st.column_config.TextColumn("Status"),
            },
        )

# --- late orders ---------------------------------------------------------------------------
st.subheader("Late orders in the window")
st.caption(f"Due in the window and not finished by due time + {kpis.SCHEDULE_TOLERANCE_HOURS:g} h.")
table(
    view.late,
    key="schedule_late",
    file_name="late_orders.csv",
    column_config={
        **order_columns,
        "lateness_text": st.column_config.TextColumn("Late by", help="finish - due time"),
        "qty": st.column_config.NumberColumn("Qty", format="%.0f"),
        "produced_qty": st.column_config.NumberColumn("Produced", format="%.0f"),
        "status": st.column_config.TextColumn("Status"),
    },
    empty_message=f"No late order in these {days} days.",
)
