"""Sweep page: what-if loss weighting over 2-3 tasks, live progress, the Pareto front, and opening any point."""

from ui.frame import end_page, guard

guard("sweep")

import copy  # noqa: E402
from datetime import datetime  # noqa: E402

import streamlit as st  # noqa: E402

from mtlrec import charts, fmt  # noqa: E402
from mtlrec.config import SIZE_PRESETS, ExperimentConfig  # noqa: E402
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.sweep import (  # noqa: E402
    BASELINE,
    MAX_POINTS,
    REFERENCE_LABELS,
    REFERENCE_METHODS,
    SweepConfig,
    SweepJob,
    SweepResult,
    column_labels,
    grid_size,
    judged_metrics,
    list_sweeps,
    load_sweep,
    metric_columns,
    metric_words,
    plan_text,
    references_beating_every_point,
    report_html,
    sweep_csv,
    sweep_table,
    undefined_objectives,
    weight_column,
)
from ui import runs, state  # noqa: E402
from ui.jobs import session_jobs  # noqa: E402

SETTINGS = state.SWEEP  # plain key, kept for a reload: the last SweepConfig set up here
SHOWN = "sweep_shown"  # the select box of the sweep shown below the form (Streamlit drops it on page changes)
SHOWN_ID = state.SWEEP_SHOWN  # plain key: that sweep's id, kept while another page is shown and after a reload
CLICKED = "sweep_clicked"  # the chart point whose click was last applied (a selection persists across reruns)
CHOSEN = state.SWEEP_POINT  # plain key: the point picked or clicked (else the one nearest equal weights is shown)
POLL_SECONDS = 0.5
REFERENCES_WIDTH = 560  # px of the references box: the four names (less where the page is narrower)
POINTS = {2: (3, 51, 11), 3: (2, 15, 5)}  # tasks -> (min, max, default) points per edge of the simplex
EXPLANATION = """
**What the front means.** Every point is one model trained with its own loss weights and judged on the test rows,
one metric per task. A point is on the **Pareto front** when no other point is at least as good on every task and
better on one. Points off the front are beaten outright: some weighting does better on every task at once, so there
is no reason to pick them. Along the front you can only buy one task's gain with another task's loss: that trade-off
is the whole story of the loss weights.

**How to pick a point.** Decide what one unit of a task is worth to you in the others (a click AUC point against a
like log-loss point, say), and walk along the front until the exchange rate stops paying. If one task has a floor
(the product needs at least some AUC), drop the points below it and take the best of the rest on the others. A front
that is nearly flat in one direction says that task costs the others little: weight it up. Look at the single-task
reference too: a task whose front stays below its single-task value gains nothing from being trained together.

**The ends of the line.** A task whose weight is 0 is evaluated but not trained: its tower keeps its random start,
so its metric at that end is an untrained head's, near chance or even below it (an AUC under 0.5). Those points show
what the other tasks reach without it; read the trade-off from the points between. (Under ESMM, a first step such
as a click at weight 0 is still trained through the purchase that depends on it: its point's card says so, while
the charts mark every weight-0 end alike.)

**The references.** Uncertainty weighting, GradNorm, DWA and PCGrad set the weights themselves while training: a
marker on or beyond the front means the method found a good trade-off without a sweep. The single-task models share
nothing: they show what each task reaches on its own, each with the multi-task model's shape (together about T times
its parameters).

**Read it as optimistic.** The front and the references named above the charts are judged on the same test rows
they are shown on: the best of many weightings is partly the luckiest on those rows, more so with few test rows.
Before you adopt a weighting, confirm it: train it again with another seed (Train) or on newer data, and compare
its validation metrics (Results' learning curves), which no point was chosen on.
"""


def settings(config: ExperimentConfig) -> SweepConfig:
    """The sweep being set up: the last one set up on this page (its model, size and epochs too) on the current
    experiment's data, tasks and other training settings."""
    raw = st.session_state.get(SETTINGS)
    sweep = SweepConfig.from_dict(raw) if raw else SweepConfig(base=config)
    base = copy.deepcopy(config)
    base.model.kind, base.model.size = sweep.base.model.kind, sweep.base.model.size
    base.train.epochs = sweep.base.train.epochs
    sweep.base = base
    names = config.task_names
    sweep.tasks = [t for t in sweep.tasks if t in names] or names[:2]
    return sweep


