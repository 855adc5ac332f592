"""Console output captured at the descriptor level: C extensions, os.system and children included, the
terminal unchanged, the descriptors put back exactly; a failing or killed run keeps its output."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import tracker
from tracker import Client
from tracker.output_capture import output_log_path, traceback_path

SCRIPT = textwrap.dedent("""
    import os, subprocess, sys, tracker
    print("before-run")
    with tracker.start_run() as run:
        print("from-python")
        sys.stdout.flush()
        os.system("echo from-c")
        subprocess.run([sys.executable, "-c", "import sys; print('from-child'); print('child-err', file=sys.stderr)"])
        print("to-stderr", file=sys.stderr)
        sys.stderr.write("progress 10%\\rprogress 100%\\n")
    print("after-run")
""")


def script(tracking_dir, code):
    """``code`` saved as a script file (a traceback then shows its lines)."""
    path = tracking_dir.parent / "train.py"
    path.write_text(code)
    return str(path)


def run_script(tracking_dir, code, env=None):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir), **(env or {})}
    done = subprocess.run([sys.executable, script(tracking_dir, code)], env=env, capture_output=True, timeout=120)
    # decoded by hand: text=True would turn a progress bar's "\r" into a new line
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def only_run(tracking_dir):
    runs = Client(tracking_dir).search_runs()
    assert len(runs) == 1
    return runs[0]


def test_a_scripts_output_from_python_c_and_children_is_in_the_log_and_still_on_the_terminal(tracking_dir):
    done = run_script(tracking_dir, SCRIPT)
    assert done.returncode == 0, done.stderr
    # the terminal (the real stdout and stderr of the process) gets everything, in order, as without capture
    assert done.stdout.splitlines() == ["before-run", "from-python", "from-c", "from-child", "after-run"]
    assert done.stderr.split("\n") == ["child-err", "to-stderr", "progress 10%\rprogress 100%", ""]
    log = output_log_path(only_run(tracking_dir).path).read_bytes().decode()  # (read_text turns "\r" into "\n")
    for line in ("from-python", "from-c", "from-child", "child-err", "to-stderr", "progress 10%\rprogress 100%"):
        assert line + "\n" in log
    assert "before-run" not in log and "after-run" not in log  # only while the run is active


def test_a_run_that_raises_keeps_its_output_and_its_whole_traceback(tracking_dir):
    code = textwrap.dedent("""
        import os, tracker
        def train():
            raise ValueError("loss is NaN")
        with tracker.start_run():
            print("epoch 1", flush=True)
            os.system("echo from-c")
            train()
    """)
    done = run_script(tracking_dir, code)
    assert done.returncode == 1 and done.stderr.rstrip().endswith("ValueError: loss is NaN")
    run = only_run(tracking_dir)
    assert run.info.status == "FAILED" and run.info.error == "ValueError: loss is NaN"
    assert output_log_path(run.path).read_text() == "epoch 1\nfrom-c\n"
    traceback = traceback_path(run.path).read_text()
    assert traceback.startswith("Traceback (most recent call last):")
    assert 'in train\n    raise ValueError("loss is NaN")' in traceback and "    train()\n" in traceback
    assert traceback.rstrip().endswith("ValueError: loss is NaN")


def test_an_uncaught_exception_outside_a_with_block_is_captured_with_its_traceback(tracking_dir):
    code = "import tracker\ntracker.start_run()\nprint('working', flush=True)\n1 / 0\n"
    done = run_script(tracking_dir, code)
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr
    run = only_run(tracking_dir)
    log = output_log_path(run.path).read_text()
    assert log.startswith("working\nTraceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in log
    assert "1 / 0" in traceback_path(run.path).read_text() and run.info.status == "FAILED"


def test_a_killed_run_keeps_what_it_printed(tracking_dir):
    code = textwrap.dedent("""
        import os, sys, tracker
        with tracker.start_run():
            for i in range(3):
                print(f"step {i}", flush=True)
            os.system("echo ready")
            sys.stdin.readline()
    """)
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    proc = subprocess.Popen([sys.executable, script(tracking_dir, code)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[-1] == "ready\n", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.communicate()
    run = only_run(tracking_dir)
    assert run.info.status == "KILLED"
    assert output_log_path(run.path).read_text() == "step 0\nstep 1\nstep 2\nready\n"


def test_capture_is_off_when_asked_and_in_interactive_sessions(tracking_dir):
    off = "import tracker\nwith tracker.start_run(capture_output=False):\n    print('x')\n"
    assert run_script(tracking_dir, off).stdout == "x\n"
    env_off = "import tracker\nwith tracker.start_run():\n    print('x')\n"
    assert run_script(tracking_dir, env_off, env={"TRACKER_CAPTURE_OUTPUT": "0"}).stdout == "x\n"
    interactive = "import sys, tracker\nsys.ps1 = '>>> '\nwith tracker.start_run():\n    print('x')\n"
    assert run_script(tracking_dir, interactive).stdout == "x\n"
    runs = Client(tracking_dir).search_runs()
    assert len(runs) == 3 and not any(output_log_path(r.path).exists() for r in runs)


def test_the_descriptors_are_put_back_exactly_and_the_thread_joined(tracking_dir):
    before = [os.fstat(fd) for fd in (1, 2)]
    with tracker.start_run(capture_output=True) as run:
        assert not os.path.samestat(os.fstat(1), before[0])  # a pipe while the run is active
        with tracker.start_run(nested=True, capture_output=True) as child:  # a nested run: the parent's log
            os.system("echo from-the-child-run")
        os.system("echo from-c 1>&2")
    assert all(os.path.samestat(os.fstat(fd), st) for fd, st in zip((1, 2), before))
    assert not [t for t in threading.enumerate() if t.name.startswith("tracker-output")]
    log = output_log_path(Client().get_run(run.info.run_id).path).read_text()
    assert log == "from-the-child-run\nfrom-c\n"
    assert not output_log_path(Client().get_run(child.info.run_id).path).exists()


def test_a_live_runs_output_can_be_followed_from_the_last_position(tracking_dir):
    from tracker.output_capture import read_output
    code = textwrap.dedent("""
        import sys, tracker
        with tracker.start_run() as run:
            print(run.info.run_id, flush=True)
            for line in sys.stdin:
                print("echo " + line.strip(), flush=True)
    """)
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    proc = subprocess.Popen([sys.executable, script(tracking_dir, code)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        path = Client(tracking_dir).get_run(run_id).path
        data, position = read_output(path)
        assert data == f"{run_id}\n".encode()  # what the terminal shows is already in the log
        for word in ("one", "two"):
            proc.stdin.write(word + "\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == f"echo {word}\n"
            data, position = read_output(path, position)
            assert data == f"echo {word}\n".encode()
        assert read_output(path, position) == (b"", position)  # nothing new yet
    finally:
        proc.communicate(timeout=60)  # (closes stdin: the script's loop ends, then its run)
    assert proc.returncode == 0
    assert read_output(tracking_dir / ("f" * 32)) == (b"", 0)  # no log: nothing


def test_a_run_that_prints_nothing_has_no_log():
    with tracker.start_run(capture_output=True) as run:
        tracker.log_metric("loss", 0.5)
    assert not output_log_path(Client().get_run(run.info.run_id).path).exists()


def test_lines_of_stdout_and_stderr_stay_whole_in_the_log_and_a_part_line_arrives_within_a_second(tracking_dir):
    from tracker.output_capture import read_output
    code = textwrap.dedent("""
        import os, sys, tracker
        with tracker.start_run() as run:
            for i in range(200):
                print(f"out line {i}")
                print(f"err line {i}", file=sys.stderr)  # two writes: its text, then its newline
            sys.stdout.flush()
            os.write(2, b"downloading 50%")  # a progress line without its end yet
            print(run.info.run_id, flush=True)
            sys.stdin.readline()
    """)
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    proc = subprocess.Popen([sys.executable, script(tracking_dir, code)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(201)]
        run_id = lines[-1].strip()
        path = Client(tracking_dir).get_run(run_id).path
        deadline = time.monotonic() + 10
        while not read_output(path)[0].endswith(b"downloading 50%"):  # the part line, within a second
            assert time.monotonic() < deadline, read_output(path)[0][-200:]
            time.sleep(0.05)
    finally:
        proc.communicate(timeout=60)
    lines = read_output(path)[0].decode().split("\n")
    expected = [f"out line {i}" for i in range(200)] + [f"err line {i}" for i in range(200)]
    assert sorted(line for line in lines if " line " in line) == sorted(expected)  # every line whole
    assert [line for line in lines if " line " not in line] == [run_id, "downloading 50%"]
