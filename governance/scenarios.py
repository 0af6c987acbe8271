"""Saving what-if scenarios and submitting a scenario's plan for approval.

- `save`: a user with the `run_scenario` permission saves a scenario (levers, results, the
  data version it ran on) for plants all within their scope, as a `draft`. The row and its
  audit row (`scenario_saved`) are one transaction; a refusal (ScenarioRefused) writes nothing.
- `submit`: a user with the `propose` permission submits a draft scenario of their plants. For
  EACH plant it touches, one recommendation of kind `scenario` is raised (subject
  `scenario-<id>`), routed by that plant's policy (`approval_bands.scenario` etc.) on the
  plant's plan-spend change against the baseline (overtime, inventory holding, maintenance
  windows: what the plan commits, not the lost sales it avoids; a saving routes as 0; the signed
  change and the net cost change stay in
  the evidence). Its evidence carries the submitter (`submitted_by`: the four-eyes rule of
  governance.workflow keeps them from approving it), the note, the levers, the plant's
  summary against the baseline and the data version; its proposed action is the plan: the
  levers that touch that plant. The scenario becomes `submitted` (for good: a second
  submission is refused). Recommendations, state change and audit rows (`recommendation_created`
  per plant, then `scenario_submitted`) are one transaction; a refusal is audited as
  `scenario_refused` in its own transaction and writes nothing else.
- The recommendations are then decided like any other (governance.workflow.decide); the
  scenario's `decision_state` follows them (data_access.scenarios.decision_state).

The scenario engine is passed in as `planner` (forecasting.scenario: its Levers, ScenarioError,
check and compare): governance does not import forecasting; components and jobs compose them.
Importable without Streamlit.
"""

from datetime import datetime, timezone
from types import ModuleType

from data_access import scenarios as store
from data_access.frames import as_utc
from data_access.kpis import REFERENCE_CURRENCY
from data_access.scope import PlantScope
from governance import audit, policies, workflow

MAX_NAME_CHARS = 100
MAX_NOTE_CHARS = workflow.MAX_REASON_CHARS
MAX_DATA_VERSION_CHARS = 64


class ScenarioRefused(ValueError):
    """A scenario was not saved or not submitted; `str()` is the message for the user, `code`
    its class: permission, scope, value, reason, state."""

    def __init__(self, message: str, code: str = "value"):
        super().__init__(message)
        self.code = code


# --- saving --------------------------------------------------------------------------------------


def _plant_list(plant_ids) -> list[str]:
    if isinstance(plant_ids, str) or not isinstance(plant_ids, (list, tuple, set, frozenset)):
        raise ScenarioRefused("Choose the plants of the scenario (a list of plant ids).")
    out = list(dict.fromkeys(str(p).strip() for p in plant_ids if str(p).strip()))
    if not out:
        raise ScenarioRefused("Choose at least one plant for the scenario.")
    return out


def save(engine, planner: ModuleType, user, name, plant_ids, levers, results, data_version, now=None) -> int:
    """Save a draft scenario; returns its id. Raises ScenarioRefused (nothing written) when the
    user may not run scenarios, a plant is outside their scope or unknown, the name is blank or
    longer than 100 characters, or the levers or results are not storable."""
    now = as_utc(now) or datetime.now(timezone.utc)
    if not user.can("run_scenario"):
        raise ScenarioRefused("Your role may not save scenarios.", "permission")
    plants = _plant_list(plant_ids)
    outside = [p for p in plants if not user.scope.allows(p)]
    if outside:
        raise ScenarioRefused(
            f"Plant {outside[0]} is outside your plant scope; a scenario may only touch your plants.", "scope"
        )
    if not isinstance(name, str) or not name.strip():
        raise ScenarioRefused("Give the scenario a name.", "value")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise ScenarioRefused(f"The name is longer than {MAX_NAME_CHARS} characters.", "value")
    if not isinstance(levers, dict):
        raise ScenarioRefused("The scenario's levers are missing.", "value")
    try:
        parsed = planner.Levers.from_dict(levers)
    except planner.ScenarioError as exc:
        raise ScenarioRefused(str(exc), "value") from None
    levers = parsed.to_dict()
    if not isinstance(results, dict):
        raise ScenarioRefused("The scenario has no results: run it before saving it.", "value")
    if not isinstance(data_version, str) or not data_version.strip() or len(data_version) > MAX_DATA_VERSION_CHARS:
        raise ScenarioRefused(
            f"The scenario must name the data version it ran on (1 to {MAX_DATA_VERSION_CHARS} characters).", "value"
        )
    try:
        levers, results = store.json_ready(levers), store.json_ready(results)
    except (TypeError, ValueError) as exc:
        raise ScenarioRefused(f"The scenario cannot be stored: {exc}.", "value") from None
    with engine.connect() as conn:
        known = store.plan_context(conn, user.scope, plants)
    unknown = [p for p in plants if p not in known]
    if unknown:
        raise ScenarioRefused(f"There is no plant {unknown[0]!r}.", "value")
    if set(results.get("plants") or {}) != set(plants):
        raise ScenarioRefused(
            "The results are not those of the scenario's plants: run it again before saving.", "value"
        )
    try:  # levers only about these plants' lines and suppliers, in range
        planner.check(
            parsed,
            {line for c in known.values() for line in c["lines"]},
            {s for c in known.values() for s in c["suppliers"]},
        )
    except planner.ScenarioError as exc:
        raise ScenarioRefused(str(exc), "value") from None
    with engine.begin() as conn:
        scenario_id = store.save(
            conn,
            name=name,
            owner=user.username,
            plant_ids=plants,
            levers=levers,
            results=results,
            data_version=data_version.strip(),
            now=now,
        )
        audit.append(
            conn,
            user.username,
            "scenario_saved",
            plant_id=plants[0] if len(plants) == 1 else None,
            entity="scenario",
            entity_id=scenario_id,
            detail={
                "name": name,
                "plant_ids": plants,
                "levers": levers,
                "data_version": data_version.strip(),
                "summary": parsed.describe(),
            },
        )
    return scenario_id


