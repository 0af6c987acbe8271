"""Benchmark of the network overview's queries. Prints ratios measured in one run.

    python -m bench.overview [--plants 100] [--days 1095] [--keep DIR]

Builds the default (12-plant) and a large (100-plant) three-year warehouse on SQLite, then:
1. times the overview's queries (what pages/overview.py asks for) on both: large / default;
2. on the large one, computes the per-plant KPI components of a 90-day window three ways
   and checks they agree: from the daily mart (what the page does), by SQL aggregation over
   the raw fact tables, and by reading the raw rows into pandas.
Ratios, not seconds, are the result: these machines are shared and noisy.
"""

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import case, func, select

from data_access import migrate, queries
from data_access.engine import make_engine
from data_access.frames import read_frame
from data_access.schema import downtime_event, production_daily
from data_access.scope import PlantScope
from sample_data import generate

END = date(2026, 6, 30)
WINDOW = 90
REPEATS = 5
SCOPE = PlantScope.everything()


def build(directory: Path, plants: int, days: int):
    path = directory / f"bench_{plants}x{days}.db"
    engine = make_engine(f"sqlite:///{path}")
    if not path.exists() or migrate.is_empty(engine):
        started = time.perf_counter()
        generate(engine, plants=plants, days=days, seed=7, end_day=END)
        print(f"generated {plants} plants x {days} days in {time.perf_counter() - started:.1f} s")
    return engine


def best_of(fn, repeats=REPEATS) -> float:
    """Median wall time of `repeats` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def overview_queries(engine):
    """The reads behind one render of the overview (previous period included)."""
    start = END - timedelta(days=WINDOW - 1)
    before = start - timedelta(days=WINDOW)
    queries.plants(engine, SCOPE)
    queries.data_window(engine, SCOPE)
    queries.plant_kpi_components(engine, SCOPE, start, END)
    queries.plant_kpi_components(engine, SCOPE, before, start - timedelta(days=1))
    queries.weekly_kpi_components(engine, SCOPE, start, END)
    queries.weekly_kpi_components(engine, SCOPE, start, END, by_plant=True)
    queries.feed_freshness(engine, SCOPE)


COLUMNS = ["planned_busy_s", "run_s", "ideal_good_s", "unplanned_downtime_s", "failures"]


def from_mart(engine, start, end):
    return queries.plant_kpi_components(engine, SCOPE, start, end).set_index("plant_id")[COLUMNS]


def from_raw_sql(engine, start, end):
    p, d = production_daily.c, downtime_event.c
    with engine.connect() as conn:
        prod = read_frame(
            conn,
            select(
                p.plant_id,
                func.sum(p.planned_busy_s).label("planned_busy_s"),
                func.sum(p.run_s).label("run_s"),
                func.sum(p.ideal_cycle_s * p.good_qty).label("ideal_good_s"),
            )
            .where(p.day.between(start, end))
            .group_by(p.plant_id),
        )
        down = read_frame(
            conn,
            select(
                d.plant_id,
                func.sum(case((d.is_failure, d.duration_s), else_=0.0)).label("unplanned_downtime_s"),
                func.sum(case((d.is_failure, 1), else_=0)).label("failures"),
            )
            .where(d.day.between(start, end))
            .group_by(d.plant_id),
        )
    return _combine(prod, down)


def from_raw_pandas(engine, start, end):
    p, d = production_daily.c, downtime_event.c
    with engine.connect() as conn:
        prod = read_frame(
            conn,
            select(p.plant_id, p.planned_busy_s, p.run_s, p.ideal_cycle_s, p.good_qty).where(p.day.between(start, end)),
        )
        down = read_frame(conn, select(d.plant_id, d.is_failure, d.duration_s).where(d.day.between(start, end)))
    prod["ideal_good_s"] = prod["ideal_cycle_s"] * prod["good_qty"]
    prod = prod.groupby("plant_id", as_index=False)[["planned_busy_s", "run_s", "ideal_good_s"]].sum()
    failures = down[down["is_failure"].astype(bool)]
    down = failures.groupby("plant_id", as_index=False).agg(
        unplanned_downtime_s=("duration_s", "sum"), failures=("duration_s", "size")
    )
    return _combine(prod, down)


def _combine(prod, down):
    merged = prod.merge(down, on="plant_id", how="left").fillna(0).set_index("plant_id")
    return merged[COLUMNS].astype(float).sort_index()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plants", type=int, default=100)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--keep", type=Path, help="directory to keep (and reuse) the warehouses in")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        default, large = build(directory, 12, args.days), build(directory, args.plants, args.days)

        t_default = best_of(lambda: overview_queries(default))
        t_large = best_of(lambda: overview_queries(large))
        start = END - timedelta(days=WINDOW - 1)
        mart, raw_sql, raw_pandas = (
            from_mart(large, start, END).astype(float).sort_index(),
            from_raw_sql(large, start, END),
            from_raw_pandas(large, start, END),
        )
        pd.testing.assert_frame_equal(mart, raw_sql, check_exact=False, rtol=1e-9)
        pd.testing.assert_frame_equal(raw_sql, raw_pandas, check_exact=False, rtol=1e-9)
        t_mart = best_of(lambda: from_mart(large, start, END))
        t_sql = best_of(lambda: from_raw_sql(large, start, END))
        t_pandas = best_of(lambda: from_raw_pandas(large, start, END))

    print(
        f"overview queries, {args.plants} plants / 12 plants:      {t_large / t_default:6.2f}x "
        f"({t_large * 1000:.0f} ms vs {t_default * 1000:.0f} ms)"
    )
    print(f"{WINDOW}-day plant KPIs, raw rows into pandas / SQL on raw: {t_pandas / t_sql:6.2f}x")
    print(f"{WINDOW}-day plant KPIs, raw rows into pandas / mart:       {t_pandas / t_mart:6.2f}x")
    print(f"{WINDOW}-day plant KPIs, SQL on raw / mart:                 {t_sql / t_mart:6.2f}x")
    print("(the three ways agree on every plant's components)")


if __name__ == "__main__":
    main()
