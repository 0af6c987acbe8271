"""Benchmark of the forecast refresh: every series of a network, two worker processes against one.

    python -m bench.forecast_refresh [--keep DIR] [--large-plants 100] [--large-sample 12]
                                     [--history-days 730] [--skip-large] [--skip-default]
                                     [--large-one-process]

1. Builds the default network (12 plants, 1,095 days, SQLite) and refreshes all its series
   (3 per plant) on copies of the same file, its forecaster version approved first (so every
   series refits and serves its chosen model, as in production): in one process, with 2 worker
   processes, and with
   2 worker processes each in its own session. Prints the wall times and the ratios against
   one process. Why the third: with Linux autogroup scheduling (kernel.sched_autogroup_enabled)
   the processes of one session share one fair slice of the CPU, so on a machine busy with
   other sessions a second worker in the same session cannot get a second core's worth.
2. The large network (100 plants = 300 series): built, then refreshed with 2 workers in own
   sessions, all of it with `--large-sample 0` (about 20 min on 2 cores; add
   `--large-one-process` for the one-process time and ratio, about 45 min more). With a sample
   (the default, 12 plants of the repeated templates, not the 12 measured above) the full
   time is extrapolated by series count (every series is fitted on the same capped history,
   so the cost per series does not grow with the network; reading grows but is measured in
   the sample), and printed as an extrapolation.
The load average is printed beside every timing: this machine is shared, and ratios measured
in one run are the result, not the seconds.
"""

import argparse
import os
import re
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from data_access import migrate
from data_access.engine import make_engine
from data_access.intelligence import plant_ids
from data_access.scope import PlantScope
from forecasting.refresh import HISTORY_DAYS, MODEL_NAME, RefreshConfig
from jobs import pipeline
from governance import model_serving
from governance.users import User
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


def timed_refresh(source: Path, directory: Path, name: str, config: RefreshConfig, workers: int,
                  scope: PlantScope | None = None, own_sessions: bool = False):
    copy = directory / f"{name}.db"
    shutil.copyfile(source, copy)
    engine = make_engine(f"sqlite:///{copy}")
    approve(engine, config)
    before = load()
    started = time.perf_counter()
    report = pipeline.refresh_forecasts(engine, config, workers=workers, scope=scope, actor="bench", own_sessions=own_sessions)
    wall = time.perf_counter() - started
    engine.dispose()
    copy.unlink()
    print(f"  {name:<34} {report.series:4d} series  {wall:7.1f} s wall  {report.fit_seconds:7.1f} s of fits  "
          f"({report.fallbacks} fallbacks, {report.failed} failed; {before} -> {load()})")
    return wall, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="directory to keep the generated warehouses in")
    parser.add_argument("--large-plants", type=int, default=100)
    parser.add_argument("--large-sample", type=int, default=12,
                        help="plants of the large network refreshed (0: all of them, measured, not extrapolated)")
    parser.add_argument("--large-one-process", action="store_true",
                        help="with --large-sample 0: also refresh the whole large network in one process")
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-default", action="store_true", help="only the large network's sample")
    args = parser.parse_args(argv)
    config = RefreshConfig(history_days=args.history_days)
    directory = args.keep or Path(tempfile.mkdtemp(prefix="forecast_bench_"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"candidates {', '.join(config.candidates)}; history {config.history_days} days, {config.origins} "
          f"origins of {config.horizon} days; {load()}")

    ratio = per_series = None
    if not args.skip_default:
        default = build(directory, 12)
        autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
        print(f"autogroup scheduling: {autogroup.read_text().strip() if autogroup.exists() else 'unknown'}")
        print("default network (12 plants):")
        single, report = timed_refresh(default, directory, "1 process", config, 1)
        shared, _ = timed_refresh(default, directory, "2 workers, one session", config, 2)
        parallel, _ = timed_refresh(default, directory, "2 workers, own sessions", config, 2, own_sessions=True)
        ratio, per_series = single / parallel, parallel / report.series
        print(f"  one process / 2 workers in one session = {single / shared:.2f}x; "
              f"one process / 2 workers in own sessions = {ratio:.2f}x (parallel efficiency {ratio / 2:.0%}); "
              f"{report.series} series in {parallel / 60:.1f} min with both cores")

    if not args.skip_large:
        large = build(directory, args.large_plants)
        engine = make_engine(f"sqlite:///{large}")
        ids = plant_ids(engine, PlantScope.everything())
        engine.dispose()
        total_series = 3 * len(ids)
        if args.large_sample <= 0:
            print(f"large network ({len(ids)} plants, {total_series} series), all of it:")
            parallel, full = timed_refresh(large, directory, "2 workers, own sessions", config, 2, own_sessions=True)
            line = f"  {full.series} series in {parallel / 60:.1f} min with both cores"
            if args.large_one_process:
                single, _ = timed_refresh(large, directory, "1 process", config, 1)
                line += f"; one process / 2 workers = {single / parallel:.2f}x"
            print(line)
        else:
            generation = {p: int(re.search(r"(\d+)$", p).group(1)) for p in ids if re.search(r"\d$", p)}
            # plants of the repeated templates, the second generation first: one plant of each template
            sample = sorted(generation, key=lambda p: (generation[p], p))[:args.large_sample]
            print(f"large network ({len(ids)} plants), sample of {len(sample)} plants: {', '.join(sample)}")
            wall, sampled = timed_refresh(large, directory, "2 workers, own sessions (sample)", config, 2,
                                          scope=PlantScope.only(sample), own_sessions=True)
            estimate = wall * total_series / max(sampled.series, 1)
            line = f"  extrapolated to all {total_series} series: {estimate / 60:.1f} min with both cores"
            if ratio:
                line += (f", {estimate * ratio / 60:.1f} min in one process (by the default network's ratio); "
                         f"sample / default per-series time = {(wall / sampled.series) / per_series:.2f}x")
            print(line)
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
