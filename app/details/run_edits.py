"""Edits of the shown run (tags, description) through the library, off the GUI thread.

Each edit is ``tracker.Client(<the run's folder's parent>).set_tag/delete_tag``: a read-modify-write
of ``run.json`` under the run's lock, which may wait for the run's writer. The change comes back
like any other (the runs directory is watched), so views update from the file, not from here.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

import tracker
from tracker.entities import Run, UnreadableRun

from app.common.worker import Worker
from app.runs import access as run_access

NOTE_TAG = "mlflow.note.content"  # MLflow's description tag


def editable(run: Run | UnreadableRun | None) -> bool:
    """A run of a tracker directory (an MLflow store opens read-only)."""
    if not isinstance(run, Run):
        return False
    folder = Path(run.path)
    return not run_access.is_read_only(folder.parent) and (folder / "run.json").is_file()


def _set_tag(root: str, run_id: str, key: str, value: str) -> None:
    tracker.Client(root).set_tag(run_id, key, value)


def _delete_tag(root: str, run_id: str, key: str) -> None:
    tracker.Client(root).delete_tag(run_id, key)


class RunEdits(QObject):
    """``set_tag(run, key, value)``, ``delete_tag(run, key)``; ``done(what)`` and ``edited([run_id])``,
    or ``failed(message)``. ``edited`` is for the runs source: a finished run's folder is not watched,
    so the window asks for the edited run to be read again at once."""

    done = Signal(str)
    edited = Signal(list)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: Worker | None = None

    def set_tag(self, run: Run, key: str, value: str) -> None:
        self._submit(_set_tag, run, key, value, what=f"Set {key}")

    def delete_tag(self, run: Run, key: str) -> None:
        self._submit(_delete_tag, run, key, what=f"Removed {key}")

    def busy(self) -> bool:
        return self._worker is not None and self._worker.busy()

    def _submit(self, fn, run: Run, *args: str, what: str) -> None:
        if self._worker is None:
            self._worker = Worker("run-edits", self)
        root, run_id = str(Path(run.path).parent), run.info.run_id
        self._worker.submit(fn, root, run_id, *args, on_done=lambda _: self._on_done(run_id, what),
                            on_error=lambda e: self.failed.emit(f"{what}: failed ({e})"))

    def _on_done(self, run_id: str, what: str) -> None:
        self.done.emit(what)
        self.edited.emit([run_id])
