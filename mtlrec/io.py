"""Read interaction files (CSV, CSV.gz, Parquet) into DataFrames, with specific messages for bad files.

Nothing read is ever unpickled or evaluated: formats are recognised by their first bytes, CSV goes through pandas'
C parser and Parquet through pyarrow, and every problem becomes an MtlrecError naming the file, and the line or
column where that helps.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import string
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype, is_object_dtype, is_string_dtype

from mtlrec.errors import MtlrecError
from mtlrec.fmt import nbytes
from mtlrec.resources import available_memory

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50
DELIMITERS = ",;\t|"
UPLOAD_TYPES = ("csv", "tsv", "txt", "dat", "gz", "parquet", "pq")  # file name endings the app's uploaders accept
MAX_NAME_LENGTH = 200  # a longer "column name" is data in a file without a header line
GUNZIP_CHUNK = 1 << 20
WIDE = 64  # columns beyond which a loaded table's memory blocks are merged (one copy, up to MERGE_CELLS values)
MERGE_CELLS = 20_000_000
PICKLE = "a Python pickle (never loaded, for safety): save the DataFrame with to_parquet instead"
# Magic numbers of files people rename to .csv by mistake (zip archives are looked into: see _describe_zip).
_MAGIC = {
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office file: export the sheet as CSV or Parquet",
    b"%PDF": "a PDF document, not a table",
    b"\x89PNG": "a PNG image, not a table",
    b"\xff\xd8\xff": "a JPEG image, not a table",
    b"SQLite format 3": "an SQLite database: export a table as CSV or Parquet",
    b"\x80\x02": PICKLE,
    b"\x80\x03": PICKLE,
    b"\x80\x04": PICKLE,
    b"\x80\x05": PICKLE,
    b"ARROW1": "an Arrow/Feather file: save the table as Parquet (DataFrame.to_parquet) instead",
    b"\x93NUMPY": "a NumPy array (.npy), not a table with named columns: save it as CSV or Parquet",
    b"\x89HDF\r\n\x1a\n": "an HDF5 file: save the table as CSV or Parquet",
    b"\xfd7zXZ\x00": "an xz-compressed file: decompress it, or compress the CSV with gzip (.csv.gz is read directly)",
    b"\x28\xb5\x2f\xfd": "a zstd-compressed file: decompress it, or compress the CSV with gzip (.csv.gz is read directly)",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive: extract the CSV or Parquet file inside and upload that",
    b"Rar!\x1a\x07": "a RAR archive: extract the CSV or Parquet file inside and upload that",
}
_MARKUP = re.compile(rb"\s*<(!doctype html|html|\?xml)", re.IGNORECASE)
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class Table:
    """A loaded table plus notes on what the loader decided (encoding used, delimiter found)."""

    frame: pd.DataFrame
    name: str
    notes: list[str] = field(default_factory=list)


def load_table(source: str | Path | bytes | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read a CSV/CSV.gz/Parquet file (path, bytes or binary file object) into a DataFrame."""
    return read_table(source, name).frame


def read_table(
    source: str | Path | bytes | BinaryIO, name: str | None = None, *, max_bytes: int | None = None
) -> Table:
    """Like load_table, and also return the loader's notes. Raises MtlrecError naming the file.

    `max_bytes` refuses larger files before they are read (a path is checked by its size on disk).
    """
    data, name = _read_bytes(source, name, max_bytes)
    if not data.strip():
        raise MtlrecError("the file is empty", source=name)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name)
        if not data.strip():
            raise MtlrecError("the file is empty (after decompression)", source=name)
    if data[:4] == b"PAR1":
        table = _read_parquet(data, name)
    else:
        _recognise(data, name)
        if name.lower().endswith((".parquet", ".pq")):
            raise MtlrecError("the file is named .parquet but is not a Parquet file", source=name)
        table = _read_csv(data, name)
    _check_frame(table.frame, name)
    if table.frame.shape[1] > WIDE and table.frame.size <= MERGE_CELLS:
        # The CSV parser keeps one memory block per column; a copy merges them by dtype, so that every later row
        # selection and conversion of a wide table is one operation per dtype instead of one per column.
        table.frame = table.frame.copy()
    return table


