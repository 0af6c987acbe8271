"""Failure risk per asset: will it fail within the next HORIZON_DAYS days?

Model (plants with sensors, data maturity `iot`): one global scikit-learn
HistGradientBoostingClassifier on asset-health features, with a per-plant calibration (Platt
scaling of the global score on that plant's own recent history: federated in the sense of
local tuning, central model and monitoring). A plant with too few failures in its calibration
window uses the global calibration, and says so.

Features of an asset on a day with a sensor reading (`features`), from that day and before:
- vibration, temperature and motor current: mean of the last 7 readings against the median
  of the 8th to 60th readings before (ratio for vibration and current, rise in deg C for
  temperature), and their slope over the last 7 readings;
- days since the last repair (end of a failure or a completed preventive work order), days
  since the last failure, failures in the last 365 days;
- age (years since installation), asset class and criticality; run hours of the last 7 readings.
Label: a failure of the asset starts in the HORIZON_DAYS days after the reading day. Days
whose label window is not yet covered by the downtime feed are unlabelled (scored, never
trained on).

Evaluation is time-ordered, never shuffled: the labelled days are cut into train (first
60 %), calibration (next 20 %) and test (last 20 %) blocks, with a gap of HORIZON_DAYS days
between blocks so no label window straddles two of them. Per plant on the test block: AUC,
Brier score, and precision and recall at the alert threshold. The registered model is
exactly the one evaluated (fit on train, calibrated on calibration).

Fallback (`fallback_hazard`, every plant, and the only score of plants without sensors): a
Weibull hazard from MTBF and the time since the last repair, both in operating hours (the
asset's line run time): P(fail in the next h) = 1 - exp(-(((t + h) / eta)^k - (t / eta)^k)),
eta = MTBF / Gamma(1 + 1/k), k = WEIBULL_SHAPE, MTBF = data_access.kpis.mtbf_hours over the
last LOOKBACK_DAYS (the asset's own with at least MIN_OWN_FAILURES failures, else its class's
at the plant, else the class's across the scope), h = the line's run hours of the last
28 days scaled to HORIZON_DAYS.
"""

import base64
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from data_access import kpis

HORIZON_DAYS = 7
ALERT_THRESHOLD = 0.5
"""Alert threshold the precision is measured at: the enterprise default of the plant policy's
risk_threshold.maintenance (governance/policies.py)."""
SPLIT = (0.6, 0.2, 0.2)  # train, calibration, test shares of the labelled days
MIN_CAL_POSITIVES = 10  # failures-within-horizon rows a plant needs for its own calibration
LOOKBACK_DAYS = 365
MIN_OWN_FAILURES = 3
WEIBULL_SHAPE = 2.0
BASELINE = (8, 60)  # readings before the day that make the sensor baseline
RECENT = 7  # readings that make the recent mean and slope

NUMERIC = [
    "vib_ratio",
    "vib_slope",
    "temp_rise",
    "temp_slope",
    "cur_ratio",
    "cur_slope",
    "vib_last_ratio",
    "days_since_repair",
    "days_since_failure",
    "failures_365",
    "age_years",
    "run_hours_7",
]
CATEGORICAL = ["asset_class", "criticality"]
FEATURES = NUMERIC + CATEGORICAL
DRIFT_FEATURES = ["vib_ratio", "temp_rise", "cur_ratio", "days_since_repair"]
"""The inputs whose drift (PSI) is recorded per plant at every scoring run."""


# --- features ------------------------------------------------------------------------------------


def _slope(values: pd.Series) -> pd.Series:
    """Least-squares slope per reading over the last RECENT readings (NaN until there are RECENT)."""
    x = np.arange(RECENT, dtype=float)
    x -= x.mean()
    weights = x / np.sum(x**2)
    return values.rolling(RECENT, min_periods=RECENT).apply(lambda w: float(np.dot(w, weights)), raw=True)


