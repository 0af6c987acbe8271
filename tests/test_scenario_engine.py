"""The scenario engine (forecasting.scenario) and its inputs (forecasting.scenario_inputs):

- a tiny plant checked by hand, day by day, with and without overtime and a late supplier;
- invariants on a generated network (no negative stock, fill rate in [0, 1], zero levers are
  the baseline, monotone in outage length and demand, reproducible by seed), and crafted
  plants where a maintenance window and a supplier delay must act in a known direction;
- bad input: a ScenarioError with a message that names what is wrong;
- the inputs read from a generated warehouse with stored forecasts (shapes, demand equal to
  the stored forecast, data version), and the same inputs on PostgreSQL as on SQLite.

The speed of the engine is measured in bench/scenario.py, not here.
"""

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

import sample_data
from data_access import intelligence as q
from data_access.engine import make_engine
from data_access.scope import PlantScope
from forecasting import scenario as sc
from forecasting import scenario_inputs as si
from forecasting.refresh import RefreshConfig
from governance import policies
from jobs import pipeline

END = date(2026, 6, 30)
START = END + timedelta(days=1)
FAST = RefreshConfig(candidates=("seasonal_naive",))
UNFORECAST = "SEA-CKR"  # the one plant of the generated network whose forecasts are never refreshed
PATHS = 200


# --- a tiny plant, checked by hand -------------------------------------------------------------


def tiny(**changes) -> sc.PlantBasis:
    """One 16 h line (75 % available, 10 units per run hour: 120 units a day, 160 with 4 h of
    overtime), deterministic demand 100, 150, 150, 100, no failures; finished goods 30 on hand
    against a safety stock of 20, worth 5 each; one material (2 per unit made, 500 on hand,
    reorder point 300, reorder 400, lead time 2 days, cost 1, its supplier always on time) with
    an open order of 200 promised for day 2."""
    basis = sc.PlantBasis(
        plant_id="TINY",
        start=START,
        demand=np.array([100.0, 150.0, 150.0, 100.0]),
        demand_sd=np.zeros(4),
        lines=("TINY-L1",),
        line_hours=np.full((1, 4), 16.0),
        line_availability=np.array([0.75]),
        line_rate=np.array([10.0]),
        failure_rate=np.array([0.0]),
        elevated_rate=np.array([0.0]),
        repair_hours=np.array([4.0]),
        fg_on_hand=30.0,
        fg_safety_stock=20.0,
        fg_unit_value=5.0,
        materials=("MAT-1",),
        suppliers=("SUP-1",),
        usage_per_unit=np.array([2.0]),
        mat_on_hand=np.array([500.0]),
        mat_reorder_point=np.array([300.0]),
        mat_order_qty=np.array([400.0]),
        mat_lead_days=np.array([2.0]),
        mat_unit_cost=np.array([1.0]),
        lateness=(np.array([0.0]),),
        arrivals=np.array([[0.0, 0.0, 200.0, 0.0]]),
        labour_rate=85.0,
    )
    return replace(basis, **changes)


def _one_path(daily: dict) -> dict:
    """Every path of a deterministic plant is the same: the first one, as lists."""
    for values in daily.values():
        assert np.all(values == values[0])
    return {k: v[0].tolist() for k, v in daily.items()}


def test_tiny_plant_by_hand_without_levers():
    # day 0: plan 100 (stock 30 >= safety 20); make 100 (cap 120, material for 250): material 300, FG 30;
    #        position 300 + 200 on order > 300: no reorder.             inventory 30*5 + 300 = 450
    # day 1: plan 150; make 120 (capacity): material 60; serve 150 from 30 + 120, FG 0;
    #        position 60 + 200 <= 300: reorder max(400, 40) = 400 for day 1 + 2 = 3.  inventory 60
    # day 2: the open order arrives: material 260; plan 150 + 20; make 120 (capacity; material for 130):
    #        material 20; serve 120 of 150 (30 unmet), FG 0.                inventory 20
    # day 3: the reorder arrives: material 420; plan 100 + 20; make 120: material 180; serve 100, FG 20;
    #        position 180 <= 300: reorder (arrives after the horizon).  inventory 20*5 + 180 = 280
    daily = _one_path(sc.simulate(tiny(), paths=3))
    assert daily["demand"] == [100, 150, 150, 100]
    assert daily["planned"] == [100, 150, 170, 120]
    assert daily["produced"] == [100, 120, 120, 120]
    assert daily["served"] == [100, 150, 120, 100]
    assert daily["unmet"] == [0, 0, 30, 0]
    assert daily["overtime_hours"] == [0, 0, 0, 0]
    assert daily["inventory_value"] == pytest.approx([450, 60, 20, 280])
    assert daily["lines_scheduled"] == [1, 1, 1, 1]
    assert daily["lines_on_time"] == [1, 1, 1, 1]  # no failure, and material never held production back


