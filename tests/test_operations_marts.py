"""The operations marts against hand-computed rows (tests/ops_fixture.py), on SQLite and
PostgreSQL, and against mart_plant_daily on a generated network."""

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from data_access import marts
from data_access.engine import make_engine
from data_access.frames import read_frame
from data_access.schema import (
    OPERATIONS_MARTS,
    mart_delivery_daily,
    mart_downtime_daily,
    mart_line_daily,
    mart_plant_daily,
    mart_work_order_daily,
    plant,
)
from tests import ops_fixture

DAYS = ops_fixture.DAYS


@pytest.fixture(scope="module", params=ops_fixture.BACKENDS)
def ops_db(request, tmp_path_factory):
    """tests/ops_fixture.py, built once per backend for this module's read-only tests."""
    yield from ops_fixture.warehouse(request.param, tmp_path_factory)


@pytest.fixture
def ops(empty_engine):
    """A fixture of its own, for the tests that refresh or change the marts."""
    ops_fixture.build(empty_engine)
    return empty_engine


def _frame(engine, table, *order):
    with engine.connect() as conn:
        return read_frame(conn, select(table).order_by(*[table.c[c] for c in order]))


def test_line_mart_keeps_the_dst_day_once_with_its_23_hours(ops_db):
    line = _frame(ops_db, mart_line_daily, "line_id", "day")
    a2 = line[line["line_id"] == "A-L2"].set_index("day")
    assert list(a2.index) == DAYS  # four plant-local days: none lost, none doubled
    assert a2.loc[ops_fixture.DST_DAY, "planned_busy_s"] == 82800.0
    assert a2["planned_busy_s"].sum() == 3 * 86400 + 82800
    assert a2.loc[ops_fixture.DST_DAY, "unplanned_downtime_s"] == 3600.0  # one real hour, not two
    assert a2["failures"].tolist() == [0, 1, 0, 0]
    assert a2.loc[DAYS[2], "week_start"] == date(2026, 3, 30) and a2.loc[DAYS[1], "week_start"] == date(2026, 3, 23)
    assert set(a2["month_start"]) == {date(2026, 3, 1)}
    a1 = line[line["line_id"] == "A-L1"].set_index("day")
    assert a1["orders_due"].tolist() == [0, 1, 1, 1] and a1["orders_on_time"].tolist() == [0, 1, 0, 0]
    assert a1["actual_qty"].sum() == 190 and a1["scheduled_qty"].sum() == 300
    assert a1["planned_downtime_s"].tolist() == [3600, 0, 0, 0]
    assert set(line["plant_id"]) == {"A", "B"}  # plant C has no data at all


def test_line_mart_sums_to_the_plant_mart(ops_db):
    line = _frame(ops_db, mart_line_daily, "line_id", "day")
    plant_mart = _frame(ops_db, mart_plant_daily, "plant_id", "day").set_index(["plant_id", "day"])
    summed = line.groupby(["plant_id", "day"])[
        ["planned_busy_s", "run_s", "unplanned_downtime_s", "failures", "orders_due", "orders_on_time", "actual_qty"]
    ].sum()
    pd.testing.assert_frame_equal(summed.astype(float), plant_mart[summed.columns].astype(float))


def test_downtime_mart_keeps_reason_local_reason_and_asset(ops_db):
    down = _frame(ops_db, mart_downtime_daily, "asset_id", "day")
    rows = {
        (r.asset_id, r.day, r.reason_code, r.local_reason): (r.events, r.duration_s, bool(r.is_failure))
        for r in down.itertuples()
    }
    assert rows == {
        ("A-L1-CAP", DAYS[0], "PM", "Wartung"): (1, 3600.0, False),
        ("A-L1-CAP", DAYS[1], "MECH_FAIL", "Motorschaden"): (1, 7200.0, True),
        ("A-L1-CAP", DAYS[2], "MECH_FAIL", "Kette gerissen"): (1, 3600.0, True),
        ("A-L1-CNV", DAYS[3], "CO_PRODUCT", "Sortenwechsel"): (1, 1800.0, False),
        ("A-L2-FIL", DAYS[1], "MECH_FAIL", "Motorschaden"): (1, 3600.0, True),
    }


def test_work_orders_land_on_plant_local_days_across_the_dst_switch(ops_db):
    wo = _frame(ops_db, mart_work_order_daily, "asset_id", "day", "wo_type")
    rows = {(r.asset_id, r.day, r.wo_type): (r.created, r.completed, r.close_s) for r in wo.itertuples()}
    assert rows == {
        ("A-L1-CAP", date(2026, 3, 27), "preventive"): (1, 0, 0.0),  # 22:30 UTC = 23:30 CET
        ("A-L1-CAP", DAYS[0], "preventive"): (0, 1, 8.5 * 3600),
        # 23:30 UTC on the 28th is 00:30 CET on the 29th; 06:30 UTC is 08:30 CEST
        ("A-L1-CAP", DAYS[1], "preventive"): (1, 0, 0.0),
        ("A-L1-CAP", DAYS[1], "corrective"): (1, 1, 2.5 * 3600),
        # 22:30 UTC on the 29th is 00:30 CEST on the 30th (at a fixed +1 h it would be the 29th)
        ("A-L1-CAP", DAYS[2], "inspection"): (1, 1, 2.5 * 3600),
        ("A-L1-CAP", DAYS[2], "corrective"): (1, 0, 0.0),
        ("A-L1-CAP", DAYS[3], "preventive"): (0, 1, 58.5 * 3600),
        ("B-L1-FIL", DAYS[2], "preventive"): (1, 0, 0.0),  # 14:00 UTC = 10:00 EDT
    }


