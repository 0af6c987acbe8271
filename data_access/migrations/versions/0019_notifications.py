"""notifications to approvers (issue 19)

Revision ID: 0019
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("notification_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rec_id", sa.Integer(), sa.ForeignKey("recommendation.rec_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("rec_id", "event", "username", name="uq_notification_rec_event_user"),
    )
    op.create_index("ix_notification_status", "notification", ["status", "attempts"])


def downgrade():
    op.drop_index("ix_notification_status", table_name="notification")
    op.drop_table("notification")
