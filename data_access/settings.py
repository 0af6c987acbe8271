"""The deployment's settings, read in one place for the app and every command-line job.

Each setting comes from its environment variable, else from the secrets (`[connections.warehouse]
url`, `[auth] users_file|cookie_key`: `.streamlit/secrets.toml`, or Streamlit's own view of it in
the app), else its default. `settings()` reads them once per process; `load(secrets)` builds
them from given secrets (the login wrapper passes st.secrets). Tests clear the cache.
"""

import functools
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "warehouse.db"


class SettingsError(ValueError):
    """A setting is unreadable or invalid; the message names it."""


class Settings(BaseModel):
    warehouse_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    users_file: Path | None = None  # None: the demo users of the sample network
    cookie_key: str | None = None  # None: a random key per process
    sample_data: Literal["auto", "1", "0"] = "auto"  # auto: only into an empty embedded SQLite file
    login_sleep_time: float | None = None  # None: the login library's default
    sample_plants: int = 12  # size of the generated sample network (a 3-plant one for a quick try)
    sample_days: int = 1095
    jobs_file: Path | None = None  # the worker's schedules, over config/jobs.toml's defaults


ENVIRONMENT = {
    "warehouse_url": "WAREHOUSE_URL",
    "users_file": "PNCT_USERS_FILE",
    "cookie_key": "PNCT_COOKIE_KEY",
    "sample_data": "PNCT_SAMPLE_DATA",
    "login_sleep_time": "PNCT_LOGIN_SLEEP_TIME",
    "sample_plants": "PNCT_SAMPLE_PLANTS",
    "sample_days": "PNCT_SAMPLE_DAYS",
    "jobs_file": "PNCT_JOBS_FILE",
}
SECRETS = {
    "warehouse_url": ("connections", "warehouse", "url"),
    "users_file": ("auth", "users_file"),
    "cookie_key": ("auth", "cookie_key"),
    "jobs_file": ("jobs", "schedules_file"),
}


@functools.cache
def settings() -> Settings:
    """The settings of this process: environment, then the project's secrets file, then defaults."""
    return load(read_secrets(SECRETS_PATH))


def load(secrets: Mapping) -> Settings:
    """Settings from the environment, then `secrets` (a parsed secrets.toml), then defaults."""
    values = {}
    for name, path in SECRETS.items():
        found = secrets
        for key in path:
            found = found.get(key, {}) if isinstance(found, Mapping) else {}
        if found not in ({}, None, ""):
            values[name] = found
    values.update({name: os.environ[var] for name, var in ENVIRONMENT.items() if os.environ.get(var)})
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])
        raise SettingsError(f"{ENVIRONMENT.get(name, name)}: {error['msg']}") from None


def read_secrets(path: Path) -> dict:
    """A secrets.toml as a dict ({} when there is none); SettingsError when it is not TOML."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None
