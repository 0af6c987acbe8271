"""Score failure risk per asset, shortage per plant material and disruption per production order.

    python -m forecasting.score [--url URL] [--as-of 2026-07-01T06:00] [--train] [--plants P1,P2]

The batch job behind the risk views: pages read what it stores and never train.
- Failure risk (forecasting.failure_risk): trains a new candidate version of the
  `failure_risk` model when asked (--train) or when none exists yet, registers it with its
  per-plant test metrics, and scores with the approved version (or, while none is approved,
  the newest candidate as a shadow whose scores are stored but not served).
- Shortage and disruption (forecasting.shortage): simulated, nothing trained.
Every score row keeps the model's and the fallback rule's probability and serves one of them
by the model-serving rules passed in by jobs (governance.model_serving.fallback_reason: approval,
stale feeds, sensors, a hold after drift or lost accuracy), with the reason.
Monitoring: per plant, the scoring version's accuracy on the last labelled weeks and the
drift (PSI) of its main inputs against its training window go to model_metric.

The run id is as_of (YYYYMMDDTHHMM): a rerun at the same as_of replaces its scores.
Bad input gives one line on stderr and exit status 2, no traceback.
"""

import argparse
import importlib
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from data_access import intelligence as q
from data_access import live, model_holds, queries
from data_access import model_registry as registry
from data_access.scope import PlantScope
from forecasting import failure_risk as fr
from forecasting import shortage as sh
from forecasting.metrics import psi
from forecasting.serving import ModelServing

MODEL_NAME = "failure_risk"
HISTORY_START = date(1970, 1, 1)
READING_MAX_AGE_DAYS = 3  # a newer sensor reading than this is needed for a model score
SIGNAL_MAX_AGE = timedelta(hours=48)  # older scoring runs give no signals: the rules on current data win
LIVE_DAYS = 28  # the labelled weeks the live accuracy is measured on
DRIFT_DAYS = 28  # the recent window compared with the training window


@dataclass
class ScoreReport:
    run_id: str
    as_of: datetime
    version: dict | None
    trained: dict | None  # what a training in this run produced (or why it could not)
    counts: dict = field(default_factory=dict)  # kind -> {scored, model, fallback, stale}
    seconds: float = 0.0

    def summary(self) -> str:
        served = (
            f"{MODEL_NAME} {self.version['version']} ({self.version['status']})"
            if self.version
            else f"no {MODEL_NAME} version"
        )
        parts = [
            f"{kind}: {c['scored']} scored, {c['model']} by model, {c['fallback']} by fallback rules"
            f"{', ' + str(c['stale']) + ' stale' if c['stale'] else ''}"
            for kind, c in self.counts.items()
        ]
        trained = ""
        if self.trained:
            trained = (
                f"; trained {self.trained['version']}"
                if "version" in self.trained
                else f"; training failed: {self.trained['error']}"
            )
        return (
            f"run {self.run_id} as of {self.as_of:%Y-%m-%d %H:%M} UTC with {served}{trained} ({self.seconds:.1f} s)\n"
            + "\n".join(parts)
        )


