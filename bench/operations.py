"""Benchmark of the operations pages. Prints ratios measured in one run.

    python -m bench.operations [--plants 100] [--days 1095] [--keep DIR]

Builds (or reuses, with --keep, the same files as bench.overview) the default 12-plant and a
large 100-plant three-year warehouse on SQLite, then:
1. times what each operations page reads for one render of its default view (the last 90
   days; the cache cleared before every call) on both, large / default: for the whole
   network (an executive) and for one plant (a plant leader, the same plant in both);
2. on the large one, computes five things both from the operations marts (what the pages do)
   and from the raw fact tables, checks they agree, and times both: raw / mart.
Ratios, not seconds, are the result: these machines are shared and noisy.
"""

import argparse
import logging
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import case, func, select

from bench.overview import END, SCOPE, WINDOW, best_of, build
from components.filters import Selection
from components.operations.downtime import downtime_view
from components.operations.inventory import inventory_view
from components.operations.schedule import schedule_view
from data_access import kpis, marts
from data_access import operations as ops
from data_access.frames import read_frame
from data_access.schema import (
    OPERATIONS_MARTS,
    downtime_event,
    plant,
    production_daily,
    purchase_order,
    work_order,
)
from data_access.scope import PlantScope

START = END - timedelta(days=WINDOW - 1)
ONE_PLANT = PlantScope.only({"NA-JOL"})  # a plant leader's scope: the same plant in both networks


def pages(scope):
    selection = Selection(scope, START, END)
    return {
        "downtime & maintenance": lambda engine: downtime_view(engine, selection),
        "inventory & supply": lambda engine: inventory_view(engine, selection),
        "schedule risk": lambda engine: schedule_view(engine, selection, horizon_days=14),
    }


def with_operations_marts(engine):
    """Warehouses kept from before migration 0003 get their operations marts built once."""
    if not ops.marts_ready(engine, SCOPE):
        started = time.perf_counter()
        marts.refresh(engine)
        print(f"built the operations marts of {engine.url.database} in {time.perf_counter() - started:.1f} s")
    return engine


def cold(render):
    """One render with an empty query cache (what a page costs when its cache has expired)."""

    def run(engine):
        st.cache_data.clear()
        return render(engine)

    return run


# --- the same answers from the marts and from the raw tables ----------------------------------


def _read(engine, stmt):
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def pareto_mart(engine):
    frame = ops.downtime_breakdown(engine, SCOPE, START, END, ("reason_code",))
    return frame.set_index("reason_code")[["events", "downtime_s", "unplanned_s"]].astype(float).sort_index()


def pareto_raw(engine):
    d = downtime_event.c
    frame = _read(
        engine,
        select(
            d.reason_code,
            func.count().label("events"),
            func.sum(d.duration_s).label("downtime_s"),
            func.sum(case((d.is_failure, d.duration_s), else_=0.0)).label("unplanned_s"),
        )
        .where(d.day.between(START, END))
        .group_by(d.reason_code),
    )
    return frame.set_index("reason_code").astype(float).sort_index()


def assets_mart(engine):
    frame = ops.downtime_breakdown(engine, SCOPE, START, END, ("asset_id",))
    return frame.set_index("asset_id")[["failures", "unplanned_s"]].astype(float).sort_index()


def assets_raw(engine):
    d = downtime_event.c
    frame = _read(
        engine,
        select(
            d.asset_id,
            func.sum(case((d.is_failure, 1), else_=0)).label("failures"),
            func.sum(case((d.is_failure, d.duration_s), else_=0.0)).label("unplanned_s"),
        )
        .where(d.day.between(START, END))
        .group_by(d.asset_id),
    )
    return frame.set_index("asset_id").astype(float).sort_index()


LINE_COLUMNS = ["run_s", "unplanned_downtime_s", "failures"]


def lines_mart(engine):
    frame = ops.line_components(engine, SCOPE, START, END, ("line_id",))
    return frame.set_index("line_id")[LINE_COLUMNS].astype(float).sort_index()


def lines_raw(engine):
    p, d = production_daily.c, downtime_event.c
    prod = _read(
        engine, select(p.line_id, func.sum(p.run_s).label("run_s")).where(p.day.between(START, END)).group_by(p.line_id)
    )
    down = _read(
        engine,
        select(
            d.line_id,
            func.sum(case((d.is_failure, d.duration_s), else_=0.0)).label("unplanned_downtime_s"),
            func.sum(case((d.is_failure, 1), else_=0)).label("failures"),
        )
        .where(d.day.between(START, END))
        .group_by(d.line_id),
    )
    frame = prod.merge(down, on="line_id", how="outer").fillna(0.0).set_index("line_id")
    return frame[LINE_COLUMNS].astype(float).sort_index()


def backlog_mart(engine):
    frame = ops.work_order_backlog(engine, SCOPE, END, ("plant_id",))
    return frame.set_index("plant_id")[["backlog"]].astype(float).sort_index()


