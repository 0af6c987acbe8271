"""Live machine health: validate readings that arrive over MQTT and store them in batches.

The protocol side lives in `jobs/live.py`; this module knows nothing of MQTT. A message is a
topic and a payload (see docs/live-feeds.md):

    topic    pnct/v1/<plant_id>/health/<asset>      (the trailing segments are informative)
    payload  {"asset": "DE-BER-L1-SEA-02", "metric": "vibration", "value": 3.1,
              "unit": "mm/s", "timestamp": "2026-12-02T07:15:00+01:00"}
             or a JSON list of such objects

`parse_message` turns one message into readings (canonical asset, unit and UTC time) and
rejects (the raw reading and every reason); `store_batch` writes a batch of them in one
transaction: new readings (their key asset, metric, reading time makes a redelivery change
nothing), quarantine rows, the review list for unknown assets, the per-day sums and from them
the daily roll-up into asset_health_daily, feed_status and the collector's counters.
Importable without Streamlit.
"""

import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from data_access.ingest import mapping as mappings
from data_access.ingest.sources import TEMPERATURE_UNITS, VIBRATION_UNITS
from data_access.schema import (
    asset,
    asset_health_daily,
    feed_status,
    health_reading,
    health_reading_day,
    live_collector,
    plant,
    quarantine,
    risk_score,
    score_run,
    unmapped_code,
)
from data_access.scope import PlantScope

SOURCE = "health_live"
"""quarantine.source and unmapped_code.source of live readings."""
FEED = "health"
"""feed_status.source the live readings keep fresh (the failure-risk model reads it)."""
TOPIC_ROOT = ("pnct", "v1")
TOPIC_FILTER = "pnct/v1/+/health/#"
FUTURE_SLACK = timedelta(minutes=10)  # clock skew tolerated before a reading is "in the future"
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
MAX_READINGS_PER_MESSAGE = 1000
MAX_RAW = 2000


@dataclass(frozen=True)
class Metric:
    column: str  # asset_health_daily column it rolls up into
    unit: str  # canonical unit
    units: dict  # unit -> (factor, offset) to the canonical one
    low: float  # physically possible range, canonical unit (inclusive)
    high: float


METRICS = {
    "vibration": Metric("vibration_mm_s", "mm/s", VIBRATION_UNITS, 0.0, 100.0),
    "temperature": Metric("temperature_c", "C", TEMPERATURE_UNITS, -60.0, 400.0),
    "current": Metric("current_a", "A", {"A": (1.0, 0.0), "mA": (0.001, 0.0)}, 0.0, 5000.0),
    "run_hours": Metric(
        "run_hours", "h", {"h": (1.0, 0.0), "min": (1 / 60, 0.0), "s": (1 / 3600, 0.0)}, 0.0, 1_000_000.0
    ),
}
"""Metrics a reading may carry. run_hours is the asset's operating-hours counter; a day's run
hours are its newest counter value that day less the newest one before (a reset counts from
the day's first value; the counter's first day has none), at most 24."""


@dataclass(frozen=True)
class Reading:
    plant_id: str
    asset_id: str
    metric: str
    reading_utc: datetime
    day: date  # plant-local
    value: float  # canonical unit


@dataclass(frozen=True)
class Reject:
    plant_id: str
    topic: str
    position: int  # 1-based position of the reading in its message (0: the message as a whole)
    raw: dict
    reason: str
    category: str  # invalid | unmapped | out_of_scope
    local_code: str | None = None  # an unknown asset code, for the review list

    @property
    def raw_hash(self) -> str:
        text = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class Parsed:
    readings: list = field(default_factory=list)
    rejects: list = field(default_factory=list)
    dropped: str | None = None  # why the whole message could not be kept (no known plant)


# --- the broker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def shown(self) -> str:
        """The URL without its password, for pages and logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_broker(url: str) -> Broker:
    """mqtt://[user[:password]@]host[:port] (1883; mqtts 8883); ValueError naming the problem."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker URL {url.split('@')[-1]!r} is not mqtt://host:port or mqtts://host:port")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise ValueError(f"broker URL {url.split('@')[-1]!r} has no valid port") from None
    password = unquote(parts.password) if parts.password else os.environ.get("PNCT_MQTT_PASSWORD")
    return Broker(
        parts.hostname, port, parts.scheme == "mqtts", unquote(parts.username) if parts.username else None, password
    )


