"""The schedule risk page's view."""

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from components import cached
from components.filters import Selection
from components.operations.common import (
    component_totals,
    has_data,
    local_time,
    local_time_text,
    names_by_id,
    plant_rows,
    with_text,
)
from components.operations.reads import (
    late_orders,
    line_components,
    material_positions,
    open_orders,
    open_purchase_orders,
    order_inputs,
)
from data_access import kpis
from data_access import operations as ops

HORIZONS = (7, 14, 30)  # days ahead the schedule page looks for orders due


@dataclass(frozen=True)
class ScheduleView:
    level: str
    totals: pd.Series  # adherence, attainment, orders due / on time, late, at risk, undated
    previous: pd.Series
    groups: pd.DataFrame  # one row per plant (network) or line (plant, line)
    group_label: str  # "Plant" or "Line"
    trend: pd.DataFrame  # week_start, group, adherence, attainment
    upcoming: pd.DataFrame  # open orders due in the horizon, with their threats
    undated: pd.DataFrame  # open orders without a due date
    late: pd.DataFrame  # orders due in the window and not on time
    first_day: object  # the horizon: plant-local days first_day..last_day
    last_day: object
    horizon_days: int

    @property
    def is_empty(self) -> bool:
        return self.groups.empty and self.upcoming.empty


SCHEDULE_KEYS = ("schedule_adherence", "schedule_attainment")


def schedule_view(engine, selection: Selection, horizon_days: int = 14) -> ScheduleView:
    """Everything the schedule risk page shows: adherence and attainment of the window, its
    late orders, and the open orders due in the `horizon_days` after the latest data day."""
    scope, end = selection.scope, selection.end
    level = "line" if selection.line_id else ("plant" if selection.level == "plant" else "network")
    info = plant_rows(engine, selection)
    window = cached.data_window(engine, scope)
    today = (window[1] if window else end) + timedelta(days=1)
    last_day = today + timedelta(days=horizon_days - 1)
    groups, label = _schedule_groups(engine, selection, level, info)
    upcoming, undated = _upcoming(engine, selection, info, today, last_day)
    late = _late(engine, selection, info)
    return ScheduleView(
        level=level,
        totals=_schedule_totals(engine, selection, late, upcoming, undated),
        previous=_schedule_totals(engine, selection.previous(), None, None, None)
        if has_data(engine, selection.previous())
        else pd.Series(dtype=object),
        groups=groups,
        group_label=label,
        trend=_adherence_trend(engine, selection, level, info),
        upcoming=upcoming,
        undated=undated,
        late=late,
        first_day=today,
        last_day=last_day,
        horizon_days=horizon_days,
    )


def _schedule_totals(engine, selection, late, upcoming, undated) -> pd.Series:
    c = component_totals(
        line_components(engine, selection.scope, selection.start, selection.end, (), selection.line_id)
    )
    totals = {
        "schedule_adherence": kpis.schedule_adherence(c["orders_on_time"], c["orders_due"]),
        "schedule_attainment": kpis.schedule_attainment(c["actual_qty"], c["scheduled_qty"]),
        "orders_due": int(c["orders_due"]),
        "orders_on_time": int(c["orders_on_time"]),
    }
    if late is not None:
        totals["late_orders"] = len(late)
        totals["orders_at_risk"] = int(upcoming["at_risk"].sum()) if not upcoming.empty else 0
        totals["undated_orders"] = len(undated)
    return pd.Series(totals, dtype=object)


def _schedule_groups(engine, selection, level, info):
    key, label = ("plant_id", "Plant") if level == "network" else ("line_id", "Line")
    comp = line_components(engine, selection.scope, selection.start, selection.end, (key,), selection.line_id)
    if comp.empty:
        return pd.DataFrame(), label
    frame = kpis.with_line_kpis(comp)
    if key == "plant_id":
        frame = frame.merge(info[["plant_id", "name"]], on="plant_id")
    else:
        lines = cached.lines(engine, selection.scope)[["line_id", "name", "plant_name"]]
        frame = frame.merge(lines, on="line_id").rename(columns={"plant_name": "plant"})
    frame["late"] = frame["orders_due"] - frame["orders_on_time"]
    frame = with_text(frame, SCHEDULE_KEYS + ("mtbf_h",), selection.days)
    return frame.sort_values("schedule_adherence", na_position="last", ignore_index=True), label


