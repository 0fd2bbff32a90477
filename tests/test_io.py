"""Specifications of mtlrec.io: every supported format reads, every bad file gets a message naming the file."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zipfile
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mtlrec.io
from mtlrec.errors import MtlrecError
from mtlrec.io import NoHeaderLine, load_table, read_table
from mtlrec.schema import infer_schema

TABLE = "user,item,click\nu1,7,1\nu2,8,0\nu3,7,1\n"
EXPECTED = pd.DataFrame({"user": ["u1", "u2", "u3"], "item": [7, 8, 7], "click": [1, 0, 1]})


def assert_expected_table(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["user", "item", "click"]
    assert frame["user"].tolist() == ["u1", "u2", "u3"]
    assert frame["item"].tolist() == [7, 8, 7]
    assert frame["click"].tolist() == [1, 0, 1]


def error_for(data: bytes, name: str = "upload.csv") -> MtlrecError:
    return error_for_names(data, name, None)


def error_for_names(data: bytes, name: str, names: list[str] | None) -> MtlrecError:
    with pytest.raises(MtlrecError) as info:
        read_table(data, name, names=names)
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


def test_a_runs_zip_given_as_data_is_told_to_be_imported():
    # A zip downloaded from Runs, uploaded on Data: "holding 'predictions.csv', 'history.csv': unzip it and use that
    # file" offered the run's own outputs as training data.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("config.json", "metrics.json", "history.csv", "predictions.csv", "model.pt"):
            archive.writestr(f"run-20261207/{name}", "{}")

    error = error_for(buffer.getvalue(), "run-20261207.zip")

    assert str(error) == (
        "run-20261207.zip: this is a trained run's zip (its config, metrics and model), not data: import it on Runs "
        "(Import a run) or with python -m mtlrec import FILE"
    )


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("compress", [False, True], ids=["tar", "tar.gz"])
def test_a_tar_archive_names_the_files_it_holds(compress):
    archive = tar_bytes({"data/README": b"read me", "data/train.csv": TABLE.encode()})

    error = error_for(gzip.compress(archive) if compress else archive, "dataset.tar.gz")

    assert error.problems == [
        "this is a tar archive holding 'data/train.csv': extract it (tar xf on the command line, or 7-Zip) and use "
        "the CSV or Parquet file inside (.csv.gz is read directly)"
    ]


def test_a_big_tar_gz_is_named_from_its_start_without_decompressing_it_all(monkeypatch):
    monkeypatch.setattr(mtlrec.io, "TAR_PEEK", 4096)
    archive = tar_bytes({"readme.txt": b"Criteo", "test.txt": b"1\t2\n" * 10_000, "train.txt": b"1\t2\n"})

    error = error_for(gzip.compress(archive), "dac.tar.gz")

    assert "this is a tar archive holding 'readme.txt', 'test.txt', ...: extract it" in str(error)


def test_pdf_renamed_csv_is_recognised():
    assert "a PDF document" in str(error_for(b"%PDF-1.7\n...", "paper.csv"))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'\xef\xbb\xbf{"code": 404, "message": "Not Found"}\n', """this is a JSON object ('{"code": 404, """),
        (b'{\n  "code": 404,\n  "message": "Not Found"\n}\n', "this is JSON, not CSV"),
        (b"[1, 2, 3]", "this is JSON, not CSV"),
    ],
    ids=["error object", "pretty-printed", "array of numbers"],
)
def test_json_that_is_no_table_is_recognised_saying_how_to_convert_it(data, said):
    message = str(error_for(data, "events.csv"))

    assert said in message
    assert "pd.read_json(path" in message and "dtype=False" in message


AMAZON = [
    {"overall": 5.0, "verified": True, "reviewerID": "AD15GQUPFDMHJ", "asin": "0000031852", "vote": "1,343",
     "unixReviewTime": 1242633935, "style": {"Format:": "Paperback", "Size:": {"Name": "L"}}, "tags": ["a", "b"]},
    {"overall": 3.0, "verified": False, "reviewerID": "AVU4CVR94WKVZ", "asin": "B00G43G79R",
     "unixReviewTime": 1244116764},
]  # fmt: skip


@pytest.mark.parametrize("form", ["lines", "lines.gz", "array", "bom"])
def test_json_lines_and_arrays_of_objects_are_read_as_tables_with_ids_kept_as_text(form):
    # Amazon reviews, Yelp and Goodreads come as JSON lines; pandas' read_json made the ASIN 0000031852 31852.
    records = AMAZON * 20
    data = (
        json.dumps(records).encode()
        if form == "array"
        else "".join(json.dumps(r) + "\n" for r in records).encode()
    )  # fmt: skip
    data = gzip.compress(data) if form == "lines.gz" else b"\xef\xbb\xbf" + data if form == "bom" else data

    table = read_table(data, "Books_5.json" + (".gz" if form == "lines.gz" else ""))

    frame = table.frame
    assert frame["asin"].tolist()[:2] == ["0000031852", "B00G43G79R"]
    assert frame["vote"].iloc[0] == 1343 and frame["vote"].isna().iloc[1]  # '1,343' as the same CSV reads it
    assert frame["style.Format:"].iloc[0] == "Paperback" and frame["style.Format:"].isna().iloc[1]
    assert frame["style.Size:.Name"].iloc[0] == "L" and frame["verified"].dtype == bool
    assert len(frame) == 40
    kind = "a JSON array of objects" if form == "array" else "JSON lines (one object per line)"
    # A list of texts is a multi-valued feature: its values joined (left out until 2026-12-07).
    assert table.notes[:2] == [f"read as {kind}", "read 'tags' as a list of values written as JSON text ([\"Action\", "
                               "\"Comedy\"]): a multi-valued feature (on Data: the role multi-valued; CLI: --multi "
                               "tags)"]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'{"a": {"b": [[1], [2]]}, "c": 1}\n{"a": {"b": [[3]]}, "c": 2}\n', "with one field ('c') holding a value"),
        (b'{"a": {}}\n{"a": {}}\n', "with no field holding a value"),
        (b'{"a": 1, "b": 2}\n{bad json\n', "each line must be one complete JSON object"),
    ],
    ids=["one field", "empty objects", "a broken line"],
)
def test_json_lines_that_make_no_table_say_why(data, said):
    assert said in str(error_for(data, "x.json"))


def test_a_json_array_keeps_fields_its_first_object_lacks_and_refuses_ids_beyond_2_53():
    objects = [{"user_id": "u0", "item_id": "i0"}] + [
        {"user_id": f"u{i}", "item_id": "i1", "click": i % 2, "price": 1.5} for i in range(1, 6)
    ]

    frame = read_table(json.dumps(objects).encode(), "events.json").frame

    assert list(frame.columns) == ["user_id", "item_id", "click", "price"]  # from_pylist kept the first object's two
    assert frame["click"].isna().tolist() == [True] + [False] * 5
    big = "".join(json.dumps({"user_id": 2**63 + 1000 * i, "item_id": "i"}) + "\n" for i in range(5)).encode()
    for data in (big, json.dumps([json.loads(line) for line in big.splitlines()]).encode()):
        assert "field 'user_id' holds whole numbers beyond 2^53" in str(error_for(data, "ids.json"))
    assert str(error_for(b"[]", "empty.json")) == "empty.json: this is an empty JSON array: there are no rows"


def test_a_json_lines_file_whose_first_line_is_long_is_read():
    first = json.dumps({"user_id": "u0", "review": "x" * 100_000, "click": 1})
    data = (first + "\n" + json.dumps({"user_id": "u1", "review": "y", "click": 0}) + "\n").encode()

    assert read_table(data, "long.jsonl").frame["user_id"].tolist() == ["u0", "u1"]


@pytest.mark.parametrize(
    ("encoding", "said"),
    [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-32", "UTF-32"), ("cp1252", "CP1252")],
)
def test_json_in_another_encoding_than_utf_8_is_read_in_it(encoding, said):
    # UTF-16 JSON lines (Windows tools) were read as a CSV without a header; Windows-1252 ones were "not CSV".
    rows = [{"user": f"u{i % 3}", "item": f"caf\u00e9 {i}", "click": i % 2} for i in range(6)]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    table = read_table(text.encode(encoding), "reviews.jsonl")
    assert table.frame["item"].tolist() == [f"caf\u00e9 {i}" for i in range(6)]
    assert table.frame["click"].tolist() == [i % 2 for i in range(6)]
    assert table.notes[:2] == [
        f"read as {said} text (the file is not UTF-8)",
        "read as JSON lines (one object per line)",
    ]
    error = error_for(json.dumps({"error": "rate limited"}).encode(encoding), "api.json")
    assert "this is a JSON object" in error.message


@pytest.mark.parametrize("indent", [None, 2])
def test_a_json_object_wrapping_its_records_names_the_key_and_a_pandas_line_that_works(tmp_path, indent):
    # Spotify's Million Playlist files were "JSON, not CSV", with a pd.read_json line that raised "Mixing dicts
    # with non-Series" (audit).
    playlists = [
        {"pid": p, "name": f"mix {p}", "num_tracks": 2,
         "tracks": [{"pos": i, "track_uri": f"spotify:track:{p}{i}", "duration_ms": 1000 * i} for i in range(2)]}
        for p in range(5)
    ]  # fmt: skip
    data = json.dumps({"info": {"slice": "0-4"}, "playlists": playlists}, indent=indent).encode()
    message = error_for(data, "mpd.slice.0-4.json").message
    assert "holds its 5 records under the key 'playlists'" in message
    line = re.search(r"(pd\.json_normalize\(.*\))\.to_parquet", message)[1]
    path = tmp_path / "mpd.json"
    path.write_bytes(data)
    table = eval(line, {"pd": pd, "json": json, "path": str(path)})  # the line, as a user would run it
    assert len(table) == 10 and {"track_uri", "pid", "name"} <= set(table.columns)
    # gzipped, and a track named like its playlist ('name' in both): the line opens the gzip and prefixes the
    # record's fields (open() read compressed bytes; pandas raised "Conflicting metadata name") (a review)
    for p in playlists:
        p["tracks"] = [{**t, "name": f"song {t['pos']}"} for t in p["tracks"]]
    data = json.dumps({"info": {}, "playlists": playlists}, indent=indent).encode()
    message = error_for(gzip.compress(data), "mpd.json.gz").message
    line = re.search(r"import gzip, json; (pd\.json_normalize\(.*\))\.to_parquet", message)[1]
    path = tmp_path / "mpd.json.gz"
    path.write_bytes(gzip.compress(data))
    table = eval(line, {"pd": pd, "json": json, "gzip": gzip, "path": str(path)})
    assert len(table) == 10 and {"name", "playlist_name", "playlist_pid"} <= set(table.columns)


def test_json_lines_whose_field_changes_kind_say_which_and_how_to_convert():
    data = b'{"user": "a", "rating": 4}\n{"user": "b", "rating": "four"}\n'

    message = str(error_for(data, "ratings.jsonl"))

    # Arrow said "in row 1" for the second line (counted from 0, within a block): the field and kinds say more
    assert message.startswith("ratings.jsonl: this is JSON that cannot be read as one table: field 'rating' holds a "
                              "number in some objects and a string in others")  # fmt: skip
    assert ".astype({'rating': str})" in message and "row 1" not in message


PAGE = b'<html lang="en">\n<head><title>Sign in</title></head>\n<body><div class="a, b">Sign in, to go on</div></body>\n</html>\n'


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf<!DOCTYPE html>\n" + PAGE, b"<!-- generated by nginx -->\n" + PAGE, PAGE.split(b"\n", 1)[1]],
    ids=["byte-order mark", "comment first", "head first"],
)
def test_html_pages_are_recognised_after_a_byte_order_mark_or_a_comment(data):
    assert str(error_for(data)).endswith("this is an HTML or XML document, not a table: download the raw CSV file "
                                         "(not the web page showing it)")  # fmt: skip


@pytest.mark.parametrize("name", ["train.csv", "train.parquet"])
def test_a_git_lfs_pointer_says_to_fetch_the_file(name):
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 1234567\n"

    assert "this is a Git LFS pointer" in str(error_for(pointer, name))
    assert "git lfs pull" in str(error_for(pointer, name))


def test_python_dict_lines_say_how_to_convert_them_not_to_add_a_header(tmp_path):
    # Steam's reviews: "add a header line naming the columns" could not help (an audit).
    data = b"{'username': 'p1', 'hours': 37.5, 'product_id': '225023'}\n{'username': 'p2', 'hours': 1.0, 'product_id': '7'}\n"
    message = str(error_for(data, "steam_reviews.csv"))
    assert "this is one Python dict per line ({'key': value, …}: single quotes, so not JSON), not CSV" in message
    assert "ast.literal_eval(line)" in message and "add a header" not in message
    # The line given works when pasted, also for the gzipped file Steam distributes (open() read its bytes).
    for name, raw in (("steam_reviews.json", data), ("steam_reviews.json.gz", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(raw)
        assert str(error_for(raw, name)).count("gzip.open(") == name.endswith(".gz")
        pasted = str(error_for(raw, name)).split("with pandas: ")[1].split(", and use that file")[0]
        exec(pasted.replace("path", repr(str(path))).replace("'interactions.parquet'", repr(str(tmp_path / "o.pq"))),
             {"pd": pd})  # fmt: skip
        assert pd.read_parquet(tmp_path / "o.pq")["product_id"].tolist() == ["225023", "7"]


def test_a_headerless_file_of_space_separated_numbers_says_so():
    # Coat / Yahoo R3 "u i r" files: "only one column ('24 297 3') was found" named no cause (an audit).
    message = str(error_for(b"24 297 3\n109 233 1\n177 285 2\n", "train.txt"))
    assert message.endswith(
        "its values are separated by spaces (3 on every line, and the first line is data, not column names); save "
        "it with commas or tabs and a header line, e.g. with pandas: pd.read_csv(path, sep=r'\\s+', header=None, "
        "names=[3 column names]).to_csv('interactions.csv', index=False)"
    )


def test_bracketed_names_are_a_csv_header_not_json():
    frame = read_table(b"[user],[item],[click]\nu1,7,1\nu2,8,0\n", "t.csv").frame

    assert list(frame.columns) == ["[user]", "[item]", "[click]"]


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


def test_a_first_line_repeating_a_number_beside_repeated_texts_is_data_not_duplicate_names():
    # DeepCTR's census-income.sample: no header; its first line repeats 0 and ' Not in universe'.
    line = "138481,62, Private,0, Not in universe,0, Not in universe,0, Male"
    rows = "\n".join([line, "1,30, Private,5, Not in universe,0, Not in universe,3, Female"] * 3)

    error = error_for(rows.encode())

    assert isinstance(error, NoHeaderLine)
    assert error.problems[0].startswith("the first line looks like data, not column names (138481, 62, Private, 0,")


def test_a_header_repeating_a_year_and_a_name_is_told_its_duplicates_not_that_it_is_data():
    # The rule above took region,region,2019,2019 for a row, and naming its columns then said "looks like names".
    error = error_for(b"region,region,2019,2019,click\nnorth,n1,5,6,1\nsouth,s1,7,8,0\n")

    assert not isinstance(error, NoHeaderLine)
    assert error.problems == ["duplicate column names: 'region' (columns 1, 2); '2019' (columns 3, 4): give every "
                              "column a unique name"]  # fmt: skip


def test_a_parquet_file_with_repeated_number_names_is_told_its_duplicates():
    # Parquet has no first line to name: the naming form would refuse names for it (a loop).
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([0, 1])], names=["0", "0", "click"])

    error = error_for(parquet_bytes(table), "numbers.parquet")

    assert not isinstance(error, NoHeaderLine) and "duplicate column names: '0' (columns 1, 2)" in str(error)


