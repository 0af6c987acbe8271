"""The downtime & maintenance page's view."""

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from components import cached
from components.filters import Selection
from components.operations.common import component_totals, has_data, plant_rows, trend_period, with_text
from components.operations.reads import (
    asset_operating,
    downtime_breakdown,
    downtime_reasons,
    line_components,
    work_order_backlog,
    work_order_flow,
)
from data_access import kpis

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
    info = plant_rows(engine, selection)
    reasons = _reason_table(engine, args, drill)
    return DowntimeView(
        level=level,
        child=CHILD_OF[level],
        totals=_downtime_totals(engine, selection),
        previous=_downtime_totals(engine, selection.previous())
        if has_data(engine, selection.previous())
        else pd.Series(dtype=object),
        breakdown=(breakdown := _breakdown(engine, selection, level, info, reasons)),
        by_category=_by_category(engine, selection, level, breakdown),
        reasons=reasons,
        local_reasons=_local_reasons(engine, args, drill, info, reasons),
        plants=_plant_reliability(engine, selection, info),
        classes=_class_reliability(engine, args, drill, selection.days),
        trend=_reliability_trend(engine, selection),
        period_title=trend_period(selection)[1],
        worst_assets=_worst_assets(engine, selection, info),
        maintenance=(maintenance := _maintenance(engine, selection, info)),
        maintenance_mix=_maintenance_mix(maintenance),
        missing_plants=sorted(set(info["name"]) - set(breakdown.get("plant", pd.Series(dtype=str))))
        if level == "network"
        else [],
    )


def _reliability(frame: pd.DataFrame, operating: str, failures: str, repair: str, days: int) -> pd.DataFrame:
    out = frame.assign(
        mtbf_h=kpis.mtbf_hours(frame[operating].astype(float), frame[failures]),
        mttr_h=kpis.mttr_hours(frame[repair].astype(float), frame[failures]),
    )
    return with_text(out, RELIABILITY_KEYS, days)


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
        c = component_totals(line_components(engine, scope, start, end, (), selection.line_id))
        run_s, failures, restoration = c["run_s"], int(c["failures"]), c["restoration_s"]
        unplanned, planned = c["unplanned_downtime_s"], c["planned_downtime_s"]
    # The same reads as the maintenance table's (one cache entry each): summed here.
    drill = dict(line_id=selection.line_id, asset_id=selection.asset_id)
    flow = work_order_flow(engine, scope, start, end, ("plant_id", "wo_type"), **drill)
    backlog = work_order_backlog(engine, scope, end, ("plant_id", "wo_type"), **drill)
    created = flow.groupby("wo_type")["created"].sum()
    return pd.Series(
        {
            "unplanned_downtime_h": unplanned / 3600.0,
            "planned_downtime_h": planned / 3600.0,
            "failures": failures,
            "mtbf_h": kpis.mtbf_hours(run_s, failures),
            "mttr_h": kpis.mttr_hours(restoration, failures),
            "wo_backlog": int(backlog["backlog"].sum()),
            "preventive_share": kpis.preventive_share(
                float(created.get("preventive", 0)), float(created.get("corrective", 0))
            ),
            "mean_close_h": kpis.mean_time_to_close_hours(float(flow["close_s"].sum()), float(flow["completed"].sum())),
        },
        dtype=object,
    )


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
        frame = comp.rename(
            columns={"run_s": "operating_s", "unplanned_downtime_s": "unplanned_s", "planned_downtime_s": "planned_s"}
        )
        down = downtime_breakdown(engine, scope, start, end, (key,), selection.line_id)
        frame = frame.merge(down[[key, "downtime_s", "events"]], on=key, how="left").fillna(
            {"downtime_s": 0.0, "events": 0}
        )
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
        frame = frame.fillna(
            {c: 0 for c in ("operating_s", "events", "failures", "downtime_s", "unplanned_s", "planned_s")}
        )
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
        ["name", key, "category", "events", "hours"]
    ].reset_index(drop=True)


def _local_reasons(engine, args, drill, info, reasons) -> pd.DataFrame:
    frame = downtime_breakdown(*args, ("plant_id", "reason_code", "local_reason"), **drill)
    frame = frame.merge(reasons[["reason_code", "description", "category"]], on="reason_code", how="left")
    frame = frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["hours"] = frame["downtime_s"] / 3600.0
    return frame.sort_values(["reason_code", "hours"], ascending=[True, False], ignore_index=True)


