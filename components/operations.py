"""What the operations pages show (downtime & maintenance, inventory & supply, schedule risk),
assembled from cached scoped reads (`data_access.operations`) and the KPI module.

One function per page builds a frozen view: every frame in it is complete (what its table's
CSV exports) and already scoped to the user's plants by the queries below it. KPI columns
that can be undefined (a ratio without denominator) get a `<key>_text` twin in words
("no failure", "no demand"), which the tables show instead of an empty or NaN cell.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
import streamlit as st

from components import cached
from components.filters import Selection
from components.formatting import explain_missing, format_delta, format_kpi
from data_access import kpis
from data_access import operations as ops

WEEKLY_UP_TO_DAYS = 120  # longer windows trend by month
HORIZONS = (7, 14, 30)  # days ahead the schedule page looks for orders due


# --- cached reads (the scope is part of every key) --------------------------------------------

@cached.cache_query()
def marts_ready(engine, scope):
    return ops.marts_ready(engine, scope)


def require_marts(engine, scope) -> None:
    """Stop the page with an explanation while the operations marts are not built yet."""
    if not marts_ready(engine, scope):
        st.info("The operations marts of this warehouse have not been built yet. They fill on the "
                "next data load, or at once with `python -m data_access.marts`.", icon=":material/build:")
        st.stop()


@cached.cache_query()
def line_components(engine, scope, start, end, by, line_id=None):
    return ops.line_components(engine, scope, start, end, by, line_id)


@cached.cache_query()
def downtime_breakdown(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.downtime_breakdown(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def downtime_reasons(engine):
    return ops.downtime_reasons(engine)


@cached.cache_query()
def asset_operating(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.asset_operating(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def work_order_flow(engine, scope, start, end, by, line_id=None, asset_id=None):
    return ops.work_order_flow(engine, scope, start, end, by, line_id, asset_id)


@cached.cache_query()
def work_order_backlog(engine, scope, at_day, by, line_id=None, asset_id=None):
    return ops.work_order_backlog(engine, scope, at_day, by, line_id, asset_id)


@cached.cache_query()
def material_positions(engine, scope, start, end, material_id=None):
    return ops.material_positions(engine, scope, start, end, material_id)


@cached.cache_query()
def material_history(engine, scope, start, end, material_id):
    return ops.material_history(engine, scope, start, end, material_id)


@cached.cache_query()
def deliveries(engine, scope, start, end, by, material_id=None):
    return ops.deliveries(engine, scope, start, end, by, material_id)


@cached.cache_query()
def open_orders(engine, scope, through_day, line_id=None):
    return ops.open_orders(engine, scope, through_day, line_id)


@cached.cache_query()
def order_inputs(engine, scope, through_day, line_id=None):
    return ops.order_inputs(engine, scope, through_day, line_id)


@cached.cache_query()
def open_purchase_orders(engine, scope, through_day):
    return ops.open_purchase_orders(engine, scope, through_day)


@cached.cache_query()
def late_orders(engine, scope, start, end, line_id=None):
    return ops.late_orders(engine, scope, start, end, line_id)


# --- shared helpers ---------------------------------------------------------------------------

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
        column.metric(f"{label} ({unit})", shown, delta=format_delta(key, value, before),
                      delta_color="normal" if higher_is_better else "inverse", help=help_text, border=True)


_MISSING_WORDS = {"no demand", "none closed", "none created"}


def drill_path(engine, selection: Selection) -> str:
    """Where the selection stands: '12 plants', 'Berlin, Lyon', 'Berlin › Packaging 1 › Capper 3'."""
    names = list(_plants(engine, selection)["name"])
    parts = [", ".join(names) if len(names) <= 3 else f"{len(names)} plants"]
    if selection.line_id:
        lines = cached.lines(engine, selection.scope)
        parts.append(_names(lines, "line_id", "name").get(selection.line_id, selection.line_id))
    if selection.asset_id:
        assets = cached.assets(engine, selection.scope, selection.line_id)
        parts.append(_names(assets, "asset_id", "local_name").get(selection.asset_id, selection.asset_id))
    if selection.material_id:
        materials = cached.stocked_materials(engine, selection.scope)
        parts.append(_names(materials, "material_id", "name").get(selection.material_id, selection.material_id))
    return " › ".join(parts)


def _has_data(engine, selection: Selection) -> bool:
    """Whether the selection's plants have any mart day in its window (else: no deltas)."""
    return not cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end).empty


