"""Daily marts: the KPI components per plant and plant-local day, refreshed after each load.

Pages read `mart_plant_daily`, so their queries grow with plants x days, not with raw event
counts. The heavy sums run in SQL; the few comparisons SQLite and PostgreSQL spell
differently (on-time against a tolerance, carrying inventory forward) run in pandas on
already small per-day frames. A refresh is one transaction: it fails whole or lands whole.

Each plant's calendar runs from the first to the last day of any of its feeds (production,
downtime, purchase-order receipts, demand, stock counts), so every loaded fact lands in the
KPIs of its period even when one feed is behind; `mart_feed_reach` keeps how far each feed
reaches, so a page can say which feed ends before its window does.

The operations marts (line-day, downtime per asset and reason, work orders, deliveries; see
schema.py "operations marts") are rebuilt in the same transaction, batch by batch, over the
same plant-local days as `mart_plant_daily`, so their sums agree with it.

Command line: `python -m data_access.marts` refreshes every mart of the configured warehouse.
"""

from datetime import timedelta

import pandas as pd
from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access.bulk import bulk_insert
from data_access.frames import read_frame
from data_access.schema import (
    OPERATIONS_MARTS,
    asset,
    demand_daily,
    downtime_event,
    inventory_snapshot,
    mart_delivery_daily,
    mart_downtime_daily,
    mart_feed_reach,
    mart_line_daily,
    mart_plant_daily,
    mart_work_order_daily,
    material,
    plant,
    production_daily,
    production_order,
    purchase_order,
    work_order,
)

PRODUCTION_MATERIALS = ("raw", "packaging")  # what days of supply counts
PLANTS_PER_BATCH = 10  # bounds memory on large networks


def refresh(engine: Engine, plant_ids=None, progress=None) -> int:
    """Rebuild the mart rows of `plant_ids` (default: every plant); returns rows written
    to mart_plant_daily (the operations marts are rebuilt alongside)."""
    with engine.begin() as conn:
        if plant_ids is None:
            plant_ids = conn.execute(select(plant.c.plant_id).order_by(plant.c.plant_id)).scalars().all()
            for table in (*OPERATIONS_MARTS, mart_feed_reach):  # whole rebuild: rows of plants gone go too
                conn.execute(delete(table))
        plant_ids = list(plant_ids)
        written = 0
        for start in range(0, len(plant_ids), PLANTS_PER_BATCH):
            batch = plant_ids[start : start + PLANTS_PER_BATCH]
            reach = feed_reach(conn, batch)
            rows = _mart_rows(conn, batch, reach)
            conn.execute(delete(mart_plant_daily).where(mart_plant_daily.c.plant_id.in_(batch)))
            conn.execute(delete(mart_feed_reach).where(mart_feed_reach.c.plant_id.in_(batch)))
            if not reach.empty:
                conn.execute(mart_feed_reach.insert(), reach.to_dict("records"))
            records = rows.to_dict("records")
            for chunk in range(0, len(records), 20_000):
                conn.execute(mart_plant_daily.insert(), records[chunk : chunk + 20_000])
            written += len(records)
            _refresh_operations(conn, batch, _spans(rows))
            if progress:
                progress(min(1.0, (start + len(batch)) / len(plant_ids)), "Refreshing daily marts")
    update_statistics(engine)
    return written


