"""What the Forecasts, Risk and Models & data pages show: cached reads of stored results, figures,
and the two actions a page may take (refit one series; approve or retire a model version).

Pages never train: everything here reads what `forecasting.refresh` and `forecasting.score`
stored, except `refit_series`, which refits ONE series on demand (DESIGN: "a single series
may be refit on demand"). Caches are keyed by the warehouse and the user's scope
(components.cached.cache_query); actions clear them.
"""

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.cached import LIVE_TTL_S, RESULTS_TTL_S, cache_query
from data_access import intelligence as q
from data_access import model_holds, queries
from data_access import model_registry as registry
from data_access.scope import PlantScope
from forecasting import failure_risk, refresh
from governance import model_serving
from jobs import pipeline

HISTORY_SHOWN_DAYS = 120
REFIT_PERMISSIONS = ("refit_forecast",)
"""Who may refit a series from the Forecasts page: planners and plant managers (their plants)
and admins. Refitting writes a new forecast for the series; it trains one series' candidates."""

CANDIDATE_LABELS = {
    "seasonal_naive": "Seasonal naive (baseline)",
    "naive": "Naive (last value)",
    "theta": "Theta",
    "ets": "ETS (damped)",
    "arima": "ARIMA",
    "prophet": "Prophet",
    "ensemble": "Mean of ETS, Theta, ARIMA",
}
METRIC_HELP = {
    "mase": "Mean absolute scaled error over the backtest origins: the forecast's mean absolute error divided "
    "by the in-sample error of the seasonal naive forecast. Below 1 beats repeating last week.",
    "wape": "Weighted absolute percentage error: sum of |actual - forecast| / sum of |actual| over the "
    "backtest origins.",
}
MODEL_METRICS = {
    "auc": ("AUC (test)", "Ranking quality on the time-ordered test block: 0.5 is chance, 1 is perfect."),
    "brier": ("Brier (test)", "Mean squared error of the calibrated probability on the test block (lower is better)."),
    "precision_at_alert": (
        "Precision at alert",
        f"Share of assets alerted (probability >= "
        f"{failure_risk.ALERT_THRESHOLD:g}) that failed within "
        f"{failure_risk.HORIZON_DAYS} days, on the test block.",
    ),
    "recall_at_alert": ("Recall at alert", "Share of failures within the horizon that were alerted, test block."),
    "base_rate": ("Base rate", "Share of asset-days followed by a failure within the horizon, test block."),
    "test_rows": ("Test asset-days", "Labelled asset-days in the test block."),
    "test_failures": ("Test positives", "Asset-days of the test block followed by a failure within the horizon."),
    "own_calibration": (
        "Own calibration",
        "1: the plant has its own calibration; 0: it uses the global one "
        f"(fewer than {failure_risk.MIN_CAL_POSITIVES} positives).",
    ),
}


# --- cached reads ------------------------------------------------------------------------------


@cache_query(ttl=RESULTS_TTL_S)
def latest_series(engine, scope: PlantScope) -> pd.DataFrame:
    return q.latest_series(engine, scope)


@cache_query(ttl=RESULTS_TTL_S)
def forecast_points(engine, scope, run_id, plant_id, metric) -> pd.DataFrame:
    return q.forecast_points(engine, scope, run_id, plant_id, metric)


@cache_query(ttl=RESULTS_TTL_S)
def candidate_scores(engine, scope, run_id, plant_id, metric) -> pd.DataFrame:
    return q.candidate_scores(engine, scope, run_id, plant_id, metric)


@cache_query(ttl=RESULTS_TTL_S)
def latest_candidate_scores(engine, scope) -> pd.DataFrame:
    return q.latest_candidate_scores(engine, scope)


@cache_query(ttl=RESULTS_TTL_S)
def history(engine, scope, plant_id, metric, start, end) -> pd.DataFrame:
    return q.series_history(engine, scope.narrowed([plant_id]), metric, start, end)