def _last_event_day(days: pd.DataFrame, events: pd.DataFrame, column: str) -> pd.Series:
    """For each (asset_id, day) row, the newest event day on or before it (NaT if none)."""
    if events.empty:
        return pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns]")
    left = days[["asset_id", "day"]].assign(_order=np.arange(len(days)), day=pd.to_datetime(days["day"]))
    right = events[["asset_id", column]].rename(columns={column: "event_day"}).dropna()
    right = right.assign(event_day=pd.to_datetime(right["event_day"]), day=pd.to_datetime(right["event_day"]))
    merged = pd.merge_asof(
        left.sort_values("day"), right.sort_values("day"), on="day", by="asset_id", direction="backward"
    )
    return merged.sort_values("_order")["event_day"].set_axis(days.index)


def features(
    health: pd.DataFrame,
    assets: pd.DataFrame,
    failures: pd.DataFrame,
    repairs: pd.DataFrame,
    label_until: dict | None = None,
) -> pd.DataFrame:
    """One row per asset and reading day, with FEATURES, `failed_within` (the label: 1, 0, or
    NaN where the downtime feed does not cover the label window yet) and plant_id, asset_id, day.

    health: data_access.intelligence.health_readings; assets: asset_register; failures:
    failure_events; repairs: completed_repairs. label_until: plant_id -> last day the
    downtime feed covers (default: the newest failure day of any plant).
    """
    if health.empty:
        return pd.DataFrame(columns=["plant_id", "asset_id", "day", *FEATURES, "failed_within"])
    h = health.sort_values(["asset_id", "day"]).reset_index(drop=True)
    h["day"] = pd.to_datetime(h["day"])
    g = h.groupby("asset_id", sort=False)
    out = h[["plant_id", "asset_id", "day"]].copy()
    lo, hi = BASELINE
    for col, name, ratio in (
        ("vibration_mm_s", "vib", True),
        ("temperature_c", "temp", False),
        ("current_a", "cur", True),
    ):
        recent = g[col].transform(lambda s: s.rolling(RECENT, min_periods=3).mean())
        base = g[col].transform(lambda s: s.shift(lo).rolling(hi - lo, min_periods=20).median())
        slope = g[col].transform(_slope)
        if ratio:
            out[f"{name}_ratio"] = recent / base
            out[f"{name}_slope"] = slope / base
        else:
            out[f"{name}_rise"] = recent - base
            out[f"{name}_slope"] = slope
        if name == "vib":
            out["vib_last_ratio"] = h[col] / base
    out["run_hours_7"] = g["run_hours"].transform(lambda s: s.rolling(RECENT, min_periods=1).sum())

    fail = failures.assign(
        start_day=pd.to_datetime(failures["day"]),
        end_day=pd.to_datetime(failures["end_utc"].dt.date if len(failures) else []),
    )
    pm = repairs[repairs["wo_type"] == "preventive"]
    pm = pm.assign(done_day=pd.to_datetime(pm["completed_utc"].dt.date if len(pm) else []))
    repair_events = pd.concat(
        [
            fail[["asset_id", "end_day"]].rename(columns={"end_day": "d"}),
            pm[["asset_id", "done_day"]].rename(columns={"done_day": "d"}),
        ],
        ignore_index=True,
    )
    last_repair = _last_event_day(out, repair_events, "d")
    last_failure = _last_event_day(out, fail, "start_day")
    out["days_since_repair"] = (out["day"] - last_repair).dt.days.astype(float)
    out["days_since_failure"] = (out["day"] - last_failure).dt.days.astype(float)
    out["failures_365"] = _count_before(out, fail, LOOKBACK_DAYS)

    reg = assets.set_index("asset_id")
    out["age_years"] = out["day"].dt.year - out["asset_id"].map(reg["install_year"]).astype(float)
    out["asset_class"] = pd.Categorical(out["asset_id"].map(reg["asset_class"]))
    out["criticality"] = pd.Categorical(out["asset_id"].map(reg["criticality"]), categories=["A", "B", "C"])

    # label: a failure starts in (day, day + HORIZON_DAYS]
    next_failure = _next_event_day(out, fail, "start_day")
    window_end = out["day"] + pd.Timedelta(days=HORIZON_DAYS)
    label = ((next_failure > out["day"]) & (next_failure <= window_end)).astype(float)
    if label_until is None:
        newest = fail["start_day"].max() if len(fail) else out["day"].max()
        covered = pd.Series(newest, index=out.index)
    else:
        covered = pd.to_datetime(out["plant_id"].map(label_until))
    label[window_end > covered] = np.nan
    out["failed_within"] = label
    out["day"] = out["day"].dt.date
    return out


