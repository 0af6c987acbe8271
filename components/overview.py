"""What the network overview shows, assembled from the cached queries and the KPI module."""

from dataclasses import dataclass

import pandas as pd

from components import cached
from components import decisions as decision_reads
from components.filters import Selection
from data_access import kpis
from jobs import steps


@dataclass(frozen=True)
class NetworkOverview:
    network: pd.Series  # KPIs of the whole selection (components summed, then divided)
    previous: pd.Series  # the same for the period just before
    plants: pd.DataFrame  # one row per plant: plant attributes, components and KPIs
    trend: pd.DataFrame  # week_start, plant (name or "Network"), KPI columns
    freshness: pd.DataFrame  # one row per plant: age of each feed in hours, stale feeds
    decisions: pd.Series  # decision latency, adoption and counts of the whole selection
    decisions_by_plant: pd.DataFrame  # the same per plant (data_access.decisions columns)
    feed_gaps: list[str]  # one sentence per plant feed that ends before the window does
    failing_jobs: tuple = ()  # labels of the worker's jobs whose newest run failed

    @property
    def is_empty(self) -> bool:
        return self.plants.empty


def network_overview(engine, selection: Selection) -> NetworkOverview:
    """KPIs for the selection, its previous period, per plant, per week, and feed ages."""
    scope, start, end = selection.scope, selection.start, selection.end
    info = cached.plants(engine, scope)
    current = cached.plant_kpi_components(engine, scope, start, end)
    before = selection.previous()
    previous = cached.plant_kpi_components(engine, scope, before.start, before.end)

    quality = cached.plant_quality(engine, scope)[["plant_id", "data_quality_score"]]
    per_plant = info.merge(kpis.with_kpis(current), on="plant_id", how="inner").merge(
        quality, on="plant_id", how="left"
    )
    decided, decided_by_plant = decision_reads.overview_decision_kpis(engine, scope, start, end)
    return NetworkOverview(
        network=kpis.roll_up(current) if not current.empty else pd.Series(dtype=float),
        previous=kpis.roll_up(previous) if not previous.empty else pd.Series(dtype=float),
        plants=per_plant,
        trend=_trend(engine, selection, info),
        freshness=_freshness(engine, selection, info).merge(quality, on="plant_id", how="left"),
        decisions=decided,
        decisions_by_plant=decided_by_plant,
        feed_gaps=feed_gap_notes(engine, selection),
        failing_jobs=tuple(steps.JOBS[name][0] for name in cached.failing_jobs(engine) if name in steps.JOBS),
    )


FEED_NAMES = {
    "production": "production",
    "downtime": "downtime",
    "purchase_orders": "purchase-order receipts",
    "demand": "demand",
    "inventory": "stock counts",
}


def feed_gap_notes(engine, selection: Selection) -> list[str]:
    """How far each feed reaches, for the feeds that end before the selected window does."""
    gaps = cached.feeds_ending_before(engine, selection.scope, selection.end)
    notes = []
    for plant_name, rows in gaps.groupby("plant_name", sort=True):
        parts = [
            f"{FEED_NAMES.get(r.feed, r.feed)} to {r.last_day:%d %b %Y} ({r.days_short} d short)"
            for r in rows.itertuples()
        ]
        notes.append(f"{plant_name}: " + "; ".join(parts))
    return notes


def _trend(engine, selection, info) -> pd.DataFrame:
    args = (engine, selection.scope, selection.start, selection.end)
    network = kpis.with_kpis(cached.weekly_kpi_components(*args)).assign(plant="Network")
    by_plant = kpis.with_kpis(cached.weekly_kpi_components(*args, by_plant=True))
    by_plant = by_plant.merge(info[["plant_id", "name"]], on="plant_id").rename(columns={"name": "plant"})
    columns = ["week_start", "plant", "days", *kpis.KPI_CATALOG]
    return pd.concat([network[columns], by_plant[columns]], ignore_index=True)


def _freshness(engine, selection, info) -> pd.DataFrame:
    feeds = cached.feed_freshness(engine, selection.scope)
    if feeds.empty:
        return pd.DataFrame(columns=["plant_id", "plant", "stale_feeds", "oldest_feed_h"])
    ages = feeds.pivot(index="plant_id", columns="source", values="age_h").add_suffix("_age_h")
    stale = feeds[feeds["is_stale"]].groupby("plant_id")["source"].agg(", ".join).rename("stale_feeds")
    oldest = feeds.groupby("plant_id")["age_h"].max().rename("oldest_feed_h")
    table = info[["plant_id", "name", "data_maturity"]].rename(columns={"name": "plant"})
    table = table.merge(oldest, on="plant_id").merge(stale, on="plant_id", how="left")
    table["stale_feeds"] = table["stale_feeds"].fillna("")
    return table.merge(ages.reset_index(), on="plant_id")
