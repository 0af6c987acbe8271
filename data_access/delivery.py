"""Outbox delivery state: the queries of the deliverers (claim, record) and the reads of the pages.

Every outbox row gets one `delivery_message` row (`enqueue_new`). A deliverer claims due
messages with a row lease (`claim`): on PostgreSQL the candidates are picked `FOR UPDATE
SKIP LOCKED`, on SQLite the claim is one guarded UPDATE (SQLite runs one writer at a time);
on both the UPDATE re-checks that nobody holds a live lease, so a message is claimed by one
deliverer at a time, however many run. Only the oldest unfinished message of a subject (plant
and subject of its recommendation) is ever due, so a later message of the same subject waits
for the earlier one. Results are written with `record`, guarded by the lease owner: a
deliverer whose lease ran out (it stalled, another took over) writes nothing.

Reads (`delivery_status`, `delivery_timeline`, `delivery_counts`) take the PlantScope.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from data_access.frames import as_utc, read_frame
from data_access.schema import delivery_event, delivery_message, outbox, recommendation
from data_access.scope import PlantScope

DUE_STATES = ("queued", "failed")
"""States in which a message waits for its next attempt."""
DONE_STATES = ("sent", "acknowledged")
"""States that let the next message of the same subject go."""

_M = delivery_message.c


@dataclass(frozen=True)
class Claimed:
    """A message a deliverer holds the lease on: what it needs to send it."""

    outbox_id: int
    plant_id: str
    target: str
    request_type: str
    rec_id: int
    payload: dict
    attempts: int  # attempts made before this one
    created_utc: datetime


@dataclass(frozen=True)
class Outcome:
    """What one attempt (or the configuration check before it) came to.

    `state`: sent | acknowledged | failed | dead | held (held: not attempted, the route is
    not usable; the message stays queued and is looked at again at `next_attempt_utc`)."""

    outbox_id: int
    state: str
    transport: str | None = None
    destination: str | None = None
    detail: str | None = None
    document_number: str | None = None
    next_attempt_utc: datetime | None = None
    event: str | None = None  # the timeline event, when not the state itself (e.g. rejected)


def _insert(conn: Connection):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(delivery_message)


def enqueue_new(conn: Connection, now: datetime) -> int:
    """A `queued` delivery row (and its timeline's first event) for every outbox row without one;
    returns how many. Concurrent callers insert each once (ON CONFLICT DO NOTHING)."""
    o, r = outbox.c, recommendation.c
    pending = (
        select(
            o.outbox_id,
            o.plant_id,
            o.target,
            (o.plant_id + literal("|") + r.subject_id).label("subject_key"),
            literal("queued").label("state"),
            literal(0).label("attempts"),
            o.created_utc.label("next_attempt_utc"),
            o.created_utc,
        )
        .join_from(outbox, recommendation, r.rec_id == o.rec_id)
        .where(~exists().where(_M.outbox_id == o.outbox_id))
        .order_by(o.outbox_id)
    )
    columns = ["outbox_id", "plant_id", "target", "subject_key", "state", "attempts", "next_attempt_utc", "created_utc"]
    stmt = _insert(conn).from_select(columns, pending).on_conflict_do_nothing().returning(_M.outbox_id, _M.created_utc)
    rows = conn.execute(stmt).all()
    if rows:
        conn.execute(
            delivery_event.insert(),
            [
                {
                    "outbox_id": i,
                    "at_utc": created,
                    "event": "queued",
                    "actor": "system",
                    "detail": "approved: waiting for delivery",
                }
                for i, created in rows
            ],
        )
    return len(rows)


def claim(
    conn: Connection, owner: str, now: datetime, lease: timedelta, limit: int, due_by: datetime | None = None
) -> list[Claimed]:
    """Lease up to `limit` messages due by `due_by` (default now) to `owner` until now + lease,
    oldest first, at most one per subject (the oldest unfinished one). Call it in its own short
    transaction."""
    earlier = delivery_message.alias("earlier")
    free = or_(_M.lease_until.is_(None), _M.lease_until < now)
    candidates = (
        select(_M.outbox_id)
        .where(
            _M.state.in_(DUE_STATES),
            _M.next_attempt_utc <= (due_by or now),
            free,
            ~exists().where(
                earlier.c.subject_key == _M.subject_key,
                earlier.c.outbox_id < _M.outbox_id,
                earlier.c.state.not_in(DONE_STATES),
            ),
        )
        .order_by(_M.outbox_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = (
        conn.execute(
            update(delivery_message)
            .where(_M.outbox_id.in_(candidates.scalar_subquery()), _M.state.in_(DUE_STATES), free)
            .values(lease_owner=owner[:64], lease_until=now + lease)
            .returning(_M.outbox_id)
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    o = outbox.c
    rows = conn.execute(
        select(o.outbox_id, o.plant_id, o.target, o.request_type, o.rec_id, o.payload, _M.attempts, o.created_utc)
        .join_from(outbox, delivery_message, _M.outbox_id == o.outbox_id)
        .where(o.outbox_id.in_(ids))
        .order_by(o.outbox_id)
    ).all()
    return [
        Claimed(
            r.outbox_id,
            r.plant_id,
            r.target,
            r.request_type,
            r.rec_id,
            dict(r.payload or {}),
            r.attempts,
            as_utc(r.created_utc),
        )
        for r in rows
    ]


def record(conn: Connection, owner: str, out: Outcome, now: datetime, actor: str = "system") -> bool:
    """Write the outcome of `owner`'s attempt and release its lease; False (nothing written) when
    `owner` no longer holds the lease (it ran out and another deliverer took the message)."""
    values = {
        "lease_owner": None,
        "lease_until": None,
        "last_error": out.detail if out.state in ("failed", "dead", "held") else None,
    }
    if out.transport is not None:
        values.update(transport=out.transport, destination=(out.destination or "")[:300] or None)
    if out.state == "held":
        values.update(next_attempt_utc=out.next_attempt_utc or now)
    else:
        values["attempts"] = _M.attempts + 1
        values["state"] = out.state
    if out.state in ("sent", "acknowledged"):
        values["sent_utc"] = func.coalesce(_M.sent_utc, now)
    if out.state == "acknowledged":
        values.update(acked_utc=now, document_number=out.document_number)
    if out.state == "failed":
        values["next_attempt_utc"] = out.next_attempt_utc or now
    if out.state == "dead":
        values["dead_utc"] = now
    done = conn.execute(
        update(delivery_message)
        .where(_M.outbox_id == out.outbox_id, _M.lease_owner == owner)
        .values(**values)
        .returning(_M.attempts)
    ).first()
    if done is None:
        return False
    if out.state in ("sent", "acknowledged"):
        conn.execute(
            update(outbox)
            .where(outbox.c.outbox_id == out.outbox_id, outbox.c.delivered_utc.is_(None))
            .values(delivered_utc=now)
        )
    if out.state == "held" and _last_event(conn, out.outbox_id) == ("held", out.detail):
        return True  # the same reason again: one line on the timeline, not one per pass
    conn.execute(
        delivery_event.insert().values(
            outbox_id=out.outbox_id,
            at_utc=now,
            event=out.event or ("dead_lettered" if out.state == "dead" else out.state),
            attempt=None if out.state == "held" else done.attempts,
            transport=out.transport,
            detail=out.detail,
            document_number=out.document_number,
            next_attempt_utc=out.next_attempt_utc,
            actor=actor,
        )
    )
    return True


def _last_event(conn: Connection, outbox_id: int) -> tuple[str, str | None] | None:
    e = delivery_event.c
    row = conn.execute(
        select(e.event, e.detail).where(e.outbox_id == outbox_id).order_by(e.event_id.desc()).limit(1)
    ).first()
    return None if row is None else (row.event, row.detail)


def acknowledge(
    conn: Connection,
    outbox_id: int,
    accepted: bool,
    document_number: str | None,
    reason: str | None,
    now: datetime,
    actor: str,
) -> str | None:
    """Store the target's answer to a message (from the inbound queue): acknowledged with its
    document number, or rejected (dead-lettered with the target's reason). Returns the new
    state, or None when there is no such message. An answer proves the message arrived, so it
    counts even when the deliverer had not yet recorded the message as sent."""
    row = conn.execute(select(_M.state).where(_M.outbox_id == outbox_id)).first()
    if row is None:
        return None
    if accepted:
        values = {
            "state": "acknowledged",
            "acked_utc": now,
            "document_number": (document_number or "")[:64] or None,
            "sent_utc": func.coalesce(_M.sent_utc, now),
            "last_error": None,
        }
        event, detail = "acknowledged", "accepted by the target"
    else:
        values = {
            "state": "dead",
            "dead_utc": now,
            "last_error": f"rejected by the target: {reason or 'no reason given'}",
        }
        event, detail = "rejected", values["last_error"]
    conn.execute(
        update(delivery_message).where(_M.outbox_id == outbox_id).values(lease_owner=None, lease_until=None, **values)
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.outbox_id == outbox_id, outbox.c.delivered_utc.is_(None))
        .values(delivered_utc=now)
    )
    conn.execute(
        delivery_event.insert().values(
            outbox_id=outbox_id,
            at_utc=now,
            event=event,
            detail=detail,
            document_number=values.get("document_number"),
            actor=actor[:64],
        )
    )
    return values["state"]


def release(conn: Connection, owner: str, outbox_ids: list[int]) -> None:
    """Give back claimed messages unsent (the claim is about to run out)."""
    conn.execute(
        update(delivery_message)
        .where(_M.outbox_id.in_(outbox_ids), _M.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def requeue_dead(conn: Connection, outbox_id: int, now: datetime, actor: str, reason: str) -> bool:
    """Put a dead-lettered message back in the queue (attempts from zero); False when it is not
    dead-lettered (any more)."""
    done = conn.execute(
        update(delivery_message)
        .where(_M.outbox_id == outbox_id, _M.state == "dead")
        .values(
            state="queued",
            attempts=0,
            next_attempt_utc=now,
            dead_utc=None,
            last_error=None,
            lease_owner=None,
            lease_until=None,
        )
    ).rowcount
    if done != 1:
        return False
    conn.execute(
        delivery_event.insert().values(
            outbox_id=outbox_id, at_utc=now, event="retried", detail=reason, actor=actor[:64]
        )
    )
    return True


def mark_received(conn: Connection, outbox_id: int, now: datetime, detail: str, actor: str) -> None:
    """A goods receipt fulfilled the request: the loop is closed."""
    conn.execute(update(delivery_message).where(_M.outbox_id == outbox_id).values(received_utc=now))
    conn.execute(
        delivery_event.insert().values(
            outbox_id=outbox_id, at_utc=now, event="received", detail=detail, actor=actor[:64]
        )
    )


def awaiting_receipt(conn: Connection, plant_id: str, material_id: str, outbox_id: int | None = None) -> int | None:
    """The outbox id of the oldest purchase requisition for `material_id` at the plant that no
    goods receipt has closed yet (or `outbox_id` itself, when it is such a requisition)."""
    o, r = outbox.c, recommendation.c
    stmt = (
        select(o.outbox_id)
        .join_from(outbox, recommendation, r.rec_id == o.rec_id)
        .join(delivery_message, _M.outbox_id == o.outbox_id)
        .where(o.plant_id == plant_id, r.kind == "shortage", r.subject_id == material_id, _M.received_utc.is_(None))
        .order_by(o.outbox_id)
        .limit(1)
    )
    if outbox_id is not None:
        stmt = stmt.where(o.outbox_id == outbox_id)
    return conn.execute(stmt).scalar()


# --- reads -------------------------------------------------------------------------------------


def message_plant(engine: Engine, outbox_id: int) -> str | None:
    """The plant of an outbox request (None: no such request), to check a user's scope against."""
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.plant_id).where(outbox.c.outbox_id == outbox_id)).scalar()


