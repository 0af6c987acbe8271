"""Saved scenarios and their submission for approval, on SQLite and PostgreSQL: JSON round trips,
plant scope (a scenario touching a plant the user cannot see is invisible to them), refusals that
write nothing (or only their audit row), one recommendation per plant routed by each plant's
policy, the scenario's decision state following the workflow, the four-eyes rule, and an audit
chain that verifies after all of it."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from data_access import kpis, migrate
from data_access import scenarios as store
from data_access.engine import make_engine
from data_access.frames import as_utc
from data_access.schema import audit_log, decision, outbox, recommendation, scenario
from data_access.scope import PlantScope
from forecasting import scenario as scenario_engine
from forecasting.scenario import METRICS, Levers
from governance import audit, policies, workflow
from governance.scenarios import ScenarioRefused, save, submit
from tests import tiny_network
from tests.apptest import frames, logged_in, open_detail, texts
from tests.apptest import submit as decide_on_page
from tests.helpers import count, user

NOW = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)


PM = user("pm_a", "plant_manager")
PM2 = user("pm_a2", "plant_manager")
PM_B = user("pm_b", "plant_manager", plants=("B",))
PM_AB = user("pm_ab", "plant_manager", plants=("A", "B"))
PLANNER = user("planner_a", "planner")
ML = user("ml_a", "maintenance_lead")
EXEC = user("coo", "executive")
EXEC2 = user("cfo", "executive")
ADMIN = user("admin", "admin")

LEVERS = {
    "demand_change_pct": 15.0,
    "capacity_change_pct": 0.0,
    "overtime_hours_per_day": 2.0,
    "safety_stock_multiplier": 1.5,
    "supplier_delay_days": {"S1": 5.0},
    "line_outages": [
        {"line_id": "A-L1", "start": "2026-04-10", "days": 4},
        {"line_id": "B-L1", "start": "2026-04-12", "days": 2},
    ],
    "maintenance_windows": [],
}
LEVERS_A = {**LEVERS, "line_outages": [LEVERS["line_outages"][0]]}
"""LEVERS as saved for plant A alone: a scenario's levers are about its own plants' lines."""


def band(mean, spread=0.1):
    return {"p10": mean * (1 - spread), "p50": mean, "p90": mean * (1 + spread), "mean": mean}


def plant_result(cost, base_cost, fill=0.93, base_fill=0.97):
    base = {
        "fill_rate": base_fill,
        "stockout_days": 1.0,
        "schedule_adherence": 0.9,
        "overtime_hours": 0.0,
        "inventory_value": 40000.0,
        "plan_spend": base_cost,
        "cost": base_cost,
    }
    scen = {
        "fill_rate": fill,
        "stockout_days": 3.5,
        "schedule_adherence": 0.85,
        "overtime_hours": 120.0,
        "inventory_value": 52000.0,
        "plan_spend": cost,
        "cost": cost,
    }
    return {
        "summary": {m: band(scen[m]) for m in METRICS},
        "baseline": {m: band(base[m]) for m in METRICS},
        "daily": [{"day": "2026-04-01", "fill_rate_p50": fill}],
    }


def results(**costs):
    """results(A=(scenario cost, baseline cost), ...) in the engine's format."""
    plants = {p: plant_result(c, b) for p, (c, b) in costs.items()}
    return {
        "paths": 500,
        "seed": 7,
        "plants": plants,
        "network": {
            "summary": {"cost": band(sum(c for c, _ in costs.values()))},
            "baseline": {"cost": band(sum(b for _, b in costs.values()))},
        },
    }


@pytest.fixture
def wh(empty_engine):
    tiny_network.build(empty_engine)
    policies.seed_enterprise_defaults(empty_engine, now=NOW)
    return empty_engine


def audit_rows(engine, since_seq=0):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(audit_log).where(audit_log.c.seq > since_seq).order_by(audit_log.c.seq)
            ).mappings()
        ]


