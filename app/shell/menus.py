"""The main window's menus (File, View, Help), built once by ``MainWindow``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QWidget

from app.runs import store_kind

from app.shell import theme

if TYPE_CHECKING:
    from app.shell.window import MainWindow


def build_menus(window: MainWindow) -> None:
    """File, View and Help, with their standard shortcuts (the actions others use are kept on the window)."""
    file_menu = window.menuBar().addMenu("&File")
    window.open_action = _add(window, file_menu, "&Open Runs Directory…", window.choose_directory)
    window.open_action.setShortcut(QKeySequence.StandardKey.Open)
    window.open_mlflow_action = _add(window, file_menu, "Open &MLflow Database…",
                                                    lambda: store_kind.choose_mlflow_database(window))
    window.open_mlflow_action.setToolTip("An MLflow SQLite store (mlflow.db), read-only; "
                                         "an mlruns folder opens with Open Runs Directory")
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window._fill_recent_menu)
    window.reload_action = _add(window, file_menu, "Re&load", window.reload)
    window.reload_action.setShortcut(QKeySequence.StandardKey.Refresh)
    file_menu.addSeparator()
    window.demo_action = _add(window, file_menu, "Create &Demo Runs", window.create_demo_runs)
    window.export_action = _add(window, file_menu, "&Export Runs as CSV…", window.export_csv)
    file_menu.addSeparator()
    window.preferences_action = _add(window, file_menu, "Pr&eferences…", lambda: _open_preferences(window))
    window.preferences_action.setObjectName("preferencesAction")
    window.preferences_action.setShortcut(QKeySequence.StandardKey.Preferences)
    window.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    file_menu.addSeparator()
    quit_action = _add(window, file_menu, "&Quit", window.close)
    quit_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q))
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    window.view_menu = window.menuBar().addMenu("&View")
    window.show_experiments_action = _panel_action(window, "&Experiments", window.experiments_panel, "Ctrl+1")
    window.show_details_action = _panel_action(window, "Run &Details and Charts", window.lower_tabs, "Ctrl+2")
    window._panels_end = window.view_menu.addSeparator()
    window.page_actions = [_page_action(window, text, index, shortcut)
                           for index, (text, shortcut) in enumerate(PAGES)]
    window.view_menu.addSeparator()
    window.columns_menu = window.view_menu.addMenu("&Columns")
    window.columns_menu.aboutToShow.connect(window._fill_columns_menu)
    theme_menu = window.view_menu.addMenu("&Theme")
    window.theme_actions = QActionGroup(window)
    for name in theme.THEMES:
        action = _add(window, theme_menu, name.capitalize())
        action.setCheckable(True)
        action.setData(name)
        action.setChecked(name == theme.current())
        window.theme_actions.addAction(action)
    window.theme_actions.triggered.connect(window._on_theme_chosen)
    window.view_menu.addSeparator()
    focus = _add(window, window.view_menu, "&Filter Runs", window._focus_filter)
    focus.setShortcut(QKeySequence.StandardKey.Find)

    help_menu = window.menuBar().addMenu("&Help")
    about = _add(window, help_menu, "&About Tracker", window._show_about)
    about.setMenuRole(QAction.MenuRole.AboutRole)


def _add(window: MainWindow, menu, text: str, slot=None) -> QAction:
    """An action of ``menu`` owned by the window. (Actions made by ``QMenu.addAction(text, ...)``
    had their Python wrappers invalidated while the window lived, measured with PySide6 6.11:
    after a focused widget was deleted, ``show_experiments_action.isChecked()`` raised
    "Internal C++ object already deleted" and the window's settings were not saved.)"""
    action = QAction(text, window)
    if slot is not None:
        action.triggered.connect(slot)
    menu.addAction(action)
    return action


def _open_preferences(window: MainWindow) -> None:
    from app.shell.preferences import open_preferences  # (imported when used: start-up is measured)
    open_preferences(window)


# The lower tabs, in their order, with the shortcuts that open them (Ctrl+1..3 show and hide
# panels; Alt+digit picks a tab, as in browsers).
PAGES = (("&Run", "Alt+1"), ("C&harts", "Alt+2"), ("Com&pare", "Alt+3"))


def show_page(window: MainWindow, index: int) -> None:
    """Open the lower tab ``index`` (Run, Charts, Compare), showing the lower panel if hidden."""
    window.show_details_action.setChecked(True)
    window.lower_tabs.setCurrentIndex(index)


def _page_action(window: MainWindow, text: str, index: int, shortcut: str) -> QAction:
    action = _add(window, window.view_menu, text, lambda: show_page(window, index))
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    return action


def describe_tabs(window: MainWindow) -> None:
    """Each lower tab's tooltip names its shortcut (called once the tabs exist)."""
    for index, action in enumerate(window.page_actions):
        window.lower_tabs.setTabToolTip(index, f"{action.text().replace('&', '')} "
                                               f"({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")


def _panel_action(window: MainWindow, text: str, widget: QWidget, shortcut: str) -> QAction:
    action = _add(window, window.view_menu, text)
    action.setCheckable(True)
    action.setChecked(True)
    action.setShortcut(QKeySequence(shortcut))
    action.toggled.connect(widget.setVisible)
    return action
