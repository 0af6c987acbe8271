"""Plant policies, hub and spoke, on SQLite and PostgreSQL: enterprise defaults stored once, plant
overrides shown as localized, routing by cost band, changes by admins only with a reason, and
invalid or contradictory values refused (and audited) with nothing written."""

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from data_access import decisions as dq
from data_access.schema import audit_log, plant_policy
from data_access.scope import PlantScope
from governance import audit, policies
from governance.users import User
from tests import tiny_network

NOW = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)
ADMIN = User("admin", "Admin", "a@example.com", ("admin",), None)
PM = User("pm_a", "PM", "p@example.com", ("plant_manager",), frozenset({"A"}))


@pytest.fixture
def wh(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def stored(engine):
    with engine.connect() as conn:
        return {(r.plant_id, r.key): r.value for r in conn.execute(select(plant_policy))}


def audit_actions(engine):
    with engine.connect() as conn:
        return conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq)).scalars().all()


def test_the_built_in_defaults_are_consistent_and_valid():
    defaults = policies.Policy(None, policies.default_values(), {k: "built-in" for k in policies.SPECS})
    assert policies.contradictions(defaults) == []
    for key, value in policies.default_values().items():
        assert policies.validate_value(key, value) == value


def test_enterprise_defaults_are_stored_once_and_audited(wh):
    assert policies.effective(wh, "A").origin["automation_level"] == "built-in"
    seeded = policies.seed_enterprise_defaults(wh, now=NOW)
    assert seeded == sorted(policies.SPECS)
    assert policies.seed_enterprise_defaults(wh, now=NOW) == []
    assert len(stored(wh)) == len(policies.SPECS)
    assert audit_actions(wh) == ["policy_seeded"]
    assert set(policies.effective(wh, "A").origin.values()) == {"enterprise"}


def test_a_plant_override_is_localized_there_only_and_can_be_reset(wh):
    policies.seed_enterprise_defaults(wh, now=NOW)
    policy = policies.set_value(wh, ADMIN, "A", "risk_threshold.maintenance", 0.8, "A runs old fillers")
    assert policy.threshold("maintenance") == 0.8 and policy.localized == ("risk_threshold.maintenance",)
    assert policies.effective(wh, "B").threshold("maintenance") == 0.5
    assert policies.effective(wh, None).threshold("maintenance") == 0.5
    everything = policies.effective_all(wh)
    assert everything["A"].origin["risk_threshold.maintenance"] == "plant"
    assert everything["B"].origin["risk_threshold.maintenance"] == "enterprise"
    rows = dq.policy_rows(wh, PlantScope.everything())
    local = rows[rows["plant_id"] == "A"]
    assert local[["key", "updated_by"]].values.tolist() == [["risk_threshold.maintenance", "admin"]]
    assert dq.policy_rows(wh, PlantScope.only({"B"}))["plant_id"].dropna().empty

    policies.set_value(wh, ADMIN, None, "risk_threshold.maintenance", 0.6, "fewer false alarms")
    assert policies.effective(wh, "B").threshold("maintenance") == 0.6
    assert policies.effective(wh, "A").threshold("maintenance") == 0.8  # the plant keeps its own
    policies.reset_value(wh, ADMIN, "A", "risk_threshold.maintenance", "back to the network value")
    assert policies.effective(wh, "A").threshold("maintenance") == 0.6
    with wh.connect() as conn:
        entries = (
            conn.execute(
                select(audit_log)
                .where(audit_log.c.action.in_(["policy_set", "policy_reset"]))
                .order_by(audit_log.c.seq)
            )
            .mappings()
            .all()
        )
    assert [(e["action"], e["plant_id"], e["detail"]["old"], e["detail"]["new"]) for e in entries] == [
        ("policy_set", "A", None, 0.8),
        ("policy_set", None, 0.5, 0.6),
        ("policy_reset", "A", 0.8, None),
    ]
    assert entries[0]["detail"]["reason"] == "A runs old fillers"
    assert audit.verify(wh).ok


def test_routing_follows_the_cost_band(wh):
    policy = policies.effective(wh, "A")
    assert policy.routing("maintenance", 4999)["approvers"] == ["maintenance_lead"]
    assert policy.routing("maintenance", 5000.01)["approvers"] == ["maintenance_lead", "plant_manager"]
    assert policy.routing("maintenance", None)["band"] == 0
    assert policy.routing("shortage", 50000)["approvers"] == ["plant_manager"]
    routing = policy.routing("shortage", 10**9)  # a large purchase needs a second approver (issue 14)
    assert routing["approvers"] == ["plant_manager", "executive"] and routing["escalate_to"] == ["executive"]
    assert routing["sla_hours"] == 24 and routing["expiry_hours"] == 168
    assert not policy.auto_approves("maintenance", 1)
    policies.set_value(wh, ADMIN, "A", "auto_approve_max_cost.maintenance", 500, "cheap fixes go")
    assert not policies.effective(wh, "A").auto_approves("maintenance", 400)  # automation level still manual
    policies.set_value(wh, ADMIN, "A", "automation_level", "assisted", "pilot")
    policy = policies.effective(wh, "A")
    assert policy.auto_approves("maintenance", 400) and not policy.auto_approves("maintenance", 501)
    assert not policy.auto_approves("shortage", 1)