def _entry(results: dict, plant_id: str) -> dict:
    entry = ((results or {}).get("plants") or {}).get(plant_id)
    return entry if isinstance(entry, dict) else {}


def metric_change(planner: ModuleType, results: dict, plant_id: str, metric: str) -> float | None:
    """summary.<metric>.mean - baseline.<metric>.mean of a plant (None when either is missing)."""
    return planner.compare(_entry(results, plant_id)).set_index("metric").loc[metric, "change"]


def summary_rows(planner: ModuleType, results: dict, plant_id: str) -> list[dict]:
    """A plant's scenario against its baseline, one row per metric: metric, baseline,
    scenario (means), change, scenario_p10, scenario_p90."""
    frame = planner.compare(_entry(results, plant_id))
    return frame[["metric", "baseline", "scenario", "change", "scenario_p10", "scenario_p90"]].to_dict("records")


# --- submitting ----------------------------------------------------------------------------------


def _refusal(engine, user, scenario_id, plant_id, exc: ScenarioRefused, detail: dict) -> ScenarioRefused:
    """Audit a refused submission in its own transaction and hand the exception back to raise."""
    with engine.begin() as conn:
        audit.append(
            conn,
            user.username,
            "scenario_refused",
            plant_id=plant_id,
            entity="scenario",
            entity_id=str(scenario_id)[:64] if scenario_id is not None else None,
            detail={"attempted": "submit", "code": exc.code, "refusal": str(exc), **detail},
        )
    return exc


def submit(engine, planner: ModuleType, user, scenario_id, note, now=None) -> list[int]:
    """Submit a draft scenario for approval: one recommendation per plant; returns their ids
    (in the order of the scenario's plants). Raises ScenarioRefused (audited as
    `scenario_refused`, nothing else written) when the user may not propose, the scenario does
    not exist or touches a plant outside their scope, it is not a draft any more, the note is
    blank, or its results lack a plant's cost against the baseline."""
    now = as_utc(now) or datetime.now(timezone.utc)
    attempt = {"note": note[:500] if isinstance(note, str) else None}
    plant_id, raw_id = None, scenario_id
    try:
        try:
            scenario_id = int(str(scenario_id).strip()) if not isinstance(scenario_id, int) else scenario_id
        except (TypeError, ValueError):
            raise ScenarioRefused("The scenario id must be a whole number.", "value") from None
        if isinstance(scenario_id, bool) or not -(2**31) < scenario_id < 2**31:
            raise ScenarioRefused("The scenario id is out of range.", "value")
        found = store.scenario(engine, PlantScope.everything(), scenario_id)  # its plants, to audit an attempt there
        if found is not None and len(found["plant_ids"]) == 1:
            plant_id = found["plant_ids"][0]
        if found is None or not all(user.scope.allows(p) for p in found["plant_ids"]):
            raise ScenarioRefused("That scenario does not exist or touches a plant outside your plant scope.", "scope")
        if not user.can("propose"):
            raise ScenarioRefused("Your role may not submit scenarios for approval.", "permission")
        if found["state"] != "draft":
            raise _already(found)
        if not isinstance(note, str) or not note.strip():
            raise ScenarioRefused("Add a note for the approvers: what the plan is for and why.", "reason")
        note = note.strip()
        if len(note) > MAX_NOTE_CHARS:
            raise ScenarioRefused(f"The note is longer than {MAX_NOTE_CHARS} characters.", "reason")
        changes = {p: metric_change(planner, found["results"], p, "plan_spend") for p in found["plant_ids"]}
        missing = [p for p, c in changes.items() if c is None]
        if missing:
            raise ScenarioRefused(
                f"The results of scenario #{scenario_id} have no plan spend for plant {missing[0]} "
                "against its baseline; run the scenario again and save it before submitting.",
                "value",
            )
        return _raise(engine, planner, user, found, note, changes, now)
    except ScenarioRefused as exc:
        raise _refusal(
            engine, user, scenario_id if isinstance(scenario_id, int) else raw_id, plant_id, exc, attempt
        ) from None


