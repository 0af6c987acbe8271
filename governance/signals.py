"""Risk signals: what the orchestrator turns into recommendations.

One small interface, `risk_signals(engine, scope, as_of)`, returns a DataFrame with one row
per (plant, kind, subject) at risk:

    plant_id    the plant
    kind        maintenance | shortage | quality
    subject_id  the asset (maintenance), material (shortage) or line (quality)
    risk        a score in [0, 1]; the plant policy's threshold for the kind decides
    source      'model' (a predictive model's score) or 'fallback_rule' (a threshold rule)
    evidence    a JSON-ready dict: the rule or model, its inputs and its reading
    episode     what makes this risk a new one (e.g. the day of the asset's last repair):
                part of the recommendation's idempotency key, so a risk that persists over
                several runs raises one recommendation, and a new episode raises a new one
    feeds       the feeds (feed_status.source) the score depends on, for the stale-feed rule

Scores come from two kinds of providers:

- **Models**: the predictive models of `forecasting/` plug in here through `providers`
  (kind -> provider), passed in by whoever composes the two (jobs.pipeline plugs in the served
  failure risks of the newest recent scoring run, `forecasting.score.maintenance_signals`;
  governance does not import forecasting). A provider is `provider(engine, scope, as_of) ->
  DataFrame` with the columns above and `source='model'`; where a model scores a subject, its
  score wins over the rule's.
- **Fallback rules** (this module), used for every subject no model scores, and labelled
  `source='fallback_rule'` so pages and KPIs can tell them apart:

  * maintenance, `weibull_hazard`: the probability that an asset fails within the next
    `horizon_days`, given the time since its last repair (failure end or completed
    preventive work order), from a Weibull life with shape `weibull_shape` (wear-out) and
    mean = the asset's MTBF in calendar days over the lookback (the pooled MTBF of its
    asset class across the scope when it has fewer than `min_own_failures` failures):
    P = 1 - exp(-(((t + h) / eta)^k - (t / eta)^k)),  eta = MTBF / Gamma(1 + 1/k).
  * maintenance, `health_trend` (plants with sensors): vibration of the last
    `recent_readings` readings against the asset's median over the baseline window, and
    the temperature rise against the same baseline:
    score = max(clip((vib ratio - 1) / vib_ratio_span), clip((temp rise - temp_rise_floor) / temp_rise_span)).
    The asset's risk is the larger of the two rules.
  * shortage, `projected_stockout`: stock today is the newest snapshot rolled forward by the
    receipts and consumption recorded after it (`data_access.stock`); from there it is
    projected over the supplier lead time (minus average daily consumption over
    `demand_days`, plus open purchase orders on their promised day, overdue ones tomorrow);
    the risk is the share of the lead time with projected stock at or below zero (days short
    / lead time).
  * quality, `quality_drop`: good / produced quantity of a line over the last
    `quality_recent_days` against the `quality_baseline_days` before them;
    risk = clip(drop in percentage points / quality_drop_span_pp).

All rule parameters are in `RuleParams` (documented in docs/decisions-workflow.md).
Importable without Streamlit.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from data_access import signal_inputs
from data_access.frames import as_utc
from data_access.scope import PlantScope

KINDS = ("maintenance", "shortage", "quality")
SOURCES = ("model", "fallback_rule")
COLUMNS = ["plant_id", "kind", "subject_id", "risk", "source", "evidence", "episode", "feeds"]
FEEDS = {"maintenance": ["downtime"], "shortage": ["inventory"], "quality": ["production"]}


@dataclass(frozen=True)
class RuleParams:
    """Parameters of the fallback rules (see the module docstring)."""

    horizon_days: float = 7.0
    lookback_days: int = 365
    weibull_shape: float = 2.0
    min_own_failures: int = 3
    health_baseline_days: int = 60
    health_recent_gap_days: int = 14  # the baseline ends this many days before as_of
    recent_readings: int = 3
    vib_ratio_span: float = 0.6  # a vibration 60 % above baseline scores 1
    temp_rise_floor: float = 2.0  # degrees C of rise that still count as noise and season
    temp_rise_span: float = 6.0
    demand_days: int = 28
    quality_recent_days: int = 7
    quality_baseline_days: int = 28
    quality_drop_span_pp: float = 3.0  # a drop of 3 percentage points scores 1
    quality_min_produced: float = 1.0


ModelProvider = Callable[[Engine, PlantScope, datetime], pd.DataFrame]
"""provider(engine, scope, as_of) -> a model's signals of one kind (see the module docstring)."""


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "risk" else "object") for c in COLUMNS})


