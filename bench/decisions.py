"""Benchmark of concurrent deciders: 8 writers logging 1,000 decisions each, on SQLite and PostgreSQL.

    python -m bench.decisions [--writers 8] [--per-writer 1000] [--mode both|own|shared] [--pg-admin-url URL]

Each writer is a plant manager who reads a recommendation (the page it sees) and approves it at
that version through `governance.workflow.decide`, the path the app takes. Two modes:
- own queues: each writer works through its own recommendations (no two want the same one);
  the throughput of the decision transaction itself, all writers serialized on the audit chain;
- shared queues: writers w and w + writers/2 walk the same recommendations in the same order
  (the pairs start at different points), as people clicking through one queue would. A writer
  that loses the race is refused (stale page, audited) and moves on, until it has logged its
  share of decisions.
Every decision is one transaction: the guarded state change, the decision row, the outbox row
and the audit row.

Checked after each run, and the run fails otherwise: every recommendation has exactly one
decision and one outbox row (nothing lost, no duplicate), every writer logged its share, and
the audit chain verifies. Printed: decisions per second (successful decisions / wall time),
and the refused races. PostgreSQL runs in a throw-away database created and dropped here.
"""

import argparse
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import audit_log, decision, outbox, plant, recommendation, region
from governance import audit, policies, workflow
from governance.users import User

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLANT = "BENCH-01"
NOW = datetime(2026, 7, 1, 8, tzinfo=timezone.utc)


@dataclass
class Result:
    backend: str
    mode: str
    writers: int
    per_writer: int
    seconds: float
    logged: list[int]
    refused: int
    decisions: int
    recommendations_decided: int
    duplicates: int
    outbox_rows: int
    chain_rows: int
    chain_ok: bool
    problems: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return sum(self.logged) / self.seconds


def prepare(engine: Engine, count: int) -> list[int]:
    """A migrated warehouse with one plant and `count` open quality recommendations."""
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(region.insert().values(region_id="BENCH", name="Benchmark"))
        conn.execute(
            plant.insert().values(
                plant_id=PLANT,
                name="Bench plant",
                region_id="BENCH",
                country="DE",
                timezone="Europe/Berlin",
                lat=50.0,
                lon=8.0,
                data_maturity="mes",
                maintenance_workflow="sap_pm",
                currency="EUR",
            )
        )
    policies.seed_enterprise_defaults(engine, now=NOW)
    routing = policies.effective(engine, PLANT).routing("quality", None)
    rows = [
        dict(
            plant_id=PLANT,
            kind="quality",
            subject_id=f"{PLANT}-L1",
            signal_key=f"bench:{i}",
            title=f"Bench quality exception {i}",
            risk=0.9,
            estimated_cost=None,
            evidence={"rule": "bench", "action": {"line_id": f"{PLANT}-L1", "disposition": "hold"}},
            state="open",
            version=1,
            created_utc=NOW,
            expires_utc=NOW + timedelta(days=3650),
            sla_due_utc=NOW + timedelta(days=3650),
            source="test",
            routing=routing,
        )
        for i in range(count)
    ]
    with engine.begin() as conn:
        for start in range(0, count, 2000):
            conn.execute(recommendation.insert(), rows[start : start + 2000])
        audit.append(
            conn, "bench", "bench_seeded", plant_id=PLANT, entity="recommendation", detail={"recommendations": count}
        )
        return conn.execute(select(recommendation.c.rec_id).order_by(recommendation.c.rec_id)).scalars().all()


