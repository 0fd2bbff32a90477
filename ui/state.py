"""Session state of the app: the current dataset, the experiment being set up, the run being looked at.

Settings live in plain session-state keys (widget values are dropped when their page is not rendered). Bundled
samples are cached once for everybody; an upload stays in its own session and is copied into the run store's
datasets folder (content-addressed) so that its runs can be reopened after a restart. Nothing per-user goes
into a global cache, except each browser's workspace (`keep_workspace`): the dataset's path and the settings,
held in memory under a hash of the browser's XSRF cookie, so that a reload (a new session) finds them again.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import streamlit as st

from mtlrec import fmt
from mtlrec.config import ExperimentConfig
from mtlrec.data import SAMPLE_PREFIX, propose_schema, resolve_data_path
from mtlrec.errors import MtlrecError
from mtlrec.fixes import apply_fixes, fixes_key
from mtlrec.io import read_table
from mtlrec.runs import RunStore
from ui.jobs import session_jobs

# {"path", "name", "kind": "sample"|"upload"|"synthetic", "rows", "columns", "notes" (the loader's), "ignored" and
# "inferred" (inference's reasons and notes)}
DATASET = "dataset"
FRAME = "dataset_frame"  # the loaded DataFrame (this session only)
FIXED = "dataset_fixed"  # (dataset path and fixes, the rows with the fixes applied, their notes, why not)
EXPERIMENT = "experiment"  # ExperimentConfig.to_dict(): schema, tasks and every training setting
RESULTS_RUN = "results_run_id"  # the run shown on Results and Recommend
CLAMPED = "clamped_settings"  # notes on settings moved (into range, to fit new data) until a page shows them
# {dataset key: its schema as last edited (the config's data and tasks)}, for a dataset loaded again in this session
SCHEMAS = "dataset_schemas"
SCHEMA_BACK = "dataset_schema_back"  # the name of a dataset whose edits came back, for the Data page to say
SESSION_RUNS = "session_runs"  # run ids started in this browser, oldest first
TRAIN_RUNS = "train_runs"  # those started from Train, oldest first (not a baseline started on Results)
SESSION_SWEEPS = "session_sweeps"  # sweep ids started in this browser, oldest first (Sweep's box marks them)
SWEEP = "sweep_settings"  # the last SweepConfig set up on Sweep (its widget values are dropped off-page)
SWEEP_SHOWN = "sweep_shown_id"  # the sweep shown on Sweep, kept while another page is shown
SWEEP_POINT = "sweep_point_chosen"  # the point the user picked or clicked there (else the one nearest equal weights)
UNNAMED = (
    "upload_unnamed"  # {"name", "data", "fields", "message"}: a file without a header line given on Home, named on Data
)
RESTORED = "workspace_checked"  # set on a session's first script run, once its browser's workspace was looked for
# What a reload finds again; "schema_aside" holds the tasks the Data page set aside as the user, item or time column,
# "schema_fix_features" the features a label made on Data took out, "schema_fix_leaks" those set aside because they
# give such a label away, "schema_fix_tasks" the task such a label replaced (a new dataset clears them with the other
# schema_ keys).
WORKSPACE_KEYS = (
    DATASET, EXPERIMENT, SESSION_RUNS, TRAIN_RUNS, SESSION_SWEEPS, RESULTS_RUN, SWEEP, SWEEP_SHOWN, SWEEP_POINT, "schema_aside",
    "schema_fix_features", "schema_fix_leaks", "schema_fix_tasks", SCHEMAS, SCHEMA_BACK,
    "train_tasks_active", "train_tasks_offered",  # Train's tasks ticked (unticked ones stayed so only on the page)
)  # fmt: skip
# The uploaders' help: what to do with a file over the limit (Streamlit's own message only says it is too big).
UPLOAD_HELP = (
    "Larger than {limit} MB? Save it as Parquet or .csv.gz (often 5-10x smaller), use fewer rows, raise the limit "
    "(`server.maxUploadSize` in .streamlit/config.toml), or train it from the command line (`python -m mtlrec train "
    "FILE`), which has no upload limit."
)
WORKSPACES_KEPT = 256  # browsers remembered (the least recently used is forgotten first)
_workspaces: OrderedDict[str, dict] = OrderedDict()
_workspaces_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    """The server's run store (shared by every session: runs are the server's records, not session state)."""
    return RunStore()


@st.cache_data(show_spinner=False, max_entries=4)
def _load_sample(name: str) -> tuple[pd.DataFrame, list[str]]:
    table = read_table(resolve_data_path(SAMPLE_PREFIX + name))
    return table.frame, table.notes


def _browser() -> str | None:
    """This session's browser (a hash of its XSRF cookie), or None without one (XSRF protection off, AppTest)."""
    return session_jobs().browser