def head(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one()


def recs(engine, rec_ids):
    with engine.connect() as conn:
        rows = conn.execute(select(recommendation).where(recommendation.c.rec_id.in_(rec_ids))).mappings().all()
    by_id = {r["rec_id"]: dict(r) for r in rows}
    return [by_id[i] for i in rec_ids]


def saved(engine, who=EXEC, plants=("A",), name="Peak plan", levers=None, res=None, now=NOW):
    if levers is None:  # LEVERS cut to the chosen plants' own lines
        levers = {**LEVERS, "line_outages": [o for o in LEVERS["line_outages"] if o["line_id"][0] in plants]}
    res = res if res is not None else results(**{p: (120000.0, 100000.0) for p in plants})
    return save(engine, scenario_engine, who, name, list(plants), levers, res, "run-42/forecast-7", now=now)


def state_of(engine, scenario_id):
    return store.scenario(engine, PlantScope.everything(), scenario_id)


# --- saving and reading ---------------------------------------------------------------------------


def test_a_saved_scenario_reads_back_equal_with_its_audit_row(wh):
    res = results(A=(120000.0, 100000.0))
    before = head(wh)
    sid = save(wh, scenario_engine, PM, "  Peak plan  ", ["A"], LEVERS_A, res, "run-42/forecast-7", now=NOW)
    got = store.scenario(wh, PM.scope, sid)
    assert got["levers"] == LEVERS_A and got["results"] == res
    assert (got["name"], got["owner"], got["plant_ids"], got["data_version"], got["state"]) == (
        "Peak plan",
        "pm_a",
        ["A"],
        "run-42/forecast-7",
        "draft",
    )
    assert got["created_utc"] == NOW and got["created_utc"].tzinfo is not None
    assert (got["decision_state"], got["rec_ids"], got["recommendations"]) == (None, [], [])
    [row] = audit_rows(wh, before)
    assert (row["actor"], row["action"], row["plant_id"], row["entity"], row["entity_id"]) == (
        "pm_a",
        "scenario_saved",
        "A",
        "scenario",
        str(sid),
    )
    assert row["detail"]["plant_ids"] == ["A"] and row["detail"]["levers"] == LEVERS_A
    assert row["detail"]["summary"] == (
        "demand +15 %; overtime up to 2 h/line-day; safety stock x1.5; S1 +5 d late; A-L1 down 4 d from 2026-04-10"
    )

    frame = store.scenarios(wh, PM.scope)
    assert list(frame.columns) == store.COLUMNS
    assert frame["scenario_id"].tolist() == [sid]
    assert str(frame["created_utc"].dtype) == "datetime64[ns, UTC]" and frame["created_utc"].iloc[0] == NOW
    assert frame["levers"].iloc[0] == LEVERS_A and frame["results"].iloc[0] == res
    assert frame["plant_ids"].iloc[0] == ["A"] and frame["rec_ids"].iloc[0] == []
    assert frame["decision_state"].iloc[0] is None


def test_json_is_normalized_the_same_way_on_both_backends(wh):
    levers = {
        "demand_change_pct": np.float64(12.5),
        "line_outages": ({"line_id": "A-L1", "start": "2026-04-10", "days": np.int64(3)},),
    }
    res = {
        "plants": {"A": {"summary": {"cost": {"mean": np.float64(1.25), "p10": float("nan"), "p90": float("inf")}}}},
        "series": np.array([1.5, 2.5]),
        "day": datetime(2026, 4, 1, tzinfo=timezone.utc).date(),
    }
    sid = saved(wh, PM, levers=levers, res=res)
    got = store.scenario(wh, PM.scope, sid)
    assert got["levers"] == {
        **Levers().to_dict(),
        "demand_change_pct": 12.5,
        "line_outages": [{"line_id": "A-L1", "start": "2026-04-10", "days": 3}],
    }
    assert got["results"] == {
        "plants": {"A": {"summary": {"cost": {"mean": 1.25, "p10": None, "p90": None}}}},
        "series": [1.5, 2.5],
        "day": "2026-04-01",
    }
    assert got["results"] == store.json_ready(res)


def test_scope_a_scenario_touching_another_plant_is_invisible(wh):
    s_a = saved(wh, PM, plants=("A",), name="A only", now=NOW)
    s_b = saved(wh, PM_B, plants=("B",), name="B only", now=NOW + timedelta(hours=1))
    s_ab = saved(wh, EXEC, plants=("A", "B"), name="Network", now=NOW + timedelta(hours=2))
    s_ab2 = saved(wh, PM_AB, plants=("B", "A"), name="Both of mine", now=NOW + timedelta(hours=3))
    assert store.scenarios(wh, PM.scope)["scenario_id"].tolist() == [s_a]
    assert store.scenarios(wh, PM_B.scope)["scenario_id"].tolist() == [s_b]
    assert store.scenarios(wh, EXEC.scope)["scenario_id"].tolist() == [s_ab2, s_ab, s_b, s_a]  # newest first
    assert store.scenarios(wh, PM_AB.scope)["scenario_id"].tolist() == [s_ab2, s_ab, s_b, s_a]
    assert store.scenarios(wh, PlantScope.only([]))["scenario_id"].tolist() == []
    assert store.scenario(wh, PM.scope, s_ab) is None and store.scenario(wh, PM.scope, s_b) is None
    assert store.scenario(wh, PM.scope, 10**6) is None and store.scenario(wh, PM.scope, "x") is None
    assert store.scenario(wh, EXEC.scope, s_ab2)["plant_ids"] == ["B", "A"]


@pytest.mark.parametrize(
    "who, kwargs, code, match",
    [
        (PM, {"plants": ["B"]}, "scope", "Plant B is outside your plant scope"),
        (PM, {"plants": ["A", "B"]}, "scope", "Plant B is outside your plant scope"),
        (ML, {}, "permission", "may not save scenarios"),
        (ADMIN, {}, "permission", "may not save scenarios"),
        (PM, {"name": "   "}, "value", "Give the scenario a name"),
        (PM, {"name": "x" * 101}, "value", "longer than 100 characters"),
        (PM, {"plants": []}, "value", "at least one plant"),
        (PM, {"plants": "A"}, "value", "a list of plant ids"),
        (EXEC, {"plants": ["A", "ZZ"]}, "value", "There is no plant 'ZZ'"),
        (PM, {"data_version": " "}, "value", "data version"),
        (PM, {"results": None}, "value", "run it before saving"),
        (PM, {"levers": {"demand_change_pct": "lots"}}, "value", "A lever is malformed"),
        (PM, {"results": {**results(A=(1.0, 1.0)), "x": object()}}, "value", "cannot be stored"),
        (PM, {"results": results(B=(1.0, 1.0))}, "value", "not those of the scenario's plants"),
        (PM, {"levers": LEVERS}, "value", "Line B-L1 is not a line of the chosen plants"),
        (PM, {"levers": {**LEVERS_A, "supplier_delay_days": {"S9": 2.0}}}, "value", "Supplier S9 delivers to none"),
        (PM, {"levers": {**LEVERS_A, "demand_change_pct": float("nan")}}, "value", "demand change pct must be between"),
        (PM, {"levers": {**LEVERS_A, "supplier_delay_days": [["S1", 5]]}}, "value", "A lever is malformed"),
    ],
)
def test_refused_saves_write_nothing(wh, who, kwargs, code, match):
    args = {
        "name": "Plan",
        "plants": ["A"],
        "levers": LEVERS_A,
        "results": results(A=(1.0, 1.0)),
        "data_version": "v1",
        **kwargs,
    }
    before = (count(wh, scenario), head(wh))
    with pytest.raises(ScenarioRefused, match=match) as info:
        save(
            wh,
            scenario_engine,
            who,
            args["name"],
            args["plants"],
            args["levers"],
            args["results"],
            args["data_version"],
            now=NOW,
        )
    assert info.value.code == code
    assert (count(wh, scenario), head(wh)) == before


def test_planners_plant_managers_and_executives_may_save(wh):
    ids = [saved(wh, who, plants=plants) for who, plants in ((PLANNER, ("A",)), (PM, ("A",)), (EXEC, ("A", "B")))]
    assert [state_of(wh, i)["owner"] for i in ids] == ["planner_a", "pm_a", "coo"]


# --- submitting -------------------------------------------------------------------------------------


def test_submit_raises_one_recommendation_per_plant_routed_by_each_plants_policy(wh):
    # plant B localizes its scenario bands: above 10,000 the executive must approve too
    policies.set_value(
        wh,
        ADMIN,
        "B",
        "approval_bands.scenario",
        [{"max_cost": 10000, "roles": ["plant_manager"]}, {"max_cost": None, "roles": ["plant_manager", "executive"]}],
        "B: tighter plans",
        now=NOW,
    )
    sid = saved(wh, EXEC, plants=("A", "B"), res=results(A=(120000.0, 100000.0), B=(95000.0, 75000.0)))
    before = head(wh)
    rec_ids = submit(wh, scenario_engine, EXEC, sid, "  Cover the summer peak  ", now=NOW + timedelta(hours=1))
    a, b = recs(wh, rec_ids)
    assert (a["plant_id"], b["plant_id"]) == ("A", "B")
    # the same cost change of 20,000 routes differently: A by the enterprise default, B by its own policy
    assert (a["estimated_cost"], b["estimated_cost"]) == (20000.0, 20000.0)
    assert a["routing"]["approvers"] == ["plant_manager"] and a["routing"]["band"] == 0
    assert b["routing"]["approvers"] == ["plant_manager", "executive"] and b["routing"]["band"] == 1
    assert b["routing"]["policy_origin"]["approval_bands.scenario"] == "plant"
    for r, plant_id, plant_name in ((a, "A", "Alpha Berlin"), (b, "B", "Bravo Newark")):
        assert (r["kind"], r["subject_id"], r["signal_key"], r["source"], r["risk"], r["state"], r["version"]) == (
            "scenario",
            f"scenario-{sid}",
            f"scenario:{sid}:{plant_id}",
            "workflow",
            None,
            "open",
            1,
        )
        own_outage = {"A": "A-L1 down 4 d from 2026-04-10", "B": "B-L1 down 2 d from 2026-04-12"}[plant_id]
        assert r["title"] == (
            f"Scenario 'Peak plan': demand +15 %; overtime up to 2 h/line-day; safety stock x1.5; "
            f"S1 +5 d late; {own_outage} at {plant_name}"
        )  # never another plant's line
        assert r["routing"]["escalate_to"] == ["executive"]
        assert as_utc(r["sla_due_utc"]) == NOW + timedelta(hours=49)
        assert as_utc(r["expires_utc"]) == NOW + timedelta(hours=337)
        ev = r["evidence"]
        assert (ev["scenario_id"], ev["name"], ev["submitted_by"], ev["note"], ev["data_version"]) == (
            sid,
            "Peak plan",
            "coo",
            "Cover the summer peak",
            "run-42/forecast-7",
        )
        own = [o for o in LEVERS["line_outages"] if o["line_id"].startswith(plant_id)]
        assert ev["levers"] == {**LEVERS, "line_outages": own}
        assert ev["spend_change"] == ev["cost_change"] == 20000.0 and ev["plants_in_scenario"] == 2
        rows = {row["metric"]: row for row in ev["summary"]}
        assert [row["metric"] for row in ev["summary"]] == list(METRICS)
        assert rows["fill_rate"]["baseline"] == 0.97 and rows["fill_rate"]["scenario"] == 0.93
        assert rows["fill_rate"]["change"] == pytest.approx(-0.04)
        assert rows["cost"]["change"] == pytest.approx(20000.0)
        assert rows["overtime_hours"]["scenario_p90"] == pytest.approx(132.0)
    # the plan of each plant: network levers, its own supplier and its own line only
    # the action of each plant: its decisions only; demand, supplier and outage are assumptions
    action = {
        "scenario_id": sid,
        "scenario_name": "Peak plan",
        "overtime_hours_per_day": 2.0,
        "safety_stock_multiplier": 1.5,
    }
    assert a["evidence"]["action"] == b["evidence"]["action"] == action
    assert a["evidence"]["assumptions"] == {
        "demand_change_pct": 15.0,
        "supplier_delay_days": {"S1": 5.0},
        "line_outages": [LEVERS["line_outages"][0]],
    }
    assert b["evidence"]["assumptions"]["line_outages"] == [LEVERS["line_outages"][1]]

    got = state_of(wh, sid)
    assert (got["state"], got["decision_state"], got["rec_ids"]) == ("submitted", "pending", rec_ids)
    rows = audit_rows(wh, before)
    assert [(r["action"], r["plant_id"], r["entity_id"]) for r in rows] == [
        ("recommendation_created", "A", str(rec_ids[0])),
        ("recommendation_created", "B", str(rec_ids[1])),
        ("scenario_submitted", None, str(sid)),
    ]
    assert rows[1]["detail"]["approvers"] == ["plant_manager", "executive"]
    assert rows[2]["detail"]["rec_ids"] == rec_ids and rows[2]["detail"]["note"] == "Cover the summer peak"
    assert audit.verify(wh).ok


def test_a_saving_routes_as_zero_but_keeps_its_signed_change_and_a_large_plan_needs_the_executive(wh):
    sid = saved(wh, EXEC, plants=("A", "B"), res=results(A=(95000.0, 100000.0), B=(180000.0, 100000.0)))
    a, b = recs(wh, submit(wh, scenario_engine, EXEC, sid, "Rebalance", now=NOW))
    assert (a["estimated_cost"], a["evidence"]["cost_change"], a["routing"]["approvers"]) == (
        0.0,
        -5000.0,
        ["plant_manager"],
    )
    assert (b["estimated_cost"], b["evidence"]["cost_change"], b["routing"]["approvers"]) == (
        80000.0,
        80000.0,
        ["plant_manager", "executive"],
    )


def test_a_second_submission_is_refused_and_writes_only_its_audit_row(wh):
    sid = saved(wh, PM, plants=("A",))
    [rec_id] = submit(wh, scenario_engine, PLANNER, sid, "Please approve", now=NOW)
    before = (count(wh, recommendation), head(wh))
    with pytest.raises(
        ScenarioRefused,
        match=rf"'Peak plan' \(#{sid}\) was already submitted for approval "
        rf"\(recommendations #{rec_id}\) and is pending",
    ) as info:
        submit(wh, scenario_engine, PM, sid, "Again", now=NOW)
    assert info.value.code == "state"
    assert count(wh, recommendation) == before[0] and head(wh) == before[1] + 1
    [row] = audit_rows(wh, before[1])
    assert (row["actor"], row["action"], row["plant_id"], row["entity_id"]) == (
        "pm_a",
        "scenario_refused",
        "A",
        str(sid),
    )
    assert row["detail"]["code"] == "state" and row["detail"]["note"] == "Again"
    with wh.begin() as conn:  # the guard behind the check: only a draft moves to submitted
        assert store.mark_submitted(conn, sid) is False


@pytest.mark.parametrize(
    "who, target, note, code, match",
    [
        (PM, "ab", "ok", "scope", "does not exist or touches a plant outside your plant scope"),
        (PM_B, "a", "ok", "scope", "outside your plant scope"),
        (PM, 10**6, "ok", "scope", "does not exist"),
        (PM, "not a number", "ok", "value", "whole number"),
        (ML, "a", "ok", "permission", "may not submit"),
        (ADMIN, "a", "ok", "permission", "may not submit"),
        (PM, "a", "   ", "reason", "Add a note"),
        (PM, "a", None, "reason", "Add a note"),
        (PM, "a", "x" * 2001, "reason", "longer than 2000"),
        (PM, "no_cost", "ok", "value", "no plan spend for plant A against its baseline"),
    ],
)
def test_refused_submissions_are_audited_and_write_nothing_else(wh, who, target, note, code, match):
    ids = {
        "a": saved(wh, PM, plants=("A",)),
        "ab": saved(wh, EXEC, plants=("A", "B")),
        "no_cost": saved(wh, PM, plants=("A",), res={"plants": {"A": {"summary": {}}}}),
    }
    scenario_id = ids.get(target, target) if isinstance(target, str) else target
    before = (count(wh, recommendation), head(wh))
    with pytest.raises(ScenarioRefused, match=match) as info:
        submit(wh, scenario_engine, who, scenario_id, note, now=NOW)
    assert info.value.code == code
    assert count(wh, recommendation) == before[0]
    assert {state_of(wh, i)["state"] for i in ids.values()} == {"draft"}
    [row] = audit_rows(wh, before[1])
    assert (row["actor"], row["action"], row["entity"]) == (who.username, "scenario_refused", "scenario")
    assert row["detail"]["code"] == code and row["detail"]["attempted"] == "submit"
    assert audit.verify(wh).ok


# --- deciding ---------------------------------------------------------------------------------------


def decide(engine, who, rec_id, action, **kwargs):
    with engine.connect() as conn:
        version = workflow.load(conn, rec_id).version
    return workflow.decide(engine, who, rec_id, action, version=version, now=NOW + timedelta(hours=2), **kwargs)


def test_the_decision_state_follows_approvals_and_the_approved_plan_goes_to_the_outbox(wh):
    sid = saved(wh, EXEC, plants=("A", "B"))
    rec_a, rec_b = submit(wh, scenario_engine, EXEC, sid, "Peak", now=NOW)
    outcome = decide(wh, PM, rec_a, "approve", reason="fine for Berlin")
    assert outcome.state == "approved"
    assert "plan change request for the ERP is in the outbox" in outcome.message
    assert state_of(wh, sid)["decision_state"] == "pending"  # B still open
    decide(wh, PM_B, rec_b, "approve")
    got = state_of(wh, sid)
    assert (got["state"], got["decision_state"]) == ("submitted", "approved")
    assert [r["state"] for r in got["recommendations"]] == ["approved", "approved"]
    with wh.connect() as conn:
        sent = conn.execute(select(outbox).where(outbox.c.rec_id == rec_a)).mappings().one()
    assert (sent["target"], sent["request_type"], sent["plant_id"]) == ("erp", "plan_change_request", "A")
    p = sent["payload"]
    assert (p["scenario_id"], p["overtime_hours_per_day"], p["safety_stock_multiplier"]) == (sid, 2.0, 1.5)
    assert "demand_change_pct" not in p and "line_outages" not in p  # assumptions are not requested of the ERP
    assert p["approved_by"] == [{"username": "pm_a", "role": "plant_manager"}]
    assert audit.verify(wh).ok


def test_one_plants_rejection_rejects_the_plan_and_expiry_expires_it(wh):
    rejected = saved(wh, EXEC, plants=("A", "B"))
    rec_a, rec_b = submit(wh, scenario_engine, EXEC, rejected, "Peak", now=NOW)
    decide(wh, PM_B, rec_b, "reject", reason="Newark cannot staff the overtime")
    assert state_of(wh, rejected)["decision_state"] == "rejected"  # a final no wins over A still open
    decide(wh, PM, rec_a, "approve")
    assert state_of(wh, rejected)["decision_state"] == "rejected"

    lapsed = saved(wh, PM, plants=("A",))
    [rec_id] = submit(wh, scenario_engine, PLANNER, lapsed, "Peak", now=NOW)
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=47)) == []
    assert workflow.escalate_overdue(wh, NOW + timedelta(hours=48)) == [rec_id]  # SLA 48 h
    assert state_of(wh, lapsed)["decision_state"] == "pending"  # escalated is still pending
    assert workflow.expire_overdue(wh, NOW + timedelta(hours=335)) == []
    assert workflow.expire_overdue(wh, NOW + timedelta(hours=336)) == [rec_id]  # expiry 336 h
    assert state_of(wh, lapsed)["decision_state"] == "expired"
    assert audit.verify(wh).ok


