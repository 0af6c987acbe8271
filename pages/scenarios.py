"""Scenario planner: levers, the result against the baseline, saved scenarios side by side, submission."""

from datetime import timedelta

import streamlit as st

from components import flash
from components import scenarios as view
from components.figures import SCENARIO_DAILY, scenario_band, scenario_compare
from components.formatting import money_column
from components.jobs import worker_progress
from components.tables import chart, table
from components.warehouse import get_engine
from forecasting import scenario as model
from governance import scenarios as governance
from governance.login import current_user

st.title("Scenario planner")
user = current_user()
engine = get_engine()
st.caption(
    f"What the next {model.HORIZON_DAYS // 7} weeks look like if demand, suppliers, lines, capacity or "
    f"inventory policy change. {model.PATHS} Monte Carlo paths per plant from the stored demand forecast, "
    "each line's demonstrated capacity and failure record, current failure-risk scores, each "
    "material's stock and open orders, and each supplier's delivery record. The baseline runs on "
    "the same random draws, so every difference comes from the levers. Model and assumptions: "
    "docs/scenarios.md."
)

flash.show("scenario_flash")

choices = view.plant_choices(engine, user.scope)
ready, waiting, regions = view.plant_groups(choices)
if not ready:
    st.caption("Scenarios start from each plant's stored demand forecast; none is stored for your plants yet.")
    worker_progress(engine, user.scope, ("forecasts",), "demand forecasts", view.plant_choices.clear)
    st.stop()
names = dict(zip(choices["plant_id"], choices["name"]))
if waiting:
    st.caption(f"Without a demand forecast yet (not offered): {', '.join(waiting)}.")

# --- plants ----------------------------------------------------------------------------------------
pick_col, region_col = st.columns([3, 1])
everything = "Whole network" if user.scope.is_network else "All my plants"
if len(ready) > 1 and region_col.button(
    everything, key="scenario_all", width="stretch", help="Choose every plant with a forecast"
):
    st.session_state["scenario_plants"] = ready
region = region_col.selectbox("Or a region", ["—", *regions], key="scenario_region")
if region != "—" and st.session_state.get("scenario_region_applied") != region:
    st.session_state["scenario_plants"] = regions[region]
    st.session_state["scenario_region_applied"] = region
st.session_state.setdefault("scenario_plants", ready[:1])
chosen = pick_col.multiselect(
    "Plants",
    ready,
    format_func=lambda p: f"{names[p]} ({p})",
    key="scenario_plants",
    help="Several plants make a network scenario: the levers apply to every chosen "
    "plant, and the network result adds their paths up.",
)
if not chosen:
    st.info("Choose at least one plant to plan for.", icon=":material/factory:")
    st.stop()
plant_ids = tuple(sorted(chosen))
try:
    lines, suppliers, (first_day, last_day) = view.lines_and_suppliers(engine, user.scope, plant_ids)
except model.ScenarioError as error:
    st.error(str(error), icon=":material/error:")
    st.stop()