def _plant_reliability(engine, selection, info) -> pd.DataFrame:
    comp = line_components(engine, selection.scope, selection.start, selection.end, ("plant_id",), selection.line_id)
    if comp.empty:
        return pd.DataFrame()
    frame = (
        info[["plant_id", "name", "data_maturity", "maintenance_workflow"]]
        .rename(columns={"name": "plant"})
        .merge(comp, on="plant_id")
    )
    frame["operating_h"] = frame["run_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_downtime_s"] / 3600.0
    return _reliability(frame, "run_s", "failures", "restoration_s", selection.days)


def _class_reliability(engine, args, drill, days) -> pd.DataFrame:
    operating = asset_operating(*args, ("asset_class",), **drill)
    if operating.empty:
        return pd.DataFrame()
    down = downtime_breakdown(*args, ("asset_class",), **drill)
    frame = operating.merge(down, on="asset_class", how="left").fillna(
        {"events": 0, "failures": 0, "downtime_s": 0.0, "unplanned_s": 0.0, "planned_s": 0.0}
    )
    frame["failures"] = frame["failures"].astype(int)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["unplanned_h"] = frame["unplanned_s"] / 3600.0
    frame = _reliability(frame, "operating_s", "failures", "unplanned_s", days)
    return frame.sort_values("unplanned_h", ascending=False, ignore_index=True)


def _reliability_trend(engine, selection) -> pd.DataFrame:
    period, _title = trend_period(selection)
    scope, start, end = selection.scope, selection.start, selection.end
    if selection.asset_id:
        operating = asset_operating(engine, scope, start, end, (period,), asset_id=selection.asset_id)
        down = downtime_breakdown(engine, scope, start, end, (period,), asset_id=selection.asset_id)
        frame = operating.merge(down, on=period, how="left").fillna({"failures": 0, "unplanned_s": 0.0})
        frame = frame.rename(columns={"unplanned_s": "repair_s"})
    else:
        frame = line_components(engine, scope, start, end, (period,), selection.line_id).rename(
            columns={"run_s": "operating_s", "restoration_s": "repair_s"}
        )
    if frame.empty:
        return pd.DataFrame(columns=["period", "failures", "operating_h", "repair_h", "mtbf_h", "mttr_h"])
    frame = frame.rename(columns={period: "period"})
    frame["failures"] = frame["failures"].astype(int)
    frame["operating_h"] = frame["operating_s"] / 3600.0
    frame["repair_h"] = frame["repair_s"] / 3600.0
    frame = _reliability(frame, "operating_s", "failures", "repair_s", selection.days)
    return frame[["period", "failures", "operating_h", "repair_h", "mtbf_h", "mttr_h", "mtbf_h_text", "mttr_h_text"]]


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
    frame = (
        down.merge(operating[["asset_id", "operating_s"]], on="asset_id", how="left")
        .merge(assets, on="asset_id")
        .merge(lines, on="line_id")
        .merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
    )
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
    frame = (
        info[["plant_id", "name", "maintenance_workflow", "data_maturity"]]
        .rename(columns={"name": "plant"})
        .merge(created, left_on="plant_id", right_index=True, how="left")
        .merge(open_now, left_on="plant_id", right_index=True, how="left")
        .merge(totals, left_on="plant_id", right_index=True, how="left")
    )
    counts = [c for c in frame.columns if c.startswith(("created_", "open_"))] + ["completed"]
    frame[counts] = frame[counts].fillna(0).astype(int)
    frame["close_s"] = frame["close_s"].fillna(0.0)
    frame["backlog_start"] = frame["plant_id"].map(before.groupby("plant_id")["backlog"].sum()).fillna(0).astype(int)
    frame["backlog_end"] = frame[[f"open_{t}" for t in WO_TYPES]].sum(axis=1)
    frame["created_total"] = frame[[f"created_{t}" for t in WO_TYPES]].sum(axis=1)
    frame["preventive_share"] = kpis.preventive_share(
        frame["created_preventive"].astype(float), frame["created_corrective"].astype(float)
    )
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