def test_column_names_equal_after_stripping_spaces_count_as_duplicates():
    assert "'item' (columns 2, 3)" in str(error_for(b"user,item,item \nu1,1,2\nu2,3,4\n"))


def test_duplicate_parquet_column_names_are_rejected():
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["a", "b", "a"])

    error = error_for(parquet_bytes(table), "dup.parquet")

    assert "'a' (columns 1, 3)" in str(error)


def test_parquet_lists_and_maps_are_left_out_and_structs_become_columns():
    # A Spark array or map column refused the whole file; a struct too.
    table = pa.table(
        {
            "user": ["u1", "u2"],
            "tags": [[1, 2], [3]],
            "meta": [{"device": "ios", "os": {"v": 17}}, {"device": "web", "os": {"v": None}}],
            "attrs": pa.array([[("k", 1)], [("k", 2)]], type=pa.map_(pa.string(), pa.int64())),
            "click": [1, 0],
        }
    )

    read = read_table(parquet_bytes(table), "nested.parquet")

    assert list(read.frame.columns) == ["user", "tags", "meta.device", "meta.os.v", "click"]
    assert read.frame["meta.device"].tolist() == ["ios", "web"]
    assert read.frame["tags"].tolist() == ['["1", "2"]', '["3"]']  # a multi-valued feature (mtlrec.tokens)
    assert read.notes[:2] == [
        'read \'tags\' as a list of values written as JSON text (["Action", "Comedy"]): a multi-valued feature (on '
        "Data: the role multi-valued; CLI: --multi tags)",
        "left out: 'attrs' (map<string, int64 ('attrs')>), holding maps, which are no feature or label here",
    ]
    clash = pa.table({"a.b": [1, 2], "a": [{"b": 3}, {"b": 4}], "click": [1, 0]})
    assert "duplicate column names: 'a.b'" in str(error_for(parquet_bytes(clash), "clash.parquet"))


def test_a_list_of_records_is_left_out_with_a_pandas_line_that_makes_them_rows(tmp_path):
    # Steam's australian_user_reviews: each user's row holds a list of {item_id, recommend, ...} records, the
    # interactions themselves; left out without a word on how to keep them (an audit). The line is run here.
    reviews = [[{"item_id": "10", "recommend": True}, {"item_id": "20", "recommend": False}], [], None,
               [{"item_id": "30", "recommend": True}]]  # fmt: skip
    table = pa.table({"user_id": ["a", "b", "c", "d"], "user_url": ["u/a", "u/b", "u/c", "u/d"], "reviews": reviews})
    path = tmp_path / "reviews.parquet"
    path.write_bytes(parquet_bytes(table))

    note = read_table(path.read_bytes(), "reviews.parquet").notes[-1]

    line = note.split("(pandas: ")[1].removesuffix(", then save df and load that file)")
    namespace = {"pd": pd, "df": pd.read_parquet(path)}
    exec(line, namespace)  # noqa: S102 - the message's own advice, run as a user would
    df = namespace["df"]
    assert df[["user_id", "item_id", "recommend"]].values.tolist() == [
        ["a", "10", True], ["a", "20", False], ["d", "30", True]
    ]  # fmt: skip


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


# --- codes with leading zeros (0042 beside 42) stay text ---


def test_integer_codes_with_leading_zeros_stay_text_and_other_integers_stay_numbers():
    text = (
        "user_id,article_id,zip,price,click\n"
        '042,0108775030,02134,1.5,1\n42,108775031,,2,0\n0042,"0108775030",00123,3,1\n7,108775032,,4,0\n'
    )

    table = read_table(text.encode(), "hm.csv")

    frame = table.frame
    assert frame["user_id"].tolist() == ["042", "42", "0042", "7"]  # three users, not one user 42
    assert frame["article_id"].tolist() == ["0108775030", "108775031", "0108775030", "108775032"]
    assert frame["zip"].tolist()[::2] == ["02134", "00123"] and frame["zip"].isna().tolist() == [0, 1, 0, 1]
    assert frame["click"].tolist() == [1, 0, 1, 0] and frame["click"].dtype == "int64"
    assert frame["price"].tolist() == [1.5, 2.0, 3.0, 4.0]
    assert table.notes == [
        "column 'user_id': codes with leading zeros (e.g. '042') kept as text",
        "column 'article_id': codes with leading zeros (e.g. '0108775030') kept as text",
        "column 'zip': codes with leading zeros (e.g. '02134') kept as text",
    ]


def test_a_code_with_a_leading_zero_far_down_the_file_keeps_the_column_text():
    rows = "".join(f"{u},{u % 7},{u % 2}\n" for u in range(1, 20_000)) + "0042,3,1\n"

    table = read_table(("user_id,item_id,click\n" + rows).encode(), "late.csv")

    assert table.frame["user_id"].tolist()[-2:] == ["19999", "0042"] and table.frame["user_id"].nunique() == 20_000
    assert table.frame["item_id"].dtype == "int64"
    assert table.notes == ["column 'user_id': codes with leading zeros (e.g. '0042') kept as text"]


def test_zeros_that_are_no_leading_zeros_leave_integer_columns_alone():
    text = "user_id,code,price,day,click\n10,007x,0.5,2024-05-01,0\n100,abc,0.25,2024-05-02,1\n0,x,10.0,2024-05-03,0\n"

    table = read_table(text.encode(), "plain.csv")

    assert table.frame["user_id"].tolist() == [10, 100, 0] and table.frame["click"].dtype == "int64"
    assert table.frame["code"].tolist() == ["007x", "abc", "x"]  # already text: left as it was
    assert table.notes == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("ratings.dat", b"user_id::item_id::click\n0042::1::0\n42::2::1\n"),
        ("utf16.csv", "user_id,item_id,click\n0042,1,0\n42,2,1\n".encode("utf-16")),
        ("excel.csv", "user_id;city;click\n0042;Zürich;0\n42;Köln;1\n".encode("cp1252")),
        ("mac.csv", b"user_id,item_id,click\r0042,1,0\r42,2,1\r"),  # old Excel for Mac: lines end in '\r' alone
    ],
)
def test_codes_with_leading_zeros_stay_text_whatever_the_delimiter_and_encoding(name, data):
    table = read_table(data, name)

    assert table.frame["user_id"].tolist() == ["0042", "42"]
    assert "column 'user_id': codes with leading zeros (e.g. '0042') kept as text" in table.notes


@pytest.mark.parametrize("offset", range(8))
def test_the_scan_for_zero_padded_fields_sees_them_across_its_chunk_boundaries(monkeypatch, offset):
    monkeypatch.setattr(mtlrec.io, "ZERO_SCAN_CHUNK", 5)
    data = b"a,b\n" + b"x" * offset + b"1,07\n"

    assert mtlrec.io._zero_padded_field(data, ",")
    assert not mtlrec.io._zero_padded_field(data.replace(b"07", b"70"), ",")


# --- Parquet column names that are not text ---


def test_parquet_with_integer_column_names_reads_them_as_text():
    frame = pd.DataFrame(np.array([[1, 10, 0], [2, 20, 1], [3, 10, 0]]))  # pd.DataFrame(array): names 0, 1, 2

    table = read_table(frame.to_parquet(), "array.parquet")

    assert list(table.frame.columns) == ["0", "1", "2"]
    assert table.frame["1"].tolist() == [10, 20, 10]
    assert table.notes == ["column names saved as numbers read as text: '0', '1', '2'"]
    infer_schema(table.frame)  # raised AttributeError: 'int' object has no attribute 'lower'


def test_parquet_with_multiindex_columns_is_refused_saying_how_to_flatten_them():
    frame = pd.DataFrame(
        [[1, 2, 0], [3, 4, 1]], columns=pd.MultiIndex.from_tuples([("a", "user_id"), ("a", "x"), ("b", "click")])
    )

    error = error_for(frame.to_parquet(), "wide.parquet")

    assert error.problems == [
        "the columns have 2 levels of names (e.g. ('a', 'user_id')), but column names must be one level of text: "
        "flatten the columns before saving, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
    ]


# --- files without a header line ---


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        (
            "UserBehavior.csv",
            "51,1175,12007,pv,1511546022\n51,1183,5061,pv,1511546370\n52,1175,12007,buy,1511548000\n",
            "51, 1175, 12007, pv, 1511546022",
        ),
        (
            "train.txt",
            "1\t\t5\t68fd1e64\t\t80e26c9b\n0\t2\t\tab9e76c1\t3\t80e26c9b\n0\t\t1\t05db9164\t\ta8cd5504\n",
            "1, (empty), 5, 68fd1e64, (empty), 80e26c9b",
        ),
        (
            "events.csv",
            "1433221332117,257597,view,355908,\n1433224214164,992329,view,248676,\n1433221999827,111016,transaction,318965,42\n",
            "1433221332117, 257597, view, 355908, (empty)",
        ),
    ],
)
def test_a_first_line_of_mostly_numbers_and_blanks_is_taken_for_data(name, text, shown):
    error = error_for(text.encode(), name)

    assert error.problems == [
        f"the first line looks like data, not column names ({shown}): add a header line naming the columns, or name them where the file is read "
        "(on Data: Name the columns; CLI: --names user_id,item_id,…)"
    ]


@pytest.mark.parametrize(
    "header",
    [
        "label,0,1,2,3",  # numbered features under a label name: 'label' stands over numbers
        "user_id,item_id,1,2,click",
        "user_id,,price,click",
        "user_id,item_id,price,click,",  # a trailing delimiter on the header (and rows below)
    ],
)
def test_headers_with_a_few_numbers_or_blanks_are_still_names(header):
    n = header.count(",") + 1
    first = ["u1", "i1"] if header.startswith("user") else ["1", "0.5"]
    rows = "".join(",".join((first + [str(k % 2)] * n)[:n]) + "\n" for k in range(4))

    table = read_table((header + "\n" + rows).encode(), "ok.csv")

    assert len(table.frame) == 4 and table.frame.shape[1] >= n - 1


# --- numbers with thousands separators ---


def test_numbers_with_thousands_commas_are_numbers_whatever_the_delimiter():
    text = 'user_id,vote,price,click\nu1,"1,234",1,1\nu2,,2,0\nu3,12,3,1\nu4,-,4,0\nu5,"-2,015,000",5,1\n'

    table = read_table(text.encode(), "amazon.csv")

    assert table.frame["vote"].tolist()[::2] == [1234.0, 12.0, -2_015_000.0]
    assert table.frame["vote"].isna().tolist() == [False, True, False, True, False]
    assert table.notes == [
        "column 'vote': numbers with thousands separators (e.g. '1,234') read as numbers (1 placeholder such as '-' "
        "read as missing)"
    ]
    semicolon = read_table(b"user_id;price;click\nu1;1,234.5;1\nu2;7;0\n", "us.csv")
    assert semicolon.frame["price"].tolist() == [1234.5, 7.0]
    assert semicolon.notes == [
        "delimiter detected: ';'",
        "column 'price': numbers with thousands separators (e.g. '1,234.5') read as numbers",
    ]


@pytest.mark.parametrize(
    ("delimiter", "values", "encoding"),
    [
        (";", ["1\u00a0234,50", "12,5", "-2\u00a0015\u00a0000"], "cp1252"),  # French Excel: no-break spaces
        (";", ["1\u202f234,50", "12,5", "-2\u202f015\u202f000"], "utf-8"),  # narrow no-break spaces
        ("\t", ["1 234,50", "12,5", "-2 015 000"], "utf-8"),  # plain spaces
        (",", ["1'234.50", "12.5", "-2'015'000"], "utf-8"),  # Swiss apostrophes
        (";", ["1 234,50 €", "12,5 €", "-2 015 000 €"], "utf-8"),  # and a currency sign
    ],
    ids=["no-break space", "narrow no-break space", "space", "apostrophe", "currency"],
)
def test_thousands_grouped_by_spaces_or_apostrophes_are_numbers(delimiter, values, encoding):
    rows = [delimiter.join([f"u{i}", value, str(i % 2)]) for i, value in enumerate(values)]
    text = "\r\n".join([delimiter.join(["user_id", "price", "click"]), *rows, ""])

    frame = read_table(text.encode(encoding), "fr.csv").frame

    assert frame["price"].tolist() == [1234.5, 12.5, -2_015_000.0]


@pytest.mark.parametrize("values", [["100 200", "300 400"], ["12 ab", "5"], ["1 23", "4"]])
def test_values_with_spaces_that_are_no_grouped_numbers_stay_text(values):
    text = "user_id\tcodes\tclick\n" + "".join(f"u{i}\t{v}\t{i % 2}\n" for i, v in enumerate(values))

    assert read_table(text.encode(), "t.tsv").frame["codes"].tolist() == values


def test_commas_that_do_not_group_thousands_leave_the_text_alone():
    frame = load_table(b'user_id,pair,click\nu1,"1,2",1\nu2,"3,45",0\n')

    assert frame["pair"].tolist() == ["1,2", "3,45"]


# --- field counts, Excel's sep= line, a header-only trailing delimiter, comment lines ---


def test_rows_with_two_more_fields_than_the_header_are_counted_exactly():
    error = error_for(b"a,b,click\n1,2,3,4,1\n5,6,7,8,0\n1,2,3,4,1\n")

    assert error.problems == [
        "every data row has 5 fields but the header has 3 (delimiter ','): add the 2 missing column names to the "
        "header line"
    ]


