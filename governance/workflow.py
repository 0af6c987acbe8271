"""The decisions workflow: approve, reject, override, comment and escalate a recommendation.

Rules (docs/decisions-workflow.md tells the story):

- **Routing** is frozen into the recommendation when it is raised (`recommendation.routing`,
  from the plant policy): the approver roles of its cost band, ALL of which must approve
  (a role listed twice needs two people), and the roles that decide once it is escalated.
- **Approve**: a user holding a still-missing approver role signs for it; each person signs
  once. When every approver role has signed, the state becomes `approved` (or `overridden`
  if the round holds an override) and the request goes to the outbox.
- **Override** (reason and overriding value required): replaces fields of the proposed
  action; it starts a new approval round (earlier approvals were for something else) and
  counts as the overrider's own approval.
- **Reject** (reason required): any approver may veto; final.
- **Escalate** (reason required): an approver, or anyone whose role may decide the kind,
  hands an open recommendation to the escalation roles; `escalate_overdue` does it when
  the SLA passes. Once escalated, one person of an escalation role decides alone.
- **Comment** (text required): anyone who sees the plant; changes no state.
- **Four eyes**: whoever submitted a proposal (its evidence names `submitted_by`, as a
  submitted scenario plan's does: governance.scenarios) may not approve or override it, not
  even once it is escalated to a role they hold; someone else must.
- Every state change bumps `recommendation.version` with a guarded UPDATE (`WHERE version =
  the version the user saw`) as the transaction's first statement, then writes the decision,
  the outbox row and the audit row, all in one transaction. A stale page or a double click
  finds another version and is refused with who changed it; the unique (rec_id, rec_version)
  of `decision` and (rec_id) of `outbox` are the database's backstop.
- Every refusal (scope, permission, state, stale, missing reason or value) is audited as
  `decision_refused` in its own transaction; nothing of the refused change is written.

Importable without Streamlit.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from data_access.decisions import OPEN_STATES, approval_round, missing_approvals
from data_access.frames import as_utc
from data_access.json_values import json_ready
from data_access.schema import decision, outbox, recommendation, supplier
from governance import audit, policies
from governance import roles as roles_mod

SYSTEM = "system"
"""Actor of automatic steps (auto-approval, SLA escalation, expiry)."""
ACTIONS = ("approve", "reject", "override", "comment", "escalate")
REASON_REQUIRED = ("reject", "override", "escalate", "comment")
MAX_REASON_CHARS = 2000
FINAL_STATES = ("approved", "rejected", "overridden", "expired")
PAST = {
    "approve": "approved",
    "reject": "rejected",
    "override": "overrode",
    "comment": "commented on",
    "escalate": "escalated",
    "expire": "expired",
}

OUTBOX_TARGETS = {
    "maintenance": ("cmms", "work_order_request"),
    "shortage": ("erp", "purchase_requisition"),
    "quality": ("mes", "quality_hold_request"),
    "schedule": ("mes", "reschedule_request"),
    "scenario": ("erp", "plan_change_request"),
}
"""kind -> (target system, request type) of the outbox row an approved recommendation writes."""


_GUARDED = (
    update(recommendation)
    .where(
        recommendation.c.rec_id == bindparam("b_rec_id"),
        recommendation.c.version == bindparam("b_version"),
        recommendation.c.state == bindparam("b_state"),
    )
    .values(version=bindparam("b_new_version"), state=bindparam("b_new_state"), decided_utc=bindparam("b_decided_utc"))
)
_INSERT_DECISION = decision.insert()
_INSERT_OUTBOX = outbox.insert()


def _guarded_change(
    conn: Connection, rec_id: int, version: int, state: str, new_state: str, decided_utc: datetime | None
) -> bool:
    """Move a recommendation from (version, state) to (version + 1, new_state); False if it moved on."""
    result = conn.execute(
        _GUARDED,
        {
            "b_rec_id": rec_id,
            "b_version": version,
            "b_state": state,
            "b_new_version": version + 1,
            "b_new_state": new_state,
            "b_decided_utc": decided_utc,
        },
    )
    return result.rowcount == 1


def _record(conn: Connection, **row) -> None:
    conn.execute(_INSERT_DECISION, {"reason": None, "override_value": None, **row})


class Refused(Exception):
    """A decision was refused; `str()` is the message for the user, `code` the reason's class:
    scope, permission, state, stale, duplicate, reason, value."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Outcome:
    rec_id: int
    action: str
    state: str
    version: int
    message: str
    outbox_id: int | None = None
    follow_up_rec_id: int | None = None


