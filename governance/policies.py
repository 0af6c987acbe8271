"""Plant policies, hub and spoke: enterprise defaults with plant-local overrides.

A policy is a set of keys (`SPECS`), each with a JSON value stored in `plant_policy`: a row
with `plant_id` NULL is the enterprise default, a row with a plant id is that plant's local
override. A plant's effective value is its own row, else the enterprise row, else the
built-in default below (so a key added in a later release works before anyone stores it).
`seed_enterprise_defaults` writes the built-in defaults as enterprise rows once.

What a policy decides, per recommendation kind (maintenance, shortage, quality, schedule, and
scenario: a scenario plan submitted for approval, governance.scenarios):
- `risk_threshold.<kind>`: the risk score from which a signal raises a recommendation;
- `approval_bands.<kind>`: cost bands, each naming the roles whose approvals are ALL
  required (a role listed twice needs two different people);
- `auto_approve_max_cost.<kind>`: up to which estimated cost the system approves on its own,
  when `automation_level` is "assisted" (null: never);
- `sla_hours.<kind>` and `escalate_to.<kind>`: after how long an undecided recommendation
  escalates, and to which roles; `expiry_hours.<kind>`: when it expires undecided;
- `feed_grace_hours`: how many hours past its expected cadence a feed may be late before it
  counts as stale (governance.model_serving.feed_limits): the plant's model scores then fall back
  to the rules, and its signals follow `stale_feed_rule`;
- `stale_feed_rule`: what a signal computed from a stale feed may do ("hold": raise
  nothing; "manual_only": raise it flagged, never auto-approve; "use": as usual);
- `model_fallback`: "rules" uses the fallback rules where no model scores a subject,
  "none" raises recommendations from model scores only;
- `drift_psi_limit`, `accuracy_margin`: when a served model's input drift (PSI) or its recent
  accuracy against its baseline passes them, the plant's model is held (governance.model_serving
  .hold_degraded): served by the fallback until an admin releases the hold;
- `labour_rate_per_hour`, `repair_window_hours`: inputs of the maintenance cost estimate
  and of the schedule impact.

Changes go through `set_value` / `reset_value`: only a user with the `edit_policy`
permission, a valid value, and a result that is consistent for every plant it affects
(`contradictions`); the change and its audit row are one transaction, a refused change is
audited too. Costs are in the enterprise reference currency of `material.unit_cost`.
Importable without Streamlit.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection, Engine

from data_access.schema import plant, plant_policy
from governance import audit
from governance import roles as roles_mod

KINDS = ("maintenance", "shortage", "quality", "schedule", "scenario")
SIGNAL_KINDS = ("maintenance", "shortage", "quality")  # kinds raised from risk signals
AUTOMATION_LEVELS = ("manual", "assisted")
STALE_FEED_RULES = ("hold", "manual_only", "use")
MODEL_FALLBACKS = ("rules", "none")

KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "maintenance": ("decide", "approve_maintenance"),
    # A purchase above the plant's limit needs the executive as second approver (issue 14).
    "shortage": ("decide", "decide_escalated"),
    "quality": ("decide",),
    "schedule": ("decide", "override_schedule"),
    # A scenario plan above the plant's own limit needs the executive too (a plan may move
    # money and capacity across plants), so executives may approve plans named in a band.
    "scenario": ("decide", "decide_escalated"),
}
"""The permissions (governance.roles) that let a role approve a recommendation of a kind."""
ESCALATION_PERMISSIONS = ("decide_escalated", "decide")
"""A role may be an escalation target if it holds one of these."""


class PolicyError(ValueError):
    """A policy change was refused; the message says why (shown to the user as is)."""


@dataclass(frozen=True)
class Spec:
    kind: str  # threshold | bands | cost_or_null | hours | roles | choice | number
    default: Any
    description: str
    choices: tuple = ()


def _bands(*bands):
    return [{"max_cost": cost, "roles": list(roles)} for cost, roles in bands]


SPECS: dict[str, Spec] = {}
_TEXT = {
    "maintenance": "maintenance recommendations",
    "shortage": "shortage recommendations",
    "quality": "quality exceptions",
    "schedule": "reschedule recommendations",
    "scenario": "scenario plans",
}
for _kind, _threshold in (("maintenance", 0.5), ("shortage", 0.5), ("quality", 0.5)):
    SPECS[f"risk_threshold.{_kind}"] = Spec(
        "threshold", _threshold, f"Risk score (0-1) from which a signal raises {_TEXT[_kind]}."
    )
_DEFAULT_BANDS = {
    "maintenance": _bands((5000, ["maintenance_lead"]), (None, ["maintenance_lead", "plant_manager"])),
    "shortage": _bands((50000, ["plant_manager"]), (None, ["plant_manager", "executive"])),
    "quality": _bands(
        (None, ["plant_manager"]),
    ),
    "schedule": _bands(
        (None, ["planner"]),
    ),
    "scenario": _bands((50000, ["plant_manager"]), (None, ["plant_manager", "executive"])),
}
_DEFAULT_SLA = {"maintenance": 24, "shortage": 24, "quality": 12, "schedule": 12, "scenario": 48}
_DEFAULT_EXPIRY = {"maintenance": 168, "shortage": 168, "quality": 72, "schedule": 72, "scenario": 336}
_DEFAULT_ESCALATION = {
    "maintenance": ["plant_manager", "executive"],
    "shortage": ["executive"],
    "quality": ["executive"],
    "schedule": ["plant_manager"],
    "scenario": ["executive"],
}
for _kind in KINDS:
    SPECS[f"approval_bands.{_kind}"] = Spec(
        "bands",
        _DEFAULT_BANDS[_kind],
        f"Cost bands of {_TEXT[_kind]}: up to max_cost (null: no limit) ALL listed roles must approve.",
    )
    SPECS[f"auto_approve_max_cost.{_kind}"] = Spec(
        "cost_or_null",
        None,
        f"Estimated cost up to which {_TEXT[_kind]} are approved automatically "
        "when automation_level is 'assisted' (null: never).",
    )
    SPECS[f"sla_hours.{_kind}"] = Spec("hours", _DEFAULT_SLA[_kind], f"Hours before undecided {_TEXT[_kind]} escalate.")
    SPECS[f"escalate_to.{_kind}"] = Spec(
        "roles", _DEFAULT_ESCALATION[_kind], f"Roles that may decide {_TEXT[_kind]} once escalated."
    )
    SPECS[f"expiry_hours.{_kind}"] = Spec(
        "hours", _DEFAULT_EXPIRY[_kind], f"Hours after which undecided {_TEXT[_kind]} expire."
    )
SPECS.update(
    {
        "automation_level": Spec(
            "choice",
            "manual",
            "manual: people decide everything; assisted: the system approves what auto_approve_max_cost allows.",
            AUTOMATION_LEVELS,
        ),
        "feed_grace_hours": Spec(
            "hours",
            24,
            "Hours past a feed's expected cadence after which it is stale: "
            "the plant's models fall back to rules and its signals follow stale_feed_rule.",
        ),
        "stale_feed_rule": Spec(
            "choice",
            "manual_only",
            "When a signal's feed is stale: hold (raise nothing), "
            "manual_only (raise it flagged, never auto-approve), use (as usual).",
            STALE_FEED_RULES,
        ),
        "model_fallback": Spec(
            "choice",
            "rules",
            "Where no model scores a subject: rules (use the threshold fallback rules) or none (raise nothing).",
            MODEL_FALLBACKS,
        ),
        "drift_psi_limit": Spec(
            "number",
            0.25,
            "Population stability index of a model input above which the "
            "plant's model is held and served by the fallback until an admin releases it.",
        ),
        "accuracy_margin": Spec(
            "number",
            0.05,
            "How far (on the metric's 0-1 scale) a model's recent accuracy "
            "may fall below its baseline (live AUC under the tested AUC, live WAPE over the "
            "backtest WAPE) before the plant's model is held and served by the fallback.",
        ),
        "labour_rate_per_hour": Spec("number", 85.0, "Cost of one maintenance hour, for the cost estimate."),
        "repair_window_hours": Spec(
            "hours",
            72,
            "Hours from now in which a repair is planned; production "
            "orders on the line in this window are its schedule impact.",
        ),
    }
)


def default_values() -> dict[str, Any]:
    return {key: json.loads(json.dumps(spec.default)) for key, spec in SPECS.items()}


@dataclass(frozen=True)
class Policy:
    """A plant's effective policy (or the enterprise's, plant_id None) and where each value comes from."""

    plant_id: str | None
    values: dict[str, Any]
    origin: dict[str, str]  # key -> "plant" | "enterprise" | "built-in"

    def __getitem__(self, key: str):
        return self.values[key]

    @property
    def localized(self) -> tuple[str, ...]:
        return tuple(k for k, o in self.origin.items() if o == "plant")

    def threshold(self, kind: str) -> float:
        return float(self.values[f"risk_threshold.{kind}"])

    def band(self, kind: str, cost: float | None) -> tuple[int, dict]:
        """The cost band (index, band) a recommendation of `kind` and estimated `cost` falls in."""
        bands = self.values[f"approval_bands.{kind}"]
        cost = 0.0 if cost is None or (isinstance(cost, float) and math.isnan(cost)) else float(cost)
        for i, band in enumerate(bands):
            if band["max_cost"] is None or cost <= band["max_cost"]:
                return i, band
        return len(bands) - 1, bands[-1]  # unreachable on a valid policy (last band has no limit)

    def auto_approves(self, kind: str, cost: float | None) -> bool:
        limit = self.values[f"auto_approve_max_cost.{kind}"]
        return (
            self.values["automation_level"] == "assisted"
            and limit is not None
            and cost is not None
            and float(cost) <= float(limit)
        )

    def routing(self, kind: str, cost: float | None) -> dict:
        """Who must approve, who decides once escalated, and the clocks: frozen into a recommendation."""
        index, band = self.band(kind, cost)
        keys = [f"approval_bands.{kind}", f"escalate_to.{kind}", f"sla_hours.{kind}", f"expiry_hours.{kind}"]
        return {
            "approvers": list(band["roles"]),
            "band": index,
            "band_max_cost": band["max_cost"],
            "escalate_to": list(self.values[f"escalate_to.{kind}"]),
            "sla_hours": float(self.values[f"sla_hours.{kind}"]),
            "expiry_hours": float(self.values[f"expiry_hours.{kind}"]),
            "policy_origin": {k: self.origin[k] for k in keys},
        }


# --- reading ---------------------------------------------------------------------------------


def _stored(conn: Connection) -> dict[str | None, dict[str, Any]]:
    """plant_id (None: enterprise) -> {key: value} of every stored row."""
    out: dict[str | None, dict[str, Any]] = {}
    for row in conn.execute(select(plant_policy.c.plant_id, plant_policy.c.key, plant_policy.c.value)):
        out.setdefault(row.plant_id, {})[row.key] = row.value
    return out


def _merge(plant_id, stored) -> Policy:
    values, origin = default_values(), {k: "built-in" for k in SPECS}
    for layer, name in (
        (stored.get(None, {}), "enterprise"),
        (stored.get(plant_id, {}) if plant_id is not None else {}, "plant"),
    ):
        for key, value in layer.items():
            if key in SPECS:  # a retired key stays in the table but means nothing
                values[key], origin[key] = value, name
    return Policy(plant_id, values, origin)


def effective(conn_or_engine, plant_id: str | None) -> Policy:
    """The effective policy of a plant (None: the enterprise defaults)."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return effective(conn, plant_id)
    return _merge(plant_id, _stored(conn_or_engine))


