"""The audit chain on SQLite and PostgreSQL: appends chain and verify; every kind of tampering
(edit, delete, reorder) is found at the right seq; rolled-back appends leave no gap; concurrent
appenders never fork or gap the chain; the verify command's exit codes."""

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update

from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import audit_log, region
from governance import audit

ROOT = Path(__file__).resolve().parent.parent


def append_rows(engine, n, start=0):
    for i in range(start, start + n):
        with engine.begin() as conn:
            audit.append(
                conn,
                f"user{i % 3}",
                "approve",
                plant_id="P01",
                entity="recommendation",
                entity_id=i,
                detail={"reason": f"step {i}", "cost": i * 1.5, "tags": ["a", i]},
            )


def row(engine, seq):
    with engine.connect() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.seq == seq)).mappings().one()


def set_row(engine, seq, **values):
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(**values))


def test_chain_of_rows_verifies_in_batches(empty_engine):
    append_rows(empty_engine, 25)
    with empty_engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    assert [r["seq"] for r in rows] == list(range(1, 26))
    assert rows[0]["prev_hash"] == audit.GENESIS_HASH
    assert all(b["prev_hash"] == a["row_hash"] for a, b in zip(rows, rows[1:]))
    assert rows[3]["entity_id"] == "3" and rows[3]["detail"] == {"reason": "step 3", "cost": 4.5, "tags": ["a", 3]}

    result = audit.verify(empty_engine, batch_size=7)
    assert result == audit.VerifyResult(True, 25, None, None, rows[-1]["row_hash"])


def test_chain_copied_from_sqlite_verifies_on_either_backend(empty_engine, tmp_path):
    source = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    migrate.upgrade(source)
    with source.begin() as conn:
        audit.append(
            conn,
            "zoë",
            "override",
            plant_id="P07",
            detail={
                "reason": "Ersatzteil fehlt: größer",
                "value": 0.1 + 0.2,
                "nested": {"b": [1, 2.0, None], "a": True},
            },
        )
        audit.append(conn, "bob", "approve", detail={})
    with source.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    source.dispose()
    with empty_engine.begin() as conn:
        conn.execute(audit_log.insert(), [dict(r) for r in rows])

    with empty_engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # timestamps come back in the session's zone
            conn.execute(text("SET TIME ZONE 'America/Chicago'"))
        assert audit.verify(conn) == audit.VerifyResult(True, 2, None, None, rows[-1]["row_hash"])


def test_empty_chain_verifies(empty_engine):
    assert audit.verify(empty_engine) == audit.VerifyResult(True, 0, None, None, None)


@pytest.mark.parametrize("field", ["detail", "actor", "at_utc", "action", "plant_id", "entity_id", "prev_hash"])
def test_edited_field_is_found_at_its_seq(empty_engine, field):
    append_rows(empty_engine, 10)
    original = row(empty_engine, 5)
    edited = {
        "detail": {**original["detail"], "cost": 0.0},
        "actor": "mallory",
        "at_utc": original["at_utc"] + timedelta(seconds=1),
        "action": "reject",
        "plant_id": "P02",
        "entity_id": "999",
        "prev_hash": "f" * 64,
    }[field]
    set_row(empty_engine, 5, **{field: edited})

    result = audit.verify(empty_engine, batch_size=3)
    assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, 5, 4)
    assert "edited" in result.problem


def test_edited_and_rehashed_row_breaks_the_next_link(empty_engine):
    append_rows(empty_engine, 10)
    forged = {**row(empty_engine, 5), "detail": {"reason": "never happened"}}
    set_row(empty_engine, 5, detail=forged["detail"], row_hash=audit.row_hash(forged))

    result = audit.verify(empty_engine)
    assert (result.ok, result.first_bad_seq) == (False, 6)
    assert "row 5" in result.problem


@pytest.mark.parametrize("seq", [1, 5])
def test_deleted_row_is_found_even_after_later_appends(empty_engine, seq):
    append_rows(empty_engine, 10)
    with empty_engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == seq))
    append_rows(empty_engine, 3, start=10)

    result = audit.verify(empty_engine)
    assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, seq, seq - 1)
    assert "deleted" in result.problem


def test_deleted_row_with_later_rows_renumbered_is_found(empty_engine):
    append_rows(empty_engine, 10)
    with empty_engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
        for seq in range(6, 11):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq - 1))

    result = audit.verify(empty_engine)
    assert (result.ok, result.first_bad_seq) == (False, 5)


def test_swapped_rows_are_found(empty_engine):
    append_rows(empty_engine, 10)
    fourth, fifth = row(empty_engine, 4), row(empty_engine, 5)
    set_row(empty_engine, 4, **{k: v for k, v in fifth.items() if k != "seq"})
    set_row(empty_engine, 5, **{k: v for k, v in fourth.items() if k != "seq"})

    result = audit.verify(empty_engine)
    assert (result.ok, result.first_bad_seq, result.rows_checked) == (False, 4, 3)