def keep_workspace() -> None:
    """Remember this browser's dataset, settings and runs for its next session: a reload starts a new session, which
    lost an uploaded file and the schema edits made on Data (a bundled sample came back only through Train's link).
    Called after every script run; a copy of a few small dicts (the rows are read again from the dataset's path)."""
    browser = _browser()
    if browser is None or DATASET not in st.session_state:
        return
    entry = {key: copy.deepcopy(st.session_state[key]) for key in WORKSPACE_KEYS if key in st.session_state}
    with _workspaces_lock:
        _workspaces[browser] = entry
        _workspaces.move_to_end(browser)
        while len(_workspaces) > WORKSPACES_KEPT:
            _workspaces.popitem(last=False)


def restore_workspace() -> bool:
    """On a session's first script run, take its browser's workspace (see keep_workspace) when the session holds no
    dataset yet. True when something was restored."""
    if st.session_state.get(RESTORED):
        return False
    st.session_state[RESTORED] = True
    browser = _browser()
    if browser is None or DATASET in st.session_state:
        return False
    with _workspaces_lock:
        entry = copy.deepcopy(_workspaces.get(browser))
    if not entry:
        return False
    for key, value in entry.items():
        st.session_state.setdefault(key, value)
    return True


def dataset() -> dict | None:
    return st.session_state.get(DATASET)


def frame() -> pd.DataFrame | None:
    """The current dataset's rows with the experiment's fixes applied (mtlrec.fixes, made on Data). When a fix
    cannot be applied (fixes_applied() says why) the rows as read come back: validation then names what is missing."""
    rows = raw_frame()
    fixes = experiment().data.fixes
    if rows is None or not fixes:
        return rows
    return _fixed(rows, fixes)[0]


def fixes_applied() -> tuple[list[str], str | None]:
    """What the experiment's fixes did to the current dataset (a note per fix) and why they could not be applied
    (None when they were)."""
    rows = raw_frame()
    fixes = experiment().data.fixes
    if rows is None or not fixes:
        return [], None
    return _fixed(rows, fixes)[1:]


def _fixed(rows: pd.DataFrame, fixes: list[dict]) -> tuple[pd.DataFrame, list[str], str | None]:
    """The rows with `fixes` applied, kept in session state for as long as the dataset and the fixes stay."""
    key = (dataset()["path"], fixes_key(fixes))
    held = st.session_state.get(FIXED)
    if held is None or held[0] != key:
        try:
            fixed, notes = apply_fixes(rows, fixes)
            held = (key, fixed, notes, None)
        except MtlrecError as exc:
            held = (key, rows, [], exc.message)
        st.session_state[FIXED] = held
    return held[1], held[2], held[3]


def keep_fixed(fixes: list[dict], rows: pd.DataFrame, notes: list[str]) -> None:
    """Keep rows the Data page has just fixed with `fixes` (about to be the experiment's) for frame()."""
    st.session_state[FIXED] = ((dataset()["path"], fixes_key(fixes)), rows, notes, None)


def raw_frame() -> pd.DataFrame | None:
    """The current dataset's rows as read; reloaded from disk after a session restart when possible."""
    info = dataset()
    if info is None:
        return None
    cached = st.session_state.get(FRAME)
    if cached is not None:
        return cached
    try:
        loaded = _read(info["path"], info.get("names"))[0]
    except MtlrecError:
        return None
    st.session_state[FRAME] = loaded
    return loaded


