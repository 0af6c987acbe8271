"""UI pieces of the decision pages: cached reads, column settings, evidence tables, exports.

Reads go through `data_access.decisions` (scoped in SQL) and are cached briefly: a queue is
stale within seconds of someone's decision, so the TTL is short and `clear()` runs after
every write from this session. The detail of one recommendation is never cached: its
version is what the optimistic lock compares with.
"""

import json
import re
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
import streamlit as st

from components.cached import QUEUE_TTL_S, RESULTS_TTL_S, cache_query
from components.formatting import format_money, money_column
from data_access import decision_kpis as kpi_reads
from data_access import decisions as dq
from data_access.kpis import REFERENCE_CURRENCY
from forecasting.scenario import METRICS, Levers
from governance import policies, workflow

KIND_LABELS = {
    "maintenance": "Maintenance",
    "shortage": "Shortage",
    "quality": "Quality",
    "schedule": "Reschedule",
    "scenario": "Scenario plan",
}
STATE_LABELS = {
    "open": "Open",
    "escalated": "Escalated",
    "approved": "Approved",
    "rejected": "Rejected",
    "overridden": "Overridden",
    "expired": "Expired",
}
ACTION_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "override": "Override (change the action)",
    "comment": "Comment",
    "escalate": "Escalate",
}


# --- cached reads --------------------------------------------------------------------------------


@cache_query(ttl=QUEUE_TTL_S)
def action_queue(engine, scope, roles, kinds, only_mine):
    return dq.action_queue(engine, scope, roles, kinds=kinds, only_mine=only_mine)


@cache_query(ttl=QUEUE_TTL_S)
def recommendations(engine, scope, roles):
    return dq.recommendations(engine, scope, roles=roles)


@cache_query(ttl=QUEUE_TTL_S)
def outbox_rows(engine, scope):
    return dq.outbox_rows(engine, scope)


@cache_query(ttl=RESULTS_TTL_S)
def decision_kpis(engine, scope, start, end, by):
    return kpi_reads.decision_kpis(engine, scope, start, end, by=by)


@cache_query(ttl=RESULTS_TTL_S)
def overview_decision_kpis(engine, scope, start, end):
    """For the network overview: (the scope's decision KPIs, the same per plant); see data_access."""
    return kpi_reads.overview_decision_kpis(engine, scope, start, end)


@cache_query(ttl=RESULTS_TTL_S)
def overrides(engine, scope, start, end):
    return kpi_reads.overrides(engine, scope, start, end)


@cache_query(ttl=QUEUE_TTL_S)
def audit_rows(engine, scope, start_utc, end_utc, actors, actions, search):
    return dq.audit_rows(engine, scope, start_utc, end_utc, actors=actors, actions=actions, search=search)


@cache_query(ttl=QUEUE_TTL_S)
def audit_facets(engine, scope):
    return dq.audit_facets(engine, scope)


def clear() -> None:
    """Forget cached decision reads after this session wrote something."""
    for fn in (
        action_queue,
        recommendations,
        outbox_rows,
        decision_kpis,
        overview_decision_kpis,
        overrides,
        audit_rows,
        audit_facets,
    ):
        fn.clear()


def detail(engine, scope, rec_id):
    """One recommendation (never cached) and the workflow's view of it, or (None, None)."""
    found = dq.recommendation_detail(engine, scope, rec_id)
    if found is None:
        return None, None
    with engine.connect() as conn:
        view = workflow.load(conn, rec_id)
    return found, view


# --- formatting ----------------------------------------------------------------------------------


def utc_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """start 00:00 UTC .. the day after end 00:00 UTC."""
    return (
        datetime.combine(start, time(), timezone.utc),
        datetime.combine(end + timedelta(days=1), time(), timezone.utc),
    )


def cost_metric(rec: dict) -> tuple[str, str, str]:
    """(label, value, help) of a recommendation's cost tile: a scenario plan shows its signed
    cost change against the baseline, anything else its estimated cost."""
    if rec["kind"] == "scenario":
        ev = rec.get("evidence") or {}
        change, net = ev.get("spend_change", rec["estimated_cost"]), ev.get("cost_change")
        return (
            "Plan spend change",
            format_money(change, signed=True),
            "What the plan spends at this plant against its baseline (overtime, inventory holding, maintenance "
            "windows; mean over the simulated paths); approvals are routed on it, a saving like 0. Net cost "
            f"change including lost sales: {format_money(net, signed=True)}.",
        )
    return (
        "Estimated cost",
        format_money(rec["estimated_cost"]),
        f"Enterprise reference currency {REFERENCE_CURRENCY} (material unit costs and labour rate)",
    )


