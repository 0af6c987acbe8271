"""Run a SQLAlchemy statement and get a DataFrame, and the one way to coerce what comes back.

SQLite hands timestamps back naive (they are UTC) and aggregate dates as text; PostgreSQL
hands back aware timestamps and dates. Every read goes through these coercions, so pages and
jobs see the same types on either backend.
"""

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd


def read_frame(conn, stmt) -> pd.DataFrame:
    """Columns keep their names and order even when no row comes back."""
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def as_utc(value):
    """A timestamp (or Series of them) as timezone-aware UTC; naive values are UTC already."""
    if isinstance(value, pd.Series):
        return pd.to_datetime(value, utc=True, format="ISO8601") if len(value) else value.astype("datetime64[ns, UTC]")
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def as_date(value) -> date | None:
    """A date from a date, or from the text SQLite hands back for aggregates."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def utc_columns(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    """`frame` with the named columns as timezone-aware UTC timestamps (in place, returned)."""
    for name in names:
        frame[name] = as_utc(frame[name])
    return frame


def date_columns(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    """`frame` with the named columns as dates (in place, returned)."""
    for name in names:
        frame[name] = [as_date(v) for v in frame[name]]
    return frame