# --- override values ---------------------------------------------------------------------------


def _positive(name, raw, upper=None):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise Refused(f"{name} must be a number, not {raw!r}.", "value") from None
    if not math.isfinite(value) or value <= 0 or (upper is not None and value > upper):
        limit = f" and at most {upper:g}" if upper is not None else ""
        raise Refused(f"{name} must be above 0{limit}, not {raw!r}.", "value")
    return value


def _timestamp(name, raw):
    if isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = datetime.fromisoformat(str(raw).strip())
        except ValueError:
            raise Refused(
                f"{name} must be a date and time like 2026-07-03T06:00 (UTC unless an offset is given), not {raw!r}.",
                "value",
            ) from None
    return as_utc(value).isoformat()


def _day(name, raw):
    try:
        return (raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())).isoformat()
    except ValueError:
        raise Refused(f"{name} must be a day like 2026-07-10, not {raw!r}.", "value") from None


def _choice(*choices):
    def parse(name, raw):
        if raw not in choices:
            raise Refused(f"{name} must be one of {', '.join(choices)}, not {raw!r}.", "value")
        return raw

    return parse


def _text(name, raw):
    value = str(raw).strip()
    if not value or len(value) > 64:
        raise Refused(f"{name} must be an id of 1 to 64 characters.", "value")
    return value


OVERRIDE_FIELDS = {
    "maintenance": {
        "requested_start_utc": (_timestamp, "start of the repair (UTC)"),
        "repair_hours": (lambda n, r: _positive(n, r, 720), "hours the repair takes"),
    },
    "shortage": {
        "qty": (_positive, "quantity to buy"),
        "supplier_id": (_text, "supplier to buy from"),
        "need_by_day": (_day, "day the material is needed"),
    },
    "quality": {
        "disposition": (_choice("hold", "inspect", "release"), "hold, inspect or release the lots"),
    },
    "schedule": {
        "not_before_utc": (_timestamp, "orders start no earlier than (UTC)"),
    },
    "scenario": {
        "safety_stock_multiplier": (lambda n, r: _positive(n, r, 5), "safety stock as a multiple of today's"),
        "overtime_hours_per_day": (lambda n, r: _positive(n, r, 12), "overtime allowed per line and day (h)"),
    },
}
"""kind -> field -> (parser, description): what an override may change in the proposed action."""


def parse_override(kind: str, value) -> dict:
    """The override value normalized, or Refused naming the fields an override may change."""
    fields = OVERRIDE_FIELDS.get(kind, {})
    if not isinstance(value, dict) or not value:
        raise Refused(f"An override needs the overriding value: one of {', '.join(fields)}.", "value")
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise Refused(
            f"{unknown[0]!r} cannot be overridden on a {kind} recommendation; it may change: {', '.join(fields)}.",
            "value",
        )
    return {k: fields[k][0](k, raw) for k, raw in value.items()}


# --- the recommendation as the workflow sees it -------------------------------------------------


