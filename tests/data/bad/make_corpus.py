"""The bad-input corpus: files that people really upload, each of which must end with a specific message.

`python tests/data/bad/make_corpus.py` rewrites the small files kept next to this script (deterministic). The big or
odd ones (10,000 columns, 1 MB strings, a file over the upload limit, a gzip bomb, a pickle that would write a file
if it were ever unpickled) are written at test time into a temporary folder by `write_big` and `write_pickles`, so
the repository stays small. tests/test_bad_inputs.py holds what each file must produce.
"""

from __future__ import annotations

import gzip
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROWS = 60
HEADER = "user_id,item_id,device,price,click"


def rows(click=None, n: int = ROWS, user=None) -> list[list]:
    """user_id, item_id, device, price and click of `n` interactions; `click` and `user` override by row."""
    out = []
    for i in range(n):
        out.append(
            [
                f"u{i % 12}" if user is None else user(i),
                f"i{(i * 7) % 15}",
                ("ios", "android", "web")[i % 3],
                f"{1.5 + (i * 13) % 40:.1f}",
                str(i % 2) if click is None else click(i),
            ]
        )
    return out


def csv_text(table: list[list], header: str = HEADER, sep: str = ",") -> str:
    return "\n".join([header.replace(",", sep)] + [sep.join(r) for r in table]) + "\n"


def _with(table: list[list], line: int, fields: list[str]) -> list[list]:
    """The table with data row `line - 2` (file line `line`) replaced."""
    table = [list(r) for r in table]
    table[line - 2] = fields
    return table


def _zip(members: dict[str, str]) -> bytes:
    """A zip archive with fixed timestamps (the same bytes on every run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


# The directory of a real .xlsx (no spreadsheet library is needed to recognise one).
XLSX = {"[Content_Types].xml": '<?xml version="1.0"?><Types/>', "xl/workbook.xml": "<workbook/>"}


def _parquet(columns: dict) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def _ids(n: int = ROWS) -> dict:
    return {"user_id": [f"u{i % 12}" for i in range(n)], "item_id": [f"i{(i * 7) % 15}" for i in range(n)]}


def small_files() -> dict[str, bytes]:
    """Every committed corpus file by name."""
    good = csv_text(rows())
    files = {
        "empty.csv": b"",
        "blank_lines.csv": b"\n\n   \n\n",
        "header_only.csv": (HEADER + "\n").encode(),
        "one_column.csv": ("user_id\n" + "".join(f"u{i}\n" for i in range(10))).encode(),
        "colon_delimited.csv": csv_text(rows(), sep=":").encode(),
        "mixed_delimiters.csv": (HEADER + "\n" + csv_text(rows(), sep=";").split("\n", 1)[1]).encode(),
        "delimiter_switch.csv": (good + csv_text(rows(n=5), sep=";").split("\n", 1)[1]).encode(),
        "ragged_long.csv": csv_text(_with(rows(), 5, ["u1", "i2", "ios", "3.5", "1", "extra"])).encode(),
        "ragged_short.csv": csv_text(_with(rows(), 5, ["u1", "i2"])).encode(),
        "extra_field_every_row.csv": csv_text([r + ["7"] for r in rows()]).encode(),
        "unclosed_quote.csv": csv_text(_with(rows(), 9, ["u1", '"i2', "ios", "3.5", "1"])).encode(),
        "no_header.csv": "".join(f"{100 + i % 12},{(i * 7) % 15},{i % 3},{i % 2}\n" for i in range(ROWS)).encode(),
        "duplicate_columns.csv": csv_text(rows(), header="user_id,item_id,click,price,click").encode(),
        "html_page.csv": b"<!DOCTYPE html>\n<html><body><table><tr><td>user_id</td></tr></table></body></html>\n",
        "binary_garbage.csv": bytes(np.random.default_rng(6).integers(0, 256, 4096, dtype=np.uint8)),
        "excel_workbook.csv": _zip(XLSX),
        "excel_97.csv": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "zipped.csv": _zip({"interactions.csv": good}),
        "not_parquet.parquet": good.encode(),
        "damaged.csv.gz": gzip.compress(good.encode(), mtime=0)[:40],
        "cp1252.csv": csv_text(rows(), header=HEADER.replace("device", "appareil_utilisé")).encode("cp1252"),
        "utf16_bom.csv": good.encode("utf-16"),
        "utf16_no_bom.csv": good.encode("utf-16-le"),
        "not_text.csv": good.encode() + "\x81\x8d\x8f\x90\x9d".encode("latin-1"),
        # Labels: accepted spellings (with a note) and rejected ones.
        "label_blank.csv": csv_text(rows(click=lambda i: "" if i in (6, 17) else str(i % 2))).encode(),
        "label_nan.csv": csv_text(rows(click=lambda i: "NaN" if i == 40 else str(i % 2))).encode(),
        "label_inf.csv": csv_text(rows(click=lambda i: "inf" if i == 40 else str(i % 2))).encode(),
        "label_minus_one.csv": csv_text(rows(click=lambda i: "1" if i % 2 else "-1")).encode(),
        "label_yes_no.csv": csv_text(rows(click=lambda i: "yes" if i % 2 else "no")).encode(),
        "label_true_false.csv": csv_text(rows(click=lambda i: "True" if i % 2 else "False")).encode(),
        "label_float.csv": csv_text(rows(click=lambda i: "1.0" if i % 2 else "0.0")).encode(),
        "label_one_two.csv": csv_text(rows(click=lambda i: "2" if i % 2 else "1")).encode(),
        "label_a_b.csv": csv_text(rows(click=lambda i: "a" if i % 2 else "b")).encode(),
        "label_zero_one_two.csv": csv_text(rows(click=lambda i: str(i % 3))).encode(),
        "label_stray_values.csv": csv_text(rows(click=lambda i: "oops" if i in (9, 30) else str(i % 2))).encode(),
        "label_constant.csv": csv_text(rows(click=lambda i: "1")).encode(),
        "mixed_types.csv": csv_text(rows()).replace(",4.5,", ",twelve,").replace(",28.5,", ",n.a.,").encode(),
        "single_user.csv": csv_text(rows(user=lambda i: "u1")).encode(),
        # Parquet: nested, raw bytes, damaged, and types that are read after conversion.
        "nested.parquet": _parquet(
            {**_ids(), "tags": [[i, i + 1] for i in range(ROWS)], "click": [i % 2 for i in range(ROWS)]}
        ),
        "raw_bytes.parquet": _parquet(
            {
                **_ids(),
                "blob": pa.array([bytes([i, 0, 255]) for i in range(ROWS)]),
                "click": [i % 2 for i in range(ROWS)],
            }
        ),
        "truncated.parquet": _parquet({**_ids(), "click": [i % 2 for i in range(ROWS)]})[:200],
    }
    return files


def write_small(folder: Path = HERE) -> list[Path]:
    paths = []
    for name, data in small_files().items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


class Tripwire:
    """Unpickling this writes a file (what a malicious pickle would do): its absence proves nothing unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled!"))


