"""Forecasting core: metrics by hand, the model contract, selection rules, and the backtest
command on three real series (air passengers, US retail sales, Peyton Manning page views).

The real series live outside the repository (../shared/data/forecast); without them these
cases skip, except under CI=true, where they fail.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from forecasting import backtest
from forecasting.estimators import (
    COLUMNS,
    ARIMAForecaster,
    ETSForecaster,
    MeanEnsemble,
    ProphetForecaster,
    SeasonalNaive,
    ThetaForecaster,
)
from forecasting.metrics import MetricWarning, mase, naive_scale, wape
from forecasting.selection import fit_forecast, select
from forecasting.series import prepare, season_length

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "forecast"
IN_CI = os.environ.get("CI") == "true"
AIR = "prophet_example_air_passengers.csv"
RETAIL = "prophet_example_retail_sales.csv"
PEYTON = "prophet_example_wp_log_peyton_manning.csv"
REAL = {AIR: ("MS", 12), RETAIL: ("MS", 12), PEYTON: ("D", 28)}
NOISE_MARGIN = 1.10  # the selected model may trail seasonal naive on one holdout by at most 10%


def real_path(name):
    path = DATA / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"real series {path} is required under CI=true")
        pytest.skip(f"real series not found at {path}")
    return path


def cli(argv):
    """Run the backtest command in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = backtest.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse refusals
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def monthly(n=60, start="2015-01-01", seed=0):
    """A positive monthly series with trend, yearly season and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.date_range(start, periods=n, freq="MS"))


# --- metrics, checked by hand ------------------------------------------------------------


def test_mase_and_wape_by_hand():
    train = [1, 2, 3, 4, 5, 6]  # seasonal (m=2) differences are all 2 -> scale 2
    assert naive_scale(train, 2) == (2.0, 2)
    # errors 1 and 2: MAE 1.5 / 2 = 0.75; WAPE (1 + 2) / (7 + 8) = 0.2
    assert mase([7, 8], [6, 10], train, 2) == pytest.approx(0.75)
    assert wape([7, 8], [6, 10]) == pytest.approx(0.2)


def test_metrics_skip_missing_actuals():
    assert mase([7, np.nan], [6, 10], [1, 2, 3, 4, 5, 6], 2) == pytest.approx(0.5)
    assert wape([7, np.nan], [6, 10]) == pytest.approx(1 / 7)


def test_mase_falls_back_to_m1_on_a_short_training_part_and_says_so():
    with pytest.warns(MetricWarning, match="m=1"):
        assert naive_scale([1, 3], 4) == (2.0, 1)
    with pytest.warns(MetricWarning):
        assert mase([5], [4], [1, 3], 4) == pytest.approx(0.5)


def test_undefined_metrics_are_none_not_inf():
    assert wape([0, 0], [1, 2]) is None
    assert mase([1, 2], [1, 2], [5, 5, 5, 5], 2) is None  # flat training part: zero scale
    assert mase([np.nan], [1], [1, 2, 3], 1) is None
    with pytest.raises(ValueError, match="length"):
        wape([1, 2], [1])


# --- frequencies and preparation ---------------------------------------------------------


@pytest.mark.parametrize("freq, m", [("D", 7), ("W", 52), ("W-SUN", 52), ("MS", 12), ("ME", 12), ("QS", 4), ("2D", 1)])
def test_season_length_from_frequency(freq, m):
    assert season_length(freq) == m


def test_gaps_are_reindexed_at_the_frequency():
    prepared = prepare(pd.read_csv(real_path(PEYTON)), "D")
    assert (len(prepared.series), prepared.rows, prepared.missing) == (2964, 2905, 59)
    assert prepared.series.index.freqstr == "D"
    assert prepared.notes == ["59 missing period(s) in 29 gap(s) reindexed as missing"]


# --- the scikit-learn contract -------------------------------------------------------------

PARAMS = {
    SeasonalNaive: {"season_length": 4, "level": 90},
    ETSForecaster: {"season_length": 12, "damped": None, "max_history": 500, "level": 95},
    ThetaForecaster: {"season_length": 12, "max_history": None, "level": 90},
    ARIMAForecaster: {
        "season_length": 12,
        "approximation": False,
        "max_p": 2,
        "max_q": 2,
        "max_history": 100,
        "level": 90,
    },
    MeanEnsemble: {"members": None, "season_length": 12, "level": 90},
    ProphetForecaster: {"seasonality_mode": "multiplicative", "changepoint_prior_scale": 0.1, "level": 90},
}


@pytest.mark.parametrize("cls", list(PARAMS), ids=lambda c: c.__name__)
def test_model_contract(cls):
    model = cls(**PARAMS[cls])
    assert model.get_params() == PARAMS[cls]
    assert vars(model) == PARAMS[cls]  # __init__ stores parameters and nothing else
    with pytest.raises(NotFittedError):
        model.predict(3)

    series = monthly()
    fitted = clone(model).fit(series)
    learned = set(vars(fitted)) - set(PARAMS[cls])
    assert learned and all(name.endswith("_") for name in learned)
    assert fitted.get_params() == PARAMS[cls]

    frame = fitted.predict(14)
    assert list(frame.columns) == COLUMNS
    assert list(frame["ds"]) == list(pd.date_range("2020-01-01", periods=14, freq="MS"))
    values = frame[COLUMNS[1:]].to_numpy()
    assert np.isfinite(values).all()
    assert (frame["yhat_lower"] <= frame["yhat_upper"]).all()


def test_seasonal_naive_repeats_the_last_season_with_widening_intervals():
    values = [1.0, 2, 3, 1, 3, 5, 1, 4, 7]  # seasonal (m=3) differences: 0, 1, 2, 0, 1, 2
    series = pd.Series(values, index=pd.date_range("2020-01-01", periods=9, freq="QS"))
    frame = SeasonalNaive(season_length=3).fit(series).predict(6)
    assert list(frame["yhat"]) == [1, 4, 7, 1, 4, 7]
    # 10% and 90% quantiles of the differences are 0 and 2, widened by sqrt(2) one season later
    assert np.allclose(frame["yhat_lower"] - frame["yhat"], 0)
    assert np.allclose(frame["yhat_upper"] - frame["yhat"], [2, 2, 2] + [2 * np.sqrt(2)] * 3)


def test_prophet_round_trips_through_json():
    model = ProphetForecaster(seasonality_mode="multiplicative").fit(monthly())
    text = model.to_json()
    restored = ProphetForecaster.from_json(text)
    assert restored.get_params() == model.get_params()
    assert np.allclose(restored.predict(6)["yhat"], model.predict(6)["yhat"])
    assert json.loads(text)["prophet"]  # plain JSON text, no pickle


def test_gaps_are_interpolated_for_statistical_models_and_skipped_by_prophet():
    series = monthly()
    series.iloc[[10, 11, 30]] = np.nan
    for model in (ETSForecaster(), ProphetForecaster(), SeasonalNaive()):
        assert np.isfinite(model.fit(series).predict(12)[COLUMNS[1:]].to_numpy()).all()


# --- selection -----------------------------------------------------------------------------


def test_short_flat_and_gappy_series_fall_back_with_a_reason():
    short = select(monthly(30), 12)
    assert short.chosen == "seasonal_naive" and short.fallback_reason.startswith("short: 30 periods")

    flat = pd.Series(5.0, index=pd.date_range("2015-01-01", periods=60, freq="MS"))
    flat_choice = select(flat, 12)
    assert flat_choice.chosen == "naive" and flat_choice.fallback_reason.startswith("flat")

    gappy = monthly()
    gappy.iloc[5:20] = np.nan
    gappy_choice = select(gappy, 12)
    assert gappy_choice.chosen == "seasonal_naive" and gappy_choice.fallback_reason.startswith("gappy: 25%")


def test_ties_go_to_the_simpler_model_and_failures_are_not_chosen():
    series = monthly(60)
    broken = SeasonalNaive(season_length=1000)  # cannot fit: fewer points than one season
    choice = select(series, 6, models={"simple": SeasonalNaive(), "same": SeasonalNaive(), "broken": broken})
    assert choice.chosen == "simple" and choice.scores["simple"] == choice.scores["same"]
    assert choice.scores["broken"] is None and "one full season" in choice.errors["broken"]
    assert select(series, 6, models={"same": SeasonalNaive(), "simple": SeasonalNaive()}).chosen == "same"


def test_final_fit_keeps_prediction_intervals():
    series = prepare(pd.read_csv(real_path(AIR)), "MS").series
    selection, fitted, frame = fit_forecast(series, 12)
    assert selection.scores[selection.chosen] <= selection.scores["seasonal_naive"]
    assert frame["ds"].iloc[0] == pd.Timestamp("1961-01-01")
    assert np.isfinite(frame[["yhat_lower", "yhat_upper"]].to_numpy()).all()
    assert (frame["yhat_lower"] < frame["yhat_upper"]).all()


# --- the backtest command on real series ---------------------------------------------------


@pytest.fixture(scope="module")
def reports():
    """One backtest report per real series, parsed from the command's stdout."""
    out = {}
    for name, (freq, horizon) in REAL.items():
        path = DATA / name
        if not path.exists():
            continue
        status, stdout, stderr = cli([path, "--freq", freq, "--horizon", horizon])
        assert status == 0, stderr
        out[name] = json.loads(stdout)
    return out


