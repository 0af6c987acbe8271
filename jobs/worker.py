"""The worker: runs the pipeline on its schedules, on request and after each data load.

    python -m jobs.worker [--url URL] [--once] [--schedules FILE] [--name NAME]

- Schedules: APScheduler 3 (cron and interval triggers from jobs.schedule; a missed tick runs
  once, coalesced, within the misfire grace; one instance of a job at a time, different jobs
  side by side).
- Exactly once per tick across any number of workers: each tick is a `job_run` row, unique
  per (job, tick), that is also the run's lease (data_access.jobs.claim_run): the worker
  whose insert wins runs it and renews the lease while running; the others skip the tick. A
  worker that dies mid-run stops renewing, and another worker's poll takes the run over.
- Requests: "Run now" on the Jobs page (one job), a completed data load (the pipeline for its
  plant: marts -> forecasts -> risk -> orchestration), the sample network's first start (with
  the first model versions approved by "sample-data setup"); picked up every poll_seconds.
- Failures: retried with backoff `retries` times, then recorded as failed with the error;
  the next tick tries again.
- Services: long-running loops (outbox delivery, live feeds) registered in SERVICES run in
  threads beside the schedules and stop with the worker.
- `--once` runs every job once in pipeline order and exits 0 when all succeeded (2 otherwise).
"""

import argparse
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access import jobs as store
from data_access.engine import WarehouseError, describe, first_line, open_warehouse, warehouse_url
from jobs import delivery, first_start, live, schedule, steps

log = logging.getLogger("jobs.worker")

Service = Callable[[Engine, None, threading.Event], None]
SERVICES: dict[str, Service] = {
    "delivery": delivery.run_delivery,
    "inbound": delivery.run_inbound,
    "live": live.run_collector,
}
"""Long-running loops the worker hosts (those `[services]` of the schedules file turns on): name ->
callable(engine, None, stop_event), each reading its own configuration, run in a thread until
stop_event is set."""

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 2, 130
HEARTBEAT_S = 2.0