def write_pickles(folder: Path) -> tuple[Path, list[Path]]:
    """Malicious pickles named like tables: (the marker file unpickling would create, the files)."""
    marker = folder / "UNPICKLED"
    payload = pickle.dumps(Tripwire(marker), protocol=4)
    files = []
    for name, data in (
        ("pickle.csv", payload),
        ("pickle.parquet", payload),
        ("pickle_protocol2.csv", pickle.dumps(Tripwire(marker), protocol=2)),
        ("pickle_protocol0.csv", pickle.dumps(Tripwire(marker), protocol=0)),
        ("pickle.csv.gz", gzip.compress(payload, mtime=0)),
    ):
        path = folder / name
        path.write_bytes(data)
        files.append(path)
    return marker, files


def wide_frame(columns: int = 10_000, n: int = 200) -> pd.DataFrame:
    """user_id, item_id, `columns` numeric features and a click label."""
    rng = np.random.default_rng(10)
    features = pd.DataFrame(rng.integers(0, 100, size=(n, columns)), columns=[f"f{j}" for j in range(columns)])
    ids = pd.DataFrame({"user_id": [f"u{i % 20}" for i in range(n)], "item_id": [f"i{i % 30}" for i in range(n)]})
    return pd.concat([ids, features, pd.DataFrame({"click": rng.integers(0, 2, n)})], axis=1)


MB = 1 << 20


def write_big(folder: Path) -> dict[str, Path]:
    """The big ones, written into a temporary folder at test time."""
    big = "x" * MB
    table = rows()
    files = {
        "wide.csv": wide_frame().to_csv(index=False).encode(),
        # A 1 MB review (free text: ignored or a category) and a 1 MB value in the numeric price column.
        "long_text.csv": csv_text(
            [r + [big if i == 3 else f"review {i}"] for i, r in enumerate(table)], HEADER + ",review"
        ).encode(),
        "long_value.csv": csv_text(_with(table, 5, ["u1", "i2", "ios", big, "1"])).encode(),
        "long_header.csv": csv_text(table, header=HEADER.replace("price", big)).encode(),
        "quote_storm.csv": (',"' * 40_000).encode(),
        "over_limit.csv": csv_text(rows(n=80_000)).encode(),  # 1.4 MB: over a 1 MB limit
        # 64 MB of zeros compress to about 64 KB: refused when half the free memory is smaller.
        "gzip_bomb.csv.gz": gzip.compress(b"0" * (64 * MB), compresslevel=9, mtime=0),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


if __name__ == "__main__":
    for path in write_small():
        print(f"{path.name}: {path.stat().st_size:,} bytes")