def test_lines_heading_groups_of_wider_rows_are_named_with_how_to_make_their_id_a_column():
    # Netflix's combined_data_1.txt: a '1:' line, that movie's customer,rating,date rows, then '2:'... It was "every
    # data row has 3 fields but the header has 1: add the 2 missing column names", which gave another error.
    text = "".join(
        f"{movie}:\r\n"
        + "".join(f"{1488844 + 7 * k},{k % 5 + 1},2005-09-{k % 28 + 1:02d}\r\n" for k in range(movie * 3))
        for movie in range(1, 8)
    )

    error = error_for(text.encode(), "combined_data_1.txt")

    assert error.problems == [
        "lines of 1 field ('1:', '2:', '3:', ...: lines 1, 5, 12, 22, 35, ... (7 in all)) stand between rows of 3 "
        "fields (delimiter ','): they seem to head groups of rows (as Netflix's '1:' lines head each movie's "
        "ratings), not to name columns; make the group's id a column of each row, and name the columns for what "
        "they hold (Netflix's: user_id, rating, date, and the group item_id), e.g. with pandas: "
        "df = pd.read_csv('combined_data_1.txt', header=None, names=['c1', 'c2', 'c3'], dtype=str); "
        "df['group'] = df['c1'].where(df['c2'].isna()).ffill().str.rstrip(':'); "
        "df[df['c2'].notna()].to_csv('combined_data_1.csv', index=False)"
    ]
    code = error.problems[0].split("e.g. with pandas: ")[1]  # run as said, on the text, into a text
    scope = {"pd": pd, "data": io.BytesIO(text.encode()), "rows": io.StringIO()}
    exec(code.replace("'combined_data_1.txt'", "data").replace("'combined_data_1.csv'", "rows"), scope)
    table = read_table(scope["rows"].getvalue().encode(), "combined_data_1.csv")
    assert list(table.frame.columns) == ["c1", "c2", "c3", "group"] and len(table.frame) == 3 * (
        1 + 2 + 3 + 4 + 5 + 6 + 7
    )
    assert table.frame["group"].tolist()[:4] == [1, 1, 1, 2]  # the movie's id, without its ':'
    # given --names, the same refusal (it said "3 names but the rows have 1 field"), its line with those names
    named = error_for_names(text.encode(), "combined_data_1.txt", ["user_id", "rating", "date"])
    assert named.problems[0].startswith("lines of 1 field ('1:', '2:', '3:', ...: lines 1, 5, 12")
    assert "names=['user_id', 'rating', 'date'], dtype=str); df['group'] = df['user_id'].where(" in named.problems[0]
    # kept as named here, the ratings are no label inference knows: the hint says how to train on them
    from mtlrec.schema import label_hint

    assert label_hint(table.frame) == (
        "; column 'c2' holds whole numbers from 1 to 5, as ratings do: if it is one, train it as a regression task "
        "(--tasks c2) or make a 0/1 label of it (on Data: Fix the rows; CLI: `--label 'liked=c2 >= 4'`)"
    )


def test_excels_sep_line_is_skipped_and_names_the_delimiter():
    table = read_table(b"sep=;\nuser;item;click\nu1;7;1\nu2;8;0\nu3;7;1\n", "excel.csv")

    assert_expected_table(table.frame)
    assert table.notes == ["the first line 'sep=;' (Excel's delimiter line) was skipped: delimiter ';'"]
    padded = read_table(b'"sep=,",,\nuser,item,click\nu1,7,1\nu2,8,0\nu3,7,1\n', "padded.csv")  # a sheet's cell A1
    assert_expected_table(padded.frame)
    assert padded.notes == ["the first line '\"sep=,\",,' (Excel's delimiter line) was skipped: delimiter ','"]
    error = error_for(b"sep=,\nuser,item,click\nu1,7,1\nu2,8,0,9\n")
    assert str(error).startswith("upload.csv: line 4 has 4 fields but the header has 3")  # the file's line numbers


def test_a_trailing_delimiter_on_the_header_line_only_is_left_out():
    table = read_table(b"user,item,click,\nu1,7,1\nu2,8,0\nu3,7,1\n", "t.csv")

    assert_expected_table(table.frame)
    assert table.notes == [
        "the header line ends with a delimiter but the data rows do not: its empty last name was left out"
    ]


@pytest.mark.parametrize("empty", [1, 2, 3])
def test_columns_without_a_name_or_values_are_left_out(empty):
    """Excel writes formatted but empty columns as delimiters at the end of every line, header included."""
    text = "".join(line + ";" * empty + "\r\n" for line in TABLE.replace(",", ";").splitlines())

    table = read_table(text.encode(), "excel.csv")

    assert_expected_table(table.frame)
    shown = ", ".join(str(4 + i) for i in range(empty))
    assert table.notes[1] == (
        f"column{'s' if empty > 1 else ''} {shown} {'have' if empty > 1 else 'has'} no name and no values (empty "
        "fields between delimiters, as Excel writes formatted empty columns): left out"
    )


def test_several_trailing_delimiters_on_the_header_line_only_are_left_out():
    table = read_table(b"user,item,click,,\nu1,7,1\nu2,8,0,\nu3,7,1\n", "t.csv")

    assert_expected_table(table.frame)
    assert table.notes == [
        "the header line ends with 2 delimiters but the data rows do not: its 2 empty last names were left out"
    ]


def test_columns_without_a_name_that_hold_values_are_still_duplicates():
    error = error_for(b"user,,item,,click\nu1,a,7,b,1\nu2,,8,,0\n")

    assert error.problems == ["duplicate column names: (no name) (columns 2, 4): give every column a unique name"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_rows_of_delimiters_only_are_skipped_with_a_note(delimiter):
    """Excel and Google Sheets export formatted but empty rows as ',,' lines below (or among) the data."""
    lines = TABLE.splitlines()
    text = "\r\n".join([*lines[:3], ",,", *lines[3:], ",,", " , , ", ",,", ""]).replace(",", delimiter)

    table = read_table(text.encode(), "sheet.csv")

    assert_expected_table(table.frame)
    assert (
        table.notes[-1] == "4 empty rows (delimiters only, from line 4: a spreadsheet's formatted empty rows) skipped"
    )


def test_a_line_of_delimiters_inside_a_quoted_value_stays_and_rows_with_a_value_stay():
    table = read_table(b'user,item,click\nu1,"a\n,,\nb",1\n,,0\n,,\n', "t.csv")

    assert table.frame["item"].tolist() == ["a\n,,\nb", np.nan]
    assert table.frame["click"].tolist() == [1, 0]
    assert table.notes == ["an empty row (delimiters only, from line 6: a spreadsheet's formatted empty rows) skipped"]


@pytest.mark.parametrize(
    ("above", "delimiter", "shown"),
    [
        ("Sales report Q1 2024,,", ",", "'Sales report Q1 2024,,'"),
        ("Sales report Q1 2024", ",", "'Sales report Q1 2024'"),
        ("Sales report Q1 2024", ";", "'Sales report Q1 2024'"),
        ("Customer,,Outcome", ",", "'Customer,,Outcome'"),  # the upper row of a merged header
    ],
    ids=["title padded", "title", "title, semicolons", "merged header"],
)
def test_a_title_above_the_header_is_named_with_the_line_to_keep(above, delimiter, shown):
    text = above.replace(",", delimiter) + "\n" + TABLE.replace(",", delimiter)

    error = error_for(text.encode())

    assert error.problems == [
        f"line 1 ({shown.replace(',', delimiter)}) looks like a title (or the upper row of a merged header), not "
        f"column names; the header seems to be line 2 ('user{delimiter}item{delimiter}click'): delete the line above it"
    ]


def test_a_title_holding_another_delimiter_is_a_title_above_the_header_or_above_data():
    # UCI Adult's adult.test starts with '|1x3 Cross validator': "the header line is separated by '|' but the data
    # rows are separated by ','" sent the user to change delimiters, not to delete the line.
    rows = "".join(
        f"{20 + i}, Private, {120000 + 7 * i}, Bachelors, {'<=50K.' if i % 3 else '>50K.'}\n" for i in range(30)
    )
    names = "age,workclass,fnlwgt,education,income\n"

    over_data = error_for(("|1x3 Cross validator\n" + rows).encode(), "adult.test")
    over_names = error_for(("|1x3 Cross validator\n" + names + rows).encode(), "adult.test")

    assert over_data.problems == [
        "line 1 ('|1x3 Cross validator') looks like a title or a comment, not column names, and line 2 is a row of "
        "data: delete line 1 and add a header line naming the columns"
    ]
    assert over_names.problems == [
        "line 1 ('|1x3 Cross validator') looks like a title (or the upper row of a merged header), not column names; "
        "the header seems to be line 2 ('age,workclass,fnlwgt,education,income'): delete the line above it"
    ]
    assert len(read_table((names + rows).encode(), "adult.test").frame) == 30


@pytest.mark.parametrize("text", ["user,,\nu1,a,b\nu2,c,d\nu3,e,f\n", "user\nu1,7\nu2,8\n"])
def test_a_short_header_over_rows_like_its_second_line_is_no_title(text):
    assert "looks like a title" not in str(error_for(text.encode()))


def test_a_saved_text_index_is_no_title():
    # df.to_csv() with an index of impression ids (and R's write.csv with row names): an empty first name, then
    # names; its second line has ids of other lengths than most below (imp0 above imp10..imp99) and True/False
    rows = [f"imp{i},u{(i * 7) % 300},i{(i * 13) % 500},{i % 2 == 0},{i % 3 == 0}" for i in range(200)]
    table = read_table((",user_id,item_id,clicked,liked\n" + "\n".join(rows) + "\n").encode(), "impressions.csv")
    assert list(table.frame.columns) == ["Unnamed: 0", "user_id", "item_id", "clicked", "liked"]
    assert len(table.frame) == 200


def test_lines_ending_in_a_carriage_return_alone_are_lines_for_titles_and_empty_rows():
    # old Excel for Mac: '\r' alone ends each line; empty rows stayed rows of missing values, and a title was quoted
    # as the whole file
    rows = "\r".join(f"u{i},i{i % 7},{i % 2}" for i in range(20))
    table = read_table(("user,item,click\r" + rows + "\r,,\r,,\r").encode(), "mac.csv")
    assert len(table.frame) == 20 and table.frame["click"].notna().all()
    assert "2 empty rows (delimiters only, from line 22" in " ".join(table.notes)
    error = error_for(("Sales report Q1 2024\r" + TABLE.replace("\n", "\r")).encode())
    assert error.problems[0].startswith("line 1 ('Sales report Q1 2024') looks like a title")


def test_a_csv_with_ustar_at_the_tar_magic_offset_is_read():
    # 'Honey Dijon Mustard' can put 'ustar' at byte 257, where a tar header has its magic (and then its checksum)
    text = "order_id,product\n" + "".join(f"{i},item number {i:03d}\n" for i in range(12))
    prefix = "12,Honey Dijon"
    text += prefix + " " * (257 - 1 - len(text) - len(prefix)) + "Mustard\n"
    text += "".join(f"{i},item number {i:03d}\n" for i in range(13, 40))
    assert text.encode()[257:262] == b"ustar"
    assert read_table(text.encode(), "orders.csv").frame.shape == (40, 2)


DECIMAL_ROWS = "u1;7;1;945,36\nu2;8;0;12,5\nu3;7;1;3,25\n"


def test_a_header_ending_with_a_delimiter_over_decimal_commas_is_no_mix_of_delimiters():
    table = read_table(("user;item;click;price;\n" + DECIMAL_ROWS).encode(), "t.csv")

    assert table.frame["price"].tolist() == [945.36, 12.5, 3.25]
    assert "the header line ends with a delimiter but the data rows do not: its empty last name was left out" in (
        table.notes
    )


def test_a_name_too_many_over_decimal_commas_gets_the_field_counts():
    error = error_for(("user;item;click;price;comment\n" + DECIMAL_ROWS).encode())

    assert str(error).endswith(
        "3 lines have fewer fields than the header: line 2 has 4 fields but the header has 5 (also lines 3, 4) "
        "(delimiter ';'): fill in the missing fields (empty ones are fine: a,,c) or check the delimiter"
    )


def test_comment_lines_before_the_header_are_skipped_with_a_note():
    table = read_table(b"# exported by tool X\n# 2024-05-01, all users\n" + TABLE.encode(), "c.csv")

    assert_expected_table(table.frame)
    assert table.notes == ["lines 1-2 start with '#' (comments) and were skipped"]
    error = error_for(b"# exported by tool X\nuser,item,click\nu1,7,1\nu2,8,0,9\n")
    assert str(error).startswith("upload.csv: line 4 has 4 fields but the header has 3")
    hashed = read_table(b"#user,item,click\nu1,7,1\nu2,8,0\n", "h.csv")  # a header written with '#': kept
    assert list(hashed.frame.columns) == ["#user", "item", "click"] and hashed.notes == []


# --- zero bytes anywhere in the file ---


def test_zero_bytes_after_the_first_64_kb_are_found_and_their_line_named():
    rows = "".join(f"u{i},{i % 9},{i % 2}\n" for i in range(8000))  # ~80 KB
    data = ("user,item,click\n" + rows).encode()
    assert len(data) > 64 * 1024

    assert error_for(data + b"\x00" * 4096).problems == [
        "the file ends with 4,096 zero bytes (from line 8002): the file was cut or not fully written; remove them "
        "(or write the file again)"
    ]
    assert error_for(data + b"u1,\x00\x003,1\n" + data).problems == [
        "the file holds binary data, not text (line 8002 holds a zero byte): upload a CSV (comma, semicolon or tab "
        "separated) or Parquet file"
    ]


def test_a_short_file_ending_in_zero_bytes_is_said_to_be_cut():
    assert error_for(TABLE.encode() + b"\x00" * 100).problems == [
        "the file ends with 100 zero bytes (from line 5): the file was cut or not fully written; remove them (or "
        "write the file again)"
    ]


def test_dates_and_times_are_no_zero_padded_codes_and_two_digit_padding_stays_a_number():
    # Day-first dates start with 0 and a digit too: the scan used to send every integer column to a second, text
    # read (8x slower on 500k rows); and minutes 00-59 became text.
    from mtlrec.io import _zero_padded_field

    dates = b"day,at,user_id,click\n05/03/2024,09:30,1,0\n13/03/2024,10:05,2,1\n"
    assert not _zero_padded_field(dates, ",")
    assert _zero_padded_field(b"user_id,click\n1,0\n0042,1", ",")  # at the very end of the file too

    table = read_table(b"minute,month,code,click\n05,01,007,1\n30,12,123,0\n00,07,042,1\n", "clock.csv")

    assert table.frame["minute"].tolist() == [5, 30, 0] and table.frame["month"].tolist() == [1, 12, 7]
    assert table.frame["code"].tolist() == ["007", "123", "042"]
    assert table.notes == ["column 'code': codes with leading zeros (e.g. '007') kept as text"]


@pytest.mark.parametrize(
    "text",
    [
        "user,item,2019,2020,2021,2022\nu1,i1,1,2,3,4\nu2,i2,5,6,7,8\nu3,i9,5,6,7,8\n",  # years over text ids
        "id,class,400,410,420,430\ns01,a,0.1,0.2,0.3,0.4\ns02,b,0.1,0.2,0.3,0.4\n",  # wavelengths
    ],
)
def test_headers_of_mostly_numbers_over_unlike_text_are_names(text):
    # Refused as "looks like data" for a few hours on 2026-12-06: their text names are nothing like the values below.
    assert len(read_table(text.encode(), "wide.csv").frame) in (2, 3)


def test_mind_behaviors_without_a_header_is_refused_though_its_ids_dates_and_lists_vary_in_length():
    # MIND's behaviors.tsv: ids U + 1-6 digits, 12-hour dates, lists of news ids of any length. Its first row was
    # taken for names (one row lost, then "no label columns were recognised").
    rows = [
        "1\tU13740\t11/11/2019 9:05:58 AM\tN55189 N42782 N34694 N45794\tN55689-1 N35729-0",
        "2\tU91836\t11/12/2019 6:11:30 PM\tN31739 N6072 N63045\tN20678-0 N39317-0 N58114-1 N20495-0",
        "3\tU73700\t11/14/2019 7:01:48 AM\tN10732 N25792\tN50014-0 N23877-0 N35389-0 N49712-1 N16844-0",
        "4\tU34670\t11/11/2019 5:28:05 AM\tN45729 N2203 N871 N53880 N41375\tN35729-0 N33632-0 N49685-1",
        "5\tU8125\t11/12/2019 4:11:21 PM\tN10078\tN39985-0 N36050-0 N16096-0 N8400-1",
        "6\tU19739\t11/11/2019 6:52:13 PM\tN39074 N14343 N32607\tN47061-0 N39318-0 N5889-0 N15342-1",
        "7\tU103\t11/13/2019 10:24:58 PM\t\tN28000-1 N6400-0",
    ]

    error = error_for("\n".join(rows).encode(), "behaviors.tsv")

    assert error.problems == [
        "the first line looks like data, not column names (1, U13740, 11/11/2019 9:05:58 AM, N55189 N42782 N34694 "
        "N45794, N55689-1 N35729-0): add a header line naming the columns, or name them where the file is read "
        "(on Data: Name the columns; CLI: --names user_id,item_id,…)"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "country,city,2019,2020\nfrance,paris,1,2\nspain,madrid,3,4\nitaly,rome,5,6\n",  # words over words
        "A,B,1,2\nx,y,1,2\nz,w,3,4\nv,u,5,6\n",  # short names over short codes of another case
        "user,item,2019,2020\nU13740,N55189,1,2\nU8125,N6072,3,4\nU103,N871,5,6\n",  # names over ids of any length
        "col1,col2,2019,2020\nu1,i7,1,2\nu23,i8,3,4\nu456,i90,5,6\n",  # numbered names over shorter ids
        "date,shop,1,2\n11/11/2019 9:05:58 AM,s1,1,2\n11/13/2019 10:24:58 PM,s2,3,4\n",
    ],
)
def test_names_over_values_of_another_shape_stay_a_header(text):
    table = read_table(text.encode(), "wide.csv")
    assert list(table.frame.columns) == text.split("\n", 1)[0].split(",")


