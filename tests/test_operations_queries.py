"""Every operations query against hand-computed values (tests/ops_fixture.py), its drill-down
arguments, and its plant scope, on SQLite and PostgreSQL."""

import math
from datetime import date

import pandas as pd
import pytest

from data_access import kpis, queries
from data_access import operations as ops
from data_access.schema import mart_line_daily
from data_access.scope import PlantScope
from tests import ops_fixture

START, END = ops_fixture.START, ops_fixture.END
ALL = PlantScope.everything()
ONLY_B = PlantScope.only({"B"})
NOBODY = PlantScope.only(set())
AFTER = date(2026, 4, 7)  # the last day of a 7-day look-ahead from the data's last day


@pytest.fixture(scope="module", params=ops_fixture.BACKENDS)
def ops_db(request, tmp_path_factory):
    """tests/ops_fixture.py, built once per backend for this module's read-only tests."""
    yield from ops_fixture.warehouse(request.param, tmp_path_factory)


def test_line_components_per_plant_line_and_week(ops_db):
    plants = kpis.with_line_kpis(ops.line_components(ops_db, ALL, START, END, ("plant_id",))).set_index("plant_id")
    a, b = plants.loc["A"], plants.loc["B"]
    assert a["run_s"] == 4 * 21600 + 334800 and a["failures"] == 3
    assert a["mtbf_h"] == pytest.approx(117.0 / 3)  # (24 h + 93 h) run / 3 failures
    assert a["mttr_h"] == pytest.approx(4.0 / 3)  # 2 h + 1 h + 1 h / 3
    assert a["schedule_adherence"] == pytest.approx(1 / 3)
    assert a["schedule_attainment"] == pytest.approx(190 / 300)
    assert math.isnan(b["mtbf_h"]) and math.isnan(b["mttr_h"])  # no failure: no MTBF, never inf
    lines = ops.line_components(ops_db, ALL, START, END, ("line_id",)).set_index("line_id")
    assert lines.loc["A-L2", "planned_busy_s"] == 3 * 86400 + 82800 and lines.loc["A-L2", "line_days"] == 4
    one = ops.line_components(ops_db, ALL, START, END, (), line_id="A-L2")
    assert len(one) == 1 and one["unplanned_downtime_s"].iloc[0] == 3600
    weekly = ops.line_components(ops_db, ALL, START, END, ("week_start",), line_id="A-L1").set_index("week_start")
    assert weekly["failures"].to_dict() == {date(2026, 3, 23): 1, date(2026, 3, 30): 1}
    # a window with zero failures: the 28th
    first = kpis.with_line_kpis(ops.line_components(ops_db, ALL, START, START, ()))
    assert first["failures"].iloc[0] == 0 and math.isnan(first["mtbf_h"].iloc[0])
    assert ops.line_components(ops_db, ALL, date(2025, 1, 1), date(2025, 1, 31), ()).empty
    with pytest.raises(ValueError, match="cannot group by"):
        ops.line_components(ops_db, ALL, START, END, ("plant_id; drop table plant",))


def test_downtime_breakdown_by_reason_asset_class_and_local_reason(ops_db):
    reasons = ops.downtime_breakdown(ops_db, ALL, START, END, ("reason_code",)).set_index("reason_code")
    assert reasons["downtime_s"].to_dict() == {"CO_PRODUCT": 1800.0, "MECH_FAIL": 14400.0, "PM": 3600.0}
    assert reasons["failures"].to_dict() == {"CO_PRODUCT": 0, "MECH_FAIL": 3, "PM": 0}
    assert reasons.loc["PM", "planned_s"] == 3600 and reasons.loc["MECH_FAIL", "unplanned_s"] == 14400
    local = ops.downtime_breakdown(ops_db, ALL, START, END, ("reason_code", "local_reason"))
    mech = local[local["reason_code"] == "MECH_FAIL"].set_index("local_reason")
    assert mech["events"].to_dict() == {"Kette gerissen": 1, "Motorschaden": 2}
    classes = ops.downtime_breakdown(ops_db, ALL, START, END, ("asset_class",)).set_index("asset_class")
    assert classes["failures"].to_dict() == {"capper": 2, "conveyor": 0, "filler": 1}
    asset = ops.downtime_breakdown(ops_db, ALL, START, END, (), asset_id="A-L1-CNV")
    assert asset["events"].iloc[0] == 1 and asset["failures"].iloc[0] == 0
    line = ops.downtime_breakdown(ops_db, ALL, START, END, ("asset_id",), line_id="A-L1")
    assert set(line["asset_id"]) == {"A-L1-CAP", "A-L1-CNV"}
    dst = ops.downtime_breakdown(ops_db, ALL, ops_fixture.DST_DAY, ops_fixture.DST_DAY, ("line_id",))
    assert dst.set_index("line_id")["unplanned_s"].to_dict() == {"A-L1": 7200.0, "A-L2": 3600.0}


