"""On PostgreSQL every registry write sends ``pg_notify('tracker_registry', <model name>)`` inside its
transaction: a listener hears it once the write commits, and never for a write that rolled back.

The listener is a plain psycopg2 connection (what the app's LISTEN side does), waiting on its
socket with ``select`` until the notification it expects arrives (no fixed sleeps)."""
from __future__ import annotations

import select

import psycopg2
import pytest

import tracker
from tracker.registry import storage
from tracker.registry.db import NOTIFY_CHANNEL


@pytest.fixture
def registry(postgres_url, monkeypatch):
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
    registry = tracker.registry.open_registry()  # the schema exists before anyone listens
    yield registry
    registry.close()


@pytest.fixture
def listener(postgres_url):
    conn = psycopg2.connect(postgres_url)
    conn.autocommit = True
    conn.cursor().execute(f"LISTEN {NOTIFY_CHANNEL}")
    yield conn
    conn.close()


def heard(conn, until: str, timeout: float = 10.0) -> list[str]:
    """Payloads received, in order, up to and including ``until`` (fails after ``timeout`` seconds)."""
    payloads: list[str] = []
    while until not in payloads:
        conn.poll()
        while conn.notifies:
            note = conn.notifies.pop(0)
            assert note.channel == NOTIFY_CHANNEL
            payloads.append(note.payload)
        if until not in payloads:
            assert select.select([conn], [], [], timeout) != ([], [], []), f"no {until!r} after {timeout} s: {payloads}"
    return payloads


def pending(conn) -> list[str]:
    conn.poll()
    payloads = [n.payload for n in conn.notifies]
    conn.notifies.clear()
    return payloads


def test_each_kind_of_write_notifies_with_the_model_name(registry, listener, tmp_path):
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    client = tracker.Client()
    writes = [
        ("fraud", lambda: client.register_model(src, "fraud")),
        ("fraud", lambda: client.register_model(src, "fraud")),
        ("fraud", lambda: client.transition_model_version_stage("fraud", 2, "Production",
                                                                archive_existing_versions=True)),
        ("fraud", lambda: client.set_registered_model_alias("fraud", "champion", 2)),
        ("fraud", lambda: client.delete_registered_model_alias("fraud", "champion")),
        ("fraud", lambda: client.set_registered_model_tag("fraud", "team", "risk")),
        ("fraud", lambda: client.set_model_version_tag("fraud", 1, "k", "v")),
        ("fraud", lambda: client.update_model_version("fraud", 1, "first")),
        ("fraud", lambda: client.update_registered_model("fraud", "the fraud model")),
        ("fraud", lambda: client.delete_model_version("fraud", 1)),
        ("fraud", lambda: client.restore_model_version("fraud", 1)),
        ("churn", lambda: client.create_registered_model("churn")),
        ("churn", lambda: client.delete_registered_model("churn")),
        ("churn", lambda: client.restore_registered_model("churn")),
    ]
    for name, write in writes:
        write()
        assert heard(listener, name) == [name]  # one per transaction: repeats in it are folded
    client.rename_registered_model("fraud", "fraud-v2")
    assert sorted(heard(listener, "fraud-v2") + pending(listener)) == ["fraud", "fraud-v2"]  # old and new name
    client.get_registered_model("fraud-v2")
    client.search_model_versions("name = 'fraud-v2'")
    client.update_model_version("fraud-v2", 1, "first")  # changes nothing: no history, no notification
    client.register_model(src, "marker")
    assert heard(listener, "marker") == ["marker"]  # reads and no-op writes sent nothing before it


def test_a_write_is_heard_only_when_it_commits(registry, listener, tmp_path, monkeypatch):
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    place = storage.place
    seen_inside: list[list[str]] = []

    def place_then_look(tmp, version_dir):  # runs inside the registration's transaction
        seen_inside.append(pending(listener))
        place(tmp, version_dir)

    monkeypatch.setattr(storage, "place", place_then_look)
    tracker.Client().register_model(src, "fraud")
    assert seen_inside == [[]]  # sent in the transaction, not yet delivered
    assert heard(listener, "fraud") == ["fraud"]  # delivered at commit

    def place_and_fail(tmp, version_dir):
        raise OSError("disk full")

    monkeypatch.setattr(storage, "place", place_and_fail)
    with pytest.raises(OSError, match="disk full"):
        tracker.Client().register_model(src, "never")  # its model row and notification roll back
    monkeypatch.setattr(storage, "place", place)
    tracker.Client().register_model(src, "after")
    assert heard(listener, "after") == ["after"]  # in commit order: nothing came for "never"
    assert [m.name for m in tracker.Client().search_registered_models()] == ["after", "fraud"]


def test_schema_creation_notifies_the_whole_registry(postgres_url, listener, monkeypatch, tracking_dir):
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
    tracker.registry.open_registry().close()
    assert heard(listener, "") == [""]