def _plain(text) -> str:
    """User text shown inside Markdown, its Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))


def scenario_note(rec: dict) -> str:
    """Who submitted a scenario plan, for which plants, on which data, and their note (Markdown)."""
    ev = rec.get("evidence") or {}
    others = int(ev.get("plants_in_scenario") or 1) - 1
    plants = rec["plant_id"] + (f" (one of {others + 1} plants in the scenario)" if others else "")
    return (
        f"Scenario plan **{_plain(ev.get('name', ''))}** (#{ev.get('scenario_id', '?')}) submitted by "
        f"{_plain(ev.get('submitted_by', '?'))} for {_plain(plants)}, on data "
        f"{_plain(ev.get('data_version') or 'n/a')}. Note: {_plain(ev.get('note', ''))}  \n"
        "Its submitter may not approve or override it (four-eyes rule)."
    )


def rec_label(row) -> str:
    return (
        f"#{row['rec_id']} · {KIND_LABELS.get(row['kind'], row['kind'])} · {row['plant_id']} · "
        f"{STATE_LABELS.get(row['state'], row['state'])} · {row['title'][:80]}"
    )


def queue_column_config() -> dict:
    return {
        "rec_id": st.column_config.NumberColumn("#", format="%d", help="Recommendation id"),
        "plant_name": st.column_config.TextColumn("Plant"),
        "kind": st.column_config.TextColumn("Kind"),
        "title": st.column_config.TextColumn("Recommendation", width="large"),
        "risk": st.column_config.ProgressColumn(
            "Risk", min_value=0.0, max_value=1.0, format="percent", help="Risk score that raised it (0-1)"
        ),
        "source": st.column_config.TextColumn("Source", help="model, or fallback_rule (threshold rules)"),
        "estimated_cost": money_column("Est. cost"),
        "state": st.column_config.TextColumn("State"),
        "still_needed": st.column_config.TextColumn("Still needs", help="Approver roles not yet signed"),
        "signed_by": st.column_config.TextColumn("Approved by"),
        "waiting_for_you": st.column_config.CheckboxColumn("Yours", help="One of your roles may act now"),
        "sla_due_utc": st.column_config.DatetimeColumn("SLA due (UTC)", format="YYYY-MM-DD HH:mm"),
        "created_utc": st.column_config.DatetimeColumn("Raised (UTC)", format="YYYY-MM-DD HH:mm"),
    }


def outbox_column_config() -> dict:
    return {
        "outbox_id": st.column_config.NumberColumn("Request", format="%d"),
        "created_utc": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
        "rec_id": st.column_config.NumberColumn("Recommendation", format="%d"),
        "plant_id": st.column_config.TextColumn("Plant"),
        "target": st.column_config.TextColumn("For", help="erp, cmms or mes"),
        "request_type": st.column_config.TextColumn("Request type"),
        "delivered_utc": st.column_config.DatetimeColumn("Delivered (UTC)", format="YYYY-MM-DD HH:mm"),
        "payload_json": st.column_config.TextColumn("Payload (JSON)", width="large"),
    }


def history_column_config() -> dict:
    return {
        "decided_utc": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "username": st.column_config.TextColumn("Who"),
        "role": st.column_config.TextColumn("As"),
        "action": st.column_config.TextColumn("Action"),
        "reason": st.column_config.TextColumn("Reason", width="large"),
        "override_value": st.column_config.TextColumn("Override value"),
        "rec_version": st.column_config.NumberColumn("On version", format="%d"),
    }


def kpi_column_config() -> dict:
    return {
        "plant_id": st.column_config.TextColumn("Plant"),
        "kind": st.column_config.TextColumn("Kind"),
        "recommendations": st.column_config.NumberColumn("Raised", format="%d"),
        "pending": st.column_config.NumberColumn("Pending", format="%d"),
        "decided": st.column_config.NumberColumn("Decided", format="%d", help="By a person"),
        "overridden": st.column_config.NumberColumn("Overridden", format="%d"),
        "expired": st.column_config.NumberColumn("Expired", format="%d"),
        "auto_approved": st.column_config.NumberColumn("Auto", format="%d", help="Approved by the policy's automation"),
        "latency_median_h": st.column_config.NumberColumn(
            "Latency median (h)", format="%.1f h", help="Raised to a person's final decision"
        ),
        "latency_p90_h": st.column_config.NumberColumn("Latency p90 (h)", format="%.1f h"),
        "adoption": st.column_config.NumberColumn(
            "Adoption", format="percent", help="Acted on before expiry / outcome known"
        ),
    }


def evidence_readings(evidence: dict, skip=()) -> pd.DataFrame:
    """The scalar readings of a recommendation's evidence as (reading, value) rows; lists of
    rows (spare parts, orders, suppliers) are shown as their own tables, and so are the keys
    in `skip` (besides the proposed action)."""
    rows = []

    def walk(name, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{name}.{k}", v)
        elif isinstance(value, list):
            if value and all(not isinstance(v, (dict, list)) for v in value):
                rows.append((name, ", ".join(map(str, value))))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and "cost" in name.rsplit(".", 1)[-1]:
            rows.append((name, f"{value:,.2f} {REFERENCE_CURRENCY}"))  # money with its currency
        else:
            rows.append((name, "" if value is None else str(value)))

    for key, value in evidence.items():
        if key != "action" and key not in skip:
            walk(key, value)
    return pd.DataFrame(rows, columns=["reading", "value"])


def scenario_summary_frame(evidence: dict) -> pd.DataFrame:
    """A scenario plan's plant against its baseline (evidence `summary`): metric (label),
    baseline, scenario (means), change, scenario_p10, scenario_p90."""
    columns = ["metric", "baseline", "scenario", "change", "scenario_p10", "scenario_p90"]
    frame = pd.DataFrame(evidence.get("summary") or [], columns=columns)
    frame["metric"] = [
        f"{METRICS[m][0]} ({METRICS[m][1]})" if m in METRICS else str(m).replace("_", " ") for m in frame["metric"]
    ]
    return frame


def scenario_summary_column_config() -> dict:
    return {
        "metric": st.column_config.TextColumn("Metric"),
        "baseline": st.column_config.NumberColumn("Baseline (mean)", format="localized"),
        "scenario": st.column_config.NumberColumn("Scenario (mean)", format="localized"),
        "change": st.column_config.NumberColumn("Change", format="localized", help="Scenario minus baseline"),
        "scenario_p10": st.column_config.NumberColumn("Scenario p10", format="localized"),
        "scenario_p90": st.column_config.NumberColumn("Scenario p90", format="localized"),
    }


def lever_frame(levers: dict) -> pd.DataFrame:
    """A scenario plan's levers that differ from the baseline, as (lever, value) rows (lists and
    mappings as JSON)."""
    rows = [
        (k.replace("_", " "), json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v))
        for k, v in Levers.from_dict(levers or {}).changes().items()
    ]
    return pd.DataFrame(rows, columns=["lever", "value"])


def action_frame(evidence: dict) -> pd.DataFrame:
    """The proposed action (what goes to the outbox on approval) as (field, value) rows."""
    action = evidence.get("action") or {}
    return pd.DataFrame(
        [
            (k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else ("" if v is None else str(v)))
            for k, v in action.items()
        ],
        columns=["field", "value"],
    )


def records_frame(evidence: dict, key: str) -> pd.DataFrame:
    return pd.DataFrame(evidence.get(key) or [])


def download_json(data: bytes, file_name: str, key: str, label: str = "Download JSON") -> None:
    st.download_button(
        label,
        data,
        file_name=file_name,
        mime="application/json",
        key=key,
        on_click="ignore",
        icon=":material/data_object:",
        help="Every row, payloads nested, timestamps ISO 8601 UTC.",
    )


# --- writes ---------------------------------------------------------------------------------------


def policy_table(engine, scope, plant_id: str | None) -> pd.DataFrame:
    """Every policy key for the enterprise (plant_id None) or a plant: enterprise value, plant
    value, effective value and whether the plant localized it.

    Columns: key, description, enterprise_value, plant_value, effective_value, origin
    (plant | enterprise | built-in), localized, updated_by, updated_utc.
    """
    stored = dq.policy_rows(engine, scope)
    enterprise = stored[stored["plant_id"].isna()].set_index("key")
    local = stored[stored["plant_id"] == plant_id].set_index("key") if plant_id else stored.iloc[0:0].set_index("key")
    policy = policies.effective(engine, plant_id)
    rows = []
    for key, spec in policies.SPECS.items():
        source = local if key in local.index else enterprise if key in enterprise.index else None
        rows.append(
            {
                "key": key,
                "description": spec.description,
                "enterprise_value": _show(enterprise["value"].get(key, spec.default)),
                "plant_value": _show(local["value"][key]) if key in local.index else "",
                "effective_value": _show(policy[key]),
                "origin": policy.origin[key],
                "localized": key in local.index,
                "updated_by": source["updated_by"][key] if source is not None else "",
                "updated_utc": source["updated_utc"][key] if source is not None else pd.NaT,
            }
        )
    return pd.DataFrame(rows)


def localized_by_plant(engine, scope) -> pd.DataFrame:
    """Plants in scope and the keys each has localized. Columns: plant_id, localized, keys."""
    stored = dq.policy_rows(engine, scope)
    local = stored[stored["plant_id"].notna()]
    grouped = local.groupby("plant_id")["key"].agg(lambda k: ", ".join(sorted(k)))
    return pd.DataFrame(
        {"plant_id": grouped.index, "localized": local.groupby("plant_id").size().values, "keys": grouped.values}
    )


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)
