"""Approvers are told (issue 19): the notify job against a real SMTP server (aiosmtpd) started on
127.0.0.1 by the test, on both backends: one email per approver with a link that opens the
decision, none for other plants' users, the escalation reaches the next roles, nothing twice,
and a broken server leaves the decisions untouched and the failure in the log."""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import bcrypt
import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select, update

from data_access import migrate, notifications
from data_access.engine import make_engine
from data_access.schema import notification, recommendation
from data_access.scope import PlantScope
from data_access.settings import Settings
from jobs.notify import Smtp, notify, send_due
from tests import tiny_network
from tests.helpers import count, sqlite_copy

NOW = tiny_network.NOW
ROUTING = {"approvers": ["maintenance_lead"], "escalate_to": ["plant_manager", "executive"], "sla_hours": 24}
USERS = {  # username -> (roles, plants, email)
    "ml_a": (["maintenance_lead"], ["A"], "ml_a@example.com"),
    "ml_b": (["maintenance_lead"], ["B"], "ml_b@example.com"),
    "pm_a": (["plant_manager"], ["A"], "pm_a@example.com"),
    "pm_b": (["plant_manager"], ["B"], "pm_b@example.com"),
    "coo": (["executive"], "all", "coo@example.com"),
}
APP_URL = "https://tower.example.com"
HASH = bcrypt.hashpw(b"unused", bcrypt.gensalt(4)).decode()


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def network(empty_engine, tmp_path):
    """tiny_network with one recommendation at A waiting for the maintenance lead, and users."""
    tiny_network.build(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(
            insert(recommendation).values(
                plant_id="A",
                kind="maintenance",
                subject_id="A-X",
                signal_key="k-1",
                title="Repair the filler",
                risk=0.9,
                estimated_cost=720.0,
                evidence={},
                state="open",
                version=1,
                source="test",
                routing=ROUTING,
                created_utc=NOW - timedelta(hours=1),
                sla_due_utc=NOW + timedelta(hours=23),
            )
        )
        rec_id = conn.execute(select(recommendation.c.rec_id)).scalar_one()
    users = {
        name: {"name": name.upper(), "email": email, "roles": roles, "plants": plants, "password": HASH}
        for name, (roles, plants, email) in USERS.items()
    }
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"usernames": users}))
    return empty_engine, rec_id, path


def _settings(users_file, port) -> Settings:
    return Settings(users_file=users_file, smtp_host="127.0.0.1", smtp_port=port, app_url=APP_URL)


def test_a_routed_recommendation_emails_each_approver_once_with_a_link(network, smtp_server):
    engine, rec_id, users_file = network
    port, inbox = smtp_server
    counts, _ = notify(engine, _settings(users_file, port), now=NOW)
    assert counts == {"planned": 1, "sent": 1, "failed": 0}
    [(to, mail)] = inbox.messages  # the maintenance lead of A only: not B's, not the managers yet
    assert to == ["ml_a@example.com"]
    body = mail.get_content()
    assert f"{APP_URL}/decision_detail?rec={rec_id}" in body
    assert "720 EUR" in body and "Repair the filler" in mail["Subject"]
    assert "plant time" in body and "UTC)" in body

    notify(engine, _settings(users_file, port), now=NOW)  # a second run sends nothing again
    assert len(inbox.messages) == 1

    with engine.begin() as conn:  # the SLA passed: escalated to the plant manager and the executive
        conn.execute(update(recommendation).values(state="escalated", version=2))
    counts, _ = notify(engine, _settings(users_file, port), now=NOW)
    assert counts == {"planned": 2, "sent": 2, "failed": 0}
    assert sorted(to[0] for to, _ in inbox.messages[1:]) == ["coo@example.com", "pm_a@example.com"]
    log = notifications.notification_rows(engine, PlantScope.everything())
    assert sorted(zip(log["username"], log["event"], log["status"])) == [
        ("coo", "escalated", "sent"),
        ("ml_a", "routed", "sent"),
        ("pm_a", "escalated", "sent"),
    ]


def test_a_broken_smtp_server_leaves_the_decision_alone_and_the_failure_visible(network, smtp_server):
    engine, rec_id, users_file = network
    port, inbox = smtp_server
    with engine.connect() as conn:
        before = dict(conn.execute(select(recommendation)).mappings().one())
    counts, summary = notify(engine, _settings(users_file, _free_port()), now=NOW)  # nothing listens there
    assert counts == {"planned": 1, "sent": 0, "failed": 1} and "1 failed" in summary
    with engine.connect() as conn:
        assert dict(conn.execute(select(recommendation)).mappings().one()) == before
        row = conn.execute(select(notification)).mappings().one()
    assert row["status"] == "failed" and row["attempts"] == 1 and row["error"].startswith("SMTP 127.0.0.1:")
    # The server is back: the next run sends it, once.
    counts, _ = notify(engine, _settings(users_file, port), now=NOW)
    assert counts == {"planned": 0, "sent": 1, "failed": 0}
    assert [to for to, _ in inbox.messages] == [["ml_a@example.com"]]
    assert count(engine, notification, status="sent") == 1


