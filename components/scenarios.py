"""The scenario planner's reads, frames and charts (pages/scenarios.py lays them out)."""

import pandas as pd

from components.cached import LIVE_TTL_S, RESULTS_TTL_S, cache_query, plants
from data_access import intelligence as q
from data_access import scenario_backtests as backtests
from data_access import scenarios as stored
from forecasting import scenario as engine_model
from forecasting import scenario_backtest as backtest
from forecasting import scenario_inputs
from governance import policies


@cache_query()
def plant_choices(engine, scope) -> pd.DataFrame:
    """Plants in scope with whether a demand forecast is stored (scenarios need one).

    Columns: plant_id, name, region_id, region_name, has_forecast.
    """
    frame = plants(engine, scope)[["plant_id", "name", "region_id", "region_name"]].copy()
    series = q.latest_series(engine, scope)
    frame["has_forecast"] = frame["plant_id"].isin(series.loc[series["metric"] == "demand", "plant_id"])
    return frame


def plant_groups(choices: pd.DataFrame) -> tuple[list, list, dict]:
    """(plants with a forecast, plants without one, region name -> its plants with a forecast)."""
    ready = choices[choices["has_forecast"]]
    waiting = choices.loc[~choices["has_forecast"], "plant_id"].tolist()
    return ready["plant_id"].tolist(), waiting, ready.groupby("region_name")["plant_id"].apply(list).to_dict()


@cache_query()
def bases(engine, scope, plant_ids: tuple):
    """(plant_id -> PlantBasis, data version); ScenarioError is not cached."""
    return scenario_inputs.bases(engine, scope, plant_ids, labour_rates=policies.labour_rates(engine))


@cache_query()
def baselines(engine, scope, plant_ids: tuple, paths: int, seed: int, data_version: str):
    """The baseline paths of the plants, kept so a lever change recomputes the scenario only;
    keyed on the data version, so a baseline never outlives the inputs it was simulated on."""
    plant_bases, _ = bases(engine, scope, plant_ids)
    return engine_model.baselines(plant_bases, paths, seed)


@cache_query(ttl=LIVE_TTL_S)
def saved(engine, scope) -> pd.DataFrame:
    return stored.scenarios(engine, scope)


def run(engine, scope, plant_ids: tuple, levers, paths: int, seed: int, progress=None):
    """The scenario against its (cached) baseline, and the data version it used."""
    plant_bases, version = bases(engine, scope, plant_ids)
    result = engine_model.run(
        plant_bases,
        levers,
        paths,
        seed,
        progress=progress,
        baseline=baselines(engine, scope, plant_ids, paths, seed, version),
    )
    return result, version


def lines_and_suppliers(engine, scope, plant_ids: tuple) -> tuple[dict, dict, tuple]:
    """({line_id: label}, {supplier_id: label}, (first day, last day)) of the chosen plants."""
    plant_bases, _ = bases(engine, scope, plant_ids)
    lines = {line: f"{line} ({p})" for p, b in plant_bases.items() for line in b.lines}
    suppliers = {}
    for p, b in plant_bases.items():
        for supplier, material in zip(b.suppliers, b.materials):
            if supplier:
                suppliers.setdefault(supplier, set()).add(f"{material}@{p}")
    supplier_labels = {s: f"{s} (supplies {len(m)} material{'s' if len(m) > 1 else ''})" for s, m in suppliers.items()}
    first = min(b.start for b in plant_bases.values())
    last = max(b.days[-1] for b in plant_bases.values())
    return lines, dict(sorted(supplier_labels.items())), (first, last)


# --- frames ---------------------------------------------------------------------------------------


