"""The users file: what it accepts, what it refuses and why; the add-user command line."""

import copy
import os
import stat
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml

from data_access.scope import PlantScope
from governance.users import UsersFileError, load_users, parse_users

ROOT = Path(__file__).resolve().parent.parent
HASH = bcrypt.hashpw(b"right-password", bcrypt.gensalt(4)).decode()

BERLIN = "EU-BER"  # the sample network's Berlin plant

# The demo logins documented in the README (sample data only): username -> password.
DEMO_PASSWORDS = {
    name: f"{name}-demo"
    for name in ("coo", "cio", "pm_berlin", "pm_us", "planner_berlin", "maint_berlin", "steward", "admin")
}


def valid_document():
    return {
        "cookie": {"name": "pnct_auth", "expiry_days": 1},
        "usernames": {
            "coo": {
                "name": "Chief Ops",
                "email": "coo@example.com",
                "password": HASH,
                "roles": ["executive"],
                "plants": "all",
            },
            "pm": {
                "name": "Plant Manager",
                "email": "pm@example.com",
                "password": HASH,
                "roles": ["plant_manager"],
                "plants": ["P01", "P02"],
            },
        },
    }


def test_a_valid_document_gives_users_with_their_scope():
    users = parse_users(valid_document())
    assert users.cookie_name == "pnct_auth" and users.cookie_expiry_days == 1
    coo, pm = users.users["coo"], users.users["pm"]
    assert coo.plants is None and coo.scope == PlantScope.everything()
    assert pm.plants == {"P01", "P02"} and pm.scope == PlantScope.only(["P01", "P02"])
    assert pm.roles == ("plant_manager",)
    assert pm.can("decide") and not pm.can("manage_users")
    assert coo.can("decide_escalated") and not coo.can("decide")


def test_network_roles_may_leave_plants_out_and_the_cookie_has_defaults():
    document = valid_document()
    del document["cookie"]
    del document["usernames"]["coo"]["plants"]
    users = parse_users(document)
    assert users.users["coo"].scope.is_network
    assert users.cookie_name == "pnct_auth" and users.cookie_expiry_days == 1


def test_a_plant_scoped_role_may_be_given_every_plant_explicitly():
    document = valid_document()
    document["usernames"]["pm"]["plants"] = "all"
    assert parse_users(document).users["pm"].scope.is_network


def test_credentials_for_the_authenticator_are_a_fresh_copy_each_time():
    users = parse_users(valid_document())
    first = users.credentials()
    assert first["usernames"]["pm"] == {
        "name": "Plant Manager",
        "email": "pm@example.com",
        "password": HASH,
        "roles": ["plant_manager"],
    }
    first["usernames"]["pm"]["logged_in"] = True  # what the authenticator does to its copy
    assert "logged_in" not in users.credentials()["usernames"]["pm"]


def _broken(edit):
    document = copy.deepcopy(valid_document())
    edit(document)
    return document


def _set(path, value):
    def edit(document):
        *parents, last = path
        target = document
        for key in parents:
            target = target[key]
        target[last] = value

    return edit


