"""Write the sample network into a warehouse: one transaction, bulk inserts, then marts.

Rows go in through data_access.bulk (executemany in batches on SQLite, COPY on PostgreSQL), inside
one SQLAlchemy transaction, so a failed or interrupted run leaves the warehouse as it was
(with `replace`, the old network included).
"""

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from data_access import jobs as jobs_store
from data_access import marts, migrate, schema
from data_access.bulk import bulk_insert
from sample_data import network, plant

MIN_DAYS = 14  # a spreadsheet plant needs a weekly count and a few days of upload lag

SHARED_TABLES = (schema.region, schema.supplier, schema.material, schema.downtime_reason, schema.bom)
PLANT_TABLES = (
    schema.plant,
    schema.line,
    schema.asset,
    schema.plant_material,
    schema.production_daily,
    schema.downtime_event,
    schema.asset_health_daily,
    schema.work_order,
    schema.inventory_snapshot,
    schema.demand_daily,
    schema.purchase_order,
    schema.production_order,
    schema.plan_revision,
    schema.feed_status,
)
NETWORK = {t.name for t in SHARED_TABLES + PLANT_TABLES}


def generate(
    engine: Engine,
    plants: int = 12,
    days: int = 1095,
    seed: int = 7,
    end_day: date | None = None,
    progress=None,
    *,
    replace: bool = False,
) -> dict:
    """Fill every dimension and fact table with a deterministic plant network, then the marts.

    The data covers the `days` plant-local days ending at `end_day` (default: yesterday,
    UTC). The same seed and end_day give identical rows; plant i's rows do not depend on
    how many plants follow it. `progress(fraction, message)` is called as work proceeds.
    Governance tables are never written; into a warehouse that held no plant, a `first_start`
    request for the worker is (jobs.first_start). Returns the number of rows written per table.

    Raises ValueError on bad arguments, or when the warehouse already holds plants (unless
    `replace`, which deletes the old network and its marts in the same transaction, and
    refuses while governance or other derived tables still refer to the old plants).
    """
    _check(plants, days, seed, end_day)
    end_day = end_day or datetime.now(timezone.utc).date() - timedelta(days=1)
    report = progress or (lambda fraction, message: None)
    report(0.0, "Migrating the warehouse")
    migrate.upgrade(engine)
    shared = network.shared_dimensions(seed)
    world = plant.World(seed=seed, start=end_day - timedelta(days=days - 1), days=days, shared=shared)
    counts = {t.name: 0 for t in SHARED_TABLES + PLANT_TABLES}
    with engine.begin() as conn:
        first_start = not conn.execute(select(func.count()).select_from(schema.plant)).scalar_one()
        if not first_start:
            if not replace:
                raise ValueError("the warehouse already holds plants; use replace (--replace) to overwrite them")
            report(0.01, "Deleting the previous network")
            _clear(conn)
        for table in SHARED_TABLES:
            counts[table.name] += bulk_insert(conn, table, getattr(shared, table.name))
        for i in range(plants):
            frames = plant.simulate(i, world)
            for table in PLANT_TABLES:
                if table.name in frames:
                    counts[table.name] += bulk_insert(conn, table, frames[table.name])
            report(0.02 + 0.88 * (i + 1) / plants, f"Plant {i + 1} of {plants}")
    counts[schema.mart_plant_daily.name] = marts.refresh(
        engine, progress=lambda fraction, message: report(0.9 + 0.1 * fraction, message)
    )
    if first_start:  # a fresh warehouse: the worker's first-start pipeline (jobs.first_start)
        with engine.begin() as conn:
            jobs_store.request(conn, "first_start", "sample-data setup")
    report(1.0, "Done")
    return counts


def _check(plants, days, seed, end_day) -> None:
    def whole(value):
        return isinstance(value, int) and not isinstance(value, bool)

    if not whole(plants) or plants < 1:
        raise ValueError(f"plants must be a whole number of at least 1, not {plants!r}")
    if not whole(days) or days < MIN_DAYS:
        raise ValueError(f"days must be a whole number of at least {MIN_DAYS}, not {days!r}")
    if not whole(seed) or seed < 0:
        raise ValueError(f"seed must be a whole number of at least 0, not {seed!r}")
    if end_day is not None and (not isinstance(end_day, date) or isinstance(end_day, datetime)):
        raise ValueError(f"end_day must be a date, not {end_day!r}")


def _clear(conn) -> None:
    """Delete the network and its marts (children first).

    Any other table that still refers to the network (governance, forecasts, risk scores,
    ingest lineage) is never touched: if one holds such rows, nothing is deleted.
    """

    def derived_or_network(table):
        return table.name in NETWORK or table.name.startswith("mart_")

    blocking = []
    for table in schema.metadata.sorted_tables:
        refs = [fk.parent for fk in table.foreign_keys if fk.column.table.name in NETWORK]
        if (
            refs
            and not derived_or_network(table)
            and conn.execute(
                select(func.count()).select_from(table).where(or_(*(c.is_not(None) for c in refs)))
            ).scalar_one()
        ):
            blocking.append(table.name)
    if blocking:
        raise ValueError(
            f"cannot replace the network: {', '.join(blocking)} still refer to it "
            "(governance and derived data is never deleted here; clear those tables first)"
        )
    for table in reversed(schema.metadata.sorted_tables):
        if derived_or_network(table):
            conn.execute(table.delete())
