"""Plotly figure builders (pure: data in, figure out)."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from data_access.kpis import KPI_CATALOG, REFERENCE_CURRENCY, kpi_info
from forecasting import scenario


def _scale(key):
    """Green is good: reverse the scale for KPIs where lower is better."""
    return "RdYlGn" if KPI_CATALOG[key][3] else "RdYlGn_r"


def _axis_title(key):
    label, unit, *_ = KPI_CATALOG[key]
    return f"{label} ({unit})"


def plant_map(plants: pd.DataFrame, key: str):
    """Plants on a world map, coloured by one KPI; plants where it is undefined in grey."""
    shown = plants.assign(value=plants[key] * (100 if KPI_CATALOG[key][1] == "%" else 1))
    figure = px.scatter_geo(
        shown,
        lat="lat",
        lon="lon",
        color="value",
        hover_name="name",
        hover_data={"plant_id": True, "region_name": True, "value": ":.1f", "lat": False, "lon": False},
        color_continuous_scale=_scale(key),
        projection="natural earth",
        labels={"value": _axis_title(key), "region_name": "Region", "plant_id": "Plant"},
    )
    figure.update_traces(marker={"size": 14, "line": {"width": 1, "color": "#333"}})
    figure.update_geos(showcountries=True, showland=True, landcolor="#f0f0f0", fitbounds="locations")
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=380)
    return figure


def kpi_trend(trend: pd.DataFrame, key: str):
    """One KPI per week: the network in bold, each plant as a thin line."""
    scale = 100 if KPI_CATALOG[key][1] == "%" else 1
    shown = trend.assign(value=trend[key] * scale)
    figure = px.line(
        shown,
        x="week_start",
        y="value",
        color="plant",
        labels={"week_start": "Week (plant-local, starting Monday)", "value": _axis_title(key), "plant": ""},
    )
    for trace in figure.data:
        trace.line.width = 4 if trace.name == "Network" else 1.2
        trace.opacity = 1.0 if trace.name == "Network" else 0.55
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=360, hovermode="x unified")
    return figure


# --- operations figures (issue 3) ------------------------------------------------------------

DOWNTIME_COLOURS = {
    "failure": "#c0392b",
    "planned": "#2e86c1",
    "changeover": "#f5b041",
    "starved": "#8e44ad",
    "quality": "#16a085",
}


def _layout(figure, height=360, **kw):
    figure.update_layout(
        margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=height, legend={"orientation": "h", "y": -0.2}, **kw
    )
    return figure


def pareto(frame: pd.DataFrame, label: str, value: str, value_title: str):
    """Bars sorted high to low with the cumulative share on a second axis (the Pareto view)."""
    ordered = frame.sort_values(value, ascending=False)
    cumulative = ordered[value].cumsum() / ordered[value].sum() * 100
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(x=ordered[label], y=ordered[value], name=value_title, marker_color="#1f5fa8"), secondary_y=False
    )
    figure.add_trace(
        go.Scatter(
            x=ordered[label], y=cumulative, name="Cumulative share (%)", mode="lines+markers", line={"color": "#c0392b"}
        ),
        secondary_y=True,
    )
    figure.add_hline(y=80, line_dash="dot", line_color="#999", secondary_y=True)
    figure.update_yaxes(title_text=value_title, secondary_y=False)
    figure.update_yaxes(
        title_text="Cumulative share (%)", range=[0, 105], tickvals=[0, 20, 40, 60, 80, 100], secondary_y=True
    )
    return _layout(figure, hovermode="x unified")


def stacked_downtime(frame: pd.DataFrame, x: str, x_title: str):
    """Downtime hours per category, stacked, for each plant / line / asset / reason."""
    figure = px.bar(
        frame,
        x=x,
        y="hours",
        color="category",
        color_discrete_map=DOWNTIME_COLOURS,
        labels={x: x_title, "hours": "Downtime (h)", "category": "Category"},
    )
    return _layout(figure)


def reliability_trend(trend: pd.DataFrame, period_title: str):
    """MTBF and MTTR per period, one above the other; periods without failure are gaps."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("MTBF (h): run hours / failures", "MTTR (h): repair hours / failures"),
    )
    figure.add_trace(
        go.Scatter(
            x=trend["period"], y=trend["mtbf_h"], name="MTBF (h)", mode="lines+markers", line={"color": "#1f5fa8"}
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=trend["period"], y=trend["mttr_h"], name="MTTR (h)", mode="lines+markers", line={"color": "#c0392b"}
        ),
        row=2,
        col=1,
    )
    figure.update_xaxes(title_text=period_title, row=2, col=1)
    _layout(figure, height=440, showlegend=False)
    figure.update_layout(margin={"l": 0, "r": 0, "t": 30, "b": 0})
    return figure


def lateness_histogram(frame: pd.DataFrame, x: str, count: str, x_title: str, on_time: str):
    """How many deliveries or orders were how late, coloured by whether that is on time."""
    shown = frame.assign(verdict=frame[on_time].map({True: "on time", False: "late"}))
    figure = px.bar(
        shown,
        x=x,
        y=count,
        color="verdict",
        color_discrete_map={"on time": "#27ae60", "late": "#c0392b"},
        labels={x: x_title, count: "Count", "verdict": ""},
    )
    return _layout(figure)


