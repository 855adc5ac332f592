"""``RunEditor``: the app's edits of runs, all through ``tracker.Client`` (the library's API).

Renaming is one small document write, done at once. Moving runs to the trash and restoring them
move folders, one run at a time, so they run on a worker thread and report back. A deletion is
all or nothing: when one run cannot go (another process is writing it, or this one is), the runs
already moved are brought back and the library's message is given, so the table never shows half
of what was asked. After every edit the runs are re-read at once, here and in every other window
of this process showing the directory (``RunsSource.reread``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

import tracker
from tracker.exceptions import MlflowException
from tracker.store.runlock import RunLockedError

from app.common.worker import Worker

# What the library raises for a run that cannot be changed now (its message says why).
EDIT_ERRORS = (MlflowException, RunLockedError, OSError, ValueError, TypeError)


@dataclass
class TrashResult:
    """What a move to (or out of) the trash did: the runs moved, or the error that undid it."""

    run_ids: list[str] = field(default_factory=list)
    error: str = ""


def error_text(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text[:1].upper() + text[1:]


def delete_runs(root: Path, run_ids: list[str]) -> TrashResult:
    """Move ``run_ids`` to the trash, or none of them (on a worker thread)."""
    client = tracker.Client(root)
    done: list[str] = []
    for run_id in run_ids:
        try:
            client.delete_run(run_id)
        except EDIT_ERRORS as e:
            for back in reversed(done):
                try:
                    client.restore_run(back)
                except EDIT_ERRORS:
                    pass  # (the run stays in the trash; the Deleted view lists it)
            return TrashResult([], error_text(e))
        done.append(run_id)
    return TrashResult(done)


def restore_runs(root: Path, run_ids: list[str]) -> TrashResult:
    """Bring ``run_ids`` back from the trash; stops at the first that cannot come back."""
    client = tracker.Client(root)
    done: list[str] = []
    for run_id in run_ids:
        try:
            client.restore_run(run_id)
        except EDIT_ERRORS as e:
            return TrashResult(done, error_text(e))
        done.append(run_id)
    return TrashResult(done)


class RunEditor(QObject):
    """Edits runs of the directory ``root()`` names; ``edited(run_ids)`` after each change,
    ``deleted(TrashResult)`` and ``restored(TrashResult)`` when a move ends, ``failed(message)``."""

    edited = Signal(list)
    deleted = Signal(object)
    restored = Signal(object)
    failed = Signal(str)

    def __init__(self, root: Callable[[], Path | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = root
        self._worker = Worker("run-edits", self)
        self._busy = 0  # moves submitted and not yet reported

    def is_busy(self) -> bool:
        return self._busy > 0

    def rename(self, run_id: str, name: str) -> bool:
        """Rename the run (``Client.update_run``); False, with ``failed``, when the library refuses."""
        root = self._root()
        name = name.strip()
        if root is None or not name:
            return False
        try:
            tracker.Client(root).update_run(run_id, name=name)
        except EDIT_ERRORS as e:
            self.failed.emit(error_text(e))
            return False
        self.edited.emit([run_id])
        return True

    @Slot(list)
    def delete(self, run_ids: list[str]) -> None:
        self._move(delete_runs, run_ids, self.deleted)

    @Slot(list)
    def restore(self, run_ids: list[str]) -> None:
        self._move(restore_runs, run_ids, self.restored)

    def _move(self, fn: Callable[[Path, list[str]], TrashResult], run_ids: list[str], done: Signal) -> None:
        root = self._root()
        if root is None or not run_ids:
            return
        self._busy += 1

        def finished(result: TrashResult) -> None:
            self._busy -= 1
            if result.run_ids:
                self.edited.emit(list(result.run_ids))
            if result.error:
                self.failed.emit(result.error)
            done.emit(result)

        def crashed(error: Exception) -> None:
            self._busy -= 1
            self.edited.emit(list(run_ids))  # whatever moved is shown as it is
            self.failed.emit(error_text(error))

        self._worker.submit(fn, root, list(run_ids), on_done=finished, on_error=crashed)
