"""The worker (jobs/worker.py): --once, exactly once per tick across workers, takeover after kill -9,
a load's pipeline for its plant only, retries, bad schedules and an unreachable warehouse.

Workers run as real subprocesses against one SQLite file and one PostgreSQL database; the
counts come from the `job_run` rows and from what each worker printed it ran.
"""

import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, func, select

import sample_data
from data_access import jobs as store
from data_access import migrate
from data_access.engine import make_engine
from data_access.ingest import load_file, parse_mapping
from data_access.schema import (
    audit_log,
    forecast,
    forecast_series,
    job_request,
    job_run,
    recommendation,
    risk_score,
)
from data_access.scope import PlantScope
from jobs import first_start, schedule, steps
from jobs.worker import SERVICES, Worker
from tests import tiny_network

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "ingest_corpus"
BASE = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["base_mapping"]
PYTHON = sys.executable
YESTERDAY = datetime.now(timezone.utc).date() - timedelta(days=1)
QUICK = """
[worker]
retries = 0
backoff_seconds = 0.1
forecast_workers = 1
poll_seconds = 0.5
lease_seconds = 3
[forecast]
candidates = ["seasonal_naive", "theta"]
[services]
delivery = false
inbound = false
live = false
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def worker_for(engine, tmp_path, extra: str = "") -> Worker:
    return Worker(engine, schedule.load(write(tmp_path, "jobs.toml", QUICK + extra)), name="test-worker")


@pytest.fixture
def network(backend_url):
    """Two generated plants, 120 days up to yesterday, without the first-start request."""
    engine = make_engine(backend_url)
    sample_data.generate(engine, plants=2, days=120, seed=7)
    with engine.begin() as conn:
        conn.execute(delete(job_request))
    yield engine
    engine.dispose()


# --- --once ---------------------------------------------------------------------------------------


def test_once_fills_forecasts_scores_and_recommendations_and_a_second_run_changes_nothing(network, tmp_path):
    worker = worker_for(network, tmp_path)
    assert worker.run_once() is True
    runs = store.recent_runs(network, PlantScope.everything())
    assert sorted(runs["job_name"]) == sorted(schedule.JOB_NAMES)
    assert set(runs["status"]) == {"succeeded"} and set(runs["trigger"]) == {"once"}
    series, points = rows(network, forecast_series), rows(network, forecast)
    recs = rows(network, recommendation)
    assert series == 2 * 3 and points > 0
    assert rows(network, risk_score) > 0 and recs > 0

    assert worker.run_once() is True
    assert rows(network, job_run) == 2 * len(schedule.JOB_NAMES)
    assert (rows(network, forecast_series), rows(network, forecast), rows(network, recommendation)) == (
        series,
        points,
        recs,
    )


def test_once_exits_0_and_an_unreachable_warehouse_exits_2_with_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    tiny_network.build(engine)
    config = write(tmp_path, "jobs.toml", QUICK)
    done = subprocess.run(
        [PYTHON, "-m", "jobs.worker", "--once", "--url", url, "--schedules", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(re.findall(r"^ran (\w+) ", done.stdout, re.M)) == sorted(schedule.JOB_NAMES)

    gone = subprocess.run(
        [
            PYTHON,
            "-m",
            "jobs.worker",
            "--once",
            "--url",
            "postgresql://nobody@127.0.0.1:9/none",
            "--schedules",
            str(config),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gone.returncode == 2
    assert gone.stderr.strip().startswith("error: cannot use postgresql://nobody@127.0.0.1:9/none")
    assert "Traceback" not in gone.stderr and len(gone.stderr.strip().splitlines()) == 1


def test_a_serving_worker_waits_for_an_unreachable_warehouse_and_says_why_once(capsys):
    stop = threading.Event()
    timer = threading.Timer(1.5, stop.set)
    timer.start()
    assert first_start.wait_for_warehouse("postgresql://nobody@127.0.0.1:9/none", {"poll_seconds": 0.2}, stop) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("worker waiting for the warehouse: cannot use")


# --- schedules --------------------------------------------------------------------------------------


def test_a_bad_schedule_is_one_line_each_and_the_other_jobs_keep_theirs(tmp_path):
    config = schedule.load(
        write(
            tmp_path,
            "jobs.toml",
            """
