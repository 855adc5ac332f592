"""The app's one way to run work off the GUI thread: ``Worker``, a thread running queued jobs.

    worker = Worker("registry-reads", owner)  # stopped when owner is destroyed, and at exit
    job = worker.submit(fn, arg, on_done=..., on_error=..., on_progress=..., key=value)
    worker.cancel(job)  # not started yet: skipped; running: its result is ignored
    worker.host(obj)    # a long-lived QObject (timers, slots) that lives on the thread
    worker.stop()       # run what is queued (stop(drain=False): drop it), join the thread

Jobs run in the order they were submitted, one at a time (``threads=2``: two threads take
from the same queue). Callbacks run on the GUI thread: the thread's signals are queued to
the worker, which lives there. A job submitted with ``on_progress`` is passed a
``progress(done, total)`` keyword argument to call from its thread. Threads start on the
first job, so a worker nobody uses costs nothing.

A job runs inside a slot of the thread's event loop, one job per pass, so a hosted object's
timers and queued slots run between jobs; a QTimer a hosted object makes on the thread fires there.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    id: int
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Exception], None] | None
    on_progress: Callable[[int, int], None] | None
    cancelled: bool = False  # set on the GUI thread, read on the worker's before it starts


class _Queue:
    """The jobs not started yet, shared by the worker's threads."""

    def __init__(self) -> None:
        self._jobs: deque[_Job] = deque()
        self._lock = threading.Lock()

    def put(self, job: _Job) -> None:
        with self._lock:
            self._jobs.append(job)

    def take(self) -> _Job | None:
        with self._lock:
            while self._jobs:
                job = self._jobs.popleft()
                if not job.cancelled:
                    return job
        return None

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()


class _Runner(QObject):
    """Lives on one of the worker's threads and runs jobs there."""

    done = Signal(int, object, object)  # job id, result, exception (None on success)
    progress = Signal(int, object, object)  # job id, done, total (object: byte counts pass 2 GiB)

    def __init__(self, queue: _Queue, finish: Callable[[], None] | None) -> None:
        super().__init__()
        self._queue = queue
        self._finish = finish

    @Slot()
    def run_one(self) -> None:
        """One wake-up per submitted job: take the next one, if another thread has not."""
        job = self._queue.take()
        if job is not None:
            self._run(job)

    def _run(self, job: _Job) -> None:
        kwargs = job.kwargs
        if job.on_progress is not None:
            job_id = job.id
            kwargs = {**kwargs, "progress": lambda done, total: self.progress.emit(job_id, int(done), int(total))}
        try:
            result, error = job.fn(*job.args, **kwargs), None
        except Exception as e:  # noqa: BLE001 - handed to the job's on_error on the GUI thread
            result, error = None, e
        self.done.emit(job.id, result, error)

    @Slot(bool)
    def finish(self, drain: bool) -> None:
        """Queued after every wake-up: run what is left (when draining), then end the thread."""
        while drain and (job := self._queue.take()) is not None:
            self._run(job)
        if self._finish is not None:
            try:
                self._finish()
            except Exception:
                log.warning("cleaning up a worker thread failed", exc_info=True)
        QThread.currentThread().quit()


_running: set["Worker"] = set()  # held here while their threads run: never collected mid-job


@atexit.register
def _stop_all() -> None:
    """A worker never stopped (a script, a test): join its threads before Python tears Qt down
    (a QThread destroyed while it runs aborts the process)."""
    for worker in list(_running):
        try:
            worker.stop(drain=False)
        except RuntimeError:  # its C++ side is already gone
            _running.discard(worker)


