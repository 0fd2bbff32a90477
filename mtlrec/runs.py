"""The run store: an embedded SQLite index plus one folder per run. Writes are atomic; nothing is unpickled.

Folder of a run: config.json, metrics.json, history.csv, model.pt (a state_dict), encoder.json, predictions.csv.
A run is indexed as "running" when it starts, so a server killed mid-training leaves a row that the next start
marks "interrupted" instead of losing it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import json
import math
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mtlrec import fmt
from mtlrec.config import PREDICTION_COLUMNS, ExperimentConfig, plain
from mtlrec.errors import MtlrecError
from mtlrec.fixes import fixes_key

if TYPE_CHECKING:
    import torch


def default_home() -> Path:
    """The run store's folder: $MTLREC_HOME, else ./mtlrec_runs. Read when a RunStore is made, so that setting
    MTLREC_HOME in a notebook after importing mtlrec takes effect."""
    return Path(os.environ.get("MTLREC_HOME") or "mtlrec_runs")


RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
STATUSES = ("running", "finished", "stopped", "failed", "interrupted")
RUN_FILES = ("config.json", "metrics.json", "history.csv", "model.pt", "encoder.json", "predictions.csv")
RUN_INFO = "run.json"  # in a run's zip: its name and id in the store it came from (see mtlrec.transfer)


@functools.cache
def _umask() -> int:
    """The process's umask, read once. Linux shows it in /proc/self/status; elsewhere os.umask must set one to read
    it, so it is set back at once (at the first write, before a sweep's threads write files)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file. The file gets the
    mode open() would give it (0666 less the umask), not mkstemp's 0600, which others in a shared folder could not
    read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null so the files are strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_json_safe(value), indent=2, default=str)


def kept_epochs(metrics: dict, tasks) -> dict[str, int]:
    """The epoch whose model each task's tower was kept from (metrics.json: best_epochs for a single-task model's
    networks, each at its own best, else best_epoch); {} for a run that kept none (stopped before a first epoch)."""
    own = metrics.get("best_epochs") or {}
    best = metrics.get("best_epoch")
    return {t.name: int(own.get(t.name) or best) for t in tasks if own.get(t.name) or best}


def stored_config(config: ExperimentConfig) -> ExperimentConfig:
    """The config as a run's config.json keeps it: a data path given relative (from Python: the CLI makes its own
    absolute) made absolute (mtlrec.data.stored_path), so that a re-run from another folder reads this file and not
    another of the same name there. metrics.json's data_files record the same paths."""
    from mtlrec.data import stored_path

    d = config.data
    paths = {attr: getattr(d, attr) for attr in ("path", "test_path")}
    changed = {attr: stored_path(path) for attr, path in paths.items() if path and stored_path(path) != path}
    if not changed:
        return config
    config = config.copy()
    for attr, path in changed.items():
        setattr(config.data, attr, path)
    return config