# --- levers ------------------------------------------------------------------------------------------
with st.form("scenario_levers"):
    st.markdown(f"**Levers** (horizon {first_day} to {last_day})")
    a, b, c, d = st.columns(4)
    demand = a.number_input(
        "Demand change (%)",
        *model.LIMITS["demand_change_pct"],
        value=0.0,
        step=5.0,
        key="lever_demand",
        help="Scales the demand forecast and its band.",
    )
    capacity = b.number_input(
        "Capacity change (%)",
        *model.LIMITS["capacity_change_pct"],
        value=0.0,
        step=5.0,
        key="lever_capacity",
        help="Scales every line's output per run hour.",
    )
    overtime = c.number_input(
        "Overtime allowed (h per line-day)",
        *model.LIMITS["overtime_hours_per_day"],
        value=0.0,
        step=1.0,
        key="lever_overtime",
        help="Extra hours a line may run when the plan needs them; a line already scheduled "
        "24 h a day has no room for overtime.",
    )
    safety = d.number_input(
        "Safety stock multiplier",
        *model.LIMITS["safety_stock_multiplier"],
        value=1.0,
        step=0.25,
        key="lever_safety",
        help="Scales the finished-goods safety stock the plan refills and every material's reorder point.",
    )
    e, f = st.columns(2)
    late = e.multiselect("Late supplier(s)", list(suppliers), format_func=suppliers.get, key="lever_suppliers")
    delay = f.number_input(
        "Extra days late",
        min_value=0.0,
        max_value=model.LIMITS["supplier_delay_days"][1],
        value=0.0,
        step=1.0,
        key="lever_delay",
        help="Added to every delivery of the chosen suppliers, open orders and reorders.",
    )
    g, h, i = st.columns(3)
    outage_line = g.selectbox(
        "Line outage", ["none", *lines], format_func=lambda x: lines.get(x, "none"), key="lever_outage_line"
    )
    outage_start = h.date_input("Outage starts", value=first_day + timedelta(days=7), key="lever_outage_start")
    outage_days = i.number_input("Outage days", value=4, step=1, key="lever_outage_days")
    j, k, m = st.columns(3)
    window_line = j.selectbox(
        "Maintenance window",
        ["none", *lines],
        format_func=lambda x: lines.get(x, "none"),
        key="lever_window_line",
        help="A planned stop that renews the line's assets: a line with an elevated "
        "failure-risk score stops failing at its elevated rate after it.",
    )
    window_day = k.date_input("Window day", value=first_day + timedelta(days=2), key="lever_window_day")
    window_hours = m.number_input("Window hours", value=8.0, step=1.0, key="lever_window_hours")
    submitted = st.form_submit_button("Run scenario", type="primary", icon=":material/play_arrow:")

if submitted:
    levers = model.Levers(
        demand_change_pct=demand,
        capacity_change_pct=capacity,
        overtime_hours_per_day=overtime,
        safety_stock_multiplier=safety,
        supplier_delay_days={s: delay for s in late} if delay else {},
        line_outages=(
            (model.LineOutage(outage_line, outage_start, int(outage_days)),) if outage_line != "none" else ()
        ),
        maintenance_windows=(
            (model.MaintenanceWindow(window_line, window_day, float(window_hours)),) if window_line != "none" else ()
        ),
    )
    progress = st.progress(0.0, text="Preparing the baseline")
    try:
        result, version = view.run(
            engine,
            user.scope,
            plant_ids,
            levers,
            model.PATHS,
            model.SEED,
            progress=lambda fraction, message: progress.progress(fraction, text=message),
        )
    except model.ScenarioError as error:
        progress.empty()
        st.error(f"The scenario cannot run: {error}", icon=":material/error:")
    else:
        progress.empty()
        st.session_state["scenario_result"] = (plant_ids, result, version)

current = st.session_state.get("scenario_result")
if current is None or current[0] != plant_ids:
    st.info(
        "Set the levers and press **Run scenario**: the result appears here against the baseline. "
        "With no lever changed you see the baseline itself.",
        icon=":material/tune:",
    )