def _adherence_trend(engine, selection, level, info) -> pd.DataFrame:
    args = (engine, selection.scope, selection.start, selection.end)
    overall = kpis.with_line_kpis(line_components(*args, ("week_start",), selection.line_id))
    overall = overall.assign(group="All selected" if level != "line" else "This line")
    frames = [overall]
    if level != "line":
        key = "plant_id" if level == "network" else "line_id"
        per = kpis.with_line_kpis(line_components(*args, ("week_start", key), selection.line_id))
        names = (
            names_by_id(info, "plant_id", "name")
            if key == "plant_id"
            else names_by_id(cached.lines(engine, selection.scope), "line_id", "name")
        )
        frames.append(per.assign(group=per[key].map(names)))
    frame = pd.concat(frames, ignore_index=True)
    columns = ["week_start", "group", "orders_due", "orders_on_time", *SCHEDULE_KEYS]
    return frame[frame["orders_due"] > 0][columns].reset_index(drop=True)


def _with_local_due(frame: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    frame = frame.merge(info[["plant_id", "name", "timezone"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["due_local"] = local_time(frame["due_utc"], frame["timezone"])
    frame["due_local_text"] = local_time_text(frame["due_local"])
    return frame


def _upcoming(engine, selection, info, first_day, last_day):
    """Open orders due in the horizon, assessed; undated open orders. Materials are judged
    against every open order of the plant (other lines draw on the same stock), then the
    selected line's orders are kept."""
    scope, line_id = selection.scope, selection.line_id
    orders = open_orders(engine, scope, last_day)
    if orders.empty:
        return pd.DataFrame(), pd.DataFrame()
    stock = material_positions(engine, scope, first_day - timedelta(days=1), first_day - timedelta(days=1))
    lines = line_components(engine, scope, selection.start, selection.end, ("plant_id", "line_id"))
    assessed = ops.assess_order_risk(
        orders,
        order_inputs(engine, scope, last_day),
        stock,
        open_purchase_orders(engine, scope, last_day),
        lines,
        selection.days,
    )
    if line_id is not None:
        assessed = assessed[assessed["line_id"] == line_id].reset_index(drop=True)
        if assessed.empty:
            return pd.DataFrame(), pd.DataFrame()
    assessed = _with_local_due(assessed, info)
    line_names = names_by_id(cached.lines(engine, scope), "line_id", "name")
    assessed["line"] = assessed["line_id"].map(line_names)
    due = assessed["due_day"].map(lambda d: d is not None and first_day <= d <= last_day)
    undated = assessed[assessed["due_utc"].isna()].reset_index(drop=True)
    upcoming = assessed[due.to_numpy()].sort_values(["at_risk", "due_utc"], ascending=[False, True], ignore_index=True)
    upcoming["remaining_qty"] = (upcoming["qty"] - upcoming["produced_qty"]).clip(lower=0)
    return upcoming, undated


def _late(engine, selection, info) -> pd.DataFrame:
    frame = late_orders(engine, selection.scope, selection.start, selection.end, selection.line_id)
    if frame.empty:
        return frame
    frame = _with_local_due(frame, info)
    frame["line"] = frame["line_id"].map(names_by_id(cached.lines(engine, selection.scope), "line_id", "name"))
    frame["lateness_text"] = [f"{h:,.1f} h late" if pd.notna(h) else "not finished" for h in frame["lateness_h"]]
    return frame.sort_values("lateness_h", ascending=False, na_position="first", ignore_index=True)
