"""Data page: load a table, check the inferred schema, and see how the tasks relate before training."""

from ui.frame import guard

guard("data")

import dataclasses  # noqa: E402
import hashlib  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from mtlrec import charts, fmt  # noqa: E402
from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec  # noqa: E402
from mtlrec.errors import MtlrecError, NoHeaderLine  # noqa: E402
from mtlrec.fixes import (  # noqa: E402
    CONDITIONS,
    OLDER,
    RARE,
    appended,
    apply_fixes,
    describe,
    fixes_key,
    parse_fix,
    parse_value,
    span_seconds,
)
from mtlrec.leakage import find_leaks, set_aside  # noqa: E402
from mtlrec.negatives import MAX_PER_ROW, negatives_fix, unlabelled_columns, zero_columns  # noqa: E402
from mtlrec.sample import SAMPLES  # noqa: E402
from mtlrec.schema import (  # noqa: E402
    UNNAMED_TIME,
    beside_source,
    binary_coding,
    is_numeric,
    regression_log1p,
    skewed_target,
    validate,
    with_flags_note,
)
from ui import state  # noqa: E402

NONE = "(none)"
ROLES = [*DataConfig.FEATURE_ROLES, "label", "ignore"]
TASK_TYPES = ["binary", "regression"]
PREVIEW_ROWS = 200
PREVIEW_COLUMNS = 200  # a table may have 10,000 columns: the preview shows these first ones (the summary lists all)
EXAMPLE_ROWS = 1000  # the column summary looks for a column's first distinct values here before in all its rows
PROFILE_ROWS = 200_000  # profile charts and the column summary use at most this many sampled rows
ID_COLUMNS = (  # (role, label, help) of the id selectboxes; the config field is f"{role}_col"
    ("user", "User column", "Enables GAUC, the user split, ranking metrics and recommendations."),
    ("item", "Item column", "The thing recommended: enables ranking metrics and recommendations."),
    ("time", "Timestamp column", "Epoch seconds or dates: enables the time split."),
)
EDITOR = "schema_editor"  # widget keys of the schema editor start with "schema_": a new dataset clears them
# The editor's key is EDITOR_<generation>, a new one for each new table: the browser keeps a data editor's edited
# cells for as long as its key stays, so a new file of the same shape showed the previous file's edits, which the
# server no longer applied (outside "schema_", so that clearing the widgets does not reset the count).
EDITOR_GENERATION = "editor_generation"
EDITOR_BASE = "schema_base"  # the editor's input table: (its columns, the table), stable while the page is shown
ASIDE = "schema_aside"  # tasks whose column is now the user, item or time column: name -> {"spec", "position"}

FORMAT_HELP = """
**One row per interaction** (an impression, a view, a purchase…):

- a **user** column and an **item** column (ids; optional, but they enable GAUC, ranking metrics and
  recommendations), and optionally a **timestamp** (epoch seconds or dates like `2024-05-01 12:00`);
- any number of **feature** columns: categories (text or small integers) or numbers;
- **one column per label**, one model output each: `0/1` (or `yes/no`, `true/false`) for binary outcomes such as
  click or purchase, real numbers for regression targets such as watch time.

```text
user_id,item_id,timestamp,device,price,click,purchase,watch_time
u17,i204,1709251226,ios,12.5,1,0,31.2
u17,i9,1709251290,ios,3.0,0,0,0.0
```

CSV (comma, semicolon, tab or pipe separated; UTF-8, UTF-16, Windows-1252, Latin-1 or a Chinese, Japanese or Korean
Windows encoding; optionally gzipped), Parquet, or JSON lines (one object per line, as Amazon's reviews; nested
objects become columns such as `style.Format:`, lists are left out).
"""


def load_controls() -> None:
    """Sample buttons and the uploader; a bad file shows the loader's message and keeps the current dataset."""
    samples, upload_box = st.columns(2, gap="large")
    with samples:
        st.markdown("**Bundled samples**")
        for name, info in SAMPLES.items():
            if st.button(info["title"], key=f"data_sample_{name}", help=info["description"], icon=":material/dataset:"):
                try:
                    state.use_sample(name)
                    # The failed upload's message is of the file before: under it, "Still using <sample>" read as
                    # if the sample had been the fallback (a browser walk)
                    st.session_state.pop("data_upload_error", None)
                    st.session_state.pop(state.UNNAMED, None)
                    st.toast(f"Loaded the {name} sample")
                except MtlrecError as exc:
                    st.error(fmt.plain(exc.message))
    with upload_box:
        limit = st.get_option("server.maxUploadSize")
        upload = st.file_uploader(
            f"Upload CSV (optionally .gz), Parquet or JSON lines, up to {limit} MB",
            type=None,  # any name (u.data, ratings.inter): the reader says what a file that is no table is
            key="data_upload",
            help=state.UPLOAD_HELP.format(limit=limit),
        )
        if upload is None:
            # A file without a header line given on Home: named here without picking it again (the link from Home
            # opened an empty uploader).
            if unnamed := st.session_state.get(state.UNNAMED):
                st.error(f"Uploaded on Home: {unnamed['message']}")  # the message names the file
                name_columns(unnamed["name"], unnamed["data"], unnamed["fields"], "home")
                if state.dataset():
                    st.caption(f"Still using **{fmt.md(state.dataset()['name'])}**.")
            return
        st.session_state.pop(state.UNNAMED, None)  # a file given here replaces it
        if st.session_state.get("data_uploaded") != upload.file_id:
            st.session_state["data_uploaded"] = upload.file_id  # parse each file once, not on every rerun
            st.session_state.pop("data_upload_error", None)
            try:
                with st.spinner(
                    f"Reading {fmt.md(upload.name)} ({fmt.nbytes(upload.size)}), proposing its schema, checking for leaks…"
                ):
                    state.use_upload(upload.name, upload.getvalue())
                st.toast(f"Loaded {fmt.md(upload.name)}")
            except MtlrecError as exc:
                fields = exc.fields if isinstance(exc, NoHeaderLine) else 0
                st.session_state["data_upload_error"] = (upload.file_id, fmt.plain(exc.message), fields)
            except Exception as exc:  # see unexpected()
                st.session_state["data_upload_error"] = (upload.file_id, unexpected(exc, f"reading {upload.name}"), 0)
        failed = st.session_state.get("data_upload_error")
        if failed and failed[0] == upload.file_id:
            st.error(failed[1])
            if failed[2]:
                name_columns(upload.name, upload.getvalue(), failed[2], upload.file_id)
            if state.dataset():
                st.caption(f"Still using **{fmt.md(state.dataset()['name'])}**.")


