"""The Registry tab reads well at 1024x700 and 1600x1000, in both themes, with the demo's model:
every version's cells are whole or cut with "…" and whole on hover, the history shows at
least three rows, and the lineage's values are never broken inside a word."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel, QStyleOptionViewItem, QTableView, QTabWidget, QToolTip, QWidget

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, open_window

from app.registry.elided import ElidedLabel
from app.registry.item_models import MODEL_ROLE, VersionsTableModel
from app.shell import theme
from tracker.demo import MODEL_NAME, write_demo_runs

pytestmark = OFFSCREEN_NOISE
SIZES = [(1024, 700), (1600, 1000)]
NEVER_CUT = (VersionsTableModel.VERSION, VersionsTableModel.STAGE, VersionsTableModel.CREATED)


@pytest.fixture
def registry_window(qtbot, runs_root, qapp, request):
    """The window on the demo's runs, at the test's size and theme, the Registry tab in front
    with the demo model's three versions and the newest one's lineage."""
    (width, height), theme_name = request.param
    write_demo_runs(runs_root, now=1_790_000_000)
    window = open_window(qtbot, runs_root)
    theme.apply_theme(qapp, theme_name)
    window.resize(width, height)
    window.registry_link.set_shown(True)
    panel = window.registry_panel
    qtbot.waitUntil(lambda: panel.ui.versions_model.rowCount() == 3 and panel.ui.lineage.info is not None
                    and panel.selected_model() == MODEL_NAME, timeout=10000)
    yield window
    theme.apply_theme(qapp, "light")


def _hover(widget: QWidget, pos: QPoint) -> str:
    """What a tooltip shows for a hover at ``pos`` in ``widget``."""
    QToolTip.hideText()
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))
    text = QToolTip.text() if QToolTip.isVisible() else ""
    QToolTip.hideText()
    return text


def _cell_needs(view: QTableView, row: int, column: int) -> int:
    index = view.model().index(row, column)
    option = QStyleOptionViewItem()
    option.font = view.font()
    option.fontMetrics = view.fontMetrics()
    return view.itemDelegateForIndex(index).sizeHint(option, index).width()


def _whole_text(view: QTableView, row: int, column: int) -> str:
    index = view.model().index(row, column)
    if view.objectName() == "registryVersions" and column == VersionsTableModel.ALIASES:
        return "  ".join(f"@{a}" for a in index.data(MODEL_ROLE).aliases)
    return str(index.data() or "")


def _assert_cells_readable(qtbot, view: QTableView, never_cut=()) -> None:
    header = view.horizontalHeader()
    assert header.length() <= view.viewport().width(), "the table scrolls sideways"
    for column in range(header.count()):
        width = header.sectionSize(column)
        assert header.sectionViewportPosition(column) + width <= view.viewport().width()
        for row in range(view.model().rowCount()):
            needs = _cell_needs(view, row, column)
            if needs <= width:
                continue
            assert column not in never_cut, f"column {column} is cut: {width} < {needs}"
            whole = _whole_text(view, row, column)
            rect = view.visualRect(view.model().index(row, column))
            if not rect.isValid() or not view.viewport().rect().contains(rect.center()):
                view.scrollTo(view.model().index(row, column))
                rect = view.visualRect(view.model().index(row, column))
            assert whole in _hover(view.viewport(), rect.center()), (column, row, whole)


PARAMS = [(size, name) for size in SIZES for name in ("light", "dark")]


@pytest.mark.parametrize("registry_window", PARAMS, indirect=True, ids=lambda p: f"{p[0][0]}x{p[0][1]}-{p[1]}")
def test_every_version_cell_is_whole_or_elided_with_a_tooltip(qtbot, registry_window):
    panel = registry_window.registry_panel
    versions = panel.findChild(QTableView, "registryVersions")
    qtbot.waitUntil(lambda: versions.horizontalHeader().length() <= versions.viewport().width())
    _assert_cells_readable(qtbot, versions, NEVER_CUT)
    history = panel.findChild(QTableView, "registryHistory")
    _assert_cells_readable(qtbot, history)


@pytest.mark.parametrize("registry_window", PARAMS, indirect=True, ids=lambda p: f"{p[0][0]}x{p[0][1]}-{p[1]}")
def test_the_history_shows_three_rows_or_more(qtbot, registry_window):
    panel = registry_window.registry_panel
    history = panel.findChild(QTableView, "registryHistory")
    assert history.model().rowCount() >= 3
    qtbot.waitUntil(lambda: history.isVisible()
                    and history.viewport().height() >= 3 * history.verticalHeader().defaultSectionSize())
    versions = panel.findChild(QTableView, "registryVersions")
    assert versions.viewport().height() >= versions.verticalHeader().defaultSectionSize()  # a version in view


@pytest.mark.parametrize("registry_window", PARAMS, indirect=True, ids=lambda p: f"{p[0][0]}x{p[0][1]}-{p[1]}")
def test_lineage_values_are_never_broken_inside_a_word(qtbot, registry_window):
    panel = registry_window.registry_panel
    lineage = panel.findChild(QWidget, "registryLineage")
    tabs = panel.findChild(QTabWidget, "registryDetailTabs")
    page = panel.findChild(QWidget, "registryLineagePage")
    if tabs.indexOf(page) >= 0:  # a narrow panel: the lineage is a tab
        tabs.setCurrentWidget(page)
    scroll = lineage.findChild(QWidget, "lineageScroll")
    # laid out for its width: nothing wider than the pane, so no sideways scroll bar
    qtbot.waitUntil(lambda: lineage.isVisible() and not scroll.horizontalScrollBar().isVisible()
                    and scroll.widget().width() == scroll.viewport().width())
    labels = [label for label in lineage.fields.values() if isinstance(label, QLabel) and label.isVisible()]
    assert len(labels) > 10
    for label in labels:
        room = label.contentsRect().width()
        if isinstance(label, ElidedLabel):
            if label.is_elided():
                assert label.text() in _hover(label, label.rect().center()), label.text()
        elif label.wordWrap():
            metrics = label.fontMetrics()
            for word in label.text().split():
                assert metrics.horizontalAdvance(word) <= room, f"{word!r} is wider than its label ({room} px)"
        else:
            assert label.sizeHint().width() <= label.width() + 1, label.text()
    # the values a demo version has: none cut in the wider window
    if registry_window.width() >= 1600:
        for key in ("experiment", "artifact", "run id", "param:max_depth", "metric:accuracy"):
            assert not lineage.fields[key].is_elided(), key
