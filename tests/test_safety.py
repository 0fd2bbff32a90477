"""Safe files and faults: nothing uploaded is unpickled or run, nothing leaves its folder, no data leaves the machine;
a diverging, oversized, stopped or killed run is saved with what it had, and damaged runs never crash a page."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import weakref
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import open_app, tiny_config, use_home

import mtlrec.resources
from mtlrec.cli import main
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.io import read_table
from mtlrec.jobs import JobLimiter, TrainingJob
from mtlrec.runs import RunStore

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([ROOT / "app.py", *(ROOT / "mtlrec").rglob("*.py"), *(ROOT / "ui").glob("*.py")])
SOURCES += sorted((ROOT / "pages").glob("*.py"))
_spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "tests" / "data" / "bad" / "make_corpus.py")
make_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_corpus)
PICKLE = "this is a Python pickle (never loaded, for safety): save the DataFrame with to_parquet instead"


@pytest.fixture(scope="module")
def result(_interactions_once: pd.DataFrame):
    return run_experiment(tiny_config(epochs=1), _interactions_once)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


def calls(path: Path) -> list[tuple[str, ast.Call]]:
    """Every call in a source file, with its dotted name (torch.load, pickle.loads, eval)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func, parts = node.func, []
            while isinstance(func, ast.Attribute):
                parts.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                parts.append(func.id)
            elif parts:  # a method of a value made on the spot: model.to(device).eval() is not the builtin eval
                parts.append("<value>")
            found.append((".".join(reversed(parts)), node))
    return found


# --- nothing is unpickled, evaluated or executed ---


def test_torch_load_is_only_ever_called_with_weights_only():
    loads = [(path, node) for path in SOURCES for name, node in calls(path) if name == "torch.load"]
    assert loads, "the run store loads models with torch.load"
    for path, node in loads:
        keywords = {k.arg: k.value for k in node.keywords}
        assert isinstance(keywords.get("weights_only"), ast.Constant) and keywords["weights_only"].value is True, (
            f"{path.name}:{node.lineno}"
        )


UNSAFE = {"eval", "exec", "compile", "__import__", "pickle.load", "pickle.loads", "pd.read_pickle", "joblib.load"}
UNSAFE |= {"dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads", "marshal.loads", "yaml.load"}


def receive_lines() -> range:
    """The lines of mtlrec.procs._receive: the one unpickling allowed, of messages between the server and its own
    training processes over the pipe multiprocessing made between them (never a file or an upload)."""
    tree = ast.parse((ROOT / "mtlrec" / "procs.py").read_text())
    [node] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_receive"]
    return range(node.lineno, node.end_lineno + 1)


def test_the_app_and_library_never_unpickle_evaluate_or_execute():
    found = [f"{p.relative_to(ROOT)}:{n.lineno} {name}" for p in SOURCES for name, n in calls(p) if name in UNSAFE]
    between_processes = [f"mtlrec/procs.py:{line} pickle.loads" for line in receive_lines()]
    assert len(set(found) & set(between_processes)) == 1  # exactly one call there
    found = [f for f in found if f not in between_processes]
    allow_pickle = [
        f"{p.relative_to(ROOT)}:{n.lineno}"
        for p in SOURCES
        for name, n in calls(p)
        if name.endswith("np.load") and any(k.arg == "allow_pickle" for k in n.keywords)
    ]
    assert found == [] and allow_pickle == []


@pytest.fixture
def pickles(tmp_path: Path) -> tuple[Path, list[Path]]:
    """Malicious pickles named like tables, and the file that unpickling any of them would create."""
    return make_corpus.write_pickles(tmp_path)


def test_a_pickle_named_like_a_table_is_refused_and_never_unpickled(pickles):
    marker, files = pickles
    messages = {}
    for path in files:
        with pytest.raises(MtlrecError) as caught:
            read_table(path)
        messages[path.name] = caught.value.message
    assert messages == {
        "pickle.csv": f"pickle.csv: {PICKLE}",
        "pickle.parquet": f"pickle.parquet: {PICKLE}",
        "pickle_protocol2.csv": f"pickle_protocol2.csv: {PICKLE}",
        "pickle.csv.gz": f"pickle.csv.gz: {PICKLE}",
        # Protocol 0 is text: it is read as a (bad) CSV file, and never unpickled either.
        "pickle_protocol0.csv": "pickle_protocol0.csv: only one column ('c__builtin__') was found: a table needs "
        "user/item, feature and label columns separated by commas, semicolons or tabs",
    }
    assert not marker.exists()