def test_the_submitter_may_not_approve_or_override_their_own_plan(wh):
    sid = saved(wh, PM, plants=("A",))
    [rec_id] = submit(wh, scenario_engine, PM, sid, "Mine", now=NOW)
    with wh.connect() as conn:
        view = workflow.load(conn, rec_id)
    allowed = workflow.allowed_actions(PM, view)
    assert "four-eyes" in allowed["approve"] and "four-eyes" in allowed["override"]
    assert allowed["reject"] is None and allowed["comment"] is None
    for action, kwargs in (
        ("approve", {}),
        ("override", {"reason": "more stock", "override_value": {"safety_stock_multiplier": 2}}),
    ):
        before = (count(wh, decision), head(wh))
        with pytest.raises(
            workflow.Refused,
            match=rf"You submitted recommendation #{rec_id} yourself, so you "
            rf"may not {action} it \(four-eyes rule\)",
        ) as info:
            decide(wh, PM, rec_id, action, **kwargs)
        assert info.value.code == "permission"
        assert count(wh, decision) == before[0] and head(wh) == before[1] + 1
        [row] = audit_rows(wh, before[1])
        assert (row["actor"], row["action"], row["detail"]["attempted"]) == ("pm_a", "decision_refused", action)
    assert recs(wh, [rec_id])[0]["state"] == "open"
    # another plant manager may; an override changes the plan within its limits
    with pytest.raises(workflow.Refused, match="'demand_change_pct' cannot be overridden on a scenario"):
        decide(wh, PM2, rec_id, "override", reason="less", override_value={"demand_change_pct": 5})
    with pytest.raises(workflow.Refused, match="safety_stock_multiplier must be above 0 and at most 5"):
        decide(wh, PM2, rec_id, "override", reason="more", override_value={"safety_stock_multiplier": 6})
    outcome = decide(
        wh,
        PM2,
        rec_id,
        "override",
        reason="more buffer, less overtime",
        override_value={"safety_stock_multiplier": "2", "overtime_hours_per_day": 1},
    )
    assert outcome.state == "overridden"
    with wh.connect() as conn:
        payload = conn.execute(select(outbox.c.payload).where(outbox.c.rec_id == rec_id)).scalar_one()
    assert (payload["safety_stock_multiplier"], payload["overtime_hours_per_day"]) == (2.0, 1.0)
    assert payload["override"]["by"] == "pm_a2"
    assert state_of(wh, sid)["decision_state"] == "approved"
    assert audit.verify(wh).ok


