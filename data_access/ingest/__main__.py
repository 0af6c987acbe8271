"""Command line: load one plant export into the warehouse.

    python -m data_access.ingest --url URL --plant PLANT --source SOURCE --mapping FILE.yaml FILE

Exit status: 0 when rows were loaded (or were already loaded as they are), 1 when no row of
the file could be loaded (every row quarantined), 2 when the file, the mapping or the
warehouse could not be used at all (nothing was written), 3 when the rows were loaded but
the daily marts could not be refreshed.
"""

import argparse
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from data_access import migrate
from data_access.engine import describe, make_engine, warehouse_url
from data_access.ingest.loader import DEFAULT_CHUNK_ROWS, default_actor, load_file
from data_access.ingest.mapping import MappingError, load_mapping
from data_access.ingest.sources import SOURCES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.ingest",
        description="Load a plant's CSV or Excel export into the warehouse through a mapping file. "
        "Rows that cannot be loaded are quarantined with their reason; local codes "
        "nobody has mapped go to the review list.",
        epilog="Exit status: 0 rows loaded; 1 no row could be loaded; 2 file, mapping or "
        "warehouse unusable (nothing written); 3 loaded, but the marts refresh failed.",
    )
    parser.add_argument(
        "--url",
        help="warehouse URL (default: WAREHOUSE_URL, .streamlit/secrets.toml, or the SQLite file data/warehouse.db)",
    )
    parser.add_argument("--plant", required=True, help="plant id, e.g. EU-BER")
    parser.add_argument("--source", required=True, choices=list(SOURCES))
    parser.add_argument("--mapping", required=True, help="mapping YAML file (see docs/onboarding.md)")
    parser.add_argument(
        "--replaces",
        type=int,
        action="append",
        default=[],
        metavar="LOAD_ID",
        help="an earlier load this file corrects: its rows missing from this file are deleted (repeat for several)",
    )
    parser.add_argument("--actor", default=None, help="who is loading (default: cli:<os user>)")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows per chunk")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("file", help="the CSV (.csv, .txt) or Excel (.xlsx) file")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        mapping = load_mapping(args.mapping)
    except MappingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = args.url or warehouse_url()
    try:
        make_url(url)
        engine = make_engine(url)
        migrate.upgrade(engine)
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: the warehouse at {_safe(url)} cannot be used: {reason}", file=sys.stderr)
        return 2

    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(
            total=100,
            unit="%",
            desc="ingest",
            leave=False,
            file=sys.stderr,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
        )

    def progress(fraction, message):
        if bar is not None:
            bar.n = round(100 * fraction, 1)
            bar.set_postfix_str(message, refresh=False)
            bar.refresh()

    try:
        result = load_file(
            engine,
            args.plant,
            args.source,
            mapping,
            args.file,
            actor=args.actor or default_actor(),
            replaces=args.replaces,
            progress=progress,
            chunk_rows=args.chunk_rows,
        )
    except SQLAlchemyError as exc:
        if bar is not None:
            bar.close()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: the warehouse failed during the load (nothing was written): {reason}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
        engine.dispose()
    print(result.summary())
    for note in result.notes:
        print(f"note: {note}")
    for (kind, code), rows in sorted(result.unmapped_codes.items()):
        print(
            f"unmapped {kind}: {code!r} ({rows:,} rows) - map it on the onboarding page or in the mapping's codes.{kind}"
        )
    if result.quarantined:
        print(
            f"{result.quarantined:,} rows are in quarantine with their reasons (onboarding page, or table quarantine)"
        )
    if result.status != "failed" and not result.loadable:
        print("error: no row of the file could be loaded", file=sys.stderr)
    return result.exit_code


def _safe(url: str) -> str:
    try:
        return describe(url)
    except Exception:  # noqa: BLE001 - never echo an unparseable URL: it may hold a password
        return "the configured URL"


if __name__ == "__main__":
    sys.exit(main())