def test_asset_operating_is_the_lines_run_time(ops_db):
    per_asset = ops.asset_operating(ops_db, ALL, START, END, ("asset_id",)).set_index("asset_id")
    assert per_asset["operating_s"].to_dict() == {
        "A-L1-CAP": 86400.0,
        "A-L1-CNV": 86400.0,
        "A-L2-FIL": 334800.0,
        "B-L1-FIL": 144000.0,
    }
    classes = ops.asset_operating(ops_db, ALL, START, END, ("asset_class",)).set_index("asset_class")
    assert classes.loc["filler", "operating_s"] == 334800 + 144000 and classes.loc["filler", "assets"] == 2
    # filler MTBF: 133 h / 1 failure; capper: 24 h / 2
    assert kpis.mtbf_hours(classes.loc["filler", "operating_s"], 1) == pytest.approx(133.0)
    one = ops.asset_operating(ops_db, ALL, START, END, (), asset_id="A-L1-CAP")
    assert one["operating_s"].iloc[0] == 86400


def test_work_order_flow_and_backlog(ops_db):
    flow = ops.work_order_flow(ops_db, ALL, START, END).set_index(["plant_id", "wo_type"])
    assert flow["created"].to_dict() == {
        ("A", "corrective"): 2,
        ("A", "inspection"): 1,
        ("A", "preventive"): 1,
        ("B", "preventive"): 1,
    }
    a = flow.loc["A"]
    assert a["completed"].sum() == 4 and a["close_s"].sum() == 72 * 3600  # 2.5 + 2.5 + 8.5 + 58.5 h
    assert kpis.preventive_share(1.0, 2.0) == pytest.approx(1 / 3)
    assert kpis.mean_time_to_close_hours(a["close_s"].sum(), a["completed"].sum()) == pytest.approx(18.0)
    end = ops.work_order_backlog(ops_db, ALL, END).set_index(["plant_id", "wo_type"])["backlog"]
    assert end.to_dict() == {
        ("A", "corrective"): 1,
        ("A", "inspection"): 0,
        ("A", "preventive"): 0,
        ("B", "preventive"): 1,
    }
    before = ops.work_order_backlog(ops_db, ALL, date(2026, 3, 27), ("plant_id",)).set_index("plant_id")
    assert before["backlog"].to_dict() == {"A": 1}  # WO-A3, created late on the 27th (Berlin time)
    # the DST day itself: one corrective and one preventive created, the inspection is the 30th's
    dst = ops.work_order_flow(ops_db, ALL, ops_fixture.DST_DAY, ops_fixture.DST_DAY, ("wo_type",))
    assert dst.set_index("wo_type")["created"].to_dict() == {"corrective": 1, "preventive": 1}
    assert ops.work_order_flow(ops_db, ALL, START, END, (), asset_id="A-L1-CNV")["created"].isna().all()


def test_material_positions_days_of_supply_and_exposure(ops_db):
    frame = ops.material_positions(ops_db, ALL, START, END).set_index(["plant_id", "material_id"])
    assert set(frame.index) == {("A", "RAW"), ("A", "PK"), ("A", "SPARE"), ("A", "SPARE2"), ("B", "RAW")}
    # counted 50 on the 30th, 10 used on the 31st: the position at the window's end (issue 14)
    assert frame.loc[("A", "RAW"), "on_hand"] == 40 and frame.loc[("A", "RAW"), "counted_day"] == date(2026, 3, 30)
    assert frame.loc[("A", "RAW"), "counted_on_hand"] == 50 and frame.loc[("A", "RAW"), "consumed_after_count"] == 10
    assert frame.loc[("A", "RAW"), "demand_qty"] == 40 and frame.loc[("A", "PK"), "demand_qty"] == 0
    dos = kpis.material_days_of_supply(frame["on_hand"], frame["demand_qty"], 4)
    assert dos[("A", "RAW")] == pytest.approx(4.0)  # 40 / (40 / 4)
    assert dos[("A", "SPARE")] == pytest.approx(8.0)  # (3 counted on the 28th - 1 used on the 29th) / (1 / 4)
    assert dos[("B", "RAW")] == pytest.approx(6.0)  # 6 / (4 / 4): one day of demand, four calendar days
    assert math.isnan(dos[("A", "PK")]) and math.isnan(dos[("A", "SPARE2")])  # no demand: no days of supply
    exposed = kpis.is_stockout_exposed(dos, frame["lead_time_days"])
    assert sorted(exposed[exposed].index) == [("A", "RAW"), ("A", "SPARE"), ("B", "RAW")]  # 4 < 5, 8 < 20, 6 < 9
    one = ops.material_positions(ops_db, ALL, START, END, material_id="RAW")
    assert sorted(one["plant_id"]) == ["A", "B"]
    # a window whose end lies before any count: on hand unknown, not zero
    early = ops.material_positions(ops_db, ALL, START, START).set_index(["plant_id", "material_id"])
    assert math.isnan(early.loc[("B", "RAW"), "on_hand"]) and early.loc[("B", "RAW"), "counted_day"] is None


