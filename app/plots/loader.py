"""Off the GUI thread: a small private thread pool whose results come back by signal.

``Worker.submit(fn, callback)`` runs ``fn()`` on a pool thread; ``callback(result,
error)`` then runs on the GUI thread, delivered through a queued signal of a QObject
that lives in the GUI thread (the only way results cross threads here).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Emitter(QObject):
    done = Signal(int, object, object)  # job id, result, error


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], emitter: _Emitter) -> None:
        super().__init__()
        self.job_id = job_id
        self.fn = fn
        self.emitter = emitter
        self.setAutoDelete(True)

    def run(self) -> None:
        result = error = None
        try:
            result = self.fn()
        except Exception as e:  # delivered to the callback, never lost on a thread
            error = e
        try:
            self.emitter.done.emit(self.job_id, result, error)
        except RuntimeError:
            pass  # the worker was deleted while this job ran


class Worker(QObject):
    """Runs functions on its own pool (two threads) and calls back on the GUI thread."""

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._emitter = _Emitter(self)
        self._emitter.done.connect(self._on_done)
        self._callbacks: dict[int, Callable[[Any, Exception | None], None]] = {}
        self._ids = itertools.count(1)
        self._closed = False

    def submit(self, fn: Callable[[], Any], callback: Callable[[Any, Exception | None], None]) -> int:
        if self._closed:
            return 0
        job_id = next(self._ids)
        self._callbacks[job_id] = callback
        self._pool.start(_Job(job_id, fn, self._emitter))
        return job_id

    @property
    def pending(self) -> int:
        """Jobs submitted whose callback has not run yet."""
        return len(self._callbacks)

    @Slot(int, object, object)
    def _on_done(self, job_id: int, result: Any, error: Exception | None) -> None:
        callback = self._callbacks.pop(job_id, None)
        if callback is not None and not self._closed:
            callback(result, error)

    def shutdown(self) -> None:
        """Drop queued jobs, wait for running ones; later results are ignored."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone()
        self._callbacks.clear()
