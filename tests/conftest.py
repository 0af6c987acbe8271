"""Shared fixtures: warehouses on both backends.

`backend_url` yields a URL per backend: a temporary SQLite file, and a throw-away
PostgreSQL database created for this test run on 127.0.0.1:5432 (user postgres) and
dropped afterwards. Without a reachable PostgreSQL the PostgreSQL cases skip with the
reason, except under CI=true, where they fail.

`small_network_url` and `users_file` serve the app tests: a generated 4-plant network and
users with known passwords (TEST_LOGINS).
"""

import os
import uuid
from datetime import date

import bcrypt
import pytest
import yaml
from sqlalchemy import create_engine, text

import sample_data
from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import metadata

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def pg_database_url():
    """A throw-away PostgreSQL database for this test run."""
    name = f"pnct_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server here"
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    url = request.getfixturevalue("pg_database_url")
    yield url
    engine = make_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture
def empty_engine(backend_url):
    """A migrated, empty warehouse on each backend."""
    engine = make_engine(backend_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


# --- app fixtures: a generated network and users with known passwords ---------------------

SMALL_NETWORK_PM_PLANT = "EU-ZAR"  # Zaragoza, one of the small network's four plants

# Test logins: username -> (password, roles, plants). Hashed at cost 4 to keep tests fast.
TEST_LOGINS = {
    "coo": ("coo-password", ["executive"], "all"),
    "pm": ("pm-password", ["plant_manager"], [SMALL_NETWORK_PM_PLANT]),
    # decisions (issue 5): the small network's sensor plant, where the seed scenario degrades
    "pm_jol": ("pm-jol-password", ["plant_manager"], ["NA-JOL"]),
    "ml_jol": ("ml-jol-password", ["maintenance_lead"], ["NA-JOL"]),
    "planner_jol": ("planner-jol-password", ["planner"], ["NA-JOL"]),
    "admin": ("admin-password", ["admin"], "all"),
    "steward": ("steward-password", ["data_steward"], "all"),  # onboarding (issue 7)
}


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
        username: {"name": username.upper(), "email": f"{username}@example.com",
                   "password": bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
                   "roles": roles, "plants": plants}
        for username, (password, roles, plants) in TEST_LOGINS.items()
    }
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    path.write_text(yaml.safe_dump({"usernames": usernames}))
    return path
