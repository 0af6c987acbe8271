"""The decisions workflow on SQLite and PostgreSQL: approvals collected before the state changes,
routing by policy (wrong role, wrong plant, missing reason or value refused and audited, nothing
half-written), stale pages and double clicks, overrides, escalation after the SLA, expiry, the
role matrix cell by cell, the outbox and its exports, and an audit chain that verifies."""

import json
import threading
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import select, update

from components.export import to_csv_bytes
from data_access import decision_kpis
from data_access import decisions as dq
from data_access.frames import as_utc
from data_access.schema import audit_log, decision, outbox, recommendation
from data_access.scope import PlantScope
from governance import audit, policies, workflow
from governance.roles import ROLES
from tests import tiny_network
from tests.helpers import count, user

NOW = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)


ML = user("ml_a", "maintenance_lead")
ML2 = user("ml_a2", "maintenance_lead")
PM = user("pm_a", "plant_manager")
PM2 = user("pm_a2", "plant_manager")
PM_B = user("pm_b", "plant_manager", plants=("B",))
PLANNER = user("planner_a", "planner")
EXEC = user("coo", "executive")
ADMIN = user("admin", "admin")
STEWARD = user("steward", "data_steward")

EVIDENCE = {
    "maintenance": {
        "line_id": "A-L1",
        "line_name": "Packaging 1",
        "asset_name": "Capper 1",
        "action": {"asset_id": "A-L1-CAP", "requested_start_utc": NOW.isoformat(), "repair_hours": 2.0},
    },
    "shortage": {"action": {"material_id": "RAW", "qty": 500.0, "supplier_id": "S1", "need_by_day": "2026-04-05"}},
    "quality": {"action": {"line_id": "A-L1", "disposition": "hold", "orders": ["A-3"]}},
    "schedule": {"action": {"line_id": "A-L1", "not_before_utc": NOW.isoformat(), "orders": ["A-3"]}},
    "scenario": {
        "scenario_id": 1,
        "submitted_by": "planner_x",
        "action": {"scenario_id": 1, "demand_change_pct": 15.0, "safety_stock_multiplier": 1.5},
    },
}
SUBJECT = {
    "maintenance": "A-L1-CAP",
    "shortage": "RAW",
    "quality": "A-L1",
    "schedule": "A-L1",
    "scenario": "scenario-1",
}


@pytest.fixture
def wh(empty_engine):
    tiny_network.build(empty_engine)
    policies.seed_enterprise_defaults(empty_engine, now=NOW)
    return empty_engine


_counter = iter(range(1, 10**6))


def raise_rec(engine, kind="maintenance", cost=1000.0, plant="A", evidence=None, now=NOW) -> int:
    policy = policies.effective(engine, plant)
    with engine.begin() as conn:
        rec_id = workflow.insert_recommendation(
            conn,
            policy,
            now,
            plant_id=plant,
            kind=kind,
            subject_id=SUBJECT[kind],
            signal_key=f"test:{kind}:{plant}:{next(_counter)}",
            title=f"Test {kind}",
            risk=0.8,
            estimated_cost=cost,
            evidence=evidence or EVIDENCE[kind],
            source="fallback_rule",
        )
        audit.append(
            conn,
            "system",
            "recommendation_created",
            plant_id=plant,
            entity="recommendation",
            entity_id=rec_id,
            detail={"kind": kind},
        )
    return rec_id


def rec(engine, rec_id):
    with engine.connect() as conn:
        found = conn.execute(select(recommendation).where(recommendation.c.rec_id == rec_id)).mappings().first()
    return dict(found) if found is not None else None


def last_audit(engine):
    with engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).mappings().one()


