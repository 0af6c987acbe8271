"""The login gate: the one module of `governance` that talks to Streamlit.

It wraps streamlit-authenticator 0.4.2 so that pages never import it. Users come from the
users file (`PNCT_USERS_FILE`, else `[auth] users_file` in secrets, else the demo users) and
are re-read on every run, so a changed role or a removed user takes effect on the next click.
Credentials go to the authenticator as a fresh dict, never as a path: given a path it would
write login state back into the users file.
"""

import secrets
from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.errors import StreamlitAPIException
from streamlit_authenticator.utilities import LoginError

from data_access.settings import Settings, SettingsError, load
from governance.audit import record_failed_login
from governance.users import User, UsersFileError, load_users

DEMO_USERS_FILE = Path(__file__).resolve().parent.parent / "config" / "demo_users.yaml"

_USER = "auth_user"
_LOGOUT_REQUESTED = "auth_logout_requested"
_COOKIE_PENDING = "auth_cookie_pending"
# The authenticator's cookie manager is an invisible component that would still take a row.
_HIDE_COOKIE_FRAMES = """<style>
.stElementContainer:has(iframe[title="extra_streamlit_components.CookieManager.cookie_manager"])
{display: none;}
</style>"""


def login_gate() -> User | None:
    """Show the login form until someone logs in; then return the logged-in User.

    Returns None while nobody is logged in: the caller must then render nothing else.
    """
    users_path = _users_file_path()
    try:
        users = load_users(users_path)
    except UsersFileError as exc:
        _stop(f"Login is unavailable: {exc}")
    cookie_key, key_configured = _cookie_key()
    authenticator = stauth.Authenticate(
        users.credentials(),
        users.cookie_name,
        cookie_key,
        users.cookie_expiry_days,
        auto_hash=False,
        **_sleep_option(),
    )
    st.html(_HIDE_COOKIE_FRAMES)

    logout_requested = st.session_state.pop(_LOGOUT_REQUESTED, False)
    removed = _logged_in() and st.session_state.get("username") not in users.users
    if _logged_in() and (logout_requested or removed):
        authenticator.logout(location="unrendered")
    st.session_state.pop(_USER, None)

    if not _logged_in():

        def log_in() -> None:
            _login_form(authenticator, removed, users_path, key_configured)

        # While nobody is logged in the app has one page, hidden: no page name shows, a link
        # to any other page lands here, and the form's widgets keep their identity on the
        # first run of a fresh process (which Streamlit runs in its legacy pages/ mode).
        st.navigation([st.Page(log_in, title="Log in")], position="hidden").run()
        if not _logged_in():
            return None
        # Rerun so the form disappears before any page draws. The authenticator's cookie
        # component would be unmounted by that rerun, so set the cookie again on the next run.
        st.session_state[_COOKIE_PENDING] = True
        st.rerun()

    if st.session_state.pop(_COOKIE_PENDING, False):
        authenticator.cookie_controller.set_cookie()
    user = users.users[st.session_state["username"]]
    st.session_state[_USER] = user
    return user


def _login_form(authenticator, removed: bool, users_path: Path, key_configured: bool) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Plant Network Control Tower")
        try:
            authenticator.login(location="main", key="auth_login")
        except LoginError:
            # A remembered login cookie names a user no longer in the users file. Setting the
            # authenticator's own 'logout' flag makes it ignore the cookie for this session.
            st.session_state["logout"] = True
            authenticator.cookie_controller.delete_cookie()
            removed = True
            authenticator.login(location="main", key="auth_login")
        if _logged_in():
            return
        if removed:
            st.error("Your account is no longer in the users file. Ask an admin.")
        elif st.session_state.get("authentication_status") is False:
            st.error("Username or password is incorrect.")
            if st.session_state.get("FormSubmitter:auth_login-Login"):  # once per submitted attempt
                record_failed_login(_attempted_username(authenticator), background=True)
        _login_notes(users_path, key_configured)


def current_user() -> User:
    """The logged-in user, for pages; stops the page if nobody is logged in."""
    user = st.session_state.get(_USER)
    if user is None or not _logged_in() or st.session_state.get("username") != user.username:
        # Only reachable when Streamlit ran a page file without app.py: a fresh process whose
        # first request is a page URL runs pages/ the legacy way. Go through the login gate.
        try:
            st.switch_page("app.py")
        except StreamlitAPIException:  # app.py is not part of this run's navigation
            _stop("You are not logged in.")
    return user


def logout_button() -> None:
    """A sidebar button; the logout itself runs first thing on the next run, in login_gate,
    so nothing of the data is drawn after it and the cookie deletion has a run to complete."""
    st.sidebar.button("Log out", key="auth_logout_button", on_click=_request_logout, width="stretch")


def _request_logout() -> None:
    st.session_state[_LOGOUT_REQUESTED] = True


def _logged_in() -> bool:
    return bool(st.session_state.get("authentication_status"))


def _stop(message: str):
    st.error(message)
    st.stop()


def _settings() -> Settings:
    """The deployment's settings, with Streamlit's view of the secrets (data_access.settings)."""
    try:
        return load(_streamlit_secrets())
    except SettingsError as exc:
        _stop(f"The settings are invalid: {exc}")


def _streamlit_secrets() -> dict:
    """st.secrets as a dict; {} without a secrets file."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError as exc:  # st.secrets raises a subclass for missing *and* broken files
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return {}
        _stop(f"The secrets file cannot be read: {exc}")


def _users_file_path() -> Path:
    return _settings().users_file or DEMO_USERS_FILE


def _cookie_key() -> tuple[str, bool]:
    """The key signing the login cookie, and whether it was configured (else random)."""
    configured = _settings().cookie_key
    return (configured, True) if configured else (_process_cookie_key(), False)


@st.cache_resource(show_spinner=False)
def _process_cookie_key() -> str:
    """One random key per process: cookies stay valid until the app restarts."""
    return secrets.token_hex(32)


def _sleep_option() -> dict:
    """login_sleep_time from PNCT_LOGIN_SLEEP_TIME; unset keeps the library's default."""
    value = _settings().login_sleep_time
    return {} if value is None else {"login_sleep_time": value}


def _login_notes(users_path: Path, key_configured: bool) -> None:
    if users_path == DEMO_USERS_FILE:
        st.caption("Demo users of the sample network (config/demo_users.yaml). Set PNCT_USERS_FILE for real users.")
    if not key_configured:
        st.caption(
            "No cookie key is configured (PNCT_COOKIE_KEY or [auth] cookie_key in "
            ".streamlit/secrets.toml): a random key is in use, so logins will not "
            "survive an app restart."
        )


def _attempted_username(authenticator) -> str | None:
    """The known user whose failed-attempt count the authenticator raised in this run (its
    credentials are built fresh on every run), or None."""
    try:
        credentials = authenticator.authentication_controller.authentication_model.credentials
        failed = [name for name, entry in credentials["usernames"].items() if entry.get("failed_login_attempts")]
    except (AttributeError, KeyError, TypeError):
        return None
    return failed[0] if len(failed) == 1 else None
