"""Where the warehouse is, and one engine to reach it.

Resolution order: the `WAREHOUSE_URL` environment variable, then `[connections.warehouse] url`
in `.streamlit/secrets.toml`, then the embedded SQLite file `data/warehouse.db`. Read without
Streamlit so the command-line jobs resolve the same warehouse as the app.
"""

import os
import tomllib
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "warehouse.db"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class WarehouseError(RuntimeError):
    """The warehouse is missing, unreachable or not what we expect; the message says why."""


def warehouse_url(secrets_path: Path = SECRETS_PATH) -> str:
    """The configured warehouse URL (see module docstring for the order)."""
    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    if secrets_path.exists():
        try:
            secrets = tomllib.loads(secrets_path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise WarehouseError(f"{secrets_path} is not valid TOML: {exc}") from exc
        url = secrets.get("connections", {}).get("warehouse", {}).get("url")
        if url:
            return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


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
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
