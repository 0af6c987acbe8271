"""Approved decisions waiting in the outbox, for the delivery tests and benchmark, and the broker
those tests use."""

import os
from datetime import datetime, timezone

import pika
import pytest
from sqlalchemy import select

from data_access.schema import outbox
from governance import policies, workflow
from tests import tiny_network

NOW = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def warehouse(engine):
    """The tiny two-plant network with the enterprise policy defaults."""
    tiny_network.build(engine)
    policies.seed_enterprise_defaults(engine, now=NOW)
    return engine


def approve_many(
    engine,
    n: int,
    subjects: int = 10,
    plants=("A", "B"),
    kind: str = "shortage",
    material: str | None = None,
    start: int = 0,
) -> list[int]:
    """n approved shortage requisitions (outbox rows), round robin over `subjects` subjects and
    the plants; returns their outbox ids in order. `material` fixes the subject to one material."""
    ids, now = [], datetime.now(timezone.utc)
    routing = {p: policies.effective(engine, p) for p in plants}
    with engine.begin() as conn:
        for i in range(start, start + n):
            plant = plants[i % len(plants)]
            subject = material or f"M{i % subjects}"
            rec_id = workflow.insert_recommendation(
                conn,
                routing[plant],
                now,
                plant_id=plant,
                kind=kind,
                subject_id=subject,
                signal_key=f"test:delivery:{i}",
                title=f"Buy {subject}",
                risk=0.7,
                estimated_cost=100.0,
                evidence={"action": {"material_id": subject, "qty": 10.0 + i, "supplier_id": "S1"}},
                source="test",
            )
            ids.append(workflow.auto_approve(conn, rec_id, now, "test"))
    return ids


def rec_of(engine, outbox_id: int) -> int:
    """The recommendation of an outbox request (the delivery reads take a recommendation)."""
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.rec_id).where(outbox.c.outbox_id == outbox_id)).scalar_one()


def broker_or_skip() -> None:
    """The shared RabbitMQ must answer: under CI=true a test fails without it, elsewhere it skips."""
    try:
        pika.BlockingConnection(pika.URLParameters(AMQP_URL)).close()
    except pika.exceptions.AMQPError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ is required under CI=true but unreachable: {exc!r}")
        pytest.skip(f"RabbitMQ not reachable at 127.0.0.1:5672: {exc!r}")
