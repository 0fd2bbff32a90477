"""Fixes to the rows, made where the data is read: drop rows, fill missing values, make a 0/1 label from a column.

Validation tells an analyst what to change ("drop those rows", "add a 0/1 label (e.g. rating >= 4)"); someone with
only a browser could not change the file. A fix is recorded in the run's config (`data.fixes`) and applied, in its
order, every time the config's data is read (training, Recommend, a re-run from config.json), to the training file
and the test file alike: the file itself is never changed, and the run stays fully described by its config.

Each fix is a small JSON object:

    {"drop": "purchase", "where": "missing"}                 drop rows where 'purchase' is missing
    {"drop": "rating", "where": "==", "value": -1}           drop rows where 'rating' == -1
    {"drop": "user_id", "where": "fewer than", "value": 5}   drop the rows of users with fewer than 5 rows
    {"drop": ["user_id", "item_id"], "where": "fewer than", "value": 5}
                                                             the 5-core: drop the rows of users and items with
                                                             fewer than 5 rows, again and again until none is left
    {"drop": "timestamp", "where": "older than", "value": "90 days"}
                                                             drop the rows more than 90 days before the latest time
    {"fill": "purchase", "value": 0}                         fill the missing values of 'purchase' with 0
    {"label": "liked", "from": "rating", "where": ">=", "value": 4}
                                                             new column 'liked': 1 where 'rating' >= 4, else 0

A label is missing where its source column is (a rating never given is no "not liked"), unless the condition is
"missing" itself. On the command line: --drop "purchase missing", --drop "rating == -1", --fill purchase=0,
--label "liked=rating >= 4", --drop "user_id, item_id fewer than 5", --drop "timestamp older than 90 days" (see
parse_fix).
"""

from __future__ import annotations

import json
import math
import operator
import re
import shlex
from typing import Any

import numpy as np
import pandas as pd

from mtlrec.errors import MtlrecError
from mtlrec.tokens import whole_numbers

# The conditions a drop or a label can test, as written in a fix.
CONDITIONS = ("missing", "==", "!=", ">", ">=", "<", "<=", "fewer than", "older than")
RARE = "fewer than"  # drop only: rows whose value occurs in fewer than `value` rows (users with under 5 interactions)
# Drop only: rows whose time is more than `value` ("90 days") before the latest time of the data (training and test
# files together), so that a run keeps the recent window of a long log whatever its last day.
OLDER = "older than"
SPAN_UNITS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minute|hour|day|week)s?\s*$", re.IGNORECASE)
COUNTED = (RARE, OLDER)  # conditions that look at the training and test files together
ORDERED = (">", ">=", "<", "<=")
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
ACTIONS = ("drop", "fill", "label", "negatives")
_KEYS = {
    "drop": {"drop", "where", "value"},
    "fill": {"fill", "value"},
    "label": {"label", "from", "where", "value"},
    "negatives": {"negatives", "user", "item", "label", "zero", "unlabelled", "seed"},  # mtlrec.negatives
}
# The frames' attribute recording which fixes they already hold (see apply_fixes): a frame the app fixed once is
# passed on to training, which must not fix it again.
APPLIED = "mtlrec_fixes"
APPLIED_NOTES = "mtlrec_fix_notes"  # and what they did, for the run's notes


# ------------------------------------------------------------------------------------------------ the fixes' form
def fix_problems(fixes: Any) -> list[str]:
    """A sentence per fix that is not well formed (an unknown action or condition, a key missing or unknown)."""
    if not isinstance(fixes, list):
        return [
            f'\'data.fixes\' must be a list of fixes, e.g. [{{"drop": "purchase", "where": "missing"}}], got {fixes!r}'
        ]
    problems = []
    for i, fix in enumerate(fixes, 1):
        where = f"fix {i}"
        if not isinstance(fix, dict):
            problems.append(f'{where} must be a JSON object such as {{"fill": "purchase", "value": 0}}, got {fix!r}')
            continue
        actions = [a for a in ACTIONS if a in fix]
        if "negatives" in actions and actions != ["negatives"]:  # its own new column is called 'label'
            actions = [a for a in actions if a != "label"]
        if len(actions) != 1:
            problems.append(
                f"{where} ({json.dumps(fix, default=str)}) must have exactly one of the keys 'drop', 'fill', 'label' "
                "or 'negatives'"
            )
            continue
        action = actions[0]
        unknown = sorted(set(fix) - _KEYS[action])
        if unknown:
            problems.append(
                f"{where} ({action}) has unknown keys {', '.join(map(repr, unknown))}; it takes "
                f"{', '.join(map(repr, sorted(_KEYS[action])))}"
            )
        if action == "negatives":
            problems += _negatives_problems(fix, where)
            continue
        names = [action] + (["from"] if action == "label" else [])
        for key in names:
            if key == "drop" and isinstance(fix.get(key), list):  # the k-core of several columns
                listed = fix["drop"]
                if fix.get("where") != RARE:
                    problems.append(
                        f"{where} (drop): a list of columns is for '{RARE}' (the k-core of users and items); "
                        f"'{fix.get('where')}' tests one column, got {listed!r}"
                    )
                elif not listed or not all(isinstance(c, str) and c for c in listed):
                    problems.append(f"{where} (drop): 'drop' must list column names, got {listed!r}")
                elif len(set(listed)) != len(listed):
                    problems.append(f"{where} (drop): 'drop' names a column twice, got {listed!r}")
                continue
            if not isinstance(fix.get(key), str) or not fix.get(key):
                problems.append(f"{where} ({action}): '{key}' must name a column, got {fix.get(key)!r}")
        if action in ("drop", "label"):
            condition = fix.get("where")
            if condition not in CONDITIONS:
                problems.append(
                    f"{where} ({action}): 'where' must be one of {', '.join(CONDITIONS)}, got {condition!r}"
                )
            elif condition != "missing" and "value" not in fix:
                problems.append(f"{where} ({action}): the condition '{condition}' needs a 'value'")
            elif condition in COUNTED and action != "drop":
                problems.append(f"{where} ({action}): '{condition}' drops rows; it makes no label")
            elif condition == OLDER and span_seconds(fix["value"]) is None:
                problems.append(
                    f"{where} (drop): '{OLDER}' takes a time span such as '90 days' (minutes, hours, days or weeks), "
                    f"got {fix['value']!r}"
                )
            elif condition == RARE and not (
                isinstance(fix["value"], int | np.integer) and not isinstance(fix["value"], bool) and fix["value"] >= 1
            ):
                problems.append(f"{where} (drop): '{RARE}' counts rows: its value must be a whole number >= 1")
        if action == "fill" and "value" not in fix:
            problems.append(f"{where} (fill): 'value' is missing: the value that fills the empty cells")
        value = fix.get("value")
        if isinstance(value, np.generic):
            value = value.item()
        if "value" in fix and not (value is None or isinstance(value, str | int | float | bool)):
            problems.append(f"{where} ({action}): 'value' must be a number, text or true/false, got {value!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{where} ({action}): 'value' must be a finite number, got {value!r}")
    return problems


