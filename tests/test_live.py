"""Live machine health over MQTT (issue 18): validation, the batch store on both backends,
and the collector against a real Mosquitto of its own (restarted mid-stream, collector killed
and restarted, logins refused)."""

import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bench import mqtt_broker
from data_access import live, migrate
from data_access.engine import make_engine
from data_access.schema import (
    asset_health_daily,
    feed_status,
    health_reading,
    live_collector,
    quarantine,
    unmapped_code,
)
from data_access.scope import PlantScope
from tests import tiny_network
from tests.conftest import IN_CI

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)
ASSET, CODE = "A-L1-CAP", "VP1-VS-01"  # tiny network: plant A (Berlin, sensors)


def where() -> live.Directory:
    """The tiny network's directory, without a warehouse."""
    return live.Directory(
        zones={"A": ZoneInfo("Europe/Berlin"), "B": ZoneInfo("America/New_York")},
        assets={"A": {CODE: ASSET, ASSET: ASSET}, "B": {"FILLER#1": "B-L1-FIL", "B-L1-FIL": "B-L1-FIL"}},
        folded={
            "A": {CODE.casefold(): ASSET, ASSET.casefold(): ASSET},
            "B": {"filler#1": "B-L1-FIL", "b-l1-fil": "B-L1-FIL"},
        },
        owner={CODE: "A", ASSET: "A", "FILLER#1": "B", "B-L1-FIL": "B"},
    )


def reading(metric="vibration", value=2.0, unit="mm/s", timestamp="2026-04-01T10:00:00+02:00", asset=CODE):
    return {"asset": asset, "metric": metric, "value": value, "unit": unit, "timestamp": timestamp}


