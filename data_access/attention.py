"""What needs a user now (issue 19): one named read, scoped in SQL by the reads it composes.

Exceptions only, worst first: decisions waiting for the user's roles, plants whose key KPIs
trend the wrong way, failed jobs, overdue feeds and held models. Role names and the KPI keys
that matter to them arrive as plain strings (this module imports nothing of `governance`).
"""

from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from data_access import jobs, kpis, model_holds, queries
from data_access.decisions import action_queue
from data_access.scope import PlantScope

ATTENTION_COLUMNS = [
    "kind",
    "severity",
    "plant_id",
    "plant_name",
    "subject",
    "rec_id",
    "since_utc",
    "due_utc",
    "value",
    "previous",
    "note",
]
KINDS = ("decision", "kpi", "job", "feed", "model")
SEVERITY_ORDER = {"overdue": 0, "high": 1, "medium": 2}
RECENT_DAYS = 7
BASELINE_DAYS = 28
WORSE_BY = 0.10
"""A KPI trends the wrong way when its last RECENT_DAYS are worse than the BASELINE_DAYS before
by more than this share of the earlier value (relative, so it means the same for hours and %)."""
SAMPLE_COMPONENTS = {
    "schedule_adherence": "orders_due",
    "supplier_otd": "po_received",
    "mtbf_h": "failures",
    "mttr_h": "failures",
}
MIN_SAMPLE = 20
"""A KPI counted over events is compared only when both windows hold MIN_SAMPLE events: 3 late
purchase orders out of 5 is noise, not a trend."""


def attention(
    engine: Engine, scope: PlantScope, roles, kpi_keys=(), now: datetime | None = None, worse_by: float = WORSE_BY
) -> pd.DataFrame:
    """What needs a user with `roles` in `scope` now, most urgent first.

    Columns: kind (decision | kpi | job | feed | model), severity (overdue | high | medium),
    plant_id (None: the whole network), plant_name, subject (recommendation title, KPI key,
    job name, the overdue feeds' sources or model name), rec_id (decisions only), since_utc (raised, failed,
    the oldest feed last received, or held), due_utc (a decision's SLA), value and previous (a KPI's
    recent and baseline values; the oldest overdue feed's age and expected cadence, hours), note (a decision's kind, a job's error, a hold's reason).
    """
    now = now or datetime.now(timezone.utc)
    names = queries.plants(engine, scope).set_index("plant_id")["name"].to_dict()
    rows = [
        *_decisions(engine, scope, roles, now),
        *_kpis(engine, scope, kpi_keys, worse_by, names),
        *_jobs(engine, scope, names),
        *_feeds(engine, scope, now, names),
        *_holds(engine, scope, names),
    ]
    frame = pd.DataFrame(rows, columns=ATTENTION_COLUMNS)
    if frame.empty:
        return frame
    frame["plant_name"] = frame["plant_name"].fillna("Network")
    frame["_order"] = frame["severity"].map(SEVERITY_ORDER)
    frame["_kind"] = frame["kind"].map({k: i for i, k in enumerate(KINDS)})
    frame = frame.sort_values(["_order", "_kind", "due_utc", "plant_name", "subject"], na_position="last")
    return frame.drop(columns=["_order", "_kind"]).reset_index(drop=True)


def _decisions(engine, scope, roles, now):
    queue = action_queue(engine, scope, tuple(roles), only_mine=True)
    for r in queue.itertuples(index=False):
        due = None if pd.isna(r.sla_due_utc) else r.sla_due_utc.to_pydatetime()
        overdue = due is not None and due <= now
        soon = due is not None and due - now <= timedelta(hours=4)
        yield {
            "kind": "decision",
            "severity": "overdue" if overdue or r.state == "escalated" else "high" if soon else "medium",
            "plant_id": r.plant_id,
            "plant_name": r.plant_name,
            "subject": r.title,
            "rec_id": int(r.rec_id),
            "since_utc": r.created_utc,
            "due_utc": due,
            "note": r.kind,
        }


def _kpis(engine, scope, kpi_keys, worse_by, names):
    window = queries.data_window(engine, scope) if kpi_keys else None
    if window is None:
        return
    last = window[1]
    recent_start = last - timedelta(days=RECENT_DAYS - 1)
    base_end = recent_start - timedelta(days=1)
    base_start = base_end - timedelta(days=BASELINE_DAYS - 1)
    recent = kpis.with_kpis(queries.plant_kpi_components(engine, scope, recent_start, last)).set_index("plant_id")
    base = kpis.with_kpis(queries.plant_kpi_components(engine, scope, base_start, base_end)).set_index("plant_id")
    for plant_id in recent.index.intersection(base.index):
        for key in kpi_keys:
            now_v, then_v = recent.at[plant_id, key], base.at[plant_id, key]
            sample = SAMPLE_COMPONENTS.get(key)
            if (
                pd.isna(now_v)
                or pd.isna(then_v)
                or then_v == 0
                or (sample and min(recent.at[plant_id, sample], base.at[plant_id, sample]) < MIN_SAMPLE)
            ):
                continue
            change = (now_v - then_v) / abs(then_v)
            worse = -change if kpis.KPI_CATALOG[key][3] else change
            if worse > worse_by:
                yield {
                    "kind": "kpi",
                    "severity": "high" if worse > 2 * worse_by else "medium",
                    "plant_id": plant_id,
                    "plant_name": names.get(plant_id),
                    "subject": key,
                    "since_utc": datetime.combine(recent_start, datetime.min.time(), timezone.utc),
                    "value": float(now_v),
                    "previous": float(then_v),
                }


def _jobs(engine, scope, names):
    runs = jobs.latest_runs(engine, scope)
    for r in runs[runs["status"] == "failed"].itertuples(index=False):
        lines = (r.error or r.message or "").strip().splitlines()
        yield {
            "kind": "job",
            "severity": "high",
            "plant_id": r.plant_id,
            "plant_name": names.get(r.plant_id),
            "subject": r.job_name,
            "since_utc": r.finished_utc,
            "note": lines[-1][:200] if lines else None,
        }


def _feeds(engine, scope, now, names):
    """One line per plant with overdue feeds: their sources, the oldest age and its cadence."""
    feeds = queries.feed_freshness(engine, scope, now=now)
    late = feeds[feeds["is_stale"]].sort_values(["plant_id", "age_h"], ascending=[True, False], na_position="first")
    for plant_id, rows in late.groupby("plant_id", sort=True):
        oldest = rows.iloc[0]
        yield {
            "kind": "feed",
            "severity": "medium",
            "plant_id": plant_id,
            "plant_name": names.get(plant_id),
            "subject": ", ".join(sorted(rows["source"])),
            "since_utc": None if pd.isna(oldest["last_received_utc"]) else oldest["last_received_utc"],
            "value": None if pd.isna(oldest["age_h"]) else float(oldest["age_h"]),
            "previous": float(oldest["expected_cadence_h"]),
        }


def _holds(engine, scope, names):
    for r in model_holds.holds(engine, scope).itertuples(index=False):
        yield {
            "kind": "model",
            "severity": "medium",
            "plant_id": r.plant_id,
            "plant_name": names.get(r.plant_id),
            "subject": f"{r.model_name} v{r.version}",
            "since_utc": r.held_utc,
            "note": r.reason,
        }
