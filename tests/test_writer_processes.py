"""The writer against real processes: file limits, a full disk, a second writer, fork, odd paths."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracker
from tracker import Client, store
from tracker.store.runlock import RunLockedError

posix_only = pytest.mark.skipif(os.name != "posix", reason="resource limits, fork and /proc are POSIX")


def run_script(tracking_dir, code, *args, cwd=None, script=None, timeout=300):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    argv = [sys.executable, os.fsdecode(script)] if script else [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run([*argv, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


MANY_KEYS = """
    import os, resource, sys, tracker
    from tracker.writer import FLUSHER
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    n_keys = int(sys.argv[1])
    most_fds = 0
    with tracker.start_run() as run:
        for round in range(3):
            for k in range(n_keys):
                tracker.log_metric(f"layer{k}/grad_norm", k + round / 10)
                if k % 500 == 0:
                    FLUSHER.flush_all()
                    most_fds = max(most_fds, len(os.listdir("/proc/self/fd")))
        FLUSHER.flush_all()
        most_fds = max(most_fds, len(os.listdir("/proc/self/fd")))
        tracker.log_param("after", "all the keys")  # today's failure: no descriptor left
    print(run.info.run_id, most_fds)
"""


@posix_only
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_thousands_of_keys_under_a_256_file_limit_keep_every_point():
    n_keys = 3000
    proc = run_script(tracker.get_tracking_dir(), MANY_KEYS, n_keys)
    assert proc.returncode == 0, proc.stderr
    run_id, most_fds = proc.stdout.split()
    assert int(most_fds) < 64
    run = Client().get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params == {"after": "all the keys"}
    assert len(run.data.summaries) == n_keys
    for k in range(n_keys):
        series = Client().metric_series(run_id, f"layer{k}/grad_norm")
        assert series.values.tolist() == [k, k + 0.1, k + 0.2] and series.steps.tolist() == [0, 1, 2]
        assert run.data.summaries[f"layer{k}/grad_norm"].count == 3


DISK_FULL = """
    import resource, signal, sys, tracker
    from tracker.writer import FLUSHER, WriteError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    limit = int(sys.argv[1])
    with tracker.start_run() as run:
        print(run.info.run_id, flush=True)
        for i in range(100):
            tracker.log_metric("loss", float(i))
        FLUSHER.flush_all()
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        for i in range(100, 150):
            tracker.log_metric("loss", float(i))
        FLUSHER.flush_all()
        try:
            tracker.log_metric("loss", 150.0)
        except WriteError as e:
            print("raised:", e, flush=True)
        try:
            tracker.end_run()
        except WriteError as e:
            print("end raised:", e, flush=True)
"""


@posix_only
def test_a_full_disk_leaves_summary_and_file_agreeing_and_says_so():
    # room for the header, 100 records and half of one more: the next append is torn by the limit
    limit = 32 + 100 * 32 + 16
    proc = run_script(tracker.get_tracking_dir(), DISK_FULL, limit)
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.split()[0]
    assert "raised: tracker could not save run" in proc.stdout and "too large" in proc.stdout
    assert "end raised: tracker could not save 50 metric points" in proc.stdout
    run = Client().get_run(run_id)
    series = Client().metric_series(run_id, "loss")
    assert series.values.tolist() == [float(i) for i in range(100)]
    assert run.data.summaries["loss"].count == 100 and run.data.summaries["loss"].last == 99.0
    path = store.metric_path(Path(run.path), "loss")
    assert path.stat().st_size == 32 + 100 * 32  # no torn bytes left behind
    assert run.info.status == "FINISHED"


HOLDER = """
    import sys, tracker
    with tracker.start_run(run_id=sys.argv[1]):
        tracker.set_tag("holder", "yes")
        print("holding", flush=True)
        sys.stdin.readline()
