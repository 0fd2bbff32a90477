"""Runs page: every saved run in a table; compare, rename, delete, download and open them."""

from ui.frame import end_page, guard

guard("runs")

import hashlib  # noqa: E402
import math  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime  # noqa: E402

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from mtlrec import charts, fmt  # noqa: E402
from mtlrec.compare import differences  # noqa: E402
from mtlrec.config import TaskSpec  # noqa: E402
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.runs import (  # noqa: E402
    STATUSES,
    data_groups,
    metrics_table,
    same_file_other_fixes,
    summary_untrained,
)
from ui import runs, state  # noqa: E402

MAIN_METRIC = {"binary": "auc", "regression": "rmse"}
SHOWN_DIFFERENCES = 12  # settings that differ, up to which their table opens by itself
STATUS_LABELS = {  # plain symbols: the table is drawn on a canvas, where emoji fonts are not a given
    "running": "▶ running",
    "finished": "✓ finished",
    "stopped": "■ stopped",
    "failed": "✗ failed",
    "interrupted": "⚠ interrupted",
    "damaged": "⚠ damaged",
}
NO_RESULTS = {
    "running": "It is training right now: its results are saved when it ends.",
    "interrupted": "The server stopped while it trained: only its configuration was kept.",
    "stopped": "It was stopped before its first epoch ended: only its configuration was kept.",
    "failed": "It failed before its first epoch ended: only its configuration was kept.",
}
SERVER_ZONE = datetime.now().astimezone().tzinfo
NOTICE = "runs_notice"  # a toast for the rerun that follows a rename or a delete
RENAME_ERROR = "runs_rename_error"
SELECTED = "runs_selected"  # {id: name} of the runs ticked in the table: a selection follows runs, not row positions
TABLE_KEY = "runs_table_key"  # the table widget's key now: runs_table_<n>, a new one for each listing (see below)
LISTING = "runs_listing"  # a digest of the listed run ids, in order
IMPORTED = "runs_imported"  # uploaded file id -> what importing it gave (the run's id and notes, or the error)


def status_of(row: dict) -> str:
    return "damaged" if row["damaged"] else row["status"]


def local_times(seconds: list[float], timezone: str | None) -> pd.DatetimeIndex:
    """Unix times as wall-clock times in the browser's time zone (the server's when the browser did not say)."""
    utc = pd.to_datetime(seconds, unit="s", utc=True)
    try:
        return utc.tz_convert(timezone or SERVER_ZONE).tz_localize(None)
    except (KeyError, ValueError):  # a zone name this machine does not know
        return utc.tz_convert(SERVER_ZONE).tz_localize(None)


NAME_WIDTH = 300  # px of the runs list's name column


def runs_table(rows: list[dict], timezone: str | None) -> tuple[pd.DataFrame, list[str]]:
    """One line per run: config highlights and each task's main metric (AUC or RMSE) on the test rows; and the
    names of the metric columns."""
    table = pd.DataFrame(
        {
            "name": [r["name"] for r in rows],
            "status": [STATUS_LABELS[status_of(r)] for r in rows],
            "created": local_times([r["created"] for r in rows], timezone),
            "data": [r["summary"].get("data") or "" for r in rows],
            "model": [r["summary"].get("model") for r in rows],
            "size": [r["summary"].get("size") for r in rows],
            "weights": [weights_text(r["summary"].get("weights") or {}) for r in rows],
            "epochs": [r["summary"].get("epochs_run") for r in rows],
            "train time": [r["summary"].get("train_seconds") for r in rows],
        }
    )
    metrics = main_metrics(rows, trained_only=True)
    for column, values in metrics.items():
        table[column] = values
    return table, list(metrics)


def weights_text(weights: dict) -> str:
    """{"click": 1.0, "like": 0.5} -> 'click=1, like=0.5'."""
    return ", ".join(
        f"{task}={fmt.weight(w)}" if isinstance(w, int | float) else f"{task}={w}" for task, w in weights.items()
    )


