"""Predictive operations: the model registry, forecasts and risk scores. See docs/intelligence.md."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from data_access.schema.base import metadata, utc_column

model_version = Table(
    "model_version",
    metadata,
    Column("model_id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("artifact", Text),  # serialized model (prophet.serialize JSON, or joblib base64)
    Column("status", String(16), nullable=False),  # candidate | approved | retired
    utc_column("trained_utc", nullable=False),
    Column("approved_by", String(64)),
    utc_column("approved_utc"),
    Column("approval_reason", Text),
    UniqueConstraint("model_name", "version", name="uq_model_version_name_version"),
)

model_metric = Table(
    "model_metric",
    metadata,
    Column("model_id", ForeignKey("model_version.model_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),
    utc_column("measured_utc", primary_key=True),
    Column("value", Float, nullable=False),
)

# What predictive operations (issue 4) adds; migration 0004. See docs/intelligence.md.
# A refresh run fits every plant x metric series; `forecast` holds the forecast it serves per
# series (its `run_id` is the run's), `forecast_series` how that series was chosen and
# `forecast_score` every candidate's rolling-origin backtest. A run id is
# "<last data day>-<forecaster version>", so a rerun on the same data replaces its own rows.
forecast_run = Table(
    "forecast_run",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("model_id", ForeignKey("model_version.model_id"), nullable=False),  # forecaster version
    Column("data_end_day", Date, nullable=False),  # newest day of any series in the warehouse
    Column("horizon_days", Integer, nullable=False),
    Column("job", String(16), nullable=False),  # refresh | refit
    Column("actor", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("workers", Integer, nullable=False, default=1),
    Column("series", Integer, nullable=False, default=0),  # series written by the latest pass
    Column("fallbacks", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("seconds", Float),
    utc_column("started_utc", nullable=False),
    utc_column("finished_utc"),
)

forecast_series = Table(
    "forecast_series",
    metadata,
    Column("run_id", ForeignKey("forecast_run.run_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),  # demand | unplanned_downtime_h | output
    Column("unit", String(16), nullable=False),
    Column("served_model", String(32), nullable=False),  # the model whose forecast `forecast` holds
    Column("approved", Boolean, nullable=False),  # was the run's forecaster version approved when fitted
    Column("chosen_model", String(32)),  # the backtest's pick (null: nothing could be fitted)
    Column("fallback_reason", Text),  # why the served model is a fallback; null when it is not
    Column("history_start", Date),
    Column("history_end", Date),  # the forecast starts the day after
    Column("observed", Integer, nullable=False, default=0),  # days with a value in the history
    Column("missing", Integer, nullable=False, default=0),  # days without one
    Column("origins", Integer, nullable=False, default=0),  # backtest origins
    Column("seconds", Float),
    Column("error", Text),  # why no forecast at all could be made
    utc_column("fitted_utc", nullable=False),
    Index("ix_forecast_series_plant_metric_fitted", "plant_id", "metric", "fitted_utc"),
    # when and why a backtest last chose chosen_model: the daily refresh refits it without one (issue 12)
    Column("reselected_day", Date),  # data day of the backtest that chose chosen_model
    Column("reselect_reason", Text),  # why that backtest ran: new series, weekly, drift ...
    # the chosen model's form its search picked (ARIMA orders, ETS components, Theta variant): the
    # daily refit fits it as is; a reselection searches again (issue 12, warm starts; migration 0032)
    Column("fitted_params", JSON),
)

forecast_score = Table(
    "forecast_score",
    metadata,
    Column("run_id", ForeignKey("forecast_run.run_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("candidate", String(32), primary_key=True),
    Column("mase", Float),  # mean over the origins; null when undefined or the candidate failed
    Column("wape", Float),
    Column("fit_seconds", Float),
    Column("error", Text),
)

forecast = Table(
    "forecast",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),  # demand | unplanned_downtime_h | output
    Column("run_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("model", String(32), nullable=False),
    Column("yhat", Float, nullable=False),
    Column("yhat_lower", Float),
    Column("yhat_upper", Float),
)

# A scoring run: failure risk per asset, shortage probability per plant material, disruption
# probability per production order. Every row keeps the model's and the fallback rule's
# score beside the one served (`risk`), and why the fallback was served.
score_run = Table(
    "score_run",
    metadata,
    Column("run_id", String(32), primary_key=True),  # as_of as YYYYMMDDTHHMM
    utc_column("as_of_utc", nullable=False),
    Column("actor", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("summary", JSON),
    utc_column("started_utc", nullable=False),
    utc_column("finished_utc"),
)

risk_score = Table(
    "risk_score",
    metadata,
    Column("run_id", ForeignKey("score_run.run_id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # failure | shortage | disruption
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("subject_id", String(64), primary_key=True),  # asset, material or production order
    Column("risk", Float, nullable=False),  # served probability, 0..1
    Column("source", String(16), nullable=False),  # model | fallback
    Column("reason", Text),  # why the fallback was served
    Column("model_id", ForeignKey("model_version.model_id")),  # the version that scored (if any)
    Column("model_risk", Float),
    Column("fallback_risk", Float),
    Column("stale", Boolean, nullable=False, default=False),  # an input feed beyond its limit
    Column("detail", JSON, nullable=False),
    Index("ix_risk_score_kind_plant", "kind", "plant_id"),
)

# A model version held back at a plant: its drift or recent accuracy passed the plant policy's
# limit (governance.model_serving.hold_degraded), so the plant is served by the fallback until someone
# releases the hold (audited) or another version is approved. One open hold per version and plant.
model_hold = Table(
    "model_hold",
    metadata,
    Column("hold_id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", ForeignKey("model_version.model_id"), nullable=False),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("reason", Text, nullable=False),
    utc_column("held_utc", nullable=False),
    utc_column("released_utc"),
    Column("released_by", String(64)),
    Column("release_reason", Text),
    Index("ix_model_hold_model_plant", "model_id", "plant_id"),
)
