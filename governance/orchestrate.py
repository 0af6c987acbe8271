"""Orchestration: from risk signals to routed, enriched recommendations.

One run (`run`, or `python -m governance.orchestrate --url URL`):

1. stores the enterprise policy defaults if the warehouse has none yet;
2. expires what nobody decided in time, and escalates what passed its SLA
   (`workflow.expire_overdue`, `workflow.escalate_overdue`);
3. reads the risk signals (`governance.signals.risk_signals`: model scores where a model is
   plugged in, threshold fallback rules elsewhere) and, for each signal at or above its
   plant's threshold, raises a recommendation enriched with what a decider needs:
   - maintenance: the spare parts of the asset's class on hand at the plant and at the other
     plants, the production orders on its line inside the repair window (schedule impact),
     and an estimated cost (parts + labour hours x the policy's labour rate);
   - shortage: the open purchase orders, the alternative suppliers with their delivery
     record, and a purchase requisition sized to two lead times of consumption;
   - quality: the production orders (lots) of the line in the days of the drop;
4. routes it by the plant policy (approver roles of its cost band, SLA, escalation, expiry)
   and, where the policy automates it, approves it as `system` and writes the outbox row.

Idempotent: a recommendation's `signal_key` is kind:plant:subject:episode (unique in the
table), and no second recommendation is raised for a subject that still has one open, so a
second run on the same signals creates nothing. Each recommendation is written with its audit
rows in its own transaction. A signal whose feed is stale (older than its cadence + the plant
policy's `feed_grace_hours`) follows the policy's
`stale_feed_rule`.
"""

import importlib
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from data_access import decisions as dq
from data_access import queries, signal_inputs
from data_access.frames import as_utc
from data_access.kpis import REFERENCE_CURRENCY
from data_access.schema import recommendation
from data_access.scope import PlantScope
from governance import audit, model_serving, policies, signals, workflow

NETWORK = PlantScope.everything()  # the orchestrator reads the whole network; users' scopes apply on reading


@dataclass
class RunReport:
    as_of: datetime
    signals: int = 0
    above_threshold: int = 0
    created: list[int] = field(default_factory=list)
    auto_approved: list[int] = field(default_factory=list)
    already_raised: int = 0
    held_stale_feed: int = 0
    no_fallback: int = 0
    escalated: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    seeded_policy_keys: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"as of {self.as_of:%Y-%m-%d %H:%M} UTC: {self.signals} signals, {self.above_threshold} at or "
            f"above their plant's threshold; {len(self.created)} recommendations raised "
            f"({len(self.auto_approved)} auto-approved), {self.already_raised} already raised, "
            f"{self.held_stale_feed} held for a stale feed, {self.no_fallback} without a model score; "
            f"{len(self.escalated)} escalated after their SLA, {len(self.expired)} expired"
        )


def signal_key(row) -> str:
    return f"{row.kind}:{row.plant_id}:{row.subject_id}:{row.episode}"[:128]


