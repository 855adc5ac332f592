"""Parameter importance for a chosen metric across the compared runs: a ranked bar chart.

The numbers come from ``importance_math.param_importance`` (a random forest and permutation
importance, scikit-learn), computed in the view's worker: the GUI thread only draws the bars.
A newer request replaces one still waiting; the note says how many runs the numbers use, or
why there are none.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.common.worker import Worker
from app.shell.errors import override_failed
from tracker.entities import Run

from .compare_charts import _style_plot
from .importance_math import Importance, param_importance

POSITIVE, NEGATIVE, UNSIGNED = QColor("#2e9d5b"), QColor("#d0543f"), QColor("#6f8fb8")
NAME_WIDTH = 180  # pixels for a param's name beside its bar; longer names are elided


def _prepare() -> None:
    """Import scikit-learn on the worker's thread before the first request needs it (~1-2 s)."""
    import sklearn.ensemble
    import sklearn.metrics  # noqa: F401


class ImportanceView(QWidget):
    computed = Signal(object)  # the Importance drawn (tests and the status wait on it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareImportance")
        self.setAccessibleName("Parameter importance for a metric")
        self.metric = QComboBox(self)
        self.metric.setObjectName("compareImportanceMetric")
        self.metric.setAccessibleName("Metric whose parameter importance is shown")
        self.metric.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.metric.setMinimumContentsLength(8)
        self.metric.currentIndexChanged.connect(self._on_metric_changed)
        self.note = QLabel(self)
        self.note.setObjectName("compareImportanceNote")
        self.note.setWordWrap(True)
        self.note.setProperty("muted", True)
        self.chart = pg.PlotWidget(self)
        self.chart.setObjectName("compareImportanceChart")
        item = self.chart.getPlotItem()
        item.setMenuEnabled(False)
        item.vb.setMenuEnabled(False)
        item.vb.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(x=True, y=False, alpha=0.12)
        self._colors = _style_plot(self.chart, self.palette())
        self._bars: list = []
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(QLabel("metric", self))
        top.addWidget(self.metric)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        self.runs: list[Run] = []
        self.result: Importance | None = None
        self._job = -1
        self._stale = False
        self._chosen = ""
        self._labels: list[pg.TextItem] = []
        self._ticks: list[tuple[float, str]] = []
        self.chart.getPlotItem().vb.sigResized.connect(self._fit)
        self._worker = Worker("compare-importance", self)
        self._worker.submit(_prepare)

    # -- public ------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run], metrics: list[str], default: str) -> None:
        """The runs to learn from and the metrics to choose between (names, without ``metrics.``)."""
        self.runs = list(runs)
        current = self._chosen or self.metric.currentText()  # the user's pick outlives a selection without it
        self.metric.blockSignals(True)
        self.metric.clear()
        self.metric.addItems(metrics)
        i = self.metric.findText(current) if current else -1
        self.metric.setCurrentIndex(i if i >= 0 else max(0, self.metric.findText(default)))
        self.metric.blockSignals(False)
        self._stale = True
        if self.isVisible():  # hidden (another tab): computed when shown
            self.compute()

    def showEvent(self, event) -> None:
        try:
            super().showEvent(event)
            if self._stale:
                self.compute()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ImportanceView.showEvent")

    def compute(self) -> None:
        """Ask the worker for the chosen metric's importances (replacing a request still waiting)."""
        self._stale = False
        self._worker.cancel(self._job)
        metric = self.metric.currentText()
        if not metric or not self.runs:
            self._show(Importance(metric, 0, message="Select runs with params and a metric to see "
                                                     "which params matter."))
            return
        params = [dict(r.data.params) for r in self.runs]
        target = [r.data.metrics.get(metric) for r in self.runs]
        self.note.setText(f"Computing over {len(self.runs)} runs…")
        self._job = self._worker.submit(param_importance, params, target, metric,
                                        on_done=self._show, on_error=self._on_error)

    def busy(self) -> bool:
        return self._worker.is_pending(self._job)

    def bars(self) -> list[tuple[str, float, float | None]]:
        """(param, importance, correlation) as drawn, top bar first."""
        return [(p.param, p.importance, p.correlation) for p in (self.result.params if self.result else [])]

    # -- drawing -----------------------------------------------------------------------------
    @Slot(int)
    def _on_metric_changed(self, _index: int) -> None:
        self._chosen = self.metric.currentText()
        self.compute()

    def _on_error(self, error: Exception) -> None:
        self._show(Importance(self.metric.currentText(), 0, message=f"Could not compute: {error}"))

    def _show(self, result: Importance) -> None:
        self.result = result
        item = self.chart.getPlotItem()
        for bar in self._bars:
            item.removeItem(bar)
        self._bars = []
        ranked = result.params
        if result.message or not ranked:
            self.note.setText(result.message)
            self._ticks, self._labels = [], []
            item.getAxis("left").setTicks([[]])
            item.setLabel("bottom", "")
            self.computed.emit(result)
            return
        n = len(ranked)
        ys = np.arange(n)[::-1].astype(float)  # the most important on top
        widths = np.array([p.importance for p in ranked])
        brushes = [pg.mkBrush(POSITIVE if p.correlation is not None and p.correlation > 0 else
                              NEGATIVE if p.correlation is not None and p.correlation < 0 else UNSIGNED)
                   for p in ranked]
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=widths, brushes=brushes,
                               pen=pg.mkPen(None))
        item.addItem(bars)
        self._bars.append(bars)
        top = float(widths.max()) or 1.0
        self._labels = []
        for y, p in zip(ys, ranked):
            sign = "" if p.correlation is None else f"  r = {p.correlation:+.2f}"
            label = pg.TextItem(f"{p.importance:.3g}{sign}", color=self._colors.text, anchor=(0, 0.5))
            label.setPos(p.importance + top * 0.01, y)
            item.addItem(label, ignoreBounds=True)
            self._bars.append(label)
            self._labels.append(label)
        metrics = QFontMetrics(self.font())
        self._ticks = [(y, metrics.elidedText(p.param, Qt.TextElideMode.ElideMiddle, NAME_WIDTH))
                       for y, p in zip(ys, ranked)]
        item.setLabel("bottom", f"importance for {html.escape(result.metric)} (drop in R² when shuffled)",
                      color=self._colors.axis.name())
        item.vb.setRange(xRange=(0, top * 1.3), yRange=(-0.6, n - 0.4), padding=0)
        self._fit()
        self.note.setText(f"From {result.runs} runs with {result.metric} (forest R² {result.score:.2f}); "
                          "green: higher param, higher metric; red: the opposite; blue: categorical")
        self.computed.emit(result)

    @Slot(object)
    def _fit(self, *_args) -> None:
        """Names and numbers only as often as the height has room for them (every bar when it can)."""
        line = QFontMetrics(self.font()).height()
        per_bar = self.chart.getPlotItem().vb.height() / max(len(self._ticks), 1)
        every = max(1, -(-line // max(int(per_bar), 1)))
        self.chart.getPlotItem().getAxis("left").setTicks([self._ticks[::every]] if self._ticks else [[]])
        for i, label in enumerate(self._labels):
            label.setVisible(i % every == 0)

    def changeEvent(self, event) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                self._colors = _style_plot(self.chart, self.palette())
                if self.result is not None:
                    self._show(self.result)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ImportanceView.changeEvent")


__all__ = ["ImportanceView"]