def score(
    engine,
    as_of: datetime | None = None,
    *,
    serving: ModelServing,
    train: bool = False,
    scope: PlantScope | None = None,
    actor: str = "risk-score",
    progress=None,
) -> ScoreReport:
    """Score everything in `scope` as of `as_of` (default now) and store it; see the module docstring."""
    started = time.perf_counter()
    scope = scope or PlantScope.everything()
    as_of = (as_of or datetime.now(timezone.utc)).astimezone(timezone.utc)
    report = progress or (lambda fraction, message: None)
    run_id = f"{as_of:%Y%m%dT%H%M}"
    day = as_of.date()

    report(0.0, "Reading assets, sensors and failures")
    freshness = queries.feed_freshness(engine, scope, now=as_of)
    freshness.loc[freshness["age_h"] < 0, "age_h"] = 0.0  # a backfilled as_of before the last delivery
    freshness = serving.feed_limits(engine, freshness)
    assets = q.asset_register(engine, scope)
    failures, repairs, feats = _inputs(engine, scope, assets, HISTORY_START, as_of)

    trained = None
    if train or registry.latest_version(engine, MODEL_NAME) is None:
        report(0.2, "Training the failure-risk model")
        trained = _train(engine, feats, as_of, actor, serving)
    version = serving.approved_version(engine, MODEL_NAME) or registry.latest_version(engine, MODEL_NAME)
    model, load_error = _load(engine, version)
    metric_rows = _monitoring(feats, model, version, day) if model is not None else []
    held = _holds(engine, scope, version, metric_rows, serving)
    report(0.4, "Scoring failure risk")
    stale_failure = serving.stale_feeds(freshness, MODEL_NAME)
    failure_rows, served_failure = _failure_rows(
        engine, assets, feats, failures, repairs, scope, as_of, model, version, load_error, stale_failure, held, serving
    )

    report(0.6, "Simulating material shortages")
    stale_shortage = serving.stale_feeds(freshness, "shortage")
    shortage_rows, curves = _shortage_rows(engine, scope, day, stale_shortage, serving)
    report(0.85, "Scoring production order disruption")
    disruption_rows = _disruption_rows(
        engine, scope, as_of, assets, served_failure, failure_rows, shortage_rows, curves
    )

    counts = {
        kind: _count(rows)
        for kind, rows in (("failure", failure_rows), ("shortage", shortage_rows), ("disruption", disruption_rows))
    }
    summary = {
        "counts": counts,
        "model": None
        if version is None
        else {"model_id": version["model_id"], "version": version["version"], "status": version["status"]},
        "trained": trained,
        "shortage": {
            "simulations": sh.SIMULATIONS,
            "consumption_days": sh.CONSUMPTION_DAYS,
            "record_days": sh.RECORD_DAYS,
        },
        "disruption_days": sh.DISRUPTION_DAYS,
    }
    with engine.begin() as conn:
        q.upsert_score_run(
            conn,
            dict(
                run_id=run_id,
                as_of_utc=as_of,
                actor=actor,
                status="running",
                summary=None,
                started_utc=datetime.now(timezone.utc),
                finished_utc=None,
            ),
        )
        q.write_risk_scores(conn, run_id, "failure", failure_rows)
        q.write_risk_scores(conn, run_id, "shortage", shortage_rows)
        q.write_risk_scores(conn, run_id, "disruption", disruption_rows)
        if version is not None and metric_rows:
            registry.record_metrics(conn, version["model_id"], as_of, metric_rows)
        q.finish_score_run(conn, run_id, status="done", finished_utc=datetime.now(timezone.utc), summary=summary)
    report(1.0, "Done")
    return ScoreReport(run_id, as_of, version, trained, counts, time.perf_counter() - started)


def _inputs(engine, scope, assets, health_start, as_of: datetime):
    """(failures, repairs, health features up to as_of's day) of `assets`: what scoring reads."""
    day = as_of.date()
    health = q.health_readings(engine, scope, health_start, day)
    failures = q.failure_events(engine, scope, datetime(1970, 1, 1, tzinfo=timezone.utc), as_of)
    repairs = q.completed_repairs(engine, scope, as_of)
    coverage = {p: min(d, day) for p, d in q.downtime_coverage(engine, scope).itertuples(index=False)}
    feats = fr.features(health, assets, failures, repairs, label_until=coverage)
    return failures, repairs, feats[feats["day"] <= day]


def _count(rows):
    return {
        "scored": len(rows),
        "model": sum(r["source"] == "model" for r in rows),
        "fallback": sum(r["source"] == "fallback" for r in rows),
        "stale": sum(bool(r["stale"]) for r in rows),
    }


# --- failure risk ------------------------------------------------------------------------------


