"""Saved what-if scenarios. See docs/scenarios.md."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from data_access.schema.base import metadata, utc_column

scenario = Table(
    "scenario",
    metadata,
    Column("scenario_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("plant_ids", JSON, nullable=False),
    Column("levers", JSON, nullable=False),
    Column("results", JSON),
    Column("data_version", String(64)),
    Column("state", String(16), nullable=False),  # draft | submitted | approved | rejected
    utc_column("created_utc", nullable=False),
)

# --- issue 20: simulator backtest ---
# A backtest run starts the scenario baseline at past origin days with the data of then and
# compares it with what happened (forecasting.scenario_backtest); the planner shows how well
# the simulator tracked each plant. Migration 0020.
scenario_backtest_run = Table(
    "scenario_backtest_run",
    metadata,
    Column("run_id", String(32), primary_key=True),
    utc_column("created_utc", nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("paths", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("origins", JSON, nullable=False),  # ISO days the baseline was started at
    Column("skipped", JSON, nullable=False),  # [{plant_id, origin, reason}]
)

scenario_backtest = Table(
    "scenario_backtest",
    metadata,
    Column("run_id", ForeignKey("scenario_backtest_run.run_id"), nullable=False),
    Column("plant_id", String(32), nullable=False),
    Column("origin", Date, nullable=False),  # first simulated day
    Column("metric", String(32), nullable=False),  # a key of forecasting.scenario_backtest.METRICS
    Column("actual", Float),  # what happened, on the simulator's definition
    Column("sim_mean", Float),
    Column("sim_p10", Float),
    Column("sim_p90", Float),
    Column("inside", Boolean, nullable=False),  # p10 <= actual <= p90
    Column("demand_source", String(100), nullable=False),  # the stored forecast run, or the stand-in
    PrimaryKeyConstraint("run_id", "plant_id", "origin", "metric"),
    Index("ix_scenario_backtest_plant", "plant_id", "run_id"),
)
