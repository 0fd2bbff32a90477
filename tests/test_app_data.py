"""Data page (AppTest): load a sample or an upload, bad files, the schema editor, validation and profile charts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import edit_schema, figures, numbers, open_app, schema_editor, until, upload
from streamlit.testing.v1 import AppTest

from mtlrec import fmt
from mtlrec.config import ExperimentConfig
from mtlrec.encode import Encoder
from mtlrec.errors import MtlrecError
from mtlrec.io import read_table
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec
from ui import state

PAGE = "pages/data.py"
# Every test: a fresh run store and this module's sample (use_home clears the sample loader's cache: other modules
# use other stand-ins).
pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture(scope="module")
def sample_spec() -> SyntheticSpec:
    """A small stand-in for the bundled sample, of another shape than the other modules'."""
    return SyntheticSpec(n_users=60, n_items=150, n_rows=5000, seed=3)


@pytest.fixture
def sample_frame(samples: Path) -> pd.DataFrame:
    return pd.read_parquet(samples / "synthetic.parquet")


def open_page() -> AppTest:
    return open_app(PAGE)


def load_sample(at: AppTest) -> AppTest:
    at.button(key="data_sample_synthetic").click().run()
    assert not at.exception
    return at


def edit(at: AppTest, changes: dict[str, dict]) -> AppTest:
    """Edit schema editor rows by column name, as a person would in the table."""
    edit_schema(at, changes)
    assert not at.exception
    return at


def experiment(at: AppTest) -> ExperimentConfig:
    return ExperimentConfig.from_dict(at.session_state["experiment"])


def small_csv(rows: int = 80) -> bytes:
    users = [f"u{i % 9}" for i in range(rows)]
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": [f"i{(i * 7) % 23}" for i in range(rows)],
            "device": ["ios", "android", "web", "android"] * (rows // 4),
            "price": [round(1.5 + (i * 13) % 17, 2) for i in range(rows)],
            "click": [int(i % 3 == 0) for i in range(rows)],
            "finished": [0] * rows,
            "score": [f"{i % 5},5" for i in range(rows)],  # decimal commas: text to pandas
        }
    )
    return frame.to_csv(index=False).encode()


def library_message(name: str, data: bytes) -> str:
    with pytest.raises(MtlrecError) as caught:
        read_table(data, name)
    return caught.value.message


def test_without_a_dataset_the_page_explains_the_format_and_offers_samples_and_upload():
    at = open_page()
    text = " ".join(m.value for m in at.markdown)
    assert "One row per interaction" in text
    assert "one column per label" in text
    assert [b.key for b in at.button] == ["data_sample_synthetic", "data_sample_census"]
    uploader = at.file_uploader(key="data_upload")
    assert "up to 200 MB" in uploader.label  # server.maxUploadSize in .streamlit/config.toml
    assert not uploader.allowed_type  # any name: a file is read by its content
    assert not at.data_editor
    assert not at.get("plotly_chart")


def test_sample_button_loads_preview_prefilled_schema_validation_and_profile_charts(sample_frame: pd.DataFrame):
    at = load_sample(open_page())

    preview = at.dataframe[0].value
    assert len(preview) == 200
    assert list(preview.columns) == list(sample_frame.columns)
    summary = next(d.value for d in at.dataframe if "missing" in d.value.columns)
    assert summary.set_index("column").loc["user_id", "distinct"] == sample_frame["user_id"].nunique()

    assert at.selectbox(key="schema_user").value == "user_id"
    assert at.selectbox(key="schema_item").value == "item_id"
    assert at.selectbox(key="schema_time").value == "timestamp"
    assert at.checkbox(key="schema_ids").value is True
    table = schema_editor(at).value.set_index("column")
    assert {"user_id", "item_id", "timestamp"}.isdisjoint(table.index)
    labels = table[table["role"] == "label"]
    assert labels["task type"].to_dict() == {
        "click": "binary",
        "like": "binary",
        "purchase": "binary",
        "watch_time": "regression",
    }
    assert table.loc["device", "role"] == "categorical"
    assert table.loc["item_price", "role"] == "numeric"

    assert [s.value for s in at.success] == ["Ready to train: 4 tasks, 12 features"]
    assert not at.error
    assert at.session_state["data_valid"] is True
    assert any(link.proto.page == "train" for link in at.get("page_link"))

    charts = figures(at)
    rates = next(f for f in charts if f["layout"]["title"]["text"] == "Label rates")
    heights = {bar["name"]: numbers(bar["y"])[0] for bar in rates["data"]}
    expected = {t: sample_frame[t].mean() for t in ("click", "like", "purchase")}
    expected["watch_time"] = (sample_frame["watch_time"] != 0).mean()
    assert heights == pytest.approx(expected, abs=1e-12)
    titles = [f["layout"]["title"]["text"] for f in charts]
    assert "Correlation between labels" in titles
    assert "Distinct values per column" in titles
    assert any(t.startswith("Interactions per user") for t in titles)
    assert any(t.startswith("Interactions per item") for t in titles)


