"""Who may log in: users with their roles and plant scope, read from a YAML users file.

The file (default `config/demo_users.yaml`, for the sample network only)::

    cookie: {name: pnct_auth, expiry_days: 1}      # optional; these are the defaults
    usernames:
      pm_berlin:                                   # lowercase: the login lowercases what is typed
        name: Ada Berlin
        email: ada@example.com
        password: $2b$12$...                       # a bcrypt hash; plain text is never accepted
        roles: [plant_manager]
        plants: [P01]                              # or "all"; network roles may leave it out

The file is validated as a whole and refused with one clear message, so a typo never
half-loads and never silently widens anyone's plant scope. Users are added with
`python -m governance.users add ...` (run with --help). Importable without Streamlit.
"""

import argparse
import getpass
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from data_access.scope import PlantScope
from governance import roles as roles_mod

DEFAULT_COOKIE = {"name": "pnct_auth", "expiry_days": 1}
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 refuses longer passwords

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
_USER_FIELDS = ("name", "email", "password", "roles", "plants")


class UsersFileError(ValueError):
    """The users file or a user entry is unusable; the message says where and why."""


@dataclass(frozen=True)
class User:
    """A logged-in person. `plants` is None when the user sees every plant."""

    username: str
    name: str
    email: str
    roles: tuple[str, ...]
    plants: frozenset[str] | None

    @property
    def scope(self) -> PlantScope:
        """The plants whose rows this user may receive from `data_access`."""
        if self.plants is None or roles_mod.sees_every_plant(self.roles):
            return PlantScope.everything()
        return PlantScope.only(self.plants)

    def can(self, permission: str) -> bool:
        return roles_mod.can(self.roles, permission)


@dataclass(frozen=True)
class UsersFile:
    """A validated users file: the users, their password hashes and the login cookie."""

    users: dict[str, User]
    password_hashes: dict[str, str]
    cookie_name: str
    cookie_expiry_days: float

    def credentials(self) -> dict:
        """streamlit-authenticator's credentials dict, new on every call: it mutates its copy."""
        return {
            "usernames": {
                username: {
                    "name": user.name,
                    "email": user.email,
                    "password": self.password_hashes[username],
                    "roles": list(user.roles),
                }
                for username, user in self.users.items()
            }
        }


def load_users(path) -> UsersFile:
    """Read and validate a users file; raises UsersFileError naming the file and the problem."""
    path = Path(path)
    return parse_users(_read_yaml(path), source=str(path))


def parse_users(document, source: str = "users file") -> UsersFile:
    """Validate a users document (the YAML file's content) into a UsersFile."""
    if not isinstance(document, dict):
        raise UsersFileError(f"{source}: expected a mapping with 'usernames' (and optionally 'cookie')")
    _reject_unknown(document, ("cookie", "usernames"), source)
    cookie = _parse_cookie(document.get("cookie", DEFAULT_COOKIE), source)
    entries = document.get("usernames")
    if not isinstance(entries, dict) or not entries:
        raise UsersFileError(f"{source}: 'usernames' must map at least one username to its details")
    users, hashes = {}, {}
    for username, entry in entries.items():
        user, password_hash = _parse_user(username, entry, source)
        users[username], hashes[username] = user, password_hash
    return UsersFile(users, hashes, cookie["name"], cookie["expiry_days"])


