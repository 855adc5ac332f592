"""The artifact tree never lists the temp files a killed writer left beside a run's artifacts
(``tracker.store.tempfiles``): they are not artifacts, and opening one would show half a file."""
from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QModelIndex

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window
from tracker.store.tempfiles import PART_SUFFIX, is_temp_name

pytestmark = OFFSCREEN_NOISE


def _leftover(folder: Path, name: str, suffix: str = PART_SUFFIX) -> Path:
    """A temp file named as a writer names it (``tracker.artifacts``: mkstemp beside the
    destination), left behind as a killed writer leaves it."""
    fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=folder)
    with open(fd, "wb") as f:
        f.write(b"half a model")
    assert is_temp_name(Path(path).name), path
    return Path(path)


def _listed(view, parent: QModelIndex) -> list[str]:
    model = view.tree.model()
    return sorted(model.index(row, 0, parent).data() for row in range(model.rowCount(parent)))


def test_a_killed_writers_temp_files_are_not_in_the_artifact_tree(qtbot, runs_root):
    run_id = log_run("trained", artifacts={"model.skops": "weights", "plots/loss.csv": "step,loss\n1,0.5\n"})
    artifacts = runs_root / run_id / "artifacts"
    temp = _leftover(artifacts, "model.skops")
    nested = _leftover(artifacts / "plots", "loss.csv")
    document = _leftover(artifacts, "notes.json", ".tmp")
    (artifacts / ".env.example").write_text("A=1")  # a dotfile that is no temp file stays
    (artifacts / "model.part").write_text("a file a person named so")  # as does a plain ".part"
    window = open_window(qtbot, runs_root, 1)
    assert window.select_run(run_id)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.built)
    view = window.details.artifacts
    qtbot.waitUntil(lambda: view.shown_index_of(artifacts / "model.skops").isValid(), timeout=10000)
    qtbot.waitUntil(lambda: view.shown_index_of(artifacts / "plots").isValid())
    qtbot.waitUntil(lambda: view.fs_model.index(str(temp)).isValid())  # listed on disk, hidden in the tree
    on_disk = {p.name for p in artifacts.iterdir()}
    assert {"model.skops", "plots", ".env.example", "model.part", temp.name, document.name} <= on_disk
    # QFileSystemModel lists a folder's entries as its thread finds them: wait for all of them
    qtbot.waitUntil(lambda: _listed(view, view.tree.rootIndex()) == sorted(on_disk - {temp.name, document.name}),
                    timeout=10000)
    plots = view.shown_index_of(artifacts / "plots")
    view.tree.expand(plots)
    qtbot.waitUntil(lambda: view.shown_index_of(artifacts / "plots" / "loss.csv").isValid())
    qtbot.waitUntil(lambda: view.fs_model.index(str(nested)).isValid())
    qtbot.waitUntil(lambda: _listed(view, plots) == ["loss.csv"])
    for path in (temp, nested, document):
        assert not view.select(path)
    assert view.select(artifacts / "model.skops")  # the real file still previews
    qtbot.waitUntil(lambda: view.preview_title.text() == "model.skops")


def test_a_temp_file_that_appears_while_the_run_is_shown_stays_hidden(qtbot, tmp_path):
    from app.details.artifacts import ArtifactsView
    (tmp_path / "model.skops").write_text("weights")
    view = ArtifactsView()
    qtbot.addWidget(view)
    view.set_root(tmp_path)
    qtbot.waitUntil(lambda: view.shown_index_of(tmp_path / "model.skops").isValid())
    temp = _leftover(tmp_path, "checkpoint.pt")  # a writer at work, or killed now
    (tmp_path / "later.txt").write_text("after the temp file")
    qtbot.waitUntil(lambda: view.shown_index_of(tmp_path / "later.txt").isValid(), timeout=10000)
    qtbot.waitUntil(lambda: view.fs_model.index(str(temp)).isValid())
    assert _listed(view, view.tree.rootIndex()) == ["later.txt", "model.skops"]
    temp.rename(tmp_path / "checkpoint.pt")  # the writer finished: the file is an artifact now
    qtbot.waitUntil(lambda: view.shown_index_of(tmp_path / "checkpoint.pt").isValid(), timeout=10000)
    assert _listed(view, view.tree.rootIndex()) == ["checkpoint.pt", "later.txt", "model.skops"]
