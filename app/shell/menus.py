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
    window.open_action = file_menu.addAction("&Open Runs Directory…", window.choose_directory)
    window.open_action.setShortcut(QKeySequence.StandardKey.Open)
    window.open_mlflow_action = file_menu.addAction("Open &MLflow Database…",
                                                    lambda: store_kind.choose_mlflow_database(window))
    window.open_mlflow_action.setToolTip("An MLflow SQLite store (mlflow.db), read-only; "
                                         "an mlruns folder opens with Open Runs Directory")
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window._fill_recent_menu)
    window.reload_action = file_menu.addAction("Re&load", window.reload)
    window.reload_action.setShortcut(QKeySequence.StandardKey.Refresh)
    file_menu.addSeparator()
    window.demo_action = file_menu.addAction("Create &Demo Runs", window.create_demo_runs)
    window.export_action = file_menu.addAction("&Export Runs as CSV…", window.export_csv)
    file_menu.addSeparator()
    quit_action = file_menu.addAction("&Quit", window.close)
    quit_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q))
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    window.view_menu = window.menuBar().addMenu("&View")
    window.show_experiments_action = _panel_action(window, "&Experiments", window.experiments_panel, "Ctrl+1")
    window.show_details_action = _panel_action(window, "Run &Details and Charts", window.lower_tabs, "Ctrl+2")
    window._panels_end = window.view_menu.addSeparator()
    window.columns_menu = window.view_menu.addMenu("&Columns")
    window.columns_menu.aboutToShow.connect(window._fill_columns_menu)
    theme_menu = window.view_menu.addMenu("&Theme")
    window.theme_actions = QActionGroup(window)
    for name in theme.THEMES:
        action = theme_menu.addAction(name.capitalize())
        action.setCheckable(True)
        action.setData(name)
        action.setChecked(name == theme.current())
        window.theme_actions.addAction(action)
    window.theme_actions.triggered.connect(window._on_theme_chosen)
    window.view_menu.addSeparator()
    focus = window.view_menu.addAction("&Filter Runs", window._focus_filter)
    focus.setShortcut(QKeySequence.StandardKey.Find)

    help_menu = window.menuBar().addMenu("&Help")
    about = help_menu.addAction("&About Tracker", window._show_about)
    about.setMenuRole(QAction.MenuRole.AboutRole)


def _panel_action(window: MainWindow, text: str, widget: QWidget, shortcut: str) -> QAction:
    action = window.view_menu.addAction(text)
    action.setCheckable(True)
    action.setChecked(True)
    action.setShortcut(QKeySequence(shortcut))
    action.toggled.connect(widget.setVisible)
    return action