def test_criteo_without_a_header_is_refused_as_data_though_most_fields_are_hashes():
    rows = [
        "\t".join([str(k % 2), *(str((k * 7 + j) % 50) for j in range(13)), *(f"{(k * 97 + j) * 2654435761 % 2**32:08x}"
                                                                                for j in range(26))])
        for k in range(40)
    ]  # fmt: skip

    error = error_for("\n".join(rows).encode(), "train.txt")

    assert error.problems[0].startswith(
        "the first line looks like data, not column names (0, 0, 1, 2, 3, 4, ...: 40 fields)"
    )


def test_comma_lists_of_three_digit_ids_stay_text_and_a_comment_line_shaped_like_the_header_is_a_comment():
    lists = read_table(b'user_id,history,click\nu1,"100,200,300",1\nu2,"100,200",0\nu3,100,1\n', "h.csv")
    assert lists.frame["history"].tolist() == ["100,200,300", "100,200", "100"]  # not 100200300

    commented = read_table(b"# exported 2024-05-01, 1000 rows, by app\n" + TABLE.encode(), "c.csv")
    assert_expected_table(commented.frame)
    assert commented.notes == ["line 1 starts with '#' (a comment) and was skipped"]


# --- other people's files, from an audit: each read wrong, or slowly, before ---


def test_19_digit_ids_with_a_blank_stay_exact():
    # pandas read the column as float64: 60 ids differing in their last digits became one.
    ids = [str(1234567890123456789 + i) for i in range(60)]
    rows = [f"u{i % 7},{ids[i]},{i % 2}" for i in range(60)]
    rows[7] = "u0,,1"
    table = read_table(("user,item_id,click\n" + "\n".join(rows) + "\n").encode(), "big.csv")
    item = table.frame["item_id"]
    assert str(item.dtype) == "Int64" and item.nunique() == 59 and item.isna().sum() == 1
    assert item.iloc[59] == 1234567890123456789 + 59
    assert "column 'item_id': integers beyond 2^53 with missing values kept exact (as nullable integers)" in table.notes


def test_integers_beyond_64_bits_are_read_as_text_as_written():
    # pandas kept 20-digit ids as Python ints in an object column: training ended with an OverflowError writing
    # predictions.csv, and the Data page's preview showed an exception.
    ids = [str(2**64 + i) for i in range(6)]
    rows = [f"u{i % 3},{ids[i]},{-(2**63) - i},{i % 2}" for i in range(6)]
    rows[4] = "u1,,-9223372036854775812,0"

    table = read_table(("user,item_id,code,click\n" + "\n".join(rows) + "\n").encode(), "ids.csv")

    assert table.frame["item_id"].tolist()[:4] == ids[:4] and table.frame["item_id"].isna().sum() == 1
    assert table.frame["code"].tolist()[:2] == ["-9223372036854775808", "-9223372036854775809"]
    assert table.notes == [
        "column 'item_id': integers beyond 64 bits read as text (e.g. '18446744073709551616')",
        "column 'code': integers beyond 64 bits read as text (e.g. '-9223372036854775809')",  # not -2^63, within
    ]
    short_first = read_table(f"user,item_id,click\nu1,163,1\nu2,{ids[1]},0\n".encode(), "s.csv")
    assert short_first.notes == [f"column 'item_id': integers beyond 64 bits read as text (e.g. '{ids[1]}')"]
    placeholder = read_table(f"user,item_id,click\nu1,{ids[0]},1\nu2,-,0\nu3,{ids[1]},1\n".encode(), "p.csv")
    assert placeholder.frame["item_id"].tolist() == [ids[0], "-", ids[1]]  # was Int64 -2^63 twice: one item


def test_19_digit_parquet_ids_with_a_null_stay_exact_as_in_a_csv_file():
    # pyarrow, polars and Spark write nullable int64: pandas made the column float64, and 400 ids became 3.
    ids = [1234567890123456789 + i for i in range(60)]
    item = pa.array(ids, pa.int64(), mask=np.arange(60) == 7)
    big = pa.array([2**64 - 1 - i for i in range(60)], pa.uint64(), mask=np.arange(60) == 3)
    table = read_table(parquet_bytes(pa.table({"item_id": item, "code": big, "click": [i % 2 for i in range(60)]})))
    frame = table.frame
    assert str(frame["item_id"].dtype) == "Int64" and frame["item_id"].nunique() == 59
    assert frame["item_id"].iloc[59] == ids[59] and frame["item_id"].isna().sum() == 1
    assert frame["code"].iloc[0] == str(2**64 - 1) and frame["code"].nunique() == 59  # beyond int64: text
    assert "column 'item_id': integers beyond 2^53 with missing values kept exact (as nullable integers)" in table.notes
    assert "column 'code': integers beyond 2^53 with missing values kept exact (as text)" in table.notes
    small = read_table(parquet_bytes(pa.table({"n": pa.array([1, None, 3], pa.int64()), "x": [1, 2, 3]}))).frame
    assert small["n"].dtype == "float64"  # exact as floats: as a CSV file's integers with a blank
    # Saved from pandas' pyarrow backend, or under a name saved as a number (pd.DataFrame(array)): exact too.
    arrow = pd.DataFrame({" item_id ": pd.array([ids[0], None, ids[1]], dtype="int64[pyarrow]"), "x": [1, 2, 3]})
    assert read_table(arrow.to_parquet(), "p.parquet").frame["item_id"].tolist()[::2] == ids[:2]
    numbered = pd.DataFrame({0: pd.array([ids[0], None, ids[1]], dtype="int64[pyarrow]"), 1: [1, 2, 3]})
    assert read_table(numbered.to_parquet(), "p.parquet").frame["0"].tolist()[::2] == ids[:2]


def test_parquet_decimals_without_decimal_places_are_exact_integers():
    # Snowflake's and BigQuery's NUMBER(38,0) ids arrive as decimal128(38, 0): cast to float64, 300 users became 3.
    users = [Decimal(765432109876543210 + i % 300) for i in range(600)]
    huge = [Decimal(10**30 + i) for i in range(600)]
    table = read_table(
        parquet_bytes(
            pa.table(
                {
                    "USER_ID": pa.array(users, pa.decimal128(38, 0)),
                    "ORDER_REF": pa.array(huge, pa.decimal128(38, 0)),
                    "PRICE": pa.array([Decimal("12.50")] * 600, pa.decimal128(10, 2)),
                    "CLICK": pa.array([Decimal(i % 2) for i in range(600)], pa.decimal128(1, 0)),
                }
            )
        )
    )
    frame = table.frame
    assert frame["USER_ID"].dtype == "int64" and frame["USER_ID"].nunique() == 300
    assert frame["CLICK"].dtype == "int64" and frame["PRICE"].dtype == "float64"
    assert frame["ORDER_REF"].iloc[1] == str(10**30 + 1) and frame["ORDER_REF"].nunique() == 600
    assert table.notes == [
        "decimal column(s) 'USER_ID', 'CLICK' without decimal places read as integers",
        "decimal column(s) 'ORDER_REF' without decimal places read as text (their values are beyond 64-bit integers)",
        "decimal column(s) 'PRICE' read as floating-point numbers",
    ]


def test_parquet_numbers_stored_as_text_are_numbers_as_in_a_csv_file():
    # pd.read_csv(dtype=str).to_parquet, or Spark without inferSchema: rating became a category, price was ignored.
    frame = pd.DataFrame(
        {
            "user_id": [str(i % 7) for i in range(40)],
            "article": ["0042", "42", "042", "0108775030"] * 10,  # codes with leading zeros: text, as in CSV
            "big": [str(1234567890123456789 + i) for i in range(39)] + [None],
            "price": [f"{i * 1.25:.2f}" for i in range(39)] + ["nan"],  # what astype(str) writes for NaN
            "rating": [str(1 + i % 5) for i in range(40)],
            "city": ["Paris", "1"] * 20,
        }
    )
    table = read_table(frame.to_parquet(), "strings.parquet")
    loaded = table.frame
    assert loaded["user_id"].dtype == "int64" and loaded["rating"].dtype == "int64"
    assert loaded["price"].dtype == "float64" and loaded["price"].iloc[3] == 3.75 and loaded["price"].isna().sum() == 1
    assert str(loaded["big"].dtype) == "Int64" and loaded["big"].iloc[38] == 1234567890123456789 + 38
    assert loaded["article"].tolist() == frame["article"].tolist() and loaded["city"].tolist() == frame["city"].tolist()
    assert table.notes == [
        "numbers stored as text read as numbers in 'user_id', 'big', 'price', 'rating'",
        "column 'price': 1 value 'nan' read as missing (the rest are numbers)",
    ]


def test_a_parquet_index_comes_back_as_a_column():
    # Saved after df.set_index('user_id'): the user column disappeared into the index without a word.
    frame = pd.DataFrame({"user_id": ["a", "b", "c"], "item": [1, 2, 3], "click": [1, 0, 1]}).set_index("user_id")
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    table = read_table(buffer.getvalue(), "indexed.parquet")
    assert list(table.frame.columns) == ["user_id", "item", "click"]
    assert table.frame["user_id"].tolist() == ["a", "b", "c"]
    assert "the index saved with the file ('user_id') read as a column" in table.notes


def test_parquet_column_names_are_trimmed_like_a_csv_files():
    table = read_table(parquet_bytes(pa.table({" user": ["a", "b"], "click ": [1, 0], "x": [1, 2]})), "p.parquet")
    assert list(table.frame.columns) == ["user", "click", "x"]
    message = error_for(parquet_bytes(pa.table({"click": [1, 0], "click ": [0, 1], "x": [1, 2]})), "p.parquet").message
    assert "duplicate column names: 'click'" in message


def test_a_parquet_column_without_a_name_is_named_as_in_a_csv_file():
    # Named '', it became a feature printed as nothing: "categorical: user_id, item_id, ".
    table = read_table(parquet_bytes(pa.table({"user_id": ["a", "b"], "": ["x", "y"], "click": [1, 0]})), "p.parquet")

    assert list(table.frame.columns) == ["user_id", "Unnamed: 1", "click"]
    assert list(read_table(b"user_id,,click\na,x,1\nb,y,0\n", "p.csv").frame.columns) == list(table.frame.columns)
    assert table.notes == ["column without a name read as in a CSV file: 'Unnamed: 1' (column 2)"]


def test_line_breaks_and_tabs_in_column_names_become_spaces():
    # A quoted name holding a line break printed on two lines: "categorical: user_id, item_id, dev" then "ice".
    csv = read_table(b'user_id,"dev\r\nice","price\tEUR",click\nu1,ios,1.5,1\nu2,web,2.5,0\n', "n.csv")
    parquet = read_table(parquet_bytes(pa.table({"user_id": ["u1", "u2"], "dev\nice\n": ["ios", "web"], "c": [1, 0]})))

    assert list(csv.frame.columns) == ["user_id", "dev ice", "price EUR", "click"]
    assert csv.notes == ["line breaks and tabs in column names replaced by spaces: 'dev\\r\\nice', 'price\\tEUR'"]
    assert list(parquet.frame.columns) == ["user_id", "dev ice", "c"]
    assert parquet.notes == ["line breaks and tabs in column names replaced by spaces: 'dev\\nice\\n'"]
    message = error_for(b'user_id,"a b","a\nb",click\nu1,1,2,1\nu2,3,4,0\n', "d.csv").message
    assert "duplicate column names: 'a b' (columns 2, 3)" in message


def test_spaces_around_text_values_are_removed_so_that_a_padded_id_is_the_same_user():
    # ' u53 ' written unquoted beside u53: 394 user ids for 200 users, without a word (names were stripped, values not).
    table = read_table(b'user_id,item_id,city,click\n u1 ,i1,"New York",1\nu1, i2,Paris ,0\nu2,i1\t,Rome,1\n', "p.csv")

    assert table.frame["user_id"].tolist() == ["u1", "u1", "u2"]
    assert table.frame["item_id"].tolist() == ["i1", "i2", "i1"]
    assert table.frame["city"].tolist() == ["New York", "Paris", "Rome"]  # spaces inside a value stay
    assert table.notes == [
        "spaces around text values removed in 'user_id' (1 value), 'item_id' (2 values), 'city' (1 value)"
    ]
    blank = read_table(b"user_id,item_id,answer,click\nu1,i1,yes,1\nu2,i2,   ,0\nu3,i1,no,1\n", "b.csv")
    assert blank.frame["answer"].isna().tolist() == [False, True, False]  # spaces only: missing, not ''


def test_spaces_around_parquet_text_values_are_removed_as_in_a_csv_file():
    frame = pd.DataFrame(
        {
            "user_id": [" u1", "u1", "u2 ", None],
            "device": pd.Categorical(["ios", " ios", "web", "web"]),  # dictionary-encoded: categories merge
            "click": [1, 0, 1, 0],
        }
    )

    table = read_table(frame.to_parquet(), "p.parquet")

    assert table.frame["user_id"].tolist()[:3] == ["u1", "u1", "u2"] and table.frame["user_id"].isna().sum() == 1
    assert table.frame["device"].tolist() == ["ios", "ios", "web", "web"]
    assert table.notes == ["spaces around text values removed in 'user_id' (2 values), 'device' (1 value)"]