def refused(engine, who, rec_id, action, code, match=None, **kwargs):
    """Take an action that must be refused; check that nothing but the audit row was written."""
    before = (
        rec(engine, rec_id) if isinstance(rec_id, int) else None,
        count(engine, decision),
        count(engine, outbox),
        count(engine, audit_log),
    )
    with pytest.raises(workflow.Refused, match=match) as info:
        workflow.decide(engine, who, rec_id, action, now=NOW + timedelta(hours=1), **kwargs)
    assert info.value.code == code
    assert (rec(engine, rec_id) if isinstance(rec_id, int) else None) == before[0]
    assert (count(engine, decision), count(engine, outbox)) == before[1:3]
    assert count(engine, audit_log) == before[3] + 1
    row = last_audit(engine)
    assert (row["actor"], row["action"], row["entity_id"]) == (who.username, "decision_refused", str(rec_id))
    assert row["detail"]["code"] == code and row["detail"]["attempted"] == action
    return info.value


def test_one_approval_writes_state_decision_outbox_and_audit_together(wh):
    rec_id = raise_rec(wh)
    outcome = workflow.decide(
        wh, ML, rec_id, "approve", version=1, reason="vibration confirmed", now=NOW + timedelta(hours=2)
    )
    assert (outcome.state, outcome.version) == ("approved", 2)
    row = rec(wh, rec_id)
    assert (row["state"], row["version"]) == ("approved", 2)
    assert as_utc(row["decided_utc"]) == NOW + timedelta(hours=2)
    with wh.connect() as conn:
        d = conn.execute(select(decision).where(decision.c.rec_id == rec_id)).mappings().one()
        o = conn.execute(select(outbox).where(outbox.c.rec_id == rec_id)).mappings().one()
    assert (d["username"], d["role"], d["action"], d["rec_version"]) == ("ml_a", "maintenance_lead", "approve", 1)
    assert (o["target"], o["request_type"], o["plant_id"]) == ("cmms", "work_order_request", "A")
    assert o["payload"]["asset_id"] == "A-L1-CAP" and o["payload"]["approved_by"] == [
        {"username": "ml_a", "role": "maintenance_lead"}
    ]
    entry = last_audit(wh)
    assert (entry["actor"], entry["action"], entry["plant_id"], entry["entity_id"]) == (
        "ml_a",
        "recommendation_approve",
        "A",
        str(rec_id),
    )
    assert entry["detail"]["to_state"] == "approved" and entry["detail"]["outbox_id"] == o["outbox_id"]
    assert entry["detail"]["reason"] == "vibration confirmed"
    assert "outbox (#" in outcome.message
    assert audit.verify(wh).ok


def test_several_required_approvals_are_collected_before_the_state_changes(wh):
    rec_id = raise_rec(wh, cost=20000)  # second band: maintenance lead AND plant manager
    assert rec(wh, rec_id)["routing"]["approvers"] == ["maintenance_lead", "plant_manager"]
    first = workflow.decide(wh, ML, rec_id, "approve", version=1, now=NOW)
    assert (first.state, first.version, first.outbox_id) == ("open", 2, None)
    assert "still needs Plant manager" in first.message
    assert count(wh, outbox) == 0
    refused(wh, ML2, rec_id, "approve", "duplicate", match="Maintenance lead approval .* already in", version=2)
    refused(wh, ML, rec_id, "approve", "duplicate", match="You already approved", version=2)
    queue = dq.action_queue(wh, PM.scope, PM.roles, only_mine=True)
    assert queue["rec_id"].tolist() == [rec_id] and queue["still_needed"].tolist() == ["plant_manager"]
    assert dq.action_queue(wh, ML2.scope, ML2.roles, only_mine=True).empty
    final = workflow.decide(wh, PM, rec_id, "approve", version=2, now=NOW)
    assert (final.state, final.version) == ("approved", 3)
    with wh.connect() as conn:
        payload = conn.execute(select(outbox.c.payload)).scalar_one()
    assert [a["username"] for a in payload["approved_by"]] == ["ml_a", "pm_a"]
    assert audit.verify(wh).ok


