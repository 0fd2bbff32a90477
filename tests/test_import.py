"""Importing a run made elsewhere (a run's zip from the Runs page, a `train --out` folder) into the run store:
library, CLI and the Runs page (AppTest)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import open_app, tiny_config, use_home

import mtlrec.transfer
from mtlrec.cli import main
from mtlrec.data import changed_files, load_frames
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.runs import RUN_FILES, RunStore, write_run_files
from mtlrec.transfer import import_run, read_run_archive, relink
from ui import state


@pytest.fixture(scope="module")
def lab(tmp_path_factory, _interactions_once):
    """A run trained in "another lab": its store, the run's id, its data file and the run's result."""
    folder = tmp_path_factory.mktemp("lab_a")
    data = folder / "shop orders.csv"
    _interactions_once.to_csv(data, index=False)
    config = tiny_config(epochs=1)
    config.data.path = str(data)
    result = run_experiment(config)
    store = RunStore(folder / "home")
    return store, store.save(result, name="like heavy *v2*"), data, result


@pytest.fixture
def here(tmp_path) -> RunStore:
    return RunStore(tmp_path / "home_b")


def zipped(folder: Path, prefix: str = "") -> bytes:
    """The files of `folder` in a zip, under `prefix` (as a zip tool makes of a folder or of its contents)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, prefix + path.name)
    return buffer.getvalue()


def imported_while_away(lab, into: RunStore) -> tuple[str, list[str]]:
    """The lab's run imported into `into` while its data file is elsewhere (not at its path): its id and notes."""
    store, run_id, data, _ = lab
    archive = store.export_zip(run_id)
    moved = data.with_name("elsewhere.csv")
    data.rename(moved)
    try:
        return import_run(into, read_run_archive(archive), "zip")
    finally:
        moved.rename(data)


def test_a_runs_zip_imports_with_its_name_status_metrics_and_model(lab, here):
    store, run_id, data, result = lab
    new_id, notes = import_run(here, read_run_archive(store.export_zip(run_id)), "the zip")

    assert notes == []  # its data file is where its config says
    assert new_id != run_id and here.exists(new_id)
    row, original = here.get(new_id), store.get(run_id)
    assert (row["name"], row["status"]) == ("like heavy *v2*", "finished")
    assert row["summary"]["tasks"] == original["summary"]["tasks"]
    for name in RUN_FILES:
        if name != "config.json":  # config.json is written from the config read (same settings, see below)
            assert (here.folder(new_id) / name).read_bytes() == (store.folder(run_id) / name).read_bytes(), name
    assert here.load(new_id).config.to_dict() == result.config.to_dict()
    rows = pd.read_csv(data).head(50)
    pd.testing.assert_frame_equal(here.load(new_id).predict(rows), store.load(run_id).predict(rows))


def test_a_train_out_folder_imports_as_a_folder_and_zipped_with_or_without_its_folder(lab, here, tmp_path):
    *_, result = lab
    out = tmp_path / "out" / "run1"
    write_run_files(result, out)
    for source in (out, zipped(out), zipped(out, "run1/"), zipped(out, "exports/2024/run1/")):
        new_id, _ = import_run(here, read_run_archive(source), "source")
        assert here.get(new_id)["name"] == "shared_bottom tiny · click=1, like=1, watch_time=1"  # no run.json: default
        assert here.load(new_id).has_model
    assert len(here.list()) == 4


def test_a_data_file_not_at_its_path_is_found_by_content_among_the_stores_datasets(lab, here):
    data = lab[2]
    copy = here.home / "datasets" / "0123abcd" / "shop_orders.csv"  # an upload of the same bytes on this server
    copy.parent.mkdir(parents=True)
    shutil.copy(data, copy)
    new_id, notes = imported_while_away(lab, here)

    assert notes == ["Its data file shop orders.csv is on this server (shop_orders.csv): the run now points at it."]
    run = here.load(new_id)
    assert run.config.data.path == str(copy)
    assert run.config.data.name == "shop orders.csv"  # shown as where it was trained
    assert here.get(new_id)["summary"]["data"] == "shop orders.csv"
    assert changed_files(run.metrics["data_files"]) == []  # the record names the file here, unchanged
    assert len(load_frames(run.config).frame) == len(pd.read_csv(data))


