"""plant data onboarding: load log, lineage, review list, quarantine details, natural-key indexes

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.create_table(
        "ingest_load",
        sa.Column("load_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("mapping_id", sa.Integer(), sa.ForeignKey("mapping.mapping_id"), nullable=True),
        sa.Column("mapping_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        _utc("started_utc", nullable=False),
        _utc("finished_utc", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("replaced", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("unmapped", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("replaces", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("load_id"),
    )
    op.create_index("ix_ingest_load_plant_source", "ingest_load", ["plant_id", "source", "started_utc"])
    op.create_table(
        "ingest_row",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("natural_key", sa.String(length=200), nullable=False),
        sa.Column("row_hash", sa.String(length=16), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plant_id", "source", "natural_key"),
    )
    op.create_index("ix_ingest_row_load_id", "ingest_row", ["load_id"])
    op.create_table(
        "unmapped_code",
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("local_code", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        _utc("first_seen_utc", nullable=False),
        _utc("last_seen_utc", nullable=False),
        sa.Column("last_load_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("canonical_code", sa.String(length=64), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        _utc("resolved_utc", nullable=True),
        sa.PrimaryKeyConstraint("plant_id", "kind", "local_code"),
    )
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("load_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("raw_hash", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(_utc("resolved_utc", nullable=True))
        batch.create_index("ix_quarantine_open", ["plant_id", "source", "resolved"])
    op.create_index("ix_downtime_event_natural_key", "downtime_event", ["plant_id", "asset_id", "start_utc"])
    op.create_index("ix_work_order_plant_local_code", "work_order", ["plant_id", "local_code"])


def downgrade():
    op.drop_index("ix_work_order_plant_local_code", table_name="work_order")
    op.drop_index("ix_downtime_event_natural_key", table_name="downtime_event")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_index("ix_quarantine_open")
        batch.drop_column("resolved_utc")
        batch.drop_column("resolution")
        batch.drop_column("raw_hash")
        batch.drop_column("category")
        batch.drop_column("load_id")
    op.drop_table("unmapped_code")
    op.drop_index("ix_ingest_row_load_id", table_name="ingest_row")
    op.drop_table("ingest_row")
    op.drop_index("ix_ingest_load_plant_source", table_name="ingest_load")
    op.drop_table("ingest_load")
