"""Recommend page."""

from ui.frame import guard

guard("recommend")

import streamlit as st  # noqa: E402

st.title("Recommend")
st.info("Coming soon.")
