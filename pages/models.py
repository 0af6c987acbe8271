"""Models & data: the model registry with approval, accuracy and drift per plant, fallback status, feeds, live feed."""

import plotly.express as px
import streamlit as st

from components import intelligence as intel
from components import live as live_feed
from components.jobs import worker_progress
from components.tables import chart, table
from components.warehouse import get_engine
from governance import model_serving
from governance.login import current_user

st.title("Models & data")
user = current_user()
engine = get_engine()
st.caption(
    "Every trained model is a version here. A version is served only after someone allowed to approve "
    "models (admin) approves it; until then, and wherever a feed is stale or a plant has no sensors, "
    "scores come from the fallback rules and say so. Metrics are per plant; drift compares a model's "
    "inputs now with those it was trained on."
)

versions = intel.versions(engine)
plants = intel.plants(engine, user.scope)
names = dict(zip(plants["plant_id"], plants["name"]))

st.subheader("Registry")
status_help = "candidate: trained, waiting for approval; approved: served; retired: replaced or withdrawn"
table(
    versions,
    key="models_registry",
    file_name="model_registry.csv",
    column_config={
        "model_id": st.column_config.NumberColumn("Id", format="%d"),
        "model_name": st.column_config.TextColumn(
            "Model",
            help="forecaster: the forecast configuration (candidates, "
            "horizon, history, backtest); failure_risk: the asset failure classifier",
        ),
        "version": st.column_config.TextColumn("Version"),
        "status": st.column_config.TextColumn("Status", help=status_help),
        "trained_utc": st.column_config.DatetimeColumn("Trained (UTC)", format="YYYY-MM-DD HH:mm"),
        "approved_by": st.column_config.TextColumn("Approved by"),
        "approved_utc": st.column_config.DatetimeColumn("Approved (UTC)", format="YYYY-MM-DD HH:mm"),
        "approval_reason": st.column_config.TextColumn("Reason"),
    },
    export=versions.drop(columns=["params"]),
    empty_message="No model is registered yet. The worker's forecast refresh registers the forecaster and its "
    "risk scoring the failure-risk model (see Jobs).",
)
st.caption(
    "On the generated sample network only, the first forecaster and failure-risk versions are approved by "
    'the system actor "sample-data setup" (audited), so the models work from the first start. Versions '
    "trained on real data are never approved automatically: an admin approves them here."
)

if user.can(model_serving.APPROVE_PERMISSION) and len(versions):
    with st.form("models_approval_form", clear_on_submit=True):
        st.markdown("**Approve or retire a version** (audited: who, when, why)")
        open_versions = versions[versions["status"] != "retired"]
        labels = {int(r.model_id): f"{r.model_name} {r.version} ({r.status})" for r in open_versions.itertuples()}
        chosen = st.selectbox("Version", list(labels), format_func=labels.get, key="models_approve_version")
        action = st.radio(
            "Action",
            ["Approve", "Retire"],
            horizontal=True,
            key="models_approve_action",
            help="Approving retires the version approved before it; retiring sends the model's "
            "plants to the fallback rules until another version is approved.",
        )
        reason = st.text_area(
            "Reason",
            key="models_approve_reason",
            placeholder="What you checked, e.g. AUC and Brier per plant, backtest MASE against seasonal naive",
        )
        if st.form_submit_button("Submit", icon=":material/gavel:"):
            try:
                change = model_serving.approve if action == "Approve" else model_serving.retire
                done = change(engine, user, chosen, reason)
                intel.clear_caches()
                st.session_state["models_approval_message"] = (
                    True,
                    f"{done['model_name']} {done['version']} is now {done['status']}. Batch jobs serve it "
                    "from their next run (forecasts: the next refresh or a refit; risk: the next scoring).",
                )
            except model_serving.ModelGovernanceError as exc:
                st.session_state["models_approval_message"] = (False, str(exc))
            st.rerun()
    if result := st.session_state.pop("models_approval_message", None):
        ok, text = result
        (st.success if ok else st.error)(text)
elif len(versions):
    st.caption("Only an admin may approve or retire model versions.")

st.subheader("Accuracy per plant")
metrics = intel.model_metrics(engine, user.scope)
failure_versions = versions[versions["model_name"] == "failure_risk"]
if failure_versions.empty:
    worker_progress(engine, user.scope, ("risk",), "a trained failure-risk model", intel.versions.clear)
else:
    labels = {int(r.model_id): f"failure_risk {r.version} ({r.status})" for r in failure_versions.itertuples()}
    model_id = st.selectbox("Failure-risk version", list(labels), format_func=labels.get, key="models_failure_version")
    st.caption(
        "Measured on the time-ordered test block (the last 20 % of labelled days, after a gap), never on "
        "shuffled rows; plants without sensors have no row: they are always scored by the fallback rule."
    )
    pivot = intel.metrics_pivot(metrics, model_id, names)
    config = {"plant": st.column_config.TextColumn("Plant")}
    for key, (label, help_text) in intel.MODEL_METRICS.items():
        config[key] = st.column_config.NumberColumn(label, help=help_text, format="%.3f")
    table(
        pivot,
        key="models_failure_metrics",
        file_name="failure_risk_metrics.csv",
        column_config=config,
        empty_message="This version has no metric for the plants in your scope (they have no sensors).",
    )

