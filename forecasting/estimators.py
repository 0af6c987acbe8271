"""Candidate forecasters behind one scikit-learn style contract.

`__init__` stores parameters only (so `get_params`, `clone` and the model registry can
rebuild a model), `fit(series)` learns attributes ending in `_`, and `predict(horizon)`
returns a frame with columns ds, yhat, yhat_lower, yhat_upper (a `level` % interval).
`series` is a pandas Series on a regular DatetimeIndex with its freq set, as made by
`forecasting.series.prepare`; NaN marks a period without a value.

Warm start: `fitted_params_` is the model form a fit chose by its search (ARIMA orders, ETS
components, Theta variant; None when nothing was searched), JSON-able so it can be stored;
`fit(series, init=fitted_params_)` refits that form as is instead of searching again, like
scikit-learn's `coef_init` fit parameter. On the same data it gives the same forecast as the
search (the search ends by fitting its choice the same way).
"""

import json
import logging
import warnings

import numpy as np
import pandas as pd
from prophet import Prophet
from prophet.serialize import model_from_json, model_to_json
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted
from statsforecast.models import ARIMA, AutoARIMA, AutoETS, AutoTheta

from forecasting.series import parse_freq, periods_per_year, season_length

logging.getLogger("cmdstanpy").disabled = True

COLUMNS = ["ds", "yhat", "yhat_lower", "yhat_upper"]


class Forecaster(BaseEstimator):
    """Shared fit/predict plumbing; subclasses implement `_fit(series)` and `_predict(h)`."""

    def fit(self, series, init=None):
        """Learn from a regular series; returns self. `init`: a previous fit's `fitted_params_`."""
        if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex):
            raise TypeError("fit expects a pandas Series indexed by dates")
        if series.index.freq is None:
            raise ValueError("the series index has no frequency: build it with forecasting.series.prepare")
        if series.notna().sum() < 2:
            raise ValueError("need at least two observed values")
        self.freq_ = series.index.freq
        self.last_ds_ = series.index[-1]
        self.fitted_params_ = None
        self._fit(series, init)
        return self

    def predict(self, horizon):
        """Forecast `horizon` periods after the end of the fitted series."""
        check_is_fitted(self)
        if int(horizon) < 1:
            raise ValueError("horizon must be at least 1")
        yhat, lower, upper = self._predict(int(horizon))
        return pd.DataFrame(
            {
                "ds": pd.date_range(self.last_ds_ + self.freq_, periods=int(horizon), freq=self.freq_),
                "yhat": np.asarray(yhat, dtype=float),
                "yhat_lower": np.asarray(lower, dtype=float),
                "yhat_upper": np.asarray(upper, dtype=float),
            }
        )

    def _season(self):
        return self.season_length or season_length(self.freq_.freqstr)


def _filled(series):
    """Values with gaps linearly interpolated: the statistical models need a complete grid."""
    return series.interpolate(method="linear", limit_direction="both").to_numpy(dtype=float)