def _next_event_day(days: pd.DataFrame, events: pd.DataFrame, column: str) -> pd.Series:
    """For each (asset_id, day) row, the first event day strictly after it (NaT if none)."""
    if events.empty:
        return pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns]")
    left = days[["asset_id", "day"]].assign(_order=np.arange(len(days)))
    right = events[["asset_id", column]].rename(columns={column: "event_day"}).dropna()
    right = right.assign(day=right["event_day"])
    merged = pd.merge_asof(
        left.sort_values("day"),
        right.sort_values("day"),
        on="day",
        by="asset_id",
        direction="forward",
        allow_exact_matches=False,
    )
    return merged.sort_values("_order")["event_day"].set_axis(days.index)


def _count_before(days: pd.DataFrame, events: pd.DataFrame, window_days: int) -> pd.Series:
    """Events of the asset starting in (day - window_days, day]."""
    counts = np.zeros(len(days))
    if events.empty:
        return pd.Series(counts, index=days.index)
    by_asset = {a: np.sort(g["start_day"].to_numpy()) for a, g in events.groupby("asset_id")}
    day = days["day"].to_numpy()
    for asset_id, idx in days.groupby("asset_id").indices.items():
        starts = by_asset.get(asset_id)
        if starts is None:
            continue
        d = day[idx]
        counts[idx] = np.searchsorted(starts, d, side="right") - np.searchsorted(
            starts, d - np.timedelta64(window_days, "D"), side="right"
        )
    return pd.Series(counts, index=days.index)


