"""The drill-down in real Chromium: `streamlit run app.py` on tests/ops_fixture.py, a line
picked on the downtime page, the URL carrying it, the schedule page showing it on its first
render, and a table's CSV download complete, scoped and with plant-local offsets."""

import csv
import io
from pathlib import Path

import bcrypt
import pytest
import yaml

from data_access import migrate
from data_access.engine import make_engine
from tests import ops_fixture
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, log_in, require_browser, serve_app

pytestmark = pytest.mark.browser


@pytest.fixture
def served_ops_app(tmp_path):
    require_browser()
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    ops_fixture.build(engine)
    engine.dispose()
    users = tmp_path / "users.yaml"
    users.write_text(
        yaml.safe_dump(
            {
                "usernames": {
                    "coo": {
                        "name": "COO",
                        "email": "coo@example.com",
                        "roles": ["executive"],
                        "plants": "all",
                        "password": bcrypt.hashpw(b"coo-password", bcrypt.gensalt(4)).decode(),
                    }
                }
            }
        )
    )
    with serve_app(url, users, tmp_path) as base:
        yield base


def test_drill_down_carries_to_the_next_page_and_its_csv(served_ops_app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        page.goto(served_ops_app)
        log_in(page, "coo", "coo-password")
        expect(page.get_by_role("heading", name="Network overview")).to_be_visible(timeout=60_000)

        page.get_by_role("link", name="Downtime & maintenance").click()
        expect(page.get_by_role("heading", name="Downtime & maintenance")).to_be_visible(timeout=60_000)
        page.get_by_role("combobox", name="Line").click()
        page.get_by_role("option", name="Filling 2 · Alpha Berlin (A-L2)").click()
        expect(
            page.get_by_role("heading", name="Alpha Berlin › Filling 2, 28 Mar 2026 to 31 Mar 2026 (4 days)")
        ).to_be_visible(timeout=60_000)
        assert "filters_line=Filling+2" in page.url  # the selection is in the link

        page.get_by_role("link", name="Schedule risk").click()
        expect(page.get_by_role("heading", name="Schedule risk")).to_be_visible(timeout=60_000)
        # the first render of the next page already has the line: no second run needed
        expect(
            page.get_by_role("heading", name="Alpha Berlin › Filling 2, 28 Mar 2026 to 31 Mar 2026 (4 days)")
        ).to_be_visible(timeout=60_000)
        page.get_by_role("combobox", name="Look ahead").click()
        page.get_by_role("option", name="next 7 days").click()
        expect(page.get_by_role("heading", name="Orders due 01 Apr to 07 Apr and what threatens them")).to_be_visible(
            timeout=60_000
        )
        page.screenshot(path=str(tmp_path / "schedule.png"), full_page=True)

        download = page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").nth(1)
        download.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as info:
            download.get_by_role("button").click()
        data = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        browser.close()

    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert [r["order_id"] for r in rows] == ["A-6"]  # the orders at risk on Filling 2
    assert rows[0]["due_local"] == "2026-04-03T08:00:00+02:00" and rows[0]["due_utc"] == "2026-04-03T06:00:00+00:00"
    assert rows[0]["at_risk"] == "True" and "Resin" in rows[0]["threats"]
