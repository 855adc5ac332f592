"""A chart's ranges: it follows its data (x and y from bounds computed on the worker, or
the 5th-95th percentiles with "ignore outliers", or a y range set for this chart) until
the user pans or zooms."""
from __future__ import annotations

import math

from PySide6.QtCore import Slot


class RangeMixin:
    """For ``MetricChart``: expects ``runs``, ``groups``, ``bars``, ``bar_mode``, ``settings``,
    ``follow``, ``_range`` and ``y_range`` (None, or (low, high) in data units)."""

    def fixed_y_range(self) -> tuple[float, float] | None:
        """The y range set for this chart, in axis units (log10 on a log axis)."""
        if self.y_range is None:
            return None
        lo, hi = self.y_range
        if self.settings.log_y:
            if hi <= 0:
                return None
            lo = math.log10(lo) if lo > 0 else math.log10(hi) - 1
            hi = math.log10(hi)
        return (lo, hi) if hi > lo else None

    def set_y_range(self, y_range: tuple[float, float] | None) -> None:
        """A y range for this chart (None: follow the data again)."""
        self.y_range = y_range
        self.follow = True
        self.update_range(force=True)

    @Slot(object)
    def _on_manual_range(self, _mask) -> None:
        self.follow = False

    def update_range(self, force: bool = False) -> None:
        """While following: x spans the data, y spans it too, or with "ignore outliers" the
        runs' 5th to 95th percentiles (in log10 units on a log axis)."""
        if not self.follow:
            return
        if self.bar_mode:
            bounds = self.bars.view_range()
            if bounds is not None and (force or bounds != self._range):
                self._range = bounds
                x0, x1, y0, y1 = bounds
                self.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            return
        shown = [c.drawn for c in self.runs.values() if c.drawn is not None and c.visible and c.drawn.x_bounds]
        grouped = self.groups.bounds() if self.groups.active else None
        if not shown and grouped is None:
            return
        xs = [p.x_bounds for p in shown] + ([grouped[:2]] if grouped else [])
        x0, x1 = min(x[0] for x in xs), max(x[1] for x in xs)
        use_robust = self.settings.ignore_outliers and any(p.robust for p in shown)
        ys = [p.robust if use_robust else p.y_bounds for p in shown] + ([grouped[2:]] if grouped else [])
        ys = [y for y in ys if y is not None]
        if not ys:
            return
        y0, y1 = min(y[0] for y in ys), max(y[1] for y in ys)
        x0, x1 = _padded(x0, x1, 0.02)
        y0, y1 = _padded(y0, y1, 0.08 if use_robust else 0.05)
        fixed = self.fixed_y_range()
        if fixed is not None:
            y0, y1 = fixed
        if force or (x0, x1, y0, y1) != self._range:
            self._range = (x0, x1, y0, y1)
            self.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    @Slot()
    def reset_zoom(self) -> None:
        self.follow = True
        self.update_range(force=True)

    def visible_x_range(self) -> tuple[float, float]:
        return tuple(self.getPlotItem().vb.viewRange()[0])


def _padded(lo: float, hi: float, fraction: float) -> tuple[float, float]:
    span = hi - lo
    if span <= 0:
        span = abs(lo) * 0.1 or 1.0
        return lo - span, hi + span
    return lo - span * fraction, hi + span * fraction