"""


@posix_only
def test_a_second_live_writer_is_refused_and_a_killed_one_leaves_no_stuck_lock(tracking_dir):
    with tracker.start_run() as run:
        tracker.log_param("first", 1)
    run_id = run.info.run_id
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), run_id], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        with pytest.raises(RunLockedError, match=f"pid {holder.pid} on host"):
            tracker.start_run(run_id=run_id)
        assert tracker.active_run() is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with tracker.start_run(run_id=run_id):  # the kernel dropped the killed writer's lock
        tracker.log_param("second", 2)
    stored = Client().get_run(run_id)
    assert stored.data.params == {"first": "1", "second": "2"}  # merged, nothing overwritten
    assert stored.data.tags["holder"] == "yes"


EDITOR = """
    import sys, tracker
    with tracker.start_run(run_id=sys.argv[1]):
        tracker.set_tag(sys.argv[2], "set")
        tracker.log_param(sys.argv[2], 1)
"""


@posix_only
def test_processes_editing_a_finished_run_one_after_another_merge_their_edits(tracking_dir):
    with tracker.start_run() as run:
        tracker.log_metric("loss", 0.5)
    for who in ("a", "b", "c"):
        proc = run_script(tracking_dir, EDITOR, run.info.run_id, who)
        assert proc.returncode == 0, proc.stderr
    stored = Client().get_run(run.info.run_id)
    assert {k: v for k, v in stored.data.tags.items() if not k.startswith(("tracker.", "mlflow."))} == \
        {"a": "set", "b": "set", "c": "set"}
    assert stored.data.params == {"a": "1", "b": "1", "c": "1"}
    assert stored.data.summaries["loss"].count == 1


FORK = """
    import json, os, sys, tracker
    from tracker.writer import FLUSHER
    with tracker.start_run(run_name="parent") as run:
        for i in range(100):
            tracker.log_metric("loss", float(i))
        FLUSHER.flush_all()
        for i in range(100, 150):
            tracker.log_metric("loss", float(i))  # buffered at the fork
        pid = os.fork()
        if pid == 0:
            # the child has no active run: logging starts its own
            with tracker.start_run(run_name="child"):
                tracker.log_metric("child_metric", 1.0)
            sys.exit(0)  # a normal exit: atexit handlers run
        _, status = os.waitpid(pid, 0)
        doc = json.load(open(os.path.join(tracker.get_tracking_dir(), run.info.run_id, "run.json")))
        print(os.waitstatus_to_exitcode(status), doc["info"]["status"], flush=True)
        for i in range(150, 200):
            tracker.log_metric("loss", float(i))
    print(run.info.run_id)
"""


@posix_only
def test_a_forked_child_neither_flushes_nor_ends_its_parents_run(tracking_dir):
    proc = run_script(tracking_dir, FORK)
    assert proc.returncode == 0, proc.stderr
    child_exit, status_after_child, run_id = proc.stdout.split()
    assert child_exit == "0" and status_after_child == "RUNNING"
    series = Client().metric_series(run_id, "loss")
    assert series.values.tolist() == [float(i) for i in range(200)]  # each point once
    runs = {r.info.run_name: r for r in Client().search_runs()}
    assert runs["parent"].info.status == "FINISHED" and runs["parent"].data.summaries["loss"].count == 200
    assert runs["child"].data.metrics == {"child_metric": 1.0}


@posix_only
@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names must be UTF-8")
def test_a_script_under_a_non_utf8_path_starts_a_run(tmp_path, tracking_dir):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    script = os.path.join(folder, b"train.py")
    with open(script, "w") as f:
        f.write("import tracker\nwith tracker.start_run():\n    tracker.log_metric('m', 1.0)\n")
    proc = run_script(tracking_dir, None, script=script, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    (run,) = Client().search_runs()
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 1.0}
    name = run.data.tags["tracker.source.name"]
    assert name.endswith("caf\\xe9/train.py")  # the undecodable byte, escaped
    assert "caf\\udce9" in run.data.tags["tracker.source.argv"]  # json.dumps escapes it as \\udce9

