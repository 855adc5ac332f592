"""The run index (tracker.index): incremental refresh, damaged input, liveness, concurrency."""
import json
import math
import os
import shutil
import signal
import numpy as np
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import Client, store
from tracker.entities import RunStatus, UnreadableRun
from tracker.index import INDEX_NAME, SCHEMA_VERSION, IndexResult, RunIndex, user_cache_path
from tracker.writer import RunWriter

from filter_strategies import run_lists
from index_fixtures import by_id, make_run
from index_fixtures import cache_home as cache_home, root as root  # fixtures: pytest finds them here

REPO = Path(__file__).resolve().parent.parent


def test_cold_then_warm_matches_a_plain_scan(root):
    make_run(root, "a", params={"lr": 0.1, "depth": 3}, metrics={"loss": [1.0, 0.5, 0.7], "acc": [0.9]})
    make_run(root, "b", experiment="other", status=RunStatus.FAILED)
    live = make_run(root, "live", params={"x": "y"}, metrics={"loss": [2.0]}, status=None)  # this process: RUNNING
    child = RunWriter.create(root, "child", "Default", parent_run_id=live.run_id)
    child.end()

    index = RunIndex(root)
    cold = index.refresh()
    assert (cold.reread, cold.cached, cold.removed) == (4, 0, 0)
    assert cold.path == root / INDEX_NAME and cold.path.is_file()
    expected, bad = store.read_all_runs(root)
    assert bad == [] and cold.unreadable == []
    assert by_id(cold.runs) == by_id(expected)  # every field of every run, summaries included

    warm = RunIndex(root).refresh()
    assert (warm.reread, warm.cached) == (0, 4)
    assert by_id(warm.runs) == by_id(expected)
    assert by_id(warm.runs)[live.run_id].info.status == RunStatus.RUNNING
    assert [r.info.run_id for r in warm.runs] == [r.info.run_id for r in cold.runs]
    live.end()


def test_nan_and_infinite_metrics_survive(root):
    run = make_run(root, "n", metrics={"loss": [1.0, float("inf"), float("nan")]})
    RunIndex(root).refresh()
    summary = RunIndex(root).refresh().runs[0].data.summaries["loss"]
    assert math.isnan(summary.last) and summary.max == math.inf and summary.min == 1.0 and summary.count == 3
    assert run.run_id


def test_changed_new_and_removed_runs(root):
    a = make_run(root, "a", params={"p": 1})
    b = make_run(root, "b")
    index = RunIndex(root)
    index.refresh()

    writer = RunWriter.resume(root, a.run_id)  # a changes
    writer.set_tags({"note": "changed"})
    writer.end()
    c = make_run(root, "c")  # c is new
    shutil.rmtree(root / b.run_id)  # b vanishes

    result = index.refresh()
    assert (result.reread, result.cached, result.removed) == (2, 0, 1)
    runs = by_id(result.runs)
    assert set(runs) == {a.run_id, c.run_id}
    assert runs[a.run_id].data.tags["note"] == "changed"
    again = index.refresh()
    assert (again.reread, again.cached, again.removed) == (0, 2, 0)


