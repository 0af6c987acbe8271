"""Refit every plant x metric forecast series and store forecasts, intervals and backtests.

    python -m forecasting.refresh [--url URL] [--workers 2] [--as-of YYYY-MM-DD] [--own-sessions]
                                  [--plants P1,P2] [--metrics demand,output] [--history-days 730]

Series: demand, unplanned downtime hours and output of every plant, daily
(data_access.intelligence.SERIES). Each series runs the rolling-origin selection of
`forecasting.selection` on its last `history_days` days (ORIGINS origins of HORIZON_DAYS), is
refitted with the chosen model on that history and forecast HORIZON_DAYS ahead with an 80 %
interval. Series are fitted in parallel worker processes (they never touch the database);
the main process writes each series' outcome in its own transaction as it arrives, with a
progress bar.

Governance: the whole configuration (candidates and their parameters, horizon, history,
origins) is one `forecaster` version in the model registry. While that version is not
approved, every series serves its fallback (seasonal naive) forecast, labelled
"not approved", and the candidates' backtests are stored as the evidence to approve it on.
When the approved version's drift or recent accuracy at a plant passes the plant policy's
limits (`governance.model_serving.hold_degraded`, passed in as `serving`, after each run), that plant's series serve the
fallback from the next run on, labelled "on hold", until an admin releases the hold.

A run's id is "<last data day>-<version>", so a rerun on the same data replaces its own rows
(idempotent) and a run on newer data adds a run: the history of runs is what accuracy
monitoring reads. Bad input gives one line on stderr and a non-zero exit, no traceback.
"""

import argparse
import hashlib
import importlib
import json
import logging
import multiprocessing
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as dtime, timedelta, timezone

import numpy as np
import pandas as pd
from sklearn.base import clone

from data_access import intelligence as store
from data_access import model_holds
from data_access import model_registry as registry
from data_access.scope import PlantScope
from forecasting import selection
from forecasting.metrics import mase, psi, wape
from forecasting.selection import Selection, fallback_model, fallback_reason, forecast_all
from forecasting.series import SeriesError, prepare, season_length
from forecasting.serving import ModelServing

FREQ = "D"
HORIZON_DAYS = 28
HISTORY_DAYS = 730
ORIGINS = 2
MODEL_NAME = "forecaster"
YEAR_DAYS = 364  # 52 weeks: the same weekday a year earlier
DRIFT_REFERENCE_DAYS = 56
DEFAULT_CANDIDATES = ("seasonal_naive", "theta", "ets", "arima", "prophet", "ensemble")


@dataclass(frozen=True)
class RefreshConfig:
    """What a refresh fits. Its parameters (with every candidate's) make the forecaster version.

    history_days bounds the training history: two years let Prophet see a yearly cycle and
    keep ETS and Theta within their own max_history; older days barely move daily forecasts
    and would only slow every fit. origins: ORIGINS rolling origins of `horizon` days (fewer
    than the selection's default of 3, to keep the refresh of a large network within minutes).
    """

    horizon: int = HORIZON_DAYS
    history_days: int = HISTORY_DAYS
    origins: int = ORIGINS
    candidates: tuple = DEFAULT_CANDIDATES

    def models(self) -> dict:
        every = selection.candidates()
        unknown = [c for c in self.candidates if c not in every]
        if unknown:
            raise ValueError(f"unknown candidate(s) {', '.join(unknown)}; known: {', '.join(every)}")
        if "seasonal_naive" not in self.candidates:
            raise ValueError("seasonal_naive must be a candidate: it is the baseline every choice must beat")
        return {name: every[name] for name in every if name in self.candidates}  # simplest first

    def params(self) -> dict:
        return {
            "freq": FREQ, "horizon": self.horizon, "history_days": self.history_days, "origins": self.origins,
            "selection": "lowest mean MASE over rolling origins, ties to the simpler",
            "candidates": {name: _jsonable(model.get_params()) for name, model in self.models().items()},
        }

    @classmethod
    def from_params(cls, params: dict) -> "RefreshConfig":
        """The configuration a forecaster version was registered with (see `params`)."""
        config = cls(horizon=int(params["horizon"]), history_days=int(params["history_days"]),
                     origins=int(params["origins"]), candidates=tuple(params["candidates"]))
        if config.params() != params:
            raise RefreshError("the forecaster version's parameters differ from what this code builds: "
                               "refit with a full refresh")
        return config

    def version(self) -> str:
        text = json.dumps(self.params(), sort_keys=True, separators=(",", ":"))
        return "f-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def _jsonable(params: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)) for k, v in params.items()}