def _read_bytes(source, name: str | None, max_bytes: int | None) -> tuple[bytes, str]:
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        if not path.exists():
            raise MtlrecError(f"file '{path}' does not exist")
        if path.is_dir():
            raise MtlrecError(f"'{path}' is a folder, not a file")
        if not path.is_file():  # reading a pipe or a device such as /dev/zero would never end
            raise MtlrecError(f"'{path}' is not a regular file (a pipe, socket or device): save the table to a file")
        _check_size(path.stat().st_size, max_bytes, name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MtlrecError(f"the file cannot be read ({exc.strerror or exc})", source=name) from None
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = source.read()
    name = name or "uploaded file"
    _check_size(len(data), max_bytes, name)
    return data, name


def _check_size(size: int, max_bytes: int | None, name: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise MtlrecError(
            f"the file is {nbytes(size)}, over the limit of {nbytes(max_bytes)}: use fewer rows or columns, "
            "or save it as Parquet or .csv.gz (both much smaller)",
            source=name,
        )


def _gunzip(data: bytes, name: str) -> bytes:
    """Decompress in chunks, refusing to expand beyond half the memory free (a small .gz can hold gigabytes)."""
    free = available_memory()
    limit = free // 2 if free else None
    chunks, total = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(GUNZIP_CHUNK):
                total += len(chunk)
                if limit is not None and total > limit:
                    raise MtlrecError(
                        f"the gzip file expands to more than {nbytes(limit)}, half the memory free on this machine: "
                        "use fewer rows or columns, or save the table as Parquet",
                        source=name,
                    )
                chunks.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise MtlrecError(f"the gzip file is damaged ({exc})", source=name) from None
    return b"".join(chunks)


def _recognise(data: bytes, name: str) -> None:
    """Reject files that are something else than a table, saying what they are."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise MtlrecError(_describe_zip(data), source=name)
    if data[:3] == b"BZh" and data[4:10] == b"1AY&SY":
        raise MtlrecError(
            "this is a bzip2-compressed file: decompress it, or compress the CSV with gzip (.csv.gz is read directly)",
            source=name,
        )
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise MtlrecError(f"this is {what}", source=name)
    if json_kind := _json(data):
        raise MtlrecError(json_kind, source=name)
    if _MARKUP.match(data[:1024]):
        raise MtlrecError(
            "this is an HTML or XML document, not a table: download the raw CSV file (not the web page showing it)",
            source=name,
        )


# The start of a JSON document spread over lines, or cut by the sample: an object's first key, an array of objects
# or arrays, or the bracket alone on its line.
_JSON_START = re.compile(rb'(\{\s*("[^"\n]*"\s*:|$)|\[\s*(\{|\[|$))')


def _json(data: bytes) -> str | None:
    """What to say about a JSON file renamed .csv (JSON lines, an array, an API's error object), else None. Read as
    CSV, '{"user_id": 42' became a column name."""
    head = data[:SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[:1] not in (b"{", b"["):
        return None
    line, _, rest = head.partition(b"\n")
    line = line.strip()
    try:
        value = json.loads(line)
    except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
        if not _JSON_START.match(line):
            return None  # '[user_id],[item_id]' (SQL Server's quoting) or '{a},{b}': a header
        value = None  # a document spread over lines, or a line longer than the sample
    if isinstance(value, dict) and rest.lstrip()[:1] == b"{":
        return (
            "this is JSON lines (one JSON object per line), not CSV: convert it, e.g. with pandas: "
            "pd.read_json(path, lines=True).to_parquet('interactions.parquet'), and use that file"
        )
    if isinstance(value, dict):
        return (
            f"this is a JSON object ({_cut(line.decode('utf-8', 'replace'))}), not a CSV table: an error message "
            "saved instead of the data? Download the file again; JSON lines convert with pandas: "
            "pd.read_json(path, lines=True).to_parquet('interactions.parquet')"
        )
    return (
        "this is JSON, not CSV: convert it, e.g. with pandas: pd.read_json(path).to_parquet('interactions.parquet'), "
        "and use that file"
    )


def _describe_zip(data: bytes) -> str:
    """What a zip archive holds, from its directory only (nothing is extracted)."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        names = []
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return (
            "this is an Excel workbook (.xlsx), not a CSV file: in Excel choose File > Save As > CSV UTF-8 "
            "(or save it as Parquet) and use that file"
        )
    if "mimetype" in names and "content.xml" in names:
        return "this is an OpenDocument file (.ods), not a CSV file: save the sheet as CSV or Parquet"
    if any(n.endswith((".pkl", ".pickle")) for n in names):
        return (
            "this is a zip archive holding pickled Python objects (a PyTorch or joblib file?), never loaded (for "
            "safety): save the table as CSV or Parquet"
        )
    tables = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt", ".gz", ".parquet", ".pq"))]
    if tables:
        shown = ", ".join(f"'{t}'" for t in tables[:3]) + (", ..." if len(tables) > 3 else "")
        return f"this is a zip archive holding {shown}: unzip it and use that file (.csv.gz is read directly)"
    return "this is a zip archive (an .xlsx workbook is one): export the sheet as CSV or Parquet"


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

    def value_type(f):
        return f.type.value_type if pa.types.is_dictionary(f.type) else f.type

    nested = [f"'{f.name}' ({f.type})" for f in schema if pa.types.is_nested(value_type(f))]
    if nested:
        raise MtlrecError(
            f"column(s) {', '.join(nested)} hold nested values (lists, structs or maps), which cannot be used "
            "as features or labels: flatten them into plain columns or drop them",
            source=name,
        )
    raw = [
        f"'{f.name}' ({f.type})"
        for f in schema
        if pa.types.is_binary(value_type(f))
        or pa.types.is_large_binary(value_type(f))
        or pa.types.is_fixed_size_binary(value_type(f))
    ]
    if raw:
        raise MtlrecError(
            f"column(s) {', '.join(raw)} hold raw bytes, which cannot be used as features or labels: "
            "decode them to text or drop them",
            source=name,
        )
    try:
        arrow = parquet.read()
    except Exception as exc:
        raise MtlrecError(f"the Parquet file cannot be read ({exc})", source=name) from None
    notes = []
    decimals = [f.name for f in arrow.schema if pa.types.is_decimal(f.type)]
    for column in decimals:  # exact decimals would arrive as Python objects: a price would become a category
        arrow = arrow.set_column(arrow.schema.get_field_index(column), column, arrow[column].cast(pa.float64()))
    if decimals:
        notes.append(f"decimal column(s) {', '.join(repr(c) for c in decimals[:10])} read as floating-point numbers")
    try:
        frame = arrow.to_pandas(date_as_object=False)  # dates as datetime64: usable as timestamps
        for column in frame.columns[[isinstance(t, pd.ArrowDtype) for t in frame.dtypes]]:
            # Saved from pandas' pyarrow backend (float64[pyarrow]...): numpy's operations refuse those columns.
            converted = pa.array(frame[column].array).to_pandas(date_as_object=False)
            frame[column] = converted.set_axis(frame.index)
    except Exception as exc:
        raise MtlrecError(f"the Parquet file has a column type pandas cannot read ({exc})", source=name) from None
    # Saved after df.set_index('user_id'): pandas' metadata made it the index again, out of the columns. An index
    # that repeats a column (set_index(..., drop=False)) is dropped.
    named = [n for n in frame.index.names if n is not None and n not in frame.columns]
    if named:
        frame = frame.reset_index(level=named)
        notes.append(f"the index saved with the file ({', '.join(repr(str(n)) for n in named)}) read as a column")
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=True)
    notes += _text_names(frame, name)
    padded = [c for c in frame.columns if c != c.strip()]
    if padded:  # as in a CSV file: 'click ' is 'click' (two such names are duplicates)
        frame.columns = [c.strip() for c in frame.columns]
        _check_names(list(frame.columns), name)
        notes.append(f"spaces around column names removed: {', '.join(repr(c) for c in padded[:5])}")
    return Table(frame, name, notes)


def _text_names(frame: pd.DataFrame, name: str) -> list[str]:
    """Column names as text. pandas' metadata in a Parquet file restores the names a DataFrame had: numbers (0, 1,
    2 from pd.DataFrame(array)) become their text, several levels (MultiIndex columns) are refused."""
    if isinstance(frame.columns, pd.MultiIndex):
        raise MtlrecError(
            f"the columns have {frame.columns.nlevels} levels of names (e.g. {frame.columns[0]!r}), but column "
            "names must be one level of text: flatten the columns before saving, e.g. "
            "df.columns = ['_'.join(map(str, c)) for c in df.columns]",
            source=name,
        )
    other = [c for c in frame.columns if not isinstance(c, str)]
    if not other:
        return []
    frame.columns = [str(c) for c in frame.columns]
    _check_names(list(frame.columns), name)
    shown = ", ".join(repr(str(c)) for c in other[:5]) + (", ..." if len(other) > 5 else "")
    return [f"column names saved as numbers read as text: {shown}"]


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the bytes look like mostly-ASCII UTF-16 text without a byte-order mark."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = np.frombuffer(head[0::2], np.uint8), np.frombuffer(head[1::2], np.uint8)
    if (odd == 0).mean() > 0.9 and (even == 0).mean() < 0.1:
        return "utf-16-le"
    if (even == 0).mean() > 0.9 and (odd == 0).mean() < 0.1:
        return "utf-16-be"
    return None


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    head = data[:SNIFF_BYTES]
    if head[:4] in _UTF32_BOMS:
        candidates = ["utf-32"]
    elif head[:2] in _UTF16_BOMS:
        candidates = ["utf-16"]
    elif b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16 is None:
            codes = np.frombuffer(head, np.uint8)
            text_like = ((codes >= 32) & (codes < 127)) | np.isin(codes, (0, 9, 10, 13))
            # Text with a few zero bytes in it: say where the first one is.
            _refuse_zero_bytes(data, data.index(b"\x00") if text_like.mean() > 0.95 else None, name)
        candidates = [utf16]
    else:
        zero = data.find(b"\x00", len(head))  # one pass in C over the rest: zero bytes after the sniffed start
        if zero >= 0:
            _refuse_zero_bytes(data, zero, name)
        candidates = ["utf-8-sig", "cp1252"]
    if candidates == ["utf-8-sig", "cp1252"]:
        try:
            return data.decode("utf-8-sig"), []
        except UnicodeDecodeError:
            return _decode_by_line(data, name)
    try:
        text = data.decode(candidates[0])
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MtlrecError(
            f"the file is not valid {candidates[0].upper()} text (line {line} holds the byte "
            f"0x{data[exc.start]:02x}): save it as UTF-8 CSV",
            source=name,
        ) from None
    shown = candidates[0].upper().partition("-LE")[0].partition("-BE")[0]
    return text, [f"read as {shown} text (the file is not UTF-8)"]


# Multi-byte encodings of Chinese, Japanese and Korean Windows exports: Windows-1252 reads almost any bytes, so a
# GBK file became mojibake ('点击' -> 'µã»÷') that no task name could match. Only these are taken from the
# detector (charset_normalizer, which requests, a dependency of Streamlit, installs): for Western text it may
# guess a cousin of Windows-1252 (cp1250 for French) that would change letters.
# The detector chooses among these and Windows-1252 only (left free, it took a short Big5 file for Johab).
EAST_ASIAN = {"gb18030": "GB18030", "big5": "Big5", "cp949": "CP949", "shift_jis": "Shift-JIS", "euc_jp": "EUC-JP"}


def _east_asian(data: bytes) -> tuple[str, list[str]] | None:
    """The text of a Chinese, Japanese or Korean file (not UTF-8), with a note; None when it is not one."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # not installed: Windows-1252 as before
        return None
    best = from_bytes(data[: 1 << 20], cp_isolation=[*EAST_ASIAN, "cp1252"]).best()
    encoding = best.encoding if best is not None else None
    if encoding not in EAST_ASIAN:
        return None
    try:
        return data.decode(encoding), [f"read as {EAST_ASIAN[encoding]} text (detected; the file is not UTF-8)"]
    except UnicodeDecodeError:
        return None


def _decode_by_line(data: bytes, name: str) -> tuple[str, list[str]]:
    """A file that is not all UTF-8: each line as UTF-8 where it is, else as Windows-1252. A UTF-8 file with a few
    lines pasted from elsewhere keeps its 'café' (decoded whole as Windows-1252 it became 'cafÃ©' beside the
    pasted line's 'café': one item, two ids). A file with no UTF-8 beyond ASCII is Chinese, Japanese or Korean
    when the detector says so (_east_asian), else Windows-1252 as before."""
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    decoded, foreign, utf8_beyond_ascii, undecodable = [], [], False, None
    for number, line in enumerate(lines, start=1):
        try:
            decoded.append(line.decode("utf-8"))
            utf8_beyond_ascii = utf8_beyond_ascii or not line.isascii()
        except UnicodeDecodeError:
            try:
                decoded.append(line.decode("cp1252"))
            except UnicodeDecodeError as exc:
                undecodable = undecodable or (number, line[exc.start])
                decoded.append("")
            foreign.append(number)
    if not utf8_beyond_ascii and (east_asian := _east_asian(data)) is not None:
        return east_asian
    if undecodable is not None:
        raise MtlrecError(
            f"the file is not valid UTF-8 or Windows-1252 text (line {undecodable[0]} holds the byte "
            f"0x{undecodable[1]:02x}, which is neither): save it as UTF-8 CSV",
            source=name,
        )
    text = "\n".join(decoded)
    if not utf8_beyond_ascii:
        return text, ["read as CP1252 text (the file is not UTF-8)"]
    shown = ", ".join(map(str, foreign[:5])) + (", ..." if len(foreign) > 5 else "")
    return text, [
        f"line{'s' if len(foreign) > 1 else ''} {shown} {'are' if len(foreign) > 1 else 'is'} not UTF-8 like the rest "
        "of the file: read as Windows-1252 (check the accented text there)"
    ]


def _refuse_zero_bytes(data: bytes, first: int | None, name: str) -> None:
    """Zero bytes in a text file (`first`: where the first one is; None: not text at all). A tail of nothing but
    zero bytes is what a writer that crashed, or a preallocated file, leaves: said as such."""
    if first is None:
        where = ""
    else:
        line = data.count(b"\n", 0, first) + 1
        tail = len(data) - len(data.rstrip(b"\x00"))
        if tail and first == len(data) - tail:
            raise MtlrecError(
                f"the file ends with {tail:,} zero bytes (from line {line}): the file was cut or not fully written; "
                "remove them (or write the file again)",
                source=name,
            )
        where = f" (line {line} holds a zero byte)"
    raise MtlrecError(
        f"the file holds binary data, not text{where}: upload a CSV (comma, semicolon or tab separated) "
        "or Parquet file",
        source=name,
    )


_QUOTED = re.compile(r'"[^"\n]*"')


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Delimiters per line outside double-quoted text (a linear scan: csv.Sniffer can take minutes on quotes)."""
    return [_QUOTED.sub("", line).count(delimiter) for line in lines]


def _sniff_delimiter(text: str, name: str) -> str:
    """The delimiter the header uses that most data lines agree with; MtlrecError when header and rows differ."""
    sample = text[:SNIFF_BYTES]
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if len(sample) < len(text) and len(lines) > 2:
        lines = lines[:-1]  # the sample may have cut the last line short
    lines = lines[:SNIFF_LINES]
    if not lines:
        return ","
    counts = {d: _field_counts(lines, d) for d in DELIMITERS}
    best, score = ",", (-1, 0)
    for d, per_line in counts.items():
        header = per_line[0]
        if header:
            agreeing = sum(c == header for c in per_line[1:])
            if (agreeing, header) > score:
                best, score = d, (agreeing, header)
    rows = len(lines) - 1
    if rows and score[0] < rows / 2:
        # Most rows disagree with the header: a delimiter the rows agree on and the header lacks says "mixed".
        for d, per_line in counts.items():
            data_counts = per_line[1:]
            if d != best and data_counts[0] and sum(c == data_counts[0] for c in data_counts) > rows / 2:
                header = f"is separated by {_shown(best)}" if score[1] else "has no delimiter"
                raise MtlrecError(
                    f"the header line {header} but the data rows are separated by {_shown(d)} (line 2: "
                    f"{_cut(lines[1])}): use one delimiter throughout",
                    source=name,
                )
    return best


def _shown(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def _cut(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _header(text: str, delimiter: str, name: str) -> list[str]:
    """The header line's fields as written (pandas would rename duplicates to 'a.1')."""
    try:
        for row in csv.reader(io.StringIO(text, newline=None), delimiter=delimiter):
            if row and not (len(row) == 1 and not row[0].strip()):  # pandas skips blank lines
                return [h.strip() for h in row]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise MtlrecError(
                f"the header line holds a value over {csv.field_size_limit():,} characters long: the first line "
                "must be a header of short column names",
                source=name,
            ) from None
        raise MtlrecError(f"the header line cannot be read as CSV ({exc})", source=name) from None
    return []


def _double_colons(text: str) -> bool:
    """Fields separated by '::' (MovieLens' .dat files): the first line has no other delimiter, and most lines
    have as many '::' as it. pandas' fast parser takes one-character delimiters only."""
    lines = [ln for ln in text[:SNIFF_BYTES].splitlines() if ln.strip()][:SNIFF_LINES]
    if not lines or "\t" in text or any(d in lines[0] for d in DELIMITERS):
        return False
    count = lines[0].count("::")
    return count > 0 and sum(ln.count("::") == count for ln in lines) > len(lines) / 2


def _read_csv(data: bytes, name: str) -> Table:
    text, notes = _decode(data, name)
    text, delimiter, skipped = _skip_preamble(text)
    notes += skipped
    double_colons = delimiter is None and _double_colons(text)
    if double_colons:
        text = text.replace("::", "\t")  # the file holds no tab (checked): a tab stands for '::'
    if delimiter is None:
        delimiter = _sniff_delimiter(text, name)
        if delimiter != ",":
            notes.append(f"delimiter detected: {repr('::') if double_colons else _shown(delimiter)}")
    text, skipped = _skip_comment_lines(text, delimiter)
    notes += skipped
    try:
        header = _header(text, delimiter, name)
        _check_header_is_names(header, text, delimiter, name)
        _check_names(header, name)
        escaped = False
        try:
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, engine="c", low_memory=False)
        except pd.errors.ParserError:
            frame = None
        if (frame is None or not isinstance(frame.index, pd.RangeIndex)) and '\\"' in text:
            # MySQL, Hive and Spark write a quote inside a quoted value as \" (not ""): read as such, the rows fit.
            read = _read_escaped(text, delimiter, len(header))
            if read is not None:
                frame, escaped = read, True
                notes.append('quotes escaped with a backslash (\\") read as quotes inside their values')
        if frame is None:
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, engine="c", low_memory=False)
    except pd.errors.EmptyDataError:
        raise MtlrecError("the file has no columns", source=name) from None
    except pd.errors.ParserError as exc:
        raise MtlrecError(_explain_parser_error(str(exc), delimiter, text), source=name) from None
    except (ValueError, OverflowError) as exc:
        raise MtlrecError(f"the file cannot be parsed as CSV ({exc})", source=name) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the first columns as the index when every row has more fields than the header.
        frame = _more_fields(text, delimiter, len(header), frame, name, notes)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:  # before the per-column readers: a one-line file of 2,000,000 fields kept them busy for hours
        _check_frame(frame, name)
    if _check_short_rows(text, delimiter, frame, name, empty_last_name=bool(header) and not header[-1]):
        frame = frame.iloc[:, :-1]
        notes.append("the header line ends with a delimiter but the data rows do not: its empty last name was left out")
    # The scan for zero-padded codes reads bytes: the file's own when its encoding keeps ASCII as it is (fields
    # between '::' end in ':'; skipped preamble lines can only make the scan look further), else the text encoded.
    if data[:2] in _UTF16_BOMS or b"\x00" in data[:SNIFF_BYTES]:  # UTF-16 or UTF-32 (as _decode decided)
        raw, sep = text.encode("utf-8", "surrogatepass"), delimiter
    else:
        raw, sep = data, ":" if double_colons else delimiter
    notes += _keep_leading_zeros(text, delimiter, frame, raw, sep, escaped)
    notes += _keep_big_integers(text, delimiter, frame, escaped)
    notes += _keep_na_codes(text, delimiter, frame, escaped)
    if delimiter != ",":
        notes += _read_decimal_commas(frame, text, delimiter, escaped)
    if ('"' if delimiter == "," else ",") in text:  # a comma inside a field of a comma-separated file is quoted
        notes += _read_thousands(frame)
    notes += _read_missing_markers(frame, decimal_comma=delimiter != ",")
    notes += _read_units(frame, decimal_comma=delimiter != ",")
    return Table(frame, name, notes)


_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")
_SEP_LINE = re.compile(r'"?sep=(.)"?\1*')  # Excel's first line naming the delimiter: sep=; or "sep=,",,,


_COMMENT_LINE = re.compile(r"^[ \t]*#[^\r\n]*", re.MULTILINE)
MAX_COMMENT_SHARE = 0.01  # '#' lines among the data lines that are comments; more are data (ids such as #sale)


def _skip_comment_lines(text: str, delimiter: str) -> tuple[str, list[str]]:
    """Comment lines ('#...') among the data rows, blanked (pandas skips blank lines; line numbers stay the file's).
    One with as many delimiters as a row was read as a row ('# a note' became a user), one with fewer was called a
    short row. A few of them only (at most 5, or 1% of the lines): more lines starting with '#' are data. The scan
    starts after the header (the first line that is not blank: a '#user_id,...' header stays), and a '#' line is a
    comment only where a record starts, as the csv module reads the records (a line of a quoted value spanning
    lines, '#blessed' in a review, stays; a stray quote in an unquoted field, '55" TV', changes nothing)."""
    header = re.search(r"[^\s]", text)
    if header is None:
        return text, []
    header_end = text.find("\n", header.start())
    if header_end < 0 or text.find("#", header_end) < 0:  # no slice: that would copy the whole text
        return text, []
    found = list(_COMMENT_LINE.finditer(text, header_end))
    if not found or len(found) > max(5, MAX_COMMENT_SHARE * text.count("\n")):
        return text, []
    starts = _record_starts(text, delimiter, until=text.count("\n", 0, found[-1].start()) + 1)
    if starts is None:
        return text, []
    kept, numbers = [], []
    position, line = header_end, text.count("\n", 0, header_end) + 1
    for match in found:  # line numbers counted from the previous match on: one pass over the text
        line += text.count("\n", position, match.start())
        position = match.start()
        if line in starts:
            kept.append(match)
            numbers.append(line)
    if not kept:
        return text, []
    pieces, position = [], 0
    for m in kept:
        pieces.append(text[position : m.start()])
        position = m.end()
    pieces.append(text[position:])
    if len(numbers) == 1:
        return "".join(pieces), [f"line {numbers[0]} among the rows starts with '#' (a comment) and was skipped"]
    shown = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
    return "".join(pieces), [f"lines {shown} among the rows start with '#' (comments) and were skipped"]


def _record_starts(text: str, delimiter: str, until: int) -> set[int] | None:
    """The lines where a record starts, as the csv module reads the text plainly, up to line `until` (a quoted value
    may span lines; a stray quote in an unquoted field, '55" TV', opens nothing). Lines are split at '\\n' only, as
    they are counted elsewhere (a lone '\\r' in a value is no line break here). None if the text cannot be read so."""
    starts = {1}
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text)))  # a 140k-character value is a value, not a reason to give up
    try:
        reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=delimiter)
        for _ in reader:
            starts.add(reader.line_num + 1)
            if reader.line_num >= until:
                break
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return starts


