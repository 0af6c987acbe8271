"""The Jobs page through AppTest: admins and data stewards only, schedules and runs, a failing job
red (also on the overview), "Run now" as an audited request, progress while the worker computes."""

import pytest
from sqlalchemy import select

from data_access import jobs as store
from data_access.engine import make_engine
from data_access.schema import audit_log, job_request
from tests.helpers import sqlite_copy


@pytest.fixture
def warehouse(small_network_url, tmp_path) -> str:
    return sqlite_copy(small_network_url, tmp_path / "jobs.db")


def record_runs(url):
    engine = make_engine(url)
    ok = store.claim_run(engine, "sla", "tick:a", "w1", 60, trigger="schedule", schedule="every 5m")
    store.finish_run(engine, ok, "w1", succeeded=True, seconds=0.2, counts={"expired": 0}, message="0 expired")
    bad = store.claim_run(engine, "risk", "tick:b", "w1", 60, trigger="schedule", schedule="cron 5 * * * *")
    store.finish_run(engine, bad, "w1", succeeded=False, seconds=3.0, error="OperationalError: disk I/O error")
    store.claim_run(engine, "forecasts", "request:9", "w2", 60, trigger="load", plant_id="EU-ZAR")
    store.renew_run(engine, 3, "w2", 60, progress=0.5, message="Forecast 6 of 12 series")
    engine.dispose()


def test_the_jobs_page_shows_schedules_runs_and_a_failing_job_red(open_as, warehouse):
    record_runs(warehouse)
    at = open_as(warehouse, "steward", "pages/jobs.py")
    assert not at.exception and [t.value for t in at.title] == ["Jobs"]
    board = at.dataframe[0].value.set_index("job_name")
    assert list(board.index) == ["feeds", "marts", "forecasts", "risk", "orchestrate", "sla"]
    assert board.loc["forecasts", "schedule"] == "cron 0 2 * * *"
    assert board.loc["sla", "status"].endswith("succeeded") and board.loc["risk", "status"].endswith("failed")
    assert board.loc["marts", "status"] == "never run"
    assert [e.value for e in at.error] == ["Failing: **Risk scoring**: OperationalError: disk I/O error"]
    runs = at.dataframe[1].value
    assert set(runs["job_name"]) == {"sla", "risk", "forecasts"}
    assert runs.set_index("job_name").loc["forecasts", "plant_id"] == "EU-ZAR"
    overview = open_as(warehouse, "coo")
    assert any("Failing job(s): Risk scoring" in e.value for e in overview.error)


def test_run_now_queues_an_audited_request_and_other_roles_do_not_see_the_page(open_as, warehouse):
    at = open_as(warehouse, "admin", "pages/jobs.py")
    at.selectbox(key="jobs_run_now_job").select("marts")
    next(b for b in at.button if b.label == "Run now").click().run()
    assert not at.exception
    engine = make_engine(warehouse)
    with engine.connect() as conn:
        requests = conn.execute(
            select(
                job_request.c.request_id, job_request.c.job_name, job_request.c.requested_by, job_request.c.status
            ).where(job_request.c.kind == "job")
        ).all()
        assert conn.execute(select(audit_log.c.actor, audit_log.c.action)).all() == [("admin", "job_run_now")]
    engine.dispose()
    assert [tuple(r)[1:] for r in requests] == [("marts", "admin", "pending")]
    assert [s.value for s in at.success] == [f"Request {requests[0][0]} queued: the worker runs it next."]
    planner = open_as(warehouse, "planner_jol")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        planner.switch_page("pages/jobs.py")
