"""Fixes to the rows, made where the data is read: drop rows, fill missing values, make a 0/1 label from a column.

Validation tells an analyst what to change ("drop those rows", "add a 0/1 label (e.g. rating >= 4)"); someone with
only a browser could not change the file. A fix is recorded in the run's config (`data.fixes`) and applied, in its
order, every time the config's data is read (training, Recommend, a re-run from config.json), to the training file
and the test file alike: the file itself is never changed, and the run stays fully described by its config.

Each fix is a small JSON object:

    {"drop": "purchase", "where": "missing"}                 drop rows where 'purchase' is missing
    {"drop": "rating", "where": "==", "value": -1}           drop rows where 'rating' == -1
    {"fill": "purchase", "value": 0}                         fill the missing values of 'purchase' with 0
    {"label": "liked", "from": "rating", "where": ">=", "value": 4}
                                                             new column 'liked': 1 where 'rating' >= 4, else 0

A label is missing where its source column is (a rating never given is no "not liked"), unless the condition is
"missing" itself. On the command line: --drop "purchase missing", --drop "rating == -1", --fill purchase=0,
--label "liked=rating >= 4" (see parse_fix).
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

# The conditions a drop or a label can test, as written in a fix.
CONDITIONS = ("missing", "==", "!=", ">", ">=", "<", "<=")
ORDERED = (">", ">=", "<", "<=")
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
ACTIONS = ("drop", "fill", "label")
_KEYS = {
    "drop": {"drop", "where", "value"},
    "fill": {"fill", "value"},
    "label": {"label", "from", "where", "value"},
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
        if len(actions) != 1:
            problems.append(
                f"{where} ({json.dumps(fix, default=str)}) must have exactly one of the keys 'drop', 'fill' or 'label'"
            )
            continue
        action = actions[0]
        unknown = sorted(set(fix) - _KEYS[action])
        if unknown:
            problems.append(
                f"{where} ({action}) has unknown keys {', '.join(map(repr, unknown))}; it takes "
                f"{', '.join(map(repr, sorted(_KEYS[action])))}"
            )
        names = [action] + (["from"] if action == "label" else [])
        for key in names:
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
        if action == "fill" and "value" not in fix:
            problems.append(f"{where} (fill): 'value' is missing: the value that fills the empty cells")
        value = fix.get("value")
        if "value" in fix and not (
            isinstance(value, str)
            or (isinstance(value, int | float) and not isinstance(value, bool))
            or value is None
            or isinstance(value, bool)
        ):
            problems.append(f"{where} ({action}): 'value' must be a number, text or true/false, got {value!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{where} ({action}): 'value' must be a finite number, got {value!r}")
    return problems


def describe(fix: dict) -> str:
    """A fix as a sentence: "drop rows where 'rating' == -1"."""
    if "drop" in fix:
        return f"drop rows where '{fix['drop']}' {_condition(fix)}"
    if "fill" in fix:
        return f"fill missing values of '{fix['fill']}' with {_shown(fix.get('value'))}"
    return f"new 0/1 label '{fix['label']}': 1 where '{fix['from']}' {_condition(fix)}, else 0"


def _condition(fix: dict) -> str:
    return "is missing" if fix.get("where") == "missing" else f"{fix.get('where')} {_shown(fix.get('value'))}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def fixes_key(fixes: list[dict]) -> str:
    """The fixes as canonical text: equal keys, equal fixes."""
    return json.dumps(fixes, sort_keys=True, default=str)


# ------------------------------------------------------------------------------------------------ the command line
def how_to(action: str, text: str) -> str:
    """Where a fix is made, for validation's advice: "on Data: Fix the rows; CLI: --drop 'rating missing'"."""
    return f"on Data: Fix the rows; CLI: --{action} {shlex.quote(text)}"


_OPERATOR = re.compile(r"(==|!=|>=|<=|>|<)")
_MISSING = re.compile(r"^(?P<column>.+?)\s+(?:is\s+)?(?:missing|empty|na|nan|null)\s*$", re.IGNORECASE)


def parse_fix(action: str, text: str) -> dict:
    """A fix from its command-line form: drop "COL missing" / "COL OP VALUE", fill "COL=VALUE", label
    "NAME=COL OP VALUE" (NAME=COL missing). A value that reads as a number is one; quotes make it text ('"7"')."""
    flag = f"--{action}"
    text = text.strip()
    if action == "fill":
        column, sep, value = text.partition("=")
        if not sep or not column.strip():
            raise MtlrecError(f"{flag} takes COLUMN=VALUE, e.g. {flag} purchase=0, got '{text}'")
        return {"fill": column.strip(), "value": parse_value(value.strip())}
    name = None
    if action == "label":
        # NAME=... : the first '=' that is not part of an operator (==, >=, <=, !=)
        match = re.match(r"^([^=<>!]+)=(?!=)(.*)$", text)
        if not match or not match.group(1).strip():
            raise MtlrecError(f"{flag} takes NAME=COLUMN OP VALUE, e.g. {flag} \"liked=rating >= 4\", got '{text}'")
        name, text = match.group(1).strip(), match.group(2).strip()
    missing = _MISSING.match(text)
    if missing and not _OPERATOR.search(text):
        column, condition, value = missing.group("column").strip(), "missing", None
    else:
        parts = _OPERATOR.split(text, maxsplit=1)
        if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
            example = '"rating == -1" or "purchase missing"' if action == "drop" else '"liked=rating >= 4"'
            raise MtlrecError(
                f"{flag} takes {'NAME=' if action == 'label' else ''}COLUMN OP VALUE (OP one of "
                f"{', '.join(CONDITIONS[1:])}) or {'NAME=' if action == 'label' else ''}COLUMN missing, e.g. "
                f"{flag} {example}, got '{text}'"
            )
        column, condition, value = parts[0].strip(), parts[1], parse_value(parts[2].strip())
    fix = {"drop": column} if action == "drop" else {"label": name, "from": column}
    fix["where"] = condition
    if condition != "missing":
        fix["value"] = value
    return fix


