"""One bulk insert of a DataFrame into a table, for every writer of many rows.

COPY on PostgreSQL (psycopg), the driver's executemany in batches elsewhere; values go
through the dialect's own bind processors (so SQLite stores dates exactly as SQLAlchemy
reads them back), with datetime columns converted in numpy. Building SQLAlchemy's per-row
parameter dicts would cost several times the database's own work on large loads.
"""

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Date, DateTime

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
        conn.exec_driver_sql(compiled.string, rows[start : start + INSERT_BATCH])
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
