"""mtlrec: a browser lab for multi-task recommendation models. Run with `streamlit run app.py`.

This file is both the app and its server. Streamlit's script runner executes it as `__main__`: the pages are drawn.
`streamlit run app.py` finds `app = st.App(...)` below and serves this same file through it, with one start-up step
first: torch, its optimiser machinery and scikit-learn are imported (about 3 s of CPU) before the server answers,
so that no user waits for them on a first Train click.
"""

import contextlib

import streamlit as st

from mtlrec import charts, fmt
from mtlrec.errors import MtlrecError, NoHeaderLine
from mtlrec.jobs import freeze_imports, warm_up
from mtlrec.sample import SAMPLES
from ui import frame, state

DEFAULT_TASKS = ("click", "like", "purchase", "watch_time")  # the diagram's tasks before any data is loaded
MAX_DIAGRAM_TASKS = 6
HOME_FAILED = "home_upload_error"  # (file id, message, no header line) of the upload that did not load


WORLD_KEPT = "world_kept"  # the generator's settings, kept while another page is shown (Streamlit drops widgets')
WORLD_DEFAULTS = {"world_correlation": 0.5, "world_rows": 100_000, "world_seed": 0}


def keep_world(key: str) -> None:
    st.session_state.setdefault(WORLD_KEPT, {})[key] = st.session_state[key]


def world() -> None:
    """Generate a synthetic world with the tasks' correlation of one's choice: the teaching knob of negative transfer.
    Its settings stay as set, and the panel open, when the user comes back from another page: they went back to
    0.5 and 100k, and a lecturer meaning 20k rows at 0 generated 100k at 0.5 (a browser walk)."""
    kept = st.session_state.get(WORLD_KEPT, {})
    for key, value in WORLD_DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = kept.get(key, value)
    with st.expander("Or generate a synthetic world", icon=":material/science:", expanded=bool(kept)):
        st.caption(
            "The synthetic sample's generator, with your settings. The task correlation is how much click's true "
            "signal shares with like's, purchase's and watch time's (0.5 in the bundled sample; a purchase and a "
            "watch need a click, so those two stay tied to click whatever you set). Sharing pays when the tasks "
            "are related, whatever the sign: near +1 or -1 the same shared features serve both (a tower flips a "
            "sign). Near 0 they are not: train click and like alone on Train, then *Compare with single-task* on "
            "Results. At 0.9 sharing gains on both; at 0 the gains vanish and a task often loses (negative "
            "transfer). The true probabilities come with it."
        )
        left, middle, right = st.columns(3)
        correlation = left.slider(
            "Task correlation", -1.0, 1.0, step=0.1, key="world_correlation", on_change=keep_world,
            args=("world_correlation",),
        )  # fmt: skip
        rows = middle.select_slider(
            "Rows", state.WORLD_ROWS, key="world_rows", format_func=lambda n: f"{n // 1000}k", on_change=keep_world,
            args=("world_rows",),
        )  # fmt: skip
        seed = right.number_input("Seed", 0, 2**31 - 1, key="world_seed", on_change=keep_world, args=("world_seed",))
        if st.button("Generate and load", key="home_world", icon=":material/auto_awesome:"):
            for key in WORLD_DEFAULTS:  # the panel stays open, as set
                keep_world(key)
            try:
                with st.spinner("Drawing the world…"):
                    state.use_world(correlation, rows, seed)
                st.toast(f"Loaded a synthetic world with task correlation {correlation:g}")
            except MtlrecError as exc:
                st.error(fmt.plain(exc.message))


