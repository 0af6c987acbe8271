"""Named reads and writes of model holds (issue 14): a model version served by the fallback at
a plant because its drift or recent accuracy passed the plant policy's limit.

Writes take the caller's connection, so the hold and its audit row are one transaction.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine

from data_access.frames import read_frame
from data_access.schema import model_hold, model_version
from data_access.scope import PlantScope

_H = model_hold.c


def open_holds(conn_or_engine, model_id: int) -> dict[str, str]:
    """plant_id -> reason of every open (unreleased) hold of one version."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return open_holds(conn, model_id)
    rows = conn_or_engine.execute(
        select(_H.plant_id, _H.reason).where(_H.model_id == model_id, _H.released_utc.is_(None)).order_by(_H.hold_id)
    ).all()
    return {plant_id: reason for plant_id, reason in rows}


def add_hold(conn: Connection, model_id: int, plant_id: str, reason: str, now: datetime) -> int:
    """Open a hold; returns its id."""
    return conn.execute(
        model_hold.insert().values(model_id=model_id, plant_id=plant_id, reason=reason, held_utc=now)
    ).inserted_primary_key[0]


def release(conn: Connection, model_id: int, plant_id: str, actor: str, reason: str, now: datetime) -> int:
    """Close the open holds of a version at a plant; returns how many were closed."""
    return conn.execute(
        update(model_hold)
        .where(
            _H.model_id == model_id,
            _H.plant_id == plant_id,
            _H.released_utc.is_(None),
        )
        .values(released_utc=now, released_by=actor, release_reason=reason)
    ).rowcount


def holds(engine: Engine, scope: PlantScope, open_only: bool = True) -> pd.DataFrame:
    """Holds of the plants in scope, newest first.

    Columns: hold_id, model_id, model_name, version, plant_id, reason, held_utc,
    released_utc, released_by, release_reason.
    """
    v = model_version.c
    stmt = (
        select(
            _H.hold_id,
            _H.model_id,
            v.model_name,
            v.version,
            _H.plant_id,
            _H.reason,
            _H.held_utc,
            _H.released_utc,
            _H.released_by,
            _H.release_reason,
        )
        .join_from(model_hold, model_version, and_(_H.model_id == v.model_id))
        .where(scope.clause(_H.plant_id))
        .order_by(_H.held_utc.desc(), _H.hold_id.desc())
    )
    if open_only:
        stmt = stmt.where(_H.released_utc.is_(None))
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    for name in ("held_utc", "released_utc"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame
