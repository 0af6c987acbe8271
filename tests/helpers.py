"""Small helpers shared by the database tests (fixtures live in conftest.py)."""

import io
import sqlite3
from pathlib import Path

import yaml
from sqlalchemy import func, select

from governance.users import User

INGEST_CORPUS = Path(__file__).resolve().parent / "ingest_corpus"
INGEST_MANIFEST = yaml.safe_load((INGEST_CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
INGEST_BASE = INGEST_MANIFEST["base_mapping"]
"""The base mapping of the ingest corpus (a downtime export of tiny_network's plant A)."""


def count(engine, table, *where, **equal) -> int:
    """Rows of `table` matching the SQL conditions `where` and the column values `equal`."""
    stmt = select(func.count()).select_from(table).where(*where)
    for name, value in equal.items():
        stmt = stmt.where(table.c[name] == value)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def user(name: str, *roles: str, plants=("A",)) -> User:
    """A user of tiny_network: network roles see every plant, the others `plants`."""
    network = any(r in ("executive", "data_steward", "admin") for r in roles)
    return User(name, name.upper(), f"{name}@example.com", tuple(roles), None if network else frozenset(plants))


def csv_bytes(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def sqlite_copy(source_url: str, target: Path) -> str:
    """A consistent copy of a SQLite warehouse (the backup API includes what is still in the WAL)."""
    source = sqlite3.connect(source_url.split("///", 1)[1])
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"
