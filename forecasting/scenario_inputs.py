"""The scenario engine's inputs (forecasting.scenario.PlantBasis), read from the warehouse.

Per plant, as of its newest data day (docs/scenarios.md explains each choice):
- demand: the newest stored demand forecast (forecasting.refresh) and its 80 % band; days past
  its horizon repeat its last four weeks by weekday, band and all (the band is drawn as day-to-day
  noise, which does not grow with the distance);
- lines (mart_line_daily over the last CAPACITY_DAYS): scheduled hours by weekday, availability
  on days without failures (the median, and every day's ratio: the simulator resamples them for
  the day-to-day variation of minor stops), and the demonstrated rate (90th percentile of good output per run
  hour) converted to demand units by the plant's demand / output ratio; failures per line-day
  and mean repair hours over the last FAILURE_DAYS; the current daily hazard of the line from
  the newest failure-risk scores (a line fails when any of its assets does);
- finished goods: on hand, safety stock and the mean unit cost of the plant's finished goods;
- raw and packaging materials: use per unit made (consumption / output), on hand, whether one at
  zero stops production (not when the plant's record over RECORD_DAYS shows it consumed more
  than its counts and receipts held), reorder
  point, a reorder quantity of two lead times of use, lead time, unit cost, open purchase
  orders by promised day, and this plant's record of the supplier's lateness (of all its suppliers when
  it has none): a plant's inputs do not depend on which other plants are chosen with it.
`bases` raises ScenarioError for a plant out of scope or without a demand forecast.
"""

from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from data_access import intelligence as q
from data_access.scope import PlantScope
from forecasting.scenario import DEMAND_Z, HORIZON_DAYS, PlantBasis, ScenarioError

CAPACITY_DAYS = 91
FAILURE_DAYS = 365
USAGE_DAYS = 56
RECORD_DAYS = 365
DEFAULT_LEAD_DAYS = 14.0
DEFAULT_REPAIR_HOURS = 4.0
RATE_PERCENTILE = 90
DEFAULT_LABOUR_RATE = 85.0  # per hour, where no plant policy names one
SCORE_MAX_AGE_DAYS = 7  # older failure-risk scores say nothing about the coming days
USED_TYPES = ("raw", "packaging")


def bases(
    engine: Engine, scope: PlantScope, plant_ids, horizon: int = HORIZON_DAYS, *, labour_rates: Mapping[str, float]
) -> tuple[dict, str]:
    """(plant_id -> PlantBasis, data version) for the chosen plants, all within `scope`.

    `labour_rates`: plant_id -> the plant policy's labour rate per hour (governance.policies
    .labour_rates, passed in: forecasting does not read policies itself).
    """
    plant_ids = sorted(set(plant_ids))
    if not plant_ids:
        raise ScenarioError("Choose at least one plant.")
    outside = [p for p in plant_ids if not scope.allows(p)]
    if outside:
        raise ScenarioError(f"Plant {outside[0]} is outside your plant scope.")
    chosen = scope.narrowed(plant_ids)
    series = q.latest_series(engine, chosen)
    demand_series = series[series["metric"] == "demand"].set_index("plant_id")
    missing = [p for p in plant_ids if p not in demand_series.index]
    if missing:
        raise ScenarioError(
            f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no demand forecast yet: "
            "a forecast refresh (python -m forecasting.refresh) must run first."
        )
    end = q.data_end_day(engine, chosen)
    forecasts = {p: q.forecast_points(engine, chosen, demand_series.loc[p, "run_id"], p, "demand") for p in plant_ids}
    empty = [p for p, f in forecasts.items() if f.empty]
    if empty:
        raise ScenarioError(f"The demand forecast of {', '.join(empty)} has no days: refresh its forecasts.")
    start = min(f["day"].iloc[0] for f in forecasts.values())

    frames = _read(engine, chosen, start)
    out = {p: _basis(p, start, horizon, forecasts[p], frames, labour_rates[p]) for p in plant_ids}
    runs = sorted(set(demand_series.loc[plant_ids, "run_id"]))
    older = f" +{len(runs) - 1} older" if len(runs) > 1 else ""
    return out, f"data to {end}; forecast {runs[-1]}{older}"  # fits scenario.data_version (64 characters)


def bases_at(
    engine: Engine,
    scope: PlantScope,
    forecasts: dict,
    start: date,
    horizon: int = HORIZON_DAYS,
    labour_rates: dict | None = None,
) -> dict:
    """plant_id -> PlantBasis from `start` on, from the given demand forecasts (plant_id -> frame
    of day, yhat, yhat_lower, yhat_upper) and only the data of the days before `start`: what the
    simulator knew that day (forecasting.scenario_backtest starts it at past days)."""
    frames = _read(engine, scope.narrowed(list(forecasts)), start)
    rates = labour_rates or {}
    return {p: _basis(p, start, horizon, f, frames, rates.get(p, DEFAULT_LABOUR_RATE)) for p, f in forecasts.items()}


