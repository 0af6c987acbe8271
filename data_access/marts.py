"""Daily marts: the KPI components per plant and plant-local day, refreshed after each load.

Pages read `mart_plant_daily`, so their queries grow with plants x days, not with raw event
counts. The heavy sums run in SQL; the few comparisons SQLite and PostgreSQL spell
differently (on-time against a tolerance, carrying inventory forward) run in pandas on
already small per-day frames. A refresh is one transaction: it fails whole or lands whole.
"""

from datetime import timedelta

import pandas as pd
from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access.frames import read_frame
from data_access.schema import (
    demand_daily,
    downtime_event,
    inventory_snapshot,
    mart_plant_daily,
    material,
    plant,
    production_daily,
    production_order,
    purchase_order,
)

PRODUCTION_MATERIALS = ("raw", "packaging")  # what days of supply counts
PLANTS_PER_BATCH = 10  # bounds memory on large networks


def refresh(engine: Engine, plant_ids=None, progress=None) -> int:
    """Rebuild the mart rows of `plant_ids` (default: every plant); returns rows written."""
    with engine.begin() as conn:
        if plant_ids is None:
            plant_ids = conn.execute(select(plant.c.plant_id).order_by(plant.c.plant_id)).scalars().all()
        plant_ids = list(plant_ids)
        written = 0
        for start in range(0, len(plant_ids), PLANTS_PER_BATCH):
            batch = plant_ids[start:start + PLANTS_PER_BATCH]
            rows = _mart_rows(conn, batch)
            conn.execute(delete(mart_plant_daily).where(mart_plant_daily.c.plant_id.in_(batch)))
            records = rows.to_dict("records")
            for chunk in range(0, len(records), 20_000):
                conn.execute(mart_plant_daily.insert(), records[chunk:chunk + 20_000])
            written += len(records)
            if progress:
                progress(min(1.0, (start + len(batch)) / len(plant_ids)), "Refreshing daily marts")
    return written


def _mart_rows(conn, plant_ids) -> pd.DataFrame:
    keys = ["plant_id", "day"]
    parts = [
        _production(conn, plant_ids), _downtime(conn, plant_ids), _orders(conn, plant_ids),
        _deliveries(conn, plant_ids), _demand(conn, plant_ids),
    ]
    calendar = _calendar(parts[0])
    mart = calendar
    for part in parts:
        mart = mart.merge(part, on=keys, how="left")
    mart = mart.merge(_inventory_carried_forward(conn, plant_ids, calendar), on=keys, how="left")
    mart = mart.fillna({c: 0 for c in kpis.COMPONENTS if c in mart})
    mart["covered_demand_value"] = mart["demand_value"].where(mart.pop("inventory_known"), 0.0)
    days = pd.to_datetime(mart["day"])
    mart["week_start"] = (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    for col in ("failures", "orders_due", "orders_on_time", "po_received", "po_on_time"):
        mart[col] = mart[col].astype(int)
    return mart[["plant_id", "day", "week_start", *kpis.COMPONENTS]]


def _calendar(production: pd.DataFrame) -> pd.DataFrame:
    """Every plant-local day from a plant's first to its last production day."""
    if production.empty:
        return pd.DataFrame({"plant_id": pd.Series(dtype=str), "day": pd.Series(dtype=object)})
    spans = production.groupby("plant_id")["day"].agg(["min", "max"])
    return pd.concat(
        [pd.DataFrame({"plant_id": pid, "day": pd.date_range(lo, hi, freq="D").date})
         for pid, (lo, hi) in spans.iterrows()],
        ignore_index=True,
    )


def _production(conn, plant_ids):
    p = production_daily.c
    return read_frame(conn, select(
        p.plant_id, p.day,
        func.sum(p.planned_busy_s).label("planned_busy_s"),
        func.sum(p.run_s).label("run_s"),
        func.sum(p.ideal_cycle_s * p.produced_qty).label("ideal_produced_s"),
        func.sum(p.ideal_cycle_s * p.good_qty).label("ideal_good_s"),
        func.sum(p.produced_qty).label("produced_qty"),
        func.sum(p.good_qty).label("good_qty"),
    ).where(p.plant_id.in_(plant_ids)).group_by(p.plant_id, p.day))


def _downtime(conn, plant_ids):
    d = downtime_event.c
    failure_s = case((d.is_failure, d.duration_s), else_=0.0)
    return read_frame(conn, select(
        d.plant_id, d.day,
        func.sum(failure_s).label("unplanned_downtime_s"),
        func.sum(case((d.category == "planned", d.duration_s), else_=0.0)).label("planned_downtime_s"),
        func.sum(case((d.is_failure, 1), else_=0)).label("failures"),
        func.sum(failure_s).label("restoration_s"),
    ).where(d.plant_id.in_(plant_ids)).group_by(d.plant_id, d.day))


def _orders(conn, plant_ids):
    o = production_order.c
    orders = read_frame(conn, select(
        o.plant_id, o.due_day.label("day"), o.due_utc, o.actual_end_utc, o.qty, o.produced_qty,
    ).where(o.plant_id.in_(plant_ids), o.due_day.is_not(None), o.status != "cancelled"))
    orders["on_time"] = kpis.is_on_time(
        pd.to_datetime(orders["actual_end_utc"], utc=True),
        pd.to_datetime(orders["due_utc"], utc=True),
        timedelta(hours=kpis.SCHEDULE_TOLERANCE_HOURS),
    ).values
    return orders.groupby(["plant_id", "day"], as_index=False).agg(
        orders_due=("on_time", "size"), orders_on_time=("on_time", "sum"),
        scheduled_qty=("qty", "sum"), actual_qty=("produced_qty", "sum"),
    )


def _deliveries(conn, plant_ids):
    po = purchase_order.c
    received = read_frame(conn, select(po.plant_id, po.received_day.label("day"), po.promised_day).where(
        po.plant_id.in_(plant_ids), po.received_day.is_not(None)))
    received["on_time"] = kpis.is_on_time(
        pd.to_datetime(received["day"]), pd.to_datetime(received["promised_day"]),
        timedelta(days=kpis.DELIVERY_TOLERANCE_DAYS),
    ).values
    return received.groupby(["plant_id", "day"], as_index=False).agg(
        po_received=("on_time", "size"), po_on_time=("on_time", "sum"))


def _demand(conn, plant_ids):
    d, m = demand_daily.c, material.c
    return read_frame(conn, select(
        d.plant_id, d.day, func.sum(d.qty * m.unit_cost).label("demand_value"),
    ).join_from(demand_daily, material, d.material_id == m.material_id).where(
        d.plant_id.in_(plant_ids), m.material_type.in_(PRODUCTION_MATERIALS),
    ).group_by(d.plant_id, d.day))


def _inventory_carried_forward(conn, plant_ids, calendar):
    """On-hand value per day, carried forward from each plant's latest snapshot."""
    s, m = inventory_snapshot.c, material.c
    snapshots = read_frame(conn, select(
        s.plant_id, s.day, func.sum(s.on_hand * m.unit_cost).label("inventory_value"),
    ).join_from(inventory_snapshot, material, s.material_id == m.material_id).where(
        s.plant_id.in_(plant_ids), m.material_type.in_(PRODUCTION_MATERIALS),
    ).group_by(s.plant_id, s.day))
    daily = calendar.merge(snapshots, on=["plant_id", "day"], how="left").sort_values(["plant_id", "day"])
    daily["inventory_value"] = daily.groupby("plant_id")["inventory_value"].ffill()
    daily["inventory_known"] = daily["inventory_value"].notna()
    return daily
