"""Writing canonical rows: bulk inserts, and finding or deleting rows by natural key.

A natural key is a string per source (see `transform`): `asset|epoch seconds of start`
(downtime), `line|day` (production), `material|day` (inventory), `asset|day` (health),
the work-order number (work orders, matched on the plant's `local_code`) and the
purchase-order id. Rows that were in the warehouse before any ingest (the sample network,
an older integration) are found by the same keys, so a load replaces them rather than
adding a second copy.
"""

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Date, DateTime, and_, delete, select

from data_access.schema import (
    asset_health_daily, downtime_event, inventory_snapshot, production_daily, purchase_order, work_order,
)

IN_BATCH = 5000
INSERT_BATCH = 20_000


def bulk_insert(conn, table, frame: pd.DataFrame) -> int:
    """Insert the frame's columns that the table has: COPY on PostgreSQL (psycopg), the
    driver's executemany elsewhere, values through the dialect's own bind processors."""
    if frame.empty:
        return 0
    dialect = conn.dialect
    columns = [c.name for c in table.columns if c.name in frame.columns]
    values = {}
    for name in columns:
        text = _timestamp_text(frame[name], table.c[name].type, dialect.name)
        if text is not None:  # vectorized, exactly as the dialect's own processor writes them
            values[name] = text
            continue
        plain = _python_values(frame[name], table.c[name].type)
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values[name] = [process(v) for v in plain] if process else plain
    if dialect.driver == "psycopg":
        quote = dialect.identifier_preparer.quote
        copy_sql = f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN"
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in zip(*(values[name] for name in columns)):
                copy.write_row(row)
        return len(frame)
    compiled = table.insert().compile(dialect=dialect, column_keys=columns)
    order = compiled.positiontup if compiled.positional else columns
    rows = list(zip(*(values[name] for name in order)))
    if not compiled.positional:
        rows = [dict(zip(columns, row)) for row in rows]
    for start in range(0, len(rows), INSERT_BATCH):
        conn.exec_driver_sql(compiled.string, rows[start:start + INSERT_BATCH])
    return len(rows)


def _timestamp_text(series: pd.Series, sql_type, dialect: str) -> list | None:
    """Datetime columns as the text the database stores or parses, built in numpy: SQLite's
    SQLAlchemy format 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), PostgreSQL ISO 8601 with +00:00;
    dates as 'YYYY-MM-DD'. None for other columns (and other dialects)."""
    if series.dtype.kind != "M" or dialect not in ("sqlite", "postgresql"):
        return None
    is_date = isinstance(sql_type, Date) and not isinstance(sql_type, DateTime)
    if is_date:
        text = np.datetime_as_string(series.to_numpy().astype("datetime64[D]"), unit="D")
    else:
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz is not None else series
        text = np.datetime_as_string(utc.to_numpy().astype("datetime64[us]"), unit="us")
        text = np.char.replace(text, "T", " ") if dialect == "sqlite" else np.char.add(text, "+00:00")
    out = text.astype(object)
    out[series.isna().to_numpy()] = None
    return out.tolist()


def _python_values(series: pd.Series, sql_type) -> list:
    """Plain Python values for the driver: aware UTC datetimes, dates, None for NaT/NaN."""
    kind = series.dtype.kind
    if kind == "M":
        if getattr(sql_type, "python_type", None) is date or type(sql_type).__name__ == "Date":
            return list(series.to_numpy().astype("datetime64[D]").astype(object))  # NaT -> None
        stamps = series.dt.tz_convert("UTC") if series.dt.tz is not None else series.dt.tz_localize("UTC")
        return [None if v is pd.NaT else v for v in stamps.array.to_pydatetime()]
    values = series.tolist()
    if kind == "f" and series.isna().any():
        return [None if v != v else v for v in values]
    if kind == "O":
        missing = series.isna().to_numpy()
        if missing.any():
            for i in np.flatnonzero(missing):
                values[i] = None
        return values
    return values