def test_a_missing_data_file_is_named_and_found_once_uploaded(lab, here):
    data = lab[2]
    new_id, notes = imported_while_away(lab, here)
    assert len(notes) == 1
    assert notes[0].startswith("Its data file shop orders.csv is not on this server (not with the content the run")
    assert "upload the same file on the Data page" in notes[0]
    assert relink(here, new_id) is False  # not here yet (its config points at no file: the original is not trusted)

    upload = here.home / "datasets" / "4567" / "shop.csv"
    upload.parent.mkdir(parents=True)
    shutil.copy(data, upload)
    assert relink(here, new_id) is True
    assert relink(here, new_id) is False  # nothing left to do
    assert here.load(new_id).config.data.path == str(upload)
    assert json.loads((here.folder(new_id) / "metrics.json").read_text())["data_files"][0]["path"] == str(upload)


def test_a_file_of_other_content_is_not_taken_for_the_data(lab, here):
    data = lab[2]
    other = here.home / "datasets" / "89ab" / data.name
    other.parent.mkdir(parents=True)
    content = bytearray(data.read_bytes())
    digit = next(i for i in range(content.index(b"\n"), len(content)) if chr(content[i]).isdigit())
    content[digit] = ord("1") if content[digit] != ord("1") else ord("2")
    other.write_bytes(bytes(content))  # same size, other content
    new_id, notes = imported_while_away(lab, here)
    assert other.stat().st_size == data.stat().st_size
    assert "not on this server" in notes[0]
    assert here.load(new_id).config.data.path not in (str(data), str(other))


def test_an_imported_run_never_points_at_a_file_here_without_the_content_it_recorded(lab, here, tmp_path):
    # A crafted config naming a file on the server (and metrics recording nothing, or another content) would
    # otherwise let Recommend show that file's rows to whoever uploaded the zip.
    *_, result = lab
    secret = tmp_path / "private" / "accounts.csv"
    secret.parent.mkdir()
    secret.write_text("user_id,item_id,click\nalice,card-1234,1\n")
    config = json.loads(result.config.to_json())
    config["data"]["path"] = str(secret)
    for recorded in ([], [{"path": str(secret), "bytes": 40, "sha256": "0" * 64}]):
        metrics = {**json.loads(json.dumps(result.metrics, default=str)), "data_files": recorded}
        files = {"config.json": json.dumps(config).encode(), "metrics.json": json.dumps(metrics).encode()}
        new_id, notes = import_run(here, files, "crafted.zip")
        run = here.load(new_id)
        assert "accounts.csv is not on this server" in notes[0]
        assert run.config.data.path != str(secret) and not Path(run.config.data.path).exists()
        assert run.config.data.name == "accounts.csv"
        with pytest.raises(MtlrecError):
            load_frames(run.config)


def test_a_run_saved_while_training_imports_as_interrupted(lab, here, tmp_path):
    *_, result = lab
    out = tmp_path / "run"
    write_run_files(result, out)
    metrics = json.loads((out / "metrics.json").read_text())
    (out / "metrics.json").write_text(json.dumps({**metrics, "status": "running"}))
    new_id, _ = import_run(here, read_run_archive(out), "run")
    assert here.get(new_id)["status"] == "interrupted"


def test_a_run_without_its_model_imports_with_a_note_that_it_cannot_recommend(lab, here, tmp_path):
    *_, result = lab
    out = tmp_path / "run"
    write_run_files(result, out)
    (out / "model.pt").unlink()

    new_id, notes = import_run(here, read_run_archive(out), "run")

    assert here.get(new_id)["status"] == "finished"
    assert "It has no model.pt: its metrics and curves are shown, but it cannot recommend" in " ".join(notes)


