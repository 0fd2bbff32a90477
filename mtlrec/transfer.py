"""Runs that move between labs: a run's zip (the Runs page's download) or a `train --out` folder imported into a run
store, and a saved run pointed at its data file on this machine by the file's content.

An imported run comes from someone else's files, and the lab may be a server shared by many people, so everything in
it is checked before anything is written: each file's size, the config (as `train` checks it), metrics.json's shape
and values, history.csv's and predictions.csv's columns, the encoder, and model.pt's tensors against the model the
config and encoder build (shapes only: no memory for a model that is not there). Its data paths are kept only when the
file there has the content the run recorded; no path is ever made from the run's own text.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd

from mtlrec.config import ExperimentConfig
from mtlrec.errors import MtlrecError
from mtlrec.fmt import listing
from mtlrec.runs import (
    RUN_FILES,
    RUN_INFO,
    STATUSES,
    RunStore,
    atomic_write_bytes,
    atomic_write_text,
    dumps,
    summary_of,
)

# All of a run's files unpacked, at most (a zip bomb is refused before anything is unpacked): an xl model's weights
# take about 200 MB, a large test split's predictions a few hundred. The app's uploads stop at 200 MB compressed.
IMPORT_LIMIT = 2 * 1024**3
# Per file, the text ones: a vocabulary of 100,000 ids per column makes encoder.json the largest.
FILE_LIMITS = {
    "config.json": 1024**2,
    RUN_INFO: 64 * 1024,
    "metrics.json": 16 * 1024**2,
    "history.csv": 64 * 1024**2,
    "encoder.json": 512 * 1024**2,
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# metrics.json's values that pages read, by kind (others are kept as they are, never read by a page)
COUNTS = ("params", "epochs_run", "best_epoch", "train_rows", "val_rows", "test_rows")
SECONDS = ("train_seconds", "samples_per_second", "wall_seconds")
TEXTS = ("device", "precision", "status", "message")


def read_run_archive(source: bytes | str | Path, label: str | None = None) -> dict[str, bytes]:
    """A run's files (RUN_FILES, and RUN_INFO when present) from a zip of one run (Runs' download, or a zipped
    `train --out` folder; bytes or a path) or from a run folder. Other files are ignored. Raises MtlrecError naming
    the source (`label`, else the path) and what is wrong."""
    label = label or (str(source) if not isinstance(source, bytes) else "the uploaded file")
    wanted = (*RUN_FILES, RUN_INFO)
    if not isinstance(source, bytes) and Path(source).is_dir():
        folder = Path(source)
        paths = [folder / n for n in wanted if (folder / n).is_file() and not (folder / n).is_symlink()]
        if not any(p.name == "config.json" for p in paths):
            raise MtlrecError(f"{label} holds no config.json: it is not a run folder (train --out writes one)")
        _check_sizes(label, {p.name: p.stat().st_size for p in paths})
        files = {p.name: p.read_bytes() for p in paths}
    else:
        if not isinstance(source, bytes) and not Path(source).is_file():
            raise MtlrecError(f"{label} does not exist")
        try:
            with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
                members = [
                    info
                    for info in zf.infolist()
                    if not info.is_dir()
                    and PurePosixPath(info.filename).name in wanted
                    and not info.filename.startswith("__MACOSX/")  # macOS Finder's resource forks
                ]
                runs = sorted(
                    {str(PurePosixPath(i.filename).parent) for i in members if i.filename.endswith("config.json")}
                )
                if not runs:
                    raise MtlrecError(
                        f"{label} holds no config.json: it is not a run's zip (Runs → download '<run id>.zip', or zip "
                        "a `train --out` folder)"
                    )
                if len(runs) > 1:
                    raise MtlrecError(
                        f"{label} holds {len(runs)} runs (folders {listing(runs, 5)}): import one run's zip at a time"
                    )
                members = {
                    PurePosixPath(i.filename).name: i
                    for i in members
                    if str(PurePosixPath(i.filename).parent) == runs[0]
                }
                _check_sizes(label, {name: info.file_size for name, info in members.items()})
                # zipfile stops each member at its declared size, so a header that lies cannot unpack more
                files = {name: zf.read(info) for name, info in members.items()}
        except zipfile.BadZipFile as exc:
            raise MtlrecError(
                f"{label} is not a readable zip file ({exc}): import a run's zip (Runs → download '<run id>.zip') "
                "or a run folder"
            ) from None
        except (RuntimeError, NotImplementedError, OSError, EOFError) as exc:  # encrypted, unknown compression, CRC
            raise MtlrecError(f"{label}: a file in the zip cannot be read ({type(exc).__name__}: {exc})") from None
    if "metrics.json" not in files:
        raise MtlrecError(
            f"{label} holds a config.json but no metrics.json: the run never finished saving; train it again from "
            "its config.json (python -m mtlrec train --config …)"
        )
    return files


def _check_sizes(label: str, sizes: dict[str, int]) -> None:
    if sum(sizes.values()) > IMPORT_LIMIT:
        raise MtlrecError(f"{label}: its run files unpack to over {IMPORT_LIMIT // 1024**3} GB; not imported")
    for name, size in sizes.items():
        if size > FILE_LIMITS.get(name, IMPORT_LIMIT):
            raise MtlrecError(
                f"{label}: its {name} is {size / 1024**2:,.0f} MB, more than a run's ever is "
                f"({FILE_LIMITS[name] / 1024**2:,.0f} MB at most); not imported"
            )


def import_run(store: RunStore, files: dict[str, bytes], source: str, name: str | None = None) -> tuple[str, list[str]]:
    """Add a run made elsewhere (read_run_archive's files) to `store` under a new id, once every file is checked;
    returns the id and notes for people (where its data file is; that it was imported before).

    Its data file is looked for by content (the SHA-256 its metrics.json recorded) when its path is not on this
    machine, or holds other content: among this store's datasets (uploads and generated worlds) and the bundled
    samples. Found, the run points at it (its config's data paths and metrics.json's record of them change); not
    found, Results and Runs show the run in full and a note says what needs the file.
    """
    config, metrics, info = check_run_files(files, source)
    status = metrics.get("status") if metrics.get("status") in STATUSES else "finished"
    if status == "running":  # saved mid-training: whatever it is, it is not training here
        status = "interrupted"
    notes, relinked = _relink(store, config, metrics, imported=True)
    origin = info.get("id") if isinstance(info.get("id"), str) else None
    before = [row["id"] for row in store.list() if origin and _imported_from(store, row["id"]) == origin]
    if before:
        notes.append(f"This run was imported before, as {listing(before, 3)}: delete the copy you do not need.")
    if status in ("finished", "stopped") and (missing := [f for f in ("model.pt", "encoder.json") if f not in files]):
        notes.append(
            f"It has no {' and no '.join(missing)}: its metrics and curves are shown, but it cannot recommend "
            "(train it again from its config.json for that)"
        )
    if name is None and isinstance(info.get("name"), str) and info["name"].strip():
        name = info["name"]
    run_id = store.start(config, name)
    folder = store.folder(run_id)
    try:
        for file_name, data in files.items():
            if file_name in RUN_FILES and file_name != "config.json":  # start() wrote the (relinked) config
                atomic_write_bytes(folder / file_name, data)
        if "history.csv" not in files:
            atomic_write_text(folder / "history.csv", "")
        if relinked:  # data_files names the file here, so that Recommend's check of it reads the file here
            atomic_write_text(folder / "metrics.json", dumps(metrics))
        atomic_write_text(folder / RUN_INFO, json.dumps({"imported_from": origin, "source": source}, indent=2))
        store.set_outcome(run_id, status, str(metrics.get("message") or ""), summary_of(config, metrics))
    except BaseException:  # a full disk, say: no half-imported run left "running" (which nobody could delete)
        store.set_status(run_id, "failed", "the import failed")  # delete() refuses a run training in this process
        store.delete(run_id)
        raise
    return run_id, notes


def _imported_from(store: RunStore, run_id: str) -> str | None:
    try:
        value = json.loads((store.folder(run_id) / RUN_INFO).read_text(encoding="utf-8")).get("imported_from")
    except (OSError, ValueError, AttributeError, MtlrecError):
        return None
    return value if isinstance(value, str) else None


def check_run_files(files: dict[str, bytes], source: str) -> tuple[ExperimentConfig, dict, dict]:
    """The config, metrics and run.json info of a run's files, once each file is checked; MtlrecError listing every
    problem otherwise (named with `source`)."""
    problems: list[str] = []
    texts = {}
    for file_name in ("config.json", "metrics.json", RUN_INFO):
        if file_name in files:
            try:  # utf-8-sig: a file saved by an editor that writes a byte-order mark
                texts[file_name] = json.loads(files[file_name].decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                problems.append(f"{file_name} is not JSON text ({type(exc).__name__}: {str(exc)[:120]})")
    if problems:
        raise MtlrecError(problems, source=source)
    try:
        config = ExperimentConfig.from_dict(texts["config.json"])
        config.check()
    except MtlrecError as exc:
        raise MtlrecError([f"config.json: {p}" for p in exc.problems], source=source) from None
    metrics = texts["metrics.json"]
    problems += metrics_problems(metrics, config)
    info = texts.get(RUN_INFO)
    if problems:
        raise MtlrecError(problems, source=source)
    for check in (_table_problems, _model_problems):
        problems += check(files, config)
    if problems:
        raise MtlrecError(problems, source=source)
    return config, metrics, info if isinstance(info, dict) else {}


def _number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool) and not math.isinf(value))


def metrics_problems(metrics: object, config: ExperimentConfig) -> list[str]:
    """What makes metrics.json not a run's metrics (the pages read these values as they are)."""
    if not isinstance(metrics, dict):
        return ["metrics.json is not a JSON object"]
    problems = []
    tasks = metrics.get("tasks", {})
    if not isinstance(tasks, dict) or not all(isinstance(v, dict) for v in tasks.values()):
        problems.append("metrics.json: 'tasks' is not an object of one object of metrics per task")
    else:
        strangers = sorted(set(tasks) - set(config.task_names))
        if strangers:
            problems.append(
                f"metrics.json has tasks config.json does not ({listing(strangers, 5)}): the two files come from "
                "different runs"
            )
        odd = [f"{t}.{m}" for t, values in tasks.items() for m, v in values.items() if not _number(v)]
        if odd:
            problems.append(f"metrics.json: these metrics are not numbers: {listing(odd, 5)}")
    for key in COUNTS:
        value = metrics.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"metrics.json: '{key}' is not a count, got {str(value)[:40]!r}")
    for key in SECONDS:
        value = metrics.get(key)
        if not _number(value) or (value is not None and value < 0):
            problems.append(f"metrics.json: '{key}' is not a number of seconds or a rate, got {str(value)[:40]!r}")
    for key in TEXTS:
        if metrics.get(key) is not None and not isinstance(metrics[key], str):
            problems.append(f"metrics.json: '{key}' is not text")
    notes = metrics.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.append("metrics.json: 'notes' is not a list of texts")
    files = metrics.get("data_files", [])
    shapes = {"path": str, "bytes": int, "sha256": str}  # and mtime_ns, which only tells a file touched since
    if not isinstance(files, list) or not all(
        isinstance(f, dict)
        and all(isinstance(f.get(k), t) and not isinstance(f.get(k), bool) for k, t in shapes.items())
        and f["bytes"] >= 0
        and SHA256.match(f["sha256"])
        and isinstance(f.get("mtime_ns", 0), int)
        for f in files
    ):
        problems.append("metrics.json: 'data_files' is not a list of {path, bytes, sha256} records")
    return problems