def test_an_uploaded_csv_becomes_the_dataset_with_an_inferred_schema():
    at = upload(open_page(), "mine.csv", small_csv())
    assert at.session_state["dataset"]["name"] == "mine.csv"
    assert at.session_state["dataset"]["kind"] == "upload"
    assert len(at.dataframe[0].value) == 80
    assert at.selectbox(key="schema_user").value == "user_id"
    config = experiment(at)
    assert config.task_names == ["click"]
    assert config.data.numeric == ["price"]
    ignored = " ".join(i.value for i in at.info)
    assert "finished" in ignored and "constant" in ignored  # inference's ignored columns, with the reason
    assert [s.value for s in at.success] == ["Ready to train: 1 task, 5 features"]


def test_a_very_wide_table_previews_its_first_columns_and_summarises_every_one():
    rows = 40
    wide = pd.DataFrame({f"f{j}": [(i * (j + 1)) % 7 for i in range(rows)] for j in range(250)})
    wide.insert(0, "user_id", [f"u{i % 9}" for i in range(rows)])
    wide["click"] = [int(i % 3 == 0) for i in range(rows)]
    at = upload(open_page(), "wide.csv", wide.to_csv(index=False).encode())
    preview = at.dataframe[0].value
    assert list(preview.columns) == list(wide.columns[:200])
    assert "The first 40 rows and the first 200 of 252 columns (the summary lists all)." in [
        c.value for c in at.caption
    ]
    summary = next(d.value for d in at.dataframe if "missing" in d.value.columns)
    assert list(summary["column"]) == list(wide.columns)
    assert summary.set_index("column").loc["f6", ["distinct", "examples"]].tolist() == [1, "0"]
    assert summary.set_index("column").loc["f0", ["distinct", "examples"]].tolist() == [7, "0, 1, 2"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.csv", b""),
        ("garbage.csv", bytes(range(256)) * 8),
        ("header.csv", b"user_id,item_id,click\n"),
        ("fake.parquet", b"user_id,item_id\nu1,i1\n"),
    ],
)
def test_a_bad_upload_shows_the_library_message_and_keeps_the_previous_dataset(name: str, data: bytes):
    at = load_sample(open_page())
    upload(at, name, data)
    message = library_message(name, data)
    assert message.startswith(f"{name}: ")
    assert message in [e.value for e in at.error]
    assert at.session_state["dataset"]["path"] == "sample:synthetic"
    assert len(at.dataframe[0].value) == 200
    at.run()  # a rerun does not parse the file again, and the message stays while the file is in the uploader
    assert message in [e.value for e in at.error]
    assert not at.exception
    # A sample loaded next clears it: under it, "Still using <sample>" read as if the sample were the fallback
    load_sample(at)
    assert message not in [e.value for e in at.error] and not any("Still using" in c.value for c in at.caption)


