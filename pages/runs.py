"""Runs page."""

from ui.frame import guard

guard("runs")

import streamlit as st  # noqa: E402

st.title("Runs")
st.info("Coming soon.")
