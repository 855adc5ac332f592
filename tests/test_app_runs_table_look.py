"""How the runs table reads: Started with seconds, Duration apart from User, sort arrows the
platform's way (ascending up, descending down) in every table, nested runs that collapse
under their parent."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView

import tracker

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

from app.common.table_look import record_table
from app.shell import theme

pytestmark = OFFSCREEN_NOISE


def _ink(image: QImage, x0: int, x1: int, y0: int, y1: int, background) -> list[int]:
    """The x of every column of pixels in [x0, x1) that differs from ``background`` somewhere in [y0, y1)."""
    out = []
    for x in range(max(0, x0), min(image.width(), x1)):
        for y in range(max(0, y0), min(image.height(), y1)):
            c = image.pixelColor(x, y)
            if abs(c.red() - background.red()) + abs(c.green() - background.green()) + abs(
                    c.blue() - background.blue()) > 120:
                out.append(x)
                break
    return out


def _arrow_points_down(header, section: int) -> bool:
    """Whether the sort arrow drawn in ``section`` is widest at its top."""
    image = header.grab().toImage()
    left = header.sectionViewportPosition(section)
    width = header.sectionSize(section)
    background = image.pixelColor(left + 3, 2)
    rows = {}
    for y in range(image.height()):
        for x in range(left + width // 2, left + width - 1):
            c = image.pixelColor(x, y)
            if abs(c.lightness() - background.lightness()) > 90:
                rows[y] = rows.get(y, 0) + 1
    assert rows, "no arrow drawn"
    ys = sorted(rows)
    return rows[ys[0]] > rows[ys[-1]]


@pytest.fixture(params=["light", "dark"])
def themed(request, qapp):
    theme.apply_theme(qapp, request.param)
    yield request.param
    theme.apply_theme(qapp, "light")


def test_started_shows_seconds(qtbot, runs_root):
    log_run("one", "exp")
    window = open_window(qtbot, runs_root, 1)
    model = window.runs_model
    text = model.index(0, model.column_index("started")).data()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text), text


def test_duration_and_user_are_apart(qtbot, runs_root, themed):
    log_run("one", "exp")
    window = open_window(qtbot, runs_root, 1)
    window.resize(1024, 700)
    view, model = window.runs_view, window.runs_model
    table = view.table
    table.clearSelection()
    table.setColumnWidth(model.column_index("duration"), 60)
    QApplication.processEvents()
    image = table.viewport().grab().toImage()
    duration, user = (table.visualRect(model.index(0, model.column_index(k))) for k in ("duration", "user"))
    background = table.palette().color(table.palette().ColorRole.Base)
    left = _ink(image, duration.left(), duration.right() + 1, duration.top(), duration.bottom(), background)
    right = _ink(image, user.left(), user.right() + 1, user.top(), user.bottom(), background)
    assert left and right
    assert right[0] - left[-1] >= 12, right[0] - left[-1]  # the duration's last pixel and the user's first


def test_sort_arrows_point_up_for_ascending_and_down_for_descending(qtbot, runs_root, themed):
    for i in range(2):
        log_run(f"run-{i}", "exp")
    window = open_window(qtbot, runs_root, 2)
    header = window.runs_view.table.horizontalHeader()
    started = window.runs_model.column_index("started")
    # newest first: the descending indicator, drawn pointing down
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (started, Qt.SortOrder.DescendingOrder)
    assert _arrow_points_down(header, started)
    window.runs_view.table.sortByColumn(started, Qt.SortOrder.AscendingOrder)
    assert not _arrow_points_down(header, started)

    # every other table set up by table_look draws them the same way
    other = QTableView()
    qtbot.addWidget(other)
    other.setModel(QStandardItemModel(2, 2))
    record_table(other)
    other.setSortingEnabled(True)
    other.resize(300, 120)
    other.show()
    other.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _arrow_points_down(other.horizontalHeader(), 0)
    other.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert not _arrow_points_down(other.horizontalHeader(), 0)


def test_nested_runs_collapse_under_their_parent(qtbot, runs_root):
    log_run("before", "exp")
    with tracker.start_run(run_name="parent", experiment="exp"):
        for i in range(2):
            with tracker.start_run(run_name=f"child-{i}", experiment="exp", nested=True):
                pass
    window = open_window(qtbot, runs_root, 4)
    view, model = window.runs_view, window.runs_model
    shown = names_shown(window)
    assert "\u25be parent" in shown and len(shown) == 4  # ▾: its children are shown
    parent_row = shown.index("\u25be parent")
    name = model.index(parent_row, model.column_index("name"))
    rect = view.table.visualRect(name)
    mark = QPoint(rect.left() + view.table.iconSize().width() + 14, rect.center().y())
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=mark)
    assert names_shown(window) == [n for n in shown if "child" not in n and "parent" not in n][:parent_row] + [
        "\u25b8 parent"] + [n for n in shown[parent_row + 1:] if "child" not in n]
    assert model.visible_count() == 2
    # the rest of the name selects without toggling; the mark again shows them
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.right() - 4, rect.center().y()))
    assert model.visible_count() == 2
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=mark)
    assert names_shown(window) == shown
    model.set_collapsed(model.parent_run_ids(), True)  # (the table menu's Collapse All Child Runs)
    assert model.visible_count() == 2


def test_the_artifacts_tree_draws_its_sort_arrows_the_same_way(qtbot, tmp_path, themed):
    from app.details.artifacts import ArtifactsView
    view = ArtifactsView()
    qtbot.addWidget(view)
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("bb")
    view.set_root(str(tmp_path))
    view.resize(900, 200)  # a wide Name section: its label stays clear of the arrow
    view.show()
    header = view.tree.header()
    view.tree.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _arrow_points_down(header, 0)
    view.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert not _arrow_points_down(header, 0)
