"""How a KPI value reads on screen: its unit, and words instead of NaN."""

import math

import streamlit as st

from data_access.kpis import KPI_CATALOG, REFERENCE_CURRENCY, kpi_info

NO_FAILURE_KPIS = ("mtbf_h", "mttr_h")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# What an undefined value of an operations KPI means, in words (see explain_missing).
MISSING_WORDS = {"material_dos": "no demand", "mean_close_h": "none closed", "preventive_share": "none created"}


def format_money(value, signed: bool = False) -> str:
    """'1,234,567 EUR' ('+1,234 EUR' when signed) in the reference currency; 'n/a' without a value."""
    if _missing(value):
        return "n/a"
    return f"{value:{'+' if signed else ''},.0f} {REFERENCE_CURRENCY}"


def money_column(label: str, help: str | None = None, decimals: int = 0):
    """A st.dataframe column of amounts in the reference currency, the currency in label and cells."""
    return st.column_config.NumberColumn(
        f"{label} ({REFERENCE_CURRENCY})",
        format=f"%.{decimals}f {REFERENCE_CURRENCY}",
        help=help or f"Enterprise reference currency ({REFERENCE_CURRENCY})",
    )


def format_kpi(key: str, value, days: int) -> str:
    """'71.3 %', '12.0 h', '8.5 d', '12'; 'no failure' / 'no data' where the ratio is undefined."""
    if _missing(value) or (isinstance(value, float) and math.isinf(value)):
        return "no failure" if key in NO_FAILURE_KPIS else MISSING_WORDS.get(key, "no data")
    unit = kpi_info(key)[1]
    if unit == "#":
        return f"{value:,.0f}"
    return f"{value:.1%}".replace("%", " %") if unit == "%" else f"{value:,.1f} {unit}"


def format_delta(key: str, value, previous) -> str | None:
    """The change against the previous period, in points for percentages."""
    if _missing(value) or _missing(previous):
        return None
    unit = kpi_info(key)[1]
    if unit == "%":
        return f"{(value - previous) * 100:+.1f} pp"
    if unit == "#":
        return f"{value - previous:+,.0f}"
    return f"{value - previous:+,.1f} {unit}"


def explain_missing(key: str, days: int) -> str:
    if key in NO_FAILURE_KPIS:
        return f"No failure in these {days} days, so there is nothing to average."
    if key in OPERATIONS_MISSING:
        return OPERATIONS_MISSING[key].format(days=days)
    return f"Nothing to compute in these {days} days (no production, orders or stock data)."


OPERATIONS_MISSING = {
    "material_dos": "No demand in these {days} days: nothing consumes the stock, so it never runs out.",
    "mean_close_h": "No work order was completed in these {days} days.",
    "preventive_share": "No preventive or corrective work order was created in these {days} days.",
    "schedule_attainment": "No order was due in these {days} days.",
    "inventory_turns": "No stock count or no consumption in these {days} days.",
    "spare_availability": "No spare part with a recent stock count is stocked here.",
}


def kpi_column_config(keys=None) -> dict:
    """st.dataframe column settings for every KPI (or those of `keys`, from either catalog):
    label with unit, number format, definition."""
    config = {}
    for key in KPI_CATALOG if keys is None else keys:
        label, unit, definition, _better = kpi_info(key)
        fmt = "percent" if unit == "%" else "%d" if unit == "#" else f"%.1f {unit}"
        config[key] = st.column_config.NumberColumn(f"{label} ({unit})", format=fmt, help=definition)
    return config


QUALITY_COLUMN = {
    "data_quality_score": st.column_config.ProgressColumn(
        "Data quality",
        min_value=0,
        max_value=100,
        format="%.0f",
        help="0-100 per plant: freshness against cadence, completeness, quarantine rate and unmapped "
        "share of its feeds (Data quality page).",
    )
}

DECISION_COLUMNS = {
    "name": st.column_config.TextColumn("Plant"),
    "recommendations": st.column_config.NumberColumn("Raised", help="recommendations raised in the window"),
    "pending": st.column_config.NumberColumn("Pending", help="still open or escalated"),
    "decided": st.column_config.NumberColumn("Decided", help="decided by a person"),
    "overridden": st.column_config.NumberColumn("Overridden"),
    "expired": st.column_config.NumberColumn("Expired"),
    "latency_median_h": st.column_config.NumberColumn(
        "Latency median (h)", format="%.1f h", help="hours from recommendation to decision"
    ),
    "latency_p90_h": st.column_config.NumberColumn("Latency p90 (h)", format="%.1f h"),
    "adoption": st.column_config.NumberColumn("Adoption (%)", format="percent", help="share acted on before expiry"),
}
