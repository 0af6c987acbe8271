"""Data quality per plant and source: freshness, completeness, quarantine rate, unmapped share.

Definitions (documented in docs/onboarding.md; every ratio is 0..1, NaN when not measurable):

- freshness: 1 while the feed's age (hours since `feed_status.last_received_utc`) is within
  its expected cadence, falling linearly to 0 at three cadences; 0 for a feed never received.
- completeness: over the WINDOW_DAYS plant-local days ending at the feed's newest data day,
  the share of expected periods that have rows. Daily feeds expect the plant's working days
  (weekdays with production in at least two of the window's weeks; every day without any
  production data); production expects every line on each of them (line-days), asset health
  every asset that reported in the window. Feeds with a cadence beyond a day expect one
  delivery per cadence. Staleness is not counted here: that is freshness.
- quarantine_rate: rows still in quarantine (invalid, conflicting, another plant's,
  unreadable) from loads of the last WINDOW_DAYS days / rows those loads read.
- unmapped_share: rows still waiting for an unmapped code / rows read, same window.
- score: 100 x the weighted mean of freshness (0.4), completeness (0.3),
  1 - quarantine_rate (0.15) and 1 - unmapped_share (0.15), over the parts that are known.
"""

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data_access.frames import read_frame
from data_access.ingest.sources import SOURCES
from data_access.schema import (
    asset_health_daily,
    downtime_event,
    feed_status,
    ingest_load,
    inventory_snapshot,
    line,
    plant,
    production_daily,
    purchase_order,
    quarantine,
    unmapped_code,
    work_order,
)
from data_access.scope import PlantScope

WINDOW_DAYS = 28
WEIGHTS = {"freshness": 0.4, "completeness": 0.3, "quarantine_rate": 0.15, "unmapped_share": 0.15}
STALE_FACTOR = 3.0  # freshness reaches 0 at this many cadences
_FEED_TO_SOURCE = {s.feed: s.name for s in SOURCES.values()}
_DAILY_TABLES = {
    "downtime": (downtime_event, "day"),
    "production": (production_daily, "day"),
    "inventory": (inventory_snapshot, "day"),
    "purchase_orders": (purchase_order, "ordered_day"),
    "asset_health": (asset_health_daily, "day"),
}

FEED_COLUMNS = [
    "plant_id",
    "source",
    "feed",
    "last_received_utc",
    "expected_cadence_h",
    "age_h",
    "freshness",
    "completeness",
    "rows_read",
    "quarantine_rate",
    "unmapped_share",
    "open_quarantine",
    "score",
]
PLANT_COLUMNS = [
    "plant_id",
    "data_quality_score",
    "worst_source",
    "worst_score",
    "stale_feeds",
    "open_quarantine",
    "open_unmapped_codes",
]


def feed_quality(engine: Engine, scope: PlantScope, now: datetime | None = None) -> pd.DataFrame:
    """Quality of every feed of the plants in scope.

    Columns: plant_id, source (ingest source, e.g. asset_health), feed (feed_status source,
    e.g. health), last_received_utc (UTC; NaT if never), expected_cadence_h, age_h, freshness,
    completeness, rows_read (by loads in the window), quarantine_rate, unmapped_share,
    open_quarantine (rows), score (0..100). One row per feed in feed_status, plus sources
    loaded through the ingest without a feed_status row yet.
    """
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=WINDOW_DAYS)
    with engine.connect() as conn:
        f = feed_status.c
        feeds = read_frame(
            conn,
            select(f.plant_id, f.source.label("feed"), f.last_received_utc, f.expected_cadence_h).where(
                scope.clause(f.plant_id)
            ),
        )
        feeds["source"] = feeds["feed"].map(lambda s: _FEED_TO_SOURCE.get(s, s))
        loads = _loads(conn, scope, since)
        held = _held(conn, scope, since)
        zones = dict(
            conn.execute(select(plant.c.plant_id, plant.c.timezone).where(scope.clause(plant.c.plant_id))).all()
        )
        completeness = _completeness(conn, scope, zones, feeds)
    extra = loads[~loads.set_index(["plant_id", "source"]).index.isin(feeds.set_index(["plant_id", "source"]).index)]
    if len(extra):
        feeds = pd.concat(
            [
                feeds,
                pd.DataFrame(
                    {
                        "plant_id": extra["plant_id"],
                        "source": extra["source"],
                        "feed": extra["source"].map(lambda s: SOURCES[s].feed if s in SOURCES else s),
                        "last_received_utc": pd.NaT,
                        "expected_cadence_h": extra["source"].map(
                            lambda s: SOURCES[s].default_cadence_h if s in SOURCES else 24.0
                        ),
                    }
                ),
            ],
            ignore_index=True,
        )
    if feeds.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FEED_COLUMNS})
    feeds["last_received_utc"] = pd.to_datetime(feeds["last_received_utc"], utc=True)
    feeds["age_h"] = (pd.Timestamp(now) - feeds["last_received_utc"]).dt.total_seconds() / 3600.0
    cadence = feeds["expected_cadence_h"].astype(float)
    late = ((feeds["age_h"] - cadence) / ((STALE_FACTOR - 1) * cadence)).clip(lower=0)
    feeds["freshness"] = (1 - late).clip(lower=0, upper=1).fillna(0.0)
    feeds = feeds.merge(completeness, on=["plant_id", "source"], how="left")
    feeds = feeds.merge(loads, on=["plant_id", "source"], how="left").merge(held, on=["plant_id", "source"], how="left")
    for column in ("rows_read", "open_invalid", "open_unmapped", "open_quarantine"):
        feeds[column] = _whole(feeds[column])
    read = feeds["rows_read"].where(feeds["rows_read"] > 0)
    feeds["quarantine_rate"] = (feeds["open_invalid"] / read).clip(upper=1)
    feeds["unmapped_share"] = (feeds["open_unmapped"] / read).clip(upper=1)
    feeds["score"] = score(feeds)
    return feeds[FEED_COLUMNS].sort_values(["plant_id", "source"]).reset_index(drop=True)


