"""A PostgreSQL registry announces its changes: another process's registration reaches a listener here
within a second, and a listener whose connection is cut reconnects and hears what comes next."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import peewee as pw

import tracker
from tracker.registry import notify
from tracker.registry.registry import Registry


def register_elsewhere(url: str, runs, source, name: str) -> subprocess.Popen:
    """``tracker models register`` in a process of its own, against the same PostgreSQL registry."""
    env = {**os.environ, "TRACKER_REGISTRY_URL": url, "TRACKER_DIR": str(runs)}
    return subprocess.Popen([sys.executable, "-c", "import sys; from tracker.cli import main; sys.exit(main())",
                             "models", "register", str(source), name, "--dir", str(runs)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def model_file(tmp_path, content: bytes = b"weights"):
    path = tmp_path / "src" / "model.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


class Heard:
    """What ``follow`` reported, with a way to wait for a condition on it (no sleeps)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.states: list[bool] = []
        self._cond = threading.Condition()

    def on_change(self, names: list[str]) -> None:
        with self._cond:
            self.names.extend(names)
            self._cond.notify_all()

    def on_state(self, connected: bool, detail: str) -> None:
        with self._cond:
            self.states.append(connected)
            self._cond.notify_all()

    def wait_for(self, condition, timeout: float = 30.0) -> None:
        with self._cond:
            assert self._cond.wait_for(condition, timeout), (self.names, self.states)


def test_another_process_registering_reaches_a_listener_within_a_second(postgres_url, tmp_path, tracking_dir):
    listener = notify.Listener(notify.connect_params(postgres_url))
    listener.open()
    try:
        child = register_elsewhere(postgres_url, tracking_dir, model_file(tmp_path), "fraud")
        heard, deadline = [], time.monotonic() + 60  # the other process starts Python first
        while "fraud" not in heard and time.monotonic() < deadline and child.poll() in (None, 0):
            heard += listener.wait(0.2)
        heard_at = time.time()
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert "fraud" in heard
    finally:
        listener.close()
    registry = Registry(tracking_dir, url=postgres_url)
    try:
        registered_at = registry.get_model_version("fraud", 1).creation_timestamp / 1000  # before its commit
    finally:
        registry.close()
    assert heard_at - registered_at < 1.0


def test_a_listener_cut_off_reconnects_and_hears_what_follows(postgres_url, tmp_path, tracking_dir):
    heard, stop = Heard(), threading.Event()
    thread = threading.Thread(target=notify.follow, args=(notify.connect_params(postgres_url), heard.on_change, stop),
                              kwargs={"on_state": heard.on_state, "retry": (0.05, 0.2)})
    thread.start()
    admin = pw.PostgresqlDatabase(**_peewee_args(postgres_url))
    try:
        heard.wait_for(lambda: heard.states == [True] and heard.names == [""])  # "reload": nothing was heard yet
        admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
        heard.wait_for(lambda: heard.states == [True, False, True] and heard.names == ["", ""])
        registry = Registry(tracking_dir, url=postgres_url)
        try:
            registry.register_model(model_file(tmp_path), "churn")
        finally:
            registry.close()
        heard.wait_for(lambda: "churn" in heard.names)
    finally:
        stop.set()
        thread.join(timeout=5)
        admin.close()
    assert not thread.is_alive()


def test_following_an_unreachable_server_reports_it_and_stops_when_asked(postgres_url):
    with socket_closed_port() as port:
        params = {**notify.connect_params(postgres_url), "port": port}
        heard, stop = Heard(), threading.Event()
        thread = threading.Thread(target=notify.follow, args=(params, heard.on_change, stop),
                                  kwargs={"on_state": heard.on_state, "retry": (0.05, 0.1)})
        thread.start()
        heard.wait_for(lambda: heard.states == [False])
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive() and heard.names == []


def test_connection_parameters_only_for_postgresql(tmp_path):
    params = notify.connect_params("postgresql://ana:secret@db.example:5433/team")
    assert params == {"dbname": "team", "user": "ana", "password": "secret", "host": "db.example", "port": 5433}
    db = pw.PostgresqlDatabase("team", host="db.example", user="ana")
    assert notify.connect_params(db) == {"dbname": "team", "host": "db.example", "user": "ana"}
    assert notify.connect_params(f"sqlite:///{tmp_path / 'registry.db'}") is None
    assert notify.connect_params(pw.SqliteDatabase(str(tmp_path / "registry.db"))) is None
    assert notify.connect_params(tracker.Client().registry.db) is None  # the default: SQLite beside the runs


def _peewee_args(url: str) -> dict:
    params = notify.connect_params(url)
    return {"database": params.pop("dbname"), **params}


class socket_closed_port:
    """A localhost port nothing listens on (bound, never listening, so refused at once)."""

    def __enter__(self) -> int:
        import socket
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return self._sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self._sock.close()
