"""From a table and a config to encoded train/validation/test arrays: validate, split, fit the encoder, encode once."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec, split_monitor
from mtlrec.encode import OTHER_TOKEN, Encoded, Encoder, category_counts, ids_as_keys
from mtlrec.errors import MtlrecError
from mtlrec.fixes import apply_fixes_together, how_to
from mtlrec.io import Table, part_files, read_table
from mtlrec.leakage import find_leaks
from mtlrec.negatives import negatives_fix, real_rows, sample_after_split
from mtlrec.schema import (
    SchemaProposal,
    check_frame,
    id_candidate_hint,
    infer_schema,
    parse_time,
    regression_log1p,
    show_value,
    validate,
)
from mtlrec.tokens import lists_as_text


def ranking_note(data: DataConfig, frame: pd.DataFrame | None = None) -> str | None:
    """Why ranking metrics and recommendations are off for data with these columns, or None when they are on; with
    the `frame`, the column most likely to be the missing id is named (KKBox's msno beside song_id)."""
    if not data.user_col or not data.item_col:
        missing = " and ".join(n for n, c in (("user", data.user_col), ("item", data.item_col)) if not c)
        note = f"no {missing} column chosen: ranking metrics (NDCG@K, Recall@K, HitRate@K) and recommendations are off"
        hint = id_candidate_hint(frame, data) if frame is not None else None
        return note if hint is None else f"{note}; {hint}"
    return None


@dataclass
class Prepared:
    """Everything training needs, encoded once; reused unchanged by every run of a sweep."""

    config: ExperimentConfig
    frame: pd.DataFrame  # the training file (train + validation rows, and test rows unless a test file is given)
    test_frame: pd.DataFrame  # the test rows as a frame of their own
    train_idx: np.ndarray  # positions in `frame`
    val_idx: np.ndarray
    encoder: Encoder
    train: Encoded
    val: Encoded
    test: Encoded
    notes: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)  # the data files read, as data_files records them

    @property
    def ranking_note(self) -> str | None:
        """Why ranking metrics and recommendations are off, or None when they are on."""
        return ranking_note(self.config.data)

    def group(self, part: str) -> np.ndarray | None:
        """The user of each row of a part ("val" or "test") as a dense integer code (same user, same code), for
        GAUC and ranking; None without a user column. Codes rather than ids: the metrics group by them every
        epoch, and grouping strings again each time cost more than the AUC itself on small models."""
        user_col = self.config.data.user_col
        if not user_col:
            return None
        users = self.test_frame[user_col] if part == "test" else self.frame[user_col].iloc[self.val_idx]
        return pd.factorize(users)[0]


SAMPLE_PREFIX = "sample:"


def resolve_data_path(path: str) -> str:
    """A file path, with `sample:NAME` standing for a bundled sample (portable across machines and folders)."""
    if str(path).startswith(SAMPLE_PREFIX):
        from mtlrec.sample import sample_path

        return str(sample_path(str(path)[len(SAMPLE_PREFIX) :]))
    return str(path)


def stored_path(path: str) -> str:
    """A data path as a run records it (config.json, data_files): a relative path to a file or folder made absolute,
    so that a re-run or a recommendation from another folder finds this file, not another of the same name there.
    A bundled sample stays `sample:NAME`; a path that names nothing stays as given."""
    if str(path).startswith(SAMPLE_PREFIX) or Path(path).is_absolute() or not Path(path).exists():
        return str(path)
    return str(Path(path).resolve())


def data_files(config: ExperimentConfig) -> list[dict]:
    """The config's data files as a run records them (metrics.json's data_files): path as stored (stored_path), size,
    modification time and SHA-256, so that a re-run or a recommendation can tell that a file changed since."""
    files = []
    for path in (config.data.path, config.data.test_path):
        recorded = _fingerprint(Path(resolve_data_path(path))) if path else None
        if recorded is not None:
            files.append({"path": stored_path(path), **recorded})  # as config.json keeps it (RunStore, CLI)
    return files


def _fingerprint(path: Path, digest: bool = True, fresh: bool = False) -> dict | None:
    """A data file's size, modification time and (with `digest`) SHA-256; for a folder of Parquet part files, their
    total size, latest modification time and one SHA-256 over each part's name and SHA-256 (a part added, removed
    or changed changes it). None when there is no such file or folder. `fresh`: read the files again, even those
    hashed before at this size and time."""
    parts = [path] if path.is_file() else part_files(path) if path.is_dir() else []
    if not parts:
        return None
    stats = [part.stat() for part in parts]
    out = {"bytes": sum(s.st_size for s in stats), "mtime_ns": max(s.st_mtime_ns for s in stats)}
    if digest:
        hashes = [
            _sha256(part) if fresh else _file_sha256(str(part), s.st_size, s.st_mtime_ns)
            for part, s in zip(parts, stats, strict=True)
        ]
        if path.is_file():
            out["sha256"] = hashes[0]
        else:
            import hashlib

            names = (part.relative_to(path).as_posix() for part in parts)
            listing = "".join(f"{name}\0{h}\n" for name, h in zip(names, hashes, strict=True))
            out["sha256"] = hashlib.sha256(listing.encode()).hexdigest()
    return out


