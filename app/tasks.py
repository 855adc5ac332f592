"""Slow jobs the window starts and forgets: writing demo runs, off the GUI thread."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot


class _DemoWorker(QObject):
    progress = Signal(int, int)
    finished = Signal(str)  # an error message, or "" when the runs were written

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    @Slot()
    def run(self) -> None:
        try:
            from tracker.demo import write_demo_runs
            write_demo_runs(self.root, progress=self.progress.emit)
        except Exception as e:  # reported in the status bar; the app goes on
            self.finished.emit(f"Could not create demo runs: {e}")
        else:
            self.finished.emit("")


class DemoRunsTask(QObject):
    """``start(root)`` writes ``tracker.demo``'s runs into ``root`` in a worker thread.

    Emits ``progress(done, total)`` and then ``finished(root, error)`` (error "" on success).
    """

    progress = Signal(int, int)
    finished = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _DemoWorker | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, root: Path) -> bool:
        if self._thread is not None:
            return False
        self._thread, self._worker = QThread(self), _DemoWorker(root)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.finished.connect(self._on_finished)
        self._thread.start()
        return True

    @Slot(str)
    def _on_finished(self, error: str) -> None:
        root = self._worker.root
        self.wait()
        self.finished.emit(root, error)

    def wait(self) -> None:
        """Join the worker (at exit); safe to call when nothing runs."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = self._worker = None
