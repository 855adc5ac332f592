"""The panels that sit beside the runs browser: the model registry (and the metric plots).

Kept out of ``main_window.py`` so the window's own layout stays one concern; each panel
follows the window through its ``directoryOpened`` and ``closing`` signals.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

import tracker

from app.registry import RegistryPanel

if TYPE_CHECKING:
    from app.main_window import MainWindow


def install_panels(window: "MainWindow") -> None:
    _install_registry(window)


def _install_registry(window: "MainWindow") -> None:
    panel = RegistryPanel(window.runs_dir or tracker.get_tracking_dir(), window)
    dock = window.add_panel(panel, "Model Registry", Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+3"))
    window.registry_panel, window.registry_dock = panel, dock
    panel.run_requested.connect(window.select_run)
    panel.message.connect(window.statusBar().showMessage)
    # raise_ is no registered Qt slot; a plain callable avoids PySide's dynamic-slot warning
    panel.show_requested.connect(lambda: (dock.show(), dock.raise_()))
    window.details.artifacts.contextMenuAboutToShow.connect(panel.extend_artifact_menu)
    window.directoryOpened.connect(panel.set_tracking_dir)
    window.closing.connect(panel.shutdown)
    # Hidden until there is a registry to show (or the user asks, Ctrl+3), so a directory
    # of runs alone keeps the whole window for browsing; the saved window state wins later.
    dock.hide()
    window.directoryOpened.connect(lambda path: dock.show() if (path / "registry.db").exists() else None)
