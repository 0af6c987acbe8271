"""What each operations page shows, against values worked out by hand on tests/ops_fixture.py,
at every drill-down level; and the CSV exports: complete, scoped, ISO 8601 with offsets."""

import math
from datetime import date

import pandas as pd
import pytest

from components.export import to_csv_bytes
from components.filters import Selection
from components.formatting import format_kpi
from components.operations.common import drill_path
from components.operations.downtime import downtime_view
from components.operations.inventory import inventory_view
from components.operations.schedule import schedule_view
from data_access.scope import PlantScope
from tests import ops_fixture

START, END = ops_fixture.START, ops_fixture.END
ALL = PlantScope.everything()


@pytest.fixture(scope="module", params=ops_fixture.BACKENDS)
def ops_db(request, tmp_path_factory):
    """tests/ops_fixture.py, built once per backend for this module's read-only tests."""
    yield from ops_fixture.warehouse(request.param, tmp_path_factory)


def sel(scope=ALL, start=START, end=END, **drill):
    return Selection(scope, start, end, **drill)


# --- downtime & maintenance -----------------------------------------------------------------


def test_downtime_network_totals(ops_db):
    view = downtime_view(ops_db, sel())
    t = view.totals
    assert (view.level, view.child) == ("network", "plant")
    assert t["unplanned_downtime_h"] == pytest.approx(4.0) and t["planned_downtime_h"] == pytest.approx(1.0)
    assert t["failures"] == 3
    assert t["mtbf_h"] == pytest.approx(157.0 / 3)  # (24 + 93 + 40) run hours / 3 failures
    assert t["mttr_h"] == pytest.approx(4.0 / 3)
    assert t["wo_backlog"] == 2  # A's open corrective WO-A2, B's open preventive WO-B1
    assert t["preventive_share"] == pytest.approx(0.5)  # 2 preventive / (2 + 2 corrective)
    assert t["mean_close_h"] == pytest.approx(18.0)  # (2.5 + 8.5 + 58.5 + 2.5) h / 4
    assert view.missing_plants == ["Charlie Osaka"]  # in scope, no data in the window
    assert view.previous.empty  # the 4 days before hold no data at all: no deltas to show
    p = downtime_view(ops_db, sel(start=ops_fixture.DAYS[2])).previous  # the 28th and the 29th
    assert p["failures"] == 2 and p["unplanned_downtime_h"] == pytest.approx(3.0)
    assert p["wo_backlog"] == 1  # WO-A4, created on the 29th (Berlin time), completed on the 31st
    assert p["preventive_share"] == pytest.approx(0.5) and p["mean_close_h"] == pytest.approx(5.5)


def test_downtime_breakdown_pareto_and_local_reasons(ops_db):
    view = downtime_view(ops_db, sel())
    by_plant = view.breakdown.set_index("plant_id")
    assert by_plant.loc["A", "unplanned_h"] == pytest.approx(4.0) and by_plant.loc["A", "planned_h"] == 1.0
    assert by_plant.loc["A", "other_h"] == pytest.approx(0.5)
    assert by_plant.loc["B", "mtbf_h_text"] == "no failure" and by_plant.loc["B", "mttr_h_text"] == "no failure"
    failures = view.pareto(unplanned_only=True)
    assert failures["reason_code"].tolist() == ["MECH_FAIL"] and failures["cumulative_share"].tolist() == [1.0]
    everything = view.pareto(unplanned_only=False)
    assert everything["reason_code"].tolist() == ["MECH_FAIL", "PM", "CO_PRODUCT"]
    assert everything["cumulative_share"].tolist() == pytest.approx([4 / 5.5, 5 / 5.5, 1.0])
    mech = view.local_reasons[view.local_reasons["reason_code"] == "MECH_FAIL"].set_index("local_reason")
    assert mech["hours"].to_dict() == pytest.approx({"Motorschaden": 3.0, "Kette gerissen": 1.0})
    assert set(mech["plant"]) == {"Alpha Berlin"}
    cats = view.by_category.set_index(["plant_id", "category"])["hours"]
    assert cats.to_dict() == pytest.approx({("A", "failure"): 4.0, ("A", "planned"): 1.0, ("A", "changeover"): 0.5})


