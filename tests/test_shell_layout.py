"""The window's layout at 1024x700 and 1600x1000, in both themes, with the registry listed:
the runs table shows at least eight rows whichever lower tab is open, controls are not cut,
the compare plots keep a usable size, and saved sizes that would leave a panel unusable are
not restored."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton, QComboBox, QGraphicsView, QLabel, QLineEdit, QScrollArea, QSplitter, QWidget,
)
from pytestqt.exceptions import TimeoutError as WaitTimeout
from sklearn.linear_model import LogisticRegression

import tracker
from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

from app.shell import theme, window_state

pytestmark = OFFSCREEN_NOISE
SIZES = [(1024, 700), (1600, 1000)]
RUN, CHARTS, COMPARE, REGISTRY = range(4)
USABLE_PLOT = QSize(250, 120)


@pytest.fixture
def runs(runs_root):
    for i in range(20):
        log_run(f"run-{i:02}", "sweep", params={"lr": str(0.1 / (i + 1)), "depth": str(i % 5)},
                metrics={"loss": 1.0 / (i + 1), "acc": i / 20})
    with tracker.start_run(run_name="producer", experiment="models"):
        tracker.sklearn.log_model(LogisticRegression().fit(np.eye(2), [0, 1]), "clf",
                                  registered_model_name="fraud")
    return runs_root


def _settle(qtbot, window, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    qtbot.waitUntil(lambda: window.pages.width() == size[0])  # the layout followed


def table_rows_visible(window) -> float:
    table = window.runs_view.table
    return table.viewport().height() / table.verticalHeader().defaultSectionSize()


def _scrolled(w: QWidget) -> bool:
    """Whether ``w`` is part of a scroll area's content."""
    parent = w.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea) and parent.widget() is not None and parent.widget().isAncestorOf(w):
            return True
        parent = parent.parentWidget()
    return False


def _clipped(window) -> list[str]:
    """Visible controls smaller than their minimum size hint, or reaching outside the window."""
    out = []
    frame = window.rect()
    for w in window.findChildren(QWidget):
        if not w.isVisible() or not isinstance(w, (QAbstractButton, QComboBox, QLineEdit, QLabel)):
            continue
        if isinstance(w, QLabel) and (w.wordWrap() or w.pixmap() is not None and not w.pixmap().isNull()):
            continue
        hint = w.minimumSizeHint()
        where = QRect(w.mapTo(window, w.rect().topLeft()), w.size())
        outside = not frame.contains(where) and not _scrolled(w)  # (a scroll area's content may be scrolled away)
        if w.width() < hint.width() - 1 or w.height() < hint.height() - 1 or outside:
            out.append(f"{type(w).__name__} {w.objectName() or getattr(w, 'text', lambda: '')()!r} "
                       f"{w.width()}x{w.height()} < {hint.width()}x{hint.height()}")
    return out


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_first_start_keeps_eight_rows_and_clips_nothing(qtbot, qapp, runs, name, size):
    theme.apply_theme(qapp, name)
    try:
        window = open_window(qtbot, runs)
        _settle(qtbot, window, size)
        tabs = window.lower_tabs
        assert tabs.isTabVisible(REGISTRY)  # the registry is listed from the first start
        for page in (RUN, CHARTS, COMPARE, REGISTRY):
            tabs.setCurrentIndex(page)
            qtbot.waitUntil(lambda: tabs.currentWidget().objectName() not in (
                "chartsPlaceholder", "comparePlaceholder", "registryPlaceholder"))
            assert table_rows_visible(window) >= window_state.MIN_TABLE_ROWS, (page, table_rows_visible(window))
            try:  # (a panel's labels are laid out a pass or two after their text is set)
                qtbot.waitUntil(lambda: not _clipped(window), timeout=10000)
            except (AssertionError, WaitTimeout) as e:  # (pytest-qt's TimeoutError is neither builtin)
                raise AssertionError((page, _clipped(window))) from e
        window.close()
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")


