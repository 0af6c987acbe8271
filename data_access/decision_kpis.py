"""Decision KPIs (latency, adoption, overrides; formulas in `data_access.kpis`), within a PlantScope."""

from datetime import date, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access.decisions import ACTED_STATES, OPEN_STATES, decision_history
from data_access.frames import read_frame, utc_columns
from data_access.schema import decision, plant, recommendation
from data_access.scope import PlantScope

_R = recommendation.c


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def decision_facts(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """One row per recommendation raised on plant-local days start..end in scope: the facts
    the decision KPIs are computed from (formulas in data_access.kpis).

    Columns: rec_id, plant_id, kind, state, created_utc, decided_utc, expires_utc,
    final_by (who took the final decision; 'system' when automatic), auto (decided by the
    system), latency_h (raised to a person's final decision; NaN otherwise), acted_before_expiry
    (a person approved, rejected or overrode it before its expiry), closed (its outcome is
    known: acted on, auto-approved or expired), overridden (bool).
    """
    d = decision.c
    final = (
        select(d.rec_id, d.username.label("final_by"), d.rec_version)
        .where(d.action.in_(["approve", "reject", "override"]))
        .subquery()
    )
    # widen by a day on either side, then cut on the plant-local day of created_utc
    stmt = (
        select(
            _R.rec_id,
            _R.plant_id,
            plant.c.timezone,
            _R.kind,
            _R.state,
            _R.created_utc,
            _R.decided_utc,
            _R.expires_utc,
            final.c.final_by,
        )
        .join_from(recommendation, plant, _R.plant_id == plant.c.plant_id)
        .outerjoin(final, and_(final.c.rec_id == _R.rec_id, final.c.rec_version == _R.version - 1))
        .where(
            scope.clause(_R.plant_id),
            _R.created_utc >= datetime.combine(start - timedelta(days=1), datetime.min.time(), timezone.utc),
            _R.created_utc < datetime.combine(end + timedelta(days=2), datetime.min.time(), timezone.utc),
        )
        .order_by(_R.rec_id)
    )
    frame = utc_columns(_read(engine, stmt), "created_utc", "decided_utc", "expires_utc")
    if not frame.empty:
        local_day = [ts.tz_convert(tz).date() for ts, tz in zip(frame["created_utc"], frame["timezone"])]
        frame = frame[[start <= day <= end for day in local_day]].reset_index(drop=True)
    frame = frame.drop(columns="timezone")
    acted = frame["state"].isin(ACTED_STATES)
    frame["auto"] = acted & (frame["final_by"] == "system")
    human = acted & ~frame["auto"]
    latency = (frame["decided_utc"] - frame["created_utc"]).dt.total_seconds() / 3600.0
    frame["latency_h"] = latency.where(human)
    frame["acted_before_expiry"] = human & (
        frame["expires_utc"].isna() | (frame["decided_utc"] <= frame["expires_utc"])
    )
    frame["closed"] = (human | (frame["state"] == "expired")) & ~frame["auto"]
    frame["overridden"] = frame["state"] == "overridden"
    return frame


DECISION_KPI_COLUMNS = [
    "recommendations",
    "pending",
    "auto_approved",
    "decided",
    "approved",
    "rejected",
    "overridden",
    "expired",
    "latency_median_h",
    "latency_p90_h",
    "adoption",
]


def decision_kpis(engine: Engine, scope: PlantScope, start: date, end: date, by=("plant_id", "kind")) -> pd.DataFrame:
    """Decision KPIs of the recommendations raised on plant-local days start..end, per group.

    `by`: any of plant_id, kind (empty: one row for the whole scope). Columns: the `by`
    columns, then recommendations, pending (still open or escalated), auto_approved, decided
    (by a person), approved, rejected, overridden, expired, latency_median_h, latency_p90_h
    (kpis.decision_latency_hours), adoption (kpis.adoption). Latencies are computed from each
    group's own recommendations, never averaged.
    """
    facts = decision_facts(engine, scope, start, end)
    by = list(by)
    groups = facts.groupby(by, sort=True) if by else [((), facts)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        median, p90 = kpis.decision_latency_hours(g["latency_h"])
        rows.append(
            {
                **dict(zip(by, key)),
                "recommendations": len(g),
                "pending": int(g["state"].isin(OPEN_STATES).sum()),
                "auto_approved": int(g["auto"].sum()),
                "decided": int(g["latency_h"].notna().sum()),
                "approved": int(((g["state"] == "approved") & ~g["auto"]).sum()),
                "rejected": int((g["state"] == "rejected").sum()),
                "overridden": int(g["overridden"].sum()),
                "expired": int((g["state"] == "expired").sum()),
                "latency_median_h": median,
                "latency_p90_h": p90,
                "adoption": kpis.adoption(int(g["acted_before_expiry"].sum()), int(g["closed"].sum())),
            }
        )
    if not rows and not by:
        median, p90 = kpis.decision_latency_hours([])
        rows.append(
            {
                "recommendations": 0,
                "pending": 0,
                "auto_approved": 0,
                "decided": 0,
                "approved": 0,
                "rejected": 0,
                "overridden": 0,
                "expired": 0,
                "latency_median_h": median,
                "latency_p90_h": p90,
                "adoption": float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=by + DECISION_KPI_COLUMNS)


def overview_decision_kpis(engine: Engine, scope: PlantScope, start: date, end: date) -> tuple[pd.Series, pd.DataFrame]:
    """For the network overview: (the scope's decision KPIs as one Series, the same per plant).

    Both carry the DECISION_KPI_COLUMNS (see `decision_kpis`); the per-plant frame adds
    plant_id and plant name (`name`), one row per plant in scope (zeros and NaN where a
    plant raised nothing).
    """
    network = decision_kpis(engine, scope, start, end, by=()).iloc[0]
    per_plant = decision_kpis(engine, scope, start, end, by=("plant_id",))
    names = _read(
        engine, select(plant.c.plant_id, plant.c.name).where(scope.clause(plant.c.plant_id)).order_by(plant.c.plant_id)
    )
    per_plant = names.merge(per_plant, on="plant_id", how="left")
    counts = [c for c in DECISION_KPI_COLUMNS if c not in ("latency_median_h", "latency_p90_h", "adoption")]
    per_plant[counts] = per_plant[counts].astype(float).fillna(0).astype(int)
    return network, per_plant


def overrides(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Overrides of recommendations raised on plant-local days start..end: who, why, what.

    Columns: rec_id, plant_id, kind, title, username, role, reason, override_value (JSON
    text), decided_utc.
    """
    facts = decision_facts(engine, scope, start, end)
    history = decision_history(engine, scope, actions=["override"], limit=100_000)
    history = history[history["rec_id"].isin(facts["rec_id"])]
    return history[
        ["rec_id", "plant_id", "kind", "title", "username", "role", "reason", "override_value", "decided_utc"]
    ].reset_index(drop=True)
