"""The one CSV export behind every table and chart.

Complete (every row and column of the frame, never the on-screen page), timestamps in
ISO 8601 with their UTC offset, and safe to open in a spreadsheet: a text cell starting
with = + - @, a tab or a carriage return is prefixed with an apostrophe so it is shown,
not evaluated (OWASP "CSV injection").
"""

import csv

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """The cell as a spreadsheet should show it: text that could run as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets detect the encoding) of the whole frame."""
    out = frame.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[col] = series.map(_iso)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.tz_localize("UTC").map(_iso)  # naive timestamps are UTC here
        elif series.dtype == object:
            out[col] = series.map(lambda v: neutralize(_iso(v) if isinstance(v, pd.Timestamp) else v))
    # Quote all text: a bare carriage return in an unquoted field would split the row.
    return out.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def _iso(ts):
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and pd.isna(ts)):
        return ""
    if isinstance(ts, pd.Timestamp) and ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.isoformat()
