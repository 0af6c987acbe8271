"""What needs me now (issue 19): the scoped read on both backends, and the overview's and the
Action queue's "Needs you now" for a plant manager and for the COO in AppTest."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from data_access import attention, migrate
from data_access.engine import make_engine
from data_access.schema import feed_status, job_run, recommendation
from data_access.scope import PlantScope
from jobs import pipeline
from tests import tiny_network
from tests.apptest import rendered_text
from tests.helpers import sqlite_copy

NOW = tiny_network.NOW
ESCALATING = {"approvers": ["maintenance_lead"], "escalate_to": ["plant_manager", "executive"], "sla_hours": 24}


def _rec(plant_id, state, created, sla_due, title):
    return dict(
        plant_id=plant_id,
        kind="maintenance",
        subject_id=f"{plant_id}-X",
        signal_key=f"k-{title}",
        title=title,
        risk=0.9,
        estimated_cost=100.0,
        evidence={},
        state=state,
        version=1,
        created_utc=created,
        sla_due_utc=sla_due,
        source="test",
        routing=ESCALATING,
    )


def _failed_run(job_name, plant_id, at):
    return dict(
        job_name=job_name,
        run_key=f"{job_name}-{plant_id}",
        trigger="schedule",
        plant_id=plant_id,
        status="failed",
        worker="w1",
        started_utc=at,
        lease_expires_utc=at,
        finished_utc=at,
        error="Traceback ...\nJobError: the warehouse was unreachable",
    )


def test_attention_lists_what_waits_for_the_roles_in_scope(empty_engine):
    tiny_network.build(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(
            insert(recommendation),
            [
                _rec("A", "escalated", NOW - timedelta(hours=30), NOW - timedelta(hours=6), "Overdue at A"),
                _rec("A", "open", NOW - timedelta(hours=2), NOW + timedelta(hours=22), "Fresh at A"),
                _rec("B", "escalated", NOW - timedelta(hours=30), NOW - timedelta(hours=6), "Overdue at B"),
            ],
        )
        conn.execute(
            insert(job_run),
            [_failed_run("risk", None, NOW - timedelta(hours=1)), _failed_run("marts", "B", NOW - timedelta(hours=1))],
        )
    a_only = PlantScope.only({"A"})
    pm = attention.attention(empty_engine, a_only, ("plant_manager",), now=NOW)
    # Plant A's manager: the escalated decision of A (not the open one waiting for maintenance,
    # not B's), the failed network job (not B's), no late feed (A's is 12 h old, cadence 24 h).
    assert pm["kind"].tolist() == ["decision", "job"]
    decision = pm.iloc[0]
    assert (decision["subject"], decision["severity"], decision["plant_id"]) == ("Overdue at A", "overdue", "A")
    assert pm.iloc[1]["subject"] == "risk" and pm.iloc[1]["plant_name"] == "Network"
    assert pm.iloc[1]["note"] == "JobError: the warehouse was unreachable"

    coo = attention.attention(empty_engine, PlantScope.everything(), ("executive",), now=NOW)
    assert sorted(coo.loc[coo["kind"] == "decision", "subject"]) == ["Overdue at A", "Overdue at B"]
    assert sorted(coo.loc[coo["kind"] == "job", "subject"]) == ["marts", "risk"]
    feeds = coo[coo["kind"] == "feed"]  # B's production feed is 72 h old against a 24 h cadence
    assert feeds["plant_id"].tolist() == ["B"] and feeds.iloc[0]["value"] == pytest.approx(72.0)
    assert coo["kind"].tolist().index("feed") > coo["kind"].tolist().index("decision")

    # The maintenance lead still approves both of A's (escalation adds deciders, it removes nobody).
    ml = attention.attention(empty_engine, a_only, ("maintenance_lead",), now=NOW)
    assert ml.loc[ml["kind"] == "decision", "subject"].tolist() == ["Overdue at A", "Fresh at A"]


def test_a_kpi_trending_the_wrong_way_is_listed_once_it_passes_the_margin(empty_engine):
    tiny_network.build(empty_engine)
    scope = PlantScope.everything()
    listed = attention.attention(empty_engine, scope, (), kpi_keys=("oee", "availability"), now=NOW)
    # tiny_network has four days only: no baseline window, so no trend is claimed.
    assert listed[listed["kind"] == "kpi"].empty
    none_wanted = attention.attention(empty_engine, scope, (), kpi_keys=(), now=NOW)
    assert none_wanted[none_wanted["kind"] == "kpi"].empty


# --- AppTest on the small generated network --------------------------------------------------


@pytest.fixture
def known_network(small_network_url, tmp_path):
    """The small network with its recommendations raised (all at NA-JOL and SEA-CKR, waiting for the
    maintenance lead), made current, then: NA-JOL's rec escalated past its SLA, a SEA-CKR rec
    escalated, the risk job failed, and every feed fresh but Zaragoza's production feed."""
    url = sqlite_copy(small_network_url, tmp_path / "attention.db")
    engine = make_engine(url)
    migrate.upgrade(engine)
    pipeline.orchestrate_decisions(engine, datetime(2026, 7, 1, 8, tzinfo=timezone.utc))
    now = datetime.now(timezone.utc)
    r = recommendation.c
    with engine.begin() as conn:
        conn.execute(
            update(recommendation).values(created_utc=now - timedelta(hours=1), sla_due_utc=now + timedelta(hours=23))
        )
        jol = conn.execute(select(r.rec_id).where(r.plant_id == "NA-JOL").order_by(r.rec_id)).scalars().all()
        ckr = conn.execute(select(r.rec_id).where(r.plant_id == "SEA-CKR").order_by(r.rec_id)).scalars().all()
        conn.execute(
            update(recommendation)
            .where(r.rec_id == jol[0])
            .values(state="escalated", created_utc=now - timedelta(hours=30), sla_due_utc=now - timedelta(hours=6))
        )
        conn.execute(update(recommendation).where(r.rec_id == ckr[0]).values(state="escalated"))
        conn.execute(update(feed_status).values(last_received_utc=now - timedelta(hours=1)))
        conn.execute(
            update(feed_status)
            .where(feed_status.c.plant_id == "EU-ZAR", feed_status.c.source == "production")
            .values(last_received_utc=now - timedelta(hours=80))
        )
        conn.execute(insert(job_run), [_failed_run("risk", None, now - timedelta(minutes=5))])
    engine.dispose()
    yield url, jol[0], ckr[0]


