"""The app shell through AppTest: nothing of the data before login, the right data after it."""

from datetime import date

import pytest
import streamlit as st
import yaml

import sample_data
from sample_data import generate
from tests.apptest import TEST_LOGINS, log_in, new_app, rendered_text


def data_elements(at) -> dict[str, int]:
    return {
        "metric": len(at.metric),
        "dataframe": len(at.dataframe),
        "table": len(at.table),
        "plotly_chart": len(at.get("plotly_chart")),
    }


def shows_login_form(at) -> bool:
    return [w.label for w in at.text_input] == ["Username", "Password"] and [b.label for b in at.button] == ["Login"]


NO_DATA = {"metric": 0, "dataframe": 0, "table": 0, "plotly_chart": 0}


def test_before_login_only_the_form_is_shown(app, plant_names):
    assert not app.exception
    assert shows_login_form(app)
    assert data_elements(app) == NO_DATA
    text = rendered_text(app)
    assert not [name for name in plant_names.values() if name in text]
    assert not app.sidebar.button  # no logout: nobody is logged in
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/overview.py")  # the only page is the hidden login page


def test_the_warehouse_is_not_touched_before_login(start_app, tmp_path):
    fresh = tmp_path / "fresh" / "warehouse.db"
    at = start_app(f"sqlite:///{fresh}")
    assert shows_login_form(at)
    assert not fresh.exists()


@pytest.mark.parametrize("username, password", [("coo", "wrong-password"), ("nobody", "coo-password")])
def test_a_wrong_login_shows_an_error_and_no_data(app, plant_names, username, password):
    at = log_in(app, username, password)
    assert not at.exception
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert shows_login_form(at)
    assert data_elements(at) == NO_DATA
    text = rendered_text(at)
    assert not [name for name in plant_names.values() if name in text]


def test_the_right_password_shows_the_overview_with_kpi_tiles(app, plant_names):
    at = log_in(app, "coo", TEST_LOGINS["coo"][0])
    assert not at.exception
    assert not at.error
    assert not [w for w in at.text_input if w.label == "Password"]
    assert [t.value for t in at.title] == ["Network overview"]
    assert len(at.metric) >= 1
    assert data_elements(at)["plotly_chart"] >= 1 and data_elements(at)["dataframe"] >= 1
    assert [m.value for m in at.sidebar.markdown][0] == "**COO**"
    assert at.sidebar.caption[0].value == "Executive  \nAll plants"
    text = rendered_text(at)
    assert all(name in text for name in plant_names.values())  # an executive sees every plant


def test_a_plant_manager_sees_only_the_own_plant(app, plant_names):
    own = TEST_LOGINS["pm"][2]
    at = log_in(app, "pm", TEST_LOGINS["pm"][0])
    assert not at.exception
    assert len(at.metric) >= 1
    assert at.sidebar.caption[0].value == f"Plant manager  \nPlants: {', '.join(own)}"
    text = rendered_text(at)
    assert all(plant_names[p] in text for p in own)
    assert not [name for p, name in plant_names.items() if p not in own and name in text]


def test_logout_returns_to_the_form_and_hides_the_data(app):
    at = log_in(app, "coo", TEST_LOGINS["coo"][0])
    assert len(at.metric) >= 1
    next(b for b in at.sidebar.button if b.label == "Log out").click()
    at.run()
    assert not at.exception
    assert shows_login_form(at)
    assert data_elements(at) == NO_DATA
    at.run()  # and stays logged out
    assert shows_login_form(at) and data_elements(at) == NO_DATA


def test_a_page_url_opened_in_legacy_pages_mode_still_meets_the_login(app_env, monkeypatch, small_network_url):
    # A fresh server process runs the first request's page file without app.py (pages/ is
    # found before st.navigation was ever called); AppTest does that on every run.
    monkeypatch.setenv("WAREHOUSE_URL", small_network_url)
    at = new_app()
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert shows_login_form(at)
    assert data_elements(at) == NO_DATA


def test_a_user_removed_from_the_users_file_is_logged_out(
    start_app, small_network_url, users_file, monkeypatch, tmp_path
):
    own_file = tmp_path / "users.yaml"
    own_file.write_text(users_file.read_text())
    monkeypatch.setenv("PNCT_USERS_FILE", str(own_file))
    at = log_in(start_app(small_network_url), "pm", TEST_LOGINS["pm"][0])
    assert len(at.metric) >= 1
    document = yaml.safe_load(own_file.read_text())
    del document["usernames"]["pm"]
    own_file.write_text(yaml.safe_dump(document))
    at.run()
    assert not at.exception
    assert shows_login_form(at)
    assert [e.value for e in at.error] == ["Your account is no longer in the users file. Ask an admin."]
    assert data_elements(at) == NO_DATA


