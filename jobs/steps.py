"""The worker's jobs, one function each, in pipeline order (jobs.schedule.JOB_NAMES).

Each takes a `Step` (engine, settings, the plant a load's pipeline is for, a progress callback)
and returns (counts, message) for its `job_run` row; it raises when the job failed as a whole.
One plant's bad data fails that plant's part only: the forecast refresh stores a failed series
and goes on, the marts are rebuilt plant by plant when the network-wide rebuild fails.

Every write below is transactional already: the marts of a batch of plants are one
transaction, each forecast series is one, a scoring run is one, each recommendation with its
audit rows is one, each escalation or expiry is one. A worker killed mid-job leaves whole
units behind, and the rerun (same run ids, idempotent upserts) completes the rest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from data_access import marts, queries
from data_access import model_registry as registry
from data_access.scope import PlantScope
from forecasting import refresh as forecast_refresh
from forecasting import score as risk_score
from governance import model_serving, workflow
from governance.users import User
from jobs import pipeline

SAMPLE_SETUP = User(username="sample-data setup", name="Sample-data setup", email="", roles=("admin",), plants=None)
"""The named system actor that approves the first model versions, on the sample network only."""
SAMPLE_REASON = (
    "First versions approved automatically for the generated sample network, so a newcomer "
    "sees the models working. Real data is never approved automatically."
)


@dataclass
class Step:
    engine: Engine
    settings: dict  # jobs.schedule.Schedules.worker, plus "candidates"
    plant_id: str | None = None  # a load's pipeline: this plant only
    progress: Callable[[float, str], None] = lambda fraction, message: None
    sample_setup: bool = False  # the sample network's first start: approve the first versions

    @property
    def scope(self) -> PlantScope:
        everything = PlantScope.everything()
        return everything.narrowed([self.plant_id]) if self.plant_id else everything


def feeds(step: Step) -> tuple[dict, str]:
    """Check every feed against its cadence plus the plant policy's grace (what the models read)."""
    frame = model_serving.feed_limits(step.engine, queries.feed_freshness(step.engine, step.scope))
    late = frame[frame["beyond_limit"]]
    counts = {"feeds": len(frame), "stale": len(late), "plants_stale": int(late["plant_id"].nunique())}
    names = ", ".join(f"{p}/{s}" for p, s in late[["plant_id", "source"]].head(6).itertuples(index=False))
    return counts, (f"{len(late)} of {len(frame)} feeds beyond their limit" + (f": {names}" if names else ""))


def marts_refresh(step: Step) -> tuple[dict, str]:
    """Rebuild the daily marts; when the network-wide rebuild fails, plant by plant, so one
    plant's bad rows leave the others' marts current."""
    if step.plant_id:
        rows = marts.refresh(step.engine, plant_ids=[step.plant_id], progress=step.progress)
        return {"rows": rows, "plants": 1}, f"{rows:,} mart rows for {step.plant_id}"
    try:
        rows = marts.refresh(step.engine, progress=step.progress)
        return {"rows": rows}, f"{rows:,} mart rows"
    except Exception:  # noqa: BLE001 - isolate the plant(s) whose rows break the rebuild
        plants = sorted(queries.plants(step.engine, PlantScope.everything())["plant_id"])
    rows, failed = 0, {}
    for i, plant_id in enumerate(plants):
        try:
            rows += marts.refresh(step.engine, plant_ids=[plant_id])
        except Exception as exc:  # noqa: BLE001 - recorded per plant, the others go on
            failed[plant_id] = f"{type(exc).__name__}: {exc}"[:300]
        step.progress((i + 1) / len(plants), f"Refreshing daily marts: {plant_id}")
    if len(failed) == len(plants):
        raise RuntimeError(f"marts of every plant failed, e.g. {next(iter(failed.values()))}")
    return (
        {"rows": rows, "failed_plants": failed},
        f"{rows:,} mart rows; failed for {', '.join(failed)} (their marts lag behind)",
    )


def forecast_config(engine: Engine, candidates: tuple) -> forecast_refresh.RefreshConfig:
    """The approved forecaster's configuration (what the pages serve); while none is approved,
    the configured candidates (or the refresh's defaults)."""
    approved = model_serving.approved_version(engine, forecast_refresh.MODEL_NAME)
    if approved is not None:
        return forecast_refresh.RefreshConfig.from_params(approved["params"])
    return (
        forecast_refresh.RefreshConfig(candidates=tuple(candidates)) if candidates else forecast_refresh.RefreshConfig()
    )


