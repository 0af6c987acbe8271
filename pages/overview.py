"""Network overview: every plant on the same KPI definitions, at a glance."""

import streamlit as st

from components import figures
from components.filters import filter_bar
from components.formatting import DECISION_COLUMNS, QUALITY_COLUMN, kpi_column_config
from components.overview import network_overview
from components.tables import chart, table
from components.tiles import decision_tiles, kpi_tiles
from components.warehouse import get_engine
from data_access.kpis import KPI_CATALOG
from governance.login import current_user

st.title("Network overview")
user = current_user()
engine = get_engine()
st.caption(
    "Every plant on the same KPI definitions; roll-ups sum the components first and "
    "divide last. Hover a tile for its definition."
)

selection = filter_bar(engine, user)
if selection is None:
    st.stop()
overview = network_overview(engine, selection)
if overview.is_empty:
    st.info(
        f"No production data for the selected plants between {selection.start} and "
        f"{selection.end}. Pick a wider date range.",
        icon=":material/event_busy:",
    )
    st.stop()

st.subheader(
    f"Network KPIs, {selection.start:%d %b %Y} to {selection.end:%d %b %Y} "
    f"({selection.days} days, {len(overview.plants)} plants)"
)
if overview.feed_gaps:
    st.caption(
        "This window reaches past some feeds: their KPIs miss the days after the feed's last day. "
        + " · ".join(overview.feed_gaps)
    )
kpi_tiles(overview.network, overview.previous, selection.days)

kpi = st.selectbox("Compare plants on", list(KPI_CATALOG), format_func=lambda k: KPI_CATALOG[k][0], key="overview_kpi")
label, unit, definition, higher_is_better = KPI_CATALOG[kpi]
st.caption(f"**{label}** ({unit}): {definition}.")

map_col, rank_col = st.columns([3, 2])
with map_col:
    st.markdown("**Plants on the map**")
    chart(figures.plant_map(overview.plants, kpi), overview.plants, key="overview_map", file_name="plants_map.csv")
with rank_col:
    st.markdown(f"**Plants ranked by {label}**")
    ranked = overview.plants.sort_values(kpi, ascending=not higher_is_better, na_position="last")
    columns = {
        "name": st.column_config.TextColumn("Plant"),
        "region_name": st.column_config.TextColumn("Region"),
        "data_maturity": st.column_config.TextColumn(
            "Data", help="iot: sensors; mes: MES; spreadsheet: manual reports"
        ),
        **QUALITY_COLUMN,
        **kpi_column_config(),
    }
    table(ranked, key="overview_ranking", file_name="plant_ranking.csv", column_config=columns)

st.subheader(f"{label} by week")
chart(
    figures.kpi_trend(overview.trend, kpi),
    overview.trend,
    key="overview_trend",
    file_name="kpi_trend_weekly.csv",
    empty_message="No complete week in this range.",
)

st.subheader("Decisions on recommendations")
st.caption(
    "Recommendations raised in these days: decision latency from recommendation to a "
    "person's decision (median and 90th percentile), and adoption, the share acted on "
    "before they expired."
)
decision_tiles(overview.decisions)
table(
    overview.decisions_by_plant,
    key="overview_decisions",
    file_name="decision_kpis_by_plant.csv",
    column_config=DECISION_COLUMNS,
    empty_message="No recommendation was raised in these days.",
)

st.subheader("Data freshness")
st.caption(
    "Hours since each plant last delivered each feed. A feed is late when it is older than its "
    "expected cadence: KPIs of that plant may be incomplete. Past the plant policy's grace "
    "(feed_grace_hours) it is stale and the plant's models fall back to rules (Models & data)."
)
if overview.failing_jobs:
    st.error(
        f"Failing job(s): {', '.join(overview.failing_jobs)}. Forecasts, scores or recommendations may be "
        "behind the data; the Jobs page shows the error.",
        icon=":material/error:",
    )
late = overview.freshness[overview.freshness["stale_feeds"] != ""]
if not late.empty:
    st.warning(
        f"{len(late)} plant(s) with late feeds: "
        + "; ".join(f"{r.plant} ({r.stale_feeds})" for r in late.itertuples()),
        icon=":material/warning:",
    )
age_columns = {
    c: st.column_config.NumberColumn(c.removesuffix("_age_h").replace("_", " ").capitalize() + " (h)", format="%.0f h")
    for c in overview.freshness.columns
    if c.endswith("_age_h")
}
table(
    overview.freshness,
    key="overview_freshness",
    file_name="feed_freshness.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "data_maturity": st.column_config.TextColumn("Data"),
        "stale_feeds": st.column_config.TextColumn("Late feeds", help="Past their expected cadence"),
        **QUALITY_COLUMN,
        "oldest_feed_h": st.column_config.NumberColumn("Oldest feed (h)", format="%.0f h"),
        **age_columns,
    },
    empty_message="No feed has reported yet for these plants.",
)
