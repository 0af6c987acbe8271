"""Named reads of the decisions workflow's tables. Each takes the user's PlantScope and filters on it in SQL.

The action queue, recommendation detail, decision history, outbox, policies and audit log,
and the approval round. The rules' inputs are in `data_access.signal_inputs`, the decision
KPIs in `data_access.decision_kpis`.

Every function returns a DataFrame (or a dict for one recommendation) whose columns its
docstring lists. Timestamps come back as timezone-aware UTC (SQLite hands back naive UTC).
This module imports nothing of `governance`: role names arrive as plain strings.
"""

import json
from collections import Counter
from datetime import datetime

import pandas as pd
from sqlalchemy import Text, cast, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Engine

from data_access.frames import as_utc, read_frame, utc_columns
from data_access.schema import (
    audit_log,
    decision,
    outbox,
    plant,
    plant_policy,
    recommendation,
)
from data_access.scope import PlantScope

OPEN_STATES = ("open", "escalated")
"""States in which a recommendation still waits for a decision."""
FINAL_STATES = ("approved", "rejected", "overridden", "expired")
ACTED_STATES = ("approved", "rejected", "overridden")
"""Final states reached by a decision (adoption counts these, if reached before expiry)."""


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


# --- the approval round (one definition, used by the workflow and the queue) ----------------


def approval_round(decisions: list[dict]) -> list[dict]:
    """The approvals and overrides of the current round, oldest first: those since the latest
    override (an override starts a new round, earlier approvals were for something else)."""
    signing = [d for d in decisions if d["action"] in ("approve", "override")]
    starts = [i for i, d in enumerate(signing) if d["action"] == "override"]
    return signing[starts[-1] :] if starts else signing


def missing_approvals(approvers: list[str], signed: list[dict]) -> list[str]:
    """Approver roles (a multiset: a role listed twice needs two people) not yet signed for."""
    need = Counter(approvers)
    need.subtract(Counter(d["role"] for d in signed))
    return sorted(need.elements())


# --- governance tables ---------------------------------------------------------------------------

_R = recommendation.c
_QUEUE_COLUMNS = [
    "rec_id",
    "plant_id",
    "plant_name",
    "kind",
    "subject_id",
    "title",
    "risk",
    "source",
    "estimated_cost",
    "state",
    "version",
    "created_utc",
    "sla_due_utc",
    "expires_utc",
    "decided_utc",
    "approvers",
    "escalate_to",
    "signed_by",
    "still_needed",
    "waiting_for_you",
]