def test_an_executive_submitter_may_not_decide_their_plan_alone_once_escalated(wh):
    sid = saved(wh, EXEC, plants=("A",))
    [rec_id] = submit(wh, scenario_engine, EXEC, sid, "Network peak", now=NOW)
    decide(wh, PM2, rec_id, "escalate", reason="needs the COO's office")
    with pytest.raises(workflow.Refused, match="four-eyes"):
        decide(wh, EXEC, rec_id, "approve")
    assert decide(wh, EXEC2, rec_id, "approve").state == "approved"
    assert state_of(wh, sid)["decision_state"] == "approved"


def test_a_plan_above_the_plant_limit_needs_the_plant_manager_and_an_executive(wh):
    sid = saved(wh, PLANNER, plants=("A",), res=results(A=(200000.0, 100000.0)))
    [rec_id] = submit(wh, scenario_engine, PLANNER, sid, "Big plan", now=NOW)
    assert recs(wh, [rec_id])[0]["routing"]["approvers"] == ["plant_manager", "executive"]
    outcome = decide(wh, PM, rec_id, "approve")
    assert (outcome.state, "still needs Executive" in outcome.message) == ("open", True)
    assert state_of(wh, sid)["decision_state"] == "pending"
    assert decide(wh, EXEC, rec_id, "approve").state == "approved"
    assert state_of(wh, sid)["decision_state"] == "approved"


