"""Benchmark of audit appends: 1 writer against 8 concurrent writers, on SQLite and PostgreSQL.

    python -m bench.decisions_audit [--appends 1600] [--repeats 3] [--pg-admin-url URL]

Every append is its own transaction (`with conn.begin(): audit.append(...)`), each writer on its
own connection, as app replicas and CLI jobs would do it. Appenders serialize on the chain head
by design, so more writers cannot add throughput; the question is how much the lock hand-over
costs. PostgreSQL runs in a throw-away database created and dropped here. Ratios are the result
(these machines are shared and noisy); the chain is verified after the runs.
"""

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data_access import migrate
from data_access.engine import make_engine
from governance import audit

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WRITER_COUNTS = (1, 8)


def appends_per_second(engine, writers: int, total: int) -> float:
    """Throughput of `writers` threads appending `total` rows between them."""
    per_writer = total // writers
    start, errors = threading.Barrier(writers + 1), []

    def write(n):
        try:
            with engine.connect() as conn:
                start.wait()
                for i in range(per_writer):
                    with conn.begin():
                        audit.append(
                            conn,
                            f"bench{n}",
                            "bench_append",
                            plant_id="P01",
                            entity="recommendation",
                            entity_id=i,
                            detail={"writer": n, "i": i},
                        )
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the main thread
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return per_writer * writers / elapsed


def measure(engine, total: int, repeats: int) -> dict[int, float]:
    """Median appends/s per writer count, interleaved so drift hits both alike; checks the chain."""
    appends_per_second(engine, 1, min(total, 100))  # warm-up: connections, caches, first rows
    runs = {n: [] for n in WRITER_COUNTS}
    for _ in range(repeats):
        for writers in WRITER_COUNTS:
            runs[writers].append(appends_per_second(engine, writers, total))
    result = audit.verify(engine)
    if not result.ok:
        raise SystemExit(f"audit chain broken after the benchmark: {result.problem}")
    print(f"  {engine.dialect.name}: chain of {result.rows_checked} rows verified")
    return {writers: statistics.median(values) for writers, values in runs.items()}


def sqlite_figures(total, repeats):
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench_audit.db'}")
        migrate.upgrade(engine)
        try:
            return measure(engine, total, repeats)
        finally:
            engine.dispose()


def postgresql_figures(admin_url, total, repeats):
    """Figures on a throw-away database, or None (with the reason printed) without a server."""
    name = f"pnct_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means "no usable server"
        admin.dispose()
        print(
            f"  postgresql: skipped, {make_url(admin_url).render_as_string()} unreachable: {str(exc).splitlines()[0]}"
        )
        return None
    engine = make_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        return measure(engine, total, repeats)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=1600, help="appends per run (split among the writers)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per writer count; the median is shown")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    args = parser.parse_args(argv)
    if args.appends % max(WRITER_COUNTS):
        parser.error(f"--appends must be a multiple of {max(WRITER_COUNTS)}")

    figures = {
        "sqlite": sqlite_figures(args.appends, args.repeats),
        "postgresql": postgresql_figures(args.pg_admin_url, args.appends, args.repeats),
    }
    figures = {backend: values for backend, values in figures.items() if values}

    one, many = WRITER_COUNTS
    print(f"\naudit appends per second ({args.appends} appends per run, median of {args.repeats}):")
    print(f"  {'':20}{f'{one} writer':>12}{f'{many} writers':>12}{f'{many} / {one}':>10}")
    for backend, values in figures.items():
        print(f"  {backend:20}{values[one]:12.0f}{values[many]:12.0f}{values[many] / values[one]:9.2f}x")
    if len(figures) == 2:
        pg, lite = figures["postgresql"], figures["sqlite"]
        print(f"  {'postgresql / sqlite':20}{pg[one] / lite[one]:11.2f}x{pg[many] / lite[many]:11.2f}x")


if __name__ == "__main__":
    main()