def test_a_role_listed_twice_needs_two_people(wh):
    policies.set_value(
        wh,
        ADMIN,
        "A",
        "approval_bands.shortage",
        [{"max_cost": None, "roles": ["plant_manager", "plant_manager"]}],
        "four eyes at A",
    )
    rec_id = raise_rec(wh, kind="shortage", cost=100)
    workflow.decide(wh, PM, rec_id, "approve", version=1, now=NOW)
    refused(wh, PM, rec_id, "approve", "duplicate", match="You already approved", version=2)
    assert workflow.decide(wh, PM2, rec_id, "approve", version=2, now=NOW).state == "approved"


def test_the_wrong_role_is_refused_with_the_routing_named(wh):
    rec_id = raise_rec(wh)
    exc = refused(wh, PLANNER, rec_id, "approve", "permission", version=1)
    assert "Your role (Planner) may not approve" in str(exc) and "Maintenance lead" in str(exc)
    refused(wh, EXEC, rec_id, "approve", "permission", match="once escalated to Plant manager", version=1)
    refused(wh, ADMIN, rec_id, "reject", "permission", version=1, reason="no")


def test_a_plant_out_of_scope_is_refused_and_audited_at_its_plant(wh):
    rec_id = raise_rec(wh, kind="shortage")  # plant A; pm_b sees plant B only
    exc = refused(wh, PM_B, rec_id, "approve", "scope", version=1)
    assert str(exc) == "That recommendation does not exist or is outside your plant scope."
    assert last_audit(wh)["plant_id"] == "A"  # A's auditors see the attempt; pm_b does not
    assert dq.audit_rows(wh, PM_B.scope).query("action == 'decision_refused'").empty
    refused(wh, PM_B, 999_999, "approve", "scope", version=1)  # missing and out of scope read alike
    refused(wh, PM_B, "1 OR 1=1", "approve", "value", version=1)
    assert dq.recommendation_detail(wh, PM_B.scope, rec_id) is None
    assert dq.action_queue(wh, PM_B.scope, PM_B.roles).empty
    nothing = dq.action_queue(wh, PM_B.scope, PM_B.roles, only_mine=True)
    assert nothing.empty and "sla_due_utc" in nothing.columns


BAD_INPUT = [
    ("reject", {}, "reason", "A reason is required to reject"),
    ("reject", {"reason": "   "}, "reason", "A reason is required to reject"),
    ("escalate", {}, "reason", "A reason is required to escalate"),
    ("override", {"override_value": {"qty": 10}}, "reason", "A reason is required to override"),
    ("override", {"reason": "cheaper"}, "value", "An override needs the overriding value"),
    ("override", {"reason": "x", "override_value": {"qty": "ten"}}, "value", "qty must be a number"),
    ("override", {"reason": "x", "override_value": {"qty": -5}}, "value", "qty must be above 0"),
    ("override", {"reason": "x", "override_value": {"price": 5}}, "value", "'price' cannot be overridden"),
    ("override", {"reason": "x", "override_value": {"supplier_id": "S-NOPE"}}, "value", "no supplier 'S-NOPE'"),
    ("override", {"reason": "x", "override_value": {"need_by_day": "soon"}}, "value", "need_by_day must be a day"),
    ("approve", {"reason": "x" * 2001}, "reason", "longer than 2000"),
    ("delete", {}, "value", "Unknown action"),
]


def test_missing_or_bad_input_is_refused_with_a_clear_message(wh):
    rec_id = raise_rec(wh, kind="shortage")
    for action, kwargs, code, match in BAD_INPUT:
        refused(wh, PM, rec_id, action, code, match=match, version=1, **kwargs)


