"""The incremental daily refresh: a refit equals a full refit of the chosen model, reselection
runs only when due (and at once on drift), the Dask executor stores what the process pool
stores (also when a worker dies mid-run), and bad input stays labelled and contained.

Small networks (2 plants, 90 days) and three fast candidates keep it quick on shared cores.
"""

import os
import signal
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sqlalchemy import func, select, update

import sample_data
from data_access import intelligence as store
from data_access.engine import make_engine
from data_access.frames import as_date
from data_access.schema import demand_daily, forecast, forecast_run, forecast_score, forecast_series, mart_plant_daily
from data_access.scope import PlantScope
from forecasting import refresh as rf
from governance import model_serving
from governance.users import User
from jobs import commands, pipeline

FAST = rf.RefreshConfig(candidates=("seasonal_naive", "theta", "ets"))
FAST_ALL = rf.RefreshConfig().models()
END = date(2026, 6, 30)
ADMIN = User("admin", "Admin", "admin@example.com", ("admin",), None)
EVERYTHING = PlantScope.everything()


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    path = tmp_path_factory.mktemp("reselection") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    sample_data.generate(engine, plants=2, days=90, seed=7, end_day=END)
    engine.dispose()
    return path


@pytest.fixture
def network(_template, tmp_path):
    """Two plants, 90 days, SQLite, with FAST registered and approved (the chosen model is served)."""
    path = tmp_path / "warehouse.db"
    path.write_bytes(_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        model_id, _ = model_serving.register(conn, "test", rf.MODEL_NAME, FAST.version(), FAST.params(), None)
    model_serving.approve(engine, ADMIN, model_id, "test: serve the chosen models")
    yield engine
    engine.dispose()


def _rows(engine, run_id=None):
    s = forecast_series.c
    stmt = select(
        s.run_id,
        s.plant_id,
        s.metric,
        s.chosen_model,
        s.served_model,
        s.reselected_day,
        s.reselect_reason,
        s.fallback_reason,
        s.error,
    )
    if run_id:
        stmt = stmt.where(s.run_id == run_id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).fetchall()).set_index(["plant_id", "metric"]).sort_index()


def _points(engine, run_id=None):
    f = forecast.c
    stmt = select(f.plant_id, f.metric, f.day, f.model, f.yhat, f.yhat_lower, f.yhat_upper).order_by(
        f.plant_id, f.metric, f.day
    )
    if run_id:
        stmt = stmt.where(f.run_id == run_id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).fetchall())


# --- the daily refit --------------------------------------------------------------------------------


def test_a_daily_refit_equals_a_full_refit_of_the_chosen_model_and_keeps_its_evidence(network):
    first = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END - timedelta(days=1))
    assert first.reselected == 6
    chosen = _rows(network, first.run_id)
    assert (chosen["reselect_reason"] == "new series").all()
    assert (chosen["reselected_day"] == END - timedelta(days=1)).all()

    daily = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END)
    assert daily.reselected == 0 and daily.failed == 0
    rows = _rows(network, daily.run_id)
    assert (rows["chosen_model"] == chosen["chosen_model"]).all()
    assert (rows["served_model"] == rows["chosen_model"]).all()
    assert (rows["reselected_day"] == END - timedelta(days=1)).all()  # the evidence is the earlier backtest
    with network.connect() as conn:
        carried = conn.execute(
            select(func.count()).select_from(forecast_score).where(forecast_score.c.run_id == daily.run_id)
        ).scalar_one()
    assert carried == 6 * 3

    models = FAST.models()
    stored = _points(network, daily.run_id)
    forms = {(r.plant_id, r.metric): r.row["fitted_params"] for r in first.results}
    for result in daily.results:
        name = chosen.loc[(result.plant_id, result.metric), "chosen_model"]
        form = forms[(result.plant_id, result.metric)]
        assert (form is None) == (name == "seasonal_naive")  # theta and ets store the form they searched
        assert result.row["fitted_params"] == form  # the warm refit keeps it
        expected = clone(models[name]).fit(result.series, init=form).predict(rf.HORIZON_DAYS)
        mine = stored[(stored["plant_id"] == result.plant_id) & (stored["metric"] == result.metric)]
        np.testing.assert_allclose(mine["yhat"].to_numpy(), expected["yhat"].clip(lower=0).to_numpy(), rtol=1e-9)
        assert result.series.index[-1].date() <= END