def test_tab_separated_thousands_are_thousands_and_decimal_commas_beside_them_decide_otherwise():
    # '2,365' in a US tab-separated export was read as 2.365 (1000 times too small), called a decimal comma.
    us = read_table(b"user\twatch\tclick\nu1\t2,365\t1\nu2\t174\t0\nu3\t12,000\t1\n", "us.tsv")
    assert us.frame["watch"].tolist() == [2365.0, 174.0, 12000.0]
    assert any("commas read as thousands separators ('2,365' is 2365)" in n for n in us.notes)
    # In a file whose other column has decimals that cannot be thousands (12,50), a comma is a decimal comma.
    eu = read_table(
        b"user\tprice\tweight\tclick\nu1\t12,50\t2,365\t1\nu2\t3,10\t1,125\t0\nu3\t1,00\t0,5\t1\n", "eu.tsv"
    )
    assert eu.frame["weight"].tolist() == [2.365, 1.125, 0.5]


def test_dot_grouped_thousands_in_a_decimal_comma_file_are_thousands():
    # '3.131' meant 3131 beside '630': pandas read 3.131, without a note.
    table = read_table(b"user;price;watch;click\nu1;12,50;3.131;1\nu2;3,10;630;0\nu3;1,00;12.000;1\n", "eu.csv")
    assert table.frame["watch"].tolist() == [3131.0, 630.0, 12000.0]
    assert table.frame["price"].tolist() == [12.5, 3.1, 1.0]
    assert any("dots read as thousands separators ('3.131' is 3131)" in n for n in table.notes)


@pytest.mark.parametrize("marker", ["Null", "nil", "(null)", "na", "—", " N/A", "NULL ", "NaN "])
def test_more_placeholders_in_a_numeric_column_are_missing_values(marker):
    # The column stayed text and inference then ignored it as "free text".
    rows = [f"u{i},{marker if i % 10 == 0 else i * 1.5},{i % 2}" for i in range(40)]
    table = read_table(("user,price,click\n" + "\n".join(rows) + "\n").encode(), "m.csv")
    assert table.frame["price"].dtype == "float64" and table.frame["price"].isna().sum() == 4


def test_hives_null_is_a_missing_value_in_numbers_and_labels_and_a_partition_date_is_the_time():
    # Tianchi's ODPS, Hive, MySQL and PostgreSQL text exports write NULL as \N: the price was dropped as "free
    # text", a watch time became a category, a 0/1 label with a \N was refused without a fix (audit); ds, Hive's
    # partition date (20190101), was a numeric feature.
    null = "\\N"
    rows = [
        f"u{i % 30}\ti{i % 17}\t{null if i % 10 == 0 else i * 37 % 101 * 1.5}\t{null if i % 7 == 0 else i % 2}\t"
        f"{null if i % 3 == 0 else i * 2.5}\t201901{1 + i % 28:02d}"
        for i in range(300)
    ]
    text = "user_id\titem_id\tprice\tbuy\tstay_time\tds\n" + "\n".join(rows) + "\n"
    table = read_table(text.encode(), "hive.tsv")
    frame = table.frame
    assert frame["price"].dtype == "float64" and frame["price"].isna().sum() == 30
    assert frame["buy"].isna().sum() == 43 and frame["stay_time"].isna().sum() == 100
    assert "column 'price': 30 values '\\N' read as missing (the rest are numbers)" in table.notes  # one backslash
    proposal = infer_schema(frame)
    assert proposal.data.time_col == "ds" and "price" in proposal.data.numeric
    assert {"buy": "binary", "stay_time": "regression"}.items() <= {t.name: t.type for t in proposal.tasks}.items()


def test_ratings_written_out_of_one_scale_are_the_ratings_and_snaps_names_are_read_by_their_own_part():
    # BeerAdvocate's 4.5/5 and RateBeer's 13/20 were text categories, and the refusal advised one 0/1 column per
    # value; review/overall (SNAP's naming) was no rating name (audit).
    rng = np.random.default_rng(0)
    rows = [
        f"u{rng.integers(0, 40)},b{rng.integers(0, 60)},{rng.integers(1, 11) / 2:g}/5,{rng.integers(1, 21)}/20,"
        f"{rng.integers(1, 5)}/{rng.integers(5, 9)},{'-' if i % 50 == 0 else f'{rng.integers(1, 13)}/1'}"
        for i in range(400)
    ]
    text = "review/userId,product/productId,review/overall,review/taste,review/helpfulness,day\n" + "\n".join(rows)
    table = read_table((text + "\n").encode(), "beer.csv")
    frame = table.frame
    assert frame["review/overall"].dtype == "float64" and frame["review/overall"].between(0.5, 5).all()
    assert frame["review/taste"].max() <= 20 and frame["review/taste"].dtype == "float64"
    assert not pd.api.types.is_numeric_dtype(frame["review/helpfulness"])  # 3/7 beside 2/5: no one scale
    assert not pd.api.types.is_numeric_dtype(frame["day"])  # out of 1: no scale
    months = read_table(b"user,month,click\n" + b"".join(f"u{i},{1 + i % 12:02d}/2020,{i % 2}\n".encode()
                                                          for i in range(40)), "m.csv").frame  # fmt: skip
    assert not pd.api.types.is_numeric_dtype(months["month"])  # 06/2020: a month, not 6 out of 2020 (a review)
    december = read_table(b"user,day,click\n" + b"".join(f"u{i},{1 + i % 12}/12,{i % 2}\n".encode()
                                                           for i in range(40)), "d.csv").frame  # fmt: skip
    assert not pd.api.types.is_numeric_dtype(december["day"])  # 8/12: a day of December
    assert any(n.startswith("column 'review/taste': ratings out of 20 (") for n in table.notes)
    proposal = infer_schema(frame)
    assert (proposal.data.user_col, proposal.data.item_col) == ("review/userId", "product/productId")
    assert "review/overall" in [t.name for t in proposal.tasks]


def test_a_decimal_comma_with_an_exponent_is_a_number():
    table = read_table(b"user;price;click\nu1;12,50;1\nu2;1,5E+03;0\nu3;3,25;1\n", "sci.csv")
    assert table.frame["price"].tolist() == [12.5, 1500.0, 3.25]


def test_a_one_line_file_of_many_fields_is_refused_before_the_column_readers():
    # 50,000 fields took three minutes (2,000,000: over ten) before "header but no data rows": the per-column
    # readers ran first. (No timing here: a slow test would show in the suite's time.)
    line = ",".join(f"c{i}" for i in range(50_000)) + "\n"
    assert "has a header but no data rows" in error_for(line.encode()).message


def test_a_utf8_file_with_one_windows_1252_line_keeps_its_utf8_text():
    # Decoded whole as Windows-1252, 'café' in the UTF-8 rows became 'cafÃ©' beside the pasted line's 'café'.
    body = "user,item,click\n" + "".join(f"u{i},café,{i % 2}\n" for i in range(20))
    data = body.encode("utf-8") + "u99,café,1\n".encode("cp1252")
    table = read_table(data, "mixed.csv")
    assert table.frame["item"].unique().tolist() == ["café"]
    assert table.notes == [
        "line 22 is not UTF-8 like the rest of the file: read as Windows-1252 (check the accented text there)"
    ]


def test_a_file_with_bytes_windows_1252_lacks_is_read_naming_the_first():
    # Book-Crossing's files are Latin-1 (ISO-8859-1): 0x81, 0x8d, 0x8f, 0x90 and 0x9d, which Windows-1252 lacks,
    # refused them ("not valid UTF-8 or Windows-1252 text"). They are kept as the control characters of their code
    # points, as browsers read windows-1252; the file's other bytes keep their Windows-1252 meaning (a stray 0x81
    # read the whole file as Latin-1, turning every euro sign into a control character).
    rows = ['"User-ID";"Location";"ISBN";"Note"', '"276725";"Köln";"034545104X";"paid in €"',
            '"276726";"Zürich";"0155061224\x81";"“gift”"']  # fmt: skip
    data = "\n".join(rows).replace("\x81", "").encode("cp1252").replace(b"0155061224", b"0155061224\x81")
    table = read_table(data, "BX-Users.csv")
    assert table.frame["Location"].tolist() == ["Köln", "Zürich"]
    assert table.frame["ISBN"].tolist() == ["034545104X", "0155061224\x81"]
    assert table.frame["Note"].tolist() == ["paid in €", "“gift”"]
    assert table.notes[0] == (
        "read as CP1252 text (the file is not UTF-8; line 3 holds the byte 0x81, which Windows-1252 lacks: kept as a "
        "control character)"
    )

    mixed = read_table("user,item\nu1,café crème\n".encode() + b"u2,\x80caf\xe9\x81\n", "mixed.csv")
    assert mixed.frame["item"].tolist() == ["café crème", "€café\x81"]
    assert mixed.notes == [
        "line 3 is not UTF-8 like the rest of the file: read as Windows-1252 (check the accented text there; line 3 "
        "holds the byte 0x81, which Windows-1252 lacks: kept as a control character)"
    ]


def test_quotes_escaped_with_a_backslash_are_quotes():
    # MySQL/Hive exports: refused with "add the missing column name to the header line".
    rows = [f'u{i},"say \\"hi\\", ok",{i % 2}' for i in range(6)]
    table = read_table(("user,title,click\n" + "\n".join(rows) + "\n").encode(), "hive.csv")
    assert table.frame["title"].unique().tolist() == ['say "hi", ok']
    assert 'quotes escaped with a backslash (\\") read as quotes inside their values' in table.notes
    # Without the delimiter inside, the rows fit either way: "say \\"hi\\"" was read as say \\hi\\"", silently.
    plain = read_table(b'user,title,click\nu1,"say \\"hi\\"",1\nu2,plain,0\n', "hive2.csv")
    assert plain.frame["title"].tolist() == ['say "hi"', "plain"]
    assert read_table(b'user,path\nu1,"C:\\dir\\x"\n', "paths.csv").frame["path"].tolist() == ["C:\\dir\\x"]


def test_quotes_in_a_file_that_quotes_no_value_are_part_of_the_values():
    # Last.fm 1K's track names: a lone '"Heroes' swallowed the lines up to the next quote (refused, naming the line
    # of the last quote), and '"Heroes" (Live)' was read as 'Heroes (Live)', one song merged with another.
    titles = ["Heroes", '"Heroes', '"Heroes" (Live)', 'Song "2"', "Rock 'n' Roll", '"']
    rows = [f"u{i % 5}\t{i}\t{titles[i % len(titles)]}\t{i % 2}" for i in range(24)]
    text = "user\tstamp\ttrack\tclick\n" + "\n".join(rows) + "\n"
    table = read_table(text.encode(), "listens.tsv")
    assert table.frame["track"].tolist() == [titles[i % len(titles)] for i in range(24)]
    assert table.frame["click"].tolist() == [i % 2 for i in range(24)]
    assert (
        "quotes read as part of the values: the file quotes none of its values, and some hold a quote "
        "(line 3: '\"Heroes')" in table.notes
    )
    # Quotes that close on their line are read apart too.
    paired = 'user\ttrack\tclick\nu1\t"Heroes" (Live)\t1\nu2\tHeroes\t0\n'
    table = read_table(paired.encode(), "paired.tsv")
    assert table.frame["track"].tolist() == ['"Heroes" (Live)', "Heroes"]
    # A file that quotes its values (its header, or most values) keeps RFC 4180's reading, and its errors: one broken
    # value there was read as a file quoting nothing, every value keeping its quotes (a review).
    assert read_table(('"user"\t"track"\tclick\n' + paired.split("\n", 1)[1]).encode(), "q.tsv").frame[
        "track"
    ].tolist() == ["Heroes (Live)", "Heroes"]
    broken = '"user"\t"item"\t"rating"\n"u1"\t"i1"\t"5"\n"u2"\t"i2\t"3"\n"u3"\t"i3"\t"4"\n'
    assert "line 3 has 2 fields but the header has 3" in error_for(broken.encode(), "broken.tsv").message
    # A quoted value holding a line break and delimiters that balance across its lines keeps its reading too.
    balanced = read_table(b'a\tb\tc\nx\t"p\tq\nr\ts"\ty\nz\tw\tv\n', "b.tsv").frame
    assert balanced["b"].tolist() == ["p\tq\nr\ts", "w"]
    # A quote in the header only: no crash (StopIteration, a review).
    assert list(read_table(b'"id"x\tname\n1\tfoo\n2\tbar\n', "h.tsv").frame.columns) == ["idx", "name"]


@pytest.mark.parametrize(
    "text",
    [
        'user,title,click\nu1,"Smith, John",1\n\nu2,"plain",0\nu3,"a ""b"" c",1\n',  # quoted commas, a blank line
        'user;title;click\nu1;"Smith; John";1\n\nu2;"plain";0\nu3;"a ""b"" c";1\n',
        'user,title,click\nu1,"Heroes" (Live),1\nu2,x,0\n',  # a comma-separated file quotes values (RFC 4180)
        'user\ttitle\tclick\nu1\t"two\nlines"\t1\nu2\t"x"\t0\n',  # a quoted line break
        'user\ttitle\tclick\nu1\t"x"\t1\n\nu2\t"y"\t0\n',  # every value quoted, and a blank line
    ],
)
def test_quoted_values_keep_their_rfc_4180_reading(text):
    table = read_table(text.encode(), "quoted.csv")
    assert not any("quotes read as part" in note for note in table.notes)
    assert not table.frame["title"].astype(str).str.startswith('"').any()
    assert table.frame["click"].tolist() == [1, 0, 1][: len(table.frame)]


def test_a_lone_quote_closed_lines_later_does_not_swallow_the_rows_between():
    # Last.fm: '"Heroes' on one line and 'Blue Monday 12"' four lines later, both at a value's edge: RFC 4180 read
    # the rows between as one value and 4 rows were lost without a word (an audit).
    rows = ["user\tts\ttrack\tplays"] + [f"u{i}\t{i}\tT{i}\t{i}" for i in range(20)]
    rows[10], rows[14] = 'u9\t9\t"Heroes\t9', 'u13\t13\tBlue Monday 12"\t13'
    table = read_table(("\n".join(rows) + "\n").encode(), "listens.tsv")
    assert len(table.frame) == 20 and table.frame["track"].iloc[9] == '"Heroes'
    assert "quotes read as part of the values" in table.notes[-1] and "(line 11: '\"Heroes')" in table.notes[-1]
    # In a comma-separated file a quote is CSV's, and one closed lines later is refused, naming its line.
    commas = ["user,item,click,title"] + [f"u{i},i{i},{i % 2},title {i}" for i in range(40)]
    commas[28], commas[31] = 'u27,i27,0,"title 27', 'u30,i30,0,title 30"'
    assert "a quote opening a value on line 29 ('title 27'…) is closed only 3 lines later" in (
        error_for(("\n".join(commas) + "\n").encode()).message
    )
    # A value over two lines is RFC 4180's quoted line break in either file.
    assert read_table(b'user,note,click\nu1,"one\ntwo",1\nu2,x,0\n', "n.csv").frame["note"].tolist() == [
        "one\ntwo",
        "x",
    ]


def test_names_given_to_a_file_whose_first_line_is_those_names_are_refused_and_colons_stay_colons():
    with pytest.raises(MtlrecError, match="the first line already names the columns \\(user, item, click\\)"):
        read_table(b"user,item,click\nu1,i1,1\n", "h.csv", names=["user", "item", "click"])
    with pytest.raises(MtlrecError) as info:
        read_table(b"1::2::3::4\n5::6::7::8\n", "r.dat", names=["u", "i", "r"])
    assert "(delimiter '::'; the first row: '1::2::3::4')" in info.value.message
    rows = "".join(f"{i}::{i + 1}::3::{978300000 + i}\n" for i in range(20)) + "21::3::4\n"
    with pytest.raises(MtlrecError) as info:
        read_table(rows.encode(), "ratings.dat", names=["u", "i", "r", "t"])
    assert "line 21 has 3 fields but 4 column names were given (delimiter '::')" in info.value.message