def _period(selection: Selection) -> tuple[str, str]:
    """The trend's period column and its axis title."""
    if selection.days <= WEEKLY_UP_TO_DAYS:
        return "week_start", "Week (plant-local, starting Monday)"
    return "month_start", "Month (plant-local)"


def _plants(engine, selection):
    return cached.plants(engine, selection.scope)


def _names(frame, id_column, name_column):
    return dict(zip(frame[id_column], frame[name_column]))


def _local(stamps: pd.Series, zones: pd.Series) -> pd.Series:
    """UTC instants as each row's plant-local time (tz-aware; exported with its offset)."""
    return pd.Series([ts.tz_convert(zone) if pd.notna(ts) else None for ts, zone in zip(stamps, zones)],
                     index=stamps.index, dtype=object)


def _local_text(local: pd.Series) -> pd.Series:
    return local.map(lambda ts: ts.strftime("%Y-%m-%d %H:%M %Z") if ts is not None else "no due date")


# --- downtime & maintenance ------------------------------------------------------------------

RELIABILITY_KEYS = ("mtbf_h", "mttr_h")
CHILD_OF = {"network": "plant", "plant": "line", "line": "asset", "asset": "reason"}


@dataclass(frozen=True)
class DowntimeView:
    level: str  # network | plant | line | asset
    child: str  # what the breakdown rows are: plant | line | asset | reason
    totals: pd.Series  # unplanned/planned downtime h, failures, MTBF, MTTR, backlog, preventive share, close h
    previous: pd.Series
    breakdown: pd.DataFrame  # one row per child: name, hours by kind, failures, MTBF, MTTR
    by_category: pd.DataFrame  # name, category, hours (for the stacked chart)
    reasons: pd.DataFrame  # reason_code, description, category, events, failures, hours, unplanned_h
    local_reasons: pd.DataFrame  # reason_code, description, plant, local_reason, events, hours
    plants: pd.DataFrame  # reliability per plant
    classes: pd.DataFrame  # reliability per asset class
    trend: pd.DataFrame  # period, failures, operating_h, repair_h, mtbf_h, mttr_h
    period_title: str
    worst_assets: pd.DataFrame
    maintenance: pd.DataFrame  # per plant: workflow, created by type, preventive share, backlog, close time
    maintenance_mix: pd.DataFrame  # plant, wo_type, created, share
    missing_plants: list = field(default_factory=list)  # plants in scope without downtime data

    @property
    def is_empty(self) -> bool:
        return self.breakdown.empty and self.reasons.empty

    def pareto(self, unplanned_only: bool) -> pd.DataFrame:
        """Canonical reasons by hours, largest first, with share and cumulative share."""
        value = "unplanned_h" if unplanned_only else "hours"
        frame = self.reasons[self.reasons[value] > 0].sort_values(value, ascending=False, ignore_index=True)
        total = frame[value].sum()
        frame = frame.assign(pareto_hours=frame[value])
        frame["share"] = frame["pareto_hours"] / total if total > 0 else 0.0
        frame["cumulative_share"] = frame["share"].cumsum()
        return frame


def downtime_view(engine, selection: Selection) -> DowntimeView:
    """Everything the downtime & maintenance page shows for the selection."""
    level = selection.level if selection.level != "material" else "network"
    args = (engine, selection.scope, selection.start, selection.end)
    drill = dict(line_id=selection.line_id, asset_id=selection.asset_id)
    info = _plants(engine, selection)
    reasons = _reason_table(engine, args, drill)
    return DowntimeView(
        level=level,
        child=CHILD_OF[level],
        totals=_downtime_totals(engine, selection),
        previous=_downtime_totals(engine, selection.previous()) if _has_data(engine, selection.previous())
        else pd.Series(dtype=object),
        breakdown=(breakdown := _breakdown(engine, selection, level, info, reasons)),
        by_category=_by_category(engine, selection, level, breakdown),
        reasons=reasons,
        local_reasons=_local_reasons(engine, args, drill, info, reasons),
        plants=_plant_reliability(engine, selection, info),
        classes=_class_reliability(engine, args, drill, selection.days),
        trend=_reliability_trend(engine, selection),
        period_title=_period(selection)[1],
        worst_assets=_worst_assets(engine, selection, info),
        maintenance=(maintenance := _maintenance(engine, selection, info)),
        maintenance_mix=_maintenance_mix(maintenance),
        missing_plants=sorted(set(info["name"]) - set(breakdown.get("plant", pd.Series(dtype=str))))
        if level == "network" else [],
    )


