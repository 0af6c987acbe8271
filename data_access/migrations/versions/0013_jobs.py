"""the worker: job runs (each one's lease) and job requests

Revision ID: 0013
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def _utc(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_name", sa.String(length=32), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("plant_id", sa.String(length=32), nullable=True),
        sa.Column("schedule", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=96), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _utc("started_utc", nullable=False),
        _utc("lease_expires_utc", nullable=False),
        _utc("finished_utc", nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
        sa.UniqueConstraint("job_name", "run_key", name="uq_job_run_job_key"),
    )
    op.create_index("ix_job_run_started", "job_run", ["started_utc"])
    op.create_index("ix_job_run_status", "job_run", ["status", "lease_expires_utc"])
    op.create_table(
        "job_request",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("job_name", sa.String(length=32), nullable=True),
        sa.Column("plant_id", sa.String(length=32), nullable=True),
        sa.Column("load_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        _utc("requested_utc", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=96), nullable=True),
        _utc("lease_expires_utc", nullable=True),
        _utc("finished_utc", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("ix_job_request_status", "job_request", ["status", "requested_utc"])


def downgrade():
    op.drop_table("job_request")
    op.drop_table("job_run")