def test_a_missing_users_file_is_an_error_not_a_traceback(start_app, small_network_url, monkeypatch, tmp_path):
    monkeypatch.setenv("PNCT_USERS_FILE", str(tmp_path / "missing.yaml"))
    at = start_app(small_network_url)
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Login is unavailable: users file {tmp_path / 'missing.yaml'} does not exist"
    ]
    assert not at.text_input


def test_the_users_file_comes_from_secrets_when_the_environment_is_silent(
    start_app, small_network_url, monkeypatch, tmp_path
):
    monkeypatch.delenv("PNCT_USERS_FILE")
    at = start_app(small_network_url, secrets={"auth": {"users_file": str(tmp_path / "from-secrets.yaml")}})
    assert [e.value for e in at.error] == [
        f"Login is unavailable: users file {tmp_path / 'from-secrets.yaml'} does not exist"
    ]


def test_without_configuration_the_demo_users_log_in(start_app, small_network_url, monkeypatch):
    monkeypatch.delenv("PNCT_USERS_FILE")
    at = start_app(small_network_url)
    assert any("Demo users of the sample network" in c.value for c in at.caption)
    at = log_in(at, "coo", "coo-demo")
    assert not at.exception and len(at.metric) >= 1


def test_a_random_cookie_key_is_announced(start_app, small_network_url, monkeypatch):
    note = "a random key is in use, so logins will not survive an app restart"
    assert not any(note in c.value for c in start_app(small_network_url).caption)
    monkeypatch.delenv("PNCT_COOKIE_KEY")
    assert any(note in c.value for c in start_app(small_network_url).caption)
    configured = start_app(small_network_url, secrets={"auth": {"cookie_key": "from-secrets-0123456789"}})
    assert not any(note in c.value for c in configured.caption)


def test_an_empty_warehouse_gets_the_sample_network_once(start_app, monkeypatch, tmp_path):
    calls = []

    def small_network(engine, **kwargs):
        calls.append(sorted(kwargs))
        return generate(engine, plants=2, days=30, seed=7, end_day=date(2026, 6, 30), progress=kwargs["progress"])

    monkeypatch.setattr(sample_data, "generate", small_network)
    st.cache_data.clear()  # query caches are keyed by scope, not by warehouse
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    at = log_in(start_app(url), "coo", TEST_LOGINS["coo"][0])
    assert not at.exception and not at.error
    assert calls == [["days", "plants", "progress"]]  # the configured size, with a progress callback
    assert len(at.metric) >= 1
    plants_filter = next(w for w in at.multiselect if w.label == "Plants")
    assert len(plants_filter.options) == 2
    log_in(start_app(url), "coo", TEST_LOGINS["coo"][0])
    assert len(calls) == 1  # once per process


def test_an_unreachable_warehouse_is_named_without_its_password(start_app):
    at = log_in(start_app("postgresql://pnct:s3cret-pw@127.0.0.1:1/warehouse"), "coo", TEST_LOGINS["coo"][0])
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(
        "The warehouse at postgresql+psycopg://pnct:***@127.0.0.1:1/warehouse cannot be used: OperationalError:"
    )
    assert "s3cret-pw" not in message
    assert data_elements(at) == NO_DATA


def test_an_unparseable_warehouse_url_is_not_echoed(start_app):
    at = log_in(start_app("postgresql://pnct:s3cret-pw@127.0.0.1:notaport/warehouse"), "coo", TEST_LOGINS["coo"][0])
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The warehouse at the configured URL (unparseable) cannot be used: "
        "ValueError: invalid literal for int() with base 10: 'notaport'"
    ]
    assert data_elements(at) == NO_DATA


def test_a_broken_warehouse_file_stops_the_app_and_is_left_as_it_was(start_app, tmp_path):
    broken = tmp_path / "warehouse.db"
    broken.write_bytes(b"this is not a database" * 100)
    at = log_in(start_app(f"sqlite:///{broken}"), "coo", TEST_LOGINS["coo"][0])
    assert not at.exception
    assert len(at.error) == 1 and "file is not a database" in at.error[0].value
    assert str(broken) in at.error[0].value
    assert broken.read_bytes() == b"this is not a database" * 100
    assert data_elements(at) == NO_DATA
