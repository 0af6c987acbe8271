"""Named reads the risk-signal rules and a recommendation's enrichment need, within a PlantScope.

Failure history, sensor trends, supply position, line quality; spare parts, production orders
on a line, open purchase orders and a supplier's record. Each returns a DataFrame whose columns
its docstring lists, timestamps as timezone-aware UTC.
"""

from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access import stock as stock_position
from data_access.frames import as_utc, date_columns, read_frame, utc_columns
from data_access.schema import (
    asset,
    asset_health_daily,
    demand_daily,
    downtime_event,
    inventory_snapshot,
    line,
    material,
    plant,
    plant_material,
    production_daily,
    production_order,
    purchase_order,
    supplier,
    work_order,
)
from data_access.scope import PlantScope


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def asset_failure_stats(engine: Engine, scope: PlantScope, window_start: datetime, as_of: datetime) -> pd.DataFrame:
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
    failures = (
        select(d.asset_id, func.count().label("failures"), func.sum(d.duration_s).label("restoration_s"))
        .where(d.is_failure.is_(True), d.start_utc >= window_start, d.start_utc < as_of, scope.clause(d.plant_id))
        .group_by(d.asset_id)
        .subquery()
    )
    last_failure = (
        select(d.asset_id, func.max(d.end_utc).label("last_failure_end_utc"))
        .where(d.is_failure.is_(True), d.end_utc < as_of, scope.clause(d.plant_id))
        .group_by(d.asset_id)
        .subquery()
    )
    observed = (
        select(d.plant_id, func.min(d.start_utc).label("observed_since_utc"))
        .where(d.start_utc >= window_start, d.start_utc < as_of, scope.clause(d.plant_id))
        .group_by(d.plant_id)
        .subquery()
    )
    last_pm = (
        select(w.asset_id, func.max(w.completed_utc).label("last_pm_utc"))
        .where(w.wo_type == "preventive", w.completed_utc < as_of, scope.clause(w.plant_id))
        .group_by(w.asset_id)
        .subquery()
    )
    frame = _read(
        engine,
        select(
            a.asset_id,
            a.plant_id,
            a.line_id,
            line.c.name.label("line_name"),
            a.asset_class,
            a.criticality,
            a.local_name,
            a.local_code,
            func.coalesce(failures.c.failures, 0).label("failures"),
            func.coalesce(failures.c.restoration_s, 0.0).label("restoration_s"),
            last_failure.c.last_failure_end_utc,
            last_pm.c.last_pm_utc,
            observed.c.observed_since_utc,
        )
        .join_from(asset, line, a.line_id == line.c.line_id)
        .outerjoin(observed, observed.c.plant_id == a.plant_id)
        .outerjoin(failures, failures.c.asset_id == a.asset_id)
        .outerjoin(last_failure, last_failure.c.asset_id == a.asset_id)
        .outerjoin(last_pm, last_pm.c.asset_id == a.asset_id)
        .where(scope.clause(a.plant_id))
        .order_by(a.asset_id),
    )
    return utc_columns(frame, "last_failure_end_utc", "last_pm_utc", "observed_since_utc")


