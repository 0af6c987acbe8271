"""simulator backtest: runs and their per-plant, per-origin, per-metric outcomes (issue 20)

Revision ID: 0020
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scenario_backtest_run",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("paths", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "scenario_backtest",
        sa.Column("run_id", sa.String(length=32), sa.ForeignKey("scenario_backtest_run.run_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("sim_mean", sa.Float(), nullable=True),
        sa.Column("sim_p10", sa.Float(), nullable=True),
        sa.Column("sim_p90", sa.Float(), nullable=True),
        sa.Column("inside", sa.Boolean(), nullable=False),
        sa.Column("demand_source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "plant_id", "origin", "metric"),
    )
    op.create_index("ix_scenario_backtest_plant", "scenario_backtest", ["plant_id", "run_id"])


def downgrade():
    op.drop_index("ix_scenario_backtest_plant", table_name="scenario_backtest")
    op.drop_table("scenario_backtest")
    op.drop_table("scenario_backtest_run")