def name_columns(name: str, data: bytes, fields: int, key: str) -> None:
    """A file whose first line is data (MovieLens' ratings.dat, Last.fm's listens) read again with names given
    here, which the run's config keeps (data.names): no need to edit the file. `key` tells the files apart."""
    with st.form("data_names_form"):
        st.markdown(
            f"**Name the columns.** If the first line is data, give the file's {fields} columns names, in the "
            "file's order, separated by commas; the first line is then read as a row."
        )
        text = st.text_input(
            "Column names",
            value=",".join(f"c{i}" for i in range(1, fields + 1)),
            key=f"data_names_{key}",
            help="E.g. user_id,item_id,rating,timestamp for MovieLens' ratings.dat. Names holding a comma cannot be "
            "given here.",
        )
        if not st.form_submit_button("Read with these names", icon=":material/table_rows:"):
            return
    try:
        with st.spinner(f"Reading {fmt.md(name)} with these names…"):
            state.use_upload(name, data, [n.strip() for n in text.split(",")])
    except MtlrecError as exc:
        st.error(fmt.plain(exc.message))
        return
    except Exception as exc:  # see unexpected()
        st.error(unexpected(exc, f"reading {name} with names"))
        return
    st.session_state.pop("data_upload_error", None)
    st.toast(f"Loaded {fmt.md(name)}")
    st.rerun()


def unexpected(exc: Exception, doing: str) -> str:
    """Analysts bring any data: a library bug it triggers is logged and shown as a sentence, never a traceback."""
    logging.getLogger(__name__).exception("Data page: unexpected error while %s", doing)
    return (
        f"Unexpected error while {doing} ({type(exc).__name__}): this is a bug in mtlrec; the details are in the log."
    )


def per_dataset(key: str, path: str, compute):
    """A value derived from the current dataset, kept in session state until another dataset is loaded."""
    held = st.session_state.get(key)
    if held is None or held[0] != path:
        held = (path, compute())
        st.session_state[key] = held
    return held[1]


def column_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: dtype, distinct values, missing share and its first three distinct values."""
    distinct = frame.nunique(dropna=True)
    return pd.DataFrame(
        {
            "column": frame.columns,
            "dtype": frame.dtypes.astype(str).to_numpy(),
            "distinct": distinct.to_numpy(dtype="int64"),
            "missing": frame.isna().mean().to_numpy(dtype="float64"),
            "examples": [
                examples(values, min(int(n), 3)) for (_, values), n in zip(frame.items(), distinct, strict=True)
            ],
        }
    )


def examples(values: pd.Series, wanted: int) -> str:
    """The column's first `wanted` distinct values, looked for in its first EXAMPLE_ROWS rows, then in all."""
    found = pd.unique(values.head(EXAMPLE_ROWS).dropna())
    if len(found) < wanted:
        found = pd.unique(values.dropna())
    return ", ".join(str(v)[:30] for v in found[:wanted])


def preview(frame: pd.DataFrame, summary: pd.DataFrame, profiled: int) -> None:
    st.subheader("Preview")
    rows, columns = st.columns(2)
    rows.metric("Rows", fmt.count(len(frame)))
    columns.metric("Columns", frame.shape[1])
    st.dataframe(frame.iloc[:PREVIEW_ROWS, :PREVIEW_COLUMNS], width="stretch", height=280)
    shown = f"The first {min(PREVIEW_ROWS, len(frame))} rows"
    if frame.shape[1] > PREVIEW_COLUMNS:
        shown += f" and the first {PREVIEW_COLUMNS} of {fmt.count(frame.shape[1])} columns (the summary lists all)"
    st.caption(shown + ".")
    with st.expander("Column summary", expanded=True):
        if profiled < len(frame):
            st.caption(f"Distinct values and missing shares of {fmt.count(profiled)} randomly sampled rows.")
        st.dataframe(
            summary,
            hide_index=True,
            width="stretch",
            column_config={
                "distinct": st.column_config.NumberColumn("distinct values", format="localized"),
                "missing": st.column_config.NumberColumn("missing", format="percent"),
            },
        )


def editor_table(
    config: ExperimentConfig, frame: pd.DataFrame, columns: list[str], distinct: dict, aside: dict | None = None
) -> pd.DataFrame:
    """One row per column that is not user/item/time: its role and task settings as the config has them (a task set
    aside while its column was an id or the time, `aside`, comes back as it was)."""
    tasks = {name: TaskSpec(**entry["spec"]) for name, entry in (aside or {}).items()}
    tasks.update({t.name: t for t in config.tasks})
    rows = []
    for column in columns:
        values = frame[column]
        if column in tasks:
            role, kind, log1p = "label", tasks[column].type, tasks[column].log1p
            if kind == "binary":  # what it gets if retyped as regression, as the CLI's --task-types gives it
                log1p = regression_log1p(values)
        else:
            role = config.data.role_of(column) or "ignore"
            # More than two distinct values (in the summary's rows, a part of these) is never a binary coding.
            coded = distinct.get(column, 0) <= 2 and binary_coding(values) is not None
            # As it would be proposed as a label: log1p on for a skewed target (mtlrec.schema.regression_log1p).
            kind = "binary" if coded or not is_numeric(values) else "regression"
            log1p = kind == "regression" and skewed_target(values)
        rows.append(
            {
                "column": column,
                "dtype": str(values.dtype),
                "distinct": distinct.get(column, 0),
                "role": role,
                "task type": kind,
                "log1p": log1p,
            }
        )
    return pd.DataFrame(rows, columns=["column", "dtype", "distinct", "role", "task type", "log1p"])


