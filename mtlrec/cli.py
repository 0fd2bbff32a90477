"""Command line: `python -m mtlrec train|sweep|sample|infer|recommend`. Bad input prints a message and exits with 2."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mtlrec import fmt
from mtlrec.config import (
    MODEL_KINDS,
    PRECISIONS,
    SIZE_PRESETS,
    TASK_TYPES,
    WEIGHTING_METHODS,
    DataConfig,
    ExperimentConfig,
    TaskSpec,
)
from mtlrec.errors import MtlrecError

if TYPE_CHECKING:
    import pandas as pd

    from mtlrec.data import Loaded

EXIT_BAD_INPUT = 2
EXIT_TRAINING_FAILED = 1
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a tool that a closed pipe ended


NAMES_HELP = (
    "the column names of a CSV file without a header line (its first line is data), comma-separated in the file's "
    "order, e.g. user_id,item_id,rating,timestamp for MovieLens' ratings.dat; the test file's too"
)


def _column_names(args: argparse.Namespace) -> list[str] | None:
    """--names as a list, every name kept (an empty one is refused by the reader, not dropped)."""
    text = getattr(args, "names", None)
    return None if text is None else [p.strip() for p in text.split(",")]


def task_words(task: TaskSpec) -> str:
    """'regression, log1p, labelled rows only': a task's type and options, for the CLI's lines."""
    return ", ".join([task.type] + ["log1p"] * task.log1p + ["labelled rows only"] * task.labelled_only)


def _task_option(args: argparse.Namespace, config: ExperimentConfig, option: str) -> None:
    """Set a task option (log1p, labelled_only) on the tasks its flag names, off on those --no-<flag> names."""
    flag = f"--{option.replace('_', '-')}"
    on, off = (_list(getattr(args, name, None)) or [] for name in (option, f"no_{option}"))
    if both := set(on) & set(off):
        raise MtlrecError(f"{flag} and --no-{flag[2:]} both name {', '.join(sorted(both))}: choose one")
    for value, names, named in ((True, on, flag), (False, off, f"--no-{flag[2:]}")):
        for name in names:
            match = [t for t in config.tasks if t.name == name]
            if not match:
                raise MtlrecError(f"{named} names '{name}', which is not a task")
            setattr(match[0], option, value)


def _list(text: str | None) -> list[str] | None:
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


def _numbers(text: str | None, kind: type, flag: str) -> list | None:
    items = _list(text)
    if items is None:
        return None
    try:
        return [kind(x) for x in items]
    except ValueError:
        raise MtlrecError(f"{flag} takes comma-separated {kind.__name__} values, got '{text}'") from None


def _pairs(text: str | None, kind: type, flag: str) -> dict | None:
    """'a=1,b=2' -> {'a': kind('1'), 'b': kind('2')}."""
    if text is None:
        return None
    pairs = {}
    for part in _list(text):
        name, sep, value = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            if name.strip() in pairs:  # the last one silently won
                raise MtlrecError(f"{flag} names '{name.strip()}' twice: give each name once")
            pairs[name.strip()] = kind(value.strip())
        except ValueError:
            raise MtlrecError(f"{flag} takes name=value pairs separated by commas, got '{part}'") from None
        if kind is float and not math.isfinite(pairs[name.strip()]):
            raise MtlrecError(f"{flag} takes finite numbers, got '{part}'")
    return pairs


class _FixAction(argparse.Action):
    """--drop/--fill/--label: kept in one list (args.fixes) in the order given, as the fixes apply in order."""

    def __call__(self, parser, namespace, values, option_string=None):
        fixes = list(getattr(namespace, "fixes", None) or [])
        fixes.append((self.dest, values))
        namespace.fixes = fixes


def _fixes(args: argparse.Namespace) -> list[dict]:
    from mtlrec.fixes import parse_fix

    return [parse_fix(action, text) for action, text in getattr(args, "fixes", None) or []]


def _fix_flags(parser: argparse.ArgumentParser) -> None:
    fixes = parser.add_argument_group(
        "fixes to the rows", "applied in the order given, each time the data is read, and saved in the run's config; "
        "the file is not changed (repeat a flag for more)",
    )  # fmt: skip
    fixes.add_argument("--drop", action=_FixAction, metavar="WHERE",
                       help="drop rows: 'COL missing', 'COL OP VALUE' (OP: == != > >= < <=), 'COL fewer than N' (values "
                            "seen in fewer than N rows; 'USER, ITEM fewer than N': the N-core) or 'TIME older than 90 "
                            "days' (before the latest time; minutes, hours, days or weeks), e.g. 'rating == -1', "
                            "'user_id fewer than 5'")  # fmt: skip
    fixes.add_argument("--fill", action=_FixAction, metavar="COL=VALUE", help="fill missing values, e.g. purchase=0")
    fixes.add_argument("--label", action=_FixAction, metavar="NAME=WHERE",
                       help="add a 0/1 label column: 1 where the condition holds, e.g. 'liked=rating >= 4'")  # fmt: skip
    fixes.add_argument("--negatives", type=_per_row, metavar="K",
                       help="a log of positives only (every row an interaction): add K sampled rows per row, items the "
                            "user has no row with, and a 0/1 label (--negatives-label) that is 1 on the real rows; the "
                            "binary tasks' columns are 0 in the sampled rows, and a regression task cannot train "
                            "beside them (applied after the other fixes)")  # fmt: skip
    fixes.add_argument("--negatives-label", default="interacted", metavar="NAME",
                       help="the 0/1 label --negatives adds (default: interacted)")  # fmt: skip


def _per_row(text: str) -> int:
    """--negatives' K, checked before the data is read: a whole number from 1 to MAX_PER_ROW."""
    from mtlrec.negatives import MAX_PER_ROW

    try:
        k = int(text)
    except ValueError:
        k = None
    if k is None or not 1 <= k <= MAX_PER_ROW:
        raise argparse.ArgumentTypeError(
            f"how many sampled rows per row, a whole number from 1 to {MAX_PER_ROW}, got {text!r}"
        )
    return k


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mtlrec", description="Multi-task recommendation lab.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a multi-task model on an interaction file and evaluate it")
    train.add_argument(
        "data", nargs="?", help="CSV, CSV.gz, Parquet or JSON-lines file, or sample:synthetic / sample:census"
    )
    train.add_argument("--config", help="re-run a saved run from its config.json")
    train.add_argument("--test-data", help="an explicit test file (instead of splitting DATA)")
    train.add_argument("--names", help=NAMES_HELP)
    train.add_argument("--tasks", help="label columns, comma-separated (default: inferred)")
    train.add_argument("--task-types", help="binary|regression per task, comma-separated (default: inferred)")
    train.add_argument("--weights", help="loss weight per task, comma-separated (default: 1 each)")
    train.add_argument(
        "--log1p",
        help="regression tasks to train on log1p(y), comma-separated (default: the skewed ones inference finds)",
    )
    train.add_argument("--no-log1p", help="regression tasks to train on y itself, comma-separated")
    train.add_argument(
        "--labelled-only",
        help="tasks to train and measure on the rows where their label is present, comma-separated (a label logged "
        "for some events only; the other tasks still use every row)",
    )  # fmt: skip
    train.add_argument("--no-labelled-only", help="tasks to train on every row again (a saved run's), comma-separated")
    train.add_argument("--user-col", help="the user id column ('none': no user column)")
    train.add_argument("--item-col", help="the item id column ('none': no item column)")
    train.add_argument("--time-col", help="the timestamp column ('none': no time column)")
    train.add_argument("--categorical", help="columns to embed, comma-separated (others inferred)")
    train.add_argument("--numeric", help="numeric feature columns, comma-separated (others inferred)")
    train.add_argument(
        "--multi",
        help="multi-valued feature columns (genres 'Action|Comedy', tags 'a;b', lists), comma-separated (others "
        "inferred)",
    )
    train.add_argument(
        "--max-tokens", type=int, help="per multi-valued column: the most frequent tokens with an input of their own "
        "(default 64; the others share one)",
    )  # fmt: skip
    train.add_argument("--exclude", help="columns to leave out (as features and as tasks), comma-separated")
    _fix_flags(train)
    train.add_argument("--model", choices=list(MODEL_KINDS), help="architecture (default shared_bottom)")
    train.add_argument("--experts", type=int, help="MMoE/PLE: shared experts (per level for PLE; default 4)")
    train.add_argument("--task-experts", type=int, help="PLE: experts owned by each task, per level (default 1)")
    train.add_argument("--levels", type=int, help="PLE: extraction levels, 1 or more (default 1)")
    train.add_argument("--funnel", help="ESMM: conditional tasks, e.g. purchase=click (purchase happens after click)")
    train.add_argument("--weighting", choices=list(WEIGHTING_METHODS), help="how task losses combine (default fixed)")
    train.add_argument("--alpha", type=float, help="GradNorm: pull towards equal training rates (default 1.5)")
    train.add_argument("--temperature", type=float, help="DWA: softmax temperature (default 2)")
    train.add_argument("--size", choices=list(SIZE_PRESETS), default=None, help="size preset (default small)")
    train.add_argument("--embed-dim", type=int)
    train.add_argument("--bottom", help="shared layer widths, e.g. 256,128")
    train.add_argument("--tower", help="tower widths, e.g. 64")
    train.add_argument("--dropout", type=float)
    train.add_argument("--cross", type=int, help="DCN-v2 cross layers on the embedded input (default 0: none)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--weight-decay", type=float)
    train.add_argument("--optimizer", choices=["adam", "adamw"])
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    train.add_argument("--monitor", help="'loss' or '<task>:<metric>' for early stopping")
    train.add_argument("--split", choices=["random", "user", "time"])
    train.add_argument("--test-frac", type=float)
    train.add_argument("--val-frac", type=float)
    train.add_argument("--k", type=int, help="K for NDCG@K, Recall@K, HitRate@K (default 10)")
    train.add_argument("--seed", type=int)
    train.add_argument("--device", choices=["auto", "cpu", "cuda"])
    train.add_argument(
        "--precision", choices=list(PRECISIONS),
        help="matrix products in training: auto (bfloat16 where the processor has it natively), fp32 or bf16",
    )  # fmt: skip
    train.add_argument(
        "--diagnostics", action=argparse.BooleanOptionalAction, default=None,
        help="record task-conflict diagnostics (each task's gradient on the shared layers, once an epoch; on by "
        "default): --no-diagnostics saves their memory and time on a large model",
    )  # fmt: skip
    train.add_argument("--out", help="output folder (default out/<time>-<random>; a sweep's out/sweep-<time>-<random>)")
    train.add_argument("--force", action="store_true", help="replace what an earlier run (or sweep) wrote to --out")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")

    sample = sub.add_parser("sample", help="regenerate the synthetic sample data")
    sample.add_argument("--out", default="sample_data", help="folder to write to (default sample_data)")
    sample.add_argument("--rows", type=int, help="number of rows (default 100000)")
    sample.add_argument("--correlation", type=float, help="task correlation in [-1, 1] (default 0.5)")
    sample.add_argument("--seed", type=int, help="random seed (default 0)")

    infer = sub.add_parser("infer", help="print the schema inferred from a file")
    infer.add_argument("data")
    infer.add_argument("--names", help=NAMES_HELP)
    infer.add_argument("--user-col", help="the user id column (as inferred if not given; --negatives samples for it)")
    infer.add_argument("--item-col", help="the item id column (as inferred if not given; --negatives samples for it)")
    _fix_flags(infer)

    rec = sub.add_parser("recommend", help="top-K items for a user from a trained run folder")
    rec.add_argument("--run", required=True, help="a folder written by `train --out`")
    who = rec.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="the user to recommend to")
    who.add_argument(
        "--all-users", action="store_true",
        help="top-K for every user, as CSV (user, rank, item, per-task scores, fused score) to --out or stdout",
    )  # fmt: skip
    rec.add_argument("--out", help="the CSV file to write the recommendations to (default: print them)")
    rec.add_argument("--data", help="the run's data file, where it is now (default: the path in the run's config)")
    rec.add_argument("--k", type=int, default=10)
    rec.add_argument(
        "--fusion",
        help="fusion weight per task, e.g. click=1,purchase=3; a task not named keeps its default: 1, -1 for negative "
        "feedback such as is_hate or dislike, 0 for a task no loss trained (loss weight 0)",
    )
    rec.add_argument("--include-seen", action="store_true", help="keep items the user already interacted with")
    rec.add_argument(
        "--equal-spread", action="store_true",
        help="standardise each task's scores over the candidates before weighting (z-scores per user), so that equal "
        "fusion weights move the order equally (a rare task's probabilities vary little from item to item)",
    )  # fmt: skip
    rec.add_argument(
        "--joint", action=argparse.BooleanOptionalAction, default=True,
        help="a binary task trained on its labelled rows only, logged where another task is 1 (a purchase after "
        "clicks only), is ranked by the chance of both, click x purchase (default); --no-joint ranks it by its "
        "probability given the click, as trained",
    )  # fmt: skip

    imp = sub.add_parser(
        "import", help="add a run made elsewhere (a `train --out` folder or a run's zip) to the run store",
        description="Add a run to the run store, where the app's Runs, Results and Recommend pages list it: a folder "
        "written by `train --out`, or a run's zip (the Runs page's download, or such a folder zipped).",
    )  # fmt: skip
    imp.add_argument("source", help="a run folder or a run's .zip")
    imp.add_argument("--name", help="the run's name in the store (default: the zip's, else model, size and weights)")
    imp.add_argument("--home", help="run store folder (default $MTLREC_HOME or mtlrec_runs)")

    # The sweep takes every data and training option of `train` (the same actions, shared through `parents`).
    sweep = sub.add_parser(
        "sweep", parents=[train], add_help=False, help="train one model per loss weighting of 2-3 tasks; Pareto front",
        description="Train one model per point of a loss-weight grid, judge each task on the test rows and find "
        "the Pareto front. Writes OUT/sweep.csv and OUT/pareto.html; every point is also saved in the run store.",
    )  # fmt: skip
    grid = sweep.add_mutually_exclusive_group()
    grid.add_argument("--points", type=int, help="evenly spaced weightings per edge of the simplex (default 11)")
    grid.add_argument("--samples", type=int, help="random weightings instead (Dirichlet, uniform on the simplex)")
    sweep.add_argument("--grid-seed", type=int, default=0, help="seed of the random weightings (default 0)")
    sweep.add_argument(
        "--metrics", help="metric judging each task, e.g. auc,logloss or like=logloss (default AUC/RMSE)"
    )
    sweep.add_argument(
        "--references", default=",".join(m for m in WEIGHTING_METHODS if m != "fixed"),
        help="adaptive weightings to run as references, comma-separated, or 'none' (default: all four)",
    )  # fmt: skip
    sweep.add_argument("--no-baseline", action="store_true", help="skip the single-task reference model")
    sweep.add_argument("--group-size", type=int, help="models trained stacked at once (default: measured)")
    sweep.add_argument("--workers", type=int, help="parallel worker threads on a CPU (default: one per core, up to 4)")
    sweep.add_argument("--home", help="run store folder for the points (default $MTLREC_HOME or mtlrec_runs)")
    return parser