def _negatives_problems(fix: dict, where: str) -> list[str]:
    """What is wrong with a negatives fix's values (mtlrec.negatives); its keys are checked with every fix's."""
    from mtlrec.negatives import MAX_PER_ROW

    problems = []
    k = fix.get("negatives")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_PER_ROW:
        problems.append(f"{where} (negatives): 'negatives' is how many per row, a whole number from 1 to "
                        f"{MAX_PER_ROW}, got {k!r}")  # fmt: skip
    for key in ("user", "item", "label"):
        if not isinstance(fix.get(key), str) or not fix.get(key):
            problems.append(f"{where} (negatives): '{key}' must name a column, got {fix.get(key)!r}")
    for key in ("zero", "unlabelled"):
        columns = fix.get(key, [])
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            problems.append(f"{where} (negatives): '{key}' must list column names, got {columns!r}")
    seed = fix.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"{where} (negatives): 'seed' must be a whole number >= 0, got {seed!r}")
    return problems


def appended(fixes: list[dict], new: list[dict]) -> list[dict]:
    """`fixes` with `new` ones after them, but before sampled negatives (mtlrec.negatives), which stay last: a drop
    after them would drop sampled rows too (`rating < 3` dropped every one, their rating copied from real rows)."""
    last = next((i for i, f in enumerate(fixes) if isinstance(f, dict) and "negatives" in f), len(fixes))
    return [*fixes[:last], *new, *fixes[last:]]


def describe(fix: dict) -> str:
    """A fix as a sentence: "drop rows where 'rating' == -1"."""
    if "negatives" in fix:
        zero, empty = fix.get("zero") or [], fix.get("unlabelled") or []
        return (
            f"sample {fix.get('negatives')} negative{'s' if fix.get('negatives') != 1 else ''} per row (items of "
            f"'{fix.get('item')}' its '{fix.get('user')}' has no row with), new 0/1 label '{fix.get('label')}'"
            + (f", {_quoted(zero, ', ')} 0 in them" if zero else "")
            + (f", {_quoted(empty, ', ')} empty in them" if empty else "")
        )
    if "drop" in fix and len(columns_of(fix)) > 1:
        return (
            f"drop rows where {_quoted(columns_of(fix), ' or ')} {_condition(fix)}, again until none "
            f"does (the {_shown(fix.get('value'))}-core)"
        )
    if "drop" in fix:
        return f"drop rows where '{_one(fix['drop'])}' {_condition(fix)}"
    if "fill" in fix:
        return f"fill missing values of '{fix['fill']}' with {_shown(fix.get('value'))}"
    return f"new 0/1 label '{fix['label']}': 1 where '{fix['from']}' {_condition(fix)}, else 0"


def columns_of(fix: dict) -> list[str]:
    """The columns a fix reads: a drop's (several for a k-core), a fill's, a label's source, the user and item of
    sampled negatives."""
    if "negatives" in fix:
        return [fix.get("user"), fix.get("item")]
    column = fix.get("drop", fix.get("fill", fix.get("from")))
    return list(column) if isinstance(column, list) else [column]


def _quoted(columns: list[str], joint: str) -> str:
    return joint.join(f"'{c}'" for c in columns)


def _one(column: str | list[str]) -> str:
    """A drop's column: a k-core's list of one is that column."""
    return column[0] if isinstance(column, list) and len(column) == 1 else column


def _condition(fix: dict) -> str:
    if fix.get("where") == RARE:
        return f"occurs in {RARE} {_shown(fix.get('value'))} rows"
    if fix.get("where") == OLDER:
        return f"is more than {fix.get('value')} before the latest time"
    return "is missing" if fix.get("where") == "missing" else f"{fix.get('where')} {_shown(fix.get('value'))}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def fixes_key(fixes: list[dict]) -> str:
    """The fixes as canonical text: equal keys, equal fixes (numpy numbers as the numbers they are, a whole float as
    the integer it equals: == 4 and == 4.0 are one fix)."""
    canonical = [{k: _canonical(v) for k, v in f.items()} if isinstance(f, dict) else f for f in fixes]
    return json.dumps(canonical, sort_keys=True, default=str)


