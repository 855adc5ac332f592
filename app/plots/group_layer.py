"""A chart's grouped view: per group one line (a ``RunCurve``, updated in place) and one
band, drawn instead of the runs' curves while grouping is on.

The numbers come from ``grouping.aggregate`` over the runs' prepared series (smoothed when
smoothing is on: each run smoothed, then aggregated); numpy only, per run, never per point.
"""
from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath

from app.common.formatting import format_number
from app.runs.colors import palette
from app.shell.errors import override_failed

from .curve import RunCurve
from .grouping import Aggregate, GroupSpec, aggregate, axis_units
from .series_math import gap_connect, value_at

if TYPE_CHECKING:
    from .chart import MetricChart

BAND_ALPHA = 60


# Palette slots far apart in hue first (the palette is ordered by hue: neighbours look alike).
_GROUP_SLOTS = (12, 0, 9, 16, 4, 11, 18, 7, 14, 2, 10, 17, 5, 13, 1, 8, 15, 3, 19, 6)


def group_color(index: int, dark: bool) -> QColor:
    """A group's colour: the run palette's slots, the most distinct first (groups are few)."""
    colors = palette(dark)
    return QColor(colors[_GROUP_SLOTS[index % len(_GROUP_SLOTS)] % len(colors)])


class BandItem(pg.GraphicsObject):
    """The filled area between a group's low and high values.

    As the run curves (curve.py), it draws per pixel column: the band's lowest low and
    highest high in each column, so a band of 10,000 noisy points fills a polygon of two
    points a column instead of one of 20,000 self-crossing vertices (which took Qt about
    40 ms to fill). Column widths step by 2**(1/8), so a pan reuses the polygon."""

    def __init__(self) -> None:
        super().__init__()
        self._x = self._lo = self._hi = np.empty(0)
        self._rect = QRectF()
        self._cache: tuple[float, QPainterPath] | None = None
        self._brush = pg.mkBrush(0, 0, 0, BAND_ALPHA)

    def set_band(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: QColor) -> None:
        keep = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
        self._x, self._lo, self._hi = x[keep], lo[keep], hi[keep]
        self.prepareGeometryChange()
        self._cache = None
        if len(self._x) < 2:
            self._rect = QRectF()
        else:
            y0, y1 = float(self._lo.min()), float(self._hi.max())
            self._rect = QRectF(float(self._x[0]), y0, float(self._x[-1] - self._x[0]), y1 - y0)
        fill = QColor(color)
        fill.setAlpha(BAND_ALPHA)
        self._brush = pg.mkBrush(fill)
        self.update()

    def polygon(self, width: float) -> QPainterPath:
        """The band's outline with columns ``width`` data units wide."""
        if self._cache is not None and self._cache[0] == width:
            return self._cache[1]
        x, lo, hi = self._x, self._lo, self._hi
        if len(x) > 2 and width > 0:
            column = np.floor(x / width)
            starts = np.concatenate(([0], np.flatnonzero(column[1:] != column[:-1]) + 1))
            if len(starts) < len(x):
                lo, hi = np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts)
                x = (column[starts] + 0.5) * width
        path = pg.arrayToQPath(np.concatenate((x, x[::-1])), np.concatenate((hi, lo[::-1])), finiteCheck=False)
        path.closeSubpath()
        self._cache = (width, path)
        return path

    def boundingRect(self) -> QRectF:
        return self._rect  # total: a stored rect

    def paint(self, p, *args) -> None:
        try:
            if len(self._x) < 2:
                return
            t = p.deviceTransform()
            per_unit = math.hypot(t.m11(), t.m12())  # device pixels per x unit
            if not (per_unit > 0 and math.isfinite(per_unit)):
                return
            width = 2.0 ** (math.floor(math.log2(1.0 / per_unit) * 8) / 8)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            p.drawPath(self.polygon(width))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("BandItem.paint")


