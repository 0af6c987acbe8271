"""Data quality per plant and source, worked out by hand on the tiny two-plant network."""

from datetime import datetime, timezone

import pytest

from data_access import quality
from data_access.ingest import load_file, parse_mapping
from data_access.scope import PlantScope
from tests import tiny_network
from tests.helpers import INGEST_BASE as BASE
from tests.helpers import csv_bytes

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


@pytest.fixture
def warehouse(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def test_freshness_completeness_and_score_of_the_tiny_network(warehouse):
    feeds = quality.feed_quality(warehouse, PlantScope.everything(), now=NOW).set_index(["plant_id", "source"])
    a, b = feeds.loc[("A", "production")], feeds.loc[("B", "production")]
    assert (a["age_h"], a["freshness"]) == (12.0, 1.0)  # within its 24 h cadence
    assert (b["age_h"], b["freshness"]) == (72.0, 0.0)  # three cadences old
    assert a["completeness"] == b["completeness"] == 1.0  # one line, every day of its 4 days
    assert a["rows_read"] == 0 and a[["quarantine_rate", "unmapped_share"]].isna().all()  # never ingested
    assert a["score"] == 100.0
    assert b["score"] == pytest.approx(100 * 0.3 / 0.7, abs=0.05)  # freshness 0, completeness 1


def test_quarantine_rate_and_unmapped_share_follow_the_open_rows(warehouse):
    mapping = parse_mapping(BASE)
    load_file(
        warehouse,
        "A",
        "downtime",
        mapping,
        csv_bytes(
            "asset,start,end,reason",
            "VP1-VS-01,2026-03-30 08:00,2026-03-30 09:00,Motorschaden",
            "VP1-VS-01,2026-03-31 08:00,2026-03-31 09:00,Wartung",
            "VP1-VS-01,2026-03-31 10:00,2026-03-31 09:00,Wartung",
            "VP1-VS-01,2026-03-31 12:00,2026-03-31 13:00,Kette gerissen",
        ),
        file_name="d.csv",
        now=NOW,
    )
    feeds = quality.feed_quality(warehouse, PlantScope.everything(), now=NOW).set_index(["plant_id", "source"])
    downtime = feeds.loc[("A", "downtime")]
    assert downtime["rows_read"] == 4 and downtime["open_quarantine"] == 2
    assert (downtime["quarantine_rate"], downtime["unmapped_share"]) == (0.25, 0.25)
    assert downtime["freshness"] == 1.0  # it arrived just now
    # completeness: stops on 28, 29, 30 and 31 March (the tiny network's and this file's): 4 of 4 days
    assert downtime["completeness"] == 1.0
    assert downtime["score"] == pytest.approx(100 * (0.4 + 0.3 + 0.15 * 0.75 + 0.15 * 0.75), abs=0.05)
    plants = quality.plant_quality(warehouse, PlantScope.everything(), now=NOW).set_index("plant_id")
    assert plants.loc["A", "open_unmapped_codes"] == 1 and plants.loc["A", "open_quarantine"] == 2
    assert plants.loc["A", "data_quality_score"] == pytest.approx((downtime["score"] + 100.0) / 2, abs=0.05)
    assert plants.loc["B", "worst_source"] == "production"


def test_a_plant_outside_the_scope_is_never_returned(warehouse):
    feeds = quality.feed_quality(warehouse, PlantScope.only(["B"]), now=NOW)
    plants = quality.plant_quality(warehouse, PlantScope.only(["B"]), now=NOW)
    assert set(feeds["plant_id"]) == {"B"} and plants["plant_id"].tolist() == ["B"]
    assert quality.plant_quality(warehouse, PlantScope.only([]), now=NOW).empty
