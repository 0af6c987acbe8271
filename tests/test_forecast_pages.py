"""Forecasts, Risk and Models & data through AppTest: stored results only, within the plant scope,
fallbacks labelled, approval for the allowed role only (audited), one-series refit, no training
on a page load, explained empty states."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from data_access.engine import make_engine
from data_access.schema import audit_log, model_version, plant
from forecasting import failure_risk, refresh, score
from governance import model_serving
from jobs import pipeline
from tests.apptest import TEST_LOGINS, rendered_text, texts
from tests.helpers import sqlite_copy

AS_OF = datetime(2026, 7, 1, 6, tzinfo=timezone.utc)
FAST = refresh.RefreshConfig(candidates=("seasonal_naive", "theta", "ets"))
PAGES = ("pages/forecasts.py", "pages/risk.py", "pages/models.py")


@pytest.fixture(scope="module")
def stored(small_network_url, tmp_path_factory) -> Path:
    """The small network with one refresh (fast candidates) and one scoring run; never written by tests."""
    path = tmp_path_factory.mktemp("pages") / "stored.db"
    engine = make_engine(sqlite_copy(small_network_url, path))
    pipeline.refresh_forecasts(engine, FAST, workers=1)
    pipeline.score_risks(engine, AS_OF)
    engine.dispose()
    return path


@pytest.fixture
def writable(stored, tmp_path) -> str:
    path = tmp_path / "writable.db"
    path.write_bytes(stored.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def plant_names(small_network_url) -> dict[str, str]:
    engine = make_engine(small_network_url)
    with engine.connect() as conn:
        names = dict(conn.execute(select(plant.c.plant_id, plant.c.name)).all())
    engine.dispose()
    return names


def _model_id(url, model_name) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        model_id = conn.execute(
            select(model_version.c.model_id).where(model_version.c.model_name == model_name)
        ).scalar_one()
    engine.dispose()
    return model_id


def test_without_stored_results_every_page_says_the_worker_computes_them(open_as, small_network_url, tmp_path):
    url = sqlite_copy(small_network_url, tmp_path / "empty.db")  # the generator queued the worker's first start
    forecasts = open_as(url, "coo", "pages/forecasts.py")
    assert not forecasts.exception and [t.value for t in forecasts.title] == ["Forecasts"]
    assert "The worker has 1 request(s) queued; forecasts appear here once forecast refresh has run." in texts(
        forecasts, "info"
    )
    assert not forecasts.dataframe and not forecasts.get("plotly_chart")
    risk = open_as(url, "coo", "pages/risk.py")
    assert not risk.exception
    assert "The worker has 1 request(s) queued; risk scores appear here once risk scoring has run." in texts(
        risk, "info"
    )
    models = open_as(url, "coo", "pages/models.py")
    assert not models.exception and not models.error
    assert any("No model is registered yet" in t for t in texts(models, "info"))


def test_the_forecasts_page_shows_the_fan_chart_candidates_and_the_fallback(open_as, stored, plant_names):
    at = open_as(f"sqlite:///{stored}", "coo", "pages/forecasts.py")
    assert not at.exception and not at.error
    plant_box = next(w for w in at.selectbox if w.label == "Plant")
    assert len(plant_box.options) == len(plant_names)
    warnings = texts(at, "warning")
    assert any(
        w.startswith("**Fallback:** serving Seasonal naive (baseline)") and "not approved" in w for w in warnings
    )
    assert len(at.get("plotly_chart")) == 1
    candidates = at.dataframe[0].value
    assert set(candidates["candidate"]) == {"seasonal_naive", "theta", "ets"}
    assert candidates["mase"].notna().all() and candidates["wape"].notna().all()
    assert candidates["role"].str.contains("chosen by backtest").sum() == 1
    assert candidates["role"].str.contains("served").sum() == 1
    at.selectbox(key="forecasts_metric").select("unplanned_downtime_h").run()
    assert not at.exception
    assert any("**Unplanned downtime** (h)" in c for c in texts(at, "caption"))
    overview = at.dataframe[-1].value
    assert len(overview) == 3 * len(plant_names)
    assert any(c.startswith("**Last reselected** 2026-06-30: new series.") for c in texts(at, "caption"))
    assert overview["reselected"].str.match(r"^(2026-06-30: new series|never: no backtest possible)").all()


def test_a_plant_manager_sees_only_the_own_plant_on_every_page(open_as, stored, plant_names):
    own = TEST_LOGINS["pm"][2][0]
    others = [name for p, name in plant_names.items() if p != own]
    for page in PAGES:
        at = open_as(f"sqlite:///{stored}", "pm", page)
        assert not at.exception, page
        text = rendered_text(at)
        assert plant_names[own] in text, page
        assert not [name for name in others if name in text], page
        for frame in at.dataframe:
            if "plant_id" in frame.value.columns:
                assert set(frame.value["plant_id"]) <= {own}, page
    forecasts = open_as(f"sqlite:///{stored}", "pm", "pages/forecasts.py")
    assert next(w for w in forecasts.selectbox if w.label == "Plant").options == [f"{plant_names[own]} ({own})"]


def test_the_risk_page_labels_fallback_scores_with_their_reason(open_as, stored):
    at = open_as(f"sqlite:///{stored}", "coo", "pages/risk.py")
    assert not at.exception and not at.error
    assert len(at.dataframe) == 3  # failure, shortage, disruption
    failure = at.dataframe[0].value
    assert (failure["source"] == "fallback").all()  # v1 is not approved yet
    reasons = set(failure["reason"])
    assert any(r.startswith("no sensors (data maturity") for r in reasons)
    assert any("version v1 not approved" in r for r in reasons)
    assert any("not approved" in w for w in texts(at, "warning"))
    assert failure["risk"].between(0, 1).all()


def test_only_an_admin_approves_on_the_models_page_and_it_is_audited(open_as, writable):
    pm = open_as(writable, "pm", "pages/models.py")
    assert not pm.exception
    assert not [b for b in pm.button if b.label == "Submit"]
    assert any("Only an admin may approve" in c for c in texts(pm, "caption"))
    status = next(df.value for df in pm.dataframe if "reselected" in df.value.columns)
    assert (status["reselected"] == "2026-06-30").all() and (status["reselect_reason"] == "new series").all()

    at = open_as(writable, "admin", "pages/models.py")
    assert not at.exception
    at.selectbox(key="models_approve_version").select(_model_id(writable, "forecaster"))
    at.text_area(key="models_approve_reason").input("MASE below seasonal naive on every plant")
    next(b for b in at.button if b.label == "Submit").click()
    at.run()
    assert not at.exception
    assert any("is now approved" in s for s in texts(at, "success")), texts(at, "error")
    engine = make_engine(writable)
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.seq.desc()).limit(1)
        ).one()
    engine.dispose()
    assert (row.actor, row.action) == ("admin", "model_approve")
    assert row.detail["reason"] == "MASE below seasonal naive on every plant"

    at.selectbox(key="models_approve_version").select(_model_id(writable, "failure_risk"))
    at.text_area(key="models_approve_reason").input("")
    next(b for b in at.button if b.label == "Submit").click()
    at.run()
    assert not at.exception
    assert texts(at, "error") == ["A reason is required: say what you checked."]


def test_a_planner_role_refits_one_series_and_an_executive_may_not(open_as, writable):
    coo = open_as(writable, "coo", "pages/forecasts.py")
    assert coo.button(key="forecasts_refit").disabled
    at = open_as(writable, "pm", "pages/forecasts.py")
    assert not at.button(key="forecasts_refit").disabled
    at.button(key="forecasts_refit").click().run()
    assert not at.exception
    assert any(t.startswith("Refitted: serving") for t in texts(at, "info")), texts(at, "info")
    assert any("reselected" in c and ": requested by " in c for c in texts(at, "caption")), texts(at, "caption")


def test_no_page_load_trains_or_refits(open_as, stored, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a page load trained a model")

    monkeypatch.setattr(refresh, "refresh", forbidden)
    monkeypatch.setattr(refresh, "fit_series", forbidden)
    monkeypatch.setattr(failure_risk, "train", forbidden)
    monkeypatch.setattr(failure_risk.FailureRiskModel, "fit", forbidden)
    monkeypatch.setattr(score, "score", forbidden)
    for user in ("coo", "admin", "pm"):
        for page in PAGES:
            at = open_as(f"sqlite:///{stored}", user, page)
            assert not at.exception, (user, page)


def test_a_held_model_is_shown_and_an_admin_releases_it(open_as, writable):
    import pandas as pd

    from data_access import model_holds

    engine = make_engine(writable)
    model_id = _model_id(writable, "failure_risk")
    model_serving.hold_degraded(
        engine, model_id, pd.DataFrame({"plant_id": ["NA-JOL"], "metric": ["psi.vib_ratio"], "value": [0.9]})
    )
    at = open_as(writable, "admin", "pages/models.py")
    assert not at.exception
    held = next(df.value for df in at.dataframe if "reason" in df.value and "held_utc" in df.value)
    assert held["reason"].tolist() == ["input drift psi.vib_ratio = 0.90 above the limit 0.25"]
    at.text_area(key="models_hold_reason").input("vibration sensor replaced on the 28th")
    next(b for b in at.button if b.label == "Release the hold").click()
    at.run()
    assert not at.exception and any("Released" in s for s in texts(at, "success")), texts(at, "error")
    assert model_holds.open_holds(engine, model_id) == {}
    engine.dispose()