[worker]
lease_seconds = -1
[jobs.nightly]
cron = "0 2 * * *"
[jobs.risk]
cron = "61 * * * *"
[jobs.sla]
every = "often"
[jobs.marts]
cron = "0 3 * * *"
every = "1h"
""",
        )
    )
    assert config.problems == [
        "worker.lease_seconds = -1 is not a non-negative number; using 120.0",
        "unknown job 'nightly' in the schedules (known: feeds, marts, forecasts, risk, orchestrate, sla); ignored",
        'job \'marts\': give exactly one of cron = "m h dom mon dow" or every = "5m"; not scheduled',
        (
            "job 'risk': invalid cron expression '61 * * * *' (Error validating expression '61': the last value (61) "
            "is higher than the maximum value (59)); not scheduled"
        ),
        'job \'sla\': invalid interval \'often\' (e.g. "30s", "5m", "1h"); not scheduled',
    ]
    assert list(config.jobs) == ["feeds", "forecasts", "orchestrate"]  # the defaults of the valid ones
    assert config.jobs["forecasts"].text == "cron 0 2 * * *"


def test_ticks_are_the_same_for_every_worker():
    config = schedule.load()
    now = datetime(2026, 7, 1, 10, 7, 31, tzinfo=timezone.utc)
    assert config.jobs["sla"].latest_tick(now) == datetime(2026, 7, 1, 10, 5, tzinfo=timezone.utc)
    assert config.jobs["risk"].latest_tick(now) == datetime(2026, 7, 1, 10, 5, tzinfo=timezone.utc)
    assert config.jobs["forecasts"].latest_tick(now) == datetime(2026, 7, 1, 2, 0, tzinfo=timezone.utc)
    assert config.jobs["forecasts"].next_run(now) == datetime(2026, 7, 2, 2, 0, tzinfo=timezone.utc)


def test_a_missing_schedules_file_stops_the_worker_with_one_line(tmp_path):
    done = subprocess.run(
        [PYTHON, "-m", "jobs.worker", "--once", "--schedules", str(tmp_path / "nope.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: schedules file {tmp_path / 'nope.toml'} does not exist"


# --- failures ----------------------------------------------------------------------------------------


def test_a_failing_job_is_retried_then_recorded_failed_and_the_next_tick_tries_again(
    empty_engine, tmp_path, monkeypatch
):
    tiny_network.build(empty_engine)
    calls = []

    def broken(step):
        calls.append(1)
        raise RuntimeError("feed table unreadable\nsecond line")

    monkeypatch.setitem(steps.JOBS, "feeds", ("Feed freshness check", broken))
    worker = worker_for(empty_engine, tmp_path, "")
    worker.settings["retries"] = 2
    assert worker.run_job("feeds", "tick:1", "schedule") is False
    assert len(calls) == 3
    run = store.recent_runs(empty_engine, PlantScope.everything()).iloc[0]
    assert (run.status, run.attempt, run.error) == ("failed", 3, "RuntimeError: feed table unreadable")
    assert store.failing_jobs(empty_engine) == ["feeds"]
    monkeypatch.setitem(steps.JOBS, "feeds", ("Feed freshness check", steps.feeds))
    assert worker.run_job("feeds", "tick:2", "schedule") is True
    assert store.failing_jobs(empty_engine) == []


# --- a load's pipeline --------------------------------------------------------------------------------


def test_a_load_triggers_the_pipeline_for_its_plant_only(empty_engine, tmp_path):
    tiny_network.build(empty_engine)
    result = load_file(empty_engine, "A", "downtime", parse_mapping(BASE), CORPUS / "good.csv", now=tiny_network.NOW)
    assert result.status == "loaded"
    pending = store.requests(empty_engine, PlantScope.everything())
    assert list(pending[["kind", "plant_id", "load_id", "status"]].itertuples(index=False, name=None)) == [
        ("load", "A", result.load_id, "pending")
    ]

    worker = worker_for(empty_engine, tmp_path)
    assert worker.poll() == 1
    runs = store.recent_runs(empty_engine, PlantScope.everything())
    assert sorted(runs["job_name"]) == sorted(steps.LOAD_PIPELINE)
    assert set(runs["plant_id"]) == {"A"} and set(runs["status"]) == {"succeeded"}
    with empty_engine.connect() as conn:
        assert set(conn.execute(select(forecast_series.c.plant_id)).scalars()) == {"A"}
    assert store.requests(empty_engine, PlantScope.everything())["status"].tolist() == ["succeeded"]
    assert worker.poll() == 0  # nothing left to do


def test_run_now_is_a_request_with_its_audit_row_and_refused_without_the_permission(empty_engine, tmp_path):
    from governance.users import User
    from jobs import requests

    tiny_network.build(empty_engine)
    steward = User("steward", "S", "s@example.com", ("data_steward",), None)
    planner = User("planner", "P", "p@example.com", ("planner",), frozenset({"A"}))
    request_id = requests.run_now(empty_engine, steward, "sla")
    with pytest.raises(requests.RequestRefused, match="Only a data steward or an admin"):
        requests.run_now(empty_engine, planner, "sla")
    with empty_engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.actor, audit_log.c.action).order_by(audit_log.c.seq)).all()
    assert [tuple(a) for a in actions] == [("steward", "job_run_now"), ("planner", "job_run_now_refused")]
    assert worker_for(empty_engine, tmp_path).poll() == 1
    runs = store.recent_runs(empty_engine, PlantScope.everything())
    assert runs[["job_name", "run_key", "trigger", "status"]].values.tolist() == [
        ["sla", f"request:{request_id}", "job", "succeeded"]
    ]


# --- several workers ---------------------------------------------------------------------------------


def start_worker(url: str, config: Path, name: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "jobs.worker", "--url", url, "--schedules", str(config), "--name", name],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_workers_run_every_tick_of_every_job_exactly_once(network, backend_url, tmp_path):
    config = write(
        tmp_path,
        "jobs.toml",
        QUICK
        + """