def one_zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def run_files(result) -> dict[str, bytes]:
    return {"config.json": result.config.to_json().encode(), "metrics.json": json.dumps(result.metrics).encode()}


@pytest.mark.parametrize(
    "case, expected",
    [
        ("not a zip", "'x.zip' is not a readable zip file"),
        ("no config", "'x.zip' holds no config.json: it is not a run's zip"),
        ("two runs", "'x.zip' holds 2 runs (folders a, b): import one run's zip at a time"),
        ("no metrics", "'x.zip' holds a config.json but no metrics.json: the run never finished saving"),
        ("bad config", "'x.zip': config.json is not JSON text (JSONDecodeError"),
        ("other run's metrics", "'x.zip': metrics.json has tasks config.json does not (purchase)"),
        ("too big", "'x.zip': its run files unpack to over"),
        # crafted values that pages read as they are (each crashed Runs or Results, found by a review)
        ("metrics of text", "metrics.json: these metrics are not numbers: click.auc"),
        ("tasks of text", "metrics.json: 'tasks' is not an object of one object of metrics per task"),
        ("seconds of text", "metrics.json: 'train_seconds' is not a number of seconds or a rate, got 'x'"),
        ("notes of a number", "metrics.json: 'notes' is not a list of texts"),
        ("a path for a digest", "metrics.json: 'data_files' is not a list of {path, bytes, sha256} records"),
        ("a huge model", "model.pt's tensors are not those of the model config.json and encoder.json describe"),
        ("an encoder of a list", "encoder.json is damaged or is not this run's (AttributeError"),
        ("history of text", "history.csv: these columns are not numbers: click/train_loss"),
        ("a config the trainer refuses", "config.json: model size 'huge' is not one of tiny, small"),
    ],
)
def test_what_cannot_be_a_run_is_refused_with_the_reason_and_nothing_is_written(lab, here, monkeypatch, case, expected):
    store, run_id, _, result = lab
    files = run_files(result)
    folder = store.folder(run_id)
    full = {name: (folder / name).read_bytes() for name in RUN_FILES}
    metrics = json.loads(full["metrics.json"])
    config = json.loads(full["config.json"])

    def changed(**parts) -> bytes:
        return one_zip({**full, **{name.replace("_", "."): data for name, data in parts.items()}})

    archive = {
        "not a zip": b"user_id,item_id,click\n1,2,1\n",
        "no config": one_zip({"metrics.json": files["metrics.json"], "notes.txt": "hi"}),
        "two runs": one_zip({f"{d}/{n}": data for d in ("a", "b") for n, data in files.items()}),
        "no metrics": one_zip({"config.json": files["config.json"]}),
        "bad config": one_zip({"config.json": b'{"tasks": [', "metrics.json": files["metrics.json"]}),
        "other run's metrics": one_zip(
            {"config.json": files["config.json"], "metrics.json": json.dumps({"tasks": {"purchase": {}}})}
        ),
        "too big": one_zip(files),
        "metrics of text": changed(metrics_json=json.dumps({**metrics, "tasks": {"click": {"auc": "abc"}}})),
        "tasks of text": changed(metrics_json=json.dumps({**metrics, "tasks": {"click": "x"}})),
        "seconds of text": changed(metrics_json=json.dumps({**metrics, "train_seconds": "x"})),
        "notes of a number": changed(metrics_json=json.dumps({**metrics, "notes": 5})),
        "a path for a digest": changed(
            metrics_json=json.dumps({**metrics, "data_files": [{**metrics["data_files"][0], "sha256": "/etc"}]})
        ),
        "a huge model": changed(
            config_json=json.dumps({**config, "model": {**config["model"], "bottom": [60000, 60000]}})
        ),
        "an encoder of a list": changed(encoder_json="[1]"),
        "history of text": changed(history_csv="epoch,click/train_loss\n1,abc\n"),
        "a config the trainer refuses": changed(
            config_json=json.dumps({**config, "model": {**config["model"], "size": "huge"}})
        ),
    }[case]
    if case == "too big":
        monkeypatch.setattr(mtlrec.transfer, "IMPORT_LIMIT", 100)
    with pytest.raises(MtlrecError) as error:
        import_run(here, read_run_archive(archive, "'x.zip'"), "'x.zip'")
    assert expected in error.value.message
    assert here.list() == [] and list(here.runs_dir.iterdir()) == []


