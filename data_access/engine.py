"""Where the warehouse is, one engine to reach it, and opening it for a job.

The URL comes from data_access.settings (`WAREHOUSE_URL`, then `[connections.warehouse] url`
in `.streamlit/secrets.toml`, then the embedded SQLite file `data/warehouse.db`), read without
Streamlit so the command-line jobs resolve the same warehouse as the app.
"""

import os
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from data_access.settings import SettingsError, settings


class WarehouseError(RuntimeError):
    """The warehouse is missing, unreachable or not what we expect; the message says why."""


def warehouse_url() -> str:
    """The configured warehouse URL (data_access.settings: WAREHOUSE_URL, secrets, SQLite file)."""
    try:
        return settings().warehouse_url
    except SettingsError as exc:
        raise WarehouseError(str(exc)) from exc


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    url = url or warehouse_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def describe(url: str) -> str:
    """The URL without its password, safe to show in a page or a log."""
    return make_url(url).render_as_string(hide_password=True)


def open_warehouse(url: str | None = None, *, upgrade: bool = True, require_plants: bool = True) -> Engine:
    """An engine on an existing, reachable warehouse: what every command-line job opens.

    `upgrade` brings the schema up to date first (a job that writes does, as the app does);
    `require_plants` refuses a warehouse without plants. Raises WarehouseError, its message one
    line without the URL's password, when the URL is unusable, a SQLite file does not exist (a
    job never creates one) or the database cannot be read.
    """
    from data_access import migrate
    from data_access.schema import plant

    try:
        url = url or warehouse_url()
        parsed = make_url(url)
        shown = describe(url)
    except (ArgumentError, ValueError) as exc:
        raise WarehouseError(f"not a usable warehouse URL: {exc}") from None
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not os.path.isfile(parsed.database)
    ):
        raise WarehouseError(f"no SQLite warehouse at {parsed.database}")
    try:
        engine = make_engine(url)
        if require_plants:
            with engine.connect() as conn:
                if not inspect(conn).has_table(plant.name):
                    raise WarehouseError(f"{shown} holds no plant table: generate or load the network first")
        if upgrade:
            migrate.upgrade(engine)
        if require_plants:
            with engine.connect() as conn:
                if conn.execute(select(plant.c.plant_id).limit(1)).first() is None:
                    raise WarehouseError(f"{shown} holds no plant yet: generate or load the network first")
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise WarehouseError(f"cannot use {shown}: {first_line(exc)}") from None
    return engine


def first_line(exc: BaseException) -> str:
    """The first line of a database error's own message (the driver's, not SQLAlchemy's wrapper)."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