else:
    _, result, version = current
    st.subheader(f"Result: {result.levers.describe()}")
    st.caption(
        f"{', '.join(plant_ids)}; {result.paths} paths, seed {result.seed}; {version}. Means over the "
        "paths, the band is the 10th to 90th percentile of the scenario."
    )
    focus = None
    if len(plant_ids) > 1:
        focus = st.selectbox(
            "Show",
            [None, *plant_ids],
            key="scenario_focus",
            format_func=lambda p: "Network (all chosen plants)" if p is None else f"{names[p]} ({p})",
        )
    entry = model.comparison(result, focus).set_index("metric")
    calibration = view.calibration(engine, user.scope)
    tracked = focus or (plant_ids[0] if len(plant_ids) == 1 else None)  # a network has no backtest of its own
    metrics = list(model.METRICS.items())
    for column, (metric, (label, unit, definition, higher)) in zip(st.columns(4) + st.columns(4), metrics):
        column.metric(
            f"{label} ({unit})",
            view.shown(metric, entry.loc[metric, "scenario"]),
            delta=view.shown_change(metric, entry.loc[metric, "change"]) or None,
            delta_color="normal" if higher else "inverse",
            border=True,
            help=f"{definition}. Change against the baseline ({view.shown(metric, entry.loc[metric, 'baseline'])}).",
        )
        if tracked and not calibration.empty:
            column.caption(f"Back-tested: {view.calibration_text(calibration, tracked, metric)}")
    table(
        view.comparison_table(result, focus),
        key="scenario_comparison",
        file_name="scenario_result.csv",
        export=view.inputs_and_results(result, version, plant_ids),
        column_config={
            "label": st.column_config.TextColumn("Metric"),
            "unit": st.column_config.TextColumn("Unit"),
            "baseline": st.column_config.TextColumn("Baseline (mean)"),
            "scenario": st.column_config.TextColumn("Scenario (mean)"),
            "change": st.column_config.TextColumn("Change"),
            "band": st.column_config.TextColumn("Scenario 10th-90th percentile"),
            "definition": st.column_config.TextColumn("Definition"),
        },
    )
    daily = (
        st.segmented_control(
            "Daily view",
            list(SCENARIO_DAILY),
            default="fill_rate",
            key="scenario_daily",
            format_func=lambda m: SCENARIO_DAILY[m][0],
        )
        or "fill_rate"
    )
    figure, data = scenario_band(result, focus, daily)
    chart(figure, data, key="scenario_band", file_name=f"scenario_daily_{daily}.csv")
    if focus is None and len(plant_ids) > 1:
        st.markdown("**By plant**")
        table(
            view.plant_table(result),
            key="scenario_plants_table",
            file_name="scenario_by_plant.csv",
            column_config={
                "plant_id": st.column_config.TextColumn("Plant"),
                "fill_rate": st.column_config.NumberColumn("Fill rate", format="percent"),
                "fill_rate_change": st.column_config.NumberColumn("Change", format="percent"),
                "stockout_days": st.column_config.NumberColumn("Stockout days", format="%.1f"),
                "stockout_days_change": st.column_config.NumberColumn("Change", format="%+.1f"),
                "cost": money_column("Estimated cost"),
                "cost_change": money_column("Change"),
            },
        )

    st.markdown("**How well the simulator tracked these plants' history**")
    tracked_table = view.calibration_table(calibration, plant_ids)
    if tracked_table.empty:
        st.info(
            "No simulator back-test of these plants is stored yet. A back-test starts the baseline at past "
            "days with the data of then and compares it with what happened, so you can see which numbers to "
            "lean on; an operator runs `python -m forecasting.scenario_backtest` (docs/scenarios.md).",
            icon=":material/history:",
        )
    else:
        st.caption(
            "The baseline started at past days with only the data of then, against what then happened, on "
            "the simulator's definitions. Inside: the actual fell within the simulated 10th-90th "
            "percentile; bias: simulated mean - actual. Schedule adherence is also set against the "
            "overview's order-based KPI of the same days. Money in the enterprise reference currency."
        )
        table(
            tracked_table,
            key="scenario_calibration",
            file_name="scenario_backtest.csv",
            column_config={
                "plant_id": st.column_config.TextColumn("Plant"),
                "metric": st.column_config.TextColumn("Metric"),
                "inside": st.column_config.TextColumn(
                    "Actual inside the band", help="back-tests whose actual fell in the 10th-90th percentile"
                ),
                "coverage": st.column_config.ProgressColumn("Coverage", format="percent", min_value=0, max_value=1),
                "actual": st.column_config.TextColumn("Actual (mean)"),
                "simulated": st.column_config.TextColumn("Simulated (mean)"),
                "bias": st.column_config.TextColumn("Bias", help="simulated mean - actual, averaged over the origins"),
                "run": st.column_config.TextColumn("Back-test run (UTC)"),
            },
        )

    with st.form("scenario_save"):
        name = st.text_input(
            "Scenario name", max_chars=100, key="scenario_name", placeholder="e.g. Demand +15 %, SUP-02 five days late"
        )
        if st.form_submit_button("Save scenario", icon=":material/save:"):
            try:
                scenario_id = governance.save(
                    engine, model, user, name, list(plant_ids), result.levers.to_dict(), result.to_json(), version
                )
            except governance.ScenarioRefused as refusal:
                st.error(str(refusal), icon=":material/block:")
            else:
                view.saved.clear()
                flash.rerun_with(
                    "scenario_flash",
                    f"Saved as scenario #{scenario_id}. Saved scenarios never "
                    "expire; compare it below or submit it for approval.",
                )

