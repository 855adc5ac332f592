"""A FIFO (or other non-regular file) in a runs directory is reported, never opened in a way that blocks."""
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import tracker
from tracker import Client, store
from tracker.entities import UnreadableRun
from tracker.index import INDEX_NAME, RunIndex, user_cache_path
from tracker.store.regular import NotRegularFile, open_regular

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")

DEADLINE_S = 10.0  # generous: the code under test never waits on the FIFO at all


class FifoGuard:
    """Make a FIFO at ``path``; if the test still runs after the deadline, open the FIFO's
    other end (again and again until the test ends) so a reader stuck on it is released
    and the test fails instead of hanging the suite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fired = False
        self._done = threading.Event()
        os.mkfifo(path)

    def __enter__(self) -> "FifoGuard":
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        wait = DEADLINE_S
        while not self._done.wait(wait):
            self.fired = True
            try:  # O_RDWR never blocks on Linux; opening and closing releases a blocked open() and read()
                os.close(os.open(self.path, os.O_RDWR | os.O_NONBLOCK))
            except OSError:
                pass
            wait = 0.2


def a_run() -> str:
    with tracker.start_run(run_name="fine") as run:
        tracker.log_metric("loss", 1.0)
    return run.info.run_id


def test_a_fifo_as_run_json_is_listed_as_unreadable_with_the_reason(tracking_dir):
    good = a_run()
    folder = tracking_dir / ("f" * 32)
    folder.mkdir()
    with FifoGuard(folder / "run.json") as guard:
        runs, bad = store.read_all_runs(tracking_dir)
        result = RunIndex(tracking_dir).refresh()
        with pytest.raises(ValueError, match="not a regular file"):
            Client().get_run("f" * 32)
    assert not guard.fired, "a reader waited on the FIFO"
    assert [r.info.run_id for r in runs] == [good]
    assert [u.run_id for u in bad] == ["f" * 32]
    assert "run.json is not a regular file" in bad[0].reason
    assert [r.info.run_id for r in result.runs] == [good]
    assert isinstance(result.unreadable[0], UnreadableRun)
    assert "run.json is not a regular file" in result.unreadable[0].reason


def test_a_fifo_as_a_metric_file_or_experiment_file_never_blocks(tracking_dir):
    run_id = a_run()
    path = store.metric_path(Client().get_run(run_id).path, "acc")
    (tracking_dir / "experiments").mkdir(exist_ok=True)
    with FifoGuard(path) as guard, FifoGuard(tracking_dir / "experiments" / "x.json") as guard2:
        with pytest.raises(NotRegularFile, match="not a regular file"):
            Client().metric_series(run_id, "acc")
        with pytest.raises(NotRegularFile):
            store.open_for_append(path)  # a writer resuming the run does not wait either
        names = [e.name for e in store.read_experiments(tracking_dir)]
    assert not guard.fired and not guard2.fired
    assert names == ["Default"]
    assert np.array_equal(Client().metric_series(run_id, "loss").values, [1.0])


def test_a_fifo_where_the_index_file_goes_is_passed_over(tracking_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run_id = a_run()
    with FifoGuard(tracking_dir / INDEX_NAME) as guard:
        result = RunIndex(tracking_dir).refresh()
    assert not guard.fired
    assert [r.info.run_id for r in result.runs] == [run_id]
    assert result.path == user_cache_path(tracking_dir)


def test_open_regular_refuses_fifos_and_directories(tmp_path):
    with FifoGuard(tmp_path / "pipe") as guard:
        with pytest.raises(NotRegularFile, match="pipe is not a regular file"):
            open_regular(tmp_path / "pipe")
    assert not guard.fired
    with pytest.raises(NotRegularFile, match="directory"):
        open_regular(tmp_path)
    (tmp_path / "f").write_bytes(b"ok")
    with open_regular(tmp_path / "f") as f:
        assert f.read() == b"ok"


def test_a_fifo_artifact_gets_a_message_not_a_preview(tmp_path):
    from app.details.preview import load_preview

    with FifoGuard(tmp_path / "stream.txt") as guard, FifoGuard(tmp_path / "live.png") as guard2:
        text = load_preview(tmp_path / "stream.txt")
        image = load_preview(tmp_path / "live.png")
    assert not guard.fired and not guard2.fired
    assert text.kind == image.kind == "message"
    assert "stream.txt is a named pipe (FIFO), not a regular file" in text.text


def test_selecting_a_fifo_in_the_artifacts_tree_shows_a_message(qtbot, tmp_path):
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    from app.details.artifacts import ArtifactsView

    image = QImage(3, 2, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    (tmp_path / "plot.png").write_bytes(bytes(data))
    view = ArtifactsView()
    qtbot.addWidget(view)
    with FifoGuard(tmp_path / "fifo.png") as guard:
        view.set_root(tmp_path)
        qtbot.waitUntil(lambda: view.index_of(tmp_path / "fifo.png").isValid())
        assert view.select(tmp_path / "fifo.png")
        qtbot.waitUntil(lambda: "not a regular file" in view.message.text())
    assert not guard.fired, "the GUI thread waited on the FIFO"
    assert view.current_preview_kind() == "message"
    view.select(tmp_path / "plot.png")  # a real image still shows, decoded from the bytes read
    qtbot.waitUntil(lambda: view.current_preview_kind() == "image")
    assert view.image_view.pixmap().width() == 3
    (tmp_path / "photo.jpg").write_bytes(bytes(data))  # a PNG by another name: its content decides
    view.clear_preview()
    qtbot.waitUntil(lambda: view.index_of(tmp_path / "photo.jpg").isValid())
    view.select(tmp_path / "photo.jpg")
    qtbot.waitUntil(lambda: view.current_preview_kind() == "image")
    assert view.image_view.pixmap().height() == 2