def run(engine: Engine, writers: int = 8, per_writer: int = 1000, shared: bool = True) -> Result:
    """Prepare, let `writers` threads log `per_writer` decisions each, and check the outcome."""
    if shared and (writers < 2 or writers % 2):
        raise ValueError("writers must be an even number of at least 2 (they work in pairs)")
    total = writers * per_writer
    ids = prepare(engine, total)
    pairs = writers // 2
    logged, refused, errors = [0] * writers, [0] * writers, []
    start = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        who = User(f"bench_pm_{w}", f"Bench PM {w}", f"pm{w}@example.com", ("plant_manager",), frozenset({PLANT}))
        if shared:
            offset = (w % pairs) * (total // pairs)
            order = ids[offset:] + ids[:offset]
        else:
            order = ids[w * per_writer : (w + 1) * per_writer]
        try:
            start.wait()
            for rec_id in order:
                if logged[w] == per_writer:
                    break
                with engine.connect() as conn:  # the page the user sees
                    seen = conn.execute(
                        select(recommendation.c.state, recommendation.c.version).where(
                            recommendation.c.rec_id == rec_id
                        )
                    ).one()
                if seen.state != "open":
                    continue
                try:
                    workflow.decide(engine, who, rec_id, "approve", version=seen.version, now=NOW)
                    logged[w] += 1
                except workflow.Refused as exc:
                    if exc.code not in ("stale", "state", "duplicate"):
                        raise
                    refused[w] += 1
        except Exception as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return _check(engine, "shared" if shared else "own", writers, per_writer, seconds, logged, sum(refused))


def _check(engine, mode, writers, per_writer, seconds, logged, refused) -> Result:
    d = decision.c
    with engine.connect() as conn:
        decisions = conn.execute(select(func.count()).select_from(decision)).scalar_one()
        decided = conn.execute(select(func.count(func.distinct(d.rec_id)))).scalar_one()
        duplicates = conn.execute(
            select(func.count()).select_from(select(d.rec_id).group_by(d.rec_id).having(func.count() > 1).subquery())
        ).scalar_one()
        outbox_rows = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
        still_open = conn.execute(
            select(func.count()).select_from(recommendation).where(recommendation.c.state != "approved")
        ).scalar_one()
        audit_rows = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    chain = audit.verify(engine)
    total = writers * per_writer
    result = Result(
        engine.dialect.name,
        mode,
        writers,
        per_writer,
        seconds,
        logged,
        refused,
        decisions,
        decided,
        duplicates,
        outbox_rows,
        chain.rows_checked,
        chain.ok,
    )
    expected_audit = 2 + total + refused  # policy seeding, bench seeding, one per decision and refusal
    for ok, problem in (
        (logged == [per_writer] * writers, f"writers logged {logged}, not {per_writer} each"),
        (decisions == total and decided == total, f"{decisions} decisions on {decided} recommendations, not {total}"),
        (duplicates == 0, f"{duplicates} recommendations with more than one decision"),
        (outbox_rows == total, f"{outbox_rows} outbox rows, not {total}"),
        (still_open == 0, f"{still_open} recommendations not approved"),
        (chain.ok, f"audit chain broken at seq {chain.first_bad_seq}: {chain.problem}"),
        (audit_rows == expected_audit == chain.rows_checked, f"{audit_rows} audit rows, expected {expected_audit}"),
    ):
        if not ok:
            result.problems.append(problem)
    return result


def sqlite_result(writers, per_writer, shared) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench_decisions.db'}")
        try:
            return run(engine, writers, per_writer, shared)
        finally:
            engine.dispose()


def postgresql_result(admin_url, writers, per_writer, shared) -> Result | None:
    """The run on a throw-away database, or None (with the reason printed) without a server."""
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
        return run(engine, writers, per_writer, shared)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=1000, help="decisions each writer logs")
    parser.add_argument("--mode", choices=("both", "own", "shared"), default="both")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    args = parser.parse_args(argv)
    if args.writers < 2 or args.writers % 2 or args.per_writer < 1:
        parser.error("--writers must be even and at least 2, --per-writer at least 1")

    results = []
    for shared in {"both": (False, True), "own": (False,), "shared": (True,)}[args.mode]:
        results.append(sqlite_result(args.writers, args.per_writer, shared))
        results.append(postgresql_result(args.pg_admin_url, args.writers, args.per_writer, shared))
    results = [r for r in results if r is not None]
    print(f"\nconcurrent decisions: {args.writers} writers x {args.per_writer} decisions each")
    print(
        f"  {'backend':12}{'queues':8}{'decisions':>10}{'seconds':>9}{'decisions/s':>13}{'refused races':>15}"
        f"{'duplicates':>12}{'audit rows':>12}  chain"
    )
    for r in results:
        print(
            f"  {r.backend:12}{r.mode:8}{sum(r.logged):>10}{r.seconds:>9.1f}{r.per_second:>13.0f}{r.refused:>15}"
            f"{r.duplicates:>12}{r.chain_rows:>12}  {'verifies' if r.chain_ok else 'BROKEN'}"
        )
    for mode in ("own", "shared"):
        pair = {r.backend: r for r in results if r.mode == mode}
        if len(pair) == 2:
            print(
                f"  {mode} queues, postgresql / sqlite: {pair['postgresql'].per_second / pair['sqlite'].per_second:.2f}x"
            )
    failed = [f"{r.backend} ({r.mode} queues): {p}" for r in results for p in r.problems]
    for problem in failed:
        print(f"  FAILED {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
