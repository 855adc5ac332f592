"""tracker.index_prefetch: the index read by a helper process, handed over intact, and its failures."""
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tracker.entities import RunStatus, UnreadableRun
from tracker.index import INDEX_NAME, RunIndex
from tracker.index_prefetch import IndexPrefetch, discard_unclaimed

from index_fixtures import by_id, cache_home, make_run, root  # noqa: F401  (cache_home, root: fixtures)


@pytest.fixture(autouse=True)
def no_leftover_prefetches():
    yield
    discard_unclaimed()


def fake_helper(code: str) -> IndexPrefetch:
    """A prefetch whose helper is ``code`` instead of the real one."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    return IndexPrefetch(Path("/nonexistent"), proc)


@pytest.mark.parametrize("indexed", [False, True], ids=["cold", "warm"])
def test_the_helper_hands_over_exactly_what_refresh_reads(root, indexed):
    make_run(root, "a", params={"lr": 0.1, "depth": 3}, metrics={"loss": [1.0, 0.5, 0.7], "acc": [0.9]})
    make_run(root, "b", status=RunStatus.FAILED)
    live = make_run(root, "live", metrics={"loss": [2.0]}, status=None)  # this process: RUNNING
    broken = root / ("e" * 32)
    broken.mkdir()
    (broken / "run.json").write_text("{not json", encoding="utf-8")
    (root / ("d" * 32)).mkdir()  # no run.json at all: read (and explained) by the receiver
    if indexed:
        RunIndex(root).refresh()

    progress = []
    prefetch = IndexPrefetch.start(root)
    assert IndexPrefetch.take(root) is prefetch
    result = prefetch.result(lambda done, total: progress.append((done, total)))

    expected = RunIndex(root).refresh()
    assert expected.reread == 1  # the helper wrote the index as refresh would have (all but the run.json-less one)
    assert by_id(result.runs) == by_id(expected.runs)  # every field, summaries included
    assert sorted(result.unreadable, key=lambda u: u.run_id) == sorted(expected.unreadable, key=lambda u: u.run_id)
    assert {u.run_id for u in result.unreadable} == {"e" * 32, "d" * 32}
    assert all(isinstance(u, UnreadableRun) and u.reason for u in result.unreadable)
    assert by_id(result.runs)[live.run_id].info.status == RunStatus.RUNNING
    assert result.path == root / INDEX_NAME
    assert (result.cached, result.reread) == ((4, 1) if indexed else (0, 5))  # the run.json-less one is never cached
    assert progress[-1] == (5, 5)
    live.end()


def test_a_damaged_index_row_is_read_from_disk_instead(root):
    good = make_run(root, "good", params={"a": "1"})
    damaged = make_run(root, "damaged", params={"b": "2"})
    RunIndex(root).refresh()
    with sqlite3.connect(root / INDEX_NAME) as db:
        db.execute("UPDATE runs SET data = ? WHERE run_id = ?", (b"\x00garbage", damaged.run_id))
        db.execute("UPDATE runs SET keys = ? WHERE run_id = ?", (b"\x00garbage", good.run_id))
    result = IndexPrefetch.start(root).result()
    runs = by_id(result.runs)
    assert runs[damaged.run_id].data.params == {"b": "2"}
    assert runs[good.run_id].data.params == {"a": "1"}
    assert by_id(RunIndex(root).refresh().runs) == runs


@pytest.mark.parametrize("asked_early", [False, True], ids=["asked-after", "asked-before-result"])
def test_stale_runs_names_what_changed_after_the_helper_looked(root, asked_early):
    changed = make_run(root, "changed", status=None)
    kept = make_run(root, "kept")
    gone = make_run(root, "gone")
    prefetch = IndexPrefetch.take(IndexPrefetch.start(root).root)
    if asked_early:  # as the app does: the helper looks again right after sending the runs
        prefetch.request_stale()
        assert len(prefetch.result().runs) == 3
        assert prefetch.stale_runs() == []  # its second look saw what its first one did
    else:
        assert len(prefetch.result().runs) == 3

    changed.end()  # run.json replaced
    shutil.rmtree(root / gone.run_id)
    added = make_run(root, "added")
    expected = sorted([changed.run_id, gone.run_id, added.run_id])
    assert prefetch.stale_runs() == expected  # asked after: the helper looks now; then found here
    assert prefetch.stale_runs() == expected
    assert kept.run_id not in expected
    assert prefetch._proc.wait(timeout=10) == 0


def test_take_claims_only_its_own_root_and_cancels_the_rest(root, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    make_run(root, "a")
    mine = IndexPrefetch.start(root)
    stray = IndexPrefetch.start(other)
    assert IndexPrefetch.take(root / "." / "") is mine  # the same directory, spelled differently
    assert stray._proc.wait(timeout=10) < 0  # killed: nobody would read it
    assert IndexPrefetch.take(root) is None  # claimed once
    assert len(mine.result().runs) == 1


def test_an_old_prefetch_is_not_used(root, monkeypatch):
    make_run(root, "a")
    prefetch = IndexPrefetch.start(root)
    monkeypatch.setattr(prefetch, "started", time.monotonic() - 3600)
    assert IndexPrefetch.take(root) is None
    assert prefetch._proc.wait(timeout=10) < 0


def test_nothing_to_prefetch_for_a_missing_directory(tmp_path):
    assert IndexPrefetch.start(tmp_path / "missing") is None
    assert IndexPrefetch.take(tmp_path / "missing") is None


@pytest.mark.parametrize("code", [
    "pass",  # exits without a word
    "import sys; sys.stdout.buffer.write(b'\\x05\\x00\\x00\\x00junk!')",  # not marshal
    "import sys; sys.stdout.buffer.write(b'\\xff\\xff\\x00\\x00abc')",  # cut short
    "import marshal, sys; b = marshal.dumps(('error', 'PermissionError: no')); "
    "sys.stdout.buffer.write(len(b).to_bytes(4, 'little') + b)",
], ids=["silent", "garbage", "truncated", "error"])
def test_a_failing_helper_means_reading_in_process(code):
    assert fake_helper(code).result() is None


def test_stopping_while_the_helper_works_returns_at_once():
    prefetch = fake_helper("import time; time.sleep(60)")
    stop = threading.Event()
    out = []
    waiter = threading.Thread(target=lambda: out.append(prefetch.result(should_stop=stop.is_set)))
    waiter.start()
    stop.set()
    prefetch.cancel()  # what RunsSource.close does, from another thread
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert out[0] is not None and out[0].cancelled
    assert prefetch._proc.wait(timeout=10) < 0


def test_the_helper_runs_the_tracker_it_came_with(root, monkeypatch):
    """Started from anywhere (another working directory, no PYTHONPATH), it imports this tracker."""
    make_run(root, "a")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.chdir(os.path.dirname(sys.executable))
    prefetch = IndexPrefetch.start(root)
    assert len(IndexPrefetch.take(root).result().runs) == 1
    prefetch.close()
    assert prefetch._proc.wait(timeout=10) == 0


def _read_items(root):
    from tracker.store.layout import list_run_dirs, run_doc_key
    return [(n, name, path, run_doc_key(path)) for n, (name, path) in enumerate(list_run_dirs(str(root)))]


def test_a_first_start_reads_half_the_runs_in_a_second_process(root, monkeypatch):
    import marshal

    from tracker import index_prefetch
    from tracker.index import read_each
    from tracker.index_rows import KeySets
    for i in range(12):
        make_run(root, f"r{i}", params={"i": str(i)}, metrics={"loss": [i / 10]})
    items = _read_items(root)
    uri = root.resolve().as_uri()
    expected = {n: row for n, _, row in read_each(items, uri, KeySets(), False)}
    monkeypatch.setattr(index_prefetch, "PARALLEL_FROM", 4)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    got = list(index_prefetch._read_in_two(items, uri, KeySets(), False))
    assert forks == [1]
    assert sorted(n for n, _, _ in got) == list(range(12))
    decoded = {n: (*row[:6], marshal.loads(row[6]), marshal.loads(row[7])) for n, _, row in got}
    assert decoded == {n: (*row[:6], marshal.loads(row[6]), marshal.loads(row[7])) for n, row in expected.items()}


def test_if_the_second_process_fails_its_half_is_read_here(root, monkeypatch):
    from tracker import index_prefetch
    from tracker.index_rows import KeySets
    for i in range(6):
        make_run(root, f"r{i}")
    items = _read_items(root)
    monkeypatch.setattr(index_prefetch, "PARALLEL_FROM", 2)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: (_ for _ in ()).throw(OSError("no"))
                        if "w" in mode else real_fdopen(fd, mode, *a, **k))  # the forked reader cannot send
    got = list(index_prefetch._read_in_two(items, root.resolve().as_uri(), KeySets(), False))
    assert sorted(n for n, _, _ in got) == list(range(6))
    assert all(row is not None for _, _, row in got)


def test_no_helper_from_a_frozen_app(root, monkeypatch):
    make_run(root, "a")
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # PyInstaller & co: sys.executable is the app
    assert IndexPrefetch.start(root) is None
