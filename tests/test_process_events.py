"""Inbound process events and acknowledgements, on SQLite and PostgreSQL: validated with the file
ingest's rules (mapping of local codes, review list), malformed, unknown plant or material,
duplicate and out-of-order events quarantined with their reason and nothing half-written; a goods
receipt closes the loop of an open shortage requisition and the next scoring sees the stock;
and the same through the real RabbitMQ inbound queue."""

import json
import threading
import uuid
from datetime import date

import pika
import pytest
from sqlalchemy import select

from data_access import delivery as store
from data_access import process_events, signal_inputs
from data_access.schema import (
    audit_log,
    inbound_event,
    inventory_snapshot,
    purchase_order,
    quarantine,
    unmapped_code,
    work_order,
)
from data_access.scope import PlantScope
from jobs.delivery import deliver_due, run_inbound
from jobs.delivery.inbound import audit_receipt
from tests.delivery_fixture import AMQP_URL, approve_many, broker_or_skip, rec_of, warehouse
from tests.helpers import count

EVERYTHING = PlantScope.everything()
CONFIRM = {
    "event_id": "erp-1",
    "type": "po_confirmation",
    "plant": "A",
    "occurred_utc": "2026-04-02T08:00:00Z",
    "po_number": 4500001,
    "material": "R-100",
    "supplier": "S1",
    "qty": 500,
    "promised_day": "2026-04-06",
}
RECEIPT = {
    "event_id": "erp-2",
    "type": "goods_receipt",
    "plant": "A",
    "occurred_utc": "2026-04-05T10:00:00Z",
    "po_number": "4500001",
    "material": "R-100",
    "qty": 500,
}


@pytest.fixture
def wh(empty_engine):
    return warehouse(empty_engine)


def send(engine, event) -> process_events.Received:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return process_events.receive(engine, body, on_received=audit_receipt)


def test_a_goods_receipt_closes_the_loop_of_the_open_requisition_and_scoring_sees_the_stock(wh, tmp_path):
    outbox_id = approve_many(wh, 1, plants=("A",), material="RAW")[0]
    deliver_due(wh, {"defaults": {"erp": {"transport": "file", "folder": str(tmp_path)}}})
    assert send(wh, CONFIRM).status == "applied"
    with wh.connect() as conn:
        po = conn.execute(select(purchase_order).where(purchase_order.c.po_id == "A-4500001")).mappings().one()
    assert (po["material_id"], po["supplier_id"], po["qty"], po["status"]) == ("RAW", "S1", 500.0, "open")
    before = signal_inputs.supply_position(wh, EVERYTHING, date(2026, 4, 5), 28).set_index(["plant_id", "material_id"])
    assert before.loc[("A", "RAW"), "open_po_qty"] == 600.0  # PO-A3 (100) and the new one
    assert send(wh, RECEIPT).status == "applied"
    with wh.connect() as conn:
        po = conn.execute(select(purchase_order).where(purchase_order.c.po_id == "A-4500001")).mappings().one()
        stock = conn.execute(
            select(inventory_snapshot.c.on_hand).where(
                inventory_snapshot.c.plant_id == "A",
                inventory_snapshot.c.material_id == "RAW",
                inventory_snapshot.c.day == date(2026, 4, 5),
            )
        ).scalar_one()
        audited = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "delivery_received")).scalar_one()
    assert po["status"] == "received" and str(po["received_day"])[:10] == "2026-04-05"
    assert stock == 50 - 10 + 500  # the count of 03-30, less the 10 consumed on 03-31, plus the receipt
    after = signal_inputs.supply_position(wh, EVERYTHING, date(2026, 4, 5), 28).set_index(["plant_id", "material_id"])
    assert after.loc[("A", "RAW"), "on_hand"] == 540 and after.loc[("A", "RAW"), "open_po_qty"] == 100.0
    status = store.delivery_status(wh, EVERYTHING, rec_of(wh, outbox_id))
    assert status["received_utc"] is not None
    timeline = store.delivery_timeline(wh, EVERYTHING, rec_of(wh, outbox_id))
    assert list(timeline["event"]) == ["queued", "sent", "received"]
    assert "goods receipt of 500 on purchase order 4500001" in timeline["detail"].iloc[-1]
    assert audited["outbox_id"] == outbox_id and audited["qty"] == 500.0