def _read(path: str, names: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    if path.startswith(SAMPLE_PREFIX):
        loaded, notes = _load_sample(path[len(SAMPLE_PREFIX) :])
        return loaded, list(notes)
    table = read_table(path, names=names)
    return table.frame, table.notes


def use_dataset(path: str, name: str, kind: str, table=None, names: list[str] | None = None) -> None:
    """Load a dataset (MtlrecError on a bad file), propose its schema, and make it the current one. `names` name
    the columns of a CSV file without a header line."""
    loaded, notes = (table.frame, table.notes) if table is not None else _read(path, names)
    proposal = propose_schema(loaded, path)
    proposal.data.path, proposal.data.names = path, names
    if kind == "upload":  # kept under a safe file name; runs and their exports show the name it was uploaded with
        proposal.data.name = name
    previous = experiment()
    config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks)
    # The schema as edited comes back with a dataset loaded again after another (A, then B, then A): its roles,
    # tasks and fixes were reset without a word, and two runs compared as if only the weights had changed (an
    # audit). Loading the dataset that is already loaded starts again from inference's proposal.
    schemas = st.session_state.setdefault(SCHEMAS, {})
    shown = dataset()
    st.session_state.pop(SCHEMA_BACK, None)
    current = schema_key(shown["path"], shown.get("names")) if shown is not None else None
    if current is not None and previous.tasks:
        schemas[current] = {key: value for key, value in previous.to_dict().items() if key in ("data", "tasks")}
    key = schema_key(path, names)
    if (saved := schemas.get(key)) is not None and key != current:
        kept = ExperimentConfig.from_dict(saved)
        config.data = dataclasses.replace(kept.data, path=path, names=names, name=config.data.name)
        config.tasks = kept.tasks
        st.session_state[SCHEMA_BACK] = name
    elif saved is not None:  # the dataset loaded is loaded again: inference's proposal, as asked
        schemas.pop(key)
    # Keep the user's model and training settings across datasets; the schema and tasks are the new data's.
    config.model, config.train, config.split, config.weighting, config.k = (
        previous.model,
        previous.train,
        previous.split,
        previous.weighting,
        previous.k,
    )
    for note in config.conform():  # e.g. a time split kept from the previous dataset, which this one cannot do
        st.session_state.setdefault(CLAMPED, []).append(f"{name}: {note}.")
    st.session_state[DATASET] = {
        "path": path,
        "name": name,
        "kind": kind,
        "rows": len(loaded),
        "columns": loaded.shape[1],
        "notes": notes,
        "ignored": proposal.ignored,
        "inferred": proposal.notes,
        "flags": proposal.flags,  # 0/1 features: Data's inference note is said again for the schema as edited
        "names": names,
    }
    st.session_state[FRAME] = loaded
    st.session_state.pop(FIXED, None)
    st.session_state.pop(UNNAMED, None)  # another file is the dataset now (or this one, named)
    for key in ("data_valid", "data_validation"):
        st.session_state.pop(key, None)  # the Data page's verdict was about the previous dataset
    save_experiment(config)
    forget_widgets("schema_")  # the schema editor's widgets belong to the previous dataset
    forget_widgets("train_task")  # task controls and the tasks chosen on Train name the previous dataset's labels


def start_schema_again() -> None:
    """The loaded dataset with inference's proposal again (the Data page's button beside the note that its edits
    came back): a second upload of the same file raised no change in the browser (a browser audit)."""
    info = dataset()
    if info is not None:
        use_dataset(info["path"], info["name"], info["kind"], names=info.get("names"))


def schema_key(path: str, names: list[str] | None) -> str:
    """A dataset as its schema is kept (SCHEMAS): its file, and the names given to a file without a header line."""
    return f"{path} names={names!r}" if names else str(path)


def use_sample(name: str) -> None:
    from mtlrec.sample import SAMPLES

    if name not in SAMPLES:  # a hand-edited link can name anything
        raise MtlrecError(f"unknown sample '{name}'; known samples: {', '.join(SAMPLES)}")
    use_dataset(SAMPLE_PREFIX + name, SAMPLES[name]["title"], "sample")


WORLD_ROWS = (20_000, 50_000, 100_000, 200_000)  # the sizes a generated synthetic world can have


def use_world(correlation: float, rows: int, seed: int) -> None:
    """Generate a synthetic world (mtlrec.sample) with this correlation between its tasks, keep it in the store's
    datasets folder (once per spec: the same settings load the same files) and make it the current dataset."""
    from mtlrec.sample import SyntheticSpec, write_sample

    if int(rows) not in WORLD_ROWS:  # a hand-edited link can ask for anything
        raise MtlrecError(f"a synthetic world has {', '.join(f'{n:,}' for n in WORLD_ROWS)} rows, not {int(rows):,}")
    # + 0.0: -0.0 and 0.0 are one world
    spec = SyntheticSpec(n_rows=int(rows), task_correlation=round(float(correlation), 3) + 0.0, seed=int(seed))
    spec.check()  # MtlrecError listing what cannot work
    key = hashlib.sha256(json.dumps(dataclasses.asdict(spec), sort_keys=True).encode()).hexdigest()[:16]
    folder = store().home / "datasets" / f"world-{key}"
    files = [folder / "synthetic.parquet", folder / "synthetic.json"]
    if dataset() and dataset()["path"] == str(files[0]):
        return  # already the current dataset (e.g. a link opened again)
    if not all(f.is_file() for f in files):
        shutil.rmtree(folder, ignore_errors=True)  # a world with a file missing is drawn again
        partial = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            write_sample(partial, spec)
            partial.rename(folder)  # whole, or not at all
        except OSError as exc:
            if not all(f.is_file() for f in files):  # not another session that wrote the same world first
                raise MtlrecError(f"the synthetic world could not be written to {folder.parent} ({exc})") from None
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    name = f"Synthetic world (task correlation {spec.task_correlation:g}, {spec.n_rows:,} rows, seed {spec.seed})"
    use_dataset(str(files[0]), name, "synthetic")


