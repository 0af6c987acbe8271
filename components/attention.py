"""What needs this user now (issue 19): one line per exception, each one click from its detail.

The read is `data_access.attention` (scoped); this module picks the KPIs that matter to the
user's roles, words each line and links it to the page that explains it.
"""

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from components.cached import QUEUE_TTL_S, cache_query
from components.formatting import format_delta, format_kpi
from data_access import attention as reads
from data_access.kpis import KPI_CATALOG
from jobs.steps import JOBS

ROLE_KPIS = {
    "executive": ("oee", "schedule_adherence", "supplier_otd", "days_of_supply"),
    "plant_manager": ("oee", "availability", "unplanned_downtime_h", "schedule_adherence"),
    "maintenance_lead": ("availability", "mtbf_h", "mttr_h", "unplanned_downtime_h"),
    "planner": ("schedule_adherence", "days_of_supply", "supplier_otd"),
}
"""The KPIs whose wrong-way trend a role is told about (data stewards and admins: none)."""

KPI_PAGES = {
    "oee": "pages/overview.py",
    "availability": "pages/downtime.py",
    "unplanned_downtime_h": "pages/downtime.py",
    "mtbf_h": "pages/downtime.py",
    "mttr_h": "pages/downtime.py",
    "schedule_adherence": "pages/schedule.py",
    "days_of_supply": "pages/inventory.py",
    "supplier_otd": "pages/inventory.py",
}
# Pages an item links to that not every role may open (the rest need "view", as in app.PAGES).
PAGE_PERMISSIONS = {"pages/jobs.py": "view_jobs", "pages/data_quality.py": "view_data_quality"}
ICONS = {
    "decision": ":material/gavel:",
    "kpi": ":material/trending_down:",
    "job": ":material/error:",
    "feed": ":material/schedule:",
    "model": ":material/pause_circle:",
}
SEVERITY_WORDS = {"overdue": "Overdue", "high": "Urgent", "medium": "Watch"}
KIND_WORDS = {
    "maintenance": "maintenance",
    "shortage": "shortage",
    "quality": "quality hold",
    "schedule": "reschedule",
    "scenario": "scenario plan",
}


def role_kpis(roles) -> tuple[str, ...]:
    """The KPI keys that matter to any of `roles`, in catalogue order."""
    wanted = {k for r in roles for k in ROLE_KPIS.get(r, ())}
    return tuple(k for k in KPI_CATALOG if k in wanted)


@cache_query(ttl=QUEUE_TTL_S)
def attention_items(engine, scope, roles, kpi_keys):
    return reads.attention(engine, scope, roles, kpi_keys)


def _hours(delta_h: float) -> str:
    return f"{delta_h / 24:.0f} d" if abs(delta_h) >= 48 else f"{delta_h:.0f} h"


def describe(item: dict, now: datetime) -> str:
    """One line in plain words, e.g. 'Maintenance at Joliet: ... raised 5 h ago, SLA in 19 h'."""
    where = item["plant_name"]
    if item["kind"] == "decision":
        age = (now - item["since_utc"]).total_seconds() / 3600
        text = f"**Decide** ({KIND_WORDS.get(item['note'], item['note'])}, {where}): {item['subject']} · raised {_hours(age)} ago"
        if not pd.isna(item["due_utc"]):
            left = (item["due_utc"] - now).total_seconds() / 3600
            text += f" · SLA passed {_hours(-left)} ago" if left <= 0 else f" · SLA in {_hours(left)}"
        return text
    if item["kind"] == "kpi":
        key = item["subject"]
        label = KPI_CATALOG[key][0]
        return (
            f"**{label}** at {where} trends the wrong way: {format_kpi(key, item['value'], 7)} in the last "
            f"{reads.RECENT_DAYS} days against {format_kpi(key, item['previous'], 28)} in the "
            f"{reads.BASELINE_DAYS} days before ({format_delta(key, item['value'], item['previous'])})"
        )
    if item["kind"] == "job":
        label = JOBS.get(item["subject"], (item["subject"],))[0]
        scope = "the network" if item["plant_id"] is None else where
        return f"**Job failed**: {label} for {scope}" + (f" · {item['note']}" if item["note"] else "")
    if item["kind"] == "feed":
        age = "never received" if pd.isna(item["value"]) else f"last received {_hours(item['value'])} ago"
        return (
            f"**Late feeds** at {where}: {item['subject'].replace('_', ' ')} · oldest {age} "
            f"(expected every {_hours(item['previous'])})"
        )
    return f"**Model held** at {where}: {item['subject']} is served by the fallback rules · {item['note']}"


def link(item: dict) -> tuple[str, dict | None]:
    """The page (and query parameters) that explains an item."""
    if item["kind"] == "decision":
        return "pages/decision_detail.py", {"rec": str(int(item["rec_id"]))}
    if item["kind"] == "kpi":
        return KPI_PAGES.get(item["subject"], "pages/overview.py"), None
    if item["kind"] == "job":
        return "pages/jobs.py", None
    return "pages/models.py", None


def attention_list(engine, user, compact: bool = False, limit: int = 12) -> pd.DataFrame:
    """The 'needs you now' block; compact: the first few lines under a one-line heading."""
    items = attention_items(engine, user.scope, tuple(sorted(user.roles)), role_kpis(user.roles))
    if items.empty:
        st.success(
            "Nothing needs you right now: no decision waits for your roles, no key KPI of your plants "
            "trends the wrong way, and every job, feed and model is healthy.",
            icon=":material/check_circle:",
        )
        return items
    counts = items["kind"].value_counts()
    summary = ", ".join(
        f"{counts[k]} {w}"
        for k, w in (
            ("decision", "decision(s) to take"),
            ("kpi", "KPI trend(s)"),
            ("job", "failed job(s)"),
            ("feed", "late feed(s)"),
            ("model", "held model(s)"),
        )
        if k in counts
    )
    if not compact:
        st.subheader("Needs you now")
    st.caption(
        f"{summary}. Most urgent first; each line opens its detail. A KPI trends the wrong way when its last "
        f"{reads.RECENT_DAYS} days are more than {reads.WORSE_BY:.0%} worse than the "
        f"{reads.BASELINE_DAYS} days before."
    )
    now = datetime.now(timezone.utc)
    shown = items.head(5 if compact else limit)
    for item in shown.to_dict("records"):
        text_col, link_col = st.columns([6, 1], vertical_alignment="center")
        text_col.markdown(f"{ICONS[item['kind']]} {SEVERITY_WORDS[item['severity']]} · {describe(item, now)}")
        page, params = link(item)
        if user.can(PAGE_PERMISSIONS.get(page, "view")):
            link_col.page_link(page, label="Open", icon=":material/open_in_new:", query_params=params)
    if len(items) > len(shown):
        st.caption(f"and {len(items) - len(shown)} more (the Action queue lists every decision).")
    return items
