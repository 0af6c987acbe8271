"""Scenario planner through AppTest: levers against the baseline, save, compare, submit into the
decisions workflow, plant scope, bad input as a message (nothing saved), explained empty state."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from data_access import kpis
from data_access.engine import make_engine
from data_access.schema import recommendation, scenario
from forecasting import refresh
from forecasting import scenario as scenario_model
from jobs import pipeline
from tests.apptest import SMALL_NETWORK_PM_PLANT, TEST_LOGINS, log_in, new_app, rendered_text

PAGE = "pages/scenarios.py"
NAIVE = refresh.RefreshConfig(candidates=("seasonal_naive",))


@pytest.fixture(scope="module")
def forecasted(small_network_url, tmp_path_factory) -> Path:
    """The small network with stored demand forecasts for every plant but SEA-CKR; never written by tests."""
    path = tmp_path_factory.mktemp("scenario_page") / "forecasted.db"
    path.write_bytes(Path(small_network_url.removeprefix("sqlite:///")).read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    from data_access.scope import PlantScope

    pipeline.refresh_forecasts(engine, NAIVE, workers=1, scope=PlantScope.only(["EU-ZAR", "NA-ATL", "NA-JOL"]))
    engine.dispose()
    return path


@pytest.fixture
def url(forecasted, tmp_path) -> str:
    path = tmp_path / "warehouse.db"
    path.write_bytes(forecasted.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture
def open_as(monkeypatch, app_env):

    def open_as(warehouse_url, username):
        monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
        at = log_in(new_app().run(), username, TEST_LOGINS[username][0])
        assert not at.exception
        at = at.switch_page(PAGE).run()
        assert not at.exception, at.exception
        return at

    return open_as


def count(url, table, *where) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    engine.dispose()
    return value


def widget(at, kind, label):
    return next(w for w in getattr(at, kind) if w.label == label)


def press(at, label):
    next(b for b in at.button if b.label == label).click()
    at = at.run()
    assert not at.exception, at.exception
    return at


def tile(at, label_start):
    return next(m for m in at.metric if m.label.startswith(label_start))


def test_a_lever_change_shows_against_the_baseline_and_saves_and_submits(open_as, url):
    at = open_as(url, "planner_jol")
    plants = widget(at, "multiselect", "Plants")
    assert plants.options == ["Joliet (NA-JOL)"] or set(plants.value) == {"NA-JOL"}  # scope: own plant only
    assert "SEA-CKR" not in rendered_text(at)

    widget(at, "number_input", "Demand change (%)").set_value(15.0)
    at = press(at, "Run scenario")
    assert not at.error, [e.value for e in at.error]
    fill = tile(at, "Fill rate")
    assert fill.delta.startswith("-")  # more demand on the same capacity serves a smaller share
    assert tile(at, "Stockout days").delta.startswith("+")
    assert "demand +15 %" in rendered_text(at)
    assert len(at.get("plotly_chart")) >= 1

    widget(at, "text_input", "Scenario name").input("Demand +15")
    at = press(at, "Save scenario")
    assert any("Saved as scenario #1" in s.value for s in at.success)
    assert count(url, scenario) == 1
    assert "Demand +15" in rendered_text(at)

    widget(at, "text_area", "Why this plan").input("peak season order intake")
    at = press(at, "Submit for approval")
    assert any("Submitted" in s.value for s in at.success), [e.value for e in at.error]
    assert count(url, recommendation, recommendation.c.kind == "scenario") == 1
    saved = next(df.value for df in at.dataframe if "decision_state" in df.value.columns)
    assert (saved["state"].iloc[0], saved["decision_state"].iloc[0]) == ("submitted", "pending")


def test_zero_levers_show_the_baseline_itself(open_as, url):
    at = press(open_as(url, "planner_jol"), "Run scenario")
    for m in at.metric:
        assert m.delta in (None, "", "+0.0 pp", "+0", "+0.0"), (m.label, m.delta)
    assert "baseline (no change)" in rendered_text(at)


def test_bad_levers_give_a_message_and_save_nothing(open_as, url):
    at = open_as(url, "planner_jol")
    widget(at, "selectbox", "Line outage").set_value("NA-JOL-L1")
    widget(at, "number_input", "Outage days").set_value(-3)
    at = press(at, "Run scenario")
    assert any("outage of NA-JOL-L1 (days) must be between 1 and 91" in e.value for e in at.error)
    assert not at.metric or not any(m.label.startswith("Fill rate") for m in at.metric)
    assert count(url, scenario) == 0

    widget(at, "number_input", "Outage days").set_value(4)
    widget(at, "date_input", "Outage starts").set_value(
        widget(at, "date_input", "Outage starts").value.replace(year=2030)
    )
    at = press(at, "Run scenario")
    assert any("outside the horizon" in e.value for e in at.error)


def test_an_executive_runs_a_network_scenario_and_plants_without_forecasts_are_named(open_as, url):
    at = open_as(url, "coo")
    assert "Without a demand forecast yet (not offered): SEA-CKR" in rendered_text(at)
    at = press(at, "Whole network")
    assert set(widget(at, "multiselect", "Plants").value) == {"EU-ZAR", "NA-ATL", "NA-JOL"}
    first_supplier = widget(at, "multiselect", "Late supplier(s)").options[0].split(" ")[0]  # options show labels
    widget(at, "multiselect", "Late supplier(s)").set_value([first_supplier])
    widget(at, "number_input", "Extra days late").set_value(10.0)
    at = press(at, "Run scenario")
    assert not at.error, [e.value for e in at.error]
    assert "Network (all chosen plants)" in widget(at, "selectbox", "Show").options
    by_plant = next(df.value for df in at.dataframe if "fill_rate_change" in df.value.columns)
    assert set(by_plant["plant_id"]) == {"EU-ZAR", "NA-ATL", "NA-JOL"}
    assert (by_plant["fill_rate_change"] <= 1e-9).all()  # a late supplier never helps


def test_a_plant_manager_elsewhere_sees_the_empty_state_without_forecasts(open_as, url, monkeypatch):
    if SMALL_NETWORK_PM_PLANT != "EU-ZAR":
        pytest.skip("the pm user's plant changed")
    engine = make_engine(url)
    with engine.begin() as conn:
        from data_access.schema import forecast_series

        conn.execute(forecast_series.delete().where(forecast_series.c.plant_id == "EU-ZAR"))
    engine.dispose()
    at = open_as(url, "pm")
    assert any("none is stored for your plants yet" in c.value for c in at.caption)
    assert any(i.value.startswith("The worker") for i in at.info)  # what the worker does about it


def test_the_baseline_shows_how_well_the_simulator_tracked_the_plant(open_as, url):
    from data_access.scope import PlantScope
    from forecasting import scenario_backtest

    engine = make_engine(url)
    backtest = scenario_backtest.run(engine, PlantScope.only(["NA-JOL"]), origins=1, horizon=28, paths=20)
    assert not backtest.results.empty, backtest.skipped
    scenario_backtest.store_run(engine, backtest)
    engine.dispose()

    at = press(open_as(url, "planner_jol"), "Run scenario")
    captions = [c.value for c in at.caption if c.value.startswith("Back-tested:")]
    assert len(captions) == len(scenario_model.METRICS), captions
    tracked = [c for c in captions if "back-tests, bias" in c]
    assert len(tracked) == 5 and all("inside the band in 0 of 1" in c or "in 1 of 1" in c for c in tracked)
    assert sum("not back-tested" in c for c in captions) == 2  # plan spend and estimated cost have no actual
    calibration = next(df.value for df in at.dataframe if "coverage" in df.value.columns)
    assert set(calibration["plant_id"]) == {"NA-JOL"} and len(calibration) == 6
    assert calibration.set_index("metric").loc["Inventory value", "bias"].endswith(kpis.REFERENCE_CURRENCY)
    assert not any("No simulator back-test" in i.value for i in at.info)


def test_without_a_backtest_the_page_explains_how_to_get_one(open_as, url):
    at = press(open_as(url, "planner_jol"), "Run scenario")
    assert any("No simulator back-test of these plants is stored yet" in i.value for i in at.info)
    assert not any(c.value.startswith("Back-tested:") for c in at.caption)
