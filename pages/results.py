"""Results page: one saved run's per-task metrics (against a reference run), curves, predictions, task conflict
and its gain over single-task baselines."""

from ui.frame import end_page, guard

guard("results")


import streamlit as st  # noqa: E402

from mtlrec import charts, compare, fmt, gain  # noqa: E402
from mtlrec.config import WEIGHTING_LABELS  # noqa: E402
from mtlrec.data import ranking_note  # noqa: E402
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.metrics import higher_is_better  # noqa: E402
from mtlrec.runs import data_groups, data_key, data_label, same_file_other_fixes  # noqa: E402
from ui import runs, state  # noqa: E402
from ui.frame import STATUS_ICONS, remember_run  # noqa: E402
from ui.jobs import session_jobs  # noqa: E402

NONE = "(none)"
REF_PARAM = "ref"  # the reference run, in the address beside the run shown (ui.runs.RUN_PARAM), for a reload or a link
CARD_LABELS = {"auc": "AUC", "gauc": "GAUC", "logloss": "LogLoss", "rmse": "RMSE", "mae": "MAE"}
CARD_HELP = {
    "auc": "Area under the ROC curve on the test rows: 0.5 is chance, 1 is a perfect ranking.",
    "gauc": "AUC per user, averaged with each user's row count as weight (users with one class skipped).",
    "logloss": "Mean binary cross-entropy of the predicted probabilities: lower is better, rewards calibration.",
    "rmse": "Root mean squared error on the label's own scale: lower is better.",
    "mae": "Mean absolute error on the label's own scale: lower is better.",
    "ndcg": "NDCG of each user's test rows ranked by this task's prediction, with the label as graded gain.",
}
POLL_SECONDS = 1.0
# How to read each task-conflict chart, for learners.
CONFLICT_CAPTIONS = {
    "weights": "The weight each task's loss had in each epoch. Fixed weights (and PCGrad, which keeps them) stay "
    "flat; uncertainty weighting, GradNorm and DWA move them: a falling line is a task being played down (its loss "
    "is large or noisy, or it already learns fast), a rising one a task being helped along.",
    "norms": "How hard each task pulls on the shared layers: the size of its weighted loss gradient there, measured "
    "on a few validation batches each epoch. A task far above the others decides what the shared layers learn; "
    "GradNorm evens these pulls out.",
    "cosines": "Whether two tasks want the shared layers to move the same way: +1 the same direction, 0 unrelated, "
    "below 0 (shaded) they pull the shared layers apart, so one task's step undoes part of the other's: a source "
    "of negative transfer. PCGrad projects such conflicts away; MMoE and PLE let conflicting tasks use different "
    "experts.",
    "gates": "Each row is a task, each column an expert; a cell is the average weight the task's gate gives that "
    "expert on validation rows in the epoch whose model was kept (the best; each row sums to 1). Tasks that lean on the same experts share "
    "what they learn; a task that relies on experts the others ignore has moved away from them.",
}
NO_SHARED_LAYERS = (
    "Single-task models have no shared layers: each task has a network of its own, so no task can pull on "
    "another's parameters and there are no gradient norms or cosines to compare."
)
DIAGNOSTICS_OFF = (
    "Diagnostics were off for this run: turn on *Record task-conflict diagnostics* on **Train** to see each "
    "task's pull on the shared layers and whether the tasks agree."
)


def task_title(task, color: str, config) -> str:
    """A task card's title: its name, type and loss weight, said to be untrained at weight 0 and the starting
    weight under an adaptive weighting (its weights move while it trains)."""
    name = fmt.md(task.name)
    method = WEIGHTING_LABELS.get(config.weighting.method)
    if task.name in config.untrained_tasks():
        weight = f"not trained (loss weight {fmt.weight(task.weight)}): its metrics are an untrained tower's"
    elif method:
        weight = f"initial loss weight {fmt.weight(task.weight)} ({method})"
    else:  # as the run's name writes it (0.666667 here beside 0.667 there: a browser walk)
        weight = f"loss weight {fmt.weight(task.weight)}"
    labelled = " · measured on its labelled rows only" if task.labelled_only else ""
    # The task's colour on a swatch, its name in the text colour: orange text on white was 2.25:1 (an audit)
    return f'#### :color[■]{{foreground="{color}"}} {name}\n{task.type} · {weight}{labelled}'


