"""Renaming a run in place in the runs table: F2 (or the context menu's "Rename…") opens an editor
on the Name cell, Enter renames the run through the library, Escape leaves it as it was, and every
window on the folder shows the new name without being reopened."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLineEdit

import tracker

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE


def _name_in(window, run_id: str) -> str | None:
    model = window.runs_model
    row = model.row_of(run_id)
    return None if row is None else model.index(row, model.column_index("name")).data()


def _focused_window(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.runs_view.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.runs_view.table)


@pytest.fixture
def runs(runs_root):
    return {name: log_run(name, metrics={"acc": 0.5}) for name in ("first", "second", "third")}


def test_f2_opens_an_editor_on_the_name_and_enter_renames_through_the_library(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    other = open_window(qtbot, runs_root, 3)  # a second window on the same folder
    _focused_window(qtbot, window)
    window.select_run(runs["second"])
    qtbot.keyClick(window.runs_view.table, Qt.Key.Key_F2)
    editor = window.findChild(QLineEdit, "runNameEditor")
    assert editor is not None and editor.isVisible() and editor.hasFocus()
    assert editor.text() == "second" and editor.selectedText() == "second"
    cell = window.runs_view.table.visualRect(window.runs_model.index(window.runs_model.row_of(runs["second"]),
                                                                     window.runs_model.column_index("name")))
    assert cell.contains(editor.geometry().center())  # over the run's Name cell

    qtbot.keyClicks(editor, "baseline v2")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert not editor.isVisible()
    assert tracker.Client(runs_root).get_run(runs["second"]).info.run_name == "baseline v2"
    qtbot.waitUntil(lambda: _name_in(window, runs["second"]) == "baseline v2", timeout=3000)
    qtbot.waitUntil(lambda: _name_in(other, runs["second"]) == "baseline v2", timeout=3000)
    assert window.runs_view.current_run().info.run_name == "baseline v2"  # still the selected run
    assert QApplication.focusWidget() is window.runs_view.table  # the keys go back to the table


def test_escape_cancels_and_nothing_is_written(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    _focused_window(qtbot, window)
    window.select_run(runs["first"])
    rename = window.findChild(QAction, "renameRunAction")
    assert rename is not None and rename.text() == "Rename\u2026"
    rename.trigger()
    editor = window.findChild(QLineEdit, "runNameEditor")
    assert editor.isVisible()
    qtbot.keyClicks(editor, "not this")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not editor.isVisible()
    assert tracker.Client(runs_root).get_run(runs["first"]).info.run_name == "first"
    assert _name_in(window, runs["first"]) == "first"


def test_the_context_menu_offers_rename_and_move_to_trash(qtbot, runs_root, runs):
    from PySide6.QtCore import QTimer
    window = open_window(qtbot, runs_root, 3)
    window.select_run(runs["third"])
    shown = []

    def read_menu() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, read_menu)
            return
        shown.append([a.text() for a in menu.actions()])
        menu.close()

    QTimer.singleShot(0, read_menu)
    table = window.runs_view.table
    row = window.runs_model.row_of(runs["third"])
    table.customContextMenuRequested.emit(table.visualRect(window.runs_model.index(row, 1)).center())
    assert shown and shown[0][:2] == ["Rename\u2026", "Move to Trash"]


def test_a_run_edited_by_another_process_shows_its_new_name(qtbot, runs_root, runs):
    """A finished run's folder is not watched: the loader's periodic check finds its replaced run.json."""
    from app.runs.source import RunsSource
    source = RunsSource(check_ms=50)
    tables = []
    source.loaded.connect(lambda snapshot: tables.append(snapshot.table))
    source.runs_changed.connect(lambda update: tables.append(update.table))
    source.open(runs_root)
    try:
        qtbot.waitUntil(lambda: bool(tables) and tables[-1].n == 3, timeout=5000)
        tracker.Client(runs_root).update_run(runs["third"], name="renamed elsewhere")

        def shown() -> str | None:
            table = tables[-1]
            i = table.position(runs["third"])
            return None if i is None else table.text["run_name"].get(i)
        qtbot.waitUntil(lambda: shown() == "renamed elsewhere", timeout=5000)
    finally:
        source.close()