def update_statistics(engine: Engine) -> None:
    """Let SQLite's planner know the tables' sizes: it never gathers statistics by itself, and
    without them it picks slower indexes for network-wide windows (about twice as slow on the
    100-plant network). Sampled (analysis_limit), so it takes a fraction of a second even
    there. PostgreSQL's autovacuum analyzes changed tables itself."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


def _mart_rows(conn, plant_ids, reach: pd.DataFrame) -> pd.DataFrame:
    keys = ["plant_id", "day"]
    parts = [
        _production(conn, plant_ids),
        _downtime(conn, plant_ids),
        _orders(conn, plant_ids),
        _deliveries(conn, plant_ids),
        _demand(conn, plant_ids),
    ]
    calendar = _calendar(reach)
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


FEEDS = {  # feed (feed_status.source where there is one) -> (table, its plant-local day column)
    "production": (production_daily, production_daily.c.day),
    "downtime": (downtime_event, downtime_event.c.day),
    "purchase_orders": (purchase_order, purchase_order.c.received_day),
    "demand": (demand_daily, demand_daily.c.day),
    "inventory": (inventory_snapshot, inventory_snapshot.c.day),
}
"""The feeds whose days make a plant's calendar (production orders are plans: their due days
lie ahead, so they count inside the calendar but do not extend it)."""


def feed_reach(conn, plant_ids) -> pd.DataFrame:
    """First and last plant-local day of each feed of each plant (feeds without a row: absent).

    Columns: plant_id, feed, first_day, last_day.
    """
    parts = []
    for feed, (table, day) in FEEDS.items():
        frame = read_frame(
            conn,
            select(
                table.c.plant_id,
                func.min(day).label("first_day"),
                func.max(day).label("last_day"),
            )
            .where(table.c.plant_id.in_(plant_ids), day.is_not(None))
            .group_by(table.c.plant_id),
        )
        parts.append(frame.assign(feed=feed))
    reach = pd.concat(parts, ignore_index=True)[["plant_id", "feed", "first_day", "last_day"]]
    for col in ("first_day", "last_day"):
        reach[col] = pd.to_datetime(reach[col]).dt.date
    return reach


def _calendar(reach: pd.DataFrame) -> pd.DataFrame:
    """Every plant-local day from the first to the last day of any of a plant's feeds, so a
    late feed (production behind, the others current) never cuts the others' days out."""
    if reach.empty:
        return pd.DataFrame({"plant_id": pd.Series(dtype=str), "day": pd.Series(dtype=object)})
    spans = reach.groupby("plant_id").agg(min=("first_day", "min"), max=("last_day", "max"))
    return pd.concat(
        [
            pd.DataFrame({"plant_id": pid, "day": pd.date_range(lo, hi, freq="D").date})
            for pid, (lo, hi) in spans.iterrows()
        ],
        ignore_index=True,
    )


def _production(conn, plant_ids, by_line=False):
    p = production_daily.c
    keys = [p.plant_id, p.day, *([p.line_id] if by_line else [])]
    return read_frame(
        conn,
        select(
            *keys,
            func.sum(p.planned_busy_s).label("planned_busy_s"),
            func.sum(p.run_s).label("run_s"),
            func.sum(p.ideal_cycle_s * p.produced_qty).label("ideal_produced_s"),
            func.sum(p.ideal_cycle_s * p.good_qty).label("ideal_good_s"),
            func.sum(p.produced_qty).label("produced_qty"),
            func.sum(p.good_qty).label("good_qty"),
        )
        .where(p.plant_id.in_(plant_ids))
        .group_by(*keys),
    )


def _downtime(conn, plant_ids, by_line=False):
    d = downtime_event.c
    failure_s = case((d.is_failure, d.duration_s), else_=0.0)
    keys = [d.plant_id, d.day, *([d.line_id] if by_line else [])]
    return read_frame(
        conn,
        select(
            *keys,
            func.sum(failure_s).label("unplanned_downtime_s"),
            func.sum(case((d.category == "planned", d.duration_s), else_=0.0)).label("planned_downtime_s"),
            func.sum(case((d.is_failure, 1), else_=0)).label("failures"),
            func.sum(failure_s).label("restoration_s"),
        )
        .where(d.plant_id.in_(plant_ids))
        .group_by(*keys),
    )


def _orders(conn, plant_ids, by_line=False):
    o = production_order.c
    orders = read_frame(
        conn,
        select(
            o.plant_id,
            o.line_id,
            o.due_day.label("day"),
            o.due_utc,
            o.actual_end_utc,
            o.qty,
            o.produced_qty,
        ).where(o.plant_id.in_(plant_ids), o.due_day.is_not(None), o.status != "cancelled"),
    )
    orders["on_time"] = kpis.is_on_time(
        pd.to_datetime(orders["actual_end_utc"], utc=True),
        pd.to_datetime(orders["due_utc"], utc=True),
        timedelta(hours=kpis.SCHEDULE_TOLERANCE_HOURS),
    ).values
    keys = ["plant_id", "day", *(["line_id"] if by_line else [])]
    return orders.groupby(keys, as_index=False).agg(
        orders_due=("on_time", "size"),
        orders_on_time=("on_time", "sum"),
        scheduled_qty=("qty", "sum"),
        actual_qty=("produced_qty", "sum"),
    )


def _deliveries(conn, plant_ids):
    po = purchase_order.c
    received = read_frame(
        conn,
        select(po.plant_id, po.received_day.label("day"), po.promised_day).where(
            po.plant_id.in_(plant_ids), po.received_day.is_not(None)
        ),
    )
    received["on_time"] = kpis.is_on_time(
        pd.to_datetime(received["day"]),
        pd.to_datetime(received["promised_day"]),
        timedelta(days=kpis.DELIVERY_TOLERANCE_DAYS),
    ).values
    return received.groupby(["plant_id", "day"], as_index=False).agg(
        po_received=("on_time", "size"), po_on_time=("on_time", "sum")
    )


