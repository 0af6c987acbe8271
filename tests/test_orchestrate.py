"""Orchestration on SQLite and PostgreSQL: from a degrading asset in the generated network to an
outbox row; idempotent runs; plant thresholds, stale feeds, automation and model fallback from the
policy; SLA escalation and expiry in a run; the fallback rules and the model plug-in point; the CLI."""

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, update

import sample_data
from data_access import decision_kpis, migrate
from data_access import decisions as dq
from data_access.engine import make_engine
from data_access.frames import as_utc
from data_access.schema import (
    audit_log,
    inventory_snapshot,
    material,
    production_daily,
    purchase_order,
    recommendation,
)
from data_access.scope import PlantScope
from governance import audit, orchestrate, policies, signals, workflow
from governance.users import User
from jobs import pipeline
from tests import tiny_network
from tests.helpers import sqlite_copy

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 7, 1, 8, tzinfo=timezone.utc)  # the generated networks end on 2026-06-30
SEED_ASSET = "NA-JOL-L1-A02"  # Joliet's packaging-line bottleneck: degrading at the end of the data

ML = User("ml_jol", "ML", "ml@example.com", ("maintenance_lead",), frozenset({"NA-JOL"}))
PM = User("pm_jol", "PM", "pm@example.com", ("plant_manager",), frozenset({"NA-JOL"}))
PLANNER = User("planner_jol", "PL", "pl@example.com", ("planner",), frozenset({"NA-JOL"}))
ADMIN = User("admin", "Admin", "a@example.com", ("admin",), None)
COO = User("coo", "COO", "coo@example.com", ("executive",), None)


@pytest.fixture
def network(backend_url, small_network_url, tmp_path):
    """The generated network: a copy of the 4-plant SQLite one, or 2 plants x 90 days on PostgreSQL."""
    if backend_url.startswith("sqlite"):
        engine = make_engine(sqlite_copy(small_network_url, tmp_path / "network.db"))
        migrate.upgrade(engine)
    else:
        engine = make_engine(backend_url)
        sample_data.generate(engine, plants=2, days=90, seed=7, end_day=date(2026, 6, 30))
    yield engine
    engine.dispose()


def recs(engine, **where):
    stmt = select(recommendation).order_by(recommendation.c.rec_id)
    for name, value in where.items():
        stmt = stmt.where(recommendation.c[name] == value)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_from_a_degrading_asset_to_an_outbox_row(network):
    report = pipeline.orchestrate_decisions(network, AS_OF)
    assert report.created and not report.auto_approved
    [rec] = recs(network, subject_id=SEED_ASSET)
    assert (rec["plant_id"], rec["kind"], rec["state"], rec["source"]) == (
        "NA-JOL",
        "maintenance",
        "open",
        "fallback_rule",
    )
    evidence = rec["evidence"]
    assert rec["risk"] >= 0.5 and evidence["asset_class"] == "sealer" and evidence["criticality"] == "A"
    assert evidence["health"]["vibration_ratio"] > 1.3  # the sensors show the degradation
    assert evidence["rule"] in ("health_trend", "weibull_hazard")
    parts = pd.DataFrame(evidence["spare_parts"])
    assert set(parts["plant_id"]) > {"NA-JOL"}  # on hand here and at the other plants
    assert set(parts["name"]) == {"Sealing jaw set", "Heating element"}
    assert evidence["schedule_impact"], "production orders on the line in the repair window"
    assert all(o["order_id"].startswith("NA-JOL-L1-") for o in evidence["schedule_impact"])
    breakdown = evidence["cost_breakdown"]
    assert rec["estimated_cost"] == pytest.approx(breakdown["parts"] + breakdown["labour"])
    assert breakdown["parts"] == 880.0 + 140.0
    assert rec["routing"]["approvers"] == ["maintenance_lead"]
    assert as_utc(rec["sla_due_utc"]) == AS_OF + timedelta(hours=24)

    again = pipeline.orchestrate_decisions(network, AS_OF)
    assert again.created == [] and again.already_raised == report.above_threshold
    assert len(recs(network)) == len(report.created)

    queue = dq.action_queue(network, ML.scope, ML.roles, only_mine=True)
    assert rec["rec_id"] in queue["rec_id"].tolist()
    approved = workflow.decide(
        network, ML, rec["rec_id"], "approve", version=1, reason="jaws worn", now=AS_OF + timedelta(hours=3)
    )
    assert approved.state == "approved" and approved.follow_up_rec_id is not None
    [sent] = dq.outbox_rows(network, ML.scope).query(f"rec_id == {rec['rec_id']}").to_dict("records")
    assert (sent["target"], sent["request_type"]) == ("cmms", "work_order_request")
    assert sent["payload"]["asset_id"] == SEED_ASSET and sent["payload"]["priority"] == "high"
    assert [p["name"] for p in sent["payload"]["parts"]] == ["Sealing jaw set", "Heating element"]

    follow = recs(network, rec_id=approved.follow_up_rec_id)[0]
    assert (follow["kind"], follow["subject_id"], follow["routing"]["approvers"]) == (
        "schedule",
        "NA-JOL-L1",
        ["planner"],
    )
    assert follow["evidence"]["action"]["orders"] == [o["order_id"] for o in evidence["schedule_impact"]]
    done = workflow.decide(network, PLANNER, follow["rec_id"], "approve", version=1, now=AS_OF + timedelta(hours=4))
    assert done.state == "approved"
    requests = dq.outbox_rows(network, PLANNER.scope)
    assert set(requests["request_type"]) == {"work_order_request", "reschedule_request"}
    result = audit.verify(network)
    assert result.ok and result.rows_checked == count(network, audit_log)