def _train(engine, feats, as_of, actor, serving: ModelServing) -> dict:
    """Train, evaluate and register a candidate version; returns what happened."""
    try:
        result = fr.train(feats)
    except ValueError as exc:
        return {"error": str(exc)}
    artifact, sha = fr.dump(result.model)
    trained_utc = datetime.now(timezone.utc)
    params = {
        **result.model.get_params(),
        "features": fr.FEATURES,
        "horizon_days": fr.HORIZON_DAYS,
        "alert_threshold": fr.ALERT_THRESHOLD,
        "data_until": as_of.isoformat(),
        "train_end": str(result.split.train_end),
        "cal_start": str(result.split.cal_start),
        "cal_end": str(result.split.cal_end),
        "test_start": str(result.split.test_start),
        "test_end": str(result.split.test_end),
        "rows": result.rows,
        "train_start": str(feats.loc[feats["failed_within"].notna(), "day"].min()),
        "calibrated_plants": sorted(result.model.calibrators_),
        "artifact_sha256": sha,
    }
    metrics = []
    for m in result.metrics.itertuples(index=False):
        metrics += [
            (m.plant_id, "auc", m.auc),
            (m.plant_id, "brier", m.brier),
            (m.plant_id, "precision_at_alert", m.precision),
            (m.plant_id, "recall_at_alert", m.recall),
            (m.plant_id, "base_rate", m.base_rate),
            (m.plant_id, "test_rows", m.n),
            (m.plant_id, "test_failures", m.positives),
            (m.plant_id, "own_calibration", 1.0 if m.calibration == "plant" else 0.0),
        ]
    with engine.begin() as conn:
        number = registry.next_version_number(conn, MODEL_NAME)
        model_id, _ = serving.register(
            conn, actor, MODEL_NAME, f"v{number}", params, artifact, metrics, trained_utc=trained_utc
        )
    return {
        "model_id": model_id,
        "version": f"v{number}",
        "metrics": result.metrics.replace({np.nan: None}).to_dict("records"),
    }


def _load(engine, version):
    if version is None:
        return None, "no trained model version"
    text = registry.artifact(engine, version["model_id"])
    try:
        return fr.load(text, version["params"].get("artifact_sha256", "")), None
    except Exception as exc:  # noqa: BLE001 - a model that cannot be loaded is not served, and says why
        return None, f"version {version['version']} cannot be loaded ({type(exc).__name__}: {exc})"


def _round(value, digits=4):
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return None
    return round(float(value), digits)


def _holds(engine, scope, version, metric_rows, serving: ModelServing) -> dict[str, str]:
    """plant_id -> why the served version is held there, after holding the plants whose drift or
    accuracy (this run's monitoring beside the stored metrics) passed their policy's limits."""
    if version is None or version["status"] != "approved":
        return {}
    stored = registry.latest_metrics(engine, scope, version["model_id"])[["plant_id", "metric", "value"]]
    fresh = pd.DataFrame(metric_rows, columns=["plant_id", "metric", "value"]).dropna()
    frames = [f for f in (stored, fresh) if not f.empty]
    latest = (
        pd.concat(frames, ignore_index=True).drop_duplicates(["plant_id", "metric"], keep="last") if frames else stored
    )
    return serving.hold_degraded(engine, version["model_id"], latest)


