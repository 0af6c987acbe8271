"""The three operations pages through AppTest, from app.py with a login: hand-computed values
on tests/ops_fixture.py at each drill-down level, the drill-down carried across pages, plant
scope, explained empty states; and every page on a generated network."""

import re

import pytest
from streamlit.testing.v1 import AppTest

from data_access import migrate
from data_access.engine import make_engine
from tests import ops_fixture
from tests.apptest import APP, healthy, metric_values, screen_text

PAGES = ("pages/downtime.py", "pages/inventory.py", "pages/schedule.py")


@pytest.fixture(scope="module")
def ops_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ops_pages') / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    ops_fixture.build(engine)
    engine.dispose()
    return url


def _drill(at, **choices):
    """Pick plants (a list), line, asset or material in the filter bar, one rerun each."""
    if "plants" in choices:
        widget = at.multiselect(key="filters_plants")
        for plant_id in choices.pop("plants"):
            widget.select(plant_id)
        at.run()
    for level in ("line", "asset", "material"):
        if level in choices:
            at.selectbox(key=f"filters_{level}").select(choices[level]).run()
    healthy(at)
    return at


def test_downtime_page_drills_from_the_network_to_an_asset(open_app, ops_url):
    at = open_app(ops_url, "coo", "pages/downtime.py")
    assert [t.value for t in at.title] == ["Downtime & maintenance"]
    assert at.subheader[0].value == "Alpha Berlin, Bravo Newark, Charlie Osaka, 28 Mar 2026 to 31 Mar 2026 (4 days)"
    m = metric_values(at)
    assert m["Unplanned downtime (h)"] == "4.0 h" and m["Failures (#)"] == "3"
    assert m["MTBF (h)"] == "52.3 h" and m["MTTR (h)"] == "1.3 h"
    assert m["Work-order backlog (#)"] == "2" and m["Preventive share (%)"] == "50.0 %"
    assert any("Charlie Osaka" in c.value for c in at.caption)  # a plant without data, named
    assert at.selectbox(key="filters_asset").disabled  # no line picked yet
    assert len(at.get("plotly_chart")) >= 4 and len(at.dataframe) >= 6

    _drill(at, plants=["A"], line="A-L1")
    assert at.subheader[0].value.startswith("Alpha Berlin › Packaging 1")
    assert metric_values(at)["MTBF (h)"] == "12.0 h" and metric_values(at)["Failures (#)"] == "2"
    assert at.subheader[1].value == "Where the hours go, by asset"
    assert sorted(at.selectbox(key="filters_asset").options) == [
        "Foerderband 2 · conveyor (A-L1-CNV)",
        "Verschliesser 1 · capper (A-L1-CAP)",
    ]

    _drill(at, asset="A-L1-CNV")  # an asset that never failed
    assert at.subheader[0].value.startswith("Alpha Berlin › Packaging 1 › Foerderband 2")
    assert metric_values(at)["MTBF (h)"] == "no failure" and metric_values(at)["MTTR (h)"] == "no failure"
    assert "No failures in 4 days here: MTBF and MTTR have nothing to average." in [i.value for i in at.info]
    assert "No failures in 4 days on any asset here." in [i.value for i in at.info]

    at.radio(key="downtime_pareto_basis").set_value("All downtime").run()
    healthy(at)
    assert any(c.value.startswith("1 of 1 reasons cause 100%") for c in at.caption)


def _switch(at, page):
    """Open another page. AppTest hands the widgets' persisted values to the script one run
    after the page switch, where a browser has them on the first run (shown in Chromium by
    test_operations_browser.py), so run twice."""
    at.switch_page(page).run()
    at.run()
    healthy(at)
    return at


def test_the_drill_down_carries_across_pages(open_app, ops_url):
    at = _drill(open_app(ops_url, "coo", "pages/downtime.py"), plants=["A"], line="A-L2")
    _switch(at, "pages/schedule.py")
    assert at.selectbox(key="filters_line").value == "A-L2"
    assert at.multiselect(key="filters_plants").value == ["A"]
    assert at.subheader[0].value.startswith("Alpha Berlin › Filling 2")
    assert metric_values(at)["Orders at risk (#)"] == "1"  # A-6 on Filling 2
    _switch(at, "pages/inventory.py")  # inventory has no line level: plants only
    assert at.subheader[0].value.startswith("Alpha Berlin,")
    _switch(at, "pages/downtime.py")
    assert at.selectbox(key="filters_line").value == "A-L2"  # still there on the way back
    assert metric_values(at)["Failures (#)"] == "1"


