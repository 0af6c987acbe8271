"""Decision detail in plain words (issue 19): labels instead of field names, the reference
currency, times in the plant's zone with UTC beside them, the proposed parts as a table and an
SLA tile that fits."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from components import readable
from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import recommendation
from jobs import pipeline
from tests.helpers import sqlite_copy

RAW = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+|\d{4}-\d{2}-\d{2}T\d{2}|[a-z]+_[a-z_]+")
"""Microseconds, ISO timestamps or snake_case field names: none may reach the reader."""


@pytest.fixture
def joliet_rec(small_network_url, tmp_path):
    """The small network with its recommendations raised and made current; one of Joliet's
    (America/Chicago, CDT = UTC-5 in July)."""
    url = sqlite_copy(small_network_url, tmp_path / "readable.db")
    engine = make_engine(url)
    migrate.upgrade(engine)
    pipeline.orchestrate_decisions(engine, datetime(2026, 7, 1, 8, tzinfo=timezone.utc))
    now = datetime.now(timezone.utc)
    r = recommendation.c
    with engine.begin() as conn:
        conn.execute(
            update(recommendation).values(
                created_utc=now - timedelta(hours=1), sla_due_utc=now + timedelta(hours=23, minutes=30)
            )
        )
        rec = dict(
            conn.execute(select(recommendation).where(r.plant_id == "NA-JOL").order_by(r.rec_id)).mappings().first()
        )
    engine.dispose()
    return url, rec


def test_decision_detail_reads_in_plain_words_and_plant_time(open_as, joliet_rec):
    url, rec = joliet_rec
    at = open_as(url, "ml_jol", "pages/decision_detail.py")
    at.selectbox(key="decision_detail_pick").set_value(rec["rec_id"]).run()
    assert not at.exception, at.exception
    tiles = {m.label: m for m in at.metric}
    assert tiles["Estimated cost"].value == f"{rec['estimated_cost']:,.0f} EUR"
    assert tiles["SLA"].value == "23 h left"  # short enough for its tile, never cut off
    assert re.search(
        r"Due \w{3} \d{2} \w{3} \d{4} \d{2}:\d{2} C[DS]T \(\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\)", tiles["SLA"].proto.help
    )

    evidence, action = [df.value for df in at.dataframe if list(df.value.columns) == ["reading", "value", "utc"]]
    shown = dict(zip(evidence["reading"], evidence["value"]))
    assert not [text for text in [*evidence["reading"], *evidence["value"]] if RAW.search(str(text))]
    ev = rec["evidence"]
    # 2026-06-24T17:39:59Z is 12:39 in Chicago (CDT), shown to the minute, UTC beside it.
    last_repair = evidence.loc[evidence["reading"] == "Last repair"].iloc[0]
    stamp = datetime.fromisoformat(ev["last_repair_utc"])
    assert last_repair["value"] == (stamp - timedelta(hours=5)).strftime("%a %d %b %Y %H:%M CDT")
    assert last_repair["utc"] == stamp.strftime("%Y-%m-%d %H:%M UTC")
    assert shown["Cost of parts"] == f"{ev['cost_breakdown']['parts']:,.2f} EUR"
    assert shown["Labour rate"] == f"{ev['cost_breakdown']['labour_rate_per_hour']:,.2f} EUR/h"
    assert shown["Sensor health score"] == f"{ev['health']['score']:.0%}"
    assert shown["Repair time"] == f"{ev['cost_breakdown']['repair_hours']:g} h"  # hours, though under costs
    assert shown["Mean repair time"] == f"{ev['mttr_hours']:g} h"

    start = action.loc[action["reading"] == "Requested start"].iloc[0]
    assert start["value"].endswith("CDT") and start["utc"].endswith("UTC")
    assert not [text for text in action["reading"] if RAW.search(text)]
    parts = next(df.value for df in at.dataframe if "Material" in df.value.columns)
    assert list(parts.columns) == ["Material", "Name", "Quantity"]
    assert parts.to_dict("records") == [
        {"Material": p["material_id"], "Name": p["name"], "Quantity": p["qty"]} for p in ev["action"]["parts"]
    ]
    caption = "\n".join(str(c.value) for c in at.caption)
    assert "times in the plant's zone, America/Chicago" in caption and "UTC)" in caption


@pytest.mark.parametrize(
    "name, value, expected",
    [
        (
            "repair_window_utc",
            ["2026-01-15T08:00:00+00:00", "2026-01-16T08:00:00.123456+00:00"],
            ("Thu 15 Jan 2026 02:00 CST to Fri 16 Jan 2026 02:00 CST", "2026-01-15 08:00 UTC to 2026-01-16 08:00 UTC"),
        ),
        ("new_field_hours", 1.5, ("1.5 h", "")),
        ("freight_cost", 1234.5, ("1,234.50 EUR", "")),
        ("hazard", 0.1161, ("12%", "")),
        ("last_seen_utc", None, ("n/a", "")),
    ],
)
def test_any_field_is_written_with_its_unit(name, value, expected):
    assert readable.reading(name, value, "America/Chicago") == expected
    assert "_" not in readable.label(name)
