"""First start in Chromium: a fresh warehouse, the app and a worker, and nobody typing a command.

The worker generates a small sample network (PNCT_SAMPLE_PLANTS) and runs the first-start
pipeline; the Forecasts, Risk and Action queue pages, opened while it computes, fill in by
themselves.
"""

import os
import subprocess
import sys
import time

import pytest

from tests.browser import CHROMIUM, CHROMIUM_FLAGS, ROOT, log_in, require_browser, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT_MS = 420_000  # generation and the first-start pipeline on a shared 2-core machine


def test_a_fresh_warehouse_fills_every_page_without_a_command(users_file, tmp_path, monkeypatch):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("PNCT_SAMPLE_PLANTS", "2")
    monkeypatch.setenv("PNCT_SAMPLE_DAYS", "120")
    monkeypatch.delenv("PNCT_JOBS_FILE", raising=False)
    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "--url", url],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with serve_app(url, users_file, tmp_path) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page()
            page.goto(base)
            # the worker generates the network (the app would, too, at login; one of them is enough)
            deadline = time.monotonic() + 300
            while "serving" not in (tmp_path / "worker.log").read_text():
                assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(1)
            log_in(page, "coo", "coo-password")

            page.get_by_role("link", name="Forecasts", exact=True).click()
            expect(page.get_by_role("heading", name="Forecasts")).to_be_visible(timeout=60_000)
            page.screenshot(path=str(tmp_path / "forecasts_waiting.png"), full_page=True)
            expect(page.get_by_text("Candidates in the rolling-origin backtest")).to_be_visible(timeout=WAIT_MS)

            page.get_by_role("link", name="Risk", exact=True).click()
            expect(page.get_by_text("Scored as of")).to_be_visible(timeout=WAIT_MS)

            page.get_by_role("link", name="Action queue", exact=True).click()
            page.get_by_text("Only items waiting for me").click()  # an executive: every open item, not only escalated
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=WAIT_MS)
            page.screenshot(path=str(tmp_path / "action_queue.png"), full_page=True)
            browser.close()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
