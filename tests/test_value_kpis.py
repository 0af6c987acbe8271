"""Issue 14: the value KPIs (service level, procurement responsiveness, value realized) against
values worked out by hand on the tiny network (tests/tiny_network.py) plus a few decisions,
on SQLite and PostgreSQL; the Value page in AppTest; empty periods explained, never zero."""

import math
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sqlalchemy import update

from components.filters import Selection
from components.value import value_view
from data_access import kpis, migrate
from data_access import value as vq
from data_access.engine import make_engine
from data_access.schema import downtime_event, plan_revision, production_daily, purchase_order, recommendation
from data_access.scope import PlantScope
from tests import tiny_network
from tests.apptest import healthy, metric_values

START, END = tiny_network.DAYS[0], tiny_network.DAYS[-1]
ALL = PlantScope.everything()
EMPTY = (date(2025, 1, 1), date(2025, 1, 31))


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _rec(rec_id, plant_id, kind, subject_id, state, created, decided, risk, evidence, cost=None):
    return dict(
        rec_id=rec_id,
        plant_id=plant_id,
        kind=kind,
        subject_id=subject_id,
        signal_key=f"k{rec_id}",
        title=f"{kind} {subject_id}",
        risk=risk,
        estimated_cost=cost,
        evidence=evidence,
        state=state,
        version=2,
        created_utc=created,
        expires_utc=None,
        decided_utc=decided,
    )


def build(engine):
    """The tiny network plus:
    - maintenance rec 1 on A's capper, raised 30 Mar 00:00 UTC, approved 03:00: the capper failed
      2 h on the 29th (2 days of downtime data before: 1 h/day) and 1 h on the 30th at 06:00, after
      it; data to the end of the 31st: 1.875 days after -> 1 x 1.875 - 1 = 0.875 h avoided;
      expected 0.5 x 2 h MTTR = 1 h.
    - shortage rec 2 on A's resin, raised 28 Mar 08:00, approved 12:00, 300 kg at 2.0: 600 committed;
      counted 50 kg on the 30th (inside its 5-day lead time): no stockout followed. A's next
      resin order (PO-A5) was placed on the 29th: 1 day from signal to order.
    - shortage rec 3 on B's resin, raised 29 Mar, still open, never followed by an order.
    - rejected maintenance rec 4: not value.
    - at B, failures on the 29th (good output 10,000 against 30,000 on the 28th; 28,500 = 95 % on the
      30th: recovered in 1 day) and on the 31st (5,000 against the mean of the three days before,
      22,833: not recovered within the data). A's failures on the 29th and 30th leave its output at
      8,100: recovered the same day (0 days).
    """
    tiny_network.build(engine)
    with engine.begin() as conn:
        for day, good in ((29, 10000), (30, 28500), (31, 5000)):
            conn.execute(
                update(production_daily)
                .where(production_daily.c.line_id == "B-L1", production_daily.c.day == date(2026, 3, day))
                .values(good_qty=good)
            )
        conn.execute(
            downtime_event.insert(),
            [
                dict(
                    plant_id="B",
                    line_id="B-L1",
                    asset_id="B-L1-FIL",
                    start_utc=utc(2026, 3, day, 14),
                    end_utc=utc(2026, 3, day, 18),
                    day=date(2026, 3, day),
                    duration_s=14400,
                    reason_code="MECH_FAIL",
                    category="failure",
                    is_failure=True,
                    local_reason="jam",
                )
                for day in (29, 31)
            ],
        )
        # plans of A's orders (all planned to start 27 Mar 00:00 UTC, Berlin day the 27th)
        revision = dict(plant_id="A", line_id="A-L1", old_due_utc=None, new_due_utc=None)
        conn.execute(
            plan_revision.insert(),
            [
                dict(
                    revision,
                    order_id="A-1",
                    revised_utc=utc(2026, 3, 25),
                    old_qty=80,
                    new_qty=100,  # frozen: +20
                    old_planned_start_utc=utc(2026, 3, 26),
                    new_planned_start_utc=utc(2026, 3, 26),
                ),
                dict(
                    revision,
                    order_id="A-1",
                    revised_utc=utc(2026, 3, 26),
                    old_qty=100,
                    new_qty=100,  # frozen: moved
                    old_planned_start_utc=utc(2026, 3, 26),
                    new_planned_start_utc=utc(2026, 3, 27),
                ),
                dict(
                    revision,
                    order_id="A-2",
                    revised_utc=utc(2026, 3, 10),
                    old_qty=200,
                    new_qty=100,  # 16 d before
                    old_planned_start_utc=utc(2026, 3, 27),
                    new_planned_start_utc=utc(2026, 3, 27),
                ),
            ],
        )
        conn.execute(
            purchase_order.insert(),
            [
                dict(
                    po_id="PO-A5",
                    plant_id="A",
                    material_id="RAW",
                    supplier_id="S1",
                    qty=300,
                    ordered_day=date(2026, 3, 29),
                    promised_day=date(2026, 4, 3),
                    received_day=None,
                    status="open",
                )
            ],
        )
        conn.execute(
            recommendation.insert(),
            [
                _rec(
                    1,
                    "A",
                    "maintenance",
                    "A-L1-CAP",
                    "approved",
                    utc(2026, 3, 30),
                    utc(2026, 3, 30, 3),
                    0.5,
                    {"mttr_hours": 2.0},
                    cost=1200.0,
                ),
                _rec(
                    2,
                    "A",
                    "shortage",
                    "RAW",
                    "approved",
                    utc(2026, 3, 28, 8),
                    utc(2026, 3, 28, 12),
                    0.7,
                    {
                        "lead_time_days": 5,
                        "unit_cost": 2.0,
                        "days_short_within_lead_time": 2.5,
                        "action": {"qty": 300.0},
                    },
                    cost=600.0,
                ),
                _rec(3, "B", "shortage", "RAW", "open", utc(2026, 3, 29, 9), None, 0.6, {"lead_time_days": 9}),
                _rec(4, "A", "maintenance", "A-L1-CAP", "rejected", utc(2026, 3, 31), utc(2026, 3, 31, 1), 0.6, {}),
            ],
        )


