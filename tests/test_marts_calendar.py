"""Issue 14 (defect 2) and issue 17: every loaded fact is visible in the KPIs of its period.

The marts' calendar used to be each plant's production days only: a plant whose production
feed ends before the window while its other feeds are current lost its purchase orders,
demand and stock of the remaining days, and downtime loaded outside production days never
reached MTBF, MTTR or unplanned downtime. On SQLite and PostgreSQL, on the tiny network.
"""

from datetime import date, timedelta

import pytest

from components.filters import Selection
from components.overview import feed_gap_notes
from data_access import kpis, marts, queries
from data_access.schema import demand_daily, downtime_event, inventory_snapshot, purchase_order
from data_access.scope import PlantScope
from tests import tiny_network
from tests.tiny_network import DAYS, utc

ALL = PlantScope.everything()
LATER = [DAYS[-1] + timedelta(days=k) for k in (1, 2, 3)]  # 1..3 April: production of B has ended


@pytest.fixture
def behind(empty_engine):
    """The tiny network plus, at B, three days of receipts, demand and a count after its last
    production day; at A, a failure six days before its first production day."""
    tiny_network.build(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(
            purchase_order.insert(),
            [
                dict(
                    po_id=f"PO-B{k + 2}",
                    plant_id="B",
                    material_id="RAW",
                    supplier_id="S1",
                    qty=100,
                    ordered_day=date(2026, 3, 20),
                    promised_day=d,
                    received_day=d + timedelta(days=k),
                    status="received",
                )
                for k, d in enumerate(LATER)
            ],
        )  # on time, 1 day late, 2 days late
        conn.execute(demand_daily.insert(), [dict(plant_id="B", material_id="RAW", day=d, qty=5) for d in LATER])
        conn.execute(inventory_snapshot.insert(), [dict(plant_id="B", material_id="RAW", day=LATER[0], on_hand=50)])
        conn.execute(
            downtime_event.insert(),
            [
                dict(
                    plant_id="A",
                    line_id="A-L1",
                    asset_id="A-L1-CAP",
                    start_utc=utc(2026, 3, 22, 6),
                    end_utc=utc(2026, 3, 22, 10),
                    day=date(2026, 3, 22),
                    duration_s=14400,
                    reason_code="MECH_FAIL",
                    category="failure",
                    is_failure=True,
                    local_reason="Motorschaden",
                )
            ],
        )
    marts.refresh(empty_engine)
    return empty_engine


def test_other_feeds_count_after_the_production_feed_ends(behind):
    window = (LATER[0], LATER[-1] + timedelta(days=2))  # 1..5 April
    b = kpis.with_kpis(queries.plant_kpi_components(behind, PlantScope.only({"B"}), *window)).iloc[0]
    assert b["days"] == 5  # the receipts of the 3rd and 5th, the demand of 1..3 April keep their days
    assert b["po_received"] == 3 and b["po_on_time"] == 2  # received on the 1st, 3rd (1 d late) and 5th (2 d)
    assert b["demand_value"] == pytest.approx(3 * 5 * 2.0)
    assert b["planned_busy_s"] == 0  # no production reported: nothing invented
    assert b["days_of_supply"] == pytest.approx(5 * 50 * 2.0 / (3 * 5 * 2.0))  # 50 counted, carried forward


def test_downtime_outside_production_days_reaches_mtbf_mttr_and_downtime(behind):
    a = kpis.with_kpis(queries.plant_kpi_components(behind, PlantScope.only({"A"}), date(2026, 3, 22), DAYS[-1]))
    a = a.iloc[0]
    assert a["failures"] == 3 and a["unplanned_downtime_h"] == pytest.approx(2 + 1 + 4)
    assert a["mttr_h"] == pytest.approx(7 / 3)
    assert a["mtbf_h"] == pytest.approx(24 / 3)  # run hours are those reported: 4 days x 6 h


def test_the_overview_says_how_far_each_feed_reaches(behind):
    end = LATER[-1] + timedelta(days=2)  # the 5th: the last receipt's day
    gaps = queries.feeds_ending_before(behind, ALL, end)
    reach = {(r.plant_id, r.feed): (r.last_day, r.days_short) for r in gaps.itertuples()}
    assert reach[("B", "production")] == (DAYS[-1], 5) and reach[("A", "production")] == (DAYS[-1], 5)
    assert reach[("B", "demand")] == (LATER[-1], 2)
    assert ("B", "purchase_orders") not in reach  # it reaches the window's end
    assert queries.feeds_ending_before(behind, ALL, DAYS[0]).empty  # a window inside every feed
    notes = feed_gap_notes(behind, Selection(ALL, DAYS[0], end))
    assert any(n.startswith("Bravo Newark: ") and "production to 31 Mar 2026 (5 d short)" in n for n in notes)
