"""Shared fixtures: warehouses on both backends.

`backend_url` yields a URL of a migrated, empty warehouse per backend: a copy of a SQLite file
migrated once per run, and a throw-away PostgreSQL database created and migrated once per run
(per xdist worker) on 127.0.0.1:5432 (user postgres), emptied after each test (DELETE) and
dropped at the end. Without a reachable PostgreSQL the PostgreSQL cases skip with the reason,
except under CI=true, where they fail.

`small_network_url` and `users_file` serve the app tests: a generated 4-plant network and
users with known passwords (TEST_LOGINS).
"""

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import date

import bcrypt
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
import yaml
from sqlalchemy import create_engine, select, text

import sample_data
from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import metadata, plant
from data_access.settings import settings
from tests.apptest import OPS_LOGINS, TEST_LOGINS, NavigationOnly, healthy, log_in, new_app

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def fresh_settings():
    """Each test reads the settings from its own environment (data_access.settings caches them)."""
    settings.cache_clear()
    yield
    settings.cache_clear()


def _pg_admin():
    """An AUTOCOMMIT engine on the PostgreSQL server; skips (fails under CI=true) without one."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return admin


@contextmanager
def _pg_database():
    """A throw-away PostgreSQL database, dropped on exit."""
    admin = _pg_admin()
    name = f"pnct_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url():
    """A throw-away PostgreSQL database for this test run (or xdist worker), migrated once."""
    with _pg_database() as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated, empty SQLite warehouse that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "warehouse.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def reset_tables(url: str) -> None:
    """Empty every table of the schema and restart its ids at 1, keeping the migrated schema.

    DELETE children first, then every sequence back to 1: on a database whose tables hold a
    test's few rows this is several times faster than TRUNCATE, which rewrites every table."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """A URL of a migrated, empty warehouse on each backend: a copy of the SQLite template, or the
    run's PostgreSQL database, emptied again after the test."""
    if request.param == "sqlite":
        target = tmp_path / "warehouse.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("pg_database_url")
    yield url
    reset_tables(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_backend_url(request, tmp_path):
    """A URL of a database without any table on each backend (for what must refuse one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bare.db'}"
        return
    with _pg_database() as url:
        yield url


@pytest.fixture
def empty_engine(backend_url):
    """A migrated, empty warehouse on each backend."""
    engine = make_engine(backend_url)
    yield engine
    engine.dispose()


# --- app fixtures: a generated network and users with known passwords ---------------------


@pytest.fixture(scope="session")
def small_network_url(tmp_path_factory):
    """A generated 4-plant, 120-day SQLite warehouse (seed 7, ending 2026-06-30), built once."""
    url = f"sqlite:///{tmp_path_factory.mktemp('small_network') / 'warehouse.db'}"
    engine = make_engine(url)
    sample_data.generate(engine, plants=4, days=120, seed=7, end_day=date(2026, 6, 30))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def users_file(tmp_path_factory):
    """A users file holding TEST_LOGINS."""
    usernames = {
        username: {
            "name": username.upper(),
            "email": f"{username}@example.com",
            "password": bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
            "roles": roles,
            "plants": plants,
        }
        for username, (password, roles, plants) in TEST_LOGINS.items()
    }
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    path.write_text(yaml.safe_dump({"usernames": usernames}))
    return path


# --- page tests (AppTest from app.py; helpers in tests/apptest.py) ---------------------------


@pytest.fixture
def navigation_only(monkeypatch):
    """AppTest runs app.py's st.navigation, never a page file alone (see apptest.NavigationOnly)."""
    monkeypatch.setattr(app_test_module, "PagesManager", NavigationOnly)


@pytest.fixture
def app_env(monkeypatch, users_file, navigation_only):
    """The test users, no login delay and a fixed cookie key, for AppTest runs of app.py."""
    monkeypatch.setenv("PNCT_USERS_FILE", str(users_file))
    monkeypatch.setenv("PNCT_LOGIN_SLEEP_TIME", "0")
    monkeypatch.setenv("PNCT_COOKIE_KEY", "app-test-only-cookie-key-0123456789abcdef")


@pytest.fixture
def start_app(monkeypatch, app_env):
    """Runs app.py once with a warehouse URL (and optional secrets); nobody logged in yet."""

    def start(warehouse_url, secrets=None):
        monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
        return new_app(secrets).run()

    return start


@pytest.fixture
def app(start_app, small_network_url):
    return start_app(small_network_url)


@pytest.fixture(scope="module")
def plant_names(small_network_url) -> dict[str, str]:
    engine = make_engine(small_network_url)
    with engine.connect() as conn:
        names = dict(conn.execute(select(plant.c.plant_id, plant.c.name)).all())
    engine.dispose()
    return names


@pytest.fixture
def open_as(monkeypatch, app_env):
    """open_as(url, username, page=None): app.py on `url`, logged in as `username`, showing `page`."""

    def open_as(url, username, page=None):
        monkeypatch.setenv("WAREHOUSE_URL", url)
        at = log_in(new_app().run(), username, TEST_LOGINS[username][0])
        assert not at.exception
        return at.switch_page(page).run() if page else at

    return open_as


# --- page tests on the operations fixture network (tests/ops_fixture.py) -------------------


@pytest.fixture(scope="module")
def ops_users(tmp_path_factory):
    usernames = {
        name: {
            "name": name.upper(),
            "email": f"{name}@example.com",
            "roles": roles,
            "plants": plants,
            "password": bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode(),
        }
        for name, (pw, roles, plants) in OPS_LOGINS.items()
    }
    path = tmp_path_factory.mktemp("ops_users") / "users.yaml"
    path.write_text(yaml.safe_dump({"usernames": usernames}))
    return path


@pytest.fixture
def open_app(monkeypatch, ops_users, navigation_only):
    """open_app(url, username, page) -> an AppTest logged in and showing that page."""
    monkeypatch.setenv("PNCT_USERS_FILE", str(ops_users))
    monkeypatch.setenv("PNCT_LOGIN_SLEEP_TIME", "0")
    monkeypatch.setenv("PNCT_COOKIE_KEY", "app-test-only-cookie-key-0123456789abcdef")
    st.cache_data.clear()

    def open_(url, username, page):
        monkeypatch.setenv("WAREHOUSE_URL", url)
        at = log_in(new_app().run(), username, OPS_LOGINS[username][0])
        at.switch_page(page).run()
        healthy(at)
        return at

    return open_
