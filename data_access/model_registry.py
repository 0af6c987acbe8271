"""The model registry's tables: versions (`model_version`) and their metrics per plant (`model_metric`).

Reads take the user's PlantScope where rows name a plant (metrics); the version list itself
names no plant and carries no data of one. Writes take the caller's connection, so that a
state change and its audit row share one transaction (`governance.model_serving` does the rules:
who may approve, what is served). Timestamps come back as timezone-aware UTC.
Imports nothing of `governance` or `forecasting`.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, delete, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection, Engine

from data_access.frames import as_utc, read_frame, utc_columns
from data_access.schema import model_metric, model_version
from data_access.scope import PlantScope

STATUSES = ("candidate", "approved", "retired")
"""candidate: trained, waiting for approval; approved: may be served; retired: replaced or withdrawn."""

_V = model_version.c
_M = model_metric.c
_VERSION_COLUMNS = [
    _V.model_id,
    _V.model_name,
    _V.version,
    _V.status,
    _V.trained_utc,
    _V.approved_by,
    _V.approved_utc,
    _V.approval_reason,
    _V.params,
]


# --- writes (inside the caller's transaction) ----------------------------------------------------


def get_or_create_version(
    conn: Connection, model_name: str, version: str, params: dict, artifact: str | None, trained_utc: datetime
) -> tuple[int, bool]:
    """The model_id of (model_name, version), inserted as a candidate when new; (id, created)."""
    found = conn.execute(select(_V.model_id).where(_V.model_name == model_name, _V.version == version)).scalar()
    if found is not None:
        return int(found), False
    model_id = conn.execute(
        insert(model_version)
        .values(
            model_name=model_name,
            version=version,
            params=params,
            artifact=artifact,
            status="candidate",
            trained_utc=trained_utc,
        )
        .returning(_V.model_id)
    ).scalar_one()
    return int(model_id), True


def next_version_number(conn: Connection, model_name: str) -> int:
    """1 + the number of versions of `model_name` so far (versions of trained models are v1, v2, ...)."""
    return int(conn.execute(select(func.count()).where(_V.model_name == model_name)).scalar_one()) + 1


def lock_version(conn: Connection, model_id: int) -> dict | None:
    """The version row (without artifact), read for an update (row lock on PostgreSQL)."""
    stmt = select(*_VERSION_COLUMNS).where(_V.model_id == model_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def set_status(
    conn: Connection,
    model_id: int,
    status: str,
    *,
    approved_by: str | None = None,
    approved_utc: datetime | None = None,
    reason: str | None = None,
) -> None:
    """Change a version's status; approval fields are written only when given."""
    if status not in STATUSES:
        raise ValueError(f"unknown model status {status!r}; known: {', '.join(STATUSES)}")
    values = {"status": status}
    if approved_by is not None:
        values.update(approved_by=approved_by, approved_utc=approved_utc, approval_reason=reason)
    conn.execute(update(model_version).where(_V.model_id == model_id).values(**values))


def approved_ids(conn: Connection, model_name: str) -> list[int]:
    """The approved versions of `model_name`, newest first."""
    return [
        int(v)
        for v in conn.execute(
            select(_V.model_id).where(_V.model_name == model_name, _V.status == "approved").order_by(_V.model_id.desc())
        ).scalars()
    ]


def record_metrics(conn: Connection, model_id: int, measured_utc: datetime, rows) -> int:
    """Store (plant_id, metric, value) rows measured at `measured_utc`, replacing the same
    (plant, metric) at that time and nothing else (a one-series refit keeps the other plants').

    NaN and None values are skipped (an undefined metric is absent, not zero). Returns rows written.
    """
    rows = [(p, m, float(v)) for p, m, v in rows if v is not None and pd.notna(v)]
    if not rows:
        return 0
    keys = sorted({(p, m) for p, m, _ in rows})
    conn.execute(
        delete(model_metric).where(
            _M.model_id == model_id, _M.measured_utc == measured_utc, tuple_(_M.plant_id, _M.metric).in_(keys)
        )
    )
    conn.execute(
        insert(model_metric),
        [dict(model_id=model_id, plant_id=p, metric=m, measured_utc=measured_utc, value=v) for p, m, v in rows],
    )
    return len(rows)