def schema_editor(config: ExperimentConfig, frame: pd.DataFrame, distinct: dict) -> tuple[ExperimentConfig, list]:
    """Id columns and per-column roles; returns the config they describe and notes on settings changed with them."""
    st.subheader("Schema")
    st.caption("Prefilled by inference; every change is kept for training.")
    d = config.data
    options = [NONE, *frame.columns]
    picks = {}
    cols = st.columns(4)
    for col, (role, label, help_text) in zip(cols, ID_COLUMNS, strict=False):
        current = getattr(d, f"{role}_col")
        key = state.seed(f"schema_{role}", current if current in options else NONE)
        with col:
            picks[role] = st.selectbox(label, options, key=key, help=help_text)
    ids = [c for c in (d.user_col, d.item_col) if c]
    key = state.seed("schema_ids", all(c in d.categorical for c in ids))
    with cols[3]:
        # A short label: a quarter of the page cut "Use user and item ids as features" to "Use user and item ids …"
        st.checkbox(
            "Ids as features", key=key, help="Use the user and item ids as features: embed them like any category."
        )
    user, item, time = (None if picks[r] == NONE else picks[r] for r in ("user", "item", "time"))
    # A task whose column becomes the user, item or time column is set aside (said below), and comes back with its
    # type, log1p and weight if the column becomes a plain column again.
    aside = st.session_state.setdefault(ASIDE, {})
    for position, task in enumerate(config.tasks):
        if task.name in (user, item, time):
            aside[task.name] = {"spec": dataclasses.asdict(task), "position": position}

    rest = [c for c in frame.columns if c not in (user, item, time)]
    base = st.session_state.get(EDITOR_BASE)
    key = f"{EDITOR}_{st.session_state.get(EDITOR_GENERATION, 0)}"
    if base is None or base[0] != rest or key not in st.session_state:
        # New rows (an id column changed), a new dataset or a fresh visit: rebuild from the config, in an editor
        # with a new key (old edits are positional, and the browser would keep showing them).
        st.session_state.pop(key, None)
        st.session_state[EDITOR_GENERATION] = st.session_state.get(EDITOR_GENERATION, 0) + 1
        key = f"{EDITOR}_{st.session_state[EDITOR_GENERATION]}"
        base = (rest, editor_table(config, frame, rest, distinct, aside))
        st.session_state[EDITOR_BASE] = base
    edited = st.data_editor(
        base[1],
        key=key,
        hide_index=True,
        width="stretch",
        num_rows="fixed",
        disabled=["column", "dtype", "distinct"],
        column_config={
            "distinct": st.column_config.NumberColumn("distinct", format="localized"),
            "role": st.column_config.SelectboxColumn(
                "role",
                options=ROLES,
                required=True,
                help="categorical: embedded; numeric: standardised; multi-valued: lists of tokens (genres "
                "'Action|Comedy', tags, lists), one input per frequent token; label: a task; ignore: not used.",
            ),
            # Filled for every column (what a feature would get as a label), used for labels only: the header says
            # so, as a feature row's "binary" read as a setting applied to it (an audit).
            "task type": st.column_config.SelectboxColumn(
                "task type (if label)",
                options=TASK_TYPES,
                required=True,
                help="Used when the role is label: binary (0/1) or regression. A feature's shows what it would get.",
            ),
            "log1p": st.column_config.CheckboxColumn(
                "log1p (if label)", help="Regression labels: train on log(1 + y). Ignored for features."
            ),
        },
    )
    new, notes = apply_schema(config, user, item, time, st.session_state["schema_ids"], edited, aside)
    for name, entry in aside.items():  # said on every run while it is set aside
        role = next((r for r, c in (("user", user), ("item", item), ("time", time)) if c == name), None)
        if role is not None:
            spec = entry["spec"]
            notes.append(
                f"'{fmt.md(name)}' was a task ({spec['type']}, loss weight {fmt.weight(spec['weight'])}); as the {role} column it is "
                "no longer one. Choose another column there to get it back with its settings."
            )
    for name in [n for n in aside if n in new.task_names]:
        del aside[name]  # back as a task: nothing set aside any more
    return new, notes


def apply_schema(
    config: ExperimentConfig, user, item, time, ids_as_features: bool, table: pd.DataFrame, aside: dict | None = None
) -> tuple[ExperimentConfig, list[str]]:
    new = ExperimentConfig.from_dict(config.to_dict())
    d = new.data
    d.user_col, d.item_col, d.time_col = user, item, time
    role = dict(zip(table["column"], table["role"].fillna("ignore"), strict=True))
    ids = list(dict.fromkeys(c for c in (user, item) if c)) if ids_as_features else []
    d.categorical = ids + [c for c, r in role.items() if r == "categorical"]
    d.numeric = [c for c, r in role.items() if r == "numeric"]
    d.multi = [c for c, r in role.items() if r == "multi-valued"]
    labels = {row["column"]: row for row in table.to_dict("records") if row["role"] == "label"}
    kept = {t.name: t.weight for t in config.tasks}
    labelled_only = {t.name for t in config.tasks if t.labelled_only}  # set on Train: kept while the task stays
    names = list(kept)
    for name, entry in sorted((aside or {}).items(), key=lambda item: item[1]["position"]):
        if name not in kept:  # a task set aside comes back at its place (task order decides colours)
            names.insert(min(entry["position"], len(names)), name)
            kept[name] = entry["spec"]["weight"]
            if entry["spec"].get("labelled_only"):
                labelled_only.add(name)
    order = [n for n in names if n in labels] + [n for n in labels if n not in kept]
    new.tasks = []
    for name in order:
        kind = labels[name]["task type"] or "binary"
        new.tasks.append(
            TaskSpec(name, kind, kept.get(name, 1.0), bool(labels[name]["log1p"]) and kind == "regression",
                     labelled_only=name in labelled_only)
        )  # fmt: skip
    return new, new.conform()


def check(config: ExperimentConfig, frame: pd.DataFrame, path: str) -> tuple[list[str], list[str], list[str]]:
    """(notes, warnings, problems) of the config against the data; recomputed only when the schema changes.
    The warnings name features that may leak a label (mtlrec.leakage)."""
    key = hashlib.sha256((config.to_json() + path).encode()).hexdigest()
    held = st.session_state.get("data_validation")
    if held is None or held[0] != key:
        problems, warnings = [], []
        d = config.data
        chosen = [(role, c) for role, c in (("user", d.user_col), ("item", d.item_col), ("time", d.time_col)) if c]
        for i, (role, column) in enumerate(chosen):
            for other, same in chosen[i + 1 :]:
                if same == column and (role, other) != ("user", "item"):  # that pair: ExperimentConfig.check says so
                    problems.append(
                        f"column '{fmt.md(column)}' is chosen as both the {role} and the {other} column: pick another "
                        "for one"
                    )
        try:
            notes = validate(config, frame)
            warnings = [leak.note(cli=False) for leak in find_leaks(frame, config.data, config.tasks)]
        except MtlrecError as exc:
            notes, problems = [], problems + exc.problems
        except Exception as exc:  # see unexpected()
            notes, problems = [], problems + [unexpected(exc, "checking the schema against the data")]
        held = (key, notes, warnings, problems)
        st.session_state["data_validation"] = held
    return held[1], held[2], held[3]


def validation(config: ExperimentConfig, notes: list[str], warnings: list[str], problems: list[str]) -> None:
    st.subheader("Validation")
    st.session_state["data_valid"] = not problems
    if problems:
        what = "this problem is" if len(problems) == 1 else f"these {len(problems)} problems are"
        st.warning(f"Training is blocked until {what} fixed.", icon=":material/block:")
        for problem in problems:
            st.error(fmt.plain(problem))
    else:
        features = len(config.data.features)
        st.success(
            f"Ready to train: {len(config.tasks)} {plural(len(config.tasks), 'task')}, "
            f"{features} {plural(features, 'feature')}",
            icon=":material/check_circle:",
        )
    for warning in warnings:
        st.warning(fmt.plain(warning), icon=":material/warning:")
    for note in notes:
        st.info(fmt.plain(note))
    if not problems:
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")


FIX_ACTIONS = {"Drop rows": "drop", "Fill missing values": "fill", "Make a 0/1 label": "label",
               "Sample negatives": "negatives"}  # fmt: skip