def _names_then_values(text: str, lines: list[tuple[int, int]], rest: list[int], delimiter: str | None) -> bool:
    """Whether the first two lines after the comments read as a header and a data row: no number among the first
    line's fields, some among the second's."""
    if len(rest) < 2:
        return False
    head, row = (text[slice(*lines[i])] for i in rest[:2])
    sep = delimiter or max(DELIMITERS, key=head.count)
    return not any(_is_number(f) for f in head.split(sep)) and any(_is_number(f) for f in row.split(sep))


def _skip_preamble(text: str) -> tuple[str, str | None, list[str]]:
    """Lines before the header: Excel's 'sep=;' line (which names the delimiter) and '#' comment lines. They are
    blanked, not removed, so that line numbers in later messages stay those of the file (pandas and the other
    readers skip blank lines). Returns the text, the delimiter a sep= line names (None: to be sniffed), notes.

    A single '#' line shaped like the next one (as many delimiters) is a header written '#user_id,...', kept, unless
    the next line reads as the header itself (names over a line holding numbers)."""
    lines, position = [], 0
    while len(lines) < SNIFF_LINES and position < len(text):
        line = _LINE.match(text, position)
        lines.append((line.start(1), line.end(1)))
        position = line.end()
    written = [i for i, (a, b) in enumerate(lines) if text[a:b].strip()]
    if not written:
        return text, None, []
    blank, notes, delimiter = [], [], None
    first = text[slice(*lines[written[0]])].strip(" ")
    sep = _SEP_LINE.fullmatch(first)
    if sep and (sep.group(1) == "\t" or (sep.group(1) in string.punctuation and sep.group(1) != '"')):
        delimiter = sep.group(1)
        blank.append(written.pop(0))
        notes.append(f"the first line {first!r} (Excel's delimiter line) was skipped: delimiter {_shown(delimiter)}")
    comments = []
    for i in written:
        if not text[slice(*lines[i])].lstrip().startswith("#"):
            break
        comments.append(i)
    rest = written[len(comments) :]
    if comments and rest:
        after = text[slice(*lines[rest[0]])]
        single = text[slice(*lines[comments[0]])].lstrip()[1:]
        counts = [(single.count(d), after.count(d)) for d in (delimiter or DELIMITERS)]
        shaped = all(a == b for a, b in counts) and any(b for _, b in counts)
        if len(comments) > 1 or not shaped or _names_then_values(text, lines, rest, delimiter):
            blank += comments
            first_line, last_line = comments[0] + 1, comments[-1] + 1
            notes.append(
                f"line {first_line} starts with '#' (a comment) and was skipped"
                if first_line == last_line
                else f"lines {first_line}-{last_line} start with '#' (comments) and were skipped"
            )
    if not blank:
        return text, delimiter, notes
    pieces, position = [], 0
    for i in sorted(blank):
        a, b = lines[i]
        pieces.append(text[position:a])
        position = b
    pieces.append(text[position:])
    return "".join(pieces), delimiter, notes