class GroupLayer:
    """The group lines and bands of one chart."""

    def __init__(self, chart: "MetricChart") -> None:
        self.chart = chart
        self.spec = GroupSpec()
        self.groups: list[tuple[str, list[str]]] = []
        self.aggregates: dict[str, Aggregate] = {}
        self._items: dict[str, tuple[RunCurve, BandItem]] = {}
        self.worker = None  # app.common.worker.Worker: aggregates off the GUI thread (None: here)
        self._generation = 0  # bumps when grouping goes off: a result in flight is then dropped
        self.pending = False  # an aggregation is under way on the worker
        self._dirty = False  # data changed meanwhile: aggregate again when it is back

    @property
    def active(self) -> bool:
        return self.spec.on and bool(self.groups)

    def set_groups(self, groups: list[tuple[str, list[str]]], spec: GroupSpec) -> None:
        """``groups``: ``[(label, run ids)]`` in legend order; empty or ``spec.by == ""``: off."""
        was = self.active
        self.spec, self.groups = spec, list(groups) if spec.on else []
        if was != self.active:
            for curves in self.chart.runs.values():
                for curve in (curves.raw, curves.smooth):
                    if curve is not None:
                        curve.setVisible(self.chart._shows_curves(curves))
            self.chart.hide_crosshair()
        self.refresh()
        self.chart.follow = True
        self.chart.update_range(force=True)

    def entries(self) -> list[tuple[str, int, QColor]]:
        """``(label, runs in the group that log this metric, colour)`` per group drawn."""
        dark = self.chart._colors.dark
        return [(label, len(self._members(rids)), group_color(i, dark))
                for i, (label, rids) in enumerate(self.groups) if self._members(rids)]

    def _members(self, rids: list[str]) -> list:
        runs = self.chart.runs
        return [runs[r] for r in rids if r in runs and runs[r].visible]

    def refresh(self) -> None:
        """Aggregate again (new data, settings or groups), on the worker when there is one;
        the items get their arrays when it is done."""
        if not self.active:
            self._generation += 1
            self.pending = self._dirty = False
            self._apply({})
            return
        if self.pending:  # one aggregation at a time; the newest data follows it
            self._dirty = True
            return
        jobs = []
        for i, (label, rids) in enumerate(self.groups):
            members = [c.drawn for c in self._members(rids) if c.drawn is not None and len(c.drawn)]
            if members:  # Prepared arrays are never written to: safe to read on another thread
                jobs.append((i, label, [(p.steps, p.x, p.smoothed_raw if p.smoothed_raw is not None else p.raw)
                                        for p in members]))
        center, band, generation = self.spec.center, self.spec.band, self._generation

        def work():
            return {label: (i, aggregate(series, center, band)) for i, label, series in jobs}

        if self.worker is None:
            self._apply(work())
            return
        self.pending = True

        def done(result):
            if generation == self._generation:
                self.pending = False
                self._apply(result)
                if self._dirty:
                    self._dirty = False
                    self.refresh()

        def failed(error):
            if generation == self._generation:
                self.pending = self._dirty = False

        self.worker.submit(work, on_done=done, on_error=failed)

    def _apply(self, result: dict[str, tuple[int, Aggregate]]) -> None:
        dark = self.chart._colors.dark
        log_y = self.chart.settings.log_y
        self.aggregates = {label: agg for label, (_, agg) in result.items()}
        for label, (i, agg) in result.items():
            line, band = self._items.get(label) or self._add(label)
            color = group_color(i, dark)
            y, connect = gap_connect(axis_units(agg.center, log_y))
            if len(agg):
                line.set_series(agg.x, y, connect)
            else:
                line.clear_series()
            line.setPen(pg.mkPen(color, width=2))
            band.setVisible(self.spec.band != "none")
            band.set_band(agg.x, axis_units(agg.lo, log_y), axis_units(agg.hi, log_y), color)
        for label in [k for k in self._items if k not in result]:
            self._remove(label)
        self.chart.update_range()

    def at(self, x: float) -> list[tuple[str, QColor, Aggregate, int]]:
        """``(label, colour, aggregate, index)`` of each group's point nearest ``x``."""
        dark = self.chart._colors.dark
        rows = []
        for i, (label, _) in enumerate(self.groups):
            agg = self.aggregates.get(label)
            if agg is None or not len(agg):
                continue
            j = value_at(agg.x, agg.center, x)
            if j is not None:
                rows.append((label, group_color(i, dark), agg, j))
        return rows

    def readout_html(self, rows) -> str:
        """The crosshair's text: the step, then per group its line's value, band and size."""
        name = html.escape(self.spec.by.partition(":")[2])
        centre = "median" if self.spec.center == "median" else "mean"
        lines = [f"<b>step {int(rows[0][2].steps[rows[0][3]]):,}</b>"]
        for label, color, agg, j in rows:
            band = ("" if self.spec.band == "none" else
                    f" <span style='color:gray'>[{format_number(float(agg.lo[j]))} – "
                    f"{format_number(float(agg.hi[j]))}]</span>")
            lines.append(f"<span style='color:{color.name()}'>■</span> {name}={html.escape(label)}"
                         f"&nbsp;&nbsp;{centre} <b>{format_number(float(agg.center[j]))}</b>{band}"
                         f" <span style='color:gray'>({int(agg.count[j])})</span>")
        return "<br>".join(lines)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """x0, x1, y0, y1 over the lines and bands, in axis units."""
        log_y = self.chart.settings.log_y
        parts = [a for a in self.aggregates.values() if len(a)]
        if not parts:
            return None
        x = np.concatenate([a.x for a in parts])
        y = np.concatenate([axis_units(np.concatenate((a.lo, a.hi, a.center)), log_y) for a in parts])
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if not len(x) or not len(y):
            return None
        return float(x.min()), float(x.max()), float(y.min()), float(y.max())

    def _add(self, label: str) -> tuple[RunCurve, BandItem]:
        item = self.chart.getPlotItem()
        line = RunCurve()
        line.setZValue(4)
        band = BandItem()
        band.setZValue(3)
        item.addItem(band)
        item.addItem(line)
        self._items[label] = (line, band)
        return line, band

    def _remove(self, label: str) -> None:
        line, band = self._items.pop(label)
        item = self.chart.getPlotItem()
        item.removeItem(line)
        item.removeItem(band)