def test_a_stale_page_and_a_double_click_are_refused_with_who_changed_it(wh):
    rec_id = raise_rec(wh)
    workflow.decide(wh, ML, rec_id, "approve", version=1, now=NOW)
    exc = refused(wh, ML2, rec_id, "approve", "state", version=2)
    assert "already approved by ml_a" in str(exc)
    exc = refused(wh, ML2, rec_id, "approve", "stale", version=1)  # the page ml_a2 opened before
    assert "changed since you opened it: ml_a approved it at" in str(exc) and "Reload it" in str(exc)
    exc = refused(wh, ML, rec_id, "approve", "duplicate", version=1)  # ml_a's own second click
    assert "You already approved" in str(exc) and "double click" in str(exc)
    refused(wh, ML, rec_id, "approve", "stale", match="reload", version=None)
    assert count(wh, decision, rec_id=rec_id) == 1 and count(wh, outbox) == 1


def test_racing_clicks_record_one_decision(wh):
    rec_id = raise_rec(wh)
    results, start = [], threading.Barrier(4)

    def click(who):
        start.wait()
        try:
            results.append(workflow.decide(wh, who, rec_id, "approve", version=1, now=NOW).state)
        except workflow.Refused as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=click, args=(who,)) for who in (ML, ML, ML2, ML2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("approved") == 1
    # each loser is refused, as a stale version or as the same version decided twice (which one
    # depends on where the race is lost: the version check, or the unique (rec_id, rec_version))
    losers = [r for r in results if r != "approved"]
    assert len(losers) == 3 and set(losers) <= {"duplicate", "stale"}
    assert count(wh, decision, rec_id=rec_id) == 1 and count(wh, outbox) == 1
    assert audit.verify(wh).ok


def test_an_override_replaces_the_action_and_starts_a_new_round(wh):
    rec_id = raise_rec(wh, cost=20000)  # maintenance lead + plant manager
    workflow.decide(wh, PM, rec_id, "approve", version=1, now=NOW)
    out = workflow.decide(
        wh,
        ML,
        rec_id,
        "override",
        version=2,
        reason="night shift is quieter",
        override_value={"requested_start_utc": "2026-04-02T22:00", "repair_hours": "3.5"},
        now=NOW,
    )
    assert (out.state, out.version) == ("open", 3)  # the plant manager approved the old plan, not this one
    assert dq.action_queue(wh, PM.scope, PM.roles, only_mine=True)["rec_id"].tolist() == [rec_id]
    final = workflow.decide(wh, PM, rec_id, "approve", version=3, now=NOW)
    assert final.state == "overridden"
    with wh.connect() as conn:
        payload = conn.execute(select(outbox.c.payload)).scalar_one()
        value = conn.execute(select(decision.c.override_value).where(decision.c.action == "override")).scalar_one()
    assert value == {"requested_start_utc": "2026-04-02T22:00:00+00:00", "repair_hours": 3.5}
    assert payload["requested_start_utc"] == "2026-04-02T22:00:00+00:00" and payload["repair_hours"] == 3.5
    assert payload["override"] == {"by": "ml_a", "reason": "night shift is quieter", "fields": value}
    overrides = decision_kpis.overrides(wh, PlantScope.everything(), NOW.date(), NOW.date())
    assert overrides[["rec_id", "username", "reason"]].values.tolist() == [[rec_id, "ml_a", "night shift is quieter"]]


def test_a_planner_overrides_a_schedule_item_alone(wh):
    rec_id = raise_rec(wh, kind="schedule", cost=None)
    out = workflow.decide(
        wh,
        PLANNER,
        rec_id,
        "override",
        version=1,
        reason="customer priority",
        override_value={"not_before_utc": "2026-04-03T06:00+02:00"},
        now=NOW,
    )
    assert out.state == "overridden"
    with wh.connect() as conn:
        o = conn.execute(select(outbox)).mappings().one()
    assert (o["target"], o["request_type"]) == ("mes", "reschedule_request")
    assert o["payload"]["not_before_utc"] == "2026-04-03T04:00:00+00:00"


def test_a_rejection_is_final_and_sends_nothing(wh):
    rec_id = raise_rec(wh, kind="quality", cost=None)
    assert workflow.decide(wh, PM, rec_id, "reject", version=1, reason="lab retest passed", now=NOW).state == "rejected"
    refused(wh, PM, rec_id, "approve", "state", match="already rejected by pm_a", version=2)
    assert count(wh, outbox) == 0


def test_comments_need_text_change_no_state_and_are_open_to_everyone_in_scope(wh):
    rec_id = raise_rec(wh)
    for who in (STEWARD, PLANNER, EXEC):
        out = workflow.decide(wh, who, rec_id, "comment", reason=f"note from {who.username}", now=NOW)
        assert (out.state, out.version) == ("open", 1)
    refused(wh, PLANNER, rec_id, "comment", "reason", match="A comment is required")
    refused(wh, PM_B, rec_id, "comment", "scope", reason="hi")
    with wh.connect() as conn:
        versions = conn.execute(select(decision.c.rec_version).where(decision.c.rec_id == rec_id)).scalars().all()
    assert versions == [None, None, None]
    workflow.decide(wh, ML, rec_id, "approve", version=1, now=NOW)  # comments never make a page stale


def test_a_manual_escalation_hands_the_decision_to_one_escalation_role(wh):
    rec_id = raise_rec(wh, cost=20000)
    workflow.decide(wh, ML, rec_id, "approve", version=1, now=NOW)
    refused(wh, EXEC, rec_id, "approve", "permission", version=2)
    out = workflow.decide(wh, PM, rec_id, "escalate", version=2, reason="needs budget approval", now=NOW)
    assert (out.state, out.version) == ("escalated", 3)
    refused(wh, PM, rec_id, "escalate", "state", match="already escalated", version=3, reason="again")
    assert dq.action_queue(wh, EXEC.scope, EXEC.roles, only_mine=True)["rec_id"].tolist() == [rec_id]
    final = workflow.decide(wh, EXEC, rec_id, "approve", version=3, now=NOW)
    assert final.state == "approved"


def test_sla_breaches_escalate_automatically_once_and_are_logged(wh):
    late = raise_rec(wh)  # maintenance: 24 h SLA, escalates to plant manager and executive
    decided = raise_rec(wh)
    fresh = raise_rec(wh, now=NOW + timedelta(hours=10))
    workflow.decide(wh, ML, decided, "approve", version=1, now=NOW + timedelta(hours=1))
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=23)) == []
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=25)) == [late]
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=26)) == []
    assert (rec(wh, late)["state"], rec(wh, late)["version"]) == ("escalated", 2)
    assert (rec(wh, fresh)["state"], rec(wh, decided)["state"]) == ("open", "approved")
    with wh.connect() as conn:
        d = conn.execute(select(decision).where(decision.c.rec_id == late)).mappings().one()
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "recommendation_escalated")).mappings().one()
    assert (d["username"], d["action"], d["rec_version"]) == ("system", "escalate", 1)
    assert "SLA of 24 h passed" in d["reason"]
    assert (entry["actor"], entry["entity_id"]) == ("system", str(late))
    assert entry["detail"]["automatic"] is True and entry["detail"]["escalate_to"] == ["plant_manager", "executive"]
    refused(wh, ML, late, "approve", "stale", version=1)  # the page from before the escalation
    assert (
        workflow.decide(wh, EXEC, late, "reject", version=2, reason="line closes next week", now=NOW).state
        == "rejected"
    )
    assert audit.verify(wh).ok


