"""The ``metricPlot`` area: one chart per metric key of the selected runs, in a scrollable grid.

Keys are grouped into sections by prefix and charts built as they scroll into view
(panel_grid.py).
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from app.shell.errors import override_failed
from tracker.entities import Run

from .chart import MetricChart, UpdateQueue
from .chart_menu import ChartMenu
from .legend import RunLegend
from .controls import PlotControls, load_settings, save_settings
from .data import SeriesManager
from .group_controls import GroupControls, GroupLegend, group_choices, load_group_spec, save_group_spec
from .group_layer import group_color
from .grouping import GroupSpec, group_runs
from .layout_state import ChartLayout
from .panel_grid import ChartGrid, ChartSlot
from .sections import ChartSection
from .series_math import PlotSettings, natural_key

MAX_RUNS = 200  # a "select all" over thousands of runs plots the first 200 (each is a curve per chart)


class MetricPlotPanel(ChartGrid, ChartMenu, QWidget):
    """Metric charts of the selected runs; live while they run.

    Feed it with ``set_runs(runs)`` (the runs table's selection) and ``on_runs_changed``
    / ``on_runs_removed`` (the runs source's signals). ``status_message`` carries read
    errors and export results for the status bar.
    """

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricPlot")
        self.setAccessibleName("Metric charts")
        self._qsettings = settings if settings is not None else QSettings()
        self._runs: dict[str, Run] = {}
        self._slots: dict[str, ChartSlot] = {}
        self._sections: dict[str, ChartSection] = {}
        self._order: list[str] = []  # keys shown, after the filter
        self._arranged: list[tuple[str, list[str]]] = []  # (section, its keys) as laid out
        self._columns = 0
        self._row_height = 0
        self._layout_key: tuple | None = None
        self.layout_state = ChartLayout(self._qsettings)
        self._maximised: str | None = None  # the chart shown alone, large (Escape returns)
        self._filter = ""
        self._hidden: set[str] = set()  # runs switched off in the legend
        self._selected = 0  # runs passed to set_runs (more than MAX_RUNS are cut)

        self.queue = UpdateQueue(self)  # curve creation and setData, in slices: no GUI stalls
        self.manager = SeriesManager(self)
        self.manager.series_ready.connect(self._on_series_ready)
        self.manager.run_updated.connect(self._on_run_updated)
        self.manager.failed.connect(self.status_message)
        self.manager.set_settings(load_settings(self._qsettings))
        self.manager.settings_for = self.settings_for

        self.controls = PlotControls(self.manager.settings, self)
        self.controls.settings_changed.connect(self._on_settings_changed)
        self.controls.filter_changed.connect(self._on_filter_changed)

        self.legend = RunLegend(self)
        self.legend.visibility_changed.connect(self._on_run_visibility)
        self.legend.hide()

        self.group_spec = load_group_spec(self._qsettings)
        self.grouping = GroupControls(self.group_spec, self.controls)
        self.grouping.spec_changed.connect(self._on_group_spec)
        self.controls.layout().addWidget(self.grouping)
        self.group_legend = GroupLegend(self)

        self.filter_error = QLabel(self)
        self.filter_error.setObjectName("metricFilterError")
        self.filter_error.setWordWrap(True)
        self.filter_error.hide()

        self.message = QLabel(self)
        self.message.setObjectName("metricPlotMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setEnabled(False)

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("metricPlotScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid_widget = QWidget()
        self.grid_widget.setObjectName("metricPlotGrid")
        self.sections_box = QVBoxLayout(self.grid_widget)
        self.sections_box.setContentsMargins(0, 0, 0, 0)
        self.sections_box.setSpacing(8)
        self.scroll.setWidget(self.grid_widget)
        self.scroll.verticalScrollBar().valueChanged.connect(self._schedule_build)
        self.scroll.viewport().installEventFilter(self)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.scroll)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.controls)
        layout.addWidget(self.filter_error)
        layout.addWidget(self.legend)
        layout.addWidget(self.group_legend)
        layout.addWidget(self.stack, 1)

        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.restore,
                                 context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._escape.setEnabled(False)

        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._build_visible)
        self._update_message()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- public API ------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """Show the metrics of these runs (the runs table's selection, in its order)."""
        runs = [r for r in runs if isinstance(r, Run)]
        self._selected = len(runs)
        runs = runs[:MAX_RUNS]
        new = {r.info.run_id: r for r in runs}
        gone = [rid for rid in self._runs if rid not in new]
        names = [(r.info.run_id, r.info.run_name) for r in self._runs.values()]
        self._runs = new
        self._hidden &= set(new)
        before = set(self.layout_state.overrides.items())
        if self.layout_state.set_scope([r.info.experiment_id for r in runs]):
            self._layout_key = None
            for key in {k for k, _ in before ^ set(self.layout_state.overrides.items())}:
                self.manager.reprepare(key)
                if key in self.charts():
                    self._apply_override(self.charts()[key])
        if names != [(r.info.run_id, r.info.run_name) for r in runs]:
            self.legend.set_runs(runs, self._hidden)
        self.manager.set_runs(runs)
        for slot in self._slots.values():
            if slot.chart is not None:
                for rid in gone:
                    slot.chart.remove_run(rid)
        self.grouping.set_choices(group_choices(runs))
        self._sync_keys()
        self._apply_groups()

    @Slot(list)
    def on_runs_changed(self, runs: list) -> None:
        """Runs changed on disk (the runs source's ``runs_changed``): extend their curves."""
        changed = [r for r in runs if isinstance(r, Run) and r.info.run_id in self._runs]
        if not changed:
            return
        keys_before = self._all_keys()
        renamed = any(self._runs[r.info.run_id].info.run_name != r.info.run_name for r in changed)
        for run in changed:
            self._runs[run.info.run_id] = run
        self.manager.refresh(changed)
        if renamed:
            self.legend.set_runs(list(self._runs.values()), self._hidden)
            self._apply_groups()  # the run legend stays hidden while grouped
        if self._all_keys() != keys_before:
            self._sync_keys()
        else:
            self._sync_names(changed)

    @Slot(list)
    def on_runs_removed(self, run_ids: list) -> None:
        """Runs deleted on disk disappear from the charts."""
        if any(rid in self._runs for rid in run_ids):
            self.set_runs([r for rid, r in self._runs.items() if rid not in set(run_ids)])

    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def keys(self) -> list[str]:
        """Every metric key of the displayed runs, in display order."""
        return sorted(self._all_keys(), key=natural_key)

    def visible_keys(self) -> list[str]:
        """The keys that pass the filter (one chart each)."""
        return list(self._order)

    def chart(self, key: str) -> MetricChart:
        """The chart of ``key``, built now if it has not scrolled into view yet."""
        return self._build(self._slots[key])

    def charts(self) -> dict[str, MetricChart]:
        """The charts built so far."""
        return {k: s.chart for k, s in self._slots.items() if s.chart is not None}

    def settings(self) -> PlotSettings:
        return self.manager.settings

    def set_settings(self, settings: PlotSettings) -> None:
        self.controls.set_settings(settings)

    def set_key_filter(self, text: str) -> None:
        self.controls.key_filter.setText(text)

    def is_loading(self) -> bool:
        """Reads, preparation or curve updates still under way."""
        return (self.manager.prepared_pending() or self.queue.busy
                or any(c.groups.pending for c in self.charts().values()))

    @Slot()
    def shutdown(self) -> None:
        """Stop the live poll and wait for reads in flight (on close and at quit; idempotent)."""
        self.manager.shutdown()

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def eventFilter(self, watched, event) -> bool:
        try:
            if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
                self._relayout()
                self._schedule_build()
            return super().eventFilter(watched, event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricPlotPanel.eventFilter")
            return False

    def showEvent(self, event) -> None:
        try:
            super().showEvent(event)
            self._relayout()
            self._schedule_build()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricPlotPanel.showEvent")

    def changeEvent(self, event) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                for chart in self.charts().values():
                    chart.apply_palette(self.palette())
                self._apply_groups()  # the legend's colours are the theme's
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricPlotPanel.changeEvent")

    def closeEvent(self, event) -> None:
        try:
            self.shutdown()
            super().closeEvent(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricPlotPanel.closeEvent")

    # -- data and settings -------------------------------------------------------------------
    @Slot(str, str, object)
    def _on_series_ready(self, run_id: str, key: str, prepared) -> None:
        slot = self._slots.get(key)
        if slot is not None and slot.chart is not None:
            slot.chart.set_series(run_id, prepared)

    @Slot(object)
    def _on_run_updated(self, run: Run) -> None:
        rid = run.info.run_id
        if rid not in self._runs:
            return
        new_keys = set(run.data.metrics) != set(self._runs[rid].data.metrics)
        self._runs[rid] = run
        if new_keys:
            self._sync_keys()

    @Slot(object)
    def _on_settings_changed(self, settings: PlotSettings) -> None:
        save_settings(self._qsettings, settings)
        self.manager.set_settings(settings)
        for chart in self.charts().values():
            chart.apply_settings(self.settings_for(chart.key))

    @Slot(str, bool)
    def _on_run_visibility(self, run_id: str, visible: bool) -> None:
        (self._hidden.discard if visible else self._hidden.add)(run_id)
        for chart in self.charts().values():
            chart.set_run_visible(run_id, visible)
        self._apply_groups()

    # -- maximise ----------------------------------------------------------------------------
    def maximise(self, key: str) -> None:
        """Show chart ``key`` alone, as large as the panel (Escape or ``restore`` returns)."""
        if key in self._slots:
            self._maximised = key
            self._escape.setEnabled(True)
            self._relayout(force=True)
            self.chart(key).setFocus()

    @Slot()
    def restore(self) -> None:
        """Back from a maximised chart to the grid."""
        if self._maximised is not None:
            self._maximised = None
            self._escape.setEnabled(False)
            self._relayout(force=True)

    def maximised(self) -> str | None:
        return self._maximised

    # -- grouping ----------------------------------------------------------------------------
    def set_grouping(self, spec: GroupSpec) -> None:
        """Group the runs by ``spec.by`` ("param:<name>", "tag:<name>"; "" is off)."""
        self.grouping.set_spec(spec)

    @Slot(object)
    def _on_group_spec(self, spec: GroupSpec) -> None:
        self.group_spec = spec
        save_group_spec(self._qsettings, spec)
        self._apply_groups()

    def _groups(self) -> list[tuple[str, list[str]]]:
        if not self.group_spec.on:
            return []
        return group_runs([r for rid, r in self._runs.items() if rid not in self._hidden], self.group_spec.by)

    def _apply_groups(self) -> None:
        groups = self._groups()
        for chart in self.charts().values():
            chart.groups.set_groups(groups, self.group_spec)
        dark = self.palette().base().color().lightness() < 128
        self.group_legend.set_groups(self.group_spec.by, [
            (label, len(rids), group_color(i, dark)) for i, (label, rids) in enumerate(groups)])
        self.legend.setVisible(bool(self._runs) and not groups)

    def _chart_built(self, chart: MetricChart) -> None:
        chart.set_y_range(self.override(chart.key).y_range)
        chart.groups.worker = self.manager.worker  # aggregation off the GUI thread
        chart.groups.set_groups(self._groups(), self.group_spec)

    @Slot(str)
    def _on_filter_changed(self, text: str) -> None:
        self._filter = text
        self._relayout()
        self.scroll.verticalScrollBar().setValue(0)

    @Slot(float)
    def _on_chart_hovered(self, x: float) -> None:
        source = self.sender()
        for chart in self.charts().values():
            if chart is not source and chart.isVisible():
                chart.show_crosshair(x)

    @Slot()
    def _on_chart_left(self) -> None:
        for chart in self.charts().values():
            chart.hide_crosshair()
