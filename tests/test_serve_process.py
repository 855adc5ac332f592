"""Server processes through the Python API and the command: started on a free port, stopped with every
worker gone, stopped by themselves when the process that started them dies, and `serve` without the
serve extra saying which extra to install."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from serve_fixtures import NAME, iris, register_forests, split_body, wait_for
from tracker.serving import ServerStartError, start_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("process") / "runs"
    register_forests(root, sizes=(5,))
    return root


def gone(pids: list[int]) -> bool:
    return not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def test_start_and_stop_with_workers_leaves_no_process_behind(registry):
    server = start_server(f"models:/{NAME}/1", tracking_dir=registry, workers=2, wait=False)
    try:
        wait_for(server.poll_ready, timeout=300, what="the server answering /health")  # what a GUI timer does
        assert server.host == "127.0.0.1" and server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        workers = wait_for(lambda: len(c := psutil.Process(server.pid).children()) >= 2 and c, timeout=120,
                           what="two workers")
        wait_for(lambda: server.invoke(split_body(iris()[0].iloc[:2])).status == 200, timeout=120,
                 what="a worker answering")
        pids = [server.pid, *(w.pid for w in workers)]
    finally:
        server.stop()
    assert not server.is_running() and not server.log_path.exists()
    wait_for(lambda: gone(pids), timeout=30, what="the server and its workers gone")
    server.stop()  # stopping twice is harmless


def test_a_server_stops_by_itself_when_the_process_that_started_it_dies(registry, tmp_path):
    script = textwrap.dedent(f"""
        import sys, threading
        from tracker.serving import start_server
        server = start_server("models:/{NAME}/1", tracking_dir={str(registry)!r}, timeout=300)
        print(server.pid, server.url, flush=True)
        threading.Event().wait()
    """)
    starter = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid, url = starter.stdout.readline().split()
        assert psutil.pid_exists(int(pid))
    finally:
        starter.kill()
        starter.wait(timeout=30)
        starter.stdout.close()
    wait_for(lambda: gone([int(pid)]), timeout=30, what="the orphaned server gone")


def test_the_command_says_where_it_serves_and_a_taken_port(registry):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "tracker.cli", "models", "serve", f"models:/{NAME}/1",
                                 "--dir", str(registry), "--port", str(port)],
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_model_is_an_error_naming_the_choices(registry):
    with pytest.raises(ServerStartError, match="no version 9"):
        start_server(f"models:/{NAME}/9", tracking_dir=registry, timeout=300)


def test_without_the_serve_extra_the_library_imports_and_serve_names_the_extra(tmp_path):
    site = tmp_path / "no_serve_extra"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\nfor name in ('uvicorn', 'starlette', 'fastapi'):\n    sys.modules[name] = None\n",
        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    check = subprocess.run([sys.executable, "-c", "import tracker, tracker.serving, tracker.registry_cli\n"
                            "try:\n    import uvicorn\nexcept ImportError:\n    print('blocked')"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and check.stdout.split() == ["blocked"], check.stderr
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "models", "serve", "models:/any/1",
                             "--dir", str(tmp_path / "runs")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "pip install 'tracker[serve]'" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