def test_delivery_mart_counts_lateness_in_days(ops_db):
    v = _frame(ops_db, mart_delivery_daily, "plant_id", "day")
    rows = {
        (r.plant_id, r.supplier_id, r.material_id, r.day, r.lateness_days): (r.received, r.on_time)
        for r in v.itertuples()
    }
    assert rows == {
        ("A", "S1", "RAW", DAYS[1], 1): (1, 1),  # a day late: within the 1-day tolerance
        ("A", "S1", "RAW", DAYS[2], 2): (1, 0),
        ("B", "S1", "RAW", DAYS[1], -1): (1, 1),  # a day early
    }


def _counts(engine):
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in OPERATIONS_MARTS}


def test_refreshing_one_plant_rebuilds_only_its_rows_and_is_idempotent(ops):
    before = _counts(ops)
    marts.refresh(ops, plant_ids=["B"])
    assert _counts(ops) == before
    with ops.begin() as conn:
        conn.execute(delete(mart_line_daily).where(mart_line_daily.c.plant_id == "A"))
    marts.refresh(ops, plant_ids=["B"])
    assert _counts(ops)["mart_line_daily"] == before["mart_line_daily"] - 8  # A's rows stay gone
    marts.refresh(ops)
    assert _counts(ops) == before


def test_a_full_refresh_drops_rows_of_plants_that_are_gone(ops):
    with ops.begin() as conn:
        conn.execute(
            mart_line_daily.insert(),
            [
                dict(
                    line_id="X-L1",
                    day=DAYS[0],
                    plant_id="X",
                    week_start=date(2026, 3, 23),
                    month_start=date(2026, 3, 1),
                    planned_busy_s=1,
                    run_s=1,
                    ideal_produced_s=0,
                    ideal_good_s=0,
                    produced_qty=0,
                    good_qty=0,
                    unplanned_downtime_s=0,
                    planned_downtime_s=0,
                    failures=0,
                    restoration_s=0,
                    orders_due=0,
                    orders_on_time=0,
                    scheduled_qty=0,
                    actual_qty=0,
                )
            ],
        )
    marts.refresh(ops)
    line = _frame(ops, mart_line_daily, "line_id", "day")
    assert "X" not in set(line["plant_id"])


def test_generated_network_marts_agree_with_the_plant_mart(small_network_url):
    engine = make_engine(small_network_url)
    with engine.connect() as conn:
        plants = conn.execute(select(func.count()).select_from(plant)).scalar_one()
        plant_sums = conn.execute(
            select(
                func.sum(mart_plant_daily.c.run_s),
                func.sum(mart_plant_daily.c.unplanned_downtime_s),
                func.sum(mart_plant_daily.c.planned_downtime_s),
                func.sum(mart_plant_daily.c.failures),
                func.sum(mart_plant_daily.c.orders_due),
                func.sum(mart_plant_daily.c.po_received),
                func.sum(mart_plant_daily.c.po_on_time),
            )
        ).one()
        line_sums = conn.execute(
            select(
                func.sum(mart_line_daily.c.run_s),
                func.sum(mart_line_daily.c.unplanned_downtime_s),
                func.sum(mart_line_daily.c.planned_downtime_s),
                func.sum(mart_line_daily.c.failures),
                func.sum(mart_line_daily.c.orders_due),
            )
        ).one()
        down = mart_downtime_daily.c
        failure_s, failures, planned_s = conn.execute(
            select(
                func.sum(down.duration_s).filter(down.is_failure),
                func.sum(down.events).filter(down.is_failure),
                func.sum(down.duration_s).filter(down.category == "planned"),
            )
        ).one()
        received, on_time = conn.execute(
            select(func.sum(mart_delivery_daily.c.received), func.sum(mart_delivery_daily.c.on_time))
        ).one()
    engine.dispose()
    assert plants == 4
    assert line_sums == pytest.approx(plant_sums[:5])
    assert (failure_s, failures, planned_s) == pytest.approx((plant_sums[1], plant_sums[3], plant_sums[2]))
    assert (received, on_time) == (plant_sums[5], plant_sums[6])
    assert plant_sums[3] > 0 and plant_sums[5] > 0  # the comparison is not between zeros


def test_plant_mart_carries_each_materials_count_forward(ops_db):
    # On the 31st only the label rolls are counted (40 x 1.0); resin's count of the 30th
    # (50 kg x 2.0) still stands: 140, not 40.
    plant_mart = _frame(ops_db, mart_plant_daily, "plant_id", "day").set_index(["plant_id", "day"])
    assert plant_mart.loc["A", "inventory_value"].tolist() == [200.0, 200.0, 100.0, 140.0]
    assert plant_mart.loc["B", "inventory_value"].tolist() == [0.0, 0.0, 0.0, 12.0]  # no count before the 31st
    assert plant_mart.loc["B", "covered_demand_value"].sum() == 0.0  # demand only before the first count
