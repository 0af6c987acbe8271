"""Several users deciding at once, on SQLite and PostgreSQL: 8 concurrent writers lose nothing,
never create two decisions on one recommendation, and leave an audit chain that verifies. The same
code as bench/decisions.py (8 x 1,000 there), at a size a test suite can afford."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bench import decisions as bench
from data_access.engine import make_engine
from data_access.schema import decision, recommendation

WRITERS, PER_WRITER = 8, 25


@pytest.fixture
def engine(backend_url):
    engine = make_engine(backend_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("shared", [True, False], ids=["shared-queues", "own-queues"])
def test_concurrent_writers_lose_nothing_and_never_decide_twice(engine, shared):
    result = bench.run(engine, writers=WRITERS, per_writer=PER_WRITER, shared=shared)
    assert result.problems == []
    total = WRITERS * PER_WRITER
    assert result.logged == [PER_WRITER] * WRITERS
    assert (result.decisions, result.recommendations_decided, result.duplicates, result.outbox_rows) == (
        total,
        total,
        0,
        total,
    )
    assert result.chain_ok and result.chain_rows == 2 + total + result.refused
    if not shared:
        assert result.refused == 0


def test_the_database_refuses_a_second_decision_on_the_same_version(engine):
    [rec_id] = bench.prepare(engine, 1)
    row = dict(
        rec_id=rec_id,
        username="a",
        role="plant_manager",
        action="approve",
        decided_utc=datetime(2026, 7, 1, tzinfo=timezone.utc),
        rec_version=1,
    )
    with engine.begin() as conn:
        conn.execute(decision.insert(), row)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(decision.insert(), {**row, "username": "b"})
    with engine.begin() as conn:  # comments carry no version and may repeat
        conn.execute(decision.insert(), [{**row, "action": "comment", "rec_version": None}] * 2)
        assert len(conn.execute(select(decision.c.decision_id)).all()) == 3
        assert conn.execute(select(recommendation.c.state)).scalar_one() == "open"