class Worker:
    """One worker process's scheduler, request poller and services over one warehouse."""

    def __init__(self, engine: Engine, schedules: schedule.Schedules, name: str | None = None):
        self.engine = engine
        self.schedules = schedules
        self.settings = {**schedules.worker, "candidates": schedules.candidates}
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")[:96]
        self.stop = threading.Event()
        self.lease_s = float(self.settings["lease_seconds"])
        self.ticks = {name: queue.SimpleQueue() for name in schedules.jobs}  # submitted, not yet run

    # --- one run ---------------------------------------------------------------------------------

    def run_job(
        self,
        job_name: str,
        run_key: str,
        trigger: str,
        *,
        plant_id: str | None = None,
        request_id: int | None = None,
        sample_setup: bool = False,
    ) -> bool | None:
        """Run `job_name` under the lease (job_name, run_key). True succeeded, False failed, None
        when another worker holds or finished it."""
        job = self.schedules.jobs.get(job_name)
        run_id = store.claim_run(
            self.engine,
            job_name,
            run_key,
            self.name,
            self.lease_s,
            trigger=trigger,
            request_id=request_id,
            plant_id=plant_id,
            schedule=job.text if job else None,
        )
        if run_id is None:
            return None
        label, body = steps.JOBS[job_name]
        progress = _Progress(self, run_id, request_id)
        started = time.perf_counter()
        retries = int(self.settings["retries"])
        backoff = float(self.settings["backoff_seconds"])
        error = None
        with _Heartbeat(self, run_id, progress):
            for attempt in range(retries + 1):
                if attempt:
                    progress(0.0, f"retry {attempt} of {retries} after: {error.splitlines()[0][:120]}")
                    if self.stop.wait(backoff * 2 ** (attempt - 1)):
                        break
                try:
                    counts, message = body(steps.Step(self.engine, self.settings, plant_id, progress, sample_setup))
                except Exception as exc:  # noqa: BLE001 - every failure is recorded, retried, never fatal
                    error = f"{type(exc).__name__}: {first_line(exc)}"
                    log.warning("%s (%s) attempt %d failed: %s", job_name, run_key, attempt + 1, error)
                    log.debug("%s", traceback.format_exc())
                    continue
                seconds = time.perf_counter() - started
                store.finish_run(
                    self.engine,
                    run_id,
                    self.name,
                    succeeded=True,
                    seconds=seconds,
                    counts=counts,
                    message=message,
                    attempts=attempt,
                )
                log.info("%s %s (%s): %s in %.1f s", label, trigger, run_key, message, seconds)
                print(f"ran {job_name} {run_key} by {self.name}", flush=True)
                return True
        store.finish_run(
            self.engine,
            run_id,
            self.name,
            succeeded=False,
            seconds=time.perf_counter() - started,
            error=error or "stopped before it could finish",
            attempts=retries,
        )
        log.error("%s (%s) failed: %s", label, run_key, error)
        return False

    def _submitted(self, event) -> None:
        """APScheduler's submission event carries the tick it submitted (the newest, coalesced)."""
        self.ticks[event.job_id].put(event.scheduled_run_times[-1])

    def scheduled(self, job_name: str) -> None:
        """An APScheduler call: the tick it was submitted for, run by whichever worker claims it.
        (The tick, not the time it starts: a start delayed past the next tick is still its own tick.)"""
        try:
            tick = self.ticks[job_name].get(timeout=10)
        except queue.Empty:  # the submission event did not arrive: the tick at hand
            tick = self.schedules.jobs[job_name].latest_tick(datetime.now(timezone.utc))
        if tick is None:
            return
        try:
            self.run_job(job_name, f"tick:{tick.astimezone(timezone.utc).isoformat()}", "schedule")
        except SQLAlchemyError as exc:  # the warehouse went away: this tick is lost for this worker only
            log.error("%s: the warehouse cannot be used: %s", job_name, first_line(exc))

    def run_once(self) -> bool:
        """Every job once, in pipeline order (a failed one does not stop the others); True when all
        succeeded."""
        key = f"once:{datetime.now(timezone.utc).isoformat()}"
        outcomes = [self.run_job(name, key, "once") for name in schedule.JOB_NAMES]
        return all(outcome is True for outcome in outcomes)

    # --- requests and takeovers -------------------------------------------------------------------

    def poll(self) -> int:
        """Serve pending requests and take over runs whose worker stopped; returns how many."""
        served = 0
        while not self.stop.is_set():
            request = store.claim_request(self.engine, self.name, self.lease_s)
            if request is None:
                break
            self.serve_request(request)
            served += 1
        for run in store.expired_runs(self.engine):
            if self.stop.is_set():
                break
            if self.run_job(run["job_name"], run["run_key"], run["trigger"], plant_id=run["plant_id"]) is not None:
                served += 1
        return served

    def serve_request(self, request: dict) -> bool:
        kind, request_id = request["kind"], request["request_id"]
        if kind == "job":
            names = [request["job_name"]] if request["job_name"] in steps.JOBS else []
        elif kind == "load":
            names = list(steps.LOAD_PIPELINE)
        else:
            names = list(steps.FIRST_START)
        ok, error = bool(names), None if names else f"unknown job {request['job_name']!r}"
        for name in names:
            store.renew_request(self.engine, request_id, self.name, self.lease_s)
            outcome = self.run_job(
                name,
                f"request:{request_id}",
                kind,
                request_id=request_id,
                plant_id=request["plant_id"] if kind == "load" else None,
                sample_setup=kind == "first_start",
            )
            if outcome is None:  # done before a takeover, or held by a worker that still runs it
                outcome = store.run_status(self.engine, name, f"request:{request_id}") == "succeeded"
            if not outcome:
                ok, error = False, f"{name} failed (see its run)"
                break  # later steps would work on what this one did not produce
        store.finish_request(self.engine, request_id, self.name, succeeded=ok, error=error)
        return ok

    # --- serving ----------------------------------------------------------------------------------

    def serve(self) -> None:
        """Run until `stop` is set: services, schedules, and the request poll in this thread."""
        threads = [
            threading.Thread(
                target=_service,
                args=(name, SERVICES[name], self.engine, self.stop),
                name=f"service-{name}",
                daemon=True,
            )
            for name in self.schedules.services
        ]
        for thread in threads:
            thread.start()
        # one thread per job: jobs may overlap, one job never (max_instances), so a long forecast
        # refresh does not make this worker skip the SLA ticks behind it
        scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(max(1, len(self.schedules.jobs)))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.settings["misfire_grace_seconds"]) or None,
            },
        )
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        for name, job in self.schedules.jobs.items():
            scheduler.add_job(self.scheduled, job.trigger, args=[name], id=name, name=steps.JOBS[name][0])
        scheduler.start()
        try:
            while not self.stop.is_set():
                try:
                    self.poll()
                except SQLAlchemyError as exc:
                    log.error("the warehouse cannot be used: %s; retrying", first_line(exc))
                self.stop.wait(float(self.settings["poll_seconds"]))
        finally:
            scheduler.shutdown(wait=False)
            for thread in threads:
                thread.join(timeout=10)