def setup(sweep: SweepConfig, config: ExperimentConfig) -> SweepConfig:
    """Widgets for every sweep setting; returns the sweep they describe (also kept in SETTINGS)."""
    names = config.task_names
    sweep.tasks = st.multiselect(
        "Tasks to weigh against each other (2 or 3)", names, max_selections=3,
        key=state.seed("sweep_tasks", sweep.tasks),
    )  # fmt: skip
    types = {t.name: t.type for t in config.tasks}
    # Rows of controls that wrap when narrow: in three fixed columns, at 800 px wide with the sidebar open, the model
    # box read "shared_bottor" and the references "u…". A row holds controls that go together; the references have
    # a row of their own, where their four names fit on a wide page (a third of it showed two) and the checkbox
    # goes below them when narrow (beside it, the box shrank back to "u…").
    if sweep.tasks:
        with st.container(horizontal=True):
            for task in sweep.tasks:
                options = judged_metrics(config, task)
                chosen = sweep.metrics.get(task)
                default = chosen if chosen in options else options[0] if types[task] == "binary" else "rmse"
                sweep.metrics[task] = st.selectbox(
                    f"Judge {fmt.md(task)} by",
                    options,
                    format_func=metric_words,
                    key=state.seed(f"sweep_metric_{task}", default),
                )
    with st.container(horizontal=True):
        sweep.grid = st.radio(
            "Weights", ["simplex", "dirichlet"], horizontal=True, key=state.seed("sweep_grid", sweep.grid),
            format_func={"simplex": "evenly spaced", "dirichlet": "random (Dirichlet)"}.get,
            help="Evenly spaced: a line of weights for 2 tasks, a triangular grid for 3. Random: uniform on the simplex.",
        )  # fmt: skip
        n_tasks = len(sweep.tasks) if len(sweep.tasks) in POINTS else 2
        low, high, default = POINTS[n_tasks]
        with st.container():
            if sweep.grid == "simplex":
                label = "Points" if n_tasks == 2 else "Points per edge of the triangle"
                value = sweep.points if low <= sweep.points <= high else default
                sweep.points = st.slider(label, low, high, key=state.seed(f"sweep_points_{n_tasks}", value))
                st.caption(f"{grid_size(n_tasks, sweep.points)} weightings, step {1 / (sweep.points - 1):.3g}")
            else:
                sweep.samples = int(
                    st.number_input("Random weightings", 1, MAX_POINTS, key=state.seed("sweep_samples", sweep.samples))
                )
                sweep.seed = int(
                    st.number_input("Sampling seed", 0, 2**31 - 1, key=state.seed("sweep_seed", sweep.seed))
                )
        base = sweep.base
        # The epochs come from Train, whose range goes further: ranged() moves them into this one.
        base.train.epochs = state.ranged(st.slider, "Epochs per point", "sweep_epochs", base.train.epochs, (1, 50))
    from mtlrec.models import REGISTRY

    kinds = list(REGISTRY)
    with st.container(horizontal=True):
        base.model.kind = st.selectbox(
            "Model", kinds, key=state.seed("sweep_model", base.model.kind if base.model.kind in kinds else kinds[0])
        )
        base.model.size = st.radio(
            "Size", list(SIZE_PRESETS), horizontal=True, key=state.seed("sweep_size", base.model.size)
        )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        sweep.references = st.multiselect(
            "Adaptive weightings as references", list(REFERENCE_METHODS), format_func=REFERENCE_LABELS.get,
            key=state.seed("sweep_references", sweep.references), width=REFERENCES_WIDTH,
        )  # fmt: skip
        sweep.baseline = st.checkbox(
            "Single-task models as a reference", key=state.seed("sweep_baseline", sweep.baseline), width="content",
            help="One network per task, no sharing, each with the multi-task model's shape: what each task reaches "
            "alone.",
        )  # fmt: skip
    st.session_state[SETTINGS] = sweep.to_dict()
    return sweep


