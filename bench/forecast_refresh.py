"""Benchmark of the forecast refresh: the daily refit against the full reselection, and Dask against the pool.

    python -m bench.forecast_refresh [--keep DIR] [--skip-large] [--large-plants 100] [--large-sample 12]
                                     [--large-seeded] [--history-days 730] [--workers 2] [--skip-dask]

For the default network (12 plants, 1,095 days, SQLite) and then the large one (100 plants =
300 series), on copies of one generated file, the forecaster version approved first (every
series serves and refits its chosen model, as in production):
1. full reselection: every series runs the candidate backtest (`--reselect all`) on the data
   up to the day before the last: exactly the work the previous refresh did every day;
2. daily refresh: the next day's refresh (`--reselect due`): each series refits its chosen
   model; only the series due (drift) run the backtest. The ratio full / daily is the gain
   over the previous full-refresh approach. It runs twice on the pool: first with the stored
   forms cleared (each refit searches its ARIMA orders, ETS components, Theta variant again:
   the daily refresh before warm starts), then warm (each refits its stored form), and prints
   how far the warm forecasts are from the searched ones;
3. Dask: the same daily refresh on a Dask LocalCluster of `--workers` processes (127.0.0.1)
   against the local process pool, from the same stored selection, twice on one cluster: cold
   workers (start-up and imports paid in the run) and warm (`--skip-dask` to leave out).
The large network is measured on `--large-sample` plants of its repeated templates and
extrapolated by series count (every series is fitted on the same capped history, so the cost
per series does not grow with the network), or in full with `--large-sample 0`; `--skip-large`
leaves it out. `--large-seeded` measures the daily refresh of every large-network series (pool,
and Dask) from a selection seeded with the default network's choices per template plant
(`seed_selection`), without its full reselection; seeded rows store no forms, so its warm runs
start from the searched run's stored state (same-day forms: the timing, not the gap). The load average is printed beside every timing: this machine is shared, and
ratios measured in one run are the result, not the seconds.
"""

import argparse
import os
import re
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import update

from data_access import intelligence as store
from data_access import migrate, model_holds
from data_access.engine import make_engine
from data_access.intelligence import plant_ids
from data_access.schema import forecast_series
from data_access.scope import PlantScope
from forecasting.executors import local_cluster
from forecasting.refresh import HISTORY_DAYS, MODEL_NAME, RefreshConfig
from governance import model_serving
from governance.users import User
from jobs import pipeline
from sample_data import generate

END = date(2026, 6, 30)
DAYS = 1095
BENCH_ADMIN = User("bench", "Benchmark", "bench@example.com", ("admin",), None)


def build(directory: Path, plants: int) -> Path:
    path = directory / f"forecast_bench_{plants}x{DAYS}.db"
    engine = make_engine(f"sqlite:///{path}")
    if not path.exists() or migrate.is_empty(engine) or not plant_ids(engine, PlantScope.everything()):
        started = time.perf_counter()
        generate(engine, plants=plants, days=DAYS, seed=7, end_day=END)
        print(f"generated {plants} plants x {DAYS} days in {time.perf_counter() - started:.0f} s")
    migrate.upgrade(engine)  # a kept warehouse from an older schema gets the forecast tables
    engine.dispose()
    return path


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def approve(engine, config: RefreshConfig) -> None:
    """Register and approve the forecaster version, so the run serves (and refits) the chosen models."""
    with engine.begin() as conn:
        model_id, _ = model_serving.register(conn, "bench", MODEL_NAME, config.version(), config.params(), None)
    model_serving.approve(engine, BENCH_ADMIN, model_id, "benchmark: measure the approved serving path")


def release_holds(engine) -> int:
    """Release the holds a run placed (drift or lost accuracy past the plant policy, see
    governance.model_serving.hold_degraded): held plants serve seasonal naive, so the daily
    refresh would not refit the chosen models it is meant to measure. Returns the holds released."""
    model_id = model_serving.approved_version(engine, MODEL_NAME)["model_id"]
    held = model_holds.open_holds(engine, model_id)
    for plant_id in held:
        model_serving.release_hold(engine, BENCH_ADMIN, model_id, plant_id, "benchmark: measure the served models")
    return len(held)