def test_undecided_recommendations_expire_and_cannot_be_decided_afterwards(wh):
    rec_id = raise_rec(wh, kind="quality", cost=None)  # 72 h expiry
    with pytest.raises(workflow.Refused, match="expired at"):
        workflow.decide(wh, PM, rec_id, "approve", version=1, now=NOW + timedelta(hours=73))
    assert workflow.expire_overdue(wh, NOW + timedelta(hours=73)) == [rec_id]
    assert rec(wh, rec_id)["state"] == "expired"
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=80)) == []


# --- the role matrix: every role against every action, per kind and state ---------------------

A = {"approve", "reject", "override", "comment", "escalate"}
DECIDE = {"approve", "reject", "override", "comment"}
C = {"comment"}
# What each role may do on an open recommendation of each kind (default policy, lowest band).
# A scenario plan's and a shortage purchase's lowest band is the plant manager; an executive may
# approve them (in the band above 50,000), so may also escalate an open one.
OPEN = {
    "executive": {
        "maintenance": C,
        "shortage": {"comment", "escalate"},
        "quality": C,
        "schedule": C,
        "scenario": {"comment", "escalate"},
    },
    "plant_manager": {
        "maintenance": {"comment", "escalate"},
        "shortage": A,
        "quality": A,
        "schedule": {"comment", "escalate"},
        "scenario": A,
    },
    "planner": {"maintenance": C, "shortage": C, "quality": C, "schedule": A, "scenario": C},
    "maintenance_lead": {"maintenance": A, "shortage": C, "quality": C, "schedule": C, "scenario": C},
    "data_steward": {"maintenance": C, "shortage": C, "quality": C, "schedule": C, "scenario": C},
    "admin": {"maintenance": C, "shortage": C, "quality": C, "schedule": C, "scenario": C},
}
# ... and once escalated (escalation roles: maintenance -> plant manager, executive; shortage,
# quality and scenario -> executive; schedule -> plant manager).
ESCALATED = {
    "executive": {"maintenance": DECIDE, "shortage": DECIDE, "quality": DECIDE, "schedule": C, "scenario": DECIDE},
    "plant_manager": {
        "maintenance": DECIDE,
        "shortage": DECIDE,
        "quality": DECIDE,
        "schedule": DECIDE,
        "scenario": DECIDE,
    },
    "planner": {"maintenance": C, "shortage": C, "quality": C, "schedule": DECIDE, "scenario": C},
    "maintenance_lead": {"maintenance": DECIDE, "shortage": C, "quality": C, "schedule": C, "scenario": C},
    "data_steward": {"maintenance": C, "shortage": C, "quality": C, "schedule": C, "scenario": C},
    "admin": {"maintenance": C, "shortage": C, "quality": C, "schedule": C, "scenario": C},
}


