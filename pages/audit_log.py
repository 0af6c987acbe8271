"""Audit log: who decided what, when and why; filter, search, export, and verify the chain."""

from datetime import date, timedelta

import streamlit as st

from components import decisions as ui
from components.tables import table
from components.warehouse import get_engine
from governance import audit
from governance.login import current_user

st.title("Audit log")
user = current_user()
engine = get_engine()
st.caption(
    "Every decision, policy change, automatic escalation and refused attempt, append-only and "
    "hash-chained: each row carries the hash of the row before it. "
    + (
        "You see every row."
        if user.scope.is_network
        else "You see the rows of your plants; rows without a plant (enterprise policy, logins) are for "
        "network-wide roles."
    )
)

facets = ui.audit_facets(engine, user.scope)
today = date.today()
date_col, actor_col, action_col = st.columns([1, 1, 1])
dates = date_col.date_input("Days (UTC)", value=(today - timedelta(days=29), today), key="audit_log_dates")
actors = actor_col.multiselect(
    "Who", facets.loc[facets["facet"] == "actor", "value"].tolist(), key="audit_log_actors", placeholder="Everyone"
)
actions = action_col.multiselect(
    "Action",
    facets.loc[facets["facet"] == "action", "value"].tolist(),
    key="audit_log_actions",
    placeholder="All actions",
)
search = st.text_input(
    "Search", key="audit_log_search", max_chars=200, placeholder="A username, recommendation id, reason text, key..."
)
start, end = (dates[0], dates[-1]) if dates else (today - timedelta(days=29), today)
start_utc, end_utc = ui.utc_day_bounds(start, end)
rows = ui.audit_rows(engine, user.scope, start_utc, end_utc, tuple(actors), tuple(actions), search.strip() or None)
if len(rows) >= 5000:
    st.warning("Showing the newest 5,000 rows; narrow the filters to see older ones.", icon=":material/filter_list:")
table(
    rows,
    key="audit_log_table",
    file_name="audit_log.csv",
    column_config={
        "seq": st.column_config.NumberColumn("Seq", format="%d"),
        "at_utc": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "actor": st.column_config.TextColumn("Who"),
        "action": st.column_config.TextColumn("Action"),
        "plant_id": st.column_config.TextColumn("Plant"),
        "entity": st.column_config.TextColumn("Entity"),
        "entity_id": st.column_config.TextColumn("Id"),
        "detail": st.column_config.TextColumn("Detail", width="large"),
        "row_hash": st.column_config.TextColumn("Row hash", help="sha256 of the row and the previous row's hash"),
    },
    empty_message="No audit row matches these filters in your scope.",
)

st.subheader("Chain integrity")
st.caption(
    "Recomputes every row's hash and link, in order. An edited, deleted or reordered row is named by "
    "its seq. The same check runs from the command line: python -m governance.audit verify."
)
if st.button("Verify the chain", key="audit_log_verify", icon=":material/verified:"):
    result = audit.verify(engine)
    if result.ok:
        st.success(
            f"Audit chain intact: {result.rows_checked:,} rows. Head hash {result.head_hash or '-'} "
            "(record it elsewhere to detect a cut-off tail later).",
            icon=":material/verified:",
        )
    else:
        st.error(
            f"Audit chain broken at seq {result.first_bad_seq}: {result.problem} "
            f"({result.rows_checked:,} rows before it are intact).",
            icon=":material/gpp_bad:",
        )