def test_a_user_without_an_address_is_logged_not_retried(network, smtp_server):
    # The users file requires an address; a directory that lacks one still must not break the round.
    engine, rec_id, _ = network
    port, inbox = smtp_server
    row = {
        "rec_id": rec_id,
        "plant_id": "A",
        "event": "routed",
        "username": "nomail",
        "role": "maintenance_lead",
        "email": None,
    }
    assert notifications.plan(engine, [row, row], now=NOW) == 1
    for _ in range(2):
        assert send_due(engine, Smtp("127.0.0.1", port, "tower@example.com"), APP_URL) == {"sent": 0, "failed": 0}
    assert inbox.messages == []
    with engine.connect() as conn:
        logged = conn.execute(select(notification)).mappings().one()
    assert (logged["status"], logged["attempts"], logged["error"]) == ("failed", 0, "the user has no email address")


def test_a_failed_notification_is_shown_to_admins_on_the_jobs_page(open_as, small_network_url, tmp_path):
    url = sqlite_copy(small_network_url, tmp_path / "notify.db")
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(recommendation).values(
                plant_id="NA-JOL",
                kind="maintenance",
                subject_id="NA-JOL-X",
                signal_key="k-jol",
                title="Repair",
                risk=0.9,
                estimated_cost=1.0,
                evidence={},
                state="open",
                version=1,
                source="test",
                routing=ROUTING,
                created_utc=NOW,
                sla_due_utc=NOW + timedelta(hours=24),
            )
        )
        rec_id = conn.execute(select(recommendation.c.rec_id)).scalar_one()
    row = {
        "rec_id": rec_id,
        "plant_id": "NA-JOL",
        "event": "routed",
        "username": "ml_jol",
        "role": "maintenance_lead",
        "email": "ml_jol@example.com",
    }
    notifications.plan(engine, [row], now=NOW)
    send_due(engine, Smtp("127.0.0.1", _free_port(), "tower@example.com"), APP_URL)  # nothing listens there
    engine.dispose()
    at = open_as(url, "admin", "pages/jobs.py")
    assert not at.exception
    [warning] = [w.value for w in at.warning if "notification" in w.value]
    assert warning.startswith("1 notification(s) failed, the newest: SMTP 127.0.0.1:")
    log = next(df.value for df in at.dataframe if "event" in df.value.columns)
    assert log[["username", "status", "attempts"]].values.tolist() == [["ml_jol", "failed", 1]]


def test_racing_workers_plan_and_send_each_notification_exactly_once(network, smtp_server):
    engine, rec_id, _ = network
    port, inbox = smtp_server
    rows = [
        {
            "rec_id": rec_id,
            "plant_id": "A",
            "event": "routed",
            "username": f"u{i:02d}",
            "role": "maintenance_lead",
            "email": f"u{i:02d}@example.com",
        }
        for i in range(20)
    ]
    start = threading.Barrier(2)
    results: dict[str, list] = {"planned": [], "sent": [], "errors": []}

    def worker():
        try:
            start.wait()
            results["planned"].append(notifications.plan(engine, rows, now=NOW))
            results["sent"].append(send_due(engine, Smtp("127.0.0.1", port, "tower@example.com"), APP_URL)["sent"])
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            results["errors"].append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["errors"] == []
    recipients = [to[0] for to, _ in inbox.messages]
    lost, duplicated = 20 - len(set(recipients)), len(recipients) - len(set(recipients))
    print(f"racing senders: {len(recipients)} emails for 20 notifications, lost {lost}, duplicated {duplicated}")
    assert (lost, duplicated) == (0, 0)
    assert sum(results["planned"]) == 20 and sum(results["sent"]) == 20
    assert count(engine, notification, status="sent") == 20


def test_an_approver_is_reminded_once_when_the_sla_is_near(network, smtp_server):
    engine, rec_id, users_file = network
    port, inbox = smtp_server
    notify(engine, _settings(users_file, port), now=NOW)  # routed: the maintenance lead of A
    almost = NOW + timedelta(hours=21, minutes=30)  # SLA due at NOW + 23 h: within the 2 h warning
    for _ in range(2):
        notify(engine, _settings(users_file, port), now=almost)
    assert [to for to, _ in inbox.messages] == [["ml_a@example.com"], ["ml_a@example.com"]]
    assert "reaches its SLA soon" in inbox.messages[1][1]["Subject"]
