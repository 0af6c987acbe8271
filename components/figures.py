"""Plotly figure builders (pure: data in, figure out)."""

import pandas as pd
import plotly.express as px

from data_access.kpis import KPI_CATALOG


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
        shown, lat="lat", lon="lon", color="value", hover_name="name",
        hover_data={"plant_id": True, "region_name": True, "value": ":.1f", "lat": False, "lon": False},
        color_continuous_scale=_scale(key), projection="natural earth",
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
    figure = px.line(shown, x="week_start", y="value", color="plant",
                     labels={"week_start": "Week (plant-local, starting Monday)", "value": _axis_title(key),
                             "plant": ""})
    for trace in figure.data:
        trace.line.width = 4 if trace.name == "Network" else 1.2
        trace.opacity = 1.0 if trace.name == "Network" else 0.55
    figure.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=360, hovermode="x unified")
    return figure