def main_metrics(rows: list[dict], sep: str = " ", trained_only: bool = False) -> dict[str, list[float | None]]:
    """'<task><sep><metric>' -> one value per row, for every task of any of the runs; a task name that is binary in
    some runs and regression in others (a click made a regression task on the Data page) gets a column per type,
    each holding the runs of that type (one column, by name, showed one type's metric and blanks for the others).
    `trained_only` leaves a task a run trained with loss weight 0 blank: an untrained tower's AUC of 0.47 in the
    list read as a result (the weights chart keeps it: there its weight of 0 is on the line)."""
    kinds: dict[str, list[str]] = {}
    for r in rows:
        for task, kind in r["summary"].get("types", {}).items():
            if kind not in kinds.setdefault(task, []):
                kinds[task].append(kind)
    columns = {}
    for task, kind in ((t, k) for t, ks in kinds.items() for k in ks):
        metric = MAIN_METRIC.get(kind, "auc")
        columns[f"{task}{sep}{metric}"] = [
            (r["summary"].get("tasks") or {}).get(task, {}).get(metric)
            if r["summary"].get("types", {}).get(task) == kind
            and not (trained_only and task in summary_untrained(r["summary"]))
            else None
            for r in rows
        ]
    return columns


def data_of(row: dict) -> tuple[str | None, str]:
    """A run's (data_key, file name), as mtlrec.runs.data_groups takes them."""
    return row["summary"].get("data_key"), row["summary"].get("data") or "data in memory"


def weights_table(rows: list[dict]) -> tuple[pd.DataFrame, list[str], list[str], str]:
    """Loss weights and main metrics of runs with test metrics: the parallel-coordinates view's input, and a note
    on the runs it holds. Runs of other tasks have other axes, and runs on other data other test rows (their
    metrics would compare the data as much as the weights), so it holds the runs with the first run's tasks and
    data (the newest, or the first selected) whose weights and metrics are all known."""
    rows = [r for r in rows if r["summary"].get("tasks")]
    if not rows:
        return pd.DataFrame(), [], [], "no run has test metrics"
    on_data = [r for r in rows if len(data_groups([data_of(rows[0]), data_of(r)])) == 1]
    # The same tasks, in any order, of the same types
    tasks_of = lambda r: frozenset((t, r["summary"].get("types", {}).get(t)) for t in r["summary"].get("weights", {}))  # noqa: E731
    same = [r for r in on_data if tasks_of(r) == tasks_of(rows[0])]
    # A single-task baseline's networks share nothing, and an adaptive weighting moves its weights while it trains:
    # their configured weights (all 1, or the start) drew them as ordinary weight-1 lines (a teaching audit).
    fixed = [r for r in same if r["summary"].get("model") != "single_task"
             and r["summary"].get("weighting", "fixed") == "fixed"]  # fmt: skip
    not_weighted = len(same) - len(fixed)
    same = fixed
    tasks = list(rows[0]["summary"].get("weights", {}))
    # 'task/weight' and 'task/metric': the chart words the part after the '/' and shows the task name as it is
    weights = {f"{t}/weight": [r["summary"]["weights"].get(t) for r in same] for t in tasks}
    # A weight every run shares explains no difference between them: left out (none left: no chart).
    weights = {column: values for column, values in weights.items() if len(set(values)) > 1}
    metrics = main_metrics(same, sep="/")
    table = pd.DataFrame({"name": [r["name"] for r in same], **weights, **metrics})
    complete = table.dropna(subset=[*weights, *metrics])
    note = f"runs with the tasks {', '.join(map(fmt.md, tasks))}: {len(complete):,} of {len(rows):,}"
    left = []
    if len(on_data) < len(rows):
        left.append(
            f"{len(rows) - len(on_data):,} trained on other data than {fmt.md(data_of(rows[0])[1])} (select runs to choose "
            "which data)"
        )
    if len(same) + not_weighted < len(on_data):
        left.append(f"{len(on_data) - len(same) - not_weighted:,} with other tasks (select runs to choose which tasks)")
    if not_weighted:
        left.append(f"{not_weighted:,} single-task or adaptively weighted, whose weights are not fixed loss weights")
    if len(complete) < len(same):
        left.append(f"{len(same) - len(complete):,} with a metric undefined")
    if left:
        note += f" ({'; '.join(left)} left out)"
    kept = [r for r, keep in zip(same, table.index.isin(complete.index), strict=True) if keep]
    # a metric axis on a chart that is drawn (its weight axis too, unless every run left the task at 0)
    drawn = len(complete) >= 2 and bool(weights)
    idle = sorted(
        {t for r in kept for t in summary_untrained(r["summary"]) if any(c.startswith(f"{t}/") for c in metrics)}
    )
    if idle and drawn:  # no result of training (a browser walk read one)
        note += (
            f". At loss weight 0 a task's metric is its untrained tower's ({', '.join(map(fmt.md, idle))}): it "
            "shows what leaving the task out costs, not a result"
        )
    return complete.reset_index(drop=True), list(weights), list(metrics), note


