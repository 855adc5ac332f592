"""The panels beside the runs browser: metric charts, the compare view, the model registry.

Kept out of ``main_window.py`` so the window's own layout stays one concern; each panel
follows the window through its ``directoryOpened`` and ``closing`` signals.

Each panel is built the first time it is shown (its tab chosen) or asked for
(``window.plots``, ``window.compare``, ``window.registry_panel``), so start-up imports none of
their modules (``app.plots`` with pyqtgraph and numpy: ~0.6 s of imports, measured). Until then
a label holds its place; it is painted as the tab opens, and the panel replaces it once built.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QLabel, QWidget

from tracker.entities import Run

from app.shell.menus import describe_tabs
from app.shell.registry_tab import RegistryTab


if TYPE_CHECKING:
    from app.shell.window import MainWindow


def install_panels(window: "MainWindow") -> None:
    """Sets ``window.charts`` and ``window.registry_link`` (the Registry tab, app/shell/registry_tab.py);
    the window's ``plots``, ``compare`` and ``registry_panel`` properties build the panels on first use."""
    window.charts = _ChartsLink(window)
    window.registry_link = RegistryTab(window, placeholder("registryPlaceholder", "Model Registry",
                                                           "Registered models, their versions and stages"))
    describe_tabs(window)


def placeholder(name: str, title: str, what: str) -> QLabel:
    """What a panel's place shows until the panel is built: its name and what it will hold."""
    label = QLabel(f"<p style='font-size:large'><b>{title}</b></p><p>{what}</p><p>Loading…</p>")
    label.setObjectName(name)
    label.setAccessibleName(f"{title}: loading")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setProperty("muted", True)
    label.setMargin(24)
    return label


class _ChartsLink(QObject):
    """Charts and the compare view of the selected runs, as tabs beside the run's details."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self._plots: Any = None  # MetricPlotPanel, once built
        self._compare: Any = None  # CompareView, once built
        self._plots_page = placeholder("chartsPlaceholder", "Charts", "Metric curves of the selected runs")
        self._compare_page = placeholder("comparePlaceholder", "Compare",
                                         "Params and metrics of the selected runs, side by side")
        self._replacing = False
        tabs = window.lower_tabs
        tabs.addTab(self._plots_page, "Charts")
        tabs.addTab(self._compare_page, "Compare")
        tabs.currentChanged.connect(self._on_tab_changed)
        window.runs_view.selectionChanged.connect(self._on_selection_changed)
        window.source.runs_changed.connect(self._on_runs_changed)
        window.directoryOpened.connect(self._on_directory_opened)
        window.closing.connect(self._on_closing)

    # -- the panels, built on first use ---------------------------------------------------------
    @property
    def plots(self) -> Any:
        if self._plots is None:
            from app.plots import MetricPlotPanel
            window = self.window
            self._plots = MetricPlotPanel(window, settings=window.settings.qsettings)
            window.source.runs_removed.connect(self._plots.on_runs_removed)
            self._plots.status_message.connect(window.status.show)
            self._replace(self._plots_page, self._plots, "Charts")
            self._plots.set_runs(self._selection())
        return self._plots

    @property
    def compare(self) -> Any:
        if self._compare is None:
            from app.plots import CompareView
            window = self.window
            self._compare = CompareView(window, settings=window.settings.qsettings)
            self._compare.run_clicked.connect(window.select_run)
            from app.plots.brushed_rows import BrushedRows
            brushed = BrushedRows(window.runs_view.table)  # the brushed runs, marked in the runs table
            self._compare.brushed.connect(brushed.set_run_ids)
            self._compare.select_runs.connect(brushed.select)
            self._replace(self._compare_page, self._compare, "Compare")
            self._compare.set_runs(self._selection())
        return self._compare

    def _selection(self) -> list[Run]:
        return [r for r in self.window.runs_view.selected_runs() if isinstance(r, Run)]

    def _replace(self, placeholder: QWidget, panel: QWidget, title: str) -> None:
        tabs = self.window.lower_tabs
        index, current = tabs.indexOf(placeholder), tabs.currentIndex()
        self._replacing = True  # no tab changes reach _on_tab_changed meanwhile
        tabs.blockSignals(True)  # nor anyone else (the registry's tab passes through the current index)
        try:
            tabs.insertTab(index, panel, title)
            tabs.setTabToolTip(index, tabs.tabToolTip(index + 1))
            tabs.removeTab(index + 1)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(False)
            self._replacing = False
        placeholder.deleteLater()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if self._replacing:
            return
        tabs = self.window.lower_tabs
        page = tabs.widget(index)
        if page is not self._plots_page and page is not self._compare_page:
            return
        # The first charts tab imports pyqtgraph (~0.6 s): the tab and its placeholder are
        # painted first, so the click is answered at once.
        tabs.repaint()
        if page is self._plots_page:
            self.plots  # noqa: B018 (builds it)
        else:
            self.compare  # noqa: B018

    # -- following the window -------------------------------------------------------------------
    @Slot(list)
    def _on_selection_changed(self, runs: list) -> None:
        readable = [r for r in runs if isinstance(r, Run)]
        if self._plots is not None:
            self._plots.set_runs(readable)
        if self._compare is not None:
            self._compare.set_runs(readable)

    @Slot(object)
    def _on_directory_opened(self, _path) -> None:
        self._on_selection_changed([])

    @Slot(object)
    def _on_runs_changed(self, update) -> None:  # a RunsUpdate: runs are made only for the charted ones
        if self._plots is not None:
            self._plots.on_runs_changed(update.runs({r.info.run_id for r in self._plots.runs()}))

    @Slot()
    def _on_closing(self) -> None:
        if self._plots is not None:
            self._plots.shutdown()