RARE_TEXT = "occurs in fewer rows than"  # drop only: users (or items) with fewer interactions than the value
OLDER_TEXT = "is older than (before the latest time)"  # drop only: a recent window of the log
FIX_WHERE = {
    "is missing": "missing",
    **{c: c for c in CONDITIONS[1:] if c not in (RARE, OLDER)},
    RARE_TEXT: RARE,
    OLDER_TEXT: OLDER,
}
FIX_PROBLEM = "schema_fix_problem"  # why the last fix asked for was not added (schema_: a new dataset clears it)
FIX_CHANGES = "schema_fix_changes"  # what adding or removing a fix changed in the schema, said once
FIX_RUN = "schema_fix_run"  # the earlier run whose fixes "Add its fixes" adds
FIX_LEAKS = "schema_fix_leaks"  # new label -> the features set aside because they give it away, given back on removal
FIX_FEATURES = "schema_fix_features"  # new label -> (the feature it is made from, its role), given back on removal
ADVICE_SHOWN = "schema_fix_advice_shown"  # the advised fix the form was last set to (advised_fix), or None
FIX_TASKS = "schema_fix_tasks"  # new label -> the binary task (as a dict) it is made from and replaced, given back


def advised_column(texts: list[str], frame: pd.DataFrame) -> str | None:
    """The first column named by a problem or note that advises a fix ("column 'like' has 1,127 missing values …
    on Data: Fix the rows"), for the fix form's first choice; None when none does."""
    for text in texts:
        if "Fix the rows" not in text:
            continue
        for name in re.findall(r"column '((?:[^']|'(?! ))+)'", text):
            if name in frame.columns:
                return name
    return None


def advised_fix(texts: list[str], frame: pd.DataFrame) -> dict | None:
    """The first drop, fill or label a problem or note gives as a command (CLI: `--drop 'like == 2'`), as the fix
    form's action, column, condition, value and new label's name (it started at the column only, on "is missing": a
    browser audit); None when none does."""
    for text in texts:
        for segment in re.findall(r"CLI: (`+) ?(.+?) ?\1", text):
            try:
                tokens = shlex.split(segment[1])
            except ValueError:
                continue
            for flag, value in zip(tokens, tokens[1:], strict=False):
                action = flag.removeprefix("--")
                if action not in ("drop", "fill", "label"):
                    continue
                try:
                    fix = parse_fix(action, value)
                except MtlrecError:
                    continue
                column = fix.get("from" if action == "label" else action)
                if isinstance(column, str) and column in frame.columns:
                    return fix
    return None


def prefill_fix(fix: dict, column_key: str) -> None:
    """Set the fix form's controls (before they are drawn) to an advised fix."""
    action = next(a for a in ("drop", "fill", "label") if a in fix)
    st.session_state["schema_fix_action"] = next(label for label, a in FIX_ACTIONS.items() if a == action)
    st.session_state[column_key] = fix["from" if action == "label" else action]
    if action == "label":
        st.session_state["schema_fix_name"] = fix["label"]
    if action != "fill":
        where = fix.get("where", "missing")
        st.session_state["schema_fix_where"] = "is missing" if where == "missing" else where
    if "value" in fix:
        st.session_state["schema_fix_value"] = str(fix["value"])


FIX_FORM = "schema_fix_form"  # {"key": the column box's key, "values": the form's controls} as last drawn
FORM_KEYS = (
    "schema_fix_action", "schema_fix_where", "schema_fix_value", "schema_fix_name", "schema_fix_negatives",
    "schema_fix_negatives_label", "schema_fix_from_run",
)  # fmt: skip


def keep_form(column_key: str, columns_key: str) -> None:
    """Remember Fix the rows' controls as they are (Streamlit drops a widget's value once its page is left), so that
    a half-filled fix is there on coming back."""
    keys = [*FORM_KEYS, column_key, columns_key]
    values = {key: st.session_state[key] for key in keys if key in st.session_state}
    st.session_state[FIX_FORM] = {"key": column_key, "values": values}


