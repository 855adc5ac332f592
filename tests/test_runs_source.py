"""RunsSource: loading off the GUI thread, live updates from real writer processes, faults, teardown."""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from app.runs import watcher as watcher_module
from app.runs.watcher import RunsWatcher
from tracker.index import INDEX_NAME
from tracker import store
from tracker.entities import Run, RunStatus
from tracker.writer import RunWriter

from runs_source_fixtures import *  # noqa: F403  (the fixtures: root, cache_home, make_source, writers)
from runs_source_fixtures import WAIT_MS, finished_run, open_and_wait, send, watchdog_threads


# ---- loading ------------------------------------------------------------------------------

def test_open_loads_every_run_off_the_gui_thread(qtbot, make_source, root):
    ids = {finished_run(root, f"r{i}", "exp-a" if i % 2 else "exp-b") for i in range(5)}
    bad = root / ("b" * 32)
    bad.mkdir()
    (bad / "run.json").write_text("{broken")
    source, rec = make_source()
    snapshot = open_and_wait(qtbot, source, rec, root)
    assert {r.info.run_id for r in snapshot.runs} == ids
    assert [u.run_id for u in snapshot.unreadable] == ["b" * 32] and "damaged" in snapshot.unreadable[0].reason
    assert {(e.name, e.run_count) for e in snapshot.experiments} >= {("exp-a", 2), ("exp-b", 3)}
    assert snapshot.root == root and snapshot.index_path == root / INDEX_NAME
    assert rec.progress and rec.progress[-1] == (6, 6)
    assert rec.status == []  # nothing to complain about

    again = open_and_wait(qtbot, source, rec, root)  # the second time through the index
    assert {r.info.run_id for r in again.runs} == ids


def test_empty_missing_and_non_directories_say_so(qtbot, make_source, root, tmp_path):
    source, rec = make_source()
    snapshot = open_and_wait(qtbot, source, rec, root)
    assert snapshot.runs == [] and "No runs in" in rec.status[-1]
    assert snapshot.index_path is None and os.listdir(root) == []  # an empty directory stays empty

    missing = tmp_path / "missing"
    snapshot = open_and_wait(qtbot, source, rec, missing)
    assert snapshot.runs == [] and rec.status[-1] == f"{missing} does not exist"
    assert not missing.exists()  # opening does not create it (nor an index for it)

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    open_and_wait(qtbot, source, rec, a_file)
    assert rec.status[-1] == f"{a_file} is not a directory"


def test_a_missing_directory_is_loaded_once_it_appears(qtbot, make_source, tmp_path):
    later = tmp_path / "later"
    source, rec = make_source()
    open_and_wait(qtbot, source, rec, later)
    later.mkdir()
    run_id = finished_run(later, "arrived")
    qtbot.waitUntil(lambda: len(rec.loaded) == 2, timeout=WAIT_MS)
    assert [r.info.run_id for r in rec.loaded[-1].runs] == [run_id]


def test_permission_denied_says_so_once_and_recovers(qtbot, make_source, root, monkeypatch):
    run_id = finished_run(root, "private")
    real_access = os.access
    denied = [True]
    monkeypatch.setattr(os, "access", lambda p, mode: False if denied[0] and Path(p) == root
                        else real_access(p, mode))
    source, rec = make_source(check_ms=50)
    snapshot = open_and_wait(qtbot, source, rec, root)
    assert snapshot.runs == [] and rec.status == [f"Permission denied: cannot read {root}"]
    worker = source._worker
    qtbot.waitUntil(lambda: worker.checks >= 3, timeout=WAIT_MS)  # checks go by, saying nothing new
    assert len(rec.status) == 1 and len(rec.loaded) == 1
    denied[0] = False
    qtbot.waitUntil(lambda: len(rec.loaded) == 2, timeout=WAIT_MS)
    assert [r.info.run_id for r in rec.loaded[-1].runs] == [run_id] and "is back" in rec.status[-1]


def test_reopening_never_mixes_directories(qtbot, make_source, root, tmp_path):
    finished_run(root, "first")
    other = tmp_path / "other"
    other_id = finished_run(other, "second")
    source, rec = make_source()
    source.open(root)
    with qtbot.waitSignal(source.loaded, timeout=WAIT_MS):
        source.open(other)
    QCoreApplication.processEvents()  # deliver whatever the first (joined) worker still queued: dropped
    assert [[r.info.run_id for r in s.runs] for s in rec.loaded] == [[other_id]]


