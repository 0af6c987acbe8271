"""Outbox delivery against real servers on 127.0.0.1 (an HTTP receiver started here, the shared
RabbitMQ, a folder), on SQLite and PostgreSQL: signatures, faults (receiver down, HTTP 500s,
answers slower than the timeout, a broker connection cut, a deliverer killed with SIGKILL),
concurrent deliverers, per-subject order, dead letters and an admin's retry, routes that cannot
work. Every fault test counts lost and processed-twice messages at the receiver."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pika
import pytest
from sqlalchemy import select

from data_access import delivery as store
from data_access.schema import audit_log, delivery_message
from data_access.scope import PlantScope
from governance import audit
from governance.users import User
from jobs.delivery import DeliverySettings, RetryRefused, deliver_due, retry_dead_letter
from jobs.delivery import config as cfg
from jobs.delivery.deliver import Deliverer
from jobs.delivery.transports import WebhookTransport, message_body
from tests.delivery_fixture import AMQP_URL, approve_many, broker_or_skip, rec_of, warehouse
from tests.delivery_receiver import SECRET, Proxy, Receiver

ADMIN = User("admin", "ADMIN", "admin@example.com", ("admin",), None)
PM = User("pm_a", "PM", "pm@example.com", ("plant_manager",), frozenset({"A"}))
FAST = {"max_attempts": 50, "initial_s": 0.05, "max_backoff_s": 0.2, "jitter_s": 0.05, "hold_s": 0.2}


@pytest.fixture
def wh(empty_engine):
    return warehouse(empty_engine)


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)


def webhook_settings(url, **overrides):
    doc = {
        "defaults": {
            t: {"transport": "webhook", "url": url, "secret_env": "TEST_HOOK_SECRET", "timeout_s": 0.5}
            for t in ("erp", "cmms", "mes")
        },
        "retry": dict(FAST),
        "batch": 10,
        "lease_s": 30,
    }
    doc.update(overrides)
    return DeliverySettings.coerce(doc)


def states(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(delivery_message.c.outbox_id, delivery_message.c.state)).all())


def deliver_until_done(engine, settings, expected, workers=1, timeout=60.0, done=("acknowledged",)):
    """Run `workers` concurrent deliverers (each its own engine) until every message is done."""
    deadline = time.monotonic() + timeout
    errors = []

    def work():
        from data_access.engine import make_engine

        own = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            while time.monotonic() < deadline:
                deliver_due(own, settings)
                current = states(own)
                if len(current) == expected and all(s in done for s in current.values()):
                    return
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - a deliverer thread's error is re-raised by the test
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return states(engine)


# --- signature --------------------------------------------------------------------------------


def _claimed(outbox_id=7):
    return store.Claimed(
        outbox_id,
        "A",
        "erp",
        "purchase_requisition",
        3,
        {"material_id": "RAW", "qty": 5.0},
        0,
        datetime(2026, 4, 1, tzinfo=timezone.utc),
    )


def test_a_verifying_receiver_accepts_signed_messages_and_refuses_tampered_or_replayed_ones():
    receiver = Receiver().start()
    try:
        route = cfg.Route("A", "erp", "webhook", url=receiver.url, secret=SECRET, timeout_s=2)
        transport = WebhookTransport(route)
        msg = _claimed()
        body = message_body(msg)
        assert transport.send(msg, body).document_number == "PR-7"
        headers = transport.headers(msg, body, datetime.now(timezone.utc))
        tampered = body.replace(b'"qty":5.0', b'"qty":500.0')
        assert httpx.post(receiver.url, content=tampered, headers=headers).status_code == 401
        old = transport.headers(msg, body, datetime.now(timezone.utc) - timedelta(minutes=10))
        assert httpx.post(receiver.url, content=body, headers=old).status_code == 401
        assert receiver.refused == ["No matching signature found", "Message timestamp too old"]
        assert receiver.processed == {7: 1}
        transport.close()
    finally:
        receiver.stop()


# --- webhook faults, concurrent deliverers, order ------------------------------------------------


def test_webhook_faults_lose_nothing_process_nothing_twice_and_keep_each_subjects_order(wh, secret_env):
    ids = approve_many(wh, 60, subjects=6)
    receiver = Receiver(
        fail_first=lambda key: 2 if int(key) % 5 == 0 else 0, slow=lambda key: 1.0 if int(key) % 7 == 0 else 0.0
    ).reserve_port()
    settings = webhook_settings(receiver.url)
    down = deliver_due(wh, settings)  # the receiver is down: every head of a subject fails
    assert down.failed == 6 and down.acknowledged == 0  # the head of each of the 6 subjects; later ones wait
    with wh.connect() as conn:
        first = conn.execute(select(delivery_message).where(delivery_message.c.outbox_id == ids[0])).mappings().one()
    assert first["state"] == "failed" and "could not reach" in first["last_error"]
    assert first["next_attempt_utc"] is not None and first["attempts"] == 1
    receiver.start()
    try:
        final = deliver_until_done(wh, settings, len(ids), workers=2)
    finally:
        receiver.stop()
    assert set(final.values()) == {"acknowledged"}
    lost = [i for i in ids if receiver.processed[i] == 0]
    twice = [i for i in ids if receiver.processed[i] > 1]
    assert (lost, twice) == ([], [])
    assert sum(receiver.arrivals.values()) > len(ids)  # 500s and timeouts were retried
    for subject, order in receiver.order.items():
        assert order == sorted(order), subject
    with wh.connect() as conn:
        numbers = dict(conn.execute(select(delivery_message.c.outbox_id, delivery_message.c.document_number)).all())
    assert numbers == {i: f"PR-{i}" for i in ids}
    timeline = store.delivery_timeline(wh, PlantScope.everything(), rec_of(wh, ids[0]))  # failed while down
    assert list(timeline["event"])[0] == "queued" and list(timeline["event"])[-1] == "acknowledged"
    assert (timeline["event"] == "failed").any()
    assert timeline.loc[timeline["event"] == "failed", "next_attempt_utc"].notna().all()


def test_a_deliverer_killed_mid_batch_loses_nothing_and_nothing_is_processed_twice(wh, secret_env, tmp_path):
    ids = approve_many(wh, 120, subjects=8)
    receiver = Receiver(slow=lambda key: 0.02).start()
    config = tmp_path / "delivery.yaml"
    config.write_text(
        json.dumps(
            {
                **{
                    k: v
                    for k, v in {
                        "defaults": {
                            t: {
                                "transport": "webhook",
                                "url": receiver.url,
                                "secret_env": "TEST_HOOK_SECRET",
                                "timeout_s": 2,
                            }
                            for t in ("erp", "cmms", "mes")
                        }
                    }.items()
                },
                "retry": FAST,
                "batch": 40,
                "lease_s": 2,
            }
        )
    )
    url = wh.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-m", "jobs.delivery", "--url", url, "--config", str(config), "--once"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TEST_HOOK_SECRET": SECRET},
    )
    try:
        deadline = time.monotonic() + 60
        while len(receiver.processed) < 30 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        assert child.poll() is None, "the deliverer finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        at_kill = len(receiver.processed)
        assert 30 <= at_kill < len(ids)
        time.sleep(2.1)  # its leases run out
        final = deliver_until_done(wh, DeliverySettings.coerce(json.loads(config.read_text())), len(ids))
    finally:
        receiver.stop()
    assert set(final.values()) == {"acknowledged"}
    assert [i for i in ids if receiver.processed[i] != 1] == []
    for order in receiver.order.values():
        assert order == sorted(order)


# --- dead letters and the admin's retry ----------------------------------------------------------


def test_dead_letter_after_the_attempts_and_an_admins_audited_retry(wh, secret_env):
    ids = approve_many(wh, 2, subjects=2, plants=("A",))
    failing = {"on": True}
    receiver = Receiver(fail_first=lambda key: 10**6 if failing["on"] else 0).start()
    try:
        settings = webhook_settings(receiver.url, retry={**FAST, "max_attempts": 2, "initial_s": 0.0, "jitter_s": 0.0})
        deliver_due(wh, settings)
        report = deliver_due(wh, settings)
        assert report.dead == 2
        status = store.delivery_status(wh, PlantScope.everything(), rec_of(wh, ids[0]))
        assert status["state"] == "dead" and "gave up after 2 attempts" in status["last_error"]
        assert "HTTP 500" in status["last_error"]
        with pytest.raises(RetryRefused, match="only an admin"):
            retry_dead_letter(wh, PM, ids[0], "fixed the receiver")
        with pytest.raises(RetryRefused, match="give a reason"):
            retry_dead_letter(wh, ADMIN, ids[0], "  ")
        failing["on"] = False
        retry_dead_letter(wh, ADMIN, ids[0], "receiver fixed")
        with pytest.raises(RetryRefused, match="not dead-lettered"):
            retry_dead_letter(wh, ADMIN, ids[0], "again")
        deliver_due(wh, settings)
    finally:
        receiver.stop()
    assert states(wh) == {ids[0]: "acknowledged", ids[1]: "dead"}
    with wh.connect() as conn:
        actions = conn.execute(
            select(audit_log.c.action, audit_log.c.actor)
            .where(audit_log.c.action.like("delivery_%"))
            .order_by(audit_log.c.seq)
        ).all()
    assert [tuple(a) for a in actions] == [
        ("delivery_retry_refused", "pm_a"),
        ("delivery_retry_refused", "admin"),
        ("delivery_retried", "admin"),
        ("delivery_retry_refused", "admin"),
    ]
    assert audit.verify(wh).ok
    events = list(store.delivery_timeline(wh, PlantScope.everything(), rec_of(wh, ids[0]))["event"])
    assert events == ["queued", "failed", "dead_lettered", "retried", "acknowledged"]


def test_a_target_that_refuses_the_message_dead_letters_it_at_once_with_its_reason(wh, secret_env):
    ids = approve_many(wh, 1, plants=("A",))
    receiver = Receiver(secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").start()  # another secret: 401
    try:
        report = deliver_due(wh, webhook_settings(receiver.url))
    finally:
        receiver.stop()
    assert report.dead == 1
    status = store.delivery_status(wh, PlantScope.everything(), rec_of(wh, ids[0]))
    assert status["state"] == "dead" and status["last_error"].startswith("rejected by the target: HTTP 401")


# --- routes that cannot work -------------------------------------------------------------------


def test_unusable_routes_keep_messages_queued_with_the_reason_and_deliver_once_fixed(wh, monkeypatch, tmp_path):
    ids = approve_many(wh, 4, subjects=1)  # A and B alternate, one subject each
    doc = {
        "defaults": {"erp": {"transport": "webhook", "url": "http://127.0.0.1:9/hook", "secret_env": "NOT_SET_X"}},
        "plants": {
            "B": {"erp": {"transport": "amqp", "url": "amqp://guest:wrong@127.0.0.1:5672/%2F"}},
            "Z": {"crm": {"transport": "file", "folder": str(tmp_path)}},
        },
        "retry": FAST,
    }
    monkeypatch.delenv("NOT_SET_X", raising=False)
    settings = DeliverySettings.coerce(doc)
    problems = Deliverer(wh, settings).check()
    assert "route of A/erp: the secret's environment variable NOT_SET_X is not set" in problems
    assert "plants: 'Z' is not a plant of the warehouse" in problems
    assert any("unknown target system 'crm'" in p for p in problems)
    unresolvable = DeliverySettings.coerce(
        {"defaults": {"erp": {"transport": "webhook", "url": "http://no-such-host.invalid/hook", "secret_env": "S"}}}
    )
    assert "does not resolve" in cfg.resolve(unresolvable, "A", "erp", {"S": SECRET})
    report = deliver_due(wh, settings)
    assert report.held == 2 and report.failed == report.dead == 0
    assert set(states(wh).values()) == {"queued"}
    a = store.delivery_status(wh, PlantScope.everything(), rec_of(wh, ids[0]))
    b = store.delivery_status(wh, PlantScope.everything(), rec_of(wh, ids[1]))
    assert a["last_error"] == "not sent: route of A/erp: the secret's environment variable NOT_SET_X is not set"
    assert "refused the login of user 'guest'" in b["last_error"]
    assert a["attempts"] == 0
    time.sleep(0.25)
    deliver_due(wh, settings)  # held again: the timeline keeps one line per reason
    assert list(store.delivery_timeline(wh, PlantScope.everything(), rec_of(wh, ids[0]))["event"]) == [
        "queued",
        "held",
    ]
    fixed = {"defaults": {"erp": {"transport": "file", "folder": str(tmp_path / "erp")}}, "retry": FAST}
    time.sleep(0.25)
    deliver_due(wh, fixed)
    deliver_due(wh, fixed)
    assert set(states(wh).values()) == {"sent"}
    assert len(list((tmp_path / "erp").glob("*.json"))) == 4


# --- file drop ---------------------------------------------------------------------------------


def test_file_drop_writes_one_complete_json_file_per_message_atomically(wh, tmp_path):
    ids = approve_many(wh, 12, subjects=3)
    folder = tmp_path / "drop"
    settings = {"defaults": {"erp": {"transport": "file", "folder": str(folder)}}, "retry": FAST, "batch": 4}
    report = deliver_due(wh, settings)  # once a subject's message is sent, its next one is due
    assert report.sent == 12 and set(states(wh).values()) == {"sent"}
    with wh.connect() as conn:
        sent_at = dict(conn.execute(select(delivery_message.c.outbox_id, delivery_message.c.sent_utc)).all())
    for earlier, later in zip(ids, ids[6:]):  # the same subject, six messages apart
        assert sent_at[earlier] <= sent_at[later]
    deliver_due(wh, settings)  # nothing due: nothing written twice
    files = sorted(folder.iterdir())
    assert [f.name for f in files if not f.name.endswith(".json")] == []  # no temporary file left
    documents = [json.loads(f.read_text()) for f in files]
    assert sorted(d["outbox_id"] for d in documents) == ids
    assert {d["type"] for d in documents} == {"purchase_requisition"}
    assert files[0].name == f"erp-{documents[0]['plant_id']}-{documents[0]['outbox_id']:010d}.json"


# --- AMQP ----------------------------------------------------------------------------------------


def test_amqp_persistent_confirmed_routed_per_plant_and_target_through_a_broker_outage(wh):
    broker_or_skip()
    ids = approve_many(wh, 10, subjects=4)
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"pnct.test.{tag}", f"pnct.test.cmms.{tag}"
    proxy = Proxy()
    settings = DeliverySettings.coerce(
        {
            "defaults": {
                "erp": {
                    "transport": "amqp",
                    "url": f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F",
                    "exchange": exchange,
                    "queue": queue,
                    "timeout_s": 2,
                }
            },
            "retry": FAST,
            "batch": 5,
        }
    )
    deliverer = Deliverer(wh, settings)
    got = []
    try:
        first = deliverer.pass_once()
        assert first.sent == 10
        proxy.cut()  # the broker "restarts": the open connection drops, new ones are refused
        ids += approve_many(wh, 30, subjects=4, start=10)
        during = deliverer.pass_once()
        assert during.sent == 0 and during.failed > 0
        proxy.up = True
        deadline = time.monotonic() + 60
        while set(states(wh).values()) != {"sent"} and time.monotonic() < deadline:
            deliverer.pass_once()
            time.sleep(0.05)
        assert set(states(wh).values()) == {"sent"}
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        for method, props, body in channel.consume(queue, inactivity_timeout=1.0):
            if method is None:
                break
            got.append((method.routing_key, props.delivery_mode, props.message_id, json.loads(body)))
            channel.basic_ack(method.delivery_tag)
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        connection.close()
    finally:
        deliverer.close()
        proxy.close()
    processed = {}
    for key, mode, message_id, body in got:  # the consumer deduplicates on message_id
        assert mode == 2 and key == f"{body['plant_id']}.erp" and message_id == f"pnct-outbox-{body['outbox_id']}"
        processed.setdefault(body["outbox_id"], 0)
        processed[body["outbox_id"]] += 1 if processed[body["outbox_id"]] == 0 else 0
    assert sorted(processed) == ids  # nothing lost
    order = {}
    for _, _, _, body in got:
        order.setdefault((body["plant_id"], body["payload"]["subject_id"]), []).append(body["outbox_id"])
    for subject, seen in order.items():
        firsts = list(dict.fromkeys(seen))
        assert firsts == sorted(firsts), subject


def test_the_worker_loop_delivers_until_stopped_and_logs_configuration_problems_on_start(
    wh, tmp_path, caplog, monkeypatch
):
    from jobs.delivery import run_delivery

    monkeypatch.delenv("NOT_SET_Y", raising=False)
    ids = approve_many(wh, 6, subjects=2)
    settings = {
        "defaults": {
            "erp": {"transport": "file", "folder": str(tmp_path / "drop")},
            "cmms": {"transport": "webhook", "url": "http://127.0.0.1:9/x", "secret_env": "NOT_SET_Y"},
        },
        "interval_s": 0.05,
    }
    stop = threading.Event()
    worker = threading.Thread(target=run_delivery, args=(wh, settings, stop))
    with caplog.at_level("WARNING", logger="jobs.delivery"):
        worker.start()
        deadline = time.monotonic() + 30
        while set(states(wh).values()) != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert states(wh) == {i: "sent" for i in ids}
    assert any("the secret's environment variable NOT_SET_Y is not set" in r.getMessage() for r in caplog.records)


def test_racing_claims_hand_each_message_to_one_deliverer(wh):
    from data_access.engine import make_engine

    ids = approve_many(wh, 60, subjects=60)
    with wh.begin() as conn:
        store.enqueue_new(conn, datetime.now(timezone.utc))
    got, start = {}, threading.Barrier(4)

    def claimer(n):
        own = make_engine(wh.url.render_as_string(hide_password=False))
        mine = got.setdefault(n, [])
        start.wait()
        while True:
            with own.begin() as conn:
                batch = store.claim(conn, f"deliverer-{n}", datetime.now(timezone.utc), timedelta(minutes=5), 3)
            if not batch:
                break
            mine += [m.outbox_id for m in batch]
        own.dispose()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for mine in got.values() for i in mine]
    assert sorted(claimed) == ids  # every message once, none twice


def test_a_message_older_than_the_age_limit_is_dead_lettered_on_its_next_failure(wh, secret_env):
    ids = approve_many(wh, 1, plants=("A",))
    receiver = Receiver().reserve_port()  # down
    later = datetime.now(timezone.utc) + timedelta(hours=73)
    report = deliver_due(wh, webhook_settings(receiver.url), now=later)
    assert report.dead == 1
    status = store.delivery_status(wh, PlantScope.everything(), rec_of(wh, ids[0]))
    assert status["last_error"].startswith("gave up after 73 h in the queue (limit 72 h); last error: could not reach")
