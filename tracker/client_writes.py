"""Which writer a ``Client`` write goes through: the run's open writer in this process (the
fluent API's active run, or one ``Client.create_run`` opened), else the run is resumed for
the one write and released with its status and end time as they were.

A run has one writer at a time (``store.runlock``): a second writer in the same process would
wait on the first's lock, so writes to an open run must reuse its writer.
"""
from __future__ import annotations

import atexit
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from . import store
from .entities import RunStatus
from .exceptions import RunNotFoundError

if TYPE_CHECKING:
    from .writer import RunWriter

_open: dict[tuple[Path, str], "RunWriter"] = {}  # writers Client.create_run opened, until set_terminated
_lock = threading.Lock()


def open_writer(root: Path, run_id: str) -> "RunWriter | None":
    """The writer this process has open on ``run_id`` under ``root``, if any."""
    fluent = sys.modules.get("tracker.fluent")
    if fluent is not None:
        for writer in list(fluent._stack):
            if writer.run_id == run_id and not writer.closed and writer.path.parent == root:
                return writer
    with _lock:
        writer = _open.get((root, run_id))
        if writer is not None and writer.closed:
            del _open[(root, run_id)]
            writer = None
    return writer


def keep_open(root: Path, writer: "RunWriter") -> None:
    """Keep ``writer`` (a run ``Client.create_run`` started) open until ``close``; flushed in the background,
    and ended when the process exits (as the fluent API's runs are) if ``set_terminated`` never was."""
    global _exit_hook
    with _lock:
        _open[(root, writer.run_id)] = writer
        if not _exit_hook:
            _exit_hook = True
            atexit.register(_end_all_at_exit)
    from .writer import FLUSHER  # (the writer is imported only by code that writes)
    FLUSHER.add(writer)


_exit_hook = False


def _end_all_at_exit() -> None:
    fluent = sys.modules.get("tracker.fluent")
    failed = getattr(fluent, "_uncaught", None)
    from .writer import FLUSHER
    with _lock:
        writers = list(_open.values())
        _open.clear()
    for writer in writers:
        FLUSHER.remove(writer)
        try:
            writer.end(RunStatus.FAILED if failed else RunStatus.FINISHED, failed)
        except Exception as e:  # noqa: BLE001 - report, never raise at exit
            print(f"tracker: {e}", file=sys.stderr)


def close(root: Path, run_id: str, status: str, end_time: int | None) -> bool:
    """End the writer ``keep_open`` holds for ``run_id``; False when there is none."""
    with _lock:
        writer = _open.pop((root, run_id), None)
    if writer is None:
        return False
    from .writer import FLUSHER
    FLUSHER.remove(writer)
    writer.end(status, end_time=end_time)
    return True


@contextmanager
def writing(root: Path, run_id: str) -> Iterator["RunWriter"]:
    """A writer for one write to ``run_id``: the open one, or the run resumed and released after."""
    writer = open_writer(root, run_id)
    if writer is not None:
        yield writer
        return
    if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
        raise RunNotFoundError(run_id)
    path = store.run_dir(root, run_id)
    if not path.is_dir():
        from .client_runs import not_active
        from .store.trash import is_trashed
        raise not_active(run_id) if is_trashed(root, run_id) else RunNotFoundError(run_id)
    from .writer import RunWriter
    before = store.read_run(path)
    writer = RunWriter.resume(root, run_id)
    status = getattr(getattr(before, "info", None), "status", RunStatus.KILLED)
    end_time = getattr(getattr(before, "info", None), "end_time", None)
    error = getattr(getattr(before, "info", None), "error", None)
    try:
        yield writer
    finally:  # released as it was: a write does not make a finished run RUNNING
        writer.end(status if status != RunStatus.RUNNING else RunStatus.KILLED, error, end_time=end_time)
        store.layout.note_edit(root)