def timed_refresh(engine, name: str, config: RefreshConfig, workers: int, scope: PlantScope | None, **options):
    before = load()
    started = time.perf_counter()
    report = pipeline.refresh_forecasts(
        engine,
        config,
        workers=workers,
        scope=scope,
        actor="bench",
        own_sessions=options.pop("own_sessions", True),
        **options,
    )
    wall = time.perf_counter() - started
    print(
        f"  {name:<40} {report.series:4d} series  {wall:7.1f} s wall  {report.fit_seconds:7.1f} s of fits  "
        f"{report.reselected:3d} reselected  ({report.fallbacks} fallbacks, {report.failed} failed; "
        f"{before} -> {load()})",
        flush=True,
    )
    return wall, report


def measure(
    source: Path, directory: Path, label: str, config: RefreshConfig, workers: int, scope: PlantScope | None, dask: bool
) -> dict:
    """Full reselection on the day before the last, then the daily refresh (pool, and Dask)."""
    selected = directory / f"{label}_selected.db"
    shutil.copyfile(source, selected)
    engine = make_engine(f"sqlite:///{selected}")
    approve(engine, config)
    full, report = timed_refresh(
        engine,
        "full reselection (every backtest)",
        config,
        workers,
        scope,
        as_of=END - timedelta(days=1),
        reselect="all",
    )
    print(f"  released {release_holds(engine)} plant hold(s) the run placed", flush=True)
    engine.dispose()
    out = {"series": report.series, "full": full}
    out.update(daily_runs(selected, directory, label, config, workers, scope, dask))
    engine = make_engine(f"sqlite:///{selected}")
    latest = store.latest_series(engine, PlantScope.everything())
    out["choices"] = {(p, m): c for p, m, c in zip(latest["plant_id"], latest["metric"], latest["chosen_model"])}
    engine.dispose()
    selected.unlink()
    print(
        f"  full reselection / daily refresh = {out['full'] / out['pool']:.1f}x with warm starts, "
        f"{out['full'] / out['searched']:.1f}x with forms searched (the previous refresh ran the full reselection "
        f"every day)",
        flush=True,
    )
    return out


def daily_runs(
    selected: Path,
    directory: Path,
    label: str,
    config: RefreshConfig,
    workers: int,
    scope: PlantScope | None,
    dask: bool,
    forms_from_searched: bool = False,
) -> dict:
    """The daily refresh on copies of `selected`: the local pool, then (dask) one LocalCluster of
    `workers` processes twice: its first run pays the workers' start and imports (a cluster
    started for one job), the second does not (long-lived workers, as on a real cluster).
    forms_from_searched: a seeded selection stores no forms, so the warm runs start from the
    searched run's stored state (forms searched on the same day: timing only, forecasts equal)."""
    walls = {}
    copy = directory / f"{label}_daily.db"
    shutil.copyfile(selected, copy)
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(update(forecast_series).values(fitted_params=None))
    walls["searched"], searched = timed_refresh(
        engine, "daily refresh (pool, forms searched)", config, workers, scope, as_of=END, own_sessions=True
    )
    if forms_from_searched:
        release_holds(engine)
        shutil.copyfile(copy, selected)
    engine.dispose()
    copy.unlink()
    runs = [("pool", None)] + ([("dask, cold workers", "dask"), ("dask, warm workers", "dask")] if dask else [])
    cluster = client = None
    if dask:  # workers in their own sessions, like the pool's (see forecasting.executors.local_cluster)
        cluster, client = local_cluster(workers, own_sessions=True)
    try:
        for name, executor in runs:
            copy = directory / f"{label}_daily.db"
            shutil.copyfile(selected, copy)
            engine = make_engine(f"sqlite:///{copy}")
            options = (
                {"executor": "dask", "scheduler": cluster.scheduler_address} if executor else {"own_sessions": True}
            )
            walls[name], report = timed_refresh(
                engine, f"daily refresh ({name})", config, workers, scope, as_of=END, **options
            )
            if name == "pool":
                print(
                    f"  daily refresh searched / warm = {walls['searched'] / walls['pool']:.2f}x; "
                    f"{warm_gap(searched, report)}",
                    flush=True,
                )
                print(f"  fits by served model, searched -> warm: {fits_by_model(searched, report)}", flush=True)
            engine.dispose()
            copy.unlink()
    finally:
        if cluster:
            client.close()
            cluster.close()
    if dask:
        print(
            f"  Dask LocalCluster / local pool (daily): cold workers {walls['dask, cold workers'] / walls['pool']:.2f}x, "
            f"warm workers {walls['dask, warm workers'] / walls['pool']:.2f}x",
            flush=True,
        )
    return walls