def settings_besides_weights(table: pd.DataFrame) -> list[str]:
    """The settings other than the tasks' loss weights on which runs differ, from their differences table
    (mtlrec.compare.differences, as the comparison drew it)."""
    unweighted = table.drop(columns="setting").apply(lambda col: col.str.replace(r", weight [^,]+", "", regex=True))
    return [s for s, row in zip(table["setting"], unweighted.itertuples(index=False), strict=True) if len(set(row)) > 1]


def file_reader(run_id: str, name: str):
    """A callable reading a run file when the user clicks its download button (None when the file is absent)."""
    path = state.store().folder(run_id) / name
    return path.read_bytes if path.is_file() else None


def metric_deltas(
    metrics: dict[str, dict],
    metric_by_task: dict[str, str],
    bases: dict[str, str | None],
    noise: Callable[[str, str], dict] | None = None,
) -> pd.DataFrame:
    """One row per run: each task's chosen metric and its difference from its base run's (delta_bases; the bars'
    numbers, which bars from 0 hide when runs differ in the third decimal); with `noise` (run label, base label ->
    reference_noise's {task: {metric: noise}}), a ± column per task where some run's Δ has one (blank for a run
    tested on other rows than its base, a metric without a paired noise: GAUC, NDCG, or a run without a Δ)."""
    from mtlrec.metrics import higher_is_better

    rows = []
    for label, tasks in metrics.items():
        row = {"run": label}
        for task, metric in metric_by_task.items():
            value = (tasks or {}).get(task, {}).get(metric)
            base = (metrics[bases[task]] or {}).get(task, {}).get(metric) if bases.get(task) else None
            number = float(value) if isinstance(value, int | float) else math.nan
            arrow = "↑" if higher_is_better(metric) else "↓"
            row[f"{task} {metric} {arrow}"] = number
            delta = row[f"Δ {task} {metric}"] = number - float(base) if isinstance(base, int | float) else math.nan
            if noise is not None:  # no Δ (a task left untrained, or missing): no ± either, which read as its noise
                paired = noise(label, bases[task]) if bases.get(task) and bases[task] != label else {}
                own = (paired.get(task) or {}).get(metric, math.nan)
                row[f"± {task} {metric}"] = own if math.isfinite(delta) else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    empty = [c for c in table.columns if c.startswith("± ") and table[c].isna().all()]
    return table.drop(columns=empty)


def delta_bases(
    metrics: dict[str, dict], metric_by_task: dict[str, str], order: list[str] | None = None
) -> dict[str, str | None]:
    """Per task, the run its Δ is taken from: the first of `order` (the runs oldest first; else as listed) that has
    the task's chosen metric (the first may lack the task: every Δ of it was blank, so the runs that share it could
    not be compared). Oldest first: the list shows the newest run first, and a new run's Δ of 0 made the untouched
    baseline read as the change (a browser walk)."""
    order = list(metrics) if order is None else order
    return {
        task: next((label for label in order if isinstance((metrics[label] or {}).get(task, {}).get(metric),
                                                           int | float)), None)
        for task, metric in metric_by_task.items()
    }  # fmt: skip


def run_labels(rows: list[dict]) -> dict[str, str]:
    """Run id -> its name on charts, with the id added where two runs share a name."""
    names = [r["name"] for r in rows]
    return {r["id"]: r["name"] if names.count(r["name"]) == 1 else f"{r['name']} ({r['id']})" for r in rows}