# --- the model -----------------------------------------------------------------------------------


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class FailureRiskModel(ClassifierMixin, BaseEstimator):
    """Global gradient-boosted classifier + Platt calibration per plant (scikit-learn contract).

    fit(X, y, plants, calibration=(X_cal, y_cal, plants_cal)): the classifier learns from
    (X, y); each plant with at least `min_cal_positives` positives (and as many negatives) in
    the calibration rows gets its own sigmoid on the classifier's logit, the others use the
    one fitted on all calibration rows. predict_proba(X, plants) applies the plant's sigmoid.
    """

    def __init__(
        self,
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        min_cal_positives=MIN_CAL_POSITIVES,
        n_threads=1,
        random_state=0,
    ):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.min_cal_positives = min_cal_positives
        self.n_threads = n_threads
        self.random_state = random_state

    def fit(self, X, y, plants, calibration):
        """Learn; OpenMP threads are capped at n_threads (1 by default: the model is small, and on
        a machine shared with other jobs more threads mostly contend: measured 4 s with 1 thread
        against 45 s with 2 on a loaded 2-core machine)."""
        with threadpool_limits(self.n_threads):
            return self._fit(X, y, plants, calibration)

    def _fit(self, X, y, plants, calibration):
        X_cal, y_cal, plants_cal = calibration
        y, y_cal = np.asarray(y, dtype=int), np.asarray(y_cal, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("the training rows hold no failure (or only failures): nothing to learn")
        if len(np.unique(y_cal)) < 2:
            raise ValueError("the calibration rows hold no failure (or only failures): cannot calibrate")
        self.classifier_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features="from_dtype",
            random_state=self.random_state,
        )
        self.classifier_.fit(X[FEATURES], y)
        self.categories_ = {c: list(X[c].cat.categories) for c in CATEGORICAL}
        raw = _logit(self.raw_proba(X_cal)).reshape(-1, 1)
        self.global_calibrator_ = _sigmoid(raw, y_cal)
        self.calibrators_ = {}
        self.calibration_counts_ = {}
        plants_cal = np.asarray(plants_cal)
        for plant in np.unique(plants_cal):
            mask = plants_cal == plant
            positives, negatives = int(y_cal[mask].sum()), int((1 - y_cal[mask]).sum())
            self.calibration_counts_[plant] = (int(mask.sum()), positives)
            if positives >= self.min_cal_positives and negatives >= self.min_cal_positives:
                self.calibrators_[plant] = _sigmoid(raw[mask], y_cal[mask])
        self.classes_ = np.array([0, 1])
        return self

    def _aligned(self, X):
        X = X[FEATURES].copy()
        for c, cats in getattr(self, "categories_", {}).items():
            X[c] = pd.Categorical(X[c].astype(object), categories=cats)  # unseen classes become NaN
        return X

    def raw_proba(self, X):
        check_is_fitted(self)
        with threadpool_limits(self.n_threads):
            return self.classifier_.predict_proba(self._aligned(X))[:, 1]

    def predict_proba(self, X, plants):
        """Calibrated probability of a failure within the horizon, per row (2 columns, like sklearn)."""
        raw = _logit(self.raw_proba(X)).reshape(-1, 1)
        out = np.empty(len(raw))
        plants = np.asarray(plants)
        for plant in np.unique(plants):
            mask = plants == plant
            out[mask] = self.calibrator_for(plant).predict_proba(raw[mask])[:, 1]
        return np.column_stack([1 - out, out])

    def predict(self, X, plants, threshold=ALERT_THRESHOLD):
        return (self.predict_proba(X, plants)[:, 1] >= threshold).astype(int)

    def calibrator_for(self, plant):
        return self.calibrators_.get(plant, self.global_calibrator_)

    def calibration_of(self, plant) -> str:
        """'plant' (own calibration) or 'global'."""
        return "plant" if plant in getattr(self, "calibrators_", {}) else "global"


def _sigmoid(raw, y):
    return LogisticRegression(C=1e4).fit(raw, y)


# --- training and evaluation ---------------------------------------------------------------------


@dataclass
class Split:
    train_end: date  # last day of the train block
    cal_start: date
    cal_end: date
    test_start: date
    test_end: date


def time_split(days, shares=SPLIT, gap_days=HORIZON_DAYS) -> Split:
    """Cut the labelled days into consecutive train / calibration / test blocks with gaps."""
    days = pd.to_datetime(pd.Series(days)).dropna()
    first, last = days.min(), days.max()
    span = (last - first).days
    if span < 5 * gap_days:
        raise ValueError(f"only {span + 1} labelled days: too few for time-ordered train, calibration and test blocks")
    usable = span - 2 * gap_days
    train_end = first + pd.Timedelta(days=int(usable * shares[0]))
    cal_start = train_end + pd.Timedelta(days=gap_days + 1)
    cal_end = cal_start + pd.Timedelta(days=int(usable * shares[1]))
    test_start = cal_end + pd.Timedelta(days=gap_days + 1)
    return Split(train_end.date(), cal_start.date(), cal_end.date(), test_start.date(), last.date())


def blocks(frame: pd.DataFrame, split: Split) -> dict[str, pd.DataFrame]:
    """The labelled rows of each block (train, cal, test)."""
    labelled = frame[frame["failed_within"].notna()]
    day = labelled["day"]
    return {
        "train": labelled[day <= split.train_end],
        "cal": labelled[(day >= split.cal_start) & (day <= split.cal_end)],
        "test": labelled[(day >= split.test_start) & (day <= split.test_end)],
    }