@pytest.mark.parametrize("size", SIZES)
def test_compare_plots_keep_a_usable_size(qtbot, runs, size):
    window = open_window(qtbot, runs)
    _settle(qtbot, window, size)
    view = window.runs_view
    view.table.selectAll()
    window.page_actions[COMPARE].trigger()
    qtbot.waitUntil(lambda: len(window.compare.runs) >= 2)
    plots = [v for v in window.compare.findChildren(QGraphicsView) if v.isVisible()]
    assert plots
    for plot in plots:  # room for an axis with four labelled ticks, and the plot area beside it
        qtbot.waitUntil(lambda p=plot: p.height() >= USABLE_PLOT.height() and p.width() >= USABLE_PLOT.width(),
                        timeout=10000)
    assert table_rows_visible(window) >= window_state.MIN_TABLE_ROWS
    window.close()


def _state(sizes: list[int]) -> bytes:
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(QWidget())
    splitter.addWidget(QWidget())
    splitter.setSizes(sizes)
    return splitter.saveState()


@pytest.mark.parametrize("sizes", [[0, 640], [8, 632], [640, 0], [600, 40]])
def test_saved_sizes_that_leave_a_panel_unusable_are_not_restored(qtbot, runs, sizes):
    window = open_window(qtbot, runs)
    window.close()  # saves the settings; a collapsed pane is then written over them
    window.settings.set_bytes("window/rightSplitter", _state(sizes))
    window.settings.sync()
    again = open_window(qtbot, runs)
    _settle(qtbot, again, (1024, 700))
    assert table_rows_visible(again) >= window_state.MIN_TABLE_ROWS
    assert again.lower_tabs.height() >= window_state.MIN_DETAILS_HEIGHT
    again.close()


def _shown_a_run(qtbot, window) -> None:
    """The first run's page is filled (its minimum height is then the page's own)."""
    qtbot.waitUntil(lambda: not window.is_loading() and window.details.run() is not None)


def test_usable_saved_sizes_are_kept(qtbot, runs):
    window = open_window(qtbot, runs)
    _settle(qtbot, window, (1024, 700))
    _shown_a_run(qtbot, window)
    window.right_splitter.setSizes([300, 340])  # (both above what the panes' contents need, whenever measured)
    kept = window.right_splitter.sizes()
    assert kept[0] == 300
    window.close()
    again = open_window(qtbot, runs)
    _settle(qtbot, again, (1024, 700))
    _shown_a_run(qtbot, again)
    assert abs(again.right_splitter.sizes()[0] - kept[0]) <= 2
    again.close()


def test_first_start_fits_a_small_screen(qtbot, runs):
    screen = QGuiApplication.primaryScreen().availableGeometry()
    window = open_window(qtbot, runs)
    assert window.width() <= max(screen.width(), 1024) and window.height() <= max(screen.height(), 700)
    window.close()


def test_a_tall_page_in_another_tab_does_not_hold_the_details_pane_open(qtbot, runs):
    window = open_window(qtbot, runs)
    _settle(qtbot, window, (1024, 700))
    _shown_a_run(qtbot, window)
    tabs = window.lower_tabs
    tabs.setCurrentIndex(CHARTS)
    qtbot.waitUntil(lambda: tabs.currentWidget().objectName() == "metricPlot")
    registry = window.registry_panel  # built, not shown: its minimum height is above the charts'
    assert registry.minimumSizeHint().height() > tabs.currentWidget().minimumSizeHint().height()
    total = sum(window.right_splitter.sizes())
    window.right_splitter.setSizes([total, 0])  # as small as the shown page allows
    qtbot.waitUntil(lambda: window.right_splitter.sizes()[1] < registry.minimumSizeHint().height())

    tabs.setCurrentIndex(REGISTRY)  # the pane grows to fit the page that opens
    qtbot.waitUntil(lambda: registry.height() >= registry.minimumSizeHint().height() - 1)
    qtbot.waitUntil(lambda: not _clipped(window))
    window.close()