def compare(selected: list[dict]) -> pd.DataFrame | None:
    """The comparison of the selected runs; returns the settings on which they differ (None when fewer than two
    runs with test metrics are left to compare)."""
    labels, loaded = run_labels(selected), {}
    for r in selected:
        try:
            run = state.store().load(r["id"])
        except MtlrecError as exc:
            st.warning(f"Left out: {fmt.plain(exc.message)}")
            continue
        if run.metrics.get("tasks"):
            loaded[labels[r["id"]]] = run
    if len(loaded) < 2:
        st.info("Select at least two runs with test metrics to compare them side by side.")
        return None
    # A task is its name and type: a click made a regression task in one run is another task than a binary click
    # (one selector had mixed AUC with RMSE, and the curves a regression's MSE with a log loss).
    types: dict[str, set[str]] = {}
    for run in loaded.values():
        for task in run.config.tasks:
            types.setdefault(task.name, set()).add(task.type)

    def key(task: TaskSpec) -> str:
        return task.name if len(types[task.name]) == 1 else f"{task.name} ({task.type})"

    tasks: dict[str, TaskSpec] = {}
    choices: dict[str, list[str]] = {}
    metrics: dict[str, dict] = {}
    untrained: dict[str, list[str]] = {}  # run label -> its tasks no loss trained (weight 0): no bar, no Δ
    for label, run in loaded.items():  # every metric any of the runs has (a run without a user column has no GAUC)
        metrics[label] = {}
        idle = run.config.untrained_tasks()
        for task in run.config.tasks:
            tasks.setdefault(key(task), task)
            own = run.metrics["tasks"].get(task.name, {})
            have = choices.setdefault(key(task), [])
            have += [m for m in own if m not in have]
            if task.name in idle:  # an untrained tower's AUC of 0.47 read as a result, Δ +0.27 (a browser walk)
                untrained.setdefault(label, []).append(key(task))
                own = {}
            metrics[label][key(task)] = own
    if mixed := sorted(name for name, kinds in types.items() if len(kinds) > 1):
        st.caption(
            f"{', '.join(fmt.md(n) for n in mixed)}: binary in some runs and regression in others, so compared as "
            "two tasks."
        )
    shown = [r for r in selected if labels[r["id"]] in loaded]
    groups = data_groups([(r["summary"].get("data_key"), r["summary"].get("data") or "data in memory") for r in shown])
    if len(groups) > 1:
        names = [fmt.md(name) for name in sorted({name for group in groups for name in group})]
        count = len(groups)
        files = ", ".join(names) if len(names) == count else f"{count} different files ({', '.join(names)})"
        keys = [r["summary"].get("data_key") for r in shown]
        if all(same_file_other_fixes(a, b) or a == b for a in keys for b in keys):
            files = f"{', '.join(names)} with different fixes to its rows (rows dropped or values filled)"
        st.warning(
            f"These runs were trained on different data ({files}): their metrics come from other test rows, so the "
            "bars compare the data as much as the models."
        )
    differ = differences({label: run.config for label, run in loaded.items()})
    # What the bars credit: runs that differ in more than the setting being compared (a feature's role reset by
    # loading the file again, beside the weights changed) were compared as if only that had changed (an audit).
    with st.expander(
        f"Settings that differ ({len(differ)})" if len(differ) else "Settings: the same in every run",
        icon=":material/difference:",
        expanded=0 < len(differ) <= SHOWN_DIFFERENCES,
    ):
        if len(differ):
            # Headed by the names as the bars' ticks show them (their shared start dropped, one line): three full
            # default names pushed the third column off a 1280-px page (a browser audit); the full name on hover
            short = [label.replace("<br>", " ") for label in charts.tick_labels(list(differ.columns[1:]), width=60)]
            headers = {old: st.column_config.TextColumn(new, help=old) for old, new in zip(differ.columns[1:], short,
                                                                                          strict=True)}  # fmt: skip
            st.dataframe(differ, hide_index=True, width="stretch", column_config=headers)
        else:
            st.caption("These runs share every setting that changes what a run learns: data file, columns, tasks, "
                       "model, training and seed.")  # fmt: skip
    st.markdown("**Test metrics side by side**")
    if untrained:
        st.caption(
            "Left out (blank): "
            + "; ".join(f"{fmt.md(label.replace('<br>', ' '))}'s {fmt.listing([fmt.md(t) for t in names], 4)}"
                        for label, names in untrained.items())
            + ", trained with loss weight 0: an untrained tower's metrics (Results shows them)."
        )  # fmt: skip
    metric_by_task = {}
    for column, (name, options) in zip(st.columns(len(tasks)), choices.items(), strict=True):
        main = MAIN_METRIC.get(tasks[name].type, "auc")
        index = options.index(main) if main in options else 0
        metric_by_task[name] = column.selectbox(fmt.md(name), options, index=index, key=f"runs_metric_{name}")
    st.plotly_chart(charts.compare_metrics(metrics, metric_by_task, untrained), width="stretch")
    created = {labels[r["id"]]: r.get("created") or 0 for r in selected}
    oldest = sorted(metrics, key=lambda label: created.get(label, 0))
    first, bases = oldest[0], delta_bases(metrics, metric_by_task, oldest)
    ids = {label: run.run_id for label, run in loaded.items()}
    deltas = metric_deltas(metrics, metric_by_task, bases, lambda a, b: runs.reference_noise(ids[a], ids[b]))
    other_bases = {t: b for t, b in bases.items() if b is not None and b != first}
    if len(deltas) > charts.NAMED_BARS:  # the bars are numbered: the table gives each number its run
        deltas.insert(0, "#", range(1, len(deltas) + 1))
    # A run without a task has an empty cell, drawn as a dash: the table drew "None", which read like a value.
    # A Δ that rounds to 0 unsigned ("-0.0000" read as a loss); an empty cell "–" in the Styler and in the grid,
    # whose own placeholder for a missing value is the word "None" (a browser walk saw it in the ± cells).
    formats = {
        c: (lambda v: fmt.delta(v, 0.0)) if c.startswith("Δ") else "±{:.4f}" if c.startswith("± ") else "{:.4f}"
        for c in deltas.columns
        if c not in ("#", "run")
    }
    st.dataframe(deltas.style.format(formats, na_rep="–"), hide_index=True, placeholder="–")
    others = "".join(f"; for {fmt.md(t)}, {fmt.md(b)}'s (the oldest run that has it)" for t, b in other_bases.items())
    st.caption(
        f"Δ: each run's value minus the oldest run's ({fmt.md(first)}){others}; ↑ higher is better, ↓ lower is "
        "better. ±: two paired standard errors of the Δ where the two runs were tested on the same rows (the same "
        "data, split and seed); a Δ within it could come from the test rows alone, as another seed's run would."
    )

    st.markdown("**Learning curves overlaid**")
    left, right = st.columns(2)
    task = left.selectbox("Task", list(tasks), key="runs_curve_task")
    spec = tasks[task]
    histories = {  # the runs whose task of this name has this type
        label: run.history
        for label, run in loaded.items()
        if any(t.name == spec.name and t.type == spec.type for t in run.config.tasks)
    }
    prefix = f"{spec.name}/"
    curves = sorted({c.removeprefix(prefix) for h in histories.values() for c in h.columns if c.startswith(prefix)})
    if not curves:
        st.info(f"No run recorded learning curves for {fmt.md(task)}.")
        return differ
    default = curves.index("val_loss") if "val_loss" in curves else 0
    column = right.selectbox("Curve", curves, index=default, key="runs_curve_column", format_func=charts.words)
    st.plotly_chart(charts.overlay_curves(histories, spec, column), width="stretch")
    return differ


