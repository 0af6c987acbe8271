"""The forecast refresh: what it stores, that a rerun replaces its own rows, governance of the
served model, parallel = sequential, one-series refit, and the command line's bad input.

Small networks and three fast candidates keep it quick; the full candidate set is measured
in bench/forecast_refresh.py.
"""

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

import sample_data
from data_access import intelligence as store
from data_access.engine import make_engine
from data_access.schema import (
    audit_log,
    forecast,
    forecast_run,
    forecast_score,
    forecast_series,
    model_metric,
    model_version,
)
from data_access.scope import PlantScope
from forecasting import refresh as rf
from forecasting.selection import select as select_model
from forecasting.series import prepare
from governance import audit, model_serving
from governance.users import User
from jobs import commands, pipeline

FAST = rf.RefreshConfig(candidates=("seasonal_naive", "theta", "ets"))
END = date(2026, 6, 30)
ADMIN = User("admin", "Admin", "admin@example.com", ("admin",), None)
AIR = "/work/shared/data/forecast/prophet_example_air_passengers.csv"


def _count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def network(empty_engine):
    """Two plants (one with sensors, one whose production and downtime feeds are down), 90 days,
    on each backend."""
    sample_data.generate(empty_engine, plants=2, days=90, seed=7, end_day=END)
    return empty_engine