def test_a_replaced_run_json_of_the_same_size_is_noticed(root):
    a = make_run(root, "aaaa")
    index = RunIndex(root)
    index.refresh()
    doc = json.loads((root / a.run_id / "run.json").read_text())
    doc["info"]["run_name"] = "bbbb"  # same length, same second: only the inode tells
    st = os.stat(root / a.run_id / "run.json")
    store.write_json_atomic(root / a.run_id / "run.json", doc)
    os.utime(root / a.run_id / "run.json", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(root / a.run_id / "run.json").st_size == st.st_size
    assert index.refresh().runs[0].info.run_name == "bbbb"


def test_damaged_and_missing_run_json_are_listed_with_reasons(root):
    good = make_run(root, "good")
    broken = make_run(root, "broken")
    (root / broken.run_id / "run.json").write_text('{"info": {"run_id": "')  # torn
    empty_dir = root / ("e" * 32)
    empty_dir.mkdir()
    (root / "not-a-run").mkdir()
    (root / ("f" * 32)).write_text("a file, not a run directory")

    index = RunIndex(root)
    first = index.refresh()
    assert [r.info.run_id for r in first.runs] == [good.run_id]
    reasons = {u.run_id: u.reason for u in first.unreadable}
    assert set(reasons) == {broken.run_id, "e" * 32}
    assert "damaged" in reasons[broken.run_id]
    assert "missing" in reasons["e" * 32]
    assert all(isinstance(u, UnreadableRun) and u.path.startswith(str(root)) for u in first.unreadable)

    second = index.refresh()  # the damaged one is served from the index, reason included
    assert second.cached == 2 and second.reread == 1  # the dir without run.json is re-checked each time
    assert {u.run_id: u.reason for u in second.unreadable} == reasons

    store.write_document(root / broken.run_id, broken.document.to_dict())  # repaired
    third = index.refresh()
    assert {r.info.run_id for r in third.runs} == {good.run_id, broken.run_id}


def test_a_corrupt_index_file_is_rebuilt(root):
    make_run(root, "a")
    make_run(root, "b")
    RunIndex(root).refresh()
    (root / INDEX_NAME).write_bytes(b"this is not a runs table" * 100)
    result = RunIndex(root).refresh()
    assert len(result.runs) == 2 and result.reread == 2
    assert RunIndex(root).refresh().cached == 2
    assert RunIndex(root).load().n == 2  # replaced by a good file


def test_a_truncated_index_file_is_rebuilt(root):
    for i in range(30):
        make_run(root, f"r{i}", params={f"p{j}": "x" * 200 for j in range(10)})
    RunIndex(root).refresh()
    data = (root / INDEX_NAME).read_bytes()
    (root / INDEX_NAME).write_bytes(data[: len(data) // 2])
    result = RunIndex(root).refresh()
    assert len(result.runs) == 30
    assert RunIndex(root).refresh().cached == 30


def _rewrite_format(path, version):
    with np.load(path, allow_pickle=False) as files:
        arrays = {name: files[name] for name in files.files}
    arrays["format"] = arrays["format"].copy()
    arrays["format"][0] = version
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_an_index_from_an_older_format_is_rebuilt(root):
    make_run(root, "a")
    RunIndex(root).refresh()
    _rewrite_format(root / INDEX_NAME, 0)
    result = RunIndex(root).refresh()
    assert result.reread == 1 and len(result.runs) == 1
    with np.load(root / INDEX_NAME) as files:
        assert files["format"][0] == SCHEMA_VERSION


def test_the_sqlite_index_of_earlier_versions_is_removed(root):
    make_run(root, "a")
    (root / ".tracker-index.db").write_bytes(b"SQLite format 3\0")
    RunIndex(root).refresh()
    assert not (root / ".tracker-index.db").exists() and (root / INDEX_NAME).is_file()


def test_an_index_from_a_newer_tracker_is_left_alone(root, cache_home):
    make_run(root, "a")
    RunIndex(root).refresh()
    _rewrite_format(root / INDEX_NAME, SCHEMA_VERSION + 1)
    result = RunIndex(root).refresh()
    assert len(result.runs) == 1
    assert result.path == user_cache_path(root) and str(result.path).startswith(str(cache_home))
    with np.load(root / INDEX_NAME) as files:
        assert files["format"][0] == SCHEMA_VERSION + 1


def test_a_read_only_root_uses_the_per_user_cache(root, cache_home, monkeypatch):
    make_run(root, "a")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == root else real_access(p, mode))
    result = RunIndex(root).refresh()
    assert result.path == user_cache_path(root) and result.path.is_file()
    assert not (root / INDEX_NAME).exists()
    assert RunIndex(root).refresh().cached == 1


def test_an_empty_root_gets_no_index_until_it_has_runs(root):
    empty = RunIndex(root).refresh()
    assert empty.runs == [] and empty.reread == 0 and os.listdir(root) == []
    run = make_run(root, "first")
    assert RunIndex(root).refresh().reread == 1 and (root / INDEX_NAME).exists()
    shutil.rmtree(root / run.run_id)
    result = RunIndex(root).refresh()
    assert result.removed == 1 and result.runs == []


def test_a_missing_root_raises_and_creates_nothing(tmp_path, cache_home):
    with pytest.raises(FileNotFoundError):
        RunIndex(tmp_path / "nope").refresh()
    assert not (tmp_path / "nope").exists() and not cache_home.exists()
    assert RunIndex(tmp_path / "nope").update(["a" * 32]) == []


def test_a_killed_writer_reads_killed_without_run_json_changing(root):
    code = (
        "import sys, tracker\n"
        "run = tracker.start_run(run_name='victim')\n"
        "tracker.log_metric('x', 1.0)\n"
        "from tracker.writer import FLUSHER\n"
        "FLUSHER.flush_all()\n"
        "print(run.info.run_id, flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, "TRACKER_DIR": str(root)})
    try:
        run_id = proc.stdout.readline().strip()
        index = RunIndex(root)
        run = by_id(index.refresh().runs)[run_id]
        assert run.info.status == RunStatus.RUNNING and run.data.metrics == {"x": 1.0}
        assert by_id(index.refresh().runs)[run_id].info.status == RunStatus.RUNNING
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stdin.close()
    after = index.refresh()
    assert after.reread == 0  # run.json did not change: the status is re-derived from the stored table
    assert by_id(after.runs)[run_id].info.status == RunStatus.KILLED
    assert [r.info.status for r in index.update([run_id])] == [RunStatus.KILLED]


def test_update_rereads_only_the_given_runs(root):
    a = make_run(root, "a")
    b = make_run(root, "b")
    index = RunIndex(root)
    index.refresh()
    writer = RunWriter.resume(root, a.run_id)
    writer.set_tags({"t": "1"})
    writer.end()
    shutil.rmtree(root / b.run_id)
    updated = index.update([a.run_id, b.run_id, "not-a-run-id", a.run_id])
    assert [r.info.run_id for r in updated] == [a.run_id]
    assert updated[0].data.tags["t"] == "1"
    result = index.refresh()
    assert (result.cached, result.reread, result.removed) == (1, 0, 0)  # update already dropped b


def test_progress_and_cancel(root):
    for i in range(300):
        store.write_document(_bare_run(root, i), _bare_doc(i))
    seen = []
    result = RunIndex(root).refresh(progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 300) and seen[-1] == (300, 300) and len(seen) >= 3
    assert len(result.runs) == 300

    (root / INDEX_NAME).unlink()
    calls = []
    partial = RunIndex(root).refresh(should_stop=lambda: calls.append(1) or len(calls) > 2)
    assert partial.cancelled and 0 < len(partial.runs) < 300
    resumed = RunIndex(root).refresh()  # what was read before the stop was kept
    assert resumed.cached == len(partial.runs) and len(resumed.runs) == 300


def _bare_run(root, i):
    path = root / f"{i:032x}"
    path.mkdir()
    return path


def _bare_doc(i):
    doc = store.new_document(f"{i:032x}", f"r{i}", "Default", 1000 + i)
    doc["info"]["status"] = RunStatus.FINISHED
    doc["params"] = {"i": str(i)}
    return doc


_REFRESH_SCRIPT = """
import sys
from tracker.index import RunIndex
result = RunIndex(sys.argv[1]).refresh()
print(len(result.runs), len(result.unreadable))
"""


def test_processes_refreshing_at_once(root):
    for i in range(400):
        store.write_document(_bare_run(root, i), _bare_doc(i))
    procs = [subprocess.Popen([sys.executable, "-c", _REFRESH_SCRIPT, str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert [out.split() for out, _ in outputs] == [["400", "0"]] * 4
    result = RunIndex(root).refresh()
    assert result.cached == 400 and result.reread == 0


def test_client_scan_uses_the_index_and_keeps_search_semantics(root, monkeypatch):
    make_run(root, "a", params={"lr": "0.1"}, metrics={"acc": [0.5]})
    make_run(root, "b", params={"lr": "0.2"}, metrics={"acc": [0.9]})
    client = Client(root)
    names = [r.info.run_name for r in client.search_runs(filter_string="metrics.acc > 0.6")]
    assert names == ["b"]
    assert (root / INDEX_NAME).is_file()
    assert [r.info.run_name for r in client.search_runs(order_by="metrics.acc DESC")] == ["b", "a"]
    assert [e.run_count for e in client.search_experiments()] == [2]

    monkeypatch.setenv("TRACKER_NO_INDEX", "1")
    (root / INDEX_NAME).unlink()
    assert len(Client(root).scan()[0]) == 2 and not (root / INDEX_NAME).exists()


def test_client_scan_falls_back_when_no_index_can_be_opened(root, monkeypatch, cache_home):
    make_run(root, "a")
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    cache_home.mkdir()
    (cache_home / "tracker").write_text("a file where the cache directory would go")
    runs, bad = Client(root).scan()
    assert len(runs) == 1 and bad == []


def test_client_scan_of_a_missing_directory_is_empty(tmp_path, cache_home):
    assert Client(tmp_path / "missing").scan() == ([], [])
    assert not (tmp_path / "missing").exists() and not cache_home.exists()


def test_clear_empties_the_index(root):
    make_run(root, "a")
    index = RunIndex(root)
    index.refresh()
    index.clear()
    assert index.refresh().reread == 1


def test_index_result_defaults():
    result = IndexResult()
    assert (result.runs, result.unreadable, result.cached, result.reread, result.written) == ([], [], 0, 0, True)


def test_partial_tables_are_offered_while_many_runs_are_read(root, monkeypatch):
    from tracker.index import run_index
    monkeypatch.setattr(run_index, "PARTIAL_FIRST", 50)
    monkeypatch.setattr(run_index, "PARTIAL_SECONDS", 0.0)
    for i in range(120):
        store.write_document(_bare_run(root, i), _bare_doc(i))
    seen = []
    result = RunIndex(root).refresh(partial=lambda table: seen.append(table.n))
    assert seen and seen[0] == 50 and seen == sorted(seen) and seen[-1] <= 120
    assert result.table.n == 120


def test_patch_returns_a_new_table_and_leaves_the_old_one_alone(root):
    a = make_run(root, "a", params={"lr": "0.1"})
    b = make_run(root, "b")
    index = RunIndex(root)
    before = index.refresh().table
    writer = RunWriter.resume(root, a.run_id)
    writer.log_params({"depth": "3"})
    writer.end()
    shutil.rmtree(root / b.run_id)
    c = make_run(root, "c", metrics={"acc": [0.5]})
    after = index.patch(before, [a.run_id, b.run_id, c.run_id])
    assert sorted(before.dirs()) == sorted([a.run_id, b.run_id]) and "depth" not in before.params
    assert after.dirs() == [a.run_id, c.run_id]  # a kept its place, b is gone, c is added last
    run = after.run(after.position(a.run_id))
    assert run.data.params == {"lr": "0.1", "depth": "3"}
    assert after.run(after.position(c.run_id)).data.metrics == {"acc": 0.5}
    assert index.refresh(table=after).reread == 0  # what patch read is what refresh would


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(max_size=10), data=st.data())
def test_a_patched_table_holds_what_a_table_made_afresh_holds(runs, data):
    """Replacing, adding and removing runs in a table gives the runs a new table of the result gives."""
    names = [f"{n:032x}" for n in range(len(runs))]
    base = _table(zip(names, runs))
    changed = data.draw(st.lists(st.sampled_from(range(len(runs))), unique=True)) if runs else []
    removed = data.draw(st.lists(st.sampled_from(range(len(runs))), unique=True)) if runs else []
    removed = [i for i in removed if i not in changed]
    replacement = data.draw(run_lists(min_size=len(changed) + 2, max_size=len(changed) + 2))
    new_names = [f"{n + 100:032x}" for n in range(2)]
    patch = _table([*((names[i], r) for i, r in zip(changed, replacement)), *zip(new_names, replacement[-2:])])
    got = base.patched(patch, [names[i] for i in removed])
    want = {names[i]: runs[i] for i in range(len(runs)) if i not in removed}
    want.update({names[i]: r for i, r in zip(changed, replacement)})
    want.update(zip(new_names, replacement[-2:]))
    assert got.dirs() == [d for d in [*names, *new_names] if d in want]
    for made, name in zip(got.runs(), got.dirs()):
        expected = want[name]
        def seen(run):  # repr: NaN equals NaN there; sorted: key order is not part of a run
            data = run.data
            return repr((run.info.run_name, *(sorted(d.items()) for d in (data.params, data.tags, data.metrics))))
        assert seen(made) == seen(expected)
    assert base.dirs() == names  # the table patched is left as it was


def _table(pairs):
    from tracker.index import TableBuilder
    builder = TableBuilder("/nowhere")
    for name, run in pairs:
        builder.add_run(name, None, run)
    return builder.build()
