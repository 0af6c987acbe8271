"""The real thing: `streamlit run app.py` in a subprocess, driven in Debian's Chromium.

Logs in, sees the overview's KPI tiles and downloads the ranking CSV. Skips outside CI when
Chromium or Playwright is missing; under CI=true it must run.
"""

import csv
import io
import os
import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_FLAGS, log_in, require_browser, serve_app

pytestmark = pytest.mark.browser


@pytest.fixture
def served_app(small_network_url, users_file, tmp_path):
    with serve_app(small_network_url, users_file, tmp_path) as url:
        yield url


def test_login_overview_and_csv_download(served_app, tmp_path):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(accept_downloads=True)
        page.goto(served_app)
        expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=60_000)
        assert page.get_by_test_id("stMetric").count() == 0  # nothing before login
        log_in(page, "coo", "coo-password")

        expect(page.get_by_role("heading", name="Network overview")).to_be_visible(timeout=60_000)
        # the tiles render row by row: wait for the seventh rather than count while they arrive
        expect(page.get_by_test_id("stMetric").nth(6)).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

        download_button = page.get_by_test_id("stDownloadButton").nth(1)  # the plant ranking
        download_button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as info:
            download_button.get_by_role("button").click()
        data = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        browser.close()

    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert len(rows) == 4  # every plant of the small network
    assert {"plant_id", "name", "oee"} <= set(rows[0])
    assert all(0 <= float(r["oee"]) <= 1 for r in rows if r["oee"])
    if os.environ.get("PNCT_SCREENSHOT"):
        shutil.copy(tmp_path / "overview.png", os.environ["PNCT_SCREENSHOT"])
