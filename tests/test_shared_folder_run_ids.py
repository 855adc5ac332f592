"""Run ids on a runs folder written by many machines: each new run claims its id exclusively, and a
writer that draws a taken id (a run, a deleted run, or a run being created elsewhere) draws again."""
import os
import subprocess
import sys
import textwrap

import tracker
from tracker import Client, store
from tracker.store import layout, runids
from tracker.writer import RunWriter


def _ids(*ids):
    queue = list(ids)
    return lambda: queue.pop(0)


def test_a_new_run_never_takes_an_id_in_use(tracking_dir, monkeypatch):
    with tracker.start_run(run_name="existing") as existing:
        tracker.log_param("kept", 1)
    with tracker.start_run(run_name="deleted") as deleted:
        pass
    Client().delete_run(deleted.info.run_id)
    creating = "c" * 32  # another writer is building this one right now
    layout.staging_dir(tracking_dir, creating).mkdir()
    fresh = "f" * 32
    monkeypatch.setattr(runids, "new_run_id", _ids(existing.info.run_id, deleted.info.run_id, creating, fresh))

    writer = RunWriter.create(tracking_dir, "new", "Default")
    writer.end()

    assert writer.run_id == fresh
    assert Client().get_run(existing.info.run_id).data.params == {"kept": "1"}
    assert Client().get_run(deleted.info.run_id).info.lifecycle_stage == "deleted"
    assert layout.staging_dir(tracking_dir, creating).is_dir()  # left to its writer
    assert sorted(p.name for p in tracking_dir.iterdir() if p.name.startswith(layout.STAGING_PREFIX)) == [
        layout.STAGING_PREFIX + creating]


def test_a_run_of_the_same_id_created_elsewhere_meanwhile_makes_the_writer_draw_again(tracking_dir, monkeypatch):
    taken, fresh = "a" * 32, "b" * 32
    monkeypatch.setattr(runids, "new_run_id", _ids(taken, fresh))
    real_publish = runids.publish
    other = tracking_dir / taken

    def another_machine_first(staging, final):
        if final == other and not other.exists():  # between the claim and the rename, on another machine
            other.mkdir()
            (other / layout.RUN_DOC).write_text('{"written": "elsewhere"}')
        return real_publish(staging, final)

    monkeypatch.setattr(runids, "publish", another_machine_first)
    writer = RunWriter.create(tracking_dir, "mine", "Default")
    writer.log_params({"mine": "yes"})
    writer.end()

    assert writer.run_id == fresh
    assert (other / layout.RUN_DOC).read_text() == '{"written": "elsewhere"}'  # untouched
    assert Client().get_run(fresh).data.params == {"mine": "yes"}
    assert not [p for p in tracking_dir.iterdir() if p.name.startswith(layout.STAGING_PREFIX)]


def test_a_random_source_that_repeats_itself_is_an_error_not_a_shared_run(tracking_dir, monkeypatch):
    with tracker.start_run() as run:
        pass
    monkeypatch.setattr(runids, "new_run_id", lambda: run.info.run_id)
    try:
        RunWriter.create(tracking_dir, "never", "Default")
    except runids.RunIdsExhausted as e:
        assert "already taken" in str(e)
    else:
        raise AssertionError("a taken id was reused")
    assert [r.info.run_id for r in Client().search_runs(["0"])] == [run.info.run_id]


CREATOR = """
    import sys, tracker
    for i in range(int(sys.argv[1])):
        with tracker.start_run(run_name=f"{tracker.store.this_host()}-{i}") as run:
            tracker.log_param("i", i)
        print(run.info.run_id, flush=True)
"""


def test_writers_on_many_hosts_creating_at_once_get_distinct_runs(tracking_dir):
    tracking_dir.mkdir(parents=True, exist_ok=True)
    hosts, per_host = [f"node-{n}" for n in range(4)], 25
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(CREATOR), str(per_host)],
                              env={**os.environ, "TRACKER_DIR": str(tracking_dir), "TRACKER_HOSTNAME": host,
                                   "TRACKER_CAPTURE_OUTPUT": "0"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for host in hosts]
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        printed += out.split()
    assert len(printed) == len(set(printed)) == len(hosts) * per_host
    runs = Client().search_runs(["0"], max_results=1000)
    assert sorted(r.info.run_id for r in runs) == sorted(printed)
    assert sorted(r.info.run_name for r in runs) == sorted(f"{h}-{i}" for h in hosts for i in range(per_host))
    hosts_written = {store.RunDocument.read(tracking_dir / r.info.run_id).info["host"] for r in runs}
    assert hosts_written == set(hosts)
    assert not [p for p in tracking_dir.iterdir() if p.name.startswith(layout.STAGING_PREFIX)]