def test_reliability_by_class_trend_and_worst_assets(ops_db):
    view = downtime_view(ops_db, sel())
    classes = view.classes.set_index("asset_class")
    assert classes.loc["capper", "mtbf_h"] == pytest.approx(12.0) and classes.loc["capper", "mttr_h"] == 1.5
    assert classes.loc["filler", "mtbf_h"] == pytest.approx(133.0)  # (93 h + 40 h) / 1 failure
    assert classes.loc["conveyor", "mtbf_h_text"] == "no failure"
    trend = view.trend.set_index("period")
    assert trend["failures"].to_dict() == {date(2026, 3, 23): 2, date(2026, 3, 30): 1}
    assert trend.loc[date(2026, 3, 23), "mtbf_h"] == pytest.approx(77.0 / 2)  # 12 + 45 + 20 run hours
    assert trend.loc[date(2026, 3, 30), "mtbf_h"] == pytest.approx(80.0)
    assert view.worst_assets["asset_id"].tolist() == ["A-L1-CAP", "A-L2-FIL"]
    assert view.worst_assets["rank"].tolist() == [1, 2]
    plants = view.plants.set_index("plant_id")
    assert plants.loc["A", "mtbf_h"] == pytest.approx(39.0) and plants.loc["B", "mtbf_h_text"] == "no failure"


def test_maintenance_per_plant_shows_each_workflow(ops_db):
    m = downtime_view(ops_db, sel()).maintenance.set_index("plant_id")
    assert list(m.index) == ["A", "B"]  # C has no work order at all
    a, b = m.loc["A"], m.loc["B"]
    assert (a["created_preventive"], a["created_corrective"], a["created_inspection"]) == (1, 2, 1)
    assert a["preventive_share"] == pytest.approx(1 / 3) and a["mean_close_h"] == pytest.approx(18.0)
    assert (a["backlog_start"], a["backlog_end"], a["open_corrective"]) == (1, 1, 1)
    assert a["maintenance_workflow"] == "sap_pm" and b["maintenance_workflow"] == "paper_forms"
    assert b["preventive_share_text"] == "100.0 %" and b["mean_close_h_text"] == "none closed"
    mix = downtime_view(ops_db, sel()).maintenance_mix
    assert mix.groupby("plant")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


def test_downtime_drill_down_to_a_line_and_an_asset(ops_db):
    line = downtime_view(ops_db, sel(PlantScope.only({"A"}), line_id="A-L1"))
    assert (line.level, line.child) == ("line", "asset")
    assert line.totals["failures"] == 2 and line.totals["mtbf_h"] == pytest.approx(12.0)
    assets = line.breakdown.set_index("asset_id")
    assert list(assets.index) == ["A-L1-CAP", "A-L1-CNV"]
    assert assets.loc["A-L1-CNV", "other_h"] == pytest.approx(0.5) and assets.loc["A-L1-CNV", "failures"] == 0
    assert drill_path(ops_db, sel(PlantScope.only({"A"}), line_id="A-L1")) == "Alpha Berlin › Packaging 1"
    asset = downtime_view(ops_db, sel(PlantScope.only({"A"}), line_id="A-L1", asset_id="A-L1-CNV"))
    assert (asset.level, asset.child) == ("asset", "reason")
    assert asset.totals["failures"] == 0 and math.isnan(asset.totals["mtbf_h"])  # zero failures
    assert asset.breakdown["reason_code"].tolist() == ["CO_PRODUCT"]
    assert asset.worst_assets.empty and asset.pareto(unplanned_only=True).empty
    cap = downtime_view(ops_db, sel(PlantScope.only({"A"}), line_id="A-L1", asset_id="A-L1-CAP"))
    assert cap.totals["mtbf_h"] == pytest.approx(12.0) and cap.totals["wo_backlog"] == 1


