"""Stored simulator backtests (tables `scenario_backtest_run` and `scenario_backtest`).

A run (forecasting.scenario_backtest) starts the scenario baseline at past origin days and
stores, per plant, origin and metric, what happened (`actual`), the simulated mean and 10th to
90th percentile band, and whether the actual fell inside it. The scenario planner reads each
plant's newest run as its calibration. Every read takes the reader's PlantScope.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.engine import Connection, Engine

from data_access.frames import date_columns, read_frame, utc_columns
from data_access.json_values import json_ready
from data_access.schema import scenario_backtest, scenario_backtest_run
from data_access.scope import PlantScope

_B, _R = scenario_backtest.c, scenario_backtest_run.c
RESULT_COLUMNS = ["plant_id", "origin", "metric", "actual", "sim_mean", "sim_p10", "sim_p90", "inside", "demand_source"]


def write_run(
    conn: Connection,
    run_id: str,
    created_utc: datetime,
    horizon_days: int,
    paths: int,
    seed: int,
    origins: list,
    skipped: list[dict],
    results: pd.DataFrame,
) -> None:
    """Insert one run and its results (RESULT_COLUMNS) in the caller's transaction."""
    conn.execute(
        insert(scenario_backtest_run).values(
            run_id=run_id,
            created_utc=created_utc,
            horizon_days=int(horizon_days),
            paths=int(paths),
            seed=int(seed),
            origins=json_ready([str(o) for o in origins]),
            skipped=json_ready(skipped),
        )
    )
    if len(results):
        rows = json_ready(results[RESULT_COLUMNS].to_dict("records"), strict=False)
        for row, origin in zip(rows, results["origin"]):
            row["origin"], row["run_id"], row["inside"] = origin, run_id, bool(row["inside"])
        conn.execute(insert(scenario_backtest), rows)


def calibration(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Per plant in scope and metric, its newest backtest run summed over the origins.

    Columns: plant_id, metric, run_id, created_utc (UTC), horizon_days, backtests (origins with
    an actual), inside (of them, actual within the simulated 10th-90th band), bias (mean of
    simulated mean - actual), actual (mean actual), simulated (mean simulated mean).
    Empty when no run touched a plant in scope.
    """
    newest = (
        select(_B.plant_id, func.max(_R.created_utc).label("created_utc"))
        .join_from(scenario_backtest, scenario_backtest_run, _B.run_id == _R.run_id)
        .where(scope.clause(_B.plant_id))
        .group_by(_B.plant_id)
        .subquery()
    )
    stmt = (
        select(
            _B.plant_id,
            _B.metric,
            _B.run_id,
            _R.created_utc,
            _R.horizon_days,
            func.count(_B.actual).label("backtests"),
            func.sum(case((and_(_B.inside.is_(True), _B.actual.is_not(None)), 1), else_=0)).label("inside"),
            func.avg(_B.sim_mean - _B.actual).label("bias"),
            func.avg(_B.actual).label("actual"),
            func.avg(_B.sim_mean).label("simulated"),
        )
        .join_from(scenario_backtest, scenario_backtest_run, _B.run_id == _R.run_id)
        .join(newest, and_(newest.c.plant_id == _B.plant_id, newest.c.created_utc == _R.created_utc))
        .where(scope.clause(_B.plant_id))
        .group_by(_B.plant_id, _B.metric, _B.run_id, _R.created_utc, _R.horizon_days)
        .order_by(_B.plant_id, _B.metric)
    )
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    utc_columns(frame, "created_utc")
    for name in ("backtests", "inside", "horizon_days"):
        frame[name] = frame[name].fillna(0).astype(int)
    return frame


def results(engine: Engine, scope: PlantScope, run_id: str) -> pd.DataFrame:
    """Every stored outcome of one run within the scope.

    Columns: RESULT_COLUMNS (origin a date, inside a bool).
    """
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            select(*(_B[c] for c in RESULT_COLUMNS))
            .where(_B.run_id == run_id, scope.clause(_B.plant_id))
            .order_by(_B.plant_id, _B.origin, _B.metric),
        )
    date_columns(frame, "origin")
    frame["inside"] = frame["inside"].astype(bool)
    return frame
