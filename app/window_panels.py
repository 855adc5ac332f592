"""The panels beside the runs browser: metric charts, the compare view, the model registry.

Kept out of ``main_window.py`` so the window's own layout stays one concern; each panel
follows the window through its ``directoryOpened`` and ``closing`` signals.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QKeySequence

import tracker
from tracker.entities import Run

from app import run_colors
from app.plots import CompareView, MetricPlotPanel
from app.registry import RegistryPanel

if TYPE_CHECKING:
    from app.main_window import MainWindow


def install_panels(window: "MainWindow") -> None:
    window.charts = _ChartsLink(window)
    _install_registry(window)


class _ChartsLink(QObject):
    """Charts and the compare view of the selected runs, as tabs beside the run's details."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        qsettings = window.settings.qsettings
        self.plots = MetricPlotPanel(window, settings=qsettings)
        self.compare = CompareView(window, settings=qsettings)
        window.plots, window.compare = self.plots, self.compare
        window.lower_tabs.addTab(self.plots, "Charts")
        window.lower_tabs.addTab(self.compare, "Compare")
        window.runs_view.selectionChanged.connect(self._on_selection_changed)
        window.source.loaded.connect(self._on_loaded)
        window.source.runs_changed.connect(self._on_runs_changed)
        window.source.runs_removed.connect(self.plots.on_runs_removed)
        window.directoryOpened.connect(self._on_directory_opened)
        window.closing.connect(self.plots.shutdown)
        self.plots.status_message.connect(window.statusBar().showMessage)
        self.compare.run_clicked.connect(window.select_run)

    @Slot(list)
    def _on_selection_changed(self, runs: list) -> None:
        readable = [r for r in runs if isinstance(r, Run)]
        self.plots.set_runs(readable)
        self.compare.set_runs(readable)

    @Slot(object)
    def _on_directory_opened(self, _path) -> None:
        run_colors.reset()
        self.plots.set_runs([])
        self.compare.set_runs([])

    @Slot(object)
    def _on_loaded(self, snapshot) -> None:
        # In start-time order, so neighbouring runs get different colors.
        run_colors.assign(r.info.run_id for r in sorted(snapshot.runs, key=lambda r: r.info.start_time))

    @Slot(list)
    def _on_runs_changed(self, runs: list) -> None:
        run_colors.assign(r.info.run_id for r in runs if isinstance(r, Run))
        self.plots.on_runs_changed(runs)


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
