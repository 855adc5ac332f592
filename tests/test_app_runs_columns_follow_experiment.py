"""The runs table's param and metric columns follow the experiment on screen: its most common
keys until the user picks, new keys as runs log them, choices kept per experiment; the column
chooser is searchable, grouped, and stays open while keys are ticked."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

from app.runs.column_chooser import ColumnChooser

pytestmark = [OFFSCREEN_NOISE, pytest.mark.qt_log_ignore(r"This plugin does not support grabbing the keyboard")]


@pytest.fixture
def two_experiments(runs_root):
    for i in range(3):
        log_run(f"cnn-{i}", "vision", params={"lr": "0.1", "batch": "32", "layers": "4", "dropout": "0.5"},
                metrics={"acc": 0.9, "loss": 0.3, "top5": 0.99, "epoch_time": 12.0})
    log_run("cnn-odd", "vision", params={"lr": "0.2"}, metrics={"acc": 0.8, "rare_metric": 1.0})
    for i in range(2):
        log_run(f"gbm-{i}", "tabular", params={"depth": "6"}, metrics={"rmse": 1.5})
    return runs_root


def _choose(window, experiment: str | None) -> None:
    window.experiments.select(experiment)
    assert window.runs_view.model.row_filter().experiment == experiment


def test_an_experiment_shows_its_own_most_common_keys(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    _choose(window, "tabular")
    assert window.runs_model.extra_columns() == ["params.depth", "metrics.rmse"]
    _choose(window, "vision")
    shown = window.runs_model.extra_columns()
    params = [k for k in shown if k.startswith("params.")]
    metrics = [k for k in shown if k.startswith("metrics.")]
    # three of each, the ones most of its runs have; the rest one click away in the chooser
    assert params[0] == "params.lr" and len(params) == 3
    assert len(metrics) == 3 and "metrics.acc" in metrics and "metrics.rare_metric" not in metrics
    assert not {"params.depth", "metrics.rmse"} & set(shown)
    listed = window.runs_view.column_chooser().groups()
    assert set(listed) == {"Attributes", "Params", "Metrics", "Tags"}
    assert "metrics.rare_metric" in listed["Metrics"] and "params.dropout" in listed["Params"]
    assert "params.depth" not in listed["Params"]  # another experiment's key


def test_keys_a_run_logs_later_appear_as_columns(qtbot, runs_root):
    log_run("first", "live", params={"lr": "0.1"})
    window = open_window(qtbot, runs_root, 1)
    _choose(window, "live")
    assert window.runs_model.extra_columns() == ["params.lr"]
    log_run("second", "live", params={"lr": "0.2", "momentum": "0.9"}, metrics={"val_acc": 0.7})
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 2, timeout=10000)
    qtbot.waitUntil(lambda: window.runs_model.extra_columns() == ["params.lr", "params.momentum", "metrics.val_acc"],
                    timeout=10000)


def test_choices_are_kept_per_experiment_and_across_windows(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    _choose(window, "vision")
    window.runs_view.toggle_column("metrics.rare_metric", True)
    window.runs_view.toggle_column("params.lr", False)
    vision = window.runs_model.extra_columns()
    assert "metrics.rare_metric" in vision and "params.lr" not in vision
    _choose(window, "tabular")
    assert window.runs_model.extra_columns() == ["params.depth", "metrics.rmse"]
    _choose(window, "vision")
    assert window.runs_model.extra_columns() == vision
    window.close()

    again = open_window(qtbot, two_experiments, 6)
    _choose(again, "vision")
    assert again.runs_model.extra_columns() == vision
    _choose(again, "tabular")
    assert again.runs_model.extra_columns() == ["params.depth", "metrics.rmse"]


def test_the_chooser_is_searchable_grouped_and_stays_open_while_ticking(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    _choose(window, "vision")
    view = window.runs_view
    menu = view.column_menu()
    menu.popup(view.table.horizontalHeader().mapToGlobal(QPoint(40, 10)))
    qtbot.waitUntil(menu.isVisible)
    chooser = menu.findChild(ColumnChooser)
    assert chooser is not None
    qtbot.waitUntil(chooser.search.hasFocus)
    qtbot.keyClicks(chooser.search, "o")
    found = {k for k in chooser.visible_keys() if k.startswith(("params.", "metrics."))}
    assert found == {"params.dropout", "metrics.loss", "metrics.top5", "metrics.epoch_time"}
    chooser.search.clear()
    qtbot.keyClicks(chooser.search, "RARE")  # without case
    assert chooser.visible_keys() == ["metrics.rare_metric"]
    chooser.search.clear()

    assert not {"params.layers", "metrics.rare_metric", "metrics.top5"} & set(window.runs_model.extra_columns())
    for key in ("params.layers", "metrics.rare_metric"):  # one click on each check box
        index = chooser.index_of(key)
        chooser.tree.scrollTo(index)
        rect = chooser.tree.visualRect(index)
        box = QPoint(rect.left() + rect.height() // 2, rect.center().y())
        qtbot.mouseClick(chooser.tree.viewport(), Qt.MouseButton.LeftButton, pos=box)
        qtbot.waitUntil(lambda k=key: k in window.runs_model.extra_columns())
        assert menu.isVisible()
    index = chooser.index_of("metrics.top5")  # a click on a key's name ticks it too
    chooser.tree.scrollTo(index)
    qtbot.mouseClick(chooser.tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=chooser.tree.visualRect(index).center())
    assert "metrics.top5" in window.runs_model.extra_columns() and menu.isVisible()
    menu.close()


def test_view_columns_menu_holds_the_chooser(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    window.columns_menu.aboutToShow.emit()
    chooser = window.columns_menu.findChild(ColumnChooser)
    assert chooser is not None
    assert chooser.findChild(QLabel, "columnChooserTitle").text() == "Columns for all runs"
    chooser.set_checked("user", False)
    assert window.runs_view.table.isColumnHidden(window.runs_model.column_index("user"))


def test_the_name_column_stays_in_view_when_scrolled_sideways(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    view = window.runs_view
    view.set_columns([f"params.{k}" for k in ("lr", "batch", "layers", "dropout")]
                     + [f"metrics.{k}" for k in ("acc", "loss", "top5", "epoch_time", "rare_metric")])
    table, frozen = view.table, view.table.frozen
    bar = table.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    assert not frozen.isVisible()  # unscrolled, the table's own Name column is in its place
    bar.setValue(bar.maximum())
    end = bar.value()  # (a column cut by the frozen one at the end is brought out)
    assert end > bar.maximum() - table.columnWidth(window.runs_model.columnCount() - 1)
    name = window.runs_model.column_index("name")
    assert table.visualRect(window.runs_model.index(0, name)).right() < 0  # scrolled out of the table
    qtbot.waitUntil(frozen.isVisible)
    shown = [c for c in range(window.runs_model.columnCount()) if not frozen.isColumnHidden(c)]
    assert shown == [0, name]
    assert frozen.geometry().left() <= table.viewport().geometry().left()
    assert frozen.visualRect(window.runs_model.index(0, name)).width() == table.columnWidth(name)
    # a click on a name in the frozen column selects that run in the table
    cell = frozen.visualRect(window.runs_model.index(2, name))
    qtbot.mouseClick(frozen.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())
    assert [i.row() for i in table.selectionModel().selectedRows()] == [2]
    assert bar.value() == end  # selecting by name does not scroll back
    # its header sorts the table, and shows the table's sort
    header = frozen.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(name) + 20, header.height() // 2))
    main = table.horizontalHeader()
    assert main.sortIndicatorSection() == name and window.runs_model.sort_state()[0] == "name"
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (name, main.sortIndicatorOrder())


def _cut_columns(table) -> list[int]:
    """Columns whose left part is under the frozen overlay and the rest shows."""
    edge = table.frozen_width()
    return [c for c in range(table.frozen_count(), table.model().columnCount())
            if not table.isColumnHidden(c)
            and table.columnViewportPosition(c) < edge < table.columnViewportPosition(c) + table.columnWidth(c)]


def test_no_column_is_left_cut_by_the_frozen_name_column(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    view = window.runs_view
    view.set_columns([f"params.{k}" for k in ("lr", "batch", "layers", "dropout")]
                     + [f"metrics.{k}" for k in ("acc", "loss", "top5", "epoch_time", "rare_metric")])
    table = view.table
    bar = table.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 200)
    for value in (15, 150, 170, 120, 60, bar.maximum()):  # small moves right, then left, then the end
        bar.setValue(value)
        assert _cut_columns(table) == [], value


def test_the_chooser_works_from_the_keyboard(qtbot, two_experiments):
    window = open_window(qtbot, two_experiments, 6)
    _choose(window, "vision")
    chooser = window.runs_view.column_chooser()
    qtbot.addWidget(chooser)
    chooser.show()
    qtbot.keyClicks(chooser.search, "rare")
    qtbot.keyClick(chooser.search, Qt.Key.Key_Return)  # to the first key found
    assert chooser.tree.currentIndex().data(Qt.ItemDataRole.DisplayRole) == "rare_metric"
    qtbot.keyClick(chooser.tree, Qt.Key.Key_Space)
    assert "metrics.rare_metric" in window.runs_model.extra_columns()
