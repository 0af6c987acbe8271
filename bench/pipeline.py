"""The worker end to end: first start to a populated app, and a data load to its recommendations.

    python -m bench.pipeline [--plants 3] [--full]

1. First start: a worker (`python -m jobs.worker`, default schedules) starts on an empty SQLite
   file, generates the sample network (PNCT_SAMPLE_PLANTS) and runs the first-start pipeline
   (first versions approved by "sample-data setup", forecasts, risk, recommendations). Printed:
   seconds to the generated network, to the populated warehouse (every page has data), and
   the pipeline's own share.
2. Load to recommendation: a downtime file for one plant (a run of failures on one asset) is
   loaded through the ingest; printed: seconds from the committed load to its pipeline's
   orchestration (marts -> forecasts of that plant -> risk -> recommendations), with the
   series refitted for that plant and for the others (should be 0).

`--full` is the default 12-plant network (the first-start goal: at most 2 minutes on 2 cores).
Prints figures; asserts nothing.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from data_access.engine import make_engine
from data_access.ingest import load_file, parse_mapping
from data_access.schema import (
    asset,
    downtime_reason,
    forecast_series,
    job_request,
    job_run,
    line,
    recommendation,
    risk_score,
)

ROOT = Path(__file__).resolve().parent.parent


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def wait(condition, timeout: float, worker: subprocess.Popen) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if condition():
            return time.perf_counter()
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}")
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f} s")


def request_done(engine, kind: str):
    def done() -> bool:
        with engine.connect() as conn:
            return conn.execute(
                select(job_request.c.status).where(job_request.c.kind == kind).order_by(job_request.c.request_id.desc())
            ).scalar() in ("succeeded", "failed")

    return done


def failures_file(engine, folder: Path) -> tuple[str, dict, Path]:
    """A downtime file of five failures in the last days on one asset of a sensor plant's packaging line."""
    with engine.connect() as conn:
        plant_id, local = conn.execute(
            select(asset.c.plant_id, asset.c.local_code)
            .join(line, line.c.line_id == asset.c.line_id)
            .order_by(asset.c.plant_id, asset.c.asset_id)
            .limit(1)
        ).one()
        reason = conn.execute(
            select(downtime_reason.c.reason_code).where(downtime_reason.c.is_failure.is_(True)).limit(1)
        ).scalar_one()
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    lines = ["asset,start,end,reason"]
    for hours in (60, 48, 36, 20, 8):
        start = now - timedelta(hours=hours)
        lines.append(f"{local},{start:%Y-%m-%d %H:%M},{start + timedelta(hours=3):%Y-%m-%d %H:%M},Ausfall")
    path = folder / "failures.csv"
    path.write_text("\n".join(lines) + "\n")
    mapping = {
        "plant": plant_id,
        "source": "downtime",
        "columns": {"asset": "asset", "start": "start", "end": "end", "reason": "reason"},
        "codes": {"reason": {"Ausfall": reason}},
    }
    return plant_id, mapping, path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("--plants", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="the default 12-plant network")
    args = parser.parse_args(argv)
    plants = 12 if args.full else args.plants
    folder = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    url = f"sqlite:///{folder / 'warehouse.db'}"
    env = {**os.environ, "PNCT_SAMPLE_PLANTS": str(plants), "PNCT_SAMPLE_DATA": "auto"}
    env.pop("PNCT_JOBS_FILE", None)
    log = (folder / "worker.log").open("w")
    began = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--url", url], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        engine = None

        def generated() -> bool:
            nonlocal engine
            if not (folder / "warehouse.db").exists():
                return False
            engine = engine or make_engine(url)
            try:
                return count(engine, job_request) > 0
            except Exception:  # noqa: BLE001 - tables not there yet
                return False

        t_generated = wait(generated, 900, worker)
        t_populated = wait(request_done(engine, "first_start"), 1800, worker)
        with engine.connect() as conn:
            outcome = conn.execute(
                select(job_request.c.status, job_request.c.error).where(job_request.c.kind == "first_start")
            ).one()
            steps = conn.execute(
                select(job_run.c.job_name, job_run.c.seconds)
                .where(job_run.c.trigger == "first_start")
                .order_by(job_run.c.run_id)
            ).all()
        print(
            f"first start, {plants} plants on {os.cpu_count()} cores: network generated after "
            f"{t_generated - began:.1f} s, every page populated after {t_populated - began:.1f} s "
            f"(first-start pipeline {t_populated - t_generated:.1f} s: "
            + ", ".join(f"{name} {seconds or 0:.1f} s" for name, seconds in steps)
            + f"); outcome {outcome[0]}"
            + (f" ({outcome[1]})" if outcome[1] else "")
        )
        print(
            f"  stored: {count(engine, forecast_series)} forecast series, {count(engine, risk_score)} risk scores, "
            f"{count(engine, recommendation)} recommendations"
        )

        plant_id, mapping, path = failures_file(engine, folder)
        fitted_before = count(engine, forecast_series)
        result = load_file(engine, plant_id, "downtime", parse_mapping(mapping), path, actor="bench")
        loaded = time.perf_counter()
        done = wait(request_done(engine, "load"), 900, worker)
        with engine.connect() as conn:
            refit = dict(
                conn.execute(
                    select(forecast_series.c.plant_id == plant_id, func.count())
                    .where(
                        forecast_series.c.fitted_utc
                        >= datetime.now(timezone.utc) - timedelta(seconds=done - loaded + 5)
                    )
                    .group_by(forecast_series.c.plant_id == plant_id)
                ).all()
            )
        print(
            f"load to recommendation: {result.inserted} rows loaded for {plant_id} ({result.status}); its pipeline "
            f"(marts, forecasts, risk, recommendations) done {done - loaded:.1f} s after the load committed; "
            f"series refitted: {refit.get(True, 0)} of {plant_id}, {refit.get(False, 0)} of other plants; "
            f"forecast series stored {fitted_before} -> {count(engine, forecast_series)}; "
            f"recommendations now {count(engine, recommendation)}"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    print(f"(worker log: {folder / 'worker.log'})")


if __name__ == "__main__":
    main()
