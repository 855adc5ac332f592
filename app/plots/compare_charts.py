"""The compare view's two charts: a param-vs-metric scatter and parallel coordinates.

Both draw one mark per run in its color and emit ``run_clicked(run_id)`` when a mark is
clicked. Values that read as numbers are placed on a numeric axis; otherwise the axis is
categorical (one position per distinct value, labelled with it).
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QPalette

from app.common.formatting import format_number, to_number
from app.runs.colors import color_for
from tracker.entities import Run

from .axes import ChartColors
from .series_math import natural_key

LOG_RATIO = 20  # a numeric axis spanning this factor or more is drawn in log10 (learning rates)


_LARGEST = 1e300


def run_value(run: Run, key: str):
    """``params.X`` (text) or ``metrics.X`` (last value) of a run; None when missing."""
    kind, _, name = key.partition(".")
    if kind == "params":
        return run.data.params.get(name)
    return run.data.metrics.get(name)


class Axis:
    """Positions for one variable across runs: numeric, log-numeric or categorical."""

    def __init__(self, values: list, allow_log: bool = True) -> None:
        numbers = [to_number(v) if isinstance(v, str) else v for v in values]
        present = [n for v, n in zip(values, numbers) if v is not None]
        # Beyond _LARGEST a span overflows to inf (1.7e308 - -1.7e308): such values, like inf
        # and NaN, are listed as categories rather than placed on a number line.
        self.categorical = any(n is None or not math.isfinite(n) or abs(n) > _LARGEST for n in present)
        self.categories: list[str] = []
        self.log = False
        if self.categorical:
            self.categories = sorted({str(v) for v in values if v is not None}, key=natural_key)
            index = {c: i for i, c in enumerate(self.categories)}
            self.positions = np.array([index[str(v)] if v is not None else np.nan for v in values], float)
            self.lo, self.hi = 0.0, float(max(0, len(self.categories) - 1))
            return
        pos = np.array([n if n is not None else np.nan for n in numbers], float)
        finite = pos[np.isfinite(pos)]
        self.lo = float(finite.min()) if len(finite) else 0.0
        self.hi = float(finite.max()) if len(finite) else 1.0
        if allow_log and len(finite) and self.lo > 0 and self.hi / self.lo >= LOG_RATIO:
            self.log = True  # e.g. learning rates over decades
            with np.errstate(divide="ignore", invalid="ignore"):
                pos = np.log10(pos)
            self.lo, self.hi = math.log10(self.lo), math.log10(self.hi)
        self.positions = pos

    def normalized(self) -> np.ndarray:
        if self.hi == self.lo:
            return np.where(np.isfinite(self.positions), 0.5, np.nan)
        return (self.positions - self.lo) / (self.hi - self.lo)

    def label(self, position: float) -> str:
        if self.categorical:
            i = int(round(position))
            return self.categories[i] if 0 <= i < len(self.categories) else ""
        return format_number(10 ** position if self.log else position)


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """1-2-5 ticks between two log10 positions, labelled with the values."""
    ticks = []
    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        for m in (1, 2, 5):
            p = decade + math.log10(m)
            if lo - 0.05 <= p <= hi + 0.05:
                ticks.append((p, format_number(m * 10.0 ** decade)))
    return ticks


def _style_plot(widget: pg.PlotWidget, pal: QPalette) -> ChartColors:
    c = ChartColors.from_palette(pal)
    widget.setBackground(c.background)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        if axis.autoSIPrefix:
            # Once only: pyqtgraph's enableAutoSIPrefix(False) still computes a scale when the
            # label shows, leaving ticks multiplied by 1000 with no unit to say so.
            axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(c.axis))
        axis.setTextPen(pg.mkPen(c.text))
    return c


def _label_fill(c: ChartColors) -> QColor:
    fill = QColor(c.background)
    fill.setAlpha(200)
    return fill


class ScatterChart(pg.PlotWidget):
    """One point per run: x = a param (or metric), y = a metric's last value."""

    run_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compareScatter")
        self.setAccessibleName("Scatter of a param against a metric")
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.vb.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.12)
        self.points = pg.ScatterPlotItem(size=12, pxMode=True, hoverable=True, tip=self._tip,
                                         hoverSize=15)
        item.addItem(self.points)
        self.points.sigClicked.connect(self._on_clicked)
        self.runs: list[Run] = []
        self.x_key = self.y_key = ""
        self._x_axis: Axis | None = None
        self._colors = _style_plot(self, self.palette())

    def plot(self, runs: list[Run], x_key: str, y_key: str) -> int:
        """Draw the runs that have both values; returns how many were drawn."""
        self.runs, self.x_key, self.y_key = runs, x_key, y_key
        item = self.getPlotItem()
        if not x_key or not y_key:
            self.points.setData([])
            return 0
        x_axis = Axis([run_value(r, x_key) for r in runs])
        y_axis = Axis([run_value(r, y_key) for r in runs], allow_log=False)
        self._x_axis = x_axis
        spots = []
        for run, x, y in zip(runs, x_axis.positions, y_axis.positions):
            if np.isfinite(x) and np.isfinite(y):
                spots.append({"pos": (float(x), float(y)), "data": run.info.run_id,
                              "brush": pg.mkBrush(color_for(run.info.run_id)),
                              "pen": pg.mkPen(self._colors.background, width=1.5)})
        self.points.setData(spots)
        bottom = item.getAxis("bottom")
        if x_axis.categorical:
            bottom.setTicks([[(i, c) for i, c in enumerate(x_axis.categories)]])
        elif x_axis.log:
            bottom.setTicks([log_ticks(x_axis.lo, x_axis.hi)])
        else:
            bottom.setTicks(None)
        item.setLabel("bottom", x_key.partition(".")[2] + (" (log)" if x_axis.log else ""),
                      color=self._colors.axis.name())
        item.setLabel("left", y_key.partition(".")[2], color=self._colors.axis.name())
        item.vb.setDefaultPadding(0.08)
        item.vb.enableAutoRange()
        if x_axis.categorical and x_axis.categories:
            item.vb.setXRange(-0.5, len(x_axis.categories) - 0.5, padding=0)
        return len(spots)

    def _tip(self, x, y, data) -> str:
        run = next((r for r in self.runs if r.info.run_id == data), None)
        name = run.info.run_name if run else data
        x_text = self._x_axis.label(x) if self._x_axis else format_number(x)
        return f"{name}\n{self.x_key.partition('.')[2]} = {x_text}\n{self.y_key.partition('.')[2]} = {format_number(y)}"

    @Slot(object, object, object)
    def _on_clicked(self, item, points, event) -> None:
        if len(points):
            self.run_clicked.emit(str(points[0].data()))

    def apply_palette(self, pal: QPalette) -> None:
        self._colors = _style_plot(self, pal)
        if self.runs:
            self.plot(self.runs, self.x_key, self.y_key)