def _reliability(frame: pd.DataFrame, operating: str, failures: str, repair: str, days: int) -> pd.DataFrame:
    out = frame.assign(
        mtbf_h=kpis.mtbf_hours(frame[operating].astype(float), frame[failures]),
        mttr_h=kpis.mttr_hours(frame[repair].astype(float), frame[failures]),
    )
    return with_text(out, RELIABILITY_KEYS, days)


def _component_totals(components: pd.DataFrame) -> dict:
    """Sums of one summed-components row (zeros when the window holds nothing)."""
    if components.empty:
        return {c: 0.0 for c in kpis.LINE_COMPONENTS}
    return {c: float(components[c].iloc[0]) for c in kpis.LINE_COMPONENTS}


def _downtime_totals(engine, selection: Selection) -> pd.Series:
    scope, start, end = selection.scope, selection.start, selection.end
    if selection.asset_id:
        down = downtime_breakdown(engine, scope, start, end, (), asset_id=selection.asset_id)
        operating = asset_operating(engine, scope, start, end, (), asset_id=selection.asset_id)
        run_s = float(operating["operating_s"].fillna(0).iloc[0]) if not operating.empty else 0.0
        row = down.fillna(0).iloc[0] if not down.empty else pd.Series(dtype=float)
        unplanned, planned = float(row.get("unplanned_s", 0.0)), float(row.get("planned_s", 0.0))
        failures = int(row.get("failures", 0))
        restoration = unplanned
    else:
        c = _component_totals(line_components(engine, scope, start, end, (), selection.line_id))
        run_s, failures, restoration = c["run_s"], int(c["failures"]), c["restoration_s"]
        unplanned, planned = c["unplanned_downtime_s"], c["planned_downtime_s"]
    # The same reads as the maintenance table's (one cache entry each): summed here.
    drill = dict(line_id=selection.line_id, asset_id=selection.asset_id)
    flow = work_order_flow(engine, scope, start, end, ("plant_id", "wo_type"), **drill)
    backlog = work_order_backlog(engine, scope, end, ("plant_id", "wo_type"), **drill)
    created = flow.groupby("wo_type")["created"].sum()
    return pd.Series({
        "unplanned_downtime_h": unplanned / 3600.0,
        "planned_downtime_h": planned / 3600.0,
        "failures": failures,
        "mtbf_h": kpis.mtbf_hours(run_s, failures),
        "mttr_h": kpis.mttr_hours(restoration, failures),
        "wo_backlog": int(backlog["backlog"].sum()),
        "preventive_share": kpis.preventive_share(float(created.get("preventive", 0)),
                                                  float(created.get("corrective", 0))),
        "mean_close_h": kpis.mean_time_to_close_hours(float(flow["close_s"].sum()), float(flow["completed"].sum())),
    }, dtype=object)


def _reason_table(engine, args, drill) -> pd.DataFrame:
    frame = downtime_breakdown(*args, ("reason_code",), **drill)
    reasons = downtime_reasons(args[0])[["reason_code", "description", "category"]]
    frame = frame.merge(reasons, on="reason_code", how="left")
    frame["description"] = frame["description"].fillna(frame["reason_code"])
    frame["hours"] = frame["downtime_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_s"] / 3600.0
    return frame.sort_values("hours", ascending=False, ignore_index=True)


