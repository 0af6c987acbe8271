"""The shared filter bar: region, plants and date range, carried across pages and in the URL.

The selection never widens the user's plant scope: it narrows `user.scope`, and the
queries enforce the result. Widgets persist for the whole session and are bound to query
parameters, so a view can be shared by link; unknown plants in a link are dropped.

Drill-down (network -> plant -> line -> asset, or plant -> material): a page asks for the
levels it can show with `filter_bar(engine, user, drill=("line", "asset"))`; those widgets
appear in a second row, in the same place and with the same keys on every page. A level a
page does not show keeps its value for the session and in the URL, so it is there again on
the next page that shows it. Choosing a line narrows the plants to the line's plant; a
line, asset or material outside the selected plants (or from a stale link) is dropped.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

import streamlit as st

from components import cached
from data_access.scope import PlantScope

DEFAULT_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Selection:
    """What the user is looking at: plants (as a scope) and plant-local days start..end."""

    scope: PlantScope
    start: date
    end: date
    line_id: str | None = None  # drill-down, when the page offers it
    asset_id: str | None = None
    material_id: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def level(self) -> str:
        """How deep the selection goes: network | plant | line | asset | material."""
        if self.asset_id:
            return "asset"
        if self.material_id:
            return "material"
        if self.line_id:
            return "line"
        if self.scope.plants is not None and len(self.scope.plants) == 1:
            return "plant"
        return "network"

    def previous(self) -> "Selection":
        """The period of the same length just before this one (for tile deltas)."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))


DRILL_LEVELS = ("line", "asset", "material")


def latest_local_today() -> date:
    """Today in the time zone furthest ahead (UTC+14): no plant's today is later."""
    return (datetime.now(timezone.utc) + timedelta(hours=14)).date()


def filter_bar(engine, user, drill: tuple[str, ...] = ()) -> Selection | None:
    """Render the filters; None (with an explained empty state) when there is nothing to show.

    `drill`: the drill-down levels this page shows, any of DRILL_LEVELS ("asset" needs "line").
    """
    unknown = set(drill) - set(DRILL_LEVELS)
    if unknown:
        raise ValueError(f"unknown drill-down levels {sorted(unknown)}; known: {DRILL_LEVELS}")
    plants = cached.plants(engine, user.scope)
    window = cached.data_window(engine, user.scope)
    if plants.empty or window is None:
        st.info(
            "There is no plant data in your scope yet. Once a plant's production data is loaded, its KPIs appear here.",
            icon=":material/factory:",
        )
        return None
    first, last = window
    names = dict(zip(plants["plant_id"], plants["name"]))
    regions = dict(zip(plants["region_id"], plants["region_name"]))

    region_col, plant_col, date_col = st.columns([1, 2, 1])
    chosen_regions = region_col.multiselect(
        "Region",
        list(regions),
        format_func=regions.get,
        key="filters_regions",
        placeholder="All regions",
        bind="query-params",
        persist_state="session",
    )
    chosen_plants = plant_col.multiselect(
        "Plants",
        list(names),
        format_func=lambda p: f"{names[p]} ({p})",
        key="filters_plants",
        placeholder="All plants in scope",
        bind="query-params",
        persist_state="session",
    )
    dates = date_col.date_input(
        "Plant-local days",
        value=(max(first, last - timedelta(days=DEFAULT_WINDOW_DAYS - 1)), last),
        min_value=first,
        max_value=max(last, latest_local_today()),
        key="filters_dates",
        bind="query-params",
        persist_state="session",
        help="Each plant's own calendar days, in its time zone. Up to today, so "
        "recommendations raised today count in the decision KPIs; feeds end at their last data day.",
    )

    in_regions = plants[plants["region_id"].isin(chosen_regions or regions)]["plant_id"]
    selected = set(in_regions) & set(chosen_plants or names)
    if not selected:
        st.info(
            "No plant matches this region and plant selection. Widen the filters above.",
            icon=":material/filter_alt_off:",
        )
        return None
    start, end = (dates[0], dates[-1]) if dates else (first, last)
    scope = user.scope.narrowed(selected)
    if not drill:
        return Selection(scope, start, end)
    return _drill_down(engine, Selection(scope, start, end), drill)


def _drill_down(engine, selection: Selection, drill) -> Selection:
    """The second row: line, asset and material pickers, each bound to the URL."""
    shown = [level for level in DRILL_LEVELS if level in drill]
    columns = dict(zip(shown, st.columns(len(shown))))
    scope, line_id, asset_id, material_id = selection.scope, None, None, None
    if "line" in columns:
        lines = cached.lines(engine, scope)
        labels = {r.line_id: f"{r.name} · {r.plant_name} ({r.line_id})" for r in lines.itertuples()}
        line_id = columns["line"].selectbox(
            "Line",
            list(labels),
            index=None,
            format_func=labels.get,
            key="filters_line",
            placeholder="All lines",
            bind="query-params",
            persist_state="session",
            help="Drill down from the plants to one of their lines.",
        )
        if line_id is not None:
            plant_id = lines.loc[lines["line_id"] == line_id, "plant_id"].iloc[0]
            scope = scope.narrowed({plant_id})
    if "asset" in columns:
        assets = cached.assets(engine, scope, line_id) if line_id else None
        labels = (
            {}
            if assets is None
            else {r.asset_id: f"{r.local_name} · {r.asset_class} ({r.asset_id})" for r in assets.itertuples()}
        )
        asset_id = columns["asset"].selectbox(
            "Asset",
            list(labels),
            index=None,
            format_func=labels.get,
            key="filters_asset",
            placeholder="All assets of the line" if line_id else "Pick a line first",
            disabled=line_id is None,
            bind="query-params",
            persist_state="session",
            help="Drill down from a line to one of its assets.",
        )
    if "material" in columns:
        materials = cached.stocked_materials(engine, scope)
        labels = {
            r.material_id: f"{r.name} · {r.material_type.replace('_', ' ')} ({r.material_id})"
            for r in materials.itertuples()
        }
        material_id = columns["material"].selectbox(
            "Material",
            list(labels),
            index=None,
            format_func=labels.get,
            key="filters_material",
            placeholder="All materials",
            bind="query-params",
            persist_state="session",
            help="Drill down from the plants to one material they stock.",
        )
    return replace(selection, scope=scope, line_id=line_id, asset_id=asset_id, material_id=material_id)
