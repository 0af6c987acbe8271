"""Issue 14, defect 1: a projection from the last stock count counts what moved after it.

The audit's case: fragrance oil counted at 670,630 kg, 5.8 M kg received the next day; the
product projected from the count minus consumption and raised a shortage. Every reader that
starts from a count (risk signals, shortage probability and rule, scenario inputs, material
days of supply and schedule risk) must see the receipt. On SQLite and PostgreSQL.
"""

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from data_access import intelligence, signal_inputs, stock
from data_access import operations as ops
from data_access.schema import (
    demand_daily,
    inventory_snapshot,
    material,
    plant,
    plant_material,
    purchase_order,
    region,
    supplier,
)
from data_access.scope import PlantScope
from forecasting import shortage as sh
from governance import signals

COUNT_DAY = date(2026, 6, 1)
AS_OF_DAY = date(2026, 6, 4)
DAILY = 100_000.0  # kg a day: the count alone lasts 6.7 days, the lead time is 14
ALL = PlantScope.everything()


def _build(engine, receipt_day=COUNT_DAY + timedelta(days=1)):
    with engine.begin() as conn:
        conn.execute(region.insert(), [{"region_id": "EU", "name": "Europe"}])
        conn.execute(
            plant.insert(),
            [
                dict(
                    plant_id="P",
                    name="Plant",
                    region_id="EU",
                    country="FR",
                    timezone="Europe/Paris",
                    lat=0.0,
                    lon=0.0,
                    data_maturity="mes",
                    maintenance_workflow="sap_pm",
                    currency="EUR",
                )
            ],
        )
        conn.execute(
            material.insert(),
            [
                dict(
                    material_id="OIL",
                    name="Fragrance oil",
                    material_type="raw",
                    unit="kg",
                    unit_cost=24.0,
                    asset_class=None,
                )
            ],
        )
        conn.execute(supplier.insert(), [dict(supplier_id="S1", name="Aromas SA", country="ES")])
        conn.execute(
            plant_material.insert(),
            [
                dict(
                    plant_id="P",
                    material_id="OIL",
                    local_code="FO",
                    supplier_id="S1",
                    lead_time_days=14,
                    safety_stock=0,
                    reorder_point=0,
                )
            ],
        )
        conn.execute(
            inventory_snapshot.insert(), [dict(plant_id="P", material_id="OIL", day=COUNT_DAY, on_hand=670_630.0)]
        )
        conn.execute(
            purchase_order.insert(),
            [
                dict(
                    po_id="PO-1",
                    plant_id="P",
                    material_id="OIL",
                    supplier_id="S1",
                    qty=5_800_000.0,
                    ordered_day=COUNT_DAY - timedelta(days=14),
                    promised_day=receipt_day,
                    received_day=receipt_day,
                    status="received",
                )
            ],
        )
        conn.execute(
            demand_daily.insert(),
            [
                dict(plant_id="P", material_id="OIL", day=COUNT_DAY - timedelta(days=k), qty=DAILY)
                for k in range(-3, 60)
            ],
        )


def test_roll_forward_adds_receipts_and_never_goes_below_zero():
    counts = pd.DataFrame(
        [
            dict(plant_id="P", material_id="M", snapshot_day=date(2026, 1, 1), on_hand=5.0),
            dict(plant_id="P", material_id="N", snapshot_day=None, on_hand=float("nan")),
        ]
    )
    moves = pd.DataFrame(
        [
            dict(plant_id="P", material_id="M", day=date(2026, 1, 1), received=99.0, consumed=0.0),  # in the count
            dict(plant_id="P", material_id="M", day=date(2026, 1, 2), received=0.0, consumed=10.0),  # 5 lost
            dict(plant_id="P", material_id="M", day=date(2026, 1, 3), received=20.0, consumed=3.0),
        ]
    )
    out = stock.roll_forward(counts, moves).set_index("material_id")
    assert out.loc["M", "on_hand"] == 17.0  # max(5 - 10, 0) + 20 - 3, not 5 - 10 + 20 - 3 = 12
    assert out.loc["M", "counted_on_hand"] == 5.0 and out.loc["M", "received_after_count"] == 20.0
    assert out.loc["M", "consumed_after_count"] == 13.0
    assert pd.isna(out.loc["N", "on_hand"])


def test_every_stock_reader_counts_the_receipt_after_the_count(empty_engine):
    _build(empty_engine)
    expected = 670_630.0 + 5_800_000.0 - 3 * DAILY  # three days of use after the count
    supply = signal_inputs.supply_position(empty_engine, ALL, AS_OF_DAY, 28).iloc[0]
    assert supply["on_hand"] == pytest.approx(expected) and supply["counted_on_hand"] == 670_630.0
    assert intelligence.material_stock(empty_engine, ALL, AS_OF_DAY)["on_hand"].iloc[0] == pytest.approx(expected)
    positions = ops.material_positions(empty_engine, ALL, AS_OF_DAY - timedelta(days=27), AS_OF_DAY)
    assert positions["on_hand"].iloc[0] == pytest.approx(expected)  # material days of supply, schedule risk
    # as of the count day itself nothing has moved yet
    assert signal_inputs.supply_position(empty_engine, ALL, COUNT_DAY, 28)["on_hand"].iloc[0] == 670_630.0


def test_no_shortage_alarm_after_a_large_receipt(empty_engine):
    _build(empty_engine)
    as_of = datetime(2026, 6, 4, 12, tzinfo=timezone.utc)
    found = signals.risk_signals(empty_engine, ALL, as_of, kinds=("shortage",))
    row = found.iloc[0]
    assert row["risk"] == 0.0  # 6.2 M kg cover 62 days, more than the 14-day lead time
    assert row["evidence"]["received_after_count"] == 5_800_000.0
    stock_now = intelligence.material_stock(empty_engine, ALL, AS_OF_DAY)
    use = intelligence.material_consumption(empty_engine, ALL, AS_OF_DAY - timedelta(days=60), AS_OF_DAY)
    no_pos = intelligence.open_purchase_orders(empty_engine, ALL, AS_OF_DAY)
    record = pd.DataFrame(columns=["supplier_id", "delay_days"])
    assert sh.shortage_probability(stock_now, use, no_pos, record, {}, AS_OF_DAY)["risk"].iloc[0] == 0.0
    assert sh.shortage_rule(stock_now, use, no_pos, AS_OF_DAY)["risk"].iloc[0] == 0.0


def test_without_the_receipt_the_shortage_is_still_found(empty_engine):
    _build(empty_engine, receipt_day=AS_OF_DAY + timedelta(days=30))  # received after as_of: not yet
    as_of = datetime(2026, 6, 4, 12, tzinfo=timezone.utc)
    row = signals.risk_signals(empty_engine, ALL, as_of, kinds=("shortage",)).iloc[0]
    # 370,630 kg left cover 3.7 of 14 days: short 10.3 days
    assert row["risk"] == pytest.approx((14 - 370_630.0 / DAILY) / 14, abs=1e-3)
