"""How a KPI value reads on screen: its unit, and words instead of NaN."""

import math

import streamlit as st

from data_access.kpis import KPI_CATALOG

NO_FAILURE_KPIS = ("mtbf_h", "mttr_h")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_kpi(key: str, value, days: int) -> str:
    """'71.3 %', '12.0 h', '8.5 d'; 'no failure' / 'no data' where the ratio is undefined."""
    if _missing(value):
        return "no failure" if key in NO_FAILURE_KPIS else "no data"
    unit = KPI_CATALOG[key][1]
    return f"{value:.1%}".replace("%", " %") if unit == "%" else f"{value:,.1f} {unit}"


def format_delta(key: str, value, previous) -> str | None:
    """The change against the previous period, in points for percentages."""
    if _missing(value) or _missing(previous):
        return None
    unit = KPI_CATALOG[key][1]
    if unit == "%":
        return f"{(value - previous) * 100:+.1f} pp"
    return f"{value - previous:+,.1f} {unit}"


def explain_missing(key: str, days: int) -> str:
    if key in NO_FAILURE_KPIS:
        return f"No failure in these {days} days, so there is nothing to average."
    return f"Nothing to compute in these {days} days (no production, orders or stock data)."


def kpi_column_config() -> dict:
    """st.dataframe column settings for every KPI: label with unit, number format, definition."""
    config = {}
    for key, (label, unit, definition, _better) in KPI_CATALOG.items():
        fmt = "percent" if unit == "%" else f"%.1f {unit}"
        config[key] = st.column_config.NumberColumn(f"{label} ({unit})", format=fmt, help=definition)
    return config
