"""One run's line in a chart: the full series in, what one pixel column can show out.

pyqtgraph's ``PlotDataItem`` wraps a curve and a scatter item and, on every pan or zoom,
re-runs its data pipeline for each of them (clip to view, peak downsampling, finite
checks, bounds): about 0.6 ms per curve per repaint, 60 ms for 100 runs, before any
pixel is drawn. ``RunCurve`` is a ``PlotCurveItem`` that holds the full series and works
out at paint time, from the painter's own transform, what to draw:

- zoomed in (at most ``DENSE`` points per device pixel column in view): the points in
  view and one neighbour either side, as a path, gaps broken by the ``connect`` array;
- zoomed out: the columns of ``pixel_columns.columns`` -- per pixel column, one vertical
  line from its lowest to its highest point, reaching half way to the neighbouring
  columns' lines (``pixel_columns.column_lines``). That is what the full polyline covers
  in each column, so every point is still drawn (min/max per pixel), with one line per
  column instead of one segment per point; it also fills fewer pixels than pyqtgraph's
  min/max zig-zag, whose segments between columns overlap the vertical ones. Columns sit
  on a fixed grid per zoom level (widths step by 2**(1/8), never wider than a device
  pixel); once the view pans at a level, they are worked out for three view widths at
  once, so the next pans only draw. Drawing is then what a repaint costs: about 0.25 ms
  for a 10,000-point curve 1,000 pixels wide, nearly all of it Qt filling pixels;
- zoomed out and antialiased (short series, exports): the same columns as one polyline
  through each column's min and max (``pixel_columns.column_polyline``), since
  antialiased vertical lines would blur.

A series of one point has no line to draw: it is a marker of ``SINGLE_POINT_PX``, in the
pen's color (a run that logged a metric once, beside runs that logged it every step).

A repaint of part of the view (a moving crosshair) draws only the columns in that part.
Hidden curves are never painted, so they cost nothing. Bounds come from the data once per
``set_series`` (pyqtgraph recomputes them from the drawn data after every view change).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from app.shell.errors import override_failed

from .pixel_columns import Columns, column_lines, column_polyline, columns

DENSE = 2.0  # points per device pixel column in view above which columns are drawn
LEVELS_PER_OCTAVE = 8  # column widths are 2**(k/8) data units: one level serves a pan
ZOOM_MARGIN = 0.25  # at a new zoom level, columns are worked out for the view and this
PAN_MARGIN = 1.0  # many view widths either side; once panning at that level, this many
PAD_PX = 3.0  # bounding rect margin: half a pen, half a "show points" dot
POINT_SIZE = 4.0  # "show points" dots, in pixels
SINGLE_POINT_PX = 9.0  # the marker of a one-point series: easy to see and to hover
NOTHING = ("nothing", 0, 0)
_ANTIALIASING = QPainter.RenderHint.Antialiasing  # looked up once: PySide enum lookups are slow


class _ColumnCache(NamedTuple):
    version: int
    width: float
    lo: float  # the x range asked for (a pan inside it reuses the lines)
    hi: float
    columns: Columns
    lines: np.ndarray  # (n, 4) float64, C-contiguous: x0 y0 x1 y1, by x0
    starts: np.ndarray  # lines[:, 0], contiguous
    address: int  # of lines' first element, for QPainter.drawLines(QLineF *, int)


class _PointCache(NamedTuple):
    version: int
    a: int
    b: int
    path: QPainterPath


class _PolylineCache(NamedTuple):
    columns: _ColumnCache
    i: int
    j: int
    path: QPainterPath


class RunCurve(pg.PlotCurveItem):
    """A run's raw or smoothed line; ``set_series`` replaces its data, nothing is copied."""

    def __init__(self) -> None:
        super().__init__(antialias=False)
        # paint() learns which part of the view needs drawing: a crosshair moving over 100
        # curves then redraws a strip a few pixels wide, not every line of every curve.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.xData = self.yData = None
        self._connect: str | np.ndarray = "all"
        self._gaps: np.ndarray | None = None  # NaN where y holds a gap filler (None: no gaps)
        self._version = 0
        self._drawable = False  # some line to draw (set_series)
        self._y_bounds: tuple[float, float] | None | bool = False  # False: not computed yet
        self._columns: _ColumnCache | None = None
        self._points: _PointCache | None = None
        self._polyline: _PolylineCache | None = None
        self._scale: tuple[float, float] | None = None
        self.point_color: QColor | None = None
        self.drawn: tuple[str, int, int] = NOTHING  # what the last paint drew: see drawn_data

    # -- data ------------------------------------------------------------------------------
    def set_series(self, x: np.ndarray, y: np.ndarray, connect="all", gaps: np.ndarray | None = None) -> None:
        """``x`` increasing; ``y`` in axis units with gaps filled and ``connect`` as
        ``series_math.gap_connect`` returns them ("finite": nothing to draw). ``gaps``:
        the values before filling (NaN at the gaps), so "show points" skips the fillers."""
        self.xData, self.yData = x, y
        self._connect = connect
        self._gaps = gaps
        self.opts["connect"] = connect
        self._changed()

    def clear_series(self) -> None:
        self.xData = self.yData = self._gaps = None
        self._connect = self.opts["connect"] = "all"
        self._changed()

    def _changed(self) -> None:
        x = self.xData
        self._drawable = x is not None and len(x) > 0 and not (isinstance(self._connect, str)
                                                               and self._connect == "finite")
        self._version += 1
        self._y_bounds = False
        self._columns = self._points = self._polyline = None
        self.invalidateBounds()
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.update()

    def _has_lines(self) -> bool:
        return self._drawable

    def set_points(self, color: QColor | None) -> None:
        """A dot at each point drawn ("show points"), or none."""
        if color != self.point_color:
            self.point_color = color
            self.update()

    # -- bounds ----------------------------------------------------------------------------
    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        try:
            if not self._has_lines():
                return (None, None)
            if frac >= 1.0 and orthoRange is None:
                if ax == 0:
                    return (float(self.xData[0]), float(self.xData[-1]))
                if self._y_bounds is False:
                    y = self.yData
                    self._y_bounds = (float(y.min()), float(y.max()))
                return self._y_bounds
            return super().dataBounds(ax, frac, orthoRange)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunCurve.dataBounds")
            return (None, None)

    def _pixel(self) -> tuple[float, float]:
        parent = self.parentItem()
        if parent is None:
            return (0.0, 0.0)
        t = parent.transform()
        return (abs(t.m11()), abs(t.m22()))

    def viewTransformChanged(self) -> None:
        # A pan moves the view, not the curve: its bounding rect only changes with the scale
        # (the pixel margin). pyqtgraph's version recomputes bounds after every pan.
        try:
            scale = self._pixel()
            if scale != self._scale:
                self._scale = scale
                self.invalidateBounds()
                self.prepareGeometryChange()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunCurve.viewTransformChanged")

    def boundingRect(self) -> QRectF:
        try:
            if self._boundingRect is None:
                x0, x1 = self.dataBounds(0)
                y0, y1 = self.dataBounds(1)
                if x0 is None or y0 is None:
                    self._boundingRect = QRectF()
                else:
                    sx, sy = self._scale or self._pixel()
                    pad = SINGLE_POINT_PX / 2 + 1 if len(self.xData) == 1 else PAD_PX
                    px = pad / sx if sx > 0 else 0.0
                    py = pad / sy if sy > 0 else 0.0
                    self._boundingRect = QRectF(x0 - px, y0 - py, x1 - x0 + 2 * px, y1 - y0 + 2 * py)
            return self._boundingRect
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunCurve.boundingRect")
            return QRectF()

    # -- drawing ---------------------------------------------------------------------------
    def drawn_data(self) -> np.ndarray:
        """What the last paint drew: an ``(n, 4)`` array of lines (x0, y0, x1, y1) when it
        drew columns, an ``(n, 2)`` array of points (x, y) when it drew the points in view."""
        mode, a, b = self.drawn
        if mode == "columns" and self._columns is not None:
            return self._columns.lines[a:b]
        if mode == "polyline" and self._columns is not None:
            x, y, _ = column_polyline(self._columns.columns.part(a, b), True)
            return np.column_stack((x, y))
        if mode == "points" and self.xData is not None:
            return np.column_stack((self.xData[a:b], self.yData[a:b]))
        return np.empty((0, 2))

    def paint(self, p: QPainter, opt, widget) -> None:
        # Total, as every override (errors.override_failed); the try costs nothing unless raised.
        try:
            self.drawn = NOTHING
            if not self._drawable:
                return
            view = self.getViewBox()
            if view is None:
                return
            if len(self.xData) == 1:
                self._paint_single(p)
                return
            lo, hi = view.viewRange()[0]  # the curve sits in the view's coordinates
            t = p.deviceTransform()  # includes an export's scale and the screen's pixel ratio
            per_unit = math.hypot(t.m11(), t.m12())  # device pixels per x unit
            if not (hi > lo and per_unit > 0 and math.isfinite(per_unit)):
                return
            width = 2.0 ** (math.floor(math.log2(1.0 / per_unit) * LEVELS_PER_OCTAVE) / LEVELS_PER_OCTAVE)
            cache = self._columns
            level = cache is not None and cache.version == self._version and cache.width == width
            shown = (lo, hi)
            if opt is not None:  # what needs drawing now (QGraphicsView passes the exposed part)
                exposed = opt.exposedRect
                shown = (max(lo, exposed.left()), min(hi, exposed.right()))
            if level and cache.lo <= lo and hi <= cache.hi:  # a pan at the same zoom: only draw
                self._paint_columns(p, cache, *shown)
                return
            x = self.xData
            a, b = int(x.searchsorted(lo)), int(x.searchsorted(hi, "right"))  # the points in view
            if b - a > DENSE * (hi - lo) * per_unit:
                cache = self._columns = self._make_columns(width, lo, hi, PAN_MARGIN if level else ZOOM_MARGIN)
                self._paint_columns(p, cache, *shown)
            else:
                self._paint_points(p, max(0, a - 1), min(len(x), b + 1))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunCurve.paint")

    def _antialias(self) -> bool:
        export = self._exportOpts
        return export.get("antialias", True) if export is not False else self.opts["antialias"]

    def _paint_columns(self, p: QPainter, cache: _ColumnCache, lo: float, hi: float) -> None:
        if self._antialias():
            self._paint_polyline(p, cache, lo, hi)
            return
        width = cache.width
        # the lines in view, and the one before: a line across empty columns starts there
        a, b = cache.starts.searchsorted((lo - width, hi + width)).tolist()
        a = max(0, a - 1)
        if b <= a:
            return
        p.setRenderHint(_ANTIALIASING, False)  # vertical lines on pixel columns
        p.setPen(self.opts["pen"])
        p.drawLines(shiboken6.wrapInstance(cache.address + 32 * a, QLineF), b - a)  # 4 float64 a line
        self.drawn = ("columns", a, b)
        self._paint_column_dots(p, cache, lo, hi)

    def _paint_polyline(self, p: QPainter, cache: _ColumnCache, lo: float, hi: float) -> None:
        """Antialiased (short series, exports): the columns as a min/max polyline."""
        c, width = cache.columns, cache.width
        i, j = c.index.searchsorted((math.floor(lo / width), math.ceil(hi / width) + 1)).tolist()
        i, j = max(0, i - 1), min(len(c), j + 1)  # and the columns just outside: lines into view
        if j <= i:
            return
        line = self._polyline
        if line is None or line.columns is not cache or (line.i, line.j) != (i, j):
            x, y, connect = column_polyline(c.part(i, j), isinstance(self._connect, str))
            line = self._polyline = _PolylineCache(cache, i, j, pg.arrayToQPath(x, y, connect, finiteCheck=False))
        p.setRenderHint(_ANTIALIASING, True)
        p.setPen(self.opts["pen"])
        p.drawPath(line.path)
        self.drawn = ("polyline", i, j)
        self._paint_column_dots(p, cache, lo, hi)

    def _paint_column_dots(self, p: QPainter, cache: _ColumnCache, lo: float, hi: float) -> None:
        if self.point_color is None:
            return
        c, width = cache.columns, cache.width  # a dot at each column's lowest and highest point
        i, j = c.index.searchsorted((math.floor(lo / width), math.ceil(hi / width))).tolist()
        dots = np.empty((2 * (j - i), 2))
        dots[:, 0] = np.repeat(c.center[i:j], 2)
        dots[0::2, 1], dots[1::2, 1] = c.low[i:j], c.high[i:j]
        self._paint_dots(p, dots)

    def _make_columns(self, width: float, lo: float, hi: float, margin: float) -> _ColumnCache:
        span = hi - lo
        lo, hi = lo - margin * span, hi + margin * span
        x = self.xData
        c = columns(x, self.yData, self._connect, width, max(lo, float(x[0])), min(hi, float(x[-1])))
        lines = np.ascontiguousarray(column_lines(c))
        return _ColumnCache(self._version, width, lo, hi, c, lines, np.ascontiguousarray(lines[:, 0]),
                            lines.ctypes.data)

    def _paint_points(self, p: QPainter, a: int, b: int) -> None:
        if b - a < 1:
            return
        cache = self._points
        if cache is None or cache.version != self._version or (cache.a, cache.b) != (a, b):
            x, y = self.xData[a:b], self.yData[a:b]
            connect = self._connect if isinstance(self._connect, str) else self._connect[a:b]
            path = pg.arrayToQPath(x, y, connect=connect, finiteCheck=False)
            cache = self._points = _PointCache(self._version, a, b, path)
        p.setRenderHint(_ANTIALIASING, self._antialias())
        p.setPen(self.opts["pen"])
        p.drawPath(cache.path)
        self.drawn = ("points", a, b)
        if self.point_color is not None:
            keep = slice(a, b) if self._gaps is None else np.flatnonzero(np.isfinite(self._gaps[a:b])) + a
            self._paint_dots(p, np.column_stack((self.xData[keep], self.yData[keep])))

    def _paint_single(self, p: QPainter) -> None:
        pen = QPen(self.opts["pen"].color(), SINGLE_POINT_PX)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setRenderHint(_ANTIALIASING, True)
        p.setPen(pen)
        p.drawPoint(QPointF(float(self.xData[0]), float(self.yData[0])))
        self.drawn = ("points", 0, 1)

    def _paint_dots(self, p: QPainter, xy: np.ndarray) -> None:
        if len(xy) == 0:
            return
        xy = np.ascontiguousarray(xy, np.float64)
        pen = QPen(self.point_color, POINT_SIZE)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setRenderHint(_ANTIALIASING, True)
        p.setPen(pen)
        p.drawPoints(shiboken6.wrapInstance(xy.ctypes.data, QPointF), len(xy))