def test_a_shortage_and_a_quality_drop_become_a_requisition_and_a_hold(network):
    pm_scope = PlantScope.only({"NA-JOL"})
    with network.begin() as conn:  # Joliet's raw material RM-2003: nothing left, no open order
        material = (
            "RM-2003"
            if conn.execute(
                select(func.count())
                .select_from(inventory_snapshot)
                .where(inventory_snapshot.c.plant_id == "NA-JOL", inventory_snapshot.c.material_id == "RM-2003")
            ).scalar()
            else None
        )
        material = (
            material
            or conn.execute(
                select(inventory_snapshot.c.material_id)
                .where(inventory_snapshot.c.plant_id == "NA-JOL", inventory_snapshot.c.material_id.like("RM-%"))
                .limit(1)
            ).scalar()
        )
        conn.execute(
            update(inventory_snapshot)
            .where(inventory_snapshot.c.plant_id == "NA-JOL", inventory_snapshot.c.material_id == material)
            .values(on_hand=0)
        )
        conn.execute(
            update(purchase_order)
            .where(
                purchase_order.c.plant_id == "NA-JOL",
                purchase_order.c.material_id == material,
                purchase_order.c.status == "open",
            )
            .values(status="cancelled")
        )
        # Packaging 2 loses 5 points of quality over its last week
        conn.execute(
            update(production_daily)
            .where(production_daily.c.line_id == "NA-JOL-L2", production_daily.c.day > date(2026, 6, 23))
            .values(good_qty=production_daily.c.produced_qty * 0.92)
        )
    pipeline.orchestrate_decisions(network, AS_OF)
    [short] = recs(network, subject_id=material, plant_id="NA-JOL")
    assert short["kind"] == "shortage" and short["risk"] == 1.0
    assert short["evidence"]["action"]["qty"] > 0 and short["evidence"]["open_purchase_orders"] == []
    assert short["estimated_cost"] == pytest.approx(
        short["evidence"]["action"]["qty"] * short["evidence"]["unit_cost"], rel=1e-6
    )
    # above the default shortage band's 50,000 a second approver, an executive, signs too (issue 14)
    large = short["estimated_cost"] > 50000
    assert "alternative_suppliers" in short["evidence"]
    assert short["routing"]["approvers"] == (["plant_manager", "executive"] if large else ["plant_manager"])
    [drop] = recs(network, subject_id="NA-JOL-L2", kind="quality")
    assert drop["evidence"]["drop_pp"] > 4 and drop["evidence"]["affected_lots"]
    assert drop["evidence"]["action"]["disposition"] == "hold"
    workflow.decide(network, PM, short["rec_id"], "approve", version=1, now=AS_OF)
    if large:
        assert recs(network, subject_id=material, plant_id="NA-JOL")[0]["state"] == "open"  # one of two signed
        workflow.decide(network, COO, short["rec_id"], "approve", version=2, now=AS_OF)
    workflow.decide(
        network,
        PM,
        drop["rec_id"],
        "override",
        version=1,
        reason="inspect first",
        override_value={"disposition": "inspect"},
        now=AS_OF,
    )
    sent = dq.outbox_rows(network, pm_scope).set_index("rec_id")
    assert sent.loc[short["rec_id"], "request_type"] == "purchase_requisition"
    assert sent.loc[short["rec_id"], "target"] == "erp"
    assert sent.loc[drop["rec_id"], "request_type"] == "quality_hold_request"
    assert sent.loc[drop["rec_id"], "payload"]["disposition"] == "inspect"
    assert audit.verify(network).ok