def report_for(reports, name):
    real_path(name)
    return reports[name]


@pytest.mark.parametrize("name", list(REAL))
def test_backtest_report_is_complete(reports, name):
    report = report_for(reports, name)
    freq, horizon = REAL[name]
    assert set(report) == {"file", "series", "selected", "selection", "candidates", "seconds"}
    series = report["series"]
    assert series["freq"] == freq and series["horizon"] == horizon and series["fallback_reason"] is None
    assert series["n"] == series["train_n"] + horizon and series["holdout_n"] == horizon
    assert report["selection"]["origins"] == 3
    assert set(report["candidates"]) == {"seasonal_naive", "theta", "ets", "arima", "prophet", "ensemble"}
    assert report["selected"] in report["candidates"]
    for entry in report["candidates"].values():
        assert set(entry) == {"mase", "wape", "fit_seconds", "backtest_mase", "error"}
        assert entry["error"] is None
        assert entry["mase"] > 0 and 0 < entry["wape"] < 1 and entry["backtest_mase"] > 0
        assert entry["fit_seconds"] >= 0


@pytest.mark.parametrize("name", list(REAL))
def test_selected_model_is_not_worse_than_seasonal_naive(reports, name):
    candidates = report_for(reports, name)["candidates"]
    chosen = candidates[report_for(reports, name)["selected"]]
    # on its own history backtest by construction, on the unseen holdout within the margin
    assert chosen["backtest_mase"] <= candidates["seasonal_naive"]["backtest_mase"]
    assert chosen["mase"] <= NOISE_MARGIN * candidates["seasonal_naive"]["mase"]


