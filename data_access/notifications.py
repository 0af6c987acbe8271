"""Named reads and writes of the notification log (issue 19).

Planning inserts one row per (recommendation, event, user) and never a second (the unique key;
a row already there is left alone); a sender claims a due row (a conditional update, so two
senders never both take it) and records the outcome.
Times are timezone-aware UTC.
"""

from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from data_access.frames import read_frame, utc_columns
from data_access.schema import notification, plant, recommendation
from data_access.scope import PlantScope

EVENTS = ("routed", "escalated", "sla_warning")
MAX_ATTEMPTS = 3
CLAIM_LEASE = timedelta(minutes=10)
"""A row claimed longer ago than this by a sender that never recorded the outcome is sent again."""
_N = notification.c
_R = recommendation.c


def waiting_recommendations(engine: Engine, sla_warning_before: datetime) -> pd.DataFrame:
    """Open and escalated recommendations, with what a notification needs.

    Columns: rec_id, plant_id, plant_name, plant_timezone, kind, title, state, estimated_cost,
    created_utc, sla_due_utc, routing (dict), sla_soon (bool: open and due before
    `sla_warning_before`). Network-wide: the notifier itself checks each user's scope.
    """
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            select(
                _R.rec_id,
                _R.plant_id,
                plant.c.name.label("plant_name"),
                plant.c.timezone.label("plant_timezone"),
                _R.kind,
                _R.title,
                _R.state,
                _R.estimated_cost,
                _R.created_utc,
                _R.sla_due_utc,
                _R.routing,
            )
            .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
            .where(_R.state.in_(("open", "escalated")))
            .order_by(_R.rec_id),
        )
    frame = utc_columns(frame, "created_utc", "sla_due_utc")
    limit = pd.Timestamp(sla_warning_before)
    frame["sla_soon"] = (frame["state"] == "open") & frame["sla_due_utc"].notna() & (frame["sla_due_utc"] <= limit)
    frame["routing"] = [dict(r or {}) for r in frame["routing"]]
    return frame


def plan(engine: Engine, rows: list[dict], now: datetime | None = None) -> int:
    """Insert the planned notifications not logged yet (keys: rec_id, plant_id, event, username,
    role, email); a user without an email address is logged failed at once. Returns how many
    rows were new. Each row is its own transaction, so a concurrent planner loses quietly."""
    now = now or datetime.now(timezone.utc)
    new = 0
    for row in rows:
        values = {
            **row,
            "channel": "email",
            "attempts": 0,
            "created_utc": now,
            "status": "pending" if row.get("email") else "failed",
            "error": None if row.get("email") else "the user has no email address",
        }
        exists = and_(_N.rec_id == row["rec_id"], _N.event == row["event"], _N.username == row["username"])
        try:
            with engine.begin() as conn:
                if conn.execute(select(_N.notification_id).where(exists)).first() is None:
                    conn.execute(notification.insert().values(**values))
                    new += 1
        except IntegrityError:
            pass  # another worker planned the same row first
    return new


def due(engine: Engine, limit: int = 200, now: datetime | None = None) -> list[dict]:
    """Rows to send, oldest first: pending ones, failed ones with attempts left (never one without
    an address), and `sending` ones whose sender stopped (claimed more than CLAIM_LEASE ago)."""
    stale = (now or datetime.now(timezone.utc)) - CLAIM_LEASE
    retry = and_(_N.status == "failed", _N.attempts < MAX_ATTEMPTS, _N.email.is_not(None), _N.attempts > 0)
    abandoned = and_(_N.status == "sending", _N.claimed_utc < stale, _N.attempts < MAX_ATTEMPTS)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(notification)
                .where(or_(_N.status == "pending", retry, abandoned))
                .order_by(_N.notification_id)
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def claim(engine: Engine, row: dict, now: datetime | None = None) -> bool:
    """Take a due row for sending (status `sending`, one more attempt): False when another sender
    took it first (its status or attempts changed since `due` read it)."""
    with engine.begin() as conn:
        return (
            conn.execute(
                update(notification)
                .where(
                    _N.notification_id == row["notification_id"],
                    _N.status == row["status"],
                    _N.attempts == row["attempts"],
                )
                .values(status="sending", attempts=_N.attempts + 1, claimed_utc=now or datetime.now(timezone.utc))
            ).rowcount
            == 1
        )


def record(
    engine: Engine, notification_id: int, *, sent: bool, error: str | None = None, now: datetime | None = None
) -> None:
    """The outcome of a claimed attempt: sent (with its time) or failed (with the reason)."""
    values = (
        {"status": "sent", "sent_utc": now or datetime.now(timezone.utc), "error": None}
        if sent
        else {"status": "failed", "error": (error or "unknown error")[:2000]}
    )
    with engine.begin() as conn:
        conn.execute(update(notification).where(_N.notification_id == notification_id).values(**values))


def notification_rows(engine: Engine, scope: PlantScope, limit: int = 500) -> pd.DataFrame:
    """The notification log of the plants in scope, newest first.

    Columns: notification_id, created_utc, rec_id, plant_id, event, username, role, email,
    channel, status (pending | sending | sent | failed), attempts, sent_utc, error.
    """
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            select(
                _N.notification_id,
                _N.created_utc,
                _N.rec_id,
                _N.plant_id,
                _N.event,
                _N.username,
                _N.role,
                _N.email,
                _N.channel,
                _N.status,
                _N.attempts,
                _N.sent_utc,
                _N.error,
            )
            .where(scope.clause(_N.plant_id))
            .order_by(_N.notification_id.desc())
            .limit(limit),
        )
    return utc_columns(frame, "created_utc", "sent_utc")