def _core_key(columns: list) -> Any:
    """A k-core's columns in canonical form: their order changes nothing (one core), a list of one is its column."""
    if all(isinstance(c, str) for c in columns):
        return columns[0] if len(columns) == 1 else sorted(columns)
    return columns


def _canonical(value: Any) -> Any:
    if isinstance(value, list) and value:
        return _core_key(value)
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


# ------------------------------------------------------------------------------------------------ the command line
def how_to(action: str, column: str, rest: str | tuple[str, ...], name: str | None = None) -> str:
    """Where a fix is made, for validation's advice: "on Data: Fix the rows; CLI: `--drop 'rating missing'`" (a code
    span: Markdown would show >= as ≥, which the CLI does not take). `rest` follows the column: "missing",
    "== -1", "=0" (fill), or several of them, one flag each on one line; a label's `name` comes first."""
    commands = []
    for each in (rest,) if isinstance(rest, str) else rest:
        text = f"{cli_column(column)}{'' if action == 'fill' else ' '}{each}"
        if name is not None:
            text = f"{cli_column(name)}={text}"
        flag = f"--{action}=" if text.startswith("-") else f"--{action} "  # '-score=0' alone would read as a flag
        commands.append(f"{flag}{shlex.quote(text)}")
    command = " ".join(commands)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", command)), default=0) + 1)  # longer than any inside
    spaced = f" {command} " if fence != "`" else command
    return f"on Data: Fix the rows; CLI: {fence}{spaced}{fence}"


def cli_column(name: str) -> str:
    """A column name as the CLI's fix flags take it: in backticks when it holds an operator, '=', a comma (which
    separates a k-core's columns) or a backtick (a backtick in it doubled)."""
    if re.search(r"[=<>!`,]", name) or name != name.strip():
        return "`" + name.replace("`", "``") + "`"
    return name


_OPERATOR = re.compile(r"(==|!=|>=|<=|>|<)")
_RARE = re.compile(r"^(?P<column>.+?)\s+fewer\s+than\s+(?P<n>\d+)(\s+(rows|times))?\s*$", re.IGNORECASE)
_OLDER = re.compile(r"^(?P<column>.*?)\s*older\s+than\s+(?P<span>.+?)\s*$", re.IGNORECASE)
_MISSING = re.compile(r"^(?P<column>.+?)\s+(?:is\s+)?(?:missing|empty|na|nan|null|none)\s*$", re.IGNORECASE)


def _quoted_name(text: str) -> tuple[str | None, str]:
    """A leading `column name` in backticks (a name holding an operator or '='; a backtick in it doubled), and the
    text after it."""
    match = re.match(r"^\s*`((?:[^`]|``)+)`(?!`)(.*)$", text, re.DOTALL)
    return (match.group(1).replace("``", "`"), match.group(2)) if match else (None, text)


def parse_fix(action: str, text: str) -> dict:
    """A fix from its command-line form: drop "COL missing" / "COL OP VALUE", fill "COL=VALUE", label
    "NAME=COL OP VALUE" (NAME=COL missing). A column name holding an operator or '=' goes in backticks
    ("`score>0` missing"). A value written as a plain number is one (4, -1, 0.5; not 007 or 1e3, which stay as
    written and compare as numbers only with a number column); quotes make it text ('"7"')."""
    flag = f"--{action}"
    text = text.strip()
    if action == "fill":
        quoted, rest = _quoted_name(text)
        column, sep, value = (quoted, *rest.strip().partition("=")[1:]) if quoted else text.partition("=")
        if not sep or not (column or "").strip():
            raise MtlrecError(f"{flag} takes COLUMN=VALUE, e.g. {flag} purchase=0, got '{text}'")
        return {"fill": column if quoted else column.strip(), "value": parse_value(value.strip())}
    name = None
    if action == "label":
        # NAME=... : the first '=' that is not part of an operator (==, >=, <=, !=)
        quoted, rest = _quoted_name(text)
        match = re.match(r"^\s*=(?!=)(.*)$", rest, re.DOTALL) if quoted else re.match(r"^([^=<>!]+)=(?!=)(.*)$", text)
        if not match or not (quoted or match.group(1).strip()):
            raise MtlrecError(f"{flag} takes NAME=COLUMN OP VALUE, e.g. {flag} \"liked=rating >= 4\", got '{text}'")
        name, text = (quoted, match.group(1).strip()) if quoted else (match.group(1).strip(), match.group(2).strip())
    quoted, rest = _quoted_name(text)
    missing = _MISSING.match(text) if not quoted else _MISSING.match(f"x {rest.strip()}")
    rare = _RARE.match(text)
    names = _names(rare.group("column")) if rare and action == "drop" else None
    if names:
        return {"drop": names[0] if len(names) == 1 else names, "where": RARE, "value": int(rare.group("n"))}
    older = _OLDER.match(rest if quoted else text)
    if older and action == "drop" and (quoted or not _OPERATOR.search(older.group("column"))):
        span = older.group("span").strip()
        if span_seconds(span) is None:  # said here, naming the flag (the config check would say "config: fix 1")
            raise MtlrecError(
                f"{flag}: '{OLDER}' takes a time span such as '90 days' (minutes, hours, days or weeks; months and "
                f"years have no fixed length), got '{span}'"
            )
        return {"drop": quoted or older.group("column").strip(), "where": OLDER, "value": span}
    if missing and not _OPERATOR.search(rest if quoted else text):
        column, condition, value = quoted or missing.group("column").strip(), "missing", None
    else:
        parts = _OPERATOR.split(rest if quoted else text, maxsplit=1)
        if quoted and len(parts) == 3:
            parts[0] = quoted if not parts[0].strip() else ""
        if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
            example = '"rating == -1" or "purchase missing"' if action == "drop" else '"liked=rating >= 4"'
            raise MtlrecError(
                f"{flag} takes {'NAME=' if action == 'label' else ''}COLUMN OP VALUE (OP one of "
                f"{', '.join(ORDERED + ('==', '!='))}) or {'NAME=' if action == 'label' else ''}COLUMN missing"
                f"{', COLUMN fewer than N (COLUMN, COLUMN fewer than N: the k-core) or TIME older than 90 days' if action == 'drop' else ''}, e.g. "
                f"{flag} {example}, got '{text}'"
            )
        column = quoted or parts[0].strip()
        condition, value = parts[1], parse_value(parts[2].strip())
    fix = {"drop": column} if action == "drop" else {"label": name, "from": column}
    fix["where"] = condition
    if condition != "missing":
        fix["value"] = value
    return fix