# --- one series (runs in a worker process: no database) -----------------------------------------

@dataclass
class SeriesTask:
    plant_id: str
    metric: str
    days: list  # dates with a row
    values: list  # their values
    zero_filled: bool
    held: str | None = None  # why the approved forecaster is held at this plant (served by the fallback)


@dataclass
class SeriesResult:
    plant_id: str
    metric: str
    row: dict  # forecast_series columns
    points: pd.DataFrame  # ds, yhat, yhat_lower, yhat_upper of the served forecast
    scores: list = field(default_factory=list)  # forecast_score rows
    series: pd.Series | None = None  # the prepared history (for drift and realized accuracy)


def build_series(task: SeriesTask) -> tuple[pd.Series, int]:
    """The regular daily series of a task, and how many days have a value."""
    frame = pd.DataFrame({"ds": pd.to_datetime(task.days), "y": task.values})
    prepared = prepare(frame, FREQ)
    series = prepared.series
    if task.zero_filled:
        series = series.fillna(0.0)
    return series, int(series.notna().sum())


def backtest(series: pd.Series, horizon: int, models: dict, origins: int):
    """`forecasting.selection.select` with WAPE beside MASE for every candidate.

    Same origins, same scoring and the same choice rule as `select` (tests hold them equal);
    returns (Selection, {name: mean WAPE}, {name: fit seconds summed over the origins}).
    """
    reason = fallback_reason(series, horizon)
    if reason:
        name, model = fallback_model(series)
        return Selection(chosen=name, estimator=model, fallback_reason=reason), {}, {}
    m = season_length(series.index.freqstr)
    origins = max(1, min(origins, (len(series) - 2 * m) // horizon))
    mase_folds = {name: [] for name in models}
    wape_folds = {name: [] for name in models}
    seconds = {name: 0.0 for name in models}
    errors = {}
    for k in range(origins, 0, -1):
        cut = len(series) - k * horizon
        train, test = series.iloc[:cut], series.iloc[cut:cut + horizon]
        for name, (frame, spent) in forecast_all(models, train, horizon).items():
            seconds[name] += spent
            if isinstance(frame, Exception):
                errors.setdefault(name, f"{type(frame).__name__}: {frame}")
            else:
                mase_folds[name].append(mase(test, frame["yhat"], train, m))
                wape_folds[name].append(wape(test, frame["yhat"]))

    def mean(values, name):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if name not in errors and values else None

    scores = {name: mean(v, name) for name, v in mase_folds.items()}
    wapes = {name: mean(v, name) for name, v in wape_folds.items()}
    valid = {name: s for name, s in scores.items() if s is not None}
    if not valid:
        name, model = fallback_model(series)
        return (Selection(chosen=name, estimator=model, fallback_reason="no backtest origin could be scored",
                          origins=origins, scores=scores, errors=errors), wapes, seconds)
    best = min(valid.values())
    chosen = next(name for name, s in valid.items() if s <= best * (1 + 1e-9))
    return (Selection(chosen=chosen, estimator=models[chosen], origins=origins, scores=scores, errors=errors),
            wapes, seconds)


def _served_forecast(model, series, horizon) -> pd.DataFrame:
    frame = clone(model).fit(series).predict(horizon)
    if not np.isfinite(frame["yhat"].to_numpy()).all():
        raise ValueError("non-finite forecast")
    cols = ["yhat", "yhat_lower", "yhat_upper"]
    frame[cols] = frame[cols].clip(lower=0.0)  # demand, downtime hours and output are never negative
    return frame


def fit_series(task: SeriesTask, config: RefreshConfig, approved: bool, version: str) -> SeriesResult:
    """Select, refit and forecast one series; never raises (a failure is recorded in the row)."""
    started = time.perf_counter()
    row = {"unit": store.SERIES[task.metric][1], "served_model": "none", "approved": approved, "chosen_model": None,
           "fallback_reason": None, "history_start": None, "history_end": None, "observed": 0, "missing": 0,
           "origins": 0, "error": None}
    empty = pd.DataFrame(columns=["ds", "yhat", "yhat_lower", "yhat_upper"])
    try:
        series, observed = build_series(task)
    except SeriesError as exc:
        row.update(error=f"no usable history: {exc}", seconds=time.perf_counter() - started)
        return SeriesResult(task.plant_id, task.metric, row, empty)
    row.update(history_start=series.index[0].date(), history_end=series.index[-1].date(), observed=observed,
               missing=int(len(series) - observed))
    sel, wapes, seconds = backtest(series, config.horizon, config.models(), config.origins)
    row.update(chosen_model=sel.chosen, origins=sel.origins)
    scores = [{"candidate": name, "mase": sel.scores.get(name), "wape": wapes.get(name),
               "fit_seconds": round(seconds.get(name, 0.0), 4), "error": sel.errors.get(name)}
              for name in sel.scores]
    reasons = [sel.fallback_reason] if sel.fallback_reason else []
    served_name, served_model = sel.chosen, sel.estimator
    if not approved and not sel.fallback_reason:
        served_name, served_model = fallback_model(series)
        reasons.append(f"forecaster {version} not approved")
    elif task.held and not sel.fallback_reason:
        served_name, served_model = fallback_model(series)
        reasons.append(f"on hold until an admin releases it: {task.held}")
    try:
        points = _served_forecast(served_model, series, config.horizon)
    except Exception as exc:  # noqa: BLE001 - the chosen model failing on the full history falls back
        reasons.append(f"{served_name} failed on the full history ({type(exc).__name__}: {exc})")
        served_name, served_model = fallback_model(series)
        try:
            points = _served_forecast(served_model, series, config.horizon)
        except Exception as exc2:  # noqa: BLE001 - nothing can be served: say why
            row.update(error=f"no forecast: {type(exc2).__name__}: {exc2}", fallback_reason="; ".join(reasons),
                       seconds=time.perf_counter() - started)
            return SeriesResult(task.plant_id, task.metric, row, empty, scores, series)
    row.update(served_model=served_name, fallback_reason="; ".join(reasons) or None,
               seconds=round(time.perf_counter() - started, 3))
    return SeriesResult(task.plant_id, task.metric, row, points, scores, series)


def _init_worker(own_session: bool = False) -> None:
    """Quiet, single-threaded numerical libraries: the processes are the parallelism.

    own_session: start a new session (setsid). With Linux autogroup scheduling
    (kernel.sched_autogroup_enabled), the processes of one session share one fair slice of the
    CPU, so on a machine busy with other sessions a second worker in the same session gets no
    second core's worth; in its own session it competes like a separate job.
    """
    from threadpoolctl import threadpool_limits

    if own_session:
        os.setsid()
    threadpool_limits(1)
    _quiet()


def _quiet() -> None:
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")


def _run_task(args) -> SeriesResult:
    return fit_series(*args)


# --- a refresh (main process: reads, writes, progress) -------------------------------------------

@dataclass
class RefreshReport:
    run_id: str
    model_id: int
    version: str
    approved: bool
    data_end_day: date
    series: int
    fallbacks: int
    failed: int
    workers: int
    seconds: float
    fit_seconds: float  # sum of the series' own fit times (what one process would need)
    results: list = field(default_factory=list, repr=False)

    def summary(self) -> str:
        served = "selected models" if self.approved else "fallbacks (version not approved)"
        return (f"run {self.run_id}: {self.series} series in {self.seconds:.1f} s with {self.workers} "
                f"worker(s) (fits alone {self.fit_seconds:.1f} s); {self.fallbacks} served a fallback, "
                f"{self.failed} without forecast; forecaster {self.version} "
                f"{'approved' if self.approved else 'NOT approved'}: pages show {served}")


def load_tasks(engine, scope: PlantScope, end: date, config: RefreshConfig, metrics=None) -> list[SeriesTask]:
    """One task per plant x metric with data in the `history_days` days ending `end`."""
    start = end - timedelta(days=config.history_days - 1)
    tasks = []
    for metric in metrics or store.SERIES:
        frame = store.series_history(engine, scope, metric, start, end)
        for plant_id, rows in frame.groupby("plant_id", sort=True):
            tasks.append(SeriesTask(plant_id, metric, list(rows["day"]), rows["y"].tolist(),
                                    metric in store.ZERO_FILLED))
    return tasks


def refresh(engine, config: RefreshConfig = RefreshConfig(), *, serving: ModelServing, workers: int = 2,
            scope: PlantScope | None = None,
            metrics=None, as_of: date | None = None, actor: str = "forecast-refresh", job: str = "refresh",
            progress=None, own_sessions: bool = False) -> RefreshReport:
    """Refit the series in `scope` (default: every plant) and store them; see the module docstring.

    `serving`: the model registry's rules (governance.model_serving, passed in by jobs).
    `as_of`: use data up to this plant-local day (default: the newest day in the warehouse).
    `progress(done, total, label)` is called after each series is stored. `own_sessions`:
    each worker process in its own session (see `_init_worker`).
    """
    scope = scope or PlantScope.everything()
    started = time.perf_counter()
    end = as_of or store.data_end_day(engine, PlantScope.everything())
    if end is None:
        raise RefreshError("the warehouse holds no daily data to forecast (load or generate data first)")
    config.models()  # validates the candidates before anything is written
    version = config.version()
    run_id = f"{end:%Y%m%d}-{version}"
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        model_id, _ = serving.register(conn, actor, MODEL_NAME, version, config.params(), None,
                                          trained_utc=now)
        approved = serving.approved_version(conn, MODEL_NAME)
        approved = approved is not None and approved["model_id"] == model_id
        store.upsert_forecast_run(conn, dict(
            run_id=run_id, model_id=model_id, data_end_day=end, horizon_days=config.horizon, job=job, actor=actor,
            status="running", workers=workers, series=0, fallbacks=0, failed=0, started_utc=now,
            finished_utc=None, seconds=None), keep_existing=job == "refit")
    held = model_holds.open_holds(engine, model_id) if approved else {}
    tasks = [replace(t, held=held.get(t.plant_id)) for t in load_tasks(engine, scope, end, config, metrics)]
    results = []
    try:
        for result in _execute(tasks, config, approved, version, workers, own_sessions):
            with engine.begin() as conn:
                store.replace_series(conn, run_id, result.plant_id, result.metric,
                                     {**result.row, "fitted_utc": datetime.now(timezone.utc)},
                                     result.points, result.scores)
            results.append(result)
            if progress:
                progress(len(results), len(tasks), f"{result.plant_id} {result.metric}")
    except BaseException:
        with engine.begin() as conn:
            store.finish_forecast_run(conn, run_id, status="failed", finished_utc=datetime.now(timezone.utc),
                                      **store.run_counts(conn, run_id))
        raise
    _record_monitoring(engine, model_id, end, results)
    if approved:  # drift or lost accuracy holds the plant from the next run on, until an admin acts
        latest = registry.latest_metrics(engine, scope, model_id)[["plant_id", "metric", "value"]]
        serving.hold_degraded(engine, model_id, latest)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        values = dict(status="done", finished_utc=datetime.now(timezone.utc), **store.run_counts(conn, run_id))
        if job != "refit":
            values["seconds"] = round(seconds, 3)
        store.finish_forecast_run(conn, run_id, **values)
    return RefreshReport(
        run_id=run_id, model_id=model_id, version=version, approved=approved, data_end_day=end,
        series=len(results), fallbacks=sum(1 for r in results if r.row["fallback_reason"]),
        failed=sum(1 for r in results if r.row["error"]), workers=workers, seconds=seconds,
        fit_seconds=sum(r.row.get("seconds") or 0.0 for r in results), results=results)


def refit_one(engine, plant_id: str, metric: str, scope: PlantScope, actor: str, *, serving: ModelServing,
              progress=None) -> SeriesResult:
    """Refit one series on demand (a page's button): same configuration, same run id rules.

    Refuses (RefreshError) a plant outside `scope` or an unknown metric.
    """
    if metric not in store.SERIES:
        raise RefreshError(f"unknown series {metric!r}")
    if not scope.allows(plant_id):
        raise RefreshError(f"plant {plant_id} is outside your plant scope")
    config = RefreshConfig()
    latest = store.latest_series(engine, scope.narrowed([plant_id]))
    latest = latest[latest["metric"] == metric]
    if len(latest):  # the configuration the series was last fitted with
        version = registry.version(engine, int(latest["model_id"].iloc[0]))
        config = RefreshConfig.from_params(version["params"])
    report = refresh(engine, config, serving=serving, workers=1, scope=scope.narrowed([plant_id]), metrics=[metric], actor=actor,
                     job="refit", progress=progress)
    if not report.results:
        raise RefreshError(f"{plant_id} has no {store.SERIES[metric][0].lower()} data to forecast")
    return report.results[0]


class RefreshError(RuntimeError):
    """A refresh that cannot start; the message is for the user."""


def _execute(tasks, config, approved, version, workers, own_sessions=False):
    """Yield SeriesResults as they finish: in this process (workers=1) or in a process pool."""
    args = [(task, config, approved, version) for task in tasks]
    if workers <= 1 or len(tasks) <= 1:
        _quiet()
        for a in args:
            yield _run_task(a)
        return
    # fork: the workers start with the libraries imported, and never touch the database handles
    # they inherit (only this process reads and writes). spawn and forkserver would re-run the
    # caller's __main__ in every worker, which under Streamlit or AppTest is the app script.
    # The refresh runs the pool from the command line, the benchmark and tests; a page's refit
    # of one series runs without a pool (workers=1), so no Streamlit server threads are forked.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(own_sessions,)) as pool:
        futures = [pool.submit(_run_task, a) for a in args]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _record_monitoring(engine, model_id: int, end: date, results: list[SeriesResult]) -> None:
    """Per plant and metric, at the run's data day: backtest MASE and WAPE of the choice and of
    seasonal naive, input drift and the realized WAPE of the previous run's forecast on the days
    that have arrived since.

    Drift is the PSI of the last HORIZON_DAYS days against the DRIFT_REFERENCE_DAYS days up to
    the same weekday a year earlier: against the same season, so a yearly cycle alone does not
    read as drift (against all history it would, every summer). Needs a year and 8 weeks of data.
    """
    measured = datetime.combine(end, dtime(), tzinfo=timezone.utc)
    rows = []
    previous = store.previous_forecasts(engine, PlantScope.everything(), end)
    for r in results:
        scores = {s["candidate"]: s for s in r.scores}
        chosen = scores.get(r.row["chosen_model"] or "", {})
        naive = scores.get("seasonal_naive", {})
        rows += [(r.plant_id, f"mase.{r.metric}", chosen.get("mase")),
                 (r.plant_id, f"wape.{r.metric}", chosen.get("wape")),
                 (r.plant_id, f"mase_sn.{r.metric}", naive.get("mase"))]
        if r.series is not None and len(r.series) >= YEAR_DAYS + DRIFT_REFERENCE_DAYS:
            year_ago = r.series.iloc[-YEAR_DAYS - DRIFT_REFERENCE_DAYS:-YEAR_DAYS]
            rows.append((r.plant_id, f"psi.{r.metric}", psi(year_ago, r.series.iloc[-HORIZON_DAYS:])))
        past = previous[(previous["plant_id"] == r.plant_id) & (previous["metric"] == r.metric)]
        if r.series is not None and not past.empty:
            actual = r.series.reindex(pd.to_datetime(past["day"]))
            keep = actual.notna().to_numpy()
            if keep.any():
                rows.append((r.plant_id, f"wape_live.{r.metric}",
                             wape(actual.to_numpy()[keep], past["yhat"].to_numpy()[keep])))
    with engine.begin() as conn:
        registry.record_metrics(conn, model_id, measured, rows)


# --- command line ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def _day(text):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _names(text):
    return tuple(n.strip() for n in text.split(",") if n.strip())


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m forecasting.refresh", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, data/warehouse.db)")
    p.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1),
                   help="worker processes (default: 2, or 1 on a single core)")
    p.add_argument("--as-of", type=_day, help="use data up to this day (default: the newest day)")
    p.add_argument("--plants", type=_names, help="comma-separated plant ids (default: every plant)")
    p.add_argument("--metrics", type=_names, help=f"comma-separated series (default: {','.join(store.SERIES)})")
    p.add_argument("--candidates", type=_names, default=DEFAULT_CANDIDATES,
                   help=f"comma-separated candidates (default: {','.join(DEFAULT_CANDIDATES)})")
    p.add_argument("--history-days", type=_positive, default=HISTORY_DAYS,
                   help=f"days of history each series is fitted on (default {HISTORY_DAYS})")
    p.add_argument("--horizon", type=_positive, default=HORIZON_DAYS, help=f"days ahead (default {HORIZON_DAYS})")
    p.add_argument("--origins", type=_positive, default=ORIGINS, help=f"backtest origins (default {ORIGINS})")
    p.add_argument("--own-sessions", action="store_true",
                   help="run each worker in its own session: on a Linux machine busy with other sessions "
                        "(autogroup scheduling) the workers then each get a fair share instead of splitting one")
    return p


if __name__ == "__main__":  # the command composes this module with governance: see jobs.commands
    sys.exit(importlib.import_module("jobs.commands").refresh_main())