def rename(run_id: str) -> None:
    try:
        label = state.store().rename(run_id, st.session_state[f"runs_name_{run_id}"])
        st.session_state[NOTICE] = f"Renamed to “{fmt.md(label)}”"
        search = str(st.session_state.get("runs_search") or "").strip().lower()
        if search and search not in label.lower():  # the run left the table and its selection (a browser walk)
            st.session_state["runs_search"] = ""
            st.session_state[NOTICE] += " (the name search is cleared: the new name does not hold it)"
    except MtlrecError as exc:
        st.session_state[RENAME_ERROR] = exc.message


def delete(run_id: str, name: str) -> None:
    state.store().delete(run_id)
    if st.session_state.get(state.RESULTS_RUN) == run_id:
        del st.session_state[state.RESULTS_RUN]
    st.session_state[SELECTED] = {}
    st.session_state[NOTICE] = f"Deleted “{fmt.md(name)}”"


def manage(row: dict) -> None:
    run_id, store = row["id"], state.store()
    st.markdown(f"**{fmt.md(row['name'])}** · {STATUS_LABELS[status_of(row)]} · run `{run_id}`")
    if row["message"]:
        st.caption(fmt.md(row["message"]))  # plain text, which may quote a column's name
    left, right = st.columns(2)
    with left.container(border=True):
        st.text_input("New name", value=row["name"], key=f"runs_name_{run_id}", max_chars=80)
        st.button("Rename", icon=":material/edit:", key="runs_rename", on_click=rename, args=(run_id,))
        if error := st.session_state.pop(RENAME_ERROR, None):
            st.error(error)
    with right.container(border=True):
        live = row["status"] == "running"
        sure = st.checkbox(
            "Yes, delete this run and its files",
            key=f"runs_confirm_{run_id}",
            disabled=live,
            help="It is training right now: stop it on Train first." if live else None,
        )
        st.button(
            "Delete",
            icon=":material/delete:",
            type="primary",
            disabled=not sure or live,
            key="runs_delete",
            on_click=delete,
            args=(run_id, row["name"]),
        )

    problem = None
    try:
        run = store.load(run_id)
    except MtlrecError as exc:
        run, problem = None, exc
    downloads = {
        "config.json": file_reader(run_id, "config.json"),
        "metrics.csv": (lambda: metrics_table(run.metrics).to_csv(index=False).encode())
        if run and run.metrics.get("tasks")
        else None,
        "predictions.csv": file_reader(run_id, "predictions.csv"),
        "model.pt": file_reader(run_id, "model.pt"),
        f"{run_id}.zip": (lambda: store.export_zip(run_id)) if run else None,
    }
    if problem is not None and row["damaged"]:
        readable = any(data is not None for data in downloads.values())
        st.warning(
            f"{problem.message}: "
            + (
                "only its readable files can be downloaded."
                if readable
                else "none of its files is left to download (its folder was deleted or emptied); delete it from the "
                "list."
            )
        )
    elif problem is not None:
        st.caption(NO_RESULTS.get(row["status"], problem.message))
    buttons = [
        {
            "label": name,
            "data": data,
            "file_name": name if name.endswith(".zip") else f"{run_id}_{name}",
            "icon": ":material/download:",
            "key": f"runs_download_{name}",
        }
        for name, data in downloads.items()
        if data is not None
    ]
    runs.downloads(run_id, buttons)
    with st.container(horizontal=True):
        showable = run is not None and row["status"] in runs.SHOWABLE
        if st.button("Open in Results", icon=":material/monitoring:", disabled=not showable, key="runs_results"):
            runs.open_run(run_id, "pages/results.py")
        recommendable = run is not None and row["status"] in runs.OPENABLE and run.has_model
        why = (
            f"This run has no evaluated model: {run.model_problem}." if run is not None and not run.has_model else None
        )
        if st.button(
            "Open in Recommend", icon=":material/recommend:", disabled=not recommendable, key="runs_rec", help=why
        ):
            runs.open_run(run_id, "pages/recommend.py")