def run(
    engine: Engine,
    now: datetime | None = None,
    *,
    params: signals.RuleParams = signals.RuleParams(),
    signals_fn=None,
    providers: Mapping[str, signals.ModelProvider] | None = None,
    actor: str = workflow.SYSTEM,
    progress=None,
) -> RunReport:
    """One orchestration run as of `now` (default: the current time). See the module docstring."""
    now = as_utc(now) or datetime.now(timezone.utc)
    report = RunReport(as_of=now)
    tell = progress or (lambda fraction, message: None)
    tell(0.0, "Policies")
    report.seeded_policy_keys = policies.seed_enterprise_defaults(engine, actor, now)
    tell(0.05, "Expiring and escalating")
    report.expired = workflow.expire_overdue(engine, now)
    report.escalated = workflow.escalate_overdue(engine, now)
    tell(0.1, "Reading risk signals")
    frame = (
        signals_fn(engine, NETWORK, now, params)
        if signals_fn
        else signals.risk_signals(engine, NETWORK, now, params, providers=providers)
    )
    report.signals = len(frame)
    plant_policies = policies.effective_all(engine)
    stale = _stale_feeds(engine, now)
    with engine.connect() as conn:
        r = recommendation.c
        keys = set(conn.execute(select(r.signal_key)).scalars())
        open_subjects = {
            tuple(row)
            for row in conn.execute(select(r.plant_id, r.kind, r.subject_id).where(r.state.in_(dq.OPEN_STATES)))
        }
    rows = list(frame.itertuples(index=False))
    for i, row in enumerate(rows):
        tell(0.15 + 0.85 * i / max(len(rows), 1), f"Signal {i + 1} of {len(rows)}")
        policy = plant_policies.get(row.plant_id)
        if policy is None:
            continue
        if row.risk < policy.threshold(row.kind):
            continue
        report.above_threshold += 1
        if row.source == "fallback_rule" and policy["model_fallback"] == "none":
            report.no_fallback += 1
            continue
        stale_feeds = sorted(f for f in row.feeds if (row.plant_id, f) in stale)
        if stale_feeds and policy["stale_feed_rule"] == "hold":
            report.held_stale_feed += 1
            continue
        key = signal_key(row)
        if key in keys or (row.plant_id, row.kind, row.subject_id) in open_subjects:
            report.already_raised += 1
            continue
        title, evidence, cost = enrich(engine, row, policy, now)
        if stale_feeds:
            evidence["stale_feeds"] = stale_feeds
            evidence["stale_feed_rule"] = policy["stale_feed_rule"]
        auto = policy.auto_approves(row.kind, cost) and not (stale_feeds and policy["stale_feed_rule"] == "manual_only")
        try:
            with engine.begin() as conn:
                rec_id = workflow.insert_recommendation(
                    conn,
                    policy,
                    now,
                    plant_id=row.plant_id,
                    kind=row.kind,
                    subject_id=row.subject_id,
                    signal_key=key,
                    title=title,
                    risk=row.risk,
                    estimated_cost=cost,
                    evidence=evidence,
                    source=row.source,
                )
                if rec_id is None:
                    report.already_raised += 1
                    continue
                outbox_id = None
                if auto:
                    outbox_id = workflow.auto_approve(
                        conn,
                        rec_id,
                        now,
                        f"Auto-approved by the {row.plant_id} policy: estimated cost "
                        f"{cost:,.0f} {REFERENCE_CURRENCY} within auto_approve_max_cost.{row.kind} "
                        f"({policy[f'auto_approve_max_cost.{row.kind}']:,.0f} {REFERENCE_CURRENCY}), "
                        "automation_level assisted.",
                    )
                routing = policy.routing(row.kind, cost)
                audit.append(
                    conn,
                    actor,
                    "recommendation_created",
                    plant_id=row.plant_id,
                    entity="recommendation",
                    entity_id=rec_id,
                    detail={
                        "kind": row.kind,
                        "subject_id": row.subject_id,
                        "signal_key": key,
                        "risk": float(row.risk),
                        "source": row.source,
                        "rule": evidence.get("rule"),
                        "estimated_cost": cost,
                        "approvers": routing["approvers"],
                        "sla_hours": routing["sla_hours"],
                        "stale_feeds": stale_feeds,
                    },
                )
                if auto:
                    audit.append(
                        conn,
                        actor,
                        "recommendation_auto_approved",
                        plant_id=row.plant_id,
                        entity="recommendation",
                        entity_id=rec_id,
                        detail={
                            "estimated_cost": cost,
                            "outbox_id": outbox_id,
                            "limit": policy[f"auto_approve_max_cost.{row.kind}"],
                        },
                    )
        except IntegrityError:  # another run raised the same signal a moment earlier
            report.already_raised += 1
            continue
        keys.add(key)
        open_subjects.add((row.plant_id, row.kind, row.subject_id))
        report.created.append(rec_id)
        if auto:
            report.auto_approved.append(rec_id)
    tell(1.0, "Done")
    return report


def _stale_feeds(engine: Engine, now: datetime) -> set[tuple[str, str]]:
    """(plant, feed) pairs beyond the plant policy's limit (governance.model_serving.feed_limits)."""
    fresh = model_serving.feed_limits(engine, queries.feed_freshness(engine, NETWORK, now))
    stale = fresh[fresh["beyond_limit"]]
    return set(zip(stale["plant_id"], stale["source"]))


# --- enrichment ---------------------------------------------------------------------------------


def _num(value, default=None):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


def _records(frame: pd.DataFrame, columns) -> list[dict]:
    out = frame[list(columns)].copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = [None if pd.isna(v) else v.isoformat() for v in out[c]]
    return [
        {
            k: (None if (isinstance(v, float) and not math.isfinite(v)) else (str(v) if hasattr(v, "isoformat") else v))
            for k, v in r.items()
        }
        for r in out.to_dict("records")
    ]


NEEDED = {
    "maintenance": ("asset_class", "line_id", "line_name", "asset_name", "mttr_hours"),
    "shortage": (
        "daily_demand",
        "lead_time_days",
        "projected_on_hand_today",
        "open_po_qty",
        "unit_cost",
        "days_of_supply",
        "days_short_within_lead_time",
        "material_name",
    ),
    "quality": ("recent_days", "drop_pp", "line_name"),
}
"""Evidence the enrichment reads; a signal without it (a model's) gets the rule's readings added."""