# --- policy-driven behaviour on the tiny network, with signals given by hand ----------------------

NOW = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)  # the tiny network's production feed of A is fresh


@pytest.fixture
def tiny(empty_engine):
    tiny_network.build(empty_engine)
    with empty_engine.begin() as conn:  # the tiny network's multi-row insert drops the part's asset class
        conn.execute(update(material).where(material.c.material_id == "SPARE").values(asset_class="capper"))
    return empty_engine


def given(*rows):
    """A signals_fn returning these signals (plant, kind, subject, risk, episode[, feeds, source])."""
    frame = pd.DataFrame(
        [
            {
                "plant_id": plant,
                "kind": kind,
                "subject_id": subject,
                "risk": risk,
                "episode": episode,
                "source": source,
                "feeds": feeds,
                "evidence": {
                    "rule": "test",
                    "asset_class": "capper",
                    "criticality": "A",
                    "asset_name": "Capper 1",
                    "line_id": f"{plant}-L1",
                    "line_name": "Line 1",
                    "mttr_hours": 2.0,
                    "horizon_days": 7,
                    "days_since_repair": 3,
                },
            }
            for plant, kind, subject, risk, episode, feeds, source in [
                (r + (["production"], "fallback_rule"))[:7] for r in rows
            ]
        ],
        columns=signals.COLUMNS,
    )
    return lambda engine, scope, now, params: frame


def test_only_signals_at_or_above_the_plant_threshold_raise_and_only_once(tiny):
    policies.set_value(tiny, ADMIN, "B", "risk_threshold.maintenance", 0.9, "B is noisy")
    fn = given(("A", "maintenance", "A-L1-CAP", 0.5, "e1"), ("B", "maintenance", "B-L1-FIL", 0.8, "e1"))
    report = orchestrate.run(tiny, NOW, signals_fn=fn)
    assert (report.signals, report.above_threshold, len(report.created)) == (2, 1, 1)
    [rec] = recs(tiny)
    assert (rec["plant_id"], rec["signal_key"]) == ("A", "maintenance:A:A-L1-CAP:e1")
    assert rec["evidence"]["spare_parts"][0]["material_id"] == "SPARE"  # the capper part on hand at A
    assert rec["evidence"]["parts_check"] == "all parts of the kit are on hand at the plant"
    # the same signals, and a new episode of the same subject while the first is still open
    assert orchestrate.run(tiny, NOW, signals_fn=fn).created == []
    fn2 = given(("A", "maintenance", "A-L1-CAP", 0.7, "e2"))
    assert orchestrate.run(tiny, NOW, signals_fn=fn2).already_raised == 1
    workflow.decide(
        tiny,
        User("ml", "ML", "m@x.io", ("maintenance_lead",), frozenset({"A"})),
        rec["rec_id"],
        "reject",
        version=1,
        reason="repaired yesterday",
        now=NOW,
    )
    assert len(orchestrate.run(tiny, NOW, signals_fn=fn2).created) == 1  # a new episode once decided
    assert orchestrate.run(tiny, NOW, signals_fn=fn).created == []  # the old episode never again


def test_a_stale_feed_holds_or_flags_a_signal_by_policy(tiny):
    fn = given(("B", "maintenance", "B-L1-FIL", 0.9, "e1"))  # B's production feed is 3 days old at NOW
    assert orchestrate.run(tiny, NOW, signals_fn=fn).created  # default rule: manual_only
    [rec] = recs(tiny)
    assert rec["evidence"]["stale_feeds"] == ["production"]
    assert rec["evidence"]["stale_feed_rule"] == "manual_only"
    policies.set_value(tiny, ADMIN, "B", "stale_feed_rule", "hold", "no decisions on old data")
    report = orchestrate.run(tiny, NOW, signals_fn=given(("B", "shortage", "RAW", 0.9, "e1")))
    assert (report.held_stale_feed, report.created) == (1, [])


