"""Turn a raw ds,y table into a regular series, refusing what cannot be forecast honestly.

Every model and metric downstream assumes one value slot per period of a known frequency,
so gaps stay visible as NaN instead of silently shortening the seasonal cycle.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset


class SeriesError(ValueError):
    """Input that cannot be turned into a forecastable series; the message is for the user."""


# Seasonal cycle length and periods per year of the frequencies we know, for n == 1 only:
# a multiple such as "2W" is treated as non-seasonal rather than guessed.
_PROFILES = (
    (pd.offsets.Hour, 24, 24 * 365),
    (pd.offsets.Day, 7, 365),
    (pd.offsets.BusinessDay, 5, 261),
    (pd.offsets.Week, 52, 52),
    ((pd.offsets.MonthBegin, pd.offsets.MonthEnd), 12, 12),
    ((pd.offsets.QuarterBegin, pd.offsets.QuarterEnd), 4, 4),
    ((pd.offsets.YearBegin, pd.offsets.YearEnd), 1, 1),
)


def parse_freq(freq):
    """A pandas offset from a frequency string such as D, W-SUN, MS or QS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "M" -> "ME" renames still work
            return to_offset(freq)
    except (ValueError, TypeError):
        raise SeriesError(f"unknown frequency {freq!r}: use a pandas alias such as D, W, W-SUN, MS or QS") from None


def _profile(freq):
    offset = parse_freq(freq)
    if offset.n == 1:
        for kinds, season, per_year in _PROFILES:
            if isinstance(offset, kinds):
                return season, per_year
    return 1, None


def season_length(freq):
    """Periods per seasonal cycle: D -> 7 (weekly), W -> 52, MS -> 12, QS -> 4, otherwise 1."""
    return _profile(freq)[0]


def periods_per_year(freq):
    """Periods in a year for the frequency, None when it is not a known one."""
    return _profile(freq)[1]


def gap_runs(series):
    """Number of separate runs of missing periods (one run may span many periods)."""
    missing = series.isna().to_numpy()
    return int(np.sum(missing[1:] & ~missing[:-1]) + (1 if missing.size and missing[0] else 0))


@dataclass
class Prepared:
    """A regular series at `freq` with NaN where a period has no value, and what was done."""

    series: pd.Series
    freq: str
    rows: int
    missing: int
    notes: list = field(default_factory=list)


def prepare(frame, freq):
    """Validate a ds,y table and reindex it at `freq`.

    Refuses (SeriesError) missing columns, unparseable dates, text in y, duplicate dates,
    dates off the frequency grid and series with no values. Missing periods are inserted as
    NaN and noted; whether there are too many is the caller's decision.
    """
    offset = parse_freq(freq)
    missing_cols = [c for c in ("ds", "y") if c not in frame.columns]
    if missing_cols:
        raise SeriesError(f"missing column(s) {', '.join(missing_cols)}: the file needs columns ds,y")
    if frame.empty:
        raise SeriesError("no rows")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FutureWarning, UserWarning))  # format inference and mixed-offset notices
        ds = pd.to_datetime(frame["ds"], errors="coerce")
    if not pd.api.types.is_datetime64_any_dtype(ds):
        raise SeriesError("ds mixes time zone offsets: give local dates or times without offsets")
    bad = ds.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = frame["ds"].iloc[row]
        raise SeriesError(f"ds is not a date at data row {row + 1}: {'empty' if pd.isna(value) else repr(value)}")
    if ds.dt.tz is not None:
        ds = ds.dt.tz_localize(None)  # keep the local wall time the plant reported

    y = pd.to_numeric(frame["y"], errors="coerce")
    text = y.isna() & frame["y"].notna() & (frame["y"].astype(str).str.strip() != "")
    if text.any():
        row = int(np.flatnonzero(text.to_numpy())[0])
        raise SeriesError(f"y is not a number at data row {row + 1}: {frame['y'].iloc[row]!r}")
    if not np.isfinite(y.dropna()).all():
        raise SeriesError("y contains infinite values")

    dupes = ds[ds.duplicated(keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0]
        raise SeriesError(
            f"duplicate dates: {first.date()} appears {int((ds == first).sum())} times "
            f"({dupes.nunique()} duplicated date(s) in all)"
        )

    observed = pd.Series(y.to_numpy(dtype=float), index=pd.DatetimeIndex(ds), name="y").sort_index().dropna()
    if observed.empty:
        raise SeriesError("y has no values")

    grid = pd.date_range(observed.index[0], observed.index[-1], freq=offset)
    off_grid = grid.get_indexer(observed.index) < 0
    if off_grid.any():
        first = observed.index[np.flatnonzero(off_grid)[0]]
        shown = first.date() if first == first.normalize() else first
        raise SeriesError(f"dates are not on the {freq} grid (first: {shown}): check --freq")

    series = observed.reindex(grid)
    series.index.freq = offset
    missing = int(series.isna().sum())
    notes = []
    if missing:
        notes.append(f"{missing} missing period(s) in {gap_runs(series)} gap(s) reindexed as missing")
    dropped = len(frame) - len(observed)
    if dropped:
        notes.append(f"{dropped} row(s) with an empty y treated as missing")
    return Prepared(series=series, freq=offset.freqstr, rows=len(observed), missing=missing, notes=notes)