def test_an_assisted_plant_approves_small_plans_by_itself(wh):
    policies.set_value(wh, ADMIN, "A", "automation_level", "assisted", "pilot", now=NOW)
    policies.set_value(wh, ADMIN, "A", "auto_approve_max_cost.scenario", 1000, "pilot", now=NOW)
    small = saved(wh, PM, plants=("A",), res=results(A=(100500.0, 100000.0)))
    [rec_id] = submit(wh, scenario_engine, PM, small, "Small", now=NOW)
    assert recs(wh, [rec_id])[0]["state"] == "approved" and count(wh, outbox, rec_id=rec_id) == 1
    assert state_of(wh, small)["decision_state"] == "approved"
    large = saved(wh, PM, plants=("A",), res=results(A=(102000.0, 100000.0)))
    [other] = submit(wh, scenario_engine, PM, large, "Larger", now=NOW)
    assert recs(wh, [other])[0]["state"] == "open" and count(wh, outbox, rec_id=other) == 0
    actions = [r["action"] for r in audit_rows(wh)]
    assert actions.count("recommendation_auto_approved") == 1
    assert audit.verify(wh).ok


# --- policy, plan and summary helpers ---------------------------------------------------------------


def test_scenario_policy_defaults_are_consistent_and_not_a_signal_kind(wh):
    policy = policies.effective(wh, "A")
    assert policy.routing("scenario", 50000)["approvers"] == ["plant_manager"]
    assert policy.routing("scenario", 50000.01)["approvers"] == ["plant_manager", "executive"]
    routing = policy.routing("scenario", 0)
    assert (routing["sla_hours"], routing["expiry_hours"], routing["escalate_to"]) == (48.0, 336.0, ["executive"])
    assert policies.contradictions(policy) == []
    assert "scenario" in policies.KINDS and "scenario" not in policies.SIGNAL_KINDS
    assert "risk_threshold.scenario" not in policies.SPECS
    with pytest.raises(policies.PolicyError, match="'planner', a role that may not approve scenario plans"):
        policies.set_value(
            wh, ADMIN, "A", "approval_bands.scenario", [{"max_cost": None, "roles": ["planner"]}], "try", now=NOW
        )


