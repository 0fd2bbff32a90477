"""Saved runs in the pages: pick one, read it, rebuild its model and recommender (cached per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from mtlrec import fmt
from mtlrec.errors import MtlrecError
from mtlrec.runs import LoadedRun
from ui import state

if TYPE_CHECKING:
    from mtlrec.data import FileChange

OPENABLE = ("finished", "stopped")  # statuses whose runs have test metrics and a model
SHOWABLE = ("finished", "stopped", "failed", "interrupted")  # Results shows these (failed/interrupted: message, curves)
RUN_PARAM = "run"  # the run shown on Results and Recommend, in the address
OPENING = "runs_opening_page"  # the page a button asked to open its run on, at the start of the next script run
WRITTEN = "runs_param_written"  # the run this session last wrote into the address (RUN_PARAM)


def run_label(row: dict) -> str:
    return f"{row['name']} · {row['status']} · {row['id']}"


def pick_run(label: str, key: str, statuses: tuple[str, ...] = OPENABLE, exclude: str | None = None) -> str | None:
    """A select box over saved runs (newest first), defaulting to the run opened last; None when none exist.

    The choice is kept in the plain session-state key RESULTS_RUN so Results and Recommend show the same run, and
    in the address (`?run=<id>`), so that a reload (a new session) or a copied link shows it again. A run in the
    address that this session did not write there (a link, a bookmark, a reload, the browser's Back) is the one
    shown: the session's run (kept across reloads with the workspace) is only the default of an address without one.
    """
    every = state.store().list()
    rows = [r for r in every if r["status"] in statuses and not r["damaged"] and r["id"] != exclude]
    if not rows:
        # The run opened last may have been deleted (in another tab): say so above the page's "no run yet".
        opened = st.session_state.get(state.RESULTS_RUN) or st.query_params.get(RUN_PARAM)
        if opened and opened != exclude:
            st.info(f"{why_not_listed(opened, every, statuses)}.")
        return None
    ids = [r["id"] for r in rows]
    labels = {r["id"]: run_label(r) for r in rows}
    linked = st.query_params.get(RUN_PARAM)
    if linked and linked != st.session_state.get(WRITTEN):
        st.session_state[state.RESULTS_RUN] = linked
    current = st.session_state.get(state.RESULTS_RUN) or linked
    training = any(r["id"] == current and r["status"] == "running" for r in every)
    if current and current not in ids and current != exclude:
        until = " until it ends" if training else ""
        st.info(f"{why_not_listed(current, every, statuses)}, so the newest run that can be is shown{until}.")
    if current in ids:
        if st.session_state.get(key) != current:
            st.session_state[key] = current
    elif st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    state.current_label(key, labels)
    # A run still training stays the one to show once it ends, unless another is chosen here meanwhile.
    chosen = st.selectbox(label, ids, format_func=labels.get, key=key, on_change=_chosen, args=(key,))
    if not training:
        st.session_state[state.RESULTS_RUN] = chosen
    if st.query_params.get(RUN_PARAM) != chosen:
        st.query_params[RUN_PARAM] = chosen
    st.session_state[WRITTEN] = chosen
    return chosen


def _chosen(key: str) -> None:
    """A run picked in pick_run's select box is the one to show (before the page reads RESULTS_RUN)."""
    st.session_state[state.RESULTS_RUN] = st.session_state[key]


def why_not_listed(run_id: str, every: list[dict], statuses: tuple[str, ...]) -> str:
    """Why the run opened last is not among `every` run's rows this page lists: deleted since, damaged, or of a
    status this page does not show."""
    row = next((r for r in every if r["id"] == run_id), None)
    if row is None:
        return f"Run `{run_id}` is not in this lab (deleted, or its id was cut short or mistyped)"
    if row["damaged"]:
        return f"Run “{fmt.md(row['name'])}” ({run_id}) is damaged and cannot be read"
    shown = ", ".join(statuses[:-1]) + f" or {statuses[-1]}" if len(statuses) > 1 else statuses[0]
    return f"Run “{fmt.md(row['name'])}” ({run_id}) is {row['status']}: this page shows {shown} runs only"


def open_run(run_id: str, page: str = "pages/results.py") -> None:
    """Make a run the one shown on Results and Recommend, and go to a page."""
    st.session_state[state.RESULTS_RUN] = run_id
    st.switch_page(page)


def open_on_click(run_id: str, page: str) -> None:
    """A button's on_click: open `run_id` (the run shown when the button was drawn) on `page`. The page switches in
    follow_open(), before the page clicked on resolves its own run: a run deleted meanwhile was replaced there by
    the newest one, which the click then opened without a word; now `page` says that it no longer exists."""
    st.session_state[state.RESULTS_RUN] = run_id
    st.session_state[OPENING] = page


def follow_open() -> None:
    """Go to the page an open_on_click button asked for, if one did (call it before pick_run)."""
    if page := st.session_state.pop(OPENING, None):
        st.switch_page(page)


def deleted_note(run_id: str, name: str) -> bytes:
    """What a download of a run deleted since its page was drawn holds instead of the file."""
    return (
        f"Run {run_id} was deleted (on the Runs page, maybe in another tab or by another user) after the page "
        f"offering {name} was drawn: its files are gone, so {name} could not be downloaded.\n"
    ).encode()


def unreadable_note(run_id: str, name: str, exc: Exception) -> bytes:
    """What a download holds when the run is still listed but its file cannot be read (removed by hand, a disk
    error): not said to be deleted (a review: a run missing only model.pt downloaded 'was deleted')."""
    return (
        f"{name} of run {run_id} could not be read ({exc}): the run is still in the lab, but this file is missing "
        "or damaged in its folder.\n"
    ).encode()


def _or_note(run_id: str, name: str, read: Callable[[], bytes | str]) -> Callable[[], bytes | str]:
    store = state.store()  # here, in the page's run: the callable runs when the browser asks for the file

    def data() -> bytes | str:
        try:
            return read()
        except (OSError, MtlrecError) as exc:  # the folder deleted since the page was drawn (MtlrecError: the index)
            try:
                listed = store.exists(run_id)
            except Exception:  # noqa: BLE001 - the note is all that is left to give
                listed = False
            return unreadable_note(run_id, name, exc) if listed else deleted_note(run_id, name)

    return data


@st.fragment
def downloads(run_id: str, buttons: list[dict]) -> None:
    """Download buttons of a saved run's files (each dict: st.download_button's arguments, `data` a callable that
    reads the file when clicked). A click reruns these buttons only; when the run was deleted since the page was
    drawn (on Runs, maybe in another tab), the whole page reruns and says so, and the download holds a note saying
    why. A click ran no script before ("ignore"), so the page went on showing the deleted run, and the file's
    reader raised: the click did nothing, with a traceback in the server's log (a browser audit)."""
    try:
        gone = not state.store().exists(run_id)
    except MtlrecError as exc:  # the store itself failing: a fragment's rerun is outside the page's catch
        st.error(fmt.plain(exc.message))
        return
    if gone:
        st.rerun(scope="app")
    with st.container(horizontal=True):
        for button in buttons:
            st.download_button(**{**button, "data": _or_note(run_id, button["label"], button["data"])})


def load(run_id: str) -> LoadedRun | None:
    """A saved run's config, metrics and history; shows the reason and returns None if it cannot be read."""
    try:
        return state.store().load(run_id)
    except MtlrecError as exc:
        st.error(fmt.plain(exc.message))
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def predictions_of(run_id: str):
    """A run's test predictions (read once per run: the file does not change after the run ends)."""
    return state.store().load(run_id).predictions()


@st.cache_data(show_spinner=False, max_entries=16)
def reference_noise(run_id: str, reference_id: str) -> dict:
    """Per task, two paired standard errors of the difference of its metrics between two runs (mtlrec.gain.
    paired_noise: AUC, RMSE, and log loss, MAE), when both were tested on the same rows (the same data, split and
    seed); {} when not, or a run's predictions cannot be read. {task: {metric: noise}}."""
    from mtlrec import gain

    try:
        tasks = state.store().load(run_id).config.tasks
        noise = gain.paired_noise(predictions_of(run_id), predictions_of(reference_id), tasks)
    except (MtlrecError, ValueError, OSError):  # deleted or damaged since the page listed it (an empty CSV)
        return {}
    out: dict = {}
    for key, value in noise.items():
        task, metric = (key, None) if isinstance(key, str) else key
        kind = next((t.type for t in tasks if t.name == task), "binary")
        out.setdefault(task, {})[metric or gain.GAIN_METRICS[kind][0]] = value
    return out


@st.cache_resource(scope="session", max_entries=2, show_spinner="Loading the model…")
def model_of(run_id: str):
    """(model, encoder) of a saved run, rebuilt from its files (session-scoped: models are per user)."""
    return state.store().load(run_id).load_model()


def with_data(run_id: str) -> LoadedRun:
    """The saved run, its data files here: an imported run finds a file uploaded since by its content (relink).
    Raises MtlrecError saying how to bring a file back when one is not here."""
    from mtlrec.transfer import relink

    relink(state.store(), run_id)
    run = state.store().load(run_id)
    if gone := run.missing_data:
        d = run.config.data
        names = " and ".join(d.name if p == d.path and d.name else Path(p).name for p in gone)
        raise MtlrecError(
            f"The run's data ({names}) is not on this server, not with the content it was trained on (a run imported "
            "from elsewhere, or a file deleted since). Upload the same file on the Data page: the run finds it by "
            "its content."
        )
    return run


@st.cache_resource(scope="session", max_entries=2, show_spinner="Preparing recommendations…")
def recommender_of(run_id: str):
    """A Recommender over the run's own data file (raises MtlrecError when the file is gone)."""
    from mtlrec.data import load_frames
    from mtlrec.recommend import Recommender, history_rows

    run = with_data(run_id)
    model, encoder = model_of(run_id)
    frame, test_frame, _ = load_frames(run.config)
    return Recommender(model, encoder, run.config, history_rows(frame, test_frame))


def data_changes(run_id: str) -> list[FileChange]:
    """How the run's data files changed since it was trained (mtlrec.data.changed_files' FileChanges), [] when they
    did not."""
    from mtlrec.data import changed_files

    run = state.store().load(run_id)
    return changed_files(run.metrics.get("data_files") or []) if run is not None else []


def kept_caption(shown: dict, kept: bool) -> str:
    """Which epoch the validation cards show: the kept one (one per network of a single-task baseline, whose cards
    had shown epoch 4 beside networks kept at epochs 1-4: a teaching audit), or the last so far."""
    epochs = set(shown.values())
    if not kept:
        return f"Validation metrics of epoch {next(iter(epochs))}, the last so far."
    if len(epochs) == 1:
        return f"Validation metrics of epoch {next(iter(epochs))}, whose model was kept."
    each = ", ".join(f"{fmt.md(task)} {epoch}" for task, epoch in shown.items())
    return f"Validation metrics of the epoch each network was kept at: {each}."
