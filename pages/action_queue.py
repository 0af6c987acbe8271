"""Action queue: the recommendations waiting for the user's roles, approved requests, decision KPIs."""

from datetime import date, timedelta

import streamlit as st

from components import decisions as ui
from components.jobs import worker_progress
from components.tables import table
from components.warehouse import get_engine
from governance.login import current_user
from governance.workflow import outbox_json
from jobs import requests

st.title("Action queue")
user = current_user()
engine = get_engine()
st.caption(
    "Recommendations raised from risk signals, and scenario plans submitted for approval, routed to the "
    "roles each plant's policy names. Open one to see its evidence, spare parts and schedule impact (a "
    "plan: its levers and its result against the baseline), and to decide."
)

if user.can(requests.RUN_PERMISSION):
    with st.expander("Run the orchestration now", icon=":material/autorenew:"):
        st.caption(
            "Asks the worker to read the risk signals, raise and route new recommendations, escalate what "
            "passed its SLA and expire what nobody decided (it also runs every hour; see Jobs). Running it "
            "twice raises nothing twice."
        )
        if st.button("Run orchestration", key="action_queue_run", icon=":material/play_arrow:"):
            request_id = requests.run_now(engine, user, "orchestrate")
            st.success(
                f"Request {request_id} queued: the worker runs the orchestration within seconds.",
                icon=":material/check_circle:",
            )

waiting_tab, outbox_tab, kpi_tab = st.tabs(["Waiting for a decision", "Approved requests (outbox)", "Decision KPIs"])

with waiting_tab:
    kind_col, mine_col = st.columns([3, 1])
    kinds = kind_col.multiselect(
        "Kinds", list(ui.KIND_LABELS), format_func=ui.KIND_LABELS.get, key="action_queue_kinds", placeholder="All kinds"
    )
    only_mine = mine_col.toggle(
        "Only items waiting for me",
        value=True,
        key="action_queue_only_mine",
        help="Items one of your roles may approve now (or decide, once escalated).",
    )
    queue = ui.action_queue(engine, user.scope, tuple(user.roles), tuple(kinds), only_mine)
    empty = (
        "Nothing waits for your roles right now." if only_mine else "No recommendation is waiting in your plants."
    ) + (" Recommendations appear when a risk signal crosses its plant's threshold or a scenario plan is submitted.")
    table(
        queue.assign(kind=queue["kind"].map(ui.KIND_LABELS), state=queue["state"].map(ui.STATE_LABELS)),
        key="action_queue_table",
        file_name="action_queue.csv",
        column_config=ui.queue_column_config(),
        export=queue,
        empty_message=empty,
    )
    if queue.empty:
        worker_progress(engine, user.scope, ("risk", "orchestrate"), "recommendations", ui.clear)
    if not queue.empty:
        labels = {int(r["rec_id"]): ui.rec_label(r) for r in queue.to_dict("records")}
        pick_col, open_col = st.columns([4, 1], vertical_alignment="bottom")
        picked = pick_col.selectbox("Recommendation", list(labels), format_func=labels.get, key="action_queue_pick")
        if open_col.button("Open", key="action_queue_open", icon=":material/open_in_new:", width="stretch"):
            st.session_state["decision_detail_requested"] = picked
            st.switch_page("pages/decision_detail.py")

with outbox_tab:
    st.caption(
        "What was approved, as requests for the ERP (purchase requisitions, plan change requests), the "
        "CMMS (work-order requests) and the MES (reschedule and quality-hold requests). The integration "
        "layer picks them up from the outbox table or from these exports."
    )
    sent = ui.outbox_rows(engine, user.scope)
    table(
        sent,
        key="action_queue_outbox",
        file_name="outbox.csv",
        column_config=ui.outbox_column_config(),
        export=sent.drop(columns="payload"),
        empty_message="Nothing approved yet: approved recommendations become requests here.",
    )
    if not sent.empty:
        ui.download_json(outbox_json(sent.drop(columns="payload_json")), "outbox.json", key="action_queue_outbox_json")

with kpi_tab:
    today = date.today()
    dates = st.date_input(
        "Raised on (plant-local days)", value=(today - timedelta(days=89), today), key="action_queue_kpi_dates"
    )
    start, end = (dates[0], dates[-1]) if dates else (today - timedelta(days=89), today)
    st.caption(
        "Latency: hours from a recommendation being raised to a person's final decision (median and "
        "90th percentile). Adoption: share acted on (approved, rejected or overridden) before expiry, "
        "among those whose outcome is known. Auto-approved ones are counted apart."
    )
    kpis = ui.decision_kpis(engine, user.scope, start, end, ("plant_id", "kind"))
    table(
        kpis,
        key="action_queue_kpis",
        file_name="decision_kpis.csv",
        column_config=ui.kpi_column_config(),
        empty_message=f"No recommendation was raised in your plants between {start} and {end}.",
    )
    st.markdown("**Overrides and their reasons**")
    changed = ui.overrides(engine, user.scope, start, end)
    table(
        changed,
        key="action_queue_overrides",
        file_name="overrides.csv",
        column_config={
            "rec_id": st.column_config.NumberColumn("#", format="%d"),
            "plant_id": st.column_config.TextColumn("Plant"),
            "kind": st.column_config.TextColumn("Kind"),
            "username": st.column_config.TextColumn("Who"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "override_value": st.column_config.TextColumn("Overriding value"),
            "decided_utc": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
        },
        empty_message="No override in this period.",
    )
