"""Pick one model per series by a rolling-origin backtest on the series' own history.

Each origin fits every candidate on the data before it (expanding window) and scores the
next `horizon` periods by MASE; the lowest mean MASE wins, ties going to the simpler model.
Seasonal naive is always a candidate, so the chosen model is never worse than seasonal
naive on that backtest. Series that cannot support a fair backtest (short, flat, gappy) go
straight to seasonal naive (or naive), labelled with the reason.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from forecasting.estimators import (
    ARIMAForecaster,
    ETSForecaster,
    MeanEnsemble,
    ProphetForecaster,
    SeasonalNaive,
    ThetaForecaster,
)
from forecasting.metrics import mase
from forecasting.series import season_length

ORIGINS = 3
MAX_MISSING_SHARE = 0.2  # beyond this, interpolated values would dominate what models learn


def candidates():
    """The candidate models, simplest first: that order breaks ties."""
    return {
        "seasonal_naive": SeasonalNaive(),
        "theta": ThetaForecaster(),
        "ets": ETSForecaster(),
        "arima": ARIMAForecaster(),
        "prophet": ProphetForecaster(),
        "ensemble": MeanEnsemble(),
    }


@dataclass
class Selection:
    """Outcome of `select`: the chosen (unfitted) model and the evidence behind it."""

    chosen: str
    estimator: object
    fallback_reason: str | None = None
    origins: int = 0
    scores: dict = field(default_factory=dict)  # name -> mean backtest MASE (None: failed or undefined)
    errors: dict = field(default_factory=dict)  # name -> why it could not be scored


def fallback_reason(series, horizon):
    """Why the series cannot support a model choice, or None if it can."""
    m = season_length(series.index.freqstr)
    observed = series.dropna()
    needed = 2 * m + horizon
    if len(series) < needed:
        return f"short: {len(series)} periods, a backtest needs 2 seasons ({2 * m}) + horizon ({horizon}) = {needed}"
    if observed.nunique() <= 1:
        return f"flat: every observed value is {observed.iloc[0]:g}" if len(observed) else "flat: no observed value"
    share = 1 - len(observed) / len(series)
    if share > MAX_MISSING_SHARE:
        return f"gappy: {share:.0%} of periods missing (more than {MAX_MISSING_SHARE:.0%})"
    return None


def fallback_model(series):
    """Seasonal naive when a full season exists and the series is not flat, else naive."""
    m = season_length(series.index.freqstr)
    if m > 1 and len(series) >= m and series.dropna().nunique() > 1:
        return "seasonal_naive", SeasonalNaive()
    return "naive", SeasonalNaive(season_length=1)


def forecast_all(models, train, horizon):
    """Fit each model on `train` and forecast `horizon` ahead.

    Returns name -> (frame or the exception raised, fit+predict seconds). An ensemble reuses
    its members' forecasts when the same member models are also candidates, and its time
    is the sum of its members'.
    """
    done = {}  # sklearn's repr (class and non-default parameters) identifies a model

    def run(model):
        if isinstance(model, MeanEnsemble):
            parts = [run(member) for member in model.member_estimators()]
            failed = next((frame for frame, _ in parts if isinstance(frame, Exception)), None)
            seconds = sum(s for _, s in parts)
            return (failed, seconds) if failed is not None else (MeanEnsemble.combine([f for f, _ in parts]), seconds)
        key = repr(model)
        if key not in done:
            start = time.perf_counter()
            try:
                frame = clone(model).fit(train).predict(horizon)
                if not np.isfinite(frame["yhat"].to_numpy()).all():
                    raise ValueError("non-finite forecast")
            except Exception as exc:  # noqa: BLE001 - a failing candidate is scored as failed, not fatal
                frame = exc
            done[key] = (frame, time.perf_counter() - start)
        return done[key]

    return {name: run(model) for name, model in models.items()}


def select(series, horizon, models=None, origins=ORIGINS):
    """Choose a model for a regular series (see `forecasting.series.prepare`)."""
    models = models or candidates()
    reason = fallback_reason(series, horizon)
    if reason:
        name, model = fallback_model(series)
        return Selection(chosen=name, estimator=model, fallback_reason=reason)

    m = season_length(series.index.freqstr)
    origins = max(1, min(origins, (len(series) - 2 * m) // horizon))
    folds = {name: [] for name in models}
    errors = {}
    for k in range(origins, 0, -1):
        cut = len(series) - k * horizon
        train, test = series.iloc[:cut], series.iloc[cut : cut + horizon]
        for name, (frame, _) in forecast_all(models, train, horizon).items():
            if isinstance(frame, Exception):
                errors.setdefault(name, f"{type(frame).__name__}: {frame}")
            else:
                folds[name].append(mase(test, frame["yhat"], train, m))

    scores = {}
    for name, values in folds.items():
        values = [v for v in values if v is not None]
        scores[name] = float(np.mean(values)) if name not in errors and values else None
    valid = {name: s for name, s in scores.items() if s is not None}
    if not valid:
        name, model = fallback_model(series)
        return Selection(
            chosen=name,
            estimator=model,
            fallback_reason="no backtest origin could be scored",
            origins=origins,
            scores=scores,
            errors=errors,
        )
    best = min(valid.values())
    chosen = next(name for name, s in valid.items() if s <= best * (1 + 1e-9))  # ties: simplest first
    return Selection(chosen=chosen, estimator=models[chosen], origins=origins, scores=scores, errors=errors)


def fit_forecast(series, horizon, models=None):
    """Select, refit the chosen model on the whole series and forecast with intervals.

    Returns (selection, fitted model, forecast frame).
    """
    selection = select(series, horizon, models)
    fitted = clone(selection.estimator).fit(series)
    return selection, fitted, fitted.predict(horizon)