def import_section() -> None:
    """Add a run made elsewhere: a run's zip from this page's download (another lab's), or a zipped `train --out`
    folder. Each uploaded file is imported once (the uploader keeps it across reruns); its outcome stays shown."""
    from mtlrec.transfer import import_run, read_run_archive

    done = st.session_state.setdefault(IMPORTED, {})
    with st.expander("Import a run", icon=":material/upload:", expanded=bool(done)):
        st.caption(
            "A run's zip, as this page downloads it (from another lab or a colleague), or a folder written by "
            "`python -m mtlrec train --out` zipped. It is added as a new run; its data file is found on this "
            "server by its content (an upload, a generated world, a bundled sample) when it is here."
        )
        upload = st.file_uploader("Run zip", type=["zip"], key="runs_import_file")
        if upload is None:
            return
        if upload.file_id not in done:
            try:
                with st.spinner(f"Importing {upload.name}…"):
                    source = f"'{upload.name}'"
                    run_id, notes = import_run(state.store(), read_run_archive(upload.getvalue(), source), source)
                done[upload.file_id] = {"run": run_id, "notes": notes}
                st.session_state[NOTICE] = f"Imported {upload.name}."
            except MtlrecError as exc:
                done[upload.file_id] = {"error": exc.message}
            st.rerun()  # the table above lists the new run
        outcome = done[upload.file_id]
        if "error" in outcome:
            st.error(fmt.plain(outcome["error"]))
            return
        st.success(f"{fmt.md(upload.name)} is run `{outcome['run']}`.")
        for note in outcome["notes"]:
            st.caption(fmt.plain(note))
        if st.button("Open in Results", icon=":material/monitoring:", key="runs_import_open"):
            runs.open_run(outcome["run"], "pages/results.py")