def test_pickles_through_the_cli_and_the_uploader_are_refused_and_never_unpickled(pickles, tmp_path, capsys):
    marker, files = pickles
    for path in files:
        assert main(["train", str(path), "--out", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.startswith(f"error: {path.name}: ")
    use_home(pytest.MonkeyPatch(), tmp_path / "home")
    at = open_app("pages/data.py")
    for path in files:
        at.file_uploader(key="data_upload").set_value((path.name, path.read_bytes(), "text/csv")).run()
        assert not at.exception
        assert at.error[0].value.startswith(f"{path.name}: ")
    assert "dataset" not in at.session_state
    assert not marker.exists()


def test_a_pytorch_file_named_like_a_table_is_refused():
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(2)}, buffer)
    with pytest.raises(MtlrecError) as caught:
        read_table(buffer.getvalue(), "model.csv")
    assert caught.value.message == (
        "model.csv: this is a zip archive holding pickled Python objects (a PyTorch or joblib file?), never loaded "
        "(for safety): save the table as CSV or Parquet"
    )


def test_a_crafted_model_file_in_a_run_is_refused_and_never_unpickled(store, result, tmp_path):
    run_id = store.save(result)
    marker = tmp_path / "UNPICKLED"
    torch.save(make_corpus.Tripwire(marker), store.folder(run_id) / "model.pt")
    with pytest.raises(MtlrecError) as caught:
        store.load(run_id).load_model()
    assert caught.value.message == (
        f"run '{run_id}': model.pt holds Python objects, not just weights: refused for safety (never loaded); "
        "train the run again"
    )
    assert not marker.exists()


def test_a_damaged_or_foreign_model_file_is_a_message(store, result):
    run_id = store.save(result)
    model = store.folder(run_id) / "model.pt"
    model.write_bytes(model.read_bytes()[:100])
    with pytest.raises(MtlrecError, match=rf"run '{run_id}': model.pt is damaged or is not this run's weights"):
        store.load(run_id).load_model()
    torch.save({"weight": torch.zeros(3)}, model)
    with pytest.raises(MtlrecError, match=r"is not this run's weights \(RuntimeError: Error\(s\) in loading"):
        store.load(run_id).load_model()


# --- nothing reaches outside its folder ---


@pytest.mark.parametrize("run_id", ["../outside", "..", "/etc", "20240101-000000-abcdef/../../x", "", "a\nb"])
def test_run_ids_that_could_leave_the_runs_folder_are_refused_everywhere(store, run_id):
    for action in (store.load, store.export_zip, store.delete, lambda i: store.rename(i, "x")):
        with pytest.raises(MtlrecError):
            action(run_id)
    assert sorted(p.name for p in store.home.iterdir()) == ["runs", "runs.db", "runs.db-shm", "runs.db-wal"]


def test_a_run_name_is_display_text_only(store, result):
    run_id = store.save(result, name="../../../../tmp/evil\n\x1b[31mred")
    assert store.get(run_id)["name"] == "../../../../tmp/evil [31mred"  # a line break is a space, escapes go
    store.rename(run_id, "../" * 40 + "x")
    assert [p.name for p in store.runs_dir.iterdir()] == [run_id]
    assert len(store.get(run_id)["name"]) == 80


def test_a_run_download_holds_only_that_runs_own_files(store, result, tmp_path):
    run_id = store.save(result)
    other = store.save(result)
    folder = store.folder(run_id)
    (folder / "notes.txt").write_text("not a run file")
    (tmp_path / "secret.txt").write_text("outside the runs folder")
    (folder / "predictions.csv").unlink()
    (folder / "predictions.csv").symlink_to(tmp_path / "secret.txt")  # planted by someone with disk access
    with zipfile.ZipFile(io.BytesIO(store.export_zip(run_id))) as archive:
        names = archive.namelist()
        contents = b"".join(archive.read(n) for n in names)
    expected = ["config.json", "metrics.json", "history.csv", "model.pt", "encoder.json", "metrics.csv", "run.json"]
    assert names == [f"{run_id}/{name}" for name in expected]
    assert b"outside the runs folder" not in contents and other.encode() not in contents


def test_an_uploaded_file_name_cannot_leave_the_datasets_folder(tmp_path: Path):
    use_home(pytest.MonkeyPatch(), tmp_path / "home")
    at = open_app("pages/data.py")
    data = make_corpus.csv_text(make_corpus.rows()).encode()
    at.file_uploader(key="data_upload").set_value(("../../../../../tmp/evil.csv", data, "text/csv")).run()
    assert not at.exception
    saved = Path(at.session_state["dataset"]["path"]).resolve()
    assert saved.is_relative_to((tmp_path / "home" / "datasets").resolve())
    assert saved.name == "evil.csv" and saved.read_bytes() == data