def _read_yaml(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsersFileError(f"users file {path} does not exist") from None
    except OSError as exc:
        raise UsersFileError(f"users file {path} cannot be read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None


def _reject_unknown(mapping: dict, known, where: str) -> None:
    unknown = [str(key) for key in mapping if key not in known]
    if unknown:
        raise UsersFileError(f"{where}: unknown field {', '.join(map(repr, unknown))} (expected: {', '.join(known)})")


def _parse_cookie(cookie, source: str) -> dict:
    where = f"{source}: cookie"
    if not isinstance(cookie, dict):
        raise UsersFileError(f"{where}: expected a mapping with 'name' and 'expiry_days'")
    _reject_unknown(cookie, ("name", "expiry_days"), where)
    name = cookie.get("name")
    days = cookie.get("expiry_days")
    if not isinstance(name, str) or not name.strip():
        raise UsersFileError(f"{where}: 'name' must be a non-empty string")
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        raise UsersFileError(f"{where}: 'expiry_days' must be a number of days, 0 or more")
    return {"name": name, "expiry_days": float(days)}


def _parse_user(username, entry, source: str) -> tuple[User, str]:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        hint = (
            " (usernames must be lowercase: the login lowercases what is typed)"
            if isinstance(username, str) and username != username.lower()
            else " (use lowercase letters, digits and . _ @ -, at most 64 characters)"
        )
        raise UsersFileError(f"{source}: invalid username {username!r}{hint}")
    where = f"{source}: user {username!r}"
    if not isinstance(entry, dict):
        raise UsersFileError(f"{where}: expected a mapping with {', '.join(_USER_FIELDS)}")
    _reject_unknown(entry, _USER_FIELDS, where)
    for field in ("name", "email", "password", "roles"):
        if field not in entry:
            raise UsersFileError(f"{where}: missing field {field!r}")

    name, email, password = entry["name"], entry["email"], entry["password"]
    if not isinstance(name, str) or not name.strip():
        raise UsersFileError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise UsersFileError(f"{where}: 'email' is not an email address: {email!r}")
    if not isinstance(password, str) or not _BCRYPT_HASH.fullmatch(password):
        raise UsersFileError(
            f"{where}: 'password' is not a bcrypt hash (plain-text passwords are "
            "never accepted; make a hash with `python -m governance.users hash`)"
        )

    user_roles = entry["roles"]
    if isinstance(user_roles, str):
        user_roles = [user_roles]
    if not isinstance(user_roles, list) or not user_roles:
        raise UsersFileError(f"{where}: 'roles' must list at least one role")
    for role in user_roles:
        if role not in roles_mod.ROLES:
            raise UsersFileError(f"{where}: unknown role {role!r} (known: {', '.join(roles_mod.ROLES)})")
    user_roles = tuple(dict.fromkeys(user_roles))

    plants = _parse_plants(entry.get("plants"), user_roles, where)
    return User(username, name.strip(), email, user_roles, plants), password


def _parse_plants(plants, user_roles: tuple[str, ...], where: str) -> frozenset[str] | None:
    """None for every plant; refuses a plant list on a network role (it would not restrict it)."""
    network = [role for role in user_roles if role in roles_mod.NETWORK_ROLES]
    if network:
        if plants not in (None, "all"):
            raise UsersFileError(f"{where}: role {network[0]!r} sees every plant; set plants: all or leave it out")
        return None
    if plants == "all":
        return None
    if not isinstance(plants, list) or not plants or not all(isinstance(p, str) and p.strip() for p in plants):
        raise UsersFileError(
            f"{where}: role {user_roles[0]!r} sees its own plants only; "
            "'plants' must list plant ids (e.g. [P01, P02]) or be 'all'"
        )
    return frozenset(p.strip() for p in plants)


# --- command line --------------------------------------------------------------------------

# Has the shape of a bcrypt hash but matches no password: lets `add` validate the new entry
# before asking for a password, so a typo in --role is reported before anyone types twice.
_PLACEHOLDER_HASH = "$2b$12$" + "." * 53


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise ValueError("the two passwords differ")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"the password must be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")
    if password != password.strip():
        # the login form strips what is typed, so such a password could never match
        raise ValueError("the password must not start or end with whitespace")
    return password


def hash_password(password: str) -> str:
    """A bcrypt hash of `password`, as the users file stores it."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def add_user(
    path: Path,
    username: str,
    name: str,
    email: str,
    user_roles: list[str],
    plants: str | None,
    password_from_stdin: bool,
    replace: bool,
) -> User:
    """Add (or with `replace`, overwrite) one user in the users file, creating the file if needed."""
    if path.exists():
        document = _read_yaml(path)
        parse_users(document, str(path))  # refuse to extend a file that is already broken
    else:
        document = {"cookie": dict(DEFAULT_COOKIE), "usernames": {}}
    if username in document["usernames"] and not replace:
        raise UsersFileError(f"user {username!r} already exists in {path} (use --replace to overwrite)")

    entry = {"name": name, "email": email, "password": _PLACEHOLDER_HASH, "roles": list(dict.fromkeys(user_roles))}
    if plants is not None:
        entry["plants"] = "all" if plants.strip() == "all" else [p.strip() for p in plants.split(",") if p.strip()]
    elif roles_mod.sees_every_plant(user_roles):
        entry["plants"] = "all"
    _parse_user(username, entry, str(path))

    entry["password"] = hash_password(_read_password(password_from_stdin))
    document["usernames"][username] = entry
    users_file = parse_users(document, str(path))
    _write_atomically(path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return users_file.users[username]


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step; a new file is readable by its owner only (it holds hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m governance.users", description="Manage the users file of the control tower."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user (asks for the password twice)")
    add.add_argument("--file", required=True, type=Path, help="users YAML file (created if missing)")
    add.add_argument("--username", required=True, help="lowercase login name")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--email", required=True)
    add.add_argument(
        "--role",
        required=True,
        action="append",
        dest="roles",
        choices=list(roles_mod.ROLES),
        help="repeat for several roles",
    )
    add.add_argument("--plants", help="comma-separated plant ids, or 'all' (required for plant-scoped roles)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of a prompt",
    )
    add.add_argument("--replace", action="store_true", help="overwrite an existing user")
    commands.add_parser("hash", help="print a bcrypt hash of a password read from stdin")
    args = parser.parse_args(argv)

    try:
        if args.command == "hash":
            print(hash_password(_read_password(from_stdin=False)))
            return 0
        user = add_user(
            args.file, args.username, args.name, args.email, args.roles, args.plants, args.password_stdin, args.replace
        )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("error: no password given", file=sys.stderr)
        return 1
    plants = "all plants" if user.plants is None else ", ".join(sorted(user.plants))
    print(f"saved user {user.username!r} ({', '.join(user.roles)}; {plants}) in {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