def _table_problems(files: dict[str, bytes], config: ExperimentConfig) -> list[str]:
    """history.csv's columns are numbers; predictions.csv holds each task's label and prediction, as numbers."""
    problems = []
    tables = {}
    for file_name in ("history.csv", "predictions.csv"):
        data = files.get(file_name, b"")
        if len(data) <= 1:
            continue
        try:
            tables[file_name] = pd.read_csv(io.BytesIO(data), low_memory=False)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            problems.append(f"{file_name} is not a readable CSV ({type(exc).__name__}: {str(exc)[:120]})")
    history = tables.get("history.csv")
    if history is not None:
        text = [c for c in history.columns if not pd.api.types.is_numeric_dtype(history[c])]
        if text:
            problems.append(f"history.csv: these columns are not numbers: {listing([str(c) for c in text], 5)}")
    predictions = tables.get("predictions.csv")
    if predictions is not None:
        columns = config.prediction_columns()
        wanted = [c for task in config.tasks for c in (task.name, columns[task.name])]
        missing = [c for c in wanted if c not in predictions.columns]
        text = [c for c in wanted if c in predictions.columns and not pd.api.types.is_numeric_dtype(predictions[c])]
        if missing:
            problems.append(f"predictions.csv lacks the columns {listing(missing, 5)} of the run's tasks")
        if text:
            problems.append(f"predictions.csv: these columns are not numbers: {listing(text, 5)}")
    return problems