class SeasonalNaive(Forecaster):
    """Repeat the last observed season; the benchmark every other candidate must beat.

    The interval comes from the empirical quantiles of the in-sample seasonal differences,
    widened by sqrt(k) for the k-th season ahead (k independent seasonal steps). With
    season_length=1 this is the naive (last value) forecast.
    """

    def __init__(self, season_length=None, level=80):
        self.season_length = season_length
        self.level = level

    def _fit(self, series, init=None):  # nothing to search: init has no use
        m = self._season()
        if len(series) < m:
            raise ValueError(f"seasonal naive needs one full season of {m} periods, got {len(series)}")
        raw = series.to_numpy(dtype=float)
        residuals = raw[m:] - raw[:-m]
        residuals = residuals[~np.isnan(residuals)]
        tail = (100 - self.level) / 200
        self.season_length_ = m
        self.last_season_ = _filled(series)[-m:]
        self.residual_quantiles_ = (
            np.quantile(residuals, [tail, 1 - tail]) if residuals.size else np.array([np.nan, np.nan])
        )

    def _predict(self, horizon):
        steps = np.arange(horizon)
        yhat = self.last_season_[steps % self.season_length_]
        widen = np.sqrt(steps // self.season_length_ + 1)
        low, high = self.residual_quantiles_
        return yhat, yhat + low * widen, yhat + high * widen


class _StatsForecastModel(Forecaster):
    """Wraps one statsforecast model; its intervals come from `level=[level]`.

    max_history, when set, fits on the most recent periods only. Measured on 12 rolling
    origins of the 2,900-point daily example, 1,000 periods keep ETS and Theta within 1% of
    their full-history MASE at 3-6x less fit time (older points barely weigh in smoothing),
    but cost ARIMA 7%, so ARIMA keeps its full history by default. No effect on monthly or
    quarterly series shorter than that. Subclasses build the searching model in
    `_make(season_length)`, the one of a stored form in `_make_fixed(season_length, form)`, and
    read the form a fitted model has in `_form(model)`.
    """

    def _fit(self, series, init=None):
        self.season_length_ = self._season()
        y = _filled(series)
        if self.max_history:
            y = y[-self.max_history :]
        model = self._make_fixed(self.season_length_, init) if init else self._make(self.season_length_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optimizer convergence chatter, one per candidate model
            model.fit(y)
        self.model_ = model
        self.fitted_params_ = self._form(model)

    def _predict(self, horizon):
        out = self.model_.predict(horizon, level=[self.level])
        return out["mean"], out[f"lo-{self.level}"], out[f"hi-{self.level}"]


class ETSForecaster(_StatsForecastModel):
    """Exponential smoothing, components chosen by AICc (statsforecast AutoETS).

    damped=True (the default) keeps only damped trends: the robust benchmark of forecasting
    competitions, guarding long horizons against runaway trends, and twice as fast to fit
    as also trying undamped ones (damped=None lets AICc choose).
    """

    def __init__(self, season_length=None, damped=True, max_history=1000, level=80):
        self.season_length = season_length
        self.damped = damped
        self.max_history = max_history
        self.level = level

    def _make(self, m):
        return AutoETS(season_length=m, damped=self.damped)

    def _make_fixed(self, m, form):
        return AutoETS(season_length=m, model=form["model"], damped=form["damped"])

    @staticmethod
    def _form(model):
        components = model.model_["components"]  # error, trend, season, damped: e.g. "AAAD"
        return {"model": "".join(components[:3]), "damped": bool(len(components) > 3 and components[3] == "D")}


class ThetaForecaster(_StatsForecastModel):
    """Theta method, the variant chosen by in-sample MSE (statsforecast AutoTheta)."""

    def __init__(self, season_length=None, max_history=1000, level=80):
        self.season_length = season_length
        self.max_history = max_history
        self.level = level

    def _make(self, m):
        return AutoTheta(season_length=m)

    def _make_fixed(self, m, form):
        return AutoTheta(season_length=m, model=form["model"], decomposition_type=form["decomposition_type"])

    @staticmethod
    def _form(model):
        decomposition = model.model_.get("decomposition_type", model.decomposition_type)  # absent: not seasonal
        return {"model": str(model.model_["modeltype"]), "decomposition_type": str(decomposition)}


class ARIMAForecaster(_StatsForecastModel):
    """Seasonal ARIMA by stepwise AICc search (statsforecast AutoARIMA).

    Two speed guards, measured on the 3,000-point daily example: approximation=True searches
    orders by conditional sum of squares and refits only the chosen one by maximum
    likelihood, and max_p = max_q = 3 (R's auto.arima allows 5) bounds the search; together
    they turn about 45 s into 2-4 s per fit, with the same holdout accuracy there. A warm start
    fits the stored orders once by maximum likelihood (statsforecast ARIMA): 2.5-9x faster on
    730-day daily series, 6x over the sample network's ARIMA series.
    """

    def __init__(self, season_length=None, approximation=True, max_p=3, max_q=3, max_history=None, level=80):
        self.season_length = season_length
        self.approximation = approximation
        self.max_p = max_p
        self.max_q = max_q
        self.max_history = max_history
        self.level = level

    def _make(self, m):
        return AutoARIMA(season_length=m, approximation=self.approximation, max_p=self.max_p, max_q=self.max_q)

    def _make_fixed(self, m, form):
        return ARIMA(
            order=tuple(form["order"]),
            seasonal_order=tuple(form["seasonal_order"]),
            season_length=form["season_length"],
            include_mean=form["include_mean"],
            include_drift=form["include_drift"],
        )

    @staticmethod
    def _form(model):
        p, q, P, Q, m, d, D = (int(v) for v in model.model_["arma"])
        coef = model.model_["coef"]
        return {
            "order": [p, d, q],
            "seasonal_order": [P, D, Q],
            "season_length": m,
            "include_mean": "intercept" in coef,
            "include_drift": "drift" in coef,
        }


class MeanEnsemble(Forecaster):
    """Mean of the members' forecasts (default: ETS, Theta and ARIMA).

    Averaging methods that fail differently is among the most reliable gains in forecasting
    competitions. The interval is the mean of the members' bounds: a pragmatic band, not a
    calibrated one.
    """

    def __init__(self, members=None, season_length=None, level=80):
        self.members = members
        self.season_length = season_length
        self.level = level

    def member_estimators(self):
        """Unfitted copies of the members this ensemble averages."""
        if self.members is not None:
            return [clone(m) for m in self.members]
        return [
            ETSForecaster(self.season_length, level=self.level),
            ThetaForecaster(self.season_length, level=self.level),
            ARIMAForecaster(self.season_length, level=self.level),
        ]

    @staticmethod
    def combine(frames):
        """Average forecast frames that share their ds column."""
        stacked = np.stack([f[COLUMNS[1:]].to_numpy(dtype=float) for f in frames])
        out = pd.DataFrame(stacked.mean(axis=0), columns=COLUMNS[1:])
        out.insert(0, "ds", frames[0]["ds"].to_numpy())
        return out

    def _fit(self, series, init=None):
        members = self.member_estimators()
        forms = (init or {}).get("members") or [None] * len(members)
        self.members_ = [m.fit(series, form) for m, form in zip(members, forms)]
        self.fitted_params_ = {"members": [m.fitted_params_ for m in self.members_]}

    def predict(self, horizon):
        """Mean of the members' forecasts."""
        check_is_fitted(self)
        return self.combine([m.predict(horizon) for m in self.members_])


class ProphetForecaster(Forecaster):
    """Prophet (wrapped, never subclassed), seasonalities chosen from the frequency.

    Yearly seasonality for daily to quarterly data, with at most half as many Fourier
    terms as periods per year (more cannot be told apart: 6 for monthly, 2 for quarterly);
    weekly only for daily or finer data, daily only for sub-daily data. Gaps are left to
    Prophet, which skips missing rows natively.
    """

    def __init__(self, seasonality_mode="additive", changepoint_prior_scale=0.05, level=80):
        self.seasonality_mode = seasonality_mode
        self.changepoint_prior_scale = changepoint_prior_scale
        self.level = level

    def _fit(self, series, init=None):
        """Prophet searches no form, so init has no use. Its previous parameters as Stan's `init`
        were measured no faster: a fit is ~0.15 s, mostly cmdstanpy's process and file overhead."""
        per_year = periods_per_year(self.freq_.freqstr) or 0
        model = Prophet(
            yearly_seasonality=min(10, per_year // 2) if per_year >= 4 else False,
            weekly_seasonality=per_year >= 261,
            daily_seasonality=per_year > 366,
            seasonality_mode=self.seasonality_mode,
            changepoint_prior_scale=self.changepoint_prior_scale,
            interval_width=self.level / 100,
        )
        model.fit(pd.DataFrame({"ds": series.index, "y": series.to_numpy(dtype=float)}).dropna())
        self.model_ = model

    def _predict(self, horizon):
        future = pd.DataFrame({"ds": pd.date_range(self.last_ds_ + self.freq_, periods=horizon, freq=self.freq_)})
        out = self.model_.predict(future)
        return out["yhat"], out["yhat_lower"], out["yhat_upper"]

    def to_json(self):
        """Fitted model as JSON text (prophet.serialize inside), safe to store, unlike a pickle."""
        check_is_fitted(self)
        return json.dumps(
            {
                "params": self.get_params(),
                "freq": self.freq_.freqstr,
                "last_ds": self.last_ds_.isoformat(),
                "prophet": model_to_json(self.model_),
            }
        )

    @classmethod
    def from_json(cls, text):
        """A fitted forecaster back from `to_json` output."""
        data = json.loads(text)
        forecaster = cls(**data["params"])
        forecaster.freq_ = parse_freq(data["freq"])
        forecaster.last_ds_ = pd.Timestamp(data["last_ds"])
        forecaster.model_ = model_from_json(data["prophet"])
        return forecaster