def _shown(at) -> None:
    """No exception and no NaN (the failed job's red banner is expected, so not `healthy`)."""
    assert not at.exception, [e.value for e in at.exception]
    assert not re.search(r"\b(nan|NaN|NaT)\b", rendered_text(at))


def _needs_you(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def _links(at) -> list:
    return [(e.proto.page, e.proto.query_string) for e in at.get("page_link")]


def test_plant_manager_sees_the_escalated_decision_of_the_plant_first(open_as, known_network):
    url, jol_rec, ckr_rec = known_network
    at = open_as(url, "pm_jol")
    _shown(at)
    assert "Needs you now" in [str(s.value) for s in at.subheader]
    lines = [str(m.value) for m in at.markdown if "·" in str(m.value)]
    assert lines[0].startswith(":material/gavel: Overdue · **Decide** (maintenance, Joliet)")
    assert "SLA passed 6 h ago" in lines[0] and "raised 30 h ago" in lines[0]
    assert "Cikarang" not in _needs_you(at) and "Zaragoza" not in _needs_you(at)  # outside the scope
    assert any("**Job failed**: Risk scoring for the network" in line for line in lines)
    links = _links(at)
    assert links[0][1] == f"rec={jol_rec}" and links[0][0].endswith("decision_detail")
    # The link opens the decision (as st.page_link does: the page with its query parameters).
    at.query_params["rec"] = str(jol_rec)
    at.switch_page("pages/decision_detail.py").run()
    assert not at.exception
    assert at.selectbox(key="decision_detail_pick").value == jol_rec


def test_coo_sees_the_network_and_the_action_queue_a_compact_list(open_as, known_network):
    url, jol_rec, ckr_rec = known_network
    at = open_as(url, "coo")
    _shown(at)
    text = _needs_you(at)
    assert "(maintenance, Joliet)" in text and "(maintenance, Cikarang)" in text
    assert "**Late feeds** at Zaragoza: production · oldest last received 3 d ago (expected every 24 h)" in text
    assert "Risk scoring for the network" in text
    page_links = [q for _, q in _links(at) if q]
    assert {f"rec={jol_rec}", f"rec={ckr_rec}"} <= set(page_links)
    at.switch_page("pages/action_queue.py").run()
    _shown(at)
    assert "(maintenance, Cikarang)" in _needs_you(at)
    assert sum("· **" in str(m.value) for m in at.markdown) <= 5  # compact: the first five lines


def test_a_planner_is_told_of_the_plant_kpi_trending_the_wrong_way(open_as, known_network):
    url, _, _ = known_network
    at = open_as(url, "planner_jol")
    _shown(at)
    # Joliet's schedule adherence: 24 of 29 orders on time in the last 7 days (82.8 %) against
    # 93.8 % in the 28 days before, worse by more than 10 %; the decisions wait for other roles.
    lines = [str(m.value) for m in at.markdown if "· **" in str(m.value)]
    assert (
        ":material/trending_down: Watch · **Schedule adherence** at Joliet trends the wrong way: 82.8 % in the "
        "last 7 days against 93.8 % in the 28 days before (-11.0 pp)"
    ) in lines
    assert lines[0].startswith(":material/error: Urgent · **Job failed**")  # urgent before watch
    assert not any("**Decide**" in line for line in lines)
    assert any(page.endswith("schedule") for page, _ in _links(at))


def test_nothing_needs_you_is_said_plainly(open_as, known_network):
    url, _, _ = known_network
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(recommendation).values(state="approved"))
        conn.execute(update(job_run).values(status="succeeded"))
        conn.execute(update(feed_status).values(last_received_utc=datetime.now(timezone.utc)))
    engine.dispose()
    at = open_as(url, "steward")  # no decision role, no KPI of a role: jobs, feeds and models only
    _shown(at)
    assert any(str(s.value).startswith("Nothing needs you right now") for s in at.success)
    assert "Needs you now" not in rendered_text(at)
