"""Forecast accuracy: MASE to compare across series and models, WAPE to explain in units.

Both skip periods whose actual value is missing (gaps in the data are not errors of the
model) and return None rather than inf or NaN when they are undefined, so a report can say
"undefined" instead of ranking a division by zero.
"""

import warnings

import numpy as np


class MetricWarning(UserWarning):
    """A metric was computed in a weaker form than asked (e.g. MASE scaled with m=1)."""


def _pairs(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"actuals and forecasts differ in length: {y_true.shape} vs {y_pred.shape}")
    keep = ~np.isnan(y_true)
    if np.isnan(y_pred[keep]).any():
        raise ValueError("the forecast has missing values where actuals exist")
    return y_true[keep], y_pred[keep]


def naive_scale(y_train, m):
    """In-sample MAE of the seasonal naive forecast with period m, and the m actually used.

    A training part not longer than m has no seasonal difference to average, so the scale
    falls back to the one-step naive (m=1) and warns. Pairs with a missing value are skipped.
    Returns (None, m_used) when no pair remains.
    """
    y = np.asarray(y_train, dtype=float)
    if m > 1 and y.size <= m:
        warnings.warn(
            f"training part of {y.size} points is too short for period {m}: MASE scaled with m=1",
            MetricWarning,
            stacklevel=2,
        )
        m = 1
    diffs = np.abs(y[m:] - y[:-m]) if y.size > m else np.array([])
    diffs = diffs[~np.isnan(diffs)]
    return (float(diffs.mean()) if diffs.size else None), m


def mase(y_true, y_pred, y_train, m):
    """Mean absolute scaled error: forecast MAE / in-sample seasonal-naive MAE of y_train.

    Below 1 beats the seasonal naive forecast as it did in sample. None when undefined:
    no observed actual, or a flat training part (zero scale).
    """
    actual, pred = _pairs(y_true, y_pred)
    scale, _ = naive_scale(y_train, m)
    if actual.size == 0 or not scale:
        return None
    return float(np.mean(np.abs(actual - pred)) / scale)


def wape(y_true, y_pred):
    """Weighted absolute percentage error: sum |actual - forecast| / sum |actual|.

    None when the actuals sum to zero in absolute value (e.g. all zeros): undefined, not inf.
    """
    actual, pred = _pairs(y_true, y_pred)
    denominator = np.sum(np.abs(actual))
    if actual.size == 0 or denominator == 0:
        return None
    return float(np.sum(np.abs(actual - pred)) / denominator)


PSI_BINS = 10


def psi(reference, current, bins: int = PSI_BINS, eps: float = 1e-4) -> float | None:
    """Population stability index of `current` against `reference`.

    Bins are the reference's quantiles (ties merged); PSI = sum over bins of
    (cur% - ref%) x ln(cur% / ref%), with empty bins floored at `eps`. None when either side
    has too few finite values (fewer than `bins` reference values, or no current value).
    """
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size < bins or cur.size == 0:
        return None
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1])
    ref_share = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1) / ref.size
    cur_share = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1) / cur.size
    ref_share, cur_share = np.clip(ref_share, eps, None), np.clip(cur_share, eps, None)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