def _demand(conn, plant_ids):
    d, m = demand_daily.c, material.c
    return read_frame(
        conn,
        select(
            d.plant_id,
            d.day,
            func.sum(d.qty * m.unit_cost).label("demand_value"),
        )
        .join_from(demand_daily, material, d.material_id == m.material_id)
        .where(
            d.plant_id.in_(plant_ids),
            m.material_type.in_(PRODUCTION_MATERIALS),
        )
        .group_by(d.plant_id, d.day),
    )


def _inventory_carried_forward(conn, plant_ids, calendar):
    """On-hand value per day: each material's latest snapshot carried forward, summed per plant.

    Per material, so a day that counts only some materials (or a count taken before the
    plant's first production day) never drops the others' stock from the sum.
    """
    s, m = inventory_snapshot.c, material.c
    snapshots = read_frame(
        conn,
        select(
            s.plant_id,
            s.material_id,
            s.day,
            (s.on_hand * m.unit_cost).label("value"),
        )
        .join_from(inventory_snapshot, material, s.material_id == m.material_id)
        .where(
            s.plant_id.in_(plant_ids),
            m.material_type.in_(PRODUCTION_MATERIALS),
        ),
    )
    parts = []
    for plant_id, days in calendar.groupby("plant_id")["day"]:
        counts = snapshots[snapshots["plant_id"] == plant_id]
        if counts.empty:
            value = pd.Series(float("nan"), index=days.to_numpy())
        else:
            wide = counts.pivot_table(index="day", columns="material_id", values="value", aggfunc="last")
            wide = wide.reindex(wide.index.union(days.to_numpy()).sort_values()).ffill()
            value = wide.sum(axis=1, min_count=1).reindex(days.to_numpy())
        parts.append(pd.DataFrame({"plant_id": plant_id, "day": days.to_numpy(), "inventory_value": value.to_numpy()}))
    daily = pd.concat(parts, ignore_index=True) if parts else calendar.assign(inventory_value=pd.Series(dtype=float))
    daily["inventory_known"] = daily["inventory_value"].notna()
    return daily


# --- operations marts (issue 3) --------------------------------------------------------------


def _refresh_operations(conn, plant_ids, spans: pd.DataFrame) -> None:
    """Replace the operations mart rows of `plant_ids` (inside the caller's transaction)."""
    frames = {
        mart_line_daily: _line_daily(conn, plant_ids, spans),
        mart_downtime_daily: _downtime_daily(conn, plant_ids, spans),
        mart_work_order_daily: _work_order_daily(conn, plant_ids),
        mart_delivery_daily: _delivery_daily(conn, plant_ids, spans),
    }
    for table, frame in frames.items():
        conn.execute(delete(table).where(table.c.plant_id.in_(plant_ids)))
        bulk_insert(conn, table, frame)


def _spans(plant_mart: pd.DataFrame) -> pd.DataFrame:
    """Each plant's first and last mart day: the days every mart covers."""
    return (
        plant_mart.groupby("plant_id")["day"].agg(first="min", last="max").reset_index()
        if not plant_mart.empty
        else pd.DataFrame(columns=["plant_id", "first", "last"])
    )