def _negatives_fix(args: argparse.Namespace, data: DataConfig, tasks: list[TaskSpec], fixes: list[dict], frame) -> dict:
    """The negatives fix --negatives asks for (mtlrec.negatives), on `frame` (the rows as `fixes` leave them): the
    user and item columns the flags or inference give; the binary tasks (--tasks, else `tasks` and the labels the
    fixes make) 0 in the sampled rows."""
    from mtlrec.negatives import unlabelled_columns, zero_columns

    user = getattr(args, "user_col", None) or data.user_col
    item = getattr(args, "item_col", None) or data.item_col
    if not user or not item or user == "none" or item == "none":
        raise MtlrecError(
            "--negatives needs a user column and an item column (negatives are items a user has no row with): name "
            "them with --user-col and --item-col"
        )
    if user == item:
        raise MtlrecError(f"column '{user}' is both the user and the item column: choose two different columns")
    named = _list(getattr(args, "tasks", None)) or [
        *(t.name for t in tasks),
        *(f["label"] for f in fixes if "label" in f),
    ]
    zero = zero_columns(frame, named, user, item)
    empty = unlabelled_columns(frame, named, user, item, args.negatives_label, zero)
    return {"negatives": args.negatives, "user": user, "item": item, "label": args.negatives_label, "zero": zero,
            **({"unlabelled": empty} if empty else {}), "seed": 0}  # fmt: skip


def _set_ids(proposal, user: str | None, item: str | None) -> None:
    """Make `user` and `item` (None: as inferred) the proposal's user and item columns, leading the categorical
    features as inference's ids do. Used for the ids the negatives were sampled for: inference runs again on the
    rows with the sampled ones, where an id can look too repetitive for one (hetrec's userID: 7 values in 350 rows,
    proposed; in the 1,050 rows with 2 negatives each, "few for ids"), and the run lost its user column, its
    ranking metrics and Recommend, silently."""
    d = proposal.data
    for attr, column in (("user_col", user), ("item_col", item)):
        if column is None or getattr(d, attr) == column:
            continue
        setattr(d, attr, column)
        d.drop_feature(column)
        d.categorical.insert(0 if attr == "user_col" else int(d.user_col in d.categorical), column)  # ids lead
        proposal.ignored.pop(column, None)
        proposal.notes = [n for n in proposal.notes if not n.startswith(f"column '{column}' ")]


