"""On PostgreSQL, what is damage is reported as ``RegistryDamagedError`` naming the database (not a
``registry.db`` file), and what is not (a lock timeout, a dropped connection) reaches the caller as
the database's own error; after a dropped connection the next call connects again."""
from __future__ import annotations

import peewee as pw
import psycopg2
import pytest

import tracker
from tracker.registry import RegistryDamagedError


@pytest.fixture
def client(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    client = tracker.Client()
    client.register_model(src, "fraud", trusted=["sklearn.tree._tree.Tree"])
    yield client
    client.registry.close()


def sql(url: str, statement: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


def assert_damage_names_the_database(error: RegistryDamagedError, url: str) -> None:
    text = str(error)
    assert "is damaged" in text and "Your runs are not affected" in text
    assert url.rsplit("/", 1)[-1] in text and text.count("postgresql://") == 1
    assert "registry.db" not in text and "Restore the database from a backup" in text


@pytest.mark.parametrize(("statement", "read"), [
    ("UPDATE model_version_lineage SET data = '{not json'", lambda c: c.get_model_lineage("fraud", 1)),
    ("UPDATE model_version_trust SET types = 'nope'", lambda c: c.registry.locate_models_uri("models:/fraud/1")),
    ("UPDATE model_versions SET current_stage = 'Shipped'", lambda c: c.search_model_versions()),
    ("UPDATE model_versions SET files = '[1'", lambda c: c.verify_model_version("fraud", 1)),
    ("DROP TABLE model_version_lineage", lambda c: c.get_model_lineage("fraud", 1)),
], ids=["lineage-json", "trust-json", "stage", "files-json", "dropped-table"])
def test_damage_is_reported_naming_the_database(client, postgres_url, statement, read):
    sql(postgres_url, statement)
    with pytest.raises(RegistryDamagedError) as raised:
        read(client)
    assert_damage_names_the_database(raised.value, postgres_url)


def test_a_lock_timeout_is_the_databases_error_not_damage(client, postgres_url, monkeypatch):
    impatient = f"{postgres_url}?options=-c%20lock_timeout%3D200"  # the writer gives up on a held lock
    monkeypatch.setenv("TRACKER_REGISTRY_URL", impatient)
    holder = psycopg2.connect(postgres_url)
    try:
        holder.cursor().execute("SELECT id FROM registered_models WHERE name = 'fraud' FOR UPDATE")  # in a tx
        with pytest.raises(pw.OperationalError, match="lock timeout"):
            tracker.Client().set_registered_model_tag("fraud", "team", "ml")
    finally:
        holder.rollback()
        holder.close()
    tracker.Client().set_registered_model_tag("fraud", "team", "ml")  # the lock is free: it goes through
    assert tracker.Client().get_registered_model("fraud").tags == {"team": "ml"}


def test_after_the_connection_is_dropped_the_next_call_connects_again(client, postgres_url):
    pid = client.registry.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    sql(postgres_url, f"SELECT pg_terminate_backend({pid})")  # as a server restart or a network cut does
    with pytest.raises((pw.OperationalError, pw.InterfaceError)) as raised:
        client.get_registered_model("fraud")
    assert not isinstance(raised.value, RegistryDamagedError)
    assert client.get_registered_model("fraud").latest_version == 1  # a new connection
    assert client.registry.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid
