"""The command-line jobs: open the warehouse, show progress, run one pipeline step, exit.

`python -m forecasting.refresh`, `python -m forecasting.score` and `python -m governance.orchestrate`
run these mains (the step modules cannot compose each other). Every expected failure is one
line on stderr and exit code 2, never a traceback; an interrupted refresh exits 130.
"""

import argparse
import sys
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from data_access import intelligence
from data_access.engine import WarehouseError, describe, first_line, open_warehouse, warehouse_url
from data_access.scope import PlantScope
from forecasting import refresh as forecast_refresh
from forecasting import score as risk_score
from jobs import pipeline

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 2, 130


class JobError(RuntimeError):
    """A job that cannot run as asked; the message is for the operator."""


def plant_scope(engine, plants) -> PlantScope:
    """Every plant, or the named ones; JobError naming any the warehouse does not hold."""
    scope = PlantScope.everything()
    if not plants:
        return scope
    known = set(intelligence.plant_ids(engine, scope))
    missing = [p for p in plants if p not in known]
    if missing:
        raise JobError(f"no plant {', '.join(missing)} in the warehouse")
    return scope.narrowed(plants)


def run_command(body: Callable[[], str], failure: str = "error") -> int:
    """Run `body` (it returns the line to print) and turn expected failures into one line."""
    try:
        print(body())
    except (JobError, WarehouseError, forecast_refresh.RefreshError, ValueError) as exc:
        print(f"{failure}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        print(f"{failure}: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def refresh_main(argv: list[str] | None = None) -> int:
    args = forecast_refresh.parser().parse_args(argv)
    unknown = [m for m in args.metrics or () if m not in intelligence.SERIES]
    if unknown:
        print(f"error: unknown series {', '.join(unknown)}; known: {', '.join(intelligence.SERIES)}", file=sys.stderr)
        return EXIT_FAILED

    def body() -> str:
        config = forecast_refresh.RefreshConfig(
            horizon=args.horizon, history_days=args.history_days, origins=args.origins, candidates=args.candidates
        )
        config.models()
        engine = open_warehouse(args.url)
        scope = plant_scope(engine, args.plants)
        bars = []  # opened at the first stored series: a refresh that cannot start prints only its error

        def progress(done, total, label):
            if not bars:
                bars.append(tqdm(total=total, unit="series", desc="forecast refresh", file=sys.stderr))
            bars[0].set_postfix_str(label)
            bars[0].update(1)

        try:
            report = pipeline.refresh_forecasts(
                engine,
                config,
                workers=args.workers,
                scope=scope,
                metrics=args.metrics,
                as_of=args.as_of,
                actor="forecast-refresh",
                progress=progress,
                own_sessions=args.own_sessions,
                reselect=args.reselect,
                reselect_days=args.reselect_days,
                executor=args.executor,
                scheduler=args.scheduler,
            )
        finally:
            for bar in bars:
                bar.close()
        return report.summary()

    try:
        return run_command(body)
    except KeyboardInterrupt:
        print("interrupted: the run is marked failed; series already stored are kept", file=sys.stderr)
        return EXIT_INTERRUPTED


def score_main(argv: list[str] | None = None) -> int:
    args = risk_score.parser().parse_args(argv)

    def body() -> str:
        engine = open_warehouse(args.url)
        plants = [p.strip() for p in (args.plants or "").split(",") if p.strip()]
        scope = plant_scope(engine, plants)
        with tqdm(total=100, unit="%", desc="risk scoring", file=sys.stderr) as bar:

            def progress(fraction, message):
                bar.n = int(fraction * 100)
                bar.set_postfix_str(message)
                bar.refresh()

            return pipeline.score_risks(engine, args.as_of, train=args.train, scope=scope, progress=progress).summary()

    return run_command(body)


def orchestrate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m governance.orchestrate",
        description="Raise, route, escalate and expire recommendations from risk signals.",
    )
    parser.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, or the SQLite file)")
    parser.add_argument("--as-of", help="evaluate as of this UTC time (ISO 8601), e.g. 2026-07-01T08:00; default now")
    return parser


def orchestrate_main(argv: list[str] | None = None) -> int:
    args = orchestrate_parser().parse_args(argv)
    try:
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"error: --as-of {args.as_of!r} is not an ISO 8601 time", file=sys.stderr)
        return EXIT_FAILED

    def body() -> str:
        url = args.url or warehouse_url()
        engine = open_warehouse(url)
        try:
            report = pipeline.orchestrate_decisions(engine, as_of)
        finally:
            engine.dispose()
        return f"orchestration of {describe(url)} {report.summary()}"

    return run_command(body, failure="orchestration failed")
