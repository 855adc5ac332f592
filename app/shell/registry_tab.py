"""The model registry as the last of the lower tabs ("Registry"), there from the first start.

A tab rather than a dock: at 1024x700 a docked registry left the runs table two rows; as a tab
it takes the details' place while open and the runs table keeps its height. View > Model
Registry (Ctrl+3) opens it (or hides it, when it is the tab in front); it is built when first
shown, like the charts.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

import tracker

if TYPE_CHECKING:
    from app.shell.window import MainWindow

TITLE = "Registry"


class RegistryTab(QObject):
    """Owns the registry's tab and ``window.show_registry_action``; ``panel`` builds the panel."""

    def __init__(self, window: "MainWindow", placeholder: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._panel: Any = None
        self._page: QWidget = placeholder
        tabs = window.lower_tabs
        self.index = tabs.addTab(placeholder, TITLE)
        action = QAction("Model &Registry", window)
        action.setCheckable(True)
        action.setChecked(True)
        action.setShortcut(QKeySequence("Ctrl+3"))
        action.triggered.connect(self._on_action)
        window.view_menu.insertAction(window._panels_end, action)
        window.show_registry_action = action
        self.action = action
        tabs.setTabToolTip(self.index, f"Model registry ({action.shortcut().toString()})")
        tabs.currentChanged.connect(self._on_tab_changed)
        window.details.artifactMenuAboutToShow.connect(self._on_artifact_menu)
        window.details.modelVersionRequested.connect(self.show_version)  # "Registered as fraud v3"
        window.runs_view.registered.changed.connect(window.details.refresh_registrations)  # as the table's badges
        window.directoryOpened.connect(self._on_directory_opened)
        window.closing.connect(self._on_closing)

    @property
    def built(self) -> bool:
        return self._panel is not None

    def page(self) -> QWidget:
        """What the tab holds: the panel once built, its placeholder before."""
        return self._panel if self._panel is not None else self._page

    def is_shown(self) -> bool:
        """Whether the tab is listed (it may be behind another tab)."""
        return self.window.lower_tabs.isTabVisible(self.index)

    def set_shown(self, shown: bool, bring_forward: bool = True) -> None:
        """List the tab (and bring it to the front) or take it away."""
        window, tabs = self.window, self.window.lower_tabs
        self.action.setChecked(shown)
        tabs.setTabVisible(self.index, shown)
        if shown and bring_forward:
            window.show_details_action.setChecked(True)
            tabs.setCurrentIndex(self.index)

    @Slot(bool)
    def _on_action(self, checked: bool) -> None:
        tabs = self.window.lower_tabs
        in_front = tabs.isVisible() and tabs.currentIndex() == self.index
        # Ctrl+3 on a registry that is listed but out of sight brings it forward, not away.
        self.set_shown(checked or (self.is_shown() and not in_front))

    @property
    def panel(self) -> Any:
        if self._panel is None:
            from app.registry import RegistryPanel
            window = self.window
            panel = RegistryPanel(window.runs_dir or tracker.get_tracking_dir(), window)
            self._panel = panel
            panel.run_requested.connect(self._on_run_requested)
            panel.message.connect(window.status.forward_from(panel, "registryMessage"))
            panel.show_requested.connect(self._on_show_requested)
            self._replace(panel)
        return self._panel

    def _replace(self, panel: QWidget) -> None:
        tabs = self.window.lower_tabs
        current, shown = tabs.currentIndex(), self.is_shown()
        tabs.blockSignals(True)  # the placeholder going is no tab change for anyone listening
        try:
            tabs.insertTab(self.index, panel, TITLE)
            tabs.setTabToolTip(self.index, tabs.tabToolTip(self.index + 1))
            tabs.removeTab(self.index + 1)
            tabs.setTabVisible(self.index, shown)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(False)
        self._page.deleteLater()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if index == self.index and self._panel is None:
            self.window.lower_tabs.repaint()  # the placeholder first: the click is answered at once
            self.panel  # noqa: B018 (builds it)

    @Slot(str)
    def _on_run_requested(self, run_id: str) -> None:
        if self.window.select_run(run_id):
            self.window.lower_tabs.setCurrentIndex(0)  # the run's page

    @Slot()
    def _on_show_requested(self) -> None:
        self.set_shown(True)

    @Slot(str, int)
    def show_version(self, name: str, version: int) -> None:
        """Bring the registry forward with ``name`` v``version`` selected."""
        self.set_shown(True)
        self.panel.show_version(name, version)

    @Slot(QMenu, str)
    def _on_artifact_menu(self, menu: QMenu, path: str) -> None:
        self.panel.extend_artifact_menu(menu, path)

    @Slot(object)
    def _on_directory_opened(self, path) -> None:
        self.window.details.set_tracking_dir(path)  # its "Registered as" row asks this registry
        if self._panel is not None:
            self._panel.set_tracking_dir(path)

    @Slot()
    def _on_closing(self) -> None:
        if self._panel is not None:
            self._panel.shutdown()