def evaluate(model: FailureRiskModel, rows: pd.DataFrame, threshold: float = ALERT_THRESHOLD) -> pd.DataFrame:
    """Per plant on `rows`: n, positives, base_rate, auc (None with one class), brier,
    alerts (probability >= threshold), precision and recall at the threshold, calibration.

    Columns: plant_id, n, positives, base_rate, auc, brier, alerts, precision, recall, calibration.
    """
    out = []
    if rows.empty:
        return pd.DataFrame(
            columns=[
                "plant_id",
                "n",
                "positives",
                "base_rate",
                "auc",
                "brier",
                "alerts",
                "precision",
                "recall",
                "calibration",
            ]
        )
    proba = model.predict_proba(rows, rows["plant_id"].to_numpy())[:, 1]
    for plant, idx in rows.groupby("plant_id").indices.items():
        y, p = rows["failed_within"].to_numpy()[idx].astype(int), proba[idx]
        alerts = p >= threshold
        tp = int(np.sum(alerts & (y == 1)))
        out.append(
            dict(
                plant_id=plant,
                n=len(y),
                positives=int(y.sum()),
                base_rate=float(y.mean()),
                auc=float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None,
                brier=float(brier_score_loss(y, p)),
                alerts=int(alerts.sum()),
                precision=tp / int(alerts.sum()) if alerts.any() else None,
                recall=tp / int(y.sum()) if y.sum() else None,
                calibration=model.calibration_of(plant),
            )
        )
    return pd.DataFrame(out)


@dataclass
class Trained:
    model: FailureRiskModel
    split: Split
    metrics: pd.DataFrame  # evaluate() on the test block
    rows: dict  # block name -> row count


def train(frame: pd.DataFrame, **params) -> Trained:
    """Fit and evaluate on time-ordered blocks of `features` rows (see the module docstring).

    Raises ValueError when the data cannot support it (too few days, no failure in a block).
    """
    labelled = frame[frame["failed_within"].notna()]
    if labelled.empty:
        raise ValueError("no labelled sensor day: failure risk needs plants with sensors and a downtime history")
    split = time_split(labelled["day"])
    parts = blocks(frame, split)
    for name in ("train", "cal", "test"):
        if parts[name].empty:
            raise ValueError(f"the {name} block is empty")
    model = FailureRiskModel(**params).fit(
        parts["train"],
        parts["train"]["failed_within"],
        parts["train"]["plant_id"],
        calibration=(parts["cal"], parts["cal"]["failed_within"], parts["cal"]["plant_id"]),
    )
    return Trained(model, split, evaluate(model, parts["test"]), {k: len(v) for k, v in parts.items()})


