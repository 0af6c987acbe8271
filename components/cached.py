"""Streamlit caching around the named queries: results live at most CACHE_TTL_S seconds.

The engine argument is not hashed (leading underscore): there is one engine per process.
The scope is part of every cache key, so one user's cached rows never reach another scope.
"""

import streamlit as st

from data_access import queries

CACHE_TTL_S = 300


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def plants(_engine, scope):
    return queries.plants(_engine, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def data_window(_engine, scope):
    return queries.data_window(_engine, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def plant_kpi_components(_engine, scope, start, end):
    return queries.plant_kpi_components(_engine, scope, start, end)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def weekly_kpi_components(_engine, scope, start, end, by_plant=False):
    return queries.weekly_kpi_components(_engine, scope, start, end, by_plant)


@st.cache_data(ttl=60, show_spinner=False)
def feed_freshness(_engine, scope):
    return queries.feed_freshness(_engine, scope)