@pytest.fixture
def valued(empty_engine):
    build(empty_engine)
    return empty_engine


def test_service_level_is_on_time_in_full(valued):
    s = vq.service_components(valued, ALL, START, END).set_index("plant_id")
    # A: A-1 on time (3 h late, within 4 h) and full; A-2 5 h late and 90 of 100; A-3 unfinished; A-4 undated
    assert s.loc["A"].tolist() == [3, 1, 1, 1] and s.loc["B"].tolist() == [1, 1, 1, 1]
    assert kpis.service_level(s["orders_otif"].sum(), s["orders_due"].sum()) == pytest.approx(2 / 4)
    assert vq.service_components(valued, ALL, *EMPTY).empty


def test_procurement_responsiveness(valued):
    p = vq.procurement_components(valued, ALL, START, END).set_index("plant_id")
    assert p.loc["A", "pos_received"] == 2 and p.loc["A", "order_to_receipt_days"] == 9 + 10  # 20 Mar -> 29, 30
    assert p.loc["B", "pos_received"] == 1 and p.loc["B", "order_to_receipt_days"] == 9
    assert (p.loc["A", "shortage_signals"], p.loc["A", "signals_ordered"], p.loc["A", "signal_to_po_days"]) == (1, 1, 1)
    assert (p.loc["B", "shortage_signals"], p.loc["B", "signals_ordered"]) == (1, 0)
    network = kpis.mean_days(p["order_to_receipt_days"].sum(), p["pos_received"].sum())
    assert network == pytest.approx(28 / 3)


