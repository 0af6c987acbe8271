"""The audit trail: an append-only, hash-chained log of every decision and state change.

Each row carries `prev_hash`, the `row_hash` of the row before it (64 zeros for the first),
and its own `row_hash`: sha256 over the canonical JSON (sorted keys, compact, UTF-8) of seq,
at_utc (ISO 8601 UTC with offset), actor, action, plant_id, entity, entity_id, detail and
prev_hash. `seq` is gap-free (1, 2, 3, ...), so `verify` finds an edited row (its hash no
longer matches), a deleted row (a gap in seq, or a broken link) and reordered rows (broken
links). What a chain alone cannot show is a cut-off tail or a rewrite of every row from some
point on: record the head hash that `verify` reports somewhere else to catch those.

Writers serialize on the chain head, so concurrent appenders (app replicas, CLI jobs) never
fork it:
- PostgreSQL: `pg_advisory_xact_lock` on a constant key before reading the head; the lock is
  held until the caller's transaction commits or rolls back.
- SQLite: a no-op UPDATE of `audit_log` as the append's first statement. pysqlite opens its
  (deferred) transaction before a DML statement, and the UPDATE takes SQLite's database write
  lock (waiting out the busy timeout) before the head is read; the lock too is held until
  the end of the transaction. A `BEGIN IMMEDIATE` would need an engine-wide event and fails
  when the caller has already written in the transaction; the UPDATE works in both cases.
The primary key on `seq` is the backstop: if the lock is somehow not held (an AUTOCOMMIT
connection), a racing appender fails on a duplicate seq instead of forking the chain.

Command line: `python -m governance.audit verify [--url URL]`.
"""

import argparse
import functools
import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Text, inspect, select, text, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access.engine import WarehouseError, describe, first_line, open_warehouse, warehouse_url
from data_access.schema import audit_log

GENESIS_HASH = "0" * 64
"""`prev_hash` of the first row."""

