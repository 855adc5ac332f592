"""A runs folder shared by several machines: a run written on another host is refused to writers
here while its heartbeat is fresh, and reads KILLED by heartbeat age (never by a local pid).

A second machine is played by a real second process whose host name is overridden
(``TRACKER_HOSTNAME``, the one seam through which the library names its machine). When that
process has died on the same machine, the kernel's lock is gone too: what is left is exactly
what a reader on another machine sees when the file system's locks do not reach across.
"""
import os
import subprocess
import sys
import textwrap

import pytest

import tracker
from tracker import Client, MlflowException, store
from tracker.entities import RunStatus
from tracker.store import layout
from tracker.store.runlock import RunLockedError

posix_only = pytest.mark.skipif(os.name != "posix", reason="the second process is killed with os._exit / signals")

# Starts a run (or resumes argv[2]), says its id, waits for a line, and dies without ending the run:
# a machine that lost power, or that this one cannot see any more.
WRITER = """
    import os, sys, tracker, tracker.writer
    run = tracker.start_run(run_name="on another machine") if len(sys.argv) < 2 else tracker.start_run(sys.argv[1])
    tracker.log_param("where", tracker.store.this_host())
    tracker.log_metric("loss", 1.0)
    tracker.writer.FLUSHER.flush_all()  # (os._exit below loses what is not flushed, as a power cut would)
    print(run.info.run_id, flush=True)
    sys.stdin.readline()
    os._exit(0)
"""

RESUMER = """
    import sys, tracker
    try:
        with tracker.start_run(sys.argv[1]):
            tracker.log_param("resumed_on", tracker.store.this_host())
    except tracker.MlflowException as e:
        print(e.error_code, e, flush=True)
        sys.exit(3)
    print("resumed", flush=True)
"""


def _env(tracking_dir, host=None):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir), "TRACKER_CAPTURE_OUTPUT": "0"}
    env.pop("TRACKER_HOSTNAME", None)
    if host is not None:
        env["TRACKER_HOSTNAME"] = host
    return env


def _start_writer(tracking_dir, host=None, *args):
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), *args], env=_env(tracking_dir, host),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert store.is_run_dir_name(run_id), proc.stderr.read()
    return proc, run_id


def _let_die(proc):
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=60) == 0, proc.stderr.read()


def _age_heartbeat(tracking_dir, run_id, seconds):
    beat = tracking_dir / run_id / layout.HEARTBEAT
    old = beat.stat().st_mtime - seconds
    os.utime(beat, (old, old))


def _resume_as(tracking_dir, host, run_id):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(RESUMER), run_id], env=_env(tracking_dir, host),
                          capture_output=True, text=True, timeout=120)


@posix_only
def test_a_run_resumed_from_a_second_host_is_refused_until_its_heartbeat_is_stale(tracking_dir):
    writer, run_id = _start_writer(tracking_dir, "host-b")
    try:
        doc = store.RunDocument.read(tracking_dir / run_id)
        assert doc.info["host"] == "host-b" and doc.params == {"where": "host-b"}
        with pytest.raises(RunLockedError, match="host-b") as alive:  # while its writer lives
            tracker.start_run(run_id)
        assert alive.value.error_code == "INVALID_STATE" and isinstance(alive.value, MlflowException)
    finally:
        _let_die(writer)

    # Its pid is dead here, and the kernel's lock gone: only the heartbeat says host-b still writes.
    assert Client().get_run(run_id).info.status == RunStatus.RUNNING  # not KILLED by a pid of another machine
    with pytest.raises(MlflowException, match=r"pid \d+ on host host-b, heartbeat \d+ s ago") as refused:
        tracker.start_run(run_id)
    assert refused.value.error_code == "INVALID_STATE"
    assert tracker.active_run() is None
    for write in (lambda c: c.log_param(run_id, "from_here", 1), lambda c: c.log_metric(run_id, "loss", 2.0),
                  lambda c: c.set_terminated(run_id), lambda c: c.delete_run(run_id)):
        with pytest.raises(RunLockedError, match="host host-b"):
            write(Client())
    after = Client().get_run(run_id)
    assert after.data.params == {"where": "host-b"}
    assert after.data.metrics == {"loss": 1.0} and after.info.status == RunStatus.RUNNING

    # host-b stopped beating: the run reads KILLED, and this machine may take it up.
    _age_heartbeat(tracking_dir, run_id, store.STALE_SECONDS + 5)
    assert Client().get_run(run_id).info.status == RunStatus.KILLED
    with tracker.start_run(run_id):
        assert store.RunDocument.read(tracking_dir / run_id).info["host"] == store.this_host()
        tracker.log_param("from_here", 1)
    resumed = Client().get_run(run_id)
    assert resumed.info.status == RunStatus.FINISHED
    assert resumed.data.params == {"where": "host-b", "from_here": "1"}


@posix_only
def test_a_second_host_refuses_a_run_this_host_left_running_while_this_host_takes_it_up(tracking_dir):
    # A writer of this machine dies; its heartbeat is fresh. This machine knows its pid is dead;
    # host-b knows nothing of this machine's pids and must go by the heartbeat.
    writer, run_id = _start_writer(tracking_dir)
    _let_die(writer)
    assert Client().get_run(run_id).info.status == RunStatus.KILLED  # here: by the dead pid

    refused = _resume_as(tracking_dir, "host-b", run_id)
    assert refused.returncode == 3, refused.stderr
    assert refused.stdout.startswith("INVALID_STATE") and f"on host {store.this_host()}" in refused.stdout
    assert "resumed_on" not in Client().get_run(run_id).data.params

    _age_heartbeat(tracking_dir, run_id, store.STALE_SECONDS + 5)
    taken = _resume_as(tracking_dir, "host-b", run_id)
    assert taken.returncode == 0 and taken.stdout.strip() == "resumed", taken.stdout + taken.stderr
    run = Client().get_run(run_id)
    assert run.data.params["resumed_on"] == "host-b" and run.info.status == RunStatus.FINISHED
    assert store.RunDocument.read(tracking_dir / run_id).info["host"] == "host-b"


@posix_only
def test_a_resumed_run_beats_at_once_so_other_hosts_see_it_alive(tracking_dir):
    with tracker.start_run() as run:
        pass
    run_id = run.info.run_id
    _age_heartbeat(tracking_dir, run_id, 3600)
    writer, resumed_id = _start_writer(tracking_dir, "host-b", run_id)
    try:
        assert resumed_id == run_id
        refused = _resume_as(tracking_dir, "host-c", run_id)
        assert refused.returncode == 3 and "host host-b" in refused.stdout, refused.stdout + refused.stderr
    finally:
        _let_die(writer)
