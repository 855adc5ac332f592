"""Registered files in a separate shared folder (``TRACKER_REGISTRY_ARTIFACTS``): versions go there,
load on a machine that mounts it elsewhere, are verified by sha256, and say what is missing when the
folder is not set; versions registered beside the runs before keep loading."""
from __future__ import annotations

import shutil

import pytest
from registry_backends import SQLITE_ONLY, close_registries, registry_backend  # noqa: F401

import tracker
from tracker.cli import main
from tracker.integrity import ModelIntegrityError
from tracker.registry.storage import ARTIFACTS_ENV, ArtifactsFolderUnset

pytestmark = pytest.mark.usefixtures("registry_backend")


def model_file(tmp_path, content: bytes):
    path = tmp_path / "src" / "model.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_versions_go_to_the_folder_and_load_where_another_machine_mounts_it(tmp_path, tracking_dir, monkeypatch):
    here = tmp_path / "mnt" / "team" / "models"
    monkeypatch.setenv(ARTIFACTS_ENV, str(here))
    mv = tracker.register_model(str(model_file(tmp_path, b"weights")), "fraud")
    assert mv.storage_path == str(here / "fraud" / "1" / "model.bin")
    assert (here / "fraud" / "1" / "model.bin").read_bytes() == b"weights"
    assert not (tracking_dir / "registry" / "fraud").exists()
    assert tracker.Client().resolve_models_uri("models:/fraud/1") == here / "fraud" / "1" / "model.bin"

    there = tmp_path / "Volumes" / "team-share" / "models"  # another machine, another mount point
    there.parent.mkdir(parents=True)
    shutil.move(here, there)
    monkeypatch.setenv(ARTIFACTS_ENV, str(there))
    client = tracker.Client()
    assert client.resolve_models_uri("models:/fraud/1").read_bytes() == b"weights"
    assert client.get_model_version("fraud", 1).storage_path == str(there / "fraud" / "1" / "model.bin")

    stored = there / "fraud" / "1" / "model.bin"
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")
    with pytest.raises(ModelIntegrityError):
        client.resolve_models_uri("models:/fraud/1")


def test_without_the_setting_loading_names_it_and_listing_shows_where_the_version_is(tmp_path, monkeypatch):
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "shared"))
    tracker.register_model(str(model_file(tmp_path, b"weights")), "fraud")
    monkeypatch.delenv(ARTIFACTS_ENV)
    client = tracker.Client()
    with pytest.raises(ArtifactsFolderUnset, match=ARTIFACTS_ENV):
        client.resolve_models_uri("models:/fraud/1")
    assert client.get_model_version("fraud", 1).storage_path.replace("\\", "/") == \
        f"${ARTIFACTS_ENV}/fraud/1/model.bin"


def test_versions_registered_beside_the_runs_keep_loading_after_the_folder_is_set(tmp_path, tracking_dir,
                                                                                  monkeypatch):
    tracker.register_model(str(model_file(tmp_path, b"old")), "fraud")
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "shared"))
    tracker.register_model(str(model_file(tmp_path, b"new")), "fraud")
    client = tracker.Client()
    assert client.resolve_models_uri("models:/fraud/1") == tracking_dir / "registry" / "fraud" / "1" / "model.bin"
    assert client.resolve_models_uri("models:/fraud/2") == tmp_path / "shared" / "fraud" / "2" / "model.bin"
    assert client.resolve_models_uri("models:/fraud/1").read_bytes() == b"old"
    assert client.resolve_models_uri("models:/fraud/latest").read_bytes() == b"new"


@SQLITE_ONLY
def test_a_migration_to_postgresql_copies_the_files_into_the_folder(tmp_path, tracking_dir, postgres_url, monkeypatch):
    tracker.register_model(str(model_file(tmp_path, b"local")), "fraud")
    shared = tmp_path / "mnt" / "models"
    monkeypatch.setenv(ARTIFACTS_ENV, str(shared))
    try:
        assert main(["models", "migrate", "--to", postgres_url]) == 0
        monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_url)
        assert tracker.Client().resolve_models_uri("models:/fraud/1") == shared / "fraud" / "1" / "model.bin"
        assert (shared / "fraud" / "1" / "model.bin").read_bytes() == b"local"
    finally:
        close_registries(postgres_url)