def test_a_window_with_zero_failures_and_a_plant_without_data(ops_db):
    first_day = downtime_view(ops_db, sel(start=START, end=START))
    assert first_day.totals["failures"] == 0 and math.isnan(first_day.totals["mtbf_h"])
    assert format_kpi("mtbf_h", first_day.totals["mtbf_h"], 1) == "no failure"
    assert first_day.totals["mean_close_h"] == pytest.approx(8.5)  # WO-A3, closed on the 28th
    # WO-A4 was created at 23:30 UTC on the 28th, which is already the 29th in Berlin
    assert format_kpi("preventive_share", first_day.totals["preventive_share"], 1) == "none created"
    assert first_day.pareto(unplanned_only=True).empty
    nothing = downtime_view(ops_db, sel(PlantScope.only({"C"})))
    assert nothing.is_empty and nothing.totals["failures"] == 0
    assert not any(isinstance(v, float) and math.isinf(v) for v in nothing.totals)


# --- inventory & supply --------------------------------------------------------------------


def test_inventory_network_totals(ops_db):
    view = inventory_view(ops_db, sel())
    t = view.totals
    assert t["days_of_supply"] == pytest.approx(652 / 80)  # value-weighted, raw and packaging
    assert t["inventory_turns"] == pytest.approx(365 * 80 / 652)
    assert t["supplier_otd"] == pytest.approx(2 / 3)
    assert (t["stockout_exposed"], t["assessed"]) == (3, 3)  # resin at A: 40 left after the count (issue 14)
    assert t["spare_availability"] == pytest.approx(0.5)  # capper head on hand, conveyor belt out
    assert view.previous.empty  # nothing before the 28th: no deltas
    later = inventory_view(ops_db, sel(start=ops_fixture.DAYS[2])).previous  # the 28th and the 29th
    assert later["days_of_supply"] == pytest.approx(400 / 40) and later["supplier_otd"] == 1.0


def test_inventory_materials_exposure_spares_and_shared(ops_db):
    view = inventory_view(ops_db, sel())
    m = view.materials.set_index(["plant_id", "material_id"])
    assert m.loc[("A", "RAW"), "material_dos"] == pytest.approx(4.0) and m.loc[("A", "RAW"), "exposed"]
    assert m.loc[("A", "PK"), "material_dos_text"] == "no demand"  # zero demand: never inf
    assert m.loc[("A", "PK"), "status"] == "no demand in the window"
    assert m.loc[("A", "SPARE"), "status"].startswith("exposed")
    assert sorted(view.exposed[["plant_id", "material_id"]].values.tolist()) == [
        ["A", "RAW"],
        ["A", "SPARE"],
        ["B", "RAW"],
    ]
    spares = view.spares.set_index("asset_class")
    assert spares["spare_availability"].to_dict() == {"conveyor": 0.0, "capper": 1.0}
    shared = view.shared.set_index("material_id")
    assert list(shared.index) == ["RAW"]
    assert shared.loc["RAW", "on_hand"] == 46 and shared.loc["RAW", "material_dos"] == pytest.approx(46 * 4 / 44)
    assert shared.loc["RAW", "min_plant_dos"] == pytest.approx(4.0) and shared.loc["RAW", "exposed_plants"] == 2
    assert view.lateness.values.tolist() == [[-1, 1, True], [1, 1, True], [2, 1, False]]
    assert view.suppliers["supplier_otd_text"].tolist() == ["66.7 %"]
    plants = view.plants.set_index("plant_id")
    assert plants.loc["B", "spare_availability_text"] == "no data" and plants.loc["A", "stockout_exposed"] == 2


def test_inventory_drill_down_to_a_material(ops_db):
    view = inventory_view(ops_db, sel(material_id="RAW"))
    assert sorted(view.materials["plant_id"]) == ["A", "B"]
    assert view.totals["material_dos"] == pytest.approx(46 * 4 / 44)
    assert set(view.history["plant"]) == {"Alpha Berlin", "Bravo Newark"}
    assert view.suppliers["received"].tolist() == [3]
    assert view.spares.empty


# --- schedule risk ---------------------------------------------------------------------------


