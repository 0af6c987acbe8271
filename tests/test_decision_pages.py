"""The decision pages through AppTest on a generated network: action queue to decision to outbox,
plant scope, a stale page, bad input shown as messages (never a traceback), the policies page for
admins only, the audit log with search and chain verification; the delivery of an approved request
(status, timeline, an admin's retry of a dead letter) and refused process events on the Data
quality page."""

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from data_access import decisions as dq
from data_access import migrate, process_events
from data_access.engine import make_engine
from data_access.schema import audit_log, decision, outbox, plant_policy, recommendation
from data_access.scope import PlantScope
from governance import audit, workflow
from governance.users import User
from jobs import pipeline
from jobs.delivery import deliver_due
from tests.apptest import frames, logged_in, open_detail, submit, texts
from tests.helpers import sqlite_copy

APP = Path(__file__).resolve().parent.parent / "app.py"
AS_OF = datetime(2026, 7, 1, 8, tzinfo=timezone.utc)
SEED_ASSET = "NA-JOL-L1-A02"
ML = User("ml_jol", "ML_JOL", "ml_jol@example.com", ("maintenance_lead",), frozenset({"NA-JOL"}))


@pytest.fixture
def warehouse(small_network_url, tmp_path, monkeypatch, users_file, navigation_only):
    """A copy of the small network with the orchestration run on it, made current: the
    recommendations were raised an hour ago (the network's data ends on 2026-06-30)."""
    url = sqlite_copy(small_network_url, tmp_path / "decisions.db")
    engine = make_engine(url)
    migrate.upgrade(engine)
    pipeline.orchestrate_decisions(engine, AS_OF)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(
            update(recommendation).values(
                created_utc=now - timedelta(hours=1),
                sla_due_utc=now + timedelta(hours=23),
                expires_utc=now + timedelta(days=6),
            )
        )
    monkeypatch.setenv("PNCT_USERS_FILE", str(users_file))
    monkeypatch.setenv("PNCT_LOGIN_SLEEP_TIME", "0")
    monkeypatch.setenv("PNCT_COOKIE_KEY", "app-test-only-cookie-key-0123456789abcdef")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    yield engine
    engine.dispose()


def seed_rec(engine) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(recommendation).where(recommendation.c.subject_id == SEED_ASSET)).mappings().one()
        )


def test_from_the_queue_to_a_decision_to_the_outbox(warehouse):
    rec = seed_rec(warehouse)
    at = logged_in("ml_jol", "pages/action_queue.py")
    assert texts(at, "title") == ["Action queue"]
    queue = frames(at)[0]
    assert rec["rec_id"] in queue["rec_id"].tolist()
    assert set(queue["plant_id"]) == {"NA-JOL"} and queue["waiting_for_you"].all()
    at.selectbox(key="action_queue_pick").set_value(rec["rec_id"])
    at.button(key="action_queue_open").click().run()
    assert not at.exception
    assert texts(at, "title") == ["Decision detail"]
    assert at.selectbox(key="decision_detail_pick").value == rec["rec_id"]
    assert texts(at, "subheader")[0] == rec["title"]
    assert [m.label for m in at.metric] == ["Risk", "Estimated cost", "State", "SLA due (UTC)"]
    assert at.metric[1].value.endswith(" EUR")  # money with its currency (issue 14)
    shown = frames(at)
    parts = next(f for f in shown if "on_hand" in f.columns and "plant_name" in f.columns)
    assert {"Sealing jaw set", "Heating element"} == set(parts["name"])
    impact = next(f for f in shown if "order_id" in f.columns)
    assert impact["order_id"].str.startswith("NA-JOL-L1-").all()
    assert at.selectbox(key="decision_detail_action_pick").options == [
        "Approve",
        "Reject",
        "Override (change the action)",
        "Comment",
        "Escalate",
    ]

    at.switch_page("pages/decision_detail.py")  # AppTest reruns the page it last switched to itself
    submit(at, "approve", reason="jaw wear confirmed on the morning round")
    assert not at.error
    [message] = texts(at, "success")
    assert message.startswith(f"Approved #{rec['rec_id']}: the work order request for the CMMS is in the outbox")
    assert "Reschedule recommendation" in message
    with warehouse.connect() as conn:
        sent = conn.execute(select(outbox).where(outbox.c.rec_id == rec["rec_id"])).mappings().one()
    assert sent["request_type"] == "work_order_request" and sent["payload"]["asset_id"] == SEED_ASSET
    history = next(f for f in frames(at) if "rec_version" in f.columns)
    assert history[["username", "action"]].values.tolist() == [["ml_jol", "approve"]]
    assert at.metric[2].value == "Approved"

    at.switch_page("pages/action_queue.py").run()
    outbox_frame = next(f for f in frames(at) if "request_type" in f.columns)
    assert outbox_frame["rec_id"].tolist() == [rec["rec_id"]]
    assert rec["rec_id"] not in frames(at)[0]["rec_id"].tolist()  # no longer waiting
    kpis = next(f for f in frames(at) if "latency_median_h" in f.columns)
    assert kpis.set_index(["plant_id", "kind"]).loc[("NA-JOL", "maintenance"), "decided"] == 1

    planner = logged_in("planner_jol", "pages/action_queue.py")
    waiting = frames(planner)[0]
    assert waiting["kind"].tolist() == ["Reschedule"] and waiting["still_needed"].tolist() == ["planner"]
    assert audit.verify(warehouse).ok


