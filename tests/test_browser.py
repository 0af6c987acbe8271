"""The real thing: `streamlit run app.py` in a subprocess, driven in Debian's Chromium.

Logs in, sees the overview's KPI tiles and downloads the ranking CSV. Skips outside CI when
Chromium or Playwright is missing; under CI=true it must run.
"""

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.browser


def _require_browser():
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -r requirements-dev.txt)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test must run under CI=true: {missing}")
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(small_network_url, users_file, tmp_path):
    port = _free_port()
    env = {**os.environ, "WAREHOUSE_URL": small_network_url, "PNCT_USERS_FILE": str(users_file),
           "PNCT_COOKIE_KEY": "browser-test-only", "PNCT_LOGIN_SLEEP_TIME": "0"}
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp_path / "streamlit.log").read_text())
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_login_overview_and_csv_download(served_app, tmp_path):
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(accept_downloads=True)
        page.goto(served_app)
        expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=60_000)
        assert page.get_by_test_id("stMetric").count() == 0  # nothing before login
        page.get_by_role("textbox", name="Username").fill("coo")
        page.get_by_role("textbox", name="Password").fill("coo-password")
        page.get_by_role("button", name="Login").click()

        expect(page.get_by_role("heading", name="Network overview")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=60_000)
        assert page.get_by_test_id("stMetric").count() >= 7
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