def _decisions_of(conn, rec_ids) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    ids = sorted(set(int(i) for i in rec_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            select(decision.c.rec_id, decision.c.username, decision.c.role, decision.c.action, decision.c.rec_version)
            .where(decision.c.rec_id.in_(chunk))
            .order_by(decision.c.decision_id)
        ).mappings()
        for row in rows:
            out.setdefault(row["rec_id"], []).append(dict(row))
    return out


def recommendations(
    engine: Engine,
    scope: PlantScope,
    roles=(),
    states=None,
    kinds=None,
    start_utc: datetime | None = None,
    end_utc: datetime | None = None,
    limit: int = 2000,
) -> pd.DataFrame:
    """Recommendations in scope (newest first), with where their approval stands.

    Filters: states and kinds (None: all), raised in start_utc..end_utc. `roles` are the
    reading user's role names: `waiting_for_you` is True where one of them may act now (a
    still-needed approver role, or an escalation role once escalated).
    Columns: rec_id, plant_id, plant_name, kind, subject_id, title, risk, source,
    estimated_cost, state, version, created_utc, sla_due_utc, expires_utc, decided_utc,
    approvers (text), escalate_to (text), signed_by (text: who approved in this round),
    still_needed (text), waiting_for_you (bool).
    """
    stmt = (
        select(
            _R.rec_id,
            _R.plant_id,
            plant.c.name.label("plant_name"),
            _R.kind,
            _R.subject_id,
            _R.title,
            _R.risk,
            _R.source,
            _R.estimated_cost,
            _R.state,
            _R.version,
            _R.created_utc,
            _R.sla_due_utc,
            _R.expires_utc,
            _R.decided_utc,
            _R.routing,
        )
        .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
        .where(scope.clause(_R.plant_id))
        .order_by(_R.created_utc.desc(), _R.rec_id.desc())
        .limit(limit)
    )
    if states:
        stmt = stmt.where(_R.state.in_(list(states)))
    if kinds:
        stmt = stmt.where(_R.kind.in_(list(kinds)))
    if start_utc is not None:
        stmt = stmt.where(_R.created_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(_R.created_utc < as_utc(end_utc))
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
        history = _decisions_of(conn, frame["rec_id"]) if not frame.empty else {}
    roles = set(roles)
    approvers, escalate, signed_by, needed, waiting = [], [], [], [], []
    for row in frame.itertuples(index=False):
        routing = row.routing or {}
        signed = approval_round(history.get(row.rec_id, []))
        missing = missing_approvals(routing.get("approvers", []), signed)
        approvers.append(", ".join(routing.get("approvers", [])))
        escalate.append(", ".join(routing.get("escalate_to", [])))
        signed_by.append(", ".join(f"{d['username']} ({d['role']})" for d in signed))
        needed.append(", ".join(missing) if row.state in OPEN_STATES else "")
        waiting.append(
            row.state in OPEN_STATES
            and bool(roles & set(missing) or (row.state == "escalated" and roles & set(routing.get("escalate_to", []))))
        )
    frame = frame.drop(columns="routing").assign(
        approvers=approvers, escalate_to=escalate, signed_by=signed_by, still_needed=needed, waiting_for_you=waiting
    )
    frame = utc_columns(frame, "created_utc", "sla_due_utc", "expires_utc", "decided_utc")
    frame["waiting_for_you"] = frame["waiting_for_you"].astype(bool)
    return frame[_QUEUE_COLUMNS]


def action_queue(engine: Engine, scope: PlantScope, roles, kinds=None, only_mine: bool = False) -> pd.DataFrame:
    """Recommendations waiting for a decision (open or escalated) in scope, oldest SLA first.

    Columns: those of `recommendations`. `only_mine` keeps the rows waiting for `roles`.
    """
    frame = recommendations(engine, scope, roles=roles, states=OPEN_STATES, kinds=kinds, limit=5000)
    if only_mine:
        frame = frame.loc[frame["waiting_for_you"].astype(bool)]
    return frame.sort_values(["sla_due_utc", "rec_id"], na_position="last", ignore_index=True)


def recommendation_detail(engine: Engine, scope: PlantScope, rec_id: int) -> dict | None:
    """One recommendation, or None when it does not exist or is outside the scope (same answer).

    Keys: every recommendation column (evidence and routing as dicts), plant_name,
    plant_currency, decisions (DataFrame: decision_id, username, role, action, reason,
    override_value (JSON text), decided_utc, rec_version), outbox (dict or None), and in
    the evidence, spare parts of plants outside the scope are summed into one row
    ("other plants, outside your scope") instead of being named.
    """
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(recommendation, plant.c.name.label("plant_name"), plant.c.currency.label("plant_currency"))
                .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
                .where(_R.rec_id == rec_id, scope.clause(_R.plant_id))
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        history = read_frame(
            conn,
            select(
                decision.c.decision_id,
                decision.c.username,
                decision.c.role,
                decision.c.action,
                decision.c.reason,
                decision.c.override_value,
                decision.c.decided_utc,
                decision.c.rec_version,
            )
            .where(decision.c.rec_id == rec_id)
            .order_by(decision.c.decision_id),
        )
        sent = conn.execute(select(outbox).where(outbox.c.rec_id == rec_id)).mappings().first()
    detail = dict(row)
    for name in ("created_utc", "expires_utc", "decided_utc", "sla_due_utc"):
        detail[name] = as_utc(detail[name])
    detail["evidence"] = _scoped_evidence(dict(detail["evidence"] or {}), scope, detail["plant_id"])
    detail["routing"] = dict(detail["routing"] or {})
    history["override_value"] = [
        None if v is None else json.dumps(v, ensure_ascii=False) for v in history["override_value"]
    ]
    detail["decisions"] = utc_columns(history, "decided_utc")
    detail["outbox"] = (
        None
        if sent is None
        else {**dict(sent), "created_utc": as_utc(sent["created_utc"]), "delivered_utc": as_utc(sent["delivered_utc"])}
    )
    return detail


def _scoped_evidence(evidence: dict, scope: PlantScope, own_plant: str) -> dict:
    """Spare parts at plants outside the scope are summed per part, not named."""
    parts = evidence.get("spare_parts")
    if not parts or scope.is_network:
        return evidence
    visible = [p for p in parts if scope.allows(p.get("plant_id")) or p.get("plant_id") == own_plant]
    hidden: dict[str, dict] = {}
    for p in parts:
        if p in visible:
            continue
        agg = hidden.setdefault(
            p["material_id"],
            {
                "plant_id": None,
                "plant_name": "other plants (outside your scope)",
                "material_id": p["material_id"],
                "name": p.get("name"),
                "unit_cost": p.get("unit_cost"),
                "on_hand": 0.0,
                "snapshot_day": None,
                "lead_time_days": None,
            },
        )
        agg["on_hand"] += float(p.get("on_hand") or 0.0)
    evidence["spare_parts"] = visible + list(hidden.values())
    return evidence


def decision_history(
    engine: Engine,
    scope: PlantScope,
    start_utc: datetime | None = None,
    end_utc: datetime | None = None,
    actions=None,
    limit: int = 5000,
) -> pd.DataFrame:
    """Decisions on recommendations in scope, newest first.

    Columns: decision_id, decided_utc, rec_id, plant_id, kind, title, username, role, action,
    reason, override_value (JSON text), rec_version.
    """
    d = decision.c
    stmt = (
        select(
            d.decision_id,
            d.decided_utc,
            d.rec_id,
            _R.plant_id,
            _R.kind,
            _R.title,
            d.username,
            d.role,
            d.action,
            d.reason,
            d.override_value,
            d.rec_version,
        )
        .join_from(decision, recommendation, d.rec_id == _R.rec_id)
        .where(scope.clause(_R.plant_id))
        .order_by(d.decision_id.desc())
        .limit(limit)
    )
    if start_utc is not None:
        stmt = stmt.where(d.decided_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(d.decided_utc < as_utc(end_utc))
    if actions:
        stmt = stmt.where(d.action.in_(list(actions)))
    frame = _read(engine, stmt)
    frame["override_value"] = [
        None if v is None else json.dumps(v, ensure_ascii=False) for v in frame["override_value"]
    ]
    return utc_columns(frame, "decided_utc")


def outbox_rows(engine: Engine, scope: PlantScope, targets=None, undelivered_only: bool = False) -> pd.DataFrame:
    """Approved requests waiting for (or delivered to) the ERP, CMMS or MES, newest first.

    Columns: outbox_id, created_utc, rec_id, plant_id, target (erp | cmms | mes),
    request_type (work_order_request | purchase_requisition | quality_hold_request |
    reschedule_request), delivered_utc, payload (dict), payload_json (the same as JSON text).
    """
    o = outbox.c
    stmt = (
        select(o.outbox_id, o.created_utc, o.rec_id, o.plant_id, o.target, o.request_type, o.delivered_utc, o.payload)
        .where(scope.clause(o.plant_id))
        .order_by(o.outbox_id.desc())
    )
    if targets:
        stmt = stmt.where(o.target.in_(list(targets)))
    if undelivered_only:
        stmt = stmt.where(o.delivered_utc.is_(None))
    frame = _read(engine, stmt)
    frame["payload_json"] = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in frame["payload"]]
    return utc_columns(frame, "created_utc", "delivered_utc")


def policy_rows(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Stored policy values: the enterprise rows (plant_id None) and the plants' rows in scope.

    Columns: plant_id, key, value, updated_utc, updated_by.
    """
    p = plant_policy.c
    frame = _read(
        engine,
        select(p.plant_id, p.key, p.value, p.updated_utc, p.updated_by)
        .where(or_(p.plant_id.is_(None), scope.clause(p.plant_id)))
        .order_by(p.plant_id, p.key),
    )
    return utc_columns(frame, "updated_utc")


def _like_patterns(text_value: str) -> list[str]:
    """LIKE patterns (lower case, % and _ literal) for a search: the text as typed and in a few
    case variants, raw (for plain columns) and JSON-escaped (the detail is stored with non-ASCII
    characters escaped, and SQLite's lower() folds ASCII only)."""
    variants = {text_value, text_value.lower(), text_value.upper(), text_value.capitalize(), text_value.title()}

    def ascii_lower(value: str) -> str:
        return "".join(ch.lower() if ch.isascii() else ch for ch in value)

    forms = set()
    for variant in variants:
        forms.update({variant.lower(), ascii_lower(variant), ascii_lower(json.dumps(variant)[1:-1])})
    return sorted("%" + f.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for f in forms)


def audit_rows(
    engine: Engine,
    scope: PlantScope,
    start_utc: datetime | None = None,
    end_utc: datetime | None = None,
    actors=None,
    actions=None,
    search: str | None = None,
    limit: int = 5000,
) -> pd.DataFrame:
    """Audit rows the scope may see, newest first: every row for a network-wide scope, else
    the rows of the scope's plants (rows without a plant, such as enterprise policy changes
    and login failures, are for network-wide roles).

    `search` matches, case-insensitively, the actor, action, entity id or any text of the
    detail. Columns: seq, at_utc, actor, action, plant_id, entity, entity_id, detail (JSON
    text), prev_hash, row_hash.
    """
    a = audit_log.c
    stmt = (
        select(
            a.seq,
            a.at_utc,
            a.actor,
            a.action,
            a.plant_id,
            a.entity,
            a.entity_id,
            type_coerce(a.detail, Text).label("detail"),
            a.prev_hash,
            a.row_hash,
        )
        .order_by(a.seq.desc())
        .limit(limit)
    )
    if not scope.is_network:
        stmt = stmt.where(scope.clause(a.plant_id))
    if start_utc is not None:
        stmt = stmt.where(a.at_utc >= as_utc(start_utc))
    if end_utc is not None:
        stmt = stmt.where(a.at_utc < as_utc(end_utc))
    if actors:
        stmt = stmt.where(a.actor.in_(list(actors)))
    if actions:
        stmt = stmt.where(a.action.in_(list(actions)))
    if search and search.strip():
        columns = (a.actor, a.action, func.coalesce(a.entity_id, ""), cast(a.detail, Text))
        stmt = stmt.where(
            or_(
                *(
                    func.lower(col).like(pattern, escape="\\")
                    for pattern in _like_patterns(search.strip())
                    for col in columns
                )
            )
        )
    frame = _read(engine, stmt)
    frame["detail"] = [_compact_json(v) for v in frame["detail"]]
    return utc_columns(frame, "at_utc")


def _compact_json(value) -> str:
    try:
        return json.dumps(json.loads(value) if isinstance(value, str) else value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def audit_facets(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """The actors and actions present in the scope's audit rows, for filter choices.

    Columns: facet (actor | action), value, rows.
    """
    a = audit_log.c
    where = [] if scope.is_network else [scope.clause(a.plant_id)]
    frames = []
    for name, col in (("actor", a.actor), ("action", a.action)):
        frames.append(
            _read(
                engine,
                select(literal(name).label("facet"), col.label("value"), func.count().label("rows"))
                .where(*where)
                .group_by(col)
                .order_by(col),
            )
        )
    return pd.concat(frames, ignore_index=True)
