"""Train page."""

from ui.frame import guard

guard("train")

import streamlit as st  # noqa: E402

st.title("Train")
st.info("Coming soon.")