def test_a_failure_longer_than_the_tolerance_or_a_material_at_zero_makes_a_line_day_late():
    # day 0 a failure of 5 h (> the orders' 4 h tolerance), day 1 one of 3 h (within it), day 3
    # without material (560 = 2 x (70 + 90 + 120) made on days 0-2, no order) unless it does not bind
    basis = tiny(
        failure_rate=np.array([0.5]),
        repair_hours=np.array([1.0]),
        arrivals=np.zeros((1, 4)),
        mat_on_hand=np.array([560.0]),
        mat_reorder_point=np.array([0.0]),
    )
    draws = sc.Draws(
        demand=np.zeros((1, 4)),
        failure=np.array([[[0.0], [0.0], [1.0], [1.0]]]),
        repair=np.array([[[5.0], [3.0], [0.0], [0.0]]]),
        lateness=np.zeros((1, 8, 1)),
    )
    daily = sc.simulate(basis, draws=draws)
    assert daily["produced"][0].tolist() == pytest.approx([70, 90, 120, 0])  # 12 h run less the repairs
    assert daily["lines_on_time"][0].tolist() == [0, 1, 1, 0]
    free = sc.simulate(replace(basis, mat_binding=np.array([False])), draws=draws)
    assert free["lines_on_time"][0].tolist() == [0, 1, 1, 1]
    assert free["produced"][0, 3] == pytest.approx(120)


def test_tiny_plant_by_hand_with_overtime_and_its_summary():
    # 4 h of overtime a day on a 16 h line (room min(4, 24 - 16) = 4 h = 40 units):
    # day 0: plan 100, make 100 (no overtime): material 300, FG 30.                 inventory 450
    # day 1: plan 150, make 150 = 120 regular + 30 overtime (3 of the 4 h): material 0; FG 30;
    #        position 0 + 200 <= 300: reorder 400 for day 3.                         inventory 150
    # day 2: open order: material 200; plan 150 (FG 30 >= 20); make 100 (material): material 0;
    #        serve 130 of 150 (20 unmet), FG 0.                                        inventory 0
    # day 3: reorder arrives: material 400; plan 120, make 120 (regular): material 160; serve 100,
    #        FG 20.                                                     inventory 20*5 + 160 = 260
    levers = sc.Levers(overtime_hours_per_day=4.0)
    daily = _one_path(sc.simulate(tiny(), levers, paths=3))
    assert daily["planned"] == [100, 150, 150, 120]
    assert daily["produced"] == [100, 150, 100, 120]
    assert daily["served"] == [100, 150, 130, 100]
    assert daily["unmet"] == [0, 0, 20, 0]
    assert daily["overtime_hours"] == pytest.approx([0, 3, 0, 0])
    assert daily["inventory_value"] == pytest.approx([450, 150, 0, 260])

    result = sc.run({"TINY": tiny()}, levers, paths=10)
    summary, baseline = result.plants["TINY"]["summary"], result.plants["TINY"]["baseline"]
    holding = sc.HOLDING_RATE_PER_YEAR / 365.0
    expected = {  # scenario (above) and baseline (the test before)
        "fill_rate": (480 / 500, 470 / 500),
        "stockout_days": (1, 1),
        # line-days on time: day 2 held back by material; baseline: none (capacity, not material, caps day 1)
        "schedule_adherence": (3 / 4, 1.0),
        "overtime_hours": (3, 0),
        "inventory_value": (860 / 4, 810 / 4),
        # overtime 3 line-h x 4 crew x 85 x 1.5 + holding + lost sales at 5 a unit
        "cost": (3 * 4 * 85 * 1.5 + 860 * holding + 20 * 5, 810 * holding + 30 * 5),
    }
    for metric, (scenario, base) in expected.items():
        for band in ("p10", "p50", "p90", "mean"):  # every path is the same
            assert summary[metric][band] == pytest.approx(scenario), (metric, band)
            assert baseline[metric][band] == pytest.approx(base), (metric, band)
    table = sc.comparison(result, "TINY").set_index("metric")
    assert table.loc["fill_rate", "change"] == pytest.approx(0.02)
    assert table.loc["overtime_hours", "change"] == pytest.approx(3.0)
    # one plant: the network is that plant
    assert result.network["summary"] == summary


def _draws(**changes) -> sc.Draws:
    """One path of the tiny plant: no demand noise, no failure, every supplier on time."""
    base = dict(
        demand=np.zeros((1, 4)), failure=np.ones((1, 4, 1)), repair=np.zeros((1, 4, 1)), lateness=np.zeros((1, 8, 1))
    )
    return sc.Draws(**(base | changes))


def test_a_lines_availability_of_the_day_comes_from_its_record_as_the_path_resampled_it():
    # record: a day at 25 % (16 h x 0.25 = 4 h, 40 units: more than the 4 h tolerance short of
    # the usual 12 h) and a day at 75 %. The path resamples both days (record draws 0.1, 0.6) and
    # picks the short one on day 0; a path that resampled the short day twice runs short every day.
    basis = tiny(run_ratios=(np.array([0.75, 0.25]),), arrivals=np.zeros((1, 4)), mat_on_hand=np.array([5000.0]))
    both = sc.simulate(
        basis, draws=_draws(availability=np.array([[[0.0], [0.9], [0.9], [0.9]]]), record=np.array([[[0.1], [0.6]]]))
    )
    assert both["produced"][0].tolist() == pytest.approx([40, 120, 120, 120])
    assert both["lines_on_time"][0].tolist() == [0, 1, 1, 1]
    short = sc.simulate(
        basis, draws=_draws(availability=np.array([[[0.0], [0.9], [0.9], [0.9]]]), record=np.array([[[0.1], [0.4]]]))
    )
    assert short["produced"][0].tolist() == pytest.approx([40, 40, 40, 40])
    # a record of one value is no noise: the plant of the hand-computed tests, on drawn numbers
    steady = sc.simulate(tiny(run_ratios=(np.array([0.75, 0.75]),)), paths=50)
    assert all(np.array_equal(steady[k], v) for k, v in sc.simulate(tiny(), paths=50).items())