def fix_rows(config: ExperimentConfig, frame: pd.DataFrame, problems: list[str], notes: list[str]) -> None:
    """Fixes to the rows (mtlrec.fixes): drop rows, fill missing values, make a 0/1 label from a column. They are
    kept in the experiment (data.fixes) and applied wherever its data is read, so a browser is enough to act on the
    validation's advice; the file itself is not changed."""
    fixes = config.data.fixes
    done, failed = state.fixes_applied()
    title = f"Fix the rows ({len(fixes)} {'fix' if len(fixes) == 1 else 'fixes'})" if fixes else "Fix the rows"
    advised = any("Fix the rows" in text for text in problems + notes)
    with st.expander(title, expanded=bool(advised or fixes), icon=":material/build:"):
        st.caption(
            "Drop rows, fill missing values, make a 0/1 label from a column (e.g. `liked` = 1 where `rating >= 4`) or "
            "sample negatives for a log of positives only. Fixes apply in order each time the data is read "
            "(training, Recommend, a re-run) and are saved in the run's config; the file itself is not changed. "
            "CLI: `--drop`, `--fill`, `--label`, `--negatives`."
        )
        if failed:
            st.error(fmt.plain(failed))
        for i, fix in enumerate(fixes):
            text, remove = st.columns([5, 1], vertical_alignment="center")
            note = next((n.split(": ", 1)[1] for n in done if n.startswith(f"fix {i + 1}: ")), "")
            text.markdown(f"{i + 1}. `{describe(fix)}`" + (f"  \n:gray[{fmt.md(note)}]" if note else ""))
            remove.button("Remove", key=f"schema_fix_remove_{i}", on_click=remove_fix, args=(i,),
                          icon=":material/delete:", help=f"Remove fix {i + 1}")  # fmt: skip
        for change in st.session_state.pop(FIX_CHANGES, []):
            st.info(change)
        raw = state.raw_frame()  # the file's own columns (a label a fix made is among frame's): add_fix's keys too
        columns_key, column_key = fix_column_keys(raw if raw is not None else frame)
        # A new file, a fix just added, or a problem that a schema edit made (a column made a label with missing
        # values: the form stayed where it was, a browser walk): the advised fix, whole. The same advice again
        # leaves the form as the user set it.
        advice = advised_fix(problems + notes, frame)
        form = st.session_state.get(FIX_FORM) or {}
        if (
            column_key not in st.session_state
            and form.get("key") == column_key
            and (st.session_state.get(ADVICE_SHOWN) == advice)
        ):  # back from another page, the advice as it was: the form as the user left it (it was reset: a walk)
            for key, value in form["values"].items():
                st.session_state.setdefault(key, value)
        elif advice and (column_key not in st.session_state or st.session_state.get(ADVICE_SHOWN) != advice):
            prefill_fix(advice, column_key)
        st.session_state[ADVICE_SHOWN] = advice
        action = FIX_ACTIONS[st.radio("Fix", list(FIX_ACTIONS), key="schema_fix_action", horizontal=True)]
        if action == "negatives":
            negatives_form(config)
            keep_form(column_key, columns_key)  # (the other fixes' form is kept once drawn, below)
            problem = st.session_state.pop(FIX_PROBLEM, None)
            if problem:
                st.error(fmt.plain(problem))
            return
        wheres = [w for w in FIX_WHERE if action == "drop" or w not in (RARE_TEXT, OLDER_TEXT)]  # drops only
        if st.session_state.get("schema_fix_where") not in wheres:
            st.session_state["schema_fix_where"] = wheres[0]
        where = "missing"
        if action != "fill":
            where = FIX_WHERE[st.session_state["schema_fix_where"]]
        needs_value = action == "fill" or where != "missing"
        cols = iter(st.columns(2 + needs_value + (action == "label")))
        if where == RARE:  # one column, or users and items: the k-core
            if columns_key not in st.session_state:
                ids = [c for c in (config.data.user_col, config.data.item_col) if c in frame.columns]
                st.session_state[columns_key] = ids or list(frame.columns[:1])
            next(cols).multiselect(
                "Columns", list(frame.columns), key=columns_key,
                help="Two columns (users and items): rows are dropped again and again until every user and every "
                     "item left has at least that many rows (the k-core).",
            )  # fmt: skip
            column = None
        else:
            if column_key not in st.session_state and (flagged := advised_column(problems + notes, frame)):
                st.session_state[column_key] = flagged  # the column validation asks to fix, not the first
            column = next(cols).selectbox(
                "Column" if action != "label" else "From column", list(frame.columns), key=column_key
            )
        if action != "fill":
            next(cols).selectbox("Where", wheres, key="schema_fix_where",
                                 help=f"'{RARE_TEXT}': drops the rows of users (or items) with fewer rows than the value, "
                                      "e.g. users with fewer than 5 interactions; with users and items both, again "
                                      "until none is left (the k-core). "
                                      f"'{OLDER_TEXT}': keeps the last stretch of a time column, e.g. its last 90 "
                                      "days")  # fmt: skip
        if needs_value:
            label, placeholder, help_text = {
                RARE: (
                    "Rows",
                    "e.g. 5",
                    "A whole number of rows: values seen in fewer rows are dropped (5 with users "
                    "and items: the 5-core).",
                ),
                OLDER: (
                    "Time span",
                    "e.g. 90 days",
                    "Minutes, hours, days or weeks before the latest time of the "
                    "column (the test file's counts too): older rows are dropped.",
                ),
            }.get(
                where,
                (
                    "Value",
                    "e.g. 4" if action != "fill" else "e.g. 0",
                    "A number, true/false, a date like 2024-05-01, or text (as written; quotes are taken off).",
                ),
            )
            next(cols).text_input(label, key="schema_fix_value", placeholder=placeholder, help=help_text)  # fmt: skip
        if action == "label":
            next(cols).text_input("New label's name", key="schema_fix_name", placeholder="e.g. liked")
        keep_form(column_key, columns_key)
        st.button("Add fix", key="schema_fix_add", on_click=add_fix, args=(action, column),
                  icon=":material/add:")  # fmt: skip
        # The same kind of file again (a weekly export): its fixes need not be made one by one. The runs are listed
        # only when asked for (reading every run's config on each rerun of the page would cost with many runs).
        if st.toggle("Add the fixes of an earlier run", key="schema_fix_from_run"):
            runs = runs_with_fixes(fixes)
            if not runs:
                st.caption("No saved run has fixes that are not here already.")
            else:
                if st.session_state.get(FIX_RUN) not in runs:
                    st.session_state[FIX_RUN] = next(iter(runs))
                state.current_label(FIX_RUN, runs)  # a run renamed in another tab: its new name, still chosen
                pick, use = st.columns([5, 2], vertical_alignment="bottom")
                pick.selectbox("Run", list(runs), format_func=runs.get, key=FIX_RUN,
                               help="Its fixes that are not here yet, in their order, if they all apply to this data.")  # fmt: skip
                use.button("Add its fixes", key="schema_fix_use_run", on_click=use_run_fixes, args=(runs,),
                           icon=":material/playlist_add:")  # fmt: skip
        problem = st.session_state.pop(FIX_PROBLEM, None)
        if problem:
            st.error(fmt.plain(problem))


def _fix_value(frame: pd.DataFrame, column: str, text: str):
    """The value typed for a fix: text as written for a text column (quotes around it taken off), else read as the
    CLI reads it (a number, true/false; a date stays text and is compared as a time)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    values = frame[column] if column in frame.columns else None
    if values is not None and not (
        pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(values.dtype)
    ):
        return text
    value = parse_value(text)
    numeric = values is not None and pd.api.types.is_numeric_dtype(values.dtype)
    if isinstance(value, str) and numeric and not pd.api.types.is_bool_dtype(values.dtype):
        try:  # 40.0 or 1e3 in a number column: the number (fixes of one number are one fix)
            number = float(value)
            value = int(number) if number.is_integer() and abs(number) < 2**53 else number
        except ValueError:
            pass  # said when the fix is applied: not a number
    return value


def _guarded(callback):
    """A fix button's callback: a library bug it triggers is logged and said, never a traceback (see unexpected)."""

    def run(*args) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - see unexpected()
            st.session_state[FIX_PROBLEM] = unexpected(exc, "changing the fixes")

    return run


def fix_column_keys(frame: pd.DataFrame) -> tuple[str, str]:
    """The keys of Fix the rows' column boxes (the k-core's multiselect, the others' selectbox), one pair per set of
    column names: with one key for every file, the browser went on showing the last file's column ("UserID" among
    User-ID, ISBN…) and the fix added was on another (a browser audit)."""
    token = hashlib.sha256("\0".join(map(str, frame.columns)).encode()).hexdigest()[:8]
    return f"schema_fix_columns_{token}", f"schema_fix_column_{token}"


@_guarded
def add_fix(action: str, column: str | None) -> None:
    """Add the fix the controls describe, when it applies to the rows; else say why (FIX_PROBLEM). `column` is None
    for a count ('fewer than'), whose columns are a multiselect's."""
    config, rows = state.experiment(), state.raw_frame()
    if rows is None:
        return
    where = FIX_WHERE[st.session_state.get("schema_fix_where", "is missing")] if action != "fill" else None
    if where == RARE:
        columns = list(st.session_state.get(fix_column_keys(rows)[0]) or [])
        if not columns:
            st.session_state[FIX_PROBLEM] = "Choose a column, or two (users and items) for the k-core."
            return
        column = columns[0] if len(columns) == 1 else columns
    fix: dict = {action: column} if action != "label" else {"label": "", "from": column}
    text = str(st.session_state.get("schema_fix_value", ""))
    if where is not None:
        fix["where"] = where
    if action == "fill" or where != "missing":
        if not text.strip():
            st.session_state[FIX_PROBLEM] = "Give a value."
            return
        if where == RARE:
            if not text.strip().isdigit() or int(text.strip()) < 1:  # not int(): it takes 1_000 and -3
                st.session_state[FIX_PROBLEM] = f"Give a whole number of rows from 1, e.g. 5, not {text.strip()!r}."
                return
            fix["value"] = int(text.strip())
        elif where == OLDER:
            if span_seconds(text) is None:
                st.session_state[FIX_PROBLEM] = (
                    f"Give a time span in minutes, hours, days or weeks, e.g. 90 days, not {text.strip()!r}."
                )
                return
            fix["value"] = " ".join(text.split())
        else:
            fix["value"] = _fix_value(state.frame(), column, text)
    if action == "label":
        name = str(st.session_state.get("schema_fix_name", "")).strip()
        if not name:
            st.session_state[FIX_PROBLEM] = "Give the new label a name, e.g. liked."
            return
        fix["label"] = name
    same = [i for i, f in enumerate(config.data.fixes, 1) if fixes_key([f]) == fixes_key([fix])]
    if same:
        st.session_state[FIX_PROBLEM] = f"This is fix {same[0]} already."
        return
    try:
        _add_fixes(config, rows, [fix], [])
    except MtlrecError as exc:
        st.session_state[FIX_PROBLEM] = exc.message
        return
    for key in ("schema_fix_value", "schema_fix_name"):  # a second click does not add the same fix again
        st.session_state[key] = ""
    st.session_state.pop(FIX_FORM, None)  # not given back as it was: the next advice, or an empty form
    # The column box goes to the next column validation then asks to fix (it stayed on the one just fixed: an audit)
    st.session_state.pop(fix_column_keys(rows)[1], None)