def test_schedule_totals_groups_and_trend(ops_db):
    view = schedule_view(ops_db, sel(), horizon_days=7)
    t = view.totals
    assert t["schedule_adherence"] == pytest.approx(0.5)
    assert t["schedule_attainment"] == pytest.approx(290 / 400)  # 100 + 90 + 0 + 100 of 4 x 100
    assert (t["orders_due"], t["late_orders"], t["orders_at_risk"], t["undated_orders"]) == (4, 2, 3, 1)
    assert (view.first_day, view.last_day) == (date(2026, 4, 1), date(2026, 4, 7))
    groups = view.groups.set_index("plant_id")
    assert groups.loc["A", "schedule_adherence"] == pytest.approx(1 / 3) and groups.loc["B", "late"] == 0
    assert groups.loc["A", "schedule_adherence_text"] == "33.3 %"
    trend = view.trend[view.trend["group"] == "All selected"].set_index("week_start")
    assert trend["schedule_adherence"].to_dict() == {date(2026, 3, 23): 1.0, date(2026, 3, 30): 0.0}


def test_schedule_upcoming_orders_with_threats_and_local_due_times(ops_db):
    view = schedule_view(ops_db, sel(), horizon_days=7)
    up = view.upcoming.set_index("order_id")
    assert list(up.index) == ["B-2", "A-6", "A-8", "A-5"]  # at risk first, then by due time
    assert up.loc["A-5", "due_local_text"] == "2026-04-02 12:00 CEST"
    assert up.loc["B-2", "due_local_text"] == "2026-04-02 12:00 EDT"
    assert up.loc["A-6", "threats"].startswith("line failures: about 0.2 h expected")
    assert view.undated["order_id"].tolist() == ["A-7"]
    late = view.late.set_index("order_id")
    assert late["lateness_text"].to_dict() == {"A-3": "not finished", "A-2": "5.0 h late"}
    line = schedule_view(ops_db, sel(PlantScope.only({"A"}), line_id="A-L2"), horizon_days=7)
    assert line.level == "line" and line.upcoming["order_id"].tolist() == ["A-6"]
    # still short of resin: the orders of A-L1 due before it draw on the same stock
    assert line.upcoming["material_threat"].tolist() == [True]
    assert math.isnan(line.totals["schedule_adherence"])  # no order was due on A-L2
    assert format_kpi("schedule_adherence", line.totals["schedule_adherence"], 4) == "no data"


# --- exports -----------------------------------------------------------------------------


def _csv(frame) -> pd.DataFrame:
    import io

    return pd.read_csv(io.BytesIO(to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_exports_carry_plant_local_times_with_their_offsets(ops_db):
    view = schedule_view(ops_db, sel(), horizon_days=7)
    csv = _csv(view.upcoming).set_index("order_id")
    assert csv.loc["A-5", "due_local"] == "2026-04-02T12:00:00+02:00"
    assert csv.loc["A-5", "due_utc"] == "2026-04-02T10:00:00+00:00"
    assert csv.loc["B-2", "due_local"] == "2026-04-02T12:00:00-04:00"
    assert len(csv) == len(view.upcoming)  # every row, not only the ones on screen
    late = _csv(view.late).set_index("order_id")
    assert late.loc["A-2", "due_local"] == "2026-03-30T12:00:00+02:00"
    assert late.loc["A-3", "actual_end_utc"] == ""  # unfinished: an empty cell, not "NaT"


def _all_frames(view):
    return {name: value for name, value in vars(view).items() if isinstance(value, pd.DataFrame)}


@pytest.mark.parametrize(
    "build",
    [
        lambda e, s: downtime_view(e, sel(s)),
        lambda e, s: inventory_view(e, sel(s)),
        lambda e, s: schedule_view(e, sel(s), horizon_days=7),
    ],
    ids=["downtime", "inventory", "schedule"],
)
def test_every_export_holds_only_the_users_plants(ops_db, build):
    everything = _all_frames(build(ops_db, ALL))
    only_b = _all_frames(build(ops_db, PlantScope.only({"B"})))
    assert any("Alpha Berlin" in to_csv_bytes(f).decode("utf-8-sig") for f in everything.values())
    for name, frame in only_b.items():
        text = to_csv_bytes(frame).decode("utf-8-sig")
        assert "Alpha Berlin" not in text and "A-L1" not in text and "A-L2" not in text, name
        if "plant_id" in frame:
            assert set(frame["plant_id"]) <= {"B"}, name
        for column in frame.select_dtypes("number"):
            assert not frame[column].isin([float("inf"), float("-inf")]).any(), (name, column)