# ---- live -----------------------------------------------------------------------------------

def test_a_writer_process_is_followed_live(qtbot, make_source, root, writers):
    source, rec = make_source(check_ms=60_000)  # file events alone must do it
    open_and_wait(qtbot, source, rec, root)
    assert source.watch_mode == "inotify"
    proc, run_id = writers("live")

    qtbot.waitUntil(lambda: rec.latest(run_id) is not None, timeout=WAIT_MS)  # the new run directory
    assert rec.latest(run_id).info.status == RunStatus.RUNNING
    qtbot.waitUntil(lambda: run_id in source.watched_runs, timeout=WAIT_MS)

    send(proc, "0.5")
    qtbot.waitUntil(lambda: rec.latest(run_id).data.metrics.get("loss") == 0.5, timeout=WAIT_MS)
    send(proc, "0.25")
    send(proc, "0.125")
    qtbot.waitUntil(lambda: getattr(rec.latest(run_id).data.summaries.get("loss"), "count", 0) == 3,
                    timeout=WAIT_MS)
    summary = rec.latest(run_id).data.summaries["loss"]
    assert (summary.last, summary.min, summary.max) == (0.125, 0.125, 0.5)

    send(proc, "stop")
    assert proc.wait(timeout=30) == 0
    qtbot.waitUntil(lambda: rec.latest(run_id).info.status == RunStatus.FINISHED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: run_id not in source.watched_runs, timeout=WAIT_MS)  # no longer RUNNING


def test_a_killed_writer_turns_killed_without_any_file_event(qtbot, make_source, root, writers):
    source, rec = make_source(check_ms=200)
    open_and_wait(qtbot, source, rec, root)
    proc, run_id = writers("victim")
    send(proc, "1.0")
    qtbot.waitUntil(lambda: getattr(rec.latest(run_id), "data", None) is not None
                    and rec.latest(run_id).data.metrics.get("loss") == 1.0, timeout=WAIT_MS)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    qtbot.waitUntil(lambda: rec.latest(run_id).info.status == RunStatus.KILLED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: run_id not in source.watched_runs, timeout=WAIT_MS)


def test_runs_removed_on_disk_disappear(qtbot, make_source, root):
    keep = finished_run(root, "keep")
    gone = finished_run(root, "gone")
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    with qtbot.waitSignal(source.runs_removed, timeout=WAIT_MS) as blocker:
        shutil.rmtree(root / gone)
    assert blocker.args == [[gone]]
    assert keep not in rec.removed


def test_a_run_that_becomes_readable_is_updated(qtbot, make_source, root):
    run_id = finished_run(root, "fixed-later")
    good = (root / run_id / "run.json").read_text()
    (root / run_id / "run.json").write_text("{torn")
    source, rec = make_source(check_ms=60_000)
    snapshot = open_and_wait(qtbot, source, rec, root)
    assert [u.run_id for u in snapshot.unreadable] == [run_id]
    assert run_id in source.watched_runs  # unreadable runs are watched until they read
    store.write_json_atomic(root / run_id / "run.json", json.loads(good))
    qtbot.waitUntil(lambda: isinstance(rec.latest(run_id), Run), timeout=WAIT_MS)


