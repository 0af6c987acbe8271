"""Model governance: a version is served only once approved by someone allowed to (audited, in the
same transaction), a stale feed or a plant without sensors falls back to the rules, drift (PSI)."""

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select, update

import sample_data
from data_access import intelligence as q
from data_access import model_registry as registry
from data_access.engine import make_engine
from data_access.queries import feed_freshness
from data_access.schema import audit_log, feed_status, model_version, risk_score
from data_access.scope import PlantScope
from forecasting import score as sc
from forecasting.metrics import psi
from governance import audit, model_serving, policies
from governance.users import User
from jobs import pipeline

END = date(2026, 6, 30)
AS_OF = datetime(2026, 7, 1, 6, tzinfo=timezone.utc)
ADMIN = User("admin", "Admin", "admin@example.com", ("admin",), None)
PM = User("pm", "PM", "pm@example.com", ("plant_manager",), frozenset({"NA-JOL"}))
COO = User("coo", "COO", "coo@example.com", ("executive",), None)


def failure_scores(engine, run_id=None):
    run_id = run_id or q.latest_score_run_id(engine)
    return q.risk_scores(engine, PlantScope.everything(), run_id, "failure").set_index("subject_id")


def audit_actions(engine):
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(audit_log.c.actor, audit_log.c.action, audit_log.c.entity_id).order_by(audit_log.c.seq)
            )
        ]


def q_feeds(engine):
    return feed_freshness(engine, PlantScope.everything(), now=AS_OF)


def make_stale(engine, plant_id, source, hours):
    with engine.begin() as conn:
        conn.execute(
            update(feed_status)
            .where(feed_status.c.plant_id == plant_id, feed_status.c.source == source)
            .values(last_received_utc=AS_OF - timedelta(hours=hours))
        )


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    sample_data.generate(engine, plants=2, days=150, seed=7, end_day=END)
    pipeline.score_risks(engine, AS_OF)  # trains v1
    engine.dispose()
    return path


@pytest.fixture
def scored(_template, tmp_path):
    """Joliet (sensors) and Zaragoza (MES, production and downtime feeds down), scored once with
    a trained but unapproved failure_risk v1; SQLite."""
    path = tmp_path / "warehouse.db"
    path.write_bytes(_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_the_whole_approval_cycle_on_each_backend(empty_engine):
    engine = empty_engine
    sample_data.generate(engine, plants=2, days=150, seed=7, end_day=END)
    first = pipeline.score_risks(engine, AS_OF)
    assert first.trained["version"] == "v1"
    v1 = first.trained["model_id"]
    jol = failure_scores(engine).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "fallback").all()
    assert jol["reason"].str.contains("version v1 not approved").all()
    assert jol["model_risk"].notna().all()  # scored in the shadow, not served
    assert (jol["risk"] == jol["fallback_risk"]).all()

    with pytest.raises(model_serving.ModelGovernanceError, match="Only a user allowed to approve models"):
        model_serving.approve(engine, PM, v1, "looks fine")
    assert registry.version(engine, v1)["status"] == "candidate"
    approved = model_serving.approve(engine, ADMIN, v1, "AUC above 0.9 at Joliet")
    assert (approved["status"], approved["approved_by"], approved["approval_reason"]) == (
        "approved",
        "admin",
        "AUC above 0.9 at Joliet",
    )
    assert audit_actions(engine)[-2:] == [("pm", "model_approve_refused", str(v1)), ("admin", "model_approve", str(v1))]
    assert audit.verify(engine).ok

    pipeline.score_risks(engine, AS_OF)  # same as_of: replaces the run's scores
    with engine.connect() as conn:
        assert conn.execute(select(func.count(func.distinct(risk_score.c.run_id)))).scalar_one() == 1
    jol = failure_scores(engine).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "model").all() and jol["reason"].isna().all()
    assert (jol["risk"] == jol["model_risk"]).all()
    zar = failure_scores(engine).query("plant_id == 'EU-ZAR'")
    assert (zar["source"] == "fallback").all()
    assert zar["reason"].str.startswith("no sensors (data maturity mes)").all()

    make_stale(engine, "NA-JOL", "health", hours=24 + model_serving.FEED_GRACE_H + 1)
    pipeline.score_risks(engine, AS_OF)
    jol = failure_scores(engine).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "fallback").all() and jol["stale"].all()
    assert jol["reason"].str.contains("stale feed: health").all()

    model_serving.retire(engine, ADMIN, v1, "withdrawn for the test")
    assert registry.version(engine, v1)["status"] == "retired"
    assert model_serving.approved_version(engine, sc.MODEL_NAME) is None


