"""The onboarding and data-quality pages through AppTest from app.py, with an uploaded file.

Streamlit 1.67's AppTest can set a file_uploader's file (FileUploader.set_value), so the
page is driven end to end: upload, preview, load, quarantine, map a code (audited), re-try.
It runs on a copy of the small generated network, so other tests keep theirs unchanged.
"""

import pytest
import yaml
from sqlalchemy import select

from data_access.engine import make_engine
from data_access.schema import asset, audit_log, downtime_event, quarantine
from governance.audit import verify
from tests.apptest import SMALL_NETWORK_PM_PLANT, TEST_LOGINS, log_in
from tests.helpers import sqlite_copy

PLANT = SMALL_NETWORK_PM_PLANT


@pytest.fixture
def own_network(small_network_url, tmp_path):
    """A private copy of the small network (the page writes to it)."""
    return sqlite_copy(small_network_url, tmp_path / "warehouse.db")


def an_asset(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            select(asset.c.asset_id, asset.c.local_code)
            .where(asset.c.plant_id == PLANT)
            .order_by(asset.c.asset_id)
            .limit(1)
        ).one()
    engine.dispose()
    return row


def steward_on(start, url, page):
    at = log_in(start(url), "steward", TEST_LOGINS["steward"][0])
    assert not at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def widget(collection, key):
    return next(w for w in collection if w.key == key)


def frame_with(at, column):
    """The one table showing `column` (AppTest's dataframes carry no key)."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def test_a_steward_uploads_previews_loads_and_maps_a_code(start_app, own_network):
    asset_id, local_code = an_asset(own_network)
    at = steward_on(start_app, own_network, "pages/onboarding.py")
    assert [t.value for t in at.title] == ["Data onboarding"]
    widget(at.selectbox, "onboarding_load_plant").select(PLANT).run()
    widget(at.selectbox, "onboarding_load_source").select("downtime").run()
    mapping = {
        "plant": PLANT,
        "source": "downtime",
        "timezone": "Europe/Madrid",
        "columns": {"asset": "Equipo", "start": "Inicio", "end": "Fin", "reason": "Motivo"},
    }
    widget(at.text_area, f"onboarding_mapping_{PLANT}_downtime").input(yaml.safe_dump(mapping)).run()
    csv = (
        "Equipo;Inicio;Fin;Motivo\n"
        f"{local_code};2026-06-20 08:00;2026-06-20 09:30;MECH_FAIL\n"
        f"{local_code};2026-06-20 10:00;2026-06-20 09:00;MECH_FAIL\n"
        f"{local_code};2026-06-21 10:00;2026-06-21 10:45;Duende\n"
    ).encode()
    at.file_uploader(key="onboarding_file").set_value(("paradas.csv", csv, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    preview = frame_with(at, "status")
    assert preview["status"].tolist() == ["new", "rejected: invalid", "rejected: unmapped"]
    assert "is before start" in preview["reason"].iloc[1]

    next(b for b in at.button if b.key == "onboarding_load").click().run()
    assert not at.exception
    assert any("2 quarantined" in w.value and "1 loaded" in w.value for w in at.warning), [w.value for w in at.warning]
    held = frame_with(at, "raw")
    assert held["row_number"].tolist() == [3, 4]
    engine = make_engine(own_network)
    with engine.connect() as conn:
        loaded = (
            conn.execute(
                select(downtime_event.c.duration_s).where(
                    downtime_event.c.asset_id == asset_id, downtime_event.c.local_reason == "MECH_FAIL"
                )
            )
            .scalars()
            .all()
        )
    assert loaded == [5400.0]

    review = frame_with(at, "local_code")
    assert review[["kind", "local_code"]].values.tolist() == [["reason", "Duende"]]
    widget(at.selectbox, "onboarding_map_target").select("MECH_FAIL")
    next(b for b in at.button if b.label == "Map the code").click().run()
    assert not at.exception
    assert any("now maps to MECH_FAIL" in s.value for s in at.success)
    next(b for b in at.button if b.key == "onboarding_retry").click().run()
    assert not at.exception
    assert any("1 loaded" in m.value for m in (*at.success, *at.warning, *at.error)), [
        m.value for m in (*at.success, *at.warning, *at.error)
    ]

    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.seq)).all()
        still = conn.execute(select(quarantine.c.row_number).where(quarantine.c.resolved.is_(False))).scalars().all()
    assert [a for a, _ in actions][-3:] == ["data.load", "data.map_code", "data.retry_quarantine"]
    assert {actor for _, actor in actions[-3:]} == {"steward"}
    assert still == [3]  # the stop that ends before it starts stays, with its reason
    assert verify(engine).ok
    engine.dispose()


def test_the_data_quality_page_shows_a_score_per_plant(start_app, own_network):
    at = steward_on(start_app, own_network, "pages/data_quality.py")
    assert [t.value for t in at.title] == ["Data quality"]
    plants = frame_with(at, "data_quality_score")
    assert len(plants) == 4 and plants["data_quality_score"].between(0, 100).all()
    feeds = frame_with(at, "freshness")
    assert set(feeds["plant_id"]) == set(plants["plant_id"]) and "downtime" in set(feeds["source"])


def test_other_roles_do_not_get_the_onboarding_page(start_app, own_network):
    at = log_in(start_app(own_network), "pm", TEST_LOGINS["pm"][0])
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/onboarding.py")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/data_quality.py")


def test_a_failing_load_is_shown_as_an_error_not_a_traceback(start_app, own_network, monkeypatch):
    import components.onboarding

    def broken(*args, **kwargs):
        raise RuntimeError("the warehouse went away")

    monkeypatch.setattr(components.onboarding, "load_file", broken)
    _, local_code = an_asset(own_network)
    at = steward_on(start_app, own_network, "pages/onboarding.py")
    widget(at.selectbox, "onboarding_load_plant").select(PLANT).run()
    mapping = {
        "plant": PLANT,
        "source": "downtime",
        "columns": {"asset": "asset", "start": "start", "end": "end", "reason": "reason"},
    }
    widget(at.text_area, f"onboarding_mapping_{PLANT}_downtime").input(yaml.safe_dump(mapping)).run()
    at.file_uploader(key="onboarding_file").set_value(
        (
            "d.csv",
            f"asset,start,end,reason\n{local_code},2026-06-20 08:00,2026-06-20 09:00,MECH_FAIL\n".encode(),
            "text/csv",
        )
    ).run()
    next(b for b in at.button if b.key == "onboarding_load").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The load failed and nothing of it was written: RuntimeError: the warehouse went away"
    ]
