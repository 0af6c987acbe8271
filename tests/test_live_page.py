"""The live feed on Models & data through AppTest: the collector's state in words (a refused
login is an error with its reason), and live readings in quarantine within the user's plant scope."""

import json
from datetime import datetime, timedelta, timezone

from components import live as live_feed
from data_access import live, migrate
from data_access.engine import make_engine
from tests.apptest import SMALL_NETWORK_PM_PLANT, texts
from tests.helpers import sqlite_copy


def _with_collector(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(timezone.utc)
    live.claim_collector(engine, "plant-gateway", "test", "mqtt://broker:1883", now, timedelta(seconds=60))
    live.set_collector_state(
        engine,
        "plant-gateway",
        "test",
        "refused",
        "the broker at mqtt://broker:1883 refused the connection: Not authorized; retrying with backoff",
        now,
        error=True,
        connected=False,
    )
    where = live.directory(engine)
    rejects = [
        r
        for plant_id in ("NA-JOL", SMALL_NETWORK_PM_PLANT)
        for r in live.parse_message(
            f"pnct/v1/{plant_id}/health/x",
            json.dumps(
                {
                    "asset": f"GHOST-{plant_id}",
                    "metric": "vibration",
                    "value": 1.0,
                    "unit": "mm/s",
                    "timestamp": now.isoformat(),
                }
            ).encode(),
            where,
            now,
        ).rejects
    ]
    live.store_batch(engine, [], rejects, collector_id="plant-gateway", now=now, cadence_h=1.0)
    engine.dispose()


def test_models_page_shows_the_collector_and_scoped_quarantine(open_as, small_network_url, tmp_path):
    url = sqlite_copy(small_network_url, tmp_path / "live.db")
    empty = open_as(url, "coo", "pages/models.py")
    assert not empty.exception
    assert any("No live collector has run" in t for t in texts(empty, "info"))

    _with_collector(url)
    live_feed.collectors.clear()  # the page caches these reads for 10 s
    live_feed.quarantined.clear()
    coo = open_as(url, "coo", "pages/models.py")
    assert not coo.exception
    errors = texts(coo, "error")
    assert any(
        "plant-gateway" in t and "refused by the broker: retrying" in t and "Not authorized" in t for t in errors
    )
    frames = [d.value for d in coo.dataframe]
    held = next(f for f in frames if "topic" in f.columns)
    assert sorted(held["plant_id"]) == sorted(["NA-JOL", SMALL_NETWORK_PM_PLANT])
    assert all("is not mapped" in r for r in held["reason"])

    pm = open_as(url, "pm", "pages/models.py")  # a plant manager of one plant sees that plant's rows only
    assert not pm.exception
    held = next(d.value for d in pm.dataframe if "topic" in d.value.columns)
    assert list(held["plant_id"]) == [SMALL_NETWORK_PM_PLANT]