st.title("Runs")
if notice := st.session_state.pop(NOTICE, None):
    st.toast(notice, icon=":material/check:")
store = state.store()
all_rows = store.list()
listed = {r["id"] for r in all_rows}
# Deleted elsewhere (in another tab, by another user): they left the table and the comparison without a word.
for gone, name in st.session_state.get(SELECTED, {}).items():
    if gone not in listed:
        st.warning(
            f"Run “{fmt.md(name)}” ({gone}) was deleted since you selected it (in another tab, or by another user)."
        )
st.session_state[SELECTED] = {i: n for i, n in st.session_state.get(SELECTED, {}).items() if i in listed}
if not all_rows:
    st.info(
        "No saved runs yet. Every finished, stopped or failed run is saved here (on the server's disk, so it "
        "survives a refresh and a restart)."
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
    import_section()
    end_page()
import_section()

filters = st.columns([1, 2])
present = [s for s in (*STATUSES, "damaged") if any(status_of(r) == s for r in all_rows)]
chosen = filters[0].multiselect("Status", present, key="runs_status", placeholder="all")
search = filters[1].text_input("Search names", key="runs_search", placeholder="part of a run's name")
rows = [r for r in all_rows if status_of(r) in (chosen or present) and search.strip().lower() in r["name"].lower()]

table, metric_columns = runs_table(rows, st.context.timezone)
# A dataframe's selection is a list of row positions, which a search, a status filter or a new run (a sweep adds
# them at the top) would point at other runs. So each new listing gets a new table widget (a new key: a listing
# seen before may hold an old selection), whose selection starts from the runs ticked before that are still listed.
shown = [r["id"] for r in rows]
listing = hashlib.sha256("\n".join(shown).encode()).hexdigest()
if st.session_state.get(LISTING) != listing:
    st.session_state[LISTING] = listing
    st.session_state[TABLE_KEY] = f"runs_table_{int(st.session_state.get(TABLE_KEY, 'runs_table_0')[11:]) + 1}"
ticked = [shown.index(i) for i in st.session_state[SELECTED] if i in shown]
event = st.dataframe(
    table,
    hide_index=True,
    placeholder="–",  # a metric the run lacks (another task's, a failed run's): not the word "None"
    # The test metrics beside the names: after the long weights column they were off a 1,400-px page (a browser walk)
    column_order=[
        "name",
        "status",
        *metric_columns,
        "weights",
        "model",
        "size",
        "data",
        "created",
        "epochs",
        "train time",
    ],
    on_select="rerun",
    selection_mode="multi-row",
    selection_default={"selection": {"rows": ticked}},
    key=st.session_state[TABLE_KEY],
    column_config={
        # At most NAME_WIDTH: a long default name took 430 px, and four tasks' metrics needed a sideways scroll at
        # 1280 px (a browser walk); the whole name is in Compare and Manage below
        "name": st.column_config.TextColumn(
            "name", width=NAME_WIDTH, help="The run's name (select it to see it whole)"
        ),
        "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
        "train time": st.column_config.NumberColumn("train time", format="%.1f s"),
        **{column: st.column_config.NumberColumn(column, format="%.4f") for column in metric_columns},
    },
)
selected = [rows[i] for i in event.selection.rows if i < len(rows)]
st.session_state[SELECTED] = {r["id"]: r["name"] for r in selected}
st.caption(
    f"{len(rows)} of {len(all_rows)} runs · select rows (the boxes on the left) to compare or manage them. "
    "“interrupted” runs were training when the server stopped; “running” ones are training now. A task a run "
    "trained with loss weight 0 has no metric here (its untrained tower's is on Results)."
)

st.subheader("Compare")
comparable = [r for r in selected if not r["damaged"] and r["summary"].get("tasks")]
differ = None  # the settings on which the compared runs differ (the weights chart below warns of them)
if len(comparable) >= 2:
    differ = compare(comparable)
else:
    st.info(
        "Select two or more runs with test metrics in the table to compare them (failed and damaged runs have "
        "none). Until then, the loss weights → metrics view below holds the runs with the newest run's tasks and data."
    )
pool = comparable if len(comparable) >= 2 else [r for r in rows if not r["damaged"]]
weights, weight_columns, outcome_columns, held = weights_table(pool)
if len(weights) >= 2 and weight_columns:
    st.plotly_chart(charts.parallel_weights(weights, weight_columns, outcome_columns), width="stretch")
    st.caption(
        f"{held[0].upper()}{held[1:]}. Drag along an axis to pick out runs; weights every run shares are left out."
    )
    if differ is not None and (others := settings_besides_weights(differ)):
        # Runs of other sizes drawn as if only their weights differed (a browser audit)
        st.warning(
            f"These runs differ in more than their loss weights ({', '.join(map(fmt.md, others[:4]))}"
            f"{', …' if len(others) > 4 else ''}; see Settings that differ above): the lines mix those in."
        )
elif len(weights) >= 2:
    st.caption(
        f"No loss weights → metrics chart: these runs share every loss weight, so no weight tells them apart ({held})."
    )
elif pool:
    st.caption(f"No loss weights → metrics chart: it needs two runs of the same tasks with test metrics ({held}).")

st.subheader("Manage")
if not selected:
    st.info("Select a run in the table to rename, delete, download or open it.")
else:
    ids = [r["id"] for r in selected]
    by_id = {r["id"]: r for r in selected}
    run_id = ids[0]
    if len(ids) > 1:
        labels = {rid: runs.run_label(by_id[rid]) for rid in ids}
        state.current_label("runs_manage", labels)  # a rename changes the text of the run selected
        run_id = st.selectbox("Run", ids, format_func=labels.get, key="runs_manage")
    manage(by_id[run_id])


def sweeps_section() -> None:
    """Loss-weight sweeps saved on the server (their points are runs above, tagged with the sweep)."""
    from mtlrec.sweep import list_sweeps, metric_words

    st.subheader("Sweeps")
    sweeps = list_sweeps(state.store())
    if not sweeps:
        st.caption("No loss-weight sweeps yet: the **Sweep** page runs them; their points are listed above as runs.")
        return
    overview = pd.DataFrame(
        {
            "name": [s["name"] for s in sweeps],
            "status": [STATUS_LABELS.get(s["status"], s["status"]) for s in sweeps],
            "created": local_times([s["created"] or 0 for s in sweeps], st.context.timezone),
            "tasks": [" vs ".join(f"{t} ({metric_words(m)})" for t, m in s["metrics"].items()) for s in sweeps],
            "points": [f"{s['points_done']} of {s['points']}" for s in sweeps],
            "references": [s["references_done"] for s in sweeps],
            "model": [f"{s['model']} {s['size']}" for s in sweeps],
        }
    )
    st.dataframe(
        overview,
        hide_index=True,
        placeholder="–",
        column_config={"created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm")},
    )
    st.caption("An interrupted or stopped sweep keeps the points that finished.")
    names = {s["id"]: f"{s['name']} · {s['status']} · {s['id']}" for s in sweeps}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    state.current_label("runs_sweep", names)  # a sweep's status changes as it runs and ends
    chosen = left.selectbox("Sweep", list(names), format_func=names.get, key="runs_sweep")
    if right.button("Open on the Sweep page", icon=":material/scatter_plot:", key="runs_open_sweep"):
        st.session_state["sweep_shown"] = st.session_state["sweep_shown_id"] = chosen
        st.switch_page("pages/sweep.py")


sweeps_section()
