"""The app's frame: the page list, the deep-link guard, and the sidebar every page shares."""

from __future__ import annotations

import contextlib
import runpy
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

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
    ("pages/sweep.py", "Sweep", ":material/scatter_plot:", "sweep"),
    ("pages/runs.py", "Runs", ":material/history:", "runs"),
]
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"
SESSION_RUNS = state.SESSION_RUNS  # run ids started in this browser's sessions, oldest first

_local = threading.local()  # set while app.py runs a page: each session's script runs in its own thread


def build_pages(home: Callable[[], None]) -> dict[str, st.Page]:
    pages = {"home": st.Page(home, title="Home", icon=":material/home:", default=True)}
    for path, title, icon, url in PAGES:
        pages[url] = st.Page(path, title=title, icon=icon, url_path=url)
    return pages


class _PageEnd(Exception):
    """Raised by end_page(), caught by running_page()."""


def end_page() -> NoReturn:
    """End the page here, as st.stop() would, and let app.py finish the script run. After st.stop() every read of
    session state raises Streamlit's StopException again, so app.py could neither redraw the sidebar nor keep the
    browser's workspace: a reload lost what was set on a page that ended early (Sweep's settings while no sweep was
    saved or one was running)."""
    raise _PageEnd


def stop_if_ended_early() -> None:
    """app.py's last step: a page that ended with end_page() ends the script run as st.stop() does, now that the
    workspace is kept. A run ended so leaves the state of the widgets it did not reach alone; a normal end drops it,
    which would reset Recommend's user and fusion sliders after a glance at a run without users (a review)."""
    if getattr(_local, "ended_early", False):
        _local.ended_early = False
        st.stop()


@contextlib.contextmanager
def running_page() -> Iterator[None]:
    """Mark the page run as happening inside app.py's navigation (see `guard`); a page's end_page() ends here."""
    _local.in_frame, _local.ended_early = True, False
    try:
        yield
    except _PageEnd:
        _local.ended_early = True
    except MtlrecError as exc:  # the run store gone or full while the server runs: said, not a traceback box
        st.error(fmt.plain(exc.message))
    finally:
        _local.in_frame = False


def guard(url_path: str) -> None:
    """First line of each page file.

    With a pages/ folder, Streamlit runs a page file on its own (no frame, raw file names in the menu) when a fresh
    server's first request is a deep link such as /train — and AppTest does so on every run. Run app.py right here
    instead: its st.navigation opens this same page inside the frame, in this same script run, so widget events
    (a button click) are not lost to an extra rerun. Then stop the bare run.
    """
    if getattr(_local, "in_frame", False):
        return
    runpy.run_path(str(APP_PATH), run_name="__main__")
    st.stop()


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


SIDEBAR_POLL_SECONDS = 1.0  # how often the sidebar's run line follows a training


def job_line(job, live: bool = False) -> None:
    """The session's current job: status, epoch and share done while it runs, else how long it took. Drawn `live`
    (refreshed by its fragment), the job's end reruns the page, which stops the refreshing."""
    snap = job.snapshot()
    if live and snap.done:
        st.rerun()
    line = f"{STATUS_ICONS.get(snap.status, '')} **{snap.status}**"
    if snap.status == "running":
        line += f" · epoch {snap.epoch}/{snap.epochs} · {snap.fraction:.0%}"
    elif snap.elapsed:
        line += f" · {fmt.seconds(snap.elapsed)}"
    st.markdown(line)
    name = getattr(job, "name", None)  # a baseline trained from Results is named so: not the run Results shows
    if snap.run_id:
        try:
            gone = snap.done and not state.store().exists(snap.run_id)  # deleted on Runs since, maybe in another tab
        except MtlrecError:  # the store itself unusable (the page says why)
            gone = False
        st.caption(f"{fmt.md(name) + ' · ' if name else ''}run `{snap.run_id}`{' · deleted since' if gone else ''}")


def sidebar(slot=None):
    """The current dataset and the current/latest run of this session, with its status.

    Drawn before the page (so it shows while the page runs) and, into the returned slot, again after it: the page
    may have just loaded a dataset or started a run.
    """
    if slot is None:
        slot = st.sidebar.empty()
    with slot.container():
        info = state.dataset()
        st.caption("Dataset")
        if info:
            fixes = len(state.experiment().data.fixes)
            fixed = f"  \n{fixes} {'fix' if fixes == 1 else 'fixes'} to the rows (on Data)" if fixes else ""
            st.markdown(
                f"**{fmt.md(info['name'])}**  \n{fmt.count(info['rows'])} rows × {info['columns']} columns{fixed}"
            )
        else:
            st.markdown("None yet: load a sample or upload a file on **Home** or **Data**.")
        st.caption("Latest training")
        holder = session_jobs()
        if holder.job is not None:
            # A fragment of its own, refreshed while the job runs, on whatever page is open (a page's own live panel
            # cannot write here); a full rerun after the job ends stops it.
            live = not holder.job.snapshot().done
            st.fragment(run_every=SIDEBAR_POLL_SECONDS if live else None)(job_line)(holder.job, live)
        elif st.session_state.get(SESSION_RUNS):
            run_id = st.session_state[SESSION_RUNS][-1]
            try:
                row = state.store().get(run_id)
                st.markdown(f"{STATUS_ICONS.get(row['status'], '')} **{row['status']}** · {fmt.md(row['name'])}")
            except MtlrecError:  # deleted meanwhile
                st.markdown(f"Run `{run_id}` · deleted since")
        elif holder.sweep is not None and holder.sweep.snapshot().points_done:
            # a sweep's points are runs too: "no run yet" beside 11 saved points read wrong (an audit)
            st.markdown("Only the sweep's points (below), each a run on **Runs**.")
        else:
            st.markdown("No run in this session yet.")
        if holder.sweep is not None:
            st.caption("Sweep")
            live = not holder.sweep.snapshot().done
            st.fragment(run_every=SIDEBAR_POLL_SECONDS if live else None)(sweep_line)(holder.sweep, live)
    return slot


def sweep_line(job, live: bool = False) -> None:
    """The session's current or latest sweep: status and points done (references after them)."""
    snap = job.snapshot()
    if live and snap.done:
        st.rerun()
    line = f"{STATUS_ICONS.get(snap.status, '')} **{snap.status}** · {snap.points_done}/{snap.points_total} points"
    if snap.references_total:
        line += f", {snap.references_done}/{snap.references_total} references"
    st.markdown(line)
    if snap.sweep_id:
        st.caption(f"sweep `{snap.sweep_id}`")