def test_an_unapproved_candidate_is_never_served(scored):
    frame = failure_scores(scored)
    assert (frame["source"] == "fallback").all()
    assert set(frame.loc[frame["plant_id"] == "NA-JOL", "reason"]) == {"version v1 not approved"}


def test_a_feed_late_within_its_grace_keeps_the_model(scored):
    model_serving.approve(scored, ADMIN, 1, "ok")
    make_stale(scored, "NA-JOL", "health", hours=24 + model_serving.FEED_GRACE_H - 1)  # late, within the limit
    pipeline.score_risks(scored, AS_OF)
    jol = failure_scores(scored).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "model").all() and not jol["stale"].any()


def test_the_plant_policy_sets_the_stale_limit(scored):
    model_serving.approve(scored, ADMIN, 1, "ok")
    make_stale(scored, "NA-JOL", "health", hours=24 + 10)  # 10 h past its daily cadence
    policies.set_value(scored, ADMIN, "NA-JOL", "feed_grace_hours", 6, "sensor data drives daily maintenance")
    pipeline.score_risks(scored, AS_OF)
    jol = failure_scores(scored).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "fallback").all() and jol["stale"].all()
    assert jol["reason"].str.contains("stale feed: health").all()
    limits = model_serving.feed_limits(scored, q_feeds(scored)).set_index(["plant_id", "source"])
    assert limits.loc[("NA-JOL", "health"), "limit_h"] == pytest.approx(24 + 6)
    assert limits.loc[("EU-ZAR", "inventory"), "grace_h"] == model_serving.FEED_GRACE_H  # other plants keep the default


@pytest.mark.parametrize(
    "user, reason, message",
    [
        (COO, "fine", "Only a user allowed to approve models"),
        (PM, "fine", "Only a user allowed to approve models"),
        (ADMIN, "   ", "A reason is required"),
        (ADMIN, "x" * (model_serving.MAX_REASON + 1), "longer than"),
    ],
)
def test_refused_approvals_change_nothing_and_are_audited(scored, user, reason, message):
    with pytest.raises(model_serving.ModelGovernanceError, match=message):
        model_serving.approve(scored, user, 1, reason)
    assert registry.version(scored, 1)["status"] == "candidate"
    actor, action, entity_id = audit_actions(scored)[-1]
    assert (actor, action, entity_id) == (user.username, "model_approve_refused", "1")


def test_only_a_candidate_can_be_approved(scored):
    model_serving.approve(scored, ADMIN, 1, "ok")
    with pytest.raises(model_serving.ModelGovernanceError, match="is approved, not a candidate"):
        model_serving.approve(scored, ADMIN, 1, "again")
    with pytest.raises(model_serving.ModelGovernanceError, match="There is no model version 99"):
        model_serving.approve(scored, ADMIN, 99, "ok")


def test_approving_a_new_version_retires_the_previous_one(scored):
    model_serving.approve(scored, ADMIN, 1, "first")
    report = pipeline.score_risks(scored, AS_OF, train=True)
    v2 = report.trained["model_id"]
    assert report.version["model_id"] == 1  # the approved one keeps serving until v2 is approved
    model_serving.approve(scored, ADMIN, v2, "second")
    assert registry.version(scored, 1)["status"] == "retired"
    assert registry.version(scored, v2)["status"] == "approved"
    with scored.connect() as conn:
        detail = conn.execute(
            select(audit_log.c.detail)
            .where(audit_log.c.action == "model_approve")
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        ).scalar_one()
    assert detail["retired"] == [1] and detail["reason"] == "second"


def test_an_artifact_that_does_not_match_its_hash_is_not_served(scored):
    model_serving.approve(scored, ADMIN, 1, "ok")
    with scored.begin() as conn:
        text = conn.execute(select(model_version.c.artifact).where(model_version.c.model_id == 1)).scalar_one()
        conn.execute(update(model_version).where(model_version.c.model_id == 1).values(artifact=text[:-8] + "AAAAAAAA"))
    pipeline.score_risks(scored, AS_OF)
    jol = failure_scores(scored).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "fallback").all()
    assert jol["reason"].str.contains("cannot be loaded").all()


def test_every_score_run_records_per_plant_accuracy_and_drift(scored):
    metrics = registry.metrics(scored, PlantScope.everything(), model_name="failure_risk")
    measured = metrics[metrics["measured_utc"] == AS_OF]
    names = set(measured["metric"])
    assert {"auc_live", "brier_live"} <= names
    assert {f"psi.{f}" for f in ("vib_ratio", "temp_rise", "cur_ratio", "days_since_repair")} <= names
    assert set(measured["plant_id"]) == {"NA-JOL"}  # only the plant with sensors
    trained = metrics[metrics["metric"] == "auc"]
    assert len(trained) == 1 and trained["value"].iloc[0] > 0.7
    assert registry.metrics(scored, PlantScope.only(["EU-ZAR"]), model_name="failure_risk").empty  # scoped


