"""Refit every plant x metric forecast series and store forecasts, intervals and backtests.

    python -m forecasting.refresh [--url URL] [--workers 2] [--as-of YYYY-MM-DD] [--own-sessions]
                                  [--plants P1,P2] [--metrics demand,output] [--history-days 730]
                                  [--reselect due|all|none] [--reselect-days 7]
                                  [--executor pool|dask] [--scheduler tcp://HOST:8786]

Series: demand, unplanned downtime hours and output of every plant, daily
(data_access.intelligence.SERIES). The daily refresh refits each series' chosen model (stored
in its newest forecast_series row, with the model form its last search picked: `fitted_params`,
a warm start, see forecasting.estimators) on its last `history_days` days and forecasts HORIZON_DAYS
ahead with an 80 % interval. A series is reselected, i.e. runs the rolling-origin selection of
`forecasting.selection` (ORIGINS origins of HORIZON_DAYS) over every candidate first, only when
due (`ReselectPlan`): new, a changed forecaster version, weekly, or at once when its served
model drifted. Its row says when and why it was last reselected; a refitted series keeps the
backtest scores that chose its model as its evidence. Series are fitted in parallel worker
processes or on a Dask cluster (`forecasting.executors`; they never touch the database); the
main process writes each series' outcome in its own transaction as it arrives, with a
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
import os
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime

import numpy as np
import pandas as pd
from sklearn.base import clone

from data_access import intelligence as store
from data_access import model_holds
from data_access import model_registry as registry
from data_access.scope import PlantScope
from forecasting import selection
from forecasting.executors import EXECUTORS, ExecutorError, open_executor
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
RESELECT_MODES = ("due", "all", "none")
RESELECT_DAYS = 7  # default cadence of the full backtest
RECENT_DAYS = 14  # the drift check's recent window: the stored forecast made this many days ago
RECENT_MIN_DAYS = 7  # ... judged only with at least this many actual days since


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
            "freq": FREQ,
            "horizon": self.horizon,
            "history_days": self.history_days,
            "origins": self.origins,
            "selection": "lowest mean MASE over rolling origins, ties to the simpler",
            "candidates": {name: _jsonable(model.get_params()) for name, model in self.models().items()},
        }

    @classmethod
    def from_params(cls, params: dict) -> "RefreshConfig":
        """The configuration a forecaster version was registered with (see `params`)."""
        config = cls(
            horizon=int(params["horizon"]),
            history_days=int(params["history_days"]),
            origins=int(params["origins"]),
            candidates=tuple(params["candidates"]),
        )
        if config.params() != params:
            raise RefreshError(
                "the forecaster version's parameters differ from what this code builds: refit with a full refresh"
            )
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
    selected: dict | None = None  # the series' newest stored row (latest_series columns); None: a new series
    judged: pd.DataFrame | None = None  # day, model, yhat of its forecast made RECENT_DAYS ago (drift check)
    held: str | None = None  # why the approved forecaster is held at this plant (served by the fallback)


@dataclass(frozen=True)
class ReselectPlan:
    """When a series runs the candidate backtest again instead of refitting its chosen model.

    mode: due (the rules below) | all (every series) | none (only series never selected).
    Due: a new series or one never backtested, a changed forecaster version, a chosen model no
    longer among the candidates, a selection newer than the data, `cadence_days` since the last
    backtest, or drift of the served model: over the last RECENT_DAYS days its stored forecast
    did worse (MAE) than seasonal naive from the same origin, or the input PSI passed
    `psi_limit` since the last backtest (it was below the limit on the data that backtest saw:
    on the sample network 21 of 36 series sit above 0.25 all the time, a year-on-year trend,
    and reselecting them daily would change nothing). An accuracy-drift reselection is not
    repeated within its window: the backtest has already seen the drifted days.
    """

    mode: str = "due"
    cadence_days: int = RESELECT_DAYS
    psi_limit: float = float("inf")
    requested: str = "requested: every series reselected"  # the reason recorded under mode "all"

    def __post_init__(self):
        if self.mode not in RESELECT_MODES:
            raise ValueError(f"unknown reselect mode {self.mode!r}; known: {', '.join(RESELECT_MODES)}")
        if self.cadence_days < 1:
            raise ValueError("the reselection cadence must be at least 1 day")


def reselect_reason(
    series: pd.Series,
    selected: dict | None,
    judged: pd.DataFrame | None,
    end: date,
    config: "RefreshConfig",
    version: str,
    plan: ReselectPlan,
) -> str | None:
    """Why this series runs the candidate backtest now, or None to refit its chosen model.

    `selected`: the series' newest stored row (chosen_model, version, origins, history_end,
    reselected_day, reselect_reason); `judged`: its stored forecast from RECENT_DAYS ago.
    """
    if selected is None or not selected.get("chosen_model"):
        return "new series"
    if not selected.get("origins"):  # a fallback, chosen without a backtest
        return (
            "first backtest: the history now supports one"
            if not fallback_reason(series, config.horizon)
            else "no backtest possible"
        )
    if plan.mode == "all":
        return plan.requested
    if selected["chosen_model"] not in config.candidates:
        return f"{selected['chosen_model']} is no longer a candidate"
    last = selected.get("reselected_day") or selected.get("history_end")
    if last is None or last > end:
        return "the last selection saw newer data than this refresh"
    if plan.mode == "none":
        return None
    if selected.get("version") != version:
        return f"forecaster version changed (from {selected.get('version')})"
    age = (end - last).days
    if age >= plan.cadence_days:
        return f"scheduled: last reselected {age} days ago (every {plan.cadence_days})"
    drifted_before = str(selected.get("reselect_reason") or "").startswith("drift")
    if judged is not None and len(judged) and (judged["model"] == selected["chosen_model"]).all():
        origin = min(judged["day"]) - timedelta(days=1)
        if not (drifted_before and last > origin):
            served, naive, days = recent_accuracy(series, judged, origin)
            if days >= RECENT_MIN_DAYS and served > naive * (1 + 1e-9):
                return (
                    f"drift: {selected['chosen_model']} MAE {served:.3g} worse than seasonal naive {naive:.3g} "
                    f"over the last {days} days"
                )
    value = series_psi(series)
    if value is not None and value > plan.psi_limit:  # only a shift since the choice: it has not seen it
        then = series_psi(series[series.index <= pd.Timestamp(last)])
        if then is None or then <= plan.psi_limit:
            return f"drift: input PSI {value:.2f} over the limit {plan.psi_limit:g}" + (
                f" (was {then:.2f} when last reselected)" if then is not None else ""
            )
    return None


def recent_accuracy(series: pd.Series, judged: pd.DataFrame, origin: date) -> tuple[float, float, int]:
    """MAE of a stored forecast made at `origin` and of seasonal naive from the same origin, over
    the days with an actual since; returns (served MAE, seasonal naive MAE, days)."""
    history = series[series.index <= pd.Timestamp(origin)]
    days = pd.to_datetime(pd.Series(judged["day"]))
    actual = series.reindex(days).to_numpy()
    keep = ~np.isnan(actual)
    if not keep.any() or len(history) < season_length(FREQ):
        return np.nan, np.nan, 0
    steps = ((days - pd.Timestamp(origin)).dt.days - 1).to_numpy()
    naive = fallback_model(history)[1].fit(history).predict(int(steps.max()) + 1)["yhat"].to_numpy()[steps]
    served = np.abs(actual[keep] - judged["yhat"].to_numpy(dtype=float)[keep]).mean()
    return float(served), float(np.abs(actual[keep] - naive[keep]).mean()), int(keep.sum())


def series_psi(series: pd.Series) -> float | None:
    """PSI of the last HORIZON_DAYS days against the DRIFT_REFERENCE_DAYS days up to the same
    weekday a year earlier (see `_record_monitoring`); None with less than a year and 8 weeks."""
    if len(series) < YEAR_DAYS + DRIFT_REFERENCE_DAYS:
        return None
    return psi(series.iloc[-YEAR_DAYS - DRIFT_REFERENCE_DAYS : -YEAR_DAYS], series.iloc[-HORIZON_DAYS:])


@dataclass
class SeriesResult:
    plant_id: str
    metric: str
    row: dict  # forecast_series columns
    points: pd.DataFrame  # ds, yhat, yhat_lower, yhat_upper of the served forecast
    scores: list = field(default_factory=list)  # forecast_score rows
    series: pd.Series | None = None  # the prepared history (for drift and realized accuracy)
    reselected: bool = True  # ran the candidate backtest (False: refitted the chosen model; scores carried)


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
        train, test = series.iloc[:cut], series.iloc[cut : cut + horizon]
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
        return (
            Selection(
                chosen=name,
                estimator=model,
                fallback_reason="no backtest origin could be scored",
                origins=origins,
                scores=scores,
                errors=errors,
            ),
            wapes,
            seconds,
        )
    best = min(valid.values())
    chosen = next(name for name, s in valid.items() if s <= best * (1 + 1e-9))
    return (
        Selection(chosen=chosen, estimator=models[chosen], origins=origins, scores=scores, errors=errors),
        wapes,
        seconds,
    )


def _served_forecast(model, series, horizon, init=None) -> tuple[pd.DataFrame, dict | None]:
    """The clipped forecast and the fitted form (`fitted_params_`). `init`: the stored form to refit
    as is (no search); if that fit fails on the new data, the search runs instead."""
    try:
        fitted = clone(model).fit(series, init)
    except Exception:
        if init is None:
            raise
        fitted = clone(model).fit(series)
    frame = fitted.predict(horizon)
    if not np.isfinite(frame["yhat"].to_numpy()).all():
        raise ValueError("non-finite forecast")
    cols = ["yhat", "yhat_lower", "yhat_upper"]
    frame[cols] = frame[cols].clip(lower=0.0)  # demand, downtime hours and output are never negative
    return frame, fitted.fitted_params_


def fit_series(
    task: SeriesTask,
    config: RefreshConfig,
    approved: bool,
    version: str,
    plan: ReselectPlan = ReselectPlan(mode="all"),
    end: date | None = None,
) -> SeriesResult:
    """Refit one series' chosen model (its stored form), or select it first when due (a fresh
    search, whose form is stored); never raises (a failure is recorded in the row). `end`: the
    refresh's data day (default: the series' last day)."""
    started = time.perf_counter()
    row = {
        "unit": store.SERIES[task.metric][1],
        "served_model": "none",
        "approved": approved,
        "chosen_model": None,
        "fallback_reason": None,
        "history_start": None,
        "history_end": None,
        "observed": 0,
        "missing": 0,
        "origins": 0,
        "error": None,
        "reselected_day": None,
        "reselect_reason": None,
        "fitted_params": None,
    }
    empty = pd.DataFrame(columns=["ds", "yhat", "yhat_lower", "yhat_upper"])
    try:
        series, observed = build_series(task)
    except SeriesError as exc:
        row.update(error=f"no usable history: {exc}", seconds=time.perf_counter() - started)
        return SeriesResult(task.plant_id, task.metric, row, empty)
    row.update(
        history_start=series.index[0].date(),
        history_end=series.index[-1].date(),
        observed=observed,
        missing=int(len(series) - observed),
    )
    end = end or row["history_end"]
    why = reselect_reason(series, task.selected, task.judged, end, config, version, plan)
    models = config.models()
    init = None
    if why is None:  # refit the chosen model: no backtest, the stored evidence stays, its stored form too
        init = task.selected.get("fitted_params")
        init = init if isinstance(init, dict) else None  # a null read back through pandas may be NaN
        chosen = task.selected["chosen_model"]
        sel, scores = Selection(chosen=chosen, estimator=models[chosen], origins=task.selected["origins"]), []
        row.update(
            reselected_day=task.selected.get("reselected_day") or task.selected.get("history_end"),
            reselect_reason=task.selected.get("reselect_reason"),
        )
    else:
        sel, wapes, seconds = backtest(series, config.horizon, models, config.origins)
        scores = [
            {
                "candidate": name,
                "mase": sel.scores.get(name),
                "wape": wapes.get(name),
                "fit_seconds": round(seconds.get(name, 0.0), 4),
                "error": sel.errors.get(name),
            }
            for name in sel.scores
        ]
        if sel.origins:
            row.update(reselected_day=end, reselect_reason=why)
    row.update(chosen_model=sel.chosen, origins=sel.origins)
    reasons = [sel.fallback_reason] if sel.fallback_reason else []
    served_name, served_model = sel.chosen, sel.estimator
    if not approved and not sel.fallback_reason:
        served_name, served_model = fallback_model(series)
        reasons.append(f"forecaster {version} not approved")
    elif task.held and not sel.fallback_reason:
        served_name, served_model = fallback_model(series)
        reasons.append(f"on hold until an admin releases it: {task.held}")
    try:
        warm = served_name == sel.chosen
        points, form = _served_forecast(served_model, series, config.horizon, init if warm else None)
        row["fitted_params"] = form if warm else init  # a fallback served: the chosen model's form stays
    except Exception as exc:  # noqa: BLE001 - the chosen model failing on the full history falls back
        reasons.append(f"{served_name} failed on the full history ({type(exc).__name__}: {exc})")
        served_name, served_model = fallback_model(series)
        try:
            points, _ = _served_forecast(served_model, series, config.horizon)
        except Exception as exc2:  # noqa: BLE001 - nothing can be served: say why
            row.update(
                error=f"no forecast: {type(exc2).__name__}: {exc2}",
                fallback_reason="; ".join(reasons),
                seconds=time.perf_counter() - started,
            )
            return SeriesResult(task.plant_id, task.metric, row, empty, scores, series, why is not None)
    row.update(
        served_model=served_name,
        fallback_reason="; ".join(reasons) or None,
        seconds=round(time.perf_counter() - started, 3),
    )
    return SeriesResult(task.plant_id, task.metric, row, points, scores, series, why is not None)


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


def _plain(value):
    """A stored score value as a plain Python number (None for NaN), ready to insert again."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


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
    reselected: int = 0  # series that ran the candidate backtest
    results: list = field(default_factory=list, repr=False)

    def summary(self) -> str:
        served = "selected models" if self.approved else "fallbacks (version not approved)"
        return (
            f"run {self.run_id}: {self.series} series in {self.seconds:.1f} s with {self.workers} "
            f"worker(s) (fits alone {self.fit_seconds:.1f} s); {self.reselected} reselected by backtest, "
            f"{self.series - self.reselected} refitted; {self.fallbacks} served a fallback, "
            f"{self.failed} without forecast; forecaster {self.version} "
            f"{'approved' if self.approved else 'NOT approved'}: pages show {served}"
        )