@cache_query(ttl=RESULTS_TTL_S)
def versions(engine) -> pd.DataFrame:
    return registry.versions(engine)


@cache_query(ttl=RESULTS_TTL_S)
def model_metrics(engine, scope, model_name=None) -> pd.DataFrame:
    return registry.metrics(engine, scope, model_name=model_name)


@cache_query(ttl=RESULTS_TTL_S)
def forecast_runs(engine) -> pd.DataFrame:
    return q.forecast_runs(engine)


@cache_query(ttl=RESULTS_TTL_S)
def score_runs(engine) -> pd.DataFrame:
    return q.score_runs(engine)


@cache_query(ttl=RESULTS_TTL_S)
def risk_scores(engine, scope, run_id, kind) -> pd.DataFrame:
    return q.risk_scores(engine, scope, run_id, kind)


@cache_query(ttl=RESULTS_TTL_S)
def risk_summary(engine, scope, run_id) -> pd.DataFrame:
    return q.risk_summary(engine, scope, run_id)


@cache_query(ttl=LIVE_TTL_S)
def freshness(engine, scope) -> pd.DataFrame:
    return queries.feed_freshness(engine, scope)


@cache_query(ttl=RESULTS_TTL_S)
def plants(engine, scope) -> pd.DataFrame:
    return queries.plants(engine, scope)


@cache_query(ttl=60)
def holds(engine, scope) -> pd.DataFrame:
    """Open model holds of the plants in scope (data_access.model_holds.holds)."""
    return model_holds.holds(engine, scope)


def clear_caches() -> None:
    for function in (
        latest_series,
        forecast_points,
        candidate_scores,
        latest_candidate_scores,
        history,
        versions,
        model_metrics,
        forecast_runs,
        score_runs,
        risk_scores,
        risk_summary,
        holds,
    ):
        function.clear()


# --- forecasts -----------------------------------------------------------------------------------


def series_label(metric: str) -> str:
    label, unit, _ = q.SERIES[metric]
    return f"{label} ({unit})"


