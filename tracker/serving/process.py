"""Start a scoring server in a process of its own, talk to it, and stop it: for the app and for scripts.

    server = start_server("models:/fraud/Production")        # a free port on 127.0.0.1; waits until it answers
    server.url, server.metadata()["version"], server.stats()["requests"]
    server.invoke({"dataframe_split": {"columns": [...], "data": [[...]]}})   # -> Reply(status, headers, body)
    server.stop()                                              # the process (and its workers) are gone after

The process runs ``tracker models serve URI --port 0 --json --parent-pid <this pid>``: it binds a free
port itself and says which on its first stdout line, and it stops by itself if this process dies. Its
log (stderr) goes to a temporary file, read by ``log_text()``.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import get_tracking_dir


class ServerStartError(RuntimeError):
    """The server process exited, or did not answer in time, before it served; the message holds its log."""


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, headers (lower-case names) and body; ``json()`` decodes the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ServerProcess:
    """A running ``tracker models serve`` process. Use ``start_server``; a context manager that stops it."""

    def __init__(self, process: subprocess.Popen, log_path: Path, model_uri: str) -> None:
        self.process, self.log_path, self.model_uri = process, log_path, model_uri
        self.url: str | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True, name="tracker-serving-stdout").start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def host(self) -> str:
        return urlsplit(self._need_url()).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self._need_url()).port or 0

    def _read_stdout(self) -> None:
        with self.process.stdout:
            for line in self.process.stdout:  # the ready line; the server writes nothing else there
                self._lines.put(line)
        self._lines.put(None)

    def poll_ready(self) -> bool:
        """True once the server answers ``/health``; never blocks long (for a GUI timer). Raises
        ``ServerStartError`` with the server's log if it exited before serving."""
        while self.url is None:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                self._check_alive()
                return False
            if line is None:
                self._check_alive(exited=True)
            elif line.startswith("{"):
                self.url = json.loads(line)["url"]
        self._check_alive()
        try:
            return self.request("GET", "/health", timeout=2.0).status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 120.0) -> "ServerProcess":
        """Block until the server answers (``poll_ready``), or raise ``ServerStartError`` (and stop it)."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while not self.poll_ready():
            if time.monotonic() > deadline:
                text = self.log_text()
                self.stop()
                raise ServerStartError(f"the server for {self.model_uri} did not answer within {timeout:g} s:\n{text}")
            time.sleep(delay)  # waiting on another process's start-up: nothing to wait on but time
            delay = min(delay * 2, 0.1)
        return self

    def _check_alive(self, exited: bool = False) -> None:
        if exited:
            self.process.wait(timeout=30)
        if self.process.poll() is not None:
            code, text = self.process.returncode, self.log_text()
            self.stop()
            raise ServerStartError(f"the server for {self.model_uri} exited (status {code}):\n{text}")

    def _need_url(self) -> str:
        if self.url is None:
            raise ServerStartError("the server is not listening yet: call wait_ready() first")
        return self.url

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 30.0) -> Reply:
        """One HTTP request to the server (a new connection each time)."""
        parts = urlsplit(self._need_url())
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def invoke(self, payload: Any, content_type: str = "application/json", timeout: float = 30.0) -> Reply:
        """POST ``payload`` to ``/invocations``: a dict or list (sent as JSON), str or bytes (sent as is)."""
        if isinstance(payload, (dict, list)):
            body = json.dumps(payload).encode("utf-8")
        else:
            body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        return self.request("POST", "/invocations", body, {"Content-Type": content_type}, timeout)

    def metadata(self, timeout: float = 10.0) -> dict[str, Any]:
        """What ``/metadata`` says: name, version, stage, aliases, run id, git commit, files, swap state."""
        return self.request("GET", "/metadata", timeout=timeout).json()

    def stats(self, timeout: float = 10.0) -> dict[str, Any]:
        """What ``/stats`` says: requests, client and server errors, last and mean latency (ms), version."""
        return self.request("GET", "/stats", timeout=timeout).json()

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_text(self, limit: int = 64 * 1024) -> str:
        """The last ``limit`` characters of the server's log (its stderr)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-limit:]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then kill after ``timeout``) and every worker it started, and remove
        its log file; idempotent."""
        import psutil
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        _, alive = psutil.wait_procs(children, timeout=timeout)
        for child in alive:
            try:
                child.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=timeout)
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ServerProcess {self.model_uri} at {self.url or '(starting)'} pid={self.pid}>"


def start_server(model_uri: str, *, host: str = "127.0.0.1", port: int = 0, workers: int = 1,
                 tracking_dir: str | os.PathLike | None = None, trusted: Any = None, trust_code: bool = False,
                 wait: bool = True, timeout: float = 120.0, log_dir: str | os.PathLike | None = None,
                 extra_args: list[str] | None = None) -> ServerProcess:
    """Start ``tracker models serve`` for ``model_uri`` in a new process (``port=0``: a free one).

    With ``wait`` (the default) this returns once the server answers ``/health``, or raises
    ``ServerStartError`` with its log (model not found, tampered, untrusted, port taken...). Without,
    call ``poll_ready()`` from a timer, or ``wait_ready()`` from a worker thread.
    """
    from ..model_trust import normalize_types
    root = Path(tracking_dir) if tracking_dir is not None else get_tracking_dir()
    args = [sys.executable, "-m", "tracker.cli", "models", "serve", str(model_uri), "--dir", str(root),
            "--host", host, "--port", str(port), "--workers", str(workers), "--json",
            "--parent-pid", str(os.getpid())]
    for name in normalize_types(trusted):
        args += ["--trust", name]
    if trust_code:
        args.append("--trust-code")
    args += list(extra_args or [])
    fd, log_name = tempfile.mkstemp(prefix="tracker-serve-", suffix=".log", dir=log_dir)
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                   text=True, encoding="utf-8", errors="replace")
    server = ServerProcess(process, Path(log_name), str(model_uri))
    return server.wait_ready(timeout) if wait else server
