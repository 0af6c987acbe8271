"""The one cache policy: Streamlit caching around the named queries, with a lifetime per kind.

The warehouse (the engine's URL) and the scope are part of every cache key, so rows of one
warehouse or one user's scope never reach another. Every component caches its queries with
`cache_query` and one of the lifetimes below; a page that changes data clears the cache.
"""

from functools import partial

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import jobs, quality, queries

STATIC_TTL_S = 300  # marts and dimensions: they change with a load or a job run
RESULTS_TTL_S = 120  # stored forecasts, risk scores, model metrics, decision KPIs
LIVE_TTL_S = 60  # feed freshness, data quality, onboarding state, saved scenarios
QUEUE_TTL_S = 15  # open decisions: stale within seconds of someone's decision


def _warehouse_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


cache_query = partial(st.cache_data, ttl=STATIC_TTL_S, show_spinner=False, hash_funcs={Engine: _warehouse_key})


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


@cache_query(ttl=LIVE_TTL_S)
def feed_freshness(engine, scope):
    return queries.feed_freshness(engine, scope)


@cache_query(ttl=60)
def feeds_ending_before(engine, scope, end):
    return queries.feeds_ending_before(engine, scope, end)


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


@cache_query(ttl=LIVE_TTL_S)
def plant_quality(engine, scope):
    return quality.plant_quality(engine, scope)
