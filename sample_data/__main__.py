"""Command line: `python -m sample_data --plants 12 --days 1095 --seed 7 [--url URL] [--end YYYY-MM-DD] [--replace]`.

Shows a progress bar, prints the rows written per table, and on any expected failure (bad
arguments, unreachable warehouse, a warehouse that already holds plants) prints one line
and exits non-zero instead of a traceback.
"""

import argparse
import sys
import time
from datetime import date

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from tqdm import tqdm

from data_access.engine import WarehouseError, describe, make_engine, warehouse_url
from sample_data.load import generate


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _end_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def main(argv=None) -> int:
    parser = _Parser(prog="python -m sample_data", description="Generate the sample plant network.")
    parser.add_argument("--plants", type=int, default=12, help="number of plants (default 12)")
    parser.add_argument("--days", type=int, default=1095, help="plant-local days of history (default 1095)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, data/warehouse.db)")
    parser.add_argument("--end", type=_end_day, help="last day of history, YYYY-MM-DD (default: yesterday, UTC)")
    parser.add_argument(
        "--replace", action="store_true", help="delete the existing network first (governance data is kept)"
    )
    args = parser.parse_args(argv)
    try:
        url = args.url or warehouse_url()
        engine = make_engine(url)
    except (WarehouseError, ArgumentError, NoSuchModuleError, ValueError, OSError) as exc:
        return _fail(f"bad warehouse URL: {exc}")
    bar = tqdm(
        total=100, unit="%", bar_format="{desc:<24} {percentage:3.0f}%|{bar}| {elapsed}", disable=None
    )  # a bar on a terminal, nothing in logs and pipes
    began = time.monotonic()

    def progress(fraction, message):
        bar.n = round(100 * fraction, 1)
        bar.set_description_str(message, refresh=False)
        bar.refresh()

    try:
        counts = generate(
            engine,
            plants=args.plants,
            days=args.days,
            seed=args.seed,
            end_day=args.end,
            progress=progress,
            replace=args.replace,
        )
    except ValueError as exc:
        return _fail(str(exc), bar)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return _fail(f"warehouse {describe(url)}: {reason}", bar)
    finally:
        engine.dispose()
    bar.close()
    width = max(map(len, counts))
    for table, rows in counts.items():
        print(f"{table:<{width}}  {rows:>10,}")
    print(
        f"{'total':<{width}}  {sum(counts.values()):>10,}  rows in {time.monotonic() - began:.1f} s "
        f"into {describe(url)}"
    )
    return 0


def _fail(message: str, bar=None) -> int:
    if bar is not None:
        bar.leave = False
        bar.close()
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
