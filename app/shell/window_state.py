"""The main window's layout between sessions: geometry, panel sizes, which panels are shown.

Saved sizes are restored only when they leave every panel usable: a runs table squeezed to a
row or two, a details pane or experiments list dragged to nothing (or a settings file from a
smaller screen) gives the first-start layout instead, which is sized so the runs table shows
at least ``MIN_TABLE_ROWS`` rows from 1024x700 up.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtGui import QGuiApplication

from app.shell.errors import override_failed

if TYPE_CHECKING:
    from app.shell.window import MainWindow

MIN_TABLE_ROWS = 8
MIN_USABLE_ROWS = 3  # fewer rows than this, restored from settings, is a table nobody can use
MIN_DETAILS_HEIGHT = 160  # the run's title, its tabs and a few lines
MIN_EXPERIMENTS_WIDTH = 80
MIN_RUNS_WIDTH = 200
# First start: experiments | runs, and the runs table over the lower tabs (proportions: the
# splitters scale them to the window).
DEFAULT_MAIN = (210, 1070)
DEFAULT_RIGHT = (360, 440)  # at 700 px high: 9 rows, and room below for the compare plots


def table_rows_height(window: "MainWindow", rows: int) -> int:
    """The runs view's height that shows ``rows`` full rows (filter bar, header and scroll bar included)."""
    view = window.runs_view
    table = view.table
    chrome = view.height() - table.viewport().height()  # filter bar, header, frame, scroll bar
    if not view.isVisible() or chrome <= 0:  # (before the first layout: estimated from hints)
        chrome = (view.filter_edit.sizeHint().height() + 4 + table.horizontalHeader().sizeHint().height()
                  + table.horizontalScrollBar().sizeHint().height() + 2 * table.frameWidth())
    return chrome + rows * table.verticalHeader().defaultSectionSize()


def usable(window: "MainWindow") -> bool:
    """Whether the splitters' sizes leave the experiments list, the runs table and the details usable."""
    main, right = window.splitter.sizes(), window.right_splitter.sizes()
    if len(main) != 2 or len(right) != 2:
        return False
    experiments_ok = not window.show_experiments_action.isChecked() or main[0] >= MIN_EXPERIMENTS_WIDTH
    details_ok = not window.show_details_action.isChecked() or right[1] >= MIN_DETAILS_HEIGHT
    return (experiments_ok and main[1] >= MIN_RUNS_WIDTH and details_ok
            and right[0] >= table_rows_height(window, MIN_USABLE_ROWS))


def set_default_sizes(window: "MainWindow") -> None:
    window.splitter.setSizes(list(DEFAULT_MAIN))
    window.right_splitter.setSizes(list(DEFAULT_RIGHT))


def restore(window: "MainWindow") -> None:
    """Geometry, dock state, splitter sizes (when usable) and the panels shown, from settings."""
    s = window.settings
    if (geometry := s.get_bytes("window/geometry")) is not None:
        window.restoreGeometry(geometry)
    if (state := s.get_bytes("window/state")) is not None:
        window.restoreState(state)
    window.show_experiments_action.setChecked(s.get_bool("window/showExperiments", True))
    window.show_details_action.setChecked(s.get_bool("window/showDetails", True))
    window.registry_link.set_shown(s.get_bool("window/showRegistry", True), bring_forward=False)
    restored = False
    for key, splitter in (("window/splitter", window.splitter), ("window/rightSplitter", window.right_splitter)):
        if (sizes := s.get_bytes(key)) is not None:
            restored = splitter.restoreState(sizes) or restored
    if restored:  # checked once the window is laid out: before, the sizes are not yet its own
        _CheckWhenShown(window)
    table = s.get_json("runsTable/state")
    if isinstance(table, dict):
        window._has_columns = isinstance(table.get("columns"), list)
        window.runs_view.restore_state(table)


class _CheckWhenShown(QObject):
    """Puts the first-start sizes back if the restored ones, laid out, leave a panel unusable."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if watched is self.window and event.type() == QEvent.Type.Show:
                self.window.removeEventFilter(self)
                if not usable(self.window):
                    set_default_sizes(self.window)
                self.deleteLater()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("window_state._CheckWhenShown.eventFilter")
        return False


def default_size(window: "MainWindow") -> QSize:
    """1280x800, or less on a screen that has less room (the first start fits the screen)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    room = screen.availableGeometry().size() if screen is not None else QSize(1280, 800)
    return QSize(min(1280, int(room.width() * 0.95)), min(800, int(room.height() * 0.9)))


def save(window: "MainWindow") -> None:
    s = window.settings
    s.set_bytes("window/geometry", window.saveGeometry())
    s.set_bytes("window/state", window.saveState())
    s.set_bytes("window/splitter", window.splitter.saveState())
    s.set_bytes("window/rightSplitter", window.right_splitter.saveState())
    s.set_bool("window/showExperiments", window.show_experiments_action.isChecked())
    s.set_bool("window/showDetails", window.show_details_action.isChecked())
    s.set_bool("window/showRegistry", window.show_registry_action.isChecked())
    s.set_json("runsTable/state", window.runs_view.state())
    s.sync()