def test_value_realized_per_approved_recommendation(valued):
    o = vq.value_outcomes(valued, ALL, START, END).set_index("rec_id")
    assert list(o.index) == [1, 2]  # the open and the rejected ones are not value
    m = o.loc[1]
    assert m["expected"] == pytest.approx(1.0) and m["rate_before_h_per_day"] == pytest.approx(1.0)
    assert m["hours_after"] == pytest.approx(1.0) and m["observed_days"] == pytest.approx(1.875)
    assert m["downtime_avoided_h"] == pytest.approx(0.875)
    s = o.loc[2]
    assert s["stockout_followed"] is False and s["working_capital"] == pytest.approx(600.0)
    assert s["expected"] == pytest.approx(2.5)
    assert vq.value_outcomes(valued, ALL, *EMPTY).empty


def test_resilience_time_to_recover_from_line_failures(valued):
    r = vq.recoveries(valued, ALL, START, END).set_index(["line_id", "day"])
    assert r["days_to_recover"].to_dict() == pytest.approx(
        {
            ("A-L1", date(2026, 3, 29)): 0.0,
            ("A-L1", date(2026, 3, 30)): 0.0,
            ("B-L1", date(2026, 3, 29)): 1.0,
            ("B-L1", date(2026, 3, 31)): float("nan"),
        },
        nan_ok=True,
    )
    assert r.loc[("B-L1", date(2026, 3, 31)), "baseline_output"] == pytest.approx((30000 + 10000 + 28500) / 3)
    assert r.loc[("B-L1", date(2026, 3, 31)), "recovered_day"] is None
    assert vq.recoveries(valued, ALL, *EMPTY).empty


def test_quality_cost_values_scrap_at_the_lines_products(valued):
    q = vq.quality_components(valued, ALL, START, END).set_index("plant_id")
    assert q.loc["A", "scrap_qty"] == 4 * 900 and q.loc["A", "scrap_cost"] == pytest.approx(3600.0)  # bottles at 1.0
    assert q.loc["B", "scrap_qty"] == 20000 + 1500 + 25000 and q.loc["B", "scrap_cost"] == pytest.approx(46500.0)
    assert vq.quality_components(valued, ALL, *EMPTY).empty


def test_schedule_stability_counts_changes_inside_the_frozen_horizon(valued):
    week = date(2026, 3, 23)
    s = vq.stability_components(valued, ALL, week, END).set_index("plant_id")
    a = s.loc["A"]
    assert a["week_start"] == week and a["orders_planned"] == 4
    assert a["planned_qty"] == 80 + 100 + 100 + 100  # A-1 as frozen (80); A-2's change came before the horizon
    assert (a["changed_qty"], a["orders_redated"], a["revisions"], a["revisions_any"]) == (20, 1, 2, 3)
    assert (s.loc["B", "orders_planned"], s.loc["B", "revisions_any"]) == (1, 0)
    assert vq.stability_components(valued, ALL, START, END).empty  # no order starts on the 28th..31st
    view = value_view(valued, Selection(ALL, week, END))
    assert view.totals["plan_qty_change"] == pytest.approx(20 / 480)
    assert view.totals["plan_date_change"] == pytest.approx(1 / 5)
    b = value_view(valued, Selection(PlantScope.only({"B"}), week, END))
    assert math.isnan(b.totals["plan_qty_change"])  # B records no revision: no value, not "stable"
    assert b.why_empty["plan_qty_change"].startswith("No plan revision was recorded")
    assert value_view(valued, Selection(ALL, START, END)).why_empty["plan_date_change"] == (
        "No production order was planned to start in these 4 days."
    )


def test_the_sample_network_records_plan_revisions_that_differ_by_plant(small_network_url):
    engine = make_engine(small_network_url)
    s = vq.stability_components(engine, ALL, date(2026, 3, 2), date(2026, 6, 28))
    engine.dispose()
    per_plant = s.groupby("plant_id")[["orders_planned", "revisions_any", "changed_qty", "planned_qty"]].sum()
    share = per_plant["revisions_any"] / per_plant["orders_planned"]
    assert (per_plant["revisions_any"] > 0).all() and share.max() > 2 * share.min()
    assert (per_plant["changed_qty"] < per_plant["planned_qty"]).all()


