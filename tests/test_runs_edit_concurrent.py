"""Editing one run from several real processes at once: nothing is lost, and a second writer is refused."""
import os
import subprocess
import sys
import textwrap

import pytest

import tracker
from tracker import Client
from tracker.store.runlock import RunLockedError

EDITOR = textwrap.dedent("""
    import sys, tracker
    client = tracker.Client()
    run_id, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(n):
        client.set_tag(run_id, f"{prefix}{i}", str(i))
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()  # tells the live writer to stop
""")

LIVE_WRITER = textwrap.dedent("""
    import os, sys, tracker
    stop = sys.argv[1]
    with tracker.start_run(run_name="live") as run:
        print(run.info.run_id, flush=True)
        sys.stdin.readline()  # the editor starts once the run id is known
        i = 0
        while not os.path.exists(stop):
            tracker.set_tag(f"w{i}", str(i))
            tracker.log_metric("loss", 1.0 / (i + 1))
            i += 1
        tracker.set_tag(f"w{i}", str(i))
        i += 1
    print(i, flush=True)
""")

HOLDER = textwrap.dedent("""
    import sys, tracker
    with tracker.start_run(run_id=sys.argv[1]):
        print("holding", flush=True)
        sys.stdin.readline()
""")


def spawn(tracking_dir, code, *args, stdin=None):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir), "TRACKER_CAPTURE_OUTPUT": "0"}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def test_two_processes_tagging_one_finished_run_lose_nothing(tracking_dir):
    with tracker.start_run() as run:
        tracker.log_metric("loss", 0.5)
    run_id = run.info.run_id
    editors = [spawn(tracking_dir, EDITOR, run_id, prefix, 150) for prefix in ("a", "b")]
    for proc in editors:
        finish(proc)
    tags = Client().get_run(run_id).data.tags
    assert {f"a{i}" for i in range(150)} | {f"b{i}" for i in range(150)} <= tags.keys()
    assert Client().get_run(run_id).info.status == "FINISHED"


def test_a_live_writer_and_an_editor_in_another_process_keep_each_others_changes(tracking_dir, tmp_path):
    stop = tmp_path / "stop"
    writer = spawn(tracking_dir, LIVE_WRITER, stop, stdin=subprocess.PIPE)
    run_id = writer.stdout.readline().strip()
    assert run_id, writer.stderr.read()
    writer.stdin.write("go\n")
    writer.stdin.flush()
    finish(spawn(tracking_dir, EDITOR, run_id, "e", 100, stop))  # edits while the writer tags and logs
    written = int(finish(writer).strip())
    run = Client().get_run(run_id)
    assert {f"e{i}" for i in range(100)} <= run.data.tags.keys()  # the writer's commits kept the editor's tags
    assert {f"w{i}" for i in range(written)} <= run.data.tags.keys()
    assert run.info.status == "FINISHED" and run.data.summaries["loss"].count == written - 1


def test_a_second_process_resuming_a_run_is_refused_naming_the_writer(tracking_dir):
    with tracker.start_run() as run:
        pass
    holder = spawn(tracking_dir, HOLDER, run.info.run_id, stdin=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
    try:
        with pytest.raises(RunLockedError, match=f"being written by another live writer \\(pid {holder.pid} "):
            tracker.start_run(run_id=run.info.run_id)
        Client().set_tag(run.info.run_id, "while-held", "ok")  # tags need no writer: still editable
        with pytest.raises(RunLockedError, match="being written by another live writer"):
            Client().delete_run(run.info.run_id)  # a run being written is not moved to the trash
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        finish(holder)
    stored = Client().get_run(run.info.run_id)
    assert stored.data.tags["while-held"] == "ok" and stored.info.lifecycle_stage == "active"
