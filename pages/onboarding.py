"""Data onboarding: load a plant's export through its mapping, then work off what did not load."""

import streamlit as st

from components import cached
from components.onboarding import history_section, load_section, quarantine_section, review_section
from components.warehouse import get_engine
from governance.login import current_user

st.title("Data onboarding")
user = current_user()
engine = get_engine()
st.caption(
    "Load a plant's CSV or Excel export through its mapping. Rows that cannot be loaded wait in "
    "quarantine with their reason; local codes nobody has mapped wait in the review list."
)

plants = cached.plants(engine, user.scope)
if plants.empty:
    st.info(
        "There is no plant in your scope yet: a plant must exist in the warehouse before its data can be loaded.",
        icon=":material/factory:",
    )
    st.stop()

load_tab, quarantine_tab, review_tab, history_tab = st.tabs(
    ["Load a file", "Quarantine", "Unmapped codes", "Load history"]
)
with load_tab:
    load_section(engine, user, plants)
with quarantine_tab:
    quarantine_section(engine, user, plants)
with review_tab:
    review_section(engine, user, plants)
with history_tab:
    history_section(engine, user)
