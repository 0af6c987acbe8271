"""The simulator backtest (forecasting.scenario_backtest) on a network whose truth is known:

- plant P makes exactly what it sells (1000 a day, one 8 h line, no failure, no material to run
  out, 5000 finished goods counted every day, one order a day done on time): the backtest must
  report zero bias and the actual inside the band at every origin, for every metric;
- plant Q has lines but no demand, and an origin too early for 12 weeks of history: both are
  skipped with a reason while P is backtested;
- rows dated from an origin on (demand, output, counts, failures, purchase orders, a stored
  forecast of later data) change what happened, never what was simulated;
- the run is stored and read back as each plant's calibration, within the reader's scope;
- bad input on the command line: one line on stderr, exit 2, no traceback.
On SQLite and PostgreSQL.
"""

import re
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from data_access import kpis, marts
from data_access import scenario_backtests as stored
from data_access.schema import (
    asset,
    demand_daily,
    downtime_event,
    downtime_reason,
    forecast,
    forecast_run,
    forecast_series,
    inventory_snapshot,
    line,
    material,
    model_version,
    plant,
    plant_material,
    production_daily,
    production_order,
    purchase_order,
    region,
    supplier,
)
from data_access.scope import PlantScope
from forecasting import scenario as sc
from forecasting import scenario_backtest as bt

FIRST = date(2026, 1, 1)
DAYS = [FIRST + timedelta(days=i) for i in range(200)]
END = DAYS[-1]
HORIZON, STEP, PATHS = 28, 28, 50
ORIGINS = [END - timedelta(days=HORIZON - 1 + k * STEP) for k in (2, 1, 0)]  # oldest first


def _utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def build(engine) -> None:
    """P: 8 h a day at 125 good units an hour = 1000 made and 1000 sold every day; Q: a line, no demand."""
    with engine.begin() as conn:
        conn.execute(insert(region), [{"region_id": "EU", "name": "Europe"}])
        conn.execute(
            insert(plant),
            [
                dict(
                    plant_id=p,
                    name=f"Plant {p}",
                    region_id="EU",
                    country="DE",
                    timezone="UTC",
                    lat=50.0,
                    lon=10.0,
                    data_maturity="mes",
                    maintenance_workflow="sap_pm",
                    currency="EUR",
                )
                for p in ("P", "Q")
            ],
        )
        conn.execute(
            insert(line),
            [
                dict(line_id=f"{p}-L1", plant_id=p, name="Line 1", line_type="filling", local_code="L1")
                for p in ("P", "Q")
            ],
        )
        conn.execute(
            insert(asset),
            [
                dict(
                    asset_id=f"{p}-L1-A",
                    plant_id=p,
                    line_id=f"{p}-L1",
                    asset_class="filler",
                    criticality="A",
                    local_code="A",
                    local_name="Filler",
                    install_year=2020,
                )
                for p in ("P", "Q")
            ],
        )
        conn.execute(
            insert(downtime_reason),
            [dict(reason_code="MECH", category="failure", is_failure=True, description="Mechanical failure")],
        )
        conn.execute(
            insert(material),
            [
                dict(material_id="FG", name="Bottle", material_type="finished", unit="ea", unit_cost=2.0),
                dict(material_id="RAW", name="Resin", material_type="raw", unit="kg", unit_cost=1.0),
            ],
        )
        conn.execute(insert(supplier), [dict(supplier_id="S1", name="Resin Co", country="DE")])
        conn.execute(
            insert(plant_material),
            [
                dict(
                    plant_id="P",
                    material_id="FG",
                    local_code="FG",
                    supplier_id=None,
                    lead_time_days=None,
                    safety_stock=2000.0,
                    reorder_point=4000.0,
                )
            ],
        )
        conn.execute(
            insert(production_daily),
            [
                dict(
                    line_id=f"{p}-L1",
                    plant_id=p,
                    day=d,
                    planned_busy_s=8 * 3600.0,
                    run_s=8 * 3600.0,
                    ideal_cycle_s=20.0,
                    produced_qty=1000.0,
                    good_qty=1000.0,
                )
                for p in ("P", "Q")
                for d in DAYS
            ],
        )
        conn.execute(insert(demand_daily), [dict(plant_id="P", material_id="FG", day=d, qty=1000.0) for d in DAYS])
        conn.execute(
            insert(inventory_snapshot), [dict(plant_id="P", material_id="FG", day=d, on_hand=5000.0) for d in DAYS]
        )
        conn.execute(
            insert(production_order),
            [
                dict(
                    order_id=f"P-MO-{i}",
                    plant_id="P",
                    line_id="P-L1",
                    product_id="FG",
                    qty=1000.0,
                    due_utc=_utc(d, 18),
                    due_day=d,
                    planned_start_utc=_utc(d, 8),
                    planned_end_utc=_utc(d, 16),
                    actual_end_utc=_utc(d, 16),
                    produced_qty=1000.0,
                    status="completed",
                )
                for i, d in enumerate(DAYS)
            ],
        )
    marts.refresh(engine)