def test_schema_edits_are_saved_and_validated_problem_by_problem():
    at = load_sample(open_page())
    config = experiment(at)
    config.tasks[0].weight = 2.5  # a loss weight chosen on Train survives schema edits
    at.session_state["experiment"] = config.to_dict()
    edit(at, {"like": {"role": "ignore"}, "item_category": {"role": "label", "task type": "binary"}})

    config = experiment(at)
    assert config.task_names == ["click", "purchase", "watch_time", "item_category"]
    assert [t.weight for t in config.tasks] == [2.5, 1.0, 1.0, 1.0]
    assert "item_category" not in config.data.categorical
    assert "like" not in config.data.categorical + config.data.numeric
    problems = [e.value for e in at.error]
    assert len(problems) == 1
    assert problems[0].startswith("column 'item_category' holds text categories ('electronics', 'travel', ")
    assert "not a label: to predict one of them, add a 0/1 column per value" in problems[0]
    assert "Training is blocked" in at.warning[0].value
    assert not at.success
    assert at.session_state["data_valid"] is False
    assert not any(link.proto.page == "train" for link in at.get("page_link"))

    edit(at, {"like": {"role": "ignore"}, "item_category": {"role": "categorical"}})
    assert not at.error
    assert [s.value for s in at.success] == ["Ready to train: 3 tasks, 12 features"]
    assert at.session_state["data_valid"] is True


def test_a_file_loaded_again_after_another_gets_its_schema_back_and_loaded_twice_starts_afresh():
    # A -> B -> A reset A's roles, tasks and fixes without a word, and two runs compared as if only the weights had
    # changed (a browser audit)
    at = upload(open_page(), "mine.csv", small_csv())
    assert "price" in experiment(at).data.numeric
    edit(at, {"price": {"role": "categorical"}})
    assert "price" in experiment(at).data.categorical
    other = pd.read_csv(io.BytesIO(small_csv())).rename(columns={"price": "cost"}).to_csv(index=False).encode()
    at = upload(at, "other.csv", other)
    assert "cost" in experiment(at).data.numeric
    # A reload between (a new session of the same browser): the schemas kept come back with the workspace
    workspace = {key: at.session_state[key] for key in state.WORKSPACE_KEYS if key in at.session_state}
    at = open_app(PAGE, session=workspace)
    at = upload(at, "mine.csv", small_csv())
    assert "price" in experiment(at).data.categorical  # as left
    assert any("Your schema for **mine.csv** is back as you left it" in i.value for i in at.info)
    at.button(key="data_schema_again").click().run()  # a second upload of the same file raised no change
    assert not at.exception and "price" in experiment(at).data.numeric
    assert not any("is back as you left it" in i.value for i in at.info)
    # the file gone meanwhile (its upload deleted): a message, not a traceback
    at = upload(at, "other.csv", other)
    at = upload(at, "mine.csv", small_csv())
    Path(at.session_state["dataset"]["path"]).unlink()
    at.button(key="data_schema_again").click().run()
    assert not at.exception and at.error and experiment(at).data.path == at.session_state["dataset"]["path"]
    at = upload(at, "other.csv", other)
    at = upload(at, "mine.csv", small_csv())
    assert "price" in experiment(at).data.numeric  # the proposal, as last left
    assert at.session_state["workspace_checked"] is True  # the schema note's key is its own (it had shared this)


def test_the_note_on_0_1_features_forgets_a_column_made_a_label():
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"user_id": rng.integers(0, 50, n), "item_id": rng.integers(0, 40, n),
                          "click": rng.integers(0, 2, n), "fraud": (rng.random(n) < 0.1).astype(int)})  # fmt: skip
    at = upload(open_page(), "log.csv", frame.to_csv(index=False).encode())
    assert any(i.value.startswith("Inference: column 'fraud' holds 0/1 values") for i in at.info)
    edit(at, {"fraud": {"role": "label", "task type": "binary"}})
    assert experiment(at).task_names == ["click", "fraud"]
    assert not [i.value for i in at.info if "0/1 values" in i.value]  # it said "make it a task" of a task


def test_a_constant_label_is_listed_as_a_problem():
    at = upload(open_page(), "mine.csv", small_csv())
    edit(at, {"finished": {"role": "label", "task type": "binary"}})
    assert experiment(at).task_names == ["click", "finished"]
    problems = [e.value for e in at.error]
    assert problems == [
        "column 'finished' (task) has the same value (0) in every row: nothing can be learned from it; "
        "drop the task or use data where it varies"
    ]
    assert at.session_state["data_valid"] is False