def shown(metric: str, value) -> str:
    if value is None or pd.isna(value):
        return "no data"
    if metric in engine_model.PERCENT_METRICS:
        return f"{value:.1%}"
    if metric in ("stockout_days", "overtime_hours"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def shown_change(metric: str, value) -> str:
    if value is None or pd.isna(value):
        return ""
    if metric in engine_model.PERCENT_METRICS:
        return f"{value * 100:+.1f} pp"
    return f"{value:+,.1f}" if metric in ("stockout_days", "overtime_hours") else f"{value:+,.0f}"


def comparison_table(result, plant_id: str | None) -> pd.DataFrame:
    """Scenario against baseline as text, one row per metric, for the page (the export keeps numbers).

    Columns: label, unit, baseline, scenario, change, band (p10 to p90), definition.
    """
    frame = engine_model.comparison(result, plant_id)
    return pd.DataFrame(
        {
            "label": frame["label"],
            "unit": frame["unit"],
            "baseline": [shown(m, v) for m, v in zip(frame["metric"], frame["baseline"])],
            "scenario": [shown(m, v) for m, v in zip(frame["metric"], frame["scenario"])],
            "change": [shown_change(m, v) for m, v in zip(frame["metric"], frame["change"])],
            "band": [
                f"{shown(m, lo)} to {shown(m, hi)}"
                for m, lo, hi in zip(frame["metric"], frame["scenario_p10"], frame["scenario_p90"])
            ],
            "definition": frame["definition"],
        }
    )


def plant_table(result) -> pd.DataFrame:
    """Per plant of a network scenario: each metric's mean, scenario and change.

    Columns: plant_id, then <metric>, <metric>_change for every metric.
    """
    rows = []
    for plant_id in result.plants:
        frame = engine_model.comparison(result, plant_id).set_index("metric")
        row = {"plant_id": plant_id}
        for metric in engine_model.METRICS:
            row[metric] = frame.loc[metric, "scenario"]
            row[f"{metric}_change"] = frame.loc[metric, "change"]
        rows.append(row)
    return pd.DataFrame(rows)


def inputs_and_results(result, data_version: str, plant_ids) -> pd.DataFrame:
    """One CSV of a run: the levers, then every metric of the network and each plant against the baseline.

    Columns: section, scope, item, baseline, scenario, change, scenario_p10, scenario_p90, unit.
    """
    levers = result.levers.to_dict()
    rows = [dict(section="input", scope="scenario", item=k, scenario=str(v)) for k, v in levers.items()]
    rows += [
        dict(section="input", scope="scenario", item=k, scenario=str(v))
        for k, v in (
            ("plants", ", ".join(plant_ids)),
            ("paths", result.paths),
            ("seed", result.seed),
            ("data_version", data_version),
        )
    ]
    for scope_id in (None, *result.plants):
        frame = engine_model.comparison(result, scope_id)
        for r in frame.itertuples(index=False):
            rows.append(
                dict(
                    section="result",
                    scope=scope_id or "network",
                    item=r.metric,
                    baseline=r.baseline,
                    scenario=r.scenario,
                    change=r.change,
                    scenario_p10=r.scenario_p10,
                    scenario_p90=r.scenario_p90,
                    unit=r.unit,
                )
            )
    return pd.DataFrame(
        rows,
        columns=["section", "scope", "item", "baseline", "scenario", "change", "scenario_p10", "scenario_p90", "unit"],
    )


def saved_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Saved scenarios with their network means, for the list and the side-by-side comparison.

    Columns: scenario_id, name, owner, plants, levers, state, decision_state, created_utc,
    data_version, then each metric (network mean) and <metric>_change against its baseline.
    """
    rows = []
    for r in frame.itertuples(index=False):
        network = engine_model.compare((r.results or {}).get("network") or {}).set_index("metric")
        row = dict(
            scenario_id=int(r.scenario_id),
            name=r.name,
            owner=r.owner,
            plants=", ".join(r.plant_ids),
            levers=engine_model.Levers.from_dict(r.levers or {}).describe(),
            state=r.state,
            decision_state=r.decision_state or "",
            created_utc=r.created_utc,
            data_version=r.data_version,
        )
        for metric in engine_model.METRICS:
            row[metric], row[f"{metric}_change"] = network.loc[metric, "scenario"], network.loc[metric, "change"]
        rows.append(row)
    columns = [
        "scenario_id",
        "name",
        "owner",
        "plants",
        "levers",
        "state",
        "decision_state",
        "created_utc",
        "data_version",
        *[c for m in engine_model.METRICS for c in (m, f"{m}_change")],
    ]
    return pd.DataFrame(rows, columns=columns)


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Saved scenarios as columns, metrics as rows: each network mean with its change against
    the baseline it was run on (text).

    Columns: metric, then one per scenario name.
    """
    out = {"metric": [f"{label} ({unit})" for label, unit, _, _ in engine_model.METRICS.values()]}
    for r in table.itertuples(index=False):
        out[f"#{r.scenario_id} {r.name}"] = [
            f"{shown(m, getattr(r, m))} ({shown_change(m, getattr(r, f'{m}_change'))})" for m in engine_model.METRICS
        ]
    return pd.DataFrame(out)


# --- calibration: how well the simulator tracked each plant's history ---------------------------


@cache_query(ttl=RESULTS_TTL_S)
def calibration(engine, scope) -> pd.DataFrame:
    """Each plant's newest stored simulator backtest (data_access.scenario_backtests.calibration)."""
    return backtests.calibration(engine, scope)


def calibration_text(frame: pd.DataFrame, plant_id: str, metric: str) -> str:
    """One line for a baseline metric, e.g. "actual inside the band in 7 of 8 back-tests, bias +1.2 days"."""
    row = frame[(frame["plant_id"] == plant_id) & (frame["metric"] == metric)]
    if metric not in backtest.METRICS:
        return "not back-tested (no recorded actual to compare with)"
    if row.empty or not row["backtests"].iloc[0]:
        return "no back-test of this plant yet"
    r = row.iloc[0]
    return (
        f"actual inside the band in {r.inside} of {r.backtests} back-tests, bias {backtest.shown_bias(metric, r.bias)}"
    )


def calibration_table(frame: pd.DataFrame, plant_ids) -> pd.DataFrame:
    """The chosen plants' calibration as text, one row per plant and back-tested metric.

    Columns: plant_id, metric (label), inside ("k of n"), coverage (share), actual, simulated,
    bias (means over the origins, with units), run (run id and when it ran, UTC).
    """
    rows = frame[frame["plant_id"].isin(plant_ids) & frame["metric"].isin(list(backtest.METRICS))]
    return pd.DataFrame(
        {
            "plant_id": rows["plant_id"],
            "metric": [backtest.METRICS[m][0] for m in rows["metric"]],
            "inside": [f"{i} of {n}" for i, n in zip(rows["inside"], rows["backtests"])],
            "coverage": [i / n if n else None for i, n in zip(rows["inside"], rows["backtests"])],
            "actual": [backtest.shown(m, v) for m, v in zip(rows["metric"], rows["actual"])],
            "simulated": [backtest.shown(m, v) for m, v in zip(rows["metric"], rows["simulated"])],
            "bias": [backtest.shown_bias(m, v) for m, v in zip(rows["metric"], rows["bias"])],
            "run": [f"{r} ({t:%Y-%m-%d %H:%M})" for r, t in zip(rows["run_id"], rows["created_utc"])],
        },
        columns=["plant_id", "metric", "inside", "coverage", "actual", "simulated", "bias", "run"],
    )