_VERIFY_BATCH = 1000
_PG_LOCK = text("SELECT pg_advisory_xact_lock(5786636600370086996)")  # b"PNCTAUDT"; per database
_SQLITE_LOCK = text("UPDATE audit_log SET seq = seq WHERE 0 = 1")
_HEAD = select(audit_log.c.seq, audit_log.c.row_hash).order_by(audit_log.c.seq.desc()).limit(1)
_INSERT = audit_log.insert()


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify`. On a broken chain, `rows_checked` counts the intact rows before
    `first_bad_seq`; `head_hash` is the last row's hash on an intact chain (record it elsewhere
    to detect a later truncation)."""

    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    problem: str | None
    head_hash: str | None = None


def append(
    conn: Connection,
    actor: str,
    action: str,
    *,
    plant_id: str | None = None,
    entity: str | None = None,
    entity_id: str | int | None = None,
    detail: dict,
) -> int:
    """Append one audit row inside the caller's transaction and return its seq.

    Call it in the same `with engine.begin() as conn:` block as the state change it records,
    ideally as the last statement: from here to the commit, every other appender waits.
    `detail` must be JSON-serializable (no NaN); it is stored in its JSON-normalized form
    (tuples become lists) so that what is hashed is exactly what is read back.
    """
    if not isinstance(detail, dict):
        raise TypeError(f"detail must be a dict, not {type(detail).__name__}")
    entity_id = None if entity_id is None else str(entity_id)
    values = {"actor": actor, "action": action, "plant_id": plant_id, "entity": entity, "entity_id": entity_id}
    for name, value in values.items():
        limit = audit_log.c[name].type.length
        if value is not None and len(value) > limit:  # PostgreSQL would refuse it, SQLite not
            raise ValueError(f"audit {name} longer than {limit} characters: {value!r}")
    if not actor or not action:
        raise ValueError("audit rows need an actor and an action")

    _lock_chain(conn)
    head = conn.execute(_HEAD).first()  # its own statement: a READ COMMITTED snapshot taken after the lock
    seq, prev_hash = (head.seq + 1, head.row_hash) if head else (1, GENESIS_HASH)
    row = {
        **values,
        "seq": seq,
        "at_utc": datetime.now(timezone.utc),
        "detail": json.loads(_canonical_json(detail)),
        "prev_hash": prev_hash,
    }
    row["row_hash"] = row_hash(row)
    conn.execute(_INSERT, row)
    return seq


def _lock_chain(conn: Connection) -> None:
    """Take the lock that serializes appenders until the end of this transaction."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(_PG_LOCK)
    elif dialect == "sqlite":
        conn.execute(_SQLITE_LOCK)
    else:
        raise NotImplementedError(f"no audit chain lock for {dialect}; supported: sqlite, postgresql")


def row_hash(row) -> str:
    """The sha256 hex digest of a row's canonical serialization (every column but row_hash)."""
    payload = {
        "seq": row["seq"],
        "at_utc": _iso_utc(row["at_utc"]),
        "actor": row["actor"],
        "action": row["action"],
        "plant_id": row["plant_id"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "detail": row["detail"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(_canonical_json(payload).encode("utf-8")).hexdigest()


def _canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _iso_utc(value: datetime | str) -> str:
    """ISO 8601 in UTC with offset. SQLite hands back naive UTC datetimes (or their text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def verify(conn_or_engine: Connection | Engine, *, batch_size: int = _VERIFY_BATCH) -> VerifyResult:
    """Walk the chain in seq order, `batch_size` rows at a time, and stop at the first bad row."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return verify(conn, batch_size=batch_size)
    conn = conn_or_engine
    c = audit_log.c
    # at_utc and detail come back as stored (text on SQLite), so a tampered, unparsable value
    # is reported as a bad row rather than raised by the column type while fetching.
    columns = [
        c.seq,
        type_coerce(c.at_utc, Text).label("at_utc"),
        c.actor,
        c.action,
        c.plant_id,
        c.entity,
        c.entity_id,
        type_coerce(c.detail, Text).label("detail"),
        c.prev_hash,
        c.row_hash,
    ]
    checked, last_seq, last_hash = 0, 0, GENESIS_HASH
    while True:
        batch = (
            conn.execute(select(*columns).where(c.seq > last_seq).order_by(c.seq).limit(batch_size)).mappings().all()
        )
        if not batch:
            return VerifyResult(True, checked, None, None, last_hash if checked else None)
        for row in batch:
            problem = _row_problem(row, last_seq, last_hash)
            if problem:
                bad_seq = last_seq + 1 if row["seq"] > last_seq + 1 else row["seq"]
                return VerifyResult(False, checked, bad_seq, problem)
            checked, last_seq, last_hash = checked + 1, row["seq"], row["row_hash"]


def _row_problem(row, last_seq: int, last_hash: str) -> str | None:
    """What is wrong with `row` given the intact row before it, or None."""
    expected = last_seq + 1
    if row["seq"] != expected:
        return (
            f"seq {expected} is missing (the next row is {row['seq']}): a row was deleted"
            if row["seq"] > expected
            else f"unexpected seq {row['seq']}: rows were renumbered"
        )
    detail = row["detail"]
    try:
        content = {**row, "detail": json.loads(detail) if isinstance(detail, str) else detail}
        recomputed = row_hash(content)
    except (TypeError, ValueError) as exc:
        return f"unreadable at_utc or detail ({exc}): the row was edited"
    if recomputed != row["row_hash"]:
        return "row_hash does not match the row's content: the row was edited"
    if row["prev_hash"] != last_hash:
        if expected == 1:
            return "prev_hash of the first row is not 64 zeros: rows before it were deleted"
        return (
            f"prev_hash does not match row {last_seq}'s row_hash: row {last_seq} was edited "
            "and re-hashed, or rows were deleted or reordered"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    """`verify`: exit 0 on an intact chain, 1 on a broken one, 2 when it cannot be checked."""
    parser = argparse.ArgumentParser(prog="python -m governance.audit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify_cmd = commands.add_parser("verify", help="check the audit chain of a warehouse")
    verify_cmd.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, or the SQLite file)")
    args = parser.parse_args(argv)

    try:
        url = args.url or warehouse_url()
        result = _verify_url(url)
    except WarehouseError as exc:
        print(f"cannot verify the audit chain: {exc}", file=sys.stderr)
        return 2
    if result.ok:
        print(
            f"audit chain intact: {result.rows_checked} rows"
            + (f" (head row_hash {result.head_hash})" if result.head_hash else "")
        )
        return 0
    print(
        f"audit chain broken at seq {result.first_bad_seq}: {result.problem} "
        f"({result.rows_checked} rows before it are intact)"
    )
    return 1


def _verify_url(url: str) -> VerifyResult:
    """Verify the warehouse at `url`; anything that keeps it from being read is a WarehouseError."""
    engine = open_warehouse(url, upgrade=False, require_plants=False)  # verifying never writes
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(audit_log.name):
                raise WarehouseError(f"{describe(url)} has no {audit_log.name} table (run the migrations)")
            return verify(conn)
    except SQLAlchemyError as exc:
        raise WarehouseError(f"cannot read {describe(url)}: {first_line(exc)}") from exc
    finally:
        engine.dispose()


# --- security events -------------------------------------------------------------------------------

SECURITY_LOG = logging.getLogger("pnct.security")


def record_failed_login(
    username: str | None, *, engine: Engine | None = None, reason: str = "bad_credentials", background: bool = False
) -> bool | threading.Thread:
    """Log a failed login and audit it: actor 'anonymous', the attempted username (None when it
    is not a known user) in the detail. Never raises: a login form must keep working when the
    warehouse does not. A warehouse without the audit table, or a SQLite file that does not exist
    yet, is left untouched. Returns whether the row was written, or with `background` the thread
    writing it (so a slow database never delays the login form)."""
    typed = None if username is None else str(username)[:200]
    SECURITY_LOG.warning("login failed", extra={"username": typed, "reason": reason})
    try:  # the warehouse configured now, not when a background thread gets to run
        engine = engine or _security_engine(warehouse_url())
    except Exception:  # noqa: BLE001 - auditing must not break the login form
        return False
    if background:
        thread = threading.Thread(target=_write_failed_login, args=(engine, typed, reason), daemon=True)
        thread.start()
        return thread
    return _write_failed_login(engine, typed, reason)


def _write_failed_login(engine: Engine, typed: str | None, reason: str) -> bool:
    try:
        if not inspect(engine).has_table(audit_log.name):
            return False
        with engine.begin() as conn:
            append(
                conn,
                "anonymous",
                "login_failed",
                entity="user",
                entity_id=(typed or None) and typed[:64],
                detail={"username": typed, "reason": str(reason)[:100]},
            )
        return True
    except Exception:  # noqa: BLE001 - auditing must not break the login form
        return False


@functools.cache
def _security_engine(url: str) -> Engine:
    """One engine per warehouse for the login form's audit rows (never creates a SQLite file)."""
    return open_warehouse(url, upgrade=False, require_plants=False)


if __name__ == "__main__":
    sys.exit(main())