def _breakdown(engine, selection, level, info, reasons) -> pd.DataFrame:
    """One row per child of the selection: hours lost by kind, failures, MTBF and MTTR."""
    scope, start, end, days = selection.scope, selection.start, selection.end, selection.days
    if level in ("network", "plant"):
        key = "plant_id" if level == "network" else "line_id"
        comp = line_components(engine, scope, start, end, (key,), selection.line_id)
        if comp.empty:
            return pd.DataFrame()
        frame = comp.rename(columns={"run_s": "operating_s", "unplanned_downtime_s": "unplanned_s",
                                     "planned_downtime_s": "planned_s"})
        down = downtime_breakdown(engine, scope, start, end, (key,), selection.line_id)
        frame = frame.merge(down[[key, "downtime_s", "events"]], on=key, how="left").fillna(
            {"downtime_s": 0.0, "events": 0})
        if level == "network":
            frame = frame.merge(info[["plant_id", "name", "maintenance_workflow"]], on="plant_id")
            frame = frame.rename(columns={"name": "plant"}).assign(name=lambda f: f["plant"])
        else:
            lines = cached.lines(engine, scope)[["line_id", "name", "plant_name"]]
            frame = frame.merge(lines, on="line_id").rename(columns={"plant_name": "plant"})
        repair = "restoration_s"
    elif level == "line":
        down = downtime_breakdown(engine, scope, start, end, ("asset_id",), selection.line_id)
        operating = asset_operating(engine, scope, start, end, ("asset_id",), selection.line_id)
        assets = cached.assets(engine, scope, selection.line_id)
        frame = assets.merge(operating, on="asset_id", how="left").merge(down, on="asset_id", how="left")
        frame = frame.fillna({c: 0 for c in ("operating_s", "events", "failures", "downtime_s",
                                              "unplanned_s", "planned_s")})
        frame = frame.assign(name=frame["local_name"] + " (" + frame["asset_class"] + ")")
        repair = "unplanned_s"
        if frame["operating_s"].sum() == 0 and frame["downtime_s"].sum() == 0:
            return pd.DataFrame()
    else:  # asset: its canonical reasons
        operating = asset_operating(engine, scope, start, end, (), asset_id=selection.asset_id)
        op_s = float(operating["operating_s"].fillna(0).iloc[0]) if not operating.empty else 0.0
        frame = reasons.assign(name=reasons["description"], operating_s=op_s)
        repair = "unplanned_s"
    frame["unplanned_h"] = frame["unplanned_s"] / 3600.0
    frame["planned_h"] = frame["planned_s"] / 3600.0
    frame["downtime_h"] = frame["downtime_s"] / 3600.0
    frame["other_h"] = (frame["downtime_h"] - frame["unplanned_h"] - frame["planned_h"]).clip(lower=0.0)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["failures"] = frame["failures"].astype(int)
    frame = _reliability(frame, "operating_s", "failures", repair, days)
    return frame.sort_values("unplanned_h", ascending=False, ignore_index=True)


def _by_category(engine, selection, level, breakdown) -> pd.DataFrame:
    if breakdown.empty:
        return pd.DataFrame(columns=["name", "category", "hours"])
    args = (engine, selection.scope, selection.start, selection.end)
    key = {"network": "plant_id", "plant": "line_id", "line": "asset_id", "asset": "reason_code"}[level]
    frame = downtime_breakdown(*args, (key, "category"), selection.line_id, selection.asset_id)
    frame = frame.merge(breakdown[[key, "name"]], on=key)
    frame["hours"] = frame["downtime_s"] / 3600.0
    order = {name: i for i, name in enumerate(breakdown["name"])}
    return frame.sort_values(by="name", key=lambda s: s.map(order), kind="stable")[
        ["name", key, "category", "events", "hours"]].reset_index(drop=True)


def _local_reasons(engine, args, drill, info, reasons) -> pd.DataFrame:
    frame = downtime_breakdown(*args, ("plant_id", "reason_code", "local_reason"), **drill)
    frame = frame.merge(reasons[["reason_code", "description", "category"]], on="reason_code", how="left")
    frame = frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["hours"] = frame["downtime_s"] / 3600.0
    return frame.sort_values(["reason_code", "hours"], ascending=[True, False], ignore_index=True)


def _plant_reliability(engine, selection, info) -> pd.DataFrame:
    comp = line_components(engine, selection.scope, selection.start, selection.end, ("plant_id",),
                           selection.line_id)
    if comp.empty:
        return pd.DataFrame()
    frame = info[["plant_id", "name", "data_maturity", "maintenance_workflow"]].rename(
        columns={"name": "plant"}).merge(comp, on="plant_id")
    frame["operating_h"] = frame["run_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_downtime_s"] / 3600.0
    return _reliability(frame, "run_s", "failures", "restoration_s", selection.days)


def _class_reliability(engine, args, drill, days) -> pd.DataFrame:
    operating = asset_operating(*args, ("asset_class",), **drill)
    if operating.empty:
        return pd.DataFrame()
    down = downtime_breakdown(*args, ("asset_class",), **drill)
    frame = operating.merge(down, on="asset_class", how="left").fillna(
        {"events": 0, "failures": 0, "downtime_s": 0.0, "unplanned_s": 0.0, "planned_s": 0.0})
    frame["failures"] = frame["failures"].astype(int)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_s"] / 3600.0
    frame = _reliability(frame, "operating_s", "failures", "unplanned_s", days)
    return frame.sort_values("unplanned_h", ascending=False, ignore_index=True)