def test_a_stray_quote_and_a_short_row_still_name_a_problem():
    # Quotes as plain characters do not fit every line either: the file is refused as before, not misread.
    rows = ["user\ttrack\tclick"] + [f"u{i}\tt{i}\t{i % 2}" for i in range(10)]
    rows[3] = 'u2\t"Heroes\t0'
    rows[6] = "u5\tt5"
    with pytest.raises(MtlrecError):
        read_table(("\n".join(rows) + "\n").encode(), "bad.tsv")


def test_a_bad_row_after_a_quoted_line_break_is_named_by_its_line_in_the_file():
    # pandas counts the quoted value's two lines as one: the message said line 8 for the file's line 9.
    rows = ["user,item,note,click"] + [f"u{i},i{i},x,{i % 2}" for i in range(12)]
    rows[2] = 'u1,i1,"two\nlines",1'
    rows[7] += ",extra"
    message = error_for(("\n".join(rows) + "\n").encode()).message
    assert "line 9 has 5 fields but the header has 4" in message


@pytest.mark.parametrize(
    ("encoding", "shown"), [("gbk", "GB18030"), ("cp949", "CP949"), ("big5", "Big5"), ("shift_jis", "Shift-JIS")]
)
def test_chinese_japanese_and_korean_windows_files_are_read_in_their_encoding(encoding, shown):
    # Windows-1252 reads almost any bytes: '点击' became 'µã»÷', and '--tasks 点击' matched nothing.
    words = {
        "gbk": ["电影", "音乐", "游戏"], "cp949": ["영화", "음악", "게임"], "big5": ["電影", "音樂", "遊戲"],
        "shift_jis": ["映画", "音楽", "ゲーム"],
    }[encoding]  # fmt: skip
    label = {"gbk": "点击", "cp949": "클릭", "big5": "點擊", "shift_jis": "クリック"}[encoding]
    rows = "".join(f"u{i},{words[i % 3]}{words[(i + 1) % 3]},{i % 2}\n" for i in range(120))
    table = read_table((f"user,类别,{label}\n".replace("类别", "kind") + rows).encode(encoding), "east.csv")
    assert label in table.frame.columns and set(table.frame["kind"]) <= {a + b for a in words for b in words}
    assert table.notes[0] == f"read as {shown} text (detected; the file is not UTF-8)"


def test_western_windows_1252_text_is_still_read_as_windows_1252():
    rows = "".join(f"u{i},crème brûlée {i % 5},Größe,{i % 2}\n" for i in range(200))
    table = read_table(("user,dish,size,click\n" + rows).encode("cp1252"), "fr.csv")
    assert table.frame["dish"].iloc[0] == "crème brûlée 0" and table.frame["size"].iloc[0] == "Größe"
    assert table.notes == ["read as CP1252 text (the file is not UTF-8)"]


@pytest.mark.parametrize("word", ["écrit123", "Müller", "Señor"])
def test_a_file_of_numbers_with_one_accented_value_is_windows_1252_not_chinese(word):
    # Book-Crossing's ISBNs with one 'écrit123' were read as Big5 ('嶰rit123'); 'Müller' as GB18030 ('M黮ler').
    rows = "".join(f"{i};{word if i == 5 else f'0{100000 + i}'};{i % 2}\n" for i in range(300))

    table = read_table(("User-ID;ISBN;click\n" + rows).encode("cp1252"), "BX-Book-Ratings.csv")

    assert table.frame["ISBN"].iloc[5] == word and table.frame["ISBN"].iloc[0] == "0100000"
    assert table.notes[0] == "read as CP1252 text (the file is not UTF-8)"


def test_the_code_na_in_a_column_of_two_letter_codes_is_a_code_not_a_missing_value():
    # pandas read Namibia's (or North America's) 'NA' as missing and merged it with the empty values, without a note.
    rows = "".join(f"u{i},{['NA', 'EU', '', 'AS'][i % 4]},{i % 2}\n" for i in range(40))
    table = read_table(("user,region,click\n" + rows).encode(), "regions.csv")
    assert table.frame["region"].value_counts(dropna=False).to_dict() == {"NA": 10, "EU": 10, "AS": 10, np.nan: 10}
    assert "column 'region': 'NA' kept as a code like the others (e.g. Namibia), not as missing" in table.notes
    # Elsewhere NA is still a missing value (R writes it so).
    plain = read_table(b"user,price,click\nu1,NA,1\nu2,2.5,0\nu3,3.0,1\n", "r.csv")
    assert plain.frame["price"].isna().tolist() == [True, False, False]


@pytest.mark.parametrize("comment", ["# a note in the middle", "# a note, in the middle, here"])
def test_a_comment_line_among_the_rows_is_skipped_not_read_as_a_row(comment):
    # With as many commas as a row it became one ('# a note' a user); with fewer it was called a short row.
    data = f"user,item,click\nu1,i1,1\n{comment}\nu2,i2,0\nu3,i3,1\n".encode()
    table = read_table(data, "c.csv")
    assert table.frame["user"].tolist() == ["u1", "u2", "u3"] and table.frame["click"].tolist() == [1, 0, 1]
    assert table.notes == ["line 3 among the rows starts with '#' (a comment) and was skipped"]


def test_values_starting_with_a_hash_in_many_rows_are_data():
    table = read_table(b"tag,item,click\n" + b"".join(b"#t%d,i%d,%d\n" % (i, i, i % 2) for i in range(20)), "t.csv")
    assert table.frame["tag"].iloc[0] == "#t0" and len(table.frame) == 20 and table.notes == []


def test_columns_read_again_as_text_are_read_with_the_files_backslash_escapes():
    # The re-readers parsed the text without the escape: big ids stayed floats, and a decimal-comma file crashed.
    ids = b'title,user_id,click\n"say \\"hi, there\\"",1234567890123456789,1\n"plain",,0\n"x",1234567890123456788,1\n'
    assert read_table(ids, "e.csv").frame["user_id"].tolist()[::2] == [1234567890123456789, 1234567890123456788]
    dots = b'title;views;price;click\n"say \\"hi; there\\"";3.131;12,50;1\n"plain";630;3,20;0\n"x";1.250;4,00;1\n'
    assert read_table(dots, "e.csv").frame["views"].tolist() == [3131.0, 630.0, 1250.0]


def test_a_parquet_index_that_repeats_a_column_is_dropped():
    # set_index("user_id", drop=False) crashed with "cannot insert user_id, already exists".
    frame = pd.DataFrame({"user_id": ["a", "b"], "item": [1, 2], "click": [1, 0]}).set_index("user_id", drop=False)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    table = read_table(buffer.getvalue(), "dup.parquet")
    assert list(table.frame.columns) == ["user_id", "item", "click"] and table.notes == []


def test_a_placeholder_does_not_turn_decimal_commas_into_thousands():
    # With one '-' the column skipped the decimal-comma reader and was read as thousands: 2,365 became 2365.
    data = b"user;weight;price;click\nu1;2,365;12,50;1\nu2;174;3,10;0\nu3;1,020;1,00;1\nu4;88;2,00;0\nu5;-;4,00;1\n"
    table = read_table(data, "eu.csv")
    assert table.frame["weight"].tolist()[:4] == [2.365, 174.0, 1.02, 88.0] and np.isnan(table.frame["weight"].iloc[4])
    assert "column 'weight': 1 value '-' read as missing (the rest are numbers)" in table.notes


def test_lists_of_three_digit_ids_stay_text_in_a_tab_separated_file_too():
    table = read_table(b"user\tids\tclick\nu1\t100,200\t1\nu2\t300,400\t0\nu3\t500,600\t1\n", "l.tsv")
    assert table.frame["ids"].tolist() == ["100,200", "300,400", "500,600"]


@pytest.mark.parametrize("before", ["", "\n", "sep=,\n", "# exported by a tool\n"])
def test_a_bad_rows_line_is_the_files_after_blank_lines_and_skipped_preambles(before):
    # Mapping pandas' count to the file's lines skipped blank lines, which pandas counts: one line too far.
    body = "user,item,click\nu1,i1,1\nu2,i2,0\n" + ("\n" if before == "\n" else "") + "u3,i3,1,x\nu4,i4,0\n"
    data = (before if before != "\n" else "") + body
    bad = data.splitlines().index("u3,i3,1,x") + 1
    assert f"line {bad} has 4 fields but the header has 3" in error_for(data.encode()).message


@pytest.mark.parametrize("before", ["\n", "sep=,\n"])
def test_a_hash_header_after_a_blank_or_sep_line_stays_the_header(before):
    # The comment scan started at the first newline, before the header: '#user_id,...' was blanked.
    table = read_table(f"{before}#user_id,item_id,click\nu1,i1,1\nu2,i2,0\nu3,i3,1\n".encode(), "h.csv")
    assert list(table.frame.columns) == ["#user_id", "item_id", "click"] and len(table.frame) == 3


def test_a_line_starting_with_a_hash_inside_a_quoted_value_is_kept():
    # '#blessed' on the second line of a review was taken for a comment and removed.
    rows = "".join(f"u{i},i{i % 3},{i % 2},plain\n" for i in range(40))
    data = ("user,item,click,review\n" + rows + 'u99,i3,1,"loved it\n#blessed #happy\nwill buy again"\n').encode()
    table = read_table(data, "r.csv")
    assert table.frame["review"].iloc[-1] == "loved it\n#blessed #happy\nwill buy again" and table.notes == []


def test_lists_of_three_digit_ids_with_a_placeholder_stay_text():
    # The placeholder reader took 100,200 for 100.2 in a semicolon file.
    table = read_table(b"user;tags;click\nu1;100,200;1\nu2;300,400;0\nu3;-;1\nu4;999,101;0\n", "t.csv")
    assert table.frame["tags"].tolist()[:2] == ["100,200", "300,400"] and table.frame["tags"].iloc[3] == "999,101"


def test_a_stray_quote_earlier_in_the_file_does_not_keep_later_comments():
    # Quotes were counted over the whole text: after '55" TV' in an unquoted field, every later comment was taken
    # for a value and the file was refused.
    rows = [f"u{i},i{i % 3},{i % 2},tv {i}" for i in range(40)]
    rows[3] = 'u3,i0,1,55" TV'
    rows.insert(20, "# a note")
    table = read_table(("user,item,click,title\n" + "\n".join(rows) + "\n").encode(), "s.csv")
    assert len(table.frame) == 40 and table.notes == [
        "line 22 among the rows starts with '#' (a comment) and was skipped"
    ]


def test_comment_lines_are_judged_by_where_records_start():
    # Judged on the line before: a value's third line starting with '#' was blanked, and a comment right after a
    # two-line value was kept (the file was refused either way); a value ending in a backslash did the same.
    rows = [f"u{i},i{i % 3},{i % 2},r{i}" for i in range(40)]
    third = rows[:10] + ['u10,i1,0,"great phone\nreally\n#blessed"'] + rows[11:]
    table = read_table(("user,item,click,review\n" + "\n".join(third) + "\n").encode(), "a.csv")
    assert table.frame["review"].iloc[10] == "great phone\nreally\n#blessed" and table.notes == []
    after = rows[:10] + ['u10,i1,0,"great\nphone"', "# a note"] + rows[11:]
    table = read_table(("user,item,click,review\n" + "\n".join(after) + "\n").encode(), "b.csv")
    assert len(table.frame) == 40 and table.notes == [
        "line 14 among the rows starts with '#' (a comment) and was skipped"
    ]
    slash = rows[:10] + ['u10,i1,0,"C:\\temp\\"', "# a note"] + rows[11:]
    table = read_table(("user,item,click,dir\n" + "\n".join(slash) + "\n").encode(), "c.csv")
    assert len(table.frame) == 40 and table.frame["dir"].iloc[10] == "C:\\temp\\"


def test_dot_thousands_that_are_round_are_thousands_too():
    # '1.500' parses as 1.5: a rule on the float's third decimal missed every round value.
    data = b"user;price;salary;click\nu1;12,50;1.500;1\nu2;3,10;2.000;0\nu3;1,00;12.300;1\nu4;2,00;800;0\n"
    assert read_table(data, "s.csv").frame["salary"].tolist() == [1500.0, 2000.0, 12300.0, 800.0]


def test_comment_lines_after_escapes_long_values_and_lone_carriage_returns():
    # A '\"' made a second, escaped reading count a value's inner line as a record start; a value over the csv
    # module's size limit turned the check off (the comment became a row); a lone '\r' in a value shifted the lines.
    escaped = 'id,click,dir\n1,1,"C:\\temp\\"\n2,0,"multi\n#tag line\nend"\n3,1,x\n'
    assert read_table(escaped.encode(), "e.csv").frame["dir"].iloc[1] == "multi\n#tag line\nend"
    long = 'user_id,click,text\n# exported 2024-01-01\n1,1,short\n2,0,"' + "x" * 140_000 + '"\n3,1,short\n'
    table = read_table(long.encode(), "l.csv")
    assert table.frame["user_id"].tolist() == [1, 2, 3] and table.frame["click"].dtype.kind == "i"
    carriage = 'id,click,note\n1,0,"a\rb"\n# a comment\n2,1,y\n3,1,x\n'
    assert read_table(carriage.encode(), "r.csv").notes == [
        "line 3 among the rows starts with '#' (a comment) and was skipped"
    ]


def test_dot_thousands_that_are_all_round_are_thousands():
    data = b"user;price;views;click\nu1;1,5;2.000;1\nu2;2,5;630;0\nu3;3,5;3.000;1\n"
    assert read_table(data, "v.csv").frame["views"].tolist() == [2000.0, 630.0, 3000.0]


def test_an_empty_unnamed_column_among_others_leaves_each_column_its_own_values():
    # It was left out before the readers that read columns again by their place in the file: the code column lost
    # its leading zeros and the big-id column after it took the codes
    rows = "".join(
        f"u{i};;{('0042', '42', '042')[i % 3]};{1234567890123456789 + i if i % 5 else ''};{i % 2}\n" for i in range(30)
    )
    table = read_table(("user;;code;big;click\n" + rows).encode(), "x.csv")
    assert list(table.frame.columns) == ["user", "code", "big", "click"]
    assert table.frame["code"].tolist()[:3] == ["0042", "42", "042"]
    assert table.frame["big"].tolist()[1:3] == [1234567890123456790, 1234567890123456791]
    assert table.frame["big"].isna().tolist()[:2] == [True, False]