[jobs.feeds]
every = "1s"
[jobs.sla]
every = "1s"
[jobs.orchestrate]
every = "4s"
[jobs.marts]
enabled = false
[jobs.forecasts]
enabled = false
[jobs.risk]
enabled = false
""",
    )
    logs = [tmp_path / f"w{i}.log" for i in range(3)]
    workers = [start_worker(backend_url, config, f"w{i}", logs[i]) for i in range(3)]
    try:
        wait_until(lambda: all("serving" in log.read_text() for log in logs), 120, "three workers serving")
        time.sleep(8)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
    assert [w.returncode for w in workers] == [0, 0, 0]
    ran = Counter(re.findall(r"^ran (\w+) (tick:\S+) by w\d$", "".join(log.read_text() for log in logs), re.M))
    assert ran and max(ran.values()) == 1, [k for k, n in ran.items() if n > 1]
    with network.connect() as conn:
        stored = Counter(
            (r.job_name, r.run_key)
            for r in conn.execute(select(job_run.c.job_name, job_run.c.run_key).where(job_run.c.trigger == "schedule"))
        )
    assert stored == ran  # every tick a worker ran is one row, and no row without its run
    by_worker = Counter(re.findall(r"^ran \w+ tick:\S+ by (w\d)$", "".join(log.read_text() for log in logs), re.M))
    print(f"{len(ran)} ticks ran, each once; per worker {dict(by_worker)}")
    # A tick is skipped only while every worker still runs the job's previous tick (one instance
    # per worker): the orchestration gets 4 s, longer than it takes here even on a busy machine.
    for job, step in (("feeds", 1), ("sla", 1), ("orchestrate", 4)):
        ticks = sorted(datetime.fromisoformat(key.removeprefix("tick:")) for j, key in ran if j == job)
        gaps = [b - a for a, b in zip(ticks, ticks[1:]) if b - a != timedelta(seconds=step)]
        assert len(ticks) >= 8 // step and not gaps, (job, gaps)  # no tick lost while the workers ran


def test_a_worker_killed_mid_refresh_is_taken_over_with_nothing_lost_or_duplicated(backend_url, tmp_path):
    engine = make_engine(backend_url)
    sample_data.generate(engine, plants=2, days=400, seed=7)
    with engine.begin() as conn:
        conn.execute(delete(job_request))
        request_id = store.request(conn, "job", "test", job_name="forecasts")
    config = write(
        tmp_path,
        "jobs.toml",
        QUICK.replace('["seasonal_naive", "theta"]', '["seasonal_naive", "theta", "ets"]')
        + """