def _read(engine, scope, start: date) -> dict:
    last = start - timedelta(days=1)
    # a scoring run of the first forecast day counts (the job runs the morning after the data ends)
    score_run = q.latest_score_run_id(
        engine,
        pd.Timestamp(start + timedelta(days=1), tz="UTC").to_pydatetime(),
        not_before=pd.Timestamp(start - timedelta(days=SCORE_MAX_AGE_DAYS), tz="UTC").to_pydatetime(),
    )
    return {
        "lines": q.line_days(engine, scope, start - timedelta(days=FAILURE_DAYS), last),
        "assets": q.asset_register(engine, scope),
        "risk": q.risk_scores(engine, scope, score_run, "failure")
        if score_run
        else pd.DataFrame(columns=["plant_id", "subject_id", "risk"]),
        "demand": q.series_history(engine, scope, "demand", start - timedelta(days=USAGE_DAYS), last),
        "output": q.series_history(engine, scope, "output", start - timedelta(days=USAGE_DAYS), last),
        "finished": q.material_stock(engine, scope, last, finished=True),
        "stock": q.material_stock(engine, scope, last),
        "finished_counts": q.stock_counts(engine, scope, start - timedelta(days=RECORD_DAYS), last, finished=True),
        "consumption": q.material_consumption(engine, scope, start - timedelta(days=USAGE_DAYS), last),
        "counts": q.stock_counts(engine, scope, start - timedelta(days=RECORD_DAYS), last),
        "consumption_record": q.material_consumption(engine, scope, start - timedelta(days=RECORD_DAYS), last),
        "open_pos": q.open_purchase_orders(engine, scope, last),
        "record": q.deliveries(engine, scope, start - timedelta(days=RECORD_DAYS), last),
    }


def _of(frame: pd.DataFrame, plant_id: str) -> pd.DataFrame:
    return frame[frame["plant_id"] == plant_id]


def _basis(plant_id, start, horizon, forecast, frames, labour_rate) -> PlantBasis:
    days = [start + timedelta(days=i) for i in range(horizon)]
    demand, sd = _demand(forecast, days)
    made = _of(frames["output"], plant_id)["y"].sum()
    wanted = _of(frames["demand"], plant_id)["y"].sum()
    to_demand_units = wanted / made if made > 0 and wanted > 0 else 1.0
    line_inputs = _lines(
        _of(frames["lines"], plant_id),
        _of(frames["assets"], plant_id),
        _of(frames["risk"], plant_id),
        start,
        days,
        to_demand_units,
    )
    finished = _of(frames["finished"], plant_id)
    kept_year = _kept_stock(_of(frames["finished_counts"], plant_id))  # the record's spread, the recent level
    kept = kept_year[kept_year.index >= start - timedelta(days=USAGE_DAYS)].to_numpy()
    kept_year = kept_year.to_numpy()
    mats = _materials(plant_id, frames, days, made * to_demand_units)
    return PlantBasis(
        plant_id=plant_id,
        start=start,
        demand=demand,
        demand_sd=sd,
        **line_inputs,
        fg_on_hand=_finished_since_count(
            finished, _of(frames["output"], plant_id), _of(frames["demand"], plant_id), to_demand_units
        ),
        fg_safety_stock=max(
            float(finished["safety_stock"].fillna(0).sum()), float(np.median(kept)) if len(kept) else 0.0
        ),
        fg_kept=kept_year / np.median(kept_year) if len(kept) and np.median(kept_year) > 0 else np.ones(1),
        fg_unit_value=float(finished["unit_cost"].mean()) if len(finished) else 0.0,
        labour_rate=labour_rate,
        demand_per_output=to_demand_units,
        **mats,
    )


def _demand(forecast: pd.DataFrame, days: list[date]) -> tuple[np.ndarray, np.ndarray]:
    f = forecast.set_index("day")
    yhat = f["yhat"].astype(float).clip(lower=0)
    spread = (f["yhat_upper"].astype(float) - f["yhat_lower"].astype(float)) / (2 * DEMAND_Z)
    spread = spread.where(spread.notna(), yhat * 0.1).clip(lower=0)  # no band: 10 %; a zero band is certain
    stored = len(f)
    tail = f.index[-min(28, stored) :]
    by_weekday = {d.weekday(): (yhat[d], spread[d]) for d in tail}
    demand, sd = np.zeros(len(days)), np.zeros(len(days))
    for i, day in enumerate(days):
        if day in f.index:
            demand[i], sd[i] = yhat[day], spread[day]
        else:
            base, base_sd = by_weekday.get(day.weekday(), (float(yhat.iloc[-1]), float(spread.iloc[-1])))
            demand[i], sd[i] = base, base_sd
    return demand, sd


