"""Simulator backtest: does the scenario baseline, started at a past day with that day's data,
reproduce what then happened?

    python -m forecasting.scenario_backtest --url URL [--plants A,B] [--origins N]
        [--horizon-days D] [--step-days S] [--paths P] [--no-store]

For each origin day (the newest possible one, `horizon` days before the data ends, and every
`step` days before it) and each plant, the baseline is simulated from the inputs that existed
before the origin (forecasting.scenario_inputs.bases_at: every read bounded by the day before
the origin) and compared with the days origin .. origin + horizon - 1 on the simulator's own
definitions (METRICS). Demand comes from the newest stored forecast made on data before the
origin; without one, from a stated stand-in built from the 8 weeks before the origin
(`standin_forecast`). Plants without enough history, without demand, or whose window is not all
in the data are skipped for that origin with a reason; the others go on. docs/scenarios.md has
the method, the measured coverage and the limits.
"""

import argparse
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access import intelligence as q
from data_access import kpis
from data_access import scenario_backtests as store
from data_access.engine import WarehouseError, first_line, open_warehouse
from data_access.scope import PlantScope
from forecasting import scenario as sc
from forecasting import scenario_inputs as si

ORIGINS = 8
STEP_DAYS = sc.HORIZON_DAYS  # windows that do not overlap: each origin is a separate test
MIN_HISTORY_DAYS = 84  # 12 weeks of line history before an origin (the capacity inputs read 13)
STANDIN_WEEKS = 8
STANDIN_DAYS = 28  # the stand-in covers what a stored forecast covers; the simulator extends both alike
MIN_FORECAST_DAYS = 7  # a stored forecast with fewer days from the origin on is not used

METRICS = {
    "fill_rate": ("Fill rate", "%"),
    "stockout_days": ("Stockout days", "days"),
    "schedule_adherence": ("Schedule adherence", "%"),
    "overtime_hours": ("Overtime", "line-h"),
    "inventory_value": ("Inventory value", sc.MONEY),
    "schedule_adherence_orders": ("Schedule adherence vs the overview's order KPI", "%"),
}
"""metric -> (label, unit) compared per origin. The first five are the simulator's metrics
(forecasting.scenario.METRICS), with the actual on the same definition; the last compares the
simulator's schedule adherence with the overview's order-based KPI of the same days."""


class BacktestError(ValueError):
    """The backtest cannot run as asked; the message is for the operator."""


