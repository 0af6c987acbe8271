"""live feeds: machine-health readings over MQTT and the live collector's status

Revision ID: 0018
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0008"
branch_labels = None
depends_on = None


def _utc(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.create_table(
        "health_reading",
        sa.Column("asset_id", sa.String(length=64), sa.ForeignKey("asset.asset_id"), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        _utc("reading_utc", nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _utc("received_utc", nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "metric", "reading_utc"),
    )
    op.create_index("ix_health_reading_plant_day", "health_reading", ["plant_id", "day"])
    op.create_table(
        "health_reading_day",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "metric", "day"),
    )
    op.create_index("ix_quarantine_source_raw_hash", "quarantine", ["source", "raw_hash"])
    op.create_table(
        "live_collector",
        sa.Column("collector_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("broker", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        _utc("updated_utc", nullable=False),
        _utc("connected_utc", nullable=True),
        _utc("last_error_utc", nullable=True),
        _utc("last_message_utc", nullable=True),
        _utc("last_reading_utc", nullable=True),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        _utc("rescored_utc", nullable=True),
        sa.Column("rescore_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("collector_id"),
    )


def downgrade():
    op.drop_table("live_collector")
    op.drop_index("ix_quarantine_source_raw_hash", table_name="quarantine")
    op.drop_table("health_reading_day")
    op.drop_index("ix_health_reading_plant_day", table_name="health_reading")
    op.drop_table("health_reading")
