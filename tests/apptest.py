"""Helpers of the page tests (Streamlit's AppTest from app.py); their fixtures are in conftest.py."""

import re
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success")


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

OPS_LOGINS = {  # the operations fixture network (tests/ops_fixture.py): username -> (password, roles, plants)
    "coo": ("coo-password", ["executive"], "all"),
    "pm_b": ("pm-b-password", ["plant_manager"], ["B"]),
    "pm_c": ("pm-c-password", ["plant_manager"], ["C"]),
}
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success")


class NavigationOnly(PagesManager):
    """AppTest (Streamlit 1.67) forgets before every run that the app calls st.navigation,
    sees the pages/ folder and then runs the previous page's file alone, without app.py
    (legacy multipage mode). The server settles this once per process; so do the tests, through
    the `app_env` fixture (or `navigation_only` where a test sets its own environment)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def new_app(secrets=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets.update(secrets or {"auth": {}})  # never the developer's own secrets.toml
    return at


def log_in(at, username, password):
    next(w for w in at.text_input if w.label == "Username").input(username)
    next(w for w in at.text_input if w.label == "Password").input(password)
    next(b for b in at.button if b.label == "Login").click()
    return at.run()


def rendered_text(at) -> str:
    """Everything a reader could see as text: texts, alerts, widget labels and options."""
    parts = [str(e.value) for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    for widget in (*at.multiselect, *at.selectbox):
        parts += [widget.label, *map(str, widget.options)]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(parts)


# --- the decision pages ---------------------------------------------------------------------------


def logged_in(username, page=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.secrets.update({"auth": {}})
    at.run()
    next(w for w in at.text_input if w.label == "Username").input(username)
    next(w for w in at.text_input if w.label == "Password").input(TEST_LOGINS[username][0])
    next(b for b in at.button if b.label == "Login").click()
    at.run()
    assert not at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def texts(at, kind) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def frames(at):
    return [df.value for df in at.dataframe]


def open_detail(at, rec_id) -> AppTest:
    at.selectbox(key="decision_detail_pick").set_value(rec_id).run()
    assert not at.exception, at.exception
    return at


def submit(at, action, reason="", field=None, value=""):
    at.selectbox(key="decision_detail_action_pick").set_value(action)
    at.text_area(key="decision_detail_reason").input(reason)
    if field:
        at.selectbox(key="decision_detail_override_field").set_value(field)
    at.text_input(key="decision_detail_override_value").input(value)
    at.button(key="decision_detail_submit").click().run()
    assert not at.exception, at.exception
    return at


def screen_text(at) -> str:
    """Everything on screen, metric tiles included (see `rendered_text`)."""
    return "\n".join([rendered_text(at), *(f"{m.label} {m.value}" for m in at.metric)])


def healthy(at) -> None:
    """No exception, no error, and no NaN, inf or NaT anywhere on screen."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not re.search(r"\b(nan|NaN|inf|NaT)\b", screen_text(at)), "NaN/inf shown on screen"


def metric_values(at) -> dict:
    return {m.label: m.value for m in at.metric}