def effective_all(conn_or_engine) -> dict[str, Policy]:
    """plant_id -> effective policy, for every plant in the warehouse."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return effective_all(conn)
    stored = _stored(conn_or_engine)
    plants = conn_or_engine.execute(select(plant.c.plant_id).order_by(plant.c.plant_id)).scalars().all()
    return {p: _merge(p, stored) for p in plants}


def labour_rates(conn_or_engine) -> dict[str, float]:
    """plant_id -> the effective labour_rate_per_hour (what the scenario planner costs hours at)."""
    return {p: float(policy["labour_rate_per_hour"]) for p, policy in effective_all(conn_or_engine).items()}


# --- validation --------------------------------------------------------------------------------


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_value(key: str, value) -> Any:
    """The value, normalized, or PolicyError saying what a valid value looks like."""
    spec = SPECS.get(key)
    if spec is None:
        raise PolicyError(f"unknown policy key {key!r}")
    kind = spec.kind
    if kind == "threshold":
        if not _number(value) or not 0 < value <= 1:
            raise PolicyError(f"{key} must be a number above 0 and at most 1, not {value!r}")
        return float(value)
    if kind in ("hours", "number"):
        if not _number(value) or value <= 0:
            raise PolicyError(f"{key} must be a positive number, not {value!r}")
        return float(value)
    if kind == "cost_or_null":
        if value is not None and (not _number(value) or value < 0):
            raise PolicyError(f"{key} must be null (never) or a cost of 0 or more, not {value!r}")
        return None if value is None else float(value)
    if kind == "choice":
        if value not in spec.choices:
            raise PolicyError(f"{key} must be one of {', '.join(spec.choices)}, not {value!r}")
        return value
    if kind == "roles":
        _check_roles(key, value)
        return list(value)
    if kind == "bands":
        return _check_bands(key, value)
    raise AssertionError(kind)


def _check_roles(key, value) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        raise PolicyError(f"{key} must be a non-empty list of role names")
    unknown = [r for r in value if r not in roles_mod.ROLES]
    if unknown:
        raise PolicyError(f"{key}: unknown role {unknown[0]!r} (known: {', '.join(roles_mod.ROLES)})")


def _check_bands(key, value) -> list:
    if not isinstance(value, list) or not value:
        raise PolicyError(
            f'{key} must be a non-empty list of bands like {{"max_cost": 5000, "roles": ["maintenance_lead"]}}'
        )
    out = []
    for i, band in enumerate(value, 1):
        if not isinstance(band, dict) or set(band) != {"max_cost", "roles"}:
            raise PolicyError(f"{key}: band {i} must have exactly max_cost and roles")
        cost = band["max_cost"]
        if cost is not None and (not _number(cost) or cost < 0):
            raise PolicyError(f"{key}: band {i} max_cost must be null or a cost of 0 or more")
        _check_roles(f"{key}: band {i} roles", band["roles"])
        out.append({"max_cost": None if cost is None else float(cost), "roles": list(band["roles"])})
    limits = [b["max_cost"] for b in out]
    if limits[-1] is not None:
        raise PolicyError(f"{key}: the last band must have max_cost null (no upper limit), so every cost has approvers")
    if None in limits[:-1]:
        raise PolicyError(f"{key}: only the last band may have no upper limit")
    finite = limits[:-1]
    if any(later <= earlier for earlier, later in zip(finite, finite[1:])):
        raise PolicyError(f"{key}: band limits must increase from band to band")
    return out


def contradictions(policy: Policy) -> list[str]:
    """What is inconsistent in an effective policy (empty when it is usable)."""
    problems = []
    v = policy.values
    for kind in KINDS:
        for i, band in enumerate(v[f"approval_bands.{kind}"], 1):
            for role in band["roles"]:
                if not any(roles_mod.can([role], p) for p in KIND_PERMISSIONS[kind]):
                    problems.append(
                        f"approval_bands.{kind} band {i} names {role!r}, a role that may not "
                        f"approve {_TEXT[kind]} (it needs one of: {', '.join(KIND_PERMISSIONS[kind])})"
                    )
        for role in v[f"escalate_to.{kind}"]:
            if not any(roles_mod.can([role], p) for p in ESCALATION_PERMISSIONS):
                problems.append(f"escalate_to.{kind} names {role!r}, a role that may not decide escalated items")
        if v[f"sla_hours.{kind}"] >= v[f"expiry_hours.{kind}"]:
            problems.append(
                f"sla_hours.{kind} ({v[f'sla_hours.{kind}']:g} h) must be shorter than "
                f"expiry_hours.{kind} ({v[f'expiry_hours.{kind}']:g} h), or it expires before "
                "it escalates"
            )
        auto = v[f"auto_approve_max_cost.{kind}"]
        first_limit = v[f"approval_bands.{kind}"][0]["max_cost"]
        if auto is not None and first_limit is not None and auto > first_limit:
            problems.append(
                f"auto_approve_max_cost.{kind} ({auto:g}) is above the first approval band's "
                f"limit ({first_limit:g}): the system would approve what needs several people"
            )
    return problems


# --- writing -------------------------------------------------------------------------------------

_PG_LOCK = text("SELECT pg_advisory_xact_lock(5786636600370086997)")
_SQLITE_LOCK = text("UPDATE plant_policy SET key = key WHERE 0 = 1")


def _lock(conn: Connection) -> None:
    """Serialize policy writers (an enterprise row has plant_id NULL, which no unique key guards)."""
    conn.execute(_PG_LOCK if conn.dialect.name == "postgresql" else _SQLITE_LOCK)


def _refuse(engine: Engine, user, plant_id, key, message: str, attempted) -> None:
    with engine.begin() as conn:
        audit.append(
            conn,
            user.username,
            "policy_change_refused",
            plant_id=plant_id,
            entity="plant_policy",
            entity_id=key if isinstance(key, str) else None,
            detail={"key": str(key)[:64], "attempted": _jsonable(attempted), "refusal": message},
        )
    raise PolicyError(message)


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)[:500]


def parse_text(key: str, raw: str) -> Any:
    """A value typed in a form (JSON, or a bare word for choices and 'null'), or PolicyError."""
    raw = (raw or "").strip()
    if not raw:
        raise PolicyError("type a value")
    try:
        return json.loads(raw)
    except ValueError:
        spec = SPECS.get(key)
        if spec is not None and spec.kind == "choice":
            return raw
        raise PolicyError(
            f'{key}: {raw!r} is not valid JSON (numbers as 0.6, lists as ["plant_manager"], no value as null)'
        ) from None


def set_value(
    engine: Engine, user, plant_id: str | None, key: str, value, reason: str, now: datetime | None = None
) -> Policy:
    """Store `value` for `key` at `plant_id` (None: the enterprise default); returns the new
    effective policy of that plant. Raises PolicyError (audited) when refused."""
    return _change(engine, user, plant_id, key, value, reason, now, reset=False)


def reset_value(engine: Engine, user, plant_id: str, key: str, reason: str, now: datetime | None = None) -> Policy:
    """Drop a plant's local value so it follows the enterprise default again."""
    return _change(engine, user, plant_id, key, None, reason, now, reset=True)