# --- where readings go: plants and their asset mapping ---------------------------------------


@dataclass
class Directory:
    """Plants (time zones) and, per plant, every code an asset may be published under: its
    canonical id, its local code, the stored asset-health mapping's asset codes and the codes
    a steward mapped in the review list (the same lookup a file load uses)."""

    zones: dict  # plant_id -> ZoneInfo
    assets: dict  # plant_id -> {code: asset_id}
    folded: dict  # plant_id -> {casefolded code: asset_id}
    owner: dict  # asset_id and local code -> plant_id (to tell "another plant's asset" from "unknown")

    def resolve(self, plant_id: str, code: str) -> str | None:
        return self.assets[plant_id].get(code.strip()) or self.folded[plant_id].get(code.strip().casefold())


def directory(engine: Engine) -> Directory:
    """Read the plants, their assets and asset mappings once (the collector refreshes it)."""
    with engine.connect() as conn:
        zones = {p: ZoneInfo(z) for p, z in conn.execute(select(plant.c.plant_id, plant.c.timezone))}
        rows = conn.execute(select(asset.c.asset_id, asset.c.plant_id, asset.c.local_code)).all()
        assets = {p: {} for p in zones}
        for asset_id, plant_id, local_code in rows:
            assets[plant_id][str(local_code).strip()] = asset_id
            assets[plant_id][asset_id] = asset_id
        owner = {**{str(r.local_code).strip(): r.plant_id for r in rows}, **{r.asset_id: r.plant_id for r in rows}}
        for plant_id in zones:
            extra = {}
            stored = mappings.latest(conn, plant_id, "asset_health")
            if stored is not None:
                extra.update(stored[0].codes.get("asset", {}))
            extra.update(mappings.reviewed_codes(conn, plant_id).get("asset", {}))
            for code, asset_id in extra.items():
                if owner.get(asset_id) == plant_id:
                    assets[plant_id].setdefault(code.strip(), asset_id)
    folded = {p: {} for p in zones}
    for plant_id, codes in assets.items():
        for code, asset_id in codes.items():
            folded[plant_id].setdefault(code.casefold(), asset_id)
    return Directory(zones, assets, folded, owner)


# --- one message ------------------------------------------------------------------------------


def topic_plant(topic: str) -> str | None:
    """The plant a topic names (pnct/v1/<plant>/health/...), None for any other topic."""
    parts = topic.split("/")
    if len(parts) < 4 or tuple(parts[:2]) != TOPIC_ROOT or parts[3] != "health" or not parts[2]:
        return None
    return parts[2]


def parse_message(topic: str, payload: bytes, where: Directory, now: datetime) -> Parsed:
    """Validate one message into readings and rejects (see the module docstring)."""
    out = Parsed()
    plant_id = topic_plant(topic)
    if plant_id is None:
        out.dropped = f"topic {topic!r} is not pnct/v1/<plant>/health/<asset>"
        return out
    if plant_id not in where.zones:
        out.dropped = f"topic {topic!r} names plant {plant_id!r}, which is not in the warehouse"
        return out
    text = _text(payload)

    def whole(reason: str) -> Parsed:
        out.rejects.append(Reject(plant_id, topic, 0, {"topic": topic, "payload": _cut(text)}, reason, "invalid"))
        return out

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return whole(f"payload is not JSON ({exc.msg} at character {exc.pos})")
    except (ValueError, RecursionError) as exc:  # e.g. nesting too deep for the parser
        return whole(f"payload cannot be read as JSON ({type(exc).__name__})")
    items = document if isinstance(document, list) else [document]
    if not items:
        return whole("payload is an empty list")
    if len(items) > MAX_READINGS_PER_MESSAGE:
        return whole(f"payload holds {len(items):,} readings (at most {MAX_READINGS_PER_MESSAGE:,} per message)")
    for position, item in enumerate(items, start=1):
        reading, reject = _reading(plant_id, topic, position, item, where, now)
        if reading is not None:
            out.readings.append(reading)
        else:
            out.rejects.append(reject)
    return out


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", errors="replace") if isinstance(payload, (bytes, bytearray)) else str(payload)


def _cut(value: str) -> str:
    return value if len(value) <= MAX_RAW else value[:MAX_RAW] + f"... [{len(value):,} characters]"


