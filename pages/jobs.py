"""Jobs: what the worker runs by itself, when it runs next, how its last runs went, and "Run now"."""

import json

import streamlit as st

from components import jobs as ui
from components.tables import table
from components.warehouse import get_engine
from data_access import jobs as store
from governance.login import current_user
from jobs import requests

st.title("Jobs")
user = current_user()
engine = get_engine()
st.caption(
    "The worker (`python -m jobs.worker`, started with the app by `bash scripts/run.sh`) checks feed "
    "freshness, refreshes the marts, the forecasts (daily) and the risk scores (hourly), raises "
    "recommendations and applies SLA escalation and expiry, each on its schedule, and runs marts -> "
    "forecasts -> risk -> recommendations for a plant as soon as a data load for it completes. Each "
    "scheduled run executes once however many workers run. A failed job is retried, then shown red here "
    "and on the overview; its next scheduled run tries again."
)

config = ui.schedules()
for problem in config.problems:
    st.warning(f"Schedules: {problem}", icon=":material/schedule:")

jobs_board = ui.board(engine, user.scope)
failed = jobs_board[jobs_board["status"] == "failed"]
if len(failed):
    st.error("Failing: " + "; ".join(f"**{r.job}**: {r.error}" for r in failed.itertuples()), icon=":material/error:")
split = jobs_board[jobs_board["schedules_seen"] > 1]
if len(split):
    st.warning(
        "Workers run " + ", ".join(split["job"]) + " with different schedules: give every worker the same "
        "schedules file (PNCT_JOBS_FILE).",
        icon=":material/call_split:",
    )
st.subheader("Schedules and last runs")
table(
    jobs_board.assign(
        status=jobs_board["status"].map(lambda s: f"{ui.STATUS_ICONS.get(s, '')} {s}" if s else "never run")
    ),
    key="jobs_board",
    file_name="jobs.csv",
    column_config=ui.column_config(),
    export=jobs_board,
)

if user.can(requests.RUN_PERMISSION):
    with st.form("jobs_run_now_form"):
        st.markdown(
            "**Run a job now** for the whole network (audited). The worker picks the request up within "
            "seconds; the runs below show its progress."
        )
        job_name = st.selectbox(
            "Job",
            list(jobs_board["job_name"]),
            key="jobs_run_now_job",
            format_func=lambda n: jobs_board.set_index("job_name").loc[n, "job"],
        )
        if st.form_submit_button("Run now", icon=":material/play_arrow:"):
            try:
                request_id = requests.run_now(engine, user, job_name)
                st.session_state["jobs_message"] = (True, f"Request {request_id} queued: the worker runs it next.")
            except requests.RequestRefused as exc:
                st.session_state["jobs_message"] = (False, str(exc))
            st.rerun()
    if result := st.session_state.pop("jobs_message", None):
        (st.success if result[0] else st.error)(result[1])

st.subheader("Runs")
runs = store.recent_runs(engine, user.scope, limit=200)
for run in runs[runs["status"] == "running"].itertuples():
    st.progress(float(run.progress or 0.0), text=f"{run.job_name} ({run.trigger}): {run.message or 'starting'}")
table(
    runs.assign(counts=runs["counts"].map(lambda c: json.dumps(c) if c else None)),
    key="jobs_runs",
    file_name="job_runs.csv",
    column_config=ui.runs_column_config(),
    empty_message="No job has run yet. Start the worker: `python -m jobs.worker` (scripts/run.sh starts it "
    "with the app).",
)

st.subheader("Requests")
st.caption(
    "Run now, completed data loads (the pipeline of their plant: marts -> forecasts -> risk -> "
    "recommendations; its runs carry the request's id) and the sample network's first start."
)
table(
    store.requests(engine, user.scope),
    key="jobs_requests",
    file_name="job_requests.csv",
    column_config={
        "request_id": st.column_config.NumberColumn("Request", format="%d"),
        "kind": st.column_config.TextColumn("Kind", help="job: Run now; load: a data load's pipeline; first_start"),
        "job_name": st.column_config.TextColumn("Job"),
        "plant_id": st.column_config.TextColumn("Plant"),
        "load_id": st.column_config.NumberColumn("Load", format="%d", help="The data load that asked for it"),
        "requested_by": st.column_config.TextColumn("Requested by"),
        "requested_utc": st.column_config.DatetimeColumn("Requested (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "status": st.column_config.TextColumn("Status"),
        "worker": st.column_config.TextColumn("Worker"),
        "finished_utc": st.column_config.DatetimeColumn("Finished (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "error": st.column_config.TextColumn("Error"),
    },
    empty_message="Nothing was requested yet.",
)