def enrich(engine: Engine, row, policy: policies.Policy, now: datetime) -> tuple[str, dict, float | None]:
    """(title, evidence, estimated cost) of the recommendation a signal raises."""
    evidence = dict(row.evidence)
    if any(key not in evidence for key in NEEDED[row.kind]):
        evidence = {**signals.rule_evidence(engine, row.kind, row.plant_id, row.subject_id, now), **evidence}
    evidence["risk"] = float(row.risk)
    evidence["source"] = row.source
    return {"maintenance": _maintenance, "shortage": _shortage, "quality": _quality}[row.kind](
        engine, row, evidence, policy, now
    )


def _maintenance(engine, row, evidence, policy, now):
    day = now.date()
    asset_class, line_id = evidence.get("asset_class"), evidence.get("line_id")
    parts = signal_inputs.spare_parts(engine, NETWORK, asset_class or "", day)  # no class: no parts
    here = parts[parts["plant_id"] == row.plant_id]
    kit = here if not here.empty else parts.drop_duplicates("material_id")
    kit_rows = []
    for part in kit.drop_duplicates("material_id").itertuples(index=False):
        on_hand_here = float(here.loc[here["material_id"] == part.material_id, "on_hand"].sum())
        elsewhere = parts[
            (parts["material_id"] == part.material_id) & (parts["plant_id"] != row.plant_id) & (parts["on_hand"] >= 1)
        ]
        kit_rows.append(
            {
                "material_id": part.material_id,
                "name": part.name,
                "qty": 1,
                "unit_cost": float(part.unit_cost),
                "on_hand_here": on_hand_here,
                "available_here": on_hand_here >= 1,
                "on_hand_elsewhere": float(elsewhere["on_hand"].sum()),
                "lead_time_days": _num(part.lead_time_days),
            }
        )
    repair_hours = max(_num(evidence.get("mttr_hours"), 4.0) or 4.0, 1.0)
    window_h = float(policy["repair_window_hours"])
    orders = (
        signal_inputs.orders_on_line(engine, NETWORK, line_id, now, now + timedelta(hours=window_h))
        if line_id
        else signal_inputs.orders_on_line(engine, NETWORK, "", now, now)
    )
    impact = _records(
        orders,
        ["order_id", "product_id", "product_name", "qty", "status", "planned_start_utc", "planned_end_utc", "due_utc"],
    )
    parts_cost = sum(p["unit_cost"] * p["qty"] for p in kit_rows)
    labour_cost = repair_hours * float(policy["labour_rate_per_hour"])
    cost = round(parts_cost + labour_cost, 2)
    evidence.update(
        {
            "spare_parts": _records(
                parts,
                [
                    "plant_id",
                    "plant_name",
                    "material_id",
                    "name",
                    "unit_cost",
                    "on_hand",
                    "snapshot_day",
                    "lead_time_days",
                ],
            ),
            "parts_check": _parts_check(kit_rows),
            "repair_window_utc": [now.isoformat(), (now + timedelta(hours=window_h)).isoformat()],
            "schedule_impact": impact,
            "schedule_impact_qty": float(orders["qty"].sum()) if not orders.empty else 0.0,
            "cost_breakdown": {
                "parts": round(parts_cost, 2),
                "labour": round(labour_cost, 2),
                "labour_rate_per_hour": float(policy["labour_rate_per_hour"]),
                "repair_hours": round(repair_hours, 2),
            },
            "action": {
                "asset_id": row.subject_id,
                "asset_local_code": evidence.get("asset_local_code"),
                "line_id": line_id,
                "priority": {"A": "high", "B": "medium"}.get(evidence.get("criticality"), "low"),
                "work_type": "preventive_repair",
                "requested_start_utc": now.isoformat(),
                "repair_hours": round(repair_hours, 2),
                "parts": [{k: p[k] for k in ("material_id", "name", "qty")} for p in kit_rows],
            },
        }
    )
    health = evidence.get("health") or {}
    if evidence.get("rule") == "health_trend" and health.get("vibration_ratio"):
        why = f", vibration {health['vibration_ratio']:.2f}x baseline"
    elif evidence.get("days_since_repair") is not None:
        why = f", {evidence['days_since_repair']:.0f} d since repair"
    else:
        why = ""
    title = (
        f"Maintain {evidence.get('asset_name') or row.subject_id} ({asset_class or 'asset'}, "
        f"{evidence.get('line_name') or line_id or 'line unknown'}): failure risk {row.risk:.0%} in "
        f"{evidence.get('horizon_days', 7):g} d{why}"
    )
    return title, evidence, cost


