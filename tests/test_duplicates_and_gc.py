"""Copied run folders are listed (as duplicates, with both paths); what killed writers leave is
cleaned by `tracker gc` and never shown as an artifact; artifact names that cannot be files
get errors that say why."""
from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

import tracker
from tracker import cli
from tracker.store import tempfiles

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window


def _copy_run(root: Path, run_id: str) -> Path:
    copy = root / uuid.uuid4().hex
    shutil.copytree(root / run_id, copy)
    return copy


def test_a_copied_run_folder_is_listed_as_a_duplicate_naming_both_paths(runs_root, capsys):
    first = log_run("first")
    log_run("second")
    copy = _copy_run(runs_root, first)
    client = tracker.Client(runs_root)
    assert sorted(r.info.run_name for r in client.search_runs()) == ["first", "second"]
    [dup] = client.unreadable_runs()
    assert dup.run_id == copy.name and dup.path == str(copy)
    assert f"duplicate run id {first}" in dup.reason and str(runs_root / first) in dup.reason
    assert cli.main(["ls", "--dir", str(runs_root)]) == 0
    assert f"run {copy.name} is unreadable: duplicate run id {first}" in capsys.readouterr().err


def test_a_renamed_run_folder_says_whose_run_json_it_holds(runs_root):
    run_id = log_run("moved")
    os.rename(runs_root / run_id, runs_root / ("a" * 32))
    [bad] = tracker.Client(runs_root).unreadable_runs()
    assert bad.run_id == "a" * 32 and f"belongs to run {run_id}" in bad.reason


@OFFSCREEN_NOISE
def test_the_app_lists_a_copied_run_folder_as_its_own_row(qtbot, runs_root):
    ids = [log_run(f"run-{n}") for n in range(3)]
    copy = _copy_run(runs_root, ids[0])
    window = open_window(qtbot, runs_root, 4)
    model = window.runs_model
    assert model.rowCount() == 4  # the copy is a row of its own, not a fourth run counted over three rows
    from app.runs.model import RUN_ROLE, TOOLTIP
    row = model.row_of(copy.name)
    assert model.index(row, 0).data(RUN_ROLE).path == str(copy)
    status_tip = model.index(row, model.column_index("status")).data(TOOLTIP)
    assert f"duplicate run id {ids[0]}" in status_tip and str(runs_root / ids[0]) in status_tip
    assert model.row_of(ids[0]) is not None  # the original is listed as itself
    assert window.select_run(copy.name)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.run().path == str(copy))
    from PySide6.QtWidgets import QLabel
    shown = "\n".join(label.text() for label in window.details.findChildren(QLabel))
    assert "Duplicate: a copy of another run's folder" in shown
    assert str(copy) in shown and str(runs_root / ids[0]) in shown  # both paths
    qtbot.waitUntil(lambda: "could not be read" in window.statusBar().currentMessage())
    assert window.statusBar().currentMessage().startswith("Loaded 3 runs")


@OFFSCREEN_NOISE
@pytest.mark.parametrize("how", ["a file", "listing denied"])
def test_opening_an_unreadable_directory_shows_a_message(qtbot, runs_root, monkeypatch, how):
    log_run("hidden")
    if how == "a file":
        target = runs_root.parent / "not-a-folder"
        target.write_text("x")
    else:
        target = runs_root  # (tests may run as root, whom chmod does not stop: listing is refused here)

        def refusing(real):
            def denied(path="."):
                if os.fspath(path) == os.fspath(runs_root):
                    raise PermissionError(13, "Permission denied", os.fspath(path))
                return real(path)
            return denied
        monkeypatch.setattr(os, "scandir", refusing(os.scandir))
        monkeypatch.setattr(os, "listdir", refusing(os.listdir))
    from app.shell.window import MainWindow
    window = MainWindow(target)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=10000)
    message = window.statusBar().currentMessage()
    assert ("is not a directory" in message) if how == "a file" else ("Permission denied" in message)
    assert window.runs_model.total_count() == 0


