"""Real processes: a writer killed mid-run, SIGTERM, and eight writers into one directory."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from tracker import Client

LOGGER = textwrap.dedent("""
    import sys, time, tracker
    n_flushed = int(sys.argv[1])
    with tracker.start_run(run_name="victim") as run:
        for i in range(n_flushed):
            tracker.log_metric("loss", i * 0.5)
        # wait until the background writer has flushed these points, then say so
        from tracker.writer import FLUSHER
        FLUSHER.flush_all()
        print(run.info.run_id, flush=True)
        i = n_flushed
        while True:  # keep logging until killed
            tracker.log_metric("loss", i * 0.5)
            i += 1
            if i % 1000 == 0:
                time.sleep(0.001)
""")


def spawn(tracking_dir, code, *args):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_keeps_flushed_points_and_reads_killed(tracking_dir):
    proc = spawn(tracking_dir, LOGGER, 5000)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    assert Client().get_run(run_id).info.status == "RUNNING"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    series = Client().metric_series(run_id, "loss")
    assert len(series) >= 5000
    # every point read back is exactly what was logged, in order, with no gaps
    assert np.array_equal(series.steps, np.arange(len(series)))
    assert np.array_equal(series.values, np.arange(len(series)) * 0.5)
    assert Client().get_run(run_id).info.status == "KILLED"


def test_sigterm_flushes_and_marks_killed(tracking_dir):
    proc = spawn(tracking_dir, LOGGER, 100)
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM
    run = Client().get_run(run_id)
    assert run.info.status == "KILLED"
    # everything logged before the signal was flushed, and the summary agrees with the file
    series = Client().metric_series(run_id, "loss")
    assert len(series) >= 100 and run.data.summaries["loss"].count == len(series)


def test_interpreter_exit_ends_an_open_run(tracking_dir):
    code = "import tracker\ntracker.start_run(run_name='open')\nfor i in range(10): tracker.log_metric('m', i)\n"
    assert spawn(tracking_dir, code).wait(timeout=30) == 0
    run = Client().search_runs()[0]
    assert run.info.status == "FINISHED" and run.data.summaries["m"].count == 10


def test_uncaught_exception_marks_an_open_run_failed(tracking_dir):
    code = "import tracker\ntracker.start_run()\ntracker.log_metric('m', 1)\nraise SystemError('boom')\n"
    assert spawn(tracking_dir, code).wait(timeout=30) == 1
    run = Client().search_runs()[0]
    assert run.info.status == "FAILED" and "boom" in run.info.error


WRITER = textwrap.dedent("""
    import sys, tracker
    worker, n = int(sys.argv[1]), int(sys.argv[2])
    with tracker.start_run(run_name=f"writer-{worker}"):
        tracker.log_param("worker", worker)
        for i in range(n):
            tracker.log_metric("value", worker * 1_000_000 + i)
""")


def test_eight_processes_write_one_directory_at_once(tracking_dir):
    n = 50_000
    procs = [spawn(tracking_dir, WRITER, w, n) for w in range(8)]
    # read while they write: a reader never raises and never sees a damaged run
    client = Client()
    while any(p.poll() is None for p in procs):
        runs, unreadable = client.scan()
        assert unreadable == []
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    runs = client.search_runs()
    assert len(runs) == 8
    for run in runs:
        worker = int(run.data.params["worker"])
        series = client.metric_series(run.info.run_id, "value")
        assert np.array_equal(series.values, worker * 1_000_000 + np.arange(n))  # each point exactly once
        assert np.array_equal(series.steps, np.arange(n))
        assert run.info.status == "FINISHED" and run.data.summaries["value"].count == n
