"""Ingest throughput and memory: a 1,000,000-row downtime CSV through `load_file`.

    python -m bench.ingest [--rows 1000000] [--skip-postgres]

Writes the CSV (semicolon-delimited, German local timestamps, 1 % rows with an unmapped
reason, so the quarantine path runs too) into a temporary directory, then loads it into a
fresh SQLite file and a throw-away PostgreSQL database (created and dropped here through
postgresql+psycopg://postgres@127.0.0.1:5432/postgres, or BENCH_PG_ADMIN_URL). Each load
runs in its own process so its peak resident memory (ru_maxrss) is its own. The ingest is
measured without the plant's marts refresh (`refresh_marts=False`), which is timed after it
on its own: the refresh reads the plant's whole history, not the file. A second,
quarter-size file shows whether memory grows with the file: the ratio of the two growths is
printed. Prints rates and ratios; asserts nothing.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PLANT = "BENCH"
LINES, ASSETS_PER_LINE = 5, 8
REASONS = {
    "Motorschaden": "ELEC_FAIL",
    "Kette gerissen": "MECH_FAIL",
    "Lagerschaden": "MECH_FAIL",
    "Wartung": "PM",
    "Reinigung": "CLEAN",
    "Formatwechsel": "CO_FORMAT",
    "Materialmangel": "NO_MATERIAL",
}
CATEGORIES = {
    "ELEC_FAIL": ("failure", True),
    "MECH_FAIL": ("failure", True),
    "PM": ("planned", False),
    "CLEAN": ("planned", False),
    "CO_FORMAT": ("changeover", False),
    "NO_MATERIAL": ("starved", False),
}
MAPPING = {
    "plant": PLANT,
    "source": "downtime",
    "file": {"delimiter": ";"},
    "datetime_format": "%d.%m.%Y %H:%M",
    "columns": {"asset": "Anlage", "start": "Beginn", "end": "Ende", "reason": "Grund"},
    "codes": {"reason": REASONS},
}


def write_csv(path: Path, rows: int) -> int:
    """A downtime log of `rows` events, streamed to disk; returns its size in bytes."""
    assets = [f"L{line}-A{a}" for line in range(1, LINES + 1) for a in range(1, ASSETS_PER_LINE + 1)]
    reasons = list(REASONS)
    start = datetime(2019, 1, 1, 6, 0)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Anlage;Beginn;Ende;Grund;Bemerkung\n")
        for i in range(rows):
            asset = assets[i % len(assets)]
            begin = start + timedelta(hours=2 * (i // len(assets)), minutes=i % 50)
            end = begin + timedelta(minutes=5 + i % 90)
            reason = "Unbekannt" if i % 100 == 99 else reasons[i % len(reasons)]
            out.write(f"{asset};{begin:%d.%m.%Y %H:%M};{end:%d.%m.%Y %H:%M};{reason};Schicht {i % 3 + 1}\n")
    return path.stat().st_size


def setup(url: str) -> None:
    from data_access import migrate
    from data_access.engine import make_engine
    from data_access.schema import asset, downtime_reason, line, plant, region

    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(region.insert().values(region_id="EU", name="Europe"))
        conn.execute(
            plant.insert().values(
                plant_id=PLANT,
                name="Bench",
                region_id="EU",
                country="DE",
                timezone="Europe/Berlin",
                lat=52.5,
                lon=13.4,
                data_maturity="mes",
                maintenance_workflow="sap_pm",
                currency="EUR",
            )
        )
        conn.execute(
            line.insert(),
            [
                dict(
                    line_id=f"{PLANT}-L{n}", plant_id=PLANT, name=f"Line {n}", line_type="packaging", local_code=f"L{n}"
                )
                for n in range(1, LINES + 1)
            ],
        )
        conn.execute(
            asset.insert(),
            [
                dict(
                    asset_id=f"{PLANT}-L{n}-A{a}",
                    plant_id=PLANT,
                    line_id=f"{PLANT}-L{n}",
                    asset_class="conveyor",
                    criticality="B",
                    local_code=f"L{n}-A{a}",
                    local_name=f"Asset {a}",
                    install_year=2015,
                )
                for n in range(1, LINES + 1)
                for a in range(1, ASSETS_PER_LINE + 1)
            ],
        )
        conn.execute(
            downtime_reason.insert(),
            [
                dict(reason_code=code, category=cat, is_failure=failure, description=code)
                for code, (cat, failure) in CATEGORIES.items()
            ],
        )
    engine.dispose()


def worker(url: str, csv_path: str) -> dict:
    """Runs in a child process: the load (without the marts), then the plant's marts refresh,
    each timed, with the process's peak memory after each."""
    from data_access import marts
    from data_access.engine import make_engine
    from data_access.ingest import load_file, parse_mapping

    setup(url)
    engine = make_engine(url)
    mapping = parse_mapping(MAPPING)
    baseline = _maxrss_mb()
    started = time.perf_counter()
    result = load_file(
        engine,
        PLANT,
        "downtime",
        mapping,
        csv_path,
        actor="bench",
        now=datetime(2026, 1, 1, tzinfo=timezone.utc),
        refresh_marts=False,
    )
    seconds = time.perf_counter() - started
    load_peak = _maxrss_mb()
    started = time.perf_counter()
    marts.refresh(engine, plant_ids=[PLANT])
    refresh_seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "refresh_seconds": refresh_seconds,
        "rows_read": result.rows_read,
        "inserted": result.inserted,
        "quarantined": result.quarantined,
        "status": result.status,
        "error": result.error,
        "baseline_mb": baseline,
        "load_peak_mb": load_peak,
        "peak_mb": _maxrss_mb(),
    }


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _run(url: str, csv_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--worker", url, str(csv_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "worker failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pg_database():
    from sqlalchemy import create_engine, text

    name = f"pnct_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0

    with tempfile.TemporaryDirectory(prefix="pnct_bench_ingest_") as tmp:
        tmp = Path(tmp)
        big, small = tmp / "downtime_big.csv", tmp / "downtime_quarter.csv"
        t0 = time.perf_counter()
        big_bytes = write_csv(big, args.rows)
        small_bytes = write_csv(small, args.rows // 4)
        print(
            f"generated {args.rows:,}-row CSV ({big_bytes / 2**20:,.1f} MiB) and a {args.rows // 4:,}-row one "
            f"({small_bytes / 2**20:,.1f} MiB) in {time.perf_counter() - t0:,.1f} s"
        )
        backends = [("sqlite", lambda name: (f"sqlite:///{tmp / name}.db", lambda: None))]
        if not args.skip_postgres:
            backends.append(("postgresql", lambda name: _pg_database()))
        for backend, make in backends:
            peaks = {}
            for label, path, rows in (("full", big, args.rows), ("quarter", small, args.rows // 4)):
                try:
                    url, drop = make(f"{backend}_{label}")
                except Exception as exc:  # noqa: BLE001 - no server: say so and go on
                    print(f"{backend}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
                    break
                try:
                    run = _run(url, path)
                finally:
                    drop()
                if run["status"] == "failed":
                    print(f"{backend} {label}: load failed: {run['error']}")
                    continue
                peaks[label] = run["load_peak_mb"] - run["baseline_mb"]
                size = (big_bytes if label == "full" else small_bytes) / 2**20
                print(
                    f"{backend:>10} {label:>7}: {run['rows_read']:>9,} rows in {run['seconds']:6.1f} s = "
                    f"{run['rows_read'] / run['seconds']:>7,.0f} rows/s through the ingest "
                    f"({run['inserted']:,} loaded, {run['quarantined']:,} quarantined); memory +{peaks[label]:,.0f} MiB "
                    f"during the load (file {size:,.0f} MiB); then the plant's marts refresh "
                    f"{run['refresh_seconds']:.1f} s, peak +{run['peak_mb'] - run['baseline_mb']:,.0f} MiB; "
                    f"with it {run['rows_read'] / (run['seconds'] + run['refresh_seconds']):,.0f} rows/s"
                )
            if len(peaks) == 2 and peaks["quarter"] > 0:
                print(
                    f"{backend:>10} ingest memory growth, full file / quarter file: "
                    f"{peaks['full'] / peaks['quarter']:.2f} (1.0 = bounded by the chunk; 4.0 = grows with the file)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