# ---- leftovers of killed writers --------------------------------------------------------------

def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_gc_removes_old_temp_files_and_half_created_runs_and_keeps_everything_else(runs_root, capsys):
    run_id = log_run("done", artifacts={"notes.txt": "hello"})
    artifacts = runs_root / run_id / "artifacts"
    stale = artifacts / ".model.pkl.k2j4h1xq.part"
    stale.write_bytes(b"half a model")
    _age(stale, 7200)
    fresh = artifacts / ".other.bin.a1b2c3d4.part"  # a write in progress, maybe
    fresh.write_bytes(b"x")
    doc_temp = runs_root / run_id / ".run.json.zz9abc_1.tmp"
    doc_temp.write_text("{")
    _age(doc_temp, 7200)
    staging = runs_root / (".tmp-" + "c" * 32)
    (staging / "artifacts").mkdir(parents=True)
    _age(staging, 7200)
    exp_temp = runs_root / "experiments" / ".x~abc.json.q1w2e3r4.tmp"
    exp_temp.write_text("{")
    _age(exp_temp, 7200)
    lookalike = artifacts / "results.part"  # a user's file, not one of ours
    lookalike.write_text("keep")
    _age(lookalike, 7200)

    assert cli.main(["gc", "--dir", str(runs_root), "--dry-run"]) == 0
    assert stale.exists() and staging.exists()
    assert cli.main(["gc", "--dir", str(runs_root)]) == 0
    out = capsys.readouterr().out
    assert not stale.exists() and not doc_temp.exists() and not staging.exists() and not exp_temp.exists()
    assert fresh.exists() and lookalike.exists() and (artifacts / "notes.txt").read_text() == "hello"
    assert f"removed {stale}" in out
    assert tracker.Client(runs_root).get_run(run_id).info.run_name == "done"


def test_gc_leaves_a_live_writers_run_alone(runs_root):
    with tracker.start_run(run_name="live") as run:
        part = runs_root / run.info.run_id / "artifacts" / ".big.bin.abcdefgh.part"
        part.write_bytes(b"being written")
        _age(part, 7200)
        done = tempfiles.collect(runs_root)
        assert part.exists() and done.skipped_live == [run.info.run_id]
    assert tempfiles.collect(runs_root).removed == [part]


def test_temp_files_are_never_listed_as_artifacts(runs_root):
    run_id = log_run("r", artifacts={"a.txt": "a", "sub/b.txt": "b"})
    artifacts = runs_root / run_id / "artifacts"
    (artifacts / ".a.txt.abcd1234.part").write_text("half")
    (artifacts / "sub" / ".c.txt.zzzz9999.part").write_text("half")
    client = tracker.Client(runs_root)
    listed = [(f.path, f.is_dir) for f in client.list_artifacts(run_id)]
    assert listed == sorted(listed) and ("a.txt", False) in listed and ("sub", True) in listed
    assert not any(path.endswith(".part") for path, _ in listed)
    assert [f.path for f in client.list_artifacts(run_id, "sub")] == ["sub/b.txt"]
    removed = tempfiles.remove_run_temp_files(runs_root / run_id)  # what the run's next writer does
    assert sorted(removed) == [artifacts / ".a.txt.abcd1234.part", artifacts / "sub" / ".c.txt.zzzz9999.part"]
    assert tempfiles.run_temp_files(runs_root / run_id) == []


# ---- names that cannot be files ---------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "", "dir/", "a/.", "..", "reports/.."])
def test_log_text_needs_a_file_name(runs_root, name):
    with tracker.start_run():
        with pytest.raises(ValueError, match="must end with a file name"):
            tracker.log_text("x", name)