def _lines(history, assets, risk, start, days, to_demand_units) -> dict:
    lines = tuple(sorted(history["line_id"].unique()))
    recent = history[history["day"] >= start - timedelta(days=CAPACITY_DAYS)]
    weekday_of = np.array([d.weekday() for d in days])
    hours, availability, ratios, rate, failure_rate, repair = [], [], [], [], [], []
    for line_id in lines:
        mine = history[history["line_id"] == line_id]
        now = recent[recent["line_id"] == line_id]
        scheduled = now.assign(wd=[d.weekday() for d in now["day"]]).groupby("wd")["planned_busy_s"].median() / 3600
        hours.append([float(scheduled.get(wd, 0.0)) for wd in weekday_of])
        clean = now[(now["failures"] == 0) & (now["planned_busy_s"] > 0)]
        ratio = (clean["run_s"] / clean["planned_busy_s"]).to_numpy(dtype=float)
        availability.append(float(np.median(ratio)) if len(ratio) else 1.0)
        ratios.append(ratio if len(ratio) else np.ones(1))
        running = now[now["run_s"] > 0]
        per_hour = running["good_qty"] / (running["run_s"] / 3600)
        rate.append(float(np.percentile(per_hour, RATE_PERCENTILE)) * to_demand_units if len(running) else 0.0)
        failures = mine["failures"].sum()
        failure_rate.append(failures / len(mine) if len(mine) else 0.0)
        repair.append(mine["restoration_s"].sum() / failures / 3600 if failures else DEFAULT_REPAIR_HOURS)
    elevated = np.zeros(len(lines))
    if len(risk) and len(assets):
        line_of = dict(zip(assets["asset_id"], assets["line_id"]))
        by_line = risk.assign(line_id=risk["subject_id"].map(line_of)).dropna(subset=["line_id"])
        for i, line_id in enumerate(lines):
            p7 = by_line.loc[by_line["line_id"] == line_id, "risk"].astype(float).clip(0, 0.999)
            elevated[i] = float(-np.log1p(-p7).sum() / 7.0)  # daily hazard of any asset failing
    return dict(
        lines=lines,
        line_hours=np.array(hours, dtype=float).reshape(len(lines), len(days)),
        line_availability=np.array(availability),
        run_ratios=tuple(ratios),
        line_rate=np.array(rate),
        failure_rate=np.array(failure_rate, dtype=float),
        elevated_rate=elevated,
        repair_hours=np.array(repair, dtype=float),
    )


def _materials(plant_id, frames, days, made_in_demand_units) -> dict:
    stock = _of(frames["stock"], plant_id)
    stock = stock[stock["material_type"].isin(USED_TYPES) & stock["on_hand"].notna()]
    use = _of(frames["consumption"], plant_id).groupby("material_id")["qty"].sum()
    stock = stock[stock["material_id"].isin(use.index[use > 0])]  # a material not used limits nothing
    record = _of(frames["record"], plant_id)  # this plant's deliveries: not those of the other plants chosen
    pooled = record["delay_days"].to_numpy(dtype=float)
    open_pos = _of(frames["open_pos"], plant_id)
    materials = tuple(stock["material_id"])
    arrivals = np.zeros((len(materials), len(days)))
    index = {m: i for i, m in enumerate(materials)}
    for po in open_pos[open_pos["material_id"].isin(index)].itertuples(index=False):
        t = max((po.promised_day - days[0]).days, 0)
        if t < len(days):
            arrivals[index[po.material_id], t] += float(po.qty)
    lead = stock["lead_time_days"].fillna(DEFAULT_LEAD_DAYS).to_numpy(dtype=float)
    daily_use = np.array([use[m] / USAGE_DAYS for m in materials])
    lateness = tuple(
        (lambda own: own if len(own) else pooled)(
            record.loc[record["supplier_id"] == s, "delay_days"].to_numpy(dtype=float)
        )
        for s in stock["supplier_id"]
    )
    return dict(
        materials=materials,
        suppliers=tuple(None if pd.isna(s) else s for s in stock["supplier_id"]),
        usage_per_unit=np.array(
            [use[m] / made_in_demand_units if made_in_demand_units > 0 else 0.0 for m in materials]
        ),
        mat_on_hand=_since_count(stock, record, _of(frames["consumption"], plant_id)),
        mat_reorder_point=stock["reorder_point"].to_numpy(dtype=float),
        mat_order_qty=_order_qty(record, materials, np.maximum(2 * lead * daily_use, 1.0)),
        mat_lead_days=lead,
        mat_binding=_binding(
            _of(frames["counts"], plant_id), _of(frames["consumption_record"], plant_id), record, materials
        ),
        mat_unit_cost=stock["unit_cost"].to_numpy(dtype=float),
        lateness=lateness,
        arrivals=arrivals,
    )