forecaster = metrics[metrics["model_name"] == "forecaster"]
if len(forecaster):
    st.caption(
        "Forecaster, newest run: backtest MASE of the chosen model against seasonal naive per plant and "
        "series (below 1: better than repeating last week), and the realized WAPE of the previous run's "
        "forecast on the days that have arrived since."
    )
    newest = forecaster.sort_values("measured_utc").groupby(["plant_id", "metric"], as_index=False).last()
    newest = newest[newest["metric"].str.match(r"^(mase|mase_sn|wape|wape_live)\.")]
    newest = newest.assign(
        plant=newest["plant_id"].map(names),
        kind=newest["metric"].str.split(".").str[0],
        series=newest["metric"].str.split(".").str[1],
    )
    wide = newest.pivot_table(index=["plant", "series"], columns="kind", values="value").reset_index()
    table(
        wide,
        key="models_forecaster_metrics",
        file_name="forecaster_metrics.csv",
        column_config={
            "plant": st.column_config.TextColumn("Plant"),
            "series": st.column_config.TextColumn("Series"),
            "mase": st.column_config.NumberColumn("MASE (choice)", format="%.3f", help=intel.METRIC_HELP["mase"]),
            "mase_sn": st.column_config.NumberColumn("MASE (seasonal naive)", format="%.3f"),
            "wape": st.column_config.NumberColumn("WAPE (choice)", format="percent", help=intel.METRIC_HELP["wape"]),
            "wape_live": st.column_config.NumberColumn(
                "Realized WAPE", format="percent", help="The previous run's forecast against the actuals since."
            ),
        },
    )

st.subheader("Monitoring over time")
st.caption(
    "Each scoring run records, per plant, the serving failure-risk version's live accuracy on the last "
    "labelled weeks (auc_live, brier_live) and the drift of its inputs against its training window "
    f"(psi.*: population stability index; below {model_serving.PSI_MODERATE:g} stable, "
    f"{model_serving.PSI_MODERATE:g}-{model_serving.PSI_MAJOR:g} moderate shift, above {model_serving.PSI_MAJOR:g} "
    "major shift). Each refresh records the forecaster's backtest accuracy (mase.*, wape.*), realized "
    "accuracy (wape_live.*) and drift of the series (psi.*)."
)
monitored = metrics[metrics["metric"].str.contains(r"_live|^psi\.|^mase\.|^wape", regex=True)]
if monitored.empty:
    st.info("Nothing monitored yet: the first refresh and scoring runs record it.", icon=":material/monitoring:")
else:
    options = sorted(monitored.assign(key=monitored["model_name"] + " / " + monitored["metric"])["key"].unique())
    picked = st.selectbox("Metric", options, key="models_monitor_metric")
    model_name, metric = picked.split(" / ", 1)
    shown = monitored[(monitored["model_name"] == model_name) & (monitored["metric"] == metric)]
    shown = shown.assign(plant=shown["plant_id"].map(names))
    figure = px.line(
        shown,
        x="measured_utc",
        y="value",
        color="plant",
        markers=True,
        labels={"measured_utc": "Measured (UTC; forecaster: its data day)", "value": metric, "plant": ""},
    )
    if metric.startswith("psi."):
        figure.add_hline(y=model_serving.PSI_MAJOR, line_dash="dot", annotation_text="major shift")
        figure.add_hline(y=model_serving.PSI_MODERATE, line_dash="dot", annotation_text="moderate")
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=320)
    chart(
        figure,
        shown[["plant", "plant_id", "model_name", "version", "metric", "measured_utc", "value"]],
        key="models_monitor_chart",
        file_name="model_monitoring.csv",
    )
    drift = monitored[monitored["metric"].str.startswith("psi.")]
    if len(drift):
        latest = drift.sort_values("measured_utc").groupby(["model_name", "plant_id", "metric"], as_index=False).last()
        latest = latest.assign(
            plant=latest["plant_id"].map(names), reading=latest["value"].map(model_serving.psi_label)
        )
        table(
            latest.sort_values("value", ascending=False),
            key="models_drift",
            file_name="input_drift.csv",
            column_config={
                "plant": st.column_config.TextColumn("Plant"),
                "model_name": st.column_config.TextColumn("Model"),
                "metric": st.column_config.TextColumn("Input"),
                "value": st.column_config.NumberColumn("PSI", format="%.3f"),
                "reading": st.column_config.TextColumn("Reading"),
                "measured_utc": st.column_config.DatetimeColumn("Measured (UTC)", format="YYYY-MM-DD HH:mm"),
            },
        )

