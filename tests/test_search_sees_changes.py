"""``Client.search_runs`` called again in the same process sees what changed on disk since the
last call: a run.json replaced or rewritten in place, a new run, a removed or deleted run, a run
folder replaced by a file; and the runs it returns are the runs ``get_run`` reads."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import tracker
from tracker import Client, store

from index_fixtures import by_id, make_run
from index_fixtures import cache_home as cache_home, root as root  # fixtures: pytest finds them here


def _names(client: Client, filter_string: str = "") -> list[str]:
    return sorted(r.info.run_name for r in client.search_runs(filter_string=filter_string))


def test_a_tag_set_by_another_client_is_found_by_the_next_search(root):
    a = make_run(root, "a").run_id
    make_run(root, "b")
    client = Client(root)
    assert _names(client, "tags.stage = 'prod'") == []
    Client(root).set_tag(a, "stage", "prod")
    assert _names(client, "tags.stage = 'prod'") == ["a"]


def test_a_run_json_replaced_with_the_same_size_and_time_is_seen(root):
    a = make_run(root, "aaaa").run_id
    client = Client(root)
    assert _names(client) == ["aaaa"]
    path = root / a / "run.json"
    doc = json.loads(path.read_text())
    doc["info"]["run_name"] = "bbbb"  # same length; the time put back: only the inode tells
    st = os.stat(path)
    store.write_json_atomic(path, doc)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _names(client) == ["bbbb"]


def test_a_run_json_rewritten_in_place_is_seen(root):
    a = make_run(root, "short").run_id
    client = Client(root)
    assert _names(client, "params.lr = '0.5'") == []
    path = root / a / "run.json"
    doc = json.loads(path.read_text())
    doc["params"]["lr"] = "0.5"
    inode = os.stat(path).st_ino
    with open(path, "r+") as f:  # an editor writing into the same file, not a rename
        f.write(json.dumps(doc))
        f.truncate()
    assert os.stat(path).st_ino == inode
    assert _names(client, "params.lr = '0.5'") == ["short"]


def test_new_removed_and_deleted_runs_are_seen(root):
    make_run(root, "kept")
    removed = make_run(root, "removed").run_id
    deleted = make_run(root, "deleted").run_id
    client = Client(root)
    assert _names(client) == ["deleted", "kept", "removed"]
    make_run(root, "new")
    shutil.rmtree(root / removed)
    Client(root).delete_run(deleted)
    assert _names(client) == ["kept", "new"]
    (root / removed).write_text("a file where a run was")  # named like a run, not a run
    assert _names(client) == ["kept", "new"]
    assert [r.info.run_name for r in client.search_runs(run_view_type=2)] == ["deleted"]  # DELETED_ONLY


def test_a_run_folder_gone_between_listing_and_stat_is_not_an_error(root, monkeypatch):
    make_run(root, "kept")
    gone = make_run(root, "gone").run_id
    client = Client(root)
    assert _names(client) == ["gone", "kept"]
    listdir = os.listdir

    def listed_then_removed(path):
        names = listdir(path)
        if os.fspath(path) == os.fspath(root) and (root / gone).exists():
            shutil.rmtree(root / gone)
        return names

    monkeypatch.setattr(os, "listdir", listed_then_removed)
    assert _names(client) == ["kept"]


def test_searched_runs_are_the_runs_get_run_reads(root, tmp_path):
    # a sweep (every run has every key) beside runs with few keys: both ways of making rows
    for i in range(6):
        make_run(root, f"sweep{i}", params={"lr": i / 10, "depth": i}, metrics={"acc": [0.1 * i, 0.2], "loss": [1.0]})
    make_run(root, "bare")
    make_run(root, "odd", params={"only": "here"}, metrics={"rare": [3.0, float("nan")]})
    linked = make_run(root, "linked", params={"lr": 1}).run_id
    shutil.move(root / linked / "artifacts", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", root / linked / "artifacts")
    client = Client(root)
    for _ in range(2):  # from a fresh index, then from the stored one
        searched = by_id(client.search_runs())
        assert set(searched) == {r.info.run_id for r in store.read_all_runs(root)[0]}
        for run_id, run in searched.items():
            expected = client.get_run(run_id)
            assert run.info == expected.info and run.data.params == expected.data.params
            assert run.data.tags == expected.data.tags
            assert list(run.data.params) == list(expected.data.params)
            assert {k: str(v) for k, v in run.data.metrics.items()} == {
                k: str(v) for k, v in expected.data.metrics.items()}  # (NaN != NaN)
            assert {k: str(s) for k, s in run.data.summaries.items()} == {
                k: str(s) for k, s in expected.data.summaries.items()}
    assert searched[linked].info.artifact_uri == (tmp_path / "elsewhere").resolve().as_uri()


def test_a_sweep_searched_is_what_get_run_reads(root):
    for i in range(4):  # every run has every key
        make_run(root, f"sweep{i}", params={"lr": i / 10, "depth": i}, metrics={"acc": [0.1 * i, 0.2], "loss": [1.0]})
    client = Client(root)
    for run in client.search_runs(filter_string="params.depth >= 1", order_by=["metrics.acc DESC"]):
        expected = client.get_run(run.info.run_id)
        assert (run.info, run.data) == (expected.info, expected.data)
        assert list(run.data.metrics) == list(expected.data.metrics) == ["acc", "loss"]


def test_the_module_level_search_sees_changes_between_calls(root):
    tracker.set_tracking_uri(root)
    try:
        kept = make_run(root, "kept").run_id
        other = Client(root).create_experiment("other")
        with tracker.start_run(experiment_id=other, run_name="elsewhere"):
            pass
        assert sorted(r.info.run_name for r in tracker.search_runs(search_all_experiments=True, output_format="list")) \
            == ["elsewhere", "kept"]
        Client(root).set_tag(kept, "stage", "prod")
        found = tracker.search_runs(filter_string="tags.stage = 'prod'", search_all_experiments=True,
                                    output_format="list")
        assert [r.info.run_id for r in found] == [kept]
        Client(root).delete_experiment(other)  # its runs go with it, and it is no longer searched
        assert [r.info.run_name for r in tracker.search_runs(search_all_experiments=True, output_format="list")] \
            == ["kept"]
        assert [r.info.run_name for r in tracker.search_runs(experiment_names=["other"], run_view_type=3,
                                                             output_format="list")] == ["elsewhere"]
    finally:
        tracker.set_tracking_uri(None)


def test_a_killed_writer_is_seen_and_a_table_handed_out_keeps_its_statuses(root):
    make_run(root, "done")
    code = ("import sys, tracker\n"
            "run = tracker.start_run(run_name='victim')\n"
            "print(run.info.run_id, flush=True)\n"
            "sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "TRACKER_DIR": str(root)})
    client = Client(root)
    try:
        run_id = proc.stdout.readline().strip()
        assert client.get_run(run_id).info.status == "RUNNING"
        handed_out = client.runs_table()
        assert [r.info.status for r in client.search_runs(filter_string="attributes.status = 'RUNNING'")] == [
            "RUNNING"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stdin.close()
    assert [r.info.run_name for r in client.search_runs(filter_string="attributes.status = 'KILLED'")] == ["victim"]
    assert handed_out.text["status"].get(handed_out.position(run_id)) == "RUNNING"  # not changed under its holder


def test_folders_not_named_by_a_run_id_are_not_searched(root):
    run_id = make_run(root, "real").run_id
    client = Client(root)
    assert _names(client) == ["real"]
    for name in (run_id.upper(), "g" * 32, "é" * 32, run_id[:31] + "\n", os.fsdecode(b"\xff" * 32)):
        shutil.copytree(root / run_id, root / name)  # a copy of a real run, under a name no run has
    assert _names(client) == ["real"]
    assert _names(Client(root)) == ["real"]
