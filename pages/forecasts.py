"""Forecasts: each plant's demand, unplanned downtime and output, with honest accuracy beside them."""

import streamlit as st

from components import intelligence as intel
from components.jobs import worker_progress
from components.tables import chart, download_csv, table
from components.warehouse import get_engine
from data_access.intelligence import SERIES
from forecasting.refresh import RefreshError
from governance.login import current_user

st.title("Forecasts")
user = current_user()
engine = get_engine()
st.caption(
    "Daily forecasts per plant with an 80 % interval. Each series is forecast by the candidate that "
    "did best in its own rolling-origin backtest (lowest mean MASE), once the forecaster version is "
    "approved on the Models & data page; until then, and for short, flat or gappy series, the "
    "seasonal naive baseline is served and labelled as a fallback. Stored by the worker's forecast "
    "refresh (daily, and after each data load: see Jobs); this page never trains, except a refit you ask for."
)

series = intel.latest_series(engine, user.scope)
if series.empty:
    worker_progress(engine, user.scope, ("forecasts",), "forecasts", intel.latest_series.clear)
    st.stop()

names = dict(zip(series["plant_id"], series["plant_name"]))
plant_col, metric_col = st.columns(2)
plant_id = plant_col.selectbox("Plant", sorted(names), format_func=lambda p: f"{names[p]} ({p})", key="forecasts_plant")
available = [m for m in SERIES if ((series["plant_id"] == plant_id) & (series["metric"] == m)).any()]
metric = metric_col.selectbox("Series", available, format_func=intel.series_label, key="forecasts_metric")
row = series[(series["plant_id"] == plant_id) & (series["metric"] == metric)].iloc[0]
label, unit, definition = SERIES[metric]
st.caption(
    f"**{label}** ({unit}): {definition}. History {row.history_start} to {row.history_end} "
    f"({row.observed} days with data, {row.missing} missing); forecaster {row.version}, fitted "
    f"{row.fitted_utc:%Y-%m-%d %H:%M} UTC (run {row.run_id})."
)

served = intel.CANDIDATE_LABELS.get(row.served_model, row.served_model)
if row.error:
    st.error(f"No forecast for this series: {row.error}", icon=":material/error:")
elif row.fallback_reason:
    st.warning(f"**Fallback:** serving {served}. Why: {row.fallback_reason}.", icon=":material/rule:")
else:
    st.success(
        f"Serving **{served}**, chosen by the backtest (approved forecaster {row.version}).", icon=":material/verified:"
    )

detail = intel.series_detail(engine, user.scope, row)
st.subheader(f"{label}: last {intel.HISTORY_SHOWN_DAYS} days and the next {row.horizon_days}")
chart(
    intel.fan_chart(detail["past"], detail["points"], metric, row.served_model),
    detail["chart_data"],
    key="forecasts_fan",
    file_name=f"forecast_{plant_id}_{metric}.csv",
    empty_message="Neither history nor forecast is stored for this series.",
)

st.subheader("Candidates in the rolling-origin backtest")
st.caption(
    f"**Last reselected** {intel.reselection_label(row)}. The daily refresh refits the chosen model on "
    "the newest data; the backtest of every candidate runs again weekly, for a new forecaster version, "
    "or at once when the served model drifts (it did worse than seasonal naive over the last two "
    "weeks, or its input's PSI passed the major-shift limit)."
)
st.caption(
    f"{row.origins} origin(s) of {row.horizon_days} days each on this series' own history; every "
    "candidate forecasts the days after each origin from the days before it. The lowest mean MASE "
    "wins, ties go to the simpler model, so the choice never does worse than seasonal naive on "
    "this backtest."
)
table(
    detail["scores"],
    key="forecasts_candidates",
    file_name=f"backtest_{plant_id}_{metric}.csv",
    column_config={
        "label": st.column_config.TextColumn("Candidate"),
        "mase": st.column_config.NumberColumn("MASE", format="%.3f", help=intel.METRIC_HELP["mase"]),
        "wape": st.column_config.NumberColumn("WAPE", format="percent", help=intel.METRIC_HELP["wape"]),
        "role": st.column_config.TextColumn("Role"),
        "fit_seconds": st.column_config.NumberColumn(
            "Fit time (s)", format="%.2f", help="Summed over the origins (an ensemble: its members')."
        ),
        "error": st.column_config.TextColumn("Error", help="Why a candidate could not be scored."),
    },
    empty_message=f"No candidate was backtested: {row.fallback_reason or 'the series is too short'}.",
)

