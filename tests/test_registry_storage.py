"""Registered files on disk: failures roll back, crashes leave nothing that blocks, removal works."""
from __future__ import annotations

import os
import shutil
import time

import pytest

import tracker
from tracker.registry import storage
from tracker.registry.registry import Registry

from registry_backends import SQLITE_ONLY, registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"weights")
    return path


def test_a_failure_after_the_rename_rolls_back_and_removes_the_copy(src, tracking_dir, monkeypatch):
    registry = Registry.open()
    registry.register_model(src, "m")
    token = registry.registry_changed_token()

    from tracker.registry import writes
    real = writes.insert

    def broken(table, /, **values):  # fails after the copy was renamed into place and rows were written
        if table is registry.s.Lineage:
            raise RuntimeError("disk on fire")
        return real(table, **values)

    monkeypatch.setattr(writes, "insert", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        registry.register_model(src, "m", tags={"k": "v"})
    monkeypatch.undo()
    assert registry.registry_changed_token() == token
    assert not (tracking_dir / "registry" / "m" / "2").exists()
    assert not list((tracking_dir / "registry" / ".tmp").iterdir())
    assert registry.register_model(src, "m").version == 2  # the number was not used up


def test_a_new_model_that_fails_is_not_created_either(src, monkeypatch):
    registry = Registry.open()
    monkeypatch.setattr(storage, "place", lambda tmp, target: (_ for _ in ()).throw(OSError("read-only fs")))
    with pytest.raises(OSError):
        registry.register_model(src, "fresh")
    monkeypatch.undo()
    assert registry.search_registered_models() == []
    assert registry.registry_changed_token() == (0, 0)


def test_an_orphan_version_directory_from_a_crash_is_replaced(src, tracking_dir):
    registry = Registry.open()
    registry.register_model(src, "m")
    orphan = tracking_dir / "registry" / "m" / "2"
    orphan.mkdir()
    (orphan / "half-written").write_bytes(b"x")
    os.chmod(orphan / "half-written", 0o444)
    mv = registry.register_model(src, "m")
    assert mv.version == 2 and sorted(os.listdir(orphan)) == ["w.bin"]
    registry.verify_model_version("m", 2)


def test_stale_temp_copies_are_cleaned_when_a_registry_opens(tracking_dir):
    Registry(tracking_dir).close()
    tmp_root = tracking_dir / "registry" / ".tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    old, recent = tmp_root / "copy-old", tmp_root / "copy-recent"
    for d in (old, recent):
        d.mkdir()
        (d / "f").write_bytes(b"x")
        os.chmod(d / "f", 0o444)
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    Registry(tracking_dir).close()
    assert not old.exists() and recent.exists()  # a recent one may belong to a live registration


def test_registered_copies_can_be_removed_by_rmtree(src, tracking_dir):
    tracker.register_model(src, "m")
    d = tracking_dir / "registry" / "m"
    assert not os.stat(d / "1" / "w.bin").st_mode & 0o222  # read-only file...
    shutil.rmtree(d)  # what pytest's tmp_path cleanup does: needs writable directories only
    assert not d.exists()


def test_remove_tree_restores_permissions(tmp_path):
    d = tmp_path / "locked"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_bytes(b"x")
    os.chmod(d / "sub" / "f", 0o444)
    os.chmod(d / "sub", 0o555)
    storage.remove_tree(d)
    assert not d.exists()


def test_storage_dir_names():
    assert storage.storage_dir_name("fraud-model_v2.1") == "fraud-model_v2.1"
    assert storage.storage_dir_name("..") == "%2E."
    assert storage.storage_dir_name("a b\\c:d") == "a%20b%5Cc%3Ad"
    long = storage.storage_dir_name("é" * 200)
    assert len(long) <= 120 and "~" in long


@SQLITE_ONLY  # the registry is a file in the tracking directory
def test_a_wiped_tracking_directory_gets_a_fresh_registry(src, tracking_dir):
    tracker.register_model(src, "m")
    shutil.rmtree(tracking_dir)
    assert tracker.register_model(src, "m").version == 1
    assert (tracking_dir / "registry.db").is_file()
