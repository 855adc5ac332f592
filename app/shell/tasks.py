"""Slow jobs the window starts and forgets: writing demo runs, off the GUI thread."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.common.worker import Worker


def _write_demo_runs(root: Path, progress) -> None:
    from tracker.demo import write_demo_runs  # (imported when used: start-up is measured)
    write_demo_runs(root, progress=progress)


class DemoRunsTask(QObject):
    """``start(root)`` writes ``tracker.demo``'s runs into ``root`` on a worker thread.

    Emits ``progress(done, total)`` and then ``finished(root, error)`` (error "" on success).
    """

    progress = Signal(int, int)
    finished = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: Worker | None = None  # made on the first start: most sessions never need it
        self._job = -1

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.is_pending(self._job)

    def start(self, root: Path) -> bool:
        """Start writing; False (nothing started) while a previous start is still writing."""
        if self.is_running():
            return False
        if self._worker is None:
            self._worker = Worker("demo-runs", self)
        self._job = self._worker.submit(
            _write_demo_runs, root, on_progress=self.progress.emit,
            on_done=lambda _: self.finished.emit(root, ""),
            on_error=lambda e: self.finished.emit(root, f"Could not create demo runs: {e}"))
        return True

    def wait(self) -> None:
        """Let a write in progress finish and join the thread (at exit); safe when nothing runs."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
