"""Streamlit caching around the named queries: results live at most CACHE_TTL_S seconds.

The warehouse (the engine's URL) and the scope are part of every cache key, so rows of one
warehouse or one user's scope never reach another. Other components cache their queries
with `cache_query` too.
"""

from functools import partial

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import decisions, jobs, quality, queries

CACHE_TTL_S = 300


def _warehouse_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


cache_query = partial(st.cache_data, ttl=CACHE_TTL_S, show_spinner=False,
                      hash_funcs={Engine: _warehouse_key})


@cache_query()
def plants(engine, scope):
    return queries.plants(engine, scope)


@cache_query()
def data_window(engine, scope):
    return queries.data_window(engine, scope)


@cache_query()
def plant_kpi_components(engine, scope, start, end):
    return queries.plant_kpi_components(engine, scope, start, end)


@cache_query()
def weekly_kpi_components(engine, scope, start, end, by_plant=False):
    return queries.weekly_kpi_components(engine, scope, start, end, by_plant)


@cache_query(ttl=60)
def feed_freshness(engine, scope):
    return queries.feed_freshness(engine, scope)


# --- drill-down dimensions (issue 3) ---------------------------------------------------------

@cache_query(ttl=60)
def failing_jobs(engine):
    return jobs.failing_jobs(engine)


@cache_query()
def lines(engine, scope):
    return queries.lines(engine, scope)


@cache_query()
def assets(engine, scope, line_id=None):
    return queries.assets(engine, scope, line_id)


@cache_query()
def stocked_materials(engine, scope):
    return queries.stocked_materials(engine, scope)


# --- beside each plant on the overview: data quality (onboarding) and decisions -----------

@cache_query(ttl=60)
def plant_quality(engine, scope):
    return quality.plant_quality(engine, scope)


@cache_query(ttl=60)
def overview_decision_kpis(engine, scope, start, end):
    return decisions.overview_decision_kpis(engine, scope, start, end)