def _drop(*path):
    def edit(document):
        *parents, last = path
        target = document
        for key in parents:
            target = target[key]
        del target[last]

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_drop("usernames"), "'usernames' must map at least one username"),
        (_set(("usernames",), {}), "'usernames' must map at least one username"),
        (_drop("usernames", "pm", "name"), "user 'pm': missing field 'name'"),
        (_drop("usernames", "pm", "email"), "user 'pm': missing field 'email'"),
        (_drop("usernames", "pm", "password"), "user 'pm': missing field 'password'"),
        (_drop("usernames", "pm", "roles"), "user 'pm': missing field 'roles'"),
        (_set(("usernames", "pm", "roles"), []), "'roles' must list at least one role"),
        (_set(("usernames", "pm", "roles"), ["plant_manager", "boss"]), "unknown role 'boss'"),
        (_set(("usernames", "pm", "password"), "right-password"), "'password' is not a bcrypt hash"),
        (_set(("usernames", "pm", "password"), HASH[:-1]), "'password' is not a bcrypt hash"),
        (_drop("usernames", "pm", "plants"), "role 'plant_manager' sees its own plants only"),
        (_set(("usernames", "pm", "plants"), []), "role 'plant_manager' sees its own plants only"),
        (_set(("usernames", "pm", "plants"), [1]), "role 'plant_manager' sees its own plants only"),
        (_set(("usernames", "coo", "plants"), ["P01"]), "role 'executive' sees every plant"),
        (_set(("usernames", "pm", "email"), "not-an-address"), "'email' is not an email address"),
        (_set(("usernames", "pm", "name"), " "), "'name' must be a non-empty string"),
        (_set(("usernames", "pm", "role"), ["planner"]), "unknown field 'role'"),
        (_set(("usernames", "PM2"), {}), "usernames must be lowercase"),
        (_set(("usernames", "p m"), {}), "invalid username 'p m'"),
        (_set(("usernames", "pm"), "plant_manager"), "user 'pm': expected a mapping"),
        (_set(("cookie", "expiry_days"), -1), "'expiry_days' must be a number of days"),
        (_set(("cookie", "name"), ""), "cookie: 'name' must be a non-empty string"),
        (_set(("credentials",), {}), "unknown field 'credentials'"),
    ],
)
def test_a_broken_document_is_refused_with_the_reason(edit, message):
    with pytest.raises(UsersFileError) as error:
        parse_users(_broken(edit), source="users.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("users.yaml")


def test_not_a_mapping_is_refused():
    with pytest.raises(UsersFileError, match="expected a mapping"):
        parse_users(["coo"])


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UsersFileError, match=r"users file .*nope\.yaml does not exist"):
        load_users(tmp_path / "nope.yaml")


