"""Live feed benchmark: readings per second into SQLite and PostgreSQL, publish -> stored and
publish -> recommendation latency, and the counts published, stored and lost.

    python -m bench.live [--readings 8000] [--no-postgresql] [--pg-admin-url URL]

Against a private Mosquitto (bench/mqtt_broker.py: persistence on, no queue limit,
max_inflight_messages `--inflight`) on a free port, with the collector in a process of its own
(`python -m jobs.live`, as the worker runs it) and the sample publisher
(`sample_data.live.Publisher`, QoS 1) in this one:

1. throughput: `--readings` readings published as fast as the publisher goes, four per message
   (one message per asset and tick, as the sample gateway sends them); readings/s = readings
   stored / seconds from the first publish to the last stored;
2. publish -> stored: single readings published one at a time, each waited for (median, p95);
   then faults: 6,000 readings with the broker restarted after a third and the collector
   killed with SIGKILL and restarted after two thirds;
3. publish -> recommendation: on a generated 4-plant network (scored once beforehand), a week of
   climbing vibration of one asset at the sensor plant NA-JOL, the collector rescoring every
   2 s; the time from the last publish to its maintenance recommendation in the warehouse.
Last line: readings published, stored (distinct keys in health_reading), lost (published, not
stored), and duplicates (redeliveries the key turned away).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench import mqtt_broker
from data_access import live, migrate
from data_access.engine import make_engine
from data_access.schema import health_reading, live_collector, recommendation

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
METRICS = (("vibration", "mm/s", 2.0), ("temperature", "C", 45.0), ("current", "A", 10.0), ("run_hours", "h", 100.0))


class Counts:
    def __init__(self):
        self.published = 0
        self.stored = 0
        self.duplicates = 0


def _collector_process(url, broker_url, client_id, *options):
    """`python -m jobs.live` in a process of its own, as the worker runs it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobs.live",
            "--url",
            url,
            "--broker",
            broker_url,
            "--client-id",
            client_id,
            "--lease-s",
            "2",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def _connected(engine, client_id, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = live.collectors(engine)
        status = status[status["collector_id"] == client_id]
        if len(status) and status["state"].iloc[0] == "connected":
            return
        time.sleep(0.1)
    raise RuntimeError(f"collector {client_id} did not connect")


def _stop(process) -> None:
    process.terminate()
    process.wait(60)


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(health_reading)).scalar_one()