def _failure_rows(
    engine,
    assets,
    feats,
    failures,
    repairs,
    scope,
    as_of,
    model,
    version,
    load_error,
    stale,
    held,
    serving: ModelServing,
):
    day = as_of.date()
    runs = q.line_run_daily(engine, scope, day - timedelta(days=fr.LOOKBACK_DAYS + 1), day)
    rules = fr.fallback_hazard(assets, failures, repairs, runs, as_of).set_index("asset_id")
    latest = feats[feats["day"] > day - timedelta(days=READING_MAX_AGE_DAYS)]
    latest = latest.sort_values("day").groupby("asset_id").tail(1).set_index("asset_id")
    model_risk = {}
    if model is not None and not latest.empty:
        probs = model.predict_proba(latest, latest["plant_id"].to_numpy())[:, 1]
        model_risk = dict(zip(latest.index, probs))
    rows, served = [], {}
    for a in assets.itertuples(index=False):
        rule = rules.loc[a.asset_id]
        unavailable = None
        if a.data_maturity != "iot":
            unavailable = f"no sensors (data maturity {a.data_maturity})"
        elif load_error:
            unavailable = load_error
        elif a.asset_id not in model_risk and not stale.get(a.plant_id):
            unavailable = f"no sensor reading in the last {READING_MAX_AGE_DAYS} days"
        reason = serving.fallback_reason(version, stale.get(a.plant_id), unavailable, held.get(a.plant_id))
        p_model = model_risk.get(a.asset_id)
        risk = p_model if reason is None else float(rule["risk"])
        detail = {
            "asset_class": a.asset_class,
            "criticality": a.criticality,
            "line_id": a.line_id,
            "line_name": a.line_name,
            "asset_name": a.local_name,
            "rule": {
                "mtbf_h": _round(rule["mtbf_h"], 1),
                "mtbf_basis": rule["mtbf_basis"],
                "failures_last_365d": int(rule["failures_lookback"]),
                "run_hours_since_repair": _round(rule["hours_since_repair"], 1),
                "run_hours_next_7d": _round(rule["horizon_run_h"], 1),
                "last_repair_day": None if rule["last_repair_day"] is None else str(rule["last_repair_day"]),
            },
        }
        if a.asset_id in latest.index:
            f = latest.loc[a.asset_id]
            detail["reading_day"] = str(f["day"])
            detail["features"] = {k: _round(f[k], 3) for k in fr.NUMERIC}
            if model is not None:
                detail["calibration"] = model.calibration_of(a.plant_id)
        served[a.asset_id] = risk
        rows.append(
            dict(
                plant_id=a.plant_id,
                subject_id=a.asset_id,
                risk=_round(risk, 6),
                source="model" if reason is None else "fallback",
                reason=reason,
                model_id=None if version is None or p_model is None else version["model_id"],
                model_risk=_round(p_model, 6),
                fallback_risk=_round(rule["risk"], 6),
                stale=bool(stale.get(a.plant_id)),
                detail=detail,
            )
        )
    return rows, served


def _monitoring(feats, model, version, day) -> list:
    """Live accuracy on the last labelled weeks and input drift against the training window, per plant."""
    rows = []
    params = version["params"]
    live = feats[(feats["failed_within"].notna()) & (feats["day"] > day - timedelta(days=LIVE_DAYS + fr.HORIZON_DAYS))]
    if not live.empty:
        for m in fr.evaluate(model, live).itertuples(index=False):
            rows += [
                (m.plant_id, "auc_live", m.auc),
                (m.plant_id, "brier_live", m.brier),
                (m.plant_id, "precision_live", m.precision),
                (m.plant_id, "base_rate_live", m.base_rate),
            ]
    start = date.fromisoformat(params["train_start"]) if params.get("train_start") else None
    end = date.fromisoformat(params["train_end"]) if params.get("train_end") else None
    if start and end:
        reference = feats[(feats["day"] >= start) & (feats["day"] <= end)]
        recent = feats[feats["day"] > day - timedelta(days=DRIFT_DAYS)]
        for plant, current in recent.groupby("plant_id"):
            ref = reference[reference["plant_id"] == plant]
            for name in fr.DRIFT_FEATURES:
                rows.append((plant, f"psi.{name}", psi(ref[name], current[name])))
    return rows


# --- shortage and disruption -------------------------------------------------------------------