def test_no_usage_statistics_leave_the_machine_and_no_traceback_reaches_the_browser():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"
    assert isinstance(config["server"]["maxUploadSize"], int)


def test_the_server_watches_no_source_files():
    # Streamlit's source watcher walks every module in sys.modules on the server's event loop after each script run;
    # with torch imported that held every session's messages for 0.2-0.6 s (benchmarks/bench_app.py).
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["runOnSave"] is False


class Node:
    itself: object = None


def test_the_servers_imports_are_left_out_of_later_garbage_collections(monkeypatch):
    # Streamlit collects garbage after every script run, Train's live-panel polls included; over torch's, sklearn's
    # and plotly's objects that took 50-300 ms with the GIL held, and a watched training took up to 7x as long
    # (benchmarks/bench_watch.py). The server freezes them once, after a collection (so no garbage is kept).
    import gc

    from mtlrec.jobs import freeze_imports

    try:
        monkeypatch.setenv("MTLREC_GC_FREEZE", "0")
        freeze_imports()
        assert gc.get_freeze_count() == 0
        monkeypatch.delenv("MTLREC_GC_FREEZE")
        node = Node()
        node.itself = node  # a cycle nobody holds once `node` is gone: collected first, not kept for good
        cycle = weakref.ref(node)
        del node
        freeze_imports()
        assert gc.get_freeze_count() > 0 and cycle() is None
    finally:
        gc.unfreeze()
    assert "freeze_imports()" in (ROOT / "app.py").read_text(encoding="utf-8")  # at the server's start


# --- faults: a run that cannot go on is saved with what it had ---


def test_an_exploding_loss_saves_a_failed_run_with_its_history_naming_the_task(store, _interactions_once):
    # One batch per epoch: epoch 1 trains and is validated, then the loss explodes at learning rate 10.
    config = tiny_config(lr=10.0, batch_size=4096, epochs=5)
    job = TrainingJob(config, store, _interactions_once, limiter=JobLimiter(1)).start()
    state = job.join(120)
    row = store.get(job.run_id)
    loaded = store.load(job.run_id)
    assert state.status == row["status"] == loaded.metrics["status"] == "failed"
    assert row["message"].startswith("training diverged: the loss of task 'click' became ")
    assert row["message"].endswith(
        " in epoch 2, batch 1; lower the learning rate (now 10) or that task's weight, or check its label values"
    )
    assert loaded.history["epoch"].tolist() == [1]
    assert "click/val_loss" in loaded.history.columns


def test_a_run_too_big_for_the_memory_is_refused_with_what_to_change(store, monkeypatch, _interactions_once):
    monkeypatch.setattr(mtlrec.resources, "available_memory", lambda: 100_000)  # the tiny run needs about 0.5 MB
    with pytest.raises(MtlrecError) as caught:
        run_experiment(tiny_config(), _interactions_once)
    message = caught.value.message
    assert message.startswith("this run needs about ")
    assert message.endswith(
        "but only 97.7 KB of memory is free: turn off the task-conflict diagnostics, choose a smaller size preset, "
        "embedding size or layer widths, a smaller batch, or use fewer rows"
    )
    job = TrainingJob(tiny_config(), store, _interactions_once, limiter=JobLimiter(1)).start()
    assert job.join(60).status == "failed"
    assert store.get(job.run_id)["message"] == message


def test_a_run_that_fits_without_its_diagnostics_is_told_to_turn_them_off():
    # 28 GB, 16 GB of them the diagnostics, against 19 GB free: the message listed every change but that one
    from mtlrec.resources import MemoryEstimate, check_memory

    gb = 1024**3
    estimate = MemoryEstimate(params=1, model_bytes=11 * gb, data_bytes=gb // 2, activation_bytes=gb // 2,
                              diagnostic_bytes=16 * gb)  # fmt: skip
    with pytest.raises(MtlrecError) as caught:
        check_memory(estimate, available=19 * gb)
    assert "free: turn off the task-conflict diagnostics (Train's 'Record task-conflict diagnostics'; CLI: " in (
        caught.value.message
    )
    assert "--no-diagnostics), which take 16.0 GB of it and without which it fits; or choose a smaller" in (
        caught.value.message
    )
    without = MemoryEstimate(params=1, model_bytes=28 * gb, data_bytes=0, activation_bytes=0)
    with pytest.raises(MtlrecError) as caught:
        check_memory(without, available=19 * gb)
    assert "diagnostics" not in caught.value.message