def fan_chart(past: pd.DataFrame, points: pd.DataFrame, metric: str, served_model: str):
    """Actuals, the forecast and its 80 % interval as a band (plotly, from the forecast frame)."""
    label, unit, _ = q.SERIES[metric]
    figure = go.Figure()
    if len(points):
        days = list(points["day"]) + list(points["day"])[::-1]
        figure.add_trace(
            go.Scatter(
                x=days,
                y=list(points["yhat_upper"]) + list(points["yhat_lower"])[::-1],
                fill="toself",
                fillcolor="rgba(31, 119, 180, 0.18)",
                line={"width": 0},
                hoverinfo="skip",
                name="80 % interval",
            )
        )
    figure.add_trace(
        go.Scatter(x=past["day"], y=past["y"], mode="lines", name="Actual", line={"color": "#333", "width": 1.4})
    )
    if len(points):
        figure.add_trace(
            go.Scatter(
                x=points["day"],
                y=points["yhat"],
                mode="lines",
                name=f"Forecast ({CANDIDATE_LABELS.get(served_model, served_model)})",
                line={"color": "#1f77b4", "width": 2.4},
            )
        )
    figure.update_layout(
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        height=380,
        hovermode="x unified",
        xaxis_title="Plant-local day",
        yaxis_title=f"{label} ({unit})",
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def series_detail(engine, scope, row) -> dict:
    """History, forecast points and candidates of one stored series (a latest_series row)."""
    points = forecast_points(engine, scope, row.run_id, row.plant_id, row.metric)
    end = row.history_end
    past = pd.DataFrame(columns=["plant_id", "day", "y"])
    if end is not None:
        past = history(engine, scope, row.plant_id, row.metric, end - timedelta(days=HISTORY_SHOWN_DAYS - 1), end)
        if row.metric in q.ZERO_FILLED and not past.empty:
            grid = pd.date_range(past["day"].min(), end, freq="D").date
            past = (
                past.set_index("day")
                .reindex(grid)
                .rename_axis("day")
                .reset_index()
                .assign(plant_id=row.plant_id)
                .fillna({"y": 0.0})
            )
    scores = candidate_scores(engine, scope, row.run_id, row.plant_id, row.metric).copy()
    scores["label"] = scores["candidate"].map(lambda c: CANDIDATE_LABELS.get(c, c))
    scores["role"] = [
        ("chosen by backtest" if c == row.chosen_model else "")
        + (
            ", served"
            if c == row.served_model and c == row.chosen_model
            else "served (fallback)"
            if c == row.served_model
            else ""
        )
        for c in scores["candidate"]
    ]
    scores = scores.sort_values(["mase"], na_position="last", ignore_index=True)
    chart_data = pd.concat(
        [
            past.assign(kind="actual").rename(columns={"y": "value"})[["day", "kind", "value"]],
            points.assign(kind="forecast")[["day", "kind", "yhat", "yhat_lower", "yhat_upper", "model"]].rename(
                columns={"yhat": "value"}
            ),
        ],
        ignore_index=True,
    )
    return {"past": past, "points": points, "scores": scores, "chart_data": chart_data}


def can_refit(user) -> bool:
    return any(user.can(p) for p in REFIT_PERMISSIONS)


def refit_series(engine, user, plant_id: str, metric: str) -> str:
    """Refit one series now (a progress bar while it runs); returns what was served."""
    if not can_refit(user):
        raise refresh.RefreshError("your role may not refit forecasts")
    bar = st.progress(0.0, text=f"Backtesting the candidates on {plant_id} {series_label(metric)}")
    try:
        result = pipeline.refit_one(
            engine,
            plant_id,
            metric,
            user.scope,
            actor=user.username,
            progress=lambda done, total, label: bar.progress(done / max(total, 1), text=label),
        )
    finally:
        bar.empty()
    clear_caches()
    row = result.row
    if row["error"]:
        return f"No forecast could be made: {row['error']}"
    served = CANDIDATE_LABELS.get(row["served_model"], row["served_model"])
    return (
        f"Refitted: serving {served}"
        + (f" (fallback: {row['fallback_reason']})" if row["fallback_reason"] else " (chosen by the backtest)")
        + "."
    )


def reselection_label(row) -> str:
    """When and why a series' model was last picked by the candidate backtest (a latest_series row)."""
    day = row["reselected_day"]
    if day is None or pd.isna(day):
        return "never: no backtest possible yet" + (f" ({row['fallback_reason']})" if row["fallback_reason"] else "")
    return f"{day:%Y-%m-%d}: {row['reselect_reason'] or 'before reasons were recorded'}"


# --- models & data --------------------------------------------------------------------------------


def metrics_pivot(metrics: pd.DataFrame, model_id: int, names: dict[str, str]) -> pd.DataFrame:
    """One row per plant: each metric's newest value of a version (plants in the frame only)."""
    m = metrics[metrics["model_id"] == model_id]
    if m.empty:
        return pd.DataFrame(columns=["plant_id", "plant"])
    newest = m.sort_values("measured_utc").groupby(["plant_id", "metric"], as_index=False).last()
    out = newest.pivot(index="plant_id", columns="metric", values="value").reset_index()
    out.columns.name = None
    out.insert(1, "plant", out["plant_id"].map(names).fillna(out["plant_id"]))
    return out


def feed_status(engine, scope) -> pd.DataFrame:
    """Feed freshness with the limit beyond which model scores fall back.

    Columns: plant, plant_id, source, last_received_utc, age_h, expected_cadence_h, limit_h,
    status (fresh | late: past its cadence | stale: fallback: past the plant policy's limit).
    """
    fresh = freshness(engine, scope).copy()
    names = dict(zip(*plants(engine, scope)[["plant_id", "name"]].to_numpy().T)) if len(fresh) else {}
    fresh["plant"] = fresh["plant_id"].map(names)
    fresh = model_serving.feed_limits(engine, fresh)
    fresh["status"] = [
        "stale: fallback" if beyond else "late" if age > cadence else "fresh"
        for age, cadence, beyond in zip(fresh["age_h"], fresh["expected_cadence_h"], fresh["beyond_limit"])
    ]
    return fresh[
        ["plant", "plant_id", "source", "last_received_utc", "age_h", "expected_cadence_h", "limit_h", "status"]
    ]


def fallback_status(engine, scope, run_id: str | None) -> pd.DataFrame:
    """Per plant: what its risk scores and forecasts are served from, as of the newest runs.

    Columns: plant, plant_id, data_maturity, failure (served by: model / fallback counts),
    failure_reason, shortage, disruption, forecasts (series on a fallback / series), forecast_reason,
    reselected (the oldest day a series' model was last picked by the candidate backtest, or never),
    reselect_reason (why those backtests ran).
    """
    p = plants(engine, scope)[["plant_id", "name", "data_maturity"]].rename(columns={"name": "plant"})
    out = p.copy()
    if run_id:
        for kind in ("failure", "shortage", "disruption"):
            scores = risk_scores(engine, scope, run_id, kind)
            if scores.empty:
                out[kind], out[f"{kind}_reason"] = "not scored", ""
                continue
            grouped = scores.groupby("plant_id")
            served = grouped["source"].agg(
                lambda s: f"{(s == 'model').sum()} model, {(s == 'fallback').sum()} fallback"
            )
            reason = grouped["reason"].agg(lambda r: "; ".join(sorted({x for x in r.dropna()}))[:300])
            out[kind] = out["plant_id"].map(served).fillna("not scored")
            out[f"{kind}_reason"] = out["plant_id"].map(reason).fillna("")
    else:
        for kind in ("failure", "shortage", "disruption"):
            out[kind], out[f"{kind}_reason"] = "no scoring run yet", ""
    series = latest_series(engine, scope)
    if len(series):
        g = series.groupby("plant_id")
        out["forecasts"] = (
            out["plant_id"]
            .map(g["fallback_reason"].agg(lambda r: f"{r.notna().sum()} of {len(r)} on a fallback"))
            .fillna("none stored")
        )
        out["forecast_reason"] = (
            out["plant_id"]
            .map(g["fallback_reason"].agg(lambda r: "; ".join(sorted({x for x in r.dropna()}))[:300]))
            .fillna("")
        )
        out["reselected"] = out["plant_id"].map(
            g["reselected_day"].agg(lambda d: f"{min(d.dropna()):%Y-%m-%d}" if d.notna().any() else "never")
        )
        out["reselect_reason"] = (
            out["plant_id"]
            .map(g["reselect_reason"].agg(lambda r: "; ".join(sorted({x for x in r.dropna()}))[:300]))
            .fillna("")
        )
    else:
        out["forecasts"], out["forecast_reason"] = "none stored", ""
        out["reselected"], out["reselect_reason"] = "never", ""
    return out


# --- risk ----------------------------------------------------------------------------------------


def latest_score_run(engine) -> pd.Series | None:
    runs = score_runs(engine)
    done = runs[runs["status"] == "done"].sort_values(["as_of_utc", "started_utc"], ascending=False)
    return None if done.empty else done.iloc[0]


def risk_table(engine, scope, run_id: str, kind: str) -> pd.DataFrame:
    """The stored scores of one kind, with the details a planner reads flattened into columns."""
    scores = risk_scores(engine, scope, run_id, kind)
    if scores.empty:
        return scores
    detail = pd.json_normalize(scores["detail"].tolist()).set_index(scores.index)
    out = pd.concat([scores.drop(columns=["detail"]), detail], axis=1)
    out["source_label"] = [("model" if s == "model" else "fallback rule") for s in out["source"]]
    return out