def test_malformed_yaml_is_refused_in_one_line(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("usernames:\n  coo: [unclosed\n")
    with pytest.raises(UsersFileError, match="is not valid YAML") as error:
        load_users(path)
    assert "\n" not in str(error.value)


def test_the_demo_users_file_is_valid_and_its_documented_passwords_work():
    users = load_users(ROOT / "config" / "demo_users.yaml")
    assert set(users.users) == set(DEMO_PASSWORDS)
    assert {role for user in users.users.values() for role in user.roles} == {
        "executive",
        "plant_manager",
        "planner",
        "maintenance_lead",
        "data_steward",
        "admin",
    }
    for username, password in DEMO_PASSWORDS.items():
        assert bcrypt.checkpw(password.encode(), users.password_hashes[username].encode()), username
    assert users.users["pm_us"].plants == {"NA-JOL", "NA-ATL"}
    assert users.users["pm_berlin"].plants == {BERLIN}


# --- command line --------------------------------------------------------------------------


def run_cli(*args, password="s3cret-password\n"):
    return subprocess.run(
        [sys.executable, "-m", "governance.users", *args],
        input=password,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def add_args(path, username="pm_berlin", *extra):
    return [
        "add",
        "--file",
        str(path),
        "--username",
        username,
        "--name",
        "Ada Berlin",
        "--email",
        "ada@example.com",
        "--password-stdin",
        *extra,
    ]


def test_add_creates_the_file_with_a_bcrypt_hash_that_verifies(tmp_path):
    path = tmp_path / "config" / "users.yaml"
    result = run_cli(*add_args(path, "pm_berlin", "--role", "plant_manager", "--plants", "P01, P02"))
    assert result.returncode == 0, result.stderr
    assert "saved user 'pm_berlin'" in result.stdout
    users = load_users(path)
    user = users.users["pm_berlin"]
    assert (user.name, user.email, user.roles, user.plants) == (
        "Ada Berlin",
        "ada@example.com",
        ("plant_manager",),
        {"P01", "P02"},
    )
    stored = users.password_hashes["pm_berlin"]
    assert stored.startswith("$2b$") and "s3cret-password" not in path.read_text()
    assert bcrypt.checkpw(b"s3cret-password", stored.encode())
    assert not bcrypt.checkpw(b"s3cret-passwore", stored.encode())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_add_keeps_the_other_users_and_gives_network_roles_every_plant(tmp_path):
    path = tmp_path / "users.yaml"
    assert run_cli(*add_args(path, "pm_berlin", "--role", "plant_manager", "--plants", "P01")).returncode == 0
    result = run_cli(
        *add_args(path, "coo", "--role", "executive", "--role", "data_steward"), password="another-password\n"
    )
    assert result.returncode == 0, result.stderr
    users = load_users(path)
    assert set(users.users) == {"pm_berlin", "coo"}
    assert users.users["coo"].roles == ("executive", "data_steward")
    assert users.users["coo"].scope.is_network
    assert bcrypt.checkpw(b"another-password", users.password_hashes["coo"].encode())
    assert bcrypt.checkpw(b"s3cret-password", users.password_hashes["pm_berlin"].encode())


def test_an_existing_user_is_replaced_only_when_asked(tmp_path):
    path = tmp_path / "users.yaml"
    run_cli(*add_args(path, "pm_berlin", "--role", "plant_manager", "--plants", "P01"))
    again = run_cli(*add_args(path, "pm_berlin", "--role", "planner", "--plants", "P02"), password="changed-password\n")
    assert again.returncode == 1
    assert again.stderr.strip() == (f"error: user 'pm_berlin' already exists in {path} (use --replace to overwrite)")
    assert load_users(path).users["pm_berlin"].roles == ("plant_manager",)
    replaced = run_cli(
        *add_args(path, "pm_berlin", "--role", "planner", "--plants", "P02", "--replace"), password="changed-password\n"
    )
    assert replaced.returncode == 0, replaced.stderr
    users = load_users(path)
    assert users.users["pm_berlin"].roles == ("planner",)
    assert bcrypt.checkpw(b"changed-password", users.password_hashes["pm_berlin"].encode())


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "planner"], "s3cret-password\n", "role 'planner' sees its own plants only"),
        (["--role", "executive", "--plants", "P01"], "s3cret-password\n", "role 'executive' sees every plant"),
        (["--role", "planner", "--plants", "P01"], "short\n", "at least 8 characters"),
        (["--role", "planner", "--plants", "P01"], " padded-password\n", "must not start or end with whitespace"),
        (["--role", "planner", "--plants", "P01"], "x" * 73 + "\n", "at most 72 bytes"),
        (["--role", "planner", "--plants", "P01"], "", "at least 8 characters"),
    ],
)
def test_add_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, args, password, message):
    path = tmp_path / "users.yaml"
    result = run_cli(*add_args(path, "pm_berlin", *args), password=password)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not path.exists()


def test_add_refuses_an_uppercase_username(tmp_path):
    result = run_cli(*add_args(tmp_path / "u.yaml", "PM_Berlin", "--role", "planner", "--plants", "P01"))
    assert result.returncode == 1 and "usernames must be lowercase" in result.stderr


def test_add_refuses_to_extend_a_file_holding_a_plain_text_password(tmp_path):
    path = tmp_path / "users.yaml"
    document = valid_document()
    document["usernames"]["pm"]["password"] = "plain-text"
    path.write_text(yaml.safe_dump(document))
    before = path.read_text()
    result = run_cli(*add_args(path, "planner", "--role", "planner", "--plants", "P01"))
    assert result.returncode == 1
    assert "'password' is not a bcrypt hash" in result.stderr and "Traceback" not in result.stderr
    assert path.read_text() == before


def test_an_unknown_role_is_a_usage_error(tmp_path):
    result = run_cli(*add_args(tmp_path / "u.yaml", "pm", "--role", "boss", "--plants", "P01"))
    assert result.returncode == 2 and "invalid choice: 'boss'" in result.stderr


def test_hash_prints_a_bcrypt_hash_of_stdin():
    result = run_cli("hash", password="s3cret-password\n")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip()
    assert printed.startswith("$2b$")
    assert bcrypt.checkpw(b"s3cret-password", printed.encode())
    assert parse_users(_broken(_set(("usernames", "pm", "password"), printed))).users["pm"]