def test_the_view_rolls_up_by_summing_and_explains_empty_periods(valued):
    view = value_view(valued, Selection(ALL, START, END))
    t = view.totals
    assert t["service_level"] == pytest.approx(0.5) and t["order_to_receipt_d"] == pytest.approx(28 / 3)
    assert t["signal_to_po_d"] == pytest.approx(1.0) and t["downtime_avoided_h"] == pytest.approx(0.875)
    assert t["stockout_avoided"] == 1.0 and t["working_capital"] == pytest.approx(600.0)
    assert t["time_to_recover_d"] == pytest.approx(1 / 3)  # 0 + 0 + 1 days over 3 recovered; 1 still open
    assert t["quality_cost"] == pytest.approx(3600.0 + 46500.0)
    assert set(view.why_empty) == {"plan_qty_change", "plan_date_change"}  # no order starts on the 28th..31st
    a = view.plants.set_index("plant_id").loc["A"]
    assert a["service_level"] == pytest.approx(1 / 3) and a["order_to_receipt_d"] == pytest.approx(9.5)
    empty = value_view(valued, Selection(ALL, *EMPTY))
    assert all(math.isnan(empty.totals[k]) for k in kpis.VALUE_KPI_CATALOG)  # never 0 by accident
    assert set(empty.why_empty) == set(kpis.VALUE_KPI_CATALOG)
    assert empty.why_empty["service_level"] == "No production order was due in these 31 days."
    only_b = value_view(valued, Selection(PlantScope.only({"B"}), START, END))
    assert only_b.why_empty["signal_to_po_d"].startswith("None of the 1 shortage recommendations")
    assert set(only_b.plants["plant_id"]) == {"B"}


@pytest.fixture(scope="module")
def value_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('value_page') / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    build(engine)
    engine.dispose()
    return url


def test_the_value_page_shows_the_kpis_method_and_outcomes(open_app, value_url):
    at = open_app(value_url, "coo", "pages/value.py")
    assert at.title[0].value == "Value"
    m = metric_values(at)
    assert m["Service level (OTIF) (%)"] == "50.0 %" and m["Downtime avoided (h)"] == "0.9 h"
    assert m["Working capital committed (EUR)"] == "600.0 EUR"
    outcomes = next(df.value for df in at.dataframe if "downtime_avoided_h" in df.value and "rec_id" in df.value)
    assert outcomes["rec_id"].tolist() == [1, 2]
    assert any(s.value == "Method and limits" for s in at.subheader)
    pm = open_app(value_url, "pm_b", "pages/value.py")  # plant B only: nothing approved there
    healthy(pm)
    assert metric_values(pm)["Downtime avoided (h)"] == "no data"
    assert metric_values(pm)["Time to recover (d)"] == "1.0 d"
    assert any("No maintenance or shortage recommendation was approved" in i.value for i in pm.info)
    assert all(isinstance(v, str) for v in pd.Series(metric_values(pm)))


def test_money_is_shown_with_its_currency():
    from components.decisions import cost_metric, evidence_readings
    from components.formatting import format_money

    assert kpis.REFERENCE_CURRENCY == "EUR"  # the sample network's unit costs (docs/decisions.md no. 14)
    assert format_money(134_600_000.4) == "134,600,000 EUR" and format_money(-5, signed=True) == "-5 EUR"
    assert format_money(float("nan")) == "n/a"
    readings = dict(evidence_readings({"unit_cost": 2.5, "qty": 3, "rule": {"labour_cost": 85}}).values.tolist())
    assert readings == {"unit_cost": "2.50 EUR", "qty": "3", "rule.labour_cost": "85.00 EUR"}
    assert cost_metric({"kind": "shortage", "estimated_cost": 134_600_000.0})[1] == "134,600,000 EUR"


def test_the_date_filter_reaches_today_in_every_time_zone():
    from components.filters import latest_local_today

    assert latest_local_today() >= datetime.now(timezone.utc).date()
