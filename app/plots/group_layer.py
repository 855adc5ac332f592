"""A chart's grouped view: per group one line (a ``RunCurve``, updated in place) and one
band, drawn instead of the runs' curves while grouping is on.

The numbers come from ``grouping.aggregate`` over the runs' prepared series (smoothed when
smoothing is on: each run smoothed, then aggregated); numpy only, per run, never per point.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath

from app.runs.colors import palette
from app.shell.errors import override_failed

from .curve import RunCurve
from .grouping import Aggregate, GroupSpec, aggregate, axis_units
from .series_math import gap_connect

if TYPE_CHECKING:
    from .chart import MetricChart

BAND_ALPHA = 60


def group_color(index: int, dark: bool) -> QColor:
    """A group's colour: the run palette's slots in order (groups are few, runs many)."""
    colors = palette(dark)
    return QColor(colors[index % len(colors)])


class BandItem(pg.GraphicsObject):
    """The filled area between a group's low and high values."""

    def __init__(self) -> None:
        super().__init__()
        self._path = QPainterPath()
        self._brush = pg.mkBrush(0, 0, 0, BAND_ALPHA)

    def set_band(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: QColor) -> None:
        keep = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
        x, lo, hi = x[keep], lo[keep], hi[keep]
        self.prepareGeometryChange()
        if len(x) < 2:
            self._path = QPainterPath()
        else:
            outline = pg.arrayToQPath(np.concatenate((x, x[::-1])), np.concatenate((hi, lo[::-1])),
                                      finiteCheck=False)
            outline.closeSubpath()
            self._path = outline
        fill = QColor(color)
        fill.setAlpha(BAND_ALPHA)
        self._brush = pg.mkBrush(fill)
        self.update()

    def boundingRect(self) -> QRectF:
        try:
            return self._path.boundingRect()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("BandItem.boundingRect")
            return QRectF()

    def paint(self, p, *args) -> None:
        try:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            p.drawPath(self._path)
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
        """Aggregate again (new data, settings or groups) and hand the items their arrays."""
        if not self.active:
            self.aggregates = {}
            for label in list(self._items):
                self._remove(label)
            return
        dark = self.chart._colors.dark
        log_y = self.chart.settings.log_y
        seen = set()
        for i, (label, rids) in enumerate(self.groups):
            members = [c.drawn for c in self._members(rids) if c.drawn is not None and len(c.drawn)]
            if not members:
                continue
            series = [(p.steps, p.x, p.smoothed_raw if p.smoothed_raw is not None else p.raw) for p in members]
            agg = self.aggregates[label] = aggregate(series, self.spec.center, self.spec.band)
            seen.add(label)
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
        for label in [k for k in self._items if k not in seen]:
            self._remove(label)
            self.aggregates.pop(label, None)

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