st.subheader("Fallback status per plant")
run = intel.latest_score_run(engine)
st.caption(
    "What each plant's scores and forecasts are served from in the newest runs, and why a fallback rule "
    "is used: no sensors, version not approved, a feed stale beyond its limit, or a hold after drift or lost "
    "accuracy" + (f" (scoring run as of {run['as_of_utc']:%Y-%m-%d %H:%M} UTC)." if run is not None else ".")
)
status = intel.fallback_status(engine, user.scope, None if run is None else run["run_id"])
reasons = status[[c for c in ("failure_reason", "forecast_reason") if c in status.columns]]
if (reasons != "").to_numpy().any():
    st.warning("Some plants are served by fallback rules: see the reasons below.", icon=":material/rule:")
table(
    status,
    key="models_fallback",
    file_name="fallback_status.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "data_maturity": st.column_config.TextColumn(
            "Data", help="iot: sensors; mes: MES; spreadsheet: manual reports"
        ),
        "failure": st.column_config.TextColumn("Failure risk"),
        "failure_reason": st.column_config.TextColumn("Failure risk fallback because"),
        "shortage": st.column_config.TextColumn("Shortage"),
        "shortage_reason": st.column_config.TextColumn("Shortage fallback because"),
        "disruption": st.column_config.TextColumn("Disruption"),
        "forecasts": st.column_config.TextColumn("Forecasts"),
        "forecast_reason": st.column_config.TextColumn("Forecast fallback because"),
        "reselected": st.column_config.TextColumn(
            "Forecast models reselected",
            help="The oldest day among the plant's series on which the backtest "
            "of every candidate last chose its model.",
        ),
        "reselect_reason": st.column_config.TextColumn("Reselected because"),
    },
    empty_message="No plant in your scope.",
)

st.subheader("Models on hold")
st.caption(
    "A served model whose input drift (PSI) passes the plant policy's drift_psi_limit, or whose recent "
    "accuracy falls below its baseline by more than accuracy_margin, is held at that plant by itself: the "
    "plant is served by the fallback until an admin releases the hold (audited) or approves another version."
)
held = intel.holds(engine, user.scope)
table(
    held.assign(plant=held["plant_id"].map(names)),
    key="models_holds",
    file_name="model_holds.csv",
    column_config={
        "hold_id": None,
        "model_id": None,
        "plant_id": None,
        "released_utc": None,
        "released_by": None,
        "release_reason": None,
        "plant": st.column_config.TextColumn("Plant"),
        "model_name": st.column_config.TextColumn("Model"),
        "version": st.column_config.TextColumn("Version"),
        "reason": st.column_config.TextColumn("Held because"),
        "held_utc": st.column_config.DatetimeColumn("Held since (UTC)", format="YYYY-MM-DD HH:mm"),
    },
    empty_message="No model is on hold: every approved model is within its plants' drift and accuracy limits.",
)
if len(held) and user.can(model_serving.APPROVE_PERMISSION):
    with st.form("models_hold_form", clear_on_submit=True):
        labels = {
            int(r.hold_id): f"{r.model_name} {r.version} at {names.get(r.plant_id, r.plant_id)}"
            for r in held.itertuples()
        }
        chosen = st.selectbox("Hold", list(labels), format_func=labels.get, key="models_hold_choice")
        reason = st.text_area(
            "Reason",
            key="models_hold_reason",
            placeholder="What you checked, e.g. the sensor was recalibrated and the drift is explained",
        )
        if st.form_submit_button("Release the hold", icon=":material/lock_open:"):
            row = held[held["hold_id"] == chosen].iloc[0]
            try:
                model_serving.release_hold(engine, user, int(row["model_id"]), row["plant_id"], reason)
                intel.clear_caches()
                st.session_state["models_hold_message"] = (
                    True,
                    f"Released: {labels[chosen]} is served by the model again from the next run.",
                )
            except model_serving.ModelGovernanceError as exc:
                st.session_state["models_hold_message"] = (False, str(exc))
            st.rerun()
if result := st.session_state.pop("models_hold_message", None):
    ok, text = result
    (st.success if ok else st.error)(text)

st.subheader("Data freshness")
st.caption(
    "Hours since each feed last arrived. Late: older than its expected cadence. Stale: older than its "
    "cadence + the plant policy's feed_grace_hours (the limit), so the models reading it fall back to rules "
    "(failure risk: health, downtime; shortage: inventory, purchase orders) and its signals follow the "
    "policy's stale_feed_rule."
)
feeds = intel.feed_status(engine, user.scope)
table(
    feeds,
    key="models_feeds",
    file_name="feed_freshness_limits.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "source": st.column_config.TextColumn("Feed"),
        "last_received_utc": st.column_config.DatetimeColumn("Last received (UTC)", format="YYYY-MM-DD HH:mm"),
        "age_h": st.column_config.NumberColumn("Age (h)", format="%.0f"),
        "expected_cadence_h": st.column_config.NumberColumn("Cadence (h)", format="%.0f"),
        "limit_h": st.column_config.NumberColumn(
            "Stale limit (h)", format="%.0f", help="Expected cadence + the plant policy's feed_grace_hours"
        ),
        "status": st.column_config.TextColumn("Status"),
    },
    empty_message="No feed has reported yet for your plants.",
)

st.subheader("Live feed")
live_feed.collector_panel(engine, user.scope)
