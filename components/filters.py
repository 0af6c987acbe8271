"""The shared filter bar: region, plants and date range, carried across pages and in the URL.

The selection never widens the user's plant scope: it narrows `user.scope`, and the
queries enforce the result. Widgets persist for the whole session and are bound to query
parameters, so a view can be shared by link; unknown plants in a link are dropped.
"""

from dataclasses import dataclass
from datetime import date, timedelta

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

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Selection":
        """The period of the same length just before this one (for tile deltas)."""
        return Selection(self.scope, self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def filter_bar(engine, user) -> Selection | None:
    """Render the filters; None (with an explained empty state) when there is nothing to show."""
    plants = cached.plants(engine, user.scope)
    window = cached.data_window(engine, user.scope)
    if plants.empty or window is None:
        st.info("There is no plant data in your scope yet. Once a plant's production data is "
                "loaded, its KPIs appear here.", icon=":material/factory:")
        return None
    first, last = window
    names = dict(zip(plants["plant_id"], plants["name"]))
    regions = dict(zip(plants["region_id"], plants["region_name"]))

    region_col, plant_col, date_col = st.columns([1, 2, 1])
    chosen_regions = region_col.multiselect(
        "Region", list(regions), format_func=regions.get, key="filters_regions",
        placeholder="All regions", bind="query-params", persist_state="session")
    chosen_plants = plant_col.multiselect(
        "Plants", list(names), format_func=lambda p: f"{names[p]} ({p})", key="filters_plants",
        placeholder="All plants in scope", bind="query-params", persist_state="session")
    dates = date_col.date_input(
        "Plant-local days", value=(max(first, last - timedelta(days=DEFAULT_WINDOW_DAYS - 1)), last),
        min_value=first, max_value=last, key="filters_dates", bind="query-params",
        persist_state="session", help="Each plant's own calendar days, in its time zone.")

    in_regions = plants[plants["region_id"].isin(chosen_regions or regions)]["plant_id"]
    selected = set(in_regions) & set(chosen_plants or names)
    if not selected:
        st.info("No plant matches this region and plant selection. Widen the filters above.",
                icon=":material/filter_alt_off:")
        return None
    start, end = (dates[0], dates[-1]) if dates else (first, last)
    return Selection(user.scope.narrowed(selected), start, end)