def test_pages_show_only_the_plants_in_scope(warehouse):
    at = logged_in("pm", "pages/action_queue.py")  # Zaragoza: nothing was raised there
    assert not frames(at)
    assert "Nothing waits for your roles right now." in " ".join(texts(at, "info"))
    at.toggle(key="action_queue_only_mine").set_value(False).run()
    assert "No recommendation is waiting in your plants." in " ".join(texts(at, "info"))
    at.switch_page("pages/decision_detail.py").run()
    assert not at.exception and not at.dataframe
    assert texts(at, "info") == [
        "No recommendation has been raised in your plants yet. They appear when a risk "
        "signal crosses its plant's threshold (the orchestration runs them)."
    ]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/policies.py")  # admins only

    coo = logged_in("coo", "pages/decision_detail.py")
    options = coo.selectbox(key="decision_detail_pick").options
    assert any("NA-JOL" in o for o in options) and any("SEA-CKR" in o for o in options)
    ml = logged_in("ml_jol", "pages/decision_detail.py")
    assert all("· NA-JOL ·" in o for o in ml.selectbox(key="decision_detail_pick").options)


def test_a_decision_taken_meanwhile_makes_the_page_stale_with_a_clear_message(warehouse):
    rec = seed_rec(warehouse)
    workflow.decide(warehouse, ML, rec["rec_id"], "escalate", version=1, reason="needs a line stop")
    coo = open_detail(logged_in("coo", "pages/decision_detail.py"), rec["rec_id"])
    pm = open_detail(logged_in("pm_jol", "pages/decision_detail.py"), rec["rec_id"])
    submit(pm, "approve", reason="stop line 1 tonight")
    assert texts(pm, "success")[0].startswith(f"Approved #{rec['rec_id']}")
    submit(coo, "reject", reason="not this week")
    [error] = texts(coo, "error")
    assert f"Recommendation #{rec['rec_id']} changed since you opened it: pm_jol approved it at" in error
    assert "nothing was recorded" in error
    with warehouse.connect() as conn:
        actions = conn.execute(
            select(decision.c.username, decision.c.action)
            .where(decision.c.rec_id == rec["rec_id"])
            .order_by(decision.c.decision_id)
        ).all()
        refusal = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).mappings().one()
    assert [tuple(a) for a in actions] == [("ml_jol", "escalate"), ("pm_jol", "approve")]
    assert (refusal["actor"], refusal["action"], refusal["detail"]["code"]) == ("coo", "decision_refused", "stale")
    assert coo.metric[2].value == "Approved"  # the page now shows what happened
    submit(coo, "reject", reason="still not this week")  # the reloaded page is refused for the right reason
    assert "already approved by pm_jol" in texts(coo, "error")[0]


