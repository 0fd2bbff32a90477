"""The app's frame: the page list, the deep-link guard, and the sidebar every page shares."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import streamlit as st

from mtlrec import fmt
from mtlrec.errors import MtlrecError
from ui import state
from ui.jobs import session_jobs

# (file, title, material icon, url path). Home is app.py itself.
PAGES = [
    ("pages/data.py", "Data", ":material/table_view:", "data"),
    ("pages/train.py", "Train", ":material/model_training:", "train"),
    ("pages/results.py", "Results", ":material/monitoring:", "results"),
    ("pages/recommend.py", "Recommend", ":material/recommend:", "recommend"),
    ("pages/runs.py", "Runs", ":material/history:", "runs"),
]
DEEP_LINK = "_mtlrec_deep_link"
SESSION_RUNS = "session_runs"  # run ids started in this session, oldest first

_local = threading.local()  # set while app.py runs a page: each session's script runs in its own thread


def build_pages(home: Callable[[], None]) -> dict[str, st.Page]:
    pages = {"home": st.Page(home, title="Home", icon=":material/home:", default=True)}
    for path, title, icon, url in PAGES:
        pages[url] = st.Page(path, title=title, icon=icon, url_path=url)
    return pages


@contextlib.contextmanager
def running_page() -> Iterator[None]:
    """Mark the page run as happening inside app.py's navigation (see `guard`)."""
    _local.in_frame = True
    try:
        yield
    finally:
        _local.in_frame = False


def guard(url_path: str) -> None:
    """First line of each page file. With a pages/ folder, a fresh server whose first request is a deep link
    (/train) runs the page file alone: no frame, raw file names in the menu. Route it through app.py instead,
    which then opens the page that was asked for."""
    if getattr(_local, "in_frame", False):
        return
    st.session_state[DEEP_LINK] = url_path
    st.switch_page("app.py")


def follow_deep_link(pages: dict[str, st.Page]) -> None:
    """In app.py, after st.navigation: open the page a guarded deep link asked for."""
    target = st.session_state.pop(DEEP_LINK, None)
    if target in pages:
        st.switch_page(pages[target])


def remember_run(run_id: str) -> None:
    runs = st.session_state.setdefault(SESSION_RUNS, [])
    if run_id not in runs:
        runs.append(run_id)


STATUS_ICONS = {
    "queued": ":material/schedule:",
    "preparing": ":material/hourglass_top:",
    "running": ":material/progress_activity:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/cancel:",
}


def sidebar() -> None:
    """The current dataset and the current/latest run of this session, with its status."""
    with st.sidebar:
        info = state.dataset()
        st.caption("Dataset")
        if info:
            st.markdown(f"**{info['name']}**  \n{fmt.count(info['rows'])} rows × {info['columns']} columns")
        else:
            st.markdown("None yet: load a sample or upload a file on **Home** or **Data**.")
        st.caption("Run")
        holder = session_jobs()
        if holder.job is not None:
            snap = holder.job.snapshot()
            line = f"{STATUS_ICONS.get(snap.status, '')} **{snap.status}**"
            if snap.status == "running":
                line += f" · epoch {snap.epoch}/{snap.epochs} · {snap.fraction:.0%}"
            elif snap.elapsed:
                line += f" · {fmt.seconds(snap.elapsed)}"
            st.markdown(line)
            if snap.run_id:
                st.caption(f"run `{snap.run_id}`")
        elif st.session_state.get(SESSION_RUNS):
            run_id = st.session_state[SESSION_RUNS][-1]
            try:
                row = state.store().get(run_id)
                st.markdown(f"{STATUS_ICONS.get(row['status'], '')} **{row['status']}** · {row['name']}")
            except MtlrecError:  # deleted meanwhile
                st.markdown("No run in this session yet.")
        else:
            st.markdown("No run in this session yet.")