@pytest.fixture(scope="module")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("refresh") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    sample_data.generate(engine, plants=2, days=90, seed=7, end_day=END)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_network(_sqlite_template, tmp_path):
    """The same two plants on SQLite only, copied from one generated file (for logic tests)."""
    path = tmp_path / "warehouse.db"
    path.write_bytes(_sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_backtest_chooses_and_scores_exactly_like_select():
    frame = pd.read_csv(AIR)
    series = prepare(frame, "MS").series
    models = FAST.models()
    expected = select_model(series, 12, models, origins=2)
    chosen, wapes, seconds = rf.backtest(series, 12, models, origins=2)
    assert chosen.chosen == expected.chosen
    assert chosen.scores == pytest.approx(expected.scores)
    assert chosen.origins == expected.origins == 2
    assert set(wapes) == set(models) and all(0 < w < 1 for w in wapes.values())
    assert all(s >= 0 for s in seconds.values())


def test_refresh_stores_every_series_and_a_rerun_replaces_its_own_rows(network):
    report = pipeline.refresh_forecasts(network, FAST, workers=1)
    assert report.series == 6 and report.failed == 0  # 2 plants x 3 series
    assert report.run_id == f"{END:%Y%m%d}-{FAST.version()}"
    series = store.latest_series(network, PlantScope.everything())
    assert sorted(series["metric"].unique()) == sorted(store.SERIES)
    # the version is not approved: every series serves seasonal naive, labelled, with its evidence stored
    assert (series["served_model"] == "seasonal_naive").all()
    assert series["fallback_reason"].str.contains(f"forecaster {FAST.version()} not approved").all()
    assert series["chosen_model"].isin(["seasonal_naive", "theta", "ets"]).all()
    assert _count(network, forecast_score) == 6 * 3
    assert _count(network, forecast) == 6 * rf.HORIZON_DAYS
    first_day = series.set_index(["plant_id", "metric"])["history_end"]
    points = store.forecast_points(network, PlantScope.everything(), report.run_id, "NA-JOL", "output")
    assert points["day"].iloc[0] == first_day[("NA-JOL", "output")] + pd.Timedelta(days=1)
    assert (points["yhat_lower"] <= points["yhat"]).all() and (points["yhat"] <= points["yhat_upper"]).all()
    assert (points[["yhat", "yhat_lower"]] >= 0).all().all()
    registered = _count(network, audit_log, audit_log.c.action == "model_registered")
    metrics = _count(network, model_metric)
    assert registered == 1 and metrics > 0

    again = pipeline.refresh_forecasts(network, FAST, workers=1)
    assert again.run_id == report.run_id
    assert _count(network, forecast_run) == 1
    assert _count(network, forecast_series) == 6
    assert _count(network, forecast_score) == 6 * 3
    assert _count(network, forecast) == 6 * rf.HORIZON_DAYS
    assert _count(network, model_version) == 1
    assert _count(network, audit_log, audit_log.c.action == "model_registered") == 1
    assert _count(network, model_metric) == metrics
    with network.connect() as conn:
        run = conn.execute(select(forecast_run)).mappings().one()
    assert run["status"] == "done" and run["series"] == 6 and run["fallbacks"] == 6


def test_once_approved_the_backtest_choice_is_served(network):
    report = pipeline.refresh_forecasts(network, FAST, workers=1)
    model_serving.approve(network, ADMIN, report.model_id, "backtests beat seasonal naive")
    pipeline.refresh_forecasts(network, FAST, workers=1)
    series = store.latest_series(network, PlantScope.everything())
    chosen = series[series["chosen_model"].notna()]
    assert (chosen["served_model"] == chosen["chosen_model"]).all()
    assert series["fallback_reason"].isna().all()
    assert series["approved"].all()
    assert audit.verify(network).ok


def test_a_series_too_short_for_a_backtest_falls_back_with_its_reason(empty_engine):
    sample_data.generate(empty_engine, plants=1, days=30, seed=7, end_day=END)
    pipeline.refresh_forecasts(empty_engine, FAST, workers=1)
    series = store.latest_series(empty_engine, PlantScope.everything())
    assert len(series) == 3
    assert series["fallback_reason"].str.startswith("short: ").all()
    assert (series["served_model"] == "seasonal_naive").all()
    assert series["error"].isna().all()


def test_two_worker_processes_store_what_one_process_stores(small_network_url, tmp_path):
    results = {}
    for workers in (1, 2):
        path = tmp_path / f"w{workers}.db"
        path.write_bytes(open(small_network_url.removeprefix("sqlite:///"), "rb").read())
        engine = make_engine(f"sqlite:///{path}")
        pipeline.refresh_forecasts(
            engine, FAST, workers=workers, metrics=["output"], scope=PlantScope.only(["NA-JOL", "EU-ZAR"])
        )
        with engine.connect() as conn:
            results[workers] = pd.DataFrame(
                conn.execute(
                    select(forecast.c.plant_id, forecast.c.day, forecast.c.model, forecast.c.yhat).order_by(
                        forecast.c.plant_id, forecast.c.day
                    )
                ).fetchall()
            )
            chosen = conn.execute(
                select(forecast_series.c.plant_id, forecast_series.c.chosen_model).order_by(forecast_series.c.plant_id)
            ).fetchall()
        results[f"chosen{workers}"] = chosen
        engine.dispose()
    assert len(results[1]) == 2 * rf.HORIZON_DAYS
    pd.testing.assert_frame_equal(results[1], results[2])
    assert results["chosen1"] == results["chosen2"]


def test_refit_one_series_replaces_only_that_series(network):
    report = pipeline.refresh_forecasts(network, FAST, workers=1)
    before = store.latest_series(network, PlantScope.everything()).set_index(["plant_id", "metric"])
    pm = PlantScope.only(["NA-JOL"])
    with pytest.raises(rf.RefreshError, match="outside your plant scope"):
        pipeline.refit_one(network, "EU-ZAR", "demand", pm, actor="pm")
    with pytest.raises(rf.RefreshError, match="unknown series"):
        pipeline.refit_one(network, "NA-JOL", "sales", pm, actor="pm")
    metrics = _count(network, model_metric)
    result = pipeline.refit_one(network, "NA-JOL", "demand", pm, actor="pm")
    assert result.row["error"] is None
    assert _count(network, model_metric) == metrics  # the other series' monitoring rows are kept
    after = store.latest_series(network, PlantScope.everything()).set_index(["plant_id", "metric"])
    assert after.loc[("NA-JOL", "demand"), "fitted_utc"] > before.loc[("NA-JOL", "demand"), "fitted_utc"]
    assert after.loc[("NA-JOL", "demand"), "run_id"] == report.run_id  # same data, same version: same run
    untouched = [k for k in before.index if k != ("NA-JOL", "demand")]
    assert (after.loc[untouched, "fitted_utc"] == before.loc[untouched, "fitted_utc"]).all()
    with network.connect() as conn:
        run = conn.execute(select(forecast_run)).mappings().one()
    assert run["job"] == "refresh" and run["series"] == 6  # the refit joined the run


def test_realized_accuracy_of_the_previous_run_is_recorded(sqlite_network):
    pipeline.refresh_forecasts(sqlite_network, FAST, workers=1, as_of=END - pd.Timedelta(days=14))
    report = pipeline.refresh_forecasts(sqlite_network, FAST, workers=1)
    with sqlite_network.connect() as conn:
        live = conn.execute(
            select(model_metric.c.plant_id, model_metric.c.metric, model_metric.c.value).where(
                model_metric.c.metric.startswith("wape_live."), model_metric.c.model_id == report.model_id
            )
        ).fetchall()
    assert {m for _, m, _ in live} >= {"wape_live.demand", "wape_live.output"}
    assert all(v >= 0 for _, _, v in live)


def test_the_refresh_reads_no_plant_outside_its_scope(sqlite_network):
    pipeline.refresh_forecasts(sqlite_network, FAST, workers=1, scope=PlantScope.only(["NA-JOL"]), metrics=["demand"])
    assert list(store.latest_series(sqlite_network, PlantScope.everything())["plant_id"]) == ["NA-JOL"]
    assert store.latest_series(sqlite_network, PlantScope.only(["EU-ZAR"])).empty


def test_stored_series_of_a_stale_plant_end_with_its_data(sqlite_network):
    pipeline.refresh_forecasts(sqlite_network, FAST, workers=1, metrics=["output"])
    series = store.latest_series(sqlite_network, PlantScope.everything()).set_index("plant_id")
    assert series.loc["EU-ZAR", "history_end"] < series.loc["NA-JOL", "history_end"]  # its feeds are down


# --- command line -------------------------------------------------------------------------------


def test_command_line_refreshes_and_reports(small_network_url, tmp_path, capsys):
    path = tmp_path / "cli.db"
    path.write_bytes(open(small_network_url.removeprefix("sqlite:///"), "rb").read())
    code = commands.refresh_main(
        [
            "--url",
            f"sqlite:///{path}",
            "--workers",
            "1",
            "--plants",
            "NA-JOL",
            "--metrics",
            "output",
            "--candidates",
            "seasonal_naive,ets",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "1 series" in out.out and "NOT approved" in out.out
    assert "Traceback" not in out.err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "sales"], "unknown series sales"),
        (["--candidates", "ets,theta"], "seasonal_naive must be a candidate"),
        (["--candidates", "seasonal_naive,magic"], "unknown candidate(s) magic"),
        (["--plants", "XX-NOPE"], "no plant XX-NOPE in the warehouse"),
        (["--workers", "0"], "must be at least 1"),
        (["--as-of", "yesterday"], "not a date"),
    ],
)
def test_command_line_bad_input_is_one_line_and_exit_2(small_network_url, tmp_path, capsys, args, message):
    path = tmp_path / "cli.db"
    path.write_bytes(open(small_network_url.removeprefix("sqlite:///"), "rb").read())
    code = _run(["--url", f"sqlite:///{path}", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_command_line_refuses_a_missing_warehouse(tmp_path, capsys):
    missing = tmp_path / "nowhere.db"
    assert commands.refresh_main(["--url", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: no SQLite warehouse at {missing}"
    assert not missing.exists()


def _run(argv) -> int:
    """main's exit status, whether it returns it or argparse exits with it."""
    try:
        return commands.refresh_main(argv)
    except SystemExit as exc:
        return exc.code