INVALID = [
    ("A", "risk_threshold.quality", 1.5, "must be a number above 0 and at most 1"),
    ("A", "risk_threshold.quality", 0, "must be a number above 0"),
    ("A", "risk_threshold.quality", "high", "must be a number"),
    ("A", "sla_hours.shortage", -1, "must be a positive number"),
    ("A", "automation_level", "autopilot", "must be one of manual, assisted"),
    ("A", "escalate_to.quality", [], "non-empty list of role names"),
    ("A", "escalate_to.quality", ["ceo"], "unknown role 'ceo'"),
    ("A", "no_such_key", 1, "Unknown policy key"),
    (
        "A",
        "approval_bands.maintenance",
        [{"max_cost": 100, "roles": ["maintenance_lead"]}],
        "the last band must have max_cost null",
    ),
    (
        "A",
        "approval_bands.maintenance",
        [
            {"max_cost": 100, "roles": ["maintenance_lead"]},
            {"max_cost": 50, "roles": ["plant_manager"]},
            {"max_cost": None, "roles": ["plant_manager"]},
        ],
        "must increase",
    ),
    (
        "A",
        "approval_bands.maintenance",
        [{"max_cost": None, "roles": ["maintenance_lead"], "x": 1}],
        "exactly max_cost and roles",
    ),
    # contradictions with the rest of the policy or with the role matrix
    ("A", "sla_hours.quality", 72, "must be shorter than expiry_hours.quality"),
    ("A", "expiry_hours.maintenance", 12, "expires before it escalates"),
    (
        "A",
        "approval_bands.shortage",
        [{"max_cost": None, "roles": ["planner"]}],
        "names 'planner', a role that may not approve shortage",
    ),
    ("A", "approval_bands.quality", [{"max_cost": None, "roles": ["executive"]}], "may not approve quality"),
    ("A", "escalate_to.maintenance", ["data_steward"], "may not decide escalated items"),
    ("A", "auto_approve_max_cost.maintenance", 6000, "above the first approval band's limit"),
    ("B", "approval_bands.schedule", [{"max_cost": None, "roles": ["maintenance_lead"]}], "may not approve"),
    ("ZZ", "automation_level", "assisted", "There is no plant 'ZZ'"),
]


def test_invalid_and_contradictory_values_are_refused_and_audited(wh):
    policies.seed_enterprise_defaults(wh, now=NOW)
    before = stored(wh)
    for plant_id, key, value, match in INVALID:
        with pytest.raises(policies.PolicyError, match=match):
            policies.set_value(wh, ADMIN, plant_id, key, value, "trying")
        assert stored(wh) == before, key
        with wh.connect() as conn:
            entry = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).mappings().one()
        assert (entry["actor"], entry["action"], entry["detail"]["key"]) == ("admin", "policy_change_refused", key)
        assert entry["detail"]["refusal"]
    assert audit_actions(wh).count("policy_change_refused") == len(INVALID)


def test_an_enterprise_change_that_contradicts_a_plant_is_refused_naming_it(wh):
    policies.set_value(wh, ADMIN, "B", "sla_hours.quality", 60, "B is slow on weekends")
    with pytest.raises(policies.PolicyError, match="plant B contradictory: sla_hours.quality"):
        policies.set_value(wh, ADMIN, None, "expiry_hours.quality", 48, "shorter")
    assert policies.effective(wh, "A")["expiry_hours.quality"] == 72


def test_only_admins_change_policies_and_a_reason_is_required(wh):
    with pytest.raises(policies.PolicyError, match="Only a user with the admin role"):
        policies.set_value(wh, PM, "A", "risk_threshold.shortage", 0.9, "I want fewer")
    with pytest.raises(policies.PolicyError, match="A reason is required"):
        policies.set_value(wh, ADMIN, "A", "risk_threshold.shortage", 0.9, "  ")
    with pytest.raises(policies.PolicyError, match="cannot be reset"):
        policies.reset_value(wh, ADMIN, None, "risk_threshold.shortage", "why not")
    with pytest.raises(policies.PolicyError, match="already follows the enterprise default"):
        policies.reset_value(wh, ADMIN, "A", "risk_threshold.shortage", "nothing to reset")
    assert stored(wh) == {}
    assert audit_actions(wh) == ["policy_change_refused"] * 4
    assert audit.verify(wh).ok


def test_typed_values_are_parsed_or_refused_clearly():
    assert policies.parse_text("risk_threshold.maintenance", " 0.7 ") == 0.7
    assert policies.parse_text("automation_level", "assisted") == "assisted"
    assert policies.parse_text("auto_approve_max_cost.shortage", "null") is None
    assert policies.parse_text("escalate_to.quality", '["executive"]') == ["executive"]
    with pytest.raises(policies.PolicyError, match="not valid JSON"):
        policies.parse_text("escalate_to.quality", "[executive")
    with pytest.raises(policies.PolicyError, match="type a value"):
        policies.parse_text("sla_hours.quality", "")


def test_concurrent_enterprise_writes_leave_one_row_per_key(wh):
    start, errors = threading.Barrier(6), []

    def write(n):
        try:
            start.wait()
            policies.set_value(wh, ADMIN, None, "labour_rate_per_hour", 80.0 + n, f"writer {n}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with wh.connect() as conn:
        rows = conn.execute(
            select(func.count()).select_from(plant_policy).where(plant_policy.c.key == "labour_rate_per_hour")
        ).scalar_one()
    assert rows == 1
    assert audit.verify(wh).ok and len(audit_actions(wh)) == 6