def test_the_matrix_names_every_role_and_kind():
    assert set(OPEN) == set(ESCALATED) == set(ROLES)
    assert all(set(kinds) == set(policies.KINDS) for kinds in (*OPEN.values(), *ESCALATED.values()))


@pytest.fixture
def recs_by_kind(wh):
    out = {}
    for kind in policies.KINDS:
        open_id, escalated_id = raise_rec(wh, kind=kind, cost=100), raise_rec(wh, kind=kind, cost=100)
        with wh.begin() as conn:
            conn.execute(
                update(recommendation)
                .where(recommendation.c.rec_id == escalated_id)
                .values(state="escalated", version=2)
            )
        out[kind] = (open_id, escalated_id)
    return wh, out


def test_every_role_against_every_action(recs_by_kind):
    engine, ids = recs_by_kind
    for role in ROLES:
        who = user(f"u_{role}", role)
        for kind, (open_id, escalated_id) in ids.items():
            for rec_id, expected in ((open_id, OPEN[role][kind]), (escalated_id, ESCALATED[role][kind])):
                with engine.connect() as conn:
                    view = workflow.load(conn, rec_id)
                allowed = {a for a, why in workflow.allowed_actions(who, view).items() if why is None}
                assert allowed == expected, (role, kind, view.state)


def test_the_matrix_is_enforced_by_decide_not_only_shown(recs_by_kind):
    engine, ids = recs_by_kind
    for role in ROLES:
        who = user(f"u_{role}", role)
        open_id = ids["maintenance"][0]
        for action in sorted(set(workflow.ACTIONS) - OPEN[role]["maintenance"]):
            refused(
                engine,
                who,
                open_id,
                action,
                "permission",
                version=1,
                reason="because",
                override_value={"repair_hours": 2},
            )
    assert audit.verify(engine).ok


# --- reads, exports and the audit trail ----------------------------------------------------------