def test_only_the_columns_holding_zero_padded_codes_are_read_again_wherever_they_are_in_the_file():
    # the byte scan now tells which columns hold them (a 1M-row file read every integer column again: 5.9 s -> 2.7 s)
    from mtlrec.io import ZERO_SCAN_CHUNK, _zero_padded_columns

    rows = [f"{i},{i % 97},{i % 13},{i % 7}" for i in range(60_000)]
    rows[-1] = "59999,5,0012,3"  # past the first chunks of the scan, in the third column
    data = ("id,count,zip,click\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 2 * ZERO_SCAN_CHUNK
    assert _zero_padded_columns(data, ",") == {2}
    assert _zero_padded_columns(data.replace(b"\n", b"\r"), ",") == {2}
    table = read_table(data, "z.csv")
    assert table.frame["zip"].iloc[-1] == "0012" and table.frame["count"].dtype.kind == "i"


def test_zero_padded_codes_in_a_pipe_separated_shift_jis_file_are_found_in_their_own_column():
    # ポ is 83 7C in Shift-JIS: its second byte, a '|', counted as a delimiter and put the code in another column
    rows = "".join(f"スポーツ店{i}|{('0600001', '5300001', '1000001')[i % 3]}|{i % 2}\n" for i in range(60))
    table = read_table(("shop|postal_code|click\n" + rows).encode("shift_jis"), "shops.csv")
    assert table.frame["postal_code"].tolist()[:3] == ["0600001", "5300001", "1000001"]


def test_zero_padded_codes_in_a_file_of_carriage_returns_ending_in_a_line_feed():
    rows = "\r".join(f"u{i},{('10001', '07030')[i % 2]},{i % 2}" for i in range(50))
    table = read_table(("user,zip,click\r" + rows + "\r\n").encode(), "mac.csv")
    assert table.frame["zip"].tolist()[:2] == ["10001", "07030"]


@pytest.mark.parametrize("first", [0, 1])
def test_a_delimiter_ending_every_row_is_left_out_when_the_first_column_counts_rows(first):
    # pandas made the extra first field an index, a RangeIndex when it counts 0, 1, 2...: every column shifted by one
    rows = "".join(f"{i + first},{('02134', '10001', '07030')[i % 3]},{i % 2},\n" for i in range(30))
    table = read_table(("row,zip,click\n" + rows).encode(), "f.csv")
    assert table.frame["row"].tolist()[:2] == [first, first + 1]
    assert table.frame["zip"].tolist()[:3] == ["02134", "10001", "07030"]
    assert table.frame["click"].tolist()[:2] == [0, 1]


def test_a_saved_index_over_names_shaped_like_their_values_stays_a_header():
    # The rule that lets U13740 match U8125 (MIND without a header) took the empty name of df.to_csv()'s index for
    # a value, and refused ',item1,item2' over 'item3120' as a file without a header.
    rows = "\n".join(f"{i},item{3120 + i},user_{i % 9}" for i in range(30))
    table = read_table(f",item1,user_1\n{rows}\n".encode(), "pairs.csv")
    assert list(table.frame.columns)[1:] == ["item1", "user_1"]


def test_a_title_above_names_shaped_like_their_values_is_still_a_title():
    rows = "\n".join(f"user_{i},item_{i * 7},{i % 5}" for i in range(30))
    error = error_for(f"Ratings export 2024,,\nuser_1,item_1,rating\n{rows}\n".encode(), "export.csv")
    assert error.problems[0].startswith("line 1 ('Ratings export 2024,,') looks like a title")


def test_a_bundled_sample_reads_by_its_name_as_a_configs_data_path_names_it():
    # load_table("sample:synthetic") said the file does not exist: only configs knew the samples' names (an audit).
    assert load_table("sample:census").shape == (40_000, 41)
    with pytest.raises(MtlrecError, match="unknown sample 'nope'; known samples: synthetic, census"):
        load_table("sample:nope")


def test_amazon_ratings_without_a_header_are_refused_whatever_the_first_reviewer_id():
    # Amazon 2018's ratings files have no header: with a 13-character reviewer id first (most are 14) the first row
    # became the names, and a row was lost.
    rng = np.random.default_rng(0)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    ids = ["A" + "".join(rng.choice(letters, 12 + (i % 3 != 0))) for i in range(60)]
    rows = [f"{1000000 + i * 37:010d},{ids[i]},{i % 5 + 1}.0,{1256693022 + i}" for i in range(60)]
    assert len(ids[0]) == 13 and sum(len(i) == 14 for i in ids) > 30

    error = error_for("\n".join(rows).encode(), "Books.csv")

    assert error.problems[0].startswith(f"the first line looks like data, not column names (0001000000, {ids[0]}")


LASTFM_ROWS = [
    f"user_{(k * 37) % 992 + 1:06d}\t2009-0{k % 9 + 1}-{k % 28 + 1:02d}T{k % 24:02d}:{k % 60:02d}:{(k * 7) % 60:02d}Z\t"
    f"{'' if k % 10 == 1 else f'{k * 7919 % 10**8:08x}-0000-0000-22a7-4cf6416a1e4b'}\t{['Björk', 'Sigur Rós', 'Boards of Canada'][k % 3]}"
    f"\t{'' if k % 8 == 1 else f'{k * 104729 % 10**8:08x}-0000-0000-1c63-d70aa52a2944'}\t{['Jóga', 'Song 2', 'Olsen Olsen'][k % 3]} {k}"
    for k in range(40)
]


def test_header_lines_repeated_among_the_rows_are_skipped():
    # KuaiRand's two logs joined with `cat`: the second header was a row, every number column text, no label read.
    part = "user_id,video_id,is_click,play_ms\n" + "".join(f"u{i},v{i % 7},{i % 2},{i * 10}\n" for i in range(6))
    table = read_table((part + part + part).encode(), "joined.csv")
    assert len(table.frame) == 18 and table.frame["is_click"].tolist() == [i % 2 for i in range(6)] * 3
    assert table.notes == ["lines 8, 15 repeat the header line (files joined one after the other?) and were skipped"]
    crlf = read_table((part + part).replace("\n", "\r\n").encode(), "joined.csv")
    assert crlf.frame["play_ms"].dtype.kind == "i" and len(crlf.frame) == 12
    # A row that only starts like the header is a row.
    assert len(read_table((part + "user_id,video_id,is_click,play_ms2\n").encode(), "x.csv").frame) == 7
    # Two Excel "CSV UTF-8" exports joined: the second header starts with a byte-order mark (a review).
    bom = read_table(("\ufeff" + part + "\ufeff" + part).encode(), "excel.csv")
    assert bom.frame["is_click"].dtype.kind == "i" and len(bom.frame) == 12


def test_a_file_without_a_header_line_is_read_with_the_names_given():
    # MovieLens 1M's ratings.dat: refused ("add a header line"), which a browser-only analyst cannot do.
    text = "1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n"
    table = read_table(text.encode(), "ratings.dat", names=["user_id", "item_id", "rating", "timestamp"])
    assert table.frame.to_dict("list") == {
        "user_id": [1, 1, 2],
        "item_id": [1193, 661, 1357],
        "rating": [5, 3, 5],
        "timestamp": [978300760, 978302109, 978298709],
    }
    assert table.notes == [
        "delimiter detected: '::'",
        "no header line: the columns are named user_id, item_id, rating, timestamp",
    ]
    # Zero-padded codes and names holding the delimiter are kept as the file writes them.
    table = read_table(b"007,a,1\n012,b,0\n", "codes.csv", names=["code", "x,y", "click"])
    assert table.frame["code"].tolist() == ["007", "012"] and list(table.frame.columns) == ["code", "x,y", "click"]


def test_names_that_do_not_fit_say_so_and_messages_keep_the_files_line_numbers():
    def problem(data: bytes, names: list[str]) -> str:
        with pytest.raises(MtlrecError) as info:
            read_table(data, "r.csv", names=names)
        return info.value.problems[0]

    assert problem(b"1,2,3\n4,5,6\n", ["u", "i"]) == (
        "2 column names were given (u, i) but the rows have 3 fields (delimiter ','; the first row: '1,2,3'): give "
        "one name per field, in the file's order"
    )
    assert problem(b"1,2\n", ["u", "u"]) == "the column names given repeat: 'u' (columns 1, 2)"
    assert problem(b"1,2\n", ["u", " "]).startswith("the column names given must all be non-empty text")
    # The file's 4th line is short (the text read has the names' line before it: its 5th).
    rows = b"# export\n1,2,3\n4,5,6\n7,8\n9,1,2\n"
    assert problem(rows, ["u", "i", "r"]).startswith("line 4 has 2 fields but 3 column names were given")
    table = read_table(b"1,2,3\n4,5,6\n# note\n7,8,9\n", "r.csv", names=["u", "i", "r"])
    assert "line 3 among the rows starts with '#' (a comment) and was skipped" in table.notes
    for data in (parquet_bytes(pa.table({"u": [1], "i": [2]})), b'{"u": 1, "i": 2}\n{"u": 2, "i": 3}\n'):
        assert "column names are given only to a CSV file without a header line" in problem(data, ["u", "i"])
    # A file that has a header line: named, its header would be a row over numbers (a review).
    assert problem(b"user_id,item_id,click\nu1,7,1\nu2,8,0\n", ["u", "i", "c"]).startswith(
        "the first line looks like column names ('item_id', 'click' above numbers): the file has a header line"
    )
    # Names that look like numbers are names when given, and a first row holding a stray quote (Last.fm) counts its
    # fields between tabs.
    assert list(read_table(b"5,6,7\n1,2,3\n", "n.csv", names=["0", "1", "2"]).frame.columns) == ["0", "1", "2"]
    # A header of text over text rows of another shape is not refused (it may be a row), but said.
    rows = [f"user_{i:06d}\t2009-05-{1 + i % 28:02d}T10:00:00Z\tArtist {i % 7}" for i in range(30)]
    header = read_table(("userid\ttimestamp\tartname\n" + "\n".join(rows)).encode(), "h.tsv", names=["u", "t", "a"])
    assert header.notes[1].startswith("the first line (userid, timestamp, artname) looks like column names, not a row")
    headless = read_table("\n".join(rows).encode(), "h.tsv", names=["u", "t", "a"])
    assert not any("looks like column names" in n for n in headless.notes)
    listens = read_table(b'u2\t"Heroes\t4\nu1\t"Heroes" (Live)\t3\n', "l.tsv", names=["user", "song", "plays"])
    assert listens.frame["song"].tolist() == ['"Heroes', '"Heroes" (Live)'] and listens.frame["plays"].tolist() == [
        4,
        3,
    ]


def test_lastfm_listens_without_a_header_are_refused_though_every_field_is_text():
    # Last.fm 1K's userid-timestamp-artid-artname-traid-traname.tsv has no header and no number: its first row became
    # the names (user_000001, Björk...), a row was lost, without a word. Refused when that row had an empty field.
    error = error_for("\n".join(LASTFM_ROWS).encode(), "userid-timestamp-artid-artname-traid-traname.tsv")

    assert error.problems == [
        "the first line looks like data, not column names (user_000001, 2009-01-01T00:00:00Z, "
        "00000000-0000-0000-22a7-4cf6416a1e4b, Björk, 00000000-0000-0000-1c63-d70aa52a2944, Jóga 0): add a header line "
        "naming the columns, or name them where the file is read (on Data: Name the columns; CLI: --names "
        "user_id,item_id,…)"
    ]
    # Named as it is read, its first line is a row.
    names = ["userid", "timestamp", "artid", "artname", "traid", "traname"]
    table = read_table("\n".join(LASTFM_ROWS).encode(), "listens.tsv", names=names)
    assert list(table.frame.columns) == names and len(table.frame) == 40
    assert table.frame["userid"].iloc[0] == "user_000001" and table.frame["traname"].iloc[0] == "Jóga 0"


@pytest.mark.parametrize(
    "header",
    [
        "userid\ttimestamp\tartist_id\tartist_name\ttrack_id\ttrack_name",
        "user_id\tplayed_at_utc\tartist_mbid_v2\tartist\ttrack_mbid_v2\ttrack",  # digits unlike the values
    ],
)
def test_text_names_over_listens_of_text_stay_a_header(header):
    table = read_table(("\n".join([header, *LASTFM_ROWS])).encode(), "listens.tsv")
    assert list(table.frame.columns) == header.split("\t") and len(table.frame) == 40


@pytest.mark.parametrize(
    ("header", "value"),
    [("user_id,pos_0001,pos_0002,pos_0003", "item_{:03d}"), ("user_id,q1_answer,q2_answer,q3_answer", "ans_{:05d}")],
)
def test_names_of_letters_and_digits_over_text_ids_of_their_length_stay_a_header(header, value):
    # pos_0001 over item_850 (8 characters of letters, '_' and digits alike) was "the first line looks like data":
    # a name shaped like an identifier is a name unless the values have its exact shape and it is one of them.
    rng = np.random.default_rng(0)
    rows = [f"user_{u:03d}," + ",".join(value.format(i) for i in rng.integers(0, 1000, 3)) for u in range(50)]

    table = read_table("\n".join([header, *rows]).encode(), "slots.csv")

    assert list(table.frame.columns) == header.split(",") and len(table.frame) == 50


def test_a_first_line_naming_the_same_number_twice_is_data_not_names():
    # Instacart's order_products without a header: "duplicate column names: '1' (columns 3, 5, 7)" said nothing of
    # the missing header.
    names = ["Chips Ahoy! Chewy, Cookies", "Banana", "Organic Whole Milk", "Bag of Lemons", "Sparkling Water"]
    rows = [f'{2539329 + i},{23 + i},1,0,1,prior,1,4,9,,"{names[min(i, i % 4 + 1)]}",70,17' for i in range(30)]

    error = error_for("\n".join(rows).encode(), "orders.csv")

    assert error.problems == [
        "the first line looks like data, not column names (2539329, 23, 1, 0, 1, prior, ...: 13 fields; '1' (columns 3, 5, 7) "
        "repeat): add a header line naming the columns, or name them where the file is read "
        "(on Data: Name the columns; CLI: --names user_id,item_id,…)"
    ]


def test_a_folder_of_parquet_part_files_reads_as_one_table(tmp_path):
    # Spark's and pandas' partitioned output is a folder: it was refused as "a folder, not a file".
    frame = pd.DataFrame({"user_id": [f"u{i % 7}" for i in range(40)], "item_id": range(40), "click": [0, 1] * 20})
    spark = tmp_path / "events.parquet"
    spark.mkdir()
    (spark / "_SUCCESS").write_bytes(b"")
    for k in range(2):
        frame.iloc[20 * k : 20 * (k + 1)].to_parquet(spark / f"part-0000{k}-c000.snappy.parquet", index=False)
    pd.testing.assert_frame_equal(load_table(spark), frame)

    frame["country"] = ["fr", "de"] * 20
    hive = tmp_path / "by_country"
    frame.to_parquet(hive, partition_cols=["country"], index=False)  # country=de/…, country=fr/…
    table = load_table(hive)
    assert len(table) == 40 and sorted(table["country"].astype(str).unique()) == ["de", "fr"]

    csv_parts = tmp_path / "events_csv"
    csv_parts.mkdir()
    frame.to_csv(csv_parts / "part-00000.csv", index=False)
    with pytest.raises(MtlrecError, match=r"is a folder, not a file \(part files, as Spark writes a table\?\)"):
        load_table(csv_parts)


def test_a_header_of_survey_questions_over_200_characters_is_a_header():
    # Google Forms names each column by its question: "column 3's name is 243 characters long (...): the first line
    # must be a header of short column names".
    question = "How likely are you to recommend this product to a friend or colleague, " * 3 + "on a scale of 1 to 5?"
    comment = "Anything else you would like to tell us about the product, the delivery or our service? " * 3
    rows = [f"2024/05/0{1 + i % 9} 10:0{i % 10}:00 AM GMT+1,u{i}@example.com,{1 + i % 5},{['Fine', 'Late'][i % 2]}"
            for i in range(30)]  # fmt: skip
    text = "\n".join([f'Timestamp,Email Address,"{question}","{comment.strip()}"', *rows])

    table = read_table(text.encode(), "forms.csv")

    assert list(table.frame.columns) == ["Timestamp", "Email Address", question, comment.strip()]
    assert len(question) == 234 and table.frame[question].tolist()[:3] == [1, 2, 3]
    parquet = read_table(parquet_bytes(pa.table({question: [1, 2], "click": [0, 1]})), "forms.parquet")
    assert list(parquet.frame.columns) == [question, "click"]


def test_a_long_text_on_the_first_line_of_a_file_without_a_header_gives_both_readings():
    reviews = [("great value, arrived early and works fine " * 8)[: 40 + 7 * i] for i in range(30)]
    reviews[0] = "the screen broke after two days and support never answered, " * 5
    rows = [f'u{i},i{i % 7},"{reviews[i]}",{["negative", "positive"][i % 2]}' for i in range(30)]

    error = error_for("\n".join(["# shop reviews", *rows]).encode(), "reviews.csv")

    assert error.problems == [
        "column 3's name is 299 characters long ('the screen broke after two days and s...'): if line 2 is the "
        "header, rename column 3 to 200 characters or fewer; if it is data, add a header line naming the columns, or name them where the file is read "
        "(on Data: Name the columns; CLI: --names user_id,item_id,…)"
    ]


def test_a_matrix_separated_by_spaces_says_how_to_make_rows_of_it():
    # Coat's train.ascii (290 users x 300 items, ratings separated by spaces) was "a header of short column names".
    rows = [" ".join(str((u * 7 + i) % 6) for i in range(300)) for u in range(20)]

    error = error_for("\n".join(rows).encode(), "train.ascii")

    assert error.problems[0].endswith(
        "(its values seem separated by spaces, which are not read as a delimiter: save the file with commas or tabs; "
        "a matrix with a row per user must become one row per user and item: user,item,rating)"
    )


@pytest.mark.parametrize("lists", [True, False], ids=["with ';' lists", "without lists"])
def test_names_and_values_separated_by_spaces_say_how_to_save_the_file_with_commas(lists):
    # IJCAI-18's round1_ijcai_18_train_20180301.txt: with its ';' lists of ids (and a ',' in each row), line 1 was "a
    # title" above line 2 (a row), and the advice was to delete the real header; without lists, "only one column".
    rng = np.random.default_rng(0)
    names = "instance_id item_id brand item_property_list predict_category_property user_id shop_level is_trade".split()
    ids = rng.integers(10**17, 9 * 10**18, (30, 6))
    rows = [
        f"{a} {b} {b % 2000} {f'{c};{d};{e}' if lists else c} {f'79083828897:-1;{d}:{e},{f}' if lists else d} {f} "
        f"{f % 26} {int(a % 9 == 0)}"
        for a, b, c, d, e, f in ids
    ]

    error = error_for("\n".join([" ".join(names), *rows]).encode(), "round1_ijcai_18_train_20180301.txt")

    assert error.problems == [
        "the columns are separated by spaces (the first line has 8 names separated by spaces, and most rows as many "
        "values), which are not read as a delimiter: save the file with commas or tabs, e.g. with pandas: "
        "pd.read_csv('round1_ijcai_18_train_20180301.txt', sep=r'\\s+').to_csv('round1_ijcai_18_train_20180301.csv', "
        "index=False)"
    ]
    error = error_for("\n".join([" ".join(names), *rows]).encode(), "ijcai.csv")  # not saved over itself
    assert error.problems[0].endswith("pd.read_csv('ijcai.csv', sep=r'\\s+').to_csv('ijcai_commas.csv', index=False)")


def test_a_headerless_file_separated_by_spaces_gets_a_pandas_line_that_keeps_its_first_row(tmp_path, monkeypatch):
    # user12 item44 3 874724710: the advice read the first row as the names (pandas' default), losing it, and the
    # file it wrote was then refused for a header that looks like data.
    rng = np.random.default_rng(0)
    columns = (
        rng.integers(1, 300, 60),
        rng.integers(1, 500, 60),
        rng.integers(1, 6, 60),
        rng.integers(874724710, 893286638, 60),
    )
    rows = [f"user{u} item{i} {r} {t}" for u, i, r, t in zip(*columns, strict=True)]
    path = tmp_path / "u_spaces.data"
    path.write_text("\n".join(rows) + "\n")

    error = error_for(path.read_bytes(), "u_spaces.data")

    assert error.problems[0].startswith(
        "the columns are separated by spaces (the first line and most rows have 4 values separated by spaces), which "
        "are not read as a delimiter, and the file has no header line (the first line has numbers where the rows do)"
    )
    line = re.search(r"(pd\.read_csv\(.*index=False\))", error.problems[0]).group(1)
    line = line.replace("'c1', 'c2', 'c3', 'c4'", "'user_id', 'item_id', 'rating', 'timestamp'")
    monkeypatch.chdir(tmp_path)
    exec(line, {"pd": pd}, {})  # the message's own line, run as a user would
    saved = read_table(tmp_path / "u_spaces.csv").frame
    assert len(saved) == 60 and saved["user_id"].iloc[0] == rows[0].split()[0]


def test_five_names_separated_by_spaces_over_a_column_of_comma_lists_are_refused_as_spaces():
    # Commas split every row alike (each holds one list of 5), so the file was "5 fields but the header has 1: add the
    # 4 missing column names". A delimiter found in few of a row's space-separated fields is inside a value.
    rows = [f"{i} {i % 90} {i % 13} 0.1,0.2,0.3,0.4,0.5 {i % 2}" for i in range(30)]

    error = error_for("\n".join(["instance_id item_id user_id emb is_trade", *rows]).encode(), "spaced.txt")

    assert error.problems[0].startswith("the columns are separated by spaces (the first line has 5 names")


def test_a_headerless_log_sorted_by_time_is_refused_though_its_first_ids_come_only_once():
    # user_010828 over user_081517...: the first row's ids counted as data only when they came again below, which in
    # a log sorted by time they need not: the first row became the names, without a word.
    rows = [f"user_{10828 + 7919 * i % 90000:06d}\titem_{65694 + 104729 * i % 90000:06d}\t2019-01-0{1 + i % 9} "
            f"0{i % 10}:00:00\t{['view', 'cart', 'purchase'][i % 3]}" for i in range(40)]  # fmt: skip

    error = error_for("\n".join(rows).encode(), "events.tsv")

    assert error.problems[0].startswith("the first line looks like data, not column names (user_010828, item_065694")


@pytest.mark.parametrize("header", [True, False], ids=["above the header", "above data"])
def test_a_title_above_a_comma_csv_with_spaces_in_its_values_is_a_title_not_spaces(header):
    # Three words above rows holding two date-times (one space each) split into three by spaces, like the title: the
    # file was "separated by spaces", and its pd.read_csv(sep=r'\s+') made columns of the halves of the date-times.
    rows = [f"u{i},i{i % 7},2024-01-0{i % 9 + 1} 10:00:00,2024-01-0{i % 9 + 1} 19:00:00,{i % 2}" for i in range(20)]
    names = ["user_id,item_id,ordered_at,shipped_at,purchase"] if header else []
    text = "\n".join(["Orders export 2024", *names, *rows])

    error = error_for(text.encode(), "orders.csv")

    assert "separated by spaces" not in error.problems[0]
    if header:
        assert error.problems[0].startswith("line 1 ('Orders export 2024') looks like a title")
    else:  # line 1 is the header, one name short of the rows' 5 fields
        assert error.problems[0].startswith("every data row has 5 fields but the header has 1")


def test_a_gbk_file_with_a_line_that_is_valid_utf8_by_chance_is_still_gbk():
    # The GBK bytes of 食品 are valid UTF-8: one such row made the whole file Windows-1252 (点击 read as µã»÷).
    cats = ["服装", "美妆", "电子产品", "家居", "点击", "图书"]
    rows = ["user,category,click"] + [f"u{i},{cats[i % 6]},{i % 2}" for i in range(200)] + ["u999,食品,1"]

    table = read_table("\n".join(rows).encode("gbk"), "gbk.csv")

    assert list(table.frame["category"].unique()) == [*cats, "食品"]
    assert table.notes == ["read as GB18030 text (detected; the file is not UTF-8)"]


def test_a_hash_header_is_kept_when_its_delimiters_match_the_rows_even_if_a_value_holds_a_comma():
    # Last.fm-1K's userid-profile.tsv: '#id<TAB>gender<TAB>age<TAB>country<TAB>registered', rows whose dates hold a
    # comma ('Aug 13, 2006'): every delimiter's count was compared, the header was skipped as a comment, and the
    # file refused as headerless.
    text = "#id\tgender\tage\tcountry\tregistered\n" + "".join(
        f"user_{i:06d}\tm\t{20 + i}\tPoland\tAug {i + 1}, 2006\n" for i in range(5)
    )
    table = read_table(text.encode(), "userid-profile.tsv")
    assert list(table.frame.columns) == ["#id", "gender", "age", "country", "registered"] and len(table.frame) == 5


def test_a_trailing_delimiter_on_some_rows_only_is_counted_not_said_of_every_row():
    # "every row ends with a delimiter" was said when the first data row did and a third of them did (audit)
    rows = [f"u{i}\ti{i % 7}\t{i % 2}\t{i}\t{i % 3}" + ("\t" if i % 3 == 0 else "") for i in range(30)]
    table = read_table(("user\titem\tclick\tn\tk\n" + "\n".join(rows) + "\n").encode(), "t.tsv")
    assert table.frame.shape == (30, 5) and table.frame["k"].tolist() == [i % 3 for i in range(30)]
    assert "10 of the 30 rows end with a delimiter: the empty last field was left out" in table.notes


def test_more_names_than_fields_is_said_so_not_taken_for_netflix_group_lines():
    # 4 names for rows of 3 fields: "lines of 3 fields stand between rows of 4 fields ... as Netflix's '1:'" when
    # no row had 4 fields (CLI and the Data page's Name the columns; audit)
    message = error_for_names(b"1,2,3\n4,5,6\n7,8,9\n", "t.csv", ["a", "b", "c", "d"]).message
    assert message.startswith("t.csv: 4 column names were given (a, b, c, d) but the rows have 3 fields")


def test_invisible_characters_leave_names_and_a_typeset_minus_sign_is_a_minus():
    # 'click\u200b' was not 'click' ("not in the data: 'click'; the columns are: ... click ..."); '−5.5' (U+2212)
    # made a price column text, ignored as free text (audit)
    minus = "\u2212"
    rows = [f"u{i % 9},{minus if i % 4 == 0 else ''}{i % 13 + 0.5},{i % 2}" for i in range(60)]
    table = read_table(("user_id,price,click\u200b\n" + "\n".join(rows) + "\n").encode(), "typeset.csv")
    assert list(table.frame.columns) == ["user_id", "price", "click"]
    assert table.frame["price"].dtype == "float64" and (table.frame["price"] < 0).sum() == 15
    assert "invisible characters (zero-width spaces) left out of column names: 'click\\u200b'" in table.notes
    assert "column 'price': 15 numbers written with the minus sign '−' (U+2212) read as negative numbers" in table.notes
    only = read_table(("user_id,\u200b,click\n" + "\n".join(f"u{i},{i},{i % 2}" for i in range(30)) + "\n").encode(),
                      "z.csv")  # fmt: skip
    assert list(only.frame.columns) == ["user_id", "Unnamed: 1", "click"]  # a name of nothing else (it became '')


def test_a_file_cut_off_mid_line_is_said_to_look_cut_off():
    # "fill in the missing fields" for a last line that a copy still being written had cut short (audit)
    rows = [f"u{i},i{i % 7},{i % 2},{i * 1.5}" for i in range(50)]
    message = error_for(("user,item,click,price\n" + "\n".join(rows) + "\nu50,i").encode(), "partial.csv").message
    assert (
        "the last line (52) has 2 fields but the header has 4, and no line break ends it: the file looks cut off"
        in (message)
    )
    ended = error_for(("user,item,click,price\n" + "\n".join(rows) + "\nu50,i\n").encode(), "short.csv").message
    assert "fill in the missing fields" in ended  # a short last line ended by a line break: a short row


@pytest.mark.parametrize("ending", ["later", "two"])
def test_empty_fields_after_the_last_column_are_left_out_whichever_rows_have_them(ending):
    # A trailing tab from the second row on was refused ("line 3 has 6 fields"), and two on every row asked for
    # "the 2 missing column names" (audit); a value there is still refused.
    def end(i: int) -> str:
        return ("\t" if i % 3 == 1 else "") if ending == "later" else "\t\t"

    rows = [f"u{i}\ti{i % 7}\t{i % 2}\t{i * 0.5}\t{i % 3}{end(i)}" for i in range(30)]
    table = read_table(("user\titem\tclick\tprice\tk\n" + "\n".join(rows) + "\n").encode(), "t.tsv")
    assert list(table.frame.columns) == ["user", "item", "click", "price", "k"]
    assert table.frame["k"].tolist() == [i % 3 for i in range(30)] and table.frame["price"].iloc[3] == 1.5
    count = 10 if ending == "later" else 30
    assert f"{count} rows end with empty fields after the last column's: they were left out" in table.notes
    rows[5] += "\toops"
    assert "fields but the header has" in error_for(("user\titem\tclick\tprice\tk\n" + "\n".join(rows) + "\n").encode(),
                                                     "t.tsv").message  # fmt: skip


def test_a_spreadsheets_total_and_average_rows_below_the_data_are_left_out(tmp_path):
    # Read as data, 'Total' and 'Average' made the 0/1 click hold 367 and 0.3058 and lost the item column (empty
    # there); the file's own lines are named.
    rows = [f"u{i % 17},i{i % 23},{i % 2},2024-01-{1 + i % 28:02d}" for i in range(60)]
    path = tmp_path / "export.csv"
    path.write_text("\r\n".join(["user_id,item_id,click,date", *rows, ",,,", "Total,,30,", "Average,,0.5,", ""]))
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("\n".join(["user_id,item_id,click,date", *rows, ',"Total ",30,']))

    table, other = read_table(path), read_table(shifted)

    assert len(table.frame) == len(other.frame) == 60
    assert table.frame["click"].isin([0, 1]).all() and other.frame["click"].isin([0, 1]).all()
    assert table.notes[-1] == (
        "the last 2 rows (lines 63-64: 'Total', 'Average') look like a spreadsheet's summary below the data, not data: "
        "left out"
    )
    assert other.notes[-1].startswith("the last row (line 62: 'Total') looks like")
    # A word that is data above (a status 'Total' in the column) keeps its row.
    kept = tmp_path / "kept.csv"
    kept.write_text("\n".join(["status,item_id,click", *[f"{'Total' if i == 5 else 'ok'},i{i},{i % 2}" for i in range(60)],
                               "Total,i3,1"]))  # fmt: skip
    assert len(read_table(kept).frame) == 61