def home() -> None:
    st.title("mtlrec")
    st.markdown(
        "**A lab for multi-task recommendation models.** Load interaction data with several labels "
        "(click, like, purchase, watch time…), choose the tasks and their loss weights, and train a "
        "shared-bottom network in the browser.  \n"
        "Then compare per-task metrics, learning curves and top-K recommendations across runs, and see what "
        "weighting a task more does to the others."
    )
    tasks = [t.name for t in state.experiment().tasks] if state.dataset() else list(DEFAULT_TASKS)
    st.plotly_chart(charts.architecture(tasks[:MAX_DIAGRAM_TASKS]), width="stretch", key="home_architecture")
    st.caption(
        "Every task's loss pulls the shared layers its own way: related tasks help each other (a rare purchase "
        "label borrows from plentiful clicks), conflicting ones trade off (negative transfer). The loss weights "
        "decide who wins; **Sweep** shows the trade-off, **Results** the gradients' conflict, and MMoE or PLE on "
        "**Train** give tasks room of their own."
    )
    left, right = st.columns(2, gap="large")
    with left, st.container(border=True):
        st.subheader(":material/dataset: Start with a sample")
        for name, info in SAMPLES.items():
            st.markdown(f"**{info['title']}** — {info['description']}")
            if st.button(f"Load {name} sample", key=f"home_load_{name}", icon=":material/download:"):
                try:
                    state.use_sample(name)
                    st.toast(f"Loaded the {name} sample")
                except MtlrecError as exc:
                    st.error(fmt.plain(exc.message))
            info = state.dataset()
            if info and info["path"] == f"sample:{name}":  # said where the click was, not only in the sidebar
                st.success(f"Loaded: {fmt.count(info['rows'])} rows. Next: check it on **Data**, or **Train**.")
        world()
    with right, st.container(border=True):
        st.subheader(":material/upload_file: Or bring your own")
        limit = st.get_option("server.maxUploadSize")
        upload = st.file_uploader(
            f"CSV (comma, semicolon, tab, pipe or :: separated, optionally .gz), Parquet or JSON lines, up to {limit} MB",
            type=None,  # any name (u.data, ratings.inter): the reader says what a file that is no table is
            key="home_upload",
            # the uploader's own "File must be 200.0MB or smaller" says no more
            help=state.UPLOAD_HELP.format(limit=limit),
        )
        if upload is None:  # the file taken out of the uploader: not offered on Data any more
            st.session_state.pop(HOME_FAILED, None)
            st.session_state.pop(state.UNNAMED, None)
        elif st.session_state.get("home_uploaded") != upload.file_id:
            # Each file read once, whether it loads or not: a file that failed was read again on every rerun of
            # Home, and kept on offer on Data after a sample replaced it (a review).
            st.session_state["home_uploaded"] = upload.file_id
            st.session_state.pop(HOME_FAILED, None)
            st.session_state.pop(state.UNNAMED, None)
            try:
                with st.spinner(
                    f"Reading {fmt.md(upload.name)} ({fmt.nbytes(upload.size)}), proposing its schema, checking for leaks…"
                ):
                    state.use_upload(upload.name, upload.getvalue())
                st.toast(f"Loaded {fmt.md(upload.name)}")
            except MtlrecError as exc:
                st.session_state[HOME_FAILED] = (upload.file_id, fmt.plain(exc.message), isinstance(exc, NoHeaderLine))
                if isinstance(exc, NoHeaderLine):  # named on Data, whose form reads the file kept here
                    st.session_state[state.UNNAMED] = {
                        "name": upload.name,
                        "data": upload.getvalue(),
                        "fields": exc.fields,
                        "message": fmt.plain(exc.message),
                    }
        failed = st.session_state.get(HOME_FAILED)
        if upload is not None and failed and failed[0] == upload.file_id:
            st.error(failed[1])
            if failed[2] and st.session_state.get(state.UNNAMED):  # not once a sample or another file replaced it
                st.page_link("pages/data.py", label="Name its columns on Data", icon=":material/table_rows:")
        st.markdown("Rows are interactions: a user, an item, features, and one column per label. See **Data**.")

    st.subheader("Where to go next")
    for page, text in (
        ("pages/data.py", "Data: check the columns and the inferred schema"),
        ("pages/train.py", "Train: pick tasks and loss weights, and train"),
        ("pages/results.py", "Results: per-task metrics, curves and task conflicts"),
        ("pages/sweep.py", "Sweep: the trade-off between tasks as loss weights change"),
        ("pages/runs.py", "Runs: compare runs side by side"),
    ):
        st.page_link(page, label=text, icon=":material/arrow_forward:")

    st.subheader("This session")
    info = state.dataset()
    runs = st.session_state.get(frame.SESSION_RUNS, [])
    a, b, c = st.columns(3)
    a.metric("Dataset", info["name"] if info else "none")
    b.metric("Rows", fmt.count(info["rows"]) if info else "–")
    c.metric("Runs started", len(runs))


if __name__ == "__main__":  # a script run: draw the page
    st.set_page_config(page_title="mtlrec", page_icon=":material/hub:", layout="wide")
    pages = frame.build_pages(home)
    if state.restore_workspace():  # a reload: this browser's dataset and settings, as it left them
        st.toast("Your dataset and settings are back after the reload.", icon=":material/restore:")
    navigation = st.navigation(list(pages.values()))
    sidebar = frame.sidebar()
    try:
        with frame.running_page():
            navigation.run()
        frame.sidebar(sidebar)  # again: the page may have loaded a dataset or started a run
    finally:  # also when the page ended with st.rerun() (pages end early with frame.end_page(), not st.stop())
        state.keep_workspace()
        warm_up()  # after the page is drawn: the imports it starts (torch, sklearn) would otherwise slow that drawing
    frame.stop_if_ended_early()
else:  # imported by `streamlit run` (uvicorn): the server

    @contextlib.asynccontextmanager
    async def _preload(_app):
        warm_up(block=True)
        freeze_imports()
        yield

    app = st.App(__file__, lifespan=_preload)