def _factors(engine, scope, day) -> dict:
    """plant_id -> forecast factor from the newest served output forecast made by `day`."""
    series = q.latest_series(engine, scope)
    series = series[(series["metric"] == "output") & series["error"].isna()]
    factors = {}
    for s in series.itertuples(index=False):
        if s.history_end is None or s.history_end > day:
            continue
        points = q.forecast_points(engine, scope, s.run_id, s.plant_id, "output")
        history = q.series_history(
            engine,
            scope.narrowed([s.plant_id]),
            "output",
            s.history_end - timedelta(days=sh.FACTOR_DAYS - 1),
            s.history_end,
        )
        factors[s.plant_id] = sh.forecast_factor(history["y"], points["yhat"].head(sh.FACTOR_DAYS))
    return factors


def _shortage_rows(engine, scope, day, stale, serving: ModelServing):
    stock = q.material_stock(engine, scope, day)
    consumption = q.material_consumption(engine, scope, day - timedelta(days=sh.CONSUMPTION_DAYS - 1), day)
    open_pos = q.open_purchase_orders(engine, scope, day)
    record = q.deliveries(engine, scope, day - timedelta(days=sh.RECORD_DAYS), day)
    factors = _factors(engine, scope, day)
    sim = sh.shortage_probability(stock, consumption, open_pos, record, factors, day).set_index(
        ["plant_id", "material_id"]
    )
    rule = sh.shortage_rule(stock, consumption, open_pos, day).set_index(["plant_id", "material_id"])
    names = stock.set_index(["plant_id", "material_id"])
    rows, curves = [], {}
    for key in sim.index.union(rule.index):
        plant_id, material_id = key
        s = sim.loc[key] if key in sim.index else None
        r = rule.loc[key] if key in rule.index else None
        reason = None
        if stale.get(plant_id):
            reason = serving.stale_reason(stale[plant_id])
        elif s is None:
            reason = "not simulated"
        risk = float(s["risk"]) if reason is None else float(r["risk"] if r is not None else s["risk"])
        curves[key] = list(s["by_day"]) if reason is None else [risk]
        m = names.loc[key]
        detail = {
            "material_name": m["name"],
            "material_type": m["material_type"],
            "unit": m["unit"],
            "supplier_id": m["supplier_id"],
        }
        if s is not None:
            detail.update(
                lead_time_days=_round(s["lead_time_days"], 1),
                on_hand=_round(s["on_hand"], 2),
                snapshot_day=str(s["snapshot_day"]),
                daily_mean=_round(s["daily_mean"], 3),
                forecast_factor=_round(s["factor"], 3),
                open_po_qty=_round(s["open_po_qty"], 2),
                open_pos=int(s["open_pos"]),
                supplier_on_time=_round(s["supplier_on_time"], 3),
                by_day=list(s["by_day"]),
            )
        if r is not None:
            detail.update(days_of_supply=_round(r["days_of_supply"], 1), lead_time_days=_round(r["lead_time_days"], 1))
        rows.append(
            dict(
                plant_id=plant_id,
                subject_id=material_id,
                risk=_round(risk, 6),
                source="model" if reason is None else "fallback",
                reason=reason,
                model_id=None,
                model_risk=None if s is None else _round(s["risk"], 6),
                fallback_risk=None if r is None else _round(r["risk"], 6),
                stale=bool(stale.get(plant_id)),
                detail=detail,
            )
        )
    return rows, curves