def _reliability_trend(engine, selection) -> pd.DataFrame:
    period, _title = _period(selection)
    scope, start, end = selection.scope, selection.start, selection.end
    if selection.asset_id:
        operating = asset_operating(engine, scope, start, end, (period,), asset_id=selection.asset_id)
        down = downtime_breakdown(engine, scope, start, end, (period,), asset_id=selection.asset_id)
        frame = operating.merge(down, on=period, how="left").fillna({"failures": 0, "unplanned_s": 0.0})
        frame = frame.rename(columns={"unplanned_s": "repair_s"})
    else:
        frame = line_components(engine, scope, start, end, (period,), selection.line_id).rename(
            columns={"run_s": "operating_s", "restoration_s": "repair_s"})
    if frame.empty:
        return pd.DataFrame(columns=["period", "failures", "operating_h", "repair_h", "mtbf_h", "mttr_h"])
    frame = frame.rename(columns={period: "period"})
    frame["failures"] = frame["failures"].astype(int)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["repair_h"] = frame["repair_s"] / 3600.0
    frame = _reliability(frame, "operating_s", "failures", "repair_s", selection.days)
    return frame[["period", "failures", "operating_h", "repair_h", "mtbf_h", "mttr_h",
                  "mtbf_h_text", "mttr_h_text"]]