def test_peyton_manning_gaps_are_noted(reports):
    series = report_for(reports, PEYTON)["series"]
    assert (series["n"], series["observed"], series["missing"]) == (2964, 2905, 59)
    assert series["notes"] == ["59 missing period(s) in 29 gap(s) reindexed as missing"]


def test_command_prints_one_json_object_and_nothing_on_stderr():
    path = real_path(AIR)
    done = subprocess.run(
        [sys.executable, "-m", "forecasting.backtest", str(path), "--freq", "MS", "--horizon", "12"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["series"]["n"] == 144


# --- bad input: one clear line on stderr, non-zero exit, no traceback --------------------


def write(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def monthly_csv(tmp_path, series, name="series.csv"):
    frame = pd.DataFrame({"ds": series.index.strftime("%Y-%m-%d"), "y": series.to_numpy()})
    return write(tmp_path, frame.to_csv(index=False), name)


def assert_refused(argv, message):
    status, stdout, stderr = cli(argv)
    assert status != 0 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and "Traceback" not in stderr
    assert message in stderr


def test_missing_file(tmp_path):
    assert_refused([tmp_path / "nope.csv", "--freq", "MS"], "no such file")


def test_missing_columns(tmp_path):
    assert_refused([write(tmp_path, "date,value\n2020-01-01,1\n"), "--freq", "MS"], "missing column(s) ds, y")


def test_duplicate_dates(tmp_path):
    path = write(tmp_path, "ds,y\n2020-01-01,1\n2020-02-01,2\n2020-01-01,3\n")
    assert_refused([path, "--freq", "MS"], "duplicate dates: 2020-01-01 appears 2 times")


def test_text_in_y(tmp_path):
    assert_refused(
        [write(tmp_path, "ds,y\n2020-01-01,1\n2020-02-01,lots\n"), "--freq", "MS"],
        "y is not a number at data row 2: 'lots'",
    )


def test_dates_that_are_not_dates(tmp_path):
    assert_refused([write(tmp_path, "ds,y\nyesterday,1\n"), "--freq", "MS"], "ds is not a date at data row 1")


def test_too_few_points(tmp_path):
    assert_refused(
        [monthly_csv(tmp_path, monthly(30)), "--freq", "MS", "--horizon", "12"],
        "too short: 30 periods, need 2 seasons (24) + horizon (12) = 36",
    )


def test_all_zeros(tmp_path):
    zeros = pd.Series(0.0, index=pd.date_range("2015-01-01", periods=60, freq="MS"))
    assert_refused([monthly_csv(tmp_path, zeros), "--freq", "MS"], "y is all zeros")


def test_unknown_frequency(tmp_path):
    assert_refused([monthly_csv(tmp_path, monthly()), "--freq", "fortnightly"], "unknown frequency 'fortnightly'")


def test_frequency_that_does_not_fit_the_dates(tmp_path):
    path = monthly_csv(tmp_path, monthly())
    assert_refused([path, "--freq", "QS"], "dates are not on the QS grid (first: 2015-02-01): check --freq")
    assert_refused([path, "--freq", "D"], "are missing: check --freq")


def test_bad_horizon(tmp_path):
    assert_refused([monthly_csv(tmp_path, monthly()), "--freq", "MS", "--horizon", "0"], "must be at least 1")


def test_missing_dates_are_reindexed_and_noted(tmp_path):
    series = monthly(72).drop(pd.to_datetime(["2016-03-01", "2016-04-01", "2018-07-01"]))
    status, stdout, stderr = cli([monthly_csv(tmp_path, series), "--freq", "MS", "--horizon", "6"])
    assert status == 0, stderr
    info = json.loads(stdout)["series"]
    assert (info["n"], info["missing"]) == (72, 3)
    assert info["notes"] == ["3 missing period(s) in 2 gap(s) reindexed as missing"]


def test_gappy_and_short_training_parts_are_labelled_fallbacks(tmp_path):
    gappy = monthly(72)
    gappy = gappy.drop(gappy.index[10:28])  # 25% missing: scored, but selection falls back
    status, stdout, _ = cli([monthly_csv(tmp_path, gappy, "gappy.csv"), "--freq", "MS", "--horizon", "6"])
    report = json.loads(stdout)
    assert status == 0 and report["selected"] == "seasonal_naive"
    assert report["series"]["fallback_reason"].startswith("gappy")

    status, stdout, _ = cli([monthly_csv(tmp_path, monthly(40), "short.csv"), "--freq", "MS", "--horizon", "12"])
    report = json.loads(stdout)
    assert status == 0 and report["selected"] == "seasonal_naive"
    assert report["series"]["fallback_reason"].startswith("short: 28 periods")
    assert report["candidates"]["seasonal_naive"]["mase"] is not None
