"""The live feed's collector on Models & data (and the Jobs page): its state in words, what it
received, stored and quarantined, and the live readings waiting in quarantine (docs/live-feeds.md)."""

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from components.cached import cache_query
from components.tables import table
from data_access import live

SILENT_AFTER = timedelta(minutes=3)
"""A collector renews its row every lease_s / 3 (20 s by default): silent this long, the process is gone."""

STATES = {
    "starting": "connecting",
    "connected": "connected",
    "retrying": "connection lost: retrying",
    "refused": "refused by the broker: retrying",
    "stopped": "stopped",
}


@cache_query(ttl=10)
def collectors(engine) -> pd.DataFrame:
    return live.collectors(engine)


@cache_query(ttl=10)
def quarantined(engine, scope) -> pd.DataFrame:
    return live.live_quarantine(engine, scope)


def collector_status(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """`live.collectors` with `status` in words: a collector that says it runs but has not
    renewed its row for SILENT_AFTER is shown as not running."""
    out = frame.copy()
    silent = (out["state"] != "stopped") & (out["updated_utc"] < pd.Timestamp(now) - SILENT_AFTER)
    out["status"] = [
        f"not running (silent since {u:%Y-%m-%d %H:%M} UTC)" if gone else STATES.get(s, s)
        for s, u, gone in zip(out["state"], out["updated_utc"], silent)
    ]
    out["healthy"] = (out["state"] == "connected") & ~silent
    return out


def collector_panel(engine, scope) -> None:
    """The live collectors and the live readings in quarantine, for the plants in `scope`."""
    st.caption(
        "Machine health from the sensor plants arrives over MQTT (QoS 1, persistent session): the "
        "collector stores each reading once, acknowledges it only after it is stored, and rescores the "
        "assets with new readings. It runs in the worker or as `python -m jobs.live`."
    )
    status = collector_status(collectors(engine), datetime.now(timezone.utc))
    if status.empty:
        st.info(
            "No live collector has run against this warehouse. Start it with `python -m jobs.live --broker "
            "mqtt://HOST:1883` (or in the worker); plants can also send health readings as files.",
            icon=":material/sensors_off:",
        )
    for row in status.itertuples(index=False):
        text = f"**{row.collector_id}** at {row.broker}: {row.status}" + (f" — {row.message}" if row.message else "")
        if row.healthy:
            st.success(text, icon=":material/sensors:")
        elif row.state == "stopped":
            st.info(text, icon=":material/sensors_off:")
        else:
            st.error(text, icon=":material/sensors_off:")
    table(
        status,
        key="models_live_collectors",
        file_name="live_collectors.csv",
        column_config={
            "collector_id": st.column_config.TextColumn(
                "Collector",
                help="Its MQTT client id: the broker keeps this session (and what arrives) while it is away",
            ),
            "status": st.column_config.TextColumn("Status"),
            "last_reading_utc": st.column_config.DatetimeColumn("Newest reading (UTC)", format="YYYY-MM-DD HH:mm"),
            "last_message_utc": st.column_config.DatetimeColumn("Last message (UTC)", format="YYYY-MM-DD HH:mm"),
            "received": st.column_config.NumberColumn(
                "Received", format="%d", help="Readings delivered, redeliveries and rejected ones included"
            ),
            "stored": st.column_config.NumberColumn("Stored", format="%d", help="New readings written"),
            "duplicates": st.column_config.NumberColumn(
                "Duplicates", format="%d", help="Readings already stored (a redelivery): not stored again"
            ),
            "quarantined": st.column_config.NumberColumn("Quarantined", format="%d"),
            "dropped": st.column_config.NumberColumn(
                "Unknown plant", format="%d", help="Messages on a topic naming no plant of the warehouse"
            ),
            "last_error_utc": st.column_config.DatetimeColumn("Last error (UTC)", format="YYYY-MM-DD HH:mm"),
            "rescored_utc": st.column_config.DatetimeColumn("Last rescoring (UTC)", format="YYYY-MM-DD HH:mm"),
            "rescore_message": st.column_config.TextColumn("Rescoring"),
        },
        export=status.drop(columns=["healthy", "owner"]),
        empty_message="No collector yet.",
    )
    held = quarantined(engine, scope)
    st.markdown(
        "**Live readings in quarantine** (newest first): malformed payloads, unknown assets, impossible "
        "values and timestamps in the future; unknown asset codes also wait in the review list on "
        "*Data onboarding*, and later readings use the code once it is mapped there."
    )
    table(
        held,
        key="models_live_quarantine",
        file_name="live_quarantine.csv",
        column_config={
            "plant_id": st.column_config.TextColumn("Plant"),
            "created_utc": st.column_config.DatetimeColumn("Received (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "topic": st.column_config.TextColumn("Topic"),
            "reason": st.column_config.TextColumn("Reason"),
            "category": st.column_config.TextColumn(
                "Kind", help="invalid | unmapped (unknown asset) | out_of_scope (another plant's asset)"
            ),
            "raw": st.column_config.TextColumn("Reading as received"),
        },
        empty_message="No live reading of your plants is in quarantine.",
    )