def plant_quality(engine: Engine, scope: PlantScope, now: datetime | None = None) -> pd.DataFrame:
    """One data-quality score per plant in scope (for the overview and the fallback rule).

    Columns: plant_id, data_quality_score (0..100: the mean of its feeds' scores; NaN for a
    plant without any feed), worst_source, worst_score, stale_feeds (feeds with freshness
    below 1), open_quarantine (rows), open_unmapped_codes (review-list entries).
    """
    feeds = feed_quality(engine, scope, now)
    with engine.connect() as conn:
        plants = read_frame(
            conn, select(plant.c.plant_id).where(scope.clause(plant.c.plant_id)).order_by(plant.c.plant_id)
        )
        u = unmapped_code.c
        codes = read_frame(
            conn,
            select(u.plant_id, func.count().label("open_unmapped_codes"))
            .where(scope.clause(u.plant_id), u.status == "open")
            .group_by(u.plant_id),
        )
    if feeds.empty:
        out = plants.assign(
            data_quality_score=np.nan, worst_source=None, worst_score=np.nan, stale_feeds=0, open_quarantine=0
        )
    else:
        worst = feeds.sort_values("score").groupby("plant_id").first()
        summary = feeds.groupby("plant_id").agg(
            data_quality_score=("score", lambda s: round(s.mean(), 1)),
            stale_feeds=("freshness", lambda s: int((s < 1).sum())),
            open_quarantine=("open_quarantine", "sum"),
        )
        summary["worst_source"] = worst["source"]
        summary["worst_score"] = worst["score"]
        out = plants.merge(summary.reset_index(), on="plant_id", how="left")
        out["stale_feeds"] = _whole(out["stale_feeds"])
        out["open_quarantine"] = _whole(out["open_quarantine"])
    out = out.merge(codes, on="plant_id", how="left")
    out["open_unmapped_codes"] = _whole(out["open_unmapped_codes"])
    return out[PLANT_COLUMNS]