def _more_fields(
    text: str, delimiter: str, n_header: int, frame: pd.DataFrame, name: str, notes: list[str]
) -> pd.DataFrame:
    """Every data row has more fields than the header (pandas made the extra leading fields the index)."""
    extra = frame.index.nlevels
    if extra == 1 and frame.iloc[:, -1].isna().all():  # "a,b,c," lines: a trailing delimiter, nothing after it
        notes.append("every row ends with a delimiter: the empty last field was left out")
        return pd.read_csv(io.StringIO(text), sep=delimiter, engine="c", low_memory=False, index_col=False)
    missing = "the missing column name" if extra == 1 else f"the {extra} missing column names"
    raise MtlrecError(
        f"every data row has {n_header + extra} fields but the header has {n_header} (delimiter "
        f"{_shown(delimiter)}): add {missing} to the header line",
        source=name,
    )


ZERO_SCAN_CHUNK = 1 << 18  # bytes per step of the scan for zero-padded codes: small enough for the CPU cache
MAX_CODE_DIGITS = 24  # a zero-padded code longer than this is not looked for (ids have at most 20 digits)


def _zero_padded_field(data: bytes, delimiter: str) -> bool:
    """Whether some field is a whole number written with a leading zero (0042, "0042"): a delimiter, line break or
    quote, then '0', digits, and the field's end. A date (05/03/2024) or a time (09:30) starts the same way but is
    no such field: without that last check, a file with day-first dates read its integer columns twice (8x slower).
    numpy in cache-sized chunks: ~15 ms over 36 MB, where a regular expression takes ~600 ms."""
    codes = np.frombuffer(data, np.uint8)
    sep = ord(delimiter)
    ends = np.array([sep, ord("\n"), ord("\r"), ord('"')], dtype=np.uint8)
    for start in range(0, max(len(codes) - 2, 0), ZERO_SCAN_CHUNK):
        window = codes[start : start + ZERO_SCAN_CHUNK + 2]
        before = window[:-2]
        hit = (before == sep) | (before == ord("\n")) | (before == ord('"'))
        hit &= window[1:-1] == ord("0")
        if hit.any():
            hit &= (window[2:] - ord("0")) < 10  # a digit (uint8 arithmetic: bytes below '0' wrap to over 200)
            if hit.any() and _whole_numbers(codes, np.flatnonzero(hit) + start + 1, ends):
                return True
    return False