@dataclass
class View:
    """A recommendation and its decisions, read before a decision is written."""

    rec_id: int
    plant_id: str
    kind: str
    subject_id: str
    title: str
    state: str
    version: int
    estimated_cost: float | None
    evidence: dict
    routing: dict
    created_utc: datetime
    expires_utc: datetime | None = None
    decisions: list = field(default_factory=list)  # dict rows, oldest first

    def round(self) -> list[dict]:
        """Approvals and overrides of the current round (since the latest override)."""
        return approval_round(self.decisions)

    def missing(self, signed: list[dict] | None = None) -> list[str]:
        """Approver roles not yet signed for in the current round (a multiset)."""
        return missing_approvals(self.routing.get("approvers", []), self.round() if signed is None else signed)

    def last_change(self) -> dict | None:
        changes = [d for d in self.decisions if d["rec_version"] is not None]
        return changes[-1] if changes else None


def load(conn: Connection, rec_id: int, policy_fallback: bool = True) -> View | None:
    """The recommendation `rec_id` with its decisions, whatever the plant (callers check scope)."""
    r = conn.execute(select(recommendation).where(recommendation.c.rec_id == rec_id)).mappings().first()
    if r is None:
        return None
    rows = (
        conn.execute(select(decision).where(decision.c.rec_id == rec_id).order_by(decision.c.decision_id))
        .mappings()
        .all()
    )
    routing = r["routing"]
    if not routing and policy_fallback:  # raised outside the orchestrator: today's policy routes it
        routing = policies.effective(conn, r["plant_id"]).routing(r["kind"], r["estimated_cost"])
    return View(
        rec_id=r["rec_id"],
        plant_id=r["plant_id"],
        kind=r["kind"],
        subject_id=r["subject_id"],
        title=r["title"],
        state=r["state"],
        version=r["version"],
        estimated_cost=r["estimated_cost"],
        evidence=r["evidence"] or {},
        routing=routing or {},
        created_utc=as_utc(r["created_utc"]),
        expires_utc=as_utc(r["expires_utc"]),
        decisions=[dict(d) for d in rows],
    )


def _role_names(role_list) -> str:
    names = [roles_mod.ROLES.get(r, r) for r in role_list]
    return " + ".join(names) if names else "nobody"


def _qualifies(role: str, kind: str) -> bool:
    return any(roles_mod.can([role], p) for p in policies.KIND_PERMISSIONS.get(kind, ()))


def _escalation_role(user, view: View) -> str | None:
    if view.state != "escalated":
        return None
    for role in user.roles:
        if role in view.routing.get("escalate_to", []) and any(
            roles_mod.can([role], p) for p in policies.ESCALATION_PERMISSIONS
        ):
            return role
    return None


def check(user, view: View, action: str) -> str:
    """The role `user` acts as for `action` on `view`, or Refused saying why not (pure: no I/O)."""
    if view is None or not user.scope.allows(view.plant_id):
        raise Refused("That recommendation does not exist or is outside your plant scope.", "scope")
    if action not in ACTIONS:
        raise Refused(f"Unknown action {action!r}; one of: {', '.join(ACTIONS)}.", "value")
    if action == "comment":
        if not user.can("view"):
            raise Refused("Your roles may not comment.", "permission")
        return user.roles[0]
    if view.state in FINAL_STATES:
        last = view.last_change()
        by = f" by {last['username']} at {as_utc(last['decided_utc']):%Y-%m-%d %H:%M} UTC" if last else ""
        raise Refused(f"Recommendation #{view.rec_id} is already {view.state}{by}; nothing was changed.", "state")
    if action in ("approve", "override") and view.evidence.get("submitted_by") == user.username:
        raise Refused(
            f"You submitted recommendation #{view.rec_id} yourself, so you may not {action} it "
            "(four-eyes rule): another approver must.",
            "permission",
        )
    approvers = view.routing.get("approvers", [])
    mine = [r for r in user.roles if r in approvers and _qualifies(r, view.kind)]
    escalation = _escalation_role(user, view)
    who = f"the policy routes this {view.kind} recommendation to {_role_names(dict.fromkeys(approvers))}" + (
        f", and once escalated to {_role_names(view.routing.get('escalate_to', []))}"
        if view.routing.get("escalate_to")
        else ""
    )
    yours = _role_names(user.roles)
    if action == "escalate":
        if view.state == "escalated":
            raise Refused(f"Recommendation #{view.rec_id} is already escalated.", "state")
        if mine:
            return mine[0]
        deciding = [r for r in user.roles if _qualifies(r, view.kind)]
        if deciding:
            return deciding[0]
        raise Refused(f"Your role ({yours}) may not escalate it: {who}.", "permission")
    if escalation:
        return escalation
    if not mine:
        raise Refused(f"Your role ({yours}) may not {action} recommendation #{view.rec_id}: {who}.", "permission")
    if action in ("reject", "override"):
        return mine[0]
    signed = view.round()
    if any(d["username"] == user.username for d in signed):
        raise Refused(
            f"You already approved recommendation #{view.rec_id}; it still needs "
            f"{_role_names(view.missing())} from someone else.",
            "duplicate",
        )
    missing = view.missing()
    for role in mine:
        if role in missing:
            return role
    raise Refused(
        f"The {_role_names(mine)} approval of recommendation #{view.rec_id} is already in; it "
        f"still needs {_role_names(missing)}.",
        "duplicate",
    )


