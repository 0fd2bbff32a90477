"""Results page."""

from ui.frame import guard

guard("results")

import streamlit as st  # noqa: E402

st.title("Results")
st.info("Coming soon.")