def parse_value(text: str) -> Any:
    """'4' -> 4, '0.5' -> 0.5, 'true' -> True, '"7"' or "'7'" -> '7' (text), anything else stays text."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if re.fullmatch(r"[+-]?\d+", text) else number


# ------------------------------------------------------------------------------------------------ applying them
def apply_fixes(frame: pd.DataFrame, fixes: list[dict], source: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows with the fixes applied in order, and a note per fix saying what it changed. MtlrecError names the
    fix and what is wrong (a column not in the data, a value of the wrong kind, no rows left). A frame that already
    holds exactly these fixes (its attrs say so) comes back as it is, with the notes of when they were applied."""
    if not fixes:
        return frame, []
    problems = fix_problems(fixes)
    if problems:
        raise MtlrecError(problems, source="config")
    key = fixes_key(fixes)
    if frame.attrs.get(APPLIED) == key:
        return frame, list(frame.attrs.get(APPLIED_NOTES) or [])
    notes = []
    for i, fix in enumerate(fixes, 1):
        try:
            frame, note = _apply_one(frame, fix)
        except MtlrecError as exc:
            raise MtlrecError([f"fix {i} ({describe(fix)}): {p}" for p in exc.problems], source=source) from None
        notes.append(f"fix {i}: {note}")
    frame = frame.reset_index(drop=True)
    frame.attrs = {**frame.attrs, APPLIED: key, APPLIED_NOTES: notes}  # a new dict: the rows as read stay unmarked
    return frame, notes


def _apply_one(frame: pd.DataFrame, fix: dict) -> tuple[pd.DataFrame, str]:
    column = fix.get("drop") or fix.get("fill") or fix.get("from")
    if column not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:20])) + (" ..." if frame.shape[1] > 20 else "")
        raise MtlrecError(f"there is no column '{column}'; the columns are: {shown}")
    series = frame[column]
    n = len(frame)
    if "fill" in fix:
        missing = series.isna()
        value = _typed(series, fix["value"], "fill")
        if not missing.any():
            return frame, f"'{column}' has no missing values: nothing filled"
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        frame = frame.copy()
        frame[column] = series.fillna(value)
        return frame, f"filled {int(missing.sum()):,} missing values of '{column}' with {_shown(fix['value'])}"
    mask = _mask(series, fix)
    if "drop" in fix:
        dropped = int(mask.sum())
        if dropped == n:
            raise MtlrecError(f"every one of the {n:,} rows matches: no rows would be left")
        kept = frame.loc[~mask]
        share = f" ({dropped / n:.1%})" if dropped else ""
        return kept, f"dropped {dropped:,} of {n:,} rows{share} where '{column}' {_condition(fix)}"
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
    ones = int(mask.sum())
    note = f"new label '{name}': 1 in {ones:,} of {n:,} rows ({ones / n:.1%}) where '{column}' {_condition(fix)}"
    if unknown.any():
        rows = int(unknown.sum())
        note += f"; missing in the {rows:,} row{'' if rows == 1 else 's'} where '{column}' is missing"
    return frame, note


def _mask(series: pd.Series, fix: dict) -> pd.Series:
    """True where the fix's condition holds (never where the value is missing, except for 'missing')."""
    condition = fix["where"]
    if condition == "missing":
        return series.isna()
    value = _typed(series, fix["value"], condition)
    present = series.notna()
    compared = _COMPARE[condition](series[present], value)
    result = pd.Series(False, index=series.index)
    result[present] = compared.to_numpy(dtype=bool)
    return result


def _typed(series: pd.Series, value: Any, how: str) -> Any:
    """The fix's value as the column's kind of value: a number for a numeric column, a time for a time column, text
    for text. MtlrecError when it is not one, or when an order (>, <) is asked of text."""
    if value is None:
        raise MtlrecError("the value is empty: give a number or a text")
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "1.0"):
            return True
        if text in ("false", "0", "0.0"):
            return False
        raise MtlrecError(f"the column holds true/false, and {_shown(value)} is neither")
    if pd.api.types.is_numeric_dtype(dtype):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise MtlrecError(f"the column holds numbers, and {_shown(value)} is not one") from None
        if not math.isfinite(number):
            raise MtlrecError(f"the column holds numbers, and {_shown(value)} is not a finite one")
        return number
    if pd.api.types.is_datetime64_any_dtype(dtype):
        try:
            stamp = pd.Timestamp(str(value).strip()) if not isinstance(value, int | float) else None
        except (ValueError, TypeError):
            stamp = None
        if stamp is None or stamp is pd.NaT:
            raise MtlrecError(f"the column holds dates, and {_shown(value)} is not one: write it like 2024-05-01")
        tz = getattr(dtype, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif tz is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert(None)
        return stamp
    if how in ORDERED:
        raise MtlrecError("the column holds text, which has no order: use == or != (or make the column numbers first)")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