def _id_notes(notes: list[str], args: argparse.Namespace) -> list[str]:
    """Inference's notes less those --user-col/--item-col answered: an id column passed over for its empty rows
    that the flag named (the advice is followed), and which column may be the user or item column once the flag
    chose one (Online Retail's --item-col Description was still told "column 'StockCode' may be the item column ...
    no column is named as one")."""
    from mtlrec.schema import UNNAMED_TIME

    named = {getattr(args, flag, None) for flag in ("user_col", "item_col")} - {None}
    given = [role for role in ("user", "item") if getattr(args, f"{role}_col", None) is not None]
    timed = getattr(args, "time_col", None) is not None  # --time-col answered "which column may be the time"
    return [
        note
        for note in notes
        if not any(note.startswith(f"column '{c}' ") for c in named)
        and not any(re.match(rf"column '.*' (may be|is not proposed as) the {role} column", note) for role in given)
        and not (timed and note.startswith(UNNAMED_TIME))
    ]


def _left_empty(fixes: list, tasks: list[TaskSpec]) -> set[str]:
    """Mark the tasks a negatives fix leaves empty in its sampled rows (`unlabelled`) as trained on their labelled
    rows only, the real rows (said in the run's notes); returns their names."""
    empty = {c for f in fixes if isinstance(f, dict) and "negatives" in f for c in f.get("unlabelled") or []}
    for task in (t for t in tasks if t.name in empty):
        task.labelled_only = True
    return {t.name for t in tasks if t.name in empty}


def _label_fixes(
    fixes: list[dict], tasks: list[TaskSpec], data: DataConfig, args: argparse.Namespace, frame: pd.DataFrame
) -> None:
    """A label made with --label or --negatives is a task (unless --tasks names the tasks), and the column a label
    is made from is no feature (it would give the answer away), unless --categorical, --numeric or --multi names it,
    nor a binary task (the label takes its place in the task list, so --weights by position keep their meaning),
    unless --tasks names the tasks; as on the Data page. `frame`: the rows as fixed, to tell whether the column so
    replaced could be trained as it is."""
    from mtlrec.schema import beside_source

    named = {c for flag in ("categorical", "numeric", "multi") for c in _list(getattr(args, flag, None)) or []}
    for fix in (f for f in fixes if "negatives" in f):
        if getattr(args, "tasks", None) is None and fix["label"] not in [t.name for t in tasks]:
            tasks.insert(0, TaskSpec(fix["label"], "binary"))
        data.drop_feature(fix["label"])
        kept = {fix["label"], *fix.get("zero", []), *fix.get("unlabelled", [])}
        for task in [t for t in tasks if t.name not in kept] if getattr(args, "tasks", None) is None else ():
            tasks.remove(task)  # an outcome the fix does not know (a fix saved before it left them empty)
            data.drop_feature(task.name)
            print(f"note: '{task.name}' is not a task: the rows --negatives samples have no value for it (they "
                  "would copy the real row's); train it on the file without --negatives")  # fmt: skip
        _left_empty(fixes, tasks)
        if getattr(args, "tasks", None) is not None and fix["label"] not in _list(args.tasks):
            print(f"note: the label '{fix['label']}' made with --negatives is not among --tasks: add it to --tasks "
                  "to train it")  # fmt: skip
    for fix in (f for f in fixes if "label" in f and "negatives" not in f):
        if getattr(args, "tasks", None) is None and fix["label"] not in [t.name for t in tasks]:
            tasks.append(TaskSpec(fix["label"], "binary"))
        # A label is an outcome, never a feature unless named as one: inference saw it as a column among the
        # others (Yelp's `--tasks stars --label 'good=stars >= 4'` trained stars with good as a feature: RMSE 0.72
        # against 1.39, under the leak check's bar, without a word).
        if fix["label"] not in named:
            data.drop_feature(fix["label"])
        if getattr(args, "tasks", None) is not None and fix["label"] not in _list(args.tasks) + list(named):
            print(
                f"note: the label '{fix['label']}' made with --label is not among --tasks: it is neither trained nor "
                f"used as a feature (add it to --tasks to train it)"
            )
        source = fix["from"]
        replaced = next((t for t in tasks if t.name == source and t.type == "binary"), None)
        if replaced is not None and getattr(args, "tasks", None) is None and source != fix["label"]:
            # 'converted'/'not converted' inferred as a binary task: the label made of it still failed on it
            label = next((t for t in tasks if t.name == fix["label"]), None)
            if label is not None:
                tasks.remove(label)
                tasks[tasks.index(replaced)] = label
            else:
                tasks.remove(replaced)
            both = {
                "both": "name both in --tasks to train both",
                "repeat": f"it holds '{source}' again or its opposite, so training both would train one task twice",
                "not_binary": "its values are not 0/1, so it cannot be trained as it is",
            }[beside_source(frame, source, fix["label"])]
            print(
                f"note: '{source}' is not a task: the label '{fix['label']}' is made from it and takes its place ({both})"
            )
        if source in data.features and source not in named:
            data.drop_feature(source)
            print(
                f"note: column '{source}' is not used as a feature: the label '{fix['label']}' is made from it (name "
                "it with --categorical, --numeric or --multi to use it anyway)"
            )


SCHEMA_FLAGS = ("tasks", "task_types", "weights", "log1p", "no_log1p", "labelled_only", "no_labelled_only",
                "user_col", "item_col", "time_col", "categorical", "numeric", "multi", "exclude")  # fmt: skip


def config_from_args(args: argparse.Namespace) -> tuple[ExperimentConfig, Loaded | None]:
    """Build the run's config: a saved config, or inference on the data with the flags as overrides. Returns it
    and, when inference read the data, the data as read (so that training does not read it again)."""
    from mtlrec.data import load_frames, propose_schema, read_files
    from mtlrec.fixes import appended
    from mtlrec.leakage import set_aside
    from mtlrec.negatives import negatives_fix
    from mtlrec.schema import UNREADABLE_LABEL, label_hint, with_flags_note

    loaded = None
    fixes = _fixes(args)
    if args.config:
        config = ExperimentConfig.load(args.config)
        _point_at_data(config, args)
        if args.names is not None:  # files of another layout than the run's (or the run's file, now named)
            config.data.names = _column_names(args)
        if not isinstance(config.data.fixes, list):  # "drop price" as text: one problem per character
            raise MtlrecError(
                f"config: data.fixes must be a list of fixes (JSON objects), got {config.data.fixes!r:.60}",
                source=Path(args.config).name,
            )
        config.data.fixes = appended(
            list(config.data.fixes), fixes
        )  # more fixes: after the saved ones, before negatives
        read = None
        if getattr(args, "negatives", None) is not None:
            if negatives_fix(config.data.fixes) is not None:
                raise MtlrecError("this run's rows have sampled negatives already (data.fixes): leave out --negatives")
            read = read_files(config)
            fixes = [*fixes, _negatives_fix(args, config.data, config.tasks, fixes, load_frames(config, read).frame)]
            config.data.fixes = [*config.data.fixes, fixes[-1]]
        if fixes or any(getattr(args, flag, None) is not None for flag in SCHEMA_FLAGS):
            # The data and task flags change the saved schema as the model and training flags change the rest;
            # the data is read to check the columns they name (and kept for the training).
            loaded = load_frames(config, read)
            d = config.data
            _label_fixes(fixes, config.tasks, d, args, loaded.frame)
            chosen = _apply_schema_flags(
                config, args, loaded.frame, d.path, config.tasks, [d.categorical, d.numeric, d.multi], inferred=False
            )
            made = [t for t in config.tasks if any(f.get("label") == t.name for f in fixes if "label" in f)]
            for leak in set_aside(loaded.frame, d, made, chosen):  # the saved features against new labels
                print(_leak_note(leak))
    else:
        if not args.data:
            raise MtlrecError("give a data file (or --config DIR/config.json)")
        names = _column_names(args)
        config = ExperimentConfig(data=DataConfig(path=args.data, test_path=args.test_data, fixes=fixes, names=names))
        read = read_files(config)
        loaded = load_frames(config, read)
        frame = loaded.frame
        proposal = propose_schema(frame, args.data)
        if getattr(args, "negatives", None) is not None:  # made on the rows as fixed so far, not read again
            fixes = [*fixes, _negatives_fix(args, proposal.data, proposal.tasks, fixes, frame)]
            config.data.fixes = fixes
            loaded = load_frames(config, read)
            frame = loaded.frame
            proposal = propose_schema(frame, args.data)
            _set_ids(proposal, fixes[-1]["user"], fixes[-1]["item"])
        d = proposal.data
        d.path, d.test_path = _stored(args.data), _stored(args.test_data)  # read as given, kept absolute
        d.fixes, d.names = fixes, names
        inferred_tasks = [t.name for t in proposal.tasks]  # before labels made by fixes join them
        _label_fixes(fixes, proposal.tasks, d, args, frame)
        config.data = d
        if not _list(args.tasks) and not proposal.tasks:
            raise MtlrecError(
                f"no label columns were recognised in {Path(args.data).name}: name them with --tasks a,b,c"
                + label_hint(frame)
            )
        chosen = _apply_schema_flags(
            config, args, frame, args.data, proposal.tasks, [d.categorical, d.numeric, d.multi], inferred=True
        )
        # Every column inference set aside is said, also one that leaks an inferred task not chosen here (a
        # paid_amount beside --tasks click: recorded after a purchase, it stays out, but not silently).
        leaks = list(proposal.leaks)
        if [t.name for t in config.tasks] != inferred_tasks:
            # Tasks named with --tasks or made with --label that inference did not propose: the features it chose
            # are checked against them too, and set aside as inference sets them aside for its own tasks (a one-hot
            # `view` column beside --tasks addtocart,transaction gave AUC 1.0; RetailRocket's transactionid beside
            # --label "transaction=event == transaction" trained to AUC 0.9999).
            said = {leak.column for leak in leaks}
            leaks += [leak for leak in set_aside(frame, d, config.tasks, chosen) if leak.column not in said]
        # the note on 0/1 features said for the run's tasks: one --tasks made a task was still "used as a feature"
        for note in _id_notes(with_flags_note(proposal.notes, proposal.flags, d, config.tasks), args):
            print(f"note: {note}")
        for leak in leaks:
            if leak.column not in chosen:
                # A task inference proposed and --tasks left out: the column is another outcome of the same event.
                elsewhere = [t for t in leak.tasks if t not in config.task_names]
                aside = (
                    f" ({', '.join(repr(t) for t in elsewhere)} {'is' if len(elsewhere) == 1 else 'are'} not among "
                    "this run's tasks: a column recorded with that outcome is kept out all the same)"
                    if elsewhere
                    else ""
                )
                print(_leak_note(leak, aside))
        # A label-named column that is no label (watch_time written 0:11 or 12.5 s) is no feature either: said, as
        # `infer` says it, with how to convert it.
        said = {leak.column for leak in leaks}
        others = []
        for column, reason in proposal.ignored.items():
            if column in chosen or column in config.task_names or column in said or column in _roles(config.data):
                continue
            if reason.startswith(UNREADABLE_LABEL):
                print(f"note: column '{column}' is not used: {reason}")
            else:
                others.append((column, reason))
        # The others too, a few by name (Criteo's hashed C5, C6... were left out without a word: only infer said so).
        for column, reason in others[:IGNORED_SHOWN]:
            print(f"note: column '{column}' is not used: {reason}")
        if len(others) > IGNORED_SHOWN:
            print(
                f"note: {len(others) - IGNORED_SHOWN:,} more column{'s are' if len(others) - IGNORED_SHOWN > 1 else ' is'}"
                " not used (`python -m mtlrec infer` lists them with the reason); name one with --categorical, "
                "--numeric or --multi to use it"
            )
    _apply_overrides(config, args)
    return config, loaded


