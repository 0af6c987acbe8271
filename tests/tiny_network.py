"""A two-plant warehouse small enough to compute every KPI by hand (see test_kpis.py).

Plant A (Berlin, UTC+1/+2 around the 2026-03-29 switch) and plant B (New York), one line
and one asset each, four plant-local days 2026-03-28..31. The expected values are worked
out in the comments next to the rows.
"""

from datetime import date, datetime, timezone

from data_access import marts
from data_access.schema import (
    asset,
    demand_daily,
    downtime_event,
    downtime_reason,
    feed_status,
    inventory_snapshot,
    line,
    material,
    plant,
    plant_material,
    production_daily,
    production_order,
    purchase_order,
    region,
    supplier,
)

DAYS = [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30), date(2026, 3, 31)]
NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def build(engine):
    """Insert the tiny network into a migrated, empty warehouse and refresh its marts."""
    with engine.begin() as conn:
        conn.execute(
            region.insert(), [{"region_id": "EU", "name": "Europe"}, {"region_id": "NA", "name": "North America"}]
        )
        conn.execute(
            plant.insert(),
            [
                dict(
                    plant_id="A",
                    name="Alpha Berlin",
                    region_id="EU",
                    country="DE",
                    timezone="Europe/Berlin",
                    lat=52.5,
                    lon=13.4,
                    data_maturity="iot",
                    maintenance_workflow="sap_pm",
                    currency="EUR",
                ),
                dict(
                    plant_id="B",
                    name="Bravo Newark",
                    region_id="NA",
                    country="US",
                    timezone="America/New_York",
                    lat=40.7,
                    lon=-74.2,
                    data_maturity="spreadsheet",
                    maintenance_workflow="paper_forms",
                    currency="USD",
                ),
            ],
        )
        conn.execute(
            line.insert(),
            [
                dict(line_id="A-L1", plant_id="A", name="Packaging 1", line_type="packaging", local_code="VP1"),
                dict(line_id="B-L1", plant_id="B", name="Filling 1", line_type="filling", local_code="FILL-1"),
            ],
        )
        conn.execute(
            asset.insert(),
            [
                dict(
                    asset_id="A-L1-CAP",
                    plant_id="A",
                    line_id="A-L1",
                    asset_class="capper",
                    criticality="A",
                    local_code="VP1-VS-01",
                    local_name="Verschliesser 1",
                    install_year=2015,
                ),
                dict(
                    asset_id="B-L1-FIL",
                    plant_id="B",
                    line_id="B-L1",
                    asset_class="filler",
                    criticality="A",
                    local_code="FILLER#1",
                    local_name="Filler one",
                    install_year=2019,
                ),
            ],
        )
        conn.execute(
            downtime_reason.insert(),
            [
                dict(reason_code="MECH_FAIL", category="failure", is_failure=True, description="Mechanical failure"),
                dict(reason_code="PM", category="planned", is_failure=False, description="Preventive maintenance"),
            ],
        )
        conn.execute(
            material.insert(),
            [
                dict(
                    material_id="RAW", name="Resin", material_type="raw", unit="kg", unit_cost=2.0, asset_class=None
                ),  # every row names every column: executemany takes the first row's keys
                dict(
                    material_id="SPARE",
                    name="Capper head",
                    material_type="spare_part",
                    unit="ea",
                    unit_cost=500.0,
                    asset_class="capper",
                ),
                dict(
                    material_id="FG",
                    name="Bottle 1l",
                    material_type="finished",
                    unit="ea",
                    unit_cost=1.0,
                    asset_class=None,
                ),
            ],
        )
        conn.execute(supplier.insert(), [dict(supplier_id="S1", name="Polymer GmbH", country="DE")])
        conn.execute(
            plant_material.insert(),
            [
                dict(
                    plant_id="A",
                    material_id="RAW",
                    local_code="R-100",
                    supplier_id="S1",
                    lead_time_days=5,
                    safety_stock=20,
                    reorder_point=40,
                ),
                dict(
                    plant_id="B",
                    material_id="RAW",
                    local_code="RESIN",
                    supplier_id="S1",
                    lead_time_days=9,
                    safety_stock=20,
                    reorder_point=40,
                ),
            ],
        )
        # A: planned 8 h, run 6 h, 2 s/unit, 9000 made, 8100 good -> OEE 2*8100/28800 = 0.5625.
        # B: planned 10 h, run 10 h, 1 s/unit, 30000 made and good -> OEE 30000/36000.
        conn.execute(
            production_daily.insert(),
            [
                dict(
                    line_id="A-L1",
                    plant_id="A",
                    day=d,
                    planned_busy_s=28800,
                    run_s=21600,
                    ideal_cycle_s=2.0,
                    produced_qty=9000,
                    good_qty=8100,
                )
                for d in DAYS
            ]
            + [
                dict(
                    line_id="B-L1",
                    plant_id="B",
                    day=d,
                    planned_busy_s=36000,
                    run_s=36000,
                    ideal_cycle_s=1.0,
                    produced_qty=30000,
                    good_qty=30000,
                )
                for d in DAYS
            ],
        )
        # A: failures of 2 h and 1 h, one 1 h planned stop. B: no failure at all.
        conn.execute(
            downtime_event.insert(),
            [
                dict(
                    plant_id="A",
                    line_id="A-L1",
                    asset_id="A-L1-CAP",
                    start_utc=utc(2026, 3, 29, 6),
                    end_utc=utc(2026, 3, 29, 8),
                    day=DAYS[1],
                    duration_s=7200,
                    reason_code="MECH_FAIL",
                    category="failure",
                    is_failure=True,
                    local_reason="Motorschaden",
                ),
                dict(
                    plant_id="A",
                    line_id="A-L1",
                    asset_id="A-L1-CAP",
                    start_utc=utc(2026, 3, 30, 6),
                    end_utc=utc(2026, 3, 30, 7),
                    day=DAYS[2],
                    duration_s=3600,
                    reason_code="MECH_FAIL",
                    category="failure",
                    is_failure=True,
                    local_reason="Kette gerissen",
                ),
                dict(
                    plant_id="A",
                    line_id="A-L1",
                    asset_id="A-L1-CAP",
                    start_utc=utc(2026, 3, 28, 6),
                    end_utc=utc(2026, 3, 28, 7),
                    day=DAYS[0],
                    duration_s=3600,
                    reason_code="PM",
                    category="planned",
                    is_failure=False,
                    local_reason="Wartung",
                ),
            ],
        )
        # A: due orders 3 h late (on time within 4 h), 5 h late, never finished, and one
        # without a due date (not due, not counted). B: one order finished exactly at due.
        order = dict(
            line_id="A-L1",
            plant_id="A",
            product_id="FG",
            qty=100,
            planned_start_utc=utc(2026, 3, 27),
            planned_end_utc=utc(2026, 3, 28),
        )
        conn.execute(
            production_order.insert(),
            [
                dict(
                    order,
                    order_id="A-1",
                    due_utc=utc(2026, 3, 29, 10),
                    due_day=DAYS[1],
                    actual_end_utc=utc(2026, 3, 29, 13),
                    produced_qty=100,
                    status="completed",
                ),
                dict(
                    order,
                    order_id="A-2",
                    due_utc=utc(2026, 3, 30, 10),
                    due_day=DAYS[2],
                    actual_end_utc=utc(2026, 3, 30, 15),
                    produced_qty=90,
                    status="completed",
                ),
                dict(
                    order,
                    order_id="A-3",
                    due_utc=utc(2026, 3, 31, 10),
                    due_day=DAYS[3],
                    actual_end_utc=None,
                    produced_qty=0,
                    status="released",
                ),
                dict(
                    order,
                    order_id="A-4",
                    due_utc=None,
                    due_day=None,
                    actual_end_utc=utc(2026, 3, 30, 9),
                    produced_qty=100,
                    status="completed",
                ),
                dict(
                    order,
                    order_id="B-1",
                    line_id="B-L1",
                    plant_id="B",
                    due_utc=utc(2026, 3, 29, 16),
                    due_day=DAYS[1],
                    actual_end_utc=utc(2026, 3, 29, 16),
                    produced_qty=100,
                    status="completed",
                ),
            ],
        )
        # A: received 1 day late (on time within 1 day) and 2 days late; one open.
        # B: received a day early.
        po = dict(material_id="RAW", supplier_id="S1", qty=100, ordered_day=date(2026, 3, 20))
        conn.execute(
            purchase_order.insert(),
            [
                dict(po, po_id="PO-A1", plant_id="A", promised_day=DAYS[0], received_day=DAYS[1], status="received"),
                dict(po, po_id="PO-A2", plant_id="A", promised_day=DAYS[0], received_day=DAYS[2], status="received"),
                dict(po, po_id="PO-A3", plant_id="A", promised_day=DAYS[3], received_day=None, status="open"),
                dict(po, po_id="PO-B1", plant_id="B", promised_day=DAYS[2], received_day=DAYS[1], status="received"),
            ],
        )
        # A: resin 100 kg (value 200) on the 28th, 50 kg (value 100) on the 30th, carried
        # forward: 200+200+100+100 = 600; consumption 10 kg/day = 20/day -> 600/80 = 7.5 days.
        # Spare parts and finished goods do not count. B has no snapshot: days of supply unknown.
        conn.execute(
            inventory_snapshot.insert(),
            [
                dict(plant_id="A", material_id="RAW", day=DAYS[0], on_hand=100),
                dict(plant_id="A", material_id="RAW", day=DAYS[2], on_hand=50),
                dict(plant_id="A", material_id="SPARE", day=DAYS[0], on_hand=3),
            ],
        )
        conn.execute(
            demand_daily.insert(),
            [dict(plant_id="A", material_id="RAW", day=d, qty=10) for d in DAYS]
            + [
                dict(plant_id="A", material_id="SPARE", day=DAYS[1], qty=1),
                dict(plant_id="A", material_id="FG", day=DAYS[1], qty=5000),
                dict(plant_id="B", material_id="RAW", day=DAYS[1], qty=4),
            ],
        )
        conn.execute(
            feed_status.insert(),
            [
                dict(plant_id="A", source="production", last_received_utc=utc(2026, 3, 31, 12), expected_cadence_h=24),
                dict(plant_id="B", source="production", last_received_utc=utc(2026, 3, 29), expected_cadence_h=24),
            ],
        )
    marts.refresh(engine)
