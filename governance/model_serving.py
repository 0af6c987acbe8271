"""Model governance: a trained model is served only after an authorized person approves it.

Every trained model is a version in `model_version` (parameters, serialized artifact) with
its metrics per plant in `model_metric` (`register`). A version starts as a `candidate`; a
user holding the `approve_model` permission approves it with a reason (`approve`), which
retires the previously approved version of the same model; an approved version can be
withdrawn (`retire`). The change and its audit row (governance.audit) are one transaction;
a refused attempt is audited too, in its own transaction.

The batch jobs serve a model's score for a plant only when (`fallback_reason` is None):
- the version they used is approved, and
- none of the feeds the model reads is stale: older than its expected cadence plus the
  plant policy's `feed_grace_hours` (`feed_limits`; the orchestrator's stale-feed rule reads
  the same limit), and
- the model can score the plant at all (e.g. failure risk needs sensors), and
- the version is not held at the plant: a hold opens by itself (`hold_degraded`, audited)
  when an input's drift (PSI) passes the plant policy's `drift_psi_limit` or the recent
  accuracy falls below its baseline by more than `accuracy_margin`, and stays until an admin
  releases it with a reason (`release_hold`, audited) or another version is approved.
Otherwise they serve the fallback rule's score, labelled with the reason, and pages show it.

Drift: `psi_label` reads the population stability index (forecasting.metrics.psi) that the
batch jobs store per model input. Importable without Streamlit.
"""

from datetime import datetime, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from data_access import model_holds
from data_access import model_registry as registry
from governance import audit, policies

APPROVE_PERMISSION = "approve_model"
FEED_GRACE_H = float(policies.SPECS["feed_grace_hours"].default)
"""The built-in feed_grace_hours, for a plant no policy covers (e.g. one added since)."""

MODEL_FEEDS = {
    "forecaster": ("production", "downtime"),
    "failure_risk": ("health", "downtime"),
    "shortage": ("inventory", "purchase_orders"),
}
"""The feeds (feed_status.source) each model reads; a stale one sends the plant to the fallback."""

PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
"""Usual reading of the population stability index: below 0.1 stable, 0.1-0.25 a moderate
shift worth watching, above 0.25 a major shift (retrain or check the feed)."""

MAX_REASON = 2000


class ModelGovernanceError(ValueError):
    """An approval or retirement was refused; the message is for the user."""


# --- registry -----------------------------------------------------------------------------------


def register(
    conn,
    actor: str,
    model_name: str,
    version: str,
    params: dict,
    artifact: str | None,
    metrics=(),
    trained_utc: datetime | None = None,
    measured_utc: datetime | None = None,
) -> tuple[int, bool]:
    """Register a trained model as a candidate version (idempotent on model_name + version).

    `metrics`: (plant_id, metric, value) rows measured at `measured_utc` (default: trained_utc).
    The registration is audited in the caller's transaction. Returns (model_id, created).
    """
    trained_utc = trained_utc or datetime.now(timezone.utc)
    model_id, created = registry.get_or_create_version(conn, model_name, version, params, artifact, trained_utc)
    written = registry.record_metrics(conn, model_id, measured_utc or trained_utc, metrics)
    if created:
        audit.append(
            conn,
            actor,
            "model_registered",
            entity="model_version",
            entity_id=model_id,
            detail={"model_name": model_name, "version": version, "metrics": written},
        )
    return model_id, created


# --- approval ------------------------------------------------------------------------------------


def approve(engine: Engine, user, model_id: int, reason: str, now: datetime | None = None) -> dict:
    """Approve a candidate version; the previously approved one of the same model is retired.

    Returns the approved version (as data_access.model_registry.version). Raises
    ModelGovernanceError (audited) when the user lacks the permission, gives no reason, or
    the version is unknown or not a candidate.
    """
    return _change(engine, user, model_id, reason, now, approving=True)


def retire(engine: Engine, user, model_id: int, reason: str, now: datetime | None = None) -> dict:
    """Withdraw an approved (or candidate) version: its model's scores fall back to rules until
    another version is approved. Same permission, reason and audit as `approve`."""
    return _change(engine, user, model_id, reason, now, approving=False)