def parse(payload, topic="pnct/v1/A/health/VP1-VS-01"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return live.parse_message(topic, body, where(), NOW)


# --- validation ----------------------------------------------------------------------------------


def test_a_reading_is_mapped_converted_and_dated_in_plant_time():
    # local code, deg F and an offset: 23:30 at UTC-05:00 is 04:30 UTC on 2 April, which is
    # 06:30 in Berlin, plant-local day 2 April ... except that is after NOW: use 1 April 01:30
    out = parse(
        [
            reading("temperature", 212.0, "F", "2026-03-31T23:30:00-01:00"),
            reading("vibration", 0.1, "in/s", "2026-04-01T00:30:00+00:00", asset="a-l1-cap"),
        ]
    )
    assert out.rejects == [] and out.dropped is None
    temp, vib = out.readings
    assert (temp.asset_id, temp.metric, temp.value) == (ASSET, "temperature", pytest.approx(100.0))
    assert temp.reading_utc == datetime(2026, 4, 1, 0, 30, tzinfo=timezone.utc)
    assert temp.day == date(2026, 4, 1)  # 02:30 in Berlin (CEST)
    assert vib.value == pytest.approx(2.54) and vib.asset_id == ASSET  # case-insensitive code
    late = parse(reading(timestamp="2026-03-31T23:30:00+00:00")).readings[0]
    assert late.day == date(2026, 4, 1)  # 01:30 in Berlin: already the next plant-local day


@pytest.mark.parametrize(
    "payload, reason, category",
    [
        (b"{not json", "payload is not JSON", "invalid"),
        (b"[]", "payload is an empty list", "invalid"),
        (["text"], "a reading must be a JSON object", "invalid"),
        ({"asset": CODE, "metric": "vibration"}, "missing value, unit, timestamp", "invalid"),
        (reading(metric="humidity"), "unknown metric 'humidity'", "invalid"),
        (reading(value="2.0"), "value '2.0' is not a number", "invalid"),
        (reading(value=True), "value True is not a number", "invalid"),
        (
            b'{"asset": "VP1-VS-01", "metric": "vibration", "value": 1' + b"0" * 400 + b', "unit": "mm/s", '
            b'"timestamp": "2026-04-01T10:00:00+02:00"}',
            "is not a number",
            "invalid",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "payload cannot be read as JSON", "invalid"),
        (reading(unit="g"), "unit 'g' is not a unit of vibration", "invalid"),
        (reading(value=-1.0), "vibration -1 mm/s is impossible", "invalid"),
        (reading("temperature", 5000, "C"), "temperature 5000 C is impossible", "invalid"),
        (reading("current", -3, "A"), "current -3 A is impossible", "invalid"),
        (reading(timestamp="2026-04-01T10:00:00"), "has no UTC offset", "invalid"),
        (reading(timestamp="yesterday"), "is not ISO 8601", "invalid"),
        (reading(timestamp="2026-04-02T12:00:00+00:00"), "is in the future", "invalid"),
        (reading(timestamp="1970-01-01T00:00:00+00:00"), "is before 1990", "invalid"),
        (reading(asset="FILLER#1"), "asset 'FILLER#1' belongs to plant B, not A", "out_of_scope"),
        (reading(asset="VP9-XX"), "asset 'VP9-XX' is not mapped", "unmapped"),
    ],
)
def test_bad_readings_are_rejected_with_their_reason(payload, reason, category):
    out = parse(payload)
    assert out.readings == [] and len(out.rejects) == 1
    assert reason in out.rejects[0].reason and out.rejects[0].category == category
    assert out.rejects[0].raw["topic"] == "pnct/v1/A/health/VP1-VS-01"


def test_a_message_keeps_its_good_readings_and_rejects_the_bad_ones():
    out = parse([reading(), reading(value=900.0), reading("current", 10.0, "A")])
    assert [r.metric for r in out.readings] == ["vibration", "current"]
    assert [r.position for r in out.rejects] == [2]


@pytest.mark.parametrize("topic", ["pnct/v1/Z/health/x", "other/A/health", "pnct/v1/A/status/x"])
def test_topics_of_no_known_plant_are_dropped_with_a_message(topic):
    out = parse(reading(), topic=topic)
    assert out.readings == [] and out.rejects == []
    assert topic in out.dropped


def test_broker_urls():
    b = live.parse_broker("mqtt://collector:s%40cret@broker.example:1884")
    assert (b.host, b.port, b.username, b.password, b.tls) == ("broker.example", 1884, "collector", "s@cret", False)
    assert b.shown == "mqtt://collector@broker.example:1884"  # never the password
    assert live.parse_broker("mqtts://h").port == 8883
    with pytest.raises(ValueError, match="not mqtt://host:port"):
        live.parse_broker("http://h:1883")


# --- the batch store, on both backends ------------------------------------------------------------


@pytest.fixture
def tiny(empty_engine):
    tiny_network.build(empty_engine)
    live.claim_collector(empty_engine, "c1", "test", "mqtt://x", NOW, timedelta(seconds=60))
    return empty_engine


def stamp(day, hour):
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


def R(metric, value, when):
    berlin = when.astimezone(ZoneInfo("Europe/Berlin")).date()
    return live.Reading("A", ASSET, metric, when, berlin, value)


def store(engine, readings, rejects=()):
    return live.store_batch(engine, readings, rejects, collector_id="c1", now=NOW, cadence_h=0.5)


def daily(engine):
    h = asset_health_daily.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(h.day, h.vibration_mm_s, h.temperature_c, h.run_hours).where(h.asset_id == ASSET).order_by(h.day)
        ).all()
    return {r.day: (r.vibration_mm_s, r.temperature_c, r.run_hours) for r in rows}