def backtest(engine, **kw):
    return bt.run(
        engine, PlantScope.everything(), origins=kw.pop("origins", 3), horizon=HORIZON, step=STEP, paths=PATHS, **kw
    )


def test_a_plant_whose_truth_is_known_has_zero_bias_and_full_coverage(empty_engine):
    build(empty_engine)
    result = backtest(empty_engine)
    assert result.origins == ORIGINS
    p = result.results[result.results["plant_id"] == "P"]
    assert sorted(set(p["origin"])) == ORIGINS and set(p["metric"]) == set(bt.METRICS)
    assert p["actual"].notna().all() and p["inside"].all()
    assert p["bias"].abs().max() == pytest.approx(0.0, abs=1e-6)
    truth = p.groupby("metric")["actual"].first()
    assert truth["fill_rate"] == 1.0 and truth["stockout_days"] == 0.0 and truth["overtime_hours"] == 0.0
    assert truth["schedule_adherence"] == 1.0 and truth["schedule_adherence_orders"] == 1.0
    assert truth["inventory_value"] == pytest.approx(5000 * 2.0)  # the pool at the finished good's unit cost
    assert p["demand_source"].str.startswith("stand-in").all()  # no stored forecast in this warehouse
    summary = result.summary().set_index("metric")
    assert (summary["backtests"] == 3).all() and (summary["coverage"] == 1.0).all()


def test_plants_without_demand_and_origins_without_history_are_skipped_with_a_reason(empty_engine):
    build(empty_engine)
    result = backtest(empty_engine, origins=6)  # the oldest origins have less than 12 weeks of history
    reasons = {(s["plant_id"], s["origin"]): s["reason"] for s in result.skipped}
    early = ORIGINS[0] - timedelta(days=3 * STEP)
    assert "weeks of line history" in reasons[("P", early.isoformat())]
    assert all("no demand" in reasons[("Q", o.isoformat())] for o in ORIGINS)
    assert set(result.results["plant_id"]) == {"P"}
    assert len(result.results) == 4 * len(bt.METRICS)  # the 3 origins with history and one more
    text = bt.report(result)
    assert f"skipped Q at {ORIGINS[0]}: no demand in the 8 weeks before the origin" in text
    assert "Coverage per metric" in text


SIMULATED = ["plant_id", "origin", "metric", "sim_mean", "sim_p10", "sim_p90", "demand_source"]


