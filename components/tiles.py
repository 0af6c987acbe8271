"""KPI tiles: value with unit, change against the previous period, definition on hover."""

import pandas as pd
import streamlit as st

from components.formatting import explain_missing, format_delta, format_kpi
from data_access.kpis import KPI_CATALOG

TILES_PER_ROW = 4


def kpi_tiles(current: pd.Series, previous: pd.Series, days: int) -> None:
    keys = list(KPI_CATALOG)
    for row in range(0, len(keys), TILES_PER_ROW):
        for column, key in zip(st.columns(TILES_PER_ROW), keys[row : row + TILES_PER_ROW]):
            label, unit, definition, higher_is_better = KPI_CATALOG[key]
            value, before = current.get(key), previous.get(key)
            shown = format_kpi(key, value, days)
            help_text = f"{definition}. Change against the previous {days} days."
            if shown in ("no failure", "no data"):
                help_text = f"{explain_missing(key, days)} {help_text}"
            column.metric(
                f"{label} ({unit})",
                shown,
                delta=format_delta(key, value, before),
                delta_color="normal" if higher_is_better else "inverse",
                help=help_text,
                border=True,
            )


def decision_tiles(decisions: pd.Series) -> None:
    """Decision latency (median, p90), adoption and overrides of the selection."""

    def hours(value):
        return "no decision" if pd.isna(value) else f"{value:,.1f} h"

    raised = int(decisions.get("recommendations", 0))
    adoption = decisions.get("adoption")
    tiles = [
        (
            "Decision latency, median (h)",
            hours(decisions.get("latency_median_h")),
            "Hours from a recommendation to a person's decision; half were faster.",
        ),
        (
            "Decision latency, p90 (h)",
            hours(decisions.get("latency_p90_h")),
            "90 % of decisions were taken within this many hours.",
        ),
        (
            "Adoption (%)",
            "no outcome yet" if pd.isna(adoption) else f"{adoption:.1%}".replace("%", " %"),
            "Recommendations acted on before they expired / those with a known outcome.",
        ),
        (
            "Overridden",
            f"{int(decisions.get('overridden', 0))} of {raised}",
            "Recommendations a person overrode with a reason (see Audit log).",
        ),
    ]
    for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles):
        column.metric(label, value, help=help_text, border=True)