# --- reads ----------------------------------------------------------------------------------------


def versions(engine: Engine, model_name: str | None = None) -> pd.DataFrame:
    """Registered versions, newest first (no artifact: see `artifact`).

    Columns: model_id, model_name, version, status (candidate | approved | retired),
    trained_utc, approved_by, approved_utc, approval_reason, params (dict).
    """
    stmt = select(*_VERSION_COLUMNS).order_by(_V.model_name, _V.model_id.desc())
    if model_name is not None:
        stmt = stmt.where(_V.model_name == model_name)
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    return utc_columns(frame, "trained_utc", "approved_utc")


def version(conn_or_engine, model_id: int) -> dict | None:
    """One version row as a dict (no artifact), None if unknown."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return version(conn, model_id)
    row = conn_or_engine.execute(select(*_VERSION_COLUMNS).where(_V.model_id == model_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["trained_utc"], out["approved_utc"] = as_utc(out["trained_utc"]), as_utc(out["approved_utc"])
    return out


def latest_version(conn_or_engine, model_name: str, status: str | None = None) -> dict | None:
    """The newest version of `model_name` (optionally of one status), as `version` returns it."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return latest_version(conn, model_name, status)
    stmt = select(_V.model_id).where(_V.model_name == model_name).order_by(_V.model_id.desc()).limit(1)
    if status is not None:
        stmt = stmt.where(_V.status == status)
    model_id = conn_or_engine.execute(stmt).scalar()
    return None if model_id is None else version(conn_or_engine, model_id)


def artifact(conn_or_engine, model_id: int) -> str | None:
    """The serialized model of a version (text), None if it has none."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return artifact(conn, model_id)
    return conn_or_engine.execute(select(_V.artifact).where(_V.model_id == model_id)).scalar()


def metrics(
    engine: Engine,
    scope: PlantScope,
    model_name: str | None = None,
    model_id: int | None = None,
    metric_prefix: str | None = None,
    since: datetime | None = None,
) -> pd.DataFrame:
    """Metrics per plant of the versions, for the plants in scope, oldest first.

    Columns: model_id, model_name, version, status, plant_id, metric, measured_utc, value.
    `metric_prefix` keeps metrics whose name starts with it (e.g. "psi." or "auc").
    """
    stmt = (
        select(_M.model_id, _V.model_name, _V.version, _V.status, _M.plant_id, _M.metric, _M.measured_utc, _M.value)
        .join_from(model_metric, model_version, _M.model_id == _V.model_id)
        .where(scope.clause(_M.plant_id))
        .order_by(_M.measured_utc, _M.model_id, _M.plant_id, _M.metric)
    )
    if model_name is not None:
        stmt = stmt.where(_V.model_name == model_name)
    if model_id is not None:
        stmt = stmt.where(_M.model_id == model_id)
    if metric_prefix:
        stmt = stmt.where(_M.metric.startswith(metric_prefix, autoescape=True))
    if since is not None:
        stmt = stmt.where(_M.measured_utc >= since)
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    return utc_columns(frame, "measured_utc")


def latest_metrics(engine: Engine, scope: PlantScope, model_id: int) -> pd.DataFrame:
    """Each plant's newest value of each metric of one version (plants in scope).

    Columns: plant_id, metric, measured_utc, value.
    """
    newest = (
        select(_M.plant_id, _M.metric, func.max(_M.measured_utc).label("measured_utc"))
        .where(_M.model_id == model_id, scope.clause(_M.plant_id))
        .group_by(_M.plant_id, _M.metric)
        .subquery()
    )
    stmt = (
        select(_M.plant_id, _M.metric, _M.measured_utc, _M.value)
        .join_from(
            model_metric,
            newest,
            and_(
                _M.plant_id == newest.c.plant_id, _M.metric == newest.c.metric, _M.measured_utc == newest.c.measured_utc
            ),
        )
        .where(_M.model_id == model_id)
        .order_by(_M.plant_id, _M.metric)
    )
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    return utc_columns(frame, "measured_utc")