def save_upload(name: str, data: bytes) -> str:
    """Keep an uploaded file in the store's datasets folder (named by its content hash); returns its path."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[-80:].lstrip(".") or "upload.csv"
    folder = store().home / "datasets" / digest
    path = folder / safe
    # A copy there already is these bytes, unless something changed it on disk: then a new upload of the file trained
    # on the changed copy, silently (a fault audit flipped its labels). It is written again.
    if not (path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data):
        from mtlrec.runs import atomic_write_bytes

        atomic_write_bytes(path, data)
    return str(path)


def same_data(path: str, other: str) -> bool:
    """Whether two data paths hold the same data: the same path, or two uploads of the same bytes (save_upload keeps
    them in one folder per content hash, under the names they were uploaded with)."""
    a, b = Path(path), Path(other)
    return path == other or (a.parent == b.parent and a.parent.parent.name == "datasets")


def upload_limit_mb() -> int:
    """The upload size limit in MB (server.maxUploadSize): the browser enforces it, AppTest and scripts do not."""
    return int(st.get_option("server.maxUploadSize"))


def use_upload(name: str, data: bytes, names: list[str] | None = None) -> None:
    """Parse an uploaded file (MtlrecError names the file; NoHeaderLine when its first line is data, which `names`
    then name), keep a copy, and make it the current dataset."""
    limit = upload_limit_mb()
    if len(data) > limit << 20:
        raise MtlrecError(
            f"the file is {fmt.nbytes(len(data))}, over this server's upload limit of {limit} MB "
            "(server.maxUploadSize in .streamlit/config.toml): use fewer rows or columns, or save it as Parquet "
            "or .csv.gz (both much smaller)",
            source=name,
        )
    table = read_table(data, name, names=names)  # fails fast, before anything is written
    use_dataset(save_upload(name, data), name, "upload", table, names)


def experiment() -> ExperimentConfig:
    raw = st.session_state.get(EXPERIMENT)
    return ExperimentConfig.from_dict(raw) if raw else ExperimentConfig()


def save_experiment(config: ExperimentConfig) -> None:
    st.session_state[EXPERIMENT] = config.to_dict()


def seed(key: str, value) -> str:
    """Give a widget its value from plain state when Streamlit has dropped it (it does on page changes)."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def ranged(widget, label: str, key: str, value, bounds: tuple, **kwargs):
    """`widget(label, low, high, key=key, **kwargs)` (a slider or number input) seeded with `value` moved into its
    range: Streamlit raises on a value outside it. A moved value leaves a note for clamped_notes()."""
    low, high = bounds
    if key not in st.session_state and not low <= value <= high:
        moved = min(max(value, low), high)
        st.session_state.setdefault(CLAMPED, []).append(
            f"{label}: {fmt.setting(value)} is outside this page's range ({fmt.setting(low)} to "
            f"{fmt.setting(high)}), so it is set to {fmt.setting(moved)}."
        )
        value = moved
    return widget(label, low, high, key=seed(key, value), **kwargs)


def clamped_notes() -> list[str]:
    """The notes of ranged() and of a new dataset's settings since they were last shown (each is shown once)."""
    return st.session_state.pop(CLAMPED, [])


def forget_widgets(prefix: str, keep: tuple[str, ...] = ()) -> None:
    """Drop widget values with a prefix so they are re-seeded from the config on the next render; the keys in
    `keep` stay (a button's click in this run, say)."""
    for key in [k for k in st.session_state if str(k).startswith(prefix) and k not in keep]:
        del st.session_state[key]


def current_label(key: str, labels: dict) -> None:
    """Call before a keyed select box or radio whose options keep their values while their text changes (a run
    renamed, a sweep that finished, parameter counts): the browser matches the chosen option by its text, so when
    that text changed it showed the old one, or (a radio) none and Streamlit went back to the first option. The
    value is given again, which sends the new text with it."""
    value = st.session_state.get(key)
    seen = f"{key}__label"  # the text sent last for this select box's value
    text = labels.get(value)
    if value is not None and seen in st.session_state and st.session_state[seen] != text:
        st.session_state[key] = value
    st.session_state[seen] = text
