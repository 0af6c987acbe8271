"""Bring a warehouse's schema to the newest Alembic revision."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def upgrade(engine: Engine) -> None:
    """Create or upgrade every table; a no-op on a current warehouse.

    "heads": features developed side by side may each add a migration on the same parent;
    every branch is applied (and later joined by a merge revision).
    """
    config = Config(str(_INI))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def is_empty(engine: Engine) -> bool:
    """True when the warehouse has no plant table yet (a fresh file or database)."""
    return not inspect(engine).has_table("plant")