def share_trend(trend: pd.DataFrame, key: str, group: str):
    """A share KPI (adherence, attainment) per week, one line per group, in percent."""
    label, unit, *_ = kpi_info(key)
    shown = trend.assign(value=trend[key] * 100)
    figure = px.line(
        shown,
        x="week_start",
        y="value",
        color=group,
        markers=True,
        labels={"week_start": "Week (plant-local, starting Monday)", "value": f"{label} (%)", group: ""},
    )
    figure.update_yaxes(range=[0, 105])
    return _layout(figure, hovermode="x unified")


def supply_cover(frame: pd.DataFrame):
    """Days of supply against supplier lead time per material (exposed ones first)."""
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=frame["label"],
            x=frame["material_dos"],
            orientation="h",
            name="Days of supply (d)",
            marker_color="#c0392b",
        )
    )
    figure.add_trace(
        go.Scatter(
            y=frame["label"],
            x=frame["lead_time_days"],
            mode="markers",
            name="Supplier lead time (d)",
            marker={"symbol": "line-ns-open", "size": 16, "color": "#1d2433"},
        )
    )
    figure.update_xaxes(title_text="Days")
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, height=max(300, 22 * len(frame) + 80))


def maintenance_mix(frame: pd.DataFrame):
    """Work orders created per plant by type, as shares of the plant's total."""
    figure = px.bar(
        frame,
        x="plant",
        y="share",
        color="wo_type",
        barmode="stack",
        color_discrete_map={"preventive": "#27ae60", "corrective": "#c0392b", "inspection": "#2e86c1"},
        labels={"plant": "Plant (maintenance workflow)", "share": "Share of work orders created", "wo_type": "Type"},
    )
    figure.update_yaxes(tickformat=".0%")
    return _layout(figure)


def material_history(frame: pd.DataFrame, unit: str):
    """One material's on hand (counts) and daily demand per plant."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(f"On hand ({unit})", f"Demand ({unit} per day)"),
    )
    for i, (plant_name, rows) in enumerate(frame.groupby("plant")):
        counted = rows[rows["on_hand"].notna()]
        colour = px.colors.qualitative.Plotly[i % len(px.colors.qualitative.Plotly)]
        figure.add_trace(
            go.Scatter(
                x=counted["day"],
                y=counted["on_hand"],
                name=plant_name,
                mode="lines",
                line={"color": colour},
                legendgroup=plant_name,
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Bar(
                x=rows["day"],
                y=rows["demand_qty"],
                name=plant_name,
                marker_color=colour,
                legendgroup=plant_name,
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    return _layout(figure, height=420)


SCENARIO_DAILY = {
    "fill_rate": ("Fill rate", "%"),
    "produced": ("Production", "units/day"),
    "demand": ("Demand", "units/day"),
    "inventory_value": ("Inventory value", REFERENCE_CURRENCY),
    "overtime_hours": ("Overtime", "line-h/day"),
}
"""The daily series of a scenario result (forecasting.scenario.daily_bands) a chart can show."""


def scenario_band(result, plant_id: str | None, metric: str) -> tuple[go.Figure, pd.DataFrame]:
    """The daily p10-p90 band and median of the scenario over the baseline's, and its data.

    Data columns: day, run (scenario | baseline), p10, p50, p90, mean.
    """
    entry = result.network if plant_id is None else result.plants[plant_id]
    data = pd.concat(
        [entry[key].assign(run=run) for key, run in (("baseline_daily", "baseline"), ("daily", "scenario"))]
    )
    data = data[data["metric"] == metric][["day", "run", "p10", "p50", "p90", "mean"]]
    label, unit = SCENARIO_DAILY[metric]
    figure = go.Figure()
    for run, color, fill in (
        ("baseline", "#7f7f7f", "rgba(127,127,127,0.18)"),
        ("scenario", "#1f77b4", "rgba(31,119,180,0.22)"),
    ):
        part = data[data["run"] == run]
        figure.add_scatter(
            x=part["day"],
            y=part["p90"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
            name=f"{run} p90",
        )
        figure.add_scatter(
            x=part["day"],
            y=part["p10"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=fill,
            name=f"{run}: 10th-90th percentile",
        )
        figure.add_scatter(x=part["day"], y=part["p50"], mode="lines", line={"color": color}, name=f"{run}: median")
    figure.update_yaxes(title=f"{label} ({unit})", tickformat=".0%" if metric == "fill_rate" else None)
    return _layout(figure, height=340), data


def scenario_compare(table: pd.DataFrame, metric: str) -> tuple[go.Figure, pd.DataFrame]:
    """One bar per saved scenario: its network mean of `metric` and the baseline it was run against.

    Data columns: scenario, baseline, value.
    """
    data = pd.DataFrame(
        {
            "scenario": [f"#{i} {n}" for i, n in zip(table["scenario_id"], table["name"])],
            "value": table[metric].astype(float),
            "baseline": (table[metric] - table[f"{metric}_change"]).astype(float),
        }
    )
    label, unit, _, _ = scenario.METRICS[metric]
    figure = go.Figure()
    figure.add_bar(x=data["scenario"], y=data["baseline"], name="its baseline", marker_color="#bdbdbd")
    figure.add_bar(x=data["scenario"], y=data["value"], name="scenario", marker_color="#1f77b4")
    figure.update_layout(barmode="group")
    figure.update_yaxes(title=f"{label} ({unit})", tickformat=".0%" if metric in scenario.PERCENT_METRICS else None)
    return _layout(figure, height=320), data
