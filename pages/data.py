"""Data page."""

from ui.frame import guard

guard("data")

import streamlit as st  # noqa: E402

st.title("Data")
st.info("Coming soon.")