# --- saved scenarios -----------------------------------------------------------------------------------
st.subheader("Saved scenarios")
saved = view.saved_table(view.saved(engine, user.scope))
if saved.empty:
    st.info(
        "No saved scenario in your plants yet. Run one above and save it to compare it here.",
        icon=":material/bookmarks:",
    )
    st.stop()
table(
    saved,
    key="scenario_saved",
    file_name="saved_scenarios.csv",
    column_config={
        "scenario_id": st.column_config.NumberColumn("#", format="%d"),
        "name": st.column_config.TextColumn("Name"),
        "owner": st.column_config.TextColumn("Owner"),
        "plants": st.column_config.TextColumn("Plants"),
        "levers": st.column_config.TextColumn("Levers"),
        "state": st.column_config.TextColumn("State", help="draft: saved; submitted: sent for approval"),
        "decision_state": st.column_config.TextColumn("Decision", help="pending, approved, rejected or expired"),
        "fill_rate": st.column_config.NumberColumn("Fill rate", format="percent"),
        "fill_rate_change": st.column_config.NumberColumn("vs baseline", format="percent"),
        "cost": money_column("Estimated cost"),
        "cost_change": money_column("vs baseline"),
        "created_utc": st.column_config.DatetimeColumn("Saved (UTC)", format="YYYY-MM-DD HH:mm"),
    },
)

labels = {int(r.scenario_id): f"#{r.scenario_id} {r.name} ({r.state})" for r in saved.itertuples()}
compared = st.multiselect(
    "Compare side by side", list(labels), default=list(labels)[:3], format_func=labels.get, key="scenario_compare"
)
if compared:
    picked = saved[saved["scenario_id"].isin(compared)]
    table(
        view.side_by_side(picked),
        key="scenario_side_by_side",
        file_name="scenarios_side_by_side.csv",
        export=picked,
        column_config={
            "metric": st.column_config.TextColumn("Metric (network mean, change)"),
            **{c: st.column_config.TextColumn(c) for c in view.side_by_side(picked).columns[1:]},
        },
    )
    metric = st.selectbox(
        "Chart", list(model.METRICS), format_func=lambda m: model.METRICS[m][0], key="scenario_compare_metric"
    )
    figure, data = scenario_compare(picked, metric)
    chart(figure, data, key="scenario_compare_chart", file_name=f"scenarios_{metric}.csv")

drafts = saved[saved["state"] == "draft"]
if user.can("propose") and not drafts.empty:
    with st.form("scenario_submit"):
        st.markdown("**Submit a plan for approval** (routed to each plant's approvers by its policy)")
        target = st.selectbox(
            "Scenario", drafts["scenario_id"].tolist(), format_func=labels.get, key="scenario_submit_id"
        )
        note = st.text_area(
            "Why this plan",
            max_chars=2000,
            key="scenario_submit_note",
            placeholder="e.g. buffer stock for the supplier delay, overtime on line 3",
        )
        if st.form_submit_button("Submit for approval", icon=":material/send:"):
            try:
                rec_ids = governance.submit(engine, model, user, int(target), note)
            except governance.ScenarioRefused as refusal:
                st.error(str(refusal), icon=":material/block:")
            else:
                view.saved.clear()
                flash.rerun_with(
                    "scenario_flash",
                    f"Submitted: recommendation(s) "
                    f"{', '.join(f'#{r}' for r in rec_ids)} wait in the action queue of each "
                    "plant's approvers.",
                )