def _whole_numbers(codes: np.ndarray, zeros: np.ndarray, ends: np.ndarray) -> bool:
    """Whether any field starting at one of the positions `zeros` (its leading '0') is digits to its end."""
    span = np.arange(1, MAX_CODE_DIGITS + 1)
    ahead = np.minimum(zeros[:, None] + span, len(codes) - 1)
    following = codes[ahead]
    digit = (following - ord("0")) < 10
    first_other = np.where(digit.all(axis=1), MAX_CODE_DIGITS - 1, np.argmin(digit, axis=1))
    at = (np.arange(len(zeros)), first_other)
    at_end = ahead[at] >= len(codes) - 1  # the file ends inside the field
    return bool((np.isin(following[at], ends) | (at_end & digit[at])).any())


def _as_text(text: str, delimiter: str, positions: list[int], escaped: bool, **options) -> list[tuple[int, pd.Series]]:
    """Columns at `positions` read again as text, as the table was read (with \\" escapes when it was): (position,
    values) pairs; none when `positions` is empty."""
    if not positions:
        return []
    table = pd.read_csv(
        io.StringIO(text), sep=delimiter, engine="c", low_memory=False, index_col=False, usecols=positions, dtype=str,
        **({"escapechar": "\\"} if escaped else {}), **options,
    )  # fmt: skip
    return [(i, values) for i, (_, values) in zip(positions, table.items(), strict=True)]


def _float_columns(frame: pd.DataFrame, accept: Callable[[np.ndarray], bool]) -> list[int]:
    """Positions of the float columns whose finite values `accept` (pandas' reading, to be checked on the text)."""
    positions = []
    for i, dtype in enumerate(frame.dtypes):
        if dtype.kind == "f":
            values = frame.iloc[:, i].to_numpy()
            if accept(values[np.isfinite(values)]):
                positions.append(i)
    return positions


def _keep_leading_zeros(
    text: str, delimiter: str, frame: pd.DataFrame, raw: bytes, raw_delimiter: str, escaped: bool = False
) -> list[str]:
    """Integer columns holding codes with leading zeros (0042 beside 42, H&M's article ids 0108775030): read again
    as text, so that 042, 42 and 0042 stay three ids instead of one. A scan of the file's bytes first says whether
    any field is a whole number written with a leading zero; only then are the integer columns read again, as text."""
    integers = [i for i, t in enumerate(frame.dtypes) if t.kind in "iuf"]
    if not integers or not _zero_padded_field(raw, raw_delimiter):
        return []
    positions = []
    for i in integers:
        values = frame.iloc[:, i].to_numpy()
        if values.dtype.kind == "f":  # integers with blanks are read as floats
            written = values[~np.isnan(values)]
            if len(written) == len(values) or not np.array_equal(written, np.round(written)):
                continue
        positions.append(i)
    notes = []
    for i, values in _as_text(text, delimiter, positions, escaped):
        zero = values.str.match(r"\s*-?0\d", na=False).to_numpy()
        if zero.any() and _codes(values, frame.iloc[:, i], zero):
            column = frame.columns[i]
            frame[column] = values.set_axis(frame.index)
            notes.append(f"column '{column}': codes with leading zeros (e.g. '{values[zero].iloc[0]}') kept as text")
    return notes


def _keep_big_integers(text: str, delimiter: str, frame: pd.DataFrame, escaped: bool = False) -> list[str]:
    """Integer columns beyond 2^53 with a blank (or NA) somewhere: pandas reads them as float64, where 19-digit ids
    differing in their last digits become one number. Read again as text, they become exact nullable integers
    (Int64; text when beyond int64 too)."""
    positions = _float_columns(
        frame, lambda w: len(w) > 0 and np.abs(w).max() > 2**53 and np.array_equal(w, np.round(w))
    )
    notes = []
    for i, values in _as_text(text, delimiter, positions, escaped):
        written = values.dropna().str.strip()
        if not written.str.fullmatch(r"-?\d+").all():
            continue  # 1e19 written as a float: a number, not an id
        exact = pd.to_numeric(written)
        column = frame.columns[i]
        if exact.dtype.kind == "i":
            frame[column] = pd.array([None] * len(frame), dtype="Int64")
            frame.loc[written.index, column] = exact.to_numpy()
            kept = "nullable integers"
        else:  # beyond int64: the digits as text
            frame[column] = values.str.strip().set_axis(frame.index)
            kept = "text"
        notes.append(f"column '{column}': integers beyond 2^53 with missing values kept exact (as {kept})")
    return notes


