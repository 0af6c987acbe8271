"""A confirmation that survives the rerun after a write: `rerun_with` stores it and reruns,
`show` draws it once at the top of the page."""

import streamlit as st


def show(key: str) -> None:
    message = st.session_state.pop(key, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def rerun_with(key: str, message: str) -> None:
    st.session_state[key] = message
    st.rerun()
