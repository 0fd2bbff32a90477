"""Specifications of mtlrec.runs.RunStore: index and folders, recovery, damage, safety, concurrency, reloading."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from mtlrec.config import DataConfig, ExperimentConfig
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.recommend import Recommender
from mtlrec.runs import RUN_FILES, RUN_ID, RunStore, csv_bytes, metrics_table, sanitize_name
from mtlrec.train import predict_raw


@pytest.fixture(scope="module")
def result(_interactions_once, make_config):
    return run_experiment(make_config(epochs=2), _interactions_once)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "home")


def test_start_indexes_a_running_run_and_writes_its_config(store, result):
    run_id = store.start(result.config, name="first try")

    assert RUN_ID.match(run_id)
    row = store.get(run_id)
    assert (row["name"], row["status"], row["pid"]) == ("first try", "running", os.getpid())
    assert sorted(p.name for p in store.folder(run_id).iterdir()) == ["config.json"]


def test_a_relative_data_path_is_saved_absolute_so_a_rerun_elsewhere_reads_the_same_file(
    store, result, tmp_path, monkeypatch
):
    # From Python, config.data.path = "log.csv" was saved as given: a re-run from another folder read that
    # folder's log.csv of the same name, silently (an audit).
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "log.csv").write_text("user,click\nu1,1\n")
    monkeypatch.chdir(tmp_path / "data")
    config = result.config.copy()
    config.data.path, config.data.test_path = "log.csv", "sample:synthetic"
    run_id = store.save(dataclasses.replace(result, config=config))

    saved = json.loads((store.folder(run_id) / "config.json").read_text())["data"]
    assert (saved["path"], saved["test_path"]) == (str(tmp_path / "data" / "log.csv"), "sample:synthetic")
    assert config.data.path == "log.csv"  # the caller's config is left alone


def test_start_without_a_name_describes_model_and_weights(store, result):
    run_id = store.start(result.config)

    assert store.get(run_id)["name"] == "shared_bottom tiny · click=1, like=1, watch_time=1"


def test_finish_writes_every_run_file_and_the_final_status(store, result):
    run_id = store.start(result.config)

    store.finish(run_id, result)

    row = store.get(run_id)
    assert row["status"] == "finished"
    assert row["summary"]["tasks"]["click"]["auc"] == result.metrics["tasks"]["click"]["auc"]
    assert row["summary"]["params"] == result.metrics["params"]
    assert sorted(p.name for p in store.folder(run_id).iterdir()) == sorted(RUN_FILES)


def test_load_reads_back_config_metrics_history_and_predictions(store, result):
    run_id = store.save(result)

    loaded = store.load(run_id)

    assert loaded.config == result.config
    assert loaded.metrics["tasks"] == result.metrics["tasks"]
    assert (loaded.metrics["status"], loaded.metrics["message"]) == ("finished", "")
    assert loaded.history["epoch"].tolist() == [1, 2]
    pd.testing.assert_frame_equal(loaded.predictions(), result.predictions, check_dtype=False)


def test_list_gives_newest_first_and_filters_by_sweep(store, result):
    first = store.save(result, name="a")
    second = store.save(result, name="b", sweep_id="sweep-1")
    third = store.save(result, name="c", sweep_id="sweep-1")

    assert [r["id"] for r in store.list()] == [third, second, first]
    assert [r["name"] for r in store.list(sweep_id="sweep-1")] == ["c", "b"]
    assert not any(r["damaged"] for r in store.list())


def test_rename_cleans_the_name_and_rejects_an_empty_one(store, result):
    run_id = store.save(result)

    assert store.rename(run_id, "  best\n run \x00 ") == "best run"
    assert store.get(run_id)["name"] == "best run"
    with pytest.raises(MtlrecError, match="a run name cannot be empty"):
        store.rename(run_id, " \n ")


def test_delete_removes_the_row_and_the_folder(store, result):
    run_id = store.save(result)
    folder = store.folder(run_id)

    store.delete(run_id)

    assert not folder.exists()
    assert store.list() == []
    with pytest.raises(MtlrecError, match=f"run '{run_id}' does not exist"):
        store.get(run_id)


def test_fail_marks_the_run_failed_with_its_message(store, result):
    run_id = store.start(result.config)

    store.fail(run_id, "out of memory")

    assert (store.get(run_id)["status"], store.get(run_id)["message"]) == ("failed", "out of memory")
    loaded = store.load(run_id)  # a complete, readable run: Results can show why it failed
    assert (loaded.metrics["status"], loaded.metrics["message"], loaded.metrics["tasks"]) == (
        "failed",
        "out of memory",
        {},
    )
    assert [r["damaged"] for r in store.list()] == [False]


def test_history_recorded_during_training_survives_a_failure(store, result):
    run_id = store.start(result.config)
    store.record_history(run_id, [{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.4}])

    store.fail(run_id, "training diverged")

    assert store.load(run_id).history["val_loss"].tolist() == [0.5, 0.4]


def test_export_zip_contains_exactly_the_run_files_a_metrics_table_and_the_runs_name(store, result):
    run_id = store.save(result, name="balanced")
    (store.folder(run_id) / "notes.txt").write_text("not a run file")

    with zipfile.ZipFile(io.BytesIO(store.export_zip(run_id))) as archive:
        names = set(archive.namelist())
        table = pd.read_csv(io.BytesIO(archive.read(f"{run_id}/metrics.csv")))
        info = json.loads(archive.read(f"{run_id}/run.json"))

    assert names == {f"{run_id}/{name}" for name in (*RUN_FILES, "metrics.csv", "run.json")}
    assert info == {"id": run_id, "name": "balanced"}  # an import elsewhere keeps the name
    assert table["task"].tolist() == ["click", "like", "watch_time"]
    assert table.loc[0, "auc"] == pytest.approx(result.metrics["tasks"]["click"]["auc"])


def test_metrics_table_has_one_row_per_task_and_one_column_per_metric():
    table = metrics_table({"tasks": {"click": {"auc": 0.7}, "watch": {"rmse": 2.0}}})

    assert list(table.columns) == ["task", "auc", "rmse"]
    assert table["task"].tolist() == ["click", "watch"]
    assert (table.loc[0, "auc"], table.loc[1, "rmse"]) == (0.7, 2.0)
    assert np.isnan(table.loc[0, "rmse"]) and np.isnan(table.loc[1, "auc"])


def test_metrics_file_is_strict_json_with_nan_as_null(store, result):
    metrics = dict(result.metrics, tasks={"click": {"auc": float("nan"), "logloss": 0.5}})
    run_id = store.save(dataclasses.replace(result, metrics=metrics))

    text = (store.folder(run_id) / "metrics.json").read_text()

    assert json.loads(text)["tasks"]["click"] == {"auc": None, "logloss": 0.5}
    assert "NaN" not in text


def test_run_left_running_by_a_dead_process_is_marked_interrupted(tmp_path, result, monkeypatch):
    home = tmp_path / "home"
    store = RunStore(home)
    orphan, alive = store.start(result.config), store.start(result.config)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid now belongs to no process
    store._execute("UPDATE runs SET pid=? WHERE id=?", (finished.pid, orphan))

    monkeypatch.setattr(RunStore, "_recovered", set())  # as in a freshly started server process
    restarted = RunStore(home)

    assert restarted.get(orphan)["status"] == "interrupted"
    assert restarted.get(orphan)["message"] == "the server stopped while this run was training"
    assert restarted.get(alive)["status"] == "running"  # this process is alive
    assert [r["damaged"] for r in restarted.list()] == [False, False]
    assert restarted.load(orphan).metrics["status"] == "interrupted"


def test_recovery_runs_once_per_process_and_home(tmp_path, result, monkeypatch):
    monkeypatch.setattr(RunStore, "_recovered", set())
    store = RunStore(tmp_path / "home")
    run_id = store.start(result.config)
    store._execute("UPDATE runs SET pid=? WHERE id=?", (2**22 + 12345, run_id))  # above Linux's pid_max

    RunStore(tmp_path / "home")

    assert store.get(run_id)["status"] == "running"
    assert store.recover_interrupted() == 1
    assert store.get(run_id)["status"] == "interrupted"


def test_run_with_corrupt_metrics_is_listed_as_damaged_and_load_raises(store, result):
    healthy, broken = store.save(result), store.save(result)
    (store.folder(broken) / "metrics.json").write_text('{"tasks": {"click": ')

    damaged = {r["id"]: r["damaged"] for r in store.list()}

    assert damaged == {healthy: False, broken: True}
    with pytest.raises(MtlrecError, match=f"run '{broken}' is damaged or incomplete"):
        store.load(broken)


def test_run_with_missing_folder_is_listed_as_damaged(store, result):
    run_id = store.save(result)
    for path in store.folder(run_id).iterdir():
        path.unlink()

    assert store.list()[0]["damaged"] is True
    with pytest.raises(MtlrecError, match="is damaged or incomplete"):
        store.load(run_id)


@pytest.mark.parametrize("run_id", ["../etc", "../../etc/passwd", "20240101-000000-abcdef/..", "", "/tmp"])
def test_folder_rejects_ids_that_could_leave_the_runs_folder(store, run_id):
    with pytest.raises(MtlrecError, match="is not a valid run id"):
        store.folder(run_id)


def test_delete_and_rename_reject_path_like_ids(store):
    with pytest.raises(MtlrecError, match="is not a valid run id"):
        store.delete("../etc")
    with pytest.raises(MtlrecError, match="is not a valid run id"):
        store.rename("../etc", "x")


def test_concurrent_finish_from_threads_leaves_a_consistent_table(store, result):
    run_ids = [store.start(result.config, name=f"run {i}") for i in range(8)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(run_ids))

    def finish(run_id: str) -> None:
        try:
            barrier.wait()
            store.finish(run_id, result)
        except BaseException as exc:  # collected and asserted below: a thread would swallow it
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    rows = store.list()
    assert sorted(r["id"] for r in rows) == sorted(run_ids)
    assert {r["status"] for r in rows} == {"finished"}
    assert not any(r["damaged"] for r in rows)
    assert all(store.load(run_id).metrics["tasks"] == result.metrics["tasks"] for run_id in run_ids)


def test_load_model_rebuilds_a_model_with_the_same_predictions(store, result, _interactions_once):
    run_id = store.save(result)

    model, encoder = store.load(run_id).load_model()

    rows = _interactions_once.head(200)
    encoded = encoder.transform(rows, labels=False)
    cpu = torch.device("cpu")
    np.testing.assert_array_equal(predict_raw(model, encoded, cpu), predict_raw(result.model, encoded, cpu))
    assert encoder.to_dict() == result.encoder.to_dict()


def test_a_store_made_without_a_home_reads_mtlrec_home_when_it_is_made(tmp_path, monkeypatch):
    # MTLREC_HOME was read when mtlrec.runs was imported: a notebook that set it afterwards wrote to ./mtlrec_runs.
    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "set_after_import"))

    assert RunStore().home == tmp_path / "set_after_import"
    monkeypatch.delenv("MTLREC_HOME")
    monkeypatch.chdir(tmp_path)
    assert RunStore().home == tmp_path / "mtlrec_runs"


NO_CUDA = "device 'cuda' was chosen but no CUDA GPU is available here: choose 'auto' or 'cpu'"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_load_model_on_cuda_without_a_gpu_says_so_and_auto_takes_the_cpu(store, result, _interactions_once):
    # It said "model.pt is damaged or is not this run's weights ... train the run again".
    run = store.load(store.save(result))

    with pytest.raises(MtlrecError) as error:
        run.load_model("cuda")
    assert error.value.problems == [NO_CUDA]
    for device in ("auto", "cpu", torch.device("cpu")):
        model, _ = run.load_model(device)
        assert next(model.parameters()).device == torch.device("cpu") and not model.training
    with pytest.raises(MtlrecError) as error:
        Recommender(result.model, result.encoder, result.config, _interactions_once, device="cuda")
    assert error.value.problems == [NO_CUDA]
    recommender = Recommender(result.model, result.encoder, result.config, _interactions_once, device="auto")
    assert recommender.device == torch.device("cpu") and len(recommender.recommend(recommender.users()[0], k=3)) == 3


def test_load_model_of_a_run_without_a_model_raises(store, result):
    run_id = store.start(result.config)
    store.finish(run_id, dataclasses.replace(result, model=None, status="failed"))

    with pytest.raises(MtlrecError, match=f"run '{run_id}' has no evaluated model: it failed before it saved a model"):
        store.load(run_id).load_model()


def test_failed_and_interrupted_runs_without_model_files_are_not_said_to_have_lost_them(store, result):
    failed, interrupted = store.start(result.config), store.start(result.config)
    store.fail(failed, "training failed unexpectedly (RuntimeError: boom)")
    store.close(interrupted, "interrupted", "the server stopped")

    assert store.load(failed).model_problem == (
        "it failed before it saved a model (training failed unexpectedly (RuntimeError: boom))"
    )
    assert store.load(interrupted).model_problem == "the server stopped while it trained, before it saved a model"


@pytest.mark.parametrize("lost", [["model.pt"], ["encoder.json"], ["model.pt", "encoder.json"]])
def test_a_finished_run_whose_model_files_are_gone_says_which_and_what_to_do(store, result, lost):
    # Not "stopped before its first epoch ended": the run finished; its file was deleted afterwards.
    run_id = store.save(result)
    folder = store.folder(run_id)
    for name in lost:
        (folder / name).unlink()
    run = store.load(run_id)

    assert not run.has_model
    assert run.model_problem.startswith(f"{' and '.join(lost)} {'is' if len(lost) == 1 else 'are'} not in {folder}")
    assert f"python -m mtlrec train --config {folder / 'config.json'}" in run.model_problem
    assert "first epoch" not in run.model_problem
    with pytest.raises(MtlrecError, match=f"run '{run_id}' has no evaluated model: {lost[0]}"):
        run.load_model()


def test_csv_bytes_reads_back_equal_to_pandas_own_csv():
    frame = pd.DataFrame(
        {
            "user": ["u1", 'say "hi"', "a,b", "é"],
            "item": [3, 1, 2, 7],
            "when": pd.to_datetime(
                ["2024-03-01 10:00:00", "2024-03-02 00:00:00", "2024-03-03 08:30:00", "2024-03-04 23:59:59"]
            ),
            "click": [1.0, 0.0, 1.0, 0.0],
            "click_pred": [0.6942658424377441, 1e-12, float("nan"), 1 / 3],
        }
    )
    ours = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    theirs = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    assert ours["click_pred"].iloc[0] == 0.6942658424377441  # full precision, not a rounded repr


def test_csv_bytes_falls_back_to_pandas_for_columns_arrow_cannot_type():
    frame = pd.DataFrame({"user": [1, "u2", 3.5], "p": [0.1, 0.2, 0.3]})  # one object column, three types
    assert (
        pd.read_csv(io.BytesIO(csv_bytes(frame)))
        .astype(str)
        .equals(pd.read_csv(io.StringIO(frame.to_csv(index=False))).astype(str))
    )


def test_csv_bytes_falls_back_to_pandas_for_integers_beyond_64_bits():
    # Python ints in an object column (a CSV reader's 20-digit ids) raised OverflowError after training ended.
    frame = pd.DataFrame({"user": [2**64 + 1, 7], "p": [0.5, 0.25]}, dtype=object)
    assert csv_bytes(frame) == b"user,p\n18446744073709551617,0.5\n7,0.25\n"


def test_default_run_names_say_the_architecture_size_cross_layers_and_weights():
    from mtlrec.config import ExperimentConfig, ModelConfig, TaskSpec
    from mtlrec.runs import default_run_name

    config = ExperimentConfig(tasks=[TaskSpec("click", weight=1.0), TaskSpec("like", weight=0.5)])
    assert default_run_name(config) == "shared_bottom small · click=1, like=0.5"
    config.model = ModelConfig(kind="mmoe", size="tiny", cross=2)
    assert default_run_name(config) == "mmoe tiny + 2 cross · click=1, like=0.5"
    config.weighting.method = "dwa"  # a DWA run and a PCGrad run had one name (an app audit)
    assert default_run_name(config) == "mmoe tiny + 2 cross · DWA · click=1, like=0.5"


def test_a_run_cut_short_keeps_the_count_of_the_epochs_it_had(store, result):
    # Interrupted after 3 epochs: the Runs table's epochs were blank and Results said "- of 50 epochs".
    run_id = store.start(result.config)
    store.record_history(run_id, result.history.to_dict("records")[:1] * 3)
    store.close(run_id, "interrupted", "the server stopped while this run was training")

    assert store.load(run_id).metrics["epochs_run"] == 3
    assert store.get(run_id)["summary"]["epochs_run"] == 3
    failed = store.start(result.config)
    store.fail(failed, "training failed unexpectedly (RuntimeError: boom)")  # before any epoch
    assert store.load(failed).metrics["epochs_run"] == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_run_files_get_the_mode_the_umask_gives_not_mkstemps_0600(umask, mode, tmp_path):
    import mtlrec.runs

    old = os.umask(umask)
    mtlrec.runs._umask.cache_clear()
    try:
        mtlrec.runs.atomic_write_text(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
        mtlrec.runs._umask.cache_clear()

    assert (tmp_path / "config.json").stat().st_mode & 0o777 == mode


def test_a_long_name_is_cut_at_a_word_boundary_with_an_ellipsis():
    # "single-task baseline of shared_bottom tiny · click=1, like=1, purchase=1, watch_" (an audit): cut mid-word.
    name = "single-task baseline of shared_bottom tiny · click=1, like=1, purchase=1, watch_time=1"
    cut = sanitize_name(name)
    assert cut == "single-task baseline of shared_bottom tiny · click=1, like=1, purchase=1…" and len(cut) <= 80
    assert sanitize_name("short name\n") == "short name"
    assert sanitize_name("two\nlines\tand a tab\x07") == "two lines and a tab"  # "twolines" before
    assert sanitize_name("x" * 100) == "x" * 79 + "…"  # no space to cut at
    # A long label without spaces is cut between its words, not inside one ("…home_feed_car…", a browser check).
    label = "shared_bottom small · click_through_on_the_recommended_item_in_the_home_feed_carousel=1, like=1"
    assert sanitize_name(label) == "shared_bottom small · click_through_on_the_recommended_item_in_the_home_feed…"


def test_a_generated_world_is_named_by_its_recipe_not_its_file(tmp_path):
    # Every world is a synthetic.parquet in a folder named by a hash: Runs listed all of them as one name, and
    # Results showed the server's path.
    from mtlrec.runs import data_label, summary_of
    from mtlrec.sample import SyntheticSpec, write_sample

    world = tmp_path / "datasets" / "world-ab12"
    write_sample(world, SyntheticSpec(n_rows=500, n_users=50, n_items=40, task_correlation=-0.8, seed=3))
    path = str(world / "synthetic.parquet")

    assert data_label(path) == "synthetic world (correlation -0.8, 500 rows, seed 3)"
    assert data_label(str(tmp_path / "shop.csv")) == "shop.csv"
    assert data_label(str(tmp_path / "shop.csv"), full=True) == str(tmp_path / "shop.csv")
    assert data_label("sample:synthetic") == "sample:synthetic" and data_label(None) == ""
    config = ExperimentConfig(data=DataConfig(path=path))
    assert summary_of(config, {})["data"] == "synthetic world (correlation -0.8, 500 rows, seed 3)"


def test_an_uploaded_file_is_named_as_given_and_its_safe_copy_stays_on_disk(tmp_path):
    # The app keeps an upload under a safe file name; runs showed that one (Mein_Export_M_rz_2024_.csv).
    from mtlrec.runs import data_label, summary_of

    kept = str(tmp_path / "datasets" / "ab12" / "Mein_Export_M_rz_2024_.csv")
    assert data_label(kept, name="Mein Export (März 2024).csv") == "Mein Export (März 2024).csv"
    assert data_label(kept, full=True, name="Mein Export (März 2024).csv") == "Mein Export (März 2024).csv"
    assert data_label(kept, name="a\x00b\n.csv") == "ab .csv"  # shown on one line, printable (a break: a space)
    assert data_label(kept, name="\x00") == "Mein_Export_M_rz_2024_.csv"  # nothing printable: the file's own
    assert len(data_label(kept, name="x" * 5000 + ".csv")) == 255
    config = ExperimentConfig(data=DataConfig(path=kept))  # a run saved before names were kept, or the CLI's
    assert summary_of(config, {})["data"] == "Mein_Export_M_rz_2024_.csv"
    config.data.name = "../../etc/passwd"  # a name, never a path
    assert (
        summary_of(config, {})["data"] == "../../etc/passwd" and ExperimentConfig.from_dict(config.to_dict()) == config
    )


def test_numpy_numbers_of_a_config_built_in_python_are_numbers_in_the_index(store, result):
    # The weight np.float32(0.5) was saved in the run index's summary as the text '0.5'.
    config = result.config.copy()
    config.tasks[0].weight, config.train.epochs = np.float32(0.5), np.int64(2)

    summary = store.get(store.start(config))["summary"]

    assert summary["weights"][config.tasks[0].name] == 0.5 and summary["epochs"] == 2
    copied = config.copy()
    assert type(copied.tasks[0].weight) is float and type(copied.train.epochs) is int


def test_a_saved_run_predicts_new_rows_as_it_predicted_its_test_rows(store, result, _interactions_once):
    # Scoring new rows took encoder.transform(rows, labels=False) and mtlrec.experiment.predict_frame (an audit).
    run = store.load(store.save(result))
    columns = list(run.config.prediction_columns().values())
    rows = _interactions_once.drop(columns=run.config.task_names).iloc[::7]  # no labels: new rows

    predicted = run.predict(rows)

    assert list(predicted.columns) == columns and predicted.index.equals(rows.index)
    assert ((predicted[columns[0]] >= 0) & (predicted[columns[0]] <= 1)).all()  # click: a probability
    model, encoder = run.load_model()
    from mtlrec.experiment import predict_frame

    expected = predict_frame(model, encoder, encoder.transform(rows, labels=False), torch.device("cpu"))
    np.testing.assert_array_equal(predicted.to_numpy(), expected)
    assert (predicted[columns[2]] >= 0).all()  # watch_time: seconds on their own scale (log1p undone)
    with pytest.raises(MtlrecError, match="price"):
        run.predict(rows.drop(columns=["price"]))


def test_a_default_run_name_shows_weights_to_three_digits():
    # A sweep point's 2/3 was named like=0.666667 (a browser check).
    from mtlrec.config import TaskSpec
    from mtlrec.runs import default_run_name

    config = ExperimentConfig(tasks=[TaskSpec("click", weight=1 / 3), TaskSpec("like", weight=2 / 3), TaskSpec("buy")])
    assert default_run_name(config) == "shared_bottom small · click=0.333, like=0.667, buy=1"


def test_renaming_a_run_deleted_meanwhile_says_so(store, result):
    # Deleted in another tab, the rename reported "Renamed" beside the warning that the run was deleted (an audit).
    run_id = store.save(result, name="first")
    store.delete(run_id)
    with pytest.raises(MtlrecError, match="not in this lab"):
        store.rename(run_id, "second")


def test_a_store_whose_folder_was_removed_while_in_use_says_so_and_a_new_one_makes_it_again(tmp_path):
    # rm -rf of MTLREC_HOME while the server ran: sqlite3's "no such table" on every page. The store held is not
    # made again (a drive unmounted under it would get a new store on another disk); the pages' next RunStore() is.
    import shutil

    store = RunStore(tmp_path / "home")
    shutil.rmtree(tmp_path / "home")

    with pytest.raises(MtlrecError, match="the run store .* cannot be used"):
        store.list()
    assert not (tmp_path / "home").exists()
    assert RunStore(tmp_path / "home").list() == []


def test_a_store_that_cannot_be_used_raises_its_reason_not_sqlites_error(tmp_path, monkeypatch):
    import sqlite3

    store = RunStore(tmp_path / "home")

    def broken(self):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(RunStore, "_connect", broken)
    with pytest.raises(MtlrecError) as info:
        store.list()
    assert str(info.value) == (
        f"the run store {tmp_path / 'home'} cannot be used (OperationalError: disk I/O error): free space on its disk"
    )


def test_kept_epochs_are_each_networks_own_for_a_single_task_model_else_the_runs_best():
    from mtlrec.config import TaskSpec
    from mtlrec.runs import kept_epochs

    tasks = [TaskSpec("click"), TaskSpec("like"), TaskSpec("purchase")]
    assert kept_epochs({"best_epoch": 3}, tasks) == {"click": 3, "like": 3, "purchase": 3}
    assert kept_epochs({"best_epoch": 4, "best_epochs": {"click": 1, "like": 4, "purchase": 2}}, tasks) == {
        "click": 1, "like": 4, "purchase": 2
    }  # fmt: skip
    assert kept_epochs({"best_epoch": 0}, tasks) == {}  # stopped before a first epoch ended