def negatives_form(config: ExperimentConfig) -> None:
    """Controls for sampled negatives (mtlrec.negatives): how many per row and the new label's name."""
    d = config.data
    st.caption(
        "For a log of positives only (every row a purchase, a listen, a check-in): adds, for each row, items the "
        "user has no row with as new rows (the row's user and context columns, the item's own columns), and a 0/1 "
        "label, 1 on the real rows and 0 on the sampled ones, which becomes a task. The binary tasks' columns are 0 "
        "in the sampled rows; a regression task (a rating) is empty there and trains on the real rows only. "
        "Recommend's history keeps the real rows. CLI: `--negatives K`."
    )
    if not d.user_col or not d.item_col:
        st.info("Sampled negatives need a user column and an item column: choose them in the schema above.")
        return
    many, name = st.columns(2)
    many.number_input("Negatives per row", min_value=1, max_value=MAX_PER_ROW, step=1,
                      key=state.seed("schema_fix_negatives", 4),
                      help="Each multiplies the rows: 4 turns 100,000 rows into 500,000.")  # fmt: skip
    name.text_input("New label's name", key="schema_fix_negatives_label", placeholder="interacted")
    st.button("Add fix", key="schema_fix_add", on_click=add_negatives, icon=":material/add:")


@_guarded
def add_negatives() -> None:
    """Add the sampled-negatives fix the controls describe, when it applies to the rows; else say why."""
    config, rows = state.experiment(), state.raw_frame()
    if rows is None:
        return
    d, fixed = config.data, state.frame()
    label = str(st.session_state.get("schema_fix_negatives_label") or "").strip() or "interacted"
    if negatives_fix(config.data.fixes) is not None:
        st.session_state[FIX_PROBLEM] = "The rows have sampled negatives already: remove that fix to change it."
        return
    # The binary tasks (labels made by earlier fixes too) are 0 in the sampled rows; the other outcomes (a rating) are
    # empty there, and their tasks train on their labelled rows only (the real rows).
    zero = zero_columns(fixed, config.task_names, d.user_col, d.item_col) if fixed is not None else []
    empty = (
        unlabelled_columns(fixed, config.task_names, d.user_col, d.item_col, label, zero) if fixed is not None else []
    )
    fix = {"negatives": int(st.session_state.get("schema_fix_negatives", 4)), "user": d.user_col,
           "item": d.item_col, "label": label, "zero": zero, **({"unlabelled": empty} if empty else {}),
           "seed": 0}  # fmt: skip
    changes = []
    for task in (t for t in config.tasks if t.name in empty):
        task.labelled_only = True
    if empty:
        changes.append(
            f"{', '.join(repr(fmt.md(n)) for n in empty)} {'has' if len(empty) == 1 else 'have'} no value in the "
            f"sampled rows: {'it is' if len(empty) == 1 else 'they are'} trained on the real rows only (labelled rows "
            "only, on Train)."
        )
    dropped = [t.name for t in config.tasks if t.name not in (label, *zero, *empty)]
    if dropped:  # said with the fix's other changes; nothing is saved if the fix does not apply
        config.tasks = [t for t in config.tasks if t.name in (label, *zero)]
        for name in dropped:
            config.data.drop_feature(name)
        changes.append(
            f"{', '.join(repr(fmt.md(n)) for n in dropped)} {'is' if len(dropped) == 1 else 'are'} no longer "
            f"{'a task' if len(dropped) == 1 else 'tasks'}: the sampled rows have no value for "
            f"{'it' if len(dropped) == 1 else 'them'} (they would copy the real row's)."
        )
    try:
        _add_fixes(config, rows, [fix], changes)
    except MtlrecError as exc:
        st.session_state[FIX_PROBLEM] = exc.message
        return
    st.session_state.pop(FIX_FORM, None)  # added: the form is not given back as it was


def _add_fixes(config: ExperimentConfig, rows: pd.DataFrame, new: list[dict], changes: list[str]) -> None:
    """Append `new` fixes to the experiment's, if all of them apply to the rows (else MtlrecError says why and
    nothing changes). A new label becomes a binary task, and the feature it is made from is ignored, as is any other
    feature that gives it away (mtlrec.leakage: as inference sets such columns aside for the labels it finds)."""
    fixes = appended(config.data.fixes, new)  # before sampled negatives, which stay last
    fixed, notes = apply_fixes(rows, fixes, source=state.dataset()["name"])
    state.keep_fixed(fixes, fixed, notes)  # not applied a second time for the page (a date fix on 1M rows: seconds)
    config.data.fixes = fixes
    for fix in (f for f in new if "label" in f):
        column = fix.get("from")  # none for sampled negatives' label
        if fix["label"] not in config.task_names:
            config.tasks.append(TaskSpec(fix["label"], "binary", 1.0))
            changes.append(f"'{fmt.md(fix['label'])}' is a new binary task (loss weight 1).")
        d = config.data
        if column is None:
            continue
        replaced = next((t for t in config.tasks if t.name == column and t.type == "binary"), None)
        if replaced is not None and column != fix["label"]:
            # 'converted'/'not converted' as a binary task: the label made of it still failed on it (an audit).
            # The label takes its place in the task list (and in a positional weight list, as the CLI's).
            at = config.tasks.index(replaced)
            label = next(t for t in config.tasks if t.name == fix["label"])
            config.tasks.remove(label)
            config.tasks[at] = label
            st.session_state.setdefault(FIX_TASKS, {})[fix["label"]] = {"task": dataclasses.asdict(replaced), "at": at}
            both = {  # "train both" failed when followed, for a column not 0/1 and for a label repeating it
                "both": "make it a label again in the schema above to train both",
                "repeat": f"it holds '{fmt.md(column)}' again or its opposite, so training both would train one task "
                "twice",
                "not_binary": "its values are not 0/1, so it cannot be trained as it is",
            }[beside_source(fixed, column, fix["label"])]
            changes.append(
                f"'{fmt.md(column)}' is no longer a task: the new label is made from it and takes its place ({both})."
            )
        role = d.role_of(column)
        if role is not None:
            # A feature the label is made from would hand the model the answer.
            d.drop_feature(column)
            st.session_state.setdefault(FIX_FEATURES, {})[fix["label"]] = (column, role)
            changes.append(
                f"'{fmt.md(column)}' was a feature and is now ignored: the new label is made from it, so as a feature "
                "it would give the answer away."
            )
    labels = [t for t in config.tasks if any(f.get("label") == t.name for f in new if "label" in f)]
    roles = {c: config.data.role_of(c) for c in config.data.features}  # to give the features back with the label
    for leak in set_aside(fixed, config.data, labels):
        role = roles[leak.column]
        st.session_state.setdefault(FIX_LEAKS, {}).setdefault(leak.task, []).append((leak.column, role))
        changes.append(
            f"'{fmt.md(leak.column)}' was a feature and is now ignored: {fmt.md(leak.evidence())}, so it is probably "
            f"recorded with or after the event. If it is known before, make it a feature again in the schema above."
        )
    _fix_saved(config, changes)