def test_bad_events_go_to_quarantine_with_their_reason_and_write_nothing_else(wh):
    assert send(wh, CONFIRM).status == "applied"
    assert send(wh, RECEIPT).status == "applied"
    facts_before = (count(wh, purchase_order), count(wh, inventory_snapshot), count(wh, work_order))
    cases = {
        "not json": (b"{nope", "invalid", "not JSON"),
        "missing qty": ({**RECEIPT, "event_id": "erp-3", "qty": None}, "invalid", "qty"),
        "unknown type": ({**RECEIPT, "event_id": "erp-4", "type": "invoice"}, "invalid", "type"),
        "unknown plant": ({**CONFIRM, "event_id": "erp-5", "plant": "ZZ"}, "out_of_scope", "unknown plant 'ZZ'"),
        "unknown material": (
            {**CONFIRM, "event_id": "erp-6", "po_number": "4500002", "material": "R-999"},
            "unmapped",
            "material 'R-999' is not mapped",
        ),
        "duplicate": (RECEIPT, "duplicate", "was applied already"),
        "older than applied": (
            {**CONFIRM, "event_id": "erp-7", "occurred_utc": "2026-04-01T08:00:00Z"},
            "out_of_order",
            "before an event already applied",
        ),
        "receipt before confirmation": (
            {**RECEIPT, "event_id": "erp-8", "po_number": "777"},
            "out_of_order",
            "whose confirmation has not arrived",
        ),
        "formula": (
            {**CONFIRM, "event_id": "erp-9", "po_number": "4500003", "supplier": "=HYPERLINK(1)"},
            "invalid",
            "looks like a spreadsheet formula",
        ),
        "negative qty": ({**CONFIRM, "event_id": "erp-10", "po_number": "4500004", "qty": -5}, "invalid", "qty"),
        "ack of nothing": (
            {"event_id": "ack-1", "type": "ack", "outbox_id": 999, "accepted": True},
            "invalid",
            "does not exist",
        ),
    }
    for name, (event, category, words) in cases.items():
        got = send(wh, event)
        assert (got.status, got.category) == ("quarantined", category), name
        assert words in got.reason, (name, got.reason)
    assert (count(wh, purchase_order), count(wh, inventory_snapshot), count(wh, work_order)) == facts_before
    assert count(wh, inbound_event, inbound_event.c.status == "quarantined") == len(cases)
    # refused events of a known plant are on the Data quality page's quarantine list too
    assert count(wh, quarantine, quarantine.c.source == "process_events") == len(cases) - 3  # not: json, ZZ, ack
    with wh.connect() as conn:
        review = conn.execute(
            select(unmapped_code.c.kind, unmapped_code.c.local_code, unmapped_code.c.status).where(
                unmapped_code.c.plant_id == "A"
            )
        ).all()
    assert [tuple(r) for r in review] == [("material", "R-999", "open")]


def test_work_order_completion_and_acknowledgements(wh, tmp_path):
    done = send(
        wh,
        {
            "event_id": "cmms-1",
            "type": "work_order_completion",
            "plant": "A",
            "wo_number": "WO-9",
            "asset": "VP1-VS-01",
            "wo_type": "preventive",
            "created_utc": "2026-04-02T06:00:00+02:00",
            "occurred_utc": "2026-04-02T09:00:00Z",
        },
    )
    assert done.status == "applied", done.reason
    with wh.connect() as conn:
        wo = conn.execute(select(work_order).where(work_order.c.local_code == "WO-9")).mappings().one()
    assert (wo["wo_id"], wo["asset_id"], wo["status"]) == ("A-WO-9", "A-L1-CAP", "closed")
    ids = approve_many(wh, 2, subjects=2, plants=("A",))
    deliver_due(wh, {"defaults": {"erp": {"transport": "file", "folder": str(tmp_path)}}})
    assert (
        send(
            wh,
            {"event_id": "ack-1", "type": "ack", "outbox_id": ids[0], "accepted": True, "document_number": "PR-4711"},
        ).status
        == "applied"
    )
    assert (
        send(
            wh, {"event_id": "ack-2", "type": "ack", "outbox_id": ids[1], "accepted": False, "reason": "vendor blocked"}
        ).status
        == "applied"
    )
    first = store.delivery_status(wh, EVERYTHING, rec_of(wh, ids[0]))
    second = store.delivery_status(wh, EVERYTHING, rec_of(wh, ids[1]))
    assert (first["state"], first["document_number"]) == ("acknowledged", "PR-4711")
    assert (second["state"], second["last_error"]) == ("dead", "rejected by the target: vendor blocked")


def test_the_inbound_queue_on_rabbitmq(wh):
    broker_or_skip()
    queue = f"pnct.test.inbound.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    for event in (CONFIRM, RECEIPT, RECEIPT, b"garbage"):
        channel.basic_publish(
            "",
            queue,
            event if isinstance(event, bytes) else json.dumps(event).encode(),
            properties=pika.BasicProperties(delivery_mode=2),
        )
    stop, seen = threading.Event(), []

    def counted(received):
        seen.append(received)
        if len(seen) == 4:
            stop.set()

    settings = {"inbound": {"url": AMQP_URL, "queue": queue}}
    thread = threading.Thread(target=run_inbound, args=(wh, settings, stop, counted))
    thread.start()
    thread.join(60)
    stop.set()
    thread.join()
    left = channel.queue_declare(queue, durable=True).method.message_count
    channel.queue_delete(queue)
    connection.close()
    assert [(r.status, r.category) for r in seen] == [
        ("applied", None),
        ("applied", None),
        ("quarantined", "duplicate"),
        ("quarantined", "invalid"),
    ]
    assert left == 0  # every message acknowledged to the broker after its commit
