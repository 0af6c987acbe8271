"""Saved what-if scenarios (table `scenario`): the insert, the reads, and their decision state.

A scenario row holds its name, owner, the plants it is about (`plant_ids`, a JSON list), its
levers and results (JSON objects, as the scenario engine produced them), the version of the
data it ran on, its state (`draft` until submitted for approval, then `submitted`) and when it
was saved (UTC).

**Plant scope.** A scenario is visible only when EVERY plant it touches is in the reader's
scope: a scenario about plants A and B is hidden from a user who sees A alone (its results
would reveal B). `plant_ids` is a JSON list, which neither backend filters on portably, so
the scope is applied here, below the pages, in two steps: the ids and plant lists of all
scenarios are read first, and only the scenarios within the scope are read in full (levers
and results of any other scenario never leave the database).

**Decision state.** Submitting a scenario raises one recommendation per plant (kind
`scenario`, subject `scenario-<id>`, see `governance.scenarios`); the scenario's
`decision_state` is derived from them (`decision_state`).

**JSON.** Levers and results are stored in JSON-normalized form (`json_ready`): tuples become
lists, numpy scalars and arrays become numbers and lists, dates become ISO text, NaN and
infinities become null, keys become text. What is read back equals what `json_ready` returned,
on SQLite and PostgreSQL alike.

This module imports nothing of `governance`; the caller of `save` checks permission and scope
and appends the audit row in the same transaction.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from data_access.decisions import OPEN_STATES
from data_access.frames import as_utc
from data_access.json_values import json_ready
from data_access.schema import line, plant, plant_material, recommendation
from data_access.schema import scenario as scenario_table
from data_access.scope import PlantScope

KIND = "scenario"
"""Kind of the recommendations a submitted scenario raises."""
STATES = ("draft", "submitted")
"""`scenario.state`: draft until submitted for approval, then submitted (for good)."""
DECISION_STATES = ("pending", "rejected", "expired", "approved")
"""`decision_state` of a submitted scenario (None while it is a draft)."""
COLUMNS = [
    "scenario_id",
    "name",
    "owner",
    "plant_ids",
    "levers",
    "results",
    "data_version",
    "state",
    "created_utc",
    "decision_state",
    "rec_ids",
]
"""Columns of `scenarios` (and keys of `scenario`, which adds `recommendations`)."""

_S = scenario_table.c
_R = recommendation.c
_CHUNK = 500


def subject_id(scenario_id: int) -> str:
    """The `subject_id` of the recommendations a scenario raises."""
    return f"scenario-{int(scenario_id)}"


# --- writing (inside the caller's transaction) -------------------------------------------------


def save(
    conn: Connection,
    *,
    name: str,
    owner: str,
    plant_ids,
    levers: dict,
    results: dict,
    data_version: str | None,
    now: datetime,
) -> int:
    """Insert a draft scenario and return its id. The caller has checked the user's permission
    and scope and appends the audit row in the same transaction."""
    result = conn.execute(
        scenario_table.insert(),
        {
            "name": name,
            "owner": owner,
            "plant_ids": [str(p) for p in plant_ids],
            "levers": json_ready(levers),
            "results": json_ready(results),
            "data_version": data_version,
            "state": "draft",
            "created_utc": as_utc(now),
        },
    )
    return result.inserted_primary_key[0]


def mark_submitted(conn: Connection, scenario_id: int) -> bool:
    """Move a draft scenario to `submitted`; False when it is not a draft (any more). Guarded by
    the state, so of two concurrent submissions exactly one succeeds."""
    done = conn.execute(
        update(scenario_table).where(_S.scenario_id == scenario_id, _S.state == "draft").values(state="submitted")
    )
    return done.rowcount == 1


# --- reading -------------------------------------------------------------------------------------


def _within(scope: PlantScope, plant_ids) -> bool:
    plant_ids = plant_ids or []
    return bool(plant_ids) and all(scope.allows(p) for p in plant_ids)


def decision_state(rec_states) -> str | None:
    """A submitted scenario's state from its recommendations' states (None: none raised yet).

    A final "no" wins: 'rejected' if any was rejected, else 'expired' if any expired (the plan
    can no longer be approved as a whole); else 'pending' while any is open or escalated;
    'approved' once every one is approved or overridden."""
    states = list(rec_states)
    if not states:
        return None
    if "rejected" in states:
        return "rejected"
    if "expired" in states:
        return "expired"
    if any(s in OPEN_STATES for s in states):
        return "pending"
    return "approved"


def _linked(conn: Connection, scenario_ids) -> dict[int, list[dict]]:
    """scenario_id -> its recommendations [{rec_id, plant_id, state}], by rec_id."""
    subjects = {subject_id(i): int(i) for i in scenario_ids}
    keys = sorted(subjects)
    out: dict[int, list[dict]] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = conn.execute(
            select(_R.rec_id, _R.plant_id, _R.state, _R.subject_id)
            .where(_R.kind == KIND, _R.subject_id.in_(keys[start : start + _CHUNK]))
            .order_by(_R.rec_id)
        ).mappings()
        for row in rows:
            out.setdefault(subjects[row["subject_id"]], []).append(
                {"rec_id": row["rec_id"], "plant_id": row["plant_id"], "state": row["state"]}
            )
    return out


def _read(conn: Connection, scope: PlantScope, scenario_id: int | None = None) -> list[dict]:
    """Scenarios within the scope (one, or all newest first) with their recommendations."""
    order = (_S.created_utc.desc(), _S.scenario_id.desc())
    heads = select(_S.scenario_id, _S.plant_ids).order_by(*order)
    if scenario_id is not None:
        heads = heads.where(_S.scenario_id == scenario_id)
    ids = [r.scenario_id for r in conn.execute(heads) if _within(scope, r.plant_ids)]
    rows = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows += conn.execute(select(scenario_table).where(_S.scenario_id.in_(chunk))).mappings().all()
    linked = _linked(conn, ids) if ids else {}
    position = {sid: i for i, sid in enumerate(ids)}
    out = []
    for row in sorted(rows, key=lambda r: position[r["scenario_id"]]):
        recs = linked.get(row["scenario_id"], [])
        out.append(
            {
                "scenario_id": row["scenario_id"],
                "name": row["name"],
                "owner": row["owner"],
                "plant_ids": list(row["plant_ids"] or []),
                "levers": row["levers"] or {},
                "results": row["results"],
                "data_version": row["data_version"],
                "state": row["state"],
                "created_utc": as_utc(row["created_utc"]),
                "decision_state": decision_state(r["state"] for r in recs),
                "rec_ids": [r["rec_id"] for r in recs],
                "recommendations": recs,
            }
        )
    return out


def scenarios(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Every saved scenario whose plants are ALL within `scope`, newest first.

    Columns: scenario_id, name, owner, plant_ids (list), levers (dict), results (dict or None),
    data_version, state (draft | submitted), created_utc (UTC), decision_state (None while a
    draft; pending | rejected | expired | approved, see `decision_state`), rec_ids (list of the
    recommendations its submission raised, one per plant).
    """
    with engine.connect() as conn:
        rows = _read(conn, scope)
    frame = pd.DataFrame([{k: r[k] for k in COLUMNS} for r in rows], columns=COLUMNS)
    frame["created_utc"] = pd.to_datetime(frame["created_utc"], utc=True)
    frame["decision_state"] = frame["decision_state"].astype(object)
    return frame