def test_other_plants_spare_parts_are_summed_not_named_outside_the_scope(wh):
    evidence = {
        **EVIDENCE["maintenance"],
        "spare_parts": [
            {"plant_id": "A", "plant_name": "Alpha", "material_id": "SP", "name": "Head", "on_hand": 1.0},
            {"plant_id": "B", "plant_name": "Bravo", "material_id": "SP", "name": "Head", "on_hand": 2.0},
            {"plant_id": "C", "plant_name": "Charlie", "material_id": "SP", "name": "Head", "on_hand": 3.0},
        ],
    }
    rec_id = raise_rec(wh, evidence=evidence)
    mine = dq.recommendation_detail(wh, PM.scope, rec_id)["evidence"]["spare_parts"]
    assert [(p["plant_name"], p["on_hand"]) for p in mine] == [
        ("Alpha", 1.0),
        ("other plants (outside your scope)", 5.0),
    ]
    everyone = dq.recommendation_detail(wh, EXEC.scope, rec_id)["evidence"]["spare_parts"]
    assert [p["plant_name"] for p in everyone] == ["Alpha", "Bravo", "Charlie"]


def test_the_outbox_exports_as_csv_and_json_within_the_scope(wh):
    a = raise_rec(wh, kind="shortage")
    b = raise_rec(wh, kind="shortage", plant="B")
    workflow.decide(wh, PM, a, "override", version=1, reason="=cheaper, +faster", override_value={"qty": 750}, now=NOW)
    workflow.decide(wh, PM_B, b, "approve", version=1, now=NOW)
    rows = dq.outbox_rows(wh, PM.scope)
    assert rows["rec_id"].tolist() == [a]
    records = json.loads(workflow.outbox_json(rows.drop(columns="payload_json")))
    assert records[0]["request_type"] == "purchase_requisition" and records[0]["payload"]["qty"] == 750.0
    assert records[0]["created_utc"] == "2026-04-01T08:00:00+00:00"
    csv_text = to_csv_bytes(rows.drop(columns="payload")).decode("utf-8-sig")
    assert "purchase_requisition" in csv_text and '""qty"": 750.0' in csv_text
    assert len(dq.outbox_rows(wh, PlantScope.everything())) == 2


def test_the_workflow_rows_verify_and_an_edited_decision_row_is_found(wh):
    rec_id = raise_rec(wh, cost=20000)
    workflow.decide(wh, ML, rec_id, "approve", version=1, now=NOW)
    workflow.decide(wh, PM, rec_id, "override", version=2, reason="later", override_value={"repair_hours": 4}, now=NOW)
    refused(wh, PM_B, rec_id, "approve", "scope", version=3)
    result = audit.verify(wh)
    assert result.ok and result.rows_checked == count(wh, audit_log)
    with wh.connect() as conn:
        target = conn.execute(select(audit_log).where(audit_log.c.action == "recommendation_override")).mappings().one()
    with wh.begin() as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == target["seq"])
            .values(detail={**target["detail"], "reason": "sooner"})
        )
    broken = audit.verify(wh)
    assert (broken.ok, broken.first_bad_seq) == (False, target["seq"])