def _keep_na_codes(text: str, delimiter: str, frame: pd.DataFrame, escaped: bool = False) -> list[str]:
    """Columns of two-letter codes (countries, regions) where pandas read the code 'NA' (Namibia, North America) as
    a missing value, merged with the empty ones: read again, 'NA' is a code like the others."""
    positions = []
    for i, (_, values) in enumerate(frame.items()):
        if not (is_object_dtype(values) or is_string_dtype(values)) or not values.isna().any():
            continue
        written = values.dropna().iloc[:PLAUSIBLE_SAMPLE]  # codes show in the first values already
        if len(written) and written.astype(str).str.fullmatch(r"[A-Z]{2}").mean() >= 0.9:
            positions.append(i)
    notes = []
    for i, values in _as_text(text, delimiter, positions, escaped, keep_default_na=False, na_values=[""]):
        coded = values.str.strip().eq("NA").fillna(False).to_numpy()
        if coded.any():
            column = frame.columns[i]
            frame.loc[coded, column] = "NA"
            notes.append(f"column '{column}': 'NA' kept as a code like the others (e.g. Namibia), not as missing")
    return notes


def _codes(text: pd.Series, numbers: pd.Series, zero: np.ndarray) -> bool:
    """Whether a column of numbers, some (`zero`) written with leading zeros, holds codes: read as numbers, distinct
    values would merge (042, 42 and 0042), or a padded value has 3 digits or more (0026, H&M's 0108775030, zip
    codes). Two-digit padding alone (minutes 00-59, months 01-12) stays a number."""
    written = text.dropna().str.strip()
    if written.nunique() > numbers.nunique():
        return True
    return bool((text[zero].str.strip().str.lstrip("-").str.len() >= 3).any())


def _check_short_rows(text: str, delimiter: str, frame: pd.DataFrame, name: str, empty_last_name: bool = False) -> bool:
    """Rows with fewer fields than the header, which pandas would silently pad with missing values.

    A short row leaves the last column empty, so the (slower) count runs only when the last column has gaps. True
    when the header's last name is empty (`empty_last_name`: the header line alone ends with a delimiter) and every
    short row lacks just that field: the caller drops that empty column.
    """
    if not frame.iloc[:, -1].isna().any():
        return False
    counts, lines, first = [], [], None
    expected = frame.shape[1]
    try:
        reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):  # pandas skips blank lines
                counts.append(len(row))
                lines.append(reader.line_num)
                if first is None and len(counts) > 1 and len(row) < expected:
                    first = delimiter.join(row)
    except csv.Error:  # a field beyond the csv module's size limit: pandas read it, so leave it to pandas
        return False
    counts, lines = np.asarray(counts[1:]), np.asarray(lines[1:])
    if len(counts) != len(frame):  # the two parsers disagree on quoting: no reliable line numbers
        return False
    short = np.flatnonzero(counts < expected)
    if not len(short):
        return False
    if empty_last_name and (counts[short] == expected - 1).all() and frame.iloc[:, -1].isna().all():
        return True
    line, saw = lines[short[0]], counts[short[0]]
    others = {d: first.count(d) for d in DELIMITERS if d != delimiter}
    other = max(others, key=others.get)
    hint = f"; line {line} seems to be separated by {_shown(other)}" if others[other] >= expected - 1 else ""
    where = f"line {line} has {saw} {'field' if saw == 1 else 'fields'} but the header has {expected}"
    if len(short) > 1:
        more = ", ".join(str(n) for n in lines[short[1:4]]) + (", ..." if len(short) > 4 else "")
        where = f"{len(short):,} lines have fewer fields than the header: {where} (also lines {more})"
    raise MtlrecError(
        f"{where} (delimiter {_shown(delimiter)}{hint}): fill in the missing fields (empty ones are fine: a,,c) "
        "or check the delimiter",
        source=name,
    )


# 1,5 and 1.234,5 (dots group thousands where the comma is the decimal mark).
_DECIMAL_COMMA = r"-?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?([eE][-+]?\d+)?"


_GROUPED = r"-?[1-9]\d{0,2}(,\d{3})+"  # 2,365 or 12,345,678: thousands, or a decimal comma with three decimals


def _read_decimal_commas(frame: pd.DataFrame, text: str, delimiter: str, escaped: bool = False) -> list[str]:
    """Text columns holding numbers written with a decimal comma (1,5), as in many European exports.

    A column whose every comma is followed by exactly three digits (2,365 beside 174) reads either way: decimal
    commas when another column of the file has decimals that cannot be thousands (12,50), else thousands (a
    tab-separated US export, where '2,365' was read as 2.365: 1000 times too small). In a file with decimal commas,
    numbers grouped by dots (3.131 beside 630) are thousands too, which pandas had read as 3.131."""
    found = []
    for column, stripped, marker in _text_columns(frame, lambda value: re.fullmatch(_DECIMAL_COMMA, value) is not None):
        values = stripped.mask(marker)  # placeholders such as '-' are missing values (with one, the column was
        written = values.dropna()  # skipped here and read as thousands: 1,000 times off)
        if (
            len(written)
            and written.str.contains(",", regex=False).any()
            and written.str.fullmatch(_DECIMAL_COMMA).all()
        ):
            commas = written[written.str.contains(",", regex=False)]
            if _id_lists(written):
                continue  # 100,200,300 and nothing else: lists of 3-digit ids, as in a comma-separated file
            found.append((column, values, bool(commas.str.fullmatch(_GROUPED).all()), stripped[marker]))
    european = any(not grouped for _, _, grouped, _ in found)
    notes, decimals = [], []
    for column, values, grouped, marked in found:
        placeholders = len(marked)
        shown = "/".join(sorted({repr(str(v)) for v in marked.unique()}))
        also = f" ({placeholders:,} value{'s' if placeholders != 1 else ''} {shown} read as missing)"
        if grouped and not european:
            frame[column] = pd.to_numeric(values.str.replace(",", "", regex=False)).astype("float64")
            example = values[values.str.contains(",", regex=False, na=False)].iloc[0]
            notes.append(
                f"column '{column}': commas read as thousands separators ('{example}' is "
                f"{example.replace(',', '')}): every comma is followed by three digits and no column of the file "
                f"has decimal commas{also if placeholders else ''}"
            )
        else:
            frame[column] = _comma_numbers(values)
            decimals.append(column)
            if placeholders:
                notes.append(f"column '{column}':{also[1:-1].replace('(', ' ', 1)} (the rest are numbers)")
    if decimals:
        notes.insert(0, f"decimal commas read as numbers in {', '.join(repr(c) for c in decimals[:10])}")
    if european:
        notes += _read_dot_thousands(frame, text, delimiter, escaped, skip={c for c, *_ in found})
    return notes


def _id_lists(written: pd.Series) -> bool:
    """Whether a column's values (stripped, placeholders left out) are lists of 3-digit ids (100,200 and 300,400)
    and nothing else: not numbers, whatever the file's decimal mark."""
    commas = written[written.str.contains(",", regex=False)]
    return (
        len(commas) > 0 and commas.str.fullmatch(r"\d{3}(,\d{3})+").all() and not written.str.fullmatch(r"-?\d+").any()
    )