def test_the_backtest_never_reads_data_from_its_origin_on(empty_engine):
    build(empty_engine)
    origin = ORIGINS[-1]
    before = backtest(empty_engine, origins=1).results
    later = [d for d in DAYS if d >= origin]
    with empty_engine.begin() as conn:  # what the origin could not know: all of it changes what happened
        conn.execute(demand_daily.update().where(demand_daily.c.day >= origin).values(qty=3000.0))
        conn.execute(inventory_snapshot.update().where(inventory_snapshot.c.day >= origin).values(on_hand=0.0))
        conn.execute(
            production_daily.update()
            .where(production_daily.c.day >= origin)
            .values(run_s=2 * 3600.0, good_qty=250.0, planned_busy_s=12 * 3600.0)
        )
        conn.execute(
            insert(downtime_event),
            [
                dict(
                    plant_id="P",
                    line_id="P-L1",
                    asset_id="P-L1-A",
                    start_utc=_utc(d, 9),
                    end_utc=_utc(d, 15),
                    day=d,
                    duration_s=6 * 3600.0,
                    reason_code="MECH",
                    category="failure",
                    is_failure=True,
                    local_reason="broken",
                )
                for d in later
            ],
        )
        conn.execute(
            insert(plant_material),
            [
                dict(
                    plant_id="P",
                    material_id="RAW",
                    local_code="RAW",
                    supplier_id="S1",
                    lead_time_days=5.0,
                    safety_stock=0.0,
                    reorder_point=10.0,
                )
            ],
        )
        conn.execute(
            insert(purchase_order),
            [
                dict(
                    po_id="PO-1",
                    plant_id="P",
                    material_id="RAW",
                    supplier_id="S1",
                    qty=50.0,
                    ordered_day=origin,
                    promised_day=origin + timedelta(3),
                    received_day=None,
                    status="open",
                )
            ],
        )
        conn.execute(
            insert(model_version),
            [
                dict(
                    model_id=1,
                    model_name="forecaster",
                    version="1",
                    params={},
                    status="approved",
                    trained_utc=_utc(END, 0),
                )
            ],
        )
        conn.execute(
            insert(forecast_run),
            [
                dict(
                    run_id="R-LATE",
                    model_id=1,
                    data_end_day=origin,
                    horizon_days=28,
                    job="test",
                    actor="test",
                    status="done",
                    started_utc=_utc(END, 1),
                )
            ],
        )
        conn.execute(
            insert(forecast_series),
            [
                dict(
                    run_id="R-LATE",
                    plant_id="P",
                    metric="demand",
                    unit="units",
                    served_model="seasonal_naive",
                    chosen_model="seasonal_naive",
                    history_start=FIRST,
                    history_end=origin,
                    observed=100,
                    missing=0,
                    origins=1,
                    seconds=0.1,
                    fitted_utc=_utc(END, 2),
                    approved=True,
                )
            ],
        )
        conn.execute(
            insert(forecast),
            [
                dict(
                    plant_id="P",
                    metric="demand",
                    run_id="R-LATE",
                    day=d,
                    model="seasonal_naive",
                    yhat=9999.0,
                    yhat_lower=0.0,
                    yhat_upper=20000.0,
                )
                for d in later
            ],
        )
    marts.refresh(empty_engine)
    after = backtest(empty_engine, origins=1).results
    pd.testing.assert_frame_equal(before[SIMULATED].reset_index(drop=True), after[SIMULATED].reset_index(drop=True))
    changed = before.set_index(["plant_id", "metric"])["actual"] != after.set_index(["plant_id", "metric"])["actual"]
    assert changed.loc["P"][["fill_rate", "stockout_days", "schedule_adherence", "overtime_hours"]].all()


def test_materials_on_hand_are_rebuilt_between_counts_from_receipts_and_consumption():
    # 100 on hand before the window, 10 used a day, 30 received on day 1, a count of 50 on day 2:
    # 90, 110, 50 (the count), 40, worth 2 each; a count carried forward would read 100 until day 2
    days = [FIRST + timedelta(days=i) for i in range(4)]
    zero = np.zeros(0)
    basis = sc.PlantBasis(
        plant_id="P",
        start=FIRST,
        demand=np.zeros(4),
        demand_sd=np.zeros(4),
        lines=(),
        line_hours=np.zeros((0, 4)),
        line_availability=zero,
        line_rate=zero,
        failure_rate=zero,
        elevated_rate=zero,
        repair_hours=zero,
        fg_on_hand=0.0,
        fg_safety_stock=0.0,
        fg_unit_value=0.0,
        materials=("RAW",),
        suppliers=("S1",),
        usage_per_unit=np.ones(1),
        mat_on_hand=np.array([100.0]),
        mat_reorder_point=np.zeros(1),
        mat_order_qty=np.ones(1),
        mat_lead_days=np.ones(1),
        mat_unit_cost=np.array([2.0]),
        lateness=(np.zeros(1),),
        arrivals=np.zeros((1, 4)),
    )
    window = {
        "stock": pd.DataFrame({"material_id": ["RAW"], "day": [days[2]], "on_hand": [50.0]}),
        "consumption": pd.DataFrame({"material_id": "RAW", "day": days, "qty": 10.0}),
        "received": pd.DataFrame({"material_id": ["RAW"], "received_day": [days[1]], "qty": [30.0]}),
    }
    values = bt._material_values(basis, window, {d: i for i, d in enumerate(days)}, 4)
    assert values.tolist() == pytest.approx([180, 220, 100, 80])


