"""Named reads for the onboarding pages. Each takes the user's PlantScope and filters on it
in SQL; each returns a DataFrame whose columns its docstring lists."""

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data_access.frames import read_frame
from data_access.ingest import loader
from data_access.ingest.mapping import dump_yaml
from data_access.schema import ingest_load, mapping, quarantine, unmapped_code
from data_access.scope import PlantScope

LOAD_COLUMNS = [
    "load_id",
    "plant_id",
    "source",
    "file_name",
    "status",
    "started_utc",
    "actor",
    "mapping_version",
    "rows_read",
    "inserted",
    "replaced",
    "unchanged",
    "duplicates",
    "quarantined",
    "unmapped",
    "removed",
    "first_day",
    "last_day",
    "message",
]


def _read(engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def loads(
    engine: Engine, scope: PlantScope, plant_id: str | None = None, source: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """The newest loads first.

    Columns: load_id, plant_id, source, file_name, status (loaded | partial | nothing_loaded |
    failed | running), started_utc (UTC), actor, mapping_version, rows_read, inserted, replaced,
    unchanged, duplicates, quarantined, unmapped, removed, first_day, last_day (plant-local days
    the loaded rows cover), message (why it failed; notes).
    """
    l = ingest_load.c
    stmt = select(*(l[c] for c in LOAD_COLUMNS)).where(scope.clause(l.plant_id))
    if plant_id:
        stmt = stmt.where(l.plant_id == plant_id)
    if source:
        stmt = stmt.where(l.source == source)
    frame = _read(engine, stmt.order_by(l.load_id.desc()).limit(limit))
    frame["started_utc"] = pd.to_datetime(frame["started_utc"], utc=True)
    return frame


def open_quarantine(
    engine: Engine, scope: PlantScope, plant_id: str | None = None, source: str | None = None, limit: int = 5000
) -> pd.DataFrame:
    """Rows still waiting in quarantine, oldest first.

    Columns: quarantine_id, plant_id, source, file_name, row_number (file line or sheet row),
    category (invalid | unmapped | conflict | out_of_scope | unreadable), reason, raw (the row
    as read, JSON text), created_utc (UTC), load_id.
    """
    q = quarantine.c
    stmt = select(
        q.quarantine_id,
        q.plant_id,
        q.source,
        q.file_name,
        q.row_number,
        q.category,
        q.reason,
        q.raw,
        q.created_utc,
        q.load_id,
    ).where(scope.clause(q.plant_id), q.resolved.is_(False))
    if plant_id:
        stmt = stmt.where(q.plant_id == plant_id)
    if source:
        stmt = stmt.where(q.source == source)
    frame = _read(engine, stmt.order_by(q.quarantine_id).limit(limit))
    frame["raw"] = frame["raw"].map(lambda v: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    frame["created_utc"] = pd.to_datetime(frame["created_utc"], utc=True)
    return frame


def review_list(engine: Engine, scope: PlantScope, plant_id: str | None = None) -> pd.DataFrame:
    """Local codes waiting to be mapped, most frequent first.

    Columns: plant_id, kind (asset | line | material | supplier | reason | wo_type | wo_status |
    po_status), local_code, source (last seen in), occurrences (rows in that load),
    first_seen_utc, last_seen_utc (UTC), last_load_id.
    """
    u = unmapped_code.c
    stmt = select(
        u.plant_id, u.kind, u.local_code, u.source, u.occurrences, u.first_seen_utc, u.last_seen_utc, u.last_load_id
    ).where(scope.clause(u.plant_id), u.status == "open")
    if plant_id:
        stmt = stmt.where(u.plant_id == plant_id)
    frame = _read(engine, stmt.order_by(u.occurrences.desc(), u.plant_id, u.kind, u.local_code))
    for column in ("first_seen_utc", "last_seen_utc"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def mapping_versions(engine: Engine, scope: PlantScope, plant_id: str, source: str) -> pd.DataFrame:
    """Stored mapping versions of a plant's source, newest first.

    Columns: version, created_utc (UTC), created_by, yaml (the mapping as YAML text).
    """
    m = mapping.c
    frame = _read(
        engine,
        select(m.version, m.created_utc, m.created_by, m.spec)
        .where(scope.clause(m.plant_id), m.plant_id == plant_id, m.source == source)
        .order_by(m.version.desc()),
    )
    frame["yaml"] = frame.pop("spec").map(lambda s: dump_yaml(json.loads(s) if isinstance(s, str) else s))
    frame["created_utc"] = pd.to_datetime(frame["created_utc"], utc=True)
    return frame


def canonical_options(engine: Engine, scope: PlantScope, plant_id: str, kind: str) -> dict[str, str]:
    """Canonical codes of `kind` a local code of the plant may be mapped to: code -> label.
    Empty for a plant outside the scope."""
    if not scope.allows(plant_id):
        return {}
    with engine.connect() as conn:
        return loader.canonical_codes(conn, plant_id, kind)