def test_the_audit_log_read_filters_searches_and_keeps_to_the_scope(wh):
    a = raise_rec(wh, kind="shortage")
    b = raise_rec(wh, kind="shortage", plant="B")
    workflow.decide(wh, PM, a, "reject", version=1, reason="Stock found in the 50%_bay", now=NOW)
    workflow.decide(wh, PM_B, b, "reject", version=1, reason="Ölstand geprüft, stock found elsewhere", now=NOW)
    assert set(dq.audit_rows(wh, PM.scope)["plant_id"]) == {"A"}
    assert dq.audit_rows(wh, PlantScope.everything())["plant_id"].isna().any()  # policy seeding, enterprise
    found = dq.audit_rows(wh, PlantScope.everything(), search="50%_BAY")
    assert found["entity_id"].tolist() == [str(a)]
    assert dq.audit_rows(wh, PlantScope.everything(), search="%").shape[0] > 0
    assert dq.audit_rows(wh, PlantScope.everything(), search="x%y").empty  # % is literal, not a wildcard
    for typed in ("ölstand", "GEPRÜFT", "Ölstand geprüft"):  # non-ASCII text, any case, both backends
        assert dq.audit_rows(wh, PlantScope.everything(), search=typed)["entity_id"].tolist() == [str(b)], typed
    only = dq.audit_rows(wh, PlantScope.everything(), actors=["pm_b"], actions=["recommendation_reject"])
    assert only["entity_id"].tolist() == [str(b)]
    facets = dq.audit_facets(wh, PM.scope)
    assert "pm_b" not in facets["value"].tolist() and "pm_a" in facets["value"].tolist()


def test_a_failed_login_is_audited_without_creating_a_warehouse(wh, monkeypatch, tmp_path):
    assert audit.record_failed_login("mallory' OR '1'='1" * 10, engine=wh)
    entry = last_audit(wh)
    assert (entry["actor"], entry["action"], entry["plant_id"]) == ("anonymous", "login_failed", None)
    assert entry["detail"]["username"].startswith("mallory' OR")
    assert audit.verify(wh).ok
    fresh = tmp_path / "fresh" / "warehouse.db"
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{fresh}")
    assert audit.record_failed_login("someone") is False
    assert not fresh.exists()


def test_decision_kpis_latency_and_adoption_per_plant_and_kind(wh):
    fast, slow, expired, auto_id, pending = (raise_rec(wh, kind="shortage") for _ in range(5))
    b = raise_rec(wh, kind="quality", plant="B", cost=None)
    workflow.decide(wh, PM, fast, "approve", version=1, now=NOW + timedelta(hours=2))
    workflow.decide(wh, PM, slow, "reject", version=1, reason="no", now=NOW + timedelta(hours=12))
    with wh.begin() as conn:
        conn.execute(
            update(recommendation).where(recommendation.c.rec_id == expired).values(state="expired", version=2)
        )
        workflow.auto_approve(conn, auto_id, NOW, "policy")
    workflow.decide(
        wh,
        PM_B,
        b,
        "override",
        version=1,
        reason="rework",
        override_value={"disposition": "inspect"},
        now=NOW + timedelta(hours=4),
    )
    kpis = decision_kpis.decision_kpis(wh, PlantScope.everything(), NOW.date(), NOW.date()).set_index(
        ["plant_id", "kind"]
    )
    a = kpis.loc[("A", "shortage")]
    assert (a["recommendations"], a["pending"], a["auto_approved"], a["decided"], a["expired"]) == (5, 1, 1, 2, 1)
    assert a["latency_median_h"] == pytest.approx(7.0) and a["latency_p90_h"] == pytest.approx(11.0)
    assert a["adoption"] == pytest.approx(2 / 3)  # fast and slow acted on; expired not; auto and pending apart
    assert kpis.loc[("B", "quality"), "overridden"] == 1
    network, per_plant = decision_kpis.overview_decision_kpis(wh, PlantScope.everything(), NOW.date(), NOW.date())
    assert network["recommendations"] == 6 and network["latency_median_h"] == pytest.approx(4.0)
    assert per_plant["plant_id"].tolist() == ["A", "B"] and per_plant["decided"].tolist() == [2, 1]
    network_a, per_a = decision_kpis.overview_decision_kpis(wh, PM.scope, NOW.date(), NOW.date())
    assert per_a["plant_id"].tolist() == ["A"] and network_a["recommendations"] == 5
    empty, _ = decision_kpis.overview_decision_kpis(
        wh, PlantScope.everything(), NOW.date() + timedelta(days=5), NOW.date() + timedelta(days=6)
    )
    assert empty["recommendations"] == 0 and pd.isna(empty["latency_median_h"]) and pd.isna(empty["adoption"])
