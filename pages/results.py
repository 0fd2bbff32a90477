"""Results page: one saved run's per-task metrics (against a reference run), curves and predictions."""

from ui.frame import guard

guard("results")

import streamlit as st  # noqa: E402

from mtlrec import charts, fmt  # noqa: E402
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.metrics import higher_is_better  # noqa: E402
from ui import runs, state  # noqa: E402
from ui.frame import STATUS_ICONS  # noqa: E402

NONE = "(none)"
CARD_LABELS = {"auc": "AUC", "gauc": "GAUC", "logloss": "LogLoss", "rmse": "RMSE", "mae": "MAE"}
CARD_HELP = {
    "auc": "Area under the ROC curve on the test rows: 0.5 is chance, 1 is a perfect ranking.",
    "gauc": "AUC per user, averaged with each user's row count as weight (users with one class skipped).",
    "logloss": "Mean binary cross-entropy of the predicted probabilities: lower is better, rewards calibration.",
    "rmse": "Root mean squared error on the label's own scale: lower is better.",
    "mae": "Mean absolute error on the label's own scale: lower is better.",
    "ndcg": "NDCG of each user's test rows ranked by this task's prediction, with the label as graded gain.",
}


@st.cache_data(show_spinner=False, max_entries=4)
def predictions_of(run_id: str):
    """A run's test predictions (read once per run: the file does not change after the run ends)."""
    return state.store().load(run_id).predictions()


def task_title(task, color: str) -> str:
    name = task.name.replace("[", "\\[").replace("]", "\\]")
    return f'#### :color[{name}]{{foreground="{color}"}}\n{task.type} · loss weight {task.weight:g}'


def metric_cards(task, values: dict, reference: dict | None, k: int) -> None:
    keys = ["auc", "gauc", "logloss"] if task.type == "binary" else ["rmse", "mae"]
    keys = [key for key in keys if key in values] + [key for key in (f"ndcg@{k}",) if key in values]
    with st.container(horizontal=True):
        for key in keys:
            ref = reference.get(key) if reference else None
            st.metric(
                CARD_LABELS.get(key, key.upper()),
                fmt.metric(values[key]),
                delta=fmt.delta(values[key], ref),
                delta_color="normal" if higher_is_better(key) else "inverse",
                help=CARD_HELP[key.split("@")[0]],
                border=True,
            )
    if task.type == "binary" and "pos_rate" in values:
        st.caption(
            f"positives {fmt.metric(100 * values['pos_rate'], 1)}% · "
            f"mean prediction {fmt.metric(100 * values['mean_pred'], 1)}%"
        )


def status(row: dict) -> None:
    """The run's name and how it ended, with the reason (early stopping, the user, an error)."""
    st.subheader(row["name"])
    line = f"{STATUS_ICONS.get(row['status'], '')} **{row['status']}**"
    line += f" · {row['message']}" if row["message"] else ""
    if row["status"] == "failed":
        st.error(line)
    elif row["status"] == "stopped":
        st.warning(line)
    else:
        st.markdown(line)


def details(run) -> None:
    """Model, size, training effort, data and split of a loaded run; its notes folded away."""
    metrics, config = run.metrics, run.config
    epochs = f"{metrics.get('epochs_run', '–')} of {config.train.epochs} epochs"
    if metrics.get("best_epoch"):
        epochs += f" (best {metrics['best_epoch']})"
    rate = metrics.get("samples_per_second")
    st.markdown(
        f"**{config.model.kind}** · {config.model.size} · {fmt.count(metrics.get('params'))} parameters · "
        f"{epochs} · {fmt.seconds(metrics.get('train_seconds'))}"
        + (f" · {fmt.count(rate)} rows/s" if rate else "")
        + f"  \ndata `{config.data.path or 'in memory'}` · {config.split.method} split · seed {config.train.seed}"
        + f" · run `{run.run_id}`"
    )
    notes = metrics.get("notes") or []
    if notes:
        with st.expander(f"Notes ({len(notes)})", icon=":material/info:"):
            st.markdown("\n".join(f"- {note}" for note in notes))