class Worker(QObject):
    """Runs jobs on its own thread(s), in order, and calls back on the thread that made it.

    ``finish`` runs on each thread as it ends (e.g. closing that thread's database connections).
    """

    _wake = Signal()
    _finish = Signal(bool)

    def __init__(self, name: str, owner: QObject | None = None, *, threads: int = 1,
                 finish: Callable[[], None] | None = None) -> None:
        # No Qt parent: were the owner deleted first, Qt would destroy a running QThread (a fatal
        # error). The owner's destruction, the application's exit and atexit stop it instead.
        super().__init__()
        self.setObjectName(name)
        self._thread_count = max(1, threads)
        self._finish_fn = finish
        self._threads: list[QThread] = []
        self._runners: list[_Runner] = []
        self._hosted: list[QObject] = []
        self._queue = _Queue()
        self._pending: dict[int, _Job] = {}
        self._ids = itertools.count(1)
        self._stopped = False
        if owner is not None:
            owner.destroyed.connect(self._on_gone)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_gone)

    # -- submitting --------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None,
               on_progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> int:
        """Queue ``fn(*args, **kwargs)``; return its id (-1 once stopped: nothing runs).

        Without ``on_error`` a failure is logged as a warning."""
        if self._stopped:
            return -1
        self._start()
        job = _Job(next(self._ids), fn, args, kwargs, on_done, on_error, on_progress)
        self._pending[job.id] = job
        self._queue.put(job)
        self._wake.emit()
        return job.id

    def cancel(self, job_id: int) -> None:
        """Forget a job: skipped if it has not started, its callbacks never run either way."""
        job = self._pending.pop(job_id, None)
        if job is not None:
            job.cancelled = True

    def host(self, obj: QObject) -> None:
        """Move ``obj`` (no parent) to the worker's thread for good: its slots, connected to signals
        from here, and its timers run there. It is deleted on that thread when the worker stops."""
        if self._stopped:
            raise RuntimeError(f"worker {self.objectName()!r} is stopped")
        self._start()
        thread = self._threads[0]
        obj.moveToThread(thread)
        thread.finished.connect(obj.deleteLater, Qt.ConnectionType.DirectConnection)
        self._hosted.append(obj)

    # -- state -------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Jobs whose callbacks have not run yet."""
        return len(self._pending)

    def busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, job_id: int) -> bool:
        return job_id in self._pending

    def is_running(self) -> bool:
        """Whether it still takes jobs (False once stopped)."""
        return not self._stopped

    # -- stopping ----------------------------------------------------------------------------
    def stop(self, drain: bool = True) -> None:
        """Run the jobs already queued (a change the user just made still happens; with
        ``drain=False`` they are dropped), then join the threads. No callback runs after this.
        Idempotent; call it from the GUI thread, never from a job."""
        if self._stopped:
            return
        self._stopped = True
        self._pending.clear()
        if not drain:
            self._queue.clear()
        if self._threads:
            self._finish.emit(drain)  # queued behind every wake-up already sent
            for thread in self._threads:
                thread.wait()
        self._hosted.clear()
        _running.discard(self)

    # -- internals ---------------------------------------------------------------------------
    @Slot()
    def _on_gone(self) -> None:
        """The owner was destroyed, or the application is quitting."""
        self.stop()

    def _start(self) -> None:
        if self._threads:
            return
        name = self.objectName()
        for i in range(self._thread_count):
            thread = QThread(self)
            thread.setObjectName(name if self._thread_count == 1 else f"{name}-{i + 1}")
            runner = _Runner(self._queue, self._finish_fn)
            runner.moveToThread(thread)
            self._wake.connect(runner.run_one)
            self._finish.connect(runner.finish)
            runner.done.connect(self._on_done)
            runner.progress.connect(self._on_progress)
            self._threads.append(thread)
            self._runners.append(runner)
        _running.add(self)
        for thread in self._threads:
            thread.start()

    @Slot(int, object, object)
    def _on_done(self, job_id: int, result: object, error: object) -> None:
        job = self._pending.pop(job_id, None)
        if job is None:
            return  # cancelled, or the worker stopped meanwhile
        if error is None:
            if job.on_done is not None:
                job.on_done(result)
        elif job.on_error is not None:
            job.on_error(error)
        else:
            log.warning("background job %s failed: %s", getattr(job.fn, "__name__", job.fn), error,
                        exc_info=error)

    @Slot(int, object, object)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        job = self._pending.get(job_id)
        if job is not None and job.on_progress is not None:
            job.on_progress(done, total)