def test_only_run_files_are_taken_from_a_zip(lab, here):
    *_, result = lab
    files = run_files(result)
    archive = one_zip(
        {
            "run/config.json": files["config.json"],
            "run/metrics.json": files["metrics.json"],
            "run/../../evil.sh": "echo",  # never written anywhere: not a run file
            "__MACOSX/run/._config.json": "resource fork",  # macOS Finder's, not a second run
        }
    )
    assert set(read_run_archive(archive)) == {"config.json", "metrics.json"}
    new_id, _ = import_run(here, read_run_archive(archive), "zip")
    assert sorted(p.name for p in here.folder(new_id).iterdir()) == [
        "config.json",
        "history.csv",
        "metrics.json",
        "run.json",
    ]


def test_cli_import_adds_a_run_folder_to_the_store_and_refuses_a_non_run(lab, tmp_path, capsys):
    store, run_id, *_ = lab
    home = tmp_path / "store"
    assert main(["import", str(store.folder(run_id)), "--home", str(home), "--name", "from the CLI"]) == 0
    out = capsys.readouterr().out
    (row,) = RunStore(home).list()
    assert f"as run {row['id']} (from the CLI, finished)" in out
    archive = tmp_path / "export.zip"
    archive.write_bytes(store.export_zip(run_id))
    assert main(["import", str(archive), "--home", str(home)]) == 0
    assert "(like heavy *v2*, finished)" in capsys.readouterr().out

    assert main(["import", str(tmp_path / "nothing.zip"), "--home", str(home)]) == 2
    assert "nothing.zip does not exist" in capsys.readouterr().err
    assert main(["import", str(tmp_path), "--home", str(home)]) == 2
    assert "holds no config.json: it is not a run folder" in capsys.readouterr().err
    (tmp_path / "a file").write_text("")  # --home naming a file ended in a NotADirectoryError traceback
    assert main(["import", str(archive), "--home", str(tmp_path / "a file")]) == 2
    assert "cannot be used (NotADirectoryError" in capsys.readouterr().err


def test_the_runs_page_imports_an_uploaded_zip_once_and_lists_it(lab, tmp_path, monkeypatch):
    store, run_id, *_ = lab
    use_home(monkeypatch, tmp_path / "home_app")
    at = open_app("pages/runs.py")
    assert "No saved runs" in at.info[0].value
    at.file_uploader(key="runs_import_file").set_value((f"{run_id}.zip", store.export_zip(run_id), "application/zip"))
    at.run()
    assert not at.exception
    (row,) = RunStore(tmp_path / "home_app").list()
    assert at.dataframe(key=at.session_state["runs_table_key"]).value["name"].tolist() == ["like heavy *v2*"]
    assert f"is run `{row['id']}`" in at.success[0].value
    at.run()  # the uploader still holds the file: it is not imported again
    assert len(RunStore(tmp_path / "home_app").list()) == 1
    at.button(key="runs_import_open").click().run()
    assert at.session_state[state.RESULTS_RUN] == row["id"]


def test_the_runs_page_shows_why_an_upload_is_no_run(tmp_path, monkeypatch):
    use_home(monkeypatch, tmp_path / "home_app")
    at = open_app("pages/runs.py")
    at.file_uploader(key="runs_import_file").set_value(("orders.zip", b"not a zip", "application/zip")).run()
    assert not at.exception
    assert "'orders.zip' is not a readable zip file" in at.error[0].value
    assert RunStore(tmp_path / "home_app").list() == []