def test_each_reading_is_stored_once_and_rolled_up_per_plant_day(tiny):
    first = [
        R("vibration", 2.0, stamp(29, 8)),
        R("vibration", 4.0, stamp(29, 20)),
        R("run_hours", 1000.0, stamp(29, 8)),
        R("run_hours", 1010.0, stamp(29, 20)),
        R("run_hours", 1030.0, stamp(30, 20)),
    ]
    result = store(tiny, first)
    assert (result.stored, result.duplicates, result.assets) == (5, 0, {ASSET})
    days = daily(tiny)
    assert days[date(2026, 3, 29)] == (3.0, None, None)  # mean 2 and 4; counter's first day: unknown
    assert days[date(2026, 3, 30)][2] == 20.0  # 1030 - 1010

    # a redelivery, a reading twice in one batch, and a late, out-of-order one from the 29th
    again = [
        *first,
        R("vibration", 6.0, stamp(29, 22)),
        R("vibration", 6.0, stamp(29, 22)),
        R("run_hours", 1015.0, stamp(29, 21)),
    ]
    result = store(tiny, again)
    assert (result.received, result.stored, result.duplicates) == (8, 2, 6)
    with tiny.connect() as conn:
        assert conn.execute(select(func.count()).select_from(health_reading)).scalar_one() == 7
    days = daily(tiny)
    # 22:00 UTC on 29 March is 00:00 CEST on the 30th: the 30th's vibration is that one reading
    assert days[date(2026, 3, 29)] == (3.0, None, None)
    assert days[date(2026, 3, 30)] == (6.0, None, 15.0)  # the late counter 1015 moves the 30th: 1030 - 1015
    with tiny.connect() as conn:
        fs = conn.execute(
            select(feed_status.c.last_received_utc, feed_status.c.expected_cadence_h).where(
                feed_status.c.plant_id == "A", feed_status.c.source == "health"
            )
        ).one()
        c = conn.execute(select(live_collector)).mappings().one()
    assert live._aware(fs.last_received_utc) == NOW and fs.expected_cadence_h == 0.5
    assert (c["received"], c["stored"], c["duplicates"]) == (13, 7, 6)
    assert live._aware(c["last_reading_utc"]) == stamp(30, 20)  # the newest, not the latest to arrive


def test_a_live_day_keeps_the_file_values_it_has_no_reading_for(tiny):
    with tiny.begin() as conn:
        conn.execute(
            asset_health_daily.insert().values(
                asset_id=ASSET,
                day=date(2026, 3, 29),
                plant_id="A",
                vibration_mm_s=9.0,
                temperature_c=40.0,
                current_a=5.0,
                run_hours=20.0,
            )
        )
    store(tiny, [R("vibration", 2.0, stamp(29, 8))])
    assert daily(tiny)[date(2026, 3, 29)] == (2.0, 40.0, 20.0)


def test_rejects_go_to_quarantine_once_and_unknown_assets_to_the_review_list(tiny):
    d = live.directory(tiny)
    topic = "pnct/v1/A/health/x"
    bad = [
        live.parse_message(topic, body, d, NOW)
        for body in (b"{oops", json.dumps(reading(asset="NEW-1")).encode(), json.dumps(reading(value=1e9)).encode())
    ]
    rejects = [r for p in bad for r in p.rejects]
    assert store(tiny, [], rejects).quarantined == 3
    assert store(tiny, [], rejects).quarantined == 0  # redelivered: nothing new
    held = live.live_quarantine(tiny, PlantScope.only(["A"]))
    assert sorted(held["category"]) == ["invalid", "invalid", "unmapped"]
    assert any("payload is not JSON" in r for r in held["reason"])
    assert live.live_quarantine(tiny, PlantScope.only(["B"])).empty  # plant scope holds
    with tiny.connect() as conn:
        review = conn.execute(
            select(unmapped_code.c.local_code, unmapped_code.c.occurrences, unmapped_code.c.source)
        ).all()
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar_one() == 3
    assert [tuple(r) for r in review] == [("NEW-1", 1, "health_live")]


def test_a_code_mapped_in_the_review_list_resolves_live_readings(tiny):
    from data_access.ingest import map_code

    d = live.directory(tiny)
    rejects = live.parse_message("pnct/v1/A/health/x", json.dumps(reading(asset="NEW-1")).encode(), d, NOW).rejects
    store(tiny, [], rejects)
    map_code(tiny, "A", "asset", "NEW-1", ASSET, actor="steward")
    again = live.parse_message(
        "pnct/v1/A/health/x", json.dumps(reading(asset="NEW-1")).encode(), live.directory(tiny), NOW
    )
    assert [r.asset_id for r in again.readings] == [ASSET]