def test_too_long_artifact_names_say_which_limit(runs_root, tmp_path):
    with tracker.start_run() as run:
        with pytest.raises(ValueError, match="is 300 bytes long; a file or folder name may have at most 255 bytes"):
            tracker.log_text("x", "n" * 300)
        with pytest.raises(ValueError, match="may have at most 255 bytes"):
            tracker.log_text("x", "é" * 128 + ".txt")  # 128 characters, 260 bytes
        with pytest.raises(ValueError, match="makes a path of .* bytes"):
            tracker.log_text("x", "d/" * 2100 + "f.txt")
        local = tmp_path / ("m" * 250)
        local.write_text("x")
        with pytest.raises(ValueError, match="at most 255 bytes"):
            tracker.log_artifact(str(local), "a" * 256)
        tracker.log_text("fits", "y" * 255)  # at the limit: fine, its temp file too
    artifacts = runs_root / run.info.run_id / "artifacts"
    assert [n for n in os.listdir(artifacts) if n != "tracker"] == ["y" * 255]  # nothing half-written


def _deny_stat(monkeypatch, hidden: Path) -> None:
    """``os.stat`` of anything under ``hidden`` fails with EACCES, as for a user who cannot enter it
    (the tests run as root, for whom chmod denies nothing)."""
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path).startswith(os.fspath(hidden)):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(os, "stat", stat)


@OFFSCREEN_NOISE
def test_the_app_started_on_a_folder_it_may_not_look_at_shows_a_message(qtbot, tmp_path, monkeypatch):
    """`tracker-app /root/runs` as a user who cannot enter /root: stat fails with EACCES."""
    hidden = tmp_path / "private" / "runs"
    hidden.mkdir(parents=True)
    _deny_stat(monkeypatch, hidden)
    from app import main
    monkeypatch.setattr(main, "configure_application", lambda: None)  # keep this test's settings
    _, window = main.launch(main.parse_args([str(hidden)]))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "Permission denied" in window.statusBar().currentMessage(), timeout=10000)
    window.close()


@OFFSCREEN_NOISE
def test_the_app_started_without_a_folder_skips_a_last_one_it_may_not_look_at(qtbot, tmp_path, monkeypatch):
    hidden = tmp_path / "private" / "runs"
    hidden.mkdir(parents=True)
    from app.shell.settings import Settings
    Settings().set_str("directories/last", str(hidden))
    _deny_stat(monkeypatch, hidden)
    from app import main
    monkeypatch.setattr(main, "configure_application", lambda: None)  # keep this test's settings
    _, window = main.launch(main.parse_args([]))
    qtbot.addWidget(window)
    assert window.runs_dir is None and window.pages.currentWidget() is window.welcome
    window.close()


def test_gc_leaves_a_run_alone_while_a_writer_holds_its_lock(runs_root):
    """Whatever run.json says: a writer on another host resuming it, say, holds the lock."""
    from tracker.store.runlock import RunLock
    run_id = log_run("finished")
    part = runs_root / run_id / "artifacts" / ".late.bin.abcdefgh.part"
    part.write_bytes(b"being written")
    _age(part, 7200)
    lock = RunLock.acquire(runs_root / run_id, run_id, "elsewhere")
    try:
        assert tempfiles.collect(runs_root).skipped_live == [run_id] and part.exists()
    finally:
        lock.release()
    assert tempfiles.collect(runs_root).removed == [part]


def test_resuming_a_run_removes_what_a_killed_writer_left_and_keeps_recent_uploads(runs_root):
    run_id = log_run("resumed", artifacts={"notes.txt": "hello"})
    artifacts = runs_root / run_id / "artifacts"
    left = artifacts / ".model.pkl.k2j4h1xq.part"
    left.write_bytes(b"half a model")
    _age(left, 600)
    recent = artifacts / ".upload.bin.a1b2c3d4.part"  # another process may still be writing it
    recent.write_bytes(b"in progress")
    with tracker.start_run(run_id=run_id):
        assert not left.exists() and recent.exists()
    assert (artifacts / "notes.txt").read_text() == "hello"
