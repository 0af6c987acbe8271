"""The delivery of an approved decision on the Decision detail page: where it stands (tiles and a
message saying what happens next), its timeline, and the admin's retry of a dead letter; and, for
the Data quality page, the refused process events of the inbound queue.

Read fresh on every run (never cached): a delivery moves on while the page is open."""

import pandas as pd
import streamlit as st

from components import flash
from components.tables import table
from data_access import delivery as dd
from data_access import process_events
from governance.roles import can
from jobs.delivery import RetryRefused, retry_dead_letter

STATE_LABELS = {
    "queued": "Queued",
    "failed": "Failed, will retry",
    "sent": "Sent",
    "acknowledged": "Acknowledged",
    "dead": "Dead-lettered",
}
EVENT_LABELS = {
    "queued": "Queued",
    "held": "Held (route unusable)",
    "sent": "Sent",
    "acknowledged": "Acknowledged",
    "rejected": "Rejected by the target",
    "failed": "Failed",
    "dead_lettered": "Dead-lettered",
    "retried": "Retried by an admin",
    "received": "Received (goods receipt)",
}


def _when(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def show(engine, user, rec_id: int) -> None:
    """Status, next step, timeline and (for admins, on a dead letter) the retry form."""
    status = dd.delivery_status(engine, user.scope, rec_id)
    if status is None:
        st.info(
            "Approved and in the outbox; the delivery worker has not picked it up yet "
            "(it runs every few seconds while `python -m jobs.worker` or `python -m jobs.delivery` runs).",
            icon=":material/schedule:",
        )
        return
    state = status["state"]
    received = status["received_utc"] is not None
    cols = st.columns(4)
    cols[0].metric(
        "Delivery",
        "Received" if received else STATE_LABELS.get(state, state),
        border=True,
        help="Queued, failed (retrying), sent (handed over, waiting for the answer), acknowledged "
        "(the target answered with its document number), dead-lettered (given up), received "
        "(a goods receipt closed the loop)",
    )
    cols[1].metric(
        "Target document",
        status["document_number"] or "n/a",
        border=True,
        help="The target system's own number for the request, e.g. the ERP requisition number",
    )
    cols[2].metric("Attempts", f"{status['attempts']}", border=True)
    cols[3].metric("Transport", status["transport"] or "n/a", border=True, help=status["destination"] or None)
    if received:
        st.success(
            f"Received on {_when(status['received_utc'])}: a goods receipt closed the loop; the next "
            "scoring sees the stock.",
            icon=":material/inventory:",
        )
    elif state == "failed":
        st.warning(
            f"The last attempt failed: {status['last_error']}. Next attempt at {_when(status['next_attempt_utc'])}.",
            icon=":material/sync_problem:",
        )
    elif state == "queued" and status["last_error"]:
        st.warning(
            f"{status['last_error']}. The request stays queued (nothing is lost) and goes out once the "
            "route works; looked at again at " + _when(status["next_attempt_utc"]) + ".",
            icon=":material/pause_circle:",
        )
    elif state == "dead":
        st.error(f"Dead-lettered on {_when(status['dead_utc'])}: {status['last_error']}", icon=":material/error:")
    st.markdown("**Delivery timeline**")
    timeline = dd.delivery_timeline(engine, user.scope, rec_id)
    timeline["event"] = timeline["event"].map(lambda e: EVENT_LABELS.get(e, e))
    table(
        timeline,
        key="decision_detail_delivery",
        file_name=f"rec_{rec_id}_delivery.csv",
        column_config={
            "at_utc": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "event": st.column_config.TextColumn("Event"),
            "attempt": st.column_config.NumberColumn("Attempt", format="%d"),
            "transport": st.column_config.TextColumn("Transport"),
            "document_number": st.column_config.TextColumn("Target document"),
            "detail": st.column_config.TextColumn("Detail", width="large"),
            "next_attempt_utc": st.column_config.DatetimeColumn("Next attempt (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "actor": st.column_config.TextColumn("By"),
        },
        empty_message="No delivery event yet.",
    )
    if state == "dead" and can(user.roles, "retry_delivery"):
        with st.form("decision_detail_retry_form", clear_on_submit=True):
            reason = st.text_input(
                "Reason for the retry",
                key="decision_detail_retry_reason",
                max_chars=500,
                help="What was fixed, e.g. the ERP's vendor block was lifted (audited)",
            )
            retry = st.form_submit_button("Retry delivery", key="decision_detail_retry", icon=":material/replay:")
        if retry:
            try:
                retry_dead_letter(engine, user, status["outbox_id"], reason)
            except RetryRefused as exc:
                st.error(str(exc), icon=":material/block:")
            else:
                flash.rerun_with(
                    "decision_detail_flash",
                    f"Request #{status['outbox_id']} is queued again; the delivery worker sends it on its next pass.",
                )


def inbound_section(engine, user) -> None:
    """Process events and answers from the ERP and CMMS that were refused, with their reason."""
    st.subheader("Process events from the ERP and CMMS")
    st.caption(
        "Goods receipts, purchase-order confirmations, work-order completions and answers to delivered "
        "requests arrive on the inbound queue and are checked like file rows; these were refused "
        "(newest first). A code waiting for a mapping is also on the review list. docs/delivery.md has the rules."
    )
    refused = process_events.inbound_events(engine, user.scope, status="quarantined")
    table(
        refused,
        key="data_quality_inbound",
        file_name="inbound_events_quarantined.csv",
        column_config={
            "received_utc": st.column_config.DatetimeColumn("Received (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "plant_id": st.column_config.TextColumn("Plant", help="As sent (may be unknown)"),
            "event_type": st.column_config.TextColumn("Event"),
            "event_id": st.column_config.TextColumn("Event id"),
            "category": st.column_config.TextColumn(
                "Why", help="invalid | unmapped | out_of_scope | duplicate | out_of_order"
            ),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "occurred_utc": st.column_config.DatetimeColumn("Occurred (UTC)", format="YYYY-MM-DD HH:mm"),
        },
        empty_message="No process event has been refused.",
    )
