"""Notifications to approvers (issue 19; migration 0019).

One row per (recommendation, event, user): the unique key makes "exactly one email per approver
per event" a property of the table, whichever worker plans it and however often.
"""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from data_access.schema.base import metadata, utc_column

notification = Table(
    "notification",
    metadata,
    Column("notification_id", Integer, primary_key=True, autoincrement=True),
    Column("rec_id", ForeignKey("recommendation.rec_id"), nullable=False),
    Column("plant_id", String(32), nullable=False),
    Column("event", String(16), nullable=False),  # routed | escalated | sla_warning
    Column("username", String(64), nullable=False),
    Column("role", String(32), nullable=False),  # the role it is sent for
    Column("email", String(254), nullable=True),  # None: the user has no address (status failed)
    Column("channel", String(16), nullable=False),  # email
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    utc_column("created_utc", nullable=False),
    utc_column("claimed_utc"),  # when a sender took it (a `sending` row older than the lease is retried)
    utc_column("sent_utc"),
    Column("error", Text, nullable=True),
    UniqueConstraint("rec_id", "event", "username", name="uq_notification_rec_event_user"),
    Index("ix_notification_status", "status", "attempts"),
)
