"""Benchmark of the scenario engine: the recompute after a lever change, one plant and the network.

    python -m bench.scenario [--keep DIR] [--plants 12] [--days 400] [--horizon 90] [--paths 500]
                             [--repeats 7]

Builds (or reuses, with --keep) a generated network of 12 plants x 400 days on SQLite with
stored seasonal-naive demand forecasts, reads every plant's scenario inputs and computes the
baselines once (what the page keeps), then times what follows a lever change, i.e.
`scenario.run` with the precomputed baselines (median of --repeats after one warm-up):
1. one plant (the one with the most lines and materials), 90 days, 500 paths: the issue's own
   example, demand +15 %, its main supplier 5 days later and its busiest line down 4 days;
   target < 0.3 s;
2. all twelve plants, demand +15 % and the network's most used supplier 5 days later
   (a network scenario); target < 2 s;
3. the same one-plant engine as a plain per-path Python loop, `simulate` on one path at a time
   on the same draws, checked to give the same daily numbers as the vectorized run, and the
   ratio loop / vectorized.
The load average is printed beside every timing: this machine is shared, and ratios measured
in one run are the result, not the seconds.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from data_access import intelligence as q
from data_access import migrate
from data_access.engine import make_engine
from data_access.scope import PlantScope
from forecasting import scenario as sc
from forecasting import scenario_inputs
from forecasting.refresh import RefreshConfig
from governance import policies
from jobs import pipeline
from sample_data import generate

END = date(2026, 6, 30)
EVERY = PlantScope.everything()
TARGET_ONE, TARGET_NETWORK = 0.3, 2.0


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def build(directory: Path, plants: int, days: int) -> Path:
    """The generated warehouse with stored demand forecasts (seasonal naive only: fast)."""
    path = directory / f"scenario_bench_{plants}x{days}.db"
    engine = make_engine(f"sqlite:///{path}")
    if not path.exists() or migrate.is_empty(engine) or not q.plant_ids(engine, EVERY):
        started = time.perf_counter()
        generate(engine, plants=plants, days=days, seed=7, end_day=END)
        print(f"generated {plants} plants x {days} days in {time.perf_counter() - started:.0f} s")
    migrate.upgrade(engine)
    if q.latest_series(engine, EVERY).query("metric == 'demand'").empty:
        started = time.perf_counter()
        report = pipeline.refresh_forecasts(
            engine, RefreshConfig(candidates=("seasonal_naive",)), workers=1, actor="bench"
        )
        print(f"forecast refresh (seasonal naive): {report.series} series in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    return path


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of `repeats` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'met' if seconds < target else 'MISSED'}"


def plant_levers(basis: sc.PlantBasis) -> sc.Levers:
    """Demand +15 %, the plant's main supplier 5 days later, its busiest line down 4 days next month."""
    supplier = Counter(s for s in basis.suppliers if s).most_common(1)[0][0]
    busiest = basis.lines[int(np.argmax(basis.line_rate))]
    return sc.Levers(
        demand_change_pct=15.0,
        supplier_delay_days={supplier: 5.0},
        line_outages=(sc.LineOutage(busiest, basis.start + timedelta(days=30), 4),),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenario", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="directory to keep (and reuse) the generated warehouse in")
    parser.add_argument("--plants", type=int, default=12)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    directory = args.keep or Path(tempfile.mkdtemp(prefix="scenario_bench_"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        path = build(directory, args.plants, args.days)
        engine = make_engine(f"sqlite:///{path}")
        plants = q.plant_ids(engine, EVERY)
        started = time.perf_counter()
        bases, version = scenario_inputs.bases(
            engine, EVERY, plants, horizon=args.horizon, labour_rates=policies.labour_rates(engine)
        )
        read_s = time.perf_counter() - started
        engine.dispose()
        started = time.perf_counter()
        baseline = sc.baselines(bases, args.paths, sc.SEED)
        baseline_s = time.perf_counter() - started
        print(f"{len(bases)} plants, {args.horizon} days, {args.paths} paths; {version}")
        print(f"  inputs read in {read_s:.2f} s, baselines of all plants in {baseline_s:.2f} s ({load()})")

        # 1. one plant: the largest (most lines + materials)
        plant_id = max(bases, key=lambda p: (len(bases[p].lines) + len(bases[p].materials), p))
        basis = bases[plant_id]
        levers = plant_levers(basis)
        before = load()
        one_s, result = median_time(
            lambda: sc.run({plant_id: basis}, levers, args.paths, sc.SEED, baseline={plant_id: baseline[plant_id]}),
            args.repeats,
        )
        sim_s, _ = median_time(
            lambda: sc.simulate(basis, levers, draws=sc.Draws.for_basis(basis, args.paths, sc.SEED)), args.repeats
        )
        change = sc.comparison(result, plant_id).set_index("metric")
        print(
            f"one plant ({plant_id}: {len(basis.lines)} lines, {len(basis.materials)} materials), lever change "
            f"[{levers.describe()}]:"
        )
        print(
            f"  run with kept baseline   {one_s:7.3f} s  ({verdict(one_s, TARGET_ONE)}; simulate alone "
            f"{sim_s:.3f} s; {before} -> {load()})"
        )
        print(
            f"  fill rate {change.loc['fill_rate', 'baseline']:.1%} -> {change.loc['fill_rate', 'scenario']:.1%}, "
            f"stockout days {change.loc['stockout_days', 'baseline']:.1f} -> "
            f"{change.loc['stockout_days', 'scenario']:.1f}"
        )

        # 2. the network
        supplier = Counter(s for b in bases.values() for s in set(b.suppliers) if s).most_common(1)[0][0]
        network_levers = sc.Levers(demand_change_pct=15.0, supplier_delay_days={supplier: 5.0})
        before = load()
        net_s, net = median_time(
            lambda: sc.run(bases, network_levers, args.paths, sc.SEED, baseline=baseline), args.repeats
        )
        fill = net.network["summary"]["fill_rate"]
        print(f"all {len(bases)} plants, lever change [{network_levers.describe()}]:")
        print(f"  run with kept baselines  {net_s:7.3f} s  ({verdict(net_s, TARGET_NETWORK)}; {before} -> {load()})")
        print(
            f"  network fill rate {net.network['baseline']['fill_rate']['mean']:.1%} -> {fill['mean']:.1%} "
            f"(p10 {fill['p10']:.1%}, p90 {fill['p90']:.1%})"
        )

        # 3. the same engine one path at a time, on the same draws
        draws = sc.Draws.for_basis(basis, args.paths, sc.SEED)
        vectorized = sc.simulate(basis, levers, draws=draws)

        def loop():
            per_path = [sc.simulate(basis, levers, draws=draws.path(i)) for i in range(args.paths)]
            return {k: np.vstack([d[k] for d in per_path]) for k in sc.DAILY}

        before = load()
        loop_s, looped = median_time(loop, max(1, args.repeats // 3))
        for key in sc.DAILY:
            assert np.allclose(looped[key], vectorized[key], rtol=1e-9, atol=1e-6), key
        print(
            f"one plant, per-path Python loop ({args.paths} x simulate of 1 path): {loop_s:.2f} s "
            f"({before} -> {load()}); same daily numbers as the vectorized run"
        )
        print(
            f"  loop / vectorized simulate = {loop_s / sim_s:.0f}x; loop / whole lever change = {loop_s / one_s:.0f}x"
        )
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