def _disruption_rows(engine, scope, as_of, assets, served_failure, failure_rows, shortage_rows, curves):
    orders = q.upcoming_orders(engine, scope, as_of, as_of + timedelta(days=sh.DISRUPTION_DAYS))
    bom = q.bill_of_materials(engine)
    out = sh.disruption_probability(orders, assets, served_failure, bom, curves, as_of)
    failure = {r["subject_id"]: r for r in failure_rows}
    shortage = {(r["plant_id"], r["subject_id"]): r for r in shortage_rows}
    line_assets = {k: list(g["asset_id"]) for k, g in assets.groupby("line_id")}
    inputs = {k: list(g["material_id"]) for k, g in bom.groupby("product_id")}
    orders = orders.set_index("order_id")
    rows = []
    for d in out.itertuples(index=False):
        on_line = [failure[a] for a in line_assets.get(d.line_id, []) if a in failure]
        mats = [shortage[(d.plant_id, m)] for m in inputs.get(d.product_id, []) if (d.plant_id, m) in shortage]
        fallback_assets = sum(r["source"] == "fallback" for r in on_line)
        fallback_mats = sum(r["source"] == "fallback" for r in mats)
        reasons = []
        if fallback_assets:
            reasons.append(f"line failure risk: {fallback_assets} of {len(on_line)} assets by fallback rules")
        if fallback_mats:
            reasons.append(f"material shortage: {fallback_mats} of {len(mats)} materials by fallback rules")
        o = orders.loc[d.order_id]
        rows.append(
            dict(
                plant_id=d.plant_id,
                subject_id=d.order_id,
                risk=_round(d.risk, 6),
                source="fallback" if reasons else "model",
                reason="; ".join(reasons) or None,
                model_id=None,
                model_risk=None,
                fallback_risk=None,
                stale=any(r["stale"] for r in on_line + mats),
                detail={
                    "line_id": d.line_id,
                    "product_id": d.product_id,
                    "product_name": o["product_name"],
                    "qty": float(o["qty"]),
                    "status": o["status"],
                    "planned_start_utc": o["planned_start_utc"].isoformat(),
                    "planned_end_utc": o["planned_end_utc"].isoformat(),
                    "due_utc": None if pd.isna(o["due_utc"]) else o["due_utc"].isoformat(),
                    "line_risk": _round(d.line_risk),
                    "material_risk": _round(d.material_risk),
                    "window_days": d.window_days,
                    "worst_material": d.worst_material,
                    "assets_scored": int(d.assets_scored),
                    "materials_scored": int(d.materials_scored),
                },
            )
        )
    return rows


# --- live rescoring (issue 18) ------------------------------------------------------------------

LIVE_HEALTH_DAYS = 150  # health history read for a rescore: covers the 60-reading baseline with gaps
LIVE_ACTOR = "live-rescore"