def forecasts(step: Step) -> tuple[dict, str]:
    """Refresh the forecasts (of one plant for a load's pipeline); a failed series is that
    series' failure only, the job fails when every series failed."""
    config = forecast_config(step.engine, step.settings.get("candidates", ()))
    if step.sample_setup:
        _approve_sample(step.engine, forecast_refresh.MODEL_NAME, config)
        config = forecast_config(step.engine, step.settings.get("candidates", ()))

    def progress(done, total, label):
        step.progress(done / max(total, 1), f"Forecast {done} of {total} series ({label})")

    report = pipeline.refresh_forecasts(
        step.engine,
        config,
        workers=int(step.settings.get("forecast_workers", 2)),
        scope=step.scope,
        actor="worker",
        job="refresh",
        progress=progress,
    )
    failed = sorted({f"{r.plant_id}/{r.metric}" for r in report.results if r.row["error"]})
    if report.series and len(failed) == report.series:
        raise RuntimeError(f"every series failed, e.g. {report.results[0].row['error']}")
    counts = {
        "series": report.series,
        "fallbacks": report.fallbacks,
        "failed": len(failed),
        "approved": report.approved,
    }
    message = f"{report.series} series ({report.run_id}); {report.fallbacks} served a fallback"
    return counts, message + (f"; failed: {', '.join(failed[:6])}" if failed else "")


def risk(step: Step) -> tuple[dict, str]:
    """Score failure, shortage and disruption risk of the whole network: the Risk page and the
    orchestrator read one scoring run, so a load's pipeline rescores every plant too."""
    train = registry.latest_version(step.engine, risk_score.MODEL_NAME) is None
    report = pipeline.score_risks(step.engine, None, train=train, progress=step.progress)
    if step.sample_setup and _approve_sample(step.engine, risk_score.MODEL_NAME):
        step.progress(0.5, "Rescoring with the approved failure-risk model")
        report = pipeline.score_risks(step.engine, None, progress=step.progress)
    counts = {kind: c["scored"] for kind, c in report.counts.items()}
    counts["by_model"] = sum(c["model"] for c in report.counts.values())
    return counts, report.summary().splitlines()[0][:200]


def orchestrate(step: Step) -> tuple[dict, str]:
    """Raise, route and enrich recommendations from the risk signals; expire and escalate."""
    report = pipeline.orchestrate_decisions(step.engine, None, progress=step.progress)
    counts = {
        "signals": report.signals,
        "raised": len(report.created),
        "expired": len(report.expired),
        "escalated": len(report.escalated),
    }
    return counts, report.summary()[:200]


def sla(step: Step) -> tuple[dict, str]:
    """Expire what nobody decided in time and escalate what passed its SLA."""
    now = datetime.now(timezone.utc)
    expired = workflow.expire_overdue(step.engine, now)
    escalated = workflow.escalate_overdue(step.engine, now)
    return {"expired": len(expired), "escalated": len(escalated)}, f"{len(expired)} expired, {len(escalated)} escalated"


JOBS: dict[str, tuple[str, Callable[[Step], tuple[dict, str]]]] = {
    "feeds": ("Feed freshness check", feeds),
    "marts": ("Daily marts refresh", marts_refresh),
    "forecasts": ("Forecast refresh", forecasts),
    "risk": ("Risk scoring", risk),
    "orchestrate": ("Recommendations (orchestration)", orchestrate),
    "sla": ("SLA escalation and expiry", sla),
}
"""Job name -> (label, function), in pipeline order."""

LOAD_PIPELINE = ("marts", "forecasts", "risk", "orchestrate")
"""What a completed data load triggers for its plant."""
FIRST_START = ("feeds", "forecasts", "risk", "orchestrate")
"""The sample network's first start: its marts are built by the generator."""


def _approve_sample(engine: Engine, model_name: str, config: forecast_refresh.RefreshConfig | None = None) -> bool:
    """Approve the newest candidate of `model_name` as SAMPLE_SETUP, unless a version is
    approved already. The forecaster's version is registered first (as the refresh would)."""
    if model_serving.approved_version(engine, model_name) is not None:
        return False
    if config is not None:
        with engine.begin() as conn:
            model_serving.register(conn, SAMPLE_SETUP.username, model_name, config.version(), config.params(), None)
    candidate = registry.latest_version(engine, model_name, status="candidate")
    if candidate is None:
        return False
    model_serving.approve(engine, SAMPLE_SETUP, candidate["model_id"], SAMPLE_REASON)
    return True