def load_tasks(engine, scope: PlantScope, end: date, config: RefreshConfig, metrics=None) -> list[SeriesTask]:
    """One task per plant x metric with data in the `history_days` days ending `end`, with the
    series' newest stored row and its stored forecast from RECENT_DAYS ago (what reselection reads)."""
    start = end - timedelta(days=config.history_days - 1)
    latest = store.latest_series(engine, scope)
    selected = {(r["plant_id"], r["metric"]): r for r in latest.to_dict("records")}
    judged = store.previous_forecasts(engine, scope, end - timedelta(days=RECENT_DAYS - 1), through_day=end)
    judged = {
        key: rows[["day", "model", "yhat"]].reset_index(drop=True)
        for key, rows in judged.groupby(["plant_id", "metric"], sort=False)
    }
    tasks = []
    for metric in metrics or store.SERIES:
        frame = store.series_history(engine, scope, metric, start, end)
        for plant_id, rows in frame.groupby("plant_id", sort=True):
            tasks.append(
                SeriesTask(
                    plant_id,
                    metric,
                    list(rows["day"]),
                    rows["y"].tolist(),
                    metric in store.ZERO_FILLED,
                    selected=selected.get((plant_id, metric)),
                    judged=judged.get((plant_id, metric)),
                )
            )
    return tasks


