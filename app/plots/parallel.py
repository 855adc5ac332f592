"""Parallel coordinates with brushing: one vertical axis per param and the metric, one line per run.

Drag along an axis to keep the runs whose value falls in that range (a brush); brushes on
several axes combine (a run must pass all of them); a click on an axis clears its brush.
``brushed(run_ids)`` says which runs the brushes keep (empty when there is no brush).

Lines are coloured by the metric (the last axis, which shows the colour scale) and drawn as a
few curve items, one per colour bin, rebuilt from numpy masks: a drag step over 1,000 runs is
a handful of array operations and ``setData`` calls, not 1,000 items. A run without a value
on an axis draws its line between the axes it has.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import QGraphicsRectItem

from app.shell.errors import override_failed
from tracker.entities import Run

from .compare_charts import Axis, _label_fill, _style_plot, run_value

BINS = 12  # colour steps along the metric
SMOOTH_UP_TO = 300  # runs drawn with antialiased lines
NEAR_AXIS = 0.2  # a drag starting this close to an axis (in axis spacings) brushes it
_NO_METRIC = QColor(128, 128, 128)


def _metric_colors(n: int, dark: bool) -> list[QColor]:
    """Steps of viridis without the end that would fade into the background (its light
    yellow on white, its dark purple on a dark theme)."""
    start, stop = (0.2, 1.0) if dark else (0.0, 0.8)
    lut = pg.colormap.get("viridis").getLookupTable(start=start, stop=stop, nPts=n, alpha=False)
    return [QColor(int(r), int(g), int(b)) for r, g, b in lut]


def polylines(columns: np.ndarray, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and connect arrays drawing ``runs`` (indices into the columns of ``columns``, which is
    axes x runs) as one path: each run joins the axes it has a value on, runs are not joined."""
    k = columns.shape[0]
    ys = columns[:, runs].T  # (runs, axes)
    present = np.isfinite(ys)
    xs = np.broadcast_to(np.arange(k, dtype=float), ys.shape)
    owner = np.broadcast_to(np.arange(len(runs))[:, None], ys.shape)[present]
    connect = np.zeros(len(owner), dtype=bool)
    if len(owner) > 1:
        connect[:-1] = owner[:-1] == owner[1:]
    return xs[present], ys[present], connect


class _BrushBox(pg.ViewBox):
    """The plot's view box: drags brush an axis, clicks clear a brush or pick a line."""

    def __init__(self, chart: "ParallelCoordinates") -> None:
        super().__init__(enableMenu=False)
        self._chart = chart
        self.setMouseEnabled(x=False, y=False)

    def mouseDragEvent(self, ev, axis=None) -> None:
        try:
            self._chart._on_drag(ev)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ParallelCoordinates.mouseDragEvent")

    def mouseClickEvent(self, ev) -> None:
        try:
            self._chart._on_click(ev)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ParallelCoordinates.mouseClickEvent")

    def hoverEvent(self, ev) -> None:
        try:
            self._chart._on_hover(ev)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ParallelCoordinates.hoverEvent")

    def wheelEvent(self, ev, axis=None) -> None:
        ev.ignore()  # the page scrolls; the axes are fixed


