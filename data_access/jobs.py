"""The worker's job runs and requests: leases, progress, and the reads of the Jobs page.

A run is one `job_run` row, unique per (job_name, run_key); the row is also the run's lease.
`claim_run` inserts it (the one worker whose insert succeeds runs the tick) or takes over a
`running` row whose lease expired (its worker died): a guarded update that one worker wins.
Both are plain SQL on SQLite and PostgreSQL alike, so any number of workers and app replicas
share one warehouse. Requests (`job_request`) are claimed the same way. Importable without
Streamlit; the scheduling itself is in jobs/.
"""

from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from data_access.frames import read_frame
from data_access.schema import job_request, job_run
from data_access.scope import PlantScope

MAX_MESSAGE = 200
MAX_ERROR = 4000


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _utc(frame: pd.DataFrame, *names) -> pd.DataFrame:
    for name in names:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


# --- leases ----------------------------------------------------------------------------------


def claim_run(
    engine: Engine,
    job_name: str,
    run_key: str,
    worker: str,
    lease_s: float,
    *,
    trigger: str,
    request_id: int | None = None,
    plant_id: str | None = None,
    schedule: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """The run_id this worker now holds for (job_name, run_key), or None when another worker
    holds it or it has finished. A `running` row whose lease expired is taken over (attempt+1)."""
    now = _now(now)
    lease = now + timedelta(seconds=lease_s)
    try:
        with engine.begin() as conn:
            return conn.execute(
                insert(job_run).values(
                    job_name=job_name,
                    run_key=run_key,
                    trigger=trigger,
                    request_id=request_id,
                    plant_id=plant_id,
                    schedule=schedule,
                    status="running",
                    worker=worker,
                    attempt=1,
                    started_utc=now,
                    lease_expires_utc=lease,
                    progress=0.0,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        pass
    r = job_run.c
    with engine.begin() as conn:
        taken = conn.execute(
            update(job_run)
            .where(
                r.job_name == job_name,
                r.run_key == run_key,
                r.status == "running",
                r.lease_expires_utc < now,
            )
            .values(
                worker=worker,
                attempt=r.attempt + 1,
                started_utc=now,
                lease_expires_utc=lease,
                progress=0.0,
                message="taken over after its worker stopped",
            )
        ).rowcount
        if taken != 1:
            return None
        return conn.execute(select(r.run_id).where(r.job_name == job_name, r.run_key == run_key)).scalar_one()


def expired_runs(engine: Engine, now: datetime | None = None) -> list[dict]:
    """Runs still `running` whose lease expired: their worker stopped mid-run.

    Keys: run_id, job_name, run_key, trigger, request_id, plant_id, schedule.
    """
    r = job_run.c
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(r.run_id, r.job_name, r.run_key, r.trigger, r.request_id, r.plant_id, r.schedule)
                .where(r.status == "running", r.lease_expires_utc < _now(now), r.request_id.is_(None))
                .order_by(r.run_id)
            )
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]


def renew_run(
    engine: Engine,
    run_id: int,
    worker: str,
    lease_s: float,
    *,
    progress: float | None = None,
    message: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Extend the lease (and record progress) of a run this worker holds; False if it lost it."""
    values = {"lease_expires_utc": _now(now) + timedelta(seconds=lease_s)}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, float(progress)))
    if message is not None:
        values["message"] = message[:MAX_MESSAGE]
    r = job_run.c
    with engine.begin() as conn:
        return (
            conn.execute(
                update(job_run).where(r.run_id == run_id, r.worker == worker, r.status == "running").values(**values)
            ).rowcount
            == 1
        )


def finish_run(
    engine: Engine,
    run_id: int,
    worker: str,
    *,
    succeeded: bool,
    seconds: float,
    counts: dict | None = None,
    message: str | None = None,
    error: str | None = None,
    attempts: int = 0,
    now: datetime | None = None,
) -> bool:
    """Record a run's outcome; False when this worker no longer held it (taken over)."""
    r = job_run.c
    with engine.begin() as conn:
        return (
            conn.execute(
                update(job_run)
                .where(r.run_id == run_id, r.worker == worker, r.status == "running")
                .values(
                    status="succeeded" if succeeded else "failed",
                    finished_utc=_now(now),
                    seconds=round(seconds, 3),
                    counts=counts,
                    progress=1.0 if succeeded else None,
                    attempt=r.attempt + attempts,
                    message=(message or "")[:MAX_MESSAGE] or None,
                    error=(error or "")[:MAX_ERROR] or None,
                )
            ).rowcount
            == 1
        )


def run_status(engine: Engine, job_name: str, run_key: str) -> str | None:
    """running | succeeded | failed, or None when no such run exists."""
    r = job_run.c
    with engine.connect() as conn:
        return conn.execute(select(r.status).where(r.job_name == job_name, r.run_key == run_key)).scalar()


# --- requests --------------------------------------------------------------------------------


def request(
    conn: Connection,
    kind: str,
    requested_by: str,
    *,
    job_name: str | None = None,
    plant_id: str | None = None,
    load_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Ask the worker for work in the caller's transaction (so a load and its request commit
    together). kind: job (one job, `job_name`) | load (the pipeline for `plant_id`) | first_start."""
    return conn.execute(
        insert(job_request).values(
            kind=kind,
            job_name=job_name,
            plant_id=plant_id,
            load_id=load_id,
            requested_by=requested_by[:64],
            requested_utc=_now(now),
            status="pending",
        )
    ).inserted_primary_key[0]


def claim_request(engine: Engine, worker: str, lease_s: float, now: datetime | None = None) -> dict | None:
    """The oldest pending request (or one whose worker's lease expired), now held by `worker`.

    Keys: request_id, kind, job_name, plant_id, load_id, requested_by, requested_utc. None when
    there is nothing to do or other workers won every candidate.
    """
    now = _now(now)
    q = job_request.c
    claimable = or_(q.status == "pending", and_(q.status == "running", q.lease_expires_utc < now))
    with engine.connect() as conn:
        candidates = conn.execute(select(q.request_id).where(claimable).order_by(q.request_id).limit(5)).scalars().all()
    for request_id in candidates:
        with engine.begin() as conn:
            won = conn.execute(
                update(job_request)
                .where(q.request_id == request_id, claimable)
                .values(status="running", worker=worker, lease_expires_utc=now + timedelta(seconds=lease_s))
            ).rowcount
            if won == 1:
                row = (
                    conn.execute(
                        select(
                            q.request_id, q.kind, q.job_name, q.plant_id, q.load_id, q.requested_by, q.requested_utc
                        ).where(q.request_id == request_id)
                    )
                    .mappings()
                    .one()
                )
                return dict(row)
    return None


def renew_request(engine: Engine, request_id: int, worker: str, lease_s: float, now: datetime | None = None) -> bool:
    q = job_request.c
    with engine.begin() as conn:
        return (
            conn.execute(
                update(job_request)
                .where(q.request_id == request_id, q.worker == worker, q.status == "running")
                .values(lease_expires_utc=_now(now) + timedelta(seconds=lease_s))
            ).rowcount
            == 1
        )


def finish_request(
    engine: Engine,
    request_id: int,
    worker: str,
    *,
    succeeded: bool,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    q = job_request.c
    with engine.begin() as conn:
        conn.execute(
            update(job_request)
            .where(q.request_id == request_id, q.worker == worker)
            .values(
                status="succeeded" if succeeded else "failed",
                finished_utc=_now(now),
                error=(error or "")[:MAX_ERROR] or None,
            )
        )


# --- reads for the Jobs page and the overview -------------------------------------------------

RUN_COLUMNS = (
    "run_id",
    "job_name",
    "run_key",
    "trigger",
    "request_id",
    "plant_id",
    "schedule",
    "status",
    "worker",
    "attempt",
    "started_utc",
    "finished_utc",
    "seconds",
    "progress",
    "message",
    "counts",
    "error",
)


def recent_runs(engine: Engine, scope: PlantScope, limit: int = 200, job_name: str | None = None) -> pd.DataFrame:
    """The newest job runs, newest first: network runs and runs for plants in scope.

    Columns: run_id, job_name, run_key, trigger (schedule | request | load | first_start | once),
    request_id, plant_id (None: the whole network), schedule, status (running | succeeded |
    failed), worker, attempt, started_utc, finished_utc (UTC), seconds, progress (0..1),
    message, counts (dict), error.
    """
    r = job_run.c
    stmt = (
        select(*(r[c] for c in RUN_COLUMNS))
        .where(or_(r.plant_id.is_(None), scope.clause(r.plant_id)))
        .order_by(r.run_id.desc())
        .limit(limit)
    )
    if job_name:
        stmt = stmt.where(r.job_name == job_name)
    with engine.connect() as conn:
        return _utc(read_frame(conn, stmt), "started_utc", "finished_utc")


def latest_runs(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """The newest run of every job (network runs and runs of plants in scope); columns as
    `recent_runs`, plus schedules_seen: distinct schedules its runs of the last day were
    started with (more than one: two workers run with different schedules)."""
    r = job_run.c
    visible = or_(r.plant_id.is_(None), scope.clause(r.plant_id))
    newest = select(r.job_name, func.max(r.run_id).label("run_id")).where(visible).group_by(r.job_name).subquery()
    with engine.connect() as conn:
        frame = _utc(
            read_frame(
                conn,
                select(*(r[c] for c in RUN_COLUMNS))
                .join_from(job_run, newest, r.run_id == newest.c.run_id)
                .order_by(r.job_name),
            ),
            "started_utc",
            "finished_utc",
        )
        since = datetime.now(timezone.utc) - timedelta(days=1)
        seen = read_frame(
            conn,
            select(r.job_name, func.count(func.distinct(r.schedule)).label("schedules_seen"))
            .where(visible, r.trigger == "schedule", r.started_utc >= since)
            .group_by(r.job_name),
        )
    frame = frame.merge(seen, on="job_name", how="left")
    frame["schedules_seen"] = frame["schedules_seen"].fillna(0).astype(int)
    return frame


def requests(engine: Engine, scope: PlantScope, limit: int = 50) -> pd.DataFrame:
    """The newest requests, newest first (network requests and those of plants in scope).

    Columns: request_id, kind (job | load | first_start), job_name, plant_id, load_id,
    requested_by, requested_utc, status (pending | running | succeeded | failed), worker,
    finished_utc, error.
    """
    q = job_request.c
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            select(
                q.request_id,
                q.kind,
                q.job_name,
                q.plant_id,
                q.load_id,
                q.requested_by,
                q.requested_utc,
                q.status,
                q.worker,
                q.finished_utc,
                q.error,
            )
            .where(or_(q.plant_id.is_(None), scope.clause(q.plant_id)))
            .order_by(q.request_id.desc())
            .limit(limit),
        )
    return _utc(frame, "requested_utc", "finished_utc")


def failing_jobs(engine: Engine) -> list[str]:
    """Jobs whose newest network run (not one plant's) failed: what the overview flags red."""
    r = job_run.c
    newest = (
        select(r.job_name, func.max(r.run_id).label("run_id"))
        .where(r.plant_id.is_(None))
        .group_by(r.job_name)
        .subquery()
    )
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(r.job_name)
                .join_from(job_run, newest, r.run_id == newest.c.run_id)
                .where(r.status == "failed")
                .order_by(r.job_name)
            ).scalars()
        )