def test_a_stored_forecast_of_data_before_the_origin_is_used_and_named(empty_engine):
    build(empty_engine)
    origin = ORIGINS[-1]
    with empty_engine.begin() as conn:
        conn.execute(
            insert(model_version),
            [
                dict(
                    model_id=1,
                    model_name="forecaster",
                    version="1",
                    params={},
                    status="approved",
                    trained_utc=_utc(END, 0),
                )
            ],
        )
        conn.execute(
            insert(forecast_run),
            [
                dict(
                    run_id="R-THEN",
                    model_id=1,
                    data_end_day=origin - timedelta(1),
                    horizon_days=28,
                    job="test",
                    actor="test",
                    status="done",
                    started_utc=_utc(END, 1),
                )
            ],
        )
        conn.execute(
            insert(forecast_series),
            [
                dict(
                    run_id="R-THEN",
                    plant_id="P",
                    metric="demand",
                    unit="units",
                    served_model="seasonal_naive",
                    chosen_model="seasonal_naive",
                    history_start=FIRST,
                    history_end=origin - timedelta(1),
                    observed=100,
                    missing=0,
                    origins=1,
                    seconds=0.1,
                    fitted_utc=_utc(END, 2),
                    approved=True,
                )
            ],
        )
        conn.execute(
            insert(forecast),
            [
                dict(
                    plant_id="P",
                    metric="demand",
                    run_id="R-THEN",
                    day=origin + timedelta(i),
                    model="seasonal_naive",
                    yhat=1000.0,
                    yhat_lower=1000.0,
                    yhat_upper=1000.0,
                )
                for i in range(28)
            ],
        )
    result = backtest(empty_engine, origins=1).results
    p = result[result["plant_id"] == "P"]
    assert (p["demand_source"] == f"forecast R-THEN (data to {origin - timedelta(1)})").all()
    assert p["inside"].all() and p["bias"].abs().max() == pytest.approx(0.0, abs=1e-6)


def test_a_stored_run_is_each_plants_calibration_within_the_scope(empty_engine):
    build(empty_engine)
    result = backtest(empty_engine)
    run_id = bt.store_run(empty_engine, result, now=datetime(2026, 7, 20, 6, tzinfo=timezone.utc))
    frame = stored.calibration(empty_engine, PlantScope.only(["P"])).set_index("metric")
    assert set(frame.index) == set(bt.METRICS) and (frame["run_id"] == run_id).all()
    assert (frame["backtests"] == 3).all() and (frame["inside"] == 3).all()
    assert frame["bias"].abs().max() == pytest.approx(0.0, abs=1e-6)
    assert frame.loc["inventory_value", "actual"] == pytest.approx(10000.0)
    assert stored.calibration(empty_engine, PlantScope.only(["Q"])).empty  # Q was skipped, P is out of scope
    back = stored.results(empty_engine, PlantScope.everything(), run_id)
    assert len(back) == len(result.results) and set(back["origin"]) == set(ORIGINS)
    newer = bt.store_run(
        empty_engine, backtest(empty_engine, origins=1), now=datetime(2026, 7, 21, 6, tzinfo=timezone.utc)
    )
    frame = stored.calibration(empty_engine, PlantScope.everything())
    assert (frame["run_id"] == newer).all() and (frame["backtests"] == 1).all()  # the newest run only


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_bad_input_on_the_command_line_is_one_line_and_exit_2(empty_engine, backend_url, capsys, tmp_path):
    build(empty_engine)
    cases = [
        (["--url", f"sqlite:///{tmp_path / 'missing.db'}"], "no SQLite warehouse"),
        (["--url", backend_url, "--origins", "0"], "origins must be a whole number from 1 to 52"),
        (["--url", backend_url, "--horizon-days", "200"], "horizon days must be a whole number from 7 to 91"),
        (["--url", backend_url, "--plants", "P,NOPE"], "no plant NOPE in the warehouse"),
    ]
    for argv, message in cases:
        assert bt.main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and message in err[-1] and "Traceback" not in "\n".join(err)
    with pytest.raises(SystemExit) as exit_:
        bt.main(["--url", backend_url, "--origins", "many"])
    assert exit_.value.code == 2 and "invalid int value" in capsys.readouterr().err


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_the_command_prints_and_stores_a_run(empty_engine, backend_url, capsys):
    build(empty_engine)
    assert (
        bt.main(
            [
                "--url",
                backend_url,
                "--plants",
                "P",
                "--origins",
                "2",
                "--horizon-days",
                "28",
                "--step-days",
                "28",
                "--paths",
                "20",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    money = f"10,000 {kpis.REFERENCE_CURRENCY}"
    assert re.search(rf"^P +inventory_value +2 of 2 +{re.escape(money)}", out, re.M)
    assert money in out and "stored as backtest run bt-" in out
    assert len(stored.calibration(empty_engine, PlantScope.everything())) == len(bt.METRICS)