def rescore_assets(engine, asset_ids, as_of: datetime | None = None, *, serving: ModelServing) -> str:
    """Score the failure risk of `asset_ids` again (they have new live readings) as of `as_of`
    and store it as a new run that carries every other score of the newest run forward, so
    pages and signals read one complete picture; only the newest live runs are kept
    (data_access.live.prune_live_runs). Without an earlier run, a full `score` is made.
    `serving`: the model-serving rules (governance.model_serving, passed in by jobs). Returns the run id."""
    as_of = (as_of or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = q.latest_score_run_id(engine, as_of)
    if base is None:
        return score(engine, as_of, serving=serving, actor=LIVE_ACTOR).run_id
    wanted = set(asset_ids)
    everything = q.asset_register(engine, PlantScope.everything())
    plants = sorted(set(everything.loc[everything["asset_id"].isin(wanted), "plant_id"]))
    scope = PlantScope.everything().narrowed(plants)
    day = as_of.date()
    freshness = serving.feed_limits(engine, queries.feed_freshness(engine, scope, now=as_of))
    assets = everything[everything["plant_id"].isin(plants)]
    failures, repairs, feats = _inputs(engine, scope, assets, day - timedelta(days=LIVE_HEALTH_DAYS), as_of)
    version = serving.approved_version(engine, MODEL_NAME) or registry.latest_version(engine, MODEL_NAME)
    model, load_error = _load(engine, version)
    held = model_holds.open_holds(engine, version["model_id"]) if version is not None else {}
    rows, _ = _failure_rows(
        engine,
        assets,
        feats,
        failures,
        repairs,
        scope,
        as_of,
        model,
        version,
        load_error,
        serving.stale_feeds(freshness, MODEL_NAME),
        held,
        serving,
    )
    rows = [r for r in rows if r["subject_id"] in wanted]
    run_id = f"{as_of:%Y%m%dT%H%M%S%f}{live.LIVE_RUN_SUFFIX}"
    summary = {
        "live": {"base_run": base, "rescored": sorted(r["subject_id"] for r in rows)},
        "model": None
        if version is None
        else {"model_id": version["model_id"], "version": version["version"], "status": version["status"]},
    }
    with engine.begin() as conn:
        q.upsert_score_run(
            conn,
            dict(
                run_id=run_id,
                as_of_utc=as_of,
                actor=LIVE_ACTOR,
                status="running",
                summary=None,
                started_utc=datetime.now(timezone.utc),
                finished_utc=None,
            ),
        )
        q.write_risk_scores(conn, run_id, "failure", rows)
        live.carry_forward_scores(conn, base, run_id, "failure", [r["subject_id"] for r in rows])
        q.finish_score_run(conn, run_id, status="done", finished_utc=datetime.now(timezone.utc), summary=summary)
        live.prune_live_runs(conn)
    return run_id


# --- the decisions workflow's model plug-in ------------------------------------------------------


def maintenance_signals(engine, scope: PlantScope, as_of: datetime, *, serving: ModelServing) -> pd.DataFrame:
    """The `governance.signals` model provider of maintenance (plugged in by jobs): the model-served
    failure risks of the newest scoring run made by `as_of` and at most SIGNAL_MAX_AGE before
    it, as maintenance signals; assets scored by the fallback here are left to the workflow's
    own fallback rules.

    Columns: plant_id, kind, subject_id, risk, source ('model'), evidence, episode, feeds.
    """
    columns = ["plant_id", "kind", "subject_id", "risk", "source", "evidence", "episode", "feeds"]
    run_id = q.latest_score_run_id(engine, as_of, not_before=as_of - SIGNAL_MAX_AGE)
    if run_id is None:
        return pd.DataFrame(columns=columns)
    scores = q.risk_scores(engine, scope, run_id, "failure")
    scores = scores[scores["source"] == "model"]
    rows = []
    for s in scores.itertuples(index=False):
        d = s.detail
        repaired = (d.get("rule") or {}).get("last_repair_day")
        evidence = {
            "rule": "failure_risk_model",
            "model": f"{MODEL_NAME} {s.version}",
            "scoring_run": run_id,
            "horizon_days": fr.HORIZON_DAYS,
            "asset_class": d.get("asset_class"),
            "criticality": d.get("criticality"),
            "asset_name": d.get("asset_name"),
            "line_id": d.get("line_id"),
            "line_name": d.get("line_name"),
            "reading_day": d.get("reading_day"),
            "calibration": d.get("calibration"),
            "features": d.get("features"),
            "rule_risk": s.fallback_risk,
            "days_since_repair": (d.get("features") or {}).get("days_since_repair"),
        }
        rows.append(
            dict(
                plant_id=s.plant_id,
                kind="maintenance",
                subject_id=s.subject_id,
                risk=float(s.risk),
                source="model",
                evidence=evidence,
                episode=f"since-{repaired.replace('-', '')}" if repaired else "since-start",
                feeds=list(serving.MODEL_FEEDS[MODEL_NAME]),
            )
        )
    return pd.DataFrame(rows, columns=columns)


# --- command line ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def _as_of(text):
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time (e.g. 2026-07-01T06:00): {text!r}") from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def parser():
    p = _Parser(prog="python -m forecasting.score", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, data/warehouse.db)")
    p.add_argument("--as-of", type=_as_of, help="score as of this UTC time (default: now); a date means its 00:00 UTC")
    p.add_argument("--train", action="store_true", help="train a new candidate failure-risk version first")
    p.add_argument("--plants", help="comma-separated plant ids (default: every plant)")
    return p


if __name__ == "__main__":  # the command composes this module with governance: see jobs.commands
    sys.exit(importlib.import_module("jobs.commands").score_main())