def _worst_assets(engine, selection, info) -> pd.DataFrame:
    args = (engine, selection.scope, selection.start, selection.end)
    drill = dict(line_id=selection.line_id, asset_id=selection.asset_id)
    down = downtime_breakdown(*args, ("asset_id",), **drill)
    down = down[down["failures"] > 0]
    if down.empty:
        return pd.DataFrame()
    operating = asset_operating(*args, ("asset_id",), **drill)
    assets = cached.assets(engine, selection.scope)
    lines = cached.lines(engine, selection.scope)[["line_id", "name"]].rename(columns={"name": "line"})
    frame = (down.merge(operating[["asset_id", "operating_s"]], on="asset_id", how="left")
             .merge(assets, on="asset_id").merge(lines, on="line_id")
             .merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id"))
    frame["operating_s"] = frame["operating_s"].fillna(0.0)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_s"] / 3600.0
    frame["downtime_h"] = frame["downtime_s"] / 3600.0
    frame = _reliability(frame, "operating_s", "failures", "unplanned_s", selection.days)
    frame = frame.sort_values(["unplanned_h", "failures"], ascending=False, ignore_index=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


WO_TYPES = ("preventive", "corrective", "inspection")


def _maintenance(engine, selection, info) -> pd.DataFrame:
    scope, start, end = selection.scope, selection.start, selection.end
    drill = dict(line_id=selection.line_id, asset_id=selection.asset_id)
    flow = work_order_flow(engine, scope, start, end, ("plant_id", "wo_type"), **drill)
    now = work_order_backlog(engine, scope, end, ("plant_id", "wo_type"), **drill)
    before = work_order_backlog(engine, scope, start - timedelta(days=1), ("plant_id", "wo_type"), **drill)
    if flow.empty and now.empty:
        return pd.DataFrame()
    created = _by_type(flow, "created").add_prefix("created_")
    open_now = _by_type(now, "backlog").add_prefix("open_")
    totals = flow.groupby("plant_id")[["completed", "close_s"]].sum()
    frame = (info[["plant_id", "name", "maintenance_workflow", "data_maturity"]].rename(columns={"name": "plant"})
             .merge(created, left_on="plant_id", right_index=True, how="left")
             .merge(open_now, left_on="plant_id", right_index=True, how="left")
             .merge(totals, left_on="plant_id", right_index=True, how="left"))
    counts = [c for c in frame.columns if c.startswith(("created_", "open_"))] + ["completed"]
    frame[counts] = frame[counts].fillna(0).astype(int)
    frame["close_s"] = frame["close_s"].fillna(0.0)
    frame["backlog_start"] = frame["plant_id"].map(before.groupby("plant_id")["backlog"].sum()).fillna(0).astype(int)
    frame["backlog_end"] = frame[[f"open_{t}" for t in WO_TYPES]].sum(axis=1)
    frame["created_total"] = frame[[f"created_{t}" for t in WO_TYPES]].sum(axis=1)
    frame["preventive_share"] = kpis.preventive_share(frame["created_preventive"].astype(float),
                                                      frame["created_corrective"].astype(float))
    frame["mean_close_h"] = kpis.mean_time_to_close_hours(frame["close_s"], frame["completed"].astype(float))
    frame = with_text(frame, ("preventive_share", "mean_close_h"), selection.days)
    return frame[frame["created_total"] + frame["backlog_end"] > 0].reset_index(drop=True)


def _by_type(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """plant_id x work-order type counts (zero where a plant has none of a type)."""
    if frame.empty:
        return pd.DataFrame(columns=list(WO_TYPES), index=pd.Index([], name="plant_id"), dtype=int)
    table = frame.pivot_table(index="plant_id", columns="wo_type", values=value, aggfunc="sum")
    return table.reindex(columns=list(WO_TYPES)).fillna(0).astype(int)


def _maintenance_mix(maintenance: pd.DataFrame) -> pd.DataFrame:
    if maintenance.empty or maintenance["created_total"].sum() == 0:
        return pd.DataFrame(columns=["plant", "wo_type", "created", "share"])
    rows = []
    for r in maintenance[maintenance["created_total"] > 0].itertuples():
        label = f"{r.plant} ({r.maintenance_workflow.replace('_', ' ')})"
        for t in WO_TYPES:
            created = getattr(r, f"created_{t}")
            rows.append({"plant": label, "wo_type": t, "created": created, "share": created / r.created_total})
    return pd.DataFrame(rows)


# --- inventory & supply ------------------------------------------------------------------------

@dataclass(frozen=True)
class InventoryView:
    totals: pd.Series  # days_of_supply, inventory_turns, supplier_otd, stockout_exposed, spare_availability
    previous: pd.Series
    plants: pd.DataFrame  # one row per plant
    materials: pd.DataFrame  # one row per plant x material
    exposed: pd.DataFrame  # materials whose days of supply is below lead time, worst first
    spares: pd.DataFrame  # plant x asset class
    suppliers: pd.DataFrame  # one row per supplier
    lateness: pd.DataFrame  # lateness_days, received, on_time (bool)
    shared: pd.DataFrame  # materials several plants stock
    history: pd.DataFrame  # the drilled-down material per plant and day (else empty)
    material_id: str | None

    @property
    def is_empty(self) -> bool:
        return self.materials.empty


def inventory_view(engine, selection: Selection) -> InventoryView:
    """Everything the inventory & supply page shows for the selection."""
    scope, start, end, days = selection.scope, selection.start, selection.end, selection.days
    info = _plants(engine, selection)
    materials = _material_table(material_positions(engine, scope, start, end, selection.material_id),
                                info, days)
    spares = _spares(materials)
    supplier_rows = deliveries(engine, scope, start, end, ("supplier_id",), selection.material_id)
    return InventoryView(
        totals=_inventory_totals(engine, selection, materials, spares),
        previous=_inventory_totals(engine, selection.previous(), None, None)
        if _has_data(engine, selection.previous()) else pd.Series(dtype=object),
        plants=_inventory_plants(engine, selection, info, materials, spares),
        materials=materials,
        exposed=_exposed(materials),
        spares=spares,
        suppliers=_suppliers(supplier_rows, days),
        lateness=_lateness(deliveries(engine, scope, start, end, ("lateness_days",), selection.material_id)),
        shared=_shared(materials, days),
        history=_history(engine, selection, info),
        material_id=selection.material_id,
    )


def _material_table(frame: pd.DataFrame, info: pd.DataFrame, days: int) -> pd.DataFrame:
    frame = frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["avg_daily_demand"] = frame["demand_qty"] / days
    frame["material_dos"] = kpis.material_days_of_supply(frame["on_hand"], frame["demand_qty"], days)
    frame["exposed"] = kpis.is_stockout_exposed(frame["material_dos"], frame["lead_time_days"]).to_numpy()
    frame["below_safety"] = (frame["on_hand"] < frame["safety_stock"]).to_numpy()
    frame["status"] = [_stock_status(r) for r in frame.itertuples()]
    frame = with_text(frame, ("material_dos",), days)
    frame.loc[frame["on_hand"].isna(), "material_dos_text"] = "no recent count"
    return frame


def _stock_status(row) -> str:
    if pd.isna(row.on_hand):
        return f"no stock count in the last {kpis.STOCK_COUNT_LOOKBACK_DAYS} days"
    if row.exposed:
        return "exposed: runs out before a new order arrives"
    if row.on_hand <= 0 and row.demand_qty > 0:
        return "out of stock"
    if row.demand_qty <= 0:
        return "no demand in the window"
    if pd.isna(row.lead_time_days):
        return "made here (no supplier lead time)"
    return "covered"


def _spares(materials: pd.DataFrame) -> pd.DataFrame:
    spares = materials[(materials["material_type"] == "spare_part") & materials["on_hand"].notna()]
    if spares.empty:
        return pd.DataFrame()
    frame = spares.assign(in_stock=spares["on_hand"] >= 1).groupby(
        ["plant_id", "plant", "asset_class"], as_index=False).agg(
        stocked=("material_id", "size"), in_stock=("in_stock", "sum"), below_safety=("below_safety", "sum"),
        on_hand=("on_hand", "sum"))
    frame["spare_availability"] = kpis.spare_parts_availability(frame["in_stock"].astype(float),
                                                                frame["stocked"].astype(float))
    return frame.sort_values(["spare_availability", "plant"], ignore_index=True)


def _inventory_totals(engine, selection, materials, spares) -> pd.Series:
    comp = cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end)
    if comp.empty:
        summed = pd.Series({c: 0.0 for c in kpis.COMPONENTS})
    else:
        summed = comp[list(kpis.COMPONENTS)].sum()
    totals = {
        "days_of_supply": kpis.days_of_supply(summed["inventory_value"], summed["covered_demand_value"]),
        "inventory_turns": kpis.inventory_turns(summed["covered_demand_value"],
                                                summed["inventory_value"] / selection.days, selection.days),
        "supplier_otd": kpis.supplier_on_time(summed["po_on_time"], summed["po_received"]),
    }
    if materials is not None:
        assessed = materials["material_dos"].notna() & materials["lead_time_days"].notna()
        totals["stockout_exposed"] = int(materials["exposed"].sum())
        totals["assessed"] = int(assessed.sum())
        totals["spare_availability"] = (kpis.spare_parts_availability(float(spares["in_stock"].sum()),
                                                                      float(spares["stocked"].sum()))
                                        if not spares.empty else float("nan"))
        if selection.material_id:
            counted = materials[materials["on_hand"].notna()]
            totals["material_dos"] = kpis.material_days_of_supply(
                float(counted["on_hand"].sum()), float(counted["demand_qty"].sum()), selection.days)
    return pd.Series(totals, dtype=object)


def _inventory_plants(engine, selection, info, materials, spares) -> pd.DataFrame:
    comp = cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end)
    frame = info[["plant_id", "name", "data_maturity", "currency"]].rename(columns={"name": "plant"})
    frame = frame.merge(comp, on="plant_id", how="left").fillna({c: 0.0 for c in kpis.COMPONENTS})
    frame["days"] = frame["days"].fillna(0)
    frame["days_of_supply"] = kpis.days_of_supply(frame["inventory_value"], frame["covered_demand_value"])
    frame["inventory_turns"] = kpis.inventory_turns(frame["covered_demand_value"],
                                                    frame["inventory_value"] / selection.days, selection.days)
    frame["supplier_otd"] = kpis.supplier_on_time(frame["po_on_time"], frame["po_received"])
    per_plant = materials.groupby("plant_id").agg(
        stocked=("material_id", "size"), counted=("on_hand", "count"), stockout_exposed=("exposed", "sum"))
    frame = frame.merge(per_plant, on="plant_id", how="left").fillna({"stocked": 0, "counted": 0,
                                                                      "stockout_exposed": 0})
    if not spares.empty:
        spare = spares.groupby("plant_id")[["in_stock", "stocked"]].sum()
        frame["spare_availability"] = frame["plant_id"].map(
            kpis.spare_parts_availability(spare["in_stock"].astype(float), spare["stocked"].astype(float)))
    else:
        frame["spare_availability"] = np.nan
    for col in ("stocked", "counted", "stockout_exposed"):
        frame[col] = frame[col].astype(int)
    frame = with_text(frame, ("days_of_supply", "inventory_turns", "supplier_otd", "spare_availability"),
                      selection.days)
    return frame.sort_values(["stockout_exposed", "plant"], ascending=[False, True], ignore_index=True)


def _exposed(materials: pd.DataFrame) -> pd.DataFrame:
    frame = materials[materials["exposed"]].copy()
    frame["cover_ratio"] = frame["material_dos"] / frame["lead_time_days"]
    frame["label"] = frame["material_name"] + " · " + frame["plant"]
    return frame.sort_values("cover_ratio", ignore_index=True)


def _suppliers(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.assign(supplier_otd=kpis.supplier_on_time(frame["on_time"].astype(float),
                                                            frame["received"].astype(float)),
                         mean_lateness_days=frame["lateness_days_sum"] / frame["received"])
    frame = with_text(frame, ("supplier_otd",), days)
    return frame.sort_values("supplier_otd", ignore_index=True)


def _lateness(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.assign(on_time=frame["lateness_days"] <= kpis.DELIVERY_TOLERANCE_DAYS)
    return frame[["lateness_days", "received", "on_time"]].sort_values("lateness_days", ignore_index=True)


def _shared(materials: pd.DataFrame, days: int) -> pd.DataFrame:
    """Materials stocked by two or more plants: quantities add up (one unit per material)."""
    counts = materials.groupby("material_id")["plant_id"].nunique()
    shared = materials[materials["material_id"].isin(counts[counts >= 2].index)]
    if shared.empty:
        return pd.DataFrame()
    counted = shared[shared["on_hand"].notna()]
    frame = shared.groupby(["material_id", "material_name", "material_type", "unit"], as_index=False).agg(
        plants=("plant_id", "nunique"), demand_qty=("demand_qty", "sum"), exposed_plants=("exposed", "sum"),
        plant_list=("plant", lambda s: ", ".join(sorted(s))))
    frame = frame.merge(counted.groupby("material_id", as_index=False).agg(
        on_hand=("on_hand", "sum"), counted_demand=("demand_qty", "sum"),
        min_plant_dos=("material_dos", "min")), on="material_id", how="left")
    frame["avg_daily_demand"] = frame["demand_qty"] / days
    frame["material_dos"] = kpis.material_days_of_supply(frame["on_hand"], frame["counted_demand"], days)
    frame["exposed_plants"] = frame["exposed_plants"].astype(int)
    frame = with_text(frame, ("material_dos",), days)
    frame["min_plant_dos_text"] = [format_kpi("material_dos", v, days) for v in frame["min_plant_dos"]]
    return frame.sort_values(["exposed_plants", "plants"], ascending=False, ignore_index=True)


def _history(engine, selection, info) -> pd.DataFrame:
    if not selection.material_id:
        return pd.DataFrame()
    frame = material_history(engine, selection.scope, selection.start, selection.end, selection.material_id)
    return frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")


# --- schedule risk -------------------------------------------------------------------------------

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
    info = _plants(engine, selection)
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
        if _has_data(engine, selection.previous()) else pd.Series(dtype=object),
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
    c = _component_totals(line_components(engine, selection.scope, selection.start, selection.end, (),
                                          selection.line_id))
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
        names = (_names(info, "plant_id", "name") if key == "plant_id"
                 else _names(cached.lines(engine, selection.scope), "line_id", "name"))
        frames.append(per.assign(group=per[key].map(names)))
    frame = pd.concat(frames, ignore_index=True)
    columns = ["week_start", "group", "orders_due", "orders_on_time", *SCHEDULE_KEYS]
    return frame[frame["orders_due"] > 0][columns].reset_index(drop=True)


def _with_local_due(frame: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    frame = frame.merge(info[["plant_id", "name", "timezone"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["due_local"] = _local(frame["due_utc"], frame["timezone"])
    frame["due_local_text"] = _local_text(frame["due_local"])
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
    assessed = ops.assess_order_risk(orders, order_inputs(engine, scope, last_day), stock,
                                     open_purchase_orders(engine, scope, last_day), lines, selection.days)
    if line_id is not None:
        assessed = assessed[assessed["line_id"] == line_id].reset_index(drop=True)
        if assessed.empty:
            return pd.DataFrame(), pd.DataFrame()
    assessed = _with_local_due(assessed, info)
    line_names = _names(cached.lines(engine, scope), "line_id", "name")
    assessed["line"] = assessed["line_id"].map(line_names)
    due = assessed["due_day"].map(lambda d: d is not None and first_day <= d <= last_day)
    undated = assessed[assessed["due_utc"].isna()].reset_index(drop=True)
    upcoming = assessed[due.to_numpy()].sort_values(["at_risk", "due_utc"], ascending=[False, True],
                                                    ignore_index=True)
    upcoming["remaining_qty"] = (upcoming["qty"] - upcoming["produced_qty"]).clip(lower=0)
    return upcoming, undated


def _late(engine, selection, info) -> pd.DataFrame:
    frame = late_orders(engine, selection.scope, selection.start, selection.end, selection.line_id)
    if frame.empty:
        return frame
    frame = _with_local_due(frame, info)
    frame["line"] = frame["line_id"].map(_names(cached.lines(engine, selection.scope), "line_id", "name"))
    frame["lateness_text"] = [f"{h:,.1f} h late" if pd.notna(h) else "not finished"
                              for h in frame["lateness_h"]]
    return frame.sort_values("lateness_h", ascending=False, na_position="first", ignore_index=True)