def _order_qty(record: pd.DataFrame, materials: tuple, fallback: np.ndarray) -> np.ndarray:
    """Each material's reorder quantity as the plant orders it: the median quantity of its
    purchase orders received in the record; two lead times of use where it has none."""
    median = record.groupby("material_id")["qty"].median() if len(record) else pd.Series(dtype=float)
    return np.array(
        [float(median[m]) if m in median.index and median[m] > 0 else float(f) for m, f in zip(materials, fallback)]
    )


def _binding(counts: pd.DataFrame, consumption: pd.DataFrame, record: pd.DataFrame, materials: tuple) -> np.ndarray:
    """Whether a material at zero stops production: not when the plant went on consuming it on
    days it was counted at zero, or consumed more (by over 1 %, rounding) than a count and the
    receipts after it held before the next count or the start (its count lags the floor:
    consignment, substitutes, late bookings; a weekly count rarely falls on a day at zero)."""
    empty = counts.loc[counts["on_hand"] <= 0, ["material_id", "day"]]
    used = consumption.loc[consumption["qty"] > 0, ["material_id", "day"]]
    lagging = set(empty.merge(used, on=["material_id", "day"])["material_id"])
    for material_id, mine in counts.sort_values("day").groupby("material_id"):
        if material_id in lagging or material_id not in materials:
            continue
        days = mine["day"].to_numpy()
        consumed = _qty_between(consumption[consumption["material_id"] == material_id], "day", days)
        received = _qty_between(record[record["material_id"] == material_id], "received_day", days)
        if np.any(consumed - mine["on_hand"].to_numpy(dtype=float) - received > 0.01 * consumed):
            lagging.add(material_id)
    return np.array([m not in lagging for m in materials], dtype=bool)


def _qty_between(frame: pd.DataFrame, column: str, days: np.ndarray) -> np.ndarray:
    """The quantity of `frame` dated after each of the sorted `days` up to the next one (the last: to the end)."""
    frame = frame.sort_values(column)
    total = np.concatenate([[0.0], np.cumsum(frame["qty"].to_numpy(dtype=float))])
    upto = total[np.searchsorted(frame[column].to_numpy(), days, side="right")]
    return np.append(upto[1:], total[-1]) - upto


def _kept_stock(counts: pd.DataFrame) -> pd.Series:
    """The finished stock the plant actually kept: its pooled counts by day (days every counted
    finished good was counted); empty without counts."""
    if counts.empty:
        return pd.Series(dtype=float)
    wide = counts.pivot_table(index="day", columns="material_id", values="on_hand", aggfunc="sum")
    return wide.dropna().sum(axis=1).astype(float)


def _since_count(stock: pd.DataFrame, record: pd.DataFrame, consumption: pd.DataFrame) -> np.ndarray:
    """Each material's on hand the day before the start: its newest count plus what was received
    and less what was consumed after it (a weekly count is days old by then), at least 0."""
    out = []
    for material_id, day, value in zip(stock["material_id"], stock["snapshot_day"], stock["on_hand"]):
        received = record.loc[(record["material_id"] == material_id) & (record["received_day"] > day), "qty"].sum()
        used = consumption.loc[(consumption["material_id"] == material_id) & (consumption["day"] > day), "qty"].sum()
        out.append(max(0.0, float(value) + float(received) - float(used)))
    return np.array(out, dtype=float)


def _finished_since_count(
    finished: pd.DataFrame, output: pd.DataFrame, demand: pd.DataFrame, to_demand_units: float
) -> float:
    """The finished-goods pool the day before the start: the newest counts plus good output (in
    demand units) and less demand after them, when all were counted the same day; at least 0."""
    counted = finished[finished["on_hand"].notna()]
    pool = float(counted["on_hand"].sum())
    days = set(counted["snapshot_day"])
    if len(days) != 1:
        return pool
    day = days.pop()
    made = output.loc[output["day"] > day, "y"].sum() * to_demand_units
    return max(0.0, pool + float(made) - float(demand.loc[demand["day"] > day, "y"].sum()))