def test_tampering_stays_visible_after_new_appends(empty_engine):
    append_rows(empty_engine, 6)
    set_row(empty_engine, 3, actor="mallory")
    append_rows(empty_engine, 5, start=6)

    result = audit.verify(empty_engine)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    with empty_engine.connect() as conn:
        assert conn.execute(select(func.max(audit_log.c.seq))).scalar_one() == 11


def test_truncated_tail_shows_in_rows_checked_and_head_hash(empty_engine):
    append_rows(empty_engine, 10)
    recorded = audit.verify(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq > 8))

    result = audit.verify(empty_engine)
    assert result.ok and result.rows_checked == 8 and result.head_hash != recorded.head_hash


@pytest.mark.parametrize("column, stored", [("detail", "'{not json'"), ("at_utc", "'yesterday'"), ("at_utc", "5")])
def test_unparsable_stored_values_are_reported_not_raised(tmp_path, column, stored):
    """SQLite only: PostgreSQL's column types refuse such values."""
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate.upgrade(engine)
    append_rows(engine, 4)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_log SET {column} = {stored} WHERE seq = 2"))

    result = audit.verify(engine)
    engine.dispose()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "unreadable" in result.problem


def test_rolled_back_append_leaves_no_row_and_no_gap(empty_engine):
    append_rows(empty_engine, 2)
    with pytest.raises(RuntimeError), empty_engine.begin() as conn:
        conn.execute(region.insert().values(region_id="EU", name="Europe"))
        assert audit.append(conn, "alice", "create_region", entity="region", entity_id="EU", detail={}) == 3
        raise RuntimeError("the state change failed after its audit row was written")

    with empty_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(region)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 2
    with empty_engine.begin() as conn:
        assert audit.append(conn, "alice", "retry", detail={}) == 3
    assert audit.verify(empty_engine).ok


def test_append_refuses_what_would_not_hash_or_store_the_same_everywhere(empty_engine):
    with empty_engine.begin() as conn:
        with pytest.raises(TypeError):
            audit.append(conn, "alice", "approve", detail=["not", "a", "dict"])
        with pytest.raises(ValueError):
            audit.append(conn, "alice", "approve", detail={"risk": float("nan")})
        with pytest.raises(ValueError):
            audit.append(conn, "a" * 65, "approve", detail={})
        with pytest.raises(ValueError):
            audit.append(conn, "", "approve", detail={})
    assert audit.verify(empty_engine).rows_checked == 0


def test_concurrent_appenders_keep_one_gap_free_chain(empty_engine):
    writers, per_writer = 8, 200
    start, errors = threading.Barrier(writers), []

    def write(n):
        try:
            with empty_engine.connect() as conn:
                start.wait()
                for i in range(per_writer):
                    with conn.begin():
                        audit.append(conn, f"writer{n}", "append", detail={"i": i})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with empty_engine.connect() as conn:
        seqs = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq)).scalars().all()
        by_writer = conn.execute(select(audit_log.c.actor, audit_log.c.detail).order_by(audit_log.c.seq)).all()
    assert seqs == list(range(1, writers * per_writer + 1))
    for n in range(writers):
        assert [d["i"] for actor, d in by_writer if actor == f"writer{n}"] == list(range(per_writer))
    result = audit.verify(empty_engine)
    assert result.ok and result.rows_checked == writers * per_writer


def test_verify_command_exit_codes(empty_engine, backend_url, capsys):
    append_rows(empty_engine, 5)
    assert audit.main(["verify", "--url", backend_url]) == 0
    assert "audit chain intact: 5 rows" in capsys.readouterr().out

    set_row(empty_engine, 3, detail={"reason": "rewritten"})
    assert audit.main(["verify", "--url", backend_url]) == 1
    assert "seq 3" in capsys.readouterr().out


def test_verify_command_as_a_process(empty_engine, backend_url):
    append_rows(empty_engine, 3)

    def run():
        return subprocess.run(
            [sys.executable, "-m", "governance.audit", "verify", "--url", backend_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    intact = run()
    assert intact.returncode == 0 and intact.stdout.startswith("audit chain intact: 3 rows")
    with empty_engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
    broken = run()
    assert broken.returncode == 1 and "seq 2" in broken.stdout and "Traceback" not in broken.stderr


def test_verify_command_without_an_audit_table(bare_backend_url, capsys):
    engine = make_engine(bare_backend_url)
    engine.connect().close()  # the database exists (a new SQLite file), its tables don't
    engine.dispose()
    assert audit.main(["verify", "--url", bare_backend_url]) == 2
    err = capsys.readouterr().err
    assert "no audit_log table" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "cannot read"),
        ("not a url", "not a usable warehouse URL"),
        ("nosuchdb://host/db", "cannot use"),
    ],
)
def test_verify_command_with_an_unreachable_warehouse(url, message, capsys):
    assert audit.main(["verify", "--url", url]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_verify_command_does_not_create_a_missing_sqlite_file(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "warehouse.db"
    assert audit.main(["verify", "--url", f"sqlite:///{missing}"]) == 2
    assert "no SQLite warehouse" in capsys.readouterr().err
    assert not missing.parent.exists()