def risk_signals(
    engine: Engine,
    scope: PlantScope,
    as_of: datetime | None = None,
    params: RuleParams = RuleParams(),
    kinds=KINDS,
    providers: Mapping[str, ModelProvider] | None = None,
) -> pd.DataFrame:
    """Every risk signal in scope as of `as_of` (default now): model scores where `providers`
    has a model for the kind and it scores the subject, fallback rules elsewhere."""
    providers = dict(providers or {})
    unknown = sorted(set(providers) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown signal kind {unknown[0]!r}; known: {', '.join(KINDS)}")
    as_of = as_utc(as_of) or datetime.now(timezone.utc)
    frames = []
    for kind in kinds:
        rules = _RULES[kind](engine, scope, as_of, params)
        provider = providers.get(kind)
        if provider is not None:
            scored = _checked(provider(engine, scope, as_of), kind)
            keys = set(zip(scored["plant_id"], scored["subject_id"]))
            rules = rules[[(p, s) not in keys for p, s in zip(rules["plant_id"], rules["subject_id"])]]
            frames.append(scored)
        frames.append(rules)
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty()
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    return out.sort_values(
        ["plant_id", "kind", "risk", "subject_id"], ascending=[True, True, False, True], ignore_index=True
    )


def rule_evidence(
    engine: Engine, kind: str, plant_id: str, subject_id: str, as_of: datetime, params: RuleParams = RuleParams()
) -> dict:
    """The fallback rule's evidence for one subject ({} when the rule has nothing to say), so a
    model's signal can be enriched with the same readings (stock, lead time, asset, line...)."""
    frame = _RULES[kind](engine, PlantScope.only({plant_id}), as_utc(as_of), params)
    hit = frame[frame["subject_id"] == subject_id]
    return dict(hit["evidence"].iloc[0]) if len(hit) else {}


def _checked(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A model provider's output, refused loudly when it breaks the interface."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the {kind} model provider returned no column {', '.join(missing)}")
    frame = frame[COLUMNS].copy()
    if (frame["kind"] != kind).any() or (frame["source"] != "model").any():
        raise ValueError(f"the {kind} model provider must return kind={kind!r} and source='model' only")
    if not frame["risk"].between(0, 1).all():
        raise ValueError(f"the {kind} model provider returned risks outside [0, 1]")
    return frame


def _clip01(value: float) -> float:
    return float(min(max(value, 0.0), 1.0))


def _iso(value) -> str | None:
    value = as_utc(value) if isinstance(value, (datetime, pd.Timestamp)) and not pd.isna(value) else None
    return value.isoformat() if value is not None else None


# --- maintenance -------------------------------------------------------------------------------


def weibull_failure_probability(t_days: float, horizon_days: float, mtbf_days: float, shape: float) -> float:
    """P(failure within horizon | survived t since the last repair), Weibull with mean MTBF."""
    if not mtbf_days or mtbf_days <= 0 or not math.isfinite(mtbf_days):
        return 0.0
    eta = mtbf_days / math.gamma(1.0 + 1.0 / shape)
    t = max(t_days, 0.0)
    return _clip01(1.0 - math.exp(-(((t + horizon_days) / eta) ** shape - (t / eta) ** shape)))


def _maintenance(engine, scope, as_of, params) -> pd.DataFrame:
    stats = signal_inputs.asset_failure_stats(engine, scope, as_of - timedelta(days=params.lookback_days), as_of)
    if stats.empty:
        return empty()
    observed = (pd.Timestamp(as_of) - stats["observed_since_utc"]).dt.total_seconds() / 86400.0
    stats["observed_days"] = observed.fillna(0.0).clip(upper=params.lookback_days)
    by_class = stats.groupby("asset_class").agg(days=("observed_days", "sum"), failures=("failures", "sum"))
    class_mtbf = (by_class["days"] / by_class["failures"].where(by_class["failures"] > 0)).to_dict()
    health = _health_scores(engine, scope, as_of, params)
    rows = []
    for a in stats.itertuples(index=False):
        own = a.failures >= params.min_own_failures and a.observed_days > 0
        mtbf = a.observed_days / a.failures if own else class_mtbf.get(a.asset_class, float("nan"))
        repairs = [v for v in (a.last_failure_end_utc, a.last_pm_utc) if not pd.isna(v)]
        last_repair = max(repairs) if repairs else None
        t_days = (
            (pd.Timestamp(as_of) - last_repair).total_seconds() / 86400.0
            if last_repair is not None
            else a.observed_days
        )
        hazard = (
            0.0
            if pd.isna(mtbf)
            else weibull_failure_probability(t_days, params.horizon_days, mtbf, params.weibull_shape)
        )
        evidence = {
            "rule": "weibull_hazard",
            "asset_class": a.asset_class,
            "criticality": a.criticality,
            "asset_name": a.local_name,
            "asset_local_code": a.local_code,
            "line_id": a.line_id,
            "line_name": a.line_name,
            "hazard": round(hazard, 4),
            "horizon_days": params.horizon_days,
            "weibull_shape": params.weibull_shape,
            "mtbf_days": None if pd.isna(mtbf) else round(float(mtbf), 2),
            "mtbf_basis": "asset" if own else "asset class",
            "failures_in_lookback": int(a.failures),
            "observed_days": round(float(a.observed_days), 1),
            "mttr_hours": round(a.restoration_s / a.failures / 3600.0, 2) if a.failures else None,
            "last_repair_utc": _iso(last_repair),
            "days_since_repair": round(float(t_days), 2),
        }
        risk, feeds = hazard, list(FEEDS["maintenance"])
        score = health.get(a.asset_id)
        if score is not None:
            evidence["health"] = score
            feeds.append("health")
            if score["score"] > hazard:
                risk, evidence["rule"] = score["score"], "health_trend"
        rows.append(
            dict(
                plant_id=a.plant_id,
                kind="maintenance",
                subject_id=a.asset_id,
                risk=round(risk, 4),
                source="fallback_rule",
                evidence=evidence,
                episode=f"since-{last_repair:%Y%m%dT%H%M}" if last_repair is not None else "since-start",
                feeds=feeds,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _health_scores(engine, scope, as_of, params) -> dict[str, dict]:
    """asset_id -> health-trend reading, for assets with recent sensor readings."""
    last_day = as_of.date()
    readings = signal_inputs.asset_health(
        engine, scope, last_day - timedelta(days=params.health_baseline_days), last_day
    )
    if readings.empty:
        return {}
    cut = last_day - timedelta(days=params.health_recent_gap_days)
    scores = {}
    for asset_id, g in readings.groupby("asset_id", sort=False):
        base, recent = g[g["day"] < cut], g[g["day"] >= cut].tail(params.recent_readings)
        if len(base) < 5 or recent.empty:
            continue
        vib_base, vib_now = base["vibration_mm_s"].median(), recent["vibration_mm_s"].mean()
        temp_base, temp_now = base["temperature_c"].median(), recent["temperature_c"].mean()
        vib_ratio = vib_now / vib_base if vib_base and not pd.isna(vib_base) and not pd.isna(vib_now) else None
        temp_rise = temp_now - temp_base if not (pd.isna(temp_now) or pd.isna(temp_base)) else None
        vib_score = _clip01((vib_ratio - 1.0) / params.vib_ratio_span) if vib_ratio is not None else 0.0
        temp_score = (
            _clip01((temp_rise - params.temp_rise_floor) / params.temp_rise_span) if temp_rise is not None else 0.0
        )
        scores[asset_id] = {
            "score": round(max(vib_score, temp_score), 4),
            "vibration_ratio": None if vib_ratio is None else round(float(vib_ratio), 3),
            "vibration_baseline_mm_s": round(float(vib_base), 3),
            "vibration_recent_mm_s": round(float(vib_now), 3),
            "temperature_rise_c": None if temp_rise is None else round(float(temp_rise), 2),
            "baseline_days": f"{base['day'].min()}..{base['day'].max()}",
            "last_reading_day": str(recent["day"].max()),
        }
    return scores


# --- shortage ----------------------------------------------------------------------------------


def days_short(
    on_hand: float, daily_demand: float, lead_time_days: float, arrivals: list[tuple[float, float]]
) -> float:
    """Days within the lead time on which projected stock is at or below zero.

    `arrivals` are (day offset, qty) of open purchase orders. Stock is projected in
    continuous time: it falls by `daily_demand` a day and rises at each arrival.
    """
    if lead_time_days <= 0 or daily_demand <= 0:
        return 0.0
    events = sorted((max(d, 0.0), q) for d, q in arrivals if d < lead_time_days)
    stock, t, short = on_hand, 0.0, 0.0
    for when, qty in events + [(lead_time_days, 0.0)]:
        span = when - t
        if span > 0:
            covered = max(stock, 0.0) / daily_demand
            short += max(span - covered, 0.0)
            stock -= daily_demand * span
        stock = max(stock, 0.0) + qty  # demand not met on a short day is lost, not backlogged
        t = when
    return short


def _shortage(engine, scope, as_of, params) -> pd.DataFrame:
    day = as_of.date()
    supply = signal_inputs.supply_position(engine, scope, day, params.demand_days)
    supply = supply[(supply["demand_qty"] > 0) & (supply["lead_time_days"] > 0)]
    if supply.empty:
        return empty()
    pos = signal_inputs.open_purchase_orders(engine, scope)
    arrivals: dict[tuple, list] = {}
    for po in pos.itertuples(index=False):
        offset = max((po.promised_day - day).days, 1)  # overdue orders: assumed tomorrow
        arrivals.setdefault((po.plant_id, po.material_id), []).append((float(offset), float(po.qty)))
    rows = []
    for s in supply.itertuples(index=False):
        daily = s.demand_qty / params.demand_days
        snapshot_age = (day - s.snapshot_day).days if s.snapshot_day is not None else None
        on_hand = 0.0 if pd.isna(s.counted_on_hand) else float(s.counted_on_hand)
        projected_now = 0.0 if pd.isna(s.on_hand) else float(s.on_hand)  # rolled forward to today
        lead = float(s.lead_time_days)
        short = days_short(projected_now, daily, lead, arrivals.get((s.plant_id, s.material_id), []))
        risk = _clip01(short / lead)
        rows.append(
            dict(
                plant_id=s.plant_id,
                kind="shortage",
                subject_id=s.material_id,
                risk=round(risk, 4),
                source="fallback_rule",
                feeds=list(FEEDS["shortage"]),
                episode=f"after-{s.last_received_day}" if s.last_received_day else "after-none",
                evidence={
                    "rule": "projected_stockout",
                    "material_name": s.name,
                    "material_type": s.material_type,
                    "unit": s.unit,
                    "unit_cost": float(s.unit_cost),
                    "on_hand": on_hand,
                    "snapshot_day": None if s.snapshot_day is None else str(s.snapshot_day),
                    "snapshot_age_days": snapshot_age,
                    "projected_on_hand_today": round(projected_now, 3),
                    "received_after_count": float(s.received_after_count),
                    "consumed_after_count": float(s.consumed_after_count),
                    "daily_demand": round(daily, 4),
                    "demand_days": params.demand_days,
                    "days_of_supply": round(max(projected_now, 0.0) / daily, 2),
                    "lead_time_days": lead,
                    "days_short_within_lead_time": round(short, 2),
                    "open_po_qty": float(s.open_po_qty),
                    "open_pos": int(s.open_pos),
                    "safety_stock": float(s.safety_stock),
                    "reorder_point": float(s.reorder_point),
                    "supplier_id": s.supplier_id,
                },
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


# --- quality -----------------------------------------------------------------------------------


def _quality(engine, scope, as_of, params) -> pd.DataFrame:
    last = as_of.date()
    first = last - timedelta(days=params.quality_recent_days + params.quality_baseline_days)
    daily = signal_inputs.line_quality(engine, scope, first, last)
    if daily.empty:
        return empty()
    rows = []
    for line_id, g in daily.groupby("line_id", sort=True):
        end = g["day"].max()
        cut = end - timedelta(days=params.quality_recent_days)
        recent, base = g[g["day"] > cut], g[g["day"] <= cut]
        if recent["produced_qty"].sum() < params.quality_min_produced or base["produced_qty"].sum() <= 0:
            continue
        q_recent = recent["good_qty"].sum() / recent["produced_qty"].sum()
        q_base = base["good_qty"].sum() / base["produced_qty"].sum()
        drop_pp = (q_base - q_recent) * 100.0
        iso = end.isocalendar()
        rows.append(
            dict(
                plant_id=g["plant_id"].iloc[0],
                kind="quality",
                subject_id=line_id,
                risk=round(_clip01(drop_pp / params.quality_drop_span_pp), 4),
                source="fallback_rule",
                feeds=list(FEEDS["quality"]),
                episode=f"week-{iso.year}-W{iso.week:02d}",
                evidence={
                    "rule": "quality_drop",
                    "line_id": line_id,
                    "line_name": g["line_name"].iloc[0],
                    "quality_recent": round(float(q_recent), 5),
                    "quality_baseline": round(float(q_base), 5),
                    "drop_pp": round(float(drop_pp), 3),
                    "recent_days": f"{recent['day'].min()}..{end}",
                    "baseline_days": f"{base['day'].min()}..{cut}",
                    "recent_produced_qty": float(recent["produced_qty"].sum()),
                    "recent_scrap_qty": float(recent["produced_qty"].sum() - recent["good_qty"].sum()),
                },
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


_RULES = {"maintenance": _maintenance, "shortage": _shortage, "quality": _quality}