def learning_curves(history, tasks) -> None:
    if history.empty:
        st.info("No epoch finished, so there are no learning curves.")
        return
    loss, metric = st.columns(2)
    loss.plotly_chart(charts.learning_curves(history, tasks), width="stretch")
    metric.plotly_chart(charts.metric_curves(history, tasks), width="stretch")


st.title("Results")
store = state.store()
run_id = runs.pick_run("Run", key="results_run", statuses=runs.SHOWABLE)
if run_id is None:
    st.info(
        "No saved run to show yet. Train a model and its per-task metrics, learning curves, ROC and calibration "
        "plots appear here (runs still training, or found interrupted, are listed on **Runs**)."
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()

try:
    row = store.get(run_id)
except MtlrecError as exc:  # deleted in another tab since the list was read
    st.error(exc.message)
    st.stop()
status(row)
try:
    run = store.load(run_id)
except MtlrecError as exc:
    if row["status"] == "failed":  # it failed before its first epoch ended: the message above is all there is
        st.info("It saved no results: only its configuration is kept (see **Runs**).")
    else:
        st.error(exc.message)
    st.stop()
tasks = run.config.tasks
details(run)

if not run.metrics.get("tasks"):  # failed (or stopped before a first epoch): no test metrics
    st.caption("This run has no test metrics; what it learned before it ended is below.")
    learning_curves(run.history, tasks)
    st.stop()

others = [r for r in store.list() if r["status"] in runs.OPENABLE and not r["damaged"] and r["id"] != run_id]
labels = {r["id"]: runs.run_label(r) for r in others}
reference_id = st.selectbox(
    "Compare with (reference run)",
    [NONE, *labels],
    format_func=lambda rid: labels.get(rid, rid),
    key="results_reference",
    help="Each metric card then shows its difference from that run (green: better, red: worse).",
)
reference = None
if reference_id != NONE:
    loaded = runs.load(reference_id)
    reference = loaded.metrics.get("tasks", {}) if loaded else None

colors = charts.task_colors(tasks)
cells = [cell for start in range(0, len(tasks), 2) for cell in st.columns(2)[: len(tasks) - start]]
for cell, task in zip(cells, tasks, strict=True):
    with cell, st.container(border=True):
        st.markdown(task_title(task, colors[task.name]))
        values = run.metrics["tasks"].get(task.name, {})
        metric_cards(task, values, reference.get(task.name) if reference else None, run.config.k)

if st.button(
    "Recommend for this run",
    icon=":material/recommend:",
    disabled=not run.has_model,
    help="Top-K items per user from this run's model." if run.has_model else "This run saved no model.",
):
    runs.open_run(run_id, "pages/recommend.py")

binary = [t for t in tasks if t.type == "binary"]
regression = [t for t in tasks if t.type == "regression"]
predictions = predictions_of(run_id)
if predictions is None:
    st.caption("This run saved no test predictions: only its learning curves are shown.")
    binary = regression = []
names = ["Learning curves"] + ["ROC", "Calibration"] * bool(binary) + ["Regression"] * bool(regression)
names += ["Predictions"] * (predictions is not None)
tabs = dict(zip(names, st.tabs(names), strict=True))

with tabs["Learning curves"]:
    learning_curves(run.history, tasks)
if binary:
    with tabs["ROC"]:
        st.plotly_chart(charts.roc_curves(predictions, binary), width="stretch")
    with tabs["Calibration"]:
        st.caption("Predicted probability against the observed rate, in bins: a calibrated model sits on the diagonal.")
        st.plotly_chart(charts.calibration(predictions, binary), width="stretch")
for task in regression:
    with tabs["Regression"]:
        st.plotly_chart(charts.predicted_vs_actual(predictions, task, color=colors[task.name]), width="stretch")
if predictions is not None:
    with tabs["Predictions"]:
        st.plotly_chart(charts.prediction_distribution(predictions, tasks), width="stretch")
        st.download_button(
            "predictions.csv",
            data=lambda: (run.folder / "predictions.csv").read_bytes(),
            file_name=f"{run_id}_predictions.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help=f"The {fmt.count(len(predictions))} test rows with each task's label and prediction.",
        )
