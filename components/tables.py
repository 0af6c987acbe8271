"""Tables and charts, each with its complete CSV export through components.export."""

import pandas as pd
import streamlit as st

from components.export import to_csv_bytes


def download_csv(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    st.download_button(
        label,
        to_csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=f"All {len(frame):,} rows, timestamps in ISO 8601 with offset.",
    )


def table(
    frame: pd.DataFrame,
    key: str,
    file_name: str,
    column_config: dict,
    export: pd.DataFrame | None = None,
    empty_message: str = "Nothing to show.",
) -> None:
    """A table with its column settings and a CSV of `export` (default: the frame itself)."""
    if frame.empty:
        st.info(empty_message, icon=":material/info:")
        return
    st.dataframe(
        frame, key=key, hide_index=True, column_config=column_config, column_order=list(column_config), placeholder="—"
    )
    download_csv(frame if export is None else export, file_name, key=f"{key}_csv")


# Plotly's geo charts fetch their base map from a CDN; ours is served from static/.
PLOTLY_CONFIG = {"topojsonURL": "app/static/topojson/", "displaylogo": False}


def chart(figure, data: pd.DataFrame, key: str, file_name: str, empty_message: str = "Nothing to plot.") -> None:
    """A plotly chart and a CSV of the data drawn in it."""
    if data.empty:
        st.info(empty_message, icon=":material/info:")
        return
    st.plotly_chart(figure, key=key, width="stretch", config=PLOTLY_CONFIG)
    download_csv(data, file_name, key=f"{key}_csv", label="Download chart data (CSV)")