def test_scores_are_read_within_the_plant_scope(scored):
    run_id = q.latest_score_run_id(scored)
    for kind in q.RISK_KINDS:
        assert set(q.risk_scores(scored, PlantScope.only(["EU-ZAR"]), run_id, kind)["plant_id"]) <= {"EU-ZAR"}


# --- rules without a database -----------------------------------------------------------------


def test_fallback_reason_names_every_cause():
    approved = {"version": "v3", "status": "approved"}
    candidate = {"version": "v4", "status": "candidate"}
    assert model_serving.fallback_reason(approved) is None
    assert model_serving.fallback_reason(candidate) == "version v4 not approved"
    assert model_serving.fallback_reason(None) == "no trained model version"
    assert model_serving.fallback_reason(approved, ["health"]).startswith("stale feed: health")
    both = model_serving.fallback_reason(candidate, ["downtime", "health"], "no sensors (data maturity mes)")
    assert both.split("; ")[0] == "no sensors (data maturity mes)"
    assert "version v4 not approved" in both and "stale feed: downtime, health" in both


def test_stale_feeds_use_cadence_plus_each_plants_grace(scored):
    import pandas as pd

    policies.set_value(scored, ADMIN, "EU-ZAR", "feed_grace_hours", 2, "a tight limit")
    fresh = pd.DataFrame(
        {
            "plant_id": ["NA-JOL", "NA-JOL", "EU-ZAR", "EU-ZAR", "EU-ZAR"],
            "source": ["health", "downtime", "health", "downtime", "inventory"],
            "age_h": [47.0, 49.0, np.nan, 25.0, 1000.0],
            "expected_cadence_h": [24.0] * 5,
        }
    )
    limits = model_serving.feed_limits(scored, fresh)
    assert list(limits["limit_h"]) == [48.0, 48.0, 26.0, 26.0, 26.0]
    assert model_serving.stale_feeds(limits, "failure_risk") == {"NA-JOL": ["downtime"], "EU-ZAR": ["health"]}
    assert model_serving.stale_feeds(limits, "shortage") == {"EU-ZAR": ["inventory"]}


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(1)
    reference = rng.normal(0, 1, 5000)
    assert psi(reference, rng.normal(0, 1, 5000)) < 0.02
    assert psi(reference, rng.normal(1, 1, 5000)) > model_serving.PSI_MAJOR
    assert psi(reference[:5], reference) is None
    assert psi(reference, []) is None
    # hand-checked: two bins at the median, current 80/20 against 50/50
    value = psi([0, 0, 1, 1], [0] * 8 + [1] * 2, bins=2)
    assert value == pytest.approx((0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5))
    assert model_serving.psi_label(0.05) == "stable" and model_serving.psi_label(0.3) == "major shift"


def test_model_served_failure_risks_feed_the_decisions_workflow_by_default(scored):
    from governance import signals

    assert pipeline.maintenance_signals(scored, PlantScope.everything(), AS_OF).empty  # nothing served yet
    model_serving.approve(scored, ADMIN, 1, "ok")
    pipeline.score_risks(scored, AS_OF)
    frame = signals.risk_signals(
        scored, PlantScope.everything(), AS_OF, kinds=("maintenance",), providers=pipeline.MODEL_PROVIDERS
    )  # the jobs compose the model in
    stored = failure_scores(scored)
    model = frame[frame["source"] == "model"].set_index("subject_id")
    assert set(model.index) == set(stored.index[stored["source"] == "model"])
    assert set(model["plant_id"]) == {"NA-JOL"}
    assert (model["risk"] == stored.loc[model.index, "risk"]).all()
    assert (frame.loc[frame["plant_id"] == "EU-ZAR", "source"] == "fallback_rule").all()  # the workflow's rules
    assert pipeline.maintenance_signals(
        scored, PlantScope.everything(), AS_OF - timedelta(days=1)
    ).empty  # no run by then
    later = AS_OF + sc.SIGNAL_MAX_AGE + timedelta(hours=1)  # the run is too old: the rules on current data decide
    assert pipeline.maintenance_signals(scored, PlantScope.everything(), later).empty
    assert (
        signals.risk_signals(
            scored, PlantScope.everything(), later, kinds=("maintenance",), providers=pipeline.MODEL_PROVIDERS
        )["source"]
        == "fallback_rule"
    ).all()


