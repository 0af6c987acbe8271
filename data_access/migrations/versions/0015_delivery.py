"""outbox delivery: delivery state and timeline per outbox row, inbound process events

Revision ID: 0015
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0008"
branch_labels = None
depends_on = None


def _utc(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.create_table(
        "delivery_message",
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.outbox_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("subject_key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("next_attempt_utc", nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=True),
        sa.Column("destination", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("document_number", sa.String(length=64), nullable=True),
        _utc("created_utc", nullable=False),
        _utc("sent_utc", nullable=True),
        _utc("acked_utc", nullable=True),
        _utc("dead_utc", nullable=True),
        _utc("received_utc", nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _utc("lease_until", nullable=True),
        sa.PrimaryKeyConstraint("outbox_id"),
    )
    op.create_index("ix_delivery_message_due", "delivery_message", ["state", "next_attempt_utc"])
    op.create_index("ix_delivery_message_subject", "delivery_message", ["subject_key", "outbox_id"])
    op.create_table(
        "delivery_event",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.outbox_id"), nullable=False),
        _utc("at_utc", nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("transport", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("document_number", sa.String(length=64), nullable=True),
        _utc("next_attempt_utc", nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_delivery_event_outbox_id", "delivery_event", ["outbox_id"])
    op.create_table(
        "inbound_event",
        sa.Column("inbound_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("applied_key", sa.String(length=128), nullable=True),
        sa.Column("event_type", sa.String(length=32), nullable=True),
        sa.Column("plant_id", sa.String(length=32), nullable=True),
        sa.Column("entity_key", sa.String(length=128), nullable=True),
        _utc("occurred_utc", nullable=True),
        _utc("received_utc", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("inbound_id"),
        sa.UniqueConstraint("applied_key"),
    )
    op.create_index("ix_inbound_event_entity", "inbound_event", ["entity_key", "occurred_utc"])


def downgrade():
    op.drop_table("inbound_event")
    op.drop_table("delivery_event")
    op.drop_table("delivery_message")