def _model_problems(files: dict[str, bytes], config: ExperimentConfig) -> list[str]:
    """encoder.json reads back, and model.pt holds exactly the tensors (names and shapes) of the model its config and
    encoder build: a config that asks for a far larger model than its weights is refused here, before any page
    builds it."""
    if "encoder.json" not in files:
        return []
    import torch

    from mtlrec.encode import Encoder
    from mtlrec.models import build_model

    try:
        encoder = Encoder.from_dict(json.loads(files["encoder.json"].decode("utf-8")))
    except Exception as exc:  # any shape of damage: a list, missing keys, wrong types, deep nesting
        return [f"encoder.json is damaged or is not this run's ({type(exc).__name__}: {str(exc)[:120]})"]
    if "model.pt" not in files:
        return []
    try:
        with torch.device("meta"):  # shapes only, no memory
            model = build_model(
                config.model, encoder.cardinalities, encoder.numeric_width, len(config.tasks), tasks=config.tasks
            )
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    except Exception as exc:
        return [f"config.json and encoder.json do not make a model ({type(exc).__name__}: {str(exc)[:120]})"]
    try:
        # weights_only: tensors and plain containers only; a crafted pickle is refused, never run
        state = torch.load(io.BytesIO(files["model.pt"]), map_location="cpu", weights_only=True)
    except Exception as exc:
        return [f"model.pt is not a run's weights ({type(exc).__name__}: {str(exc)[:120]})"]
    if not isinstance(state, dict) or {k: tuple(getattr(v, "shape", ())) for k, v in state.items()} != expected:
        return ["model.pt's tensors are not those of the model config.json and encoder.json describe"]
    return []


