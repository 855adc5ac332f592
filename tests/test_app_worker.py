"""app.common.worker: jobs run off the GUI thread, in order; results, errors and progress come
back on the GUI thread; cancelled jobs and stopped workers call nobody back; threads are joined."""
import logging
import threading

import pytest
from PySide6.QtCore import QObject, QThread, QTimer, Slot

from app.common.worker import Worker


@pytest.fixture
def worker(qapp):
    worker = Worker("test-worker")
    yield worker
    worker.stop(drain=False)


def test_results_come_back_on_the_gui_thread_in_order(qtbot, worker):
    gui = threading.get_ident()
    ran_on, results, delivered_on = [], [], []

    def job(n):
        ran_on.append(threading.get_ident())
        return n * n

    def done(value):
        delivered_on.append(threading.get_ident())
        results.append(value)

    ids = [worker.submit(job, n, on_done=done) for n in range(5)]
    assert len(set(ids)) == 5 and worker.busy()
    qtbot.waitUntil(lambda: len(results) == 5)
    assert results == [0, 1, 4, 9, 16]  # in the order submitted
    assert gui not in ran_on and len(set(ran_on)) == 1  # one thread, not this one
    assert set(delivered_on) == {gui}
    assert not worker.busy() and worker.pending == 0


def test_errors_go_to_on_error_or_to_the_log(qtbot, worker, caplog):
    errors = []
    worker.submit(lambda: 1 / 0, on_done=lambda _: errors.append("no error?"), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)
    with caplog.at_level(logging.WARNING, logger="app.common.worker"):
        job = worker.submit(lambda: {}["missing"])
        qtbot.waitUntil(lambda: not worker.is_pending(job))
    assert "failed" in caplog.text and "KeyError" in caplog.text


def test_progress_is_reported_on_the_gui_thread(qtbot, worker):
    gui = threading.get_ident()
    seen, done = [], []

    def count(total, progress):
        for i in range(1, total + 1):
            progress(i, total)
        return total

    worker.submit(count, 3, on_progress=lambda d, t: seen.append((d, t, threading.get_ident() == gui)),
                  on_done=done.append)
    qtbot.waitUntil(lambda: done == [3])
    assert seen == [(1, 3, True), (2, 3, True), (3, 3, True)]  # all delivered before the result


def test_progress_counts_past_two_gib(qtbot, worker):
    """Registering a model of several GB reports byte counts that do not fit a 32-bit int."""
    seen, done = [], []
    big = 5 * 1024**3

    def copy(progress):
        progress(big // 2, big)
        progress(big, big)

    worker.submit(copy, on_progress=lambda d, t: seen.append((d, t)), on_done=done.append)
    qtbot.waitUntil(lambda: done == [None])
    assert seen == [(big // 2, big), (big, big)]


def test_a_cancelled_job_never_runs_nor_calls_back(qtbot, worker):
    started, release, ran, results = threading.Event(), threading.Event(), [], []
    first = worker.submit(lambda: started.set() or release.wait(10) and ran.append("first"), on_done=results.append)
    qtbot.waitUntil(started.is_set)
    second = worker.submit(ran.append, "second", on_done=results.append)
    third = worker.submit(ran.append, "third", on_done=results.append)
    worker.cancel(second)  # still queued behind the first: skipped
    worker.cancel(first)  # already running: finishes, but its result is ignored
    release.set()
    qtbot.waitUntil(lambda: not worker.is_pending(third))
    assert ran == ["first", "third"] and results == [None]  # only the third called back


def test_stop_runs_what_is_queued_then_joins(qtbot, qapp):
    worker = Worker("drain")
    release, ran, called_back = threading.Event(), [], []
    worker.submit(release.wait, 10)
    for n in range(3):
        worker.submit(ran.append, n, on_done=called_back.append)
    release.set()
    worker.stop()  # blocks until the queue is done and the thread has ended
    assert ran == [0, 1, 2] and called_back == []  # the work happened; nobody is called back
    assert not worker.is_running() and not any(t.isRunning() for t in worker._threads)
    assert worker.submit(ran.append, 4) == -1
    worker.stop()  # idempotent


def test_stop_without_draining_drops_the_queue(qtbot, qapp):
    worker = Worker("drop")
    started, release, ran = threading.Event(), threading.Event(), []
    worker.submit(lambda: started.set() or release.wait(10))
    qtbot.waitUntil(started.is_set)
    for n in range(3):
        worker.submit(ran.append, n)
    clear = worker._queue.clear

    def clear_then_release():  # the running job ends only once the queue is dropped
        clear()
        release.set()

    worker._queue.clear = clear_then_release
    worker.stop(drain=False)
    assert ran == [] and not any(t.isRunning() for t in worker._threads)


def test_finish_runs_on_the_thread_as_it_ends(qtbot, qapp):
    where = []
    worker = Worker("finish", finish=lambda: where.append(threading.get_ident()))
    ran_on = []
    worker.submit(lambda: ran_on.append(threading.get_ident()))
    worker.stop()
    assert where == ran_on and where[0] != threading.get_ident()


def test_a_worker_stops_when_its_owner_goes(qtbot, qapp):
    owner = QObject()
    worker = Worker("owned", owner)
    done = []
    worker.submit(lambda: 1, on_done=done.append)
    qtbot.waitUntil(lambda: done == [1])
    threads = list(worker._threads)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not worker.is_running())
    assert not any(t.isRunning() for t in threads)


def test_two_threads_share_the_queue(qtbot, qapp):
    worker = Worker("pair", threads=2)
    both, ran_on, done = threading.Barrier(2, timeout=10), set(), []

    def meet():  # returns only once the other thread runs a job at the same time
        ran_on.add(threading.get_ident())
        both.wait()

    for _ in range(2):
        worker.submit(meet, on_done=done.append)
    qtbot.waitUntil(lambda: len(done) == 2)
    assert len(ran_on) == 2
    worker.stop()


class _Ticker(QObject):
    """A long-lived object with a timer, as a loading worker is."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[bool] = []
        self.timer: QTimer | None = None

    @Slot()
    def start(self) -> None:
        self.timer = QTimer(self)  # made on the worker's thread, so it fires there
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    @Slot()
    def _tick(self) -> None:
        self.ticks.append(QThread.currentThread() is self.thread())


def test_a_hosted_object_keeps_its_timers_on_the_thread_and_goes_with_it(qtbot, qapp):
    worker = Worker("host")
    ticker = _Ticker()
    destroyed = []
    ticker.destroyed.connect(lambda: destroyed.append(True))
    worker.host(ticker)
    assert ticker.thread() is worker._threads[0]
    worker.submit(ticker.start)  # runs on the thread: the timer is made there
    done = []
    worker.submit(lambda: len(ticker.ticks), on_done=done.append)  # jobs still run between ticks
    qtbot.waitUntil(lambda: len(ticker.ticks) >= 3 and bool(done))
    assert all(ticker.ticks)
    worker.stop()
    assert destroyed == [True]  # deleted on its thread as it ended