@dataclass(frozen=True)
class FileChange:
    """One data file that differs from what data_files recorded: `text` is the sentence said of it, `missing` whether
    the file is gone (a caller may leave that to another message: the Results page does)."""

    path: str
    text: str
    missing: bool = False

    def __str__(self) -> str:
        return self.text


def changed_files(recorded: list[dict], thorough: bool = False) -> list[FileChange]:
    """One FileChange per data file that differs from what data_files recorded (size, else content); [] if none. An
    entry's `trained_on` names the file the run was trained on when another path stands for it now (recommend
    --data): "other.csv is not the file the run was trained on (data.csv)", not "other.csv changed". A file of the
    recorded size and modification time is taken as unchanged unless `thorough` (a re-run of the run: `cp -p`,
    `rsync -t` and `tar x` keep a changed file's time)."""
    changed = []
    for entry in recorded:
        path = Path(resolve_data_path(entry["path"]))
        other = entry.get("trained_on")
        what = (
            f"{path.name} is not the file the run was trained on ({other}: "
            if other and other != path.name
            else f"{path.name} changed since the run was trained ("
        )
        current = _fingerprint(path, digest=False)
        if current is None:
            changed.append(FileChange(str(entry["path"]), f"{entry['path']} is missing", missing=True))
            continue
        size = current["bytes"]
        if not thorough and size == entry.get("bytes") and current["mtime_ns"] == entry.get("mtime_ns"):
            continue  # untouched: no need to read it again
        if size != entry.get("bytes"):
            changed.append(FileChange(str(entry["path"]), f"{what}{entry.get('bytes', 0):,} bytes then, {size:,} now)"))
        elif _fingerprint(path, fresh=thorough)["sha256"] != entry.get("sha256"):
            changed.append(FileChange(str(entry["path"]), f"{what}same size, other content)"))
    return changed


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """_sha256 of a file as it is (size and modification time in the key): a file trained on again and again (the
    app's uploads, a sweep's references) is read once."""
    return _sha256(Path(path))


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def propose_schema(frame: pd.DataFrame, path: str | None = None) -> SchemaProposal:
    """Inferred schema; for a bundled sample, its documented ids and tasks replace the guesses."""
    proposal = infer_schema(frame)
    if not path or not str(path).startswith(SAMPLE_PREFIX):
        return proposal
    from mtlrec.sample import SAMPLES

    info = SAMPLES[str(path)[len(SAMPLE_PREFIX) :]]
    d = proposal.data
    d.user_col, d.item_col, d.time_col = info["user_col"], info["item_col"], info["time_col"]
    proposal.notes, proposal.flags = [], []  # about the columns inference chose, replaced here
    labels = set(info["tasks"])
    proposal.tasks = [
        TaskSpec(name, kind, log1p=kind == "regression" and regression_log1p(frame[name]))
        for name, kind in info["tasks"].items()
    ]
    roles = {c for c in (d.user_col, d.item_col, d.time_col) if c}
    for c in labels | roles:
        d.drop_feature(c)
    d.categorical = [c for c in (d.user_col, d.item_col) if c] + d.categorical
    return proposal


class Loaded(NamedTuple):
    """A config's data file (and test file) as read, with the loader's notes."""

    frame: pd.DataFrame
    test_frame: pd.DataFrame | None
    notes: list[str]


def read_files(config: ExperimentConfig) -> tuple[Table, Table | None]:
    """The config's data file and test file (or None) as read, before its fixes: load_frames' first half, for a
    caller that applies two lists of fixes to one reading (the CLI's --negatives, sampled on the rows as fixed)."""
    if not config.data.path:
        raise MtlrecError("no data file given: pass a file path or choose a bundled sample")
    table = read_table(resolve_data_path(config.data.path), names=config.data.names)
    test = None
    if config.data.test_path:
        try:
            test = read_table(resolve_data_path(config.data.test_path), names=config.data.names)
        except MtlrecError as exc:
            raise _fewer_test_fields(exc, config.data.names) or exc from None
    return table, test


def load_frames(config: ExperimentConfig, read: tuple[Table, Table | None] | None = None) -> Loaded:
    """Read the config's data file (and test file), returning frames and loader notes; `read`: read_files' result
    for this config's files, not read again (the fixes leave the frames as read unchanged)."""
    table, test = read if read is not None else read_files(config)
    notes = [f"{table.name}: {n}" for n in table.notes]
    if test is not None:
        notes += [f"{test.name}: {n}" for n in test.notes]
    frame, test_frame, fixed, test_fixed = apply_fixes_together(
        table.frame, test.frame if test else None, config.data.fixes, table.name, test.name if test else None
    )
    notes += [f"{table.name}: {n}" for n in fixed] + [f"{test.name}: {n}" for n in test_fixed]
    return Loaded(frame, test_frame, notes)


def _fewer_test_fields(exc: MtlrecError, names: list[str] | None) -> MtlrecError | None:
    """A test file whose rows have fewer fields than the names given for both files: it lacks columns, most likely
    the labels (Criteo's test.txt: 39 fields, no label). The reader's advice, one name per field, could not be taken:
    the names are the training file's too. None for other problems."""
    found = re.search(r"column names were given \(.*\) but the rows have (\d+) fields?", exc.message)
    if not names or len(exc.problems) != 1 or not found or int(found.group(1)) >= len(names):
        return None
    fields = int(found.group(1))
    return MtlrecError(
        f"its rows have {fields} field{'s' if fields != 1 else ''}, {len(names) - fields} fewer than the "
        f"{len(names)} column names given for both files: a test file needs the training file's columns, its "
        "labels too (the run's metrics are measured on them), and a file without labels (such as Criteo's "
        "test.txt) cannot be the test file: leave it out (the training file is split), or add the missing "
        "columns to it",
        source=exc.source,
    )