KILLED_SERVER = """
import sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from conftest import make_interactions, tiny_config
from mtlrec.experiment import run_experiment
from mtlrec.jobs import JobLimiter, TrainingJob
from mtlrec.runs import RunStore

store, frame = RunStore({home!r}), make_interactions()
print(store.save(run_experiment(tiny_config(epochs=1), frame), name="finished before"), flush=True)
job = TrainingJob(tiny_config(epochs=10_000, batch_size=512), store, frame, limiter=JobLimiter(1)).start()
def epochs_on_disk():  # history.csv is written after the job's snapshot: wait for the file, not the snapshot
    path = store.folder(job.run_id) / "history.csv" if job.run_id else None
    return path.read_text().count("\\n") - 1 if path is not None and path.is_file() else 0
while epochs_on_disk() < 2:
    time.sleep(0.05)
print(job.run_id, flush=True)
time.sleep(600)
"""


def test_a_server_killed_mid_training_leaves_an_interrupted_run_with_its_history(tmp_path: Path):
    home = tmp_path / "home"
    script = KILLED_SERVER.format(root=str(ROOT), tests=str(ROOT / "tests"), home=str(home))
    server = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, server.kill)  # a server that never gets there must not hang the tests
    watchdog.start()
    try:
        finished, running = server.stdout.readline().strip(), server.stdout.readline().strip()
    finally:
        watchdog.cancel()
        os.kill(server.pid, signal.SIGKILL)  # no chance to clean up, as with a power cut or the OOM killer
        server.wait(30)
    store = RunStore(home)  # the next server start
    rows = {row["id"]: row for row in store.list()}
    assert rows[running]["status"] == "interrupted"
    assert rows[running]["message"] == "the server stopped while this run was training"
    assert not rows[running]["damaged"]
    interrupted = store.load(running)
    assert interrupted.metrics["status"] == "interrupted"
    assert len(interrupted.history) >= 2
    assert rows[finished]["status"] == "finished" and not rows[finished]["damaged"]
    store.load(finished).load_model()  # every finished run is intact


def test_damaged_runs_are_listed_and_no_page_crashes(store, result, tmp_path: Path):
    ids = {name: store.save(result, name=name) for name in ("intact", "cut config", "no metrics", "bad model")}
    folder = store.folder
    (folder(ids["cut config"]) / "config.json").write_text('{"data": {"path": ', encoding="utf-8")
    (folder(ids["no metrics"]) / "metrics.json").unlink()
    (folder(ids["bad model"]) / "model.pt").write_bytes(b"\x00" * 10)
    ids["no folder"] = store.save(result, name="no folder")
    for path in folder(ids["no folder"]).iterdir():
        path.unlink()
    folder(ids["no folder"]).rmdir()
    store._execute("UPDATE runs SET summary='{not json' WHERE id=?", (ids["intact"],))
    rows = {row["name"]: row for row in store.list()}
    assert {name for name, row in rows.items() if row["damaged"]} == {"cut config", "no metrics", "no folder"}
    assert rows["intact"]["summary"] == {}

    use_home(pytest.MonkeyPatch(), store.home)
    at, shown = open_app("pages/runs.py"), {}
    for run in ("intact", "cut config", "no metrics", "bad model", "no folder"):
        at.session_state["results_run_id"] = ids[run]  # as if opened from the Runs page
        for page in ("pages/results.py", "pages/recommend.py"):
            at.switch_page(page).run()
            assert not at.exception, (run, page, at.exception)
        shown[run] = [e.value for e in at.error]
    assert any(f"run '{ids['bad model']}': model.pt is damaged" in error for error in shown["bad model"]), shown


def test_a_deleted_run_is_not_written_again_by_its_job(store, result):
    run_id = store.start(result.config)
    store._execute("UPDATE runs SET pid=NULL WHERE id=?", (run_id,))  # its process seen as gone: deletable
    store.delete(run_id)
    store.record_history(run_id, [{"epoch": 1}])
    store.finish(run_id, result)
    store.close(run_id, "stopped", "stopped")
    assert not store.folder(run_id).exists()
    assert store.list() == []


def test_a_run_training_in_a_live_process_cannot_be_deleted(store, result):
    run_id = store.start(result.config)
    with pytest.raises(MtlrecError, match=rf"run '{run_id}' is training right now: stop it first, then delete it"):
        store.delete(run_id)
    store.finish(run_id, result)
    store.delete(run_id)
    assert store.list() == []


def test_metrics_of_a_failed_run_stay_strict_json(store, result):
    run_id = store.start(result.config)
    store.fail(run_id, "training failed unexpectedly (RuntimeError: boom)")
    metrics = json.loads((store.folder(run_id) / "metrics.json").read_text(encoding="utf-8"))
    assert metrics == {
        "tasks": {},
        "status": "failed",
        "message": "training failed unexpectedly (RuntimeError: boom)",
        "epochs_run": 0,  # the epochs it had: none here
    }
