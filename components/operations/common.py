"""What the three operations pages share: readiness, KPI tiles, the drill path, periods."""

import pandas as pd
import streamlit as st

from components import cached
from components.filters import Selection
from components.formatting import explain_missing, format_delta, format_kpi
from data_access import kpis
from data_access import operations as ops

WEEKLY_UP_TO_DAYS = 120  # longer windows trend by month


@cached.cache_query()
def marts_ready(engine, scope):
    return ops.marts_ready(engine, scope)


def require_marts(engine, scope) -> None:
    """Stop the page with an explanation while the operations marts are not built yet."""
    if not marts_ready(engine, scope):
        st.info(
            "The operations marts of this warehouse have not been built yet. They fill on the "
            "next data load, or at once with `python -m data_access.marts`.",
            icon=":material/build:",
        )
        st.stop()


def with_text(frame: pd.DataFrame, keys, days: int) -> pd.DataFrame:
    """Add `<key>_text`: the KPI in words and units, never NaN or inf."""
    return frame.assign(**{f"{key}_text": [format_kpi(key, v, days) for v in frame[key]] for key in keys})


def metric_row(keys, current: pd.Series, previous: pd.Series | None, days: int) -> None:
    """KPI tiles: value with unit, change against the previous period, definition on hover."""
    for column, key in zip(st.columns(len(keys)), keys):
        label, unit, definition, higher_is_better = kpis.kpi_info(key)
        value = current.get(key)
        before = None if previous is None else previous.get(key)
        shown = format_kpi(key, value, days)
        help_text = f"{definition}."
        if previous is not None:
            help_text += f" Change against the previous {days} days."
        if shown in ("no failure", "no data") or shown in _MISSING_WORDS:
            help_text = f"{explain_missing(key, days)} {help_text}"
        column.metric(
            f"{label} ({unit})",
            shown,
            delta=format_delta(key, value, before),
            delta_color="normal" if higher_is_better else "inverse",
            help=help_text,
            border=True,
        )


_MISSING_WORDS = {"no demand", "none closed", "none created"}


def drill_path(engine, selection: Selection) -> str:
    """Where the selection stands: '12 plants', 'Berlin, Lyon', 'Berlin › Packaging 1 › Capper 3'."""
    names = list(plant_rows(engine, selection)["name"])
    parts = [", ".join(names) if len(names) <= 3 else f"{len(names)} plants"]
    if selection.line_id:
        lines = cached.lines(engine, selection.scope)
        parts.append(names_by_id(lines, "line_id", "name").get(selection.line_id, selection.line_id))
    if selection.asset_id:
        assets = cached.assets(engine, selection.scope, selection.line_id)
        parts.append(names_by_id(assets, "asset_id", "local_name").get(selection.asset_id, selection.asset_id))
    if selection.material_id:
        materials = cached.stocked_materials(engine, selection.scope)
        parts.append(names_by_id(materials, "material_id", "name").get(selection.material_id, selection.material_id))
    return " › ".join(parts)


def has_data(engine, selection: Selection) -> bool:
    """Whether the selection's plants have any mart day in its window (else: no deltas)."""
    return not cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end).empty


def trend_period(selection: Selection) -> tuple[str, str]:
    """The trend's period column and its axis title."""
    if selection.days <= WEEKLY_UP_TO_DAYS:
        return "week_start", "Week (plant-local, starting Monday)"
    return "month_start", "Month (plant-local)"


def plant_rows(engine, selection):
    return cached.plants(engine, selection.scope)


def names_by_id(frame, id_column, name_column):
    return dict(zip(frame[id_column], frame[name_column]))


def local_time(stamps: pd.Series, zones: pd.Series) -> pd.Series:
    """UTC instants as each row's plant-local time (tz-aware; exported with its offset)."""
    return pd.Series(
        [ts.tz_convert(zone) if pd.notna(ts) else None for ts, zone in zip(stamps, zones)],
        index=stamps.index,
        dtype=object,
    )


def local_time_text(local: pd.Series) -> pd.Series:
    return local.map(lambda ts: ts.strftime("%Y-%m-%d %H:%M %Z") if ts is not None else "no due date")


def component_totals(components: pd.DataFrame) -> dict:
    """Sums of one summed-components row (zeros when the window holds nothing)."""
    if components.empty:
        return {c: 0.0 for c in kpis.LINE_COMPONENTS}
    return {c: float(components[c].iloc[0]) for c in kpis.LINE_COMPONENTS}