@_guarded
def use_run_fixes(runs: dict[str, str]) -> None:
    """Add the fixes of the run chosen in FIX_RUN (those not here already), if all of them apply to these rows."""
    config, rows, run_id = state.experiment(), state.raw_frame(), st.session_state.get(FIX_RUN)
    if rows is None or run_id not in runs:
        return
    try:
        name = state.store().get(run_id)["name"]
        theirs = ExperimentConfig.load(state.store().folder(run_id) / "config.json").data.fixes
    except (MtlrecError, OSError, ValueError) as exc:
        st.session_state[FIX_PROBLEM] = f"The fixes of run '{runs[run_id]}' cannot be read: {exc}"
        return
    here = [fixes_key([f]) for f in config.data.fixes]
    new = [f for f in theirs if fixes_key([f]) not in here]
    if not new:
        st.session_state[FIX_PROBLEM] = f"Run '{name}' has no fixes that are not here already."
        return
    # Its fixes must keep their order: one of them here already, but after one that is not, would move before it
    # (a drop before a k-core keeps other rows than after it).
    theirs_keys = [fixes_key([f]) for f in theirs]
    if [k for k in theirs_keys if k in here] != [k for k in here if k in theirs_keys]:
        st.session_state[FIX_PROBLEM] = (
            f"Run '{name}' makes the fixes it shares with this data in another order than they are here, and their "
            "order can change the rows kept: remove those fixes here, then add its fixes."
        )
        return
    later = next((f for f in theirs[theirs.index(new[0]) :] if fixes_key([f]) in here), None)
    if later is not None:
        st.session_state[FIX_PROBLEM] = (
            f"Run '{name}' makes fix {here.index(fixes_key([later])) + 1} here ({describe(later)}) after one this "
            f"data does not have ({describe(new[0])}): added after it, its fixes would apply in another order, which "
            f"can keep other rows. Remove fix {here.index(fixes_key([later])) + 1} here first, then add its fixes."
        )
        return
    there = len(theirs) - len(new)
    added = (
        f"Added {len(new)} {'fix' if len(new) == 1 else 'fixes'} of run '{fmt.md(name)}'"
        + (f" ({there} {'was' if there == 1 else 'were'} here already)." if there else ".")
    )  # fmt: skip
    try:
        _add_fixes(config, rows, new, [added])
    except MtlrecError as exc:
        st.session_state[FIX_PROBLEM] = (
            f"The fixes of run '{name}' do not apply to this data, so none was added: {exc.message}"
        )


@st.cache_data(max_entries=2000, show_spinner=False)
def _run_fixes(config_path: str, modified: int) -> list[str]:
    """A saved run's fixes, each as its fixes_key (none when its config cannot be read); `modified` renews it."""
    try:
        return [fixes_key([f]) for f in ExperimentConfig.load(Path(config_path)).data.fixes]
    except (MtlrecError, OSError, ValueError):
        return []


def runs_with_fixes(fixes: list[dict]) -> dict[str, str]:
    """Saved runs with fixes that are not among `fixes`, newest first: id -> a label with their count."""
    here = {fixes_key([f]) for f in fixes}
    out = {}
    store = state.store()
    for row in store.list():
        path = store.folder(row["id"]) / "config.json"
        if row["damaged"] or not path.is_file():
            continue
        theirs = _run_fixes(str(path), path.stat().st_mtime_ns)
        if set(theirs) - here:
            n = len(theirs)
            out[row["id"]] = f"{row['name']} · {n} {'fix' if n == 1 else 'fixes'} · {row['id']}"
    return out


@_guarded
def remove_fix(index: int) -> None:
    config, rows = state.experiment(), state.raw_frame()
    if index >= len(config.data.fixes):
        return  # a stale button (the list changed in another tab)
    fixes = [f for i, f in enumerate(config.data.fixes) if i != index]
    removed = config.data.fixes[index]
    if rows is not None:
        try:
            state.keep_fixed(fixes, *apply_fixes(rows, fixes, source=state.dataset()["name"]))
        except MtlrecError:
            needs = next(
                i + 1
                for i in range(index + 1, len(config.data.fixes))
                if _fails(rows, [f for j, f in enumerate(config.data.fixes[: i + 1]) if j != index])
            )
            st.session_state[FIX_PROBLEM] = (
                f"Fix {index + 1} cannot be removed while fix {needs} ({describe(config.data.fixes[needs - 1])}) "
                "needs what it makes: remove that one first."
            )
            return
    config.data.fixes = fixes
    changes = []
    if "label" in removed and removed["label"] in config.task_names:
        config.tasks = [t for t in config.tasks if t.name != removed["label"]]
        changes.append(f"'{fmt.md(removed['label'])}' is no longer a task: its column is gone with the fix.")
    if "label" in removed and (kept := st.session_state.get(FIX_TASKS, {}).pop(removed["label"], None)):
        spec, at = (kept["task"], kept["at"]) if "task" in kept else (kept, len(config.tasks))  # (an older session's)
        still = [f["label"] for f in fixes if "label" in f and f.get("from") == removed.get("from")]
        if still:  # another label made from it replaces it still: that one gives it back when it goes
            st.session_state[FIX_TASKS][still[0]] = {"task": spec, "at": at}
        elif spec["name"] not in config.task_names:
            config.tasks.insert(min(at, len(config.tasks)), TaskSpec(**spec))
            changes.append(f"'{fmt.md(spec['name'])}' is a task again, as it was before the label was made.")
    if "label" in removed:
        column, role = st.session_state.get(FIX_FEATURES, {}).pop(removed["label"], (None, None))
        d = config.data
        still = [f["label"] for f in fixes if "label" in f and f.get("from") == column]
        if still:  # another label is made from it: as a feature it would give that one away
            st.session_state[FIX_FEATURES][still[0]] = (column, role)
        elif column is not None and column not in [*d.features, *config.task_names]:
            d.add_feature(column, role)
            changes.append(f"'{fmt.md(column)}' is a {role} feature again, as it was before the label was made.")
        for column, role in st.session_state.get(FIX_LEAKS, {}).pop(removed["label"], []):
            if column not in [*d.features, *config.task_names]:
                d.add_feature(column, role)
                changes.append(
                    f"'{fmt.md(column)}' is a {role} feature again: it was set aside because it gave the label away."
                )
    _fix_saved(config, changes)


