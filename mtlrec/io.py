"""Read interaction files (CSV, CSV.gz, Parquet) into DataFrames, with specific messages for bad files."""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from pandas.api.types import is_numeric_dtype, is_object_dtype, is_string_dtype

from mtlrec.errors import MtlrecError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
# Magic numbers of files people rename to .csv by mistake.
_MAGIC = {
    b"PK\x03\x04": "a zip archive (an .xlsx workbook is one): export the sheet as CSV or Parquet",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office file: export the sheet as CSV or Parquet",
    b"%PDF": "a PDF document, not a table",
    b"\x89PNG": "a PNG image, not a table",
    b"\xff\xd8\xff": "a JPEG image, not a table",
    b"SQLite format 3": "an SQLite database: export a table as CSV or Parquet",
    b"\x80\x04": "a Python pickle (never loaded, for safety): save the DataFrame with to_parquet instead",
    b"\x80\x05": "a Python pickle (never loaded, for safety): save the DataFrame with to_parquet instead",
}
_ENCODINGS = ("utf-8-sig", "utf-16", "cp1252")


@dataclass
class Table:
    """A loaded table plus notes on what the loader decided (encoding used, delimiter found)."""

    frame: pd.DataFrame
    name: str
    notes: list[str] = field(default_factory=list)


def load_table(source: str | Path | bytes | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read a CSV/CSV.gz/Parquet file (path, bytes or binary file object) into a DataFrame."""
    return read_table(source, name).frame


def read_table(source: str | Path | bytes | BinaryIO, name: str | None = None) -> Table:
    """Like load_table, and also return the loader's notes. Raises MtlrecError naming the file."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        if not path.exists():
            raise MtlrecError(f"file '{path}' does not exist")
        if path.is_dir():
            raise MtlrecError(f"'{path}' is a folder, not a file")
        data = path.read_bytes()
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = source.read()
    name = name or "uploaded file"
    if not data.strip():
        raise MtlrecError("the file is empty", source=name)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise MtlrecError(f"the gzip file is damaged ({exc})", source=name) from None
        if not data.strip():
            raise MtlrecError("the file is empty (after decompression)", source=name)
    if data[:4] == b"PAR1":
        table = _read_parquet(data, name)
    else:
        for magic, what in _MAGIC.items():
            if data.startswith(magic):
                raise MtlrecError(f"this is {what}", source=name)
        if name.lower().endswith((".parquet", ".pq")):
            raise MtlrecError("the file is named .parquet but is not a Parquet file", source=name)
        table = _read_csv(data, name)
    _check_frame(table.frame, name)
    return table


def _read_parquet(data: bytes, name: str) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Names and types are checked on the schema before reading: pq.read_table itself fails on duplicate names.
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        schema = parquet.schema_arrow
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise MtlrecError(f"the Parquet file cannot be read ({exc})", source=name) from None
    _check_names(schema.names, name)
    nested = [
        f"'{f.name}' ({f.type})"
        for f in schema
        if pa.types.is_nested(f.type) or pa.types.is_dictionary(f.type) and pa.types.is_nested(f.type.value_type)
    ]
    if nested:
        raise MtlrecError(
            f"column(s) {', '.join(nested)} hold nested values (lists, structs or maps), which cannot be used "
            "as features or labels: flatten them into plain columns or drop them",
            source=name,
        )
    try:
        arrow = parquet.read()
    except Exception as exc:
        raise MtlrecError(f"the Parquet file cannot be read ({exc})", source=name) from None
    try:
        frame = arrow.to_pandas()
    except Exception as exc:
        raise MtlrecError(f"the Parquet file has a column type pandas cannot read ({exc})", source=name) from None
    return Table(frame, name)


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    head = data[:SNIFF_BYTES]
    utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
    if not utf16 and b"\x00" in head:
        raise MtlrecError(
            "the file holds binary data, not text: upload a CSV (comma, semicolon or tab separated) or Parquet file",
            source=name,
        )
    for encoding in _ENCODINGS:
        if encoding == "utf-16" and not utf16:
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        notes = [] if encoding == "utf-8-sig" else [f"read as {encoding.upper()} text (the file is not UTF-8)"]
        return text, notes
    raise MtlrecError(
        "the file is not valid UTF-8 or Windows-1252 text: save it as UTF-8 CSV",
        source=name,
    )


def _sniff_delimiter(text: str) -> str:
    sample = text[:SNIFF_BYTES]
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        # The sniffer gives up on single-column files and on some quoting; count delimiters in the header instead.
        header = lines[0]
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


def _read_csv(data: bytes, name: str) -> Table:
    text, notes = _decode(data, name)
    delimiter = _sniff_delimiter(text)
    if delimiter != ",":
        notes.append(f"delimiter detected: {'tab' if delimiter == chr(9) else repr(delimiter)}")
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    _check_names([h.strip() for h in header], name)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, engine="c", low_memory=False)
    except pd.errors.EmptyDataError:
        raise MtlrecError("the file has no columns", source=name) from None
    except pd.errors.ParserError as exc:
        raise MtlrecError(_explain_parser_error(str(exc), delimiter), source=name) from None
    except (ValueError, OverflowError) as exc:
        raise MtlrecError(f"the file cannot be parsed as CSV ({exc})", source=name) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if delimiter != ",":
        converted = _read_decimal_commas(frame)
        if converted:
            notes.append(f"decimal commas read as numbers in {', '.join(repr(c) for c in converted[:10])}")
    return Table(frame, name, notes)


_DECIMAL_COMMA = r"-?\d+(,\d+)?"


def _read_decimal_commas(frame: pd.DataFrame) -> list[str]:
    """Text columns holding numbers written with a decimal comma (1,5), as in many European exports."""
    converted = []
    for column in frame.columns:
        values = frame[column]
        if is_numeric_dtype(values) or not (is_object_dtype(values) or is_string_dtype(values)):
            continue
        text = values.dropna().astype(str).str.strip()
        if len(text) and text.str.contains(",", regex=False).any() and text.str.fullmatch(_DECIMAL_COMMA).all():
            numbers = pd.to_numeric(values.astype("string").str.strip().str.replace(",", ".", regex=False))
            frame[column] = numbers.astype("float64")
            converted.append(column)
    return converted


def _explain_parser_error(message: str, delimiter: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    shown = "tab" if delimiter == "\t" else repr(delimiter)
    if found:
        expected, line, saw = found.groups()
        return (
            f"line {line} has {saw} fields but the header has {expected} (delimiter {shown}): "
            "fix that row, quote values that contain the delimiter, or check the delimiter"
        )
    return f"the file cannot be parsed as CSV with delimiter {shown} ({message.strip()})"


def _check_names(names: list[str], source: str) -> None:
    seen: dict[str, list[int]] = {}
    for position, column in enumerate(names, start=1):
        seen.setdefault(str(column), []).append(position)
    duplicates = [f"'{c}' (columns {', '.join(map(str, p))})" for c, p in seen.items() if len(p) > 1]
    if duplicates:
        raise MtlrecError(
            f"duplicate column names: {'; '.join(duplicates[:10])}: give every column a unique name",
            source=source,
        )


def _check_frame(frame: pd.DataFrame, name: str) -> None:
    if frame.shape[1] == 0:
        raise MtlrecError("the file has no columns", source=name)
    if len(frame) == 0:
        raise MtlrecError("the file has a header but no data rows", source=name)
    if frame.shape[1] == 1 and len(frame) > 0:
        raise MtlrecError(
            f"only one column ('{frame.columns[0]}') was found: a table needs user/item, feature and label "
            "columns separated by commas, semicolons or tabs",
            source=name,
        )
