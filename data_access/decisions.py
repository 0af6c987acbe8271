"""Named reads of the decisions workflow. Each takes the user's PlantScope and filters on it in SQL.

Three groups:
- inputs of the risk-signal rules and of a recommendation's enrichment (failure history,
  sensor trends, supply position, spare parts, production orders, purchase orders);
- the governance tables: action queue, recommendation detail, decision history, outbox,
  policies, audit log;
- decision KPIs (latency, adoption, overrides; formulas in `data_access.kpis`).

Every function returns a DataFrame (or a dict for one recommendation) whose columns its
docstring lists. Timestamps come back as timezone-aware UTC (SQLite hands back naive UTC).
This module imports nothing of `governance`: role names arrive as plain strings.
"""

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Text, and_, cast, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access import stock as stock_position
from data_access.frames import read_frame
from data_access.schema import (
    asset, asset_health_daily, audit_log, decision, demand_daily, downtime_event, inventory_snapshot, line, material, outbox, plant,
    plant_material, plant_policy, production_daily, production_order, purchase_order,
    recommendation, supplier, work_order,
)
from data_access.scope import PlantScope

OPEN_STATES = ("open", "escalated")
"""States in which a recommendation still waits for a decision."""
FINAL_STATES = ("approved", "rejected", "overridden", "expired")
ACTED_STATES = ("approved", "rejected", "overridden")
"""Final states reached by a decision (adoption counts these, if reached before expiry)."""


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def as_utc(value):
    """A timestamp (or Series of them) as timezone-aware UTC; naive values are UTC already."""
    if isinstance(value, pd.Series):
        return pd.to_datetime(value, utc=True, format="ISO8601") if len(value) else value.astype("datetime64[ns, UTC]")
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _utc_columns(frame: pd.DataFrame, *names) -> pd.DataFrame:
    for name in names:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def _date_columns(frame: pd.DataFrame, *names) -> pd.DataFrame:
    """SQLite hands dates back as dates (typed columns) or text (aggregates): make them dates."""
    for name in names:
        frame[name] = [v if v is None or isinstance(v, date) else date.fromisoformat(str(v)[:10])
                       for v in frame[name]]
    return frame


# --- inputs of the risk-signal rules ---------------------------------------------------------

def asset_failure_stats(engine: Engine, scope: PlantScope, window_start: datetime,
                        as_of: datetime) -> pd.DataFrame:
    """Failure history of every asset in scope up to `as_of`.

    Columns: asset_id, plant_id, line_id, line_name, asset_class, criticality, local_name,
    local_code, failures (failure events starting in window_start..as_of), restoration_s
    (their summed duration), last_failure_end_utc (latest failure ending before as_of, any
    time; NaT if none), last_pm_utc (latest preventive work order completed before as_of;
    NaT if none), observed_since_utc (the plant's first downtime event in the window: how far
    back its history reaches; NaT without any).
    """
    a, d, w = asset.c, downtime_event.c, work_order.c
    window_start, as_of = as_utc(window_start), as_utc(as_of)
    failures = (select(d.asset_id, func.count().label("failures"), func.sum(d.duration_s).label("restoration_s"))
                .where(d.is_failure.is_(True), d.start_utc >= window_start, d.start_utc < as_of,
                       scope.clause(d.plant_id))
                .group_by(d.asset_id).subquery())
    last_failure = (select(d.asset_id, func.max(d.end_utc).label("last_failure_end_utc"))
                    .where(d.is_failure.is_(True), d.end_utc < as_of, scope.clause(d.plant_id))
                    .group_by(d.asset_id).subquery())
    observed = (select(d.plant_id, func.min(d.start_utc).label("observed_since_utc"))
                .where(d.start_utc >= window_start, d.start_utc < as_of, scope.clause(d.plant_id))
                .group_by(d.plant_id).subquery())
    last_pm = (select(w.asset_id, func.max(w.completed_utc).label("last_pm_utc"))
               .where(w.wo_type == "preventive", w.completed_utc < as_of, scope.clause(w.plant_id))
               .group_by(w.asset_id).subquery())
    frame = _read(engine, select(
        a.asset_id, a.plant_id, a.line_id, line.c.name.label("line_name"), a.asset_class, a.criticality,
        a.local_name, a.local_code,
        func.coalesce(failures.c.failures, 0).label("failures"),
        func.coalesce(failures.c.restoration_s, 0.0).label("restoration_s"),
        last_failure.c.last_failure_end_utc, last_pm.c.last_pm_utc, observed.c.observed_since_utc,
    ).join_from(asset, line, a.line_id == line.c.line_id)
        .outerjoin(observed, observed.c.plant_id == a.plant_id)
        .outerjoin(failures, failures.c.asset_id == a.asset_id)
        .outerjoin(last_failure, last_failure.c.asset_id == a.asset_id)
        .outerjoin(last_pm, last_pm.c.asset_id == a.asset_id)
        .where(scope.clause(a.plant_id)).order_by(a.asset_id))
    return _utc_columns(frame, "last_failure_end_utc", "last_pm_utc", "observed_since_utc")


