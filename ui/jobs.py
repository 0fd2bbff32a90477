"""The browser's training job and sweep: shared by its sessions (tabs, reloads), stopped when none is left.

A training job belongs to the browser that started it, not to one page load: reloading the tab (or opening a
second one) starts a new Streamlit session, which finds the job still running and follows it. The browser is
known by Streamlit's XSRF cookie (a random token per browser, sent masked with every page load), of which only a
hash is kept. When the browser's last session ends (the tab closed), its job and sweep get GRACE_SECONDS to be
picked up by a new session (a reload takes a second or two); then they are stopped, and the run is saved as
"stopped" with the reason in its message (a sweep keeps its finished points). Without the cookie (XSRF protection
off, AppTest), a session is its own browser, as before. One training job and one sweep per browser; the
server-wide cap lives in mtlrec.jobs.DEFAULT_LIMITER.
"""

from __future__ import annotations

import binascii
import hashlib
import threading
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:  # only for annotations: importing the sweep module (and scikit-learn) would slow the first page
    from mtlrec.jobs import TrainingJob
    from mtlrec.sweep import SweepJob

GRACE_SECONDS = 30.0  # a job whose browser has no session left is stopped after this long
CLOSED = "its browser tab was closed"  # the reason in a stopped run's message
_browsers: dict[str, SessionJobs] = {}  # browser -> its jobs, while it has sessions or jobs waiting for one
_lock = threading.Lock()


class SessionJobs:
    """The current (or latest) training job and sweep of one browser, and how many of its sessions are open."""

    def __init__(self, browser: str | None = None) -> None:
        self.browser = browser
        self.job: TrainingJob | None = None
        self.sweep: SweepJob | None = None  # the Sweep page's job; it counts against the same server-wide limiter
        self.sessions = 0
        self.closings = 0  # counts the times its last session ended: a grace timer acts only if it is the latest

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.snapshot().done

    @property
    def sweeping(self) -> bool:
        return self.sweep is not None and not self.sweep.snapshot().done

    def release(self) -> None:
        """A session of this browser ended: when it was the last, stop the jobs (after the grace, for a browser a
        new session can recognise)."""
        with _lock:
            self.sessions -= 1
            if self.sessions > 0:
                return
            if self.browser is None or not (self.busy or self.sweeping):
                _browsers.pop(self.browser, None)
                self.stop(CLOSED)
                return
            self.closings += 1
            closing = self.closings
        timer = threading.Timer(GRACE_SECONDS, self._stop_if_left, args=(closing,))
        timer.daemon = True
        timer.start()

    def _stop_if_left(self, closing: int) -> None:
        with _lock:
            # A reload or a new tab came back to it, or it came back and was left again later (that closing's own
            # timer decides: an earlier one fired 30 s after the first close, in the middle of a second reload).
            if self.sessions > 0 or closing != self.closings:
                return
            if _browsers.get(self.browser) is self:
                del _browsers[self.browser]
        self.stop(CLOSED)

    def stop(self, reason: str | None = None) -> None:
        if self.busy:
            self.job.stop(reason)
        if self.sweeping:
            self.sweep.stop(reason)


def browser_id(cookie: str | None) -> str | None:
    """A hash of the browser's XSRF token (tornado's masked v2 cookie '2|mask|masked token|time'), or None."""
    try:
        version, mask, masked, _ = (cookie or "").split("|")
        mask_bytes, masked_bytes = binascii.a2b_hex(mask), binascii.a2b_hex(masked)
    except (ValueError, binascii.Error):
        return None
    if version != "2" or len(mask_bytes) != 4 or not masked_bytes:
        return None
    token = bytes(b ^ mask_bytes[i % 4] for i, b in enumerate(masked_bytes))
    return hashlib.sha256(token).hexdigest()[:32]


def open_session(browser: str | None) -> SessionJobs:
    """A new session's holder: its browser's (shared with the browser's other sessions), or its own."""
    with _lock:
        if browser is None:
            holder = SessionJobs()
        else:
            holder = _browsers.setdefault(browser, SessionJobs(browser))
        holder.sessions += 1
    return holder


@st.cache_resource(scope="session", on_release=lambda holder: holder.release(), show_spinner=False)
def session_jobs() -> SessionJobs:
    return open_session(browser_id(st.context.cookies.get("_streamlit_xsrf")))
