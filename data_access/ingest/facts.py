"""Writing canonical rows: bulk inserts, and finding or deleting rows by natural key.

A natural key is a string per source (see `transform`): `asset|epoch seconds of start`
(downtime), `line|day` (production), `material|day` (inventory), `asset|day` (health),
the work-order number (work orders, matched on the plant's `local_code`) and the
purchase-order id. Rows that were in the warehouse before any ingest (the sample network,
an older integration) are found by the same keys, so a load replaces them rather than
adding a second copy.
"""

from datetime import date, datetime, timezone

import pandas as pd
from sqlalchemy import and_, delete, select

from data_access.schema import (
    asset_health_daily,
    downtime_event,
    inventory_snapshot,
    production_daily,
    purchase_order,
    work_order,
)

IN_BATCH = 5000


def _in_batches(conn, stmt_for, keys):
    """Rows of `stmt_for(batch)` for `keys` in batches; the IN list is bound as one array
    parameter on PostgreSQL (ANY) and as literal-free bound parameters on SQLite."""
    keys = list(keys)
    for start in range(0, len(keys), IN_BATCH):
        yield from conn.execute(stmt_for(keys[start : start + IN_BATCH])).all()


def lookup_lineage(conn, plant_id: str, source: str, keys) -> list:
    """(natural_key, row_hash, load_id, row_number) of the keys known for the plant's source.

    Hand-written SQL with bound parameters: SQLAlchemy's rendering of a 5,000-item IN list
    costs more than the lookup itself."""
    keys = list(keys)
    out = []
    if conn.dialect.name == "postgresql":
        # One primary-key probe per key (LATERAL): with `natural_key = ANY(array)` the planner,
        # whose statistics do not yet know the rows this very transaction inserted, filters
        # every row of the plant's source against the array instead (minutes per chunk).
        sql = (
            "SELECT r.natural_key, r.row_hash, r.load_id, r.row_number "
            "FROM unnest(CAST(%s AS varchar[])) AS k(natural_key) CROSS JOIN LATERAL ("
            "SELECT i.natural_key, i.row_hash, i.load_id, i.row_number FROM ingest_row i "
            "WHERE i.plant_id = %s AND i.source = %s AND i.natural_key = k.natural_key) AS r"
        )
        for start in range(0, len(keys), IN_BATCH):
            out += conn.exec_driver_sql(sql, (keys[start : start + IN_BATCH], plant_id, source)).all()
        return out
    for start in range(0, len(keys), IN_BATCH):
        batch = keys[start : start + IN_BATCH]
        sql = (
            "SELECT natural_key, row_hash, load_id, row_number FROM ingest_row "
            f"WHERE plant_id = ? AND source = ? AND natural_key IN ({', '.join('?' * len(batch))})"
        )
        out += conn.exec_driver_sql(sql, (plant_id, source, *batch)).all()
    return out


def _day_range(records, column="day"):
    days = records[column].dropna()
    return days.min().date(), days.max().date()


def existing_keys(conn, source: str, plant_id: str, records: pd.DataFrame) -> set[str]:
    """Natural keys of `records` that already have a fact row at the plant."""
    if records.empty:
        return set()
    wanted = set(records["natural_key"])
    if source == "downtime":
        d = downtime_event.c
        lo, hi = _day_range(records)
        rows = conn.execute(select(d.asset_id, d.start_utc).where(d.plant_id == plant_id, d.day.between(lo, hi))).all()
        if not rows:
            return set()
        starts = pd.to_datetime(pd.Series([r.start_utc for r in rows]), utc=True)
        keys = [f"{a}|{s}" for a, s in zip((r.asset_id for r in rows), (starts.astype("int64") // 10**9))]
    elif source in ("production", "inventory", "asset_health"):
        table, column = {
            "production": (production_daily, "line_id"),
            "inventory": (inventory_snapshot, "material_id"),
            "asset_health": (asset_health_daily, "asset_id"),
        }[source]
        lo, hi = _day_range(records)
        rows = conn.execute(
            select(table.c[column], table.c.day).where(table.c.plant_id == plant_id, table.c.day.between(lo, hi))
        ).all()
        keys = [f"{r[0]}|{_iso_day(r[1])}" for r in rows]
    elif source == "work_orders":
        w = work_order.c
        keys = [
            r[0]
            for r in _in_batches(
                conn, lambda b: select(w.local_code).where(w.plant_id == plant_id, w.local_code.in_(b)), wanted
            )
        ]
    elif source == "purchase_orders":
        p = purchase_order.c
        keys = [
            r[0]
            for r in _in_batches(conn, lambda b: select(p.po_id).where(p.plant_id == plant_id, p.po_id.in_(b)), wanted)
        ]
    else:
        raise ValueError(source)
    return wanted.intersection(keys)


def delete_keys(conn, source: str, plant_id: str, natural_keys) -> int:
    """Delete the plant's fact rows with these natural keys; returns rows deleted."""
    natural_keys = list(natural_keys)
    if not natural_keys:
        return 0
    if source in ("work_orders", "purchase_orders"):
        table, column = (work_order, "local_code") if source == "work_orders" else (purchase_order, "po_id")
        deleted = 0
        for start in range(0, len(natural_keys), IN_BATCH):
            batch = natural_keys[start : start + IN_BATCH]
            deleted += conn.execute(
                delete(table).where(table.c.plant_id == plant_id, table.c[column].in_(batch))
            ).rowcount
        return deleted
    split = [k.rsplit("|", 1) for k in natural_keys]
    if source == "downtime":
        d = downtime_event.c
        stmt = delete(downtime_event).where(
            and_(d.plant_id == plant_id, d.asset_id == _bp("k0"), d.start_utc >= _bp("lo"), d.start_utc < _bp("hi"))
        )
        params = []
        for ident, epoch in split:
            lo = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
            params.append({"k0": ident, "lo": lo, "hi": datetime.fromtimestamp(int(epoch) + 1, tz=timezone.utc)})
    else:
        table, column = {
            "production": (production_daily, "line_id"),
            "inventory": (inventory_snapshot, "material_id"),
            "asset_health": (asset_health_daily, "asset_id"),
        }[source]
        stmt = delete(table).where(
            and_(table.c.plant_id == plant_id, table.c[column] == _bp("k0"), table.c.day == _bp("day", date))
        )
        params = [{"k0": ident, "day": date.fromisoformat(day)} for ident, day in split]
    result = conn.execute(stmt, params)
    return max(result.rowcount, 0)


def _bp(name, type_=None):
    from sqlalchemy import Date, DateTime, bindparam

    if type_ is date:
        return bindparam(name, type_=Date())
    if name in ("lo", "hi"):
        return bindparam(name, type_=DateTime(timezone=True))
    return bindparam(name)


def _iso_day(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def days_of(records: pd.DataFrame) -> tuple[date, date] | None:
    days = records["_day"].dropna()
    if days.empty:
        return None
    values = days.to_numpy().astype("datetime64[D]")
    return values.min().astype(object), values.max().astype(object)