def refresh(
    engine,
    config: RefreshConfig = RefreshConfig(),
    *,
    serving: ModelServing,
    workers: int = 2,
    scope: PlantScope | None = None,
    metrics=None,
    as_of: date | None = None,
    actor: str = "forecast-refresh",
    job: str = "refresh",
    progress=None,
    own_sessions: bool = False,
    reselect: str = "due",
    reselect_days: int = RESELECT_DAYS,
    executor: str = "pool",
    scheduler: str | None = None,
) -> RefreshReport:
    """Refit the series in `scope` (default: every plant) and store them; see the module docstring.

    `serving`: the model registry's rules (governance.model_serving, passed in by jobs).
    `as_of`: use data up to this plant-local day (default: the newest day in the warehouse).
    `progress(done, total, label)` is called after each series is stored. `own_sessions`:
    each worker process (pool or local Dask cluster) in its own session (see `_init_worker`). `reselect` (due | all | none)
    and `reselect_days`: when a series runs the candidate backtest (see `ReselectPlan`).
    `executor`: pool (local processes) or dask (`scheduler` address, or a local cluster of
    `workers` processes); an unreachable scheduler raises RefreshError before anything is written.
    """
    scope = scope or PlantScope.everything()
    started = time.perf_counter()
    end = as_of or store.data_end_day(engine, PlantScope.everything())
    if end is None:
        raise RefreshError("the warehouse holds no daily data to forecast (load or generate data first)")
    config.models()  # validates the candidates before anything is written
    plan = ReselectPlan(
        reselect,
        reselect_days,
        getattr(serving, "PSI_MAJOR", float("inf")),
        **({"requested": f"requested by {actor}"} if job == "refit" else {}),
    )
    try:
        with open_executor(
            executor,
            workers,
            scheduler,
            _init_worker,
            (own_sessions and executor == "pool",),
            own_sessions=own_sessions,
        ) as run:
            return _refresh(
                engine, config, serving, run, plan, scope, end, started, workers, metrics, actor, job, progress
            )
    except ExecutorError as exc:
        raise RefreshError(str(exc)) from None


