"""The compare view: a diff table of the selected runs above parallel coordinates, a scatter and
parameter importance (one tab each).

``CompareView.set_runs(runs)`` takes the selected runs. Signals for the window:
``run_clicked(run_id)`` asks it to select a run whose point or line was clicked;
``brushed(run_ids)`` names the runs the parallel coordinates' brushes keep (to highlight them
in the runs table; [] when nothing is brushed); ``select_runs(run_ids)`` asks it to select them.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QMenu, QPushButton, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from app.shell.errors import override_failed
from tracker.entities import Run

from .compare_charts import ScatterChart, run_value
from .diff_table import DiffTable
from .importance import ImportanceView
from .parallel import ParallelCoordinates
from .series_math import natural_key

MAX_DEFAULT_AXES = 6
MAX_RUNS = 100  # the table's columns; a larger selection compares its first 100 runs there
MAX_CHART_RUNS = 5000  # the charts and importance take more: brushing and ranking want many runs


class CompareView(QWidget):
    run_clicked = Signal(str)
    brushed = Signal(list)
    select_runs = Signal(list)

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare runs")
        self._qsettings = settings if settings is not None else QSettings()
        self.runs: list[Run] = []  # all of the selection the charts show
        self._chosen_params: list[str] | None = None  # None: pick the differing ones
        self._sized = False  # the table's height is fitted once, then left to the user

        # the diff table
        self.diff = DiffTable(self, self._qsettings)
        self.model, self.proxy, self.table = self.diff.model, self.diff.proxy, self.diff.table
        self.only_differing, self.table_note = self.diff.only_differing, self.diff.note

        # parallel coordinates
        self.parallel = ParallelCoordinates(self)
        self.parallel.run_clicked.connect(self.run_clicked)
        self.parallel.brushed.connect(self._on_brushed)
        self.axes_button = QToolButton(self)
        self.axes_button.setObjectName("compareParallelAxes")
        self.axes_button.setAccessibleName("Params on the parallel coordinates")
        self.axes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.axes_menu = QMenu(self.axes_button)
        self.axes_button.setMenu(self.axes_menu)
        self.parallel_metric = _combo(self, "compareParallelMetric", "Metric on the parallel coordinates")
        self.parallel_metric.currentIndexChanged.connect(self._replot_parallel)
        self.brush_note = QLabel("Drag along an axis to keep a range", self)
        self.brush_note.setObjectName("compareBrushNote")
        self.brush_note.setProperty("muted", True)
        self.select_brushed = QPushButton("Select in runs table", self)
        self.select_brushed.setObjectName("compareSelectBrushed")
        self.select_brushed.setToolTip("Select the runs the brushes keep in the runs table")
        self.select_brushed.clicked.connect(self._on_select_brushed)
        self.clear_brushes = QPushButton("Clear brushes", self)
        self.clear_brushes.setObjectName("compareClearBrushes")
        self.clear_brushes.clicked.connect(self._on_clear_brushes)
        parallel_box = _box(self, _row(self.axes_button, QLabel("metric", self), self.parallel_metric,
                                       self.brush_note, self.select_brushed, self.clear_brushes), self.parallel)

        # the scatter
        self.scatter = ScatterChart(self)
        self.scatter.run_clicked.connect(self.run_clicked)
        self.scatter_x = _combo(self, "compareScatterX", "Scatter x axis")
        self.scatter_y = _combo(self, "compareScatterY", "Scatter y axis")
        self.scatter_x.currentIndexChanged.connect(self._replot_scatter)
        self.scatter_y.currentIndexChanged.connect(self._replot_scatter)
        self.scatter_note = QLabel(self)
        self.scatter_note.setEnabled(False)
        scatter_box = _box(self, _row(QLabel("x", self), self.scatter_x, QLabel("y", self), self.scatter_y,
                                      self.scatter_note), self.scatter)

        self.importance = ImportanceView(self)

        self.charts = QTabWidget(self)
        self.charts.setObjectName("compareCharts")
        self.charts.setDocumentMode(True)
        self.charts.addTab(parallel_box, "Parallel coordinates")
        self.charts.addTab(scatter_box, "Scatter")
        self.charts.addTab(self.importance, "Param importance")
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)  # the table above, the charts below
        self.splitter.setObjectName("compareSplitter")
        self.splitter.addWidget(self.diff)
        self.splitter.addWidget(self.charts)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self._on_brushed([])

    # -- public ------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        readable = [r for r in runs if isinstance(r, Run)]
        self.runs = readable[:MAX_CHART_RUNS]
        self.diff.set_runs(readable[:MAX_RUNS], len(readable))
        self._fit_table_height()
        params = sorted({k for r in self.runs for k in r.data.params}, key=natural_key)
        metrics = sorted({k for r in self.runs for k in r.data.metrics}, key=natural_key)
        differing = [p for p in params if self._differs("params." + p)]
        x_choices = [("params." + p, p) for p in params] + [("metrics." + m, f"{m} (metric)") for m in metrics]
        y_choices = [("metrics." + m, m) for m in metrics]
        default_x = "params." + (differing or params or [""])[0] if params else ""
        default_y = self._default_metric(metrics)
        _fill(self.scatter_x, x_choices, default_x)
        _fill(self.scatter_y, y_choices, default_y)
        _fill(self.parallel_metric, y_choices, default_y)
        self._fill_axes_menu(params, differing)
        self._replot_scatter()
        self._replot_parallel()
        self.importance.set_runs(self.runs, metrics, default_y.partition(".")[2])

    def show_chart(self, name: str) -> None:
        """Bring a chart's tab forward: ``parallel``, ``scatter`` or ``importance``."""
        self.charts.setCurrentIndex({"parallel": 0, "scatter": 1, "importance": 2}.get(name, 0))

    def select_scatter(self, x_key: str, y_key: str) -> None:
        """Choose the scatter's axes by key (``params.lr``, ``metrics.accuracy``)."""
        self.scatter_x.setCurrentIndex(self.scatter_x.findData(x_key))
        self.scatter_y.setCurrentIndex(self.scatter_y.findData(y_key))

    def set_parallel_params(self, params: list[str]) -> None:
        self._chosen_params = list(params)
        for action in self.axes_menu.actions():
            action.setChecked(action.data() in self._chosen_params)
        self._replot_parallel()

    def parallel_params(self) -> list[str]:
        return [a.data() for a in self.axes_menu.actions() if a.isChecked()]

    # -- internals ---------------------------------------------------------------------------
    def _fit_table_height(self) -> None:
        """The table as tall as its rows need, up to 38 % of the view; the charts get the rest."""
        total = self.splitter.height()
        if total < 240 or not self.isVisible():  # not laid out yet: fitted when it is
            return
        table = max(110, min(int(total * 0.38), self.diff.wanted_height()))
        self.splitter.setSizes([table, total - table])
        self._sized = True

    def resizeEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().resizeEvent(event)
            if not self._sized and self.model.rowCount():
                self._fit_table_height()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareView.resizeEvent")

    def showEvent(self, event) -> None:
        try:
            super().showEvent(event)
            if not self._sized and self.model.rowCount():
                self._fit_table_height()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareView.showEvent")

    def _differs(self, key: str) -> bool:
        values = [run_value(r, key) for r in self.runs]
        return len(set(map(str, values))) > 1

    def _default_metric(self, metrics: list[str]) -> str:
        current = self.scatter_y.currentData()
        if current and current.partition(".")[2] in metrics:
            return current
        differing = [m for m in metrics if self._differs("metrics." + m)]
        return "metrics." + (differing or metrics)[0] if metrics else ""

    def _fill_axes_menu(self, params: list[str], differing: list[str]) -> None:
        previous = self._chosen_params
        chosen = [p for p in previous if p in params] if previous is not None else []
        if not chosen:
            chosen = (differing or params)[:MAX_DEFAULT_AXES]
        self.axes_menu.clear()
        for p in params:
            action = QAction(p, self.axes_menu)
            action.setCheckable(True)
            action.setChecked(p in chosen)
            action.setData(p)
            action.toggled.connect(self._on_axis_toggled)
            self.axes_menu.addAction(action)
        self._update_axes_button()

    @Slot(bool)
    def _on_axis_toggled(self, _checked: bool) -> None:
        self._chosen_params = self.parallel_params()
        self._update_axes_button()
        self._replot_parallel()

    def _update_axes_button(self) -> None:
        n = len(self.parallel_params())
        self.axes_button.setText(f"Params ({n})" if self.axes_menu.actions() else "No params")
        self.axes_button.setEnabled(bool(self.axes_menu.actions()))

    @Slot()
    def _replot_scatter(self) -> None:
        x_key, y_key = self.scatter_x.currentData() or "", self.scatter_y.currentData() or ""
        drawn = self.scatter.plot(self.runs, x_key, y_key)
        missing = len(self.runs) - drawn
        self.scatter_note.setText(f"{missing} run{'s' if missing != 1 else ''} without both values"
                                  if missing and x_key and y_key else "")

    @Slot()
    def _replot_parallel(self) -> None:
        keys = ["params." + p for p in self.parallel_params()]
        metric = self.parallel_metric.currentData()
        if metric:
            keys.append(metric)
        self.parallel.plot(self.runs, keys, metric)

    @Slot(list)
    def _on_brushed(self, run_ids: list) -> None:
        brushing = bool(self.parallel.brushes())
        self.brush_note.setText(f"{len(run_ids):,} of {len(self.runs):,} runs in the brushes"
                                if brushing else "Drag along an axis to keep a range")
        self.select_brushed.setEnabled(bool(run_ids))
        self.clear_brushes.setEnabled(brushing)
        self.brushed.emit(list(run_ids))

    @Slot()
    def _on_select_brushed(self) -> None:
        run_ids = self.parallel.kept_run_ids()
        if run_ids:
            self.select_runs.emit(run_ids)

    @Slot()
    def _on_clear_brushes(self) -> None:
        self.parallel.clear_brush()

    def changeEvent(self, event) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                self.scatter.apply_palette(self.palette())
                self.parallel.apply_palette(self.palette())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareView.changeEvent")


def _combo(parent: QWidget, name: str, accessible: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setMinimumContentsLength(8)
    return combo


def _fill(combo: QComboBox, choices: list[tuple[str, str]], default: str) -> None:
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for data, text in choices:
        combo.addItem(text, data)
    index = combo.findData(current) if current else -1
    combo.setCurrentIndex(index if index >= 0 else max(0, combo.findData(default)))
    combo.blockSignals(False)


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(6)
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return row


def _box(parent: QWidget, top: QHBoxLayout, body: QWidget) -> QWidget:
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    layout.addLayout(top)
    layout.addWidget(body, 1)
    return box


__all__ = ["CompareView"]