def _reading(plant_id, topic, position, item, where: Directory, now: datetime):
    if not isinstance(item, dict):
        raw = {"topic": topic, "reading": _cut(json.dumps(item, default=str))}
        return None, Reject(
            plant_id,
            topic,
            position,
            raw,
            "a reading must be a JSON object with asset, metric, value, unit and timestamp",
            "invalid",
        )
    raw = {"topic": topic, **{str(k): (_cut(v) if isinstance(v, str) else v) for k, v in list(item.items())[:20]}}
    problems = []
    missing = [k for k in ("asset", "metric", "value", "unit", "timestamp") if item.get(k) in (None, "")]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    metric = METRICS.get(item.get("metric")) if isinstance(item.get("metric"), str) else None
    if item.get("metric") not in (None, "") and metric is None:
        problems.append(f"unknown metric {item.get('metric')!r} (known: {', '.join(METRICS)})")
    value = item.get("value")
    number = None
    if value not in (None, ""):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            problems.append(f"value {_cut(repr(value))} is not a number")
        else:
            number = float(value)
    unit = item.get("unit")
    if metric is not None and unit not in (None, "") and unit not in metric.units:
        problems.append(f"unit {unit!r} is not a unit of {item['metric']} (known: {', '.join(metric.units)})")
    elif metric is not None and number is not None and unit in metric.units:
        factor, offset = metric.units[unit]
        number = number * factor + offset
        if not metric.low <= number <= metric.high:
            problems.append(
                f"{item['metric']} {number:g} {metric.unit} is impossible "
                f"(possible: {metric.low:g} to {metric.high:g} {metric.unit})"
            )
    stamp = _timestamp(item.get("timestamp"), now, problems) if item.get("timestamp") not in (None, "") else None
    asset_id, category, local = None, "invalid", None
    code = item.get("asset")
    if code not in (None, ""):
        code = str(code)
        asset_id = where.resolve(plant_id, code)
        if asset_id is None:
            other = where.owner.get(code.strip())
            if other is not None and other != plant_id:
                problems.append(f"asset {code!r} belongs to plant {other}, not {plant_id}")
                category = "out_of_scope"
            else:
                problems.append(f"asset {code!r} is not mapped (unknown at {plant_id}; it waits in the review list)")
                category, local = "unmapped", code.strip()[:200]
    if problems:
        if category == "unmapped" and len(problems) > 1:
            category = "invalid"  # fix the reading first; the code still goes to the review list
        return None, Reject(plant_id, topic, position, raw, "; ".join(problems), category, local)
    zone = where.zones[plant_id]
    return Reading(plant_id, asset_id, item["metric"], stamp, stamp.astimezone(zone).date(), number), None


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _timestamp(text, now: datetime, problems: list) -> datetime | None:
    if not isinstance(text, str):
        problems.append(f"timestamp {text!r} is not ISO 8601 text")
        return None
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        problems.append(f"timestamp {text!r} is not ISO 8601 (e.g. 2026-12-02T07:15:00+01:00)")
        return None
    if stamp.tzinfo is None:
        problems.append(f"timestamp {text!r} has no UTC offset (e.g. +01:00 or Z)")
        return None
    stamp = stamp.astimezone(timezone.utc)
    if stamp > now + FUTURE_SLACK:
        problems.append(
            f"timestamp {text!r} is in the future (more than {FUTURE_SLACK.seconds // 60} min "
            f"after the collector's clock, {now:%Y-%m-%d %H:%M:%S} UTC)"
        )
    elif stamp < EARLIEST:
        problems.append(f"timestamp {text!r} is before 1990")
    return stamp


# --- one batch --------------------------------------------------------------------------------


@dataclass
class BatchResult:
    received: int = 0  # readings delivered (valid ones, redeliveries included)
    stored: int = 0  # new readings
    duplicates: int = 0  # already stored (a redelivery, or twice in the batch)
    quarantined: int = 0  # new quarantine rows (a redelivered bad reading is not counted twice)
    rejected: int = 0  # rejects in the batch
    assets: set = field(default_factory=set)  # asset ids with new readings
    newest: datetime | None = None  # newest reading time stored