def _change(engine, user, model_id, reason, now, approving) -> dict:
    action = "model_approve" if approving else "model_retire"
    if not user.can(APPROVE_PERMISSION):
        _refuse(
            engine,
            user,
            model_id,
            action,
            "Only a user allowed to approve models (the admin role) may approve or retire a model version.",
        )
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        _refuse(engine, user, model_id, action, "A reason is required: say what you checked.")
    if len(reason) > MAX_REASON:
        _refuse(engine, user, model_id, action, f"The reason is longer than {MAX_REASON} characters.")
    now = now or datetime.now(timezone.utc)
    try:
        with engine.begin() as conn:
            row = registry.lock_version(conn, int(model_id))
            if row is None:
                raise ModelGovernanceError(f"There is no model version {model_id}.")
            label = f"{row['model_name']} {row['version']}"
            if approving and row["status"] != "candidate":
                raise ModelGovernanceError(
                    f"{label} is {row['status']}, not a candidate: only a candidate can be approved."
                )
            if not approving and row["status"] == "retired":
                raise ModelGovernanceError(f"{label} is already retired.")
            retired = []
            if approving:
                retired = [m for m in registry.approved_ids(conn, row["model_name"]) if m != row["model_id"]]
                for other in retired:
                    registry.set_status(conn, other, "retired")
                registry.set_status(
                    conn, row["model_id"], "approved", approved_by=user.username, approved_utc=now, reason=reason
                )
            else:
                registry.set_status(conn, row["model_id"], "retired")
            audit.append(
                conn,
                user.username,
                action,
                entity="model_version",
                entity_id=row["model_id"],
                detail={
                    "model_name": row["model_name"],
                    "version": row["version"],
                    "from": row["status"],
                    "to": "approved" if approving else "retired",
                    "reason": reason,
                    "retired": retired,
                },
            )
    except ModelGovernanceError as exc:
        _refuse(engine, user, model_id, action, str(exc))
    return registry.version(engine, int(model_id))


def _refuse(engine, user, model_id, action, message):
    with engine.begin() as conn:
        audit.append(
            conn,
            user.username,
            f"{action}_refused",
            entity="model_version",
            entity_id=str(model_id)[:64],
            detail={"refusal": message},
        )
    raise ModelGovernanceError(message)


def approved_version(conn_or_engine, model_name: str) -> dict | None:
    """The version of `model_name` that may be served, None when none is approved."""
    return registry.latest_version(conn_or_engine, model_name, status="approved")


# --- serving rules -------------------------------------------------------------------------------


def feed_limits(conn_or_engine, freshness: pd.DataFrame) -> pd.DataFrame:
    """`freshness` (data_access.queries.feed_freshness) with the stale limit of each feed.

    Adds grace_h (the plant policy's feed_grace_hours), limit_h (expected_cadence_h + grace_h)
    and beyond_limit (age_h over limit_h, or the feed never arrived).
    """
    grace = {p: float(policy["feed_grace_hours"]) for p, policy in policies.effective_all(conn_or_engine).items()}
    out = freshness.copy()
    out["grace_h"] = out["plant_id"].map(grace).fillna(FEED_GRACE_H).astype(float)
    out["limit_h"] = out["expected_cadence_h"].astype(float) + out["grace_h"]
    out["beyond_limit"] = out["age_h"].isna() | (out["age_h"] > out["limit_h"])
    return out


def stale_feeds(limits: pd.DataFrame, model_name: str) -> dict[str, list[str]]:
    """plant_id -> the feeds of `model_name` beyond their limit (plants with none omitted).

    `limits` is `feed_limits` at the scoring time. A feed a plant does not have (no row) is
    not stale: whether the model can score such a plant is decided elsewhere (e.g. no sensors).
    """
    late = limits[limits["source"].isin(MODEL_FEEDS[model_name]) & limits["beyond_limit"]]
    return {plant: sorted(group["source"]) for plant, group in late.groupby("plant_id")}


def fallback_reason(
    version: dict | None, stale: list[str] | None = None, unavailable: str | None = None, held: str | None = None
) -> str | None:
    """Why a plant's score must come from the fallback rule (every reason that applies, joined
    by "; "), None when the model may be served.

    `version`: the model version that scored (None: no model could be trained or loaded);
    `stale`: the plant's stale feeds; `unavailable`: why the model cannot score the subject;
    `held`: the reason of the version's open hold at the plant (`hold_degraded`).
    """
    reasons = []
    if unavailable:
        reasons.append(unavailable)
    if version is None:
        if not unavailable:
            reasons.append("no trained model version")
    elif version["status"] != "approved":
        reasons.append(f"version {version['version']} not approved")
    if stale:
        reasons.append(stale_reason(stale))
    if held:
        reasons.append(f"on hold until an admin releases it: {held}")
    return "; ".join(reasons) or None


