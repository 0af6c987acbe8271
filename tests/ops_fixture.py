"""The tiny two-plant network (tests/tiny_network.py) plus what the operations pages need,
small enough to compute every value by hand. Expected values are worked out next to the rows
and collected in EXPECTED-style comments the tests repeat.

Window: plant-local days 2026-03-28..31. Berlin (plant A) switches to summer time on Sunday
2026-03-29 at 01:00 UTC (02:00 -> 03:00 local): that day has 23 hours.

Added on top of the tiny network:
- plant A gets a 24x7 line A-L2 (filler A-L2-FIL), whose 23-hour DST day is planned 82,800 s,
  and a conveyor A-L1-CNV on A-L1 that never fails (an asset and a class with zero failures);
  plant B never fails at all; plant C (Osaka) has a line and an asset but no data whatever.
- downtime: a failure on A-L2 across the DST switch (00:30-01:30 UTC, one real hour), and a
  changeover on A-L1-CNV. Canonical MECH_FAIL hides two local reasons at A.
- work orders whose plant-local day depends on the DST offset (created 23:30 UTC on the 28th
  is the 29th in Berlin; 22:30 UTC on the 29th is already the 30th).
- materials: packaging PK with stock and zero demand; spare parts SPARE (capper) and SPARE2
  (conveyor, none on hand); B's resin gets a count; a bill of material FG <- 0.5 RAW.
- open production orders due after the window (one without a due date), an open PO.
"""

import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from data_access import marts, migrate
from data_access.engine import make_engine
from data_access.schema import (
    asset,
    bom,
    downtime_event,
    downtime_reason,
    inventory_snapshot,
    line,
    material,
    plant,
    plant_material,
    production_daily,
    production_order,
    purchase_order,
    region,
    work_order,
)
from tests import tiny_network
from tests.conftest import IN_CI, PG_ADMIN_URL