def write_run_files(result, folder: Path) -> None:
    """Save a RunResult into a folder (used by the store and by the CLI's --out)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "config.json", stored_config(result.config).to_json())
    atomic_write_text(folder / "history.csv", result.history.to_csv(index=False))
    if result.encoder is not None:
        atomic_write_text(folder / "encoder.json", json.dumps(result.encoder.to_dict()))
    if result.model is not None:
        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, buffer)
        atomic_write_bytes(folder / "model.pt", buffer.getvalue())
    if result.predictions is not None:
        atomic_write_bytes(folder / "predictions.csv", csv_bytes(result.predictions))
    # Last: a folder whose metrics say "finished" holds every file (a full disk stopped the writes half-way, and a
    # finished metrics.json stood beside no predictions)
    metrics = dict(result.metrics, status=result.status, message=result.message, notes=result.notes)
    atomic_write_text(folder / "metrics.json", dumps(metrics))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as CSV (no index), written by Arrow's C++ writer: 6x faster than pandas on a run's test
    predictions, which a sweep writes once per point. Strings are quoted and 1.0 is written as 1; pandas reads the
    values back equal. Columns Arrow cannot type or convert (an object column mixing ints and strings, Python ints
    beyond 64 bits, which raise OverflowError) fall back to pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    # Arrow writes every timestamp with microseconds; pandas' own text keeps "2024-03-01 10:00:00".
    times = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if times:
        frame = frame.assign(**{c: frame[c].astype(str).where(frame[c].notna(), None) for c in times})
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer)
        return buffer.getvalue()
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return frame.to_csv(index=False).encode()


# Why a run of this status has no model files (it never saved them): for model_problem.
NEVER_SAVED = {
    "failed": "it failed before it saved a model",
    "interrupted": "the server stopped while it trained, before it saved a model",
    "running": "it is still training",
}


@dataclass
class LoadedRun:
    """A saved run read back: enough to show its results and to rebuild its model."""

    run_id: str
    folder: Path
    config: ExperimentConfig
    metrics: dict
    history: pd.DataFrame

    @property
    def has_model(self) -> bool:
        """A model to score with: its files, from an epoch that was evaluated (see model_problem)."""
        return self.model_problem is None

    @property
    def model_problem(self) -> str | None:
        """Why the run has no model to score with, for people; None when it has one. A run stopped or failed within
        its first epoch also saves its weights (to download), but nobody measured them, so nothing is ranked with
        them; a failed or interrupted run may have saved none; a run whose model.pt or encoder.json is gone
        (deleted, or the folder copied without it) says so."""
        if self.metrics.get("best_epoch", 1) == 0:  # runs saved before best_epoch was recorded count as evaluated
            return (
                "it stopped or failed before its first epoch ended (any weights it saved are in its download, never "
                "measured)"
            )
        missing = [name for name in ("model.pt", "encoder.json") if not (self.folder / name).is_file()]
        status = self.metrics.get("status")
        if missing and status in NEVER_SAVED:  # it never wrote them
            message = self.metrics.get("message")
            return NEVER_SAVED[status] + (f" ({message})" if message and status == "failed" else "")
        if missing:
            return (
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in {self.folder} (deleted, or the "
                f"folder was copied without {'it' if len(missing) == 1 else 'them'}): train it again from its "
                f"config.json (python -m mtlrec train --config {self.folder / 'config.json'})"
            )
        return None

    @property
    def missing_data(self) -> list[str]:
        """The run's data files (paths as its config has them) that are not on this machine."""
        from mtlrec.data import resolve_data_path

        d = self.config.data
        return [p for p in (d.path, d.test_path) if p and not Path(resolve_data_path(p)).is_file()]

    def predictions(self) -> pd.DataFrame | None:
        """The test predictions, with attrs["prediction_columns"] naming each task's prediction column."""
        path = self.folder / "predictions.csv"
        if not path.is_file():
            return None
        table = pd.read_csv(path)
        table.attrs[PREDICTION_COLUMNS] = self.config.prediction_columns()
        return table

    def predict(self, frame: pd.DataFrame, device: str | torch.device = "cpu") -> pd.DataFrame:
        """Each task's prediction for the rows of `frame` (new rows: the run's feature columns are needed, the labels
        are not), on the labels' own scale: probabilities for binary tasks, values for regression tasks. Columns as
        in predictions.csv (`click_pred`...), index as `frame`'s. Unknown ids and categories take the
        out-of-vocabulary embedding, as at training time."""
        from mtlrec.experiment import predict_frame
        from mtlrec.schema import check_frame
        from mtlrec.tokens import lists_as_text

        check_frame(frame)
        model, encoder = self.load_model(device)
        rows = lists_as_text(frame)  # Python lists, pandas' pyarrow columns: as the run read its rows
        scores = predict_frame(model, encoder, encoder.transform(rows, labels=False), next(model.parameters()).device)
        columns = self.config.prediction_columns()
        return pd.DataFrame({columns[t.name]: scores[:, j] for j, t in enumerate(self.config.tasks)}, index=frame.index)

    def load_model(self, device: str | torch.device = "cpu"):
        """(model, encoder) rebuilt from the config, the encoder and the state_dict (weights_only=True), the model
        in eval mode on `device` ('cpu', 'cuda', or 'auto': CUDA when present; see mtlrec.train.resolve_device)."""
        import torch

        from mtlrec.encode import Encoder
        from mtlrec.models import build_model
        from mtlrec.train import resolve_device

        device = resolve_device(device)

        if (problem := self.model_problem) is not None:
            raise MtlrecError(f"run '{self.run_id}' has no evaluated model: {problem}")
        try:
            encoder = Encoder.load(self.folder / "encoder.json")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:  # any shape of damage
            raise MtlrecError(f"run '{self.run_id}': encoder.json is damaged ({type(exc).__name__}: {exc})") from None
        except MtlrecError as exc:
            raise MtlrecError(f"run '{self.run_id}': {exc.message}") from None
        ours = [(t.name, t.type) for t in self.config.tasks]
        if [(t.name, t.type) for t in encoder.tasks] != ours:  # a regression task without statistics scored 0.0
            raise MtlrecError(
                f"run '{self.run_id}': encoder.json is not this run's (its tasks differ from config.json's): train "
                f"the run again from its config.json"
            )
        from mtlrec.train import scratch

        # The initial weights (overwritten below) are drawn without moving a training run's random stream.
        with scratch(torch.device("cpu")):
            model = build_model(
                self.config.model,
                encoder.cardinalities,
                encoder.numeric_width,
                len(self.config.tasks),
                tasks=self.config.tasks,
            )
        try:
            # weights_only: tensors and plain containers only; a crafted pickle is refused, never run.
            state = torch.load(self.folder / "model.pt", map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
            if "Unsupported global" in str(exc):  # a class or function the file would have called
                raise MtlrecError(
                    f"run '{self.run_id}': model.pt holds Python objects, not just weights: refused for safety "
                    "(never loaded); train the run again"
                ) from None
            raise MtlrecError(
                f"run '{self.run_id}': model.pt is damaged or is not this run's weights ({type(exc).__name__}: "
                f"{str(exc)[:200]}); train the run again"
            ) from None
        return model.to(device).eval(), encoder


def read_run_folder(folder: Path, run_id: str | None = None) -> LoadedRun:
    """Read config, metrics and history; raise MtlrecError naming what is missing or damaged."""
    run_id = run_id or folder.name
    try:
        config = ExperimentConfig.load(folder / "config.json")
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        history_path = folder / "history.csv"  # optional: curves only (a folder copied without it still recommends)
        exists = history_path.is_file() and history_path.stat().st_size > 1
        history = pd.read_csv(history_path) if exists else pd.DataFrame()
    except (OSError, ValueError, MtlrecError) as exc:
        raise MtlrecError(f"run '{run_id}' is damaged or incomplete ({exc})") from None
    from mtlrec.transfer import metrics_problems  # (mtlrec.transfer imports this module)

    if problems := metrics_problems(metrics, config):  # valid JSON of another shape: pages and the CLI read it
        raise MtlrecError(f"run '{run_id}' is damaged: {'; '.join(problems)}")
    return LoadedRun(run_id, folder, config, metrics, history)


def sanitize_name(name: str, limit: int = 80) -> str:
    """A display name: printable, one line, at most `limit` characters (never used as a path). A longer one is cut
    at the last space that keeps at least half of it (a word cut in two, "watch_", read as a name) and ends in "…"."""
    # A line break or tab pasted into a name is a space ("a\nb" read "ab"); other unprintable characters go.
    cleaned = " ".join("".join(ch for ch in str(name) if ch.isprintable() or ch.isspace()).split())
    if len(cleaned) <= limit:
        return cleaned
    cut = cleaned[: limit - 1]
    # The last word boundary that keeps half of it: a space, else a separator inside a long name (a label such as
    # click_through_on_the_recommended_item_in_the_home_feed_carousel was cut as "…home_feed_car…").
    boundary = max(cut.rfind(" "), *(cut.rfind(sep) for sep in "_-,;:·/."))
    if boundary >= limit // 2 and len(words := cut[:boundary].rstrip(" ,;:·_-/.")) >= limit // 2:
        return words + "…"
    return cut.rstrip(" ,;:·") + "…"


def _history_rows(path: Path) -> int:
    """Epochs in a history.csv (0 when it is empty or unreadable)."""
    try:
        return len(pd.read_csv(path))
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return 0


FIXES_MARK = "|fixes:"  # in a data_key, before the digest of the fixes that change rows or values


def same_file_other_fixes(key: str | None, other: str | None) -> bool:
    """Two data keys of the same file(s) whose fixes to the rows differ."""
    return bool(key and other) and key != other and key.split(FIXES_MARK)[0] == other.split(FIXES_MARK)[0]


def data_key(config: ExperimentConfig, metrics: dict) -> str:
    """What tells two runs' data apart: the files' SHA-256 (metrics.json's data_files), else their paths, and the
    fixes that drop rows or fill values. Two uploads both named data.csv are two datasets; the name alone said they were one."""
    digests = [f.get("sha256") or "" for f in metrics.get("data_files") or []]
    # Drops and fills (mtlrec.fixes) make other rows or values of the same files: other test rows, not comparable.
    # A label made from a column adds a column and changes no row.
    changing = [f for f in config.data.fixes if isinstance(f, dict) and "label" not in f]
    fixes = "" if not changing else FIXES_MARK + hashlib.sha256(fixes_key(changing).encode()).hexdigest()[:16]
    if digests and all(digests):
        return "sha256:" + "+".join(digests) + fixes
    return "path:" + "+".join(str(p) for p in (config.data.path, config.data.test_path) if p) + fixes


def data_groups(runs_data: list[tuple[str | None, str]]) -> list[set[str]]:
    """The datasets among runs' (data_key, file name) pairs, as sets of file names: runs with one data_key are one
    dataset whatever their file names; a run indexed before data_key existed joins a dataset holding its file name,
    or makes one of its own. Results (same data as the run shown?) and Runs' comparison both ask this."""
    by_key: dict[str, set[str]] = {}
    for key, name in runs_data:
        if key:
            by_key.setdefault(key, set()).add(name)
    groups = list(by_key.values())
    for key, name in runs_data:
        if not key and not any(name in group for group in groups):
            groups.append({name})
    return groups


def data_label(path: str | None, full: bool = False, name: str | None = None) -> str:
    """A run's data as people know it: an uploaded file's name as given (`name`, DataConfig.name: the copy kept
    has a safe name), else the file's name (its whole path with `full`), a bundled sample's (sample:synthetic), or
    a synthetic world generated in the app by its recipe (every world's file is synthetic.parquet, in a folder
    named by a hash)."""
    if name and (shown := sanitize_name(name, limit=255)):
        return shown
    if not path:
        return ""
    from mtlrec.sample import generated_world

    world = generated_world(path)
    if world is not None:
        correlation, rows, seed = world
        return f"synthetic world (correlation {correlation:g}, {rows:,} rows, seed {seed})"
    return str(path) if full else Path(path).name


def summary_of(config: ExperimentConfig, metrics: dict) -> dict:
    """Config highlights and per-task metrics kept in the index for the runs table, as JSON values (a numpy weight
    of a config built in Python is a number there, not text)."""
    return plain({
        "data": data_label(config.data.path, name=config.data.name),
        "data_key": data_key(config, metrics),
        "model": config.model.kind,
        "size": config.model.size,
        "weighting": config.weighting.method,
        "weights": {t.name: t.weight for t in config.tasks},
        "untrained": sorted(config.untrained_tasks()),
        "types": {t.name: t.type for t in config.tasks},
        "epochs": config.train.epochs,
        "seed": config.train.seed,
        "split": config.split.method,
        "params": metrics.get("params"),
        "epochs_run": metrics.get("epochs_run"),
        "train_seconds": metrics.get("train_seconds"),
        "tasks": metrics.get("tasks", {}),
    })  # fmt: skip


def summary_untrained(summary: dict) -> set[str]:
    """The tasks a listed run trained with no loss (ExperimentConfig.untrained_tasks, kept in its summary; a run
    saved before it was kept: its weight-0 tasks, but for ESMM, whose weight-0 parent may train through its child)."""
    if "untrained" in summary:
        return set(summary["untrained"] or [])
    if summary.get("model") == "esmm":
        return set()
    return {task for task, weight in (summary.get("weights") or {}).items() if weight == 0}


class RunStore:
    """Runs in `<home>/runs.db` (SQLite, WAL) and `<home>/runs/<id>/`. Safe to share between threads.

    `home` defaults to $MTLREC_HOME as it is when the store is made (else ./mtlrec_runs): see default_home."""

    _recovered: set[str] = set()
    _recover_lock = threading.Lock()

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home or default_home()).resolve()
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / "runs.db"
        try:  # a --home or MTLREC_HOME naming a file, or a folder that cannot be written: a message, no traceback
            self._create()
        except (OSError, sqlite3.Error) as exc:
            raise self._unusable(exc) from None
        with RunStore._recover_lock:  # once per process and home: runs left "running" by a dead process
            if str(self.home) not in RunStore._recovered:
                RunStore._recovered.add(str(self.home))
                self.recover_interrupted()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.row_factory = sqlite3.Row
        return db

    def _create(self) -> None:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                """CREATE TABLE IF NOT EXISTS runs (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, message TEXT DEFAULT '',
                    created REAL NOT NULL, updated REAL NOT NULL, pid INTEGER, sweep_id TEXT,
                    summary TEXT DEFAULT '{}')"""
            )

    def _unusable(self, exc: BaseException) -> MtlrecError:
        """The store's folder or database failing (removed, read-only, a full disk), in words."""
        text = str(exc)
        full = getattr(exc, "errno", None) == errno.ENOSPC or "database or disk is full" in text or "disk I/O" in text
        return MtlrecError(
            f"the run store {self.home} cannot be used ({type(exc).__name__}: {exc}): "
            + ("free space on its disk" if full else "give a folder that can be written (--home, or MTLREC_HOME)")
        )

    def _execute(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """One statement. A store that cannot be used (its folder removed or unmounted, read-only, a full disk) raises
        MtlrecError, not sqlite3's error on every page (a fault audit); it is not made again here, where a drive
        unmounted under it would have had a new store made on another disk (a RunStore() made anew makes its
        folder, as the app's pages do on their next run)."""
        try:
            db = self._connect()
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        except (OSError, sqlite3.Error) as exc:
            raise self._unusable(exc) from None

    def folder(self, run_id: str) -> Path:
        """The run's folder; the id is checked so that no name reaches outside the runs folder."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise MtlrecError(f"'{run_id}' is not a valid run id")
        return self.runs_dir / run_id

    def start(self, config: ExperimentConfig, name: str | None = None, sweep_id: str | None = None) -> str:
        """Index a new run as 'running' and write its config; returns the run id."""
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        now = time.time()
        folder = self.folder(run_id)
        folder.mkdir(parents=True)
        atomic_write_text(folder / "config.json", stored_config(config).to_json())
        label = sanitize_name(name or default_run_name(config))
        self._execute(
            "INSERT INTO runs (id, name, status, created, updated, pid, sweep_id, summary) VALUES (?,?,?,?,?,?,?,?)",
            (run_id, label, "running", now, now, os.getpid(), sweep_id, dumps(summary_of(config, {}))),
        )
        return run_id

    def exists(self, run_id: str) -> bool:
        return bool(self._execute("SELECT 1 FROM runs WHERE id=?", (run_id,)))

    def finish(self, run_id: str, result) -> None:
        """Write the run's files, then mark it with its final status (finished, stopped or failed).

        A run deleted meanwhile stays deleted: its files are not written again (so it leaves no orphan folder).
        """
        if not self.exists(run_id):
            return
        write_run_files(result, self.folder(run_id))
        self.set_outcome(run_id, result.status, result.message, summary_of(result.config, result.metrics))

    def set_outcome(self, run_id: str, status: str, message: str, summary: dict) -> None:
        """Index a run's final status, its message and the summary the runs table shows (summary_of)."""
        self._execute(
            "UPDATE runs SET status=?, message=?, updated=?, summary=? WHERE id=?",
            (status, message, time.time(), dumps(summary), run_id),
        )

    def set_summary(self, run_id: str, summary: dict) -> None:
        """Index a run's summary again (its data moved, its epochs counted)."""
        self._execute("UPDATE runs SET summary=?, updated=? WHERE id=?", (dumps(summary), time.time(), run_id))

    def fail(self, run_id: str, message: str) -> None:
        """Mark a run failed when training raised (the config and the history so far stay)."""
        self.close(run_id, "failed", message)

    def record_history(self, run_id: str, rows: list[dict]) -> None:
        """Save the epochs trained so far, so a run cut short (server killed) keeps its curves (a caller goes on
        training when this fails: TrainingJob)."""
        if self.exists(run_id):
            atomic_write_text(self.folder(run_id) / "history.csv", pd.DataFrame(rows).to_csv(index=False))

    def close(self, run_id: str, status: str, message: str) -> None:
        """End a run that has no result to save: write a metrics.json holding the status and the reason."""
        folder = self.folder(run_id)
        if not self.exists(run_id):
            return
        if not (folder / "history.csv").is_file():
            atomic_write_text(folder / "history.csv", "")
        # The epochs it had (record_history saved them as they ended): a run cut short shows "3 of 50 epochs".
        epochs = _history_rows(folder / "history.csv")
        metrics = {"tasks": {}, "status": status, "message": message, "epochs_run": epochs}
        atomic_write_text(folder / "metrics.json", dumps(metrics))
        self.set_status(run_id, status, message)
        self.set_summary(run_id, {**self.get(run_id)["summary"], "epochs_run": epochs})

    def set_status(self, run_id: str, status: str, message: str = "") -> None:
        self.folder(run_id)
        self._execute(
            "UPDATE runs SET status=?, message=?, updated=? WHERE id=?",
            (status, message, time.time(), run_id),
        )

    def save(self, result, name: str | None = None, sweep_id: str | None = None) -> str:
        """Start and finish in one step (for results computed outside a job)."""
        run_id = self.start(result.config, name, sweep_id)
        try:
            self.finish(run_id, result)
        except Exception as exc:  # a full disk: the run is failed, not left "running" (undeletable till a restart)
            message = f"its files could not be saved ({type(exc).__name__}: {exc})"
            try:
                self.close(run_id, "failed", message)
            except Exception:  # no room even for its metrics.json: the index alone says so
                with contextlib.suppress(Exception):
                    self.set_status(run_id, "failed", message)
            raise
        return run_id

    def recover_interrupted(self) -> int:
        """Mark runs left 'running' by a process that no longer exists as 'interrupted'; returns how many."""
        rows = self._execute("SELECT id, pid FROM runs WHERE status='running'")
        stale = [r["id"] for r in rows if r["pid"] != os.getpid() and not process_alive(r["pid"])]
        for run_id in stale:
            if self.folder(run_id).is_dir():
                self.close(run_id, "interrupted", "the server stopped while this run was training")
            else:
                self.set_status(run_id, "interrupted", "the server stopped while this run was training")
        return len(stale)

    def list(self, sweep_id: str | None = None) -> list[dict]:
        """Every indexed run, newest first, with `damaged` set where its folder cannot be read."""
        sql, params = "SELECT * FROM runs ORDER BY created DESC", ()
        if sweep_id:
            sql, params = "SELECT * FROM runs WHERE sweep_id=? ORDER BY created DESC", (sweep_id,)
        out = []
        for row in self._execute(sql, params):
            item = _row(row)
            if not RUN_ID.match(str(item["id"])):  # a tampered index: never follow that id onto the disk
                item["damaged"] = True
                out.append(item)
                continue
            folder = self.runs_dir / item["id"]
            done = item["status"] != "running"
            item["damaged"] = not _json_readable(folder / "config.json") or (
                done and not _json_readable(folder / "metrics.json")
            )
            out.append(item)
        return out

    def get(self, run_id: str) -> dict:
        rows = self._execute("SELECT * FROM runs WHERE id=?", (run_id,))
        if not rows:
            raise MtlrecError(f"run '{run_id}' does not exist (it may have been deleted)")
        return _row(rows[0])

    def load(self, run_id: str) -> LoadedRun:
        self.get(run_id)
        return read_run_folder(self.folder(run_id), run_id)

    def rename(self, run_id: str, name: str) -> str:
        label = sanitize_name(name)
        if not label:
            raise MtlrecError("a run name cannot be empty")
        self.folder(run_id)
        if not self.exists(run_id):  # deleted in another tab: "Renamed" was said beside "was deleted" (an audit)
            raise MtlrecError(f"run '{run_id}' is not in this lab (deleted since the page was drawn): nothing renamed")
        self._execute("UPDATE runs SET name=?, updated=? WHERE id=?", (label, time.time(), run_id))
        return label

    def delete(self, run_id: str) -> None:
        """Remove a run's row and folder; a run still training (in a live process) must be stopped first."""
        folder = self.folder(run_id)
        rows = self._execute("SELECT status, pid FROM runs WHERE id=?", (run_id,))
        if rows and rows[0]["status"] == "running" and process_alive(rows[0]["pid"]):
            raise MtlrecError(f"run '{run_id}' is training right now: stop it first, then delete it")
        self._execute("DELETE FROM runs WHERE id=?", (run_id,))
        shutil.rmtree(folder, ignore_errors=True)

    def export_zip(self, run_id: str) -> bytes:
        """A zip of the run's own files, plus metrics.csv (one row per task): for download."""
        loaded = self.load(run_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in RUN_FILES:
                path = loaded.folder / name
                if path.is_file() and not path.is_symlink():  # a link could point anywhere on the machine
                    zf.write(path, f"{run_id}/{name}")
            zf.writestr(f"{run_id}/metrics.csv", metrics_table(loaded.metrics).to_csv(index=False))
            info = {"id": run_id, "name": self.get(run_id)["name"]}
            zf.writestr(f"{run_id}/{RUN_INFO}", json.dumps(info, indent=2))
        return buffer.getvalue()


def metrics_table(metrics: dict) -> pd.DataFrame:
    """metrics.json's per-task metrics as a table: one row per task, one column per metric."""
    rows = [{"task": task, **values} for task, values in (metrics.get("tasks") or {}).items()]
    return pd.DataFrame(rows)


def default_run_name(config: ExperimentConfig) -> str:
    """Architecture, size, cross layers, an adaptive weighting (a DWA run and a PCGrad run had one name) and the
    loss weights."""
    from mtlrec.config import WEIGHTING_LABELS

    weights = ", ".join(f"{t.name}={fmt.weight(t.weight)}" for t in config.tasks)  # a sweep's 2/3: 0.667
    cross = f" + {config.model.cross} cross" if config.model.cross else ""
    method = WEIGHTING_LABELS.get(config.weighting.method)
    return f"{config.model.kind} {config.model.size}{cross}{f' · {method}' if method else ''} · {weights}"


def _row(row: sqlite3.Row) -> dict:
    item = dict(row)
    try:
        item["summary"] = json.loads(item["summary"] or "{}")
    except (TypeError, ValueError):
        item["summary"] = {}
    return item


def _json_readable(path: Path) -> bool:
    """True when the file exists and holds valid JSON (what load() needs); a truncated file is damage too."""
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def process_alive(pid: int | None) -> bool:
    """Whether the process `pid` still runs: a run or sweep marked running by a process that is gone was interrupted."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