def test_the_plan_of_a_plant_keeps_what_touches_it():
    levers = Levers.from_dict(
        {
            **LEVERS,
            "supplier_delay_days": {"S1": 5.0, "S9": 3.0, "S2": 0.0},
            "maintenance_windows": [{"line_id": "B-L1", "day": "2026-04-20", "hours": 8.0}],
        }
    )
    assert levers.for_plant(lines={"A-L1"}, suppliers={"S1", "S2"}).changes() == {
        "demand_change_pct": 15.0,
        "overtime_hours_per_day": 2.0,
        "safety_stock_multiplier": 1.5,
        "supplier_delay_days": {"S1": 5.0},
        "line_outages": [LEVERS["line_outages"][0]],
    }
    assert (
        Levers.from_dict({"demand_change_pct": 0, "safety_stock_multiplier": 1.0}).describe() == "baseline (no change)"
    )


# --- the decision pages show a scenario plan -------------------------------------------------------


@pytest.fixture
def app_warehouse(small_network_url, tmp_path, monkeypatch, app_env):
    """A copy of the small network (4 plants, NA-JOL among them) for the app."""
    target = tmp_path / "scenarios.db"
    target.write_bytes(Path(small_network_url.removeprefix("sqlite:///")).read_bytes())
    engine = make_engine(f"sqlite:///{target}")
    migrate.upgrade(engine)
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{target}")
    yield engine
    engine.dispose()