def test_recommend_names_an_imported_runs_missing_data_and_finds_it_once_uploaded(lab, tmp_path, monkeypatch):
    data, home = lab[2], tmp_path / "home_app"
    new_id, _ = imported_while_away(lab, RunStore(home))
    use_home(monkeypatch, home)
    at = open_app("pages/recommend.py", session={state.RESULTS_RUN: new_id})
    assert not at.exception
    assert at.error[0].value.startswith("The run's data (shop orders.csv) is not on this server")

    upload = home / "datasets" / "0a1b2c" / "shop_orders.csv"  # as the Data page keeps an upload
    upload.parent.mkdir(parents=True)
    shutil.copy(data, upload)
    at.run()
    assert not at.exception and not at.error
    assert RunStore(home).load(new_id).config.data.path == str(upload)
    assert len(at.dataframe) >= 1  # the user's history and top-K


def test_results_shows_an_imported_run_without_its_data_and_says_why_no_baseline_can_train(lab, tmp_path, monkeypatch):
    home = tmp_path / "home_app"
    new_id, _ = imported_while_away(lab, RunStore(home))
    use_home(monkeypatch, home)
    at = open_app("pages/results.py", session={state.RESULTS_RUN: new_id})
    assert not at.exception and not at.error
    assert len(at.metric) >= 3  # the metric cards, from the run's own files
    at.button(key="results_compare").click().run()
    assert not at.exception
    assert "The run's data (shop orders.csv) is not on this server" in at.error[0].value


def test_importing_a_run_twice_says_so_and_a_config_with_a_byte_order_mark_imports(lab, here):
    store, run_id, *_ = lab
    files = read_run_archive(store.export_zip(run_id))
    first, notes = import_run(here, files, "zip")
    assert notes == []
    files["config.json"] = b"\xef\xbb\xbf" + files["config.json"]  # saved again by Notepad
    second, notes = import_run(here, files, "zip")
    assert notes == [f"This run was imported before, as {first}: delete the copy you do not need."]
    assert json.loads((here.folder(second) / "run.json").read_text())["imported_from"] == run_id


def test_a_generated_worlds_run_keeps_its_world_label_when_found_by_content(lab, here, tmp_path):
    # The world's file is synthetic.parquet in a folder named by its recipe; the label names the recipe, not the file.
    from mtlrec.sample import SyntheticSpec, generate

    world = tmp_path / "lab_a" / "datasets" / "world-0123" / "synthetic.parquet"
    world.parent.mkdir(parents=True)
    generate(SyntheticSpec(n_rows=3000, n_users=200, n_items=100)).to_parquet(world)
    *_, result = lab
    config = json.loads(result.config.to_json())
    config["data"]["path"] = str(world)
    from mtlrec.data import data_files as records_of

    recorded = records_of(result.config.__class__.from_dict(config))
    metrics = {**json.loads(json.dumps(result.metrics, default=str)), "data_files": recorded}
    files = {"config.json": json.dumps(config).encode(), "metrics.json": json.dumps(metrics).encode()}
    copy = here.home / "datasets" / "world-0123" / "synthetic.parquet"  # the same world generated here
    copy.parent.mkdir(parents=True)
    shutil.copy(world, copy)
    spec = {"task_correlation": -0.8, "n_rows": 3000, "seed": 0}
    copy.with_name("synthetic.json").write_text(json.dumps(spec))  # as write_sample leaves it beside the world
    world.unlink()
    new_id, _ = import_run(here, files, "zip")
    assert here.load(new_id).config.data.path == str(copy)
    assert here.get(new_id)["summary"]["data"] == "synthetic world (correlation -0.8, 3,000 rows, seed 0)"


def test_an_import_that_fails_while_writing_leaves_no_run(lab, here, monkeypatch):
    # A full disk after the run was indexed left it "running", which nobody could delete (a review).
    store, run_id, *_ = lab
    files = read_run_archive(store.export_zip(run_id))

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mtlrec.transfer, "atomic_write_bytes", full)
    with pytest.raises(OSError):
        import_run(here, files, "zip")
    assert here.list() == [] and list(here.runs_dir.iterdir()) == []