@pytest.mark.parametrize("name", ["arima", "ets", "theta", "ensemble"])
def test_a_warm_start_on_the_same_data_equals_the_search(name):
    """The search ends by fitting its choice; refitting the stored form does the same fit."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-01-01", periods=240, freq="D")
    series = pd.Series(50 + 5 * np.sin(np.arange(240) * 2 * np.pi / 7) + rng.normal(size=240).cumsum(), index=days)
    searched = clone(FAST_ALL[name]).fit(series)
    warm = clone(FAST_ALL[name]).fit(series, init=searched.fitted_params_)
    assert warm.fitted_params_ == searched.fitted_params_
    np.testing.assert_allclose(
        warm.predict(28)[["yhat", "yhat_lower", "yhat_upper"]].to_numpy(),
        searched.predict(28)[["yhat", "yhat_lower", "yhat_upper"]].to_numpy(),
        rtol=1e-9,
    )


def test_a_reselection_drops_the_stored_form_and_a_broken_one_falls_back_to_the_search(network):
    first = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END - timedelta(days=1))
    bogus = {"model": "STM", "decomposition_type": "additive", "damped": True}  # fits neither ets nor theta
    with network.begin() as conn:
        conn.execute(
            update(forecast_series)
            .where(forecast_series.c.run_id == first.run_id)
            .values(fitted_params={**bogus, "model": "XYZ"})
        )
    daily = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END)
    assert daily.reselected == 0 and daily.failed == 0
    searched = {(r.plant_id, r.metric): r.row["fitted_params"] for r in first.results}
    for r in daily.results:  # the broken form is not served: the search ran, as on the first day
        assert r.row["fitted_params"] != {**bogus, "model": "XYZ"}
        assert (r.row["fitted_params"] is None) == (searched[(r.plant_id, r.metric)] is None)
    with network.begin() as conn:
        conn.execute(
            update(forecast_series).where(forecast_series.c.run_id == daily.run_id).values(fitted_params=bogus)
        )
    forced = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END, reselect="all")
    assert forced.reselected == 6
    for r in forced.results:
        assert r.row["fitted_params"] != bogus
        model = clone(FAST.models()[r.row["chosen_model"]]).fit(r.series)
        assert r.row["fitted_params"] == model.fitted_params_  # what a fresh search picks


def test_reselect_all_runs_every_backtest_and_none_never(network):
    pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END - timedelta(days=10))
    none = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END - timedelta(days=1), reselect="none")
    assert none.reselected == 0  # 9 days since the backtest: due, but never
    due = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END)
    assert due.reselected == 6
    assert _rows(network, due.run_id)["reselect_reason"].str.startswith("scheduled: last reselected 10 days ago").all()
    forced = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END, reselect="all", actor="ops")
    assert forced.reselected == 6
    assert (_rows(network, forced.run_id)["reselect_reason"] == "requested: every series reselected").all()


def _set_judged_forecast(engine, run_id, plant_id, metric, offset):
    """Overwrite a stored forecast with the actuals plus `offset` (0: a perfect forecast)."""
    actual = store.series_history(engine, EVERYTHING, metric, END - timedelta(days=40), END)
    actual = actual[actual["plant_id"] == plant_id].set_index("day")["y"]
    f = forecast.c
    with engine.begin() as conn:
        days = list(
            conn.execute(select(f.day).where(f.run_id == run_id, f.plant_id == plant_id, f.metric == metric)).scalars()
        )
        for day in days:
            day = as_date(day)
            value = float(actual.get(day, 0.0)) + offset
            conn.execute(
                update(forecast)
                .where(f.run_id == run_id, f.plant_id == plant_id, f.metric == metric, f.day == day)
                .values(yhat=value)
            )


def test_a_series_beaten_by_seasonal_naive_recently_is_reselected_at_once_and_another_is_not(network):
    old = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END - timedelta(days=rf.RECENT_DAYS))
    _set_judged_forecast(network, old.run_id, "NA-JOL", "demand", offset=1e5)  # far worse than seasonal naive
    _set_judged_forecast(network, old.run_id, "NA-JOL", "output", offset=0.0)  # better than any model
    report = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END, reselect_days=30)
    rows = _rows(network, report.run_id)
    drifted = rows.loc[("NA-JOL", "demand"), "reselect_reason"]
    assert drifted.startswith("drift: ") and "worse than seasonal naive" in drifted
    assert rows.loc[("NA-JOL", "demand"), "reselected_day"] == END
    assert rows.loc[("NA-JOL", "output"), "reselect_reason"] == "new series"
    assert rows.loc[("NA-JOL", "output"), "reselected_day"] == END - timedelta(days=rf.RECENT_DAYS)
    # the drift reselection is not repeated the next day for the same window
    again = pipeline.refresh_forecasts(network, FAST, workers=1, as_of=END, reselect_days=30)
    assert again.reselected == 0


def test_the_rules_of_reselection():
    series = pd.Series(np.arange(100, dtype=float) % 7 + 10, index=pd.date_range("2026-01-01", periods=100, freq="D"))
    end = series.index[-1].date()
    version = FAST.version()
    due = rf.ReselectPlan()
    base = {
        "chosen_model": "ets",
        "origins": 2,
        "version": version,
        "history_end": end - timedelta(days=3),
        "reselected_day": end - timedelta(days=3),
        "reselect_reason": "new series",
    }

    def why(selected=base, plan=due, judged=None):
        return rf.reselect_reason(series, selected, judged, end, FAST, version, plan)

    assert why(None) == "new series"
    assert why() is None
    assert why({**base, "version": "f-older"}) == "forecaster version changed (from f-older)"
    assert why({**base, "reselected_day": end - timedelta(days=7)}).startswith("scheduled: last reselected 7 days")
    newer = {**base, "reselected_day": end + timedelta(days=1)}
    assert why(newer) == "the last selection saw newer data than this refresh"
    assert why({**base, "chosen_model": "arima"}) == "arima is no longer a candidate"
    assert why({**base, "origins": 0, "chosen_model": "seasonal_naive"}).startswith("first backtest")
    assert why(plan=rf.ReselectPlan(mode="all")) == "requested: every series reselected"
    assert why({**base, "reselected_day": end - timedelta(days=30)}, plan=rf.ReselectPlan(mode="none")) is None
    days = [d.date() for d in series.index[-rf.RECENT_DAYS :]]
    good = pd.DataFrame({"day": days, "model": "ets", "yhat": series.iloc[-rf.RECENT_DAYS :].to_numpy()})
    bad = good.assign(yhat=good["yhat"] + 50)
    assert why(judged=good) is None
    assert why(judged=bad).startswith("drift: ets MAE 50 worse than seasonal naive 0")
    assert why(judged=bad.assign(model="seasonal_naive")) is None  # a fallback's forecast does not judge ets
    week = np.arange(500) % 7 + 10.0  # the same week over and over: no shift until the last 20 days
    long = pd.Series(np.r_[week[:480], week[480:] + 30], index=pd.date_range("2025-01-01", periods=500, freq="D"))
    last_day = long.index[-1].date()
    watch = rf.ReselectPlan(cadence_days=60, psi_limit=0.25)
    before = {**base, "reselected_day": last_day - timedelta(days=25)}  # chosen before the shift
    after = {**base, "reselected_day": last_day - timedelta(days=3)}  # its backtest saw the shift
    assert rf.reselect_reason(long, before, None, last_day, FAST, version, watch).startswith("drift: input PSI")
    assert rf.reselect_reason(long, after, None, last_day, FAST, version, watch) is None
    with pytest.raises(ValueError, match="unknown reselect mode"):
        rf.ReselectPlan(mode="sometimes")


# --- the Dask executor --------------------------------------------------------------------------------


def _copy(engine, tmp_path, name):
    path = tmp_path / f"{name}.db"
    path.write_bytes(Path(engine.url.database).read_bytes())
    return make_engine(f"sqlite:///{path}")


def test_dask_local_cluster_stores_what_the_process_pool_stores(network, tmp_path, program_main):
    stored = {}
    for executor in ("pool", "dask"):
        engine = _copy(network, tmp_path, executor)
        report = pipeline.refresh_forecasts(engine, FAST, workers=2, executor=executor)
        assert report.series == 6 and report.failed == 0
        stored[executor] = (_points(engine), _rows(engine)[["chosen_model", "served_model", "reselect_reason"]])
        engine.dispose()
    pd.testing.assert_frame_equal(stored["pool"][0], stored["dask"][0])
    pd.testing.assert_frame_equal(stored["pool"][1], stored["dask"][1])


def test_a_dask_worker_killed_mid_run_is_retried_and_the_run_completes(network, tmp_path, program_main):
    from distributed import Client, LocalCluster

    expected_engine = _copy(network, tmp_path, "pool")
    pipeline.refresh_forecasts(expected_engine, FAST, workers=1)
    expected = _points(expected_engine)
    expected_engine.dispose()

    killed = []
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        with Client(cluster) as client:  # closed before the run: one client per process talks to the cluster
            pids = sorted(client.run(os.getpid).values())

        def kill_a_worker(done, total, label):
            """After the first series is stored, with the others queued on both workers."""
            if not killed and done < total:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        engine = _copy(network, tmp_path, "dask")
        report = pipeline.refresh_forecasts(
            engine, FAST, workers=2, executor="dask", scheduler=cluster.scheduler_address, progress=kill_a_worker
        )
    assert killed, "no worker was killed mid-run"
    assert report.series == 6 and report.failed == 0
    with engine.connect() as conn:
        assert conn.execute(select(forecast_run.c.status)).scalar_one() == "done"
    pd.testing.assert_frame_equal(_points(engine), expected)
    engine.dispose()


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(network, capsys):
    with pytest.raises(rf.RefreshError, match=r"^the Dask scheduler at tcp://127.0.0.1:9 does not answer"):
        pipeline.refresh_forecasts(network, FAST, workers=1, executor="dask", scheduler="tcp://127.0.0.1:9")
    with network.connect() as conn:
        assert conn.execute(select(func.count()).select_from(forecast_run)).scalar_one() == 0
    code = commands.refresh_main(
        [
            "--url",
            str(network.url),
            "--executor",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--candidates",
            "seasonal_naive,ets",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: the Dask scheduler at tcp://127.0.0.1:9 does not answer")


# --- bad input --------------------------------------------------------------------------------------


def test_bad_series_get_a_labelled_fallback_and_the_rest_of_the_network_is_refreshed(network):
    m, d = mart_plant_daily.c, demand_daily.c
    with network.begin() as conn:
        # NA-JOL output and downtime (one mart): a gap of 40 of 90 days; EU-ZAR demand: constant;
        # NA-JOL demand: one huge outlier
        conn.execute(
            mart_plant_daily.delete().where(
                m.plant_id == "NA-JOL", m.day.between(END - timedelta(days=60), END - timedelta(days=21))
            )
        )
        conn.execute(update(demand_daily).where(d.plant_id == "EU-ZAR").values(qty=5.0))
        conn.execute(
            update(demand_daily).where(d.plant_id == "NA-JOL", d.day == END - timedelta(days=30)).values(qty=1e9)
        )
    report = pipeline.refresh_forecasts(network, FAST, workers=1)
    rows = _rows(network, report.run_id)
    assert report.series == 6 and report.failed == 0
    assert rows.loc[("NA-JOL", "output"), "fallback_reason"].startswith("gappy: ")
    assert rows.loc[("NA-JOL", "unplanned_downtime_h"), "fallback_reason"].startswith("gappy: ")
    assert rows.loc[("EU-ZAR", "demand"), "fallback_reason"].startswith("flat: ")
    assert rows.loc[("NA-JOL", "output"), "reselected_day"] is None  # no backtest chose it
    points = _points(network, report.run_id)
    assert np.isfinite(points["yhat"]).all() and len(points) == 6 * rf.HORIZON_DAYS
    assert (points[points["metric"] == "demand"].groupby("plant_id").size() == rf.HORIZON_DAYS).all()
    fine = rows.drop(index=[("NA-JOL", "output"), ("NA-JOL", "unplanned_downtime_h"), ("EU-ZAR", "demand")])
    assert fine["fallback_reason"].isna().all() and (fine["reselect_reason"] == "new series").all()


def test_a_plant_with_one_week_of_history_serves_naive_labelled_short_beside_the_others(network):
    m, d = mart_plant_daily.c, demand_daily.c
    week = END - timedelta(days=6)
    with network.begin() as conn:
        conn.execute(mart_plant_daily.delete().where(m.plant_id == "EU-ZAR", m.day < week))
        conn.execute(demand_daily.delete().where(d.plant_id == "EU-ZAR", d.day < week))
    report = pipeline.refresh_forecasts(network, FAST, workers=1, metrics=["demand"])
    rows = _rows(network, report.run_id)
    assert report.failed == 0 and len(rows) == 2
    assert rows.loc[("EU-ZAR", "demand"), "fallback_reason"].startswith("short: 7 periods")
    assert rows.loc[("EU-ZAR", "demand"), "served_model"] == "seasonal_naive"
    assert rows.loc[("EU-ZAR", "demand"), "reselected_day"] is None
    assert rows.loc[("NA-JOL", "demand"), "fallback_reason"] is None


def test_the_selection_state_round_trips_on_each_backend(empty_engine):
    sample_data.generate(empty_engine, plants=1, days=60, seed=7, end_day=END)
    with empty_engine.begin() as conn:  # approved: the chosen model is fitted, so its form is stored
        model_id, _ = model_serving.register(conn, "test", rf.MODEL_NAME, FAST.version(), FAST.params(), None)
    model_serving.approve(empty_engine, ADMIN, model_id, "test: serve the chosen models")
    first = pipeline.refresh_forecasts(empty_engine, FAST, workers=1, as_of=END - timedelta(days=1), metrics=["output"])
    daily = pipeline.refresh_forecasts(empty_engine, FAST, workers=1, as_of=END, metrics=["output"])
    assert (first.reselected, daily.reselected) == (1, 0)
    latest = store.latest_series(empty_engine, EVERYTHING).iloc[0]
    assert latest["run_id"] == daily.run_id
    assert latest["reselected_day"] == END - timedelta(days=1) and latest["reselect_reason"] == "new series"
    assert latest["fitted_params"] == daily.results[0].row["fitted_params"]
    assert latest["chosen_model"] == "ets" and latest["fitted_params"] == first.results[0].row["fitted_params"]
    assert set(latest["fitted_params"]) == {"model", "damped"}  # the JSON came back as the dict it was
    scores = store.latest_candidate_scores(empty_engine, EVERYTHING)
    assert sorted(scores["candidate"]) == sorted(FAST.candidates) and scores["mase"].notna().all()