def warm_gap(searched, warm) -> str:
    """How far the warm refits' forecasts are from the searched refits' on the same data: the
    series whose search picked another form than the stored one differ, the others are equal."""
    other = {(r.plant_id, r.metric): r for r in searched.results}
    same, gaps = 0, []
    for r in warm.results:
        s = other.get((r.plant_id, r.metric))
        if s is None or not len(r.points) or len(r.points) != len(s.points):
            continue
        level = max(float(s.points["yhat"].abs().mean()), 1e-9)
        gap = float((r.points["yhat"] - s.points["yhat"]).abs().mean()) / level
        if r.row["fitted_params"] == s.row["fitted_params"]:
            same += 1
        else:
            gaps.append((gap, f"{r.plant_id} {r.metric} {r.row['chosen_model']}"))
    text = f"{same} series refit the form the search picks again (forecasts equal)"
    if gaps:
        gaps.sort()
        text += (
            f", {len(gaps)} another: mean |warm - searched| {100 * gaps[len(gaps) // 2][0]:.1f} % (median), "
            f"{100 * gaps[-1][0]:.1f} % (max, {gaps[-1][1]}) of the forecast level"
        )
    return text


def fits_by_model(searched, warm) -> str:
    """Seconds of fits per served model in two reports of the same series: where the time goes."""

    def sums(report):
        frame = pd.DataFrame(
            [(r.row["served_model"], r.row.get("seconds") or 0.0) for r in report.results], columns=["model", "seconds"]
        )
        return frame.groupby("model")["seconds"].agg(["size", "sum"])

    before, after = sums(searched), sums(warm)
    return "; ".join(
        f"{name} ({int(before.loc[name, 'size'])}) {before.loc[name, 'sum']:.1f} -> "
        f"{after['sum'].get(name, float('nan')):.1f} s"
        for name in before.index
    )