def scenario(conn_or_engine, scope: PlantScope, scenario_id) -> dict | None:
    """One scenario, or None when it does not exist or touches a plant outside `scope` (same
    answer). Keys: the columns of `scenarios`, plus `recommendations` ([{rec_id, plant_id,
    state}], one per plant once submitted)."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return scenario(conn, scope, scenario_id)
    try:
        scenario_id = int(scenario_id)
    except (TypeError, ValueError):
        return None
    found = _read(conn_or_engine, scope, scenario_id)
    return found[0] if found else None


def plan_context(conn: Connection, scope: PlantScope, plant_ids) -> dict[str, dict]:
    """What a scenario's plan needs to know of its plants within `scope`: plant_id -> {name,
    lines (set of line ids), suppliers (set of the supplier ids of its materials)}. Plants that
    do not exist (or are outside the scope) are missing from the answer."""
    wanted = scope.narrowed(plant_ids)
    out = {
        r.plant_id: {"name": r.name, "lines": set(), "suppliers": set()}
        for r in conn.execute(select(plant.c.plant_id, plant.c.name).where(wanted.clause(plant.c.plant_id)))
    }
    if not out:
        return out
    for r in conn.execute(select(line.c.line_id, line.c.plant_id).where(line.c.plant_id.in_(sorted(out)))):
        out[r.plant_id]["lines"].add(r.line_id)
    for r in conn.execute(
        select(plant_material.c.plant_id, plant_material.c.supplier_id)
        .where(plant_material.c.plant_id.in_(sorted(out)), plant_material.c.supplier_id.is_not(None))
        .distinct()
    ):
        out[r.plant_id]["suppliers"].add(r.supplier_id)
    return out