def _wait_stored(engine, n, timeout=300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _stored(engine) >= n:
            return True
        time.sleep(0.05)
    return False


def _publish_readings(publisher, base, messages, offset=0, pause_s=0.0, at=None):
    """`messages` messages of four readings (one asset, one tick each); `at(i)` runs before message i."""
    for i in range(messages):
        if at is not None:
            at(i)
        stamp = (base + timedelta(milliseconds=offset + i)).isoformat()
        publisher.publish(
            "pnct/v1/A/health/VP1-VS-01",
            [{"asset": "VP1-VS-01", "metric": m, "value": v, "unit": u, "timestamp": stamp} for m, u, v in METRICS],
        )
        if pause_s:
            time.sleep(pause_s)
    return messages * 4


def throughput_and_latency(url: str, label: str, readings: int, counts: Counts, workdir: Path, inflight: int) -> None:
    from sample_data.live import Publisher
    from tests import tiny_network

    engine = make_engine(url)
    migrate.upgrade(engine)
    tiny_network.build(engine)
    broker = mqtt_broker.Broker(workdir / f"broker-{label}", max_inflight=inflight).start()
    collector = _collector_process(url, broker.url, f"bench-{label}", "--no-rescore")
    _connected(engine, f"bench-{label}")
    publisher = Publisher(broker.url, client_id=f"bench-publisher-{label}")
    base = datetime.now(timezone.utc) - timedelta(days=2)
    published = 0
    try:
        publisher.connected.wait(10)
        started = time.perf_counter()
        published += _publish_readings(publisher, base, readings // 4)
        publisher.wait(300)
        done = _wait_stored(engine, published)
        seconds = time.perf_counter() - started
        stored = _stored(engine)
        print(
            f"  {label}: {stored:,} readings stored in {seconds:.1f} s = {stored / seconds:,.0f} readings/s "
            f"({'all stored' if done else 'timed out waiting'})"
        )

        latencies = []
        for i in range(50):
            stamp = (base + timedelta(hours=1, seconds=i)).isoformat()
            before = _stored(engine)
            sent = time.perf_counter()
            publisher.publish(
                "pnct/v1/A/health/VP1-VS-01",
                {"asset": "VP1-VS-01", "metric": "vibration", "value": 2.0, "unit": "mm/s", "timestamp": stamp},
            )
            while _stored(engine) <= before and time.perf_counter() - sent < 30:
                time.sleep(0.002)
            latencies.append(time.perf_counter() - sent)
        published += 50
        latencies.sort()
        p95 = latencies[int(0.95 * len(latencies)) - 1]
        print(
            f"  {label}: publish -> stored, one reading at a time (50): median "
            f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )
    finally:
        publisher.close()
        _stop(collector)
    try:  # faults: the broker restarted and the collector killed (SIGKILL) in the middle of a stream
        publisher = Publisher(broker.url, client_id=f"bench-publisher-{label}")
        publisher.connected.wait(10)
        collector = _collector_process(url, broker.url, f"bench-{label}", "--no-rescore")
        fault_messages = 1500
        state = {"collector": collector}

        def faults(i):
            if i == fault_messages // 3:
                broker.restart(pause_s=0.5)
            if i == 2 * fault_messages // 3:
                state["collector"].kill()
                state["collector"].wait(10)
                state["collector"] = _collector_process(url, broker.url, f"bench-{label}", "--no-rescore")

        before = _stored(engine)
        n = _publish_readings(publisher, base + timedelta(hours=2), fault_messages, pause_s=0.002, at=faults)
        published += n
        left = publisher.wait(120)
        done = _wait_stored(engine, before + n, timeout=180)
        print(
            f"  {label}: faults: {n:,} readings published with the broker restarted and the collector killed "
            f"and restarted; {_stored(engine) - before:,} stored ({left} unacknowledged at the publisher; "
            f"{'all stored' if done else 'timed out waiting'})"
        )
        _stop(state["collector"])
    finally:
        publisher.close()
        broker.stop()
        counts.published += published
        counts.stored += _stored(engine)
        with engine.connect() as conn:
            counts.duplicates += int(conn.execute(select(func.sum(live_collector.c.duplicates))).scalar() or 0)
        engine.dispose()


def recommendation_latency(url: str, label: str, counts: Counts, workdir: Path) -> None:
    import sample_data
    from forecasting import score
    from sample_data.live import Publisher

    engine = make_engine(url)
    today = datetime.now(timezone.utc).date()
    sample_data.generate(engine, plants=4, days=120, seed=7, end_day=today - timedelta(days=1))
    migrate.upgrade(engine)
    score.score(engine, datetime.now(timezone.utc))
    subject, code = "NA-JOL-L2-A01", None
    with engine.connect() as conn:
        code, baseline = conn.execute(
            text(
                "SELECT a.local_code, AVG(h.vibration_mm_s) FROM asset a JOIN asset_health_daily h "
                "ON h.asset_id = a.asset_id WHERE a.asset_id = :a GROUP BY a.local_code"
            ),
            {"a": subject},
        ).one()
    broker = mqtt_broker.Broker(workdir / f"broker-rec-{label}").start()
    collector = _collector_process(url, broker.url, f"bench-rec-{label}", "--rescore-every", "2")
    _connected(engine, f"bench-rec-{label}")
    publisher = Publisher(broker.url, client_id=f"bench-rec-publisher-{label}")
    try:
        publisher.connected.wait(10)
        days = [
            datetime.combine(today - timedelta(days=k), datetime.min.time(), timezone.utc) + timedelta(hours=12)
            for k in range(7, 0, -1)
        ]
        for i, when in enumerate(days):
            publisher.publish(
                f"pnct/v1/NA-JOL/health/{code}",
                {
                    "asset": code,
                    "metric": "vibration",
                    "value": round(baseline * (1.5 + 0.5 * i), 3),
                    "unit": "mm/s",
                    "timestamp": when.isoformat(),
                },
            )
        sent = time.perf_counter()
        publisher.wait(30)
        r = recommendation.c
        found = None
        while time.perf_counter() - sent < 300:
            with engine.connect() as conn:
                found = conn.execute(select(r.rec_id).where(r.subject_id == subject)).first()
            if found:
                break
            time.sleep(0.2)
        took = time.perf_counter() - sent
        print(
            f"  {label}: publish -> recommendation (rescoring every 2 s): "
            + (f"{took:.1f} s" if found else f"no recommendation after {took:.0f} s")
        )
        counts.published += len(days)
        counts.stored += _stored(engine)
    finally:
        publisher.close()
        _stop(collector)
        broker.stop()
        engine.dispose()


def _postgres(admin_url: str):
    name = f"pnct_bench_live_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop(admin, name):
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=8_000, help="readings in the throughput run (default 8,000)")
    parser.add_argument(
        "--inflight",
        type=int,
        default=1000,
        help="the broker's max_inflight_messages (default 1000, as docs/live-feeds.md advises; "
        "Mosquitto's own default is 20)",
    )
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-recommendation", action="store_true", help="skip the publish -> recommendation run")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    args = parser.parse_args(argv)
    if not mqtt_broker.available():
        print("mosquitto is not installed")
        return 2
    counts = Counts()
    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    try:
        backends = [
            (
                "sqlite",
                lambda: (None, None, f"sqlite:///{workdir / 'throughput.db'}"),
                lambda: (None, None, f"sqlite:///{workdir / 'network.db'}"),
            )
        ]
        if not args.no_postgresql:
            backends.append(("postgresql", lambda: _postgres(args.pg_admin_url), lambda: _postgres(args.pg_admin_url)))
        print(
            f"live feed: {args.readings:,} readings per backend, Mosquitto {mqtt_broker.MOSQUITTO} on a free port, "
            f"max_inflight_messages {args.inflight}"
        )
        for label, first, second in backends:
            for run, make in ((throughput_and_latency, first), (recommendation_latency, second)):
                if run is recommendation_latency and args.no_recommendation:
                    continue
                try:
                    admin, name, url = make()
                except Exception as exc:  # noqa: BLE001 - no server: say so and go on
                    print(
                        f"  {label}: skipped, {make_url(args.pg_admin_url).render_as_string()} unreachable: "
                        f"{str(exc).splitlines()[0]}"
                    )
                    break
                try:
                    if run is throughput_and_latency:
                        run(url, label, args.readings, counts, workdir, args.inflight)
                    else:
                        run(url, label, counts, workdir)
                finally:
                    if admin is not None:
                        _drop(admin, name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"published {counts.published:,}, stored {counts.stored:,}, lost {counts.published - counts.stored:,} "
        f"(duplicate deliveries turned away by the key: {counts.duplicates:,})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