def test_bad_input_shows_a_message_and_writes_nothing(warehouse):
    rec = seed_rec(warehouse)
    at = open_detail(logged_in("ml_jol", "pages/decision_detail.py"), rec["rec_id"])
    submit(at, "reject")
    assert texts(at, "error") == ["A reason is required to reject a recommendation."]
    submit(at, "override", reason="later is better", field="repair_hours", value="three")
    assert texts(at, "error") == ["repair_hours must be a number, not 'three'."]
    submit(at, "override", reason="later is better")
    assert texts(at, "error")[0].startswith("An override needs the overriding value")
    submit(at, "override", reason="after the weekend run", field="requested_start_utc", value="2026-12-01T06:00")
    assert texts(at, "success")[0].startswith(f"Overridden #{rec['rec_id']}")
    with warehouse.connect() as conn:
        decided = conn.execute(
            select(decision.c.action, decision.c.override_value).where(decision.c.rec_id == rec["rec_id"])
        ).all()
    assert [tuple(d) for d in decided] == [("override", {"requested_start_utc": "2026-12-01T06:00:00+00:00"})]


def test_an_admin_localizes_a_policy_and_contradictions_are_refused(warehouse):
    at = logged_in("admin", "pages/policies.py")
    assert texts(at, "title") == ["Plant policies"]
    at.selectbox(key="policies_target").set_value("NA-JOL").run()
    at.selectbox(key="policies_key").set_value("risk_threshold.maintenance").run()
    assert "0 value(s) localized" in texts(at, "markdown")[0]
    at.text_input(key="policies_value_NA-JOL_risk_threshold.maintenance").input("0.9")
    at.button(key="policies_save").click().run()
    assert texts(at, "error") == ["A reason is required for every policy change."]
    at.text_input(key="policies_value_NA-JOL_risk_threshold.maintenance").input("0.9")
    at.text_input(key="policies_reason").input("Joliet's sensors are noisy")
    at.button(key="policies_save").click().run()
    assert not at.exception and texts(at, "success") == ["Saved risk_threshold.maintenance for Joliet (NA-JOL)."]
    table = frames(at)[0].set_index("key")
    assert (
        table.loc["risk_threshold.maintenance", "localized"]
        and table.loc["risk_threshold.maintenance", "effective_value"] == "0.9"
    )
    assert "1 value(s) localized" in texts(at, "markdown")[0]
    localized = frames(at)[-1]
    assert localized[["plant_id", "keys"]].values.tolist() == [["NA-JOL", "risk_threshold.maintenance"]]

    at.selectbox(key="policies_key").set_value("sla_hours.maintenance").run()
    at.text_input(key="policies_value_NA-JOL_sla_hours.maintenance").input("500")
    at.text_input(key="policies_reason").input("slow site")
    at.button(key="policies_save").click().run()
    [error] = texts(at, "error")
    assert "would make plant NA-JOL contradictory" in error and "expires before it escalates" in error
    at.text_input(key="policies_value_NA-JOL_sla_hours.maintenance").input("[not json")
    at.text_input(key="policies_reason").input("typo")
    at.button(key="policies_save").click().run()
    assert "is not valid JSON" in texts(at, "error")[0]
    with warehouse.connect() as conn:
        local = conn.execute(select(plant_policy.c.key).where(plant_policy.c.plant_id == "NA-JOL")).scalars().all()
    assert local == ["risk_threshold.maintenance"]


def test_the_audit_log_filters_searches_exports_and_verifies(warehouse):
    rec = seed_rec(warehouse)
    workflow.decide(warehouse, ML, rec["rec_id"], "comment", reason="Ölstand geprüft: OK")
    at = logged_in("coo", "pages/audit_log.py")
    rows = frames(at)[0]
    assert {"recommendation_created", "recommendation_comment", "policy_seeded"} <= set(rows["action"])
    at.text_input(key="audit_log_search").input("ölstand").run()
    assert frames(at)[0]["action"].tolist() == ["recommendation_comment"]
    at.text_input(key="audit_log_search").input("").run()
    at.multiselect(key="audit_log_actions").set_value(["policy_seeded"]).run()
    assert frames(at)[0]["actor"].tolist() == ["system"]
    at.button(key="audit_log_verify").click().run()
    assert texts(at, "success")[0].startswith("Audit chain intact:")

    with warehouse.begin() as conn:  # someone edits a row behind the app's back
        conn.execute(update(audit_log).where(audit_log.c.action == "recommendation_comment").values(actor="mallory"))
    at.button(key="audit_log_verify").click().run()
    assert texts(at, "error")[0].startswith("Audit chain broken at seq")

    pm = logged_in("pm", "pages/audit_log.py")  # Zaragoza sees its own plant's rows only
    assert not pm.exception
    assert not frames(pm) or set(frames(pm)[0]["plant_id"].dropna()) <= {"EU-ZAR"}
    assert dq.audit_rows(warehouse, PlantScope.only({"EU-ZAR"})).empty


