"""The delivery on the Decision detail page (AppTest): status, what happens next, the timeline,
and the admin's retry of a dead letter (others see no retry form; the retry is audited); refused
process events on the Data quality page."""

import json

from sqlalchemy import select

from data_access import process_events
from data_access.schema import audit_log
from governance import workflow
from jobs.delivery import deliver_due
from tests.test_decision_pages import ML, frames, logged_in, open_detail, seed_rec, texts, warehouse  # noqa: F401

DEAD_ROUTE = {
    "defaults": {"cmms": {"transport": "file", "folder": "/proc/no-such-place/outbox"}},
    "retry": {"max_attempts": 1},
}


def test_the_delivery_timeline_and_an_admins_retry_of_a_dead_letter(warehouse):  # noqa: F811 - the fixture
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


def test_refused_process_events_are_listed_on_the_data_quality_page(warehouse):  # noqa: F811 - the fixture
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
