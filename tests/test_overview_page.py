"""The network overview page in AppTest: what an executive and a plant manager see."""

from data_access import kpis, queries
from data_access.engine import make_engine
from data_access.scope import PlantScope
from tests.apptest import TEST_LOGINS, log_in


def _ranking(at):
    return next(df.value for df in at.dataframe if "oee" in df.value.columns)


def test_executive_sees_every_plant_with_quality_and_decisions(app, small_network_url):
    at = log_in(app, "coo", TEST_LOGINS["coo"][0])
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "OEE (%)" in labels and "Decision latency, median (h)" in labels
    ranking = _ranking(at)
    engine = make_engine(small_network_url)
    assert set(ranking["plant_id"]) == set(queries.plants(engine, PlantScope.everything())["plant_id"])
    assert ranking["data_quality_score"].between(0, 100).all()
    # The tile shows the roll-up of the selected window, computed the one way.
    start, end = at.date_input(key="filters_dates").value
    network = kpis.roll_up(queries.plant_kpi_components(engine, PlantScope.everything(), start, end))
    oee_tile = next(m for m in at.metric if m.label == "OEE (%)")
    assert oee_tile.value == f"{network['oee']:.1%}".replace("%", " %")
    engine.dispose()


def test_plant_manager_sees_only_own_plant(app):
    at = log_in(app, "pm", TEST_LOGINS["pm"][0])
    assert not at.exception
    assert set(_ranking(at)["plant_id"]) == set(TEST_LOGINS["pm"][2])
    decisions = next(df.value for df in at.dataframe if "latency_median_h" in df.value.columns)
    assert set(decisions["plant_id"]) <= set(TEST_LOGINS["pm"][2])


def test_changing_the_compared_kpi_reranks(app):
    at = log_in(app, "coo", TEST_LOGINS["coo"][0])
    at.selectbox(key="overview_kpi").select("mttr_h").run()
    assert not at.exception
    mttr = _ranking(at)["mttr_h"].dropna()
    assert list(mttr) == sorted(mttr)  # lower is better: best first