def _within(frame: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """The rows whose plant-local day lies in its plant's span (as mart_plant_daily's days)."""
    merged = frame.merge(spans, on="plant_id", how="inner")
    keep = (merged["day"] >= merged["first"]) & (merged["day"] <= merged["last"])
    return merged[keep].drop(columns=["first", "last"]).reset_index(drop=True)


def _with_periods(frame: pd.DataFrame) -> pd.DataFrame:
    days = pd.to_datetime(frame["day"])
    return frame.assign(
        week_start=(days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date,
        month_start=days.dt.to_period("M").dt.start_time.dt.date,
    )


def _line_daily(conn, plant_ids, spans) -> pd.DataFrame:
    keys = ["plant_id", "line_id", "day"]
    line = None
    for part in (
        _production(conn, plant_ids, by_line=True),
        _downtime(conn, plant_ids, by_line=True),
        _orders(conn, plant_ids, by_line=True),
    ):
        line = part if line is None else line.merge(part, on=keys, how="outer")
    for col in kpis.LINE_COMPONENTS:
        line[col] = line[col].astype(float).fillna(0.0)
    for col in ("failures", "orders_due", "orders_on_time"):
        line[col] = line[col].astype(int)
    return _with_periods(_within(line, spans))


def _downtime_daily(conn, plant_ids, spans) -> pd.DataFrame:
    d = downtime_event.c
    keys = [d.asset_id, d.day, d.reason_code, d.local_reason, d.plant_id, d.line_id]
    frame = read_frame(
        conn,
        select(
            *keys,
            func.max(d.category).label("category"),
            func.max(case((d.is_failure, 1), else_=0)).label("is_failure"),
            func.count().label("events"),
            func.sum(d.duration_s).label("duration_s"),
        )
        .where(d.plant_id.in_(plant_ids))
        .group_by(*keys),
    )
    frame["is_failure"] = frame["is_failure"].astype(int).astype(bool)
    frame["events"] = frame["events"].astype(int)
    return _with_periods(_within(frame, spans))


def _work_order_daily(conn, plant_ids) -> pd.DataFrame:
    """Created and completed work orders per asset and plant-local day (each plant's zone)."""
    w, a, p = work_order.c, asset.c, plant.c
    rows = read_frame(
        conn,
        select(
            w.asset_id,
            w.plant_id,
            a.line_id,
            w.wo_type,
            w.created_utc,
            w.completed_utc,
            p.timezone,
        )
        .join_from(work_order, asset, w.asset_id == a.asset_id)
        .join(plant, w.plant_id == p.plant_id)
        .where(w.plant_id.in_(plant_ids)),
    )
    keys = ["asset_id", "plant_id", "line_id", "day", "wo_type"]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "created", "completed", "close_s"])
    created = pd.to_datetime(rows["created_utc"], utc=True)
    completed = pd.to_datetime(rows["completed_utc"], utc=True)
    rows["created_day"] = _local_days(created, rows["timezone"])
    rows["completed_day"] = _local_days(completed, rows["timezone"])
    rows["close_s"] = (completed - created).dt.total_seconds()
    opened = rows.groupby(["asset_id", "plant_id", "line_id", "created_day", "wo_type"]).size().rename("created")
    done = rows[completed.notna().to_numpy()]
    closed = done.groupby(["asset_id", "plant_id", "line_id", "completed_day", "wo_type"]).agg(
        completed=("close_s", "size"), close_s=("close_s", "sum")
    )
    opened.index = opened.index.set_names(keys)
    closed.index = closed.index.set_names(keys)
    frame = pd.concat([opened, closed], axis=1).fillna(0).reset_index()
    for col in ("created", "completed"):
        frame[col] = frame[col].astype(int)
    return frame


def _local_days(stamps: pd.Series, zones: pd.Series) -> pd.Series:
    """Plant-local calendar day of each UTC instant (None where there is none)."""
    out = pd.Series([None] * len(stamps), index=stamps.index, dtype=object)
    for zone in zones.unique():
        mine = (zones == zone).to_numpy() & stamps.notna().to_numpy()
        out[mine] = stamps[mine].dt.tz_convert(zone).dt.date
    return out


def _delivery_daily(conn, plant_ids, spans) -> pd.DataFrame:
    po = purchase_order.c
    received = read_frame(
        conn,
        select(
            po.plant_id,
            po.supplier_id,
            po.material_id,
            po.received_day.label("day"),
            po.promised_day,
        ).where(po.plant_id.in_(plant_ids), po.received_day.is_not(None)),
    )
    received["lateness_days"] = kpis.delivery_lateness_days(received["day"], received["promised_day"]).values
    received["on_time"] = kpis.is_on_time(
        pd.to_datetime(received["day"]),
        pd.to_datetime(received["promised_day"]),
        timedelta(days=kpis.DELIVERY_TOLERANCE_DAYS),
    ).values
    frame = received.groupby(["plant_id", "supplier_id", "material_id", "day", "lateness_days"], as_index=False).agg(
        received=("on_time", "size"), on_time=("on_time", "sum")
    )
    for col in ("lateness_days", "received", "on_time"):
        frame[col] = frame[col].astype(int)
    return _within(frame, spans)


def main(argv=None) -> None:
    """Refresh every mart of the configured warehouse (or WAREHOUSE_URL), with progress."""
    import argparse

    from data_access.engine import describe, make_engine, warehouse_url

    parser = argparse.ArgumentParser(description="Refresh the daily marts of the warehouse.")
    parser.add_argument("--plant", action="append", help="only this plant (repeatable)")
    args = parser.parse_args(argv)
    url = warehouse_url()
    engine = make_engine(url)
    rows = refresh(
        engine,
        plant_ids=args.plant,
        progress=lambda fraction, message: print(f"{fraction:6.1%}  {message}", flush=True),
    )
    print(f"{rows:,} plant-day rows refreshed in {describe(url)}")


if __name__ == "__main__":
    main()