DAYS = tiny_network.DAYS
START, END = DAYS[0], DAYS[-1]
DST_DAY = DAYS[1]  # 2026-03-29, 23 hours long in Berlin


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def build(engine):
    """The tiny network, the additions above, and a refresh of every mart."""
    tiny_network.build(engine)
    with engine.begin() as conn:
        conn.execute(region.insert(), [{"region_id": "AS", "name": "Asia"}])
        conn.execute(
            plant.insert(),
            [
                dict(
                    plant_id="C",
                    name="Charlie Osaka",
                    region_id="AS",
                    country="JP",
                    timezone="Asia/Tokyo",
                    lat=34.7,
                    lon=135.5,
                    data_maturity="spreadsheet",
                    maintenance_workflow="paper_forms",
                    currency="JPY",
                )
            ],
        )
        conn.execute(
            line.insert(),
            [
                dict(line_id="A-L2", plant_id="A", name="Filling 2", line_type="filling", local_code="FL2"),
                dict(line_id="C-L1", plant_id="C", name="Packing 1", line_type="packaging", local_code="P1"),
            ],
        )
        conn.execute(
            asset.insert(),
            [
                dict(
                    asset_id="A-L1-CNV",
                    plant_id="A",
                    line_id="A-L1",
                    asset_class="conveyor",
                    criticality="C",
                    local_code="VP1-FB-02",
                    local_name="Foerderband 2",
                    install_year=2018,
                ),
                dict(
                    asset_id="A-L2-FIL",
                    plant_id="A",
                    line_id="A-L2",
                    asset_class="filler",
                    criticality="A",
                    local_code="FL2-FUE-01",
                    local_name="Fueller 1",
                    install_year=2020,
                ),
                dict(
                    asset_id="C-L1-WRP",
                    plant_id="C",
                    line_id="C-L1",
                    asset_class="wrapper",
                    criticality="B",
                    local_code="WRP1",
                    local_name="Wrapper 1",
                    install_year=2016,
                ),
            ],
        )
        conn.execute(
            downtime_reason.insert(),
            [
                dict(
                    reason_code="CO_PRODUCT", category="changeover", is_failure=False, description="Product changeover"
                ),
            ],
        )
        # Every dict names every column: an executemany takes its columns from the first row.
        conn.execute(
            material.insert(),
            [
                dict(
                    material_id="PK",
                    name="Label roll",
                    material_type="packaging",
                    unit="roll",
                    unit_cost=1.0,
                    asset_class=None,
                ),
                dict(
                    material_id="SPARE2",
                    name="Conveyor belt",
                    material_type="spare_part",
                    unit="ea",
                    unit_cost=300.0,
                    asset_class="conveyor",
                ),
                dict(
                    material_id="FG2",
                    name="Bottle 2l",
                    material_type="finished",
                    unit="ea",
                    unit_cost=1.5,
                    asset_class=None,
                ),
            ],
        )
        # The tiny network inserts its spare part after a row without asset_class, which drops
        # the column for the whole executemany: give the capper head its class here.
        conn.execute(material.update().where(material.c.material_id == "SPARE").values(asset_class="capper"))
        conn.execute(bom.insert(), [dict(product_id="FG", material_id="RAW", qty_per_unit=0.5)])
        conn.execute(
            plant_material.insert(),
            [
                dict(
                    plant_id="A",
                    material_id="PK",
                    local_code="ETK",
                    supplier_id="S1",
                    lead_time_days=3,
                    safety_stock=5,
                    reorder_point=10,
                ),
                dict(
                    plant_id="A",
                    material_id="SPARE",
                    local_code="VS-KOPF",
                    supplier_id="S1",
                    lead_time_days=20,
                    safety_stock=2,
                    reorder_point=2,
                ),
                dict(
                    plant_id="A",
                    material_id="SPARE2",
                    local_code="FB-GURT",
                    supplier_id="S1",
                    lead_time_days=30,
                    safety_stock=1,
                    reorder_point=1,
                ),
            ],
        )
        # A-L2 runs 24x7: planned 24 h, but 23 h on the DST day; run = planned - its failure.
        planned = {DAYS[0]: 86400, DAYS[1]: 82800, DAYS[2]: 86400, DAYS[3]: 86400}
        run = {DAYS[0]: 82800, DAYS[1]: 79200, DAYS[2]: 86400, DAYS[3]: 86400}  # sum 334,800 s = 93 h
        conn.execute(
            production_daily.insert(),
            [
                dict(
                    line_id="A-L2",
                    plant_id="A",
                    day=d,
                    planned_busy_s=planned[d],
                    run_s=run[d],
                    ideal_cycle_s=1.0,
                    produced_qty=run[d] * 0.9,
                    good_qty=run[d] * 0.9,
                )
                for d in DAYS
            ],
        )
        conn.execute(
            downtime_event.insert(),
            [
                # 01:30 CET -> 03:30 CEST on the DST day: two hours on the wall clock, one real hour.
                dict(
                    plant_id="A",
                    line_id="A-L2",
                    asset_id="A-L2-FIL",
                    start_utc=utc(2026, 3, 29, 0, 30),
                    end_utc=utc(2026, 3, 29, 1, 30),
                    day=DST_DAY,
                    duration_s=3600,
                    reason_code="MECH_FAIL",
                    category="failure",
                    is_failure=True,
                    local_reason="Motorschaden",
                ),
                dict(
                    plant_id="A",
                    line_id="A-L1",
                    asset_id="A-L1-CNV",
                    start_utc=utc(2026, 3, 31, 8),
                    end_utc=utc(2026, 3, 31, 8, 30),
                    day=DAYS[3],
                    duration_s=1800,
                    reason_code="CO_PRODUCT",
                    category="changeover",
                    is_failure=False,
                    local_reason="Sortenwechsel",
                ),
            ],
        )
        wo = dict(plant_id="A", asset_id="A-L1-CAP")
        conn.execute(
            work_order.insert(),
            [
                # created 08:30 CEST on the 29th, completed 11:00 CEST: 2.5 h
                dict(
                    wo,
                    wo_id="WO-A1",
                    wo_type="corrective",
                    status="closed",
                    created_utc=utc(2026, 3, 29, 6, 30),
                    completed_utc=utc(2026, 3, 29, 9),
                    local_code="4000001",
                ),
                # created 08:10 CEST on the 30th, still open
                dict(
                    wo,
                    wo_id="WO-A2",
                    wo_type="corrective",
                    status="open",
                    created_utc=utc(2026, 3, 30, 6, 10),
                    completed_utc=None,
                    local_code="4000002",
                ),
                # created 23:30 CET on the 27th (before the window), completed 08:00 CET on the 28th: 8.5 h
                dict(
                    wo,
                    wo_id="WO-A3",
                    wo_type="preventive",
                    status="closed",
                    created_utc=utc(2026, 3, 27, 22, 30),
                    completed_utc=utc(2026, 3, 28, 7),
                    local_code="4000003",
                ),
                # created 00:30 CET on the 29th (the 28th in UTC), completed 12:00 CEST on the 31st: 58.5 h
                dict(
                    wo,
                    wo_id="WO-A4",
                    wo_type="preventive",
                    status="closed",
                    created_utc=utc(2026, 3, 28, 23, 30),
                    completed_utc=utc(2026, 3, 31, 10),
                    local_code="4000004",
                ),
                # created 00:30 CEST on the 30th (the 29th in UTC, and at +1 h still the 29th), 2.5 h
                dict(
                    wo,
                    wo_id="WO-A5",
                    wo_type="inspection",
                    status="closed",
                    created_utc=utc(2026, 3, 29, 22, 30),
                    completed_utc=utc(2026, 3, 30, 1),
                    local_code="4000005",
                ),
                # B: created 10:00 EDT on the 30th, open
                dict(
                    wo_id="WO-B1",
                    plant_id="B",
                    asset_id="B-L1-FIL",
                    wo_type="preventive",
                    status="open",
                    created_utc=utc(2026, 3, 30, 14),
                    completed_utc=None,
                    local_code="PF/26/0001",
                ),
            ],
        )
        conn.execute(
            inventory_snapshot.insert(),
            [
                dict(plant_id="A", material_id="PK", day=DAYS[3], on_hand=40),  # no demand: no days of supply
                dict(plant_id="A", material_id="SPARE2", day=DAYS[2], on_hand=0),  # out, and no demand
                dict(plant_id="B", material_id="RAW", day=DAYS[3], on_hand=6),  # 6 x 4 / 4 = 6 d < 9 d lead
            ],
        )
        order = dict(
            plant_id="A", line_id="A-L1", product_id="FG", produced_qty=0, actual_end_utc=None, status="released"
        )
        conn.execute(
            production_order.insert(),
            [
                # due 12:00 CEST on 2 April: 24 h run, 4 h slack; needs 50 resin (100 with A-3): covered
                dict(
                    order,
                    order_id="A-5",
                    qty=100,
                    due_utc=utc(2026, 4, 2, 10),
                    due_day=date(2026, 4, 2),
                    planned_start_utc=utc(2026, 4, 1, 6),
                    planned_end_utc=utc(2026, 4, 2, 6),
                ),
                # on A-L2, no slack: expects 0.25 h of failures; needs 100 more resin: 200 > 50 + 100
                dict(
                    order,
                    order_id="A-6",
                    line_id="A-L2",
                    qty=200,
                    due_utc=utc(2026, 4, 3, 6),
                    due_day=date(2026, 4, 3),
                    planned_start_utc=utc(2026, 4, 2, 6),
                    planned_end_utc=utc(2026, 4, 3, 6),
                ),
                # no due date: listed apart, never at risk
                dict(
                    order,
                    order_id="A-7",
                    qty=50,
                    due_utc=None,
                    due_day=None,
                    status="planned",
                    planned_start_utc=utc(2026, 4, 4, 6),
                    planned_end_utc=utc(2026, 4, 4, 12),
                ),
                # a product without a bill of material, no slack: 3 h / 96 h x 10 h = 0.3125 h expected
                dict(
                    order,
                    order_id="A-8",
                    product_id="FG2",
                    qty=80,
                    due_utc=utc(2026, 4, 5, 16),
                    due_day=date(2026, 4, 5),
                    planned_start_utc=utc(2026, 4, 5, 6),
                    planned_end_utc=utc(2026, 4, 5, 16),
                ),
                # due beyond a 7-day look-ahead
                dict(
                    order,
                    order_id="A-9",
                    qty=10,
                    due_utc=utc(2026, 4, 20, 10),
                    due_day=date(2026, 4, 20),
                    planned_start_utc=utc(2026, 4, 19, 6),
                    planned_end_utc=utc(2026, 4, 20, 6),
                ),
                # B: due 12:00 EDT on 2 April, no failures on its line; needs 10 resin, has 6
                dict(
                    order,
                    order_id="B-2",
                    plant_id="B",
                    line_id="B-L1",
                    qty=20,
                    due_utc=utc(2026, 4, 2, 16),
                    due_day=date(2026, 4, 2),
                    planned_start_utc=utc(2026, 4, 1, 12),
                    planned_end_utc=utc(2026, 4, 2, 16),
                ),
            ],
        )
        # PO-A3 of the tiny network (100 resin, promised the 31st) is still open.
        conn.execute(
            purchase_order.insert(),
            [
                dict(
                    po_id="PO-A4",
                    plant_id="A",
                    material_id="RAW",
                    supplier_id="S1",
                    qty=30,
                    ordered_day=date(2026, 3, 25),
                    promised_day=date(2026, 4, 10),
                    received_day=None,
                    status="open",
                ),  # promised after every due day in view: never counted
            ],
        )
    marts.refresh(engine)


BACKENDS = ("sqlite", "postgresql")


def warehouse(backend: str, tmp_path_factory):
    """Yield an engine of this fixture, built once, for tests that only read it; a test module
    makes it a fixture:

        @pytest.fixture(scope="module", params=ops_fixture.BACKENDS)
        def ops_db(request, tmp_path_factory):
            yield from ops_fixture.warehouse(request.param, tmp_path_factory)

    PostgreSQL gets a database of its own, dropped afterwards, so the function-scoped
    fixtures of conftest.py never see (or drop) these tables.
    """
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ops') / 'warehouse.db'}")
        migrate.upgrade(engine)
        build(engine)
        yield engine
        engine.dispose()
        return
    name = f"pnct_ops_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        migrate.upgrade(engine)
        build(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