class ParallelCoordinates(pg.PlotWidget):
    run_clicked = Signal(str)
    brushed = Signal(list)  # run ids the brushes keep; [] when there is no brush

    def __init__(self, parent=None) -> None:
        self._box = _BrushBox(self)
        super().__init__(parent, viewBox=self._box)
        self.setObjectName("compareParallel")
        self.setAccessibleName("Parallel coordinates of params and a metric")
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.hideAxis("left")
        item.hideAxis("bottom")
        self._colors = _style_plot(self, self.palette())
        self._bin_colors = _metric_colors(BINS, self._colors.dark)
        self.runs: list[Run] = []
        self.keys: list[str] = []
        self.run_ids: list[str] = []
        self.axes: list[Axis] = []
        self.columns = np.zeros((0, 0))  # axes x runs, 0..1 along each axis, NaN where missing
        self.kept = np.zeros(0, dtype=bool)
        self._bins = np.zeros(0, dtype=int)  # colour bin per run, -1 without the metric
        self._metric_axis: int | None = None
        self._brushes: dict[int, tuple[float, float]] = {}  # axis -> kept range, 0..1
        self._brush_items: dict[int, QGraphicsRectItem] = {}
        self._drag: tuple[int, float] | None = None  # axis, where the drag began
        self._decor: list = []
        self._labels: list[tuple[pg.TextItem, str, str]] = []  # item, full text, row (name/top/bottom/tick)
        # Drawn as separate segments: one path of a thousand crossing lines costs Qt's stroker
        # seconds to outline (9 s for 1,000 runs x 7 axes), separate segments milliseconds.
        self._dim = pg.PlotCurveItem(pen=pg.mkPen(self._colors.faint, width=1))
        self._missing = pg.PlotCurveItem(pen=pg.mkPen(_NO_METRIC, width=1.5), antialias=True)
        self._lines = [pg.PlotCurveItem(pen=pg.mkPen(c, width=1.5), antialias=True) for c in self._bin_colors]
        for curve in [self._dim, self._missing, *self._lines]:
            curve.setSegmentedLineMode("on")
            curve.setSkipFiniteCheck(True)  # polylines() passes finite points only
            item.addItem(curve)
        self._box.sigResized.connect(self._on_box_resized)

    # -- public ------------------------------------------------------------------------------
    def plot(self, runs: list[Run], keys: list[str], metric: str | None = None) -> None:
        """Draw ``runs`` over ``keys``; ``metric`` (one of the keys) colours the lines. Brushes on
        axes that stay are kept when the runs are the same, else cleared."""
        same_runs = [r.info.run_id for r in runs] == self.run_ids
        old_keys = self.keys
        self.runs, self.keys = list(runs), list(keys)
        self.run_ids = [r.info.run_id for r in self.runs]
        self.axes = [Axis([run_value(r, k) for r in self.runs]) for k in self.keys]
        n = len(self.runs)
        self.columns = np.array([a.normalized() for a in self.axes]) if self.axes else np.zeros((0, n))
        self._bins = np.full(n, -1)
        self._metric_axis = self.keys.index(metric) if metric in self.keys else None
        if self._metric_axis is not None and not self.axes[self._metric_axis].categorical:
            values = self.columns[self._metric_axis]
            has = np.isfinite(values)
            self._bins[has] = np.minimum((values[has] * BINS).astype(int), BINS - 1)
        elif n:
            self._bins[:] = BINS // 2  # no metric to colour by: one colour
        kept = {}
        if same_runs:
            kept = {self.keys.index(old_keys[a]): r for a, r in self._brushes.items()
                    if a < len(old_keys) and old_keys[a] in self.keys}
        self._brushes = kept
        # Antialiased 1.5 px lines cost ~15x more to draw: smooth for a few runs, plain for many.
        for curve in [self._missing, *self._lines]:
            curve.opts["antialias"] = n <= SMOOTH_UP_TO
        self._draw_decor()
        self._update()

    def set_brush(self, key: str, lo: float, hi: float) -> None:
        """Keep the runs whose ``key`` lies in [lo, hi] (the values as the axis shows them;
        a categorical axis's categories are numbered from 0)."""
        if key not in self.keys:
            return
        a = self.keys.index(key)
        low, high = sorted((self._unit(a, lo), self._unit(a, hi)))
        self._brushes[a] = (min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0))  # within the axis
        self._update()

    def clear_brush(self, key: str | None = None) -> None:
        if key is None:
            self._brushes.clear()
        elif key in self.keys:
            self._brushes.pop(self.keys.index(key), None)
        self._update()

    def brushes(self) -> dict[str, tuple[float, float]]:
        """Each brushed axis's kept range, 0 (its bottom) to 1 (its top)."""
        return {self.keys[a]: r for a, r in self._brushes.items()}

    def kept_run_ids(self) -> list[str]:
        return [rid for rid, k in zip(self.run_ids, self.kept) if k] if self._brushes else []

    def polyline(self, run_id: str) -> tuple[list[float], list[float]]:
        """The axes (x) and heights (y, 0..1) a run's line passes through."""
        j = self.run_ids.index(run_id)
        present = np.isfinite(self.columns[:, j])
        return np.flatnonzero(present).astype(float).tolist(), self.columns[present, j].tolist()

    def color_of(self, run_id: str) -> QColor | None:
        """The line's colour (by the metric), None for a run the brushes leave out."""
        j = self.run_ids.index(run_id)
        if self._brushes and not self.kept[j]:
            return None
        return _NO_METRIC if self._bins[j] < 0 else self._bin_colors[self._bins[j]]

    def apply_palette(self, pal: QPalette) -> None:
        self._colors = _style_plot(self, pal)
        self._dim.setPen(pg.mkPen(self._colors.faint, width=1))
        self._bin_colors = _metric_colors(BINS, self._colors.dark)
        for curve, color in zip(self._lines, self._bin_colors):
            curve.setPen(pg.mkPen(color, width=1.5))
        self.plot(self.runs, self.keys, self.keys[self._metric_axis] if self._metric_axis is not None else None)

    # -- drawing -----------------------------------------------------------------------------
    def _update(self) -> None:
        n = len(self.run_ids)
        kept = np.ones(n, dtype=bool)
        for a, (lo, hi) in self._brushes.items():
            column = self.columns[a]
            with np.errstate(invalid="ignore"):
                kept &= (column >= lo - 1e-9) & (column <= hi + 1e-9)  # NaN (no value) fails a brush
        self.kept = kept
        self._set(self._dim, ~kept if self._brushes else np.zeros(n, dtype=bool))
        self._set(self._missing, kept & (self._bins < 0))
        for b, curve in enumerate(self._lines):
            self._set(curve, kept & (self._bins == b))
        self._draw_brushes()
        self.brushed.emit(self.kept_run_ids())

    def _set(self, curve: pg.PlotCurveItem, mask: np.ndarray) -> None:
        if not len(self.keys) or not mask.any():
            curve.setData([], [])
            return
        x, y, connect = polylines(self.columns, np.flatnonzero(mask))
        curve.setData(x, y, connect=connect)

    def _draw_brushes(self) -> None:
        item = self.getPlotItem()
        for rect in self._brush_items.values():
            item.removeItem(rect)
        self._brush_items = {}
        fill = QColor(self._colors.text)
        fill.setAlpha(50)
        for a, (lo, hi) in self._brushes.items():
            rect = QGraphicsRectItem(QRectF(a - 0.06, lo, 0.12, max(hi - lo, 0.004)))
            rect.setBrush(fill)
            rect.setPen(pg.mkPen(self._colors.text, width=1))
            item.addItem(rect, ignoreBounds=True)
            self._brush_items[a] = rect

    def _draw_decor(self) -> None:
        item = self.getPlotItem()
        for thing in self._decor:
            item.removeItem(thing)
        self._decor, self._labels = [], []
        c = self._colors
        for a, (key, axis) in enumerate(zip(self.keys, self.axes)):
            line = pg.InfiniteLine(pos=a, angle=90, movable=False, pen=pg.mkPen(c.axis, width=1))
            item.addItem(line, ignoreBounds=True)
            self._decor.append(line)
            name = key.partition(".")[2] + (" (log)" if axis.log else "")
            self._label(a, 1.0, name, "name", (0.5, 1.0))
            if axis.categorical:
                n = len(axis.categories)
                for i, cat in enumerate(axis.categories):
                    self._label(a, i / (n - 1) if n > 1 else 0.5, cat, "tick", (0.0, 0.5))
            elif axis.hi == axis.lo:
                self._label(a, 0.5, axis.label(axis.lo), "tick", (0.0, 0.5))
            else:
                self._label(a, 1.0, axis.label(axis.hi), "top", (0.0, 0.5))
                self._label(a, 0.0, axis.label(axis.lo), "bottom", (0.0, 0.5))
                mid = (axis.lo + axis.hi) / 2
                self._label(a, 0.5, axis.label(mid), "tick", (0.0, 0.5))
        if self._metric_axis is not None and not self.axes[self._metric_axis].categorical:
            steps = _metric_colors(64, self._colors.dark)
            lut = np.array([[c.red(), c.green(), c.blue(), 255] for c in steps], dtype=np.ubyte)
            bar = pg.ImageItem(lut.reshape(1, 64, 4))
            bar.setRect(QRectF(self._metric_axis - 0.025, 0, 0.05, 1))
            item.addItem(bar, ignoreBounds=True)
            self._decor.append(bar)
        self._place_labels()

    def _label(self, a: int, y: float, text: str, row: str, anchor: tuple[float, float]) -> None:
        label = pg.TextItem("", color=self._colors.text, anchor=anchor,
                            fill=_label_fill(self._colors) if row != "name" else None)
        label.setPos(a, y)
        self.getPlotItem().addItem(label, ignoreBounds=True)
        self._decor.append(label)
        self._labels.append((label, text, row))

    def _place_labels(self) -> None:
        """Fit the labels to the space the widget has: names elided to an axis's spacing, ticks to
        the gap beside their axis, every category shown only when there is height for it; the
        view leaves room above the axes for the names."""
        k = len(self.keys)
        vb = self.getPlotItem().vb
        width, height = max(vb.width(), 1.0), max(vb.height(), 1.0)
        if not k:
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        top, bottom = 2.3 * line, 0.7 * line  # pixels above 1 (a value, then the name) and below 0
        scale = max(height - top - bottom, 10.0)  # pixels per unit of height
        vb.setRange(xRange=(-0.5, k - 0.5), yRange=(-bottom / scale, 1 + top / scale), padding=0)
        spacing = width / k
        tick_room = max(int(spacing - 10), 8)
        shown_every = {}
        for a, axis in enumerate(self.axes):
            n = len(axis.categories)
            fits = max(1, int(scale / (line + 2)))  # category labels the axis's height can hold
            shown_every[a] = max(1, -(-n // fits)) if axis.categorical else 1
        counters: dict[int, int] = {}
        for label, text, row in self._labels:
            a = int(round(label.pos().x()))
            if row == "name":
                label.setPos(a, 1 + (0.7 * line) / scale)  # the name's bottom, just above the top value
                room = max(int(spacing - 8), 8)
                shown = metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room)
                label.setHtml(f"<b>{html.escape(shown)}</b>")
                continue
            i = counters.get(a, 0)
            counters[a] = i + 1
            visible = i % shown_every[a] == 0 or row != "tick"
            label.setVisible(visible)
            room = tick_room // 2 + 30 if row == "tick" else tick_room
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
            label.setText(" " + shown)

    @Slot(object)
    def _on_box_resized(self, _box) -> None:
        self._place_labels()  # the view box's size is known only once the layout has run

    # -- mouse -------------------------------------------------------------------------------
    def _axis_near(self, scene_pos) -> tuple[int | None, float]:
        p = self.getPlotItem().vb.mapSceneToView(scene_pos)
        a = int(round(p.x()))
        y = float(min(max(p.y(), 0.0), 1.0))
        if 0 <= a < len(self.keys) and abs(p.x() - a) <= NEAR_AXIS:
            return a, y
        return None, y

    def _on_drag(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            a, y = self._axis_near(ev.buttonDownScenePos())
            self._drag = (a, y) if a is not None else None
        if self._drag is None:
            ev.ignore()
            return
        ev.accept()
        a, start = self._drag
        _, y = self._axis_near(ev.scenePos())
        if ev.isFinish():
            self._drag = None
            if abs(y - start) < 0.005:  # a drag that went nowhere is a click: clear
                self._brushes.pop(a, None)
                self._update()
                return
        self._brushes[a] = (min(start, y), max(start, y))
        self._update()

    def _on_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        a, y = self._axis_near(ev.scenePos())
        if a is not None and a in self._brushes:
            ev.accept()
            del self._brushes[a]
            self._update()
            return
        run_id = self.run_at(ev.scenePos())
        if run_id:
            ev.accept()
            self.run_clicked.emit(run_id)

    def _on_hover(self, ev) -> None:
        run_id = None if ev.isExit() else self.run_at(ev.scenePos())
        self.setToolTip(self.describe(run_id) if run_id else "")

    def describe(self, run_id: str) -> str:
        """A run's name and its value on each axis (the line's tooltip)."""
        run = self.runs[self.run_ids.index(run_id)]
        values = [f"{key.partition('.')[2]} = {run_value(run, key) if run_value(run, key) is not None else '—'}"
                  for key in self.keys]
        return "\n".join([run.info.run_name, *values])

    def run_at(self, scene_pos) -> str | None:
        """The run whose line passes closest to a point (within a few pixels), among those kept."""
        vb = self.getPlotItem().vb
        p = vb.mapSceneToView(scene_pos)
        k = len(self.keys)
        if k < 1 or not self.run_ids:
            return None
        if k == 1:
            ys = self.columns[0]
        else:
            seg = int(min(max(np.floor(p.x()), 0), k - 2))
            t = float(min(max(p.x() - seg, 0.0), 1.0))
            ys = self.columns[seg] * (1 - t) + self.columns[seg + 1] * t
        distance = np.where(self.kept & np.isfinite(ys), np.abs(ys - p.y()), np.inf)
        j = int(np.argmin(distance))
        tolerance = 6 * abs(vb.viewPixelSize()[1])
        return self.run_ids[j] if distance[j] <= tolerance else None

    def _unit(self, a: int, value: float) -> float:
        axis = self.axes[a]
        if axis.categorical:
            n = len(axis.categories)
            return value / (n - 1) if n > 1 else 0.5
        pos = np.log10(value) if axis.log else value
        return 0.5 if axis.hi == axis.lo else float((pos - axis.lo) / (axis.hi - axis.lo))


__all__ = ["ParallelCoordinates", "polylines"]