def test_material_history_and_deliveries(ops_db):
    history = ops.material_history(ops_db, ALL, START, END, "RAW")
    a = history[history["plant_id"] == "A"].set_index("day")
    assert a["demand_qty"].tolist() == [10.0] * 4
    assert a["on_hand"].dropna().to_dict() == {date(2026, 3, 28): 100.0, date(2026, 3, 30): 50.0}
    by_supplier = ops.deliveries(ops_db, ALL, START, END, ("supplier_id",))
    assert by_supplier[["supplier_name", "received", "on_time", "lateness_days_sum"]].values.tolist() == [
        ["Polymer GmbH", 3, 2, 2]
    ]
    lateness = ops.deliveries(ops_db, ALL, START, END, ("lateness_days",)).set_index("lateness_days")
    assert lateness["received"].to_dict() == {-1: 1, 1: 1, 2: 1}
    assert lateness["on_time"].to_dict() == {-1: 1, 1: 1, 2: 0}
    assert ops.deliveries(ops_db, ALL, START, END, ("plant_id",), material_id="PK").empty


def test_open_and_late_orders(ops_db):
    open_ = ops.open_orders(ops_db, ALL, AFTER)
    assert sorted(open_["order_id"]) == ["A-3", "A-5", "A-6", "A-7", "A-8", "B-2"]  # A-9 is due later
    undated = open_[open_["due_utc"].isna()]
    assert undated["order_id"].tolist() == ["A-7"] and undated["due_day"].tolist() == [None]
    assert str(open_["due_utc"].dtype) == "datetime64[ns, UTC]"
    inputs = ops.order_inputs(ops_db, ALL, AFTER)
    assert sorted(inputs["order_id"]) == ["A-3", "A-5", "A-6", "A-7", "B-2"]  # A-8's product has no BOM
    assert set(inputs["qty_per_unit"]) == {0.5}
    assert ops.open_purchase_orders(ops_db, ALL, AFTER)["po_id"].tolist() == ["PO-A3"]
    late = ops.late_orders(ops_db, ALL, START, END).set_index("order_id")
    assert list(late.index) == ["A-2", "A-3"]  # A-1 was 3 h late: within the 4 h tolerance
    assert late.loc["A-2", "lateness_h"] == pytest.approx(5.0) and math.isnan(late.loc["A-3", "lateness_h"])
    assert ops.late_orders(ops_db, ALL, START, END, line_id="A-L2").empty


def test_order_risk_names_line_failures_and_short_materials(ops_db):
    orders = ops.open_orders(ops_db, ALL, AFTER)
    stock = ops.material_positions(ops_db, ALL, END, END)
    lines = ops.line_components(ops_db, ALL, START, END, ("plant_id", "line_id"))
    risk = ops.assess_order_risk(
        orders, ops.order_inputs(ops_db, ALL, AFTER), stock, ops.open_purchase_orders(ops_db, ALL, AFTER), lines, 4
    ).set_index("order_id")
    assert risk.loc["A-5", "expected_loss_h"] == pytest.approx(0.75)  # 3 h / 96 h x 24 h run
    assert risk.loc["A-5", "slack_h"] == pytest.approx(4.0)
    assert not risk.loc["A-5", "at_risk"] and risk.loc["A-5", "threats"] == "no threat found"
    assert risk.loc["A-6", "line_threat"] and risk.loc["A-6", "expected_loss_h"] == pytest.approx(0.25)
    # resin at A: 50 on hand + 100 on PO-A3; need 50, 50, 100 in due order
    assert risk.loc["A-6", "material_threat"]
    assert "Resin (200 kg needed up to this order, 140 kg available by its due day)" in risk.loc["A-6", "threats"]
    assert not risk.loc["A-3", "material_threat"] and not risk.loc["A-5", "material_threat"]
    assert risk.loc["A-8", "line_threat"] and not risk.loc["A-8", "material_threat"]
    assert risk.loc["A-8", "expected_loss_h"] == pytest.approx(0.3125)
    assert risk.loc["B-2", "material_threat"] and not risk.loc["B-2", "line_threat"]  # 10 needed, 6 on hand
    assert not risk.loc["A-7", "at_risk"] and risk.loc["A-7", "threats"].startswith("no due date")
    assert sorted(risk.index[risk["at_risk"]]) == ["A-6", "A-8", "B-2"]