def _names(text: str) -> list[str] | None:
    """The columns before 'fewer than': one, or several separated by commas (a k-core), each in backticks if it
    holds an operator, '=' or a comma. None when they do not read as names (an operator outside backticks: "note ==
    seen fewer than 5 times" compares text; an empty name between two commas)."""
    names, rest = [], text.strip()
    while True:
        quoted, after = _quoted_name(rest)
        if quoted is not None:
            name, rest = quoted, after.strip()
        else:
            name, comma, after = rest.partition(",")
            name, rest = name.strip(), comma + after
            if not name or _OPERATOR.search(name) or "`" in name or re.search(r"\sfewer\s+than\s", f" {name} "):
                return None  # "u fewer than 5, i fewer than 5": the k-core is written "u, i fewer than 5"
        names.append(name)
        if not rest:
            return names
        if not rest.startswith(","):
            return None
        rest = rest[1:].strip()


def parse_value(text: str) -> Any:
    """'4' -> 4, '-1' -> -1, '0.5' -> 0.5, 'true' -> True; '"7"' or "'7'" -> '7' (text); anything else stays text
    as written ('007', '1e3', '4.50': a number column still reads them as numbers, a text column compares them as
    written)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    if re.fullmatch(r"-?(0|[1-9]\d*)\.\d*[1-9]", text):
        return float(text)
    return text


def span_seconds(value: Any) -> float | None:
    """'90 days' -> 7,776,000 seconds (minutes, hours, days or weeks, singular or plural); None for anything else
    (months and years have no fixed length)."""
    found = _SPAN.match(value) if isinstance(value, str) else None
    return float(found.group(1)) * SPAN_UNITS[found.group(2).lower()] if found else None


# ------------------------------------------------------------------------------------------------ applying them
def apply_fixes(frame: pd.DataFrame, fixes: list[dict], source: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows with the fixes applied in order, and a note per fix saying what it changed. MtlrecError names the
    fix and what is wrong (a column not in the data, a value of the wrong kind, no rows left). A frame that already
    holds exactly these fixes (its attrs say so) comes back as it is, with the notes of when they were applied."""
    fixed, _, notes, _ = apply_fixes_together(frame, None, fixes, source)
    return fixed, notes


def apply_fixes_together(
    frame: pd.DataFrame,
    test: pd.DataFrame | None,
    fixes: list[dict],
    source: str | None = None,
    test_source: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str], list[str]]:
    """apply_fixes on the training rows and a test file's rows (or None) alike: (rows, test rows, notes, the test
    rows' notes). A 'fewer than' counts a value's rows in both, as in one file split in two: counted in a test file
    alone, a test set of one row per user lost every row."""
    if not fixes:
        return frame, test, [], []
    problems = fix_problems(fixes)
    if problems:
        raise MtlrecError(problems, source="config")
    key = fixes_key(fixes)
    frames = [frame] if test is None else [frame, test]
    if all(f.attrs.get(APPLIED) == key for f in frames):
        notes = [list(f.attrs.get(APPLIED_NOTES) or []) for f in frames]
        return frame, test, notes[0], notes[1] if test is not None else []
    sources = [source, test_source]
    notes: list[list[str]] = [[] for _ in frames]
    for i, fix in enumerate(fixes, 1):
        before = frames
        frames = _apply_fix(frames, fix, i, sources, notes)
        for j, rows in enumerate(frames):
            if len(rows) < len(before[j]):
                notes[j] += [f"after fix {i}: {note}" for note in _numbers_left(before[j], rows)]
    for j, rows in enumerate(frames):
        rows = rows.reset_index(drop=True)
        rows.attrs = {**rows.attrs, APPLIED: key, APPLIED_NOTES: notes[j]}  # a new dict: the rows as read stay unmarked
        frames[j] = rows
    return frames[0], frames[1] if test is not None else None, notes[0], notes[1] if test is not None else []