def _parts_check(kit_rows: list[dict]) -> str:
    """One line for the decider: are the parts there, and if not, where from."""
    if not kit_rows:
        return "no spare parts are listed for this asset class"
    missing = [p for p in kit_rows if not p["available_here"]]
    if not missing:
        return "all parts of the kit are on hand at the plant"
    notes = [
        f"{p['name']} (transfer: {p['on_hand_elsewhere']:g} at other plants)"
        if p["on_hand_elsewhere"]
        else f"{p['name']} (order it: none in the network)"
        for p in missing
    ]
    return "missing at the plant: " + ", ".join(notes)


def _shortage(engine, row, evidence, policy, now):
    daily = _num(evidence.get("daily_demand"), 0.0)
    lead = _num(evidence.get("lead_time_days"), 0.0)
    projected = max(_num(evidence.get("projected_on_hand_today"), 0.0), 0.0)
    qty = max(daily * lead * 2 - projected - _num(evidence.get("open_po_qty"), 0.0), daily * lead)
    qty = float(math.ceil(qty)) if qty > 0 else None
    pos = signal_inputs.open_purchase_orders(engine, NETWORK, row.plant_id, row.subject_id)
    suppliers = signal_inputs.supplier_record(engine, NETWORK, row.subject_id)
    current = evidence.get("supplier_id")
    alternatives = suppliers[suppliers["supplier_id"] != current]
    best = current or (alternatives["supplier_id"].iloc[0] if not alternatives.empty else None)
    unit_cost = _num(evidence.get("unit_cost"))
    cost = round(qty * unit_cost, 2) if qty is not None and unit_cost is not None else None
    need_by = now.date() + timedelta(days=max(int(_num(evidence.get("days_of_supply"), 0.0)), 0))
    evidence.update(
        {
            "open_purchase_orders": _records(
                pos, ["po_id", "supplier_id", "supplier_name", "qty", "ordered_day", "promised_day"]
            ),
            "current_supplier": _records(
                suppliers[suppliers["supplier_id"] == current],
                ["supplier_id", "supplier_name", "received", "on_time_rate", "mean_delay_days"],
            ),
            "alternative_suppliers": _records(
                alternatives, ["supplier_id", "supplier_name", "country", "received", "on_time_rate", "mean_delay_days"]
            ),
            "action": {
                "material_id": row.subject_id,
                "material_name": evidence.get("material_name"),
                "qty": qty,
                "unit": evidence.get("unit"),
                "supplier_id": best,
                "need_by_day": need_by.isoformat(),
            },
            "sizing": "two lead times of average consumption, less projected stock and open orders "
            "(at least one lead time)",
        }
    )
    short = evidence.get("days_short_within_lead_time")
    title = f"Replenish {evidence.get('material_name') or row.subject_id}: " + (
        f"{short:.1f} of {lead:g} lead-time days without stock"
        if short is not None
        else f"shortage risk {row.risk:.0%}"
    )
    return title, evidence, cost


def _quality(engine, row, evidence, policy, now):
    recent = evidence.get("recent_days")
    first = (
        datetime.fromisoformat(recent.split("..")[0]).replace(tzinfo=timezone.utc)
        if recent
        else now - timedelta(days=7)
    )
    lots = signal_inputs.orders_on_line(
        engine, NETWORK, row.subject_id, first, now, statuses=("completed", "released", "planned")
    )
    evidence.update(
        {
            "affected_lots": _records(
                lots,
                [
                    "order_id",
                    "product_id",
                    "product_name",
                    "qty",
                    "produced_qty",
                    "status",
                    "planned_start_utc",
                    "planned_end_utc",
                    "actual_end_utc",
                ],
            ),
            "action": {"line_id": row.subject_id, "disposition": "hold", "orders": lots["order_id"].tolist()},
        }
    )
    drop = evidence.get("drop_pp")
    title = (
        f"Quality drop on {evidence.get('line_name') or row.subject_id}: "
        + (f"{drop:.1f} pp below the baseline" if drop is not None else f"risk {row.risk:.0%}")
        + f", {len(lots)} lot(s) affected"
    )
    return title, evidence, None


if __name__ == "__main__":  # the command composes this module with forecasting: see jobs.commands
    sys.exit(importlib.import_module("jobs.commands").orchestrate_main())