def start(sweep: SweepConfig, frame) -> None:
    from mtlrec.schema import validate
    from mtlrec.train import resolve_device

    try:
        sweep.check()
        validate(sweep.experiment(), frame)
        try:  # the device is Train's setting: this page has no control for it (an audit: its advice pointed here)
            resolve_device(sweep.base.train.device)
        except MtlrecError as exc:
            raise MtlrecError(f"{exc.message} (on Train: Advanced settings, Device)") from None
        job = SweepJob(sweep, state.store(), frame).start()
    except MtlrecError as exc:
        st.error("The sweep cannot start:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    session_jobs().sweep = job
    st.session_state.setdefault(state.SESSION_SWEEPS, []).append(job.sweep_id)
    st.session_state[SHOWN] = st.session_state[SHOWN_ID] = job.sweep_id
    st.rerun()


def live_panel(job: SweepJob) -> None:
    """Progress, ETA, Cancel and the front so far, redrawn every POLL_SECONDS without rerunning the page."""

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        snap = job.snapshot()
        if snap.done:
            st.rerun()  # the whole page: the finished sweep below, the form enabled again
        left, right = st.columns([5, 1], vertical_alignment="center")
        total = snap.points_total + snap.references_total
        done = snap.points_done + snap.references_done
        eta = f" · about {fmt.seconds(snap.eta)} left" if snap.eta is not None else ""
        left.progress(
            snap.fraction,
            text=f"{'Stopping… ' if snap.stopping else ''}{done} of {total} run{'' if total == 1 else 's'} · {snap.stage} · "
            f"{fmt.seconds(snap.elapsed)}{eta}",
        )
        if right.button("Cancel", icon=":material/stop:", key="sweep_cancel", type="primary", disabled=snap.stopping):
            job.stop()
            st.toast("Stopping: the points that finished are kept")
        if snap.rows:
            table = sweep_table(snap.rows, job.config)
            st.plotly_chart(front_chart(job.config, table), width="stretch", key="sweep_live_chart")

    poll()


def front_chart(sweep: SweepConfig, table):
    labels = column_labels(table, sweep.tasks)
    points, references = table[table["role"] == "point"], table[table["role"] != "point"]
    weights = [weight_column(t) for t in sweep.tasks]
    return charts.pareto_front(
        points, sweep.objective_columns(), sweep.directions(), references, weights, labels,
        metric_columns(table, sweep.tasks),
    )  # fmt: skip


def sweep_label(row: dict, own: set | str | None = None) -> str:
    """A sweep in the select box: two started in the same minute differ by their id's end, and this session's own
    sweeps (`own`: their ids, kept for the browser) say so (only the latest did: a browser walk)."""
    when = datetime.fromtimestamp(row["created"]).strftime("%Y-%m-%d %H:%M") if row.get("created") else ""
    done = f"{row['points_done']}/{row['points']} points"
    own = {own} if isinstance(own, str) else set(own or ())
    yours = " (this browser's)" if row["id"] in own else ""  # a second tab shares them (the workspace)
    return f"{row['name']} · {row['status']} · {done} · {when} · {row['id'][-6:]}{yours}"


def balanced(points, columns: list[str]) -> str | None:
    """The run id of the grid point nearest equal weights (one on the front first on a tie), or None without points."""
    if points.empty or not columns:
        return None
    weights = points[columns].astype(float)
    distance = ((weights - 1 / len(columns)) ** 2).sum(axis=1).round(9)
    ranked = points.assign(_distance=distance, _off=~points["pareto"].astype(bool))
    return ranked.sort_values(["_distance", "_off"], kind="stable")["run_id"].iloc[0]


def pick_point(result: SweepResult, clicked: str | None) -> str | None:
    """A select box over the sweep's runs (front first), starting at the point nearest equal weights (an end of the
    front trains one task only); a clicked chart point chooses it. A point chosen (picked or clicked, not the one
    shown first) becomes the run Results and Recommend show."""
    table = result.table
    usable = table[table["status"].isin(runs.OPENABLE)]
    if usable.empty:
        return None
    rank = (~usable["pareto"]).astype(int) + 2 * (usable["role"] != "point")  # the front, other points, references
    ordered = usable.iloc[rank.argsort(kind="stable")]
    ids = ordered["run_id"].tolist()
    weights = [weight_column(t) for t in result.config.tasks]
    labels = {  # records, not itertuples: a weight column of a task named watch-time is no attribute name
        r["run_id"]: f"{'★ ' if r['pareto'] else ''}{r['label']}" + untrained(result.config, r, weights)
        for r in ordered.to_dict("records")
    }
    if clicked in ids and st.session_state.get(CLICKED) != clicked:
        st.session_state[CLICKED] = clicked
        st.session_state["sweep_point"] = st.session_state[CHOSEN] = clicked
        st.session_state[state.RESULTS_RUN] = clicked
    nearest = balanced(ordered[ordered["role"] == "point"], [weight_column(t) for t in result.config.tasks])
    chosen = st.session_state.get(CHOSEN)
    # The point chosen (Streamlit forgets the box's value when the user leaves the page), else the point nearest
    # equal weights among those finished so far (while the sweep runs, a nearer one may finish later).
    st.session_state["sweep_point"] = chosen if chosen in ids else nearest or ids[0]
    first = "the point nearest equal weights" if nearest else "the first reference"
    return st.selectbox(
        f"Point (★ on the front; shown first: {first})",
        ids,
        format_func=labels.get,
        key="sweep_point",
        on_change=_picked,
    )


def idle_tasks(sweep, row: dict, weights: list[str]) -> set[str]:
    """The tasks a point's weights leave untrained: weight 0, but under ESMM not a parent its trained conditional
    task trains (ExperimentConfig.untrained_tasks: a click at weight 0 under a purchase is trained)."""
    if row["role"] != "point":
        return set()
    return sweep.point_config([float(row.get(w) or 0.0) for w in weights]).untrained_tasks()


def untrained(sweep, row: dict, weights: list[str]) -> str:
    """A select label's ending: a reference says so, a point names the tasks its weights leave untrained (their
    metric is an untrained head's)."""
    if row["role"] != "point":
        return " (reference)"
    idle = idle_tasks(sweep, row, weights)  # once: a point's config per call
    left = [t for t in sweep.tasks if t in idle]
    return f" ({', '.join(left)} not trained)" if left else ""


def _picked() -> None:
    st.session_state[state.RESULTS_RUN] = st.session_state[CHOSEN] = st.session_state["sweep_point"]


def show(result: SweepResult) -> None:
    sweep, table = result.config, result.table
    points, references = result.points, result.references
    a, b, c, d = st.columns(4)
    evaluated = int(points[sweep.objective_columns()].notna().any(axis=1).sum()) if len(points) else 0
    a.metric(
        "Points",
        f"{len(points)} of {sweep.n_points()}",
        help=None
        if evaluated == len(points)
        else f"{evaluated} of them have test metrics (see the notes on the chart)",
    )
    b.metric("On the Pareto front", int(points["pareto"].sum()) if len(points) else 0)
    running = result.status in ("running", "preparing")
    roles = len(sweep.reference_roles())
    c.metric("References", f"{len(references)} of {roles}" if len(references) < roles else len(references))
    # Saved once when the training starts and again at its end: a sweep still running, or cut off by a server
    # stop, has no time of its own yet.
    d.metric("Time", fmt.seconds(result.seconds) if result.status in ("finished", "stopped", "failed") else "–")
    if running:
        st.info(
            "This sweep is still training (started in another session or tab): these are the runs saved so far, "
            "and the front and the references named below may change. Reload the page for more."
        )
    if result.status in ("stopped", "interrupted", "failed"):
        message = result.message or f"the sweep is {result.status}"
        kept = " The points that finished are shown." if len(table) else ""
        said = f"{message[0].upper()}{message[1:]}".rstrip(".")  # a message may end its own sentence ("data..")
        (st.error if result.status == "failed" else st.warning)(fmt.plain(f"{said}.{kept}"))
    if plan_text(result.plan):
        st.caption(plan_text(result.plan))
    for note in result.notes:
        st.caption(f"Note: {fmt.plain(note)}")
    if table.empty:
        if not running:
            st.info("No point of this sweep finished.")
        return
    for problem in undefined_objectives(table, sweep):
        st.warning(fmt.plain(problem))
    if not running and (beating := references_beating_every_point(table, sweep)):
        plural = len(beating) > 1 or beating[0].endswith("models")
        lesson = (
            " Training these tasks together costs them here (negative transfer): no loss weighting makes up for it; "
            "try other task pairs, a larger size or MMoE/PLE."
            if REFERENCE_LABELS[BASELINE] in beating
            else ""
        )
        st.info(
            f"No loss weighting reaches the {' and the '.join(beating)}: {'they are' if plural else 'it is'} at "
            "least as good as every point that trains all the tasks, on every task, and better on one (the grid's "
            f"ends, a weight at 0, train the other tasks alone).{lesson}",
            icon=":material/lightbulb:",
        )
    labels = column_labels(table, sweep.tasks)
    weights = [weight_column(t) for t in sweep.tasks]
    objectives, directions = sweep.objective_columns(), sweep.directions()
    names = ["Pareto front", "Weight → metric", "Parallel coordinates"] + (["Ternary"] if len(sweep.tasks) == 3 else [])
    tabs = st.tabs(names + ["Table"])
    with tabs[0]:
        event = st.plotly_chart(
            front_chart(sweep, table), width="stretch", key="sweep_pareto", on_select="rerun", selection_mode="points"
        )
        st.caption("Click a point to choose it below; hover for its weights and every metric.")
    with tabs[1]:
        st.plotly_chart(
            charts.weight_metric_curves(points, sweep.tasks, weights, objectives, directions, references, labels),
            width="stretch",
        )
    with tabs[2]:
        st.plotly_chart(charts.parallel_weights(points, weights, objectives), width="stretch")
    if len(sweep.tasks) == 3:
        with tabs[3]:
            colour = st.selectbox("Colour by", objectives, format_func=labels.get, key="sweep_ternary_metric")
            higher = directions[objectives.index(colour)]
            st.plotly_chart(
                charts.ternary_weights(
                    points, sweep.tasks, weights, colour, higher, labels, weights[objectives.index(colour)]
                ),
                width="stretch",
            )
    with tabs[-1]:
        shown = ["label", "role", "status", *weights, *objectives, "pareto", "seconds", "epochs"]
        listed = table[[c for c in shown if c in table.columns]].copy()
        for column in weights:  # a reference's weights are its method's (or each task alone): said, not "None"
            listed[column] = [
                f"{w:.2f}" if role == "point" else "own" for w, role in zip(listed[column], listed["role"], strict=True)
            ]
        st.dataframe(listed.rename(columns=labels), hide_index=True, placeholder="–")
        st.caption("Weights: each point's share of the loss; *own* for a reference, which sets its weights itself.")
    with st.container(horizontal=True):  # the files the CLI's sweep writes
        for label, make, name, mime, what in (
            ("sweep.csv", lambda: sweep_csv(table).encode(), "csv", "text/csv",
             "Weights, every metric, the Pareto flag and seconds per point and reference, one row each"),
            ("pareto.html", lambda: report_html(result).encode(), "html", "text/html",
             "These charts in one page that opens offline (plotly.js inside, about 5 MB)"),
        ):  # fmt: skip
            st.download_button(label, data=make, file_name=f"{label.split('.')[0]}-{result.sweep_id}.{name}",
                               mime=mime, icon=":material/download:", on_click="ignore",
                               key=f"sweep_download_{name}", help=what)  # fmt: skip
    clicked = None
    selection = event["selection"] if event and "selection" in event else {}  # a dict (AppTest) or an attribute dict
    for point in selection.get("points", []):
        data = point.get("customdata")
        clicked = data[0] if isinstance(data, list) and data else clicked
    st.subheader("Open a point")
    chosen = pick_point(result, clicked)
    if chosen is None:
        st.info("No finished run to open yet.")
    else:
        row = table[table["run_id"] == chosen].iloc[0]
        # Every task's weight in one line (a metric card cut three tasks' weights to "1.00 · 0.00 · …").
        if row["role"] == "point":
            weights_text = " · ".join(f"{fmt.md(t)} {row[w]:.2f}" for t, w in zip(sweep.tasks, weights, strict=True))
        else:  # a reference trained with its method's weights, or each task alone
            weights_text = "each task alone" if row["role"] == BASELINE else f"set by {row['label']}"
        st.markdown(f"**Loss weights:** {weights_text}")
        cols = st.columns(len(objectives))
        # A task the point's weights leave untrained: its metric is its random tower's (0.35 read as a result)
        left = idle_tasks(sweep, row, weights)
        idle = {o for o, t in zip(objectives, sweep.tasks, strict=True) if t in left}
        for col, objective in zip(cols, objectives, strict=True):
            col.metric(
                fmt.md(labels.get(objective, objective)) + (" (not trained)" if objective in idle else ""),
                fmt.metric(row[objective]),
                help="Loss weight 0 at this point: the metric of a tower that never learned."
                if objective in idle
                else None,
            )
        # Side by side at their own widths: in a fifth of the page each, "Open in Recom…" was cut (a browser walk)
        with st.container(horizontal=True):
            if st.button("Open in Results", icon=":material/monitoring:", type="primary", key="sweep_open_results"):
                runs.open_run(chosen, "pages/results.py")
            if st.button("Open in Recommend", icon=":material/recommend:", key="sweep_open_recommend"):
                runs.open_run(chosen, "pages/recommend.py")
    with st.expander("What the front means, and how to pick a point", icon=":material/help:"):
        st.markdown(EXPLANATION)


def _left_out(sweep, config) -> str:
    """' The other tasks (like, dwell) are left out: ...' when the sweep trains fewer tasks than the dataset has: its
    points are 2- or 3-task models, which an analyst compared with Train's 4-task runs (an audit)."""
    rest = [t.name for t in config.tasks if t.name not in sweep.tasks]
    if not rest or not 2 <= len(sweep.tasks) <= 3:
        return ""
    shown = ", ".join(fmt.md(n) for n in rest)
    return (
        f" The other label{'s' if len(rest) > 1 else ''} ({shown}) {'are' if len(rest) > 1 else 'is'} left out: each "
        "point trains the swept tasks only, so compare it with runs of those tasks."
    )


st.title("Sweep")
st.caption(
    "What if a task weighed more? Train one model per loss weighting of 2 or 3 tasks, judge each task on the test "
    "rows, and find the weightings no other beats on every task at once."
)
holder = session_jobs()
frame = state.frame()
config = state.experiment()
with st.expander("New sweep", icon=":material/tune:", expanded=not holder.sweeping):
    if frame is None:
        st.info(
            "Load a dataset with at least two label columns first: a bundled sample on **Home**, or yours on **Data**."
        )
        st.page_link("pages/data.py", label="Go to Data", icon=":material/table_view:")
    elif len(config.tasks) < 2:
        held = f"one label, {fmt.md(config.tasks[0].name)}" if config.tasks else "no label"
        st.info(
            f"This dataset has {held}: a sweep weighs two or three tasks against each other. Mark another column "
            "as a label on **Data** (or make a 0/1 label there with Fix the rows)."
        )
        st.page_link("pages/data.py", label="Go to Data", icon=":material/table_view:")
    else:
        sweep = setup(settings(config), config)
        from mtlrec.sweep_engine import warm_processes  # torch and the training code

        warm_processes(sweep.base.train.device)  # the training processes start now, ready when the sweep does
        for note in state.clamped_notes():
            st.info(fmt.plain(note))
        n_runs = sweep.n_points() + len(sweep.reference_roles()) if 2 <= len(sweep.tasks) <= 3 else 0
        # The model, size and epochs are this page's (above; they start at the last sweep's): "the model settings of
        # Train (mmoe tiny…)" stood beside a Train set to shared-bottom, and an analyst swept the wrong model.
        on_train = config.model.kind, config.model.size
        differs = on_train != (sweep.base.model.kind, sweep.base.model.size)
        st.caption(
            f"{n_runs} run{'' if n_runs == 1 else 's'} of the model set above ({sweep.base.model.kind} "
            f"{sweep.base.model.size}, {sweep.base.train.epochs} epoch{'' if sweep.base.train.epochs == 1 else 's'}"
            + (f"; **Train** has {on_train[0]} {on_train[1]}" if differs else "")
            + f"), on the data and the other training settings of **Train** (batch {sweep.base.train.batch_size}, "
            f"patience {sweep.base.train.patience}); every point is saved as a run." + _left_out(sweep, config)
        )
        busy = holder.sweeping
        if st.button("Start sweep", icon=":material/play_arrow:", type="primary", key="sweep_start", disabled=busy,
                     help="One sweep per session" if busy else None):  # fmt: skip
            start(sweep, frame)
if holder.sweeping:
    st.divider()
    live_panel(holder.sweep)

store = state.store()
saved = list_sweeps(store)
if not saved:
    st.info("No sweeps yet: set one up above. Sweeps are saved on the server and listed here after a restart.")
    end_page()
st.divider()
ids = [row["id"] for row in saved]
started = list(st.session_state.get(state.SESSION_SWEEPS, []))
if getattr(holder, "sweep", None) is not None:  # the latest, maybe started in another tab of this browser
    started.append(holder.sweep.sweep_id)
own = started[-1] if started else None
labels = {row["id"]: sweep_label(row, set(started)) for row in saved}
if st.session_state.get(SHOWN) not in ids:
    # Back from another page: the sweep shown before (Streamlit dropped the box's key), else this session's own,
    # else the newest (it fell back to the newest on the server, another session's, after every page change).
    kept = st.session_state.get(SHOWN_ID)
    st.session_state[SHOWN] = kept if kept in ids else own if own in ids else ids[0]
state.current_label(SHOWN, labels)  # its status and points change as it runs and ends
shown = st.selectbox("Sweep", ids, format_func=labels.get, key=SHOWN)
st.session_state[SHOWN_ID] = shown
if holder.sweeping and shown == holder.sweep.sweep_id:
    st.info("This sweep is running: its points appear above as they finish.")
    end_page()
try:
    result = load_sweep(store, shown)
except MtlrecError as exc:
    st.error(fmt.plain(exc.message))
    end_page()
show(result)
