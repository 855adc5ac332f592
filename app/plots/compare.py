"""The compare view: params and metrics side by side, a scatter, parallel coordinates.

``CompareView.set_runs(runs)`` takes the selected runs; ``run_clicked(run_id)`` asks the
window to select a run whose point or line was clicked.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QSplitter,
    QTableView, QToolButton, QVBoxLayout, QWidget,
)

from app.shell.errors import override_failed
from tracker.entities import Run

from .compare_charts import ParallelCoordinates, ScatterChart, run_value
from .compare_model import HEADER, CompareTableModel, DifferingRowsProxy
from .series_math import natural_key

MAX_DEFAULT_AXES = 5
MAX_RUNS = 100  # columns; a larger selection compares its first 100 runs


class CompareView(QWidget):
    run_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare runs")
        self._qsettings = settings if settings is not None else QSettings()
        self.runs: list[Run] = []
        self._chosen_params: list[str] | None = None  # None: pick the differing ones
        self._sized = False  # the table's height is fitted once, then left to the user
        self._selected = 0

        # the table
        self.model = CompareTableModel(self)
        self.proxy = DifferingRowsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setObjectName("compareTable")
        self.table.setAccessibleName("Params and metrics of the selected runs")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for signal in (self.proxy.modelReset, self.proxy.layoutChanged, self.proxy.rowsInserted,
                       self.proxy.rowsRemoved):
            signal.connect(self._update_spans)
        self.only_differing = QCheckBox("Hide rows where all runs agree", self)
        self.only_differing.setObjectName("compareOnlyDiffering")
        self.only_differing.setAccessibleName("Hide rows where all runs agree")
        self.only_differing.setChecked(_bool(self._qsettings.value("compare/only_differing", False)))
        self.proxy.set_only_differing(self.only_differing.isChecked())
        self.only_differing.toggled.connect(self._on_only_differing)
        self.table_note = QLabel(self)
        self.table_note.setEnabled(False)
        table_box = _box(self, _row(self.only_differing, self.table_note), self.table)

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

        # parallel coordinates
        self.parallel = ParallelCoordinates(self)
        self.parallel.run_clicked.connect(self.run_clicked)
        self.axes_button = QToolButton(self)
        self.axes_button.setObjectName("compareParallelAxes")
        self.axes_button.setAccessibleName("Params on the parallel coordinates")
        self.axes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.axes_menu = QMenu(self.axes_button)
        self.axes_button.setMenu(self.axes_menu)
        self.parallel_metric = _combo(self, "compareParallelMetric", "Metric on the parallel coordinates")
        self.parallel_metric.currentIndexChanged.connect(self._replot_parallel)
        parallel_box = _box(self, _row(self.axes_button, QLabel("metric", self), self.parallel_metric),
                            self.parallel)

        charts = QSplitter(Qt.Orientation.Horizontal, self)
        charts.addWidget(scatter_box)
        charts.addWidget(parallel_box)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)  # the table above, the charts below
        self.splitter.setObjectName("compareSplitter")
        self.splitter.addWidget(table_box)
        self.splitter.addWidget(charts)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)

    # -- public ------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        readable = [r for r in runs if isinstance(r, Run)]
        self.runs = readable[:MAX_RUNS]
        self._selected = len(readable)
        self.model.set_runs(self.runs)
        self.table.resizeColumnsToContents()
        self._sized = self._sized or self.splitter.height() > 0
        for col in range(1, self.model.columnCount()):
            self.table.setColumnWidth(col, min(max(self.table.columnWidth(col), 90), 220))
        self.table.setColumnWidth(0, min(max(self.table.columnWidth(0), 120), 260))
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

    def _fit_table_height(self) -> None:
        """The table as tall as its rows need, up to half the view; the charts get the rest."""
        total = self.splitter.height()
        if total <= 0:
            return
        rows = self.table.verticalHeader().length() + self.table.horizontalHeader().height()
        wanted = rows + self.only_differing.sizeHint().height() + 16
        if self.table.horizontalScrollBar().isVisible() or self.table.horizontalHeader().length() > self.table.width():
            wanted += self.table.horizontalScrollBar().sizeHint().height()
        table = max(120, min(total // 2, wanted))
        self.splitter.setSizes([table, total - table])

    def resizeEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().resizeEvent(event)
            if not self._sized and self.splitter.height() > 0 and self.model.rowCount():
                self._sized = True
                self._fit_table_height()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareView.resizeEvent")

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
        self.parallel.plot(self.runs, keys)

    @Slot(bool)
    def _on_only_differing(self, on: bool) -> None:
        self._qsettings.setValue("compare/only_differing", on)
        self.proxy.set_only_differing(on)

    @Slot()
    def _update_spans(self) -> None:
        self.table.clearSpans()
        columns = self.model.columnCount()
        hidden = 0
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0)).row()
            if self.model.row(source).kind == HEADER and columns > 1:
                self.table.setSpan(row, 0, 1, columns)
        if self.proxy.only_differing and len(self.runs) > 1:
            hidden = sum(1 for r in self.model.rows if r.kind != HEADER and not r.differs)
        notes = [f"{hidden} equal row{'s' if hidden != 1 else ''} hidden"] if hidden else []
        if self._selected > len(self.runs):
            notes.append(f"comparing the first {len(self.runs)} of {self._selected:,} runs")
        self.table_note.setText("; ".join(notes))

    def changeEvent(self, event) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                self.scatter.apply_palette(self.palette())
                self.parallel.apply_palette(self.palette())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareView.changeEvent")


def _bool(value) -> bool:
    return value.strip().lower() in ("1", "true", "yes") if isinstance(value, str) else bool(value)


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