IGNORED_SHOWN = 10  # columns inference left out that a run names one by one (a wide file may leave out thousands)


def _roles(d) -> set[str]:
    return {d.user_col, d.item_col, d.time_col} - {None}


def _leak_note(leak, aside: str = "") -> str:
    """The CLI's line for a feature set aside as a leak, with how to use it anyway."""
    return (
        f"note: column '{leak.column}' is not used: {leak.reason()}{aside}; name it with --categorical, --numeric or "
        "--multi to use it"
    )


def _no_column(value: str, columns) -> bool:
    """Whether a column flag's value says "no such column": 'none' (unless a column is named so) or empty."""
    return not value.strip() or (value.lower() == "none" and value not in columns)


def _apply_schema_flags(
    config: ExperimentConfig,
    args: argparse.Namespace,
    frame,
    source: str,
    base_tasks: list[TaskSpec],
    features: list[list[str]],
    inferred: bool = True,
) -> set[str]:
    """Apply --tasks, --task-types, --weights, --(no-)log1p, the column flags and --exclude over a schema: the one
    inference proposed, or a saved config's. A task named keeps what the schema says of it (its weight; log1p for a
    skewed target); one whose type changes, or a new one, gets log1p as inference would propose it (a skewed
    regression target: regression_log1p). Returns the columns named or excluded (they get no leak note)."""
    from mtlrec.schema import binary_coding, regression_log1p

    d = config.data
    # The ids are features as inference proposes them (also ids named with --user-col/--item-col), or as a saved
    # config had them (the Data page can leave them out)
    features = [list(role) for role in features]  # (categorical, numeric, multi) as the schema has them
    ids_as_features = inferred or any(c and c in features[0] for c in (d.user_col, d.item_col))
    for flag in ("user_col", "item_col", "time_col"):
        value = getattr(args, flag)
        if value is None:
            continue
        if _no_column(value, frame.columns):
            value = None  # --time-col none (or ''): no such column, although inference proposed one
        setattr(d, flag, value)
    base = {t.name: t for t in base_tasks}
    tasks = _list(args.tasks)
    types = _list(args.task_types)
    if tasks:
        missing = [t for t in tasks if t not in frame.columns]
        if missing:
            raise MtlrecError(_not_columns("--tasks", missing, frame.columns), source=Path(source).name)
    excluded = _list(args.exclude) or []
    unknown = [c for c in excluded if c not in frame.columns]
    if unknown:  # a typo left the column in, silently
        raise MtlrecError(_not_columns("--exclude", unknown, frame.columns), source=Path(source).name)
    both = [c for c in tasks or [] if c in excluded]
    if both:
        raise MtlrecError(f"--tasks and --exclude both name {', '.join(both)}: choose one")
    # --exclude leaves out a task the schema proposes too (it trained and was evaluated anyway, silently)
    names = tasks or [t.name for t in base_tasks if t.name not in excluded]
    if not names:
        raise MtlrecError(
            f"--exclude leaves no task ({', '.join(t.name for t in base_tasks)} were proposed): name the label "
            "columns with --tasks a,b,c",
            source=Path(source).name,
        )
    if types is not None and len(types) != len(names):
        which = f"tasks ({', '.join(names)}{'' if tasks else '; name them with --tasks to choose others'})"
        raise MtlrecError(
            f"--task-types has {len(types)} value{'s' if len(types) != 1 else ''} for {len(names)} {which}: give "
            "one type per task, in that order"
        )
    wrong = [t for t in types or [] if t not in TASK_TYPES]
    if wrong:  # it was "config: task 'is_read': type 'binray' is not one of..."
        raise MtlrecError(f"--task-types: {', '.join(map(repr, wrong))} is no task type; use {' or '.join(TASK_TYPES)}")
    types = types or [
        base[name].type if name in base else "binary" if binary_coding(frame[name]) else "regression" for name in names
    ]
    config.tasks = [
        dataclasses.replace(base[name])
        if name in base and base[name].type == kind
        else dataclasses.replace(
            base.get(name, TaskSpec(name)), type=kind, log1p=kind == "regression" and regression_log1p(frame[name])
        )
        for name, kind in zip(names, types, strict=True)
    ]
    weights = _numbers(args.weights, float, "--weights")
    if weights is not None:
        if len(weights) != len(config.tasks):
            raise MtlrecError(
                f"--weights has {len(weights)} value{'s' if len(weights) != 1 else ''} for {len(config.tasks)} tasks "
                f"({', '.join(config.task_names)}): give one per task, in that order"
            )
        for task, w in zip(config.tasks, weights, strict=True):
            task.weight = w
    for option in ("log1p", "labelled_only"):  # --log1p / --no-log1p, --labelled-only / --no-labelled-only
        _task_option(args, config, option)
    for name in _left_empty(config.data.fixes, config.tasks) & set(
        _list(getattr(args, "no_labelled_only", None)) or []
    ):
        # it was undone without a word
        raise MtlrecError(
            f"--no-labelled-only names '{name}', which has no value in the rows the negatives fix samples: it trains "
            "on the real rows only"
        )
    # Each feature role: the columns named with its flag, then the schema's others (a column named for one role
    # leaves the others).
    explicit = [_list(getattr(args, flag, None)) or [] for flag in ("categorical", "numeric", "multi")]
    excluded = set(excluded) | set(config.task_names) | {d.time_col}
    chosen = set().union(*explicit)
    d.categorical, d.numeric, d.multi = (
        named + [c for c in schema if c not in chosen | excluded]
        for named, schema in zip(explicit, features, strict=True)
    )
    for col in (d.user_col, d.item_col) if ids_as_features else ():
        if col and col not in d.categorical and col not in excluded and col not in d.multi:
            d.categorical.insert(0, col)
    ids = {c for c in (d.user_col, d.item_col) if c}
    d.numeric = [c for c in d.numeric if c not in ids]  # an id is a category, never standardised as a number
    return chosen | excluded