def dump(model: FailureRiskModel) -> tuple[str, str]:
    """(base64 text of the joblib-pickled model, sha256 of the pickle) for model_version.artifact."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    raw = buffer.getvalue()
    return base64.b64encode(raw).decode("ascii"), hashlib.sha256(raw).hexdigest()


def load(text: str, sha256: str) -> FailureRiskModel:
    """A model back from `dump` output; refuses an artifact whose hash does not match.

    Unpickling runs code: artifacts are only ever written by the scoring job into the
    warehouse, and the hash recorded at registration must match (see docs/intelligence.md).
    """
    raw = base64.b64decode(text.encode("ascii"))
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ValueError("the model artifact does not match its recorded sha256: refusing to load it")
    return joblib.load(io.BytesIO(raw))


# --- fallback ----------------------------------------------------------------------------------


def weibull_probability(t_h: float, h_h: float, mtbf_h: float, shape: float = WEIBULL_SHAPE) -> float:
    """P(failure within the next h | running t since the last repair), Weibull life with mean mtbf."""
    if not (mtbf_h and mtbf_h > 0 and math.isfinite(mtbf_h)) or h_h <= 0:
        return 0.0
    eta = mtbf_h / math.gamma(1.0 + 1.0 / shape)
    t = max(float(t_h), 0.0)
    return float(min(max(1.0 - math.exp(-(((t + h_h) / eta) ** shape - (t / eta) ** shape)), 0.0), 1.0))


def fallback_hazard(
    assets: pd.DataFrame, failures: pd.DataFrame, repairs: pd.DataFrame, line_run: pd.DataFrame, as_of: datetime
) -> pd.DataFrame:
    """The rule-based failure probability within HORIZON_DAYS of every asset (see module docstring).

    assets: asset_register; failures: failure_events of the last LOOKBACK_DAYS (at least);
    repairs: completed_repairs; line_run: line_run_daily covering the lookback.
    Columns: asset_id, plant_id, risk, mtbf_h, mtbf_basis (asset | class at plant | class),
    failures_lookback, hours_since_repair, horizon_run_h, last_repair_day.
    """
    as_of_day = as_of.date()
    start = as_of_day - timedelta(days=LOOKBACK_DAYS)
    runs = line_run.assign(day=pd.to_datetime(line_run["day"]))
    runs = runs[(runs["day"].dt.date > start) & (runs["day"].dt.date <= as_of_day)]
    run_s = runs.groupby("line_id")["run_s"].sum()
    recent = runs[runs["day"].dt.date > as_of_day - timedelta(days=28)]
    weekly_h = recent.groupby("line_id")["run_s"].sum() / 3600.0 * HORIZON_DAYS / 28.0

    fail = failures[(failures["day"] > start) & (failures["day"] <= as_of_day)]
    counts = fail.groupby("asset_id").size()
    a = assets.copy()
    a["failures"] = a["asset_id"].map(counts).fillna(0).astype(int)
    a["run_s"] = a["line_id"].map(run_s).fillna(0.0)
    own = kpis.mtbf_hours(a["run_s"], a["failures"])
    by_plant_class = a.groupby(["plant_id", "asset_class"])[["run_s", "failures"]].transform("sum")
    plant_class = kpis.mtbf_hours(by_plant_class["run_s"], by_plant_class["failures"])
    by_class = a.groupby("asset_class")[["run_s", "failures"]].transform("sum")
    network_class = kpis.mtbf_hours(by_class["run_s"], by_class["failures"])
    use_own = a["failures"] >= MIN_OWN_FAILURES
    a["mtbf_h"] = np.where(use_own, own, np.where(plant_class.notna(), plant_class, network_class))
    a["mtbf_basis"] = np.where(use_own, "asset", np.where(plant_class.notna(), "class at plant", "class"))

    # last repair: end of the newest failure, or the newest completed preventive work order
    last = {}
    ends = failures[failures["end_utc"] < pd.Timestamp(as_of)].groupby("asset_id")["end_utc"].max()
    pms = repairs[(repairs["wo_type"] == "preventive") & (repairs["completed_utc"] < pd.Timestamp(as_of))]
    pms = pms.groupby("asset_id")["completed_utc"].max()
    for asset_id in a["asset_id"]:
        stamps = [v for v in (ends.get(asset_id), pms.get(asset_id)) if v is not None and not pd.isna(v)]
        last[asset_id] = max(stamps).date() if stamps else None
    a["last_repair_day"] = a["asset_id"].map(last)
    line_days = {line_id: g.set_index(g["day"].dt.date)["run_s"] for line_id, g in runs.groupby("line_id")}
    hours, risks = [], []
    for row in a.itertuples(index=False):
        series = line_days.get(row.line_id)
        since = row.last_repair_day or start
        t_h = float(series[series.index > since].sum()) / 3600.0 if series is not None else 0.0
        h_h = float(weekly_h.get(row.line_id, 0.0))
        hours.append(t_h)
        risks.append(weibull_probability(t_h, h_h, row.mtbf_h))
    a["hours_since_repair"] = hours
    a["horizon_run_h"] = a["line_id"].map(weekly_h).fillna(0.0)
    a["risk"] = risks
    a["failures_lookback"] = a["failures"]
    return a[
        [
            "asset_id",
            "plant_id",
            "risk",
            "mtbf_h",
            "mtbf_basis",
            "failures_lookback",
            "hours_since_repair",
            "horizon_run_h",
            "last_repair_day",
        ]
    ]
