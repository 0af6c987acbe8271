"""Benchmark of what the test suite spends per database test, and of running it on two workers.

    python -m bench.test_suite [--repeat 20] [--files tests/test_kpis.py,tests/test_policies.py]

Per test, the suite used to run every Alembic migration on a fresh database (and, on PostgreSQL,
drop every table afterwards); it now copies a SQLite file migrated once per run, and empties the
run's PostgreSQL database (DELETE, ids restarted). This measures both ways in one run, then a subset
of test files on one process and on two xdist workers. Prints ratios (the machine is shared).
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
from pathlib import Path

from sqlalchemy import create_engine, text

from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import metadata
from tests.conftest import reset_tables

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sqlite_costs(directory: Path, repeat: int) -> tuple[float, float]:
    template = directory / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()

    def migrate_fresh(i):
        fresh = make_engine(f"sqlite:///{directory / f'fresh{i}.db'}")
        migrate.upgrade(fresh)
        fresh.dispose()

    def copy_template(i):
        shutil.copyfile(template, directory / f"copy{i}.db")

    return timed(migrate_fresh, repeat), timed(copy_template, repeat)


def postgres_costs(repeat: int) -> tuple[float, float] | None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"pnct_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: say so and measure SQLite only
        print(f"PostgreSQL not reachable ({exc}); measuring SQLite only")
        return None
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:

        def migrate_and_drop(_):
            migrate.upgrade(engine)
            metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))

        before = timed(migrate_and_drop, repeat)
        migrate.upgrade(engine)

        url_ = url

        def reset(_):
            reset_tables(url_)

        after = timed(reset, repeat)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return before, after


def pytest_seconds(files: list[str], workers: int) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files]
    args += ["-n", str(workers), "--dist", "loadfile"] if workers > 1 else ["-p", "no:xdist"]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the test subset failed:\n{done.stdout[-2000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.test_suite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--files", default="tests/test_kpis.py,tests/test_policies.py,tests/test_workflow.py")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        migrate_s, copy_s = sqlite_costs(Path(directory), args.repeat)
    print(
        f"SQLite, per test:     migrate a fresh file {migrate_s * 1000:7.1f} ms   copy the template "
        f"{copy_s * 1000:6.1f} ms   ({migrate_s / copy_s:.0f}x)"
    )
    pg = postgres_costs(args.repeat)
    if pg:
        print(
            f"PostgreSQL, per test: migrate + drop all {pg[0] * 1000:7.1f} ms   empty it again    "
            f"{pg[1] * 1000:6.1f} ms   ({pg[0] / pg[1]:.1f}x)"
        )
    files = [f.strip() for f in args.files.split(",") if f.strip()]
    one = pytest_seconds(files, 1)
    two = pytest_seconds(files, 2)
    print(f"{', '.join(files)}: one process {one:.1f} s, two xdist workers {two:.1f} s ({one / two:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