def metric_cards(task, values: dict, reference: dict | None, k: int, noise: dict | None = None) -> None:
    """The task's test metrics as cards; with a reference run, each card's difference from it, grey where it is
    equal or within `noise` (two paired standard errors on the same test rows: the rows alone could give it)."""
    keys = ["auc", "gauc", "logloss"] if task.type == "binary" else ["rmse", "mae"]
    keys = [key for key in keys if key in values] + [key for key in (f"ndcg@{k}",) if key in values]
    with st.container(horizontal=True):
        for key in keys:
            ref = reference.get(key) if reference else None
            delta = fmt.delta(values[key], ref)
            color = "normal" if higher_is_better(key) else "inverse"
            within = (noise or {}).get(key)
            if delta and within is not None and not fmt.unchanged(delta):
                inside = abs(values[key] - ref) < within
                delta += f" ({'within ' if inside else ''}noise ±{within:.4f})"
                color = "off" if inside else color
            st.metric(  # "test": Train shows validation metrics of the same run, which differ
                f"test {CARD_LABELS.get(key, key.upper())}",
                fmt.metric(values[key]),
                delta=delta,
                # an equal metric is neither gain nor loss: grey and without an arrow, not "-0.0000" in red
                delta_color="off" if fmt.unchanged(delta) else color,
                delta_arrow="off" if fmt.unchanged(delta) else "auto",
                help=CARD_HELP[key.split("@")[0]],
                border=True,
            )
    # None for a task with no labelled test row (labelled rows only): the page broke here (a browser audit)
    if task.type == "binary" and values.get("pos_rate") is not None and values.get("mean_pred") is not None:
        st.caption(
            f"positives {fmt.metric(100 * values['pos_rate'], 1)}% · "
            f"mean prediction {fmt.metric(100 * values['mean_pred'], 1)}%"
        )


def status(row: dict) -> None:
    """The run's name and how it ended, with the reason (early stopping, the user, an error)."""
    st.subheader(fmt.md(row["name"]))
    line = f"{STATUS_ICONS.get(row['status'], '')} **{row['status']}**"
    line += f" · {fmt.md(row['message'])}" if row["message"] else ""  # plain text, which may quote a column's name
    if row["status"] == "failed":
        st.error(line)
    elif row["status"] == "stopped":
        st.warning(line)
    else:
        st.markdown(line)


def _fixes(n: int) -> str:
    return f"{n} {'fix' if n == 1 else 'fixes'} to the rows (see the notes)"


def details(run) -> None:
    """Model, size, training effort, data and split of a loaded run; its notes folded away."""
    metrics, config = run.metrics, run.config
    epochs = f"{metrics.get('epochs_run', '–')} of {config.train.epochs} epochs"
    if metrics.get("best_epochs"):  # the single-task networks, each at its own best epoch
        epochs += f" (best: {', '.join(f'{fmt.md(task)} {epoch}' for task, epoch in metrics['best_epochs'].items())})"
    elif metrics.get("best_epoch"):
        epochs += f" (best {metrics['best_epoch']})"
    rate = metrics.get("samples_per_second")
    method = WEIGHTING_LABELS.get(config.weighting.method)
    st.markdown(
        f"**{config.model.kind}** · {config.model.size}{f' · {method}' if method else ''} · "
        f"{fmt.count(metrics.get('params'))} parameters · "
        f"{epochs} · {fmt.seconds(metrics.get('train_seconds'))} training"
        + (f" · {fmt.count(rate)} rows/s" if rate else "")
        + f"  \ndata {fmt.md(data_label(config.data.path, full=True, name=config.data.name)) or 'in memory'}"
        + (f" with {_fixes(len(config.data.fixes))}" if config.data.fixes else "")
        + f" · {config.split.method} split · "
        f"seed {config.train.seed}" + f" · run `{run.run_id}`"
    )
    notes = metrics.get("notes") or []
    if notes:
        with st.expander(f"Notes ({len(notes)})", icon=":material/info:"):
            st.markdown("\n".join(f"- {fmt.plain(note)}" for note in notes))