def test_the_lease_gives_a_client_id_to_one_process(tiny):
    lease = timedelta(seconds=60)
    assert live.claim_collector(tiny, "c2", "p1", "mqtt://x", NOW, lease)
    assert not live.claim_collector(tiny, "c2", "p2", "mqtt://x", NOW + timedelta(seconds=30), lease)
    assert live.claim_collector(tiny, "c2", "p1", "mqtt://x", NOW + timedelta(seconds=30), lease)  # renewal
    assert live.claim_collector(tiny, "c2", "p2", "mqtt://x", NOW + timedelta(seconds=91), lease)  # p1 went silent
    live.release_collector(tiny, "c2", "p2", NOW + timedelta(seconds=92))
    assert live.claim_collector(tiny, "c2", "p3", "mqtt://x", NOW + timedelta(seconds=93), lease)


# --- the collector against a real broker ------------------------------------------------------------


@pytest.fixture
def broker_dir(tmp_path):
    if not mqtt_broker.available():
        if IN_CI:
            pytest.fail("mosquitto is required under CI=true")
        pytest.skip("mosquitto is not installed")
    return tmp_path / "broker"


@pytest.fixture
def tiny_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    tiny_network.build(engine)
    yield url, engine
    engine.dispose()


def collector_process(url, broker, client_id="test-collector"):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jobs.live",
            "--url",
            url,
            "--broker",
            broker,
            "--client-id",
            client_id,
            "--no-rescore",
            "--lease-s",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def stored_keys(engine):
    frame = live.readings(engine, PlantScope.everything())
    return [(m, t.to_pydatetime()) for m, t in zip(frame["metric"], frame["reading_utc"])]


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_broker_restart_and_collector_kill_lose_nothing_and_store_nothing_twice(broker_dir, tiny_sqlite):
    from sample_data.live import Publisher

    url, engine = tiny_sqlite
    broker = mqtt_broker.Broker(broker_dir).start()
    collector = collector_process(url, broker.url)
    publisher = None
    try:
        assert wait_for(
            lambda: (
                not live.collectors(engine).empty  # a process start: slow on a busy machine
                and live.collectors(engine)["state"].iloc[0] == "connected"
            ),
            120,
        )
        base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
        metrics = ["vibration", "temperature", "current", "run_hours"]
        units = {"vibration": "mm/s", "temperature": "C", "current": "A", "run_hours": "h"}
        published = [(metrics[i % 4], base + timedelta(seconds=i)) for i in range(800)]
        order = list(range(800))
        rng = random.Random(18)
        for start in range(0, 800, 50):  # out of order within every 50, and some much later
            part = order[start : start + 50]
            rng.shuffle(part)
            order[start : start + 50] = part
        late = order[:40]
        order = order[40:] + late
        publisher = Publisher(broker.url, client_id="test-publisher")
        assert publisher.connected.wait(10)
        bad = [
            b"{broken",
            json.dumps(reading(asset="NO-SUCH")).encode(),
            json.dumps(reading(timestamp=(datetime.now(timezone.utc) + timedelta(days=30)).isoformat())).encode(),
        ]

        def send(i):
            metric, when = published[i]
            publisher.publish(
                f"pnct/v1/A/health/{CODE}",
                {
                    "asset": CODE,
                    "metric": metric,
                    "value": 1.0 + i / 1000,
                    "unit": units[metric],
                    "timestamp": when.isoformat(),
                },
            )

        for n, i in enumerate(order):
            send(i)
            if n % 100 == 0:
                publisher.publish("pnct/v1/A/health/x", bad[(n // 100) % 3])
                send(i)  # the same reading twice, as a gateway that retries does
            if n == 250:
                broker.restart()  # mid-stream; the publisher's and the collector's sessions survive
            if n == 500:
                collector.kill()  # no goodbye: what it had not committed comes again
                collector.wait(10)
                collector = collector_process(url, broker.url)
            time.sleep(0.002)
        assert publisher.wait(60) == 0
        expected = set(published)
        assert wait_for(lambda: len(stored_keys(engine)) >= len(expected), 180), (
            f"{len(stored_keys(engine))} of {len(expected)} stored"
        )
        time.sleep(1.0)  # anything redelivered late would land now
        keys = stored_keys(engine)
        assert len(keys) == len(set(keys)) == len(expected)
        assert set(keys) == expected
        with engine.connect() as conn:
            reasons = (
                conn.execute(select(quarantine.c.reason).where(quarantine.c.source == "health_live")).scalars().all()
            )
        assert len(reasons) == 3  # each bad message once, however often it came
        assert (
            any("not JSON" in r for r in reasons)
            and any("NO-SUCH" in r for r in reasons)
            and any("in the future" in r for r in reasons)
        )
    finally:
        if publisher is not None:
            publisher.close()
        collector.terminate()
        collector.wait(10)
        broker.stop()


def run_in_thread(engine, **settings):
    from jobs.live import LiveSettings, run_collector

    stop = threading.Event()
    thread = threading.Thread(target=run_collector, args=(engine, LiveSettings(**settings), stop), daemon=True)
    thread.start()
    return stop, thread


def test_a_refused_login_is_reported_and_retried(broker_dir, tiny_sqlite):
    _, engine = tiny_sqlite
    broker = mqtt_broker.Broker(broker_dir, anonymous=False).start()
    stop, thread = run_in_thread(
        engine, broker=broker.url, client_id="refused", retry_min_s=1, retry_max_s=2, rescore=False
    )
    try:
        assert wait_for(
            lambda: not live.collectors(engine).empty and live.collectors(engine)["state"].iloc[0] == "refused", 20
        )
        first = live.collectors(engine)["last_error_utc"].iloc[0]
        status = live.collectors(engine).iloc[0]
        assert "refused the connection" in status["message"] and "Not authorized" in status["message"]
        assert "retrying" in status["message"]
        assert wait_for(lambda: live.collectors(engine)["last_error_utc"].iloc[0] > first, 20)  # it tries again
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(20)
        broker.stop()
    assert live.collectors(engine)["state"].iloc[0] == "stopped"


def test_an_unreachable_broker_is_reported_and_retried(tiny_sqlite):
    _, engine = tiny_sqlite
    port = mqtt_broker.free_port()  # nothing listens there
    stop, thread = run_in_thread(
        engine, broker=f"mqtt://127.0.0.1:{port}", client_id="away", retry_min_s=1, retry_max_s=2, rescore=False
    )
    try:
        assert wait_for(
            lambda: not live.collectors(engine).empty and live.collectors(engine)["state"].iloc[0] == "retrying", 20
        )
        assert f"cannot reach the broker at mqtt://127.0.0.1:{port}" in live.collectors(engine)["message"].iloc[0]
    finally:
        stop.set()
        thread.join(20)


# --- rescoring: readings to a recommendation -----------------------------------------------------------


def test_new_readings_rescore_their_asset_and_raise_its_recommendation(small_network_url, tmp_path):
    """The small network ends 2026-06-30; an asset at the sensor plant NA-JOL starts to vibrate."""
    import shutil

    from data_access import intelligence as q
    from data_access.schema import recommendation, risk_score, score_run
    from jobs.live import rescore

    path = tmp_path / "warehouse.db"
    shutil.copy(small_network_url.removeprefix("sqlite:///"), path)
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    subject = "NA-JOL-L2-A01"
    t0 = datetime(2026, 7, 1, 6, 0, tzinfo=timezone.utc)

    def recommendations():
        r = recommendation.c
        with engine.connect() as conn:
            return conn.execute(select(r.subject_id, r.kind, r.source).where(r.subject_id == subject)).all()

    rescore(engine, [subject], t0)  # no scoring run yet: a complete one first
    base = q.latest_score_run_id(engine, t0)
    assert base is not None and not base.endswith("L")
    assert recommendations() == []

    h = asset_health_daily.c
    with engine.connect() as conn:
        baseline = conn.execute(select(func.avg(h.vibration_mm_s)).where(h.asset_id == subject)).scalar_one()
    noons = [datetime(2026, 6, day, 12, tzinfo=timezone.utc) for day in range(24, 31)]
    climbing = [
        live.Reading("NA-JOL", subject, "vibration", when, when.date(), baseline * (1.5 + 0.5 * i))
        for i, when in enumerate(noons)
    ]
    store_result = live.store_batch(engine, climbing, [], collector_id="c", now=t0, cadence_h=1.0)
    assert store_result.assets == {subject}

    message = rescore(engine, [subject], t0 + timedelta(minutes=5))
    assert "1 recommendation(s) raised" in message
    assert recommendations() == [(subject, "maintenance", "fallback_rule")]  # v1 is not approved: the rule
    newest = q.latest_score_run_id(engine, t0 + timedelta(minutes=5))
    assert newest.endswith("L") and newest != base
    s = risk_score.c
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(s.run_id, func.count()).where(s.run_id.in_([base, newest])).group_by(s.run_id)).all()
        )
        summary = conn.execute(select(score_run.c.summary).where(score_run.c.run_id == newest)).scalar_one()
    assert counts[newest] == counts[base]  # every other score carried forward
    summary = json.loads(summary) if isinstance(summary, str) else summary
    assert summary["live"] == {"base_run": base, "rescored": [subject]}
    engine.dispose()


def test_a_collector_silent_for_minutes_is_shown_as_not_running():
    import pandas as pd

    from components.live import collector_status

    now = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    frame = pd.DataFrame(
        {
            "state": ["connected", "connected", "stopped", "refused"],
            "updated_utc": pd.to_datetime(
                [now - timedelta(seconds=30), now - timedelta(minutes=10), now - timedelta(days=1), now], utc=True
            ),
        }
    )
    shown = collector_status(frame, now)
    assert list(shown["status"]) == [
        "connected",
        "not running (silent since 2026-12-02 11:50 UTC)",
        "stopped",
        "refused by the broker: retrying",
    ]
    assert list(shown["healthy"]) == [True, False, False, False]


def test_the_sample_publisher_speaks_for_the_generated_sensor_plants(small_network_url):
    """Its asset codes are the generated network's, its readings pass validation in the plants'
    own units, and the degrading asset's vibration climbs toward the clock's now."""
    from sample_data import live as publisher

    engine = make_engine(small_network_url)
    d = live.directory(engine)
    engine.dispose()
    found = publisher.sensors(seed=7, network_size=4)
    assert {s.plant_id for s in found} == {"NA-JOL"}  # the 4-plant network's one sensor plant
    assert all(d.resolve(s.plant_id, s.local_code) == s.asset_id for s in found)
    degrading = publisher.default_degrading(found, None)
    assert degrading == "NA-JOL-L2-A01"  # not the seed scenario's bottleneck, already degrading

    now = datetime(2026, 6, 30, 12, tzinfo=timezone.utc)
    ticks = list(publisher.readings(found, now - timedelta(days=14), now, timedelta(hours=12), degrading, now))
    parsed = [live.parse_message(topic, json.dumps(payload).encode(), d, now) for _, topic, payload in ticks]
    assert all(p.rejects == [] and p.dropped is None and len(p.readings) == 4 for p in parsed)
    units = {r["unit"] for _, _, payload in ticks for r in payload}
    assert {"in/s", "F"} <= units  # Joliet's gateway: imperial units, converted on the way in
    vib = [r.value for p in parsed for r in p.readings if r.asset_id == degrading and r.metric == "vibration"]
    assert min(vib[-4:]) > 1.8 * max(vib[:4])  # mm/s, climbing over the two weeks