def delivery_status(engine: Engine, scope: PlantScope, rec_id: int) -> dict | None:
    """Where the delivery of a recommendation's outbox request stands, or None (no request, or
    outside the scope).

    Keys: outbox_id, plant_id, target, request_type, state (queued | failed | sent |
    acknowledged | dead), attempts, next_attempt_utc, transport, destination, last_error,
    document_number, created_utc, sent_utc, acked_utc, dead_utc, received_utc, in_flight
    (a deliverer holds it now).
    """
    o = outbox.c
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(
                    o.outbox_id,
                    o.plant_id,
                    o.target,
                    o.request_type,
                    _M.state,
                    _M.attempts,
                    _M.next_attempt_utc,
                    _M.transport,
                    _M.destination,
                    _M.last_error,
                    _M.document_number,
                    _M.created_utc,
                    _M.sent_utc,
                    _M.acked_utc,
                    _M.dead_utc,
                    _M.received_utc,
                    _M.lease_until,
                )
                .join_from(outbox, delivery_message, _M.outbox_id == o.outbox_id)
                .where(o.rec_id == rec_id, scope.clause(o.plant_id))
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    status = {k: (as_utc(v) if k.endswith(("_utc", "_until")) else v) for k, v in row.items()}
    lease = status.pop("lease_until")
    status["in_flight"] = lease is not None
    return status


def delivery_timeline(engine: Engine, scope: PlantScope, rec_id: int) -> pd.DataFrame:
    """The delivery timeline of a recommendation's outbox request, oldest first.

    Columns: at_utc, event (queued | held | sent | acknowledged | rejected | failed |
    dead_lettered | retried | received), attempt, transport, detail, document_number,
    next_attempt_utc, actor.
    """
    e, o = delivery_event.c, outbox.c
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            select(e.at_utc, e.event, e.attempt, e.transport, e.detail, e.document_number, e.next_attempt_utc, e.actor)
            .join_from(delivery_event, outbox, o.outbox_id == e.outbox_id)
            .where(o.rec_id == rec_id, scope.clause(o.plant_id))
            .order_by(e.event_id),
        )
    for name in ("at_utc", "next_attempt_utc"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def delivery_counts(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Messages per plant, target and delivery state in scope.

    Columns: plant_id, target, state, messages.
    """
    with engine.connect() as conn:
        return read_frame(
            conn,
            select(_M.plant_id, _M.target, _M.state, func.count().label("messages"))
            .where(scope.clause(_M.plant_id))
            .group_by(_M.plant_id, _M.target, _M.state)
            .order_by(_M.plant_id, _M.target, _M.state),
        )
