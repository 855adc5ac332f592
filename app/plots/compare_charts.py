"""The compare view's scatter (any param or metric against a metric) and the axes it shares
with parallel coordinates (app/plots/parallel.py).

The scatter draws one mark per run in its color and emits ``run_clicked(run_id)`` when a mark
is clicked; marks are translucent and, on a categorical axis, spread a little sideways, so runs
on the same spot stay visible, and hovering says how many are there. Values that read as
numbers are placed on a numeric axis; otherwise the axis is categorical (one position per
distinct value, labelled with it).
"""
from __future__ import annotations

import math
import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor, QPalette

from app.common.formatting import format_number, to_number
from app.runs.colors import color_for
from tracker.entities import Run

from .axes import ChartColors
from .series_math import natural_key

LOG_RATIO = 100  # a positive axis spanning two decades or more is drawn in log10 (learning rates)


_LARGEST = 1e300
SIZE = 12  # marks, in pixels
ALPHA = 150  # translucent: marks on one spot show as a darker mark
JITTER = 0.18  # on a categorical axis, of the gap between categories


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
        self.points = pg.ScatterPlotItem(size=SIZE, pxMode=True, hoverable=True, tip=self._tip,
                                         hoverSize=SIZE + 3)
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
        bottom = item.getAxis("bottom")
        if not x_key or not y_key:
            self.points.setData([])
            self._x_axis = None
            bottom.setTicks(None)
            item.setLabel("bottom", "")  # no stale titles over an empty chart
            item.setLabel("left", "")
            return 0
        x_axis = Axis([run_value(r, x_key) for r in runs])
        y_axis = Axis([run_value(r, y_key) for r in runs], allow_log=False)
        self._x_axis = x_axis
        spots = []
        looks: dict[str, tuple] = {}  # one brush and pen per colour: pyqtgraph renders each look once
        for run, x, y in zip(runs, x_axis.positions, y_axis.positions):
            if np.isfinite(x) and np.isfinite(y):
                if x_axis.categorical:  # side by side within the category, the same for a run every time
                    x = x + JITTER * ((zlib.crc32(run.info.run_id.encode()) % 1001) / 500 - 1)
                solid = color_for(run.info.run_id)
                name = solid.name()
                if name not in looks:
                    color = QColor(solid)
                    color.setAlpha(ALPHA)
                    looks[name] = (pg.mkBrush(color), pg.mkPen(solid, width=1))
                brush, pen = looks[name]
                spots.append({"pos": (float(x), float(y)), "data": run.info.run_id, "brush": brush, "pen": pen})
        self.points.setData(spots)
        if x_axis.categorical:
            bottom.setTicks([[(i, c) for i, c in enumerate(x_axis.categories)]])
        elif x_axis.log:
            bottom.setTicks([log_ticks(x_axis.lo, x_axis.hi)])
        else:
            bottom.setTicks(None)
        item.setLabel("bottom", self._title(x_key) + (" (log)" if x_axis.log else ""),
                      color=self._colors.axis.name())
        item.setLabel("left", y_key.partition(".")[2], color=self._colors.axis.name())  # always a metric
        item.vb.setDefaultPadding(0.08)
        item.vb.enableAutoRange()
        if x_axis.categorical and x_axis.categories:
            item.vb.setXRange(-0.5, len(x_axis.categories) - 0.5, padding=0)
        return len(spots)

    @staticmethod
    def _title(key: str) -> str:
        kind, _, name = key.partition(".")
        return f"{name} (metric)" if kind == "metrics" else name

    def titles(self) -> tuple[str, str]:
        """The x and y axes' titles as shown."""
        item = self.getPlotItem()
        return item.getAxis("bottom").labelText, item.getAxis("left").labelText

    def count_at(self, x: float, y: float) -> int:
        """How many marks cover the point (x, y): those whose centre is within a mark's size of it."""
        data = self.points.data
        if not len(data):
            return 0
        px, py = self.getPlotItem().vb.viewPixelSize()
        dx = (data["x"] - x) / (px or 1)
        dy = (data["y"] - y) / (py or 1)
        return int(np.count_nonzero(dx * dx + dy * dy <= SIZE * SIZE))

    def _tip(self, x, y, data) -> str:
        run = next((r for r in self.runs if r.info.run_id == data), None)
        name = run.info.run_name if run else data
        x_axis = self._x_axis
        x_text = x_axis.label(round(x) if x_axis.categorical else x) if x_axis else format_number(x)
        text = f"{name}\n{self.x_key.partition('.')[2]} = {x_text}\n{self.y_key.partition('.')[2]} = {format_number(y)}"
        others = self.count_at(x, y) - 1
        if others > 0:
            text += f"\n{others + 1} runs here (overlapping)"
        return text

    @Slot(object, object, object)
    def _on_clicked(self, item, points, event) -> None:
        if len(points):
            self.run_clicked.emit(str(points[0].data()))

    def apply_palette(self, pal: QPalette) -> None:
        self._colors = _style_plot(self, pal)
        if self.runs:
            self.plot(self.runs, self.x_key, self.y_key)


__all__ = ["Axis", "ScatterChart", "run_value"]