def login_failures(engine) -> list:
    with engine.connect() as conn:
        return [
            (r.actor, r.detail["username"])
            for r in conn.execute(
                select(audit_log.c.actor, audit_log.c.detail)
                .where(audit_log.c.action == "login_failed")
                .order_by(audit_log.c.seq)
            )
        ]


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_a_failed_login_is_audited_once_per_attempt(warehouse):
    before = len(login_failures(warehouse))  # the shared network may hold other tests' failed logins
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.secrets.update({"auth": {}})
    at.run()
    for username, password in (("ml_jol", "not-the-password"), ("nobody", "whatever-it-is")):
        next(w for w in at.text_input if w.label == "Username").input(username)
        next(w for w in at.text_input if w.label == "Password").input(password)
        next(b for b in at.button if b.label == "Login").click()
        at.run()
        assert texts(at, "error") == ["Username or password is incorrect."]
    assert wait_for(lambda: len(login_failures(warehouse)) == before + 2), login_failures(warehouse)
    at.run()  # a rerun of the form is no new attempt
    time.sleep(0.5)
    assert login_failures(warehouse)[before:] == [("anonymous", "ml_jol"), ("anonymous", None)]
    assert audit.verify(warehouse).ok


# --- delivery (issue 15) ---------------------------------------------------------------------------

DEAD_ROUTE = {
    "defaults": {"cmms": {"transport": "file", "folder": "/proc/no-such-place/outbox"}},
    "retry": {"max_attempts": 1},
}


def test_the_delivery_timeline_and_an_admins_retry_of_a_dead_letter(warehouse):
    rec = seed_rec(warehouse)
    workflow.decide(warehouse, ML, rec["rec_id"], "approve", version=rec["version"], reason="jaw wear confirmed")
    pending = open_detail(logged_in("ml_jol", "pages/decision_detail.py"), rec["rec_id"])
    assert any("has not picked it up yet" in t for t in texts(pending, "info"))

    report = deliver_due(warehouse, DEAD_ROUTE)
    assert report.dead >= 1
    lead = open_detail(logged_in("ml_jol", "pages/decision_detail.py"), rec["rec_id"])
    assert not lead.exception
    assert "Dead-lettered" in [m.value for m in lead.metric]
    [error] = [t for t in texts(lead, "error") if t.startswith("Dead-lettered")]
    assert "gave up after 1 attempts" in error and "could not write into /proc/no-such-place/outbox" in error
    timeline = next(f for f in frames(lead) if "next_attempt_utc" in f.columns)
    assert timeline["event"].tolist() == ["Queued", "Dead-lettered"]
    assert not [b for b in lead.button if b.key == "decision_detail_retry"]  # not an admin

    admin = open_detail(logged_in("admin", "pages/decision_detail.py"), rec["rec_id"])
    admin.text_input(key="decision_detail_retry_reason").input("CMMS share remounted")
    admin.button(key="decision_detail_retry").click().run()
    assert not admin.exception
    assert any("is queued again" in t for t in texts(admin, "success"))
    assert "Queued" in [m.value for m in admin.metric]
    timeline = next(f for f in frames(admin) if "next_attempt_utc" in f.columns)
    assert timeline["event"].tolist() == ["Queued", "Dead-lettered", "Retried by an admin"]
    with warehouse.connect() as conn:
        action, detail = conn.execute(
            select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.seq.desc()).limit(1)
        ).one()
    assert (action, detail) == ("delivery_retried", {"reason": "CMMS share remounted"})


def test_refused_process_events_are_listed_on_the_data_quality_page(warehouse):
    event = {
        "event_id": "erp-77",
        "type": "po_confirmation",
        "plant": "NA-JOL",
        "occurred_utc": "2026-06-29T08:00:00Z",
        "po_number": "4500077",
        "material": "NO-SUCH-PART",
        "supplier": "x",
        "qty": 5,
        "promised_day": "2026-07-03",
    }
    assert process_events.receive(warehouse, json.dumps(event).encode()).status == "quarantined"
    at = logged_in("steward", "pages/data_quality.py")
    refused = next(f for f in frames(at) if "event_type" in f.columns)
    assert refused["event_id"].tolist() == ["erp-77"]
    assert "material 'NO-SUCH-PART' is not mapped" in refused["reason"].iloc[0]