# --- issue 14: a model falls back by itself on drift or lost accuracy -----------------------------


def test_degradation_names_drift_and_lost_accuracy():
    fine = {"psi.vib_ratio": 0.1, "auc": 0.9, "auc_live": 0.88, "wape.demand": 0.2, "wape_live.demand": 0.24}
    assert model_serving.degradation(fine, psi_limit=0.25, margin=0.05) is None
    drift = model_serving.degradation({**fine, "psi.temp_rise": 0.4}, 0.25, 0.05)
    assert drift == "input drift psi.temp_rise = 0.40 above the limit 0.25"
    worse = model_serving.degradation({**fine, "auc_live": 0.8, "wape_live.demand": 0.31}, 0.25, 0.05)
    assert "recent AUC 0.80 below its tested 0.90" in worse and "recent WAPE of demand 31.0%" in worse
    assert model_serving.degradation({"auc_live": 0.5}, 0.25, 0.05) is None  # no baseline: nothing to compare
    assert "on hold until an admin releases it: x" in model_serving.fallback_reason(
        {"version": "v1", "status": "approved"}, held="x"
    )


def test_drift_past_the_policy_limit_holds_the_model_until_an_admin_releases_it(scored):
    model_serving.approve(scored, ADMIN, 1, "ok")
    policies.set_value(scored, ADMIN, "NA-JOL", "drift_psi_limit", 1e-9, "any drift at all, for the test")
    pipeline.score_risks(scored, AS_OF)
    jol = failure_scores(scored).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "fallback").all() and (jol["risk"] == jol["fallback_risk"]).all()
    assert jol["reason"].str.startswith("on hold until an admin releases it: input drift psi.").all()
    assert ("model-monitor", "model_hold", "1") in audit_actions(scored)
    policies.set_value(scored, ADMIN, "NA-JOL", "drift_psi_limit", 100, "back to normal")
    pipeline.score_risks(scored, AS_OF + timedelta(hours=1))
    assert (failure_scores(scored).query("plant_id == 'NA-JOL'")["source"] == "fallback").all()  # until someone acts
    with pytest.raises(model_serving.ModelGovernanceError, match="Only a user allowed"):
        model_serving.release_hold(scored, PM, 1, "NA-JOL", "fine by me")
    assert model_serving.release_hold(scored, ADMIN, 1, "NA-JOL", "sensor recalibrated, drift explained") == 1
    with pytest.raises(model_serving.ModelGovernanceError, match="no open hold"):
        model_serving.release_hold(scored, ADMIN, 1, "NA-JOL", "again")
    pipeline.score_risks(scored, AS_OF + timedelta(hours=2))
    jol = failure_scores(scored).query("plant_id == 'NA-JOL'")
    assert (jol["source"] == "model").all()
    assert audit.verify(scored).ok


def test_holds_are_stored_and_released_on_each_backend(empty_engine):
    import pandas as pd

    from data_access import model_holds
    from data_access.schema import plant, region

    with empty_engine.begin() as conn:
        conn.execute(region.insert(), [{"region_id": "EU", "name": "Europe"}])
        conn.execute(
            plant.insert(),
            [
                dict(
                    plant_id=p,
                    name=p,
                    region_id="EU",
                    country="DE",
                    timezone="Europe/Berlin",
                    lat=0.0,
                    lon=0.0,
                    data_maturity="iot",
                    maintenance_workflow="sap_pm",
                    currency="EUR",
                )
                for p in ("A", "B")
            ],
        )
        model_id, _ = model_serving.register(conn, "test", "forecaster", "v1", {}, None)
    latest = pd.DataFrame(
        {
            "plant_id": ["A", "A", "B", "B"],
            "metric": ["wape.demand", "wape_live.demand"] * 2,
            "value": [0.20, 0.40, 0.20, 0.22],
        }
    )
    assert model_serving.hold_degraded(empty_engine, model_id, latest) == {
        "A": "recent WAPE of demand 40.0% above its backtest 20.0% by more than 5%"
    }
    assert model_serving.hold_degraded(empty_engine, model_id, latest).keys() == {"A"}  # one open hold, not two
    assert list(model_holds.holds(empty_engine, PlantScope.only(["B"]))["plant_id"]) == []  # scoped
    model_serving.release_hold(empty_engine, ADMIN, model_id, "A", "demand shifted for a promotion, expected")
    assert model_holds.open_holds(empty_engine, model_id) == {}
    closed = model_holds.holds(empty_engine, PlantScope.everything(), open_only=False)
    assert closed["released_by"].tolist() == ["admin"] and audit.verify(empty_engine).ok