def _fails(rows: pd.DataFrame, fixes: list[dict]) -> bool:
    try:
        apply_fixes(rows, fixes)
    except MtlrecError:
        return True
    return False


def _fix_saved(config: ExperimentConfig, changes: list[str]) -> None:
    changes += [f"{fmt.md(note[0].upper() + note[1:])}." for note in config.conform()]
    state.save_experiment(config)
    st.session_state[FIX_CHANGES] = changes
    st.session_state.pop(EDITOR_BASE, None)  # the editor shows the new columns and roles
    for key in ("data_valid", "data_validation"):
        st.session_state.pop(key, None)


def plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def profile(config: ExperimentConfig, rows: pd.DataFrame, total: int) -> None:
    """Profile charts on (a sample of) the data; a label that cannot be charted is noted on the chart."""
    st.subheader("Profile")
    if len(rows) < total:
        st.caption(f"Computed on {fmt.count(len(rows))} randomly sampled rows (fixed seed) of {fmt.count(total)}.")
    d, tasks = config.data, config.tasks
    rates, correlation, cardinality, interactions = st.tabs(
        ["Label rates", "Task correlation", "Feature cardinalities", "Interactions"]
    )
    with rates:
        if tasks:
            st.plotly_chart(charts.label_rates(rows, tasks), width="stretch", key="data_chart_rates")
        else:
            st.caption("No labels chosen.")
    with correlation:
        if len(tasks) >= 2:
            st.caption("How related the tasks are: strongly related tasks tend to help each other.")
            st.plotly_chart(charts.label_correlation(rows, tasks), width="stretch", key="data_chart_correlation")
        else:
            st.caption("Needs at least two labels.")
    with cardinality:
        present = [c for c in d.categorical if c in rows.columns]
        if present:
            st.plotly_chart(charts.cardinalities(rows, present), width="stretch", key="data_chart_cardinalities")
        else:
            st.caption("No categorical features chosen.")
    with interactions:
        ids = [(c, noun) for c, noun in ((d.user_col, "user"), (d.item_col, "item")) if c and c in rows.columns]
        for column, noun in ids:
            chart = charts.interactions_histogram(rows, column, noun)
            st.plotly_chart(chart, width="stretch", key=f"data_chart_per_{noun}")
        if not ids:
            st.caption("Choose a user or item column to see how many interactions each has.")


def page() -> None:
    st.title("Data")
    with st.container(border=True):
        load_controls()
    info, frame = state.dataset(), state.frame()
    if info is None:
        st.markdown(FORMAT_HELP)
        return
    if frame is None:
        st.warning(f"The file behind **{fmt.md(info['name'])}** can no longer be read: load it again.")
        return
    shape = f"{fmt.count(info['rows'])} rows × {info['columns']} columns"
    if state.experiment().data.fixes:
        shape += f"; after the fixes {fmt.count(len(frame))} rows × {frame.shape[1]} columns"
    st.markdown(f"**{fmt.md(info['name'])}** · {shape}")
    for note in info.get("notes") or []:
        st.info(f"Loader: {fmt.plain(note)}")
    if st.session_state.get(state.SCHEMA_BACK) == info["name"]:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.info(
                f"Your schema for **{fmt.md(info['name'])}** is back as you left it in this session (roles, tasks "
                "and fixes)."
            )
            again = st.button("Start again from the inferred schema", key="data_schema_again",
                              icon=":material/restart_alt:")  # fmt: skip
        if again:
            try:  # the file read again: as the sample buttons, a message (the upload deleted since), not a traceback
                state.start_schema_again()
            except MtlrecError as exc:
                st.error(fmt.plain(exc.message))
            else:
                st.rerun()
    inferred_slot = st.container()  # filled, as the next, once the schema editor has applied this run's edits
    ignored_slot = st.empty()
    path = info["path"]
    fixes = state.experiment().data.fixes
    # The rows shown: the file's (read with its names, if given: the same upload named again is another table), after
    # the fixes.
    version = (
        path + (f" names={info['names']!r}" if info.get("names") else "") + (f" {fixes_key(fixes)}" if fixes else "")
    )
    rows = per_dataset(
        "data_profile_rows",
        version,
        lambda: frame.sample(n=PROFILE_ROWS, random_state=0) if len(frame) > PROFILE_ROWS else frame,
    )
    summary = per_dataset("data_summary", version, lambda: column_summary(rows))
    preview(frame, summary, len(rows))
    distinct = dict(zip(summary["column"], summary["distinct"], strict=True))
    config, changes = schema_editor(state.experiment(), frame, distinct)
    state.save_experiment(config)
    # Only the columns still ignored: one the user has given a role since is no longer news (an audit found
    # 'watching_times' listed as set aside after it was made a label)
    # A column made a label here is no longer "used as a feature: make it a task" (an audit)
    for note in with_flags_note(info.get("inferred") or [], info.get("flags") or [], config.data, config.tasks):
        if not (config.data.time_col and note.startswith(UNNAMED_TIME)):  # a time column is chosen: answered
            inferred_slot.info(f"Inference: {fmt.plain(note)}")
    d = config.data
    used = {d.user_col, d.item_col, d.time_col, *d.features, *config.task_names}
    ignored = {c: why for c, why in (info.get("ignored") or {}).items() if c not in used}
    if ignored:
        by_reason: dict[str, list] = {}
        for c, why in ignored.items():  # one line per reason: a 20,000-column file listed 20,000 "constant" lines
            by_reason.setdefault(why, []).append(c)
        lines = "\n".join(
            f"- {', '.join(f'`{c}`' for c in columns[:8])}"
            + (f" and {len(columns) - 8:,} more ({len(columns):,} columns)" if len(columns) > 8 else "")
            + f": {fmt.plain(why)}"
            for why, columns in by_reason.items()
        )
        ignored_slot.info(f"Set to **ignore** by inference (change it below):\n{lines}")
    for change in changes:
        st.info(change)
    notes, warnings, problems = check(config, frame, version)
    fix_rows(config, frame, problems, notes)
    validation(config, notes, warnings, problems)
    profile(config, rows, len(frame))


page()
