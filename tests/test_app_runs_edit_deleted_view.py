"""The Deleted view: "Deleted" below the experiments (with the number of runs in the trash) lists the
deleted runs with when they were deleted, read-only, follows deletions and restores made elsewhere,
and its Restore (button or context menu) brings the selected runs back."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication, QPushButton, QTableView, QWidget

import tracker

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window
from app.common.formatting import format_time

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def runs(runs_root):
    return {name: log_run(name, experiment="exp", metrics={"acc": 0.5}) for name in ("a", "b", "c")}


def _entries(window) -> list[tuple[str, int]]:
    model = window.experiments.experiments_model
    return [(model.index(r).data(), model.index(r).data(Qt.ItemDataRole.UserRole + 1))
            for r in range(model.rowCount())]


def _deleted_rows(window) -> list[list[str]]:
    table = window.findChild(QTableView, "deletedRunsTable")
    model = table.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def _choose_deleted(qtbot, window):
    experiments = window.experiments
    row = next(r for r, (name, _) in enumerate(_entries(window)) if name == "Deleted")
    experiments.setCurrentIndex(experiments.model().index(row))
    qtbot.waitUntil(lambda: window.findChild(QWidget, "deletedView") is not None
                    and window.findChild(QWidget, "deletedView").isVisible())
    return window.findChild(QWidget, "deletedView")


def test_deleted_runs_are_listed_below_the_experiments_and_shown_with_their_deletion_time(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    assert "Deleted" not in [name for name, _ in _entries(window)]  # an empty trash shows nothing
    client = tracker.Client(runs_root)
    client.delete_run(runs["b"])  # from outside the app: the window follows the trash
    qtbot.waitUntil(lambda: _entries(window)[-1] == ("Deleted", 1), timeout=5000)
    qtbot.waitUntil(lambda: names_shown(window) == ["c", "a"], timeout=5000)
    assert _entries(window)[:2] == [("All runs", 2), ("exp", 2)]

    view = _choose_deleted(qtbot, window)
    assert not window.runs_view.isVisible()
    deleted_at = format_time(client.deleted_time(runs["b"]), seconds=True)
    assert _deleted_rows(window) == [["b", "exp", _deleted_rows(window)[0][2], deleted_at]]
    table = view.findChild(QTableView, "deletedRunsTable")
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers  # read-only

    client.delete_run(runs["a"])  # deleted while the view shows: it appears, newest deletion first
    qtbot.waitUntil(lambda: [r[0] for r in _deleted_rows(window)] == ["a", "b"], timeout=5000)
    assert _entries(window)[-1] == ("Deleted", 2)
    client.restore_run(runs["b"])  # restored elsewhere: it goes
    qtbot.waitUntil(lambda: [r[0] for r in _deleted_rows(window)] == ["a"], timeout=5000)
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["b", "c"], timeout=5000)


def test_restore_brings_the_selected_runs_back_and_an_empty_trash_leaves_the_view(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    other = open_window(qtbot, runs_root, 3)
    client = tracker.Client(runs_root)
    for name in ("a", "b"):
        client.delete_run(runs[name])
    qtbot.waitUntil(lambda: _entries(window)[-1] == ("Deleted", 2), timeout=5000)
    qtbot.waitUntil(lambda: names_shown(window) == ["c"] and names_shown(other) == ["c"], timeout=5000)
    view = _choose_deleted(qtbot, window)
    button = view.findChild(QPushButton, "restoreRuns")
    table = view.findChild(QTableView, "deletedRunsTable")
    assert button.text() == "Restore" and len(table.selectionModel().selectedRows()) == 1  # the newest deletion
    assert window.details.run().info.run_id == runs["b"]  # shown on the run page, as it was
    table.clearSelection()
    assert not button.isEnabled()
    table.selectAll()
    assert button.isEnabled() and button.text() == "Restore 2 Runs"
    button.click()

    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["a", "b", "c"], timeout=5000)
    qtbot.waitUntil(lambda: sorted(names_shown(other)) == ["a", "b", "c"], timeout=5000)
    assert client.get_run(runs["a"]).info.lifecycle_stage == "active"
    qtbot.waitUntil(lambda: "Deleted" not in [n for n, _ in _entries(window)], timeout=5000)
    assert window.runs_view.isVisible() and not view.isVisible()  # back to the runs
    assert window.experiments.current_experiment() is None and window.runs_view.count_label.text() == "3 runs"


def test_the_context_menu_restores_too(qtbot, runs_root, runs):
    window = open_window(qtbot, runs_root, 3)
    tracker.Client(runs_root).delete_run(runs["c"])
    qtbot.waitUntil(lambda: _entries(window)[-1] == ("Deleted", 1), timeout=5000)
    qtbot.waitUntil(lambda: "c" not in names_shown(window), timeout=5000)
    view = _choose_deleted(qtbot, window)
    table = view.findChild(QTableView, "deletedRunsTable")
    table.selectRow(0)
    chosen = []

    def choose_restore() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, choose_restore)
            return
        chosen.append([a.text() for a in menu.actions()])
        next(a for a in menu.actions() if a.text() == "Restore").trigger()
        menu.close()

    QTimer.singleShot(0, choose_restore)
    table.customContextMenuRequested.emit(table.visualRect(table.model().index(0, 0)).center())
    assert chosen and chosen[0][0] == "Restore"
    qtbot.waitUntil(lambda: "c" in names_shown(window), timeout=5000)