def asset_health(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Daily sensor readings of the assets in scope, plant-local days start..end.

    Columns: asset_id, plant_id, day, vibration_mm_s, temperature_c (NaN where not measured).
    Plants without sensors have no rows.
    """
    h = asset_health_daily.c
    frame = _read(
        engine,
        select(h.asset_id, h.plant_id, h.day, h.vibration_mm_s, h.temperature_c)
        .where(scope.clause(h.plant_id), h.day.between(start, end))
        .order_by(h.asset_id, h.day),
    )
    return date_columns(frame, "day")


def _latest_stock(scope: PlantScope, as_of_day: date):
    """Subquery: on hand per plant and material at the newest snapshot on or before as_of_day."""
    i = inventory_snapshot.c
    newest = (
        select(i.plant_id, i.material_id, func.max(i.day).label("day"))
        .where(i.day <= as_of_day, scope.clause(i.plant_id))
        .group_by(i.plant_id, i.material_id)
        .subquery()
    )
    return (
        select(i.plant_id, i.material_id, i.day.label("snapshot_day"), i.on_hand)
        .join_from(
            inventory_snapshot,
            newest,
            and_(i.plant_id == newest.c.plant_id, i.material_id == newest.c.material_id, i.day == newest.c.day),
        )
        .subquery()
    )


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
    demand = (
        select(dd.plant_id, dd.material_id, func.sum(dd.qty).label("demand_qty"))
        .where(dd.day.between(first, as_of_day), scope.clause(dd.plant_id))
        .group_by(dd.plant_id, dd.material_id)
        .subquery()
    )
    open_po = (
        select(po.plant_id, po.material_id, func.sum(po.qty).label("open_po_qty"), func.count().label("open_pos"))
        .where(po.status == "open", scope.clause(po.plant_id))
        .group_by(po.plant_id, po.material_id)
        .subquery()
    )
    received = (
        select(po.plant_id, po.material_id, func.max(po.received_day).label("last_received_day"))
        .where(po.status == "received", po.received_day <= as_of_day, scope.clause(po.plant_id))
        .group_by(po.plant_id, po.material_id)
        .subquery()
    )
    frame = _read(
        engine,
        select(
            pm.plant_id,
            pm.material_id,
            m.name,
            m.material_type,
            m.unit,
            m.unit_cost,
            m.asset_class,
            pm.supplier_id,
            pm.lead_time_days,
            pm.safety_stock,
            pm.reorder_point,
            stock.c.on_hand,
            stock.c.snapshot_day,
            func.coalesce(demand.c.demand_qty, 0.0).label("demand_qty"),
            func.coalesce(open_po.c.open_po_qty, 0.0).label("open_po_qty"),
            func.coalesce(open_po.c.open_pos, 0).label("open_pos"),
            received.c.last_received_day,
        )
        .join_from(plant_material, material, pm.material_id == m.material_id)
        .outerjoin(stock, and_(stock.c.plant_id == pm.plant_id, stock.c.material_id == pm.material_id))
        .outerjoin(demand, and_(demand.c.plant_id == pm.plant_id, demand.c.material_id == pm.material_id))
        .outerjoin(open_po, and_(open_po.c.plant_id == pm.plant_id, open_po.c.material_id == pm.material_id))
        .outerjoin(received, and_(received.c.plant_id == pm.plant_id, received.c.material_id == pm.material_id))
        .where(scope.clause(pm.plant_id), m.material_type != "finished")
        .order_by(pm.plant_id, pm.material_id),
    )
    return stock_position.positions(engine, scope, date_columns(frame, "snapshot_day", "last_received_day"), as_of_day)


def line_quality(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Produced and good quantity per line and plant-local day, start..end.

    Columns: line_id, plant_id, line_name, day, produced_qty, good_qty.
    """
    p = production_daily.c
    frame = _read(
        engine,
        select(p.line_id, p.plant_id, line.c.name.label("line_name"), p.day, p.produced_qty, p.good_qty)
        .join_from(production_daily, line, p.line_id == line.c.line_id)
        .where(scope.clause(p.plant_id), p.day.between(start, end))
        .order_by(p.line_id, p.day),
    )
    return date_columns(frame, "day")


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
    keys = (
        select(pm.plant_id, pm.material_id)
        .where(scope.clause(pm.plant_id), pm.material_id.in_(parts))
        .union(
            select(i.plant_id, i.material_id).where(
                scope.clause(i.plant_id), i.day <= as_of_day, i.material_id.in_(parts)
            )
        )
        .subquery()
    )
    frame = _read(
        engine,
        select(
            keys.c.plant_id,
            plant.c.name.label("plant_name"),
            keys.c.material_id,
            m.name,
            m.unit_cost,
            func.coalesce(stock.c.on_hand, 0.0).label("on_hand"),
            stock.c.snapshot_day,
            pm.lead_time_days,
            pm.reorder_point,
        )
        .join_from(keys, material, keys.c.material_id == m.material_id)
        .join(plant, plant.c.plant_id == keys.c.plant_id)
        .outerjoin(plant_material, and_(pm.plant_id == keys.c.plant_id, pm.material_id == keys.c.material_id))
        .outerjoin(stock, and_(stock.c.plant_id == keys.c.plant_id, stock.c.material_id == keys.c.material_id))
        .order_by(keys.c.plant_id, keys.c.material_id),
    )
    frame = stock_position.positions(engine, scope, date_columns(frame, "snapshot_day"), as_of_day)
    return frame.drop(columns=["counted_on_hand", "received_after_count", "consumed_after_count"])


def orders_on_line(
    engine: Engine,
    scope: PlantScope,
    line_id: str,
    start_utc: datetime,
    end_utc: datetime,
    statuses=("planned", "released"),
) -> pd.DataFrame:
    """Production orders of a line whose planned run overlaps start_utc..end_utc.

    Columns: order_id, plant_id, line_id, product_id, product_name, qty, produced_qty,
    status, planned_start_utc, planned_end_utc, due_utc, actual_end_utc.
    """
    o = production_order.c
    frame = _read(
        engine,
        select(
            o.order_id,
            o.plant_id,
            o.line_id,
            o.product_id,
            material.c.name.label("product_name"),
            o.qty,
            o.produced_qty,
            o.status,
            o.planned_start_utc,
            o.planned_end_utc,
            o.due_utc,
            o.actual_end_utc,
        )
        .join_from(production_order, material, o.product_id == material.c.material_id)
        .where(
            scope.clause(o.plant_id),
            o.line_id == line_id,
            o.status.in_(list(statuses)),
            o.planned_start_utc < as_utc(end_utc),
            o.planned_end_utc > as_utc(start_utc),
        )
        .order_by(o.planned_start_utc, o.order_id),
    )
    return utc_columns(frame, "planned_start_utc", "planned_end_utc", "due_utc", "actual_end_utc")


def open_purchase_orders(
    engine: Engine, scope: PlantScope, plant_id: str | None = None, material_id: str | None = None
) -> pd.DataFrame:
    """Open purchase orders in scope, optionally of one plant and/or one material.

    Columns: po_id, plant_id, material_id, supplier_id, supplier_name, qty, ordered_day,
    promised_day.
    """
    po = purchase_order.c
    stmt = (
        select(
            po.po_id,
            po.plant_id,
            po.material_id,
            po.supplier_id,
            supplier.c.name.label("supplier_name"),
            po.qty,
            po.ordered_day,
            po.promised_day,
        )
        .join_from(purchase_order, supplier, po.supplier_id == supplier.c.supplier_id)
        .where(scope.clause(po.plant_id), po.status == "open")
        .order_by(po.plant_id, po.material_id, po.promised_day, po.po_id)
    )
    if plant_id is not None:
        stmt = stmt.where(po.plant_id == plant_id)
    if material_id is not None:
        stmt = stmt.where(po.material_id == material_id)
    return date_columns(_read(engine, stmt), "ordered_day", "promised_day")


def supplier_record(
    engine: Engine, scope: PlantScope, material_id: str, tolerance_days: int | None = None
) -> pd.DataFrame:
    """Every supplier that delivered `material_id` to a plant in scope, with its delivery record.

    Columns: supplier_id, supplier_name, country, received (purchase orders received),
    on_time (received by promised day + tolerance), on_time_rate (NaN if none received),
    mean_delay_days (received minus ordered day).
    """
    po = purchase_order.c
    tolerance = kpis.DELIVERY_TOLERANCE_DAYS if tolerance_days is None else tolerance_days
    frame = _read(
        engine,
        select(
            po.supplier_id,
            supplier.c.name.label("supplier_name"),
            supplier.c.country,
            po.ordered_day,
            po.promised_day,
            po.received_day,
        )
        .join_from(purchase_order, supplier, po.supplier_id == supplier.c.supplier_id)
        .where(scope.clause(po.plant_id), po.material_id == material_id, po.status == "received"),
    )
    columns = ["supplier_id", "supplier_name", "country", "received", "on_time", "on_time_rate", "mean_delay_days"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = date_columns(frame, "ordered_day", "promised_day", "received_day")
    late = [(r - p).days for r, p in zip(frame["received_day"], frame["promised_day"])]
    frame["on_time"] = [d <= tolerance for d in late]
    frame["delay"] = [(r - o).days for r, o in zip(frame["received_day"], frame["ordered_day"])]
    out = frame.groupby(["supplier_id", "supplier_name", "country"], as_index=False).agg(
        received=("on_time", "size"), on_time=("on_time", "sum"), mean_delay_days=("delay", "mean")
    )
    out["on_time_rate"] = kpis.supplier_on_time(out["on_time"], out["received"])
    return out[columns].sort_values(["on_time_rate", "received"], ascending=False, ignore_index=True)