def test_a_longer_feed_grace_in_the_policy_makes_the_same_feed_fresh(tiny):
    policies.set_value(tiny, ADMIN, "B", "feed_grace_hours", 72, "B reports production every few days")
    orchestrate.run(tiny, NOW, signals_fn=given(("B", "maintenance", "B-L1-FIL", 0.9, "e1")))
    [rec] = recs(tiny)
    assert "stale_feeds" not in rec["evidence"]  # 72 h old: within 24 h cadence + 72 h


def test_automation_approves_cheap_items_unless_the_feed_is_stale(tiny):
    for key, value in (("auto_approve_max_cost.maintenance", 1000), ("automation_level", "assisted")):
        policies.set_value(tiny, ADMIN, None, key, value, "pilot of assisted mode")
    fn = given(("A", "maintenance", "A-L1-CAP", 0.9, "e1"), ("B", "maintenance", "B-L1-FIL", 0.9, "e1"))
    report = orchestrate.run(tiny, NOW, signals_fn=fn)
    a, b = recs(tiny)
    assert report.auto_approved == [a["rec_id"]]  # B's feed is stale: it waits for a person
    assert (a["state"], a["version"], b["state"]) == ("approved", 2, "open")
    [sent] = dq.outbox_rows(tiny, PlantScope.everything()).to_dict("records")
    assert sent["rec_id"] == a["rec_id"] and sent["payload"]["approved_by"] == [
        {"username": "system", "role": "system"}
    ]
    with tiny.connect() as conn:
        actions = (
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.entity_id == str(a["rec_id"])).order_by(audit_log.c.seq)
            )
            .scalars()
            .all()
        )
    assert actions == ["recommendation_created", "recommendation_auto_approved"]
    kpis = decision_kpis.decision_kpis(tiny, PlantScope.everything(), NOW.date(), NOW.date(), by=()).iloc[0]
    assert (kpis["auto_approved"], kpis["decided"], kpis["pending"]) == (1, 0, 1)


def test_without_fallback_rules_a_plant_raises_from_models_only(tiny):
    policies.set_value(tiny, ADMIN, "A", "model_fallback", "none", "waiting for the model")
    fn = given(
        ("A", "maintenance", "A-L1-CAP", 0.9, "e1"),
        ("A", "maintenance", "A-L1-CAP2", 0.9, "e1", ["production"], "model"),
    )
    report = orchestrate.run(tiny, NOW, signals_fn=fn)
    assert report.no_fallback == 1 and [r["source"] for r in recs(tiny)] == ["model"]


def test_a_run_escalates_after_the_sla_and_expires_later(tiny):
    fn = given(("A", "quality", "A-L1", 0.9, "w1"))
    orchestrate.run(tiny, NOW, signals_fn=fn)
    [rec] = recs(tiny)
    assert rec["evidence"]["affected_lots"] == [] or isinstance(rec["evidence"]["affected_lots"], list)
    later = orchestrate.run(tiny, NOW + timedelta(hours=13), signals_fn=given())
    assert later.escalated == [rec["rec_id"]] and recs(tiny)[0]["state"] == "escalated"
    last = orchestrate.run(tiny, NOW + timedelta(hours=73), signals_fn=given())
    assert last.expired == [rec["rec_id"]] and recs(tiny)[0]["state"] == "expired"
    assert audit.verify(tiny).ok


# --- the signal rules and the model plug-in point ------------------------------------------------


def test_the_weibull_hazard_rises_with_time_since_repair_and_horizon():
    p = signals.weibull_failure_probability
    assert p(0, 7, 30, 2.0) < p(20, 7, 30, 2.0) < p(60, 7, 30, 2.0) < 1
    assert p(10, 1, 30, 2.0) < p(10, 7, 30, 2.0)
    assert p(10, 7, 30, 1.0) == pytest.approx(1 - pytest.importorskip("math").exp(-7 / 30))  # memoryless
    assert p(10, 7, float("nan"), 2.0) == 0.0 and p(10, 7, 0, 2.0) == 0.0


