"""Streamlit glue shared by the pages: session state, the job holder, the frame (sidebar, deep-link guard)."""