def test_order_risk_names_unknown_stock_without_judging_it(ops_db):
    orders = ops.open_orders(ops_db, ONLY_B, AFTER)
    no_count = ops.material_positions(ops_db, ONLY_B, START, START)  # before B's only count
    risk = ops.assess_order_risk(
        orders,
        ops.order_inputs(ops_db, ONLY_B, AFTER),
        no_count,
        ops.open_purchase_orders(ops_db, ONLY_B, AFTER),
        pd.DataFrame(),
        4,
    )
    b2 = risk.set_index("order_id").loc["B-2"]
    assert not b2["at_risk"] and b2["unknown_stock"] == "Resin"
    assert b2["threats"] == "no recent stock count: Resin"


def test_drill_down_dimensions(ops_db):
    assert queries.lines(ops_db, ALL)["line_id"].tolist() == ["A-L1", "A-L2", "B-L1", "C-L1"]
    assert queries.assets(ops_db, ALL, "A-L1")["asset_id"].tolist() == ["A-L1-CAP", "A-L1-CNV"]
    materials = queries.stocked_materials(ops_db, ALL).set_index("material_id")
    assert materials.loc["RAW", "plants"] == 2 and materials.loc["PK", "plants"] == 1


def test_marts_ready(empty_engine):
    ops_fixture.build(empty_engine)
    assert ops.marts_ready(empty_engine, ALL)
    assert ops.marts_ready(empty_engine, PlantScope.only({"C"}))  # no data at all: nothing is missing
    with empty_engine.begin() as conn:
        conn.execute(mart_line_daily.delete())  # a warehouse from before migration 0003
    assert not ops.marts_ready(empty_engine, ALL)


# --- plant scope: every query, the scope enforced in SQL ----------------------------------------

SCOPED_READS = {
    "lines": lambda e, s: queries.lines(e, s),
    "assets": lambda e, s: queries.assets(e, s),
    "stocked_materials": lambda e, s: queries.stocked_materials(e, s).assign(plant_id=None),
    "line_components": lambda e, s: ops.line_components(e, s, START, END, ("plant_id", "line_id")),
    "downtime_breakdown": lambda e, s: ops.downtime_breakdown(e, s, START, END, ("plant_id", "reason_code")),
    "asset_operating": lambda e, s: ops.asset_operating(e, s, START, END, ("plant_id", "asset_id")),
    "work_order_flow": lambda e, s: ops.work_order_flow(e, s, START, END, ("plant_id", "wo_type")),
    "work_order_backlog": lambda e, s: ops.work_order_backlog(e, s, END, ("plant_id", "wo_type")),
    "material_positions": lambda e, s: ops.material_positions(e, s, START, END),
    "material_history": lambda e, s: ops.material_history(e, s, START, END, "RAW"),
    "deliveries": lambda e, s: ops.deliveries(e, s, START, END, ("plant_id", "supplier_id")),
    "open_orders": lambda e, s: ops.open_orders(e, s, AFTER),
    "order_inputs": lambda e, s: ops.order_inputs(e, s, AFTER),
    "open_purchase_orders": lambda e, s: ops.open_purchase_orders(e, s, AFTER),
    "late_orders": lambda e, s: ops.late_orders(e, s, START, date(2026, 4, 30)),
}


@pytest.mark.parametrize("name", sorted(SCOPED_READS))
def test_every_query_keeps_other_plants_out(ops_db, name):
    read = SCOPED_READS[name]
    everything = read(ops_db, ALL)
    only_b = read(ops_db, ONLY_B)
    if name == "stocked_materials":  # materials, not plant rows: B stocks resin only
        assert queries.stocked_materials(ops_db, ONLY_B)["material_id"].tolist() == ["RAW"]
        assert len(everything) > 1
    else:
        assert set(everything["plant_id"]) >= {"A"}, "the fixture must give A rows, or this proves nothing"
        assert set(only_b["plant_id"]) <= {"B"}
        if name not in ("downtime_breakdown", "late_orders", "open_purchase_orders"):  # B has none
            assert set(only_b["plant_id"]) == {"B"}
    assert read(ops_db, NOBODY).empty
    # a drill-down argument naming another plant's line or asset never widens the scope
    assert ops.line_components(ops_db, ONLY_B, START, END, (), line_id="A-L1").empty
    assert ops.downtime_breakdown(ops_db, ONLY_B, START, END, ("asset_id",), asset_id="A-L1-CAP").empty
    assert ops.asset_operating(ops_db, ONLY_B, START, END, ("asset_id",), asset_id="A-L1-CAP").empty
    assert ops.work_order_backlog(ops_db, ONLY_B, END, ("plant_id",), asset_id="A-L1-CAP").empty
    assert ops.open_orders(ops_db, ONLY_B, AFTER, line_id="A-L1").empty
    assert ops.material_positions(ops_db, ONLY_B, START, END, material_id="PK").empty
