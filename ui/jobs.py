"""The session's training job: held in a session-scoped resource whose release hook stops it.

When the browser tab closes, Streamlit releases the session's resources, the hook sets the job's stop flag, and
the run is saved as "stopped" by the job thread itself (a sweep keeps its finished points). One training job and one
sweep per session; the server-wide cap lives in mtlrec.jobs.DEFAULT_LIMITER.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:  # only for annotations: importing the sweep module (and scikit-learn) would slow the first page
    from mtlrec.jobs import TrainingJob
    from mtlrec.sweep import SweepJob


class SessionJobs:
    """The current (or latest) training job and sweep of one browser session."""

    def __init__(self) -> None:
        self.job: TrainingJob | None = None
        self.sweep: SweepJob | None = None  # the Sweep page's job; it counts against the same server-wide limiter

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.snapshot().done

    @property
    def sweeping(self) -> bool:
        return self.sweep is not None and not self.sweep.snapshot().done

    def release(self) -> None:
        if self.busy:
            self.job.stop()
        if self.sweeping:
            self.sweep.stop()


@st.cache_resource(scope="session", on_release=lambda holder: holder.release(), show_spinner=False)
def session_jobs() -> SessionJobs:
    return SessionJobs()
