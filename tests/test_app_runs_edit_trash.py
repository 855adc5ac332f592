"""Moving runs to the trash from the runs table: the Delete key (or "Move to Trash") moves the
selected runs through the library, their rows go, and the status bar offers Undo for a few seconds
(its button, or Ctrl+Z) that brings them back; a run still being written is refused with the
library's message and nothing is moved."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

import tracker
from tracker.store import layout
from tracker.writer import RunWriter

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def runs(runs_root):
    return {name: log_run(name, metrics={"acc": 0.5}) for name in ("keep", "drop-1", "drop-2")}


def _focus_table(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.runs_view.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.runs_view.table)


def _select(window, run_ids):
    window.select_run(run_ids[0])
    model, selection = window.runs_model, window.runs_view.table.selectionModel()
    for run_id in run_ids[1:]:
        selection.select(model.index(model.row_of(run_id), 1),
                         selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def _in_trash(root, run_id) -> bool:
    return (root / layout.TRASH_DIR / run_id).is_dir() and not (root / run_id).exists()


def test_delete_key_moves_the_selected_runs_to_the_trash_and_undo_brings_them_back(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    other = open_window(qtbot, runs_root, 3)
    _focus_table(qtbot, window)
    _select(window, [runs["drop-1"], runs["drop-2"]])
    qtbot.keyClick(window.runs_view.table, Qt.Key.Key_Delete)

    qtbot.waitUntil(lambda: names_shown(window) == ["keep"], timeout=3000)
    assert all(_in_trash(runs_root, runs[n]) for n in ("drop-1", "drop-2"))
    qtbot.waitUntil(lambda: names_shown(other) == ["keep"], timeout=3000)  # the other window follows
    offer = window.findChild(QWidget, "undoOffer")
    assert offer.isVisible() and "2 runs" in offer.findChild(QWidget, "undoOfferText").text()
    assert window.runs_view.count_label.text() == "1 run"

    offer.findChild(QToolButton, "undoDelete").click()
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["drop-1", "drop-2", "keep"], timeout=3000)
    qtbot.waitUntil(lambda: sorted(names_shown(other)) == ["drop-1", "drop-2", "keep"], timeout=3000)
    assert not offer.isVisible()
    assert tracker.Client(runs_root).get_run(runs["drop-1"]).info.lifecycle_stage == "active"


def test_ctrl_z_undoes_while_the_offer_shows_and_the_offer_goes_after_a_while(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    _focus_table(qtbot, window)
    _select(window, [runs["drop-1"]])
    window.findChild(QAction, "deleteRunsAction").trigger()
    qtbot.waitUntil(lambda: "drop-1" not in names_shown(window), timeout=3000)
    offer = window.findChild(QWidget, "undoOffer")
    assert offer.isVisible() and "\u201cdrop-1\u201d" in offer.findChild(QWidget, "undoOfferText").text()
    undo = window.findChild(QAction, "undoDeleteAction")
    assert undo.isEnabled() and undo.shortcut().matches(Qt.Modifier.CTRL | Qt.Key.Key_Z)
    qtbot.keyClick(window.runs_view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "drop-1" in names_shown(window), timeout=3000)
    assert not undo.isEnabled()

    _select(window, [runs["drop-2"]])
    with qtbot.waitSignal(window.run_editing.editor.deleted, timeout=3000):
        window.findChild(QAction, "deleteRunsAction").trigger()
    assert offer.isVisible() and undo.isEnabled()
    offer.timer.start(50)  # (the offer's few seconds, shortened)
    qtbot.waitUntil(lambda: not offer.isVisible(), timeout=3000)
    assert not undo.isEnabled()
    qtbot.keyClick(window.runs_view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _in_trash(runs_root, runs["drop-2"])  # nothing to undo any more


def test_a_run_being_written_is_refused_and_nothing_is_half_done(qtbot, runs_root, runs):
    writer = RunWriter.create(runs_root, "live", "Default")  # a run still being written by its writer
    writer.log_metric("acc", 0.1)
    writer.flush()
    try:
        window = open_window(qtbot, runs_root, 4)
        _focus_table(qtbot, window)
        _select(window, [runs["drop-1"], writer.run_id, runs["drop-2"]])
        window.findChild(QAction, "deleteRunsAction").trigger()
        qtbot.waitUntil(lambda: "written" in window.status.text() or "active" in window.status.text(),
                        timeout=3000)
        assert writer.run_id in window.status.text() or "live writer" in window.status.text()
        qtbot.waitUntil(lambda: not window.run_editing.editor.is_busy(), timeout=3000)
        for run_id in (runs["drop-1"], writer.run_id, runs["drop-2"]):
            assert (runs_root / run_id).is_dir(), run_id  # every run where it was
        assert sorted(names_shown(window)) == ["drop-1", "drop-2", "keep", "live"]
        assert not window.findChild(QWidget, "undoOffer").isVisible()
    finally:
        writer.end()
