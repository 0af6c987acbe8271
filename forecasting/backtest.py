"""Holdout backtest of every candidate on one ds,y CSV file, as one JSON object on stdout.

    python -m forecasting.backtest FILE.csv --freq MS --horizon 12

The last `horizon` periods are held out. The selection sees only the periods before them
(its own rolling-origin backtest), so comparing the selected model's holdout MASE with
seasonal naive's is an honest check of the selection. Bad input gives one line on stderr
and exit status 2, never a traceback.
"""

import argparse
import json
import sys
import time

import pandas as pd

from forecasting.metrics import mase, naive_scale, wape
from forecasting.selection import candidates, fallback_model, forecast_all, select
from forecasting.series import SeriesError, prepare, season_length

MAX_MISSING_SHARE = 0.5  # more missing than present usually means the wrong --freq


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line on stderr instead of usage plus message."""
        self.exit(2, f"error: {message} (see --help)\n")


def _parser():
    parser = _Parser(prog="python -m forecasting.backtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="CSV file with columns ds,y")
    parser.add_argument("--freq", required=True, help="pandas frequency of the series: D, W, W-SUN, MS, QS ...")
    parser.add_argument("--horizon", type=_positive_int, help="periods to hold out and forecast (default: one season)")
    return parser


def load(path, freq, horizon):
    """Read and check the file; returns (prepared series, horizon). Raises SeriesError."""
    try:
        frame = pd.read_csv(path, dtype=str)  # strings: prepare() reports the first bad cell itself
    except FileNotFoundError:
        raise SeriesError(f"no such file: {path}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SeriesError(f"cannot read {path}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise SeriesError(f"{path} is empty") from None
    except pd.errors.ParserError as exc:
        raise SeriesError(f"{path} is not a readable CSV: {str(exc).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    prepared = prepare(frame, freq)
    series = prepared.series
    m = season_length(prepared.freq)
    horizon = horizon or m
    observed = series.dropna()
    if (observed == 0).all():
        raise SeriesError("y is all zeros: MASE and WAPE are undefined, nothing to backtest")
    share = prepared.missing / len(series)
    if share > MAX_MISSING_SHARE:
        raise SeriesError(
            f"{share:.0%} of the {prepared.freq} periods between the first and last date are missing: check --freq"
        )
    needed = 2 * m + horizon
    if len(series) < needed:
        raise SeriesError(
            f"too short: {len(series)} periods, need 2 seasons ({2 * m}) + horizon ({horizon}) = {needed}"
        )
    if series.iloc[-horizon:].isna().all():
        raise SeriesError(f"the last {horizon} periods have no values to score")
    return prepared, horizon


def run(path, freq, horizon):
    """The backtest report for one file, as a dict ready for JSON."""
    started = time.perf_counter()
    prepared, horizon = load(path, freq, horizon)
    series = prepared.series
    m = season_length(prepared.freq)
    train, test = series.iloc[:-horizon], series.iloc[-horizon:]

    selection = select(train, horizon)
    selected_at = time.perf_counter()

    models = candidates()
    if selection.chosen not in models:
        models[selection.chosen] = fallback_model(train)[1]
    _, m_used = naive_scale(train, m)
    report = {}
    for name, (frame, seconds) in forecast_all(models, train, horizon).items():
        entry = {
            "mase": None,
            "wape": None,
            "fit_seconds": round(seconds, 3),
            "backtest_mase": selection.scores.get(name),
            "error": selection.errors.get(name),
        }
        if isinstance(frame, Exception):
            entry["error"] = f"{type(frame).__name__}: {frame}"
        else:
            entry["mase"] = mase(test, frame["yhat"], train, m_used)
            entry["wape"] = wape(test, frame["yhat"])
        report[name] = entry

    return {
        "file": str(path),
        "series": {
            "n": len(series),
            "observed": prepared.rows,
            "missing": prepared.missing,
            "start": series.index[0].date().isoformat(),
            "end": series.index[-1].date().isoformat(),
            "freq": prepared.freq,
            "season_length": m,
            "mase_period": m_used,
            "horizon": horizon,
            "train_n": len(train),
            "holdout_n": int(test.notna().sum()),
            "fallback_reason": selection.fallback_reason,
            "notes": prepared.notes,
        },
        "selected": selection.chosen,
        "selection": {
            "origins": selection.origins,
            "seconds": round(selected_at - started, 3),
            "rule": "lowest mean MASE over rolling origins, ties to the simpler",
        },
        "candidates": report,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        result = run(args.file, args.freq, args.horizon)
    except SeriesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