def _insert(conn: Connection, table):
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def store_batch(
    engine: Engine,
    readings: Iterable[Reading],
    rejects: Iterable[Reject],
    *,
    collector_id: str,
    now: datetime,
    cadence_h: float,
    dropped: int = 0,
    message: str | None = None,
) -> BatchResult:
    """Write one batch in one transaction (see the module docstring); a failure writes nothing."""
    readings, rejects = list(readings), list(rejects)
    result = BatchResult(received=len(readings), rejected=len(rejects))
    with engine.begin() as conn:
        new = _new_readings(conn, readings)
        result.duplicates = len(readings) - len(new)
        if new:
            conn.execute(
                _insert(conn, health_reading).on_conflict_do_nothing(),
                [
                    dict(
                        asset_id=r.asset_id,
                        metric=r.metric,
                        reading_utc=r.reading_utc,
                        plant_id=r.plant_id,
                        day=r.day,
                        value=r.value,
                        received_utc=now,
                    )
                    for r in new
                ],
            )
            result.stored = len(new)
            result.assets = {r.asset_id for r in new}
            result.newest = max(r.reading_utc for r in new)
            _sum_days(conn, new)
            roll_up(conn, {(r.asset_id, r.day) for r in new})
        fresh = _quarantine(conn, rejects, now)
        result.quarantined = len(fresh)
        _review_list(conn, fresh, now)
        _feed_status(conn, {r.plant_id for r in readings}, now, cadence_h)
        _count(conn, collector_id, now, result, dropped, message)
    return result


def _new_readings(conn, readings: list) -> list:
    """The readings not stored yet, each key once (the first delivery wins)."""
    unique = {}
    for r in readings:
        unique.setdefault((r.asset_id, r.metric, r.reading_utc), r)
    if not unique:
        return []
    h = health_reading.c
    known = set()
    keys = sorted(unique)
    for start in range(0, len(keys), 300):
        groups = {}
        for asset_id, metric, when in keys[start : start + 300]:
            groups.setdefault((asset_id, metric), []).append(when)
        # one (asset, metric) prefix of the key per group: both backends look each time up in the
        # primary key (SQLite scans the whole index for a row-value IN list)
        rows = conn.execute(
            select(h.asset_id, h.metric, h.reading_utc).where(
                or_(
                    *(
                        and_(h.asset_id == a, h.metric == m, h.reading_utc.in_(times))
                        for (a, m), times in groups.items()
                    )
                )
            )
        ).all()
        known.update((a, m, _aware(t)) for a, m, t in rows)
    return [r for k, r in unique.items() if k not in known]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _sum_days(conn, readings: list) -> None:
    """Add new readings to their (asset, metric, plant-local day) sums."""
    sums = {}
    for r in readings:
        key = (r.asset_id, r.metric, r.day)
        n, total, low, high, plant_id = sums.get(key, (0, 0.0, r.value, r.value, r.plant_id))
        sums[key] = (n + 1, total + r.value, min(low, r.value), max(high, r.value), plant_id)
    stmt = _insert(conn, health_reading_day)
    d = health_reading_day.c
    least, greatest = (func.min, func.max) if conn.dialect.name == "sqlite" else (func.least, func.greatest)
    stmt = stmt.on_conflict_do_update(
        index_elements=[d.asset_id, d.metric, d.day],
        set_={
            "n": d.n + stmt.excluded.n,
            "total": d.total + stmt.excluded.total,
            "low": least(d.low, stmt.excluded.low),
            "high": greatest(d.high, stmt.excluded.high),
        },
    )
    conn.execute(
        stmt,
        [
            dict(asset_id=a, metric=m, day=day, plant_id=p, n=n, total=t, low=lo, high=hi)
            for (a, m, day), (n, t, lo, hi, p) in sums.items()
        ],
    )


def roll_up(conn: Connection, keys: set) -> int:
    """Recompute asset_health_daily for these (asset_id, day) from the live readings' daily sums:
    means of vibration, temperature and current; run hours from the counter (the day after each
    key too, whose difference a late reading changes). Columns without live readings keep their value."""
    if not keys:
        return 0
    d = health_reading_day.c
    assets = sorted({a for a, _ in keys})
    first = min(day for _, day in keys)
    rows = conn.execute(
        select(d.asset_id, d.plant_id, d.day, d.metric, d.total / d.n, d.low, d.high).where(
            d.asset_id.in_(assets), d.day >= first
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["asset_id", "plant_id", "day", "metric", "mean", "low", "high"])
    if frame.empty:
        return 0
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    before = dict(
        conn.execute(
            select(d.asset_id, func.max(d.high))
            .where(d.asset_id.in_(assets), d.metric == "run_hours", d.day < first)
            .group_by(d.asset_id)
        ).all()
    )
    wanted = set(keys)
    for asset_id, day in keys:  # the next day with readings depends on this one's counter
        later = frame[(frame["asset_id"] == asset_id) & (frame["day"] > day)]["day"]
        if len(later):
            wanted.add((asset_id, later.min()))
    out = {}
    for (asset_id, plant_id), group in frame.sort_values("day").groupby(["asset_id", "plant_id"]):
        previous = before.get(asset_id)
        for day, metrics in group.groupby("day", sort=True):
            row = {"asset_id": asset_id, "day": day, "plant_id": plant_id}
            for m in metrics.itertuples(index=False):
                spec = METRICS[m.metric]
                if m.metric == "run_hours":  # unknown on the counter's first day (nothing before it)
                    if previous is not None:
                        start = previous if previous <= m.high else m.low  # below: the counter was reset
                        row[spec.column] = round(min(max(m.high - start, 0.0), 24.0), 4)
                    previous = m.high
                else:
                    row[spec.column] = round(float(m.mean), 4)
            if (asset_id, day) in wanted:
                out[(asset_id, day)] = row
    if not out:
        return 0
    columns = [m.column for m in METRICS.values()]
    values = [{c: r.get(c) for c in ("asset_id", "day", "plant_id", *columns)} for r in out.values()]
    stmt = _insert(conn, asset_health_daily)
    t = asset_health_daily.c
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.asset_id, t.day], set_={c: func.coalesce(stmt.excluded[c], t[c]) for c in columns}
    )
    conn.execute(stmt, values)
    return len(values)


def _quarantine(conn, rejects: list, now: datetime) -> list:
    """Quarantine the rejects not waiting there yet (a redelivery is skipped); returns those."""
    if not rejects:
        return []
    q = quarantine.c
    fresh = {}
    for r in rejects:
        fresh.setdefault((r.plant_id, r.raw_hash), r)
    waiting = set()
    hashes = sorted({h for _, h in fresh})
    for start in range(0, len(hashes), 300):
        waiting.update(
            tuple(x)
            for x in conn.execute(
                select(q.plant_id, q.raw_hash).where(q.source == SOURCE, q.raw_hash.in_(hashes[start : start + 300]))
            ).all()
        )
    new = {key: r for key, r in fresh.items() if key not in waiting}
    if new:
        conn.execute(
            quarantine.insert(),
            [
                dict(
                    plant_id=r.plant_id,
                    source=SOURCE,
                    file_name=r.topic[:260],
                    row_number=r.position,
                    raw=r.raw,
                    reason=r.reason,
                    created_utc=now,
                    resolved=False,
                    load_id=None,
                    category=r.category,
                    raw_hash=h,
                )
                for (_, h), r in new.items()
            ],
        )
    return list(new.values())


def _review_list(conn, rejects: list, now: datetime) -> None:
    """Unknown asset codes go to the plant's review list, as a file load's do."""
    counts = {}
    for r in rejects:
        if r.local_code:
            counts[(r.plant_id, r.local_code)] = counts.get((r.plant_id, r.local_code), 0) + 1
    u = unmapped_code.c
    for (plant_id, code), n in counts.items():
        where = (u.plant_id == plant_id, u.kind == "asset", u.local_code == code)
        row = conn.execute(select(u.status, u.occurrences).where(*where)).first()
        if row is None:
            conn.execute(
                unmapped_code.insert().values(
                    plant_id=plant_id,
                    kind="asset",
                    local_code=code,
                    source=SOURCE,
                    occurrences=n,
                    first_seen_utc=now,
                    last_seen_utc=now,
                    status="open",
                )
            )
        elif row.status == "open":
            conn.execute(
                update(unmapped_code)
                .where(*where)
                .values(occurrences=row.occurrences + n, last_seen_utc=now, source=SOURCE)
            )


