"""predictive operations: forecast runs, series choices and backtest scores; risk scoring runs

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name, **kw):
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade():
    op.create_table(
        "forecast_run",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model_version.model_id"), nullable=False),
        sa.Column("data_end_day", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        _utc("started_utc", nullable=False),
        _utc("finished_utc", nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "forecast_series",
        sa.Column("run_id", sa.String(length=32), sa.ForeignKey("forecast_run.run_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("served_model", sa.String(length=32), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("chosen_model", sa.String(length=32), nullable=True),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("history_start", sa.Date(), nullable=True),
        sa.Column("history_end", sa.Date(), nullable=True),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("origins", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _utc("fitted_utc", nullable=False),
        sa.PrimaryKeyConstraint("run_id", "plant_id", "metric"),
    )
    op.create_index("ix_forecast_series_plant_metric_fitted", "forecast_series", ["plant_id", "metric", "fitted_utc"])
    op.create_table(
        "forecast_score",
        sa.Column("run_id", sa.String(length=32), sa.ForeignKey("forecast_run.run_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("candidate", sa.String(length=32), nullable=False),
        sa.Column("mase", sa.Float(), nullable=True),
        sa.Column("wape", sa.Float(), nullable=True),
        sa.Column("fit_seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "plant_id", "metric", "candidate"),
    )
    op.create_table(
        "score_run",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        _utc("as_of_utc", nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        _utc("started_utc", nullable=False),
        _utc("finished_utc", nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "risk_score",
        sa.Column("run_id", sa.String(length=32), sa.ForeignKey("score_run.run_id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model_version.model_id"), nullable=True),
        sa.Column("model_risk", sa.Float(), nullable=True),
        sa.Column("fallback_risk", sa.Float(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "kind", "plant_id", "subject_id"),
    )
    op.create_index("ix_risk_score_kind_plant", "risk_score", ["kind", "plant_id"])


def downgrade():
    op.drop_index("ix_risk_score_kind_plant", table_name="risk_score")
    op.drop_table("risk_score")
    op.drop_table("score_run")
    op.drop_table("forecast_score")
    op.drop_index("ix_forecast_series_plant_metric_fitted", table_name="forecast_series")
    op.drop_table("forecast_series")
    op.drop_table("forecast_run")