class ParallelCoordinates(pg.PlotWidget):
    """One vertical axis per chosen variable, one polyline per run, each axis scaled 0..1."""

    run_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compareParallel")
        self.setAccessibleName("Parallel coordinates of params and a metric")
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.vb.setMenuEnabled(False)
        item.vb.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.hideAxis("left")
        self.curves: dict[str, pg.PlotCurveItem] = {}
        self._decor: list = []
        self.runs: list[Run] = []
        self.keys: list[str] = []
        self._colors = _style_plot(self, self.palette())

    def plot(self, runs: list[Run], keys: list[str]) -> None:
        self.runs, self.keys = runs, keys
        item = self.getPlotItem()
        for thing in self._decor + list(self.curves.values()):
            item.removeItem(thing)
        self._decor, self.curves = [], {}
        if len(keys) < 1 or not runs:
            return
        axes = [Axis([run_value(r, k) for r in runs]) for k in keys]
        columns = np.array([a.normalized() for a in axes])  # (keys, runs)
        xs = np.arange(len(keys), dtype=float)
        c = self._colors
        for i, axis in enumerate(axes):
            line = pg.InfiniteLine(pos=i, angle=90, movable=False, pen=pg.mkPen(c.axis, width=1))
            item.addItem(line, ignoreBounds=True)
            self._decor.append(line)
            for pos, text, anchor in self._axis_labels(axis):
                label = pg.TextItem(html.escape(text), color=c.text, anchor=anchor, fill=_label_fill(c))
                label.setPos(i, pos)
                item.addItem(label, ignoreBounds=True)
                self._decor.append(label)
        for j, run in enumerate(runs):
            curve = pg.PlotCurveItem(xs, columns[:, j], connect="finite",
                                     pen=pg.mkPen(color_for(run.info.run_id), width=2), antialias=True)
            curve.setClickable(True, width=8)
            curve.setToolTip(run.info.run_name)
            curve.run_id = run.info.run_id
            curve.sigClicked.connect(self._on_curve_clicked)
            item.addItem(curve)
            self.curves[run.info.run_id] = curve
        bottom = item.getAxis("bottom")
        bottom.setTicks([[(i, k.partition(".")[2] + (" (log)" if a.log else ""))
                          for i, (k, a) in enumerate(zip(keys, axes))]])
        item.vb.setRange(xRange=(-0.25, len(keys) - 0.75), yRange=(-0.12, 1.12), padding=0)

    @staticmethod
    def _axis_labels(axis: Axis):
        """(y, text, anchor) for an axis: its categories, or its max at the top and min at the bottom."""
        if axis.categorical:
            n = len(axis.categories)
            return [((i / (n - 1)) if n > 1 else 0.5, c, (-0.08, 0.5)) for i, c in enumerate(axis.categories)]
        if axis.hi == axis.lo:
            return [(0.5, axis.label(axis.lo), (-0.08, 0.5))]
        return [(1.0, axis.label(axis.hi), (0.5, 1.15)), (0.0, axis.label(axis.lo), (0.5, -0.15))]

    @Slot(object, object)
    def _on_curve_clicked(self, curve, event) -> None:
        run_id = getattr(curve, "run_id", None)
        if run_id:
            self.run_clicked.emit(run_id)

    def apply_palette(self, pal: QPalette) -> None:
        self._colors = _style_plot(self, pal)
        self.plot(self.runs, self.keys)


__all__ = ["Axis", "ParallelCoordinates", "ScatterChart", "run_value"]