def test_the_decision_pages_show_a_plan_with_its_levers_and_result_and_approve_it(app_warehouse):
    from data_access.schema import line

    engine = app_warehouse
    with engine.connect() as conn:
        line_id = conn.execute(
            select(line.c.line_id).where(line.c.plant_id == "NA-JOL").order_by(line.c.line_id).limit(1)
        ).scalar_one()
    levers = {"demand_change_pct": 15.0, "line_outages": [{"line_id": line_id, "start": "2026-07-10", "days": 4}]}
    planner = user("planner_jol", "planner", plants=("NA-JOL",))
    now = datetime.now(timezone.utc)
    sid = save(
        engine,
        scenario_engine,
        planner,
        "July peak",
        ["NA-JOL"],
        levers,
        results(**{"NA-JOL": (130000.0, 100000.0)}),
        "run-1",
        now=now,
    )
    [rec_id] = submit(engine, scenario_engine, planner, sid, "Cover the July peak *with* overtime", now=now)

    queue = logged_in("pm_jol", "pages/action_queue.py")
    queue.multiselect(key="action_queue_kinds").set_value(["scenario"]).run()
    assert not queue.exception
    waiting = frames(queue)[0]
    assert waiting["rec_id"].tolist() == [rec_id] and waiting["kind"].tolist() == ["Scenario plan"]

    at = open_detail(logged_in("pm_jol", "pages/decision_detail.py"), rec_id)
    # the note and names are shown as typed: their Markdown characters escaped
    assert any(
        "**July peak**" in t and r"planner\_jol" in t and r"Cover the July peak \*with\* overtime" in t
        for t in texts(at, "info")
    ), texts(at, "info")
    assert [m.value for m in at.metric if m.label == "Plan spend change"] == [f"+30,000 {kpis.REFERENCE_CURRENCY}"]
    shown = frames(at)
    summary = next(f for f in shown if "scenario_p90" in f.columns)
    assert summary["metric"].tolist()[:2] == ["Fill rate (%)", "Stockout days (days)"]
    assert summary.set_index("metric").loc[f"Estimated cost ({kpis.REFERENCE_CURRENCY})", "change"] == pytest.approx(
        30000.0
    )
    lever_table = next(f for f in shown if "lever" in f.columns)
    assert lever_table["lever"].tolist() == ["demand change pct", "line outages"]
    assert at.selectbox(key="decision_detail_override_field").options[0].startswith("safety_stock_multiplier")
    decide_on_page(at, "approve")
    assert any("plan change request for the ERP is in the outbox" in t for t in texts(at, "success"))
    assert state_of(engine, sid)["decision_state"] == "approved"

    mine = open_detail(logged_in("planner_jol", "pages/decision_detail.py"), rec_id)
    assert not mine.exception