def task_conflict(run) -> None:
    """Effective weights, gradient norms, gradient cosines and gate weights recorded per epoch (mtlrec.diagnostics)."""
    history, tasks, model = run.history, run.config.tasks, run.config.model
    st.subheader("Task conflict")
    if history.empty:
        st.info("No epoch finished, so nothing was recorded.")
        return
    columns = [str(c) for c in history.columns]
    weights_cell, norms_cell = st.columns(2)
    with weights_cell:
        if run.config.weighting.method == "fixed":
            # Fixed weights draw flat lines on top of each other (equal weights: one line shows): said instead.
            shown = ", ".join(f"{fmt.md(t.name)} {fmt.weight(t.weight)}" for t in tasks)
            st.info(
                f"Fixed loss weights ({shown}): the same in every epoch. Uncertainty weighting, GradNorm or DWA on "
                "**Train** change them while training, and this panel then draws them by epoch."
            )
        else:
            st.plotly_chart(charts.effective_weights(history, tasks), width="stretch", key="results_weights")
            st.caption(CONFLICT_CAPTIONS["weights"])
    recorded = any(c.endswith("/grad_norm") for c in columns)
    with norms_cell:
        if model.kind == "single_task":
            st.info(NO_SHARED_LAYERS)
        elif not recorded:
            st.info(DIAGNOSTICS_OFF)
        else:
            st.plotly_chart(charts.gradient_norms(history, tasks), width="stretch", key="results_grad_norms")
            st.caption(CONFLICT_CAPTIONS["norms"])
    cosines_cell, gates_cell = st.columns(2)
    with cosines_cell:
        if recorded and len(tasks) > 1:
            st.plotly_chart(charts.gradient_cosines(history, tasks), width="stretch", key="results_cosines")
            st.caption(CONFLICT_CAPTIONS["cosines"])
        elif recorded:
            st.info("One task: there is no pair of tasks whose gradients could agree or conflict.")
    with gates_cell:
        if any(c.startswith("gate/") for c in columns):
            figure = charts.gate_heatmap(history, tasks, model, kept_epoch(run.metrics))
            st.plotly_chart(figure, width="stretch", key="results_gates")
            caption = CONFLICT_CAPTIONS["gates"]
            if model.kind == "ple":
                caption += " Blank cells: a PLE task's gate cannot reach the experts another task owns."
            st.caption(caption)
        elif model.kind in ("mmoe", "ple"):
            st.info(DIAGNOSTICS_OFF.replace("whether the tasks agree", "which experts each task's gate uses"))
        else:
            st.info(f"No gates: only MMoE and PLE have them, and this run is {model.kind}.")