def _service(name: str, fn: Service, engine: Engine, stop: threading.Event) -> None:
    """A service loop; one that raises is restarted after a pause until the worker stops."""
    while not stop.is_set():
        try:
            fn(engine, None, stop)
        except Exception as exc:  # noqa: BLE001 - logged and restarted, the worker goes on
            log.error("service %s stopped: %s: %s; restarting in 10 s", name, type(exc).__name__, exc)
            stop.wait(10)


class _Progress:
    """A job's progress callback: kept in memory and written by the run's heartbeat thread, so
    the job never waits on its own write (a SQLite job holding the write lock would)."""

    def __init__(self, worker: Worker, run_id: int, request_id: int | None = None):
        self.worker, self.run_id, self.request_id = worker, run_id, request_id
        self.fraction, self.message = 0.0, None

    def __call__(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def flush(self) -> None:
        try:
            store.renew_run(
                self.worker.engine,
                self.run_id,
                self.worker.name,
                self.worker.lease_s,
                progress=self.fraction,
                message=self.message,
            )
            if self.request_id is not None:  # the request a step belongs to is held as long
                store.renew_request(self.worker.engine, self.request_id, self.worker.name, self.worker.lease_s)
        except SQLAlchemyError as exc:  # a busy warehouse: the next beat writes it
            log.debug("progress not written: %s", first_line(exc))


class _Heartbeat:
    """Renews a run's lease and writes its progress every HEARTBEAT_S (at most a third of the
    lease) while the run's body works."""

    def __init__(self, worker: Worker, run_id: int, progress: _Progress):
        self.worker, self.progress = worker, progress
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"lease-{run_id}")

    def _beat(self) -> None:
        while not self.done.wait(min(HEARTBEAT_S, self.worker.lease_s / 3)):
            self.progress.flush()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


# --- command line ---------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m jobs.worker",
        description="Run the pipeline's jobs on their schedules, on request and after loads.",
    )
    p.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, or the SQLite file)")
    p.add_argument("--once", action="store_true", help="run every job once in pipeline order and exit")
    p.add_argument(
        "--schedules", help=f"schedules file (default: {schedule.ENV_VAR}, secrets.toml, or config/jobs.toml alone)"
    )
    p.add_argument("--name", help="this worker's name in job runs (default: host:pid:random)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    for quiet in ("apscheduler", "alembic"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").disabled = True
    try:
        schedules = schedule.load(args.schedules)
        url = args.url or warehouse_url()
    except (schedule.ScheduleError, WarehouseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for problem in schedules.problems:
        print(f"schedules: {problem}", file=sys.stderr)
    if args.once:
        try:
            engine = open_warehouse(url)
            ok = Worker(engine, schedules, args.name).run_once()
        except (WarehouseError, SQLAlchemyError) as exc:
            print(f"error: {first_line(exc)}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK if ok else EXIT_FAILED

    stop = threading.Event()

    def on_signal(*_) -> None:
        """The first signal stops the worker after the job at hand; a second one at once (the
        run's lease then expires and another worker takes it over)."""
        if stop.is_set():
            os._exit(EXIT_INTERRUPTED)
        print("worker stopping after the job at hand (signal again to stop now)", file=sys.stderr, flush=True)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    engine = first_start.wait_for_warehouse(url, schedules.worker, stop)
    if engine is None:
        return EXIT_OK
    worker = Worker(engine, schedules, args.name)
    worker.stop = stop
    print(
        f"worker {worker.name} serving {describe(url)}: "
        + ", ".join(f"{name} {job.text}" for name, job in schedules.jobs.items()),
        file=sys.stderr,
        flush=True,
    )
    worker.serve()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
