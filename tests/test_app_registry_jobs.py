"""The registry panel's jobs use the registry's own rules: what a drop would copy, which run
produced it, and copy progress reported by ``register_model`` itself (no thread polling the
registry's staging folder)."""
from __future__ import annotations

import threading

import pytest

import tracker
from app.registry import jobs


@pytest.fixture
def root(tracking_dir):
    return tracking_dir


def test_registering_reports_progress_from_the_registry_in_the_calling_thread(root, tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"\x01" * (5 << 20))
    (source / "config.json").write_text("{}")
    total = (5 << 20) + 2
    drop = jobs.inspect_paths(root, [source])
    assert (drop.files, drop.size) == (2, total)
    calls, before = [], {t.ident for t in threading.enumerate()}

    def progress(done, size):
        calls.append((done, size, threading.current_thread() is threading.main_thread(),
                      {t.ident for t in threading.enumerate()} - before))

    mv = jobs.register(root, drop, "m", progress=progress)
    assert mv.version == 1 and mv.current_stage == "None"
    assert calls[0][:2] == (0, total) and calls[-1][:2] == (total, total)
    assert len(calls) > 2 and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    assert all(in_caller and not started for _, _, in_caller, started in calls)  # no watcher thread


def test_a_drop_finds_its_run_by_the_registrys_rule_without_creating_a_registry(root, tmp_path):
    outside = tmp_path / "copy"
    outside.mkdir()
    (outside / "small.txt").write_text("s")
    (outside / "big.bin").write_bytes(b"b" * 1000)
    with tracker.start_run(run_name="producer") as run:
        tracker.log_artifact(str(outside / "big.bin"), "model")
    drop = jobs.inspect_paths(root, [outside])
    assert (drop.run_id, drop.found_by, drop.artifact_path, drop.run_name) == \
        (run.info.run_id, "sha256", "model/big.bin", "producer")
    inside = root / run.info.run_id / "artifacts" / "model"
    drop = jobs.inspect_paths(root, [inside])
    assert (drop.run_id, drop.found_by, drop.artifact_path, drop.suggested_name) == \
        (run.info.run_id, "run", "model", "producer")
    assert not (root / "registry.db").exists()
    mv = jobs.register(root, jobs.inspect_paths(root, [outside]), "m")
    assert (mv.run_id, mv.run_link) == (drop.run_id, "sha256")  # the registry agrees with what was shown


def test_refusals_are_the_registrys(root, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(jobs.DropError, match="empty directory"):
        jobs.inspect_paths(root, [empty])
    with pytest.raises(jobs.DropError, match="does not exist"):
        jobs.inspect_paths(root, [tmp_path / "gone"])