def _refresh(engine, config, serving, run, plan, scope, end, started, workers, metrics, actor, job, progress):
    version = config.version()
    run_id = f"{end:%Y%m%d}-{version}"
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        model_id, _ = serving.register(conn, actor, MODEL_NAME, version, config.params(), None, trained_utc=now)
        approved = serving.approved_version(conn, MODEL_NAME)
        approved = approved is not None and approved["model_id"] == model_id
        store.upsert_forecast_run(
            conn,
            dict(
                run_id=run_id,
                model_id=model_id,
                data_end_day=end,
                horizon_days=config.horizon,
                job=job,
                actor=actor,
                status="running",
                workers=workers,
                series=0,
                fallbacks=0,
                failed=0,
                started_utc=now,
                finished_utc=None,
                seconds=None,
            ),
            keep_existing=job == "refit",
        )
    held = model_holds.open_holds(engine, model_id) if approved else {}
    tasks = [replace(t, held=held.get(t.plant_id)) for t in load_tasks(engine, scope, end, config, metrics)]
    evidence = store.latest_candidate_scores(engine, scope)
    evidence = {
        key: rows.drop(columns=["plant_id", "metric"]).to_dict("records")
        for key, rows in evidence.groupby(["plant_id", "metric"], sort=False)
    }
    results = []
    try:
        _quiet()
        for result in run(_run_task, [(task, config, approved, version, plan, end) for task in tasks]):
            if not result.reselected:  # the backtest that chose the model stays its evidence
                result.scores = [
                    {k: _plain(v) for k, v in s.items()} for s in evidence.get((result.plant_id, result.metric), [])
                ]
            with engine.begin() as conn:
                store.replace_series(
                    conn,
                    run_id,
                    result.plant_id,
                    result.metric,
                    {**result.row, "fitted_utc": datetime.now(timezone.utc)},
                    result.points,
                    result.scores,
                )
            results.append(result)
            if progress:
                progress(len(results), len(tasks), f"{result.plant_id} {result.metric}")
    except BaseException:
        with engine.begin() as conn:
            store.finish_forecast_run(
                conn, run_id, status="failed", finished_utc=datetime.now(timezone.utc), **store.run_counts(conn, run_id)
            )
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
        run_id=run_id,
        model_id=model_id,
        version=version,
        approved=approved,
        data_end_day=end,
        series=len(results),
        fallbacks=sum(1 for r in results if r.row["fallback_reason"]),
        failed=sum(1 for r in results if r.row["error"]),
        workers=workers,
        seconds=seconds,
        fit_seconds=sum(r.row.get("seconds") or 0.0 for r in results),
        reselected=sum(1 for r in results if r.reselected and r.row["origins"]),
        results=results,
    )


