"""A selection the user makes while the window is still loading survives every later pass:
the rest of the runs arriving, the stored table being checked, sorting and live updates."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run
from index_fixtures import make_run

pytestmark = OFFSCREEN_NOISE


def _selected_ids(window) -> set[str]:
    return {r.info.run_id for r in window.runs_view.selected_runs()}


def _open_selecting_all(qtbot, root) -> tuple:
    """A window whose user presses Ctrl+A in the runs table the moment the first rows are
    there; also returns the run ids that selected (filled then)."""
    from app.shell.window import MainWindow
    window = MainWindow(root)
    qtbot.addWidget(window)
    chosen: set[str] = set()

    def select_all() -> None:
        if window.runs_model.rowCount() and not chosen:
            window.runs_view.table.setFocus()
            QTest.keyClick(window.runs_view.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            chosen.update(_selected_ids(window))
            assert len(chosen) == window.runs_model.rowCount()
    window.runs_model.modelReset.connect(select_all)
    window.show()
    return window, chosen


def test_select_all_as_soon_as_rows_appear_is_kept_while_the_rest_loads(qtbot, runs_root):
    for i in range(1200):  # more than the first partial table holds: the rest arrives later
        make_run(runs_root, f"run-{i}", params={"i": str(i)})
    window, chosen = _open_selecting_all(qtbot, runs_root)
    qtbot.waitUntil(lambda: bool(chosen), timeout=20000)
    assert len(chosen) < 1200  # (the selection was made on the first rows, not on all of them)
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 1200 and not window.is_loading(), timeout=20000)
    assert chosen <= _selected_ids(window)


def test_selection_made_on_the_stored_table_survives_its_check_and_sorting(qtbot, runs_root):
    ids = [log_run(f"r{i}", metrics={"loss": float(i)}) for i in range(5)]
    first, _ = _open_selecting_all(qtbot, runs_root)  # writes the index on close
    qtbot.waitUntil(lambda: first.runs_model.total_count() == 5 and not first.progress.isVisible())
    first.close()
    window, chosen = _open_selecting_all(qtbot, runs_root)
    qtbot.waitUntil(lambda: bool(chosen))
    qtbot.waitUntil(lambda: not window.is_loading())
    assert _selected_ids(window) == set(ids)
    window.runs_view.table.sortByColumn(window.runs_model.column_index("name"), Qt.SortOrder.AscendingOrder)
    assert _selected_ids(window) == set(ids)
    new = log_run("late", metrics={"loss": 9.0})
    qtbot.waitUntil(lambda: window.runs_model.contains(new), timeout=10000)
    assert _selected_ids(window) == set(ids)
