"""On a PostgreSQL registry the registry panel listens instead of polling: a model another process
registers shows within a second of its commit, and a connection the server ends is made again."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import peewee as pw
import pytest
from registry_panel_fixtures import *  # noqa: F403 (qt_settings: autouse)
from registry_panel_fixtures import make_panel

from app.registry import jobs
from tracker.registry import notify
from tracker.registry.registry import Registry


@pytest.fixture
def shared_panel(qtbot, tracking_dir, postgres_url, monkeypatch):
    """A panel on a PostgreSQL registry, once it listens; nothing may poll the registry meanwhile."""
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
    polls = []
    real = jobs.changed_token
    monkeypatch.setattr(jobs, "changed_token", lambda root: polls.append(root) or real(root))
    panel = make_panel(qtbot, tracking_dir)
    qtbot.waitUntil(lambda: panel.changes.listening() and not panel.poll_timer.isActive(), timeout=10000)
    polls.clear()
    panel.polls = polls
    yield panel
    panel.shutdown()
    assert not panel.changes.listening() and not panel.poll_timer.isActive()


def register_elsewhere(url: str, runs, tmp_path, name: str) -> subprocess.Popen:
    source = tmp_path / f"{name}.bin"
    source.write_bytes(name.encode())
    env = {**os.environ, "TRACKER_REGISTRY_URL": url, "TRACKER_DIR": str(runs)}
    return subprocess.Popen([sys.executable, "-c", "import sys; from tracker.cli import main; sys.exit(main())",
                             "models", "register", str(source), name, "--dir", str(runs)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_model_registered_by_another_process_shows_within_a_second(qtbot, shared_panel, postgres_url,
                                                                      tracking_dir, tmp_path):
    panel = shared_panel
    child = register_elsewhere(postgres_url, tracking_dir, tmp_path, "fraud")
    shown_at = []

    def shown() -> bool:
        if panel.ui.models_model.row_of("fraud") < 0:
            return False
        shown_at.append(time.time())
        return True
    qtbot.waitUntil(shown, timeout=60000)  # the other process starts Python first
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    registered_at = panel.ui.models_model.get("fraud").creation_timestamp / 1000  # taken before its commit
    assert shown_at[0] - registered_at < 1.0
    assert panel.polls == []  # heard, not polled for


def test_the_panel_listens_again_after_the_server_ends_its_connection(qtbot, shared_panel, postgres_url,
                                                                      tracking_dir, tmp_path):
    panel = shared_panel
    params = notify.connect_params(postgres_url)
    admin = pw.PostgresqlDatabase(params.pop("dbname"), **params)
    try:
        admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
    finally:
        admin.close()
    qtbot.waitUntil(lambda: "registry's server are back" in panel.ui.message.text(), timeout=10000)
    registry = Registry(tracking_dir, url=postgres_url)
    try:
        registry.register_model(register_source(tmp_path), "churn")
    finally:
        registry.close()
    qtbot.waitUntil(lambda: panel.ui.models_model.row_of("churn") >= 0, timeout=5000)
    assert panel.polls == []


def register_source(tmp_path):
    path = tmp_path / "churn.bin"
    path.write_bytes(b"churn")
    return path


def test_a_server_that_cannot_be_reached_is_said_and_nothing_polls_it(qtbot, tracking_dir, monkeypatch):
    import socket
    with socket.socket() as closed:  # bound, never listening: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        monkeypatch.setenv("TRACKER_REGISTRY_URL", f"postgresql://postgres@127.0.0.1:{port}/team")
        panel = make_panel(qtbot, tracking_dir)
        try:
            qtbot.waitUntil(lambda: "refused" in panel.ui.message.text(), timeout=10000)
            assert panel.changes.listening() and not panel.poll_timer.isActive()
            assert panel.ui.models_model.rowCount() == 0
        finally:
            panel.shutdown()
    assert not panel.changes.listening()
