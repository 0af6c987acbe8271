"""Every KPI against values worked out by hand on the tiny network (tests/tiny_network.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from data_access import kpis, queries
from data_access.scope import PlantScope
from tests import tiny_network

START, END = tiny_network.DAYS[0], tiny_network.DAYS[-1]


@pytest.fixture
def tiny(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def _by_plant(engine, scope=PlantScope.everything()):
    comp = queries.plant_kpi_components(engine, scope, START, END)
    return kpis.with_kpis(comp).set_index("plant_id")


def test_plant_kpis_match_hand_computed_values(tiny):
    k = _by_plant(tiny)
    a, b = k.loc["A"], k.loc["B"]
    assert a["availability"] == pytest.approx(0.75)
    assert a["performance"] == pytest.approx(2 * 9000 / 21600)
    assert a["quality"] == pytest.approx(0.9)
    assert a["oee"] == pytest.approx(0.5625)
    assert a["oee"] == pytest.approx(a["availability"] * a["performance"] * a["quality"])
    assert a["unplanned_downtime_h"] == pytest.approx(3.0)
    assert a["mtbf_h"] == pytest.approx(24.0 / 2)  # 4 days x 6 run hours, 2 failures
    assert a["mttr_h"] == pytest.approx(1.5)
    assert a["schedule_adherence"] == pytest.approx(1 / 3)  # undated order not counted
    assert a["schedule_attainment"] == pytest.approx(190 / 300)
    assert a["supplier_otd"] == pytest.approx(0.5)  # open PO not counted
    assert a["days_of_supply"] == pytest.approx(7.5)  # spare part and finished good excluded
    assert b["oee"] == pytest.approx(30000 / 36000)
    assert math.isnan(b["mtbf_h"]) and math.isnan(b["mttr_h"])  # no failure: not infinity
    assert b["schedule_adherence"] == 1.0 and b["supplier_otd"] == 1.0
    assert math.isnan(b["days_of_supply"])  # no snapshot


def test_network_roll_up_sums_components_then_divides(tiny):
    comp = queries.plant_kpi_components(tiny, PlantScope.everything(), START, END)
    network = kpis.roll_up(comp)
    assert network["oee"] == pytest.approx((4 * 16200 + 4 * 30000) / (4 * 28800 + 4 * 36000))
    assert network["oee"] != pytest.approx(kpis.with_kpis(comp)["oee"].mean())
    assert network["mtbf_h"] == pytest.approx((24 + 40) / 2)
    assert network["schedule_adherence"] == pytest.approx(2 / 4)
    assert network["supplier_otd"] == pytest.approx(2 / 3)
    assert network["days_of_supply"] == pytest.approx(7.5)


def test_mart_carries_inventory_forward_and_dates_weeks(tiny):
    weekly = queries.weekly_kpi_components(tiny, PlantScope.everything(), START, END, by_plant=True)
    a = weekly[weekly["plant_id"] == "A"].set_index("week_start")
    # 28th and 29th are Sat/Sun of the week starting Mon 23rd; 30th/31st start a new week.
    assert list(a.index.astype(str)) == ["2026-03-23", "2026-03-30"]
    assert a["inventory_value"].tolist() == [400.0, 200.0]
    assert a["days"].tolist() == [2, 2]


def test_window_narrows_the_sums(tiny):
    comp = queries.plant_kpi_components(tiny, PlantScope.everything(), START, START)
    a = kpis.with_kpis(comp).set_index("plant_id").loc["A"]
    assert a["failures"] == 0 and a["planned_downtime_s"] == 3600
    assert math.isnan(a["schedule_adherence"])  # nothing due on the 28th


def test_scope_keeps_other_plants_out(tiny):
    only_b = PlantScope.only({"B"})
    assert set(queries.plant_kpi_components(tiny, only_b, START, END)["plant_id"]) == {"B"}
    assert set(queries.plants(tiny, only_b)["plant_id"]) == {"B"}
    assert set(queries.feed_freshness(tiny, only_b)["plant_id"]) == {"B"}
    weekly = queries.weekly_kpi_components(tiny, only_b, START, END)
    assert weekly["planned_busy_s"].sum() == 4 * 36000
    # Narrowing to a plant outside the scope yields nothing, never a widening.
    assert queries.plant_kpi_components(tiny, only_b.narrowed({"A"}), START, END).empty


def test_feed_freshness_flags_overdue_feeds(tiny):
    fresh = queries.feed_freshness(tiny, PlantScope.everything(), now=tiny_network.NOW).set_index("plant_id")
    assert fresh.loc["A", "age_h"] == pytest.approx(12.0) and not fresh.loc["A", "is_stale"]
    assert fresh.loc["B", "age_h"] == pytest.approx(72.0) and fresh.loc["B", "is_stale"]


def test_data_window(tiny):
    assert queries.data_window(tiny, PlantScope.everything()) == (START, END)
    assert queries.data_window(tiny, PlantScope.only(set())) is None


def test_ratios_never_divide_by_zero():
    assert math.isnan(kpis.oee(0.0, 0.0))
    assert math.isnan(kpis.mtbf_hours(3600.0, 0))
    series = kpis.availability(pd.Series([1.0, 2.0]), pd.Series([2.0, 0.0]))
    assert series.iloc[0] == 0.5 and math.isnan(series.iloc[1])
    assert not np.isinf(kpis.days_of_supply(pd.Series([5.0]), pd.Series([0.0]))).any()


def test_inventory_turns_annualizes():
    assert kpis.inventory_turns(1000.0, 500.0, 365) == pytest.approx(2.0)
    assert kpis.inventory_turns(1000.0, 500.0, 73) == pytest.approx(10.0)
