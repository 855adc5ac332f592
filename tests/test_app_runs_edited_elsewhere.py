"""A finished run edited by another process shows at once in an open window: its folder is not
watched (a watch per run would exhaust inotify), so the editor touches the root's edits note,
which is, and the window then looks for replaced run.json files without waiting for its periodic
check (spaced out at scale: every 45 s at 100,000 runs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

from tracker.store import layout

pytestmark = OFFSCREEN_NOISE
ROOT = Path(__file__).resolve().parents[1]


def _in_another_process(runs_root: Path, code: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", f"import sys, tracker\nclient = tracker.Client(sys.argv[1])\n{code}",
                    str(runs_root)], env=env, check=True, capture_output=True, timeout=120)


def test_a_rename_and_a_tag_from_another_process_show_without_the_periodic_check(qtbot, runs_root, monkeypatch):
    from app.runs import loading
    monkeypatch.setattr(loading, "EDIT_CHECK_SHARE", 1e-9)  # the periodic look for edits: hours away
    first = log_run("first")
    log_run("second")
    window = open_window(qtbot, runs_root)
    qtbot.waitUntil(lambda: not window.is_loading())
    _in_another_process(runs_root, f"client.update_run({first!r}, name='renamed elsewhere')")
    assert layout.edits_noted(runs_root) is not None
    qtbot.waitUntil(lambda: "renamed elsewhere" in names_shown(window), timeout=5000)
    _in_another_process(runs_root, f"client.set_tag({first!r}, 'team', 'vision')")
    qtbot.waitUntil(lambda: window.runs_model.get(first).data.tags.get("team") == "vision", timeout=5000)


def test_the_note_is_never_followed_into_a_fifo_or_a_link(tmp_path):
    os.mkfifo(tmp_path / layout.EDITS_NOTE)
    layout.note_edit(tmp_path)  # returns at once: a FIFO without a reader is not waited on
    target = tmp_path / "elsewhere"
    target.write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(target, other / layout.EDITS_NOTE)
    before = target.stat().st_mtime_ns
    layout.note_edit(other)
    assert target.stat().st_mtime_ns == before and target.read_text() == "x"