def stale_reason(stale: list[str]) -> str:
    return f"stale feed: {', '.join(stale)} (older than its cadence + the plant's feed_grace_hours)"


# --- drift ----------------------------------------------------------------------------------------


def psi_label(value) -> str:
    """stable | moderate shift | major shift | no data."""
    if value is None or pd.isna(value):
        return "no data"
    return "major shift" if value > PSI_MAJOR else "moderate shift" if value > PSI_MODERATE else "stable"


# --- holds: fall back by itself on drift or lost accuracy (issue 14) ------------------------------

HOLD_ACTOR = "model-monitor"


def degradation(metrics: dict, psi_limit: float, margin: float) -> str | None:
    """Why a version should be held at a plant, None when its metrics are within the limits.

    `metrics`: the plant's newest value of each metric of the version. Drift: any `psi.*`
    above `psi_limit`. Accuracy: `auc_live` below the tested `auc` by more than `margin`, or a
    `wape_live.<series>` above that series' backtest `wape.<series>` by more than `margin`.
    """
    reasons = []
    for name, value in sorted(metrics.items()):
        if value is None or pd.isna(value):
            continue
        if name.startswith("psi.") and value > psi_limit:
            reasons.append(f"input drift {name} = {value:.2f} above the limit {psi_limit:g}")
        baseline = (
            metrics.get("auc")
            if name == "auc_live"
            else (metrics.get("wape." + name.removeprefix("wape_live.")) if name.startswith("wape_live.") else None)
        )
        if baseline is None or pd.isna(baseline):
            continue
        if name == "auc_live" and value < baseline - margin:
            reasons.append(f"recent AUC {value:.2f} below its tested {baseline:.2f} by more than {margin:g}")
        elif name.startswith("wape_live.") and value > baseline + margin:
            reasons.append(
                f"recent WAPE of {name.removeprefix('wape_live.')} {value:.1%} above its backtest "
                f"{baseline:.1%} by more than {margin:.0%}"
            )
    return "; ".join(reasons) or None


def hold_degraded(engine: Engine, model_id: int, latest: pd.DataFrame, now: datetime | None = None) -> dict[str, str]:
    """Hold the version at every plant whose newest metrics pass its policy's limits.

    `latest`: plant_id, metric, value (each plant's newest value per metric). A new hold and
    its audit row (`model_hold`) are one transaction. Returns plant_id -> reason of every open
    hold of the version, the new ones included.
    """
    now = now or datetime.now(timezone.utc)
    limits = policies.effective_all(engine)
    default = policies.effective(engine, None)
    with engine.begin() as conn:
        held = model_holds.open_holds(conn, model_id)
        for plant_id, group in latest.groupby("plant_id", sort=True):
            if plant_id in held:
                continue
            policy = limits.get(plant_id, default).values
            reason = degradation(
                dict(zip(group["metric"], group["value"])),
                float(policy["drift_psi_limit"]),
                float(policy["accuracy_margin"]),
            )
            if reason is None:
                continue
            hold_id = model_holds.add_hold(conn, model_id, plant_id, reason, now)
            audit.append(
                conn,
                HOLD_ACTOR,
                "model_hold",
                plant_id=plant_id,
                entity="model_version",
                entity_id=model_id,
                detail={"hold_id": hold_id, "reason": reason},
            )
            held[plant_id] = reason
    return held


def release_hold(engine: Engine, user, model_id: int, plant_id: str, reason: str, now: datetime | None = None) -> int:
    """An admin acts on a hold: the plant is served by the model again from the next run.
    Same permission, reason and audit as `approve`; returns the holds released."""
    action = "model_hold_release"
    if not user.can(APPROVE_PERMISSION):
        _refuse(
            engine,
            user,
            model_id,
            action,
            "Only a user allowed to approve models (the admin role) may release a model hold.",
        )
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        _refuse(engine, user, model_id, action, "A reason is required: say what you checked.")
    with engine.begin() as conn:
        released = model_holds.release(
            conn, int(model_id), plant_id, user.username, reason, now or datetime.now(timezone.utc)
        )
        if released:
            audit.append(
                conn,
                user.username,
                action,
                plant_id=plant_id,
                entity="model_version",
                entity_id=model_id,
                detail={"reason": reason, "released": released},
            )
    if not released:
        _refuse(engine, user, model_id, action, f"Model version {model_id} has no open hold at {plant_id}.")
    return released