@dataclass
class Backtest:
    """Outcomes (one row per plant, origin and metric: RESULT_COLUMNS of data_access.scenario_backtests
    plus bias), the origins tried and the (plant, origin, reason) skipped."""

    horizon: int
    paths: int
    seed: int
    origins: list[date]
    results: pd.DataFrame
    skipped: list[dict] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Per plant and metric over the origins: backtests, inside, coverage, mean actual, mean
        simulated, bias (mean of simulated mean - actual)."""
        return summarize(self.results)


def summarize(results: pd.DataFrame, by=("plant_id", "metric")) -> pd.DataFrame:
    """Coverage and bias of outcomes grouped `by`.

    Columns: *by, backtests, inside, coverage (share inside), actual, simulated, bias.
    """
    known = results[results["actual"].notna()]
    if known.empty:
        return pd.DataFrame(columns=[*by, "backtests", "inside", "coverage", "actual", "simulated", "bias"])
    out = (
        known.groupby(list(by), sort=True)
        .agg(
            backtests=("inside", "size"),
            inside=("inside", "sum"),
            actual=("actual", "mean"),
            simulated=("sim_mean", "mean"),
            bias=("bias", "mean"),
        )
        .reset_index()
    )
    out["inside"] = out["inside"].astype(int)
    out["coverage"] = out["inside"] / out["backtests"]
    return out[[*by, "backtests", "inside", "coverage", "actual", "simulated", "bias"]]


def origin_days(end: date, count: int, horizon: int, step: int) -> list[date]:
    """`count` origins, oldest first: the newest whose window ends on `end`, then every `step` days back."""
    newest = end - timedelta(days=horizon - 1)
    return sorted(newest - timedelta(days=k * step) for k in range(count))


def check(origins: int, horizon: int, step: int, paths: int) -> None:
    """BacktestError naming the first setting out of range."""
    for name, value, low, high in (
        ("origins", origins, 1, 52),
        ("horizon days", horizon, 7, sc.HORIZON_DAYS),
        ("step days", step, 1, 3650),
        ("paths", paths, 10, 20000),
    ):
        if not (isinstance(value, int) and low <= value <= high):
            raise BacktestError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def run(
    engine: Engine,
    scope: PlantScope,
    plant_ids=None,
    origins: int = ORIGINS,
    horizon: int = sc.HORIZON_DAYS,
    step: int = STEP_DAYS,
    paths: int = sc.PATHS,
    seed: int = sc.SEED,
    end: date | None = None,
    progress=None,
) -> Backtest:
    """Backtest the baseline of the plants (default: every plant in scope) at `origins` past days.

    `end`: the last day a window may reach (default: the newest data day in scope).
    """
    check(origins, horizon, step, paths)
    known = q.plant_ids(engine, scope)
    plant_ids = sorted(set(plant_ids)) if plant_ids else known
    unknown = [p for p in plant_ids if p not in known]
    if unknown:
        raise BacktestError(f"no plant {', '.join(unknown)} in the warehouse (or outside the scope)")
    if not plant_ids:
        raise BacktestError("no plant in the warehouse")
    chosen = scope.narrowed(plant_ids)
    end = end or q.data_end_day(engine, chosen)
    if end is None:
        raise BacktestError("the warehouse holds no data for these plants")
    days = origin_days(end, origins, horizon, step)
    tell = progress or (lambda done, total, label: None)
    frames, skipped = [], []
    for i, origin in enumerate(days):
        tell(i, len(days), f"origin {origin}")
        got, missed = _at_origin(engine, chosen, plant_ids, origin, horizon, paths, seed)
        frames.append(got)
        skipped += missed
    tell(len(days), len(days), "done")
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if results.empty:
        results = pd.DataFrame(columns=[*store.RESULT_COLUMNS, "bias"])
    return Backtest(horizon, paths, seed, days, results, skipped)


def _at_origin(engine, scope, plant_ids, origin, horizon, paths, seed) -> tuple[pd.DataFrame, list[dict]]:
    last = origin + timedelta(days=horizon - 1)
    history = q.line_days(engine, scope, origin - timedelta(days=MIN_HISTORY_DAYS), last)
    demand_before = q.series_history(
        engine, scope, "demand", origin - timedelta(days=7 * STANDIN_WEEKS), origin - timedelta(days=1)
    )
    stored = q.demand_forecasts_before(engine, scope, origin).set_index("plant_id")
    skipped, forecasts, sources = [], {}, {}
    for plant_id in plant_ids:
        lines = history[history["plant_id"] == plant_id]
        before = lines[lines["day"] < origin]
        reason = None
        if before.empty or before["day"].min() > origin - timedelta(days=MIN_HISTORY_DAYS - 7):
            reason = f"less than {MIN_HISTORY_DAYS // 7} weeks of line history before the origin"
        elif not (demand_before.loc[demand_before["plant_id"] == plant_id, "y"] > 0).any():
            reason = f"no demand in the {STANDIN_WEEKS} weeks before the origin"
        elif lines["day"].max() < last:
            reason = f"the {horizon} days from the origin are not all in the data yet (data to {lines['day'].max()})"
        if reason:
            skipped.append({"plant_id": plant_id, "origin": origin.isoformat(), "reason": reason})
            continue
        forecast, source = None, None
        if plant_id in stored.index:
            run_id = stored.loc[plant_id, "run_id"]
            points = q.forecast_points(engine, scope, run_id, plant_id, "demand")
            points = points[points["day"] >= origin]
            if len(points) >= MIN_FORECAST_DAYS and points["day"].iloc[0] == origin:
                forecast, source = points, f"forecast {run_id} (data to {stored.loc[plant_id, 'history_end']})"
        if forecast is None:
            forecast = standin_forecast(demand_before[demand_before["plant_id"] == plant_id], origin)
            source = f"stand-in: weekday mean and sd of the {STANDIN_WEEKS} weeks before"
        forecasts[plant_id], sources[plant_id] = forecast, source
    if not forecasts:
        return pd.DataFrame(), skipped
    bases = si.bases_at(engine, scope, forecasts, origin, horizon)
    window = _window(engine, scope.narrowed(list(forecasts)), origin, last)
    rows = []
    for plant_id, basis in bases.items():
        daily = sc.simulate(basis, sc.Levers(), draws=sc.Draws.for_basis(basis, paths, seed))
        summary = sc.summarize(sc.components(daily, sc.costs(daily, basis.labour_rate, basis.fg_unit_value)))
        truth = actuals(basis, {k: v[v["plant_id"] == plant_id] for k, v in window.items()})
        for metric in METRICS:
            stat = summary["schedule_adherence" if metric == "schedule_adherence_orders" else metric]
            rows.append(_outcome(plant_id, origin, metric, truth[metric], stat, sources[plant_id]))
    return pd.DataFrame(rows), skipped


def _outcome(plant_id, origin, metric, actual, stat, source) -> dict:
    mean, low, high = stat["mean"], stat["p10"], stat["p90"]
    known = actual is not None and np.isfinite(actual) and mean is not None
    slack = 1e-9 * max(1.0, abs(actual)) if known else 0.0  # a band of one value holds an equal actual
    return dict(
        plant_id=plant_id,
        origin=origin,
        metric=metric,
        actual=actual if known else None,
        sim_mean=mean,
        sim_p10=low,
        sim_p90=high,
        inside=bool(known and low - slack <= actual <= high + slack),
        bias=(mean - actual) if known else None,
        demand_source=source,
    )


def standin_forecast(history: pd.DataFrame, origin: date) -> pd.DataFrame:
    """A demand forecast from the STANDIN_WEEKS weeks before `origin` only (days without a row are
    days without demand): per weekday the mean, and an 80 % band of +-1.2816 of that weekday's
    standard deviation, for the STANDIN_DAYS days from the origin.

    Columns: day, model, yhat, yhat_lower, yhat_upper (as forecast_points).
    """
    first = origin - timedelta(days=7 * STANDIN_WEEKS)
    days = pd.date_range(first, origin - timedelta(days=1)).date
    y = pd.Series(0.0, index=days)
    y.update(pd.Series(history["y"].to_numpy(dtype=float), index=list(history["day"])))
    by_weekday = y.groupby([d.weekday() for d in y.index])
    mean, sd = by_weekday.mean(), by_weekday.std(ddof=1).fillna(0.0)
    ahead = [origin + timedelta(days=i) for i in range(STANDIN_DAYS)]
    yhat = np.array([mean[d.weekday()] for d in ahead])
    spread = np.array([sd[d.weekday()] for d in ahead]) * sc.DEMAND_Z
    return pd.DataFrame(
        {
            "day": ahead,
            "model": "standin_weekday_mean",
            "yhat": yhat,
            "yhat_lower": np.clip(yhat - spread, 0, None),
            "yhat_upper": yhat + spread,
        }
    )


def _window(engine, scope, origin: date, last: date) -> dict:
    """What happened on days origin..last (the backtest's truth), read for the plants at once."""
    return {
        "demand": q.series_history(engine, scope, "demand", origin, last),
        "output": q.series_history(engine, scope, "output", origin, last),
        "lines": q.line_days(engine, scope, origin, last),
        "finished": q.stock_counts(engine, scope, origin, last, finished=True),
        "stock": q.stock_counts(engine, scope, origin, last),
        "consumption": q.material_consumption(engine, scope, origin, last),
        "received": q.deliveries(engine, scope, origin, last),
    }


def actuals(basis: sc.PlantBasis, window: dict) -> dict[str, float]:
    """What happened over the basis' days, on the simulator's definitions (docs/scenarios.md):

    - fill rate and stockout days: demand is served from the plant's one pool of finished goods
      (as in the simulator) plus the day's good output in demand units; the pool starts at the
      basis' count, moves by output - served, and is set to the count on each day every finished
      good was counted (so transfers out of the plant and count corrections are taken in);
    - schedule adherence: scheduled line-days (planned busy time > 0) that ran their usual run
      hours (planned x the basis' availability) less at most the orders' tolerance / scheduled
      line-days; schedule_adherence_orders is the overview's KPI (orders done by due + tolerance
      / orders due) of the same days;
    - overtime: line-hours planned beyond the basis' scheduled hours of the weekday;
    - inventory value: the pool at the finished goods' mean unit cost + the basis' materials at
      their count, rebuilt between counts from receipts and consumption, averaged over the days.
    """
    days, h = basis.days, basis.horizon
    index = {d: i for i, d in enumerate(days)}
    demand = _daily(window["demand"], index, h)
    made = _daily(window["output"], index, h) * basis.demand_per_output
    counted = _pool_counts(window["finished"], index, h)
    pool, served, unmet, fg_value = basis.fg_on_hand, np.zeros(h), np.zeros(h), np.zeros(h)
    for t in range(h):
        available = pool + made[t]
        served[t] = min(demand[t], available)
        unmet[t] = demand[t] - served[t]
        pool = counted[t] if np.isfinite(counted[t]) else available - served[t]
        fg_value[t] = pool * basis.fg_unit_value
    lines = window["lines"]
    lines = lines[lines["line_id"].isin(basis.lines) & lines["day"].isin(index)]
    li = np.array([basis.lines.index(x) for x in lines["line_id"]], dtype=int)
    ti = np.array([index[d] for d in lines["day"]], dtype=int)
    planned_h = lines["planned_busy_s"].to_numpy(dtype=float) / 3600.0
    run_h = lines["run_s"].to_numpy(dtype=float) / 3600.0
    scheduled = planned_h > 0
    usual = planned_h * basis.line_availability[li] if len(li) else planned_h
    on_time = scheduled & (run_h >= usual - kpis.SCHEDULE_TOLERANCE_HOURS)
    overtime = np.clip(planned_h - basis.line_hours[li, ti], 0.0, None) if len(li) else planned_h
    return {
        "fill_rate": kpis.fill_rate(served.sum(), demand.sum()),
        "stockout_days": float((unmet > 1e-9).sum()),
        "schedule_adherence": kpis.schedule_adherence(on_time.sum(), scheduled.sum()),
        "overtime_hours": float(overtime.sum()),
        "inventory_value": float(np.mean(fg_value + _material_values(basis, window, index, h))),
        "schedule_adherence_orders": kpis.schedule_adherence(lines["orders_on_time"].sum(), lines["orders_due"].sum()),
    }


def _daily(frame: pd.DataFrame, index: dict, h: int) -> np.ndarray:
    out = np.zeros(h)
    for day, y in zip(frame["day"], frame["y"]):
        if day in index:
            out[index[day]] += float(y)
    return out


def _pool_counts(counts: pd.DataFrame, index: dict, h: int) -> np.ndarray:
    """The finished-goods pool by count on each day all the plant's counted finished goods were
    counted; NaN on other days."""
    out = np.full(h, np.nan)
    if counts.empty:
        return out
    wide = counts.pivot_table(index="day", columns="material_id", values="on_hand", aggfunc="sum")
    for day, row in wide.iterrows():
        if day in index and row.notna().all():
            out[index[day]] = float(row.sum())
    return out


def _material_values(basis: sc.PlantBasis, window: dict, index: dict, h: int) -> np.ndarray:
    """Per day the value of the basis' materials on hand: the count of the day, else the day before's
    plus the day's receipts less its consumption, at least 0 (from the basis' on hand), as the
    finished-goods pool is rebuilt between counts (a weekly count carried forward would read a
    week's low point, the day after the week's consumption, as the week's stock)."""
    if not len(basis.materials):
        return np.zeros(h)
    position = {m: i for i, m in enumerate(basis.materials)}
    flow, counted = np.zeros((h, len(position))), np.full((h, len(position)), np.nan)
    for frame, day, sign in ((window["received"], "received_day", 1.0), (window["consumption"], "day", -1.0)):
        mine = frame[frame["material_id"].isin(position) & frame[day].isin(index)]
        np.add.at(
            flow,
            ([index[d] for d in mine[day]], [position[m] for m in mine["material_id"]]),
            sign * mine["qty"].to_numpy(dtype=float),
        )
    counts = window["stock"]
    counts = counts[counts["material_id"].isin(position) & counts["day"].isin(index)]
    counted[[index[d] for d in counts["day"]], [position[m] for m in counts["material_id"]]] = counts["on_hand"]
    on_hand, stock = np.zeros((h, len(position))), basis.mat_on_hand.astype(float)
    for t in range(h):
        stock = np.where(np.isnan(counted[t]), np.clip(stock + flow[t], 0.0, None), counted[t])
        on_hand[t] = stock
    return on_hand @ basis.mat_unit_cost


def store_run(engine: Engine, backtest: Backtest, now: datetime | None = None) -> str:
    """Write the backtest to the warehouse in one transaction; its run id."""
    now = now or datetime.now(timezone.utc)
    run_id = f"bt-{now:%Y%m%dT%H%M%S%f}"
    with engine.begin() as conn:
        store.write_run(
            conn,
            run_id,
            now,
            backtest.horizon,
            backtest.paths,
            backtest.seed,
            backtest.origins,
            backtest.skipped,
            backtest.results,
        )
    return run_id


# --- command line --------------------------------------------------------------------------------


def shown(metric: str, value) -> str:
    """A value as the report prints it (percentages in %, money with the reference currency)."""
    if value is None or pd.isna(value):
        return "n/a"
    unit = METRICS[metric][1]
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == sc.MONEY:
        return f"{value:,.0f} {sc.MONEY}"
    return f"{value:,.1f} {unit}"


def report(backtest: Backtest) -> str:
    """The printed report: every outcome, the per plant and metric summary, the coverage per metric."""
    out = [
        f"Simulator backtest: {len(backtest.origins)} origins ({backtest.origins[0]} to {backtest.origins[-1]}), "
        f"{backtest.horizon} days each, {backtest.paths} paths, seed {backtest.seed}. "
        "Inside = actual within the simulated 10th-90th percentile; bias = simulated mean - actual."
    ]
    for s in backtest.skipped:
        out.append(f"skipped {s['plant_id']} at {s['origin']}: {s['reason']}")
    results = backtest.results
    if results.empty:
        out.append("No plant could be backtested at any origin.")
        return "\n".join(out)
    out.append("")
    out.append(
        f"{'plant':<8} {'origin':<10} {'metric':<26} {'actual':>16} {'sim mean':>16} "
        f"{'10th-90th band':>34} {'inside':>6} {'bias':>16}  demand"
    )
    for r in results.itertuples(index=False):
        band = f"{shown(r.metric, r.sim_p10)} to {shown(r.metric, r.sim_p90)}"
        out.append(
            f"{r.plant_id:<8} {r.origin!s:<10} {r.metric:<26} {shown(r.metric, r.actual):>16} "
            f"{shown(r.metric, r.sim_mean):>16} {band:>34} {'yes' if r.inside else 'no':>6} "
            f"{shown_bias(r.metric, r.bias):>16}  {r.demand_source}"
        )
    out.append("")
    out.append(f"{'plant':<8} {'metric':<26} {'inside':>9} {'actual (mean)':>16} {'sim (mean)':>16} {'bias':>16}")
    for r in backtest.summary().itertuples(index=False):
        out.append(
            f"{r.plant_id:<8} {r.metric:<26} {f'{r.inside} of {r.backtests}':>9} "
            f"{shown(r.metric, r.actual):>16} {shown(r.metric, r.simulated):>16} {shown_bias(r.metric, r.bias):>16}"
        )
    out.append("")
    out.append("Coverage per metric (goal: actual inside the band at 70 % of plant-origins or more):")
    for r in summarize(results, by=("metric",)).itertuples(index=False):
        out.append(
            f"  {r.metric:<26} {r.inside} of {r.backtests} ({r.coverage:.0%}), mean bias {shown_bias(r.metric, r.bias)}"
        )
    return "\n".join(out)


def shown_bias(metric: str, value) -> str:
    """A bias (simulated - actual) with its sign and unit (pp for percentages)."""
    if value is None or pd.isna(value):
        return "n/a"
    unit = METRICS[metric][1]
    if unit == "%":
        return f"{value * 100:+.1f} pp"
    if unit == sc.MONEY:
        return f"{value:+,.0f} {sc.MONEY}"
    return f"{value:+,.1f} {unit}"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def _names(text: str) -> tuple:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m forecasting.scenario_backtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, data/warehouse.db)")
    p.add_argument("--plants", type=_names, help="comma-separated plant ids (default: every plant)")
    p.add_argument("--origins", type=int, default=ORIGINS, help=f"origin days (default {ORIGINS})")
    p.add_argument(
        "--horizon-days",
        type=int,
        default=sc.HORIZON_DAYS,
        help=f"days simulated from each origin (default {sc.HORIZON_DAYS})",
    )
    p.add_argument(
        "--step-days",
        type=int,
        default=STEP_DAYS,
        help=f"days between origins (default {STEP_DAYS}: windows do not overlap)",
    )
    p.add_argument("--paths", type=int, default=sc.PATHS, help=f"Monte Carlo paths (default {sc.PATHS})")
    p.add_argument("--no-store", action="store_true", help="print only; do not store the run in the warehouse")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        check(args.origins, args.horizon_days, args.step_days, args.paths)
        engine = open_warehouse(args.url)
        backtest = run(
            engine,
            PlantScope.everything(),
            args.plants,
            args.origins,
            args.horizon_days,
            args.step_days,
            args.paths,
            progress=lambda done, total, label: print(f"[{done}/{total}] {label}", file=sys.stderr),
        )
        print(report(backtest))
        if not args.no_store and not backtest.results.empty:
            print(f"stored as backtest run {store_run(engine, backtest)}")
    except (BacktestError, WarehouseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return 2
    return 0 if not backtest.results.empty else 1


if __name__ == "__main__":
    sys.exit(main())
