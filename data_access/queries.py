"""Named reads of the warehouse. Each takes the user's PlantScope and filters on it in SQL.

Every function returns a DataFrame whose columns its docstring lists; aggregation happens
in SQL (sums of KPI components from the daily mart), the division in `data_access.kpis`.
"""

from datetime import date, datetime, timezone

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access.frames import read_frame
from data_access.schema import (
    asset,
    feed_status,
    line,
    mart_feed_reach,
    mart_plant_daily,
    material,
    plant,
    plant_material,
    region,
)
from data_access.scope import PlantScope

_M = mart_plant_daily.c
_SUMMED = [func.sum(getattr(_M, name)).label(name) for name in kpis.COMPONENTS]


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def plants(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Plants in scope.

    Columns: plant_id, name, region_id, region_name, country, timezone (IANA), lat, lon,
    data_maturity (iot | mes | spreadsheet), maintenance_workflow, currency.
    """
    p = plant.c
    return _read(
        engine,
        select(
            p.plant_id,
            p.name,
            p.region_id,
            region.c.name.label("region_name"),
            p.country,
            p.timezone,
            p.lat,
            p.lon,
            p.data_maturity,
            p.maintenance_workflow,
            p.currency,
        )
        .join_from(plant, region, p.region_id == region.c.region_id)
        .where(scope.clause(p.plant_id))
        .order_by(p.plant_id),
    )


def data_window(engine: Engine, scope: PlantScope) -> tuple[date, date] | None:
    """First and last plant-local day in the daily mart for the scope; None when empty."""
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(_M.day), func.max(_M.day)).where(scope.clause(_M.plant_id))).one()
    return None if first is None else (_as_date(first), _as_date(last))


def plant_kpi_components(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """KPI components per plant, summed over the plant-local days start..end (inclusive).

    Columns: plant_id, days (mart days present), then every name in kpis.COMPONENTS.
    Plants without a mart row in the window are absent.
    """
    return _read(
        engine,
        select(
            _M.plant_id,
            func.count().label("days"),
            *_SUMMED,
        )
        .where(scope.clause(_M.plant_id), _M.day.between(start, end))
        .group_by(_M.plant_id)
        .order_by(_M.plant_id),
    )


def weekly_kpi_components(
    engine: Engine, scope: PlantScope, start: date, end: date, by_plant: bool = False
) -> pd.DataFrame:
    """KPI components per plant-local ISO week (Monday), for the whole scope or per plant.

    Columns: week_start, [plant_id when by_plant], days, then every name in kpis.COMPONENTS.
    Weeks cut by start or end hold only the days inside the window.
    """
    keys = [_M.week_start, _M.plant_id] if by_plant else [_M.week_start]
    return _read(
        engine,
        select(*keys, func.count().label("days"), *_SUMMED)
        .where(
            scope.clause(_M.plant_id),
            _M.day.between(start, end),
        )
        .group_by(*keys)
        .order_by(*keys),
    )


def feed_freshness(engine: Engine, scope: PlantScope, now: datetime | None = None) -> pd.DataFrame:
    """The newest data received per plant and source, and whether it is overdue.

    Columns: plant_id, source, last_received_utc (UTC, tz-aware; NaT if never),
    expected_cadence_h, age_h (hours since last received), is_stale (age beyond cadence).
    """
    f = feed_status.c
    frame = _read(
        engine,
        select(f.plant_id, f.source, f.last_received_utc, f.expected_cadence_h)
        .where(scope.clause(f.plant_id))
        .order_by(f.plant_id, f.source),
    )
    now = now or datetime.now(timezone.utc)
    frame["last_received_utc"] = pd.to_datetime(frame["last_received_utc"], utc=True)
    frame["age_h"] = (pd.Timestamp(now) - frame["last_received_utc"]).dt.total_seconds() / 3600.0
    frame["is_stale"] = frame["age_h"].isna() | (frame["age_h"] > frame["expected_cadence_h"])
    return frame


def feeds_ending_before(engine: Engine, scope: PlantScope, end: date) -> pd.DataFrame:
    """The feeds (as of the last marts refresh) whose newest day lies before `end`: in a window
    reaching past it, that feed's KPIs of the plant miss the days after it (issue 14).

    Columns: plant_id, plant_name, feed (production | downtime | purchase_orders | demand |
    inventory), last_day, days_short (end - last_day, in days). Ordered by plant and feed.
    """
    r, p = mart_feed_reach.c, plant.c
    frame = _read(
        engine,
        select(r.plant_id, p.name.label("plant_name"), r.feed, r.last_day)
        .join_from(mart_feed_reach, plant, r.plant_id == p.plant_id)
        .where(scope.clause(r.plant_id), r.last_day < end)
        .order_by(r.plant_id, r.feed),
    )
    frame["last_day"] = [_as_date(v) for v in frame["last_day"]]
    frame["days_short"] = [(end - d).days for d in frame["last_day"]]
    return frame


# --- drill-down dimensions (issue 3): what the filter bar offers below the plants ----------


def lines(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Production lines of the plants in scope.

    Columns: line_id, plant_id, plant_name, name, line_type, local_code.
    """
    ln, p = line.c, plant.c
    return _read(
        engine,
        select(ln.line_id, ln.plant_id, p.name.label("plant_name"), ln.name, ln.line_type, ln.local_code)
        .join_from(line, plant, ln.plant_id == p.plant_id)
        .where(scope.clause(ln.plant_id))
        .order_by(ln.plant_id, ln.line_id),
    )


def assets(engine: Engine, scope: PlantScope, line_id: str | None = None) -> pd.DataFrame:
    """Assets of the plants in scope (of one line when `line_id` is given).

    Columns: asset_id, plant_id, line_id, asset_class, criticality (A line stops, B, C),
    local_code, local_name, install_year.
    """
    a = asset.c
    where = [scope.clause(a.plant_id)] + ([a.line_id == line_id] if line_id is not None else [])
    return _read(
        engine,
        select(
            a.asset_id, a.plant_id, a.line_id, a.asset_class, a.criticality, a.local_code, a.local_name, a.install_year
        )
        .where(*where)
        .order_by(a.line_id, a.asset_id),
    )


def stocked_materials(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Materials stocked by at least one plant in scope.

    Columns: material_id, name, material_type, unit, plants (how many plants in scope stock it).
    """
    pm, m = plant_material.c, material.c
    return _read(
        engine,
        select(m.material_id, m.name, m.material_type, m.unit, func.count(pm.plant_id).label("plants"))
        .join_from(plant_material, material, pm.material_id == m.material_id)
        .where(scope.clause(pm.plant_id))
        .group_by(m.material_id, m.name, m.material_type, m.unit)
        .order_by(m.material_type, m.name),
    )


def _as_date(value) -> date:
    """SQLite hands aggregate dates back as text; PostgreSQL as dates."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
