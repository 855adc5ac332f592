"""The app opening an MLflow file store again (a new process, or the store opened anew): the
runs table comes from the reader's cache file at once, then only the runs whose files changed
while the app was closed are read again, and every change is shown."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE
from test_app_mlflow_store import active, open_store_window
from test_mlflow_store_maker import session_store
from tracker.mlflow_store import file_cache
from tracker.mlflow_store.file_store import FileStoreReader

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def store(tmp_path, tmp_path_factory, monkeypatch):
    path, expected = session_store("file", tmp_path_factory)
    copy = tmp_path / "mlruns"
    shutil.copytree(path, copy, symlinks=True)
    monkeypatch.setattr(file_cache, "RACY_NS", 0)  # the copy was written just now: take its stat as settled
    return copy, expected


def _run_dir(root: Path, run_id: str) -> Path:
    return next(p for p in root.glob(f"*/{run_id}") if p.is_dir())


def test_a_store_opened_again_reads_only_what_changed_while_the_app_was_closed(qtbot, store, monkeypatch):
    from app.runs import access as run_access
    root, expected = store
    ids = {r["run_name"]: r["run_id"] for r in expected["runs"]}
    runs = active(expected)
    first = open_store_window(qtbot, root, len(runs))
    qtbot.waitUntil(file_cache.cache_path(root).is_file)  # written once the table was handed over
    first.close()
    run_access.forget(root)  # as a new process: a new reader, with only the cache file to go on

    with open(_run_dir(root, ids["parent"]) / "metrics" / "loss", "ab") as f:
        f.write(b"1796000000000 -3.0 99\n")
    (_run_dir(root, ids["child-0"]) / "params" / "fold").write_text("7")
    shutil.rmtree(_run_dir(root, ids["crashed"]))
    new_id = "e" * 32
    shutil.copytree(_run_dir(root, ids["child-1"]), _run_dir(root, ids["child-1"]).parent / new_id)
    meta = _run_dir(root, new_id) / "meta.yaml"
    meta.write_text(meta.read_text().replace(ids["child-1"], new_id).replace("run_name: child-1", "run_name: copy"))

    listed: list[str] = []
    read_run = FileStoreReader._read_run

    def counting(self, exp, name, path, known=None, **kwargs):
        if "listed" in kwargs:  # read by a listing (get_run reads without the listed files)
            listed.append(name)
        return read_run(self, exp, name, path, known, **kwargs)

    monkeypatch.setattr(FileStoreReader, "_read_run", counting)
    window = open_store_window(qtbot, root, len(runs))  # shown as the last open left it, then checked
    qtbot.waitUntil(lambda: window.runs_model.table().position(new_id) is not None, timeout=15000)
    assert sorted(listed) == sorted([ids["parent"], ids["child-0"], new_id])
    table = window.runs_model.table()
    assert table.position(ids["crashed"]) is None and table.position(new_id) is not None
    assert table.params["fold"].get(table.position(ids["child-0"])) == "7"
    loss = table.metrics["loss"]
    assert loss["count"][table.position(ids["parent"])] == 8
    run = window.runs_model.get(ids["parent"])  # made when asked for, from the store
    assert run.data.summaries["loss"].count == 8 and run.path == str(_run_dir(root, ids["parent"]))
    assert run_access.read_run(run.path).info.run_id == ids["parent"]  # its reads go to the MLflow reader
