"""Named reads for the operations pages: downtime & maintenance, inventory & supply, schedule.

Each function takes the user's PlantScope and filters on it in SQL; the optional drill-down
arguments (line_id, asset_id, material_id) narrow the rows further and can never widen them.
Sums run in SQL over the operations marts (schema.py, "operations marts"); the ratios are
divided in `data_access.kpis`. The few reads of raw tables are bounded by design: a
material's latest stock count (a lookback of kpis.STOCK_COUNT_LOOKBACK_DAYS), open orders
and purchase orders (what is still open), and one material's daily history.

Days are plant-local calendar days; timestamps come back as timezone-aware UTC.
`assess_order_risk` (pure pandas) explains what threatens each open production order.
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access import stock as stock_position
from data_access.frames import as_date, read_frame, utc_columns
from data_access.schema import (
    asset,
    bom,
    demand_daily,
    downtime_reason,
    inventory_snapshot,
    mart_delivery_daily,
    mart_downtime_daily,
    mart_line_daily,
    mart_plant_daily,
    mart_work_order_daily,
    material,
    plant_material,
    production_order,
    purchase_order,
    supplier,
)
from data_access.scope import PlantScope

_L = mart_line_daily.c
_D = mart_downtime_daily.c
_W = mart_work_order_daily.c
_V = mart_delivery_daily.c
_A = asset.c

OPEN_ORDER_STATUSES = ("planned", "released")  # neither completed nor cancelled


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def _keys(column, by, allowed):
    """The columns to group by: `column(name)` for each name of `by`, all of them allowed."""
    unknown = set(by) - set(allowed)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}; allowed: {sorted(allowed)}")
    return [column(name) for name in by]


def _of(columns):
    return lambda name: getattr(columns, name)


# --- readiness ----------------------------------------------------------------------------


def marts_ready(engine: Engine, scope: PlantScope) -> bool:
    """False when the scope has plant-day mart rows but no line-day mart rows: the operations
    marts of this warehouse were never built (a warehouse older than migration 0003)."""
    with engine.connect() as conn:
        has_plant_rows = (
            conn.execute(
                select(mart_plant_daily.c.plant_id).where(scope.clause(mart_plant_daily.c.plant_id)).limit(1)
            ).first()
            is not None
        )
        has_line_rows = conn.execute(select(_L.plant_id).where(scope.clause(_L.plant_id)).limit(1)).first() is not None
    return has_line_rows or not has_plant_rows


# --- lines: production, downtime and schedule per line-day ---------------------------------

LINE_GROUPS = ("plant_id", "line_id", "week_start", "month_start")


def line_components(
    engine: Engine, scope: PlantScope, start: date, end: date, by=("plant_id",), line_id: str | None = None
) -> pd.DataFrame:
    """KPI components from mart_line_daily summed over the plant-local days start..end.

    `by`: any of plant_id, line_id, week_start, month_start (empty: one row for the scope).
    Columns: the `by` keys, line_days (line-day rows summed), then every name in
    kpis.LINE_COMPONENTS. Groups without a row in the window are absent.
    """
    keys = _keys(_of(_L), by, LINE_GROUPS)
    where = [scope.clause(_L.plant_id), _L.day.between(start, end)]
    if line_id is not None:
        where.append(_L.line_id == line_id)
    stmt = select(
        *keys,
        func.count().label("line_days"),
        *[func.coalesce(func.sum(getattr(_L, c)), 0).label(c) for c in kpis.LINE_COMPONENTS],
    ).where(*where)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    frame = _read(engine, stmt)
    if not keys and not frame.empty and frame["line_days"].iloc[0] == 0:
        return frame.iloc[0:0]
    return frame


# --- downtime per asset, reason and day ----------------------------------------------------

DOWNTIME_GROUPS = (
    "plant_id",
    "line_id",
    "asset_id",
    "asset_class",
    "reason_code",
    "category",
    "is_failure",
    "local_reason",
    "week_start",
    "month_start",
)


def downtime_breakdown(
    engine: Engine,
    scope: PlantScope,
    start: date,
    end: date,
    by,
    line_id: str | None = None,
    asset_id: str | None = None,
) -> pd.DataFrame:
    """Downtime from mart_downtime_daily summed per group over the plant-local days start..end.

    `by`: any of plant_id, line_id, asset_id, asset_class, reason_code, category, is_failure,
    local_reason, week_start, month_start.
    Columns: the `by` keys, events, failures (events whose category is a failure),
    downtime_s (all events), unplanned_s (failures), planned_s (category `planned`).
    """

    def column(name):
        return _A.asset_class if name == "asset_class" else getattr(_D, name)

    keys = _keys(column, by, DOWNTIME_GROUPS)
    where = [scope.clause(_D.plant_id), _D.day.between(start, end)]
    if line_id is not None:
        where.append(_D.line_id == line_id)
    if asset_id is not None:
        where.append(_D.asset_id == asset_id)
    stmt = select(
        *keys,
        func.sum(_D.events).label("events"),
        func.sum(case((_D.is_failure, _D.events), else_=0)).label("failures"),
        func.sum(_D.duration_s).label("downtime_s"),
        func.sum(case((_D.is_failure, _D.duration_s), else_=0.0)).label("unplanned_s"),
        func.sum(case((_D.category == "planned", _D.duration_s), else_=0.0)).label("planned_s"),
    ).where(*where)
    if "asset_class" in by:
        stmt = stmt.select_from(mart_downtime_daily.join(asset, _A.asset_id == _D.asset_id))
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    frame = _read(engine, stmt)
    frame[["events", "failures"]] = frame[["events", "failures"]].astype(float).fillna(0).astype(int)
    if "is_failure" in frame:
        frame["is_failure"] = frame["is_failure"].astype(bool)
    return frame[frame["events"] > 0].reset_index(drop=True) if not keys else frame


def downtime_reasons(engine: Engine) -> pd.DataFrame:
    """The canonical downtime reasons (shared by every plant: not plant data).

    Columns: reason_code, category, is_failure, description.
    """
    r = downtime_reason.c
    return _read(engine, select(r.reason_code, r.category, r.is_failure, r.description).order_by(r.reason_code))


ASSET_GROUPS = ("plant_id", "line_id", "asset_id", "asset_class", "week_start", "month_start")


def asset_operating(
    engine: Engine,
    scope: PlantScope,
    start: date,
    end: date,
    by=("asset_id",),
    line_id: str | None = None,
    asset_id: str | None = None,
) -> pd.DataFrame:
    """Operating hours of assets: an asset operates while its line runs, so its operating time
    is its line's run time (mart_line_daily), summed over its assets per group.

    `by`: any of plant_id, line_id, asset_id, asset_class, week_start, month_start.
    Columns: the `by` keys, assets (distinct assets), operating_s.
    """

    def column(name):
        return getattr(_L, name) if name in ("week_start", "month_start") else getattr(_A, name)

    keys = _keys(column, by, ASSET_GROUPS)
    where = [scope.clause(_A.plant_id), scope.clause(_L.plant_id), _L.day.between(start, end)]
    if line_id is not None:
        where.append(_A.line_id == line_id)
    if asset_id is not None:
        where.append(_A.asset_id == asset_id)
    stmt = (
        select(
            *keys,
            func.count(func.distinct(_A.asset_id)).label("assets"),
            func.sum(_L.run_s).label("operating_s"),
        )
        .select_from(asset.join(mart_line_daily, _L.line_id == _A.line_id))
        .where(*where)
    )
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    return _read(engine, stmt)


# --- work orders ---------------------------------------------------------------------------

WORK_ORDER_GROUPS = ("plant_id", "line_id", "asset_id", "wo_type")


def _work_order_where(scope, line_id, asset_id):
    where = [scope.clause(_W.plant_id)]
    if line_id is not None:
        where.append(_W.line_id == line_id)
    if asset_id is not None:
        where.append(_W.asset_id == asset_id)
    return where


def work_order_flow(
    engine: Engine,
    scope: PlantScope,
    start: date,
    end: date,
    by=("plant_id", "wo_type"),
    line_id: str | None = None,
    asset_id: str | None = None,
) -> pd.DataFrame:
    """Work orders created and completed on the plant-local days start..end, per group.

    `by`: any of plant_id, line_id, asset_id, wo_type.
    Columns: the `by` keys, created, completed, close_s (creation to completion of those
    completed, summed).
    """
    keys = _keys(_of(_W), by, WORK_ORDER_GROUPS)
    stmt = select(
        *keys,
        func.sum(_W.created).label("created"),
        func.sum(_W.completed).label("completed"),
        func.sum(_W.close_s).label("close_s"),
    ).where(*_work_order_where(scope, line_id, asset_id), _W.day.between(start, end))
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    return _read(engine, stmt)


def work_order_backlog(
    engine: Engine,
    scope: PlantScope,
    at_day: date,
    by=("plant_id", "wo_type"),
    line_id: str | None = None,
    asset_id: str | None = None,
) -> pd.DataFrame:
    """Work orders open at the end of the plant-local day `at_day`, per group.

    `by`: any of plant_id, line_id, asset_id, wo_type.
    Columns: the `by` keys, created_to_date, completed_to_date, backlog (their difference).
    """
    keys = _keys(_of(_W), by, WORK_ORDER_GROUPS)
    stmt = select(
        *keys,
        func.sum(_W.created).label("created_to_date"),
        func.sum(_W.completed).label("completed_to_date"),
    ).where(*_work_order_where(scope, line_id, asset_id), _W.day <= at_day)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    frame = _read(engine, stmt)
    frame[["created_to_date", "completed_to_date"]] = (
        frame[["created_to_date", "completed_to_date"]].astype(float).fillna(0).astype(int)
    )
    frame["backlog"] = kpis.work_order_backlog(frame["created_to_date"], frame["completed_to_date"])
    return frame


# --- inventory and supply ------------------------------------------------------------------


def material_positions(
    engine: Engine, scope: PlantScope, start: date, end: date, material_id: str | None = None
) -> pd.DataFrame:
    """Every material a plant in scope stocks, with its latest stock count and its demand.

    The count is the newest inventory snapshot on or before `end` within
    kpis.STOCK_COUNT_LOOKBACK_DAYS (weekly-counting plants count on one weekday); older
    counts are unknown. On hand is that count rolled forward to `end` by the receipts and
    consumption after it (`data_access.stock`). Demand is summed over the plant-local days
    start..end; days without demand have no row and count as zero.

    Columns: plant_id, material_id, material_name, material_type, unit, unit_cost,
    asset_class (spare parts), local_code, supplier_id, supplier_name, lead_time_days,
    safety_stock, reorder_point, counted_day (None without a count), on_hand (NaN without
    a count), counted_on_hand, received_after_count, consumed_after_count, demand_qty,
    demand_days (days with demand).
    """
    pm, m, s, snap, d = plant_material.c, material.c, supplier.c, inventory_snapshot.c, demand_daily.c
    narrow = [scope.clause(pm.plant_id)]
    if material_id is not None:
        narrow.append(pm.material_id == material_id)
    stocked = _read(
        engine,
        select(
            pm.plant_id,
            pm.material_id,
            m.name.label("material_name"),
            m.material_type,
            m.unit,
            m.unit_cost,
            m.asset_class,
            pm.local_code,
            pm.supplier_id,
            s.name.label("supplier_name"),
            pm.lead_time_days,
            pm.safety_stock,
            pm.reorder_point,
        )
        .select_from(
            plant_material.join(material, m.material_id == pm.material_id).outerjoin(
                supplier, s.supplier_id == pm.supplier_id
            )
        )
        .where(*narrow)
        .order_by(pm.plant_id, pm.material_id),
    )

    snap_where = [
        scope.clause(snap.plant_id),
        snap.day.between(end - timedelta(days=kpis.STOCK_COUNT_LOOKBACK_DAYS), end),
    ]
    if material_id is not None:
        snap_where.append(snap.material_id == material_id)
    latest = (
        select(snap.plant_id, snap.material_id, func.max(snap.day).label("day"))
        .where(*snap_where)
        .group_by(snap.plant_id, snap.material_id)
        .subquery()
    )
    counts = _read(
        engine,
        select(
            snap.plant_id,
            snap.material_id,
            snap.day.label("counted_day"),
            snap.on_hand,
        ).join_from(
            inventory_snapshot,
            latest,
            and_(
                snap.plant_id == latest.c.plant_id, snap.material_id == latest.c.material_id, snap.day == latest.c.day
            ),
        ),
    )

    demand_where = [scope.clause(d.plant_id), d.day.between(start, end)]
    if material_id is not None:
        demand_where.append(d.material_id == material_id)
    demand = _read(
        engine,
        select(
            d.plant_id,
            d.material_id,
            func.sum(d.qty).label("demand_qty"),
            func.count().label("demand_days"),
        )
        .where(*demand_where)
        .group_by(d.plant_id, d.material_id),
    )

    keys = ["plant_id", "material_id"]
    frame = stocked.merge(counts, on=keys, how="left").merge(demand, on=keys, how="left")
    frame["on_hand"] = frame["on_hand"].astype(float)
    frame["counted_day"] = frame["counted_day"].astype(object).where(frame["counted_day"].notna(), None)
    frame["demand_qty"] = frame["demand_qty"].astype(float).fillna(0.0)
    frame["demand_days"] = frame["demand_days"].astype(float).fillna(0).astype(int)
    frame["lead_time_days"] = frame["lead_time_days"].astype(float)
    return stock_position.positions(engine, scope, frame, end, day_column="counted_day")


def material_history(engine: Engine, scope: PlantScope, start: date, end: date, material_id: str) -> pd.DataFrame:
    """One material's stock counts and demand per plant and plant-local day start..end.

    Columns: plant_id, day, on_hand (NaN on days without a count), demand_qty (0 on days
    without demand). One row per day that has either.
    """
    snap, d = inventory_snapshot.c, demand_daily.c
    counts = _read(
        engine,
        select(snap.plant_id, snap.day, snap.on_hand).where(
            scope.clause(snap.plant_id), snap.material_id == material_id, snap.day.between(start, end)
        ),
    )
    demand = _read(
        engine,
        select(d.plant_id, d.day, d.qty.label("demand_qty")).where(
            scope.clause(d.plant_id), d.material_id == material_id, d.day.between(start, end)
        ),
    )
    frame = counts.merge(demand, on=["plant_id", "day"], how="outer")
    frame["on_hand"] = frame["on_hand"].astype(float)
    frame["demand_qty"] = frame["demand_qty"].astype(float).fillna(0.0)
    return frame.sort_values(["plant_id", "day"], ignore_index=True)


DELIVERY_GROUPS = ("plant_id", "supplier_id", "material_id", "lateness_days")


def deliveries(
    engine: Engine,
    scope: PlantScope,
    start: date,
    end: date,
    by=("plant_id", "supplier_id"),
    material_id: str | None = None,
) -> pd.DataFrame:
    """Purchase orders received on the plant-local days start..end (mart_delivery_daily).

    `by`: any of plant_id, supplier_id, material_id, lateness_days (received - promised,
    whole days; negative is early). Columns: the `by` keys (with supplier_name when grouped
    by supplier_id), received, on_time (by promise + kpis.DELIVERY_TOLERANCE_DAYS),
    lateness_days_sum (sum of lateness over the received orders).
    """
    keys = _keys(_of(_V), by, DELIVERY_GROUPS)
    where = [scope.clause(_V.plant_id), _V.day.between(start, end)]
    if material_id is not None:
        where.append(_V.material_id == material_id)
    extra = [supplier.c.name.label("supplier_name")] if "supplier_id" in by else []
    stmt = select(
        *keys,
        *extra,
        func.sum(_V.received).label("received"),
        func.sum(_V.on_time).label("on_time"),
        func.sum(_V.lateness_days * _V.received).label("lateness_days_sum"),
    ).where(*where)
    if extra:
        stmt = stmt.select_from(mart_delivery_daily.join(supplier, supplier.c.supplier_id == _V.supplier_id))
    if keys:
        stmt = stmt.group_by(*keys, *([supplier.c.name] if extra else [])).order_by(*keys)
    frame = _read(engine, stmt)
    for column in ("received", "on_time", "lateness_days_sum"):
        frame[column] = frame[column].astype(float).fillna(0).astype(int)
    return frame


# --- schedule ------------------------------------------------------------------------------


def _order_columns():
    o, m = production_order.c, material.c
    return [
        o.order_id,
        o.plant_id,
        o.line_id,
        o.product_id,
        m.name.label("product_name"),
        o.qty,
        o.produced_qty,
        o.due_utc,
        o.due_day,
        o.planned_start_utc,
        o.planned_end_utc,
        o.actual_end_utc,
        o.status,
    ]


def _open_where(scope, through_day, line_id):
    o = production_order.c
    where = [
        scope.clause(o.plant_id),
        o.status.in_(OPEN_ORDER_STATUSES),
        or_(o.due_day.is_(None), o.due_day <= through_day),
    ]
    if line_id is not None:
        where.append(o.line_id == line_id)
    return where


def open_orders(engine: Engine, scope: PlantScope, through_day: date, line_id: str | None = None) -> pd.DataFrame:
    """Production orders neither completed nor cancelled that are due up to the plant-local
    day `through_day` (overdue ones included) or have no due date at all.

    Columns: order_id, plant_id, line_id, product_id, product_name, qty, produced_qty,
    due_utc (NaT without a due date), due_day (plant-local; None without), planned_start_utc,
    planned_end_utc, actual_end_utc (NaT), status.
    """
    o, m = production_order.c, material.c
    frame = _read(
        engine,
        select(*_order_columns())
        .join_from(
            production_order,
            material,
            m.material_id == o.product_id,
        )
        .where(*_open_where(scope, through_day, line_id))
        .order_by(o.due_utc, o.order_id),
    )
    return _orders_frame(frame)


def _orders_frame(frame):
    frame = utc_columns(frame, "due_utc", "planned_start_utc", "planned_end_utc", "actual_end_utc")
    frame["due_day"] = frame["due_day"].astype(object).where(frame["due_day"].notna(), None)
    return frame


def order_inputs(engine: Engine, scope: PlantScope, through_day: date, line_id: str | None = None) -> pd.DataFrame:
    """The bill of material of the orders `open_orders` returns: what each one consumes.

    Columns: order_id, plant_id, material_id, qty_per_unit.
    """
    o, b = production_order.c, bom.c
    frame = _read(
        engine,
        select(o.order_id, o.plant_id, b.material_id, b.qty_per_unit)
        .join_from(
            production_order,
            bom,
            b.product_id == o.product_id,
        )
        .where(*_open_where(scope, through_day, line_id)),
    )
    # sorted here: an ORDER BY on the order id makes SQLite walk every order by its key
    return frame.sort_values(["order_id", "material_id"], ignore_index=True)


def open_purchase_orders(engine: Engine, scope: PlantScope, through_day: date) -> pd.DataFrame:
    """Purchase orders still open and promised up to the plant-local day `through_day`
    (overdue promises included: they are expected any day).

    Columns: po_id, plant_id, material_id, supplier_id, qty, promised_day.
    """
    po = purchase_order.c
    return _read(
        engine,
        select(po.po_id, po.plant_id, po.material_id, po.supplier_id, po.qty, po.promised_day)
        .where(scope.clause(po.plant_id), po.status == "open", po.promised_day <= through_day)
        .order_by(po.plant_id, po.promised_day, po.po_id),
    )


def late_orders(engine: Engine, scope: PlantScope, start: date, end: date, line_id: str | None = None) -> pd.DataFrame:
    """Orders due on the plant-local days start..end (not cancelled) that were not on time:
    finished after their due time + kpis.SCHEDULE_TOLERANCE_HOURS, or not finished.

    Columns: those of `open_orders`, then lateness_h (hours after due; NaN if unfinished).
    """
    o, m = production_order.c, material.c
    where = [
        scope.clause(o.plant_id),
        o.due_day.between(start, end),
        o.status != "cancelled",
        or_(o.actual_end_utc.is_(None), o.actual_end_utc > o.due_utc),
    ]
    if line_id is not None:
        where.append(o.line_id == line_id)
    frame = _orders_frame(
        _read(
            engine,
            select(*_order_columns())
            .join_from(
                production_order,
                material,
                m.material_id == o.product_id,
            )
            .where(*where)
            .order_by(o.due_utc, o.order_id),
        )
    )
    on_time = kpis.is_on_time(frame["actual_end_utc"], frame["due_utc"], timedelta(hours=kpis.SCHEDULE_TOLERANCE_HOURS))
    frame = frame[~on_time.to_numpy()].reset_index(drop=True)
    frame["lateness_h"] = kpis.order_lateness_hours(frame["actual_end_utc"], frame["due_utc"]).to_numpy()
    return frame


def assess_order_risk(
    orders: pd.DataFrame,
    inputs: pd.DataFrame,
    stock: pd.DataFrame,
    supply: pd.DataFrame,
    lines: pd.DataFrame,
    window_days: int,
) -> pd.DataFrame:
    """What threatens each open order (pure: frames in, frame out).

    orders: `open_orders`; inputs: `order_inputs`; stock: `material_positions` (plant_id,
    material_id, material_name, unit, on_hand); supply: `open_purchase_orders`; lines:
    `line_components` by plant_id, line_id over the selected window (unplanned_downtime_s,
    failures); window_days: that window's length.

    Line downtime: the failure downtime the order can expect on its line
    (kpis.expected_line_loss_hours over its planned span) exceeds its slack (due - planned end).
    Materials short: in due order per plant, the open orders' remaining needs of a material
    (remaining qty x qty per unit) add up beyond its on hand + open purchase orders promised
    by the order's due day. A material without a recent stock count is named, not judged.
    Orders without a due date are not due: they get no verdict and consume nothing here.

    Adds: slack_h, span_h, line_unplanned_h, line_failures, expected_loss_h, line_threat,
    short_materials, unknown_stock, material_threat, at_risk, threats (one sentence).
    """
    out = orders.copy()
    dated = out["due_utc"].notna()
    out["slack_h"] = (out["due_utc"] - out["planned_end_utc"]).dt.total_seconds() / 3600.0
    out["span_h"] = (out["planned_end_utc"] - out["planned_start_utc"]).dt.total_seconds() / 3600.0
    per_line = lines.set_index(["plant_id", "line_id"]) if not lines.empty else None
    index = pd.MultiIndex.from_frame(out[["plant_id", "line_id"]])
    if per_line is None:
        unplanned_s, failures = np.zeros(len(out)), np.zeros(len(out), dtype=int)
    else:
        unplanned_s = per_line["unplanned_downtime_s"].reindex(index).fillna(0.0).to_numpy()
        failures = per_line["failures"].reindex(index).fillna(0).astype(int).to_numpy()
    out["line_unplanned_h"] = unplanned_s / 3600.0
    out["line_failures"] = failures
    out["expected_loss_h"] = kpis.expected_line_loss_hours(unplanned_s, window_days, out["span_h"].to_numpy())
    out["line_threat"] = (
        dated & (out["expected_loss_h"] > 0) & (out["expected_loss_h"] > out["slack_h"].clip(lower=0))
    ).to_numpy()

    short, unknown = _material_shortages(out[dated], inputs, stock, supply)
    out["short_materials"] = out["order_id"].map(short).fillna("")
    out["unknown_stock"] = out["order_id"].map(unknown).fillna("")
    out["material_threat"] = out["short_materials"] != ""
    out["at_risk"] = out["line_threat"] | out["material_threat"]
    out["threats"] = [_threat_sentence(r) for r in out.itertuples()]
    return out


def _material_shortages(orders, inputs, stock, supply):
    """order_id -> 'Resin (500 kg needed up to this order, 120 kg available by its due day); ...',
    and order_id -> the materials without a recent stock count."""
    if orders.empty or inputs.empty:
        return {}, {}
    needs = inputs.merge(orders[["order_id", "qty", "produced_qty", "due_utc", "due_day"]], on="order_id")
    needs["need"] = (needs["qty"] - needs["produced_qty"]).clip(lower=0) * needs["qty_per_unit"]
    needs = needs.merge(
        stock[["plant_id", "material_id", "material_name", "unit", "on_hand"]],
        on=["plant_id", "material_id"],
        how="left",
    )
    needs = needs.sort_values(["plant_id", "material_id", "due_utc", "order_id"], kind="stable")
    needs["cumulative_need"] = needs.groupby(["plant_id", "material_id"])["need"].cumsum()
    needs["available"] = needs["on_hand"] + _incoming_by(needs, supply)
    needs["name"] = needs["material_name"].where(needs["material_name"].notna(), needs["material_id"])
    unknown = needs[needs["on_hand"].isna()]
    short = needs[needs["on_hand"].notna() & (needs["cumulative_need"] > needs["available"] + 1e-9)]
    short_text = [
        f"{n} ({c:,.0f} {u} needed up to this order, {a:,.0f} {u} available by its due day)"
        for n, c, u, a in zip(short["name"], short["cumulative_need"], short["unit"], short["available"])
    ]
    return (
        pd.Series(short_text, index=short["order_id"], dtype=object).groupby(level=0).agg("; ".join).to_dict(),
        unknown.groupby("order_id")["name"].agg(", ".join).to_dict(),
    )


def _incoming_by(needs, supply) -> np.ndarray:
    """Open purchase-order quantity of each need's plant and material promised by its due day."""
    if supply.empty:
        return np.zeros(len(needs))
    promised = supply.assign(day=pd.to_datetime(supply["promised_day"].map(as_date))).sort_values("day")
    promised["incoming"] = promised.groupby(["plant_id", "material_id"])["qty"].cumsum().astype(float)
    wanted = (
        needs[["plant_id", "material_id"]]
        .assign(day=pd.to_datetime(needs["due_day"].map(as_date)), position=np.arange(len(needs)))
        .sort_values("day")
    )
    matched = pd.merge_asof(
        wanted,
        promised[["plant_id", "material_id", "day", "incoming"]],
        on="day",
        by=["plant_id", "material_id"],
        direction="backward",
    )
    return matched.sort_values("position")["incoming"].fillna(0.0).to_numpy()


def _threat_sentence(row) -> str:
    if pd.isna(row.due_utc):
        return "no due date: not scheduled against a due time"
    parts = []
    if row.line_threat:
        parts.append(
            f"line failures: about {row.expected_loss_h:.1f} h expected during its run "
            f"({row.line_unplanned_h:.1f} h lost in {row.line_failures} failures in the window) "
            f"against {max(row.slack_h, 0):.1f} h slack"
        )
    if row.material_threat:
        parts.append(f"short: {row.short_materials}")
    if row.unknown_stock:
        parts.append(f"no recent stock count: {row.unknown_stock}")
    return "; ".join(parts) if parts else "no threat found"
