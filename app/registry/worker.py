"""A worker thread for the registry panel: run plain functions off the GUI thread, results by signal.

    runner = TaskRunner("registry-reads", owner)  # stopped when owner is destroyed, or at exit
    runner.submit(jobs.load_state, root, "fraud", on_done=self._on_state, on_error=self._on_error)
    runner.stop()  # joins the thread (tests, closing the window)

Jobs run one at a time, in order, on one ``QThread``. Callbacks run in the GUI thread (the
worker's signals are queued into the thread the runner lives in). A job asked for with
``on_progress`` gets a ``progress(done, total)`` keyword argument to call from its thread.
"""
from __future__ import annotations

import atexit
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from app.registry import jobs

log = logging.getLogger(__name__)


@dataclass
class _Job:
    id: int
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    progress: bool


_live: "weakref.WeakSet[TaskRunner]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """A script that never called stop(): join the threads before Python tears Qt down."""
    for runner in list(_live):
        try:
            runner.stop()
        except RuntimeError:  # its C++ side is already gone
            pass


def _quit_current_thread() -> None:
    QThread.currentThread().quit()


class _Worker(QObject):
    done = Signal(int, object, object)  # job id, result, exception (None on success)
    progress = Signal(int, int, int)  # job id, done, total

    @Slot(object)
    def run(self, job: _Job) -> None:
        kwargs = dict(job.kwargs)
        if job.progress:
            kwargs["progress"] = lambda done, total: self.progress.emit(job.id, int(done), int(total))
        try:
            result, error = job.fn(*job.args, **kwargs), None
        except Exception as e:  # noqa: BLE001 - handed to the caller's on_error
            result, error = None, e
        self.done.emit(job.id, result, error)

    @Slot()
    def close(self) -> None:
        """Runs in the worker thread as it finishes: close that thread's database connections."""
        jobs.close_connections()


class TaskRunner(QObject):
    """One worker thread; ``submit`` queues a call, ``stop`` joins the thread (idempotent)."""

    _queue = Signal(object)

    def __init__(self, name: str, owner: QObject | None = None) -> None:
        # No Qt parent: were the owner deleted without stop(), Qt would destroy a running QThread
        # (a fatal error). Instead the owner's destruction and the application's exit stop it.
        super().__init__()
        self._pending: dict[int, tuple[Callable | None, Callable | None, Callable | None]] = {}
        self._next = 0
        self._thread = QThread(self)
        self._thread.setObjectName(name)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._queue.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.progress.connect(self._on_progress)
        self._thread.finished.connect(self._worker.close, Qt.ConnectionType.DirectConnection)
        self._thread.start()
        if owner is not None:
            owner.destroyed.connect(self.stop)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        _live.add(self)

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None,
               on_progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> int:
        """Queue ``fn(*args, **kwargs)``; return its id (-1 once stopped)."""
        if not self._thread.isRunning():
            return -1
        self._next += 1
        self._pending[self._next] = (on_done, on_error, on_progress)
        self._queue.emit(_Job(self._next, fn, args, kwargs, on_progress is not None))
        return self._next

    def busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, job_id: int) -> bool:
        return job_id in self._pending

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @Slot()
    def stop(self) -> None:
        """Run the jobs already queued (a stage change the user just made still happens), then
        join the thread. Their callbacks are dropped."""
        self._pending.clear()
        if self._thread.isRunning():
            self._queue.emit(_Job(0, _quit_current_thread, (), {}, False))  # after every queued job
            self._thread.wait()

    @Slot(int, object, object)
    def _on_done(self, job_id: int, result: object, error: object) -> None:
        callbacks = self._pending.pop(job_id, None)
        if callbacks is None:
            return  # stopped meanwhile, or forgotten
        on_done, on_error, _ = callbacks
        if error is None:
            if on_done is not None:
                on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            log.warning("registry job failed: %s", error, exc_info=error)

    @Slot(int, int, int)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        callbacks = self._pending.get(job_id)
        if callbacks is not None and callbacks[2] is not None:
            callbacks[2](done, total)