def asset_health(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Daily sensor readings of the assets in scope, plant-local days start..end.

    Columns: asset_id, plant_id, day, vibration_mm_s, temperature_c (NaN where not measured).
    Plants without sensors have no rows.
    """
    h = asset_health_daily.c
    frame = _read(engine, select(h.asset_id, h.plant_id, h.day, h.vibration_mm_s, h.temperature_c)
                  .where(scope.clause(h.plant_id), h.day.between(start, end)).order_by(h.asset_id, h.day))
    return _date_columns(frame, "day")


def _latest_stock(scope: PlantScope, as_of_day: date):
    """Subquery: on hand per plant and material at the newest snapshot on or before as_of_day."""
    i = inventory_snapshot.c
    newest = (select(i.plant_id, i.material_id, func.max(i.day).label("day"))
              .where(i.day <= as_of_day, scope.clause(i.plant_id))
              .group_by(i.plant_id, i.material_id).subquery())
    return (select(i.plant_id, i.material_id, i.day.label("snapshot_day"), i.on_hand)
            .join_from(inventory_snapshot, newest, and_(
                i.plant_id == newest.c.plant_id, i.material_id == newest.c.material_id, i.day == newest.c.day))
            .subquery())


def supply_position(engine: Engine, scope: PlantScope, as_of_day: date, demand_days: int) -> pd.DataFrame:
    """Stock, consumption and open orders of every material a plant in scope stocks.

    Columns: plant_id, material_id, name, material_type, unit, unit_cost, asset_class,
    supplier_id, lead_time_days, safety_stock, reorder_point, on_hand (on as_of_day: the newest
    snapshot on or before it rolled forward by the receipts and consumption after it,
    `data_access.stock`; NaN without one), snapshot_day, counted_on_hand,
    received_after_count, consumed_after_count, demand_qty (consumption over the
    `demand_days` days ending as_of_day), open_po_qty (open purchase orders), open_pos,
    last_received_day (newest purchase order received on or before as_of_day; None if none).
    Finished goods are left out (they are made, not bought).
    """
    pm, m, dd, po = plant_material.c, material.c, demand_daily.c, purchase_order.c
    stock = _latest_stock(scope, as_of_day)
    first = as_of_day - timedelta(days=demand_days - 1)
    demand = (select(dd.plant_id, dd.material_id, func.sum(dd.qty).label("demand_qty"))
              .where(dd.day.between(first, as_of_day), scope.clause(dd.plant_id))
              .group_by(dd.plant_id, dd.material_id).subquery())
    open_po = (select(po.plant_id, po.material_id, func.sum(po.qty).label("open_po_qty"),
                      func.count().label("open_pos"))
               .where(po.status == "open", scope.clause(po.plant_id))
               .group_by(po.plant_id, po.material_id).subquery())
    received = (select(po.plant_id, po.material_id, func.max(po.received_day).label("last_received_day"))
                .where(po.status == "received", po.received_day <= as_of_day, scope.clause(po.plant_id))
                .group_by(po.plant_id, po.material_id).subquery())
    frame = _read(engine, select(
        pm.plant_id, pm.material_id, m.name, m.material_type, m.unit, m.unit_cost, m.asset_class,
        pm.supplier_id, pm.lead_time_days, pm.safety_stock, pm.reorder_point,
        stock.c.on_hand, stock.c.snapshot_day,
        func.coalesce(demand.c.demand_qty, 0.0).label("demand_qty"),
        func.coalesce(open_po.c.open_po_qty, 0.0).label("open_po_qty"),
        func.coalesce(open_po.c.open_pos, 0).label("open_pos"), received.c.last_received_day,
    ).join_from(plant_material, material, pm.material_id == m.material_id)
        .outerjoin(stock, and_(stock.c.plant_id == pm.plant_id, stock.c.material_id == pm.material_id))
        .outerjoin(demand, and_(demand.c.plant_id == pm.plant_id, demand.c.material_id == pm.material_id))
        .outerjoin(open_po, and_(open_po.c.plant_id == pm.plant_id, open_po.c.material_id == pm.material_id))
        .outerjoin(received, and_(received.c.plant_id == pm.plant_id, received.c.material_id == pm.material_id))
        .where(scope.clause(pm.plant_id), m.material_type != "finished")
        .order_by(pm.plant_id, pm.material_id))
    return stock_position.positions(engine, scope, _date_columns(frame, "snapshot_day", "last_received_day"), as_of_day)


def line_quality(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Produced and good quantity per line and plant-local day, start..end.

    Columns: line_id, plant_id, line_name, day, produced_qty, good_qty.
    """
    p = production_daily.c
    frame = _read(engine, select(p.line_id, p.plant_id, line.c.name.label("line_name"), p.day,
                                 p.produced_qty, p.good_qty)
                  .join_from(production_daily, line, p.line_id == line.c.line_id)
                  .where(scope.clause(p.plant_id), p.day.between(start, end)).order_by(p.line_id, p.day))
    return _date_columns(frame, "day")


# --- enrichment of one recommendation ---------------------------------------------------------

def spare_parts(engine: Engine, scope: PlantScope, asset_class: str, as_of_day: date) -> pd.DataFrame:
    """Spare parts fitting `asset_class` at every plant in scope that stocks them (a plant-material
    row, or a stock count).

    Columns: plant_id, plant_name, material_id, name, unit_cost, on_hand (on as_of_day: the
    newest snapshot on or before it rolled forward, `data_access.stock`; 0 without one),
    snapshot_day, lead_time_days, reorder_point.
    """
    pm, m, i = plant_material.c, material.c, inventory_snapshot.c
    stock = _latest_stock(scope, as_of_day)
    parts = select(m.material_id).where(m.material_type == "spare_part", m.asset_class == asset_class)
    keys = (select(pm.plant_id, pm.material_id).where(scope.clause(pm.plant_id), pm.material_id.in_(parts))
            .union(select(i.plant_id, i.material_id).where(scope.clause(i.plant_id), i.day <= as_of_day,
                                                          i.material_id.in_(parts)))
            .subquery())
    frame = _read(engine, select(
        keys.c.plant_id, plant.c.name.label("plant_name"), keys.c.material_id, m.name, m.unit_cost,
        func.coalesce(stock.c.on_hand, 0.0).label("on_hand"), stock.c.snapshot_day,
        pm.lead_time_days, pm.reorder_point,
    ).join_from(keys, material, keys.c.material_id == m.material_id)
        .join(plant, plant.c.plant_id == keys.c.plant_id)
        .outerjoin(plant_material, and_(pm.plant_id == keys.c.plant_id, pm.material_id == keys.c.material_id))
        .outerjoin(stock, and_(stock.c.plant_id == keys.c.plant_id, stock.c.material_id == keys.c.material_id))
        .order_by(keys.c.plant_id, keys.c.material_id))
    frame = stock_position.positions(engine, scope, _date_columns(frame, "snapshot_day"), as_of_day)
    return frame.drop(columns=["counted_on_hand", "received_after_count", "consumed_after_count"])


def orders_on_line(engine: Engine, scope: PlantScope, line_id: str, start_utc: datetime,
                   end_utc: datetime, statuses=("planned", "released")) -> pd.DataFrame:
    """Production orders of a line whose planned run overlaps start_utc..end_utc.

    Columns: order_id, plant_id, line_id, product_id, product_name, qty, produced_qty,
    status, planned_start_utc, planned_end_utc, due_utc, actual_end_utc.
    """
    o = production_order.c
    frame = _read(engine, select(
        o.order_id, o.plant_id, o.line_id, o.product_id, material.c.name.label("product_name"), o.qty,
        o.produced_qty, o.status, o.planned_start_utc, o.planned_end_utc, o.due_utc, o.actual_end_utc,
    ).join_from(production_order, material, o.product_id == material.c.material_id)
        .where(scope.clause(o.plant_id), o.line_id == line_id, o.status.in_(list(statuses)),
               o.planned_start_utc < as_utc(end_utc), o.planned_end_utc > as_utc(start_utc))
        .order_by(o.planned_start_utc, o.order_id))
    return _utc_columns(frame, "planned_start_utc", "planned_end_utc", "due_utc", "actual_end_utc")


def open_purchase_orders(engine: Engine, scope: PlantScope, plant_id: str | None = None,
                         material_id: str | None = None) -> pd.DataFrame:
    """Open purchase orders in scope, optionally of one plant and/or one material.

    Columns: po_id, plant_id, material_id, supplier_id, supplier_name, qty, ordered_day,
    promised_day.
    """
    po = purchase_order.c
    stmt = (select(po.po_id, po.plant_id, po.material_id, po.supplier_id, supplier.c.name.label("supplier_name"),
                   po.qty, po.ordered_day, po.promised_day)
            .join_from(purchase_order, supplier, po.supplier_id == supplier.c.supplier_id)
            .where(scope.clause(po.plant_id), po.status == "open")
            .order_by(po.plant_id, po.material_id, po.promised_day, po.po_id))
    if plant_id is not None:
        stmt = stmt.where(po.plant_id == plant_id)
    if material_id is not None:
        stmt = stmt.where(po.material_id == material_id)
    return _date_columns(_read(engine, stmt), "ordered_day", "promised_day")


def supplier_record(engine: Engine, scope: PlantScope, material_id: str, tolerance_days: int | None = None
                    ) -> pd.DataFrame:
    """Every supplier that delivered `material_id` to a plant in scope, with its delivery record.

    Columns: supplier_id, supplier_name, country, received (purchase orders received),
    on_time (received by promised day + tolerance), on_time_rate (NaN if none received),
    mean_delay_days (received minus ordered day).
    """
    po = purchase_order.c
    tolerance = kpis.DELIVERY_TOLERANCE_DAYS if tolerance_days is None else tolerance_days
    frame = _read(engine, select(po.supplier_id, supplier.c.name.label("supplier_name"), supplier.c.country,
                                 po.ordered_day, po.promised_day, po.received_day)
                  .join_from(purchase_order, supplier, po.supplier_id == supplier.c.supplier_id)
                  .where(scope.clause(po.plant_id), po.material_id == material_id, po.status == "received"))
    columns = ["supplier_id", "supplier_name", "country", "received", "on_time", "on_time_rate", "mean_delay_days"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = _date_columns(frame, "ordered_day", "promised_day", "received_day")
    late = [(r - p).days for r, p in zip(frame["received_day"], frame["promised_day"])]
    frame["on_time"] = [d <= tolerance for d in late]
    frame["delay"] = [(r - o).days for r, o in zip(frame["received_day"], frame["ordered_day"])]
    out = frame.groupby(["supplier_id", "supplier_name", "country"], as_index=False).agg(
        received=("on_time", "size"), on_time=("on_time", "sum"), mean_delay_days=("delay", "mean"))
    out["on_time_rate"] = kpis.supplier_on_time(out["on_time"], out["received"])
    return out[columns].sort_values(["on_time_rate", "received"], ascending=False, ignore_index=True)


# --- the approval round (one definition, used by the workflow and the queue) ----------------

def approval_round(decisions: list[dict]) -> list[dict]:
    """The approvals and overrides of the current round, oldest first: those since the latest
    override (an override starts a new round, earlier approvals were for something else)."""
    signing = [d for d in decisions if d["action"] in ("approve", "override")]
    starts = [i for i, d in enumerate(signing) if d["action"] == "override"]
    return signing[starts[-1]:] if starts else signing


def missing_approvals(approvers: list[str], signed: list[dict]) -> list[str]:
    """Approver roles (a multiset: a role listed twice needs two people) not yet signed for."""
    need = Counter(approvers)
    need.subtract(Counter(d["role"] for d in signed))
    return sorted(need.elements())


# --- governance tables ---------------------------------------------------------------------------

_R = recommendation.c
_QUEUE_COLUMNS = [
    "rec_id", "plant_id", "plant_name", "kind", "subject_id", "title", "risk", "source", "estimated_cost",
    "state", "version", "created_utc", "sla_due_utc", "expires_utc", "decided_utc", "approvers",
    "escalate_to", "signed_by", "still_needed", "waiting_for_you",
]


def _decisions_of(conn, rec_ids) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    ids = sorted(set(int(i) for i in rec_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = conn.execute(select(decision.c.rec_id, decision.c.username, decision.c.role, decision.c.action,
                                   decision.c.rec_version)
                            .where(decision.c.rec_id.in_(chunk)).order_by(decision.c.decision_id)).mappings()
        for row in rows:
            out.setdefault(row["rec_id"], []).append(dict(row))
    return out


def recommendations(engine: Engine, scope: PlantScope, roles=(), states=None, kinds=None,
                    start_utc: datetime | None = None, end_utc: datetime | None = None,
                    limit: int = 2000) -> pd.DataFrame:
    """Recommendations in scope (newest first), with where their approval stands.

    Filters: states and kinds (None: all), raised in start_utc..end_utc. `roles` are the
    reading user's role names: `waiting_for_you` is True where one of them may act now (a
    still-needed approver role, or an escalation role once escalated).
    Columns: rec_id, plant_id, plant_name, kind, subject_id, title, risk, source,
    estimated_cost, state, version, created_utc, sla_due_utc, expires_utc, decided_utc,
    approvers (text), escalate_to (text), signed_by (text: who approved in this round),
    still_needed (text), waiting_for_you (bool).
    """
    stmt = (select(_R.rec_id, _R.plant_id, plant.c.name.label("plant_name"), _R.kind, _R.subject_id, _R.title,
                   _R.risk, _R.source, _R.estimated_cost, _R.state, _R.version, _R.created_utc, _R.sla_due_utc,
                   _R.expires_utc, _R.decided_utc, _R.routing)
            .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
            .where(scope.clause(_R.plant_id)).order_by(_R.created_utc.desc(), _R.rec_id.desc()).limit(limit))
    if states:
        stmt = stmt.where(_R.state.in_(list(states)))
    if kinds:
        stmt = stmt.where(_R.kind.in_(list(kinds)))
    if start_utc is not None:
        stmt = stmt.where(_R.created_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(_R.created_utc < as_utc(end_utc))
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
        history = _decisions_of(conn, frame["rec_id"]) if not frame.empty else {}
    roles = set(roles)
    approvers, escalate, signed_by, needed, waiting = [], [], [], [], []
    for row in frame.itertuples(index=False):
        routing = row.routing or {}
        signed = approval_round(history.get(row.rec_id, []))
        missing = missing_approvals(routing.get("approvers", []), signed)
        approvers.append(", ".join(routing.get("approvers", [])))
        escalate.append(", ".join(routing.get("escalate_to", [])))
        signed_by.append(", ".join(f"{d['username']} ({d['role']})" for d in signed))
        needed.append(", ".join(missing) if row.state in OPEN_STATES else "")
        waiting.append(row.state in OPEN_STATES and bool(
            roles & set(missing) or (row.state == "escalated" and roles & set(routing.get("escalate_to", [])))))
    frame = frame.drop(columns="routing").assign(approvers=approvers, escalate_to=escalate, signed_by=signed_by,
                                                 still_needed=needed, waiting_for_you=waiting)
    frame = _utc_columns(frame, "created_utc", "sla_due_utc", "expires_utc", "decided_utc")
    frame["waiting_for_you"] = frame["waiting_for_you"].astype(bool)
    return frame[_QUEUE_COLUMNS]


def action_queue(engine: Engine, scope: PlantScope, roles, kinds=None, only_mine: bool = False) -> pd.DataFrame:
    """Recommendations waiting for a decision (open or escalated) in scope, oldest SLA first.

    Columns: those of `recommendations`. `only_mine` keeps the rows waiting for `roles`.
    """
    frame = recommendations(engine, scope, roles=roles, states=OPEN_STATES, kinds=kinds, limit=5000)
    if only_mine:
        frame = frame.loc[frame["waiting_for_you"].astype(bool)]
    return frame.sort_values(["sla_due_utc", "rec_id"], na_position="last", ignore_index=True)


def recommendation_detail(engine: Engine, scope: PlantScope, rec_id: int) -> dict | None:
    """One recommendation, or None when it does not exist or is outside the scope (same answer).

    Keys: every recommendation column (evidence and routing as dicts), plant_name,
    plant_currency, decisions (DataFrame: decision_id, username, role, action, reason,
    override_value (JSON text), decided_utc, rec_version), outbox (dict or None), and in
    the evidence, spare parts of plants outside the scope are summed into one row
    ("other plants, outside your scope") instead of being named.
    """
    with engine.connect() as conn:
        row = conn.execute(select(recommendation, plant.c.name.label("plant_name"),
                                  plant.c.currency.label("plant_currency"))
                           .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
                           .where(_R.rec_id == rec_id, scope.clause(_R.plant_id))).mappings().first()
        if row is None:
            return None
        history = read_frame(conn, select(decision.c.decision_id, decision.c.username, decision.c.role,
                                          decision.c.action, decision.c.reason, decision.c.override_value,
                                          decision.c.decided_utc, decision.c.rec_version)
                             .where(decision.c.rec_id == rec_id).order_by(decision.c.decision_id))
        sent = conn.execute(select(outbox).where(outbox.c.rec_id == rec_id)).mappings().first()
    detail = dict(row)
    for name in ("created_utc", "expires_utc", "decided_utc", "sla_due_utc"):
        detail[name] = as_utc(detail[name])
    detail["evidence"] = _scoped_evidence(dict(detail["evidence"] or {}), scope, detail["plant_id"])
    detail["routing"] = dict(detail["routing"] or {})
    history["override_value"] = [None if v is None else json.dumps(v, ensure_ascii=False)
                                 for v in history["override_value"]]
    detail["decisions"] = _utc_columns(history, "decided_utc")
    detail["outbox"] = None if sent is None else {**dict(sent), "created_utc": as_utc(sent["created_utc"]),
                                                  "delivered_utc": as_utc(sent["delivered_utc"])}
    return detail


def _scoped_evidence(evidence: dict, scope: PlantScope, own_plant: str) -> dict:
    """Spare parts at plants outside the scope are summed per part, not named."""
    parts = evidence.get("spare_parts")
    if not parts or scope.is_network:
        return evidence
    visible = [p for p in parts if scope.allows(p.get("plant_id")) or p.get("plant_id") == own_plant]
    hidden: dict[str, dict] = {}
    for p in parts:
        if p in visible:
            continue
        agg = hidden.setdefault(p["material_id"], {
            "plant_id": None, "plant_name": "other plants (outside your scope)", "material_id": p["material_id"],
            "name": p.get("name"), "unit_cost": p.get("unit_cost"), "on_hand": 0.0, "snapshot_day": None,
            "lead_time_days": None})
        agg["on_hand"] += float(p.get("on_hand") or 0.0)
    evidence["spare_parts"] = visible + list(hidden.values())
    return evidence


def decision_history(engine: Engine, scope: PlantScope, start_utc: datetime | None = None,
                     end_utc: datetime | None = None, actions=None, limit: int = 5000) -> pd.DataFrame:
    """Decisions on recommendations in scope, newest first.

    Columns: decision_id, decided_utc, rec_id, plant_id, kind, title, username, role, action,
    reason, override_value (JSON text), rec_version.
    """
    d = decision.c
    stmt = (select(d.decision_id, d.decided_utc, d.rec_id, _R.plant_id, _R.kind, _R.title, d.username, d.role,
                   d.action, d.reason, d.override_value, d.rec_version)
            .join_from(decision, recommendation, d.rec_id == _R.rec_id)
            .where(scope.clause(_R.plant_id)).order_by(d.decision_id.desc()).limit(limit))
    if start_utc is not None:
        stmt = stmt.where(d.decided_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(d.decided_utc < as_utc(end_utc))
    if actions:
        stmt = stmt.where(d.action.in_(list(actions)))
    frame = _read(engine, stmt)
    frame["override_value"] = [None if v is None else json.dumps(v, ensure_ascii=False)
                               for v in frame["override_value"]]
    return _utc_columns(frame, "decided_utc")


def outbox_rows(engine: Engine, scope: PlantScope, targets=None, undelivered_only: bool = False) -> pd.DataFrame:
    """Approved requests waiting for (or delivered to) the ERP, CMMS or MES, newest first.

    Columns: outbox_id, created_utc, rec_id, plant_id, target (erp | cmms | mes),
    request_type (work_order_request | purchase_requisition | quality_hold_request |
    reschedule_request), delivered_utc, payload (dict), payload_json (the same as JSON text).
    """
    o = outbox.c
    stmt = (select(o.outbox_id, o.created_utc, o.rec_id, o.plant_id, o.target, o.request_type, o.delivered_utc,
                   o.payload).where(scope.clause(o.plant_id)).order_by(o.outbox_id.desc()))
    if targets:
        stmt = stmt.where(o.target.in_(list(targets)))
    if undelivered_only:
        stmt = stmt.where(o.delivered_utc.is_(None))
    frame = _read(engine, stmt)
    frame["payload_json"] = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in frame["payload"]]
    return _utc_columns(frame, "created_utc", "delivered_utc")


def policy_rows(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Stored policy values: the enterprise rows (plant_id None) and the plants' rows in scope.

    Columns: plant_id, key, value, updated_utc, updated_by.
    """
    p = plant_policy.c
    frame = _read(engine, select(p.plant_id, p.key, p.value, p.updated_utc, p.updated_by)
                  .where(or_(p.plant_id.is_(None), scope.clause(p.plant_id))).order_by(p.plant_id, p.key))
    return _utc_columns(frame, "updated_utc")


def _like_patterns(text_value: str) -> list[str]:
    """LIKE patterns (lower case, % and _ literal) for a search: the text as typed and in a few
    case variants, raw (for plain columns) and JSON-escaped (the detail is stored with non-ASCII
    characters escaped, and SQLite's lower() folds ASCII only)."""
    variants = {text_value, text_value.lower(), text_value.upper(), text_value.capitalize(), text_value.title()}
    def ascii_lower(value: str) -> str:
        return "".join(ch.lower() if ch.isascii() else ch for ch in value)

    forms = set()
    for variant in variants:
        forms.update({variant.lower(), ascii_lower(variant), ascii_lower(json.dumps(variant)[1:-1])})
    return sorted("%" + f.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for f in forms)


def audit_rows(engine: Engine, scope: PlantScope, start_utc: datetime | None = None,
               end_utc: datetime | None = None, actors=None, actions=None, search: str | None = None,
               limit: int = 5000) -> pd.DataFrame:
    """Audit rows the scope may see, newest first: every row for a network-wide scope, else
    the rows of the scope's plants (rows without a plant, such as enterprise policy changes
    and login failures, are for network-wide roles).

    `search` matches, case-insensitively, the actor, action, entity id or any text of the
    detail. Columns: seq, at_utc, actor, action, plant_id, entity, entity_id, detail (JSON
    text), prev_hash, row_hash.
    """
    a = audit_log.c
    stmt = (select(a.seq, a.at_utc, a.actor, a.action, a.plant_id, a.entity, a.entity_id,
                   type_coerce(a.detail, Text).label("detail"), a.prev_hash, a.row_hash)
            .order_by(a.seq.desc()).limit(limit))
    if not scope.is_network:
        stmt = stmt.where(scope.clause(a.plant_id))
    if start_utc is not None:
        stmt = stmt.where(a.at_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(a.at_utc < as_utc(end_utc))
    if actors:
        stmt = stmt.where(a.actor.in_(list(actors)))
    if actions:
        stmt = stmt.where(a.action.in_(list(actions)))
    if search and search.strip():
        columns = (a.actor, a.action, func.coalesce(a.entity_id, ""), cast(a.detail, Text))
        stmt = stmt.where(or_(*(func.lower(col).like(pattern, escape="\\")
                                for pattern in _like_patterns(search.strip()) for col in columns)))
    frame = _read(engine, stmt)
    frame["detail"] = [_compact_json(v) for v in frame["detail"]]
    return _utc_columns(frame, "at_utc")


def _compact_json(value) -> str:
    try:
        return json.dumps(json.loads(value) if isinstance(value, str) else value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def audit_facets(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """The actors and actions present in the scope's audit rows, for filter choices.

    Columns: facet (actor | action), value, rows.
    """
    a = audit_log.c
    where = [] if scope.is_network else [scope.clause(a.plant_id)]
    frames = []
    for name, col in (("actor", a.actor), ("action", a.action)):
        frames.append(_read(engine, select(literal(name).label("facet"), col.label("value"),
                                           func.count().label("rows")).where(*where).group_by(col).order_by(col)))
    return pd.concat(frames, ignore_index=True)


# --- decision KPIs ------------------------------------------------------------------------------

def decision_facts(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """One row per recommendation raised on plant-local days start..end in scope: the facts
    the decision KPIs are computed from (formulas in data_access.kpis).

    Columns: rec_id, plant_id, kind, state, created_utc, decided_utc, expires_utc,
    final_by (who took the final decision; 'system' when automatic), auto (decided by the
    system), latency_h (raised to a person's final decision; NaN otherwise), acted_before_expiry
    (a person approved, rejected or overrode it before its expiry), closed (its outcome is
    known: acted on, auto-approved or expired), overridden (bool).
    """
    d = decision.c
    final = (select(d.rec_id, d.username.label("final_by"), d.rec_version)
             .where(d.action.in_(["approve", "reject", "override"])).subquery())
    # widen by a day on either side, then cut on the plant-local day of created_utc
    stmt = (select(_R.rec_id, _R.plant_id, plant.c.timezone, _R.kind, _R.state, _R.created_utc, _R.decided_utc,
                   _R.expires_utc, final.c.final_by)
            .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
            .outerjoin(final, and_(final.c.rec_id == _R.rec_id, final.c.rec_version == _R.version - 1))
            .where(scope.clause(_R.plant_id),
                   _R.created_utc >= datetime.combine(start - timedelta(days=1), datetime.min.time(), timezone.utc),
                   _R.created_utc < datetime.combine(end + timedelta(days=2), datetime.min.time(), timezone.utc))
            .order_by(_R.rec_id))
    frame = _utc_columns(_read(engine, stmt), "created_utc", "decided_utc", "expires_utc")
    if not frame.empty:
        local_day = [ts.tz_convert(tz).date() for ts, tz in zip(frame["created_utc"], frame["timezone"])]
        frame = frame[[start <= day <= end for day in local_day]].reset_index(drop=True)
    frame = frame.drop(columns="timezone")
    acted = frame["state"].isin(ACTED_STATES)
    frame["auto"] = acted & (frame["final_by"] == "system")
    human = acted & ~frame["auto"]
    latency = (frame["decided_utc"] - frame["created_utc"]).dt.total_seconds() / 3600.0
    frame["latency_h"] = latency.where(human)
    frame["acted_before_expiry"] = human & (frame["expires_utc"].isna() | (frame["decided_utc"] <= frame["expires_utc"]))
    frame["closed"] = (human | (frame["state"] == "expired")) & ~frame["auto"]
    frame["overridden"] = frame["state"] == "overridden"
    return frame


DECISION_KPI_COLUMNS = ["recommendations", "pending", "auto_approved", "decided", "approved", "rejected",
                        "overridden", "expired", "latency_median_h", "latency_p90_h", "adoption"]


def decision_kpis(engine: Engine, scope: PlantScope, start: date, end: date, by=("plant_id", "kind")) -> pd.DataFrame:
    """Decision KPIs of the recommendations raised on plant-local days start..end, per group.

    `by`: any of plant_id, kind (empty: one row for the whole scope). Columns: the `by`
    columns, then recommendations, pending (still open or escalated), auto_approved, decided
    (by a person), approved, rejected, overridden, expired, latency_median_h, latency_p90_h
    (kpis.decision_latency_hours), adoption (kpis.adoption). Latencies are computed from each
    group's own recommendations, never averaged.
    """
    facts = decision_facts(engine, scope, start, end)
    by = list(by)
    groups = facts.groupby(by, sort=True) if by else [((), facts)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        median, p90 = kpis.decision_latency_hours(g["latency_h"])
        rows.append({
            **dict(zip(by, key)), "recommendations": len(g),
            "pending": int(g["state"].isin(OPEN_STATES).sum()), "auto_approved": int(g["auto"].sum()),
            "decided": int(g["latency_h"].notna().sum()),
            "approved": int(((g["state"] == "approved") & ~g["auto"]).sum()),
            "rejected": int((g["state"] == "rejected").sum()), "overridden": int(g["overridden"].sum()),
            "expired": int((g["state"] == "expired").sum()), "latency_median_h": median, "latency_p90_h": p90,
            "adoption": kpis.adoption(int(g["acted_before_expiry"].sum()), int(g["closed"].sum())),
        })
    if not rows and not by:
        median, p90 = kpis.decision_latency_hours([])
        rows.append({"recommendations": 0, "pending": 0, "auto_approved": 0, "decided": 0, "approved": 0,
                     "rejected": 0, "overridden": 0, "expired": 0, "latency_median_h": median,
                     "latency_p90_h": p90, "adoption": float("nan")})
    return pd.DataFrame(rows, columns=by + DECISION_KPI_COLUMNS)


def overview_decision_kpis(engine: Engine, scope: PlantScope, start: date, end: date) -> tuple[pd.Series, pd.DataFrame]:
    """For the network overview: (the scope's decision KPIs as one Series, the same per plant).

    Both carry the DECISION_KPI_COLUMNS (see `decision_kpis`); the per-plant frame adds
    plant_id and plant name (`name`), one row per plant in scope (zeros and NaN where a
    plant raised nothing).
    """
    network = decision_kpis(engine, scope, start, end, by=()).iloc[0]
    per_plant = decision_kpis(engine, scope, start, end, by=("plant_id",))
    names = _read(engine, select(plant.c.plant_id, plant.c.name).where(scope.clause(plant.c.plant_id))
                  .order_by(plant.c.plant_id))
    per_plant = names.merge(per_plant, on="plant_id", how="left")
    counts = [c for c in DECISION_KPI_COLUMNS if c not in ("latency_median_h", "latency_p90_h", "adoption")]
    per_plant[counts] = per_plant[counts].astype(float).fillna(0).astype(int)
    return network, per_plant


def overrides(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Overrides of recommendations raised on plant-local days start..end: who, why, what.

    Columns: rec_id, plant_id, kind, title, username, role, reason, override_value (JSON
    text), decided_utc.
    """
    facts = decision_facts(engine, scope, start, end)
    history = decision_history(engine, scope, actions=["override"], limit=100_000)
    history = history[history["rec_id"].isin(facts["rec_id"])]
    return history[["rec_id", "plant_id", "kind", "title", "username", "role", "reason", "override_value",
                    "decided_utc"]].reset_index(drop=True)