def _read_dot_thousands(
    frame: pd.DataFrame, text: str, delimiter: str, escaped: bool = False, skip: set[str] = frozenset()
) -> list[str]:
    """In a file with decimal commas: number columns pandas read with the dot as a decimal point whose every dot is
    a thousands separator (3.131 beside 630, never 3.1 or 0.125), read again as text and as thousands."""

    def three_decimals(w: np.ndarray) -> bool:  # some decimals (3.131, or 1.5 from '1.500'), never more than three
        thousandths = np.round(w * 1000)
        return np.allclose(w * 1000, thousandths, rtol=0, atol=1e-6) and bool((thousandths % 1000 != 0).any())

    # Or whole numbers in a float column without a blank: pandas read '2.000' and '3.000' as 2.0 and 3.0 (an integer
    # column would have stayed one). Either way the text decides.
    whole = [
        i for i, t in enumerate(frame.dtypes)
        if t.kind == "f" and frame.iloc[:, i].notna().all() and np.array_equal(frame.iloc[:, i], np.round(frame.iloc[:, i]))
    ]  # fmt: skip
    positions = sorted(set(_float_columns(frame, three_decimals)) | set(whole))
    positions = [i for i in positions if frame.columns[i] not in skip]
    notes = []
    for i, values in _as_text(text, delimiter, positions, escaped):
        written = values.dropna().str.strip()
        dotted = written[written.str.contains(".", regex=False)]
        if len(dotted) and dotted.str.fullmatch(r"-?[1-9]\d{0,2}(\.\d{3})+").all():
            column = frame.columns[i]
            frame[column] = pd.to_numeric(values.str.strip().str.replace(".", "", regex=False)).astype("float64")
            frame[column] = frame[column].set_axis(frame.index)
            notes.append(
                f"column '{column}': dots read as thousands separators ('{dotted.iloc[0]}' is "
                f"{dotted.iloc[0].replace('.', '')}), as in the file's decimal-comma numbers"
            )
    return notes


def _comma_numbers(text: pd.Series) -> pd.Series:
    """Text in the _DECIMAL_COMMA form as float64 (1.234,5 -> 1234.5)."""
    plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(plain).astype("float64")


# Placeholders for "no value" that pandas does not know (it knows NA, N/A, NULL, nan, the empty field...), and
# pandas' own once padded with spaces (' N/A'), which it no longer knows: compared stripped and in lower case.
MISSING_MARKERS = (
    "-", "--", "—", "–", "?", ".", "none", "missing", "unknown", "n.a.", "n.a", "na", "n/a", "nan", "null", "nil",
    "(null)", "<null>", "#n/a", "#null!", "#value!", "#div/0!",
)  # fmt: skip


PLAUSIBLE_SAMPLE = 1000  # values a text reader looks at before it reads a whole column


def _text_columns(frame: pd.DataFrame, plausible: Callable[[str], bool]) -> Iterator[tuple[str, pd.Series, pd.Series]]:
    """Each text column of `frame` that may hold what a reader looks for: its name, its values stripped, and which
    of them are MISSING_MARKERS.

    A reader's rule holds for every value of a column or the column is left alone, so `plausible` (one value, as
    stripped text) first sees the distinct values among the column's first PLAUSIBLE_SAMPLE (placeholders left out)
    and must hold for each: ids and categories fail it at once, without a pass over a million rows per reader (one
    such pass per text column made loading a 1M-row CSV with five text columns 11x slower), and in plain Python,
    without pandas' overhead per call (3,000 text columns took 9 s to read)."""
    for column in frame.columns:
        values = frame[column]
        if is_numeric_dtype(values) or not (is_object_dtype(values) or is_string_dtype(values)):
            continue
        head = pd.unique(values.iloc[:PLAUSIBLE_SAMPLE].dropna().to_numpy(dtype=object))
        if not all(plausible(v) for v in (str(x).strip() for x in head) if v.lower() not in MISSING_MARKERS):
            continue
        text = values.astype("string").str.strip()
        yield column, text, text.str.lower().isin(MISSING_MARKERS)


def _read_missing_markers(frame: pd.DataFrame, decimal_comma: bool = False) -> list[str]:
    """Numbers with a placeholder such as '-' or '?' in some rows: the placeholders become missing values, so the
    column stays numeric instead of becoming text (and then a category or nothing). With `decimal_comma` (a file not
    separated by commas) the numbers may be written 1,5 or 1.234,5 too."""

    def plausible(value: str) -> bool:  # a number, or a number written 1,5 where that is read
        return _is_number(value) or (decimal_comma and re.fullmatch(_DECIMAL_COMMA, value) is not None)

    notes = []
    for column, text, marker in _text_columns(frame, plausible):
        if not marker.any() or marker.all():
            continue
        rest = text.mask(marker)
        written = rest.dropna()
        integers = written.str.fullmatch(r"-?\d+").all()
        if integers and written.str.fullmatch(r"-?0\d+").any():
            continue  # codes with leading zeros (zip codes, 00123): text, as they were
        numbers = pd.to_numeric(rest, errors="coerce")
        if decimal_comma and numbers.notna().sum() < rest.notna().sum():
            if written.str.contains(",", regex=False).any() and written.str.fullmatch(_DECIMAL_COMMA).all():
                if _id_lists(written):
                    continue  # 100,200 and 300,400 beside a '-': lists of 3-digit ids, as _read_decimal_commas says
                numbers = _comma_numbers(rest)
        if numbers.notna().sum() == (text.notna() & ~marker).sum():
            # Integers beyond float64's exact range (2^53: large ids) stay exact, as nullable integers.
            big = integers and bool((numbers.abs() > 2**53).any())
            frame[column] = numbers.astype("Int64" if big else "float64")
            shown = "/".join(sorted({repr(str(v)) for v in text[marker].unique()}))
            count = int(marker.sum())
            notes.append(
                f"column '{column}': {count:,} value{'s' if count != 1 else ''} {shown} read as missing "
                "(the rest are numbers)"
            )
    return notes


# A number with one currency sign or a percent sign: $1,234.50, -$3, 12,50 €, 45%, 12.5 %.
_UNIT_VALUE = re.compile(r"(?P<neg>-)?\s*(?P<pre>[$€£¥])?\s*(?P<num>[\d.,]+)\s*(?P<post>[%€$£¥])?")
# Plain and comma-grouped numbers (1234.5, 1,234.5, .5) for files whose decimal mark is the dot.
_DOT_DECIMAL = r"(\d+|\d{1,3}(,\d{3})+)(\.\d*)?|\.\d+"


_THOUSANDS = rf"-?({_DOT_DECIMAL})"


def _put_numbers(frame: pd.DataFrame, column: str, index: pd.Index, values, marker: pd.Series) -> str:
    """A text column's numbers written back as float64 (`values` at `index`, missing elsewhere: placeholders and
    blanks); returns what its note adds about the placeholders ('' when there were none)."""
    result = pd.Series(np.nan, index=frame.index, dtype="float64")
    result[index] = values
    frame[column] = result
    missing = int(marker.sum())
    return f" ({missing:,} placeholder{'s' if missing != 1 else ''} such as '-' read as missing)" if missing else ""