def relink(store: RunStore, run_id: str) -> bool:
    """Point a saved run whose data file is not where its config says at a file here with the content it recorded
    (see import_run): a run imported before its data was uploaded finds the upload. Saves the new paths; returns
    whether it found one."""
    run = store.load(run_id)
    if not run.missing_data:
        return False
    if not _relink(store, run.config, run.metrics)[1]:
        return False
    atomic_write_text(run.folder / "config.json", run.config.to_json())
    atomic_write_text(run.folder / "metrics.json", dumps(run.metrics))
    store.set_summary(run_id, summary_of(run.config, run.metrics))
    return True


def _relink(store: RunStore, config: ExperimentConfig, metrics: dict, imported: bool = False) -> tuple[list[str], bool]:
    """Point `config` (and metrics' data_files) at files on this machine with the content the run recorded, where
    its own paths are not here; notes saying what was found and what was not, and whether any was.

    An `imported` run's paths come from someone else's files: one is kept only when the file there has the content
    the run recorded (a bundled sample's `sample:` name always), so that a crafted config cannot make Recommend show
    the rows of any file the server can read. A path not kept and not found by content is replaced by one under
    datasets/not-here/ that never exists (and is made of no text from the run).
    """
    from mtlrec.data import SAMPLE_PREFIX, _sha256, resolve_data_path
    from mtlrec.sample import SAMPLE_DIR, generated_world

    def same(path: Path, size: object, digest: object) -> bool:
        return bool(digest) and path.is_file() and path.stat().st_size == size and _sha256(path) == digest

    notes, missing, relinked = [], [], False
    records = {e.get("path"): e for e in metrics.get("data_files") or [] if isinstance(e, dict)}
    for field_name in ("path", "test_path"):
        path = getattr(config.data, field_name)
        if not path or str(path).startswith(SAMPLE_PREFIX):
            continue
        entry = records.get(path)
        size, digest = (entry or {}).get("bytes"), (entry or {}).get("sha256")
        if not (isinstance(digest, str) and SHA256.match(digest)):
            digest = None  # checked on import; a saved run's record is read as it is
        here = Path(resolve_data_path(path))
        if here.is_file() and (not imported or same(here, size, digest)):
            continue
        candidates = [*store.home.glob("datasets/*/*"), *SAMPLE_DIR.glob("*")] if digest else []
        found = next((c for c in candidates if same(c, size, digest)), None)
        shown = Path(str(path)).name
        if found is None:
            missing.append(shown)
            if not imported:
                continue
            safe = re.sub(r"[^\w.-]+", "_", shown).lstrip(".") or "data"  # one name, never a path of the run's
            found = store.home / "datasets" / "not-here" / str(time.time_ns()) / safe
        else:
            notes.append(f"Its data file {shown} is on this server ({found.name}): the run now points at it.")
        if field_name == "path" and not config.data.name and generated_world(str(found)) is None:
            config.data.name = shown  # shown as it was where the run was made, not as the copy here is named
        setattr(config.data, field_name, str(found))
        if entry is not None:
            entry["path"] = str(found)
        relinked = True
    if missing:
        notes.append(
            f"Its data file{'s' if len(missing) > 1 else ''} {' and '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} not on this server (not with the content the run was trained "
            "on): Results and Runs show the run in full; Recommend and training it again need the file: upload "
            "the same file on the Data page (the run finds it by its content), or give its path (recommend "
            "--data FILE, train FILE --config …)."
        )
    return notes, relinked