def allowed_actions(user, view: View) -> dict[str, str | None]:
    """action -> None when `user` may take it now, else the reason why not (for the page)."""
    out = {}
    for action in ACTIONS:
        try:
            check(user, view, action)
            out[action] = None
        except Refused as exc:
            out[action] = str(exc)
    return out


# --- deciding --------------------------------------------------------------------------------


def _clean_text(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused("The reason must be text.", "reason")
    value = value.strip()
    if len(value) > MAX_REASON_CHARS:
        raise Refused(f"The reason is longer than {MAX_REASON_CHARS} characters.", "reason")
    return value or None


def _as_int(name, value) -> int:
    if isinstance(value, bool):
        raise Refused(f"{name} must be a whole number.", "value")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise Refused(f"{name} must be a whole number, not {str(value)[:40]!r}.", "value") from None
    if not -(2**31) < number < 2**31:
        raise Refused(f"{name} is out of range.", "value")
    return number


def _refusal(engine: Engine, user, rec_id, plant_id, action, exc: Refused, detail: dict) -> Refused:
    """Audit a refused attempt in its own transaction and hand the exception back to raise."""
    with engine.begin() as conn:
        audit.append(
            conn,
            user.username,
            "decision_refused",
            plant_id=plant_id,
            entity="recommendation",
            entity_id=str(rec_id)[:64] if rec_id is not None else None,
            detail={"attempted": str(action)[:32], "code": exc.code, "refusal": str(exc), **detail},
        )
    return exc


def decide(
    engine: Engine,
    user,
    rec_id,
    action: str,
    *,
    version=None,
    reason: str | None = None,
    override_value: dict | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Take `action` on recommendation `rec_id` as seen at `version` (required except for comments).

    Returns the Outcome; raises Refused (already audited) with a message for the user.
    """
    now = as_utc(now) or datetime.now(timezone.utc)
    attempt = {
        "version_seen": version if isinstance(version, int) else str(version)[:40],
        "reason": reason[:500] if isinstance(reason, str) else None,
    }
    plant_id, raw_id = None, rec_id
    try:
        rec_id = _as_int("The recommendation id", rec_id)
        with engine.connect() as conn:
            view = load(conn, rec_id)
        plant_id = view.plant_id if view is not None else None  # an out-of-scope attempt is audited at its plant
        if view is None or not user.scope.allows(view.plant_id):
            raise Refused("That recommendation does not exist or is outside your plant scope.", "scope")
        if action not in ACTIONS:
            raise Refused(f"Unknown action {str(action)[:32]!r}; one of: {', '.join(ACTIONS)}.", "value")
        if action != "comment":
            if version is None:
                raise Refused("The page did not say which version of the recommendation you saw; reload it.", "stale")
            version = _as_int("The version", version)
            if version != view.version:
                raise _stale(view, version, user, action)
        role = check(user, view, action)
        if action != "comment" and view.expires_utc is not None and now > view.expires_utc:
            raise Refused(
                f"Recommendation #{view.rec_id} expired at {view.expires_utc:%Y-%m-%d %H:%M} UTC "
                "without a decision; nothing was changed.",
                "state",
            )
        reason = _clean_text(reason)
        if action in REASON_REQUIRED and not reason:
            what = "comment" if action == "comment" else "reason"
            raise Refused(f"A {what} is required to {action} a recommendation.", "reason")
        value = None
        if action == "override":
            value = parse_override(view.kind, override_value)
            if "supplier_id" in value:
                with engine.connect() as conn:
                    if (
                        conn.execute(
                            select(supplier.c.supplier_id).where(supplier.c.supplier_id == value["supplier_id"])
                        ).first()
                        is None
                    ):
                        raise Refused(f"There is no supplier {value['supplier_id']!r}.", "value")
        return _write(engine, user, view, action, role, version, reason, value, now)
    except Refused as exc:
        if exc.code == "stale" and str(exc) == _RACE:  # lost a race in the write: name the winner
            with engine.connect() as conn:
                exc = _stale(load(conn, rec_id), version, user, action)
        raise _refusal(
            engine, user, rec_id if isinstance(rec_id, int) else raw_id, plant_id, action, exc, attempt
        ) from None


_RACE = "changed while being written"


def _stale(view: View, seen, user, action) -> Refused:
    """Why the version the user saw is not the current one, as a clear message."""
    taken = [
        d for d in view.decisions if d["rec_version"] is not None and isinstance(seen, int) and d["rec_version"] >= seen
    ]
    if taken:
        first = taken[0]
        when = f"{as_utc(first['decided_utc']):%Y-%m-%d %H:%M:%S} UTC"
        if first["username"] == user.username and first["action"] == action:
            return Refused(
                f"You already {PAST[action]} recommendation #{view.rec_id} at {when} (a double "
                "click?); nothing more was recorded.",
                "duplicate",
            )
        return Refused(
            f"Recommendation #{view.rec_id} changed since you opened it: {first['username']} "
            f"{PAST.get(first['action'], first['action'])} it at {when}; it is now {view.state}. "
            "Reload it and decide again; nothing was recorded.",
            "stale",
        )
    return Refused(
        f"Recommendation #{view.rec_id} changed since you opened it (version {seen} seen, "
        f"{view.version} now). Reload it and decide again; nothing was recorded.",
        "stale",
    )


def _write(engine, user, view: View, action, role, version, reason, value, now) -> Outcome:
    new_state, final, signed = view.state, False, None
    escalation_decides = view.state == "escalated" and role in view.routing.get("escalate_to", [])
    if action == "reject":
        new_state, final = "rejected", True
    elif action == "escalate":
        new_state = "escalated"
    elif action in ("approve", "override"):
        me = {"username": user.username, "role": role, "action": action, "override_value": value, "reason": reason}
        signed = [me] if action == "override" else view.round() + [me]
        if escalation_decides or not view.missing(signed):
            final = True
            overridden = any(d["action"] == "override" for d in signed)
            new_state = "overridden" if overridden else "approved"
    outbox_id = follow_up = None
    try:
        with engine.begin() as conn:
            if action != "comment":
                if not _guarded_change(conn, view.rec_id, version, view.state, new_state, now if final else None):
                    raise Refused(_RACE, "stale")
            _record(
                conn,
                rec_id=view.rec_id,
                username=user.username,
                role=role,
                action=action,
                reason=reason,
                override_value=value,
                decided_utc=now,
                rec_version=None if action == "comment" else version,
            )
            if final and new_state in ("approved", "overridden"):
                outbox_id, follow_up = _release(conn, view, signed, now)
            detail = {
                "kind": view.kind,
                "subject_id": view.subject_id,
                "role": role,
                "reason": reason,
                "from_state": view.state,
                "to_state": new_state,
                "version": None if action == "comment" else version + 1,
            }
            if value is not None:
                detail["override_value"] = value
            if action in ("approve", "override") and not final:
                detail["still_needed"] = view.missing(signed)
            if outbox_id is not None:
                detail["outbox_id"] = outbox_id
            if follow_up is not None:
                detail["follow_up_rec_id"] = follow_up
            audit.append(
                conn,
                user.username,
                f"recommendation_{action}",
                plant_id=view.plant_id,
                entity="recommendation",
                entity_id=view.rec_id,
                detail=detail,
            )
    except IntegrityError:
        raise Refused(_RACE, "stale") from None
    return Outcome(
        view.rec_id,
        action,
        new_state,
        view.version if action == "comment" else version + 1,
        _message(view, action, new_state, final, signed, outbox_id, follow_up),
        outbox_id,
        follow_up,
    )


def _message(view, action, state, final, signed, outbox_id, follow_up) -> str:
    n = f"#{view.rec_id}"
    if action == "comment":
        return f"Comment added to {n}."
    if action == "reject":
        return f"Rejected {n}. Nothing goes to the outbox."
    if action == "escalate":
        return f"Escalated {n} to {_role_names(view.routing.get('escalate_to', []))}."
    if not final:
        done = "Override recorded on" if action == "override" else "Approval recorded on"
        return f"{done} {n}; it still needs {_role_names(view.missing(signed))}."
    target, request = OUTBOX_TARGETS[view.kind]
    text = (
        f"{'Overridden' if state == 'overridden' else 'Approved'} {n}: the {request.replace('_', ' ')} "
        f"for the {target.upper()} is in the outbox (#{outbox_id})."
    )
    if follow_up is not None:
        text += f" Reschedule recommendation #{follow_up} was raised for the planners."
    return text


def _release(conn: Connection, view: View, signed: list[dict] | None, now: datetime) -> tuple[int, int | None]:
    """Write the outbox row of a finally approved recommendation (and a follow-up, see below).

    A maintenance recommendation whose repair window holds production orders raises a
    `schedule` recommendation for them (routed by the plant policy), in the same transaction.
    """
    target, request = OUTBOX_TARGETS[view.kind]
    action = dict(view.evidence.get("action") or {})
    overrides = [d for d in (signed or []) if d["action"] == "override"]
    payload = {
        "request_type": request,
        "target": target,
        "rec_id": view.rec_id,
        "plant_id": view.plant_id,
        "kind": view.kind,
        "subject_id": view.subject_id,
        "title": view.title,
        "estimated_cost": view.estimated_cost,
        **action,
        "approved_by": [{"username": d["username"], "role": d["role"]} for d in (signed or [])],
        "decided_utc": now.isoformat(),
    }
    if overrides:
        last = overrides[-1]
        payload.update(last["override_value"] or {})
        payload["override"] = {"by": last["username"], "reason": last["reason"], "fields": last["override_value"]}
    result = conn.execute(
        _INSERT_OUTBOX,
        {
            "rec_id": view.rec_id,
            "plant_id": view.plant_id,
            "target": target,
            "request_type": request,
            "payload": json_ready(payload, strict=False),
            "created_utc": now,
        },
    )
    outbox_id = result.inserted_primary_key[0]
    follow_up = None
    orders = view.evidence.get("schedule_impact") or []
    if view.kind == "maintenance" and orders:
        start = as_utc(datetime.fromisoformat(payload.get("requested_start_utc") or now.isoformat()))
        hours = float(payload.get("repair_hours") or 1.0)
        not_before = (start + timedelta(hours=hours)).isoformat()
        policy = policies.effective(conn, view.plant_id)
        line_name = view.evidence.get("line_name") or view.evidence.get("line_id")
        follow_up = insert_recommendation(
            conn,
            policy,
            now,
            plant_id=view.plant_id,
            kind="schedule",
            subject_id=view.evidence.get("line_id"),
            signal_key=f"schedule:after-rec-{view.rec_id}",
            source="workflow",
            risk=None,
            estimated_cost=None,
            title=(
                f"Reschedule {len(orders)} order(s) on {line_name} around the repair of "
                f"{view.evidence.get('asset_name') or view.subject_id}"
            ),
            evidence={
                "rule": "repair_window",
                "parent_rec_id": view.rec_id,
                "line_id": view.evidence.get("line_id"),
                "line_name": line_name,
                "repair_start_utc": start.isoformat(),
                "repair_hours": hours,
                "schedule_impact": orders,
                "action": {
                    "line_id": view.evidence.get("line_id"),
                    "not_before_utc": not_before,
                    "orders": [o.get("order_id") for o in orders],
                },
            },
        )
        if follow_up is not None:
            audit.append(
                conn,
                SYSTEM,
                "recommendation_created",
                plant_id=view.plant_id,
                entity="recommendation",
                entity_id=follow_up,
                detail={"kind": "schedule", "parent_rec_id": view.rec_id, "orders": len(orders), "source": "workflow"},
            )
    return outbox_id, follow_up


def insert_recommendation(
    conn: Connection,
    policy: policies.Policy,
    now: datetime,
    *,
    plant_id: str,
    kind: str,
    subject_id: str,
    signal_key: str,
    title: str,
    risk,
    estimated_cost,
    evidence: dict,
    source: str,
) -> int | None:
    """Insert an open recommendation routed by `policy`; None when its signal_key exists already."""
    if conn.execute(select(recommendation.c.rec_id).where(recommendation.c.signal_key == signal_key)).first():
        return None
    routing = policy.routing(kind, estimated_cost)
    result = conn.execute(
        recommendation.insert(),
        dict(
            plant_id=plant_id,
            kind=kind,
            subject_id=subject_id,
            signal_key=signal_key[:128],
            title=title[:200],
            risk=None if risk is None else float(risk),
            estimated_cost=None if estimated_cost is None else round(float(estimated_cost), 2),
            evidence=json_ready(evidence, strict=False),
            state="open",
            version=1,
            created_utc=now,
            decided_utc=None,
            expires_utc=now + timedelta(hours=routing["expiry_hours"]),
            sla_due_utc=now + timedelta(hours=routing["sla_hours"]),
            source=source,
            routing=routing,
        ),
    )
    return result.inserted_primary_key[0]


def auto_approve(conn: Connection, rec_id: int, now: datetime, reason: str) -> int:
    """Approve a just-inserted recommendation as the system (policy automation); returns the outbox id.
    The caller appends the audit rows after this, in the same transaction."""
    if not _guarded_change(conn, rec_id, 1, "open", "approved", now):
        raise RuntimeError(f"recommendation {rec_id} changed before its auto-approval")
    _record(
        conn,
        rec_id=rec_id,
        username=SYSTEM,
        role=SYSTEM,
        action="approve",
        reason=reason,
        decided_utc=now,
        rec_version=1,
    )
    view = load(conn, rec_id)
    view.state = "approved"
    outbox_id, _ = _release(
        conn,
        view,
        [{"username": SYSTEM, "role": SYSTEM, "action": "approve", "override_value": None, "reason": reason}],
        now,
    )
    return outbox_id


# --- automatic steps: SLA escalation and expiry -------------------------------------------------


def escalate_overdue(engine: Engine, now: datetime | None = None) -> list[int]:
    """Escalate every open recommendation whose SLA has passed; returns their ids.

    Each escalation is its own transaction (guarded by the version like a user's decision,
    so a decision taken at the same moment wins and the escalation is skipped), with a
    decision row by `system` and an audit row `recommendation_escalated` (automatic: true).
    """
    now = as_utc(now) or datetime.now(timezone.utc)
    r = recommendation.c
    with engine.connect() as conn:
        due = (
            conn.execute(
                select(r.rec_id, r.version, r.plant_id, r.kind, r.routing, r.sla_due_utc)
                .where(r.state == "open", r.sla_due_utc.is_not(None), r.sla_due_utc <= now)
                .order_by(r.sla_due_utc, r.rec_id)
            )
            .mappings()
            .all()
        )
    done = []
    for row in due:
        routing = row["routing"] or {}
        targets = routing.get("escalate_to", [])
        reason = (
            f"SLA of {routing.get('sla_hours', 0):g} h passed at {as_utc(row['sla_due_utc']):%Y-%m-%d %H:%M} "
            f"UTC without a decision; escalated to {_role_names(targets)}."
        )
        with engine.begin() as conn:
            if not _guarded_change(conn, row["rec_id"], row["version"], "open", "escalated", None):
                continue
            _record(
                conn,
                rec_id=row["rec_id"],
                username=SYSTEM,
                role=SYSTEM,
                action="escalate",
                reason=reason,
                decided_utc=now,
                rec_version=row["version"],
            )
            audit.append(
                conn,
                SYSTEM,
                "recommendation_escalated",
                plant_id=row["plant_id"],
                entity="recommendation",
                entity_id=row["rec_id"],
                detail={
                    "kind": row["kind"],
                    "automatic": True,
                    "escalate_to": targets,
                    "sla_due_utc": as_utc(row["sla_due_utc"]).isoformat(),
                    "reason": reason,
                    "version": row["version"] + 1,
                },
            )
        done.append(row["rec_id"])
    return done


def expire_overdue(engine: Engine, now: datetime | None = None) -> list[int]:
    """Expire every open or escalated recommendation past its expiry; returns their ids."""
    now = as_utc(now) or datetime.now(timezone.utc)
    r = recommendation.c
    with engine.connect() as conn:
        due = (
            conn.execute(
                select(r.rec_id, r.version, r.plant_id, r.kind, r.state, r.expires_utc)
                .where(r.state.in_(OPEN_STATES), r.expires_utc.is_not(None), r.expires_utc <= now)
                .order_by(r.expires_utc, r.rec_id)
            )
            .mappings()
            .all()
        )
    done = []
    for row in due:
        reason = f"Nobody decided before it expired at {as_utc(row['expires_utc']):%Y-%m-%d %H:%M} UTC."
        with engine.begin() as conn:
            if not _guarded_change(conn, row["rec_id"], row["version"], row["state"], "expired", None):
                continue
            _record(
                conn,
                rec_id=row["rec_id"],
                username=SYSTEM,
                role=SYSTEM,
                action="expire",
                reason=reason,
                decided_utc=now,
                rec_version=row["version"],
            )
            audit.append(
                conn,
                SYSTEM,
                "recommendation_expired",
                plant_id=row["plant_id"],
                entity="recommendation",
                entity_id=row["rec_id"],
                detail={
                    "kind": row["kind"],
                    "from_state": row["state"],
                    "reason": reason,
                    "version": row["version"] + 1,
                },
            )
        done.append(row["rec_id"])
    return done


# --- outbox export and login failures ----------------------------------------------------------


def outbox_json(frame) -> bytes:
    """The outbox rows of a DataFrame (data_access.decisions.outbox_rows) as a JSON array for the
    integration layer: one object per request, payload nested, timestamps ISO 8601 UTC."""
    records = []
    for row in frame.to_dict("records"):
        records.append({k: (_iso(v) if k.endswith("_utc") else v) for k, v in row.items()})
    return json.dumps(json_ready(records, strict=False), ensure_ascii=False, indent=2).encode("utf-8")


def _iso(value):
    value = as_utc(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else None
    return value.isoformat() if value is not None else None