def seed_selection(engine, config: RefreshConfig, choices: dict) -> int:
    """Store, as if a backtest on END - 1 had chosen them, each large-network series' model: the
    choice of its template plant (the plant id without the generation digits) in the default
    network. Lets the daily refresh of the whole large network be measured without its full
    reselection (which on a busy shared machine takes over an hour). Returns the series seeded."""
    day = END - timedelta(days=1)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        model_id = model_serving.approved_version(conn, MODEL_NAME)["model_id"]
        run_id = f"{day:%Y%m%d}-seed"
        store.upsert_forecast_run(
            conn,
            {
                "run_id": run_id,
                "model_id": model_id,
                "data_end_day": day,
                "horizon_days": config.horizon,
                "job": "seed",
                "actor": "bench",
                "status": "done",
                "workers": 1,
                "series": 0,
                "fallbacks": 0,
                "failed": 0,
                "started_utc": now,
                "finished_utc": now,
                "seconds": None,
            },
        )
        seeded = 0
        for plant_id in plant_ids(engine, PlantScope.everything()):
            for metric in store.SERIES:
                chosen = choices.get((re.sub(r"\d+$", "", plant_id), metric))
                if chosen is None:
                    continue
                store.replace_series(
                    conn,
                    run_id,
                    plant_id,
                    metric,
                    {
                        "unit": store.SERIES[metric][1],
                        "served_model": chosen,
                        "approved": True,
                        "chosen_model": chosen,
                        "history_end": day,
                        "origins": config.origins,
                        "reselected_day": day,
                        "reselect_reason": "seeded by the benchmark from its template plant",
                        "fitted_utc": now,
                    },
                    pd.DataFrame(columns=["ds", "yhat", "yhat_lower", "yhat_upper"]),
                    [],
                )
                seeded += 1
    return seeded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="directory to keep the generated warehouses in")
    parser.add_argument("--large-plants", type=int, default=100)
    parser.add_argument(
        "--large-sample",
        type=int,
        default=12,
        help="plants of the large network measured (0: all of them, measured, not extrapolated)",
    )
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the pool and the local cluster")
    parser.add_argument("--skip-large", action="store_true", help="only the default 12-plant network")
    parser.add_argument("--skip-default", action="store_true", help="only the large network")
    parser.add_argument("--skip-dask", action="store_true", help="leave out the Dask LocalCluster runs")
    parser.add_argument(
        "--large-seeded",
        action="store_true",
        help="large network: measure only the daily refresh of every series, from a selection "
        "seeded with the default network's choices (see seed_selection)",
    )
    parser.add_argument(
        "--seed-from",
        type=Path,
        help="with --large-seeded and --skip-default: a default-network warehouse whose newest "
        "selection gives the choices (e.g. one kept from an earlier run)",
    )
    args = parser.parse_args(argv)
    config = RefreshConfig(history_days=args.history_days)
    directory = args.keep or Path(tempfile.mkdtemp(prefix="forecast_bench_"))
    directory.mkdir(parents=True, exist_ok=True)
    print(
        f"candidates {', '.join(config.candidates)}; history {config.history_days} days, {config.origins} "
        f"origins of {config.horizon} days; {args.workers} workers; {load()}",
        flush=True,
    )

    default = None
    if not args.skip_default:
        print("default network (12 plants):", flush=True)
        default = measure(build(directory, 12), directory, "default", config, args.workers, None, not args.skip_dask)

    if not args.skip_large:
        large = build(directory, args.large_plants)
        engine = make_engine(f"sqlite:///{large}")
        ids = plant_ids(engine, PlantScope.everything())
        engine.dispose()
        total_series = 3 * len(ids)
        if args.large_seeded:
            if default is None and args.seed_from:
                engine = make_engine(f"sqlite:///{args.seed_from}")
                latest = store.latest_series(engine, PlantScope.everything())
                engine.dispose()
                default = {"choices": dict(zip(zip(latest["plant_id"], latest["metric"]), latest["chosen_model"]))}
            if default is None:
                parser.error(
                    "--large-seeded needs the default network's choices: drop --skip-default or give --seed-from"
                )
            print(
                f"large network ({len(ids)} plants, {total_series} series), daily refresh from a seeded selection:",
                flush=True,
            )
            seeded = directory / "large_seeded.db"
            shutil.copyfile(large, seeded)
            engine = make_engine(f"sqlite:///{seeded}")
            approve(engine, config)
            print(f"  seeded {seed_selection(engine, config, default['choices'])} series", flush=True)
            engine.dispose()
            walls = daily_runs(
                seeded, directory, "large", config, args.workers, None, not args.skip_dask, forms_from_searched=True
            )
            seeded.unlink()
            print(
                f"  daily refresh of all {total_series} series: {walls['pool']:.0f} s with {args.workers} workers "
                f"(warm), {walls['searched']:.0f} s with forms searched"
                + (
                    f"; default network: full reselection / daily = {default['full'] / default['pool']:.1f}x"
                    if "full" in default
                    else ""
                ),
                flush=True,
            )
        elif args.large_sample <= 0:
            print(f"large network ({len(ids)} plants, {total_series} series), all of it:", flush=True)
            measure(large, directory, "large", config, args.workers, None, not args.skip_dask)
        else:
            generation = {p: int(re.search(r"(\d+)$", p).group(1)) for p in ids if re.search(r"\d$", p)}
            # plants of the repeated templates, the second generation first: one plant of each template
            sample = sorted(generation, key=lambda p: (generation[p], p))[: args.large_sample]
            print(f"large network ({len(ids)} plants), sample of {len(sample)} plants: {', '.join(sample)}", flush=True)
            out = measure(large, directory, "large", config, args.workers, PlantScope.only(sample), not args.skip_dask)
            scale = total_series / max(out["series"], 1)
            print(
                f"  extrapolated to all {total_series} series: full reselection {out['full'] * scale / 60:.1f} min, "
                f"daily refresh {out['pool'] * scale:.0f} s with {args.workers} workers",
                flush=True,
            )
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