def test_settings_survive_switching_to_another_page_and_back():
    at = load_sample(open_page())
    edit(at, {"like": {"role": "ignore"}, "watch_time": {"log1p": False}})
    at.selectbox(key="schema_time").set_value("(none)")
    at.checkbox(key="schema_ids").uncheck().run()
    assert not at.exception
    saved = experiment(at)
    assert saved.data.time_col is None
    assert saved.data.categorical[:2] != ["user_id", "item_id"]

    at.switch_page("pages/train.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert experiment(at).to_dict() == saved.to_dict()
    assert at.selectbox(key="schema_time").value == "(none)"
    assert at.checkbox(key="schema_ids").value is False
    table = schema_editor(at).value.set_index("column")
    assert table.loc["like", "role"] == "ignore"
    assert table.loc["watch_time", "log1p"] == False  # noqa: E712 (numpy bool)
    assert "timestamp" in table.index  # no longer the time column: it is an ordinary (ignored) column now
    assert [s.value for s in at.success] == ["Ready to train: 3 tasks, 10 features"]


@pytest.mark.parametrize("column", ["device", "score"])
def test_a_text_column_as_the_timestamp_is_a_listed_problem_not_a_traceback(column: str):
    at = upload(open_page(), "mine.csv", small_csv())
    at.selectbox(key="schema_time").set_value(column).run()
    assert not at.exception
    assert experiment(at).data.time_col == column
    assert at.error
    assert at.session_state["data_valid"] is False
    if column == "device":
        assert at.error[0].value.startswith("timestamp column 'device' has values that are not times in 80 rows")


def test_a_task_chosen_as_the_time_column_is_said_set_aside_and_comes_back_with_its_settings():
    # The task vanished without a word, and came back as "ignore" without its type, log1p and weight.
    at = load_sample(open_page())
    config = experiment(at)
    config.tasks[-1].weight = 2.5  # watch_time: regression, log1p
    at.session_state["experiment"] = config.to_dict()
    at.selectbox(key="schema_time").set_value("watch_time").run()

    assert experiment(at).task_names == ["click", "like", "purchase"]
    assert "'watch_time' was a task (regression, loss weight 2.5); as the time column it is no longer one." in (
        "\n".join(i.value for i in at.info)
    )
    edit(at, {"user_city": {"role": "ignore"}})  # another edit meanwhile: the note stays while the task is aside
    assert any(i.value.startswith("'watch_time' was a task") for i in at.info)
    at.selectbox(key="schema_time").set_value("timestamp").run()
    assert experiment(at).task_names == ["click", "like", "purchase", "watch_time"]  # back at its place
    [back] = [t for t in experiment(at).tasks if t.name == "watch_time"]
    assert (back.type, back.log1p, back.weight) == ("regression", True, 2.5)


def test_one_column_as_two_of_user_item_and_time_is_a_problem():
    at = load_sample(open_page())
    at.selectbox(key="schema_user").set_value("timestamp").run()
    assert "column 'timestamp' is chosen as both the user and the time column: pick another for one" in [
        e.value for e in at.error
    ]
    at.selectbox(key="schema_user").set_value("user_id").run()
    at.selectbox(key="schema_item").set_value("user_id").run()
    about = [e.value for e in at.error if "'user\\_id'" in e.value or "'user_id'" in e.value]
    assert len(about) == 1, about  # said once (the page and the config check both said it)


@pytest.mark.usefixtures("home")
def test_a_new_file_of_the_same_shape_gets_a_fresh_schema_editor_not_the_previous_files_edits():
    # The browser keeps a data editor's edited cells while its key stays: a second file of the same columns showed
    # `device` still ignored while training used it.
    at = edit(upload(open_page(), "march.csv", small_csv()), {"device": {"role": "ignore"}})
    first = schema_editor(at).key
    assert "device" not in experiment(at).data.categorical

    at = upload(at, "april.csv", small_csv(120))

    editor = schema_editor(at)
    assert editor.key != first
    assert editor.value.set_index("column").loc["device", "role"] == "categorical"
    assert "device" in experiment(at).data.categorical


@pytest.fixture
def one_browser(monkeypatch: pytest.MonkeyPatch):
    """Every session comes from one browser (as Streamlit's XSRF cookie tells in a real one); no workspace yet."""
    monkeypatch.setattr(state, "_browser", lambda: "browser-1")
    monkeypatch.setattr(state, "_workspaces", type(state._workspaces)())


@pytest.mark.usefixtures("home", "one_browser")
def test_a_reload_brings_back_the_uploaded_file_and_its_schema_edits():
    # A reload is a new session: it lost an uploaded file and every schema edit made on Data.
    at = edit(upload(open_page(), "shop.csv", small_csv()), {"device": {"role": "ignore"}})
    before = experiment(at)

    reloaded = open_page()  # a new session of the same browser

    assert reloaded.session_state[state.DATASET]["name"] == "shop.csv"
    assert experiment(reloaded) == before and "device" not in experiment(reloaded).data.categorical
    assert schema_editor(reloaded).value.set_index("column").loc["device", "role"] == "ignore"
    assert "shop.csv" in " ".join(m.value for m in reloaded.sidebar.markdown)


@pytest.mark.usefixtures("home", "one_browser")
def test_a_reload_keeps_a_task_set_aside_as_the_time_column_with_its_settings():
    # it came back after a reload as an ignored binary column instead of the regression task the note promised
    at = load_sample(open_page())
    at.selectbox(key="schema_time").set_value("watch_time").run()
    assert "watch_time" not in experiment(at).task_names

    reloaded = open_page()
    reloaded.selectbox(key="schema_time").set_value("timestamp").run()

    [back] = [t for t in experiment(reloaded).tasks if t.name == "watch_time"]
    assert (back.type, back.log1p) == ("regression", True)


@pytest.mark.usefixtures("home")
def test_without_a_browser_cookie_a_new_session_starts_empty():
    upload(open_page(), "shop.csv", small_csv())
    assert state.DATASET not in open_page().session_state


@pytest.mark.usefixtures("home")
def test_loader_notes_naming_dollar_columns_are_not_set_as_latex():
    # 'Price ($)' and 'Tax ($)' in one note: the text between the two $ was set as a formula
    rows = "\n".join(f"u{i % 9};i{i % 23};{i % 2};{i % 7},50;{i % 3},25" for i in range(60))
    at = upload(open_page(), "shop.csv", ("user_id;item_id;click;Price ($);Tax ($)\n" + rows + "\n").encode())
    [note] = [i.value for i in at.info if "decimal comma" in i.value]
    assert "'Price (\\$)', 'Tax (\\$)'" in note
    assert fmt.plain("a `code` span, 5 $ and 10 $") == "a `code` span, 5 \\$ and 10 \\$"
    assert fmt.plain(f"column '{fmt.md('Price ($)')}'") == "column 'Price (\\$)'"  # escaped once, not twice
    # No link, image or HTML from a quoted name (an imported run's note could show an image from anywhere)
    assert fmt.plain("column '![x](http://e.example/p.png)' <img src=x>") == (
        "column '!\\[x\\](http://e.example/p.png)' \\<img src=x>"
    )


def test_a_label_retyped_as_regression_gets_log1p_as_the_cli_gives_it():
    # like (0/1 but for a few vote counts) is proposed as binary; retyped as regression in the table, it trained on
    # raw counts (the log1p cell of a binary label was off), while --task-types regression gives it log1p.
    rows = 200
    like = [[40, 300, 2000][i % 3] if i % 50 == 0 else i % 2 for i in range(rows)]
    frame = pd.DataFrame({"user_id": [f"u{i % 9}" for i in range(rows)], "item_id": [f"i{i % 23}" for i in range(rows)],
                          "device": ["ios", "web"] * (rows // 2), "like": like})  # fmt: skip
    at = upload(open_page(), "votes.csv", frame.to_csv(index=False).encode())
    assert [(t.name, t.type) for t in experiment(at).tasks] == [("like", "binary")]

    edit(at, {"like": {"task type": "regression"}})

    assert [(t.name, t.type, t.log1p) for t in experiment(at).tasks] == [("like", "regression", True)]
    assert schema_editor(at).value.set_index("column").loc["like", "log1p"] == True  # noqa: E712 (numpy bool)


def test_an_id_column_passed_over_for_its_empty_rows_is_said_on_the_page():
    rows = 120
    frame = pd.DataFrame({"userId": [float(i % 20) if i % 8 == 0 else None for i in range(rows)],
                          "itemId": [f"i{i % 23}" for i in range(rows)], "click": [i % 2 for i in range(rows)]})  # fmt: skip
    at = upload(open_page(), "sessions.csv", frame.to_csv(index=False).encode())

    assert experiment(at).data.user_col is None
    [note] = [i.value for i in at.info if i.value.startswith("Inference:")]
    assert note.startswith("Inference: column 'userId' is not proposed as the user column: it is empty in 105 of 120")


def timed_csv(watch_time: list[str] | None = None, time: list | None = None) -> bytes:
    """small_csv's rows with a watch_time written as text, or a timestamp column."""
    frame = pd.read_csv(io.BytesIO(small_csv())).drop(columns=["finished", "score"])
    if watch_time is not None:
        frame["watch_time"] = watch_time
    if time is not None:
        frame["timestamp"] = time
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (timed_csv(watch_time=[f"{i % 3}:{i % 60:02d}" for i in range(80)]), "holds durations written m:ss"),
        (timed_csv(watch_time=[f"{i % 7}.5 s" for i in range(80)]), "remove the unit 's' to make it a task"),
        (
            timed_csv(time=[(1_700_000_000 + i * 60) * (1000 if i % 2 else 1) for i in range(80)]),
            "timestamp column 'timestamp' mixes epoch units (40 in seconds, 40 in milliseconds)",
        ),
        (
            timed_csv(time=[f"{i % 12 + 1:02d}/{i % 9 + 1:02d}/2024" for i in range(80)]),
            "read month first, as written in the US ('10/01/2024' is 1 October 2024)",
        ),
    ],
    ids=["m:ss label", "label with a unit", "seconds and ms", "either way round"],
)
def test_a_label_written_as_text_and_times_read_one_way_of_two_are_said_on_the_page(data, shown):
    at = upload(open_page(), "mine.csv", data)

    assert not at.exception
    assert shown in " ".join(i.value for i in at.info)
    assert "watch_time" not in experiment(at).data.categorical
    assert [s.value for s in at.success][0].startswith("Ready to train: 1 task")


def test_a_recurring_thing_id_is_the_item_and_a_likely_user_column_is_named_on_the_page():
    # Anime's anime_id and Foursquare's venueId were features, and KKBox's msno went unnamed: no recommendations
    rows = 400
    anime = pd.DataFrame({"user_id": [i % 40 for i in range(rows)], "anime_id": [(i * 7) % 97 for i in range(rows)],
                          "rating": [i % 10 + 1 for i in range(rows)]})  # fmt: skip
    at = upload(open_page(), "anime.csv", anime.to_csv(index=False).encode())

    assert experiment(at).data.item_col == "anime_id"
    assert "Inference: column 'anime_id' is proposed as the item column" in " ".join(i.value for i in at.info)

    kkbox = anime.rename(columns={"user_id": "msno", "anime_id": "song_id", "rating": "target"}).assign(
        msno=lambda f: "m" + f["msno"].astype(str), target=[(i // 3) % 2 for i in range(rows)]
    )
    at = upload(open_page(), "kkbox.csv", kkbox.to_csv(index=False).encode())

    assert (experiment(at).data.user_col, experiment(at).data.item_col) == (None, "song_id")
    shown = " ".join(i.value for i in at.info)
    assert "Inference: column 'msno' may be the user column (40 values" in shown
    assert "--user-col msno" in shown


def test_a_twitter_style_timestamp_is_the_time_column_on_the_page():
    # Foursquare's utcTimestamp ('Tue Apr 03 18:00:09 +0000 2012') was ignored as a row id or free text
    frame = pd.read_csv(io.BytesIO(small_csv())).drop(columns=["finished", "score"])
    frame["utcTimestamp"] = [
        pd.Timestamp(1333476009 + i * 3607, unit="s").strftime("%a %b %d %H:%M:%S +0000 %Y") for i in range(len(frame))
    ]
    at = upload(open_page(), "checkins.csv", frame.to_csv(index=False).encode())

    assert experiment(at).data.time_col == "utcTimestamp"
    assert "utcTimestamp" not in " ".join(i.value for i in at.info if "row id or free text" in i.value)
    assert [s.value for s in at.success][0].startswith("Ready to train: 1 task")


def test_a_column_given_a_role_leaves_the_list_of_columns_inference_ignored():
    # The list kept naming a column set aside after the user had made it a label or a feature (a browser audit).
    at = upload(open_page(), "orders.csv", small_csv())
    listed = [i.value for i in at.info if i.value.startswith("Set to **ignore** by inference")]
    assert len(listed) == 1 and "`finished`: constant" in listed[0]  # 0 in every row

    edit(at, {"finished": {"role": "numeric"}})

    assert not [i.value for i in at.info if i.value.startswith("Set to **ignore** by inference")]


def test_columns_ignored_for_one_reason_are_one_line():
    # A 20,000-column upload listed 20,000 "constant" lines (an app audit)
    frame = pd.read_csv(io.BytesIO(small_csv())).assign(**{f"flag{i}": 0 for i in range(30)})
    at = upload(open_page(), "wide.csv", frame.to_csv(index=False).encode())
    [listed] = [i.value for i in at.info if i.value.startswith("Set to **ignore** by inference")]
    [line] = [line for line in listed.splitlines() if "`flag0`" in line]
    assert "`finished`, `flag0`, `flag1`" in line and " and 23 more (31 columns): constant" in line
    assert len(listed.splitlines()) < 5


def test_a_json_lines_upload_becomes_the_dataset_with_its_ids_as_text():
    # Amazon's reviews come as JSON lines; the uploader refused .json before the library could read it.
    rows = [
        {
            "reviewerID": f"A{i % 30}",
            "asin": f"{i % 45:010d}",
            "overall": float(1 + i % 5),
            "unixReviewTime": 1_242_633_935 + i,
        }
        for i in range(300)
    ]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()

    at = upload(open_app("pages/data.py"), "Books_5.json", data)

    experiment = ExperimentConfig.from_dict(at.session_state["experiment"])
    assert (experiment.data.user_col, experiment.data.item_col) == ("reviewerID", "asin")
    assert experiment.task_names == ["overall"]
    assert any("read as JSON lines (one object per line)" in m.value for m in [*at.info, *at.caption, *at.markdown])


@pytest.mark.usefixtures("home", "one_browser")
def test_a_file_without_a_header_line_is_read_with_the_names_given_on_the_page():
    # MovieLens' ratings.dat: refused with "add a header line", which a browser-only analyst cannot do.
    rows = "".join(f"{i % 9}::{(i * 7) % 23}::{1 + i % 5}::{978300000 + i}\n" for i in range(80)).encode()
    at = upload(open_page(), "ratings.dat", rows)
    assert "the first line looks like data, not column names" in at.error[0].value
    assert at.text_input(key=next(k for k in at.session_state if str(k).startswith("data_names_"))).value == (
        "c1,c2,c3,c4"
    )
    names = at.text_input(key=next(k for k in at.session_state if str(k).startswith("data_names_")))
    names.set_value("user_id,item_id")
    next(b for b in at.button if b.label == "Read with these names").click().run()
    assert "2 column names were given (user_id, item_id) but the rows have 4 fields" in at.error[-1].value

    names = at.text_input(key=next(k for k in at.session_state if str(k).startswith("data_names_")))
    names.set_value("user_id, item_id, rating, timestamp")
    next(b for b in at.button if b.label == "Read with these names").click().run()
    assert not at.exception and not at.error
    assert at.session_state["dataset"]["rows"] == 80  # the first line is a row
    config = experiment(at)
    assert config.data.names == ["user_id", "item_id", "rating", "timestamp"]
    assert (config.data.user_col, config.data.item_col) == ("user_id", "item_id")

    reloaded = open_page()  # a reload reads the file with its names again
    assert not reloaded.exception and reloaded.session_state["dataset"]["rows"] == 80
    assert experiment(reloaded).data.names == config.data.names


@pytest.mark.usefixtures("home", "one_browser")
def test_a_file_of_any_name_is_taken_and_read_by_its_content():
    # MovieLens-100K's u.data was refused by the uploader for its name; an .xlsx is told what to do with it.
    assert not open_page().file_uploader(key="data_upload").allowed_type
    rows = "".join(f"{i % 9}\t{(i * 7) % 23}\t{1 + i % 5}\t{881250949 + i}\n" for i in range(80)).encode()
    at = upload(open_page(), "u.data", rows)
    assert "the first line looks like data, not column names" in at.error[0].value
    assert any(b.label == "Read with these names" for b in at.button)  # named on the page, as any headerless file

    workbook = (Path(__file__).parent / "data" / "bad" / "excel_workbook.csv").read_bytes()
    at = upload(open_page(), "ratings.xlsx", workbook)
    assert (
        "this is an Excel workbook (.xlsx), not a CSV file: in Excel choose File > Save As > CSV" in at.error[0].value
    )


@pytest.mark.usefixtures("home", "one_browser")
def test_an_upload_whose_kept_copy_was_changed_on_disk_is_written_again():
    # Uploads are kept by their content's hash: a copy changed on disk was reused by the next upload of the file, and
    # the run trained on the changed rows without a word (a fault audit flipped its labels).
    rows = "user_id,item_id,click\n" + "".join(f"u{i % 9},i{i % 13},{i % 2}\n" for i in range(120))
    at = upload(open_page(), "my_log.csv", rows.encode())
    kept = Path(at.session_state["dataset"]["path"])
    kept.write_text(rows.replace(",1\n", ",7\n"))

    again = upload(open_page(), "my_log.csv", rows.encode())

    assert again.session_state["dataset"]["path"] == str(kept) and kept.read_text() == rows


@pytest.mark.usefixtures("home", "one_browser")
def test_the_same_upload_named_again_shows_the_new_names_everywhere():
    # The column summary and the profile were kept by the upload's path: named again, they showed the old names.
    rows = "".join(f"{i % 9},{(i * 7) % 23},{1 + i % 5}\n" for i in range(60)).encode()

    def name(at: AppTest, names: str) -> AppTest:
        at.text_input(key=next(k for k in at.session_state if str(k).startswith("data_names_"))).set_value(names)
        next(b for b in at.button if b.label == "Read with these names").click().run()
        return at

    at = name(upload(open_page(), "r.csv", rows), "a,b,c")
    assert [set(d.value["column"]) for d in at.dataframe if "column" in d.value.columns][0] == {"a", "b", "c"}
    at = name(upload(at, "r.csv", rows), "user_id,item_id,rating")  # the same bytes and name: the same stored path
    assert [set(d.value["column"]) for d in at.dataframe if "column" in d.value.columns][0] <= {
        "user_id",
        "item_id",
        "rating",
    }


def test_a_genres_column_is_multi_valued_on_the_page_can_be_made_a_category_and_trains(home):
    rng = np.random.default_rng(0)
    genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "War"]
    n = 600
    films = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in rng.integers(0, 40, n)],
            "movie_id": [f"m{i}" for i in rng.integers(0, 90, n)],
            "genres": ["|".join(rng.choice(genres, size=rng.integers(1, 4), replace=False)) for _ in range(n)],
            "click": rng.integers(0, 2, n),
        }
    )
    at = upload(open_page(), "films.csv", films.to_csv(index=False).encode())

    assert schema_editor(at).value.set_index("column").loc["genres", "role"] == "multi-valued"
    assert experiment(at).data.multi == ["genres"]
    edit(at, {"genres": {"role": "categorical"}})
    assert experiment(at).data.multi == [] and "genres" in experiment(at).data.categorical
    edit(at, {"genres": {"role": "multi-valued"}})
    assert experiment(at).data.multi == ["genres"] and "genres" not in experiment(at).data.categorical
    assert [s.value for s in at.success] == ["Ready to train: 1 task, 3 features"]

    at.switch_page("pages/train.py").run()
    at.radio(key="train_size").set_value("tiny")
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    assert "finished" in at.success[0].value
    (run,) = RunStore(home).list()
    saved = RunStore(home).load(run["id"])
    assert saved.config.data.multi == ["genres"]
    encoder = Encoder.load(saved.folder / "encoder.json")
    assert encoder.numeric_names[-1] == "genres=<other>" and len(encoder.tokens_["genres"]) == 8
