"""Choosing where the registry is: ``tracker.set_registry_uri`` / ``get_registry_uri`` (MLflow's names),
``$TRACKER_REGISTRY_URL`` and ``Client(registry_uri=...)``; PostgreSQL or SQLite, same registry."""
from __future__ import annotations

import sys

import pytest

import tracker
from tracker.exceptions import UnsupportedTrackingUri
from tracker.registry import RegistryError


@pytest.fixture(autouse=True)
def registry_uri_reset():
    yield
    tracker.set_registry_uri(None)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"weights")
    return path


def test_set_registry_uri_puts_the_registry_on_postgresql(postgres_url, source, tracking_dir):
    assert tracker.get_registry_uri() == tracker.get_tracking_uri()  # MLflow: defaults to the tracking URI
    tracker.set_registry_uri(postgres_url)
    assert tracker.get_registry_uri() == postgres_url
    version = tracker.register_model(source, "fraud")
    tracker.Client().transition_model_version_stage("fraud", version.version, "Production")
    assert tracker.registry.resolve_models_uri("models:/fraud/Production").read_bytes() == b"weights"
    assert tracker.Client().registry_uri == postgres_url
    assert not (tracking_dir / "registry.db").exists()  # nothing beside the runs
    assert (tracking_dir / "registry" / "fraud" / "1" / "w.bin").is_file()  # the files are under the runs
    tracker.set_registry_uri(None)
    assert [m.name for m in tracker.Client().search_registered_models()] == []  # back to the local one
    tracker.set_registry_uri(postgres_url)
    assert [m.name for m in tracker.Client().search_registered_models()] == ["fraud"]


def test_the_environment_variable_and_a_clients_own_registry_uri(postgres_url, source, monkeypatch):
    tracker.Client(registry_uri=postgres_url).register_model(source, "shared")
    assert tracker.Client().search_registered_models() == []  # the default stays SQLite beside the runs
    assert tracker.Client(registry_uri=postgres_url).registry_uri == postgres_url
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
    assert tracker.get_registry_uri() == postgres_url
    assert [m.name for m in tracker.Client().search_registered_models()] == ["shared"]


def test_a_path_or_sqlite_url_names_a_sqlite_registry(tmp_path, source):
    tracker.set_registry_uri(str(tmp_path / "team"))
    tracker.register_model(source, "local")
    assert (tmp_path / "team" / "registry.db").is_file()
    tracker.set_registry_uri(f"sqlite:///{tmp_path / 'other.db'}")
    tracker.register_model(source, "other")
    assert (tmp_path / "other.db").is_file()
    assert [m.name for m in tracker.Client().search_registered_models()] == ["other"]


@pytest.mark.parametrize("uri", ["databricks-uc", "http://mlflow.example.com:5000", "s3://bucket/registry"])
def test_a_registry_uri_that_is_no_database_is_refused_at_once(uri):
    with pytest.raises(UnsupportedTrackingUri, match="postgresql://"):
        tracker.set_registry_uri(uri)
    with pytest.raises(UnsupportedTrackingUri):
        tracker.Client(registry_uri=uri)
    assert tracker.get_registry_uri() == tracker.get_tracking_uri()  # unchanged


def test_without_a_postgresql_driver_the_error_says_what_to_install(monkeypatch, source):
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # import psycopg2 -> ImportError
    monkeypatch.setitem(sys.modules, "psycopg", None)
    client = tracker.Client(registry_uri="postgresql://someone:secret@db.example.com/registry")
    with pytest.raises(RegistryError, match=r"tracker\[postgres\]") as raised:
        client.register_model(source, "m")
    assert "secret" not in str(raised.value)


def test_runs_backing_versions_in_a_registry_set_in_code_are_kept_by_purge(postgres_url, source, tracking_dir):
    from tracker.purge import registered_versions_by_run
    with tracker.start_run() as run:
        tracker.log_artifact(str(source))
    tracker.set_registry_uri(postgres_url)
    tracker.register_model(f"runs:/{run.info.run_id}/w.bin", "fraud")
    assert registered_versions_by_run(tracking_dir) == {run.info.run_id: ["fraud v1"]}