def _feed_status(conn, plants: set, now: datetime, cadence_h: float) -> None:
    f = feed_status.c
    for plant_id in sorted(plants):
        where = (f.plant_id == plant_id, f.source == FEED)
        done = conn.execute(
            update(feed_status)
            .where(*where, or_(f.last_received_utc.is_(None), f.last_received_utc < now))
            .values(last_received_utc=now, expected_cadence_h=cadence_h)
        )
        if done.rowcount == 0 and conn.execute(select(f.source).where(*where)).first() is None:
            conn.execute(
                feed_status.insert().values(
                    plant_id=plant_id, source=FEED, last_received_utc=now, expected_cadence_h=cadence_h
                )
            )


# --- the collector's status -------------------------------------------------------------------


def _count(conn, collector_id: str, now: datetime, result: BatchResult, dropped: int, message: str | None) -> None:
    c = live_collector.c
    values = dict(
        updated_utc=now,
        last_message_utc=now,
        received=c.received + result.received + result.rejected,
        stored=c.stored + result.stored,
        duplicates=c.duplicates + result.duplicates,
        quarantined=c.quarantined + result.quarantined,
        dropped=c.dropped + dropped,
    )
    if result.newest is not None:
        values["last_reading_utc"] = func.coalesce(
            func.max(c.last_reading_utc, result.newest)
            if conn.dialect.name == "sqlite"
            else func.greatest(c.last_reading_utc, result.newest),
            result.newest,
        )
    if message:
        values.update(message=message, last_error_utc=now)
    conn.execute(update(live_collector).where(c.collector_id == collector_id).values(**values))


def claim_collector(
    engine: Engine, collector_id: str, owner: str, broker: str, now: datetime, lease: timedelta
) -> bool:
    """Take (or renew) the lease on a client id: free, ours, or not renewed within `lease`.
    Renewing stamps updated_utc (the page tells a stopped process from a quiet feed by it)."""
    c = live_collector.c
    with engine.begin() as conn:
        done = conn.execute(
            update(live_collector)
            .where(
                c.collector_id == collector_id, or_(c.owner.is_(None), c.owner == owner, c.updated_utc < now - lease)
            )
            .values(owner=owner[:100], broker=broker[:200], updated_utc=now)
        )
        if done.rowcount:
            return True
        if conn.execute(select(c.collector_id).where(c.collector_id == collector_id)).first() is not None:
            return False
        conn.execute(
            _insert(conn, live_collector)
            .on_conflict_do_nothing()
            .values(
                collector_id=collector_id,
                owner=owner[:100],
                broker=broker[:200],
                state="starting",
                updated_utc=now,
                received=0,
                stored=0,
                duplicates=0,
                quarantined=0,
                dropped=0,
            )
        )
        return conn.execute(select(c.owner).where(c.collector_id == collector_id)).scalar() == owner[:100]


def release_collector(engine: Engine, collector_id: str, owner: str, now: datetime) -> None:
    c = live_collector.c
    with engine.begin() as conn:
        conn.execute(
            update(live_collector)
            .where(c.collector_id == collector_id, c.owner == owner[:100])
            .values(owner=None, updated_utc=now)
        )


def set_collector_state(
    engine: Engine,
    collector_id: str,
    owner: str,
    state: str,
    message: str | None,
    now: datetime,
    *,
    error: bool = False,
    connected: bool | None = None,
) -> None:
    """Record a state change of the collector holding the lease (`owner`); `error` stamps
    last_error_utc, `connected` True sets connected_utc to now, False clears it."""
    c = live_collector.c
    values = dict(state=state, message=message, updated_utc=now)
    if error:
        values["last_error_utc"] = now
    if connected is not None:
        values["connected_utc"] = now if connected else None
    with engine.begin() as conn:
        conn.execute(
            update(live_collector).where(c.collector_id == collector_id, c.owner == owner[:100]).values(**values)
        )


def plants_of(engine: Engine, asset_ids: Iterable[str]) -> list[str]:
    """The plants these assets belong to, sorted."""
    with engine.connect() as conn:
        return sorted(
            set(conn.execute(select(asset.c.plant_id).where(asset.c.asset_id.in_(list(asset_ids)))).scalars())
        )


def record_rescore(engine: Engine, collector_id: str, now: datetime, message: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(live_collector)
            .where(live_collector.c.collector_id == collector_id)
            .values(rescored_utc=now, rescore_message=message[:4000])
        )