def test_new_experiments_are_announced(qtbot, make_source, root):
    finished_run(root, "a", "first")
    source, rec = make_source(check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    finished_run(root, "b", "second")
    qtbot.waitUntil(lambda: bool(rec.experiments) and "second" in {e.name for e in rec.experiments[-1]},
                    timeout=WAIT_MS)


def test_the_directory_deleted_while_open(qtbot, make_source, root):
    run_id = finished_run(root, "doomed")
    source, rec = make_source(check_ms=200)
    open_and_wait(qtbot, source, rec, root)
    shutil.rmtree(root)
    qtbot.waitUntil(lambda: any("was deleted or moved" in m for m in rec.status), timeout=WAIT_MS)
    assert run_id in rec.removed


# ---- polling ----------------------------------------------------------------------------------

def _follow_a_run_by_polling(qtbot, source, rec, root):
    open_and_wait(qtbot, source, rec, root)
    assert source.watch_mode.startswith("polling")
    writer = RunWriter.create(root, "polled", "Default")
    qtbot.waitUntil(lambda: rec.latest(writer.run_id) is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: writer.run_id in source.watched_runs, timeout=WAIT_MS)
    writer.log_metric("loss", 2.0)
    writer.flush()
    qtbot.waitUntil(lambda: rec.latest(writer.run_id).data.metrics.get("loss") == 2.0, timeout=WAIT_MS)
    writer.end()
    qtbot.waitUntil(lambda: rec.latest(writer.run_id).info.status == RunStatus.FINISHED, timeout=WAIT_MS)
    shutil.rmtree(root / writer.run_id)
    qtbot.waitUntil(lambda: writer.run_id in rec.removed, timeout=WAIT_MS)


def test_polling_when_asked(qtbot, make_source, root):
    source, rec = make_source(polling=True, poll_interval=0.1, check_ms=60_000)
    _follow_a_run_by_polling(qtbot, source, rec, root)
    assert "asked" in source.watch_mode


def test_polling_from_the_environment(qtbot, make_source, root, monkeypatch):
    monkeypatch.setenv("TRACKER_POLLING", "1")
    source, rec = make_source(poll_interval=0.1, check_ms=60_000)
    _follow_a_run_by_polling(qtbot, source, rec, root)
    assert "TRACKER_POLLING" in source.watch_mode


def test_polling_when_inotify_watches_are_scarce(qtbot, make_source, root, tmp_path, monkeypatch):
    limit = tmp_path / "max_user_watches"
    limit.write_text("16\n")
    monkeypatch.setattr(watcher_module, "MAX_USER_WATCHES", str(limit))
    source, rec = make_source(poll_interval=0.1, check_ms=60_000)
    _follow_a_run_by_polling(qtbot, source, rec, root)
    assert "max_user_watches is only 16" in source.watch_mode


def test_polling_when_inotify_runs_out_of_watches(qtbot, make_source, root, monkeypatch):
    from watchdog.observers import Observer

    class Exhausted(Observer):
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(RunsWatcher, "_native_observer", lambda self: Exhausted())
    source, rec = make_source(poll_interval=0.1, check_ms=60_000)
    _follow_a_run_by_polling(qtbot, source, rec, root)
    assert "exhausted" in source.watch_mode


def test_run_directories_are_polled_once_inotify_runs_out(qtbot, make_source, root, monkeypatch):
    from watchdog.observers import Observer

    class RootOnly(Observer):  # the root gets its watch; every run directory hits the limit
        def schedule(self, handler, path, **kwargs):
            if os.path.basename(path) not in (root.name, "experiments"):
                raise OSError(errno.ENOSPC, "inotify watch limit reached")
            return super().schedule(handler, path, **kwargs)

    monkeypatch.setattr(RunsWatcher, "_native_observer", lambda self: RootOnly())
    source, rec = make_source(poll_interval=0.1, check_ms=60_000)
    open_and_wait(qtbot, source, rec, root)
    assert source.watch_mode == "inotify"
    writer = RunWriter.create(root, "many", "Default")
    qtbot.waitUntil(lambda: writer.run_id in source.watched_runs, timeout=WAIT_MS)
    writer.log_metric("loss", 3.0)
    writer.flush()
    qtbot.waitUntil(lambda: getattr(rec.latest(writer.run_id), "data", None) is not None
                    and rec.latest(writer.run_id).data.metrics.get("loss") == 3.0, timeout=WAIT_MS)
    writer.end()
    qtbot.waitUntil(lambda: rec.latest(writer.run_id).info.status == RunStatus.FINISHED, timeout=WAIT_MS)


# ---- teardown -------------------------------------------------------------------------------------

def test_close_stops_and_joins_everything(qtbot, make_source, root):
    finished_run(root, "x")
    source, rec = make_source()
    open_and_wait(qtbot, source, rec, root)
    assert watchdog_threads()
    worker = source._thread
    source.close()
    assert not worker.is_running() and all(t.isFinished() for t in worker._threads)  # joined
    assert watchdog_threads() == []
    source.close()  # twice is fine
    source.open(None)
    assert source.root is None and watchdog_threads() == []


def test_close_during_a_cold_load_returns_promptly(qtbot, make_source, root):
    for i in range(400):
        path = root / f"{i:032x}"
        path.mkdir()
        doc = store.new_document(f"{i:032x}", f"r{i}", "Default", 1000 + i)
        doc["info"]["status"] = RunStatus.FINISHED
        store.write_document(path, doc)
    source, rec = make_source()
    with qtbot.waitSignal(source.progress, timeout=WAIT_MS):
        source.open(root)
    source.close()
    assert watchdog_threads() == []
    seen = len(rec.loaded)
    QCoreApplication.processEvents()  # whatever the joined worker queued is delivered now: dropped
    assert len(rec.loaded) == seen