st.subheader("Forecast values")
points = detail["points"]
table(
    points,
    key="forecasts_points",
    file_name=f"forecast_values_{plant_id}_{metric}.csv",
    column_config={
        "day": st.column_config.DateColumn("Plant-local day"),
        "yhat": st.column_config.NumberColumn(f"Forecast ({unit})", format="%.1f"),
        "yhat_lower": st.column_config.NumberColumn(f"80 % low ({unit})", format="%.1f"),
        "yhat_upper": st.column_config.NumberColumn(f"80 % high ({unit})", format="%.1f"),
        "model": st.column_config.TextColumn("Model"),
    },
    empty_message="No forecast is stored for this series.",
)

with st.expander("Refit this series now"):
    st.caption(
        "Backtests every candidate on this series' newest data (a reselection, recorded as requested "
        "by you) and stores the result; takes from a few seconds to about a minute. Other series keep "
        "their stored forecasts."
    )
    allowed = intel.can_refit(user)
    if st.button(
        "Refit series",
        key="forecasts_refit",
        disabled=not allowed,
        icon=":material/refresh:",
        help=None if allowed else "Planners, plant managers and admins may refit forecasts.",
    ):
        try:
            with st.spinner("Refitting"):
                st.session_state["forecasts_refit_message"] = intel.refit_series(engine, user, plant_id, metric)
        except RefreshError as exc:
            st.session_state["forecasts_refit_message"] = f"Refit refused: {exc}"
        st.rerun()
    if message := st.session_state.pop("forecasts_refit_message", None):
        st.info(message, icon=":material/info:")

st.subheader("Every series in your plants")
overview = series.assign(
    series=series["metric"].map(intel.series_label),
    served=series["served_model"].map(lambda m: intel.CANDIDATE_LABELS.get(m, m)),
    chosen=series["chosen_model"].map(lambda m: intel.CANDIDATE_LABELS.get(m, m)),
    reselected=[intel.reselection_label(r) for _, r in series.iterrows()],
)
scores = intel.latest_candidate_scores(engine, user.scope)
if len(scores):
    chosen_mase = scores.merge(
        series[["plant_id", "metric", "chosen_model"]],
        left_on=["plant_id", "metric", "candidate"],
        right_on=["plant_id", "metric", "chosen_model"],
    )[["plant_id", "metric", "mase"]]
    naive = scores[scores["candidate"] == "seasonal_naive"][["plant_id", "metric", "mase"]]
    overview = overview.merge(chosen_mase, on=["plant_id", "metric"], how="left").merge(
        naive.rename(columns={"mase": "mase_naive"}), on=["plant_id", "metric"], how="left"
    )
else:
    overview = overview.assign(mase=None, mase_naive=None)
table(
    overview,
    key="forecasts_overview",
    file_name="forecast_series.csv",
    column_config={
        "plant_name": st.column_config.TextColumn("Plant"),
        "series": st.column_config.TextColumn("Series"),
        "served": st.column_config.TextColumn("Served"),
        "chosen": st.column_config.TextColumn("Backtest choice"),
        "mase": st.column_config.NumberColumn("MASE of choice", format="%.3f", help=intel.METRIC_HELP["mase"]),
        "mase_naive": st.column_config.NumberColumn("MASE seasonal naive", format="%.3f"),
        "fallback_reason": st.column_config.TextColumn("Fallback because"),
        "reselected": st.column_config.TextColumn(
            "Last reselected, why",
            help="When the backtest of every candidate last chose this model, "
            "and why it ran then; daily refreshes refit the choice.",
        ),
        "history_end": st.column_config.DateColumn("Data until"),
        "fitted_utc": st.column_config.DatetimeColumn("Fitted (UTC)", format="YYYY-MM-DD HH:mm"),
    },
)
download_csv(
    intel.latest_candidate_scores(engine, user.scope),
    "backtest_all_series.csv",
    key="forecasts_all_scores_csv",
    label="Download every candidate's backtest (CSV)",
)
