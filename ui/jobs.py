"""The session's training job: held in a session-scoped resource whose release hook stops it.

When the browser tab closes, Streamlit releases the session's resources, the hook sets the job's stop flag, and
the run is saved as "stopped" by the job thread itself. One job per session; the server-wide cap lives in
mtlrec.jobs.DEFAULT_LIMITER.
"""

from __future__ import annotations

import streamlit as st

from mtlrec.jobs import TrainingJob


class SessionJobs:
    """The current (or latest) job of one browser session."""

    def __init__(self) -> None:
        self.job: TrainingJob | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.snapshot().done

    def release(self) -> None:
        if self.busy:
            self.job.stop()


@st.cache_resource(scope="session", on_release=lambda holder: holder.release(), show_spinner=False)
def session_jobs() -> SessionJobs:
    return SessionJobs()