def refit_one(
    engine, plant_id: str, metric: str, scope: PlantScope, actor: str, *, serving: ModelServing, progress=None
) -> SeriesResult:
    """Reselect and refit one series on demand (a page's button): the full candidate backtest,
    same configuration, same run id rules.

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
    report = refresh(
        engine,
        config,
        serving=serving,
        workers=1,
        scope=scope.narrowed([plant_id]),
        metrics=[metric],
        actor=actor,
        job="refit",
        progress=progress,
        reselect="all",
    )
    if not report.results:
        raise RefreshError(f"{plant_id} has no {store.SERIES[metric][0].lower()} data to forecast")
    return report.results[0]


class RefreshError(RuntimeError):
    """A refresh that cannot start; the message is for the user."""


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
        rows += [
            (r.plant_id, f"mase.{r.metric}", chosen.get("mase")),
            (r.plant_id, f"wape.{r.metric}", chosen.get("wape")),
            (r.plant_id, f"mase_sn.{r.metric}", naive.get("mase")),
        ]
        drift = series_psi(r.series) if r.series is not None else None
        if drift is not None:
            rows.append((r.plant_id, f"psi.{r.metric}", drift))
        past = previous[(previous["plant_id"] == r.plant_id) & (previous["metric"] == r.metric)]
        if r.series is not None and not past.empty:
            actual = r.series.reindex(pd.to_datetime(past["day"]))
            keep = actual.notna().to_numpy()
            if keep.any():
                rows.append(
                    (r.plant_id, f"wape_live.{r.metric}", wape(actual.to_numpy()[keep], past["yhat"].to_numpy()[keep]))
                )
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
    p.add_argument(
        "--workers",
        type=_positive,
        default=min(2, os.cpu_count() or 1),
        help="worker processes (default: 2, or 1 on a single core)",
    )
    p.add_argument("--as-of", type=_day, help="use data up to this day (default: the newest day)")
    p.add_argument("--plants", type=_names, help="comma-separated plant ids (default: every plant)")
    p.add_argument("--metrics", type=_names, help=f"comma-separated series (default: {','.join(store.SERIES)})")
    p.add_argument(
        "--candidates",
        type=_names,
        default=DEFAULT_CANDIDATES,
        help=f"comma-separated candidates (default: {','.join(DEFAULT_CANDIDATES)})",
    )
    p.add_argument(
        "--history-days",
        type=_positive,
        default=HISTORY_DAYS,
        help=f"days of history each series is fitted on (default {HISTORY_DAYS})",
    )
    p.add_argument("--horizon", type=_positive, default=HORIZON_DAYS, help=f"days ahead (default {HORIZON_DAYS})")
    p.add_argument("--origins", type=_positive, default=ORIGINS, help=f"backtest origins (default {ORIGINS})")
    p.add_argument(
        "--reselect",
        choices=RESELECT_MODES,
        default="due",
        help="run the candidate backtest for: due = new series, a changed forecaster version, every "
        "--reselect-days, or drift of the served model (default); all = every series; none = only "
        "series never selected (the others refit their chosen model)",
    )
    p.add_argument(
        "--reselect-days",
        type=_positive,
        default=RESELECT_DAYS,
        help=f"days between a series' scheduled backtests (default {RESELECT_DAYS})",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="pool",
        help="pool: local worker processes (default); dask: a Dask distributed cluster",
    )
    p.add_argument(
        "--scheduler",
        help="with --executor dask: the scheduler's address, e.g. tcp://10.0.0.5:8786 "
        "(default: a local cluster of --workers processes on 127.0.0.1)",
    )
    p.add_argument(
        "--own-sessions",
        action="store_true",
        help="run each worker in its own session: on a Linux machine busy with other sessions "
        "(autogroup scheduling) the workers then each get a fair share instead of splitting one",
    )
    return p


if __name__ == "__main__":  # the command composes this module with governance: see jobs.commands
    sys.exit(importlib.import_module("jobs.commands").refresh_main())