def _change(engine, user, plant_id, key, value, reason, now, reset) -> Policy:
    attempted = {"reset": True} if reset else {"value": value}
    if not user.can("edit_policy"):
        _refuse(engine, user, plant_id, key, "Only a user with the admin role may change plant policies.", attempted)
    if not isinstance(key, str) or key not in SPECS:
        _refuse(engine, user, plant_id, key, f"Unknown policy key {key!r}.", attempted)
    if plant_id is not None and not user.scope.allows(plant_id):
        _refuse(engine, user, plant_id, key, f"Plant {plant_id} is outside your plant scope.", attempted)
    if not isinstance(reason, str) or not reason.strip():
        _refuse(engine, user, plant_id, key, "A reason is required for every policy change.", attempted)
    if reset and plant_id is None:
        _refuse(engine, user, plant_id, key, "Enterprise defaults cannot be reset; set a new value instead.", attempted)
    try:
        value = None if reset else validate_value(key, value)
    except PolicyError as exc:
        _refuse(engine, user, plant_id, key, str(exc), attempted)
    now = now or datetime.now(timezone.utc)
    p = plant_policy.c
    try:
        with engine.begin() as conn:
            _lock(conn)
            if (
                plant_id is not None
                and conn.execute(select(plant.c.plant_id).where(plant.c.plant_id == plant_id)).first() is None
            ):
                raise PolicyError(f"There is no plant {plant_id!r}.")
            where = (p.plant_id.is_(None) if plant_id is None else p.plant_id == plant_id, p.key == key)
            old = conn.execute(select(p.value).where(*where)).first()
            stored = _stored(conn)
            layer = stored.setdefault(plant_id, {})
            if reset:
                if old is None:
                    raise PolicyError(
                        f"{plant_id} has no local value for {key}: it already follows the enterprise default."
                    )
                layer.pop(key)
            else:
                layer[key] = value
            affected = (
                [plant_id]
                if plant_id is not None
                else [None, *conn.execute(select(plant.c.plant_id).order_by(plant.c.plant_id)).scalars()]
            )
            for pid in affected:
                problems = contradictions(_merge(pid, stored))
                if problems:
                    where_txt = "the enterprise defaults" if pid is None else f"plant {pid}"
                    raise PolicyError(
                        f"Refused: this change would make {where_txt} contradictory: " + "; ".join(problems) + "."
                    )
            if reset:
                conn.execute(delete(plant_policy).where(*where))
            elif old is None:
                conn.execute(
                    plant_policy.insert().values(
                        plant_id=plant_id, key=key, value=value, updated_utc=now, updated_by=user.username
                    )
                )
            else:
                conn.execute(
                    update(plant_policy).where(*where).values(value=value, updated_utc=now, updated_by=user.username)
                )
            audit.append(
                conn,
                user.username,
                "policy_reset" if reset else "policy_set",
                plant_id=plant_id,
                entity="plant_policy",
                entity_id=key,
                detail={
                    "key": key,
                    "scope": plant_id or "enterprise",
                    "old": None if old is None else old.value,
                    "new": value,
                    "reason": reason.strip(),
                },
            )
    except PolicyError as exc:
        _refuse(engine, user, plant_id, key, str(exc), attempted)
    return effective(engine, plant_id)


def seed_enterprise_defaults(engine: Engine, actor: str = "system", now: datetime | None = None) -> list[str]:
    """Store the built-in default of every key that has no enterprise row yet; returns those keys."""
    now = now or datetime.now(timezone.utc)
    p = plant_policy.c
    with engine.begin() as conn:
        _lock(conn)
        have = set(conn.execute(select(p.key).where(p.plant_id.is_(None))).scalars())
        missing = {k: v for k, v in default_values().items() if k not in have}
        if not missing:
            return []
        conn.execute(
            plant_policy.insert(),
            [dict(plant_id=None, key=k, value=v, updated_utc=now, updated_by=actor) for k, v in missing.items()],
        )
        audit.append(
            conn, actor, "policy_seeded", entity="plant_policy", detail={"keys": sorted(missing), "values": missing}
        )
    return sorted(missing)