def _in_batches(conn, stmt_for, keys):
    """Rows of `stmt_for(batch)` for `keys` in batches; the IN list is bound as one array
    parameter on PostgreSQL (ANY) and as literal-free bound parameters on SQLite."""
    keys = list(keys)
    for start in range(0, len(keys), IN_BATCH):
        yield from conn.execute(stmt_for(keys[start:start + IN_BATCH])).all()


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
        sql = ("SELECT r.natural_key, r.row_hash, r.load_id, r.row_number "
               "FROM unnest(CAST(%s AS varchar[])) AS k(natural_key) CROSS JOIN LATERAL ("
               "SELECT i.natural_key, i.row_hash, i.load_id, i.row_number FROM ingest_row i "
               "WHERE i.plant_id = %s AND i.source = %s AND i.natural_key = k.natural_key) AS r")
        for start in range(0, len(keys), IN_BATCH):
            out += conn.exec_driver_sql(sql, (keys[start:start + IN_BATCH], plant_id, source)).all()
        return out
    for start in range(0, len(keys), IN_BATCH):
        batch = keys[start:start + IN_BATCH]
        sql = ("SELECT natural_key, row_hash, load_id, row_number FROM ingest_row "
               f"WHERE plant_id = ? AND source = ? AND natural_key IN ({', '.join('?' * len(batch))})")
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
        rows = conn.execute(select(d.asset_id, d.start_utc).where(
            d.plant_id == plant_id, d.day.between(lo, hi))).all()
        if not rows:
            return set()
        starts = pd.to_datetime(pd.Series([r.start_utc for r in rows]), utc=True)
        keys = [f"{a}|{s}" for a, s in zip((r.asset_id for r in rows), (starts.astype("int64") // 10**9))]
    elif source in ("production", "inventory", "asset_health"):
        table, column = {"production": (production_daily, "line_id"), "inventory": (inventory_snapshot, "material_id"),
                         "asset_health": (asset_health_daily, "asset_id")}[source]
        lo, hi = _day_range(records)
        rows = conn.execute(select(table.c[column], table.c.day).where(
            table.c.plant_id == plant_id, table.c.day.between(lo, hi))).all()
        keys = [f"{r[0]}|{_iso_day(r[1])}" for r in rows]
    elif source == "work_orders":
        w = work_order.c
        keys = [r[0] for r in _in_batches(conn, lambda b: select(w.local_code).where(
            w.plant_id == plant_id, w.local_code.in_(b)), wanted)]
    elif source == "purchase_orders":
        p = purchase_order.c
        keys = [r[0] for r in _in_batches(conn, lambda b: select(p.po_id).where(
            p.plant_id == plant_id, p.po_id.in_(b)), wanted)]
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
            batch = natural_keys[start:start + IN_BATCH]
            deleted += conn.execute(delete(table).where(
                table.c.plant_id == plant_id, table.c[column].in_(batch))).rowcount
        return deleted
    split = [k.rsplit("|", 1) for k in natural_keys]
    if source == "downtime":
        d = downtime_event.c
        stmt = delete(downtime_event).where(and_(
            d.plant_id == plant_id, d.asset_id == _bp("k0"), d.start_utc >= _bp("lo"), d.start_utc < _bp("hi")))
        params = []
        for ident, epoch in split:
            lo = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
            params.append({"k0": ident, "lo": lo, "hi": datetime.fromtimestamp(int(epoch) + 1, tz=timezone.utc)})
    else:
        table, column = {"production": (production_daily, "line_id"), "inventory": (inventory_snapshot, "material_id"),
                         "asset_health": (asset_health_daily, "asset_id")}[source]
        stmt = delete(table).where(and_(table.c.plant_id == plant_id, table.c[column] == _bp("k0"),
                                        table.c.day == _bp("day", date)))
        params = [{"k0": ident, "day": date.fromisoformat(day)} for ident, day in split]
    result = conn.execute(stmt, params)
    return max(result.rowcount, 0)


def _bp(name, type_=None):
    from sqlalchemy import DateTime, Date, bindparam

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