def _read_thousands(frame: pd.DataFrame) -> list[str]:
    """Text columns of numbers with commas grouping thousands (1,234 or 12,345.5: quoted in a comma-separated file,
    as Amazon's review votes), whatever the delimiter: the numbers. Decimal commas (1,5) are read before this, in
    files not separated by commas; placeholders such as '-' count as missing. A column whose every grouped value is
    3-digit groups (100,200,300) may be lists of ids: it stays text."""

    def plausible(value: str) -> bool:
        return re.fullmatch(_THOUSANDS, value) is not None

    notes = []
    for column, text, marker in _text_columns(frame, plausible):
        written = text[~marker].dropna()
        grouped = written.str.contains(",", regex=False)
        if not grouped.any() or not written.str.fullmatch(_THOUSANDS).all():
            continue
        if written[grouped].str.fullmatch(r"\d{3}(,\d{3})+").all():
            continue  # 100,200,300 and no 1,234 or 12,345.5 beside them: lists of 3-digit ids read the same way
        also = _put_numbers(
            frame, column, written.index, pd.to_numeric(written.str.replace(",", "", regex=False)), marker
        )
        notes.append(
            f"column '{column}': numbers with thousands separators (e.g. '{written[grouped].iloc[0]}') read as "
            f"numbers{also}"
        )
    return notes


def _read_units(frame: pd.DataFrame, decimal_comma: bool = False) -> list[str]:
    """Text columns of numbers written with one currency sign or a percent sign ($1,234.50, 12,50 €, 45%): the
    numbers, without the sign (45% is 45), so that a price stays a number instead of text that inference would
    ignore or embed. Placeholders such as '-' count as missing; anything else leaves the column as it is."""

    def plausible(value: str) -> bool:  # a number with a sign, before or after it
        parts = _UNIT_VALUE.fullmatch(value)
        return parts is not None and (parts["pre"] is None) != (parts["post"] is None)

    notes = []
    for column, text, marker in _text_columns(frame, plausible):
        written = text[~marker].dropna()
        if written.empty:
            continue
        parts = written.str.extract(f"^{_UNIT_VALUE.pattern}$")
        if parts["num"].isna().any():
            continue
        signs = set(parts["pre"].dropna()) | set(parts["post"].dropna())
        if len(signs) != 1 or (parts["pre"].notna() == parts["post"].notna()).any():
            continue  # one sign, on every value (45% beside 0.5 would mix scales)
        number = parts["num"]
        comma = number.str.contains(",", regex=False).any()
        if decimal_comma and comma and number.str.fullmatch(_DECIMAL_COMMA).all():  # as plain numbers in such files
            magnitude = _comma_numbers(number)
        elif number.str.fullmatch(_DOT_DECIMAL).all():
            magnitude = pd.to_numeric(number.str.replace(",", "", regex=False))
        else:
            continue
        also = _put_numbers(frame, column, written.index, np.where(parts["neg"].notna(), -magnitude, magnitude), marker)
        (sign,) = signs
        what = "percent sign" if sign == "%" else f"currency sign '{sign}'"
        notes.append(f"column '{column}': read as numbers without the {what}{also}")
    return notes


def _read_escaped(text: str, delimiter: str, width: int) -> pd.DataFrame | None:
    """The table read with \\" as an escaped quote, when that gives every row the header's width; else None."""
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, engine="c", low_memory=False, escapechar="\\")
    except (pd.errors.ParserError, ValueError):
        return None
    return frame if isinstance(frame.index, pd.RangeIndex) and frame.shape[1] == width else None


def _file_line(text: str, delimiter: str, record: int) -> int:
    """The file's line where pandas' `record` (1-based, header included) ends: they differ after a quoted line
    break, which pandas counts as one line."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        for seen, _ in enumerate(reader, start=1):  # blank lines count, as pandas counts them here
            if seen == record:
                return reader.line_num
    except csv.Error:
        pass
    return record


def _explain_parser_error(message: str, delimiter: str, text: str = "") -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    shown = _shown(delimiter)
    if found:
        expected, line, saw = found.groups()
        line = _file_line(text, delimiter, int(line)) if text else line
        return (
            f"line {line} has {saw} fields but the header has {expected} (delimiter {shown}): "
            "fix that row, quote values that contain the delimiter, or check the delimiter"
        )
    if "EOF inside string" in message:
        found = re.search(r"starting at row (\d+)", message)
        where = f" (a quote opens on line {int(found.group(1)) + 1})" if found else ""
        return f'a quoted value is never closed{where}: every " that opens a value needs a closing "'
    return f"the file cannot be parsed as CSV with delimiter {shown} ({message.strip()[:300]})"


def _check_names(names: list[str], source: str) -> None:
    long = [(i, n) for i, n in enumerate(names, start=1) if len(str(n)) > MAX_NAME_LENGTH]
    if long:
        position, column = long[0]
        raise MtlrecError(
            f"column {position}'s name is {len(str(column)):,} characters long ({_cut(str(column), 40)}): the first "
            "line must be a header of short column names",
            source=source,
        )
    seen: dict[str, list[int]] = {}
    for position, column in enumerate(names, start=1):
        seen.setdefault(str(column), []).append(position)
    duplicates = [
        f"{_name(c)} (columns {', '.join(map(str, p[:5]))}{', ...' if len(p) > 5 else ''})"
        for c, p in seen.items()
        if len(p) > 1
    ]
    if duplicates:
        raise MtlrecError(
            f"duplicate column names: {'; '.join(duplicates[:10])}: give every column a unique name",
            source=source,
        )


def _name(column: str) -> str:
    return f"'{column}'" if column else "(no name)"


def _check_header_is_names(names: list[str], text: str, delimiter: str, source: str) -> None:
    """A file without a header line: pandas would take its first row as the column names.

    The first line is data when some of its fields are numbers or empty and each of its text fields looks like the
    values below it: one of them (raw Taobao 51,1175,12007,pv,1511546022, where pv is an event below) or of their
    shape (raw Criteo's 8-hex-digit hashes beside its numbers). A text field unlike its column is a name: label over
    0/1 labels, user over u1, u2... (user,item,2019,2020 and id,class,400,410 are headers)."""
    fields = names[:-1] if len(names) > 2 and not names[-1] else names  # a trailing delimiter adds one empty name
    if len(fields) < 2:
        return
    words = [i for i, f in enumerate(fields) if f and not _is_number(f)]
    if len(words) == len(fields):  # names only (or data all text: nothing tells them apart)
        return
    if words:
        rows = _sample_rows(text, delimiter)[1:]
        for i in words:
            below = [row[i].strip() for row in rows if len(row) > i and row[i].strip()]
            if not below or not _like_its_column(fields[i].strip(), below):
                return
    shown = ", ".join(n if n else "(empty)" for n in names[:6]) + (", ..." if len(names) > 6 else "")
    raise MtlrecError(
        f"the first line looks like data, not column names ({shown}): add a header line naming the columns",
        source=source,
    )


def _like_its_column(word: str, below: list[str]) -> bool:
    """Whether a text field of the first line is like the values below it: one of them, or of the shape (length and
    kinds of characters) most of them have. Over a column of numbers, text is a name."""
    if 2 * sum(_is_number(v) for v in below) > len(below):
        return False
    if word in below:
        return True
    shapes = [_shape(v) for v in below]
    return 2 * shapes.count(_shape(word)) > len(shapes)


def _shape(text: str) -> tuple[int, bool, bool, bool, bool]:
    """Length and which kinds of characters a value holds: digits, lower case, upper case, others."""
    return (len(text), any(c.isdigit() for c in text), any(c.islower() for c in text),
            any(c.isupper() for c in text), any(not c.isalnum() for c in text))  # fmt: skip


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    """The first SNIFF_LINES non-blank rows of the file's start, as fields (a line the sample cuts is left out)."""
    sample = text[:SNIFF_BYTES]
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if len(sample) < len(text) and len(lines) > 2:
        lines = lines[:-1]
    try:
        return list(csv.reader(lines[:SNIFF_LINES], delimiter=delimiter))
    except csv.Error:
        return []


def _is_number(text) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


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