def _already(found: dict) -> ScenarioRefused:
    recs = ", ".join(f"#{r}" for r in found["rec_ids"])
    state = found["decision_state"] or "submitted"
    return ScenarioRefused(
        f"Scenario '{found['name']}' (#{found['scenario_id']}) was already submitted for "
        f"approval{f' (recommendations {recs})' if recs else ''} and is {state}; a scenario is "
        "submitted once. Save it as a new scenario to submit a changed plan.",
        "state",
    )


def _raise(engine, planner: ModuleType, user, found: dict, note: str, changes: dict, now: datetime) -> list[int]:
    sid, name, levers = found["scenario_id"], found["name"], found["levers"]
    rec_ids = []
    with engine.begin() as conn:
        # first statement: takes SQLite's write lock; of two concurrent submissions one wins
        if not store.mark_submitted(conn, sid):
            raise ScenarioRefused(
                f"Scenario '{name}' (#{sid}) was submitted a moment ago by someone else; reload it.", "state"
            )
        context = store.plan_context(conn, user.scope, found["plant_ids"])
        for plant_id in found["plant_ids"]:
            info = context.get(plant_id)
            if info is None:
                raise ScenarioRefused(f"There is no plant {plant_id!r} any more.", "value")
            policy = policies.effective(conn, plant_id)
            change = round(changes[plant_id], 2)
            routed_cost = max(0.0, change)
            plan = planner.Levers.from_dict(levers).for_plant(info["lines"], info["suppliers"])  # never another plant's
            net = metric_change(planner, found["results"], plant_id, "cost")
            evidence = {
                "rule": "scenario_plan",
                "scenario_id": sid,
                "name": name,
                "submitted_by": user.username,
                "note": note,
                "levers": plan.to_dict(),
                "assumptions": plan.assumptions(),
                "plants_in_scenario": len(found["plant_ids"]),
                "data_version": found["data_version"],
                "spend_change": change,
                "cost_change": None if net is None else round(net, 2),
                "summary": summary_rows(planner, found["results"], plant_id),
                "action": {"scenario_id": sid, "scenario_name": name, **plan.actions()},
            }
            title = f"Scenario '{name}': {plan.describe()}"
            suffix = f" at {info['name']}"
            if len(title) + len(suffix) > 200:
                title = title[: 200 - len(suffix) - 1] + "…"
            rec_id = workflow.insert_recommendation(
                conn,
                policy,
                now,
                plant_id=plant_id,
                kind=store.KIND,
                subject_id=store.subject_id(sid),
                signal_key=f"scenario:{sid}:{plant_id}",
                title=title + suffix,
                risk=None,
                estimated_cost=routed_cost,
                evidence=evidence,
                source="workflow",
            )
            if rec_id is None:
                raise ScenarioRefused(f"Scenario #{sid} already has a recommendation at {plant_id}.", "state")
            routing = policy.routing(store.KIND, routed_cost)
            auto = policy.auto_approves(store.KIND, routed_cost)
            outbox_id = None
            if auto:
                outbox_id = workflow.auto_approve(
                    conn,
                    rec_id,
                    now,
                    f"Auto-approved by the {plant_id} policy: plan spend change {routed_cost:,.0f} "
                    f"{REFERENCE_CURRENCY} within auto_approve_max_cost.scenario "
                    f"({policy['auto_approve_max_cost.scenario']:,.0f} {REFERENCE_CURRENCY}), "
                    "automation_level assisted.",
                )
            audit.append(
                conn,
                user.username,
                "recommendation_created",
                plant_id=plant_id,
                entity="recommendation",
                entity_id=rec_id,
                detail={
                    "kind": store.KIND,
                    "subject_id": store.subject_id(sid),
                    "scenario_id": sid,
                    "source": "workflow",
                    "estimated_cost": routed_cost,
                    "spend_change": change,
                    "approvers": routing["approvers"],
                    "sla_hours": routing["sla_hours"],
                },
            )
            if auto:
                audit.append(
                    conn,
                    workflow.SYSTEM,
                    "recommendation_auto_approved",
                    plant_id=plant_id,
                    entity="recommendation",
                    entity_id=rec_id,
                    detail={
                        "estimated_cost": routed_cost,
                        "outbox_id": outbox_id,
                        "limit": policy["auto_approve_max_cost.scenario"],
                    },
                )
            rec_ids.append(rec_id)
        audit.append(
            conn,
            user.username,
            "scenario_submitted",
            plant_id=found["plant_ids"][0] if len(found["plant_ids"]) == 1 else None,
            entity="scenario",
            entity_id=sid,
            detail={
                "name": name,
                "plant_ids": found["plant_ids"],
                "note": note,
                "rec_ids": rec_ids,
                "spend_change": {p: round(c, 2) for p, c in changes.items()},
            },
        )
    return rec_ids
