"""A filter keystroke or a sort shows its rows in one paint of the runs table: the table lays
itself out before painting (no second pass that paints every cell again), the scroll bar stays
put when the rows come to fit, and the run count keeps its width while the filter is typed."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

pytestmark = OFFSCREEN_NOISE


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def _settle() -> None:
    """Every event the input caused, and those they caused (a zero-interval timer each)."""
    for _ in range(20):
        QApplication.processEvents()


@pytest.fixture
def many_runs(runs_root):
    for i in range(40):
        log_run(f"run-{i:02d}", params={"lr": str(i)}, metrics={"loss": i / 40})
    return runs_root


def test_each_filter_keystroke_paints_the_table_once(qtbot, many_runs):
    window = open_window(qtbot, many_runs, 40)
    window.resize(1024, 700)
    view = window.runs_view
    table, edit = view.table, view.filter_edit
    _settle()
    bar = table.verticalScrollBar()
    assert bar.isVisible()  # 40 runs do not fit
    paints = _Paints()
    table.viewport().installEventFilter(paints)
    edit.setFocus()
    widths = set()
    for key, rows in (("r", 40), ("u", 40), ("n", 40), ("-", 40), ("0", 10), ("7", 1)):
        before = names_shown(window)
        paints.count = 0
        QTest.keyClick(edit, key)
        _settle()
        assert window.runs_model.visible_count() == rows
        changed = names_shown(window) != before
        assert paints.count == 1 if changed else paints.count <= 1, \
            f"{edit.text()!r} painted the table {paints.count} times"
        assert bar.isVisible()  # (shown however few rows: the columns do not shift under the pointer)
        widths.add(view.count_label.width())
    assert names_shown(window) == ["run-07"]
    assert view.count_label.text() == "1 of 40 runs"
    paints.count = 0
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    _settle()
    assert window.runs_model.visible_count() == 10 and paints.count == 1
    assert len(widths) == 1  # the filter line keeps its width while the count changes
    table.viewport().removeEventFilter(paints)


def test_a_sort_paints_the_table_once(qtbot, many_runs):
    window = open_window(qtbot, many_runs, 40)
    window.runs_view.set_columns(["metrics.loss"])
    table, model = window.runs_view.table, window.runs_model
    _settle()
    paints = _Paints()
    table.viewport().installEventFilter(paints)
    assert names_shown(window)[0] == "run-39"  # the newest first
    table.sortByColumn(model.column_index("metrics.loss"), Qt.SortOrder.AscendingOrder)
    _settle()
    assert names_shown(window)[0] == "run-00"
    assert paints.count == 1
    table.viewport().removeEventFilter(paints)
