"""Named reads and writes of predictive operations (forecasts, failure, shortage and disruption risk).

Two groups, each function taking the user's PlantScope and filtering on it in SQL:
- inputs of the batch jobs (`forecasting.refresh`, `forecasting.score`): the daily series per
  plant, sensor readings, failures, repairs, stock, consumption, purchase and production orders;
- their stored outputs, which pages read: forecast runs, the choice and backtest per series,
  forecast points, risk scores.

Every read returns a DataFrame whose columns its docstring lists. Days are plant-local
`date`s; timestamps come back timezone-aware UTC (SQLite hands back naive UTC). Writes take
the caller's connection, so a job decides its transactions.
"""

from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from data_access import kpis
from data_access import stock as stock_position
from data_access.frames import as_date, as_utc, date_columns, read_frame, utc_columns
from data_access.schema import (
    asset,
    asset_health_daily,
    bom,
    demand_daily,
    downtime_event,
    forecast,
    forecast_run,
    forecast_score,
    forecast_series,
    inventory_snapshot,
    line,
    mart_feed_reach,
    mart_line_daily,
    mart_plant_daily,
    material,
    model_version,
    plant,
    plant_material,
    production_daily,
    production_order,
    purchase_order,
    risk_score,
    score_run,
    work_order,
)
from data_access.scope import PlantScope

SERIES = {
    "demand": ("Demand", "units", "finished-goods demand, units per plant-local day (a day without demand counts 0)"),
    "unplanned_downtime_h": ("Unplanned downtime", "h", "hours of failure downtime per plant-local day"),
    "output": ("Output", "units", "good quantity produced per plant-local day"),
}
"""metric -> (label, unit, definition) of the forecast series, one per plant."""

ZERO_FILLED = frozenset({"demand"})
"""Series whose missing days are zero (no row means no demand), not missing data."""

RISK_KINDS = ("failure", "shortage", "disruption")


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


# --- inputs: the forecast series -------------------------------------------------------------


def series_history(engine: Engine, scope: PlantScope, metric: str, start: date, end: date) -> pd.DataFrame:
    """The daily values of one forecast series for every plant in scope, days start..end.

    Columns: plant_id, day, y (in the unit of SERIES[metric]). Only days with a row come
    back: for `demand` (ZERO_FILLED) a missing day is a day without demand, for the others a
    day without data.
    """
    if metric not in SERIES:
        raise ValueError(f"unknown series {metric!r}; known: {', '.join(SERIES)}")
    m = mart_plant_daily.c
    if metric == "demand":
        d = demand_daily.c
        stmt = (
            select(d.plant_id, d.day, func.sum(d.qty).label("y"))
            .join_from(demand_daily, material, d.material_id == material.c.material_id)
            .where(material.c.material_type == "finished", scope.clause(d.plant_id), d.day.between(start, end))
            .group_by(d.plant_id, d.day)
            .order_by(d.plant_id, d.day)
        )
        frame = _read(engine, stmt)
    elif metric == "output":
        frame = _read(
            engine,
            select(m.plant_id, m.day, m.good_qty.label("y"))
            .join_from(mart_plant_daily, *_reach_of("production"))
            .where(scope.clause(m.plant_id), m.day.between(start, end))
            .order_by(m.plant_id, m.day),
        )
    else:
        frame = _read(
            engine,
            select(m.plant_id, m.day, m.unplanned_downtime_s)
            .join_from(mart_plant_daily, *_reach_of("downtime"))
            .where(scope.clause(m.plant_id), m.day.between(start, end))
            .order_by(m.plant_id, m.day),
        )
        frame["y"] = kpis.unplanned_downtime_hours(frame.pop("unplanned_downtime_s").astype(float))
    frame["y"] = frame["y"].astype(float)
    return date_columns(frame, "day")[["plant_id", "day", "y"]]


