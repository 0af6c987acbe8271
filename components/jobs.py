"""UI pieces of the worker: the Jobs board, "Run now", and what pages show while the worker computes.

Pages that read what the worker stores (forecasts, risk, recommendations, models) show, while
they are still empty, which job is computing it and how far along it is (job_run progress),
and rerun by themselves when it has finished: never "an operator runs ...".
"""

from collections.abc import Callable
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from data_access import jobs as store
from data_access.scope import PlantScope
from jobs import schedule, steps

REFRESH_S = 5
STATUS_ICONS = {"running": "🔄", "succeeded": "✅", "failed": "🟥"}


@st.cache_resource(ttl=60, show_spinner=False)
def schedules() -> schedule.Schedules:
    """The schedules this deployment's workers read (the same file), for next-run times."""
    try:
        return schedule.load()
    except schedule.ScheduleError as exc:
        return schedule.Schedules(problems=[str(exc)])


def board(engine, scope: PlantScope) -> pd.DataFrame:
    """One row per job in pipeline order: label, schedule, next run, its newest run.

    Columns: job_name, job, schedule, next_run_utc, status, started_utc, seconds, message,
    error, progress, trigger, schedules_seen.
    """
    config = schedules()
    latest = store.latest_runs(engine, scope).set_index("job_name")
    now = datetime.now(timezone.utc)
    rows = []
    for name in schedule.JOB_NAMES:
        job = config.jobs.get(name)
        last = latest.loc[name] if name in latest.index else None
        rows.append(
            {
                "job_name": name,
                "job": steps.JOBS[name][0],
                "schedule": job.text if job else "on request only",
                "next_run_utc": job.next_run(now) if job else None,
                "status": None if last is None else last["status"],
                "started_utc": None if last is None else last["started_utc"],
                "seconds": None if last is None else last["seconds"],
                "message": None if last is None else last["message"],
                "error": None if last is None else last["error"],
                "progress": None if last is None else last["progress"],
                "trigger": None if last is None else last["trigger"],
                "schedules_seen": 0 if last is None else int(last["schedules_seen"]),
            }
        )
    frame = pd.DataFrame(rows)
    frame["next_run_utc"] = pd.to_datetime(frame["next_run_utc"], utc=True)
    frame["started_utc"] = pd.to_datetime(frame["started_utc"], utc=True)
    return frame


def running(engine, scope: PlantScope, job_names) -> pd.DataFrame:
    """Runs of `job_names` in progress now (columns as data_access.jobs.recent_runs)."""
    runs = store.recent_runs(engine, scope, limit=50)
    return runs[(runs["status"] == "running") & runs["job_name"].isin(job_names)]


def worker_progress(engine, scope: PlantScope, job_names: tuple, what: str, clear: Callable[[], None]) -> None:
    """While a page's data is missing: what the worker is doing about it, refreshed every few
    seconds; the whole page reruns once one of `job_names` has finished a run."""
    clear()  # an empty answer is never kept in the cache

    @st.fragment(run_every=REFRESH_S)
    def status() -> None:
        runs = store.recent_runs(engine, scope, limit=100)
        mine = runs[runs["job_name"].isin(job_names)]
        done = mine[mine["status"] == "succeeded"]
        key = f"jobs_seen_{'_'.join(job_names)}"
        newest = int(done["run_id"].max()) if len(done) else 0
        seen = st.session_state.setdefault(key, newest)
        if newest > seen:
            st.session_state[key] = newest
            clear()
            st.rerun()
        active = mine[mine["status"] == "running"]
        pending = store.requests(engine, scope, limit=20)
        pending = pending[pending["status"].isin(["pending", "running"])]
        if len(active):
            for run in active.itertuples():
                st.progress(
                    float(run.progress or 0.0),
                    text=f"The worker is computing {what}: {steps.JOBS[run.job_name][0]}, {run.message or 'starting'}",
                )
        elif len(pending):
            st.info(
                f"The worker has {len(pending)} request(s) queued; {what} appear here once "
                f"{', '.join(steps.JOBS[n][0].lower() for n in job_names)} has run.",
                icon=":material/hourglass_top:",
            )
        elif len(mine) and mine.iloc[0]["status"] == "failed":
            last = mine.iloc[0]
            st.error(
                f"{steps.JOBS[last['job_name']][0]} failed: {last['error']}. The worker tries again at its next "
                "scheduled run; the Jobs page shows every run.",
                icon=":material/error:",
            )
        elif len(mine):
            last = mine.iloc[0]
            st.caption(
                f"{steps.JOBS[last['job_name']][0]} last ran at {last['started_utc']:%Y-%m-%d %H:%M} UTC: "
                f"{last['message']}"
            )
        else:
            st.info(
                f"No {what} yet. The worker computes them on its schedule and after every data load "
                "(`python -m jobs.worker`, started with the app by `bash scripts/run.sh`); this page fills in "
                "by itself when it has run.",
                icon=":material/hourglass_empty:",
            )

    status()


def column_config() -> dict:
    return {
        "job": st.column_config.TextColumn("Job"),
        "schedule": st.column_config.TextColumn(
            "Schedule",
            help="cron (minute hour day month weekday, in the worker's time zone) or an interval; config/jobs.toml",
        ),
        "next_run_utc": st.column_config.DatetimeColumn("Next run (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "status": st.column_config.TextColumn("Last outcome"),
        "started_utc": st.column_config.DatetimeColumn("Last start (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "seconds": st.column_config.NumberColumn("Duration (s)", format="%.1f s"),
        "message": st.column_config.TextColumn("What it did"),
        "error": st.column_config.TextColumn("Error"),
        "progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0),
        "trigger": st.column_config.TextColumn(
            "Trigger", help="schedule, request (Run now), load (a data load's pipeline), first_start, once (--once)"
        ),
        "schedules_seen": st.column_config.NumberColumn(
            "Schedules seen (24 h)", help="More than one: workers run this job with different schedules"
        ),
        "job_name": None,
    }


def runs_column_config() -> dict:
    return {
        "run_id": st.column_config.NumberColumn("Run", format="%d"),
        "job_name": st.column_config.TextColumn("Job"),
        "trigger": st.column_config.TextColumn("Trigger"),
        "plant_id": st.column_config.TextColumn("Plant", help="Empty: the whole network"),
        "status": st.column_config.TextColumn("Outcome"),
        "started_utc": st.column_config.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "seconds": st.column_config.NumberColumn("Duration (s)", format="%.1f s"),
        "counts": st.column_config.JsonColumn("Counts"),
        "message": st.column_config.TextColumn("What it did"),
        "error": st.column_config.TextColumn("Error"),
        "attempt": st.column_config.NumberColumn(
            "Attempts", help="More than 1: retried, or taken over after its worker stopped"
        ),
        "worker": st.column_config.TextColumn("Worker"),
        "run_key": None,
        "request_id": None,
        "schedule": None,
        "finished_utc": None,
        "progress": None,
    }
