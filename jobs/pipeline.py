"""The batch steps, each composed with what it needs of the other layer.

- forecasts: forecasting.refresh with governance.model_serving (registration with its audit
  row, approval) passed in;
- risk scores: forecasting.score, likewise;
- orchestration: governance.orchestrate with the failure-risk model's served scores
  (forecasting.score.maintenance_signals) plugged in as the maintenance model provider.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy.engine import Engine

from data_access.scope import PlantScope
from forecasting import refresh as forecast_refresh
from forecasting import score as risk_score
from governance import model_serving, orchestrate, signals

maintenance_signals = partial(risk_score.maintenance_signals, serving=model_serving)
"""The maintenance model provider: served failure-risk scores of a recent scoring run."""

MODEL_PROVIDERS: dict[str, signals.ModelProvider] = {"maintenance": maintenance_signals}


def refresh_forecasts(
    engine: Engine, config: forecast_refresh.RefreshConfig = forecast_refresh.RefreshConfig(), **options
) -> forecast_refresh.RefreshReport:
    """forecasting.refresh.refresh served by the model registry's rules (options as there)."""
    return forecast_refresh.refresh(engine, config, serving=model_serving, **options)


def refit_one(
    engine: Engine, plant_id: str, metric: str, scope: PlantScope, actor: str, progress: Callable | None = None
) -> forecast_refresh.SeriesResult:
    """One series refitted on demand (a page's button), served by the registry's rules."""
    return forecast_refresh.refit_one(engine, plant_id, metric, scope, actor, serving=model_serving, progress=progress)


def score_risks(engine: Engine, as_of: datetime | None = None, **options) -> risk_score.ScoreReport:
    """forecasting.score.score served by the model registry's rules (options as there)."""
    return risk_score.score(engine, as_of, serving=model_serving, **options)


def orchestrate_decisions(engine: Engine, now: datetime | None = None, **options) -> orchestrate.RunReport:
    """governance.orchestrate.run with the model providers plugged in (options as there)."""
    return orchestrate.run(engine, now, providers=MODEL_PROVIDERS, **options)