def test_each_path_keeps_its_own_finished_stock_level_from_the_record():
    # target 20 x the path's level: 2.0 (draw 0.9) plans day 0 at 100 + (40 - 30); 0.5 (draw 0.0)
    # at 100; without draws the median level 1.0, the hand-computed plan
    basis = tiny(fg_kept=np.array([0.5, 1.0, 2.0]))
    assert sc.simulate(basis, draws=_draws(kept=np.array([0.9])))["planned"][0, 0] == pytest.approx(110)
    assert sc.simulate(basis, draws=_draws(kept=np.array([0.0])))["planned"][0, 0] == pytest.approx(100)
    assert sc.simulate(basis, draws=_draws())["planned"][0].tolist() == [100, 150, 170, 120]


def test_a_material_consumed_beyond_its_counts_and_receipts_does_not_bind():
    # weekly counts, none at zero: A 100 then 5 with 140 used between (40 more than it held: the
    # count lags the floor); B 100 then 40 with 60 used; C 100, 50 received, 140 used (within it)
    days = [START + timedelta(days=i) for i in range(8)]
    counts = pd.DataFrame(
        {
            "material_id": ["A", "A", "B", "B", "C", "C"],
            "day": [days[0], days[7]] * 3,
            "on_hand": [100.0, 5.0, 100.0, 40.0, 100.0, 10.0],
        }
    )
    used = {"A": 20.0, "B": 60.0 / 7, "C": 20.0}
    consumption = pd.DataFrame([{"material_id": m, "day": d, "qty": q} for m, q in used.items() for d in days[1:]])
    record = pd.DataFrame({"material_id": ["C"], "received_day": [days[3]], "qty": [50.0]})
    assert si._binding(counts, consumption, record, ("A", "B", "C")).tolist() == [False, True, True]


def test_tiny_plant_by_hand_with_a_late_supplier():
    # SUP-1 one day later: the open order arrives on day 3, the day-1 reorder (2 + 1 days) after the horizon.
    # day 0, 1: as without levers (material 300, 60).
    # day 2: no arrival; plan 170; make 30 (material for 60 / 2): material 0; serve 30 of 150 (120 unmet).
    # day 3: open order: material 200; plan 120; make 100 (material): material 0; serve 100, FG 0.
    daily = _one_path(sc.simulate(tiny(), sc.Levers(supplier_delay_days={"SUP-1": 1.0}), paths=3))
    assert daily["produced"] == [100, 120, 30, 100]
    assert daily["served"] == [100, 150, 30, 100]
    assert daily["unmet"] == [0, 0, 120, 0]
    assert daily["inventory_value"] == pytest.approx([450, 60, 0, 0])


def test_a_maintenance_window_and_an_outage_cut_the_hours_by_hand():
    # a 6 h window on day 1 leaves 10 h (7.5 run, 75 units); an outage of days 2-3 leaves nothing
    # (and no overtime on those days, though 4 h are allowed).
    levers = sc.Levers(
        overtime_hours_per_day=4.0,
        line_outages=(sc.LineOutage("TINY-L1", START + timedelta(2), 2),),
        maintenance_windows=(sc.MaintenanceWindow("TINY-L1", START + timedelta(1), 6.0),),
    )
    basis = tiny(usage_per_unit=np.array([0.0]), demand=np.full(4, 500.0))
    daily = _one_path(sc.simulate(basis, levers, paths=3))
    assert daily["produced"] == pytest.approx([160, 115, 0, 0])  # 75 regular + 40 overtime on day 1
    assert daily["overtime_hours"] == pytest.approx([4, 4, 0, 0])


def test_a_long_maintenance_window_runs_over_the_next_days_and_is_charged_in_full():
    # 30 h from day 1: 24 clock hours on day 1 (all 16 scheduled lost), 6 on day 2 (10 h left: 75 units)
    levers = sc.Levers(maintenance_windows=(sc.MaintenanceWindow("TINY-L1", START + timedelta(1), 30.0),))
    basis = tiny(usage_per_unit=np.array([0.0]), demand=np.full(4, 500.0))
    daily = _one_path(sc.simulate(basis, levers, paths=3))
    assert daily["produced"] == pytest.approx([120, 0, 75, 120])
    cost = sc.costs(sc.simulate(basis, levers, paths=3), basis.labour_rate, basis.fg_unit_value, 30.0)
    assert cost["windows"][0] == pytest.approx(30 * sc.CREW_PER_LINE * 85.0)  # 10,200: every window hour


def test_overtime_may_run_on_a_day_off_but_not_during_an_outage():
    # day 1 is not scheduled (0 h): with 4 h of overtime allowed the line makes 4 x 10 = 40 units
    # (overtime runs at the rated speed, without the regular schedule's availability losses)
    hours = np.array([[16.0, 0.0, 16.0, 16.0]])
    basis = tiny(usage_per_unit=np.array([0.0]), demand=np.full(4, 500.0), line_hours=hours)
    daily = _one_path(sc.simulate(basis, sc.Levers(overtime_hours_per_day=4.0), paths=3))
    assert daily["produced"] == pytest.approx([160, 40, 160, 160])
    assert daily["overtime_hours"] == pytest.approx([4, 4, 4, 4])