def backlog_raw(engine):
    """Open at the end of END, plant-local: every work order read, the instant per plant's zone."""
    w, p = work_order.c, plant.c
    rows = _read(
        engine,
        select(w.plant_id, w.created_utc, w.completed_utc, p.timezone).join_from(
            work_order, plant, w.plant_id == p.plant_id
        ),
    )
    day_after = END + timedelta(days=1)
    ends = {
        tz: pd.Timestamp(datetime(day_after.year, day_after.month, day_after.day, tzinfo=ZoneInfo(tz)))
        for tz in rows["timezone"].unique()
    }
    cut = pd.to_datetime(rows["timezone"].map(ends), utc=True)
    created = pd.to_datetime(rows["created_utc"], utc=True)
    completed = pd.to_datetime(rows["completed_utc"], utc=True)
    open_ = (created < cut) & ~(completed < cut)
    return open_.groupby(rows["plant_id"]).sum().astype(float).to_frame("backlog").sort_index()


def lateness_mart(engine):
    frame = ops.deliveries(engine, SCOPE, START, END, ("lateness_days",))
    return frame.set_index("lateness_days")[["received", "on_time"]].astype(float).sort_index()


def lateness_raw(engine):
    """Read raw, cut like every mart to each plant's days (first to last production day)."""
    po, p = purchase_order.c, production_daily.c
    spans = (
        select(p.plant_id, func.min(p.day).label("first"), func.max(p.day).label("last"))
        .group_by(p.plant_id)
        .subquery()
    )
    rows = _read(
        engine,
        select(po.received_day, po.promised_day)
        .join(spans, spans.c.plant_id == po.plant_id)
        .where(po.received_day.between(START, END), po.received_day.between(spans.c.first, spans.c.last)),
    )
    rows["lateness_days"] = kpis.delivery_lateness_days(rows["received_day"], rows["promised_day"]).values
    rows["on_time"] = (rows["lateness_days"] <= kpis.DELIVERY_TOLERANCE_DAYS).astype(float)
    frame = rows.groupby("lateness_days").agg(received=("on_time", "size"), on_time=("on_time", "sum"))
    frame.index = frame.index.astype(int)
    return frame.astype(float).sort_index()


COMPARISONS = {
    "downtime Pareto by reason": (pareto_mart, pareto_raw, "SQL on raw events"),
    "failures and hours per asset": (assets_mart, assets_raw, "SQL on raw events"),
    "run, failure hours, failures per line": (lines_mart, lines_raw, "SQL on raw production and events"),
    "work-order backlog per plant": (backlog_mart, backlog_raw, "raw work orders into pandas"),
    "supplier lateness distribution": (lateness_mart, lateness_raw, "raw purchase orders into pandas"),
}


def row_counts(engine) -> dict:
    with engine.connect() as conn:
        tables = (downtime_event, work_order, purchase_order, production_daily, *OPERATIONS_MARTS)
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plants", type=int, default=100)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--keep", type=Path, help="directory to keep (and reuse) the warehouses in")
    args = parser.parse_args(argv)
    # st.cache_data without a Streamlit runtime warns on every call
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        default = with_operations_marts(build(directory, 12, args.days))
        large = with_operations_marts(build(directory, args.plants, args.days))

        timed = {}
        for who, scope in (("network", SCOPE), ("one plant", ONE_PLANT)):
            for name, render in pages(scope).items():
                view = render(large)
                assert not view.is_empty, f"the {name} page has nothing to show on the large network"
                timed[who, name] = (best_of(lambda: cold(render)(default)), best_of(lambda: cold(render)(large)))

        compared = {}
        for name, (mart, raw, how) in COMPARISONS.items():
            from_mart, from_raw = mart(large), raw(large)
            pd.testing.assert_frame_equal(
                from_mart, from_raw, check_exact=False, rtol=1e-9, check_names=False, check_index_type=False
            )
            compared[name] = (best_of(lambda: mart(large)), best_of(lambda: raw(large)), how)
        counts = row_counts(large)

    print(f"One render of each operations page (last {WINDOW} days, cold cache), {args.plants} plants / 12 plants:")
    for (who, name), (t_default, t_large) in timed.items():
        print(
            f"  {who + ', ' + name:<37} {t_large / t_default:6.2f}x  "
            f"({t_large * 1000:,.0f} ms vs {t_default * 1000:,.0f} ms)"
        )
    print(
        f"\nOn the {args.plants}-plant network, {WINDOW}-day window: raw tables / operations marts "
        "(the same answer both ways):"
    )
    for name, (t_mart, t_raw, how) in compared.items():
        print(f"  {name:<38} {t_raw / t_mart:6.2f}x  ({how}: {t_raw * 1000:,.0f} ms; mart: {t_mart * 1000:,.0f} ms)")
    print(f"\nRows on the {args.plants}-plant network: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
