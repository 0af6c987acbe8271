"""Data quality: how fresh and how complete each plant's feeds are, and what waits for a steward."""

import streamlit as st

from components.delivery import inbound_section
from components.onboarding import quality_section
from components.warehouse import get_engine
from governance.login import current_user

st.title("Data quality")
user = current_user()
engine = get_engine()
st.caption(
    "Per plant and feed: freshness against the expected cadence, completeness of the last 28 days "
    "of data, the share of rows still in quarantine and the share waiting for an unmapped code "
    "(loads of the last 28 days). The score weighs them 40 / 30 / 15 / 15; docs/onboarding.md "
    "has the definitions."
)
quality_section(engine, user)
inbound_section(engine, user)