def _stored(path: str | None) -> str | None:
    """A data path as a run's config keeps it: absolute, so that `--config` finds the file from any folder (a bundled
    sample stays `sample:NAME`, portable across machines)."""
    from mtlrec.data import SAMPLE_PREFIX

    if not path or str(path).startswith(SAMPLE_PREFIX):
        return path
    return str(Path(path).resolve())


def _point_at_data(config: ExperimentConfig, args: argparse.Namespace) -> None:
    """`train [DATA] --config C`: DATA (and --test-data) replace the saved config's files; a saved file that is
    gone says how to point the run at it again; one that changed since the run is a warning."""
    import json

    from mtlrec.data import changed_files, resolve_data_path

    d = config.data
    for attr, given in (("path", args.data), ("test_path", args.test_data)):
        if given:
            setattr(d, attr, _stored(given))
            if attr == "path":
                d.name = None  # the uploaded name was the saved file's: this file goes by its own
        elif getattr(d, attr) and not Path(resolve_data_path(getattr(d, attr))).exists():
            flag = "DATA" if attr == "path" else "--test-data FILE"
            path = getattr(d, attr)
            relative = "" if Path(path).is_absolute() else " (a path relative to the folder the run was started in)"
            raise MtlrecError(
                f"the data file of {args.config} is missing: {path}{relative}; pass it again "
                f"(python -m mtlrec train {flag} --config {args.config}), or move it back"
            )
        else:  # kept absolute, as for a file given on the command line: the new run's --config finds it anywhere
            setattr(d, attr, _stored(getattr(d, attr)))
    given = Path(args.config)  # the run's folder or its config.json
    metrics = (given if given.is_dir() else given.parent) / "metrics.json"
    try:
        saved = json.loads(metrics.read_text(encoding="utf-8")) if metrics.is_file() else {}
    except (OSError, ValueError):
        saved = {}
    saved = saved if isinstance(saved, dict) else {}
    if not (args.data or args.test_data):
        for change in changed_files(saved.get("data_files") or [], thorough=True):  # a copy may keep the time
            print(f"warning: {change}: this re-run will not give the run's metrics", file=sys.stderr)
    from mtlrec.experiment import environment_changes

    if changes := environment_changes(saved.get("environment")):
        print(
            f"warning: the run was trained with other software ({'; '.join(changes)}): this re-run may differ from "
            "the run's metrics in the last decimals or more",
            file=sys.stderr,
        )


def _not_columns(flag: str, names: list[str], columns) -> str:
    """Which names are not columns, the column each was likely meant to be (other case, spaces), and the columns."""
    columns = [str(c) for c in columns]
    by_key = {c.strip().lower(): c for c in columns}
    shown = []
    for name in names:
        meant = by_key.get(name.strip().lower())
        shown.append(f"'{name}'" + (f" (did you mean '{meant}'?)" if meant else ""))
    listed = fmt.listing(columns, 30)
    return f"{flag} names columns that are not in the data: {', '.join(shown)}; the columns are: {listed}"


def _apply_overrides(config: ExperimentConfig, args: argparse.Namespace) -> None:
    m, t, s, w = config.model, config.train, config.split, config.weighting
    for target, attr, value in (
        (m, "kind", args.model),
        (m, "experts", args.experts),
        (m, "task_experts", args.task_experts),
        (m, "levels", args.levels),
        (m, "funnel", _pairs(args.funnel, str, "--funnel")),
        (w, "method", args.weighting),
        (w, "alpha", args.alpha),
        (w, "temperature", args.temperature),
        (m, "size", args.size),
        (m, "embed_dim", args.embed_dim),
        (m, "bottom", _numbers(args.bottom, int, "--bottom")),
        (m, "tower", _numbers(args.tower, int, "--tower")),
        (m, "dropout", args.dropout),
        (m, "cross", args.cross),
        (t, "epochs", args.epochs),
        (t, "batch_size", args.batch_size),
        (t, "lr", args.lr),
        (t, "weight_decay", args.weight_decay),
        (t, "optimizer", args.optimizer),
        (t, "patience", args.patience),
        (t, "monitor", args.monitor),
        (t, "seed", args.seed),
        (t, "device", args.device),
        (t, "precision", args.precision),
        (t, "diagnostics", getattr(args, "diagnostics", None)),
        (s, "method", args.split),
        (s, "test_frac", args.test_frac),
        (s, "val_frac", args.val_frac),
        (config, "k", args.k),
        (config.data, "max_tokens", args.max_tokens),
    ):
        if value is not None:
            setattr(target, attr, value)
    for note in _ignored_flags(config, args):
        print(f"note: {note}", file=sys.stderr)


MODEL_NAMES = {"mmoe": "MMoE", "ple": "PLE", "esmm": "ESMM"}
# Flags that only some models read: (flag, argument, the model kinds that read it)
MODEL_FLAGS = (
    ("--experts", "experts", ("mmoe", "ple")),
    ("--task-experts", "task_experts", ("ple",)),
    ("--levels", "levels", ("ple",)),
    ("--funnel", "funnel", ("esmm",)),
)


def _ignored_flags(config: ExperimentConfig, args: argparse.Namespace) -> list[str]:
    """The flags given that this run does not read: a model's own settings for another model, --test-frac beside a
    test file (they were saved and ignored without a word)."""
    notes = [
        f"{flag} is for {' and '.join(MODEL_NAMES[k] for k in kinds)} only: the {config.model.kind} model ignores it"
        for flag, attr, kinds in MODEL_FLAGS
        if getattr(args, attr, None) is not None and config.model.kind not in kinds
    ]
    if getattr(args, "test_frac", None) is not None and config.data.test_path:
        notes.append("--test-frac is not used: the test rows are the test file's (--val-frac still carves validation)")
    return notes


SWEEP_FILES = ("sweep.csv", "pareto.html")


def _out_folder(out: str | Path, files: tuple[str, ...], force: bool) -> Path:
    """The --out folder, checked before any training: not a file, and not an earlier run's folder (one of `files`
    in it) unless --force says to replace it. A folder holding other files is fine: the run's files go beside them."""
    out = Path(out)
    blocker = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise MtlrecError(f"--out {out}: {blocker} is a file, not a folder: name a folder (it is created if missing)")
    found = [name for name in files if (out / name).exists()]
    if found and not force:
        raise MtlrecError(
            f"--out {out} already holds an earlier run or sweep ({', '.join(found[:2])}{', …' if len(found) > 2 else ''}): name "
            "another folder, or add --force to replace it"
        )
    _writable(out, f"--out {out}")
    return out


def _writable(path: Path, flag: str) -> None:
    """MtlrecError now, not after the whole training, when `path` (a folder, made later if missing) cannot be
    written: a file is tried in it or in its nearest folder that exists (none is made here: a command refused
    later for another reason left empty folders)."""
    existing = next((p for p in (path, *path.parents) if p.is_dir()), Path("."))
    probe = existing / f".mtlrec-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MtlrecError(f"{flag} cannot be written ({exc.strerror or exc}): name another folder") from None


def _default_out(prefix: str) -> Path:
    """out/<prefix><time>-<6 hex digits>: a random suffix as run-store ids have, so that trainings started in the
    same second (a shell loop with `&`) do not write into one folder."""
    import secrets

    return Path("out") / (prefix + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3))


def _remove(out: Path, files: tuple[str, ...]) -> None:
    for name in files:
        (out / name).unlink(missing_ok=True)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.4f}"
    return str(value)


def print_epoch(p, tasks: list[str]) -> None:
    if p.phase != "epoch":
        return
    parts = [f"epoch {p.epoch:>3}/{p.epochs}", f"{p.elapsed:6.1f}s"]
    for name in tasks:
        metrics = p.val_metrics.get(name, {}) if p.val_metrics else {}
        main = next(((k, v) for k, v in metrics.items() if k in ("auc", "rmse")), None)
        shown = f" {main[0]} {_fmt(main[1])}" if main else ""
        parts.append(f"{name}: loss {_fmt(p.train_loss[name])}/{_fmt(p.val_loss[name])}{shown}")
    print("  ".join(parts), flush=True)