def test_inventory_page_values_and_material_drill_down(open_app, ops_url):
    at = open_app(ops_url, "coo", "pages/inventory.py")
    m = metric_values(at)
    assert m["Days of supply (d)"] == "8.2 d" and m["Supplier on-time (%)"] == "66.7 %"
    assert m["Stockout exposure (#)"] == "3" and m["Spare parts availability (%)"] == "50.0 %"
    materials = next(df.value for df in at.dataframe if "material_dos_text" in df.value)
    assert dict(zip(materials["material_id"] + "@" + materials["plant_id"], materials["material_dos_text"])) == {
        "SPARE@A": "8.0 d",
        "RAW@B": "6.0 d",
        "RAW@A": "4.0 d",
        "PK@A": "no demand",
        "SPARE2@A": "no demand",
    }
    _drill(at, material="RAW")
    assert at.subheader[0].value.startswith("Alpha Berlin, Bravo Newark, Charlie Osaka › Resin")
    assert metric_values(at)["Days of supply (d)"] == "8.2 d"  # the plants' value-weighted tile stays
    assert metric_values(at)["Material days of supply (d)"] == "4.2 d"  # resin at both plants: 46 x 4 / 44
    assert any(s.value == "Materials shared across plants" for s in at.subheader)


def test_schedule_page_lists_orders_at_risk_and_late_orders(open_app, ops_url):
    at = open_app(ops_url, "coo", "pages/schedule.py")
    at.selectbox(key="schedule_horizon").select(7).run()
    healthy(at)
    m = metric_values(at)
    assert m["Schedule adherence (%)"] == "50.0 %" and m["Schedule attainment (%)"] == "72.5 %"
    assert m["Orders at risk (#)"] == "3"
    upcoming = next(df.value for df in at.dataframe if "threats" in df.value)
    assert upcoming["order_id"].tolist() == ["B-2", "A-6", "A-8"]  # only those at risk, by default
    at.toggle(key="schedule_only_at_risk").set_value(False).run()
    upcoming = next(df.value for df in at.dataframe if "threats" in df.value)
    assert upcoming["order_id"].tolist() == ["B-2", "A-6", "A-8", "A-5"]
    assert any(e.label == "1 open order has no due date" for e in at.expander)
    late = next(df.value for df in at.dataframe if "lateness_text" in df.value)
    assert late["order_id"].tolist() == ["A-3", "A-2"]


@pytest.mark.parametrize("page", PAGES)
def test_a_plant_manager_sees_only_the_own_plant(open_app, ops_url, page):
    at = open_app(ops_url, "pm_b", page)
    text = screen_text(at)
    assert "Bravo Newark" in text
    assert "Alpha Berlin" not in text and "A-L1" not in text and "Charlie" not in text
    for key in ("filters_line", "filters_material"):
        try:
            options = at.selectbox(key=key).options
        except KeyError:
            continue
        assert all("(A-" not in o and "Packaging 1" not in o for o in options)


@pytest.mark.parametrize("page", PAGES)
def test_a_plant_without_any_data_gets_an_explained_empty_state(open_app, ops_url, page):
    at = _drill(open_app(ops_url, "coo", page), plants=["C"])
    assert not at.metric and not at.dataframe
    assert len(at.info) == 1 and "Charlie Osaka" in at.info[0].value
    pm_c = open_app(ops_url, "pm_c", page)  # scoped to that plant only: the filter bar says so
    assert [i.value for i in pm_c.info] == [
        "There is no plant data in your scope yet. Once a plant's production data is loaded, its KPIs appear here."
    ]


def test_an_empty_plant_selection_is_explained(open_app, ops_url):
    at = open_app(ops_url, "coo", "pages/downtime.py")
    at.multiselect(key="filters_regions").select("AS").run()
    at.multiselect(key="filters_plants").select("A").run()
    healthy(at)
    assert [i.value for i in at.info] == ["No plant matches this region and plant selection. Widen the filters above."]


@pytest.mark.parametrize("page", PAGES)
def test_before_login_a_page_url_shows_only_the_login_form(monkeypatch, ops_users, ops_url, page):
    monkeypatch.setenv("PNCT_USERS_FILE", str(ops_users))
    monkeypatch.setenv("WAREHOUSE_URL", ops_url)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets.update({"auth": {}})
    at.switch_page(page).run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")


def _id(option: str) -> str:
    """The id in a drill-down option's label: 'Packaging 1 · Zaragoza (EU-ZAR-L1)' -> 'EU-ZAR-L1'."""
    return re.search(r"\(([^()]+)\)$", option).group(1)


def test_every_page_on_a_generated_network(open_app, small_network_url):
    at = open_app(small_network_url, "coo", "pages/downtime.py")
    assert len(at.metric) == 8 and len(at.get("plotly_chart")) >= 4
    _drill(at, line=_id(at.selectbox(key="filters_line").options[0]))
    _drill(at, asset=_id(at.selectbox(key="filters_asset").options[0]))
    assert at.subheader[0].value.count(" › ") == 2
    _switch(at, "pages/schedule.py")
    assert len(at.metric) == 4 and at.subheader[0].value.count(" › ") == 1  # the line, not the asset
    _switch(at, "pages/inventory.py")
    material = _id(at.selectbox(key="filters_material").options[0])
    _drill(at, material=material)
    assert at.subheader[0].value.count(" › ") == 1
    materials = next(df.value for df in at.dataframe if "material_dos_text" in df.value)
    assert set(materials["material_id"]) == {material}