def _random_split(idx: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split  # imported here: it costs ~1 s at app start

    keep, held = train_test_split(idx, test_size=frac, random_state=seed)
    return np.sort(keep), np.sort(held)


def _user_split(idx: np.ndarray, users: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import GroupShuffleSplit

    splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
    keep, held = next(splitter.split(idx, groups=users))
    return np.sort(idx[keep]), np.sort(idx[held])


def _time_split(idx: np.ndarray, times: np.ndarray, frac: float) -> tuple[np.ndarray, np.ndarray]:
    """The latest `frac` of the rows held out. Rows with the same time stay on one side (with daily dates, a day
    cut in two put some of its rows before and some after the boundary): the cut moves to the nearer edge of the
    tied rows where that leaves both sides rows; only when every row has one time does it cut among them."""
    sorting = np.argsort(times, kind="stable")
    order, ordered = idx[sorting], times[sorting]
    cut = len(idx) - max(1, int(round(len(idx) * frac)))
    if 0 < cut < len(idx) and ordered[cut - 1] == ordered[cut]:
        first = int(np.searchsorted(ordered, ordered[cut], side="left"))  # the tied rows go to the held-out side
        after = int(np.searchsorted(ordered, ordered[cut], side="right"))  # or to the kept side
        edges = [e for e in (first, after) if 0 < e < len(idx)]
        if edges:
            cut = min(edges, key=lambda e: abs(e - cut))
    return np.sort(order[:cut]), np.sort(order[cut:])


SPLIT_SHARE_OFF = 2.0  # a part of a user split this many times smaller (or larger) than asked is said in a note
SMALL_PART = 200  # rows under which such a part's metrics are said to be noisy


def _parts_off_share(config: ExperimentConfig, kept: int, test: int, val: int, split_test: bool):
    """(part, rows, share got, share asked) of the test part (when the split made it) and the validation part, for
    each that holds SPLIT_SHARE_OFF times fewer or more rows than its share asked."""
    parts = [("test", test, test + kept, config.split.test_frac)] if split_test else []
    parts.append(("validation", val, kept, config.split.val_frac))
    for part, rows, of, asked in parts:
        got = rows / max(of, 1)
        if asked > 0 and (got * SPLIT_SHARE_OFF < asked or got > asked * SPLIT_SHARE_OFF):
            yield part, rows, got, asked


def _user_split_notes(config: ExperimentConfig, frame: pd.DataFrame, kept: int, test: int, val: int) -> list[str]:
    """A user split shares out users, not rows: with a few heavy users its parts can hold far fewer (or more) rows
    than the shares asked, and metrics then come from a handful of rows. Says so, naming the heaviest user."""
    notes, heavy = [], None
    n = len(frame)
    for part, rows, got, asked in _parts_off_share(config, kept, test, val, split_test=bool(test) and kept < n):
        if heavy is None:  # counted once, for whichever part needs it first
            counts = frame[config.data.user_col].value_counts()
            heavy = f"user {show_value(counts.index[0])} has {counts.iloc[0] / n:.0%} of the rows"
        noisy = f"; its metrics rest on {rows:,} rows only" if rows < SMALL_PART else ""
        notes.append(
            f"the user split put {rows:,} rows ({got:.1%}) in the {part} part where {asked:.0%} was asked: it "
            f"shares out users, not rows, and {heavy}{noisy}; the random or time split shares out rows"
        )
    return notes


def _time_split_notes(
    config: ExperimentConfig, frame: pd.DataFrame, kept: int, test: int, val: int, given_test: bool
) -> list[str]:
    """Rows with one time stay on one side of a time split (_time_split), so with coarse times (a few dates) a part
    can be far from its share: says so, with the share of the rows at the latest time."""
    notes = []
    for part, rows, got, asked in _parts_off_share(config, kept, test, val, split_test=not given_test):
        latest = ""
        if part == "test":
            times = parse_time(frame[config.data.time_col])
            latest = f", and {(times == times.max()).mean():.0%} of the rows share the latest time"
        notes.append(
            f"the time split put {rows:,} rows ({got:.1%}) in the {part} part where {asked:.0%} was asked: "
            f"rows with the same time stay on one side{latest}; finer times (or the random split) share out "
            "rows more evenly"
        )
    return notes


COPIED_ROWS, COPIED_SHARE = 20, 0.05  # copies of training rows among a split's test rows: a note from both counts
OVERLAP_NOTE = 0.5  # share of a test file's rows also in the training file from which a note says so
FEW_TEST_ROWS = 30  # a binary task's rarer class in the test rows, or GAUC's users, under this many: a note


def _labelled(y: np.ndarray) -> np.ndarray:
    """A task's encoded labels where present (NaN: not labelled, TaskSpec.labelled_only)."""
    return y[~np.isnan(y)]


def _labelled_notes(config: ExperimentConfig, prepared: Prepared) -> list[str]:
    """Per task trained on its labelled rows only: on how many rows of each part it trains and is measured; what
    is wrong when a part has none (its metrics are undefined, or early stopping cannot see it)."""
    notes, problems = [], []
    parts = (("training", prepared.train), ("validation", prepared.val), ("test", prepared.test))
    for j, task in enumerate(config.tasks):
        if not task.labelled_only:
            continue
        counts = {name: int((~np.isnan(part.labels[:, j])).sum()) for name, part in parts}
        shown = ", ".join(f"{counts[name]:,} of {len(part):,} {name}" for name, part in parts)
        if not counts["training"]:
            # Its untrained head's metrics were reported as a run's (a review: watch time's labels all in the
            # latest 15%, which the time split made the test part)
            problems.append(
                f"task '{task.name}' has no labelled row among the {len(prepared.train):,} training rows ({shown} "
                f"rows labelled after the {config.split.method} split): it cannot be trained; "
                + ("use the random split, " if config.split.method != "random" else "")
                + "leave it out of the tasks, or use data where it is labelled earlier"
            )
            continue
        note = f"task '{task.name}' is trained and measured on its labelled rows only: {shown} rows"
        missing = [name for name in ("validation", "test") if not counts[name]]
        if missing == ["validation", "test"]:
            note += "; no labelled validation or test row: early stopping cannot see it and its test metrics are "
            note += "undefined"
        elif missing == ["test"]:
            note += "; with no labelled test row its test metrics are undefined: use more data or a larger test part"
        elif missing == ["validation"]:
            note += "; no labelled validation row: early stopping cannot see it"
        notes.append(note)
    if problems:
        raise MtlrecError(problems)
    return notes


def _rarer_class(labels: np.ndarray) -> tuple[int, str]:
    """How many rows hold a binary label's rarer class, and which it is ("positive" or "negative")."""
    positives = int((labels == 1).sum())
    return min((positives, "positive"), (len(labels) - positives, "negative"))


def _few_test_rows(name: str, labels: np.ndarray, users: pd.Series | None) -> list[str]:
    """Notes for a binary task whose test metrics rest on few rows: few positives (or negatives), or few users with
    both classes for GAUC. A sweep ranked points on 8 positives (AUCs 0.46-0.50) and a run showed GAUC 0.0000 from
    the one user who had both classes, with no word (a browser audit)."""
    notes = []
    rarer, which = _rarer_class(labels)
    positives = int((labels == 1).sum())
    if 0 < rarer < FEW_TEST_ROWS:
        # Hanley and McNeil's standard error of an AUC of 0.5 from these counts: the spread of chance alone
        spread = 2 * math.sqrt((len(labels) + 1) / (12 * positives * (len(labels) - positives)))
        notes.append(
            f"task '{name}' has {rarer} {which} row{'s' if rarer != 1 else ''} among its {len(labels):,} test rows: "
            "its test AUC and LogLoss "
            f"rest on them (an AUC moves by about ±{spread:.2f} by chance alone), so small differences between runs "
            "or sweep points mean nothing"
        )
    if users is not None and len(users) == len(labels):
        frame = pd.DataFrame({"user": users.to_numpy(), "y": labels})
        both = int(frame.groupby("user", sort=False)["y"].agg(["min", "max"]).eval("min < max").sum())
        if both == 0:
            notes.append(
                f"task '{name}': no test user has both a 0 and a 1, so GAUC (the mean of per-user AUCs) has no value "
                "(nan): the users' test rows are too few, or each user's are of one class; read AUC instead"
            )
        elif both < FEW_TEST_ROWS:
            notes.append(
                f"task '{name}': GAUC averages "
                + (f"the only {both} test users" if both > 1 else "the one test user")
                + " with both a 0 and a 1 (a user with one class has no AUC): read it with care"
            )
    return notes


def _few_validation_rows(name: str, labels: np.ndarray) -> list[str]:
    """A note for a binary task whose validation metrics rest on few rows: Train's cards showed a validation AUC of
    0.0753 in large type from about 3 positives among 240 rows, with no word (a browser walk)."""
    if not len(labels):
        return []
    rarer, which = _rarer_class(labels)
    if rarer == 0:  # the worst case: no validation AUC at all (a review)
        return [
            f"task '{name}' has one class only in its {len(labels):,} validation rows: its validation AUC is "
            "undefined, so Train's cards and curves show none and early stopping cannot follow it; a larger "
            "validation share (Train's advanced settings, --val-frac) or more data gives it both classes"
        ]
    if rarer >= FEW_TEST_ROWS:
        return []
    return [
        f"task '{name}' has {rarer} {which} row{'s' if rarer != 1 else ''} among its {len(labels):,} validation rows: "
        "its validation AUC (Train's cards and curves, and early stopping where it follows this task) rests on them; "
        "a larger validation share (Train's advanced settings, --val-frac) or more data steadies it"
    ]


ALL_RELEVANT = 0.9  # share of a regression task's test rows above 0 from which a note says Recall/HitRate say little


def _row_hashes(config: ExperimentConfig, frames: list[pd.DataFrame]) -> list[np.ndarray] | None:
    """A hash per row of each frame, on the columns the run reads (those all frames have); None when there are none,
    or values cannot be hashed (lists in a column)."""
    d = config.data
    columns = [c for c in dict.fromkeys([d.user_col, d.item_col, d.time_col, *d.features, *config.task_names])
               if c and all(c in f.columns for f in frames)]  # fmt: skip
    if not columns:
        return None
    try:
        return [pd.util.hash_pandas_object(f[columns], index=False).to_numpy() for f in frames]
    except TypeError:
        return None


HEAVY_ROWS, HEAVY_SHARE = 10, 0.5  # a regression target's largest squared deviations: so few rows, so much of them


def _heavy_tail_note(task: TaskSpec, values: pd.Series) -> str | None:
    """A note for a regression task trained without log1p whose spread rests on a few rows (four values of 1e6 among
    watch times of seconds made the target's SD 16,000: the other predictions squeezed to a sliver of it, and the
    other tasks hurt through the shared layers; an audit). None otherwise."""
    if task.type != "regression" or task.log1p:
        return None
    y = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    y = y[np.isfinite(y)]
    few = max(HEAVY_ROWS, len(y) // 1000)
    if len(y) < 20 * few:
        return None
    median = float(np.median(y))
    squares = (y - y.mean()) ** 2
    if not squares.sum():
        return None
    # The fewest rows holding half of the spread (and any as far out as the last of them): a few, or not?
    order = np.argsort(squares)[::-1]
    k = int(np.searchsorted(np.cumsum(squares[order]), HEAVY_SHARE * squares.sum())) + 1
    if k > few:
        return None
    far = squares >= squares[order[k - 1]]
    share = squares[far].sum() / squares.sum()
    above = (y[far] > median).all()
    cut = _round(float(y[far].min()) * 0.999) if above else None
    drop = f" ({how_to('drop', task.name, f'> {cut}')})" if cut is not None else ""
    log = f"; or train it on log1p (CLI: --log1p {task.name}; on Data: tick its log1p)" if (y >= 0).all() else ""
    return (
        f"task '{task.name}': {int(far.sum()):,} of its {len(y):,} training values make {share:.0%} of its spread (the "
        f"largest {_round(float(y.max()))}, the median {_round(median)}): the target's scale is theirs and the other "
        f"values are squeezed into a sliver of it; if they are errors, drop them{drop}{log}"
    )


def _count_in(values: np.ndarray, among: np.ndarray) -> int:
    """How many of `values` (row hashes) are among `among`: by hash table (pandas), not np.isin's sort, 25x faster on
    2M test against 6M training hashes (7.6 s against 0.31 s)."""
    return int(pd.Series(values).isin(among).sum())


def _copied_rows_notes(config: ExperimentConfig, frame: pd.DataFrame, kept: np.ndarray, held: np.ndarray) -> list[str]:
    """A note when many of the split's test rows are copies of training rows on every column the run reads (a row
    logged 1,000 times: 199 copies in the test part gave like AUC 0.87, 0.56 without them; an audit). Only for a log
    with a user, an item and a time column, where such a copy is one event logged twice: in a table of people
    (Census-Income: 20% of its test rows) equal rows are other people alike."""
    d = config.data
    if not (d.user_col and d.item_col and d.time_col):
        return []
    hashes = _row_hashes(config, [frame])
    if hashes is None or not len(held):
        return []
    copies = _count_in(hashes[0][held], hashes[0][kept])
    if copies < max(COPIED_ROWS, COPIED_SHARE * len(held)):
        return []
    return [
        f"{copies:,} of the {len(held):,} test rows ({copies / len(held):.0%}) are copies of training rows (the same "
        "value in every column the run reads): the model is scored partly on rows it trained on, which flatters its "
        "metrics; drop repeated rows first (pandas: df.drop_duplicates()) if they are copies, or split by user or time"
    ]


def _overlap_notes(config: ExperimentConfig, frame: pd.DataFrame, test_frame: pd.DataFrame) -> list[str]:
    """A note when most of a test file's rows are rows of the training file too (the same file given twice, or a
    sample of it): its metrics then measure how well the model fits rows it trained on (Ali-CCP's training file as
    its own test file: click AUC 0.80 against 0.50 on held-out rows). Rows compare on the columns the run reads."""
    hashes = _row_hashes(config, [frame, test_frame]) if not test_frame.empty else None
    if hashes is None:
        return []
    train_rows, test_rows = hashes
    shared = _count_in(test_rows, train_rows)
    if shared < OVERLAP_NOTE * len(test_rows):
        return []
    what = (
        "the test file's rows are all"
        if shared == len(test_rows)
        else (f"{shared / len(test_rows):.0%} of the test file's rows ({shared:,} of {len(test_rows):,}) are")
    )
    return [
        f"{what} in the training file too: the test metrics measure how well the model fits rows it trained on, not "
        "how it does on new ones; give a test file of other rows (or no test file: the split holds rows out)"
    ]


def split_rows(
    config: ExperimentConfig, frame: pd.DataFrame, frac: float, idx: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions into (kept, held out) by the config's method: random, by user, or by time."""
    idx = np.arange(len(frame)) if idx is None else idx
    method, seed = config.split.method, config.train.seed
    if method == "user":
        users = pd.factorize(frame[config.data.user_col])[0][idx]
        if len(np.unique(users)) >= 2:
            return _user_split(idx, users, frac, seed)
    if method == "time":
        times = parse_time(frame[config.data.time_col]).to_numpy()[idx]
        return _time_split(idx, times, frac)
    return _random_split(idx, frac, seed)


def _round(value: float) -> str:
    """A threshold as a person writes it: 3, 3.5, 1490000 (not 1.49e+06)."""
    if abs(value) >= 1000:
        return str(int(round(value)))
    return f"{value:.3g}" if value % 1 else str(int(value))


def _set_aside_by(capped: bool, cap: int, rare: bool, min_count: int) -> str:
    """Which rule set a column's values (or tokens) aside: outside the `cap` most frequent, seen fewer than
    min_count times, or both."""
    rules = [f"outside the {cap:,} most frequent"] if capped else []
    if rare:
        rules.append(f"seen fewer than {min_count:,} times (min_count)")
    return " or ".join(rules)


UNSEEN_TEST_SHARE = 0.5  # of a test file's rows holding a category never seen in training, from which a note says so


def _unseen_test_values(
    config: ExperimentConfig,
    encoder: Encoder,
    test_frame: pd.DataFrame,
    given_test: bool = True,
    skip: set[str] = frozenset(),
) -> list[str]:
    """A note for each categorical column most of whose test-file values training never saw: ids written another
    way in the test export (85 for u85) make every metric a cold-start one, and nothing said so. The user column
    under the user split is unseen by design. Without a test file (`given_test` False), the user and item columns
    only: Book-Crossing's ISBNs each appear about once, and GAUC came out 0.5000 without a word. Not for the columns
    in `skip`: the vocabulary's cap or min_count set their values aside, and a note says so."""
    notes = []
    ids = {config.data.user_col, config.data.item_col} - {None}
    for c in encoder.categorical:
        if c not in test_frame.columns or c in skip or (c == config.data.user_col and config.split.method == "user"):
            continue
        if not given_test and c not in ids:
            continue
        values = test_frame[c]
        present = values.notna().to_numpy()
        if not present.any():
            continue
        unseen = (encoder.codes(c, values) == 0) & present
        share = unseen.sum() / present.sum()
        if share >= UNSEEN_TEST_SHARE and not given_test:
            role = "user" if c == config.data.user_col else "item"
            notes.append(
                f"column '{c}': {share:.0%} of the test rows hold a{'n' if role == 'item' else ''} {role} training "
                f"never saw (most {role}s have a row or two): they are scored with the unknown-value embedding, so "
                f"the metrics are cold-start ones and GAUC near 0.5; keep the {role}s seen more often (Fix the rows: "
                "occurs in fewer rows than), or compare runs by AUC"
            )
        elif share >= UNSEEN_TEST_SHARE:
            seen = ", ".join(show_value(v) for v in encoder.vocab_[c][:2])
            notes.append(
                f"column '{c}': {share:.0%} of the test file's rows hold values training never saw (e.g. "
                f"{show_value(values[unseen].iloc[0])}; training's are like {seen}): they are scored with the "
                "unknown-value embedding, so the metrics are cold-start ones; check that both files write the values "
                "the same way"
            )
    return notes


def _check_inputs_fit(encoder: Encoder, rows: int) -> None:
    """MtlrecError before encoding when the dense numeric inputs (float32, about twice while built) would not fit
    in the memory free now: 20,000 tokens of a tag column on 50,000 rows took 8.2 GB, or ended in a bare
    "Unable to allocate 2.36 GiB", before the run's memory check."""
    from mtlrec.fmt import nbytes as shown
    from mtlrec.resources import HEADROOM, available_memory

    need = 2 * rows * encoder.numeric_width * 4
    available = available_memory()
    if available is None or need <= HEADROOM * available:
        return
    widths = {c: len(encoder.tokens_[c]) + 1 for c in encoder.multi}
    widest = max(widths, key=widths.get) if widths else None
    advice = (
        f"the multi-valued column '{widest}' alone has {widths[widest]:,} inputs: lower max_tokens (CLI: "
        f"--max-tokens; now {encoder.max_tokens:,})"
        if widest is not None and widths[widest] > encoder.numeric_width / 2
        else "use fewer numeric or multi-valued columns"
    )
    raise MtlrecError(
        f"the rows' {encoder.numeric_width:,} numeric inputs need about {shown(need)} as built, but only "
        f"{shown(available)} of memory is free: {advice}, or use fewer rows"
    )


def prepare(
    config: ExperimentConfig,
    frame: pd.DataFrame | None = None,
    test_frame: pd.DataFrame | None = None,
    *,
    loaded: Loaded | None = None,
) -> Prepared:
    """Validate, split, fit the encoder on the training rows only, and encode every part once.

    Without `frame`, the config's files are read, or taken from `loaded` (their load_frames(config) already done).
    The config's fixes (mtlrec.fixes) are applied to the rows read, and to a frame passed in that does not already
    hold them.
    """
    notes: list[str] = []
    source = None
    if frame is not None:
        check_frame(frame)
        ids = (config.data.user_col, config.data.item_col)  # 7 and "7": one id, as the encoder keys them
        frame = ids_as_keys(lists_as_text(frame), ids)  # a frame built in Python may hold lists: text, as files' are
        if test_frame is not None:
            check_frame(test_frame, "the test table")
            test_frame = ids_as_keys(lists_as_text(test_frame), ids)
        frame, test_frame, fixed, test_fixed = apply_fixes_together(  # none when already fixed
            frame, test_frame, config.data.fixes, config.data.name, "the test table"
        )
        notes += fixed + [f"the test table: {n}" for n in test_fixed]
    elif test_frame is not None:
        check_frame(test_frame, "the test table")
    if frame is None:
        frame, test_frame, file_notes = loaded or load_frames(config)
        notes = list(file_notes)
        source = config.data.name or Path(config.data.path).name  # messages name the file, as the loader's do
    frame = frame.reset_index(drop=True)
    try:
        notes += validate(config, frame, test_frame)
    except MtlrecError as exc:
        if source is None or exc.source:
            raise
        # Problems of the test file name it: they were reported under the training file's name.
        test_name = Path(config.data.test_path).name if config.data.test_path else None
        tagged = "test file: "
        if test_name and all(p.startswith(tagged) for p in exc.problems):
            raise MtlrecError([p.removeprefix(tagged) for p in exc.problems], source=test_name) from None
        if test_name:
            problems = [f"test file {test_name}: {p.removeprefix(tagged)}" if p.startswith(tagged) else p
                        for p in exc.problems]  # fmt: skip
            raise MtlrecError(problems, source=source) from None
        raise MtlrecError(exc.problems, source=source) from None
    notes += [leak.note() for leak in find_leaks(frame, config.data, config.tasks)]
    negatives = negatives_fix(config.data.fixes)
    if negatives is not None:  # split the data's own rows, then sample each part's negatives (sample_after_split)
        # The rows as read had them sampled on the whole file (the Data page's preview, infer): its counts are not
        # the run's, which the note of sample_after_split gives.
        notes = [n for n in notes if "sampled rows added, " not in n]
        frame = real_rows(frame, negatives)
        test_frame = real_rows(test_frame, negatives) if test_frame is not None else None
    given_test = test_frame is not None
    if test_frame is None:
        train_val_idx, test_idx = split_rows(config, frame, config.split.test_frac)
        notes += _copied_rows_notes(config, frame, train_val_idx, test_idx)
        test_frame = frame.iloc[test_idx].reset_index(drop=True)
    else:
        train_val_idx = np.arange(len(frame))
        test_frame = test_frame.reset_index(drop=True)
        notes.append(
            f"test rows come from the test file ({len(test_frame):,} rows); the {config.split.method} split carves "
            "the validation rows out of the training file"
        )
        notes += _overlap_notes(config, frame, test_frame)
    train_idx, val_idx = split_rows(config, frame, config.split.val_frac, train_val_idx)
    if config.split.method == "user" and config.data.user_col:
        notes += _user_split_notes(config, frame, len(train_val_idx), len(test_frame), len(val_idx))
    if config.split.method == "time" and config.data.time_col:
        notes += _time_split_notes(config, frame, len(train_val_idx), len(test_frame), len(val_idx), given_test)
    if negatives is not None:
        parts = [frame.iloc[train_idx], frame.iloc[val_idx], test_frame]
        (train_part, val_part, test_frame), note = sample_after_split(parts, negatives)
        notes.append(note)
        frame = pd.concat([train_part, val_part, *([] if given_test else [test_frame])], ignore_index=True)
        train_idx = np.arange(len(train_part))
        val_idx = np.arange(len(train_part), len(train_part) + len(val_part))
    d = config.data
    encoder = Encoder(d.categorical, d.numeric, config.tasks, d.max_vocab, d.min_count, d.multi, d.max_tokens)
    train_frame = frame.iloc[train_idx]
    encoder.fit(train_frame)
    set_aside = {c: share for c, share in encoder.oov_share_.items() if share > 0.01}
    for c, share in set_aside.items():
        # Which rule set them aside: the cap on values, the minimum count, or both (it blamed the cap alone).
        counts = category_counts(train_frame[c])
        frequent = (counts >= d.min_count).sum() > d.max_vocab
        rules = _set_aside_by(frequent, d.max_vocab, d.min_count > 1 and (counts < d.min_count).any(), d.min_count)
        notes.append(
            f"column '{c}': {share:.0%} of training rows hold values {rules} and share the out-of-vocabulary embedding"
        )
    for c, share in encoder.other_share_.items():
        if share > 0.01:
            capped = len(encoder.tokens_[c]) >= d.max_tokens
            rules = _set_aside_by(capped, d.max_tokens, d.min_count > 1, d.min_count)
            notes.append(
                f"column '{c}': {share:.0%} of its training tokens are {rules} and share the input "
                f"'{c}={OTHER_TOKEN}'"
                + ("; raise max_tokens (CLI: --max-tokens) to give more tokens an input of their own" if capped else "")
            )
    _check_inputs_fit(encoder, len(frame) + len(test_frame))
    notes += _unseen_test_values(config, encoder, test_frame, given_test, skip=set(set_aside))
    prepared = Prepared(
        config=config,
        frame=frame,
        test_frame=test_frame,
        train_idx=train_idx,
        val_idx=val_idx,
        encoder=encoder,
        train=encoder.transform(train_frame, labels=True),
        val=encoder.transform(frame.iloc[val_idx], labels=True),
        test=encoder.transform(test_frame, labels=True),
        notes=notes,
        files=data_files(config),
    )
    users = test_frame[config.data.user_col] if config.data.user_col else None
    notes += _labelled_notes(config, prepared)
    for j, task in enumerate(config.tasks):
        train_y, test_y = (_labelled(part.labels[:, j]) for part in (prepared.train, prepared.test))
        if task.type == "binary":
            if len(np.unique(train_y)) < 2:
                # Not "its AUC is undefined": the test AUC is defined, and chance (an audit read both side by side).
                # Under ESMM a later step's score is p(earlier) x p(this | earlier): it ranks as the earlier task's
                # (Ali-CCP's first rows, no purchase in training: purchase AUC 0.89 beside "a constant guess").
                earlier = (config.model.funnel or {}).get(task.name) if config.model.kind == "esmm" else None
                notes.append(
                    f"task '{task.name}' has one class only in the training rows: the model cannot learn it, so its "
                    + (
                        f"score, p({earlier}) x p({task.name} | {earlier}), ranks as {earlier}'s does, and its "
                        f"test metrics measure how well {earlier}'s score ranks {task.name}"
                        if earlier
                        else "test metrics are those of a constant guess"
                    )
                )
            if len(test_y) and len(np.unique(test_y)) < 2:  # none: _labelled_notes says so
                notes.append(f"task '{task.name}' has one class only in the test rows: its AUC is undefined")
            test_users = None if users is None else users[~np.isnan(prepared.test.labels[:, j])]
            notes += _few_test_rows(task.name, test_y, test_users) if len(test_y) else []
            notes += _few_validation_rows(task.name, _labelled(prepared.val.labels[:, j]))
        elif (heavy := _heavy_tail_note(task, train_frame[task.name])) is not None:
            notes.append(heavy)
        elif len(train_y) and train_y.std() == 0:
            # A regression target constant in training: scored on near-constant predictions, without a word (an audit).
            notes.append(
                f"task '{task.name}' has one value in every training row: the model cannot learn it, so its test "
                "metrics are those of a constant guess"
            )
    monitored = split_monitor(config.train.monitor)[0] if config.train.monitor != "loss" else None
    if monitored and any(t.name == monitored and t.weight == 0 for t in config.tasks):
        # Accepted without a word (an audit): the epoch kept was chosen by a task the loss ignores.
        notes.append(
            f"early stopping follows task '{monitored}' ({config.train.monitor}), whose loss weight is 0: the model "
            "does not learn it, so the epoch kept is chosen by a task the training ignores; monitor the loss or a "
            "trained task"
        )
    if config.train.batch_size > len(train_idx):
        notes.append(
            f"the batch size ({config.train.batch_size:,}) is larger than the {len(train_idx):,} training rows: one "
            "step per epoch, so the model barely trains; choose a smaller batch"
        )
    if prepared.ranking_note:
        notes.append(ranking_note(config.data, frame))
    else:
        per_user = test_frame[config.data.user_col].value_counts()
        if len(per_user) and per_user.median() <= config.k:
            notes.append(
                f"users have a median of {per_user.median():g} test rows, no more than K = {config.k}: ranking "
                f"metrics rank each user's own test rows, so Recall@{config.k} and HitRate@{config.k} are near 1 "
                f"whatever the scores (NDCG@{config.k} less so); compare runs by AUC or GAUC, or choose a smaller K"
                if per_user.max() > 1
                else f"every test user has one test row: NDCG@{config.k}, Recall@{config.k} and HitRate@{config.k} "
                "rank one row each, so they are 1 whatever the scores; compare runs by AUC"
            )
        elif len(per_user):  # a task trained on its labelled rows only is ranked among its labelled rows: 1.0000
            # whatever the scores, when each user has one (a review: the median over all rows was 49)
            for task in (t for t in config.tasks if t.labelled_only):
                own = test_frame.loc[test_frame[task.name].notna(), config.data.user_col].value_counts()
                if len(own) and own.median() <= config.k:
                    notes.append(
                        f"task '{task.name}' is ranked among each user's labelled test rows, a median of "
                        f"{own.median():g}, no more than K = {config.k}: its Recall@{config.k} and HitRate@{config.k} "
                        f"are near 1 whatever the scores (NDCG@{config.k} less so); judge it by "
                        + ("AUC or GAUC" if task.type == "binary" else "RMSE or MAE")
                    )
        for task in config.tasks:
            values = pd.to_numeric(test_frame[task.name], errors="coerce") if task.type == "regression" else None
            if values is not None and (values < 0).any():
                notes.append(
                    f"task '{task.name}' has negative values in {int((values < 0).sum()):,} test rows: its ranking "
                    "metrics (NDCG, Recall, HitRate) count a negative value as not relevant (0)"
                )
            relevant = (values.dropna() > 0).mean() if values is not None and values.notna().any() else 0.0
            derived = any(f.get("from") == task.name for f in config.data.fixes if isinstance(f, dict) and "label" in f)
            if relevant >= ALL_RELEVANT and not derived:  # not when a 0/1 label is already made from it
                # A rating of 1-5 is above 0 on every row: Recall and HitRate then count every row as relevant (a
                # random ranking scored as the model's); NDCG still weighs the rows by their value.
                notes.append(
                    f"task '{task.name}' is above 0 in {relevant:.0%} of "
                    f"{'its labelled' if task.labelled_only else 'the'} test rows, "
                    f"and every such row counts as relevant for Recall@{config.k} and HitRate@{config.k}: they say "
                    f"little about its scores (NDCG@{config.k} weighs rows by their value); to rank by 'good' rows, "
                    f"add a 0/1 label as a binary task (e.g. 1 from its median up: "
                    f"{how_to('label', str(task.name), f'>= {_round(values.median())}', name='good')})"
                )
    return prepared