def metrics_text(metrics: dict, untrained: set[str] | frozenset[str] = frozenset()) -> str:
    """The final per-task table, one row per task, one column per metric; a task in `untrained` (loss weight 0,
    config.untrained_tasks) is marked with a * (rows, not keys: a task may be named `a*` beside `a`), and a line
    under the table says what that means."""
    tasks = list((metrics.get("tasks") or {}).items())
    labels = [f"{t}*" if t in untrained else t for t, _ in tasks]
    columns: list[str] = []
    for _, values in tasks:
        columns += [c for c in values if c not in columns]
    width = max([len("task")] + [len(label) for label in labels])
    cells = [[_fmt(values.get(c)) for c in columns] for _, values in tasks]
    # Each column as wide as its widest cell, two spaces apart: a gmv RMSE of 1e9 no longer runs into the next one.
    widths = [max([12, len(c) + 2] + [len(row[i]) + 2 for row in cells]) for i, c in enumerate(columns)]
    lines = ["task".ljust(width) + "".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    for label, row in zip(labels, cells, strict=True):
        lines.append(label.ljust(width) + "".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    if shown := [t for t, _ in tasks if t in untrained]:
        lines.append(
            f"* {', '.join(shown)}: loss weight 0, evaluated but not trained (the metrics of an untrained tower)"
        )
    return "\n".join(lines)


def _set_threads(device: str) -> None:
    """Torch's threads for a training on the CPU: fewer than the cores while other processes keep them busy
    (mtlrec.resources.training_threads), with a note saying so. (A sweep plans its own: one per worker.)"""
    import torch

    from mtlrec.resources import training_threads
    from mtlrec.train import resolve_device

    if resolve_device(device).type != "cpu":
        return
    threads, note = training_threads(torch.get_num_threads())
    torch.set_num_threads(threads)
    if note:
        _unpiped(print)(f"note: {note}")  # `train … | head -1` has gone: the training goes on


def cmd_train(args: argparse.Namespace) -> int:
    from mtlrec.experiment import run_experiment
    from mtlrec.runs import RUN_FILES, write_run_files

    config, loaded = config_from_args(args)
    config.check()
    out = _out_folder(args.out or _default_out(""), RUN_FILES + SWEEP_FILES, args.force)
    print(
        f"data: {config.data.path}  tasks: "
        + ", ".join(f"{t.name} ({task_words(t)}, w={fmt.weight(t.weight)})" for t in config.tasks)
    )
    _set_threads(config.train.device)
    callback = None if args.quiet else _unpiped(lambda p: print_epoch(p, config.task_names))
    stop = threading.Event()  # Ctrl-C stops the training as the app's Stop does: the run is saved with its best epoch
    try:
        result = _interruptible(
            lambda: run_experiment(config, loaded=loaded, callback=callback, stop=stop),
            stop, "stopping: the run is saved with its best epoch so far…",
        )  # fmt: skip
    except MtlrecError:
        # What reading and fixing the data did explains many a refusal (a fix that dropped nearly every row): said
        # before it, as a run's notes would have been.
        for note in loaded.notes if loaded is not None else []:
            print(f"note: {note}", file=sys.stderr)
        raise
    with _uninterrupted():
        _remove(out, RUN_FILES + SWEEP_FILES)  # replaced with --force: none of the old files is left beside the new
        write_run_files(result, out)  # before anything is printed: `train … | head` must not lose the run
    for note in result.notes:
        print(f"note: {note}")
    m = result.metrics
    best = ", ".join(f"{task} {epoch}" for task, epoch in m["best_epochs"].items()) if m.get("best_epochs") else None
    print(
        f"{result.status}: {m['epochs_run']} epoch{'' if m['epochs_run'] == 1 else 's'} "
        f"(best {best or m['best_epoch']}), "
        f"{m['params']:,} parameters, "
        f"{m['train_seconds']:.1f} s, {m['samples_per_second']:,.0f} rows/s. {result.message}".rstrip()
    )
    if m.get("tasks"):
        print(metrics_text(m, set(config.untrained_tasks())))
    cosines = (m.get("diagnostics") or {}).get("cosine") or {}
    if cosines:
        shown = "  ".join(f"{pair.replace('|', '~')} {_fmt(value)}" for pair, value in cosines.items())
        print(f"gradient cosine on the shared layers, best epoch (the model kept; < 0: the tasks pull apart): {shown}")
    print(f"saved to {out}/")
    return _exit_code(result.status, stop)


def cmd_sample(args: argparse.Namespace) -> int:
    from mtlrec.sample import SyntheticSpec, write_sample

    _out_folder(args.out, (), force=True)
    spec = SyntheticSpec()
    for attr, value in (("n_rows", args.rows), ("task_correlation", args.correlation), ("seed", args.seed)):
        if value is not None:
            setattr(spec, attr, value)
    for path in write_sample(args.out, spec):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    from mtlrec.data import propose_schema, resolve_data_path
    from mtlrec.fixes import apply_fixes
    from mtlrec.io import read_table
    from mtlrec.leakage import set_aside
    from mtlrec.schema import label_hint, time_notes, with_flags_note

    table = read_table(resolve_data_path(args.data), names=_column_names(args))
    # --user-col/--item-col as train reads them: a column, or 'none' (or '') for none
    ids = {}
    for role in ("user", "item"):
        value = getattr(args, f"{role}_col")
        if value is not None and _no_column(value, table.frame.columns):
            value = ""
            setattr(args, f"{role}_col", None)  # --negatives then says it needs the column
        elif value is not None and value not in table.frame.columns:
            raise MtlrecError(_not_columns(f"--{role}-col", [value], table.frame.columns), source=table.name)
        ids[role] = value
    if ids["user"] and ids["user"] == ids["item"]:
        raise MtlrecError(f"column '{ids['user']}' is both the user and the item column: choose two different columns")
    fixes = _fixes(args)
    frame, fixed = apply_fixes(table.frame, fixes, source=table.name)
    proposal = propose_schema(frame, args.data)
    if args.negatives is not None:  # as train makes them: on the rows as fixed so far
        fixes = [*fixes, _negatives_fix(args, proposal.data, proposal.tasks, fixes, frame)]
        frame, fixed = apply_fixes(table.frame, fixes, source=table.name)
        proposal = propose_schema(frame, args.data)
    _set_ids(proposal, *(fixes[-1][k] if args.negatives is not None else ids[k] or None for k in ("user", "item")))
    d = proposal.data
    for role, value in ids.items():
        if value == "":  # 'none'
            setattr(d, f"{role}_col", None)
        elif value and (value in (tasks := [t.name for t in proposal.tasks]) or value == d.time_col):
            what = "a task" if value in tasks else "the time column"
            raise MtlrecError(f"column '{value}' is both {what} and the {role} column (--{role}-col): choose another")
    print(f"{table.name}: {len(frame):,} rows, {frame.shape[1]} columns")
    for note in [*table.notes, *fixed]:
        print(f"note: {note}")
    # As train makes them: a label made with --label is a task, and its source column and the features that give
    # it away are no features.
    inferred = [t.name for t in proposal.tasks]
    _label_fixes(fixes, proposal.tasks, d, args, frame)
    leaks = set_aside(frame, d, [t for t in proposal.tasks if t.name not in inferred], set())
    print(f"user: {d.user_col}\nitem: {d.item_col}\ntime: {d.time_col}")
    for note in time_notes(d.time_col, frame[d.time_col]) if d.time_col else []:
        print(f"note: {note}")  # how the times were read, where that was a choice (validation says it too)
    for note in _id_notes(with_flags_note(proposal.notes, proposal.flags, d, proposal.tasks), args):
        print(f"note: {note}")
    print("tasks: " + ", ".join(f"{t.name} ({task_words(t)})" for t in proposal.tasks))
    if not proposal.tasks:
        hint = label_hint(frame)
        print("no label column was recognised: name them with --tasks a,b,c when training" + hint)
    print("categorical: " + ", ".join(d.categorical))
    print("numeric: " + ", ".join(d.numeric))
    if d.multi:
        print("multi-valued: " + ", ".join(f"{c} (split at {_separator_name(frame[c])})" for c in d.multi))
    for column, reason in proposal.ignored.items():
        print(f"ignored: {column}: {reason}")
    for leak in leaks:
        print(f"ignored: {leak.column}: {leak.reason()}")
    return 0


def _separator_name(series) -> str:
    """How the encoder will split a multi-valued column, in words (the separator mtlrec.tokens finds)."""
    from mtlrec.tokens import LIST_TEXT, token_separator

    sep = token_separator(series)
    return "its items, written as lists" if sep == LIST_TEXT else "spaces" if sep == " " else repr(sep)


def cmd_import(args: argparse.Namespace) -> int:
    from mtlrec.runs import RunStore
    from mtlrec.transfer import import_run, read_run_archive

    store = RunStore(args.home)
    run_id, notes = import_run(store, read_run_archive(args.source), args.source, name=args.name)
    row, run = store.get(run_id), store.load(run_id)
    print(f"imported {args.source} as run {run_id} ({row['name']}, {row['status']}) into {store.home}")
    if run.config.data.path and not run.missing_data:
        print(f"data: {run.config.data.path}")
    for note in notes:
        print(f"note: {note}")
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from mtlrec.data import changed_files, load_frames, resolve_data_path
    from mtlrec.fixes import COUNTED
    from mtlrec.recommend import Recommender, history_rows
    from mtlrec.runs import read_run_folder

    if args.k < 1:
        raise MtlrecError(f"--k must be at least 1, got {args.k}")
    if args.out and (Path(args.out).is_dir() or not Path(args.out).parent.is_dir()):  # before any scoring
        raise MtlrecError(f"--out {args.out}: give a CSV file in an existing folder")
    if args.out:
        _writable(Path(args.out).parent, f"--out {args.out}'s folder")
    if not Path(args.run).is_dir():  # "damaged or incomplete" said nothing of a typo or of a file given
        what = "is a file, not" if Path(args.run).exists() else "does not exist: give"
        raise MtlrecError(f"--run {args.run} {what} a run folder (the folder `train --out` wrote)")
    run = read_run_folder(Path(args.run))
    d = run.config.data
    lacking = [role for role, column in (("user", d.user_col), ("item", d.item_col)) if not column]
    if lacking:  # the Recommender's message speaks of the app's schema
        raise MtlrecError(
            f"the run in {args.run} has no {' and no '.join(lacking)} column, so it cannot recommend: train it "
            "again with --user-col C --item-col C (python -m mtlrec train --config "
            f"{Path(args.run) / 'config.json'} --user-col C --item-col C)"
        )
    model, encoder = run.load_model()
    # The candidates and the user's history come from the training file, and from the test file when there is one.
    recorded = [entry for entry in run.metrics.get("data_files") or [] if entry.get("path") == d.path]
    if args.data:
        trained_on = Path(d.path).name if d.path else None
        d.path = _stored(args.data)
        recorded = [dict(entry, path=d.path, trained_on=trained_on) for entry in recorded]
    elif d.path and not Path(resolve_data_path(d.path)).exists():
        raise MtlrecError(
            f"the data file of the run in {args.run} is missing: {d.path}; pass it where it is now "
            f"(python -m mtlrec recommend --run {args.run} --data FILE ...), or move it back"
        )
    for change in changed_files(recorded):
        print(f"warning: {change}: users and items the model never saw are scored as unknown ones", file=sys.stderr)
    # The test file's rows are the users' history too (their latest rows, items seen), and a 'fewer than' fix
    # counted a value's rows there, an 'older than' its latest time (mtlrec.fixes): read it when it is there.
    test_path = d.test_path if d.test_path and Path(resolve_data_path(d.test_path)).exists() else None
    if d.test_path and test_path is None:
        counted = any(isinstance(f, dict) and f.get("where") in COUNTED for f in d.fixes)
        print(f"note: the run's test file {d.test_path} is gone: its rows are not in the users' history (latest "
              "rows, items seen)" + (", and its 'fewer than' and 'older than' fixes count the training file's rows "
              "only, so a few users, items or rows may differ here" if counted else ""), file=sys.stderr)  # fmt: skip
    frame, test_frame, _ = load_frames(
        dataclasses.replace(run.config, data=dataclasses.replace(d, test_path=test_path))
    )
    history = history_rows(frame, test_frame)
    recommender = Recommender(model, encoder, run.config, history)
    for note in recommender.notes(joint=args.joint):
        print(f"note: {note}", file=sys.stderr)
    fusion = _pairs(args.fusion, float, "--fusion")  # the tasks not named keep their default weight (is_hate's -1)
    if fusion is not None and not any(recommender.fusion_weights(fusion).values()):
        print("warning: every fusion weight is 0, so the order is arbitrary: give a task a weight > 0", file=sys.stderr)
    if args.all_users:
        return _recommend_all(recommender, args, fusion)
    user = _match_user(history[run.config.data.user_col], args.user)
    if note := recommender.unknown_user_note(user):
        print(f"note: {note}", file=sys.stderr)
    top = recommender.recommend(
        user, k=args.k, fusion=fusion, exclude_seen=not args.include_seen, equal_spread=args.equal_spread,
        joint=args.joint,
    )  # fmt: skip
    if top.empty:
        print(f"user {user!r} has interacted with every item: nothing is left to recommend (add --include-seen)")
        return 0
    if args.out:  # the table as CSV, as --all-users writes its
        _write_csv(Path(args.out), top)
        print(f"wrote the top {len(top)} of user {user!r} to {args.out}")
        return 0
    print(top.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def _recommend_all(recommender, args: argparse.Namespace, fusion: dict | None) -> int:
    """recommend --all-users: every user's top-K as CSV, to --out or stdout, with progress on stderr."""
    out = Path(args.out) if args.out else None
    started = time.perf_counter()
    users, items = len(recommender.users()), len(recommender.items)
    print(f"scoring {users:,} users x {items:,} items ({users * items:,} pairs)", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        # A time left: a log of 350,000 users and 180,000 items takes hours, which nothing had said.
        spent = time.perf_counter() - started
        left = f", about {fmt.seconds(spent / done * (total - done))} left" if done < total else ""
        print(f"\rscored {done:,} of {total:,} users{left}   ", end="", file=sys.stderr, flush=True)

    table = recommender.recommend_all(
        k=args.k, fusion=fusion, exclude_seen=not args.include_seen, progress=progress, equal_spread=args.equal_spread,
        joint=args.joint,
    )  # fmt: skip
    print(file=sys.stderr)
    per_user = table.iloc[:, 0].value_counts()
    missing = len(recommender.users()) - len(per_user)
    short = int((per_user < args.k).sum())
    if missing or short:  # users who have seen (nearly) every item: said, as --user says it for one
        print(f"note: {missing:,} user{'s' if missing != 1 else ''} with every item seen left out, {short:,} with "
              f"fewer than {args.k} unseen items (--include-seen keeps seen items)", file=sys.stderr)  # fmt: skip
    if unknown := int(recommender.unknown_users(list(per_user.index)).sum()):
        print(f"note: {unknown:,} of the users have no embedding of their own (no training rows, or too few for "
              "min_count): scored with the shared unknown-user vector, they get much the same lists", file=sys.stderr)  # fmt: skip
    if out is None:
        table.to_csv(sys.stdout, index=False)  # every digit, as _write_csv and the app's download
        return 0
    _write_csv(out, table)
    print(f"wrote the top {args.k} of {len(per_user):,} users ({len(table):,} rows) to {out} in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return 0


def _write_csv(path: Path, table) -> None:
    """A recommendation table as CSV, written whole or not at all, every digit kept (as the app's download and
    Recommender.recommend_all give it: six significant digits made close fused scores read as ties)."""
    from mtlrec.runs import atomic_write_text

    atomic_write_text(path, table.to_csv(index=False))


def _sweep_metrics(text: str | None, tasks: list[str]) -> dict[str, str]:
    """--metrics 'auc,logloss' (one per task, in order), 'auc' (every task) or 'like=logloss' (by name) ->
    {task: metric}."""
    items = _list(text) or []
    if not items:
        return {}
    if all("=" in item for item in items):
        pairs = dict(item.split("=", 1) for item in items)
        unknown = [name for name in pairs if name not in tasks]
        if unknown:
            raise MtlrecError(f"--metrics names {', '.join(unknown)}, which is not a swept task ({', '.join(tasks)})")
        return {name.strip(): metric.strip() for name, metric in pairs.items()}
    if len(items) == 1 and "=" not in items[0]:  # --metrics auc: the one metric for every swept task
        return {name: items[0].strip() for name in tasks}
    if len(items) != len(tasks):
        raise MtlrecError(f"--metrics has {len(items)} values for {len(tasks)} tasks: give one per task or task=metric")
    return dict(zip(tasks, items, strict=True))


def sweep_printer(config):
    """A sweep callback printing one line per saved run: its weights (or reference), judged metrics, time, ETA."""

    def show(p) -> None:
        if p.row is None:
            return
        summary = p.row["summary"]
        if p.role == "point":
            count, head = (
                f"[{p.points_done:>3}/{p.points_total}]",
                " ".join(f"{t}={w:.3g}" for t, w in (summary.get("weights") or {}).items()),
            )
        else:
            count, head = f"[ref {p.references_done}/{p.references_total}]", p.role.replace("_", "-")
        metrics = summary.get("tasks") or {}
        shown = "  ".join(
            f"{t} {config.metric_of(t)} {_fmt(metrics.get(t, {}).get(config.metric_of(t)))}" for t in config.tasks
        )
        eta = f"  about {p.eta:.0f} s left" if p.eta is not None and p.fraction < 1 else ""
        print(f"{count} {head:<24} {shown if metrics else p.row['status']}  ({p.elapsed:.1f} s){eta}", flush=True)

    return show


@contextlib.contextmanager
def _uninterrupted():
    """Ctrl-C ignored for the duration (on the main thread): while a stopped run is wound down and while its files
    are written, a second press killed the process inside torch and the run was lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    term = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a SIGTERM while the files are written lost them too
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if term is None else term)


def _interruptible(work, stop, message: str):
    """work() in a thread, its result returned (its error raised): Ctrl-C sets `stop`, so that the work winds down
    and returns what it has (the finished sweep points, the training's best epoch) instead of being lost. The main
    thread waits on an Event, not on `thread.join()`: after a join interrupted by Ctrl-C, Python 3.11 returns from
    the next join at once, and the result was read before the work had ended."""
    outcome, done = {}, threading.Event()

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="mtlrec-cli-work", daemon=True).start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        if _PIPE["terminated"]:  # the run's message: "stopped in epoch 3: SIGTERM", not "by the user"
            stop.reason = "SIGTERM (the process was told to end)"
        print(f"{message} (a second Ctrl-C or SIGTERM is ignored)", file=sys.stderr, flush=True)
        stop.set()
        # From now on until the command ends (the run wound down, saved and reported; exit code 130), a second press
        # would kill the process inside torch and lose the run.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while not done.wait(0.2):
            pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def cmd_sweep(args: argparse.Namespace) -> int:
    from mtlrec.runs import RUN_FILES, RunStore
    from mtlrec.sweep import (
        SweepConfig,
        check_parallelism,
        plan_text,
        report_html,
        run_sweep,
        sweep_csv,
        undefined_objectives,
    )

    if args.weights:
        raise MtlrecError("--weights does not apply to a sweep: the sweep sets the loss weights")
    check_parallelism(args.group_size, args.workers)  # before the data is read
    base, loaded = config_from_args(args)
    tasks = _list(args.tasks) or base.task_names  # with --config, --tasks picks the swept tasks among the config's
    if not args.tasks and not 2 <= len(tasks) <= 3:
        raise MtlrecError(
            f"a sweep weighs 2 or 3 tasks, and {len(tasks)} were found ({', '.join(tasks)}): choose them with "
            "--tasks a,b"
        )
    references = [] if (args.references or "").strip().lower() == "none" else _list(args.references) or []
    config = SweepConfig(
        base=base, tasks=tasks, metrics=_sweep_metrics(args.metrics, tasks),
        grid="dirichlet" if args.samples is not None else "simplex", points=11 if args.points is None else args.points,
        samples=args.samples or 0, seed=args.grid_seed, baseline=not args.no_baseline, references=references,
    )  # fmt: skip
    config.check()
    out = _out_folder(args.out or _default_out("sweep-"), SWEEP_FILES + RUN_FILES, args.force)
    store = RunStore(args.home) if args.home else RunStore()
    refs = config.reference_roles()
    print(
        f"data: {base.data.path}  tasks: {', '.join(f'{t} ({config.metric_of(t)})' for t in tasks)}  "
        f"{config.n_points()} weightings, {len(refs)} reference(s){': ' + ', '.join(refs) if refs else ''}"
    )
    stop = threading.Event()
    result = _interruptible(
        lambda: run_sweep(
            config, store, loaded=loaded, callback=None if args.quiet else _unpiped(sweep_printer(config)), stop=stop,
            group_size=args.group_size, workers=args.workers,
        ),
        stop, "stopping: the points that finished are kept…",
    )  # fmt: skip
    with _uninterrupted():
        _remove(out, SWEEP_FILES + RUN_FILES)
        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep.csv").write_text(sweep_csv(result.table), encoding="utf-8")
        (out / "pareto.html").write_text(report_html(result), encoding="utf-8")
    front = result.points[result.points["pareto"]]
    print(f"{result.status}: {len(result.points)} of {config.n_points()} points, {len(front)} on the Pareto front. "
          f"{result.message}".rstrip())  # fmt: skip
    if plan_text(result.plan):
        print(plan_text(result.plan))
    for note in result.notes:  # the data's notes, as train prints them (a task no training row has a positive of
        print(f"note: {note}")  # was swept and put on the front without a word: an audit)
    for problem in undefined_objectives(result.table, config):  # why a sweep has no front, as the Sweep page says
        print(f"note: {problem}")
    for _, row in front.iterrows():
        shown = "  ".join(f"{c} {_fmt(row[c])}" for c in config.objective_columns())
        print("  front: " + " ".join(f"{t}={row[f'w_{t}']:.3g}" for t in tasks) + f"  {shown}  run {row['run_id']}")
    print(f"saved to {out}/ (sweep.csv, pareto.html); runs in {store.home} tagged with sweep {result.sweep_id}")
    return _exit_code(result.status, stop)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a tool Ctrl-C ended: `train … && next` stops there
EXIT_TERMINATED = 143  # 128 + SIGTERM (kill, timeout, docker stop, CI), which winds down and saves as Ctrl-C does


def _terminated(signum, frame) -> None:
    """SIGTERM as Ctrl-C: the work winds down and saves (it ended the process and lost the run)."""
    _PIPE["terminated"] = True
    raise KeyboardInterrupt


def _exit_code(status: str, stop) -> int:
    """1 for a failed run; 130 for one Ctrl-C stopped (saved, but a script must not go on as if it had finished);
    141 when stdout's reader went away meanwhile; else 0."""
    if status == "failed":
        return EXIT_TRAINING_FAILED
    if stop.is_set():
        return EXIT_TERMINATED if _PIPE["terminated"] else EXIT_INTERRUPTED
    return EXIT_BROKEN_PIPE if _PIPE["broken"] else 0


def _match_user(column, text: str):
    """The user id as stored in the data (ids typed on a command line are text; the column may hold numbers)."""
    values = column.drop_duplicates()
    for wanted in (text, text.strip()):  # ' u1 ' pasted with spaces: the data's values are read stripped
        for value in values:
            if str(value) == wanted:
                return value
    try:  # 12350.0 for a user stored 12350 (a file that wrote its ids as floats), or the other way round: the model
        # keys them alike (mtlrec.encode.category_keys)
        number = float(text.strip())
    except ValueError:
        number = None
    same = []
    if number is not None and math.isfinite(number):
        import pandas as pd

        from mtlrec.encode import category_keys

        same = values[category_keys(values).to_numpy() == category_keys(pd.Series([number])).iloc[0]]
        # Numbers only: in a column of text codes 0007 is not 7, 07 or 007, which are other users (an audit found
        # `--user 0007` served user 7's list without a word)
        if len(same) and pd.api.types.is_numeric_dtype(column.dtype):
            return same.iloc[0]
    other_case = [v for v in values if str(v).lower() == text.strip().lower()][:1] or list(same[:1])
    meant = f" (did you mean '{other_case[0]}'?)" if other_case else ""
    raise MtlrecError(f"user '{text}' is not in column '{column.name}'{meant}")


COMMANDS = {
    "train": cmd_train,
    "sweep": cmd_sweep,
    "sample": cmd_sample,
    "infer": cmd_infer,
    "recommend": cmd_recommend,
    "import": cmd_import,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _PIPE["broken"] = False
    # A Ctrl-C'd command ignores later ones until it has saved and reported. Called in-process (argv given: tests,
    # notebooks), the caller gets its Ctrl-C handler back; from the command line the process ends right after, and a
    # press before that would end it by SIGINT.
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers are set there only
    on_main = argv is not None and main_thread
    handler = signal.getsignal(signal.SIGINT) if on_main else None
    _PIPE["terminated"] = False
    term = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        return COMMANDS[args.command](args)
    except MtlrecError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("terminated" if _PIPE["terminated"] else "interrupted", file=sys.stderr)
        return EXIT_TERMINATED if _PIPE["terminated"] else EXIT_INTERRUPTED
    except BrokenPipeError:  # `… | head` closed the pipe: what is left to print goes nowhere, as for other tools
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a full disk, a read-only folder: said, not a traceback (a run already saved stays)
        # the file meant, not the temporary one an atomic write was making (.x.csv.1hfx42iw.tmp)
        meant = re.sub(r"(^|/)\.([^/]+)\.[A-Za-z0-9_]+\.tmp$", r"\1\2", str(exc.filename))
        where = f" ({meant})" if exc.filename else ""
        print(
            f"error: {exc.strerror or exc}{where}: free some space or choose a folder that can be written "
            "(--out, MTLREC_HOME)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    finally:
        if on_main and handler is not None:  # a Ctrl-C'd command ignored later ones; a caller in-process gets them
            signal.signal(signal.SIGINT, handler)
        if main_thread:  # term None: a handler set outside Python
            signal.signal(signal.SIGTERM, signal.SIG_DFL if term is None else term)


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null once a reader closed the pipe (the idiom of Python's signal docs): later prints and
    the flush at exit then succeed instead of raising BrokenPipeError."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _unpiped(callback):
    """A progress callback that goes on silently when stdout's reader is gone (`train … | head -1`), so that the
    training it reports on is not failed by a print."""

    def call(p) -> None:
        try:
            callback(p)
        except BrokenPipeError:
            _PIPE["broken"] = True
            _stdout_to_devnull()

    return call


# During a command: stdout's reader went away (broken), a SIGTERM asked it to end (terminated); the exit code says so
_PIPE = {"broken": False, "terminated": False}