def start_baseline(run, row: dict) -> None:
    """Train the run's single-task baseline in the session's job slot and link it to the run."""
    from mtlrec.data import load_frames
    from mtlrec.jobs import TrainingJob

    store = state.store()
    try:
        run = runs.with_data(run.run_id)  # an imported run's data, uploaded since
        frame, test_frame, _ = load_frames(run.config)
        job = TrainingJob(
            gain.single_task_config(run.config),
            store,
            frame,
            test_frame,
            name=f"single-task baseline of {row['name']}",
            baseline_of=run.run_id,
        ).start()
    except MtlrecError as exc:
        st.error("The baseline cannot start:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    session_jobs().job = job
    remember_run(job.run_id)
    gain.link_baseline(store, run.run_id, job.run_id)
    st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def baseline_progress(baseline_id: str) -> None:
    """Progress of a baseline run while it trains; a full rerun when it ends shows the gain."""
    try:
        status = state.store().get(baseline_id)["status"]
    except MtlrecError:
        status = "deleted"
    if status != "running":
        st.rerun()
    job = session_jobs().job
    if job is not None and job.run_id == baseline_id:
        snap = job.snapshot()
        left, right = st.columns([5, 1], vertical_alignment="center")
        if snap.status in ("queued", "preparing"):
            left.progress(0.0, text=f"Single-task baseline `{baseline_id}`: preparing the data, first batches…")
        else:
            eta = f" · about {fmt.seconds(snap.eta)} left" if snap.eta is not None else ""
            left.progress(
                snap.fraction,
                text=f"Training the single-task baseline `{baseline_id}` · epoch {snap.epoch}/{snap.epochs} · "
                f"batch {snap.batch}/{snap.batches} · {fmt.seconds(snap.elapsed)}{eta}",
            )
        if right.button("Stop", icon=":material/stop:", key="results_baseline_stop"):
            job.stop()
            st.toast("Stopping after the current batch: the baseline keeps its best epoch so far.")
    else:
        st.info(
            f"The single-task baseline `{baseline_id}` is training in another session; this page updates when it ends."
        )


def log1p_note(table, tasks) -> str | None:
    """A caption for log1p regression tasks whose RMSE and MAE gains point different ways (gain.log1p_disagreements)."""
    parts = [f"{fmt.md(task)}: RMSE {rmse:+.2f}%, MAE {mae:+.2f}%" for task, rmse, mae in
             gain.log1p_disagreements(table, tasks)]  # fmt: skip
    if not parts:
        return None
    return (
        f"The two errors disagree ({'; '.join(parts)}). These tasks train on log(1 + y), which weighs every row's "
        "ratio alike; RMSE on the label's own scale weighs its largest values most, MAE less. Judge the transfer by "
        "the error that matters for the use (every compared metric is below)."
    )


def gain_table(run, baseline) -> None:
    """The gain per task on its main metric (a table and a bar chart), every compared metric folded away."""
    tasks = run.config.tasks
    noise = gain.paired_noise(runs.predictions_of(run.run_id), runs.predictions_of(baseline.run_id), tasks)
    table = gain.mtl_gain(
        run.metrics["tasks"], baseline.metrics.get("tasks") or {}, tasks, run.config.untrained_tasks(), noise
    )
    people = table.rename(
        columns={"multi_task": "multi-task", "single_task": "single-task", "relative_gain": "gain (%)"}
    ).drop(columns="main")
    number = st.column_config.NumberColumn(format="%.4f")
    config = {
        "multi-task": number,
        "single-task": number,
        "gain": st.column_config.NumberColumn(format="%+.4f"),
        "gain (%)": st.column_config.NumberColumn(format="%+.2f%%"),
        "noise": st.column_config.NumberColumn(
            "noise (±)", format="%.4f", help="Two standard errors of the difference on these test rows"
        ),
    }
    st.dataframe(people[table["main"]], hide_index=True, column_config=config, placeholder="–")
    st.plotly_chart(charts.mtl_gain_chart(table, tasks), width="stretch", key="results_gain_chart")
    st.caption(
        "Gain of the multi-task model over its single-task baseline on each task's main metric, signed so that "
        "above zero is better: positive = positive transfer (the task gains from sharing), negative = negative "
        "transfer (sharing costs it). A gain within two standard errors of the paired difference on these test "
        "rows (the whiskers; DeLong's for AUC) is *within noise*: the test rows cannot tell. Retrained with another "
        "seed, a gain may differ more: compare seeds before concluding."
    )
    if note := log1p_note(table, tasks):
        st.caption(note)
    with st.expander("Every compared metric", icon=":material/table:"):
        # A metric without a noise estimate (the runs' predictions not on the same rows) says better or worse, no
        # transfer verdict (a LogLoss 0.0002 apart was "negative transfer" beside its task's AUC "within noise").
        unjudged = table["noise"].isna() & table["transfer"].isin(["positive", "negative"])
        verdicts = people["transfer"].where(
            ~unjudged, table["transfer"].map({"positive": "better", "negative": "worse"})
        )
        st.dataframe(people.assign(transfer=verdicts), hide_index=True, column_config=config, placeholder="–")
        st.caption(
            "LogLoss and MAE are judged by the paired differences of the rows' losses; a metric with no noise estimate "
            "says only *better* or *worse*."
        )


def multi_task_gain(run, row: dict) -> None:
    """Compare with single-task: train the baseline (once; kept with the run) and show the gain per task."""
    st.subheader("Multi-task gain")
    if run.config.model.kind == "single_task":
        st.info("This run is a single-task model: it is itself the baseline that multi-task runs are compared with.")
        return
    if len(run.config.tasks) == 1:  # a baseline would be the same network trained again: a gain of "none"
        st.info("This run has one task: nothing is shared, so a single-task baseline would be this model again.")
        return
    store = state.store()
    baseline_id = gain.baseline_of(store, run.run_id)
    try:
        baseline_row = store.get(baseline_id) if baseline_id else None
    except MtlrecError:  # deleted since
        baseline_row = None
    if baseline_row and baseline_row["status"] == "running":
        baseline_progress(baseline_id)
        return
    if baseline_row and baseline_row["status"] in runs.OPENABLE:
        baseline = runs.load(baseline_id)
        if baseline is not None and baseline.metrics.get("tasks"):
            st.markdown(f"Single-task baseline: run `{baseline_id}` ({baseline_row['status']}).")
            if baseline_row["status"] != "finished":
                # Stopped in its first epoch, its networks were undertrained: every task looked like positive
                # transfer, the reverse of what the comparison teaches (an app audit).
                epochs = baseline.metrics.get("epochs_run")
                st.warning(
                    f"The baseline did not finish ({fmt.md(baseline_row['message'] or baseline_row['status'])}"
                    + (f", {epochs} of {baseline.config.train.epochs} epochs" if epochs is not None else "")
                    + f"; this run's best epoch: {run.metrics.get('best_epoch', '?')}): its networks may be "
                    "undertrained, so the gains below can overstate what sharing does. Train it again to compare."
                )
                if st.button("Train the baseline again", icon=":material/refresh:", key="results_compare_again",
                             disabled=session_jobs().busy):  # fmt: skip
                    start_baseline(run, row)
            gain_table(run, baseline)
            return
    st.caption(
        "Does sharing help? *Compare with single-task* trains one independent network per task with this run's "
        "data, split, size and training settings (each on its own task, weight 1, fixed weighting), then shows "
        "each task's gain or loss from multi-task learning."
    )
    if baseline_row:
        ended = baseline_row["status"] + (f": {fmt.md(baseline_row['message'])}" if baseline_row["message"] else "")
        if baseline_row["status"] in runs.OPENABLE:
            ended += " without test metrics"
        st.warning(f"The single-task baseline `{baseline_id}` {ended}. Train it again below.")
    holder = session_jobs()
    job, busy = holder.job, holder.busy
    # A baseline trained on a changed file would be compared with a run trained on another (or fail on a column
    # gone, and be saved failed again at each click): an audit found both, where Recommend said the file changed.
    # A file missing altogether is start_baseline's to explain (an imported run's data, not on this server: where to
    # put it); a file there with other content is said here.
    changed = [c for c in runs.data_changes(run.run_id) if not c.missing]
    if changed:
        st.warning(
            "The baseline cannot be trained on this run's data now: "
            + "; ".join(fmt.plain(str(c)) for c in changed)
            + ". It must train on the rows this run trained on, else its gains compare different data: put the file "
            "back as it was, or train a new run on the current file and compare that one."
        )
    if st.button(
        "Compare with single-task", icon=":material/compare_arrows:", key="results_compare", disabled=busy or bool(changed),
        help="One training job per session" if busy else "Trains the single-task baselines in the background.",
    ):  # fmt: skip
        start_baseline(run, row)
    if busy:
        st.info(f"Your session is training run `{job.run_id}`: one job per session, so compare when it ends.")


def kept_epoch(metrics: dict) -> int | None:
    """The epoch whose weights the run kept, for the curves' line; None when its networks kept different ones."""
    return None if metrics.get("best_epochs") else metrics.get("best_epoch")


def learning_curves(history, tasks, best_epoch: int | None = None) -> None:
    if history.empty:
        st.info("No epoch finished, so there are no learning curves.")
        return
    loss, metric = st.columns(2)
    loss.plotly_chart(charts.learning_curves(history, tasks, best_epoch=best_epoch), width="stretch")
    metric.plotly_chart(charts.metric_curves(history, tasks, best_epoch=best_epoch), width="stretch")


runs.follow_open()
st.title("Results")
store = state.store()
run_id = runs.pick_run("Run", key="results_run", statuses=runs.SHOWABLE)
if run_id is None:
    st.info(
        "No saved run to show yet. Train a model and its per-task metrics, learning curves, ROC and calibration "
        "plots appear here (runs still training, or found interrupted, are listed on **Runs**)."
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    end_page()

try:
    row = store.get(run_id)
except MtlrecError as exc:  # deleted in another tab since the list was read
    st.error(fmt.plain(exc.message))
    end_page()
status(row)
try:
    run = store.load(run_id)
except MtlrecError as exc:
    if row["status"] == "failed":  # it failed before its first epoch ended: the message above is all there is
        st.info("It saved no results: only its configuration is kept (see **Runs**).")
    else:
        st.error(fmt.plain(exc.message))
    end_page()
tasks = run.config.tasks
details(run)

if not run.metrics.get("tasks"):  # failed (or stopped before a first epoch): no test metrics
    st.caption("This run has no test metrics; what it learned before it ended is below.")
    learning_curves(run.history, tasks, kept_epoch(run.metrics))
    task_conflict(run)
    end_page()

# A reference shares at least one task (else no card would show a difference): the same name and type (a click
# made a regression task has an RMSE, not an AUC, and other ranking scores); runs on this run's data first.
names = {t.name for t in tasks}
kinds = {t.name: t.type for t in tasks}


def shared_tasks(row: dict) -> set[str]:
    """This run's tasks that a run of the index has too, of the same type (runs indexed without types, by name)."""
    theirs = row["summary"].get("types") or dict.fromkeys(row["summary"].get("weights", {}))
    return {t for t, kind in theirs.items() if t in kinds and kind in (kinds[t], None)}


data = data_label(run.config.data.path, name=run.config.data.name)
shown = (data_key(run.config, run.metrics), data)


def on_same_data(row: dict) -> bool:
    """By content (or path); runs indexed before the key existed, by file name (mtlrec.runs.data_groups)."""
    return len(data_groups([shown, (row["summary"].get("data_key"), row["summary"].get("data") or "")])) == 1


others = [
    r for r in store.list()
    if r["status"] in runs.OPENABLE and not r["damaged"] and r["id"] != run_id
    and shared_tasks(r)
]  # fmt: skip
others.sort(key=lambda r: not on_same_data(r))  # stable: newest first within each
labels = {r["id"]: f"{runs.run_label(r)} · {r['summary'].get('data') or 'data in memory'}" for r in others}


def unusable_reference(ref_id: str) -> str:
    """Why the reference run in the address cannot be one for the run shown (deleted since, say)."""
    if ref_id == run_id:
        return f"Run `{ref_id}` is the run shown"
    every = store.list()
    row = next((r for r in every if r["id"] == ref_id), None)
    if row is None or row["damaged"] or row["status"] not in runs.OPENABLE:
        return runs.why_not_listed(ref_id, every, runs.OPENABLE)
    return f"Run “{fmt.md(row['name'])}” ({ref_id}) shares no task with this run (a task of the same name and type)"


linked = st.query_params.get(REF_PARAM)
if "results_reference" not in st.session_state and linked:  # a reload or a link: the reference in the address
    if linked in labels:
        st.session_state["results_reference"] = linked
    else:
        st.info(f"{unusable_reference(linked)}, so there is no reference run: the cards show no differences.")
state.current_label("results_reference", labels)  # a run renamed in another tab: its new name, still chosen
reference_id = st.selectbox(
    "Compare with (reference run)",
    [NONE, *labels],
    format_func=lambda rid: labels.get(rid, rid),
    key="results_reference",
    help="Each metric card then shows its difference from that run (green: better, red: worse). Listed: the runs "
    "sharing a task with this one, those on the same data file first.",
)
if reference_id == NONE and REF_PARAM in st.query_params:
    del st.query_params[REF_PARAM]
elif reference_id != NONE and st.query_params.get(REF_PARAM) != reference_id:
    st.query_params[REF_PARAM] = reference_id
reference, noise = None, {}
if reference_id != NONE:
    loaded = runs.load(reference_id)
    other = next((r for r in others if r["id"] == reference_id), None)
    reference = loaded.metrics.get("tasks", {}) if loaded else None
    if reference is not None and other is not None:
        reference = {t: m for t, m in reference.items() if t in shared_tasks(other)}
    # Tested on the same rows (the same labels in the same order: paired_noise's test) even from another file (the
    # same rows under other column names): the warning below said "other test rows" beside "the same rows".
    noise = runs.reference_noise(run_id, reference_id) if reference else {}
    if other is not None and not on_same_data(other):
        theirs = other["summary"].get("data") or "data in memory"
        what = f"another file named {fmt.md(theirs)}" if theirs == data else fmt.md(theirs)
        if same_file_other_fixes(other["summary"].get("data_key"), shown[0]):
            what = f"{fmt.md(theirs)} with other fixes to its rows (rows dropped or values filled)"
        if noise:
            st.info(
                f"The reference was trained on {what}, this run on {fmt.md(data or 'data in memory')}, but both were "
                "tested on the same rows (the same labels in the same order)."
            )
        else:
            st.warning(
                f"The reference was trained on {what}, this run on {fmt.md(data or 'data in memory')}: their metrics "
                "come from other test rows, so the differences compare the data as much as the models."
            )
    if loaded is not None and (differ := compare.summary(run.config, loaded.config)):
        # What the differences credit: a feature's role reset by loading the file again read as the weights' effect
        st.caption(f"Settings of this run that differ from the reference's (reference → this run): {fmt.md(differ)}.")
    shared = sorted(names & set(reference or {}))
    if reference is not None and len(shared) < len(names):
        st.caption(
            f"Differences on the tasks both runs have (same name and type): {', '.join(map(fmt.md, shared)) or 'none'}."
        )
if reference and noise:
    st.caption(
        "Both runs were tested on the same rows: a difference within its noise (two paired standard errors, "
        "DeLong's for AUC) is grey, as the test rows alone could give it. GAUC and NDCG have no noise estimate."
    )
colors = charts.task_colors(tasks)
cells = [cell for start in range(0, len(tasks), 2) for cell in st.columns(2)[: len(tasks) - start]]
for cell, task in zip(cells, tasks, strict=True):
    with cell, st.container(border=True):
        st.markdown(task_title(task, colors[task.name], run.config))
        values = run.metrics["tasks"].get(task.name, {})
        metric_cards(task, values, reference.get(task.name) if reference else None, run.config.k,
                     noise.get(task.name) if reference else None)  # fmt: skip
if ranking_off := ranking_note(run.config.data):
    st.caption(f"No NDCG@{run.config.k} on the cards: {ranking_off}.")

# Recommend needs a model and the user and item columns: without them the button led to a page that only
# explained why not (a browser audit); the help says it here
why_not = (
    f"This run has no evaluated model: {run.model_problem}."
    if not run.has_model
    else f"Recommendations need user and item columns: {ranking_off}."
    if ranking_off
    else None
)
st.button(
    "Recommend for this run",
    icon=":material/recommend:",
    disabled=why_not is not None,
    help=why_not or "Top-K items per user from this run's model.",
    on_click=runs.open_on_click,
    args=(run_id, "pages/recommend.py"),
)

binary = [t for t in tasks if t.type == "binary"]
regression = [t for t in tasks if t.type == "regression"]
predictions = runs.predictions_of(run_id)
if predictions is None:
    st.caption("This run saved no test predictions: only its learning curves are shown.")
    binary = regression = []
names = ["Learning curves"] + ["ROC", "Calibration"] * bool(binary) + ["Regression"] * bool(regression)
names += ["Predictions"] * (predictions is not None)
tabs = dict(zip(names, st.tabs(names), strict=True))

with tabs["Learning curves"]:
    learning_curves(run.history, tasks, kept_epoch(run.metrics))
if binary:
    with tabs["ROC"]:
        st.plotly_chart(charts.roc_curves(predictions, tasks), width="stretch")
    with tabs["Calibration"]:
        st.caption("Predicted probability against the observed rate, in bins: a calibrated model sits on the diagonal.")
        st.plotly_chart(charts.calibration(predictions, tasks), width="stretch")
for task in regression:
    with tabs["Regression"]:
        st.plotly_chart(charts.predicted_vs_actual(predictions, task, color=colors[task.name]), width="stretch")
if predictions is not None:
    with tabs["Predictions"]:
        st.plotly_chart(charts.prediction_distribution(predictions, tasks), width="stretch")
        path = run.folder / "predictions.csv"
        runs.downloads(
            run_id,
            [
                {
                    "label": "predictions.csv",
                    "data": path.read_bytes,
                    "file_name": f"{run_id}_predictions.csv",
                    "mime": "text/csv",
                    "icon": ":material/download:",
                    "help": f"The {fmt.count(len(predictions))} test rows with each task's label and prediction.",
                }
            ],
        )

task_conflict(run)
multi_task_gain(run, row)