# --- invariants on a generated network ---------------------------------------------------------


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """Four generated plants, 200 days to 2026-06-30, on SQLite; seasonal-naive forecasts stored
    for all but UNFORECAST."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('scenario') / 'warehouse.db'}")
    sample_data.generate(engine, plants=4, days=200, seed=7, end_day=END)
    plants = sorted(q.plant_ids(engine, PlantScope.everything()))
    forecast = [p for p in plants if p != UNFORECAST]
    report = pipeline.refresh_forecasts(engine, FAST, workers=1, scope=PlantScope.only(forecast))
    assert report.failed == 0
    bases, version = si.bases(engine, PlantScope.everything(), forecast, labour_rates=policies.labour_rates(engine))
    yield {
        "engine": engine,
        "plants": plants,
        "forecast": forecast,
        "run_id": report.run_id,
        "bases": bases,
        "version": version,
    }
    engine.dispose()


@pytest.fixture(scope="module")
def bases(network):
    return network["bases"]


def _metrics(basis, levers=sc.Levers(), paths=PATHS, seed=sc.SEED):
    daily = sc.simulate(basis, levers, paths=paths, seed=seed)
    window_h = sum(w.hours for w in levers.maintenance_windows if w.line_id in basis.lines)
    parts = sc.components(daily, sc.costs(daily, basis.labour_rate, basis.fg_unit_value, window_h))
    return daily, sc.path_metrics(parts)


def _stress(basis) -> list[sc.Levers]:
    """Levers from gentle to extreme, every lever at least once."""
    first, last = basis.start, basis.start + timedelta(days=basis.horizon - 1)
    every_line = tuple(sc.LineOutage(line, first, 91) for line in basis.lines)
    supplier = next(s for s in basis.suppliers if s)
    return [
        sc.Levers(),
        sc.Levers(demand_change_pct=200.0, capacity_change_pct=-90.0),
        sc.Levers(demand_change_pct=-90.0, capacity_change_pct=100.0, overtime_hours_per_day=12.0),
        sc.Levers(safety_stock_multiplier=5.0, overtime_hours_per_day=8.0),
        sc.Levers(safety_stock_multiplier=0.0),
        sc.Levers(supplier_delay_days={supplier: 90.0}, demand_change_pct=30.0),
        sc.Levers(line_outages=every_line),
        sc.Levers(
            line_outages=(sc.LineOutage(basis.lines[0], last, 5),),
            maintenance_windows=(sc.MaintenanceWindow(basis.lines[-1], first, 72.0),),
        ),
    ]


def test_no_negative_stock_and_production_within_plan(bases):
    for basis in bases.values():
        for levers in _stress(basis):
            daily, metrics = _metrics(basis, levers, paths=100)
            tol = 1e-6 * max(1.0, float(basis.demand.max()))
            assert np.all(daily["produced"] >= 0) and np.all(daily["produced"] <= daily["planned"] + tol)
            assert np.all(daily["served"] >= 0) and np.all(daily["served"] <= daily["demand"] + tol)
            assert np.allclose(daily["unmet"], daily["demand"] - daily["served"])
            assert np.all(daily["overtime_hours"] >= 0)
            assert np.all(daily["overtime_hours"] <= levers.overtime_hours_per_day * len(basis.lines) + 1e-9)
            # finished goods from the balance, then the materials' value is what is left of inventory value
            finished = basis.fg_on_hand + np.cumsum(daily["produced"] - daily["served"], axis=1)
            assert np.all(finished >= -tol), (basis.plant_id, levers.describe())
            materials_value = daily["inventory_value"] - finished * basis.fg_unit_value
            assert np.all(materials_value >= -1e-6 * max(1.0, float(daily["inventory_value"].max()))), (
                basis.plant_id,
                levers.describe(),
            )
            assert np.all((metrics["fill_rate"] >= 0) & (metrics["fill_rate"] <= 1)), levers.describe()
            assert np.all((metrics["schedule_adherence"] >= 0) & (metrics["schedule_adherence"] <= 1))


def test_fill_rate_within_0_and_1_on_every_path_and_day_of_a_run(bases):
    basis = next(iter(bases.values()))
    for levers in _stress(basis)[1:3]:
        result = sc.run(bases, levers, paths=100)
        for entry in [*result.plants.values(), result.network]:
            for key in ("summary", "baseline"):
                assert all(0 <= v <= 1 for v in entry[key]["fill_rate"].values())
            daily = entry["daily"]
            fill = daily[daily["metric"] == "fill_rate"][["p10", "p50", "p90", "mean"]].to_numpy()
            assert np.all((fill >= 0) & (fill <= 1))


def test_the_extreme_levers_move_fill_rate_the_expected_way(bases):
    for basis in bases.values():
        _, base = _metrics(basis)
        _, worse = _metrics(basis, sc.Levers(demand_change_pct=200.0, capacity_change_pct=-90.0))
        _, down = _metrics(
            basis, sc.Levers(line_outages=tuple(sc.LineOutage(line, basis.start, 91) for line in basis.lines))
        )
        assert worse["fill_rate"].mean() < base["fill_rate"].mean()
        # every line down all horizon: only finished stock on hand is served
        assert np.allclose(
            down["fill_rate"], np.minimum(1.0, basis.fg_on_hand / sc.simulate(basis, paths=PATHS)["demand"].sum(axis=1))
        )


def test_zero_levers_reproduce_the_baseline_exactly(bases):
    basis = next(iter(bases.values()))
    base = sc.baselines(bases, paths=PATHS)
    result = sc.run(bases, sc.Levers(), paths=PATHS, baseline=base)
    for plant_id, entry in result.plants.items():
        assert entry["summary"] == entry["baseline"]
        assert entry["daily"].equals(entry["baseline_daily"])
    # levers that change nothing but are not the default, so the engine really simulates again
    supplier = next(s for s in basis.suppliers if s)
    noop = sc.Levers(
        demand_change_pct=0.0,
        capacity_change_pct=0.0,
        overtime_hours_per_day=0.0,
        safety_stock_multiplier=1.0,
        supplier_delay_days={supplier: 0.0},
    )
    assert not noop.is_baseline()
    again = sc.run(bases, noop, paths=PATHS, baseline=base)
    for plant_id, entry in again.plants.items():
        assert entry["summary"] == entry["baseline"] == result.plants[plant_id]["summary"]
        assert entry["daily"].equals(entry["baseline_daily"])
    assert again.network["summary"] == again.network["baseline"]
    for plant_id, basis in bases.items():
        daily = sc.simulate(basis, noop, paths=PATHS)
        assert all(np.array_equal(daily[k], base[plant_id][0][k]) for k in sc.DAILY)


def test_a_longer_outage_never_improves_the_mean_fill_rate(bases):
    for basis in bases.values():
        busiest = basis.lines[int(np.argmax(basis.line_rate))]
        start = basis.start + timedelta(days=7)
        fill = []
        for days in (0, 1, 2, 5, 10, 20, 40, 84):
            levers = sc.Levers(line_outages=(sc.LineOutage(busiest, start, days),) if days else ())
            fill.append(_metrics(basis, levers)[1]["fill_rate"])
        means = [f.mean() for f in fill]
        assert all(later <= earlier + 1e-12 for earlier, later in zip(means, means[1:])), (basis.plant_id, means)
        assert means[-1] < means[0], basis.plant_id  # and twelve weeks without the busiest line does hurt
        # on common random numbers it holds path by path too: a reorder that a lever moves keeps
        # its lateness draw (were it drawn by the day it is placed, a one-day outage could turn a
        # path's late delivery into an early one and improve its fill rate)
        improved = [int((b > a + 1e-9).sum()) for a, b in zip(fill, fill[1:])]
        assert improved == [0] * len(improved), (basis.plant_id, improved)


def test_more_demand_never_lowers_the_mean_stockout_days(bases):
    for basis in bases.values():
        means = [
            _metrics(basis, sc.Levers(demand_change_pct=pct))[1]["stockout_days"].mean()
            for pct in (-60, -30, -10, 0, 10, 30, 60, 120)
        ]
        assert all(later >= earlier for earlier, later in zip(means, means[1:])), (basis.plant_id, means)
        assert means[-1] > means[0], basis.plant_id


def test_the_same_seed_gives_the_same_result_and_another_seed_another(bases):
    levers = sc.Levers(demand_change_pct=15.0, overtime_hours_per_day=2.0)
    one = sc.run(bases, levers, paths=100, seed=11)
    assert one.to_json() == sc.run(bases, levers, paths=100, seed=11).to_json()
    other = sc.run(bases, levers, paths=100, seed=12)
    assert other.to_json()["network"]["summary"] != one.to_json()["network"]["summary"]
    for basis in bases.values():
        a, b = sc.simulate(basis, levers, paths=50, seed=3), sc.simulate(basis, levers, paths=50, seed=3)
        assert all(np.array_equal(a[k], b[k]) for k in sc.DAILY)
        assert not np.array_equal(a["demand"], sc.simulate(basis, levers, paths=50, seed=4)["demand"])


def test_plants_draw_their_own_random_numbers_even_with_similar_ids():
    # plant ids sharing their first characters (imported plants are often PLANT-0001, PLANT-0002...)
    # must not share their demand, failure and delivery draws: the network band is that of a sum
    one, two = tiny(plant_id="PLANT-ATL-0001"), tiny(plant_id="PLANT-ATL-0002")
    a, b = sc.Draws.for_basis(one, 20, sc.SEED), sc.Draws.for_basis(two, 20, sc.SEED)
    assert not np.array_equal(a.demand, b.demand)
    assert not np.array_equal(a.failure, b.failure)


def _hazard_plant(**changes) -> sc.PlantBasis:
    """One 16 h line, fully available, 10 units an hour, demand far above capacity (so output is
    capacity), no materials; long-run failure rate 2 % a day, but an asset on it currently
    carries a 50 %-a-day hazard; 8 h per repair on average."""
    h = 60
    basis = sc.PlantBasis(
        plant_id="HAZ",
        start=START,
        demand=np.full(h, 1e6),
        demand_sd=np.zeros(h),
        lines=("HAZ-L1",),
        line_hours=np.full((1, h), 16.0),
        line_availability=np.array([1.0]),
        line_rate=np.array([10.0]),
        failure_rate=np.array([0.02]),
        elevated_rate=np.array([0.5]),
        repair_hours=np.array([8.0]),
        fg_on_hand=0.0,
        fg_safety_stock=0.0,
        fg_unit_value=1.0,
    )
    return replace(basis, **changes)


def test_a_maintenance_window_on_a_degraded_line_lowers_the_expected_failure_losses():
    basis = _hazard_plant()
    window = sc.Levers(maintenance_windows=(sc.MaintenanceWindow("HAZ-L1", START, 2.0),))
    capacity = 16.0 * 10 * basis.horizon
    loss_without = capacity - sc.simulate(basis, paths=2000)["produced"].sum(axis=1)
    made_with = sc.simulate(basis, window, paths=2000)["produced"].sum(axis=1)
    loss_with = capacity - 2.0 * 10 - made_with  # failure losses: what the window itself did not take
    # expected losses: without the window the first failure comes in ~2 days (8 h lost), then 2 % a day
    assert loss_with.mean() < loss_without.mean() - 4 * 10
    assert made_with.mean() > (capacity - loss_without).mean()  # 2 h planned beats ~8 h of repair
    # failures before the window are not prevented: a window on day 30 saves less than one on day 0
    late = sc.Levers(maintenance_windows=(sc.MaintenanceWindow("HAZ-L1", START + timedelta(30), 2.0),))
    assert sc.simulate(basis, late, paths=2000)["produced"].sum(axis=1).mean() < made_with.mean()
    # on a healthy line a window only costs its hours (same draws: at most 2 h x 10 per path)
    healthy = _hazard_plant(elevated_rate=np.array([0.0]))
    gap = sc.simulate(healthy, paths=500)["produced"].sum(axis=1) - sc.simulate(healthy, window, paths=500)[
        "produced"
    ].sum(axis=1)
    assert np.all((gap >= -1e-9) & (gap <= 20 + 1e-9)) and gap.max() > 0


def test_a_supplier_delay_shifts_every_delivery_by_its_days():
    # no demand, no finished-goods value: inventory value is the material on hand, which only rises
    # with the open orders' arrivals (each late by a draw from the supplier's record of 0, 1 or 3 days)
    h = 30
    basis = tiny(
        demand=np.zeros(h),
        demand_sd=np.zeros(h),
        line_hours=np.full((1, h), 16.0),
        fg_on_hand=0.0,
        fg_safety_stock=0.0,
        fg_unit_value=0.0,
        mat_on_hand=np.array([10.0]),
        mat_reorder_point=np.array([0.0]),
        lateness=(np.array([0.0, 1.0, 3.0]),),
        arrivals=np.eye(1, h, 2) * 200 + np.eye(1, h, 9) * 300,
    )
    base = sc.simulate(basis, paths=300)["inventory_value"]
    assert set(np.unique(base[:, 5])) == {210.0}  # the first order arrives by day 2 + 3
    for delay in (1, 4, 12):
        late = sc.simulate(basis, sc.Levers(supplier_delay_days={"SUP-1": float(delay)}), paths=300)["inventory_value"]
        assert np.array_equal(late[:, delay:], base[:, :-delay])  # the same deliveries, `delay` days later
        assert np.all(late[:, :delay] == 10.0)
        assert np.all(late <= base) and late[:, :14].sum() < base[:, :14].sum()  # fewer materials early
    # a delay of another supplier changes nothing here
    other = sc.simulate(basis, sc.Levers(supplier_delay_days={"SUP-9": 5.0}), paths=300)["inventory_value"]
    assert np.array_equal(other, base)


# --- bad input ---------------------------------------------------------------------------------


def _error(levers, bases_, match):
    with pytest.raises(sc.ScenarioError, match=match):
        sc.validate(levers, bases_)
    with pytest.raises(sc.ScenarioError, match=match):
        sc.run(bases_, levers, paths=10)


def test_levers_out_of_range_are_refused_with_a_clear_message(bases):
    plant_a, plant_b = list(bases)[:2]
    one = {plant_a: bases[plant_a]}
    line = bases[plant_a].lines[0]
    other_line = bases[plant_b].lines[0]
    day = bases[plant_a].start
    last = day + timedelta(days=bases[plant_a].horizon - 1)
    _error(
        sc.Levers(line_outages=(sc.LineOutage(line, day, -2),)),
        one,
        rf"outage of {line} \(days\) must be between 1 and 91, not -2",
    )
    _error(sc.Levers(line_outages=(sc.LineOutage(line, day, 0),)), one, "must be between 1 and 91, not 0")
    _error(
        sc.Levers(line_outages=(sc.LineOutage(other_line, day, 3),)),
        one,
        f"Line {other_line} is not a line of the chosen plants",
    )
    _error(
        sc.Levers(maintenance_windows=(sc.MaintenanceWindow(other_line, day, 4.0),)),
        one,
        f"Line {other_line} is not a line of the chosen plants",
    )
    _error(
        sc.Levers(line_outages=(sc.LineOutage(line, last + timedelta(days=1), 3),)),
        one,
        f"{line}: {last + timedelta(days=1)} is outside the horizon {day} to {last}",
    )
    _error(
        sc.Levers(maintenance_windows=(sc.MaintenanceWindow(line, day - timedelta(days=1), 4.0),)),
        one,
        "is outside the horizon",
    )
    _error(
        sc.Levers(maintenance_windows=(sc.MaintenanceWindow(line, day, 80.0),)),
        one,
        r"maintenance window of .* must be between 0.5 and 72",
    )
    _error(
        sc.Levers(supplier_delay_days={"SUP-NOWHERE": 5.0}),
        one,
        "Supplier SUP-NOWHERE delivers to none of the chosen plants",
    )
    supplier = next(s for s in bases[plant_a].suppliers if s)
    _error(sc.Levers(supplier_delay_days={supplier: -1.0}), one, rf"delay of {supplier} \(days\) must be between 0")
    _error(sc.Levers(demand_change_pct=250.0), one, "demand change pct must be between -90 and 200, not 250")
    _error(sc.Levers(demand_change_pct=-95.0), one, "demand change pct must be between -90 and 200")
    _error(sc.Levers(capacity_change_pct=101.0), one, "capacity change pct must be between -90 and 100")
    _error(sc.Levers(overtime_hours_per_day=-1.0), one, "overtime hours per day must be between 0 and 12")
    _error(sc.Levers(safety_stock_multiplier=6.0), one, "safety stock multiplier must be between 0 and 5")
    _error(sc.Levers(demand_change_pct=float("nan")), one, "demand change pct must be between")
    # the edges are accepted
    sc.validate(
        sc.Levers(
            demand_change_pct=200.0,
            capacity_change_pct=-90.0,
            overtime_hours_per_day=12.0,
            safety_stock_multiplier=0.0,
            supplier_delay_days={supplier: 90.0},
            line_outages=(sc.LineOutage(line, last, 91),),
        ),
        one,
    )


def test_paths_out_of_range_and_no_plant_are_refused(bases):
    for paths in (0, 9, 20001):
        with pytest.raises(sc.ScenarioError, match=f"Paths must be between 10 and 20000, not {paths}"):
            sc.run(bases, sc.Levers(), paths=paths)
    with pytest.raises(sc.ScenarioError, match="Choose at least one plant"):
        sc.run({}, sc.Levers())


def test_malformed_levers_from_a_form_are_refused():
    with pytest.raises(sc.ScenarioError, match="malformed"):
        sc.Levers.from_dict({"line_outages": [{"line_id": "L1", "start": "not a day", "days": 3}]})
    with pytest.raises(sc.ScenarioError, match="malformed"):
        sc.Levers.from_dict({"demand_change_pct": "a lot"})
    levers = sc.Levers(
        demand_change_pct=15.0,
        supplier_delay_days={"SUP-1": 5.0},
        line_outages=(sc.LineOutage("TINY-L1", START, 4),),
        maintenance_windows=(sc.MaintenanceWindow("TINY-L1", START, 6.0),),
    )
    assert sc.Levers.from_dict(levers.to_dict()) == levers


def test_inputs_for_a_plant_without_forecasts_or_outside_the_scope_are_refused(network):
    engine, forecast = network["engine"], network["forecast"]
    with pytest.raises(sc.ScenarioError, match=f"{UNFORECAST} has no demand forecast yet"):
        si.bases(engine, PlantScope.everything(), [forecast[0], UNFORECAST], labour_rates=policies.labour_rates(engine))
    with pytest.raises(sc.ScenarioError, match=f"Plant {forecast[1]} is outside your plant scope"):
        si.bases(
            engine,
            PlantScope.only([forecast[0]]),
            [forecast[0], forecast[1]],
            labour_rates=policies.labour_rates(engine),
        )
    with pytest.raises(sc.ScenarioError, match="Choose at least one plant"):
        si.bases(engine, PlantScope.everything(), [], labour_rates=policies.labour_rates(engine))
    # within the scope it works
    only, _ = si.bases(
        engine, PlantScope.only([forecast[0]]), [forecast[0]], labour_rates=policies.labour_rates(engine)
    )
    assert list(only) == [forecast[0]]


# --- inputs from the warehouse -----------------------------------------------------------------


def _same_basis(a: sc.PlantBasis, b: sc.PlantBasis, rel=0.0) -> None:
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, np.ndarray):
            assert value.shape == other.shape and np.allclose(value, other, rtol=rel, atol=0), (a.plant_id, name)
        elif name in ("lateness", "run_ratios"):  # a record per material or line
            assert len(value) == len(other), a.plant_id
            assert all(np.allclose(x, y, rtol=rel, atol=0) for x, y in zip(value, other)), (a.plant_id, name)
        elif isinstance(value, float):
            assert value == pytest.approx(other, rel=rel), (a.plant_id, name)
        else:
            assert value == other, (a.plant_id, name)


def test_inputs_have_the_right_shapes(network, bases):
    engine = network["engine"]
    assets = q.asset_register(engine, PlantScope.everything())
    assert sorted(bases) == network["forecast"]
    for plant_id, basis in bases.items():
        h, n_lines, n_mats = basis.horizon, len(basis.lines), len(basis.materials)
        assert basis.plant_id == plant_id and basis.start == START and h == sc.HORIZON_DAYS
        assert basis.days[0] == START and basis.days[-1] == START + timedelta(days=h - 1)
        assert basis.demand.shape == basis.demand_sd.shape == (h,)
        assert np.all(basis.demand >= 0) and np.all(basis.demand_sd >= 0) and basis.demand.sum() > 0
        assert n_lines >= 3 and set(basis.lines) <= set(assets.loc[assets["plant_id"] == plant_id, "line_id"])
        assert basis.line_hours.shape == (n_lines, h) and np.all((basis.line_hours >= 0) & (basis.line_hours <= 24))
        for name in ("line_availability", "line_rate", "failure_rate", "elevated_rate", "repair_hours"):
            assert getattr(basis, name).shape == (n_lines,), name
        assert np.all((basis.line_availability > 0) & (basis.line_availability <= 1))
        assert np.all(basis.line_rate > 0) and np.all(basis.failure_rate >= 0) and np.all(basis.repair_hours > 0)
        assert n_mats > 0 and len(basis.suppliers) == len(basis.lateness) == n_mats
        for name in (
            "usage_per_unit",
            "mat_on_hand",
            "mat_reorder_point",
            "mat_order_qty",
            "mat_lead_days",
            "mat_unit_cost",
        ):
            assert getattr(basis, name).shape == (n_mats,), name
            assert np.all(getattr(basis, name) >= 0), name
        assert basis.arrivals.shape == (n_mats, h) and np.all(basis.arrivals >= 0)
        assert all(len(record) > 0 for record in basis.lateness)
        assert basis.fg_on_hand > 0 and basis.fg_unit_value > 0 and basis.labour_rate > 0
    shorter, _ = si.bases(
        engine, PlantScope.everything(), network["forecast"][:1], horizon=30, labour_rates=policies.labour_rates(engine)
    )
    basis = shorter[network["forecast"][0]]
    assert basis.demand.shape == (30,) and basis.line_hours.shape == (len(basis.lines), 30)
    assert basis.arrivals.shape == (len(basis.materials), 30)


def test_demand_is_the_stored_forecast_on_its_days_and_the_version_names_the_run(network, bases):
    engine, run_id = network["engine"], network["run_id"]
    assert network["version"] == f"data to {END}; forecast {run_id}"
    for plant_id, basis in bases.items():
        stored = q.forecast_points(engine, PlantScope.everything(), run_id, plant_id, "demand")
        n = len(stored)
        assert 0 < n < basis.horizon and stored["day"].tolist() == basis.days[:n]
        assert np.allclose(basis.demand[:n], stored["yhat"].clip(lower=0))
        band = (stored["yhat_upper"] - stored["yhat_lower"]).to_numpy() / (2 * sc.DEMAND_Z)
        assert np.allclose(basis.demand_sd[:n], np.where(np.isnan(band), stored["yhat"] * 0.1, band))
        # past the stored days: the same weekday of its last four weeks, band and all (day-to-day
        # noise does not grow with the distance; the backtest found the widened band too wide)
        weekday = {d.weekday(): i for i, d in enumerate(basis.days[:n])}  # the last of each weekday wins
        same = [weekday[d.weekday()] for d in basis.days[n:]]
        assert np.allclose(basis.demand[n:], basis.demand[same])
        assert np.allclose(basis.demand_sd[n:], basis.demand_sd[same])


def test_a_plants_inputs_do_not_depend_on_the_other_plants_chosen(network, bases):
    # a plant leader's single-plant scenario and the executive's network scenario show the same
    # plant the same way (suppliers serving several plants included)
    engine = network["engine"]
    for plant_id in network["forecast"]:
        alone, _ = si.bases(engine, PlantScope.only([plant_id]), [plant_id], labour_rates=policies.labour_rates(engine))
        _same_basis(alone[plant_id], bases[plant_id])
    one = network["forecast"][0]
    assert (
        sc.run({one: bases[one]}, sc.Levers(), paths=50).plants[one]["summary"]
        == sc.run(bases, sc.Levers(), paths=50).plants[one]["summary"]
    )


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_inputs_on_postgresql_equal_those_on_sqlite(empty_engine, tmp_path):
    lite = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    got = {}
    for name, engine in (("postgresql", empty_engine), ("sqlite", lite)):
        sample_data.generate(engine, plants=2, days=120, seed=7, end_day=END)
        report = pipeline.refresh_forecasts(engine, FAST, workers=1)
        plants = sorted(q.plant_ids(engine, PlantScope.everything()))
        got[name] = si.bases(engine, PlantScope.everything(), plants, labour_rates=policies.labour_rates(engine))
        assert got[name][1] == f"data to {END}; forecast {report.run_id}"
    lite.dispose()
    (pg, pg_version), (sq, sq_version) = got["postgresql"], got["sqlite"]
    assert pg_version == sq_version and list(pg) == list(sq)
    for plant_id in pg:
        _same_basis(pg[plant_id], sq[plant_id], rel=1e-9)
    levers = sc.Levers(demand_change_pct=10.0)
    on_pg, on_sqlite = sc.run(pg, levers, paths=50), sc.run(sq, levers, paths=50)
    for metric, bands in on_pg.network["summary"].items():
        assert bands == pytest.approx(on_sqlite.network["summary"][metric], rel=1e-9), metric