def collectors(engine: Engine) -> pd.DataFrame:
    """Every live collector's status (not plant data: the whole network shares the broker).

    Columns: collector_id, owner (the process holding it; null when stopped), broker, state,
    message, updated_utc, connected_utc, last_error_utc, last_message_utc, last_reading_utc,
    received (readings), stored, duplicates, quarantined, dropped (messages of no known plant),
    rescored_utc, rescore_message. Times are tz-aware UTC.
    """
    c = live_collector.c
    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(select(*live_collector.columns).order_by(c.collector_id)).mappings().all(),
            columns=[col.name for col in live_collector.columns],
        )
    for name in (
        "updated_utc",
        "connected_utc",
        "last_error_utc",
        "last_message_utc",
        "last_reading_utc",
        "rescored_utc",
    ):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def live_quarantine(engine: Engine, scope: PlantScope, limit: int = 200) -> pd.DataFrame:
    """The newest open quarantine rows of live readings in scope.

    Columns: plant_id, created_utc (UTC), topic, reason, category, raw (JSON text).
    """
    q = quarantine.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(q.plant_id, q.created_utc, q.file_name.label("topic"), q.reason, q.category, q.raw)
            .where(scope.clause(q.plant_id), q.source == SOURCE, q.resolved.is_(False))
            .order_by(q.created_utc.desc(), q.quarantine_id.desc())
            .limit(limit)
        ).all()
    frame = pd.DataFrame(rows, columns=["plant_id", "created_utc", "topic", "reason", "category", "raw"])
    frame["created_utc"] = pd.to_datetime(frame["created_utc"], utc=True)
    frame["raw"] = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in frame["raw"]]
    return frame


def readings(engine: Engine, scope: PlantScope, asset_id: str | None = None) -> pd.DataFrame:
    """Live readings in scope (optionally of one asset), oldest first.

    Columns: asset_id, plant_id, metric, reading_utc (UTC), day (plant-local), value, received_utc.
    """
    h = health_reading.c
    stmt = select(h.asset_id, h.plant_id, h.metric, h.reading_utc, h.day, h.value, h.received_utc).where(
        scope.clause(h.plant_id)
    )
    if asset_id is not None:
        stmt = stmt.where(h.asset_id == asset_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(h.asset_id, h.metric, h.reading_utc)).all()
    frame = pd.DataFrame(
        rows, columns=["asset_id", "plant_id", "metric", "reading_utc", "day", "value", "received_utc"]
    )
    frame["reading_utc"] = pd.to_datetime(frame["reading_utc"], utc=True)
    frame["received_utc"] = pd.to_datetime(frame["received_utc"], utc=True)
    return frame


# --- scoring runs that carry the newest run forward -------------------------------------------

LIVE_RUN_SUFFIX = "L"
KEEP_LIVE_RUNS = 2


def carry_forward_scores(conn: Connection, base_run: str, run_id: str, kind: str, replaced: Iterable[str]) -> int:
    """Copy every score of `base_run` into `run_id` except the `kind` rows of the `replaced`
    subjects (the caller writes those anew), server-side. Returns the rows copied."""
    s = risk_score.c
    replaced = list(replaced)
    columns = [c for c in risk_score.columns if c.name != "run_id"]
    keep = s.run_id == base_run
    if replaced:
        keep = and_(keep, or_(s.kind != kind, s.subject_id.not_in(replaced)))
    source = select(literal(run_id).label("run_id"), *columns).where(keep)
    done = conn.execute(risk_score.insert().from_select(["run_id", *[c.name for c in columns]], source))
    return max(done.rowcount, 0)


def prune_live_runs(conn: Connection, keep: int = KEEP_LIVE_RUNS) -> int:
    """Delete all but the newest `keep` live runs (run ids ending in LIVE_RUN_SUFFIX): each
    carries the whole picture forward, so older ones are superseded. Returns runs deleted."""
    r = score_run.c
    live = (
        conn.execute(
            select(r.run_id).where(r.run_id.like(f"%{LIVE_RUN_SUFFIX}")).order_by(r.as_of_utc.desc(), r.run_id.desc())
        )
        .scalars()
        .all()
    )
    old = live[keep:]
    if old:
        conn.execute(delete(risk_score).where(risk_score.c.run_id.in_(old)))
        conn.execute(delete(score_run).where(r.run_id.in_(old)))
    return len(old)
