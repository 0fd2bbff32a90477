"""Specifications of mtlrec.io: every supported format reads, every bad file gets a message naming the file."""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mtlrec.errors import MtlrecError
from mtlrec.io import load_table, read_table

TABLE = "user,item,click\nu1,7,1\nu2,8,0\nu3,7,1\n"
EXPECTED = pd.DataFrame({"user": ["u1", "u2", "u3"], "item": [7, 8, 7], "click": [1, 0, 1]})


def assert_expected_table(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["user", "item", "click"]
    assert frame["user"].tolist() == ["u1", "u2", "u3"]
    assert frame["item"].tolist() == [7, 8, 7]
    assert frame["click"].tolist() == [1, 0, 1]


def error_for(data: bytes, name: str = "upload.csv") -> MtlrecError:
    with pytest.raises(MtlrecError) as info:
        read_table(data, name)
    assert info.value.source == name
    assert str(info.value).startswith(f"{name}: ")
    return info.value


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("delimiter", "note"),
    [
        (",", None),
        (";", "delimiter detected: ';'"),
        ("\t", "delimiter detected: tab"),
        ("|", "delimiter detected: '|'"),
    ],
)
def test_delimiter_is_sniffed(delimiter, note):
    table = read_table(TABLE.replace(",", delimiter).encode(), "t.csv")

    assert_expected_table(table.frame)
    assert table.notes == ([note] if note else [])


def test_semicolon_file_with_decimal_commas_reads_them_as_numbers():
    table = read_table(b"user;price;click\nu1;1,5;1\nu2;2,5;0\n", "eu.csv")

    assert list(table.frame.columns) == ["user", "price", "click"]
    assert table.frame["price"].tolist() == [1.5, 2.5]
    assert "decimal commas read as numbers in 'price'" in table.notes


def test_decimal_comma_conversion_leaves_text_columns_alone():
    frame = load_table(b"user;city;click\nu1;Paris, FR;1\nu2;Rome;0\n")

    assert frame["city"].tolist() == ["Paris, FR", "Rome"]


def test_csv_file_on_disk_is_named_by_its_file_name(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(TABLE, encoding="utf-8")

    table = read_table(path)

    assert table.name == "events.csv"
    assert_expected_table(table.frame)


def test_gzipped_csv_file_is_decompressed(tmp_path):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(TABLE.encode()))

    assert_expected_table(load_table(str(path)))


def test_parquet_file_is_read(tmp_path):
    path = tmp_path / "events.parquet"
    EXPECTED.to_parquet(path)

    assert_expected_table(load_table(path))


def test_parquet_bytes_are_recognised_whatever_the_name():
    assert_expected_table(load_table(parquet_bytes(pa.Table.from_pandas(EXPECTED)), "upload.csv"))


def test_utf8_bom_is_dropped_from_the_first_column_name():
    table = read_table(b"\xef\xbb\xbf" + TABLE.encode())

    assert_expected_table(table.frame)
    assert table.notes == []


def test_cp1252_file_is_read_with_a_note(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("user,city,click\nu1,Montréal,1\nu2,Zürich,0\n".encode("cp1252"))

    table = read_table(path)

    assert table.frame["city"].tolist() == ["Montréal", "Zürich"]
    assert table.notes == ["read as CP1252 text (the file is not UTF-8)"]


def test_utf16_file_is_read_with_a_note():
    table = read_table(TABLE.encode("utf-16"))

    assert_expected_table(table.frame)
    assert table.notes == ["read as UTF-16 text (the file is not UTF-8)"]


def test_surrounding_spaces_in_column_names_are_stripped():
    assert list(load_table(b" user , item\nu1,1\nu2,2\n").columns) == ["user", "item"]


def test_file_object_is_read():
    assert_expected_table(load_table(io.BytesIO(TABLE.encode())))


@pytest.mark.parametrize("data", [b"", b"  \n\n"])
def test_empty_file_is_rejected(data):
    assert error_for(data).problems == ["the file is empty"]


def test_gzip_of_an_empty_file_is_rejected():
    assert error_for(gzip.compress(b""), "e.csv.gz").problems == ["the file is empty (after decompression)"]


def test_damaged_gzip_is_rejected():
    assert "the gzip file is damaged" in str(error_for(gzip.compress(TABLE.encode())[:20], "d.csv.gz"))


def test_header_only_file_is_rejected():
    assert error_for(b"user,item,click\n").problems == ["the file has a header but no data rows"]


def test_binary_garbage_is_rejected():
    error = error_for(bytes(range(256)) * 8)

    assert "the file holds binary data, not text" in str(error)


def test_zip_archive_renamed_csv_is_recognised():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    error = error_for(buffer.getvalue(), "report.csv")

    assert "this is a zip archive (an .xlsx workbook is one)" in str(error)


def test_pdf_renamed_csv_is_recognised():
    assert "a PDF document" in str(error_for(b"%PDF-1.7\n...", "paper.csv"))


def test_file_named_parquet_that_is_not_parquet_is_rejected():
    error = error_for(TABLE.encode(), "events.parquet")

    assert error.problems == ["the file is named .parquet but is not a Parquet file"]


def test_ragged_row_message_names_the_line_and_field_counts():
    data = b"user,item,click\nu1,7,1\nu2,8,0,extra\nu3,7,1\n"

    error = error_for(data)

    assert str(error).startswith("upload.csv: line 3 has 4 fields but the header has 3 (delimiter ',')")


def test_duplicate_csv_column_names_are_named_with_their_positions():
    error = error_for(b"user,click,item,click\nu1,1,7,0\nu2,0,8,1\n")

    assert error.problems == ["duplicate column names: 'click' (columns 2, 4): give every column a unique name"]


def test_column_names_equal_after_stripping_spaces_count_as_duplicates():
    assert "'item' (columns 2, 3)" in str(error_for(b"user,item,item \nu1,1,2\nu2,3,4\n"))


def test_duplicate_parquet_column_names_are_rejected():
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["a", "b", "a"])

    error = error_for(parquet_bytes(table), "dup.parquet")

    assert "'a' (columns 1, 3)" in str(error)


def test_parquet_list_column_is_rejected_naming_the_column():
    table = pa.table({"user": ["u1", "u2"], "tags": [[1, 2], [3]], "click": [1, 0]})

    error = error_for(parquet_bytes(table), "nested.parquet")

    assert "column(s) 'tags' (list<element: int64>) hold nested values" in str(error)
    assert "'user'" not in str(error)


def test_damaged_parquet_is_rejected():
    data = parquet_bytes(pa.Table.from_pandas(EXPECTED))

    assert "the Parquet file cannot be read" in str(error_for(data[:60], "cut.parquet"))


def test_one_column_file_is_rejected_naming_the_column():
    error = error_for(b"user\nu1\nu2\nu3\n")

    assert error.problems == [
        "only one column ('user') was found: a table needs user/item, feature and label columns "
        "separated by commas, semicolons or tabs"
    ]


def test_missing_path_is_named():
    with pytest.raises(MtlrecError, match="does not exist") as info:
        read_table("/nonexistent/dir/events.csv")
    assert "/nonexistent/dir/events.csv" in str(info.value)


def test_folder_path_is_rejected(tmp_path):
    with pytest.raises(MtlrecError, match="is a folder, not a file"):
        read_table(tmp_path)


def test_bad_file_on_disk_is_named_by_its_file_name(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"user,item\n")

    with pytest.raises(MtlrecError) as info:
        load_table(path)

    assert str(info.value) == "broken.csv: the file has a header but no data rows"