@pytest.mark.parametrize(
    "on_hand, daily, lead, arrivals, short",
    [
        (100, 10, 5, [], 0.0),  # 10 days of cover
        (20, 10, 5, [], 3.0),  # out after 2 days
        (0, 10, 5, [], 5.0),
        (0, 10, 5, [(2.0, 1000)], 2.0),  # an order arrives on day 2
        (20, 10, 5, [(9.0, 1000)], 3.0),  # ... or too late to count
        (-50, 10, 5, [], 5.0),  # a stale snapshot projected below zero
        (10, 0, 5, [], 0.0),  # no consumption, no shortage
    ],
)
def test_days_short_within_the_lead_time(on_hand, daily, lead, arrivals, short):
    assert signals.days_short(on_hand, daily, lead, arrivals) == pytest.approx(short)


def test_rule_signals_on_the_tiny_network_are_labelled_and_documented(tiny):
    frame = signals.risk_signals(tiny, PlantScope.everything(), NOW)
    assert set(frame.columns) == set(signals.COLUMNS)
    assert set(frame["source"]) == {"fallback_rule"} and frame["risk"].between(0, 1).all()
    capper = frame[(frame["kind"] == "maintenance") & (frame["subject_id"] == "A-L1-CAP")].iloc[0]
    assert capper["evidence"]["rule"] == "weibull_hazard" and capper["evidence"]["failures_in_lookback"] == 2
    assert capper["episode"].startswith("since-20260330")  # the last repair ended on 30 March
    scoped = signals.risk_signals(tiny, PlantScope.only({"B"}), NOW)
    assert set(scoped["plant_id"]) == {"B"}


def test_a_model_provider_scores_win_over_the_rules_for_its_subjects(tiny):
    def model(engine, scope, as_of):
        return pd.DataFrame(
            [
                {
                    "plant_id": "A",
                    "kind": "maintenance",
                    "subject_id": "A-L1-CAP",
                    "risk": 0.93,
                    "source": "model",
                    "evidence": {"model": "failure_risk v3", "asset_class": "capper", "line_id": "A-L1"},
                    "episode": "model-2026-04-01",
                    "feeds": ["health"],
                }
            ]
        )

    frame = signals.risk_signals(
        tiny, PlantScope.everything(), NOW, kinds=("maintenance",), providers={"maintenance": model}
    )
    by_subject = frame.set_index("subject_id")
    assert by_subject.loc["A-L1-CAP", "source"] == "model" and by_subject.loc["A-L1-CAP", "risk"] == 0.93
    assert by_subject.loc["B-L1-FIL", "source"] == "fallback_rule"
    assert len(frame) == 2

    with pytest.raises(ValueError, match="returned no column"):
        signals.risk_signals(
            tiny,
            PlantScope.everything(),
            NOW,
            kinds=("maintenance",),
            providers={"maintenance": lambda e, s, a: pd.DataFrame({"risk": [2.0]})},
        )
    with pytest.raises(ValueError, match="unknown signal kind"):
        signals.risk_signals(tiny, PlantScope.everything(), NOW, providers={"weather": model})


# --- command line --------------------------------------------------------------------------------


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "governance.orchestrate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_the_command_line_raises_once_and_reports(small_network_url, tmp_path):
    url = sqlite_copy(small_network_url, tmp_path / "cli.db")
    first = run_cli("--url", url, "--as-of", "2026-07-01T08:00")
    assert first.returncode == 0, first.stderr
    assert "recommendations raised" in first.stdout and " 0 recommendations raised" not in first.stdout
    second = run_cli("--url", url, "--as-of", "2026-07-01T08:00")
    assert second.returncode == 0 and " 0 recommendations raised" in second.stdout
    verify = subprocess.run(
        [sys.executable, "-m", "governance.audit", "verify", "--url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout


def test_the_command_line_refuses_bad_input_without_a_traceback(tmp_path):
    missing = tmp_path / "nothing.db"
    out = run_cli("--url", f"sqlite:///{missing}")
    assert out.returncode == 2 and "no SQLite warehouse" in out.stderr and not missing.exists()
    assert "Traceback" not in out.stderr
    out = run_cli("--url", "sqlite:///x.db", "--as-of", "yesterday")
    assert out.returncode == 2 and "not an ISO 8601 time" in out.stderr
    out = run_cli("--url", "postgresql://pnct:secret-pw@127.0.0.1:1/warehouse")
    assert out.returncode == 2 and "orchestration failed" in out.stderr and "secret-pw" not in out.stderr
    empty = tmp_path / "empty.db"
    migrate.upgrade(make_engine(f"sqlite:///{empty}"))
    out = run_cli("--url", f"sqlite:///{empty}")
    assert out.returncode == 2 and "holds no plant yet" in out.stderr