[jobs.feeds]
enabled = false
[jobs.marts]
enabled = false
[jobs.forecasts]
enabled = false
[jobs.risk]
enabled = false
[jobs.orchestrate]
enabled = false
[jobs.sla]
enabled = false
""",
    )
    first = start_worker(backend_url, config, "doomed", tmp_path / "doomed.log")
    r = job_run.c
    try:

        def mid_run():
            with engine.connect() as conn:
                return conn.execute(
                    select(r.progress).where(r.job_name == "forecasts", r.status == "running", r.progress > 0)
                ).first()

        wait_until(mid_run, 240, "the refresh to store its first series")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with engine.connect() as conn:
        stored_before = conn.execute(select(func.count()).select_from(forecast_series)).scalar_one()
    assert 0 < stored_before < 6  # killed in the middle
    second = start_worker(backend_url, config, "heir", tmp_path / "heir.log")
    try:

        def finished():
            with engine.connect() as conn:
                return conn.execute(
                    select(r.status, r.worker, r.attempt).where(r.job_name == "forecasts", r.status != "running")
                ).first()

        status, worker, attempt = wait_until(finished, 300, "the second worker to finish the refresh")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert (status, worker, attempt) == ("succeeded", "heir", 2)
    with engine.connect() as conn:
        series = conn.execute(select(forecast_series.c.plant_id, forecast_series.c.metric)).all()
        per_series = (
            conn.execute(
                select(func.count())
                .select_from(forecast)
                .group_by(forecast.c.run_id, forecast.c.plant_id, forecast.c.metric)
            )
            .scalars()
            .all()
        )
        request = conn.execute(
            select(job_request.c.status, job_request.c.worker).where(job_request.c.request_id == request_id)
        ).one()
    assert len(series) == len(set(series)) == 6  # every series once: none lost, none twice
    assert per_series == [28] * 6  # every forecast point once
    assert tuple(request) == ("succeeded", "heir")
    print(f"killed after {stored_before} of 6 series; the heir finished with 6, no duplicate")
    engine.dispose()


def test_the_services_to_host_come_from_the_schedules_and_unknown_ones_are_named(tmp_path):
    assert schedule.load(None).services == schedule.SERVICE_NAMES  # the defaults host all three
    config = schedule.load(
        write(
            tmp_path,
            "jobs.toml",
            """
[services]
live = false
inbound = "yes"
weather = true
""",
        )
    )
    assert config.services == ("delivery",)
    assert "services.inbound = 'yes' is not true or false; not started" in config.problems
    assert any("unknown service 'weather'" in p for p in config.problems)
    assert set(SERVICES) == set(schedule.SERVICE_NAMES)