def _numbers_left(before: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Text columns of `rows` (a new frame: `before` less the rows a fix dropped) whose values left are all numbers
    where `before` held text that is no number ('n/a?' in a price, a second header line's 'price'): read as numbers,
    as the loader reads the file without those rows (the price stayed text, to inference an id or free text, and a
    label was a feature). Codes kept as text by the loader (007 beside 7) hold numbers only and stay text."""
    from mtlrec.io import MISSING_MARKERS, _read_number_text  # here: io needs config (resources), which needs fixes

    def held_text(column: str) -> bool:
        values = before[column].dropna().astype(str).str.strip()
        values = values[(values != "") & ~values.str.lower().isin(MISSING_MARKERS)]
        return bool(pd.to_numeric(values, errors="coerce").isna().any())

    notes = _read_number_text(rows, only=held_text)
    # Whole numbers read as floats for the missing values among them (an integer user id with empty rows): once those
    # rows are dropped, integers again, as the loader reads them (29.0 was no user '29' for recommend --user 29).
    whole = []
    for column in rows.columns:
        values = rows[column]
        if values.dtype.kind == "f" and before[column].isna().any() and len(values) and values.notna().all():
            if whole_numbers(values.to_numpy()).all():
                rows[column] = values.astype("int64")
                whole.append(column)
    if whole:
        their = "its" if len(whole) == 1 else "their"
        notes.append(f"{', '.join(repr(c) for c in whole)} read as whole numbers again, {their} missing values dropped")
    return notes


def _apply_fix(
    frames: list[pd.DataFrame], fix: dict, i: int, sources: list[str | None], notes: list[list[str]]
) -> list[pd.DataFrame]:
    """The frames with fix number `i` applied to each (a k-core and negatives to all together), its notes added to
    `notes`."""
    if "drop" in fix:  # a k-core of one column is that column's drop
        fix = {**fix, "drop": _one(fix["drop"])}
    column = fix.get("drop")
    if isinstance(column, list) or "negatives" in fix:  # a k-core (dropped in rounds), negatives: the files together
        from mtlrec.negatives import sample_negatives  # here: it imports this module

        try:
            frames, made = (_core if isinstance(column, list) else sample_negatives)(frames, fix)
        except FrameProblem as exc:
            raise MtlrecError(f"fix {i} ({describe(fix)}): {exc.text}", source=sources[exc.frame]) from None
        for j, note in enumerate(made):
            notes[j].append(f"fix {i}: {note}")
        return frames
    counts = None  # a 'fewer than': the values' rows in every frame; an 'older than': the latest time of them all
    if fix.get("where") == RARE and all(column in f.columns for f in frames):
        counts = pd.concat([_keys(f[column]) for f in frames], ignore_index=True).value_counts(dropna=True)
    elif fix.get("where") == OLDER and all(column in f.columns for f in frames):
        try:
            counts = _latest(frames, column)
        except MtlrecError as exc:
            raise MtlrecError(f"fix {i} ({describe(fix)}): {exc.problems[0]}", source=sources[0]) from None
    frames = list(frames)
    for j, rows in enumerate(frames):
        try:
            frames[j], note = _apply_one(rows, fix, counts)
        except MtlrecError as exc:
            raise MtlrecError([f"fix {i} ({describe(fix)}): {p}" for p in exc.problems], source=sources[j]) from None
        notes[j].append(f"fix {i}: {note}")
    return frames


class FrameProblem(Exception):
    """What is wrong with one of the frames a fix applies to (its index in them)."""

    def __init__(self, frame: int, text: str):
        super().__init__(text)
        self.frame, self.text = frame, text


def _core(frames: list[pd.DataFrame], fix: dict) -> tuple[list[pd.DataFrame], list[str]]:
    """The k-core of a fix's columns (users and items, say): drop the rows of values seen in fewer than k rows, count
    again in the rows kept, and so on until every value left is seen in at least k rows. Counted in all the frames
    together (a test file with the training file); a missing value is no value, its row is kept. Raises
    FrameProblem naming the frame (a column missing from it, or no row of it left)."""
    columns, k = columns_of(fix), int(fix["value"])
    for j, rows in enumerate(frames):
        absent = [c for c in columns if c not in rows.columns]
        if absent:
            raise FrameProblem(j, _no_column(rows, absent[0]))
    sizes = [len(rows) for rows in frames]
    codes = []
    for column in columns:
        keys = pd.concat([_keys(rows[column]) for rows in frames], ignore_index=True)
        codes.append(pd.factorize(keys, use_na_sentinel=True)[0])  # -1: missing
    keep = np.ones(sum(sizes), dtype=bool)
    rounds = 0
    while True:
        drop = np.zeros_like(keep)
        for code in codes:
            counted = keep & (code >= 0)
            seen = np.bincount(code[counted], minlength=int(code.max(initial=0)) + 1)
            drop |= counted & (seen[np.maximum(code, 0)] < k)
        if not drop.any():
            break
        keep &= ~drop
        rounds += 1
    names = _quoted(columns, " or ")
    out, notes, start = [], [], 0
    for j, (rows, n) in enumerate(zip(frames, sizes, strict=True)):
        kept = keep[start : start + n]
        start += n
        dropped = n - int(kept.sum())
        if n and dropped == n:
            raise FrameProblem(
                j,
                f"every one of the {n:,} rows would be dropped: no rows give each {_quoted(columns, ' and each ')} "
                f"value {k} rows or more; try a smaller number",
            )
        distinct = [rows[c].iloc[np.flatnonzero(kept)].nunique() for c in columns]
        left = " and ".join(f"{d:,} '{c}' value{'' if d == 1 else 's'}" for d, c in zip(distinct, columns, strict=True))
        how = f", {rounds} round{'' if rounds == 1 else 's'}" if rounds else f": no value occurs in {RARE} {k} rows"
        if rounds and not dropped:
            how += ": none of these rows"
        note = (
            f"dropped {dropped:,} of {n:,} rows{f' ({_share(dropped, n)})' if dropped else ''} where {names} "
            f"occurs in {RARE} {k} rows, again until none does (the {k}-core{how}); {left} left"
        )
        if dropped:
            note += "; row numbers in later messages count the rows kept"
        out.append(rows.loc[kept] if dropped else rows)
        notes.append(note)
    return out, notes


def _no_column(frame: pd.DataFrame, column: str) -> str:
    shown = ", ".join(map(str, frame.columns[:20])) + (" ..." if frame.shape[1] > 20 else "")
    return f"there is no column '{column}'; the columns are: {shown}"


def _keys(series: pd.Series) -> pd.Series:
    """A column's values as keys to count (a categorical's categories as the values they are)."""
    return series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series


def _apply_one(frame: pd.DataFrame, fix: dict, counts: pd.Series | float | None = None) -> tuple[pd.DataFrame, str]:
    column = fix.get("drop") or fix.get("fill") or fix.get("from")
    if column not in frame.columns:
        raise MtlrecError(_no_column(frame, column))
    series = frame[column]
    n = len(frame)
    if n == 0:
        raise MtlrecError("there are no rows left to fix")
    if "fill" in fix:
        return _fill(frame, column, fix)
    mask, untimed = _mask(series, fix, counts)
    matched = int(mask.sum())
    unmatched = "" if matched or fix["where"] in ("missing", *COUNTED) else f": no row matches ({_values_seen(series)})"
    if fix["where"] == OLDER and math.isfinite(counts):
        unmatched = f" ({pd.Timestamp(counts, unit='s', tz='UTC'):%Y-%m-%d %H:%M} UTC){unmatched}"
    if untimed:
        unmatched += (
            f"; {untimed:,} value{'s' if untimed > 1 else ''} that {'are' if untimed > 1 else 'is'} no time never "
            f"match{'' if untimed > 1 else 'es'}"
        )
    if "drop" in fix:
        if matched == n:
            raise MtlrecError(f"every one of the {n:,} rows matches: no rows would be left")
        share = f" ({_share(matched, n)})" if matched else ""
        kept = "; row numbers in later messages count the rows kept" if matched else ""
        note = f"dropped {matched:,} of {n:,} row{'s' if n != 1 else ''}{share} where '{column}' {_condition(fix)}{unmatched}{kept}"
        return frame.loc[~mask], note
    name = fix["label"]
    if name in frame.columns:
        raise MtlrecError(f"the data already has a column '{name}': give the new label another name")
    label = mask.astype("float64")
    unknown = series.isna().to_numpy() if fix["where"] != "missing" else np.zeros(n, dtype=bool)
    if unknown.any():
        label[unknown] = np.nan
    else:
        label = label.astype("int64")
    frame = frame.copy()
    frame[name] = label.to_numpy()
    labelled = n - int(unknown.sum())
    note = (
        f"new label '{name}': {matched:,} of {labelled:,} rows ({_share(matched, labelled)}) are 1, where "
        f"'{column}' {_condition(fix)}"
    )
    if unknown.any():
        rows = int(unknown.sum())
        note += f"; missing in the {rows:,} row{'' if rows == 1 else 's'} where '{column}' is missing"
    return frame, note + unmatched


def _fill(frame: pd.DataFrame, column: str, fix: dict) -> tuple[pd.DataFrame, str]:
    series = frame[column]
    missing = series.isna()
    kind, values = _kind(series)
    value = _value_as(kind, values, fix["value"], "fill")
    if kind == "number" and pd.api.types.is_integer_dtype(series.dtype) and float(value) % 1:
        raise MtlrecError(f"the column holds whole numbers, and {_shown(fix['value'])} is not one")
    if kind == "time" and not pd.api.types.is_datetime64_any_dtype(series.dtype):
        value = fix["value"]  # times written as text or numbers: filled as written
    if not missing.any():
        return frame, f"'{column}' has no missing values: nothing filled"
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    try:
        filled = series.fillna(value)
    except (TypeError, ValueError, OverflowError) as exc:  # a value the column's type cannot hold
        raise MtlrecError(f"{_shown(fix['value'])} does not fit the column ({series.dtype}): {exc}") from None
    frame = frame.copy()
    frame[column] = filled
    filled = int(missing.sum())
    return (
        frame,
        f"filled {filled:,} missing value{'' if filled == 1 else 's'} of '{column}' with {_shown(fix['value'])}",
    )


def _mask(series: pd.Series, fix: dict, counts: pd.Series | float | None = None) -> tuple[pd.Series, int]:
    """True where the fix's condition holds (never where the value is missing, except for 'missing'), and how many
    present values could not be compared as the times the condition asks about (they never match)."""
    condition = fix["where"]
    if condition == "missing":
        return series.isna(), 0
    if condition == OLDER:  # times more than the span before the latest (a missing time is no time: kept)
        seconds = _column_seconds(series, _day_first_of(series))
        if seconds is None:  # no time in these rows (_latest refused a column of other values): none is older
            return pd.Series(False, index=series.index), 0
        before = seconds < float(counts) - span_seconds(fix["value"])
        return before.fillna(False).astype(bool), int((series.notna() & seconds.isna()).sum())
    if condition == RARE:  # the rows of values seen in fewer than N rows (a missing value is no value: kept)
        keys = _keys(series)
        seen = pd.to_numeric(keys.map(keys.value_counts(dropna=True) if counts is None else counts), errors="coerce")
        return (seen < int(fix["value"])).fillna(False).astype(bool), 0
    kind, values = _kind(series)
    value = _value_as(kind, values, fix["value"], condition)
    as_times = False
    if _date_like(fix["value"]) and kind in ("number", "text"):
        try:
            values, value = _as_times(series, fix["value"])
            as_times = True
        except MtlrecError:
            if kind == "number" or condition in ORDERED:
                raise  # text that is no time is compared as text with == and !=
    present = values.notna() & series.notna()
    untimed = int((series.notna() & values.isna()).sum()) if as_times else 0
    compared = _COMPARE[condition](values[present], value)
    result = pd.Series(False, index=series.index)
    result[present] = np.asarray(compared, dtype=bool)
    return result, untimed


_NA_WORDS = ("missing", "empty", "na", "nan", "null", "none")


def _kind(series: pd.Series) -> tuple[str, pd.Series]:
    """What the column holds ("bool", "number", "time" or "text") and its values as that kind. A column of Python
    objects (a CSV's true/false with empty cells, numbers beside missing values) is looked at value by value."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool", series
    if pd.api.types.is_numeric_dtype(dtype):
        return "number", series
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "time", series
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration", series
    if isinstance(dtype, pd.CategoricalDtype):
        return _kind(series.astype(object))
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return "bool", series.astype(object)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number", pd.to_numeric(series, errors="coerce")
    if inferred in ("datetime", "datetime64"):
        return "time", pd.to_datetime(series, errors="coerce", utc=True)
    if inferred in ("mixed", "mixed-integer"):  # numbers and text side by side: compared by how they are written
        return "text", series.map(lambda v: v if pd.isna(v) else _written(v))
    return "text", series


def _written(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _value_as(kind: str, values: pd.Series, value: Any, how: str) -> Any:
    """The fix's value as the column's kind of value; MtlrecError when it is not one, or when an order (>, <) is
    asked of text."""
    if value is None:
        raise MtlrecError("the value is empty: give a number or a text")
    hint = (
        " (to test for missing values, write the condition 'missing' instead of a value)"
        if str(value).strip().lower() in _NA_WORDS
        else ""
    )
    if kind == "bool":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = str(value).strip().lower()
        if text in ("true", "1", "1.0", "yes"):
            return True
        if text in ("false", "0", "0.0", "no"):
            return False
        raise MtlrecError(f"the column holds true/false, and {_shown(value)} is neither{hint}")
    if kind == "number":
        if isinstance(value, bool | np.bool_):
            return int(value)
        if isinstance(value, int | float | np.integer | np.floating):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            if _date_like(value) and how != "fill":
                return value  # compared as a time (_as_times), when the numbers are epoch times
            raise MtlrecError(f"the column holds numbers, and {_shown(value)} is not one{hint}") from None
        if not math.isfinite(number):
            raise MtlrecError(f"the column holds numbers, and {_shown(value)} is not a finite one")
        return number
    if kind == "time":
        stamp = _stamp(value)
        if stamp is None:
            raise MtlrecError(f"the column holds dates, and {_shown(value)} is not one: write it like 2024-05-01{hint}")
        tz = getattr(values.dtype, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif tz is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert(None)
        return stamp
    if kind == "duration":
        try:
            return pd.Timedelta(str(value).strip())
        except (ValueError, TypeError, OverflowError):
            raise MtlrecError(
                f"the column holds durations, and {_shown(value)} is not one: write it like 00:05:00 or 5min"
            ) from None
    if how in ORDERED and not _date_like(value):
        raise MtlrecError(
            "the column holds text, which has no order: use == or != (or, for times, compare with a date like "
            "2024-05-01)"
        )
    return value if isinstance(value, str) else _written(value)


# A value written as a date (2024-05-01, 2024-05-01 12:00, 01/05/2024, 01.05.2024): compared as a time with a column
# of dates written as text or of epoch numbers.
_DATE = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{4})\s*$"
)


def _date_like(value: Any) -> bool:
    return isinstance(value, str) and bool(_DATE.match(value))


_NUMBERED = re.compile(r"^\s*(\d{1,2})([/.])(\d{1,2})[/.]\d{4}\s*$")


def _stamp(value: Any, day_first: bool | None = None) -> pd.Timestamp | None:
    """The value as a time, or None. A date written with numbers only (01.05.2024, 01/05/2024) is read as the
    column reads its own (`day_first`; mtlrec.schema reads a column day first when a first field is over 12 or every
    date is dotted); for a column without such dates, by the value itself: dotted or a first field over 12 is day
    first, a second field over 12 month first, and MtlrecError when it could be either."""
    if isinstance(value, int | float | bool | np.number):
        return None
    text = str(value).strip()
    numbered = _NUMBERED.match(text)
    if numbered:
        first, dot, second = int(numbered.group(1)), numbered.group(2) == ".", int(numbered.group(3))
        if day_first is None:
            if first > 12 or (dot and second <= 12):
                day_first = True
            elif second > 12:
                day_first = False
            else:
                raise MtlrecError(
                    f"{_shown(value)} could be day/month or month/day: write the date as year-month-day, e.g. "
                    f"{text[-4:]}-{second:02d}-{first:02d} or {text[-4:]}-{first:02d}-{second:02d}"
                )
        try:
            stamp = pd.to_datetime(text, dayfirst=day_first, format="%d.%m.%Y" if dot else None)
        except (ValueError, TypeError, OverflowError):
            return None
        return None if stamp is pd.NaT else stamp
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if stamp is pd.NaT else stamp


def _as_times(series: pd.Series, value: str) -> tuple[pd.Series, float]:
    """A column of times written as text or as epoch numbers, and a date, both as epoch seconds (a date without a
    time zone is UTC, as text times are read). MtlrecError when the column does not hold times (at least 90% of its
    values)."""
    # A value written 01.05.2024 is read as the column's own dates are (when it holds such dates).
    day_first = _day_first_of(series)
    stamp = _stamp(value, day_first)
    seconds = _column_seconds(series, day_first)
    if stamp is None and seconds is not None:  # 2023-13-45: shaped as a date, no day of the calendar
        raise MtlrecError(
            f"{_shown(value)} is no valid date (no such month or day): write a date of the calendar, e.g. 2024-05-01"
        )
    if stamp is None or seconds is None:
        raise MtlrecError(
            f"{_shown(value)} is a date, but the column does not hold times (dates, or epoch seconds or milliseconds)"
        )
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return seconds, stamp.timestamp()


def _column_seconds(series: pd.Series, day_first: bool | None = None) -> pd.Series | None:
    """A column of times (datetimes, dates written as text, epoch seconds or milliseconds, YYYYMMDD or YYMMDDHH
    codes) as epoch seconds, missing where a value is no time; None when under 90% of its values are times."""
    from mtlrec.schema import PLAUSIBLE_YEARS, _datetime_seconds, parse_time

    text = (
        not pd.api.types.is_numeric_dtype(series.dtype) and pd.to_numeric(series, errors="coerce").isna().mean() > 0.5
    )
    present = series.notna()
    codes = None if text else _date_code_format(series[present])
    if codes:  # YYYYMMDD dates (KuaiRand's date) or YYMMDDHH hours (Avazu's hour): times, as inference reads them
        written = series.astype("Int64").astype("string")
        seconds = _datetime_seconds(pd.to_datetime(written, format=codes, errors="coerce"))
    else:
        seconds = _text_seconds(series, bool(day_first)) if text else parse_time(series)
    if present.any() and pd.api.types.is_numeric_dtype(seconds.dtype) and not text and not codes:
        # Epoch numbers in one unit stay as written: the unit is told by their size (about 1e9 s, 1e12 ms...).
        size = float(seconds[present].abs().median())
        powers = [p for p in range(4) if 1e8 * 1000**p <= size < 1e10 * 1000**p]
        seconds = seconds / 1000 ** powers[0] if powers else seconds * np.nan
    low, high = (pd.Timestamp(f"{y}-01-01", tz="UTC").timestamp() for y in PLAUSIBLE_YEARS)
    plausible = seconds[present].between(low, high)
    if not present.any() or plausible.mean() < 0.9:
        return None
    return seconds.where(seconds.between(low, high))


def _day_first_of(series: pd.Series) -> bool | None:
    """Whether a column's dates are written day first (13/04/2024), as _as_times reads them; None without dates."""
    from mtlrec.schema import _date_fields, _day_first

    return _day_first(series) if len(_date_fields(series)) else None


def _latest(frames: list[pd.DataFrame], column: str) -> float:
    """The latest time of `column` over the frames (the training and test files): what 'older than' counts back
    from. MtlrecError when a frame's column holds no times."""
    latest = []
    for rows in frames:
        if not rows[column].notna().any():  # no rows left, or no time in them: nothing to count back from
            continue
        seconds = _column_seconds(rows[column], _day_first_of(rows[column]))
        if seconds is None:
            raise MtlrecError(
                f"'{OLDER}' needs a column of times (dates, or epoch seconds or milliseconds), and '{column}' does "
                f"not hold them ({_values_seen(rows[column])})"
            )
        latest.append(float(seconds.max()))
    return max(latest, default=math.nan)


def _date_code_format(present: pd.Series) -> str | None:
    """The strptime format of a column of whole numbers that are all YYYYMMDD dates or YYMMDDHH hours, else None."""
    from mtlrec.schema import _date_codes, _hour_codes

    if not len(present) or not pd.api.types.is_numeric_dtype(present.dtype) or present.dtype.kind == "b":
        return None
    values = present.to_numpy(dtype=float)
    if not np.all(np.mod(values, 1) == 0):
        return None
    return "%Y%m%d" if _date_codes(values) else "%y%m%d%H" if _hour_codes(values) else None


def _text_seconds(series: pd.Series, day_first: bool) -> pd.Series:
    """Times written as text, as epoch seconds: parsed with the one format their first values have when it reads
    (nearly) all of them as parse_time does (1M rows of '05/01/2024 13:00': about a second, against 75 s value by
    value), else by parse_time itself."""
    from pandas.tseries.api import guess_datetime_format

    from mtlrec.schema import _datetime_seconds, parse_time

    present = series.dropna().astype(str)
    if len(present) < 1000:
        return parse_time(series)
    written = guess_datetime_format(present.iloc[0].strip(), dayfirst=day_first)
    if written:
        head = series.head(1000)
        try:
            parsed = pd.to_datetime(series.astype(str).str.strip(), format=written, errors="coerce", utc=True)
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None:
            seconds = _datetime_seconds(parsed)
            agree = np.allclose(seconds.head(1000).to_numpy(), parse_time(head).to_numpy(), equal_nan=True)
            if agree and seconds[series.notna()].notna().mean() >= 0.99:
                return seconds
    return parse_time(series)


def _share(part: int, whole: int) -> str:
    """'33.2%', and 'under 0.1%' / 'over 99.9%' where one decimal would say 0.0% or 100.0% of a part that is not."""
    share = part / max(whole, 1)
    if 0 < share < 0.001:
        return "under 0.1%"
    if 0.999 < share < 1:
        return "over 99.9%"
    return f"{share:.1%}"


def _values_seen(series: pd.Series) -> str:
    """'its values are e.g. 'a', 'b', 'c'', for a condition that matched no row."""
    values = pd.unique(series.dropna())[:3]
    return "its values are e.g. " + ", ".join(_shown(_plain(v)) for v in values) if len(values) else "it is empty"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