def _whole(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").fillna(0).astype(int)


def score(frame: pd.DataFrame) -> pd.Series:
    """0..100 from the components present in `frame` (unknown parts are left out)."""
    parts = {
        "freshness": frame["freshness"],
        "completeness": frame["completeness"],
        "quarantine_rate": 1 - frame["quarantine_rate"],
        "unmapped_share": 1 - frame["unmapped_share"],
    }
    total = pd.Series(0.0, index=frame.index)
    weight = pd.Series(0.0, index=frame.index)
    for name, values in parts.items():
        known = values.notna()
        total += values.fillna(0) * WEIGHTS[name]
        weight += known * WEIGHTS[name]
    return (100 * total / weight.where(weight > 0)).round(1)


def _loads(conn, scope, since) -> pd.DataFrame:
    l = ingest_load.c
    return read_frame(
        conn,
        select(l.plant_id, l.source, func.sum(l.rows_read).label("rows_read"))
        .where(scope.clause(l.plant_id), l.started_utc >= since, l.status != "failed")
        .group_by(l.plant_id, l.source),
    )


def _held(conn, scope, since) -> pd.DataFrame:
    q = quarantine.c
    frame = read_frame(
        conn,
        select(q.plant_id, q.source, q.category, func.count().label("n"))
        .where(scope.clause(q.plant_id), q.resolved.is_(False), q.created_utc >= since)
        .group_by(q.plant_id, q.source, q.category),
    )
    if frame.empty:
        return pd.DataFrame(columns=["plant_id", "source", "open_invalid", "open_unmapped", "open_quarantine"])
    frame["unmapped"] = frame["category"] == "unmapped"
    out = frame.groupby(["plant_id", "source"]).apply(
        lambda g: pd.Series(
            {
                "open_invalid": int(g.loc[~g["unmapped"], "n"].sum()),
                "open_unmapped": int(g.loc[g["unmapped"], "n"].sum()),
                "open_quarantine": int(g["n"].sum()),
            }
        ),
        include_groups=False,
    )
    return out.reset_index()


def _completeness(conn, scope, zones, feeds) -> pd.DataFrame:
    """completeness per plant and source (see the module docstring)."""
    cadence = {(r.plant_id, r.source): float(r.expected_cadence_h) for r in feeds.itertuples()}
    daily = {}
    for source, (table, column) in _DAILY_TABLES.items():
        day = table.c[column]
        latest = read_frame(
            conn,
            select(table.c.plant_id, func.max(day).label("last"))
            .where(scope.clause(table.c.plant_id))
            .group_by(table.c.plant_id),
        )
        if latest.empty:
            continue
        first = min(pd.to_datetime(latest["last"])) - pd.Timedelta(days=WINDOW_DAYS + 7)
        counts = read_frame(
            conn,
            select(table.c.plant_id, day.label("day"), func.count().label("n"))
            .where(scope.clause(table.c.plant_id), day > first.date())
            .group_by(table.c.plant_id, day),
        )
        counts["day"] = pd.to_datetime(counts["day"])
        daily[source] = counts
    w = work_order.c
    newest = conn.execute(select(func.max(w.created_utc)).where(scope.clause(w.plant_id))).scalar()
    if newest is not None:
        newest = pd.Timestamp(newest)
        newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest  # SQLite: naive UTC
        since = newest - pd.Timedelta(days=WINDOW_DAYS + 2)
        created = read_frame(
            conn,
            select(w.plant_id, w.created_utc).where(scope.clause(w.plant_id), w.created_utc >= since.to_pydatetime()),
        )
        if len(created):
            created["created_utc"] = pd.to_datetime(created["created_utc"], utc=True)
            created["day"] = [
                ts.tz_convert(zones.get(p, "UTC")).tz_localize(None).normalize()
                for p, ts in zip(created["plant_id"], created["created_utc"])
            ]
            daily["work_orders"] = created.groupby(["plant_id", "day"]).size().rename("n").reset_index()
    lines = dict(
        conn.execute(
            select(line.c.plant_id, func.count()).where(scope.clause(line.c.plant_id)).group_by(line.c.plant_id)
        ).all()
    )
    production = daily.get("production", pd.DataFrame(columns=["plant_id", "day", "n"]))
    rows = []
    for source, counts in daily.items():
        for plant_id, group in counts.groupby("plant_id"):
            end = group["day"].max()
            # a feed younger than the window is judged on the days since its first row
            start = max(end - pd.Timedelta(days=WINDOW_DAYS - 1), group["day"].min())
            window = group[group["day"] >= start]
            hours = cadence.get((plant_id, SOURCES[source].feed), SOURCES[source].default_cadence_h)
            if hours > 24:
                periods = max(1, int(round(WINDOW_DAYS * 24 / hours)))
                periods = max(1, min(periods, int(np.ceil(((end - start).days + 1) * 24 / hours))))
                bucket = ((end - window["day"]).dt.days // (hours / 24)).astype(int)
                value = min(1.0, bucket[bucket < periods].nunique() / periods)
            else:
                expected = _working_days(production[production["plant_id"] == plant_id], start, end)
                present = window[window["day"].isin(expected)]
                if source == "production":
                    per_day = max(lines.get(plant_id, 1), 1)
                elif source == "asset_health":
                    per_day = max(int(window["n"].max()), 1)
                else:
                    per_day = 1
                value = (
                    min(1.0, present["n"].clip(upper=per_day).sum() / (per_day * len(expected)))
                    if len(expected)
                    else np.nan
                )
            rows.append({"plant_id": plant_id, "source": source, "completeness": value})
    return pd.DataFrame(rows, columns=["plant_id", "source", "completeness"])


def _working_days(production: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The plant's working days from `start` to `end`."""
    days = pd.date_range(start, end, freq="D")
    seen = production[(production["day"] > end - pd.Timedelta(days=WINDOW_DAYS + 7)) & (production["day"] <= end)]
    if seen.empty:
        return days
    weekdays = seen["day"].dt.weekday.value_counts()
    working = set(weekdays[weekdays >= 2].index)
    return days[days.weekday.isin(working)] if working else days