def _reach_of(feed: str, mart=mart_plant_daily) -> tuple:
    """(table, on-clause) keeping the `mart` days inside `feed`'s reach: the marts' calendar spans
    every feed (issue 14), and a day past the production feed is not a day without output."""
    r, m = mart_feed_reach.c, mart.c
    return mart_feed_reach, and_(r.plant_id == m.plant_id, r.feed == feed, m.day.between(r.first_day, r.last_day))


def data_end_day(engine: Engine, scope: PlantScope) -> date | None:
    """The newest plant-local day of any forecast series in scope (None without data)."""
    m, d = mart_plant_daily.c, demand_daily.c
    with engine.connect() as conn:
        ends = [
            conn.execute(select(func.max(m.day)).where(scope.clause(m.plant_id))).scalar(),
            conn.execute(select(func.max(d.day)).where(scope.clause(d.plant_id))).scalar(),
        ]
    ends = [as_date(e) for e in ends if e is not None]
    return max(ends) if ends else None


# --- inputs: assets ----------------------------------------------------------------------------


def asset_register(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Every asset in scope with its line and its plant's data maturity.

    Columns: asset_id, plant_id, line_id, line_name, asset_class, criticality (A | B | C),
    install_year, local_name, data_maturity (iot | mes | spreadsheet).
    """
    a = asset.c
    return _read(
        engine,
        select(
            a.asset_id,
            a.plant_id,
            a.line_id,
            line.c.name.label("line_name"),
            a.asset_class,
            a.criticality,
            a.install_year,
            a.local_name,
            plant.c.data_maturity,
        )
        .join_from(asset, line, a.line_id == line.c.line_id)
        .join(plant, plant.c.plant_id == a.plant_id)
        .where(scope.clause(a.plant_id))
        .order_by(a.asset_id),
    )


def health_readings(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Daily sensor readings of the assets in scope, plant-local days start..end (iot plants only).

    Columns: asset_id, plant_id, day, vibration_mm_s, temperature_c (deg C), current_a, run_hours.
    """
    h = asset_health_daily.c
    frame = _read(
        engine,
        select(h.asset_id, h.plant_id, h.day, h.vibration_mm_s, h.temperature_c, h.current_a, h.run_hours)
        .where(scope.clause(h.plant_id), h.day.between(start, end))
        .order_by(h.asset_id, h.day),
    )
    return date_columns(frame, "day")


def failure_events(engine: Engine, scope: PlantScope, start_utc: datetime, end_utc: datetime) -> pd.DataFrame:
    """Failure downtime events (is_failure) starting in start_utc..end_utc (end excluded).

    Columns: asset_id, plant_id, line_id, day (plant-local day of the start), start_utc,
    end_utc, duration_s.
    """
    d = downtime_event.c
    frame = _read(
        engine,
        select(d.asset_id, d.plant_id, d.line_id, d.day, d.start_utc, d.end_utc, d.duration_s)
        .where(
            d.is_failure.is_(True),
            scope.clause(d.plant_id),
            d.start_utc >= as_utc(start_utc),
            d.start_utc < as_utc(end_utc),
        )
        .order_by(d.asset_id, d.start_utc),
    )
    return utc_columns(date_columns(frame, "day"), "start_utc", "end_utc")


def downtime_coverage(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """The newest plant-local day with a downtime event, per plant in scope: how far the
    downtime feed reaches (failure labels after it are unknown, not absent).

    Columns: plant_id, last_day.
    """
    d = downtime_event.c
    frame = _read(
        engine,
        select(d.plant_id, func.max(d.day).label("last_day"))
        .where(scope.clause(d.plant_id))
        .group_by(d.plant_id)
        .order_by(d.plant_id),
    )
    return date_columns(frame, "last_day")


def completed_repairs(engine: Engine, scope: PlantScope, before_utc: datetime) -> pd.DataFrame:
    """Corrective and preventive work orders completed before `before_utc`.

    Columns: asset_id, plant_id, wo_type (corrective | preventive), completed_utc.
    """
    w = work_order.c
    frame = _read(
        engine,
        select(w.asset_id, w.plant_id, w.wo_type, w.completed_utc)
        .where(
            scope.clause(w.plant_id),
            w.wo_type.in_(["corrective", "preventive"]),
            w.completed_utc.is_not(None),
            w.completed_utc < as_utc(before_utc),
        )
        .order_by(w.asset_id, w.completed_utc),
    )
    return utc_columns(frame, "completed_utc")


def line_run_daily(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Run time per line and plant-local day, start..end.

    Columns: line_id, plant_id, day, run_s.
    """
    p = production_daily.c
    frame = _read(
        engine,
        select(p.line_id, p.plant_id, p.day, p.run_s)
        .where(scope.clause(p.plant_id), p.day.between(start, end))
        .order_by(p.line_id, p.day),
    )
    return date_columns(frame, "day")


def line_days(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Each line's plant-local days start..end from mart_line_daily, inside the production feed's
    reach: its demonstrated capacity, availability and failure record (the scenario engine's line
    inputs), and the production orders due that day and done on time (the overview's schedule
    adherence; for its backtest).

    Columns: line_id, plant_id, day, planned_busy_s, run_s, good_qty, failures, restoration_s,
    orders_due, orders_on_time.
    """
    L = mart_line_daily.c
    frame = _read(
        engine,
        select(
            L.line_id,
            L.plant_id,
            L.day,
            L.planned_busy_s,
            L.run_s,
            L.good_qty,
            L.failures,
            L.restoration_s,
            L.orders_due,
            L.orders_on_time,
        )
        .join_from(mart_line_daily, *_reach_of("production", mart_line_daily))
        .where(scope.clause(L.plant_id), L.day.between(start, end))
        .order_by(L.line_id, L.day),
    )
    return date_columns(frame, "day")


# --- inputs: materials and orders --------------------------------------------------------------


def material_stock(engine: Engine, scope: PlantScope, as_of_day: date, finished: bool = False) -> pd.DataFrame:
    """Every material a plant in scope stocks with its newest count: the materials it buys and
    uses (finished goods excluded), or with `finished` its finished goods only.

    Columns: plant_id, material_id, name, material_type, unit, unit_cost, supplier_id,
    lead_time_days (NaN if unknown), safety_stock, reorder_point, on_hand (on as_of_day: the
    newest snapshot on or before it rolled forward by the receipts and consumption after it,
    `data_access.stock`; NaN without one), snapshot_day (None without one), counted_on_hand,
    received_after_count, consumed_after_count.
    """
    pm, m, i = plant_material.c, material.c, inventory_snapshot.c
    newest = (
        select(i.plant_id, i.material_id, func.max(i.day).label("day"))
        .where(i.day <= as_of_day, scope.clause(i.plant_id))
        .group_by(i.plant_id, i.material_id)
        .subquery()
    )
    stock = (
        select(i.plant_id, i.material_id, i.day.label("snapshot_day"), i.on_hand)
        .join_from(
            inventory_snapshot,
            newest,
            and_(i.plant_id == newest.c.plant_id, i.material_id == newest.c.material_id, i.day == newest.c.day),
        )
        .subquery()
    )
    kind = (m.material_type == "finished") if finished else (m.material_type != "finished")
    frame = _read(
        engine,
        select(
            pm.plant_id,
            pm.material_id,
            m.name,
            m.material_type,
            m.unit,
            m.unit_cost,
            pm.supplier_id,
            pm.lead_time_days,
            pm.safety_stock,
            pm.reorder_point,
            stock.c.on_hand,
            stock.c.snapshot_day,
        )
        .join_from(plant_material, material, pm.material_id == m.material_id)
        .outerjoin(stock, and_(stock.c.plant_id == pm.plant_id, stock.c.material_id == pm.material_id))
        .where(scope.clause(pm.plant_id), kind)
        .order_by(pm.plant_id, pm.material_id),
    )
    frame["lead_time_days"] = frame["lead_time_days"].astype(float)
    frame["on_hand"] = frame["on_hand"].astype(float)
    return stock_position.positions(engine, scope, date_columns(frame, "snapshot_day"), as_of_day)


def stock_counts(engine: Engine, scope: PlantScope, start: date, end: date, finished: bool = False) -> pd.DataFrame:
    """Every inventory count of days start..end of the materials a plant in scope stocks: the
    materials it buys and uses (finished goods excluded), or with `finished` its finished goods.

    Columns: plant_id, material_id, day, on_hand, unit_cost. A day without a row was not counted.
    """
    i, m = inventory_snapshot.c, material.c
    kind = (m.material_type == "finished") if finished else (m.material_type != "finished")
    frame = _read(
        engine,
        select(i.plant_id, i.material_id, i.day, i.on_hand, m.unit_cost)
        .join_from(inventory_snapshot, material, i.material_id == m.material_id)
        .where(scope.clause(i.plant_id), kind, i.day.between(start, end))
        .order_by(i.plant_id, i.material_id, i.day),
    )
    frame["on_hand"] = frame["on_hand"].astype(float)
    return date_columns(frame, "day")


def material_consumption(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Daily consumption of the materials in scope (finished goods excluded), days start..end.

    Columns: plant_id, material_id, day, qty. A day without a row consumed nothing.
    """
    d = demand_daily.c
    frame = _read(
        engine,
        select(d.plant_id, d.material_id, d.day, d.qty)
        .join_from(demand_daily, material, d.material_id == material.c.material_id)
        .where(material.c.material_type != "finished", scope.clause(d.plant_id), d.day.between(start, end))
        .order_by(d.plant_id, d.material_id, d.day),
    )
    return date_columns(frame, "day")


def open_purchase_orders(engine: Engine, scope: PlantScope, as_of_day: date) -> pd.DataFrame:
    """Purchase orders open on `as_of_day`: ordered by then, not received by then, not cancelled.

    Columns: po_id, plant_id, material_id, supplier_id, qty, ordered_day, promised_day.
    """
    po = purchase_order.c
    frame = _read(
        engine,
        select(po.po_id, po.plant_id, po.material_id, po.supplier_id, po.qty, po.ordered_day, po.promised_day)
        .where(
            scope.clause(po.plant_id),
            po.status != "cancelled",
            po.ordered_day <= as_of_day,
            or_(po.received_day.is_(None), po.received_day > as_of_day),
        )
        .order_by(po.plant_id, po.material_id, po.promised_day),
    )
    return date_columns(frame, "ordered_day", "promised_day")


def deliveries(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Purchase orders received in start..end: each supplier's delivery record.

    Columns: supplier_id, plant_id, material_id, promised_day, received_day, qty, delay_days
    (received minus promised, negative when early).
    """
    po = purchase_order.c
    frame = _read(
        engine,
        select(po.supplier_id, po.plant_id, po.material_id, po.promised_day, po.received_day, po.qty)
        .where(scope.clause(po.plant_id), po.status == "received", po.received_day.between(start, end))
        .order_by(po.supplier_id, po.received_day),
    )
    frame = date_columns(frame, "promised_day", "received_day")
    frame["delay_days"] = [(r - p).days for r, p in zip(frame["received_day"], frame["promised_day"])]
    return frame


def upcoming_orders(engine: Engine, scope: PlantScope, start_utc: datetime, end_utc: datetime) -> pd.DataFrame:
    """Planned or released production orders whose planned run overlaps start_utc..end_utc.

    Columns: order_id, plant_id, line_id, product_id, product_name, qty, status,
    planned_start_utc, planned_end_utc, due_utc.
    """
    o = production_order.c
    frame = _read(
        engine,
        select(
            o.order_id,
            o.plant_id,
            o.line_id,
            o.product_id,
            material.c.name.label("product_name"),
            o.qty,
            o.status,
            o.planned_start_utc,
            o.planned_end_utc,
            o.due_utc,
        )
        .join_from(production_order, material, o.product_id == material.c.material_id)
        .where(
            scope.clause(o.plant_id),
            o.status.in_(["planned", "released"]),
            o.planned_start_utc < as_utc(end_utc),
            o.planned_end_utc > as_utc(start_utc),
        )
        .order_by(o.plant_id, o.planned_start_utc, o.order_id),
    )
    return utc_columns(frame, "planned_start_utc", "planned_end_utc", "due_utc")


def bill_of_materials(engine: Engine) -> pd.DataFrame:
    """The network-wide bill of materials (it names no plant).

    Columns: product_id, material_id, qty_per_unit.
    """
    b = bom.c
    return _read(engine, select(b.product_id, b.material_id, b.qty_per_unit).order_by(b.product_id, b.material_id))


# --- outputs: forecast runs ------------------------------------------------------------------------


def upsert_forecast_run(conn: Connection, run: dict, keep_existing: bool = False) -> None:
    """Insert the run row, or reset it (a rerun on the same data replaces its own rows).

    keep_existing: leave an existing row as it is (a one-series refit joins the run).
    """
    r = forecast_run.c
    exists = conn.execute(select(r.run_id).where(r.run_id == run["run_id"])).first()
    if exists and not keep_existing:
        conn.execute(update(forecast_run).where(r.run_id == run["run_id"]).values(**run))
    elif not exists:
        conn.execute(insert(forecast_run).values(**run))


def run_counts(conn: Connection, run_id: str) -> dict:
    """series, fallbacks (served a fallback) and failed (no forecast) of a run, from its series rows."""
    s = forecast_series.c
    row = conn.execute(
        select(
            func.count(),
            func.sum(case((s.fallback_reason.is_not(None), 1), else_=0)),
            func.sum(case((s.error.is_not(None), 1), else_=0)),
        ).where(s.run_id == run_id)
    ).one()
    return {"series": int(row[0] or 0), "fallbacks": int(row[1] or 0), "failed": int(row[2] or 0)}


def plant_ids(engine: Engine, scope: PlantScope) -> list[str]:
    """The ids of the plants in scope."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(plant.c.plant_id).where(scope.clause(plant.c.plant_id)).order_by(plant.c.plant_id)
            ).scalars()
        )


def previous_forecasts(
    engine: Engine, scope: PlantScope, before_day: date, through_day: date | None = None
) -> pd.DataFrame:
    """Per series, the points of its newest forecast made from data ending before `before_day`,
    its days up to `through_day` (default `before_day`).

    Columns: plant_id, metric, run_id, day, model, yhat. For realized accuracy: compare them with
    the actuals that have arrived since.
    """
    s, f = forecast_series.c, forecast.c
    newest = (
        select(s.plant_id, s.metric, func.max(s.fitted_utc).label("fitted_utc"))
        .where(scope.clause(s.plant_id), s.history_end < before_day, s.error.is_(None))
        .group_by(s.plant_id, s.metric)
        .subquery()
    )
    runs = (
        select(s.run_id, s.plant_id, s.metric)
        .join_from(
            forecast_series,
            newest,
            and_(s.plant_id == newest.c.plant_id, s.metric == newest.c.metric, s.fitted_utc == newest.c.fitted_utc),
        )
        .subquery()
    )
    frame = _read(
        engine,
        select(f.plant_id, f.metric, f.run_id, f.day, f.model, f.yhat)
        .join_from(
            forecast, runs, and_(f.run_id == runs.c.run_id, f.plant_id == runs.c.plant_id, f.metric == runs.c.metric)
        )
        .where(scope.clause(f.plant_id), f.day <= (through_day or before_day))
        .order_by(f.plant_id, f.metric, f.day),
    )
    return date_columns(frame, "day")


def demand_forecasts_before(engine: Engine, scope: PlantScope, before_day: date) -> pd.DataFrame:
    """Per plant in scope, the newest demand forecast made from data ending before `before_day`
    (history_end < before_day, fitted without error): what a plant knew of its demand that day,
    or the closest stored forecast to it (a run fitted later on data of then).

    Columns: plant_id, run_id, history_end, fitted_utc.
    """
    s = forecast_series.c
    newest = (
        select(s.plant_id, func.max(s.fitted_utc).label("fitted_utc"))
        .where(scope.clause(s.plant_id), s.metric == "demand", s.history_end < before_day, s.error.is_(None))
        .group_by(s.plant_id)
        .subquery()
    )
    frame = _read(
        engine,
        select(s.plant_id, s.run_id, s.history_end, s.fitted_utc)
        .join_from(forecast_series, newest, and_(s.plant_id == newest.c.plant_id, s.fitted_utc == newest.c.fitted_utc))
        .where(s.metric == "demand", s.history_end < before_day, s.error.is_(None))
        .order_by(s.plant_id),
    )
    return utc_columns(date_columns(frame, "history_end"), "fitted_utc").drop_duplicates("plant_id", keep="last")


def finish_forecast_run(conn: Connection, run_id: str, **values) -> None:
    conn.execute(update(forecast_run).where(forecast_run.c.run_id == run_id).values(**values))


def replace_series(
    conn: Connection,
    run_id: str,
    plant_id: str,
    metric: str,
    series_row: dict,
    points: pd.DataFrame,
    scores: list[dict],
) -> None:
    """Write one series' outcome in run `run_id`, replacing what the run held for it.

    `points`: ds, yhat, yhat_lower, yhat_upper of the served forecast; `scores`: one dict per
    candidate with candidate, mase, wape, fit_seconds, error.
    """
    key = {"run_id": run_id, "plant_id": plant_id, "metric": metric}
    for table in (forecast, forecast_score, forecast_series):
        conn.execute(delete(table).where(*(table.c[k] == v for k, v in key.items())))
    conn.execute(insert(forecast_series).values(**key, **series_row))
    if len(points):
        conn.execute(
            insert(forecast),
            [
                {
                    **key,
                    "day": as_date(ds),
                    "model": series_row["served_model"],
                    "yhat": float(y),
                    "yhat_lower": _num(lo),
                    "yhat_upper": _num(hi),
                }
                for ds, y, lo, hi in zip(points["ds"], points["yhat"], points["yhat_lower"], points["yhat_upper"])
            ],
        )
    if scores:
        conn.execute(insert(forecast_score), [{**key, **s} for s in scores])


def _num(value):
    return None if value is None or pd.isna(value) else float(value)


def forecast_runs(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """The newest forecast runs (a run names no plant; its counts are network-wide).

    Columns: run_id, model_id, version, data_end_day, horizon_days, job, actor, status,
    workers, series, fallbacks, failed, seconds, started_utc, finished_utc.
    """
    r = forecast_run.c
    frame = _read(
        engine,
        select(
            r.run_id,
            r.model_id,
            model_version.c.version,
            r.data_end_day,
            r.horizon_days,
            r.job,
            r.actor,
            r.status,
            r.workers,
            r.series,
            r.fallbacks,
            r.failed,
            r.seconds,
            r.started_utc,
            r.finished_utc,
        )
        .join_from(forecast_run, model_version, r.model_id == model_version.c.model_id)
        .order_by(r.started_utc.desc())
        .limit(limit),
    )
    return utc_columns(date_columns(frame, "data_end_day"), "started_utc", "finished_utc")


def latest_series(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """The newest fitted outcome of every plant x metric series in scope.

    Columns: run_id, plant_id, plant_name, data_maturity, metric, unit, served_model,
    chosen_model, fallback_reason, history_start, history_end, observed, missing, origins,
    seconds, error, fitted_utc, approved (whether the run's forecaster version was approved when
    the series was fitted), model_id (that version), version, horizon_days, reselected_day (data
    day of the backtest that chose chosen_model; None before one ran), reselect_reason (why it ran),
    fitted_params (the chosen model's searched form, JSON, that the daily refit reuses; None: none).
    """
    s, r = forecast_series.c, forecast_run.c
    newest = (
        select(s.plant_id, s.metric, func.max(s.fitted_utc).label("fitted_utc"))
        .where(scope.clause(s.plant_id))
        .group_by(s.plant_id, s.metric)
        .subquery()
    )
    frame = _read(
        engine,
        select(
            s.run_id,
            s.plant_id,
            plant.c.name.label("plant_name"),
            plant.c.data_maturity,
            s.metric,
            s.unit,
            s.served_model,
            s.chosen_model,
            s.fallback_reason,
            s.history_start,
            s.history_end,
            s.observed,
            s.missing,
            s.origins,
            s.seconds,
            s.error,
            s.fitted_utc,
            s.approved,
            r.model_id,
            model_version.c.version,
            r.horizon_days,
            s.reselected_day,
            s.reselect_reason,
            s.fitted_params,
        )
        .join_from(
            forecast_series,
            newest,
            and_(s.plant_id == newest.c.plant_id, s.metric == newest.c.metric, s.fitted_utc == newest.c.fitted_utc),
        )
        .join(forecast_run, r.run_id == s.run_id)
        .join(model_version, model_version.c.model_id == r.model_id)
        .join(plant, plant.c.plant_id == s.plant_id)
        .where(scope.clause(s.plant_id))
        .order_by(s.plant_id, s.metric),
    )
    return utc_columns(date_columns(frame, "history_start", "history_end", "reselected_day"), "fitted_utc")


def forecast_points(engine: Engine, scope: PlantScope, run_id: str, plant_id: str, metric: str) -> pd.DataFrame:
    """The served forecast of one series in one run (empty outside the scope).

    Columns: day, model, yhat, yhat_lower, yhat_upper.
    """
    f = forecast.c
    frame = _read(
        engine,
        select(f.day, f.model, f.yhat, f.yhat_lower, f.yhat_upper)
        .where(scope.clause(f.plant_id), f.run_id == run_id, f.plant_id == plant_id, f.metric == metric)
        .order_by(f.day),
    )
    return date_columns(frame, "day")


def candidate_scores(
    engine: Engine, scope: PlantScope, run_id: str, plant_id: str | None = None, metric: str | None = None
) -> pd.DataFrame:
    """Every candidate's rolling-origin backtest in one run (optionally one series).

    Columns: plant_id, metric, candidate, mase, wape, fit_seconds, error.
    """
    c = forecast_score.c
    stmt = (
        select(c.plant_id, c.metric, c.candidate, c.mase, c.wape, c.fit_seconds, c.error)
        .where(scope.clause(c.plant_id), c.run_id == run_id)
        .order_by(c.plant_id, c.metric, c.candidate)
    )
    if plant_id is not None:
        stmt = stmt.where(c.plant_id == plant_id)
    if metric is not None:
        stmt = stmt.where(c.metric == metric)
    return _read(engine, stmt)


def latest_candidate_scores(engine: Engine, scope: PlantScope) -> pd.DataFrame:
    """Candidates' backtest scores of every series' newest outcome, in scope.

    Columns: plant_id, metric, candidate, mase, wape, fit_seconds, error.
    """
    s, c = forecast_series.c, forecast_score.c
    newest = (
        select(s.plant_id, s.metric, func.max(s.fitted_utc).label("fitted_utc"))
        .where(scope.clause(s.plant_id))
        .group_by(s.plant_id, s.metric)
        .subquery()
    )
    runs = (
        select(s.run_id, s.plant_id, s.metric)
        .join_from(
            forecast_series,
            newest,
            and_(s.plant_id == newest.c.plant_id, s.metric == newest.c.metric, s.fitted_utc == newest.c.fitted_utc),
        )
        .subquery()
    )
    return _read(
        engine,
        select(c.plant_id, c.metric, c.candidate, c.mase, c.wape, c.fit_seconds, c.error)
        .join_from(
            forecast_score,
            runs,
            and_(c.run_id == runs.c.run_id, c.plant_id == runs.c.plant_id, c.metric == runs.c.metric),
        )
        .where(scope.clause(c.plant_id))
        .order_by(c.plant_id, c.metric, c.candidate),
    )


# --- outputs: risk scores ----------------------------------------------------------------------


def upsert_score_run(conn: Connection, run: dict) -> None:
    """Insert the scoring run, or reset it and delete its scores (a rerun at the same as_of)."""
    r = score_run.c
    if conn.execute(select(r.run_id).where(r.run_id == run["run_id"])).first():
        conn.execute(delete(risk_score).where(risk_score.c.run_id == run["run_id"]))
        conn.execute(update(score_run).where(r.run_id == run["run_id"]).values(**run))
    else:
        conn.execute(insert(score_run).values(**run))


def finish_score_run(conn: Connection, run_id: str, **values) -> None:
    conn.execute(update(score_run).where(score_run.c.run_id == run_id).values(**values))


def write_risk_scores(conn: Connection, run_id: str, kind: str, rows: list[dict]) -> int:
    """Replace the scores of one kind in a run; each row has the risk_score columns but run_id and kind."""
    if kind not in RISK_KINDS:
        raise ValueError(f"unknown risk kind {kind!r}; known: {', '.join(RISK_KINDS)}")
    conn.execute(delete(risk_score).where(risk_score.c.run_id == run_id, risk_score.c.kind == kind))
    if rows:
        conn.execute(insert(risk_score), [{"run_id": run_id, "kind": kind, **row} for row in rows])
    return len(rows)


def score_runs(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """The newest scoring runs.

    Columns: run_id, as_of_utc, actor, status, summary (dict), started_utc, finished_utc.
    """
    r = score_run.c
    frame = _read(
        engine,
        select(r.run_id, r.as_of_utc, r.actor, r.status, r.summary, r.started_utc, r.finished_utc)
        .order_by(r.started_utc.desc())
        .limit(limit),
    )
    return utc_columns(frame, "as_of_utc", "started_utc", "finished_utc")


def latest_score_run_id(
    engine: Engine, as_of: datetime | None = None, not_before: datetime | None = None
) -> str | None:
    """The newest finished scoring run (by its as_of, optionally within [not_before, as_of]), None if none."""
    r = score_run.c
    stmt = select(r.run_id).where(r.status == "done").order_by(r.as_of_utc.desc(), r.started_utc.desc()).limit(1)
    if as_of is not None:
        stmt = stmt.where(r.as_of_utc <= as_utc(as_of))
    if not_before is not None:
        stmt = stmt.where(r.as_of_utc >= as_utc(not_before))
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def risk_scores(engine: Engine, scope: PlantScope, run_id: str, kind: str) -> pd.DataFrame:
    """The scores of one kind in one run, for the plants in scope, riskiest first.

    Columns: plant_id, plant_name, subject_id, risk, source (model | fallback), reason,
    model_id, version, model_risk, fallback_risk, stale, detail (dict).
    """
    s = risk_score.c
    frame = _read(
        engine,
        select(
            s.plant_id,
            plant.c.name.label("plant_name"),
            s.subject_id,
            s.risk,
            s.source,
            s.reason,
            s.model_id,
            model_version.c.version,
            s.model_risk,
            s.fallback_risk,
            s.stale,
            s.detail,
        )
        .join_from(risk_score, plant, plant.c.plant_id == s.plant_id)
        .outerjoin(model_version, model_version.c.model_id == s.model_id)
        .where(scope.clause(s.plant_id), s.run_id == run_id, s.kind == kind)
        .order_by(s.risk.desc(), s.plant_id, s.subject_id),
    )
    frame["stale"] = frame["stale"].astype(bool)
    return frame


def risk_summary(engine: Engine, scope: PlantScope, run_id: str) -> pd.DataFrame:
    """Per plant and kind: how many subjects were scored, how many by the fallback, how many stale.

    Columns: plant_id, kind, subjects, fallback, stale, max_risk.
    """
    s = risk_score.c
    return _read(
        engine,
        select(
            s.plant_id,
            s.kind,
            func.count().label("subjects"),
            func.sum(case((s.source == "fallback", 1), else_=0)).label("fallback"),
            func.sum(case((s.stale.is_(True), 1), else_=0)).label("stale"),
            func.max(s.risk).label("max_risk"),
        )
        .where(scope.clause(s.plant_id), s.run_id == run_id)
        .group_by(s.plant_id, s.kind)
        .order_by(s.plant_id, s.kind),
    )
