"""The crosshair: a line at the hovered x, a dot on each run's curve and a readout of the values.

On a bar chart (every run one point) the readout names the bar under the mouse instead;
the other charts' crosshairs do not follow it, since its axes are values and runs, not x.
"""
from __future__ import annotations

import html
import math
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Slot
from PySide6.QtGui import QColor

from app.shell.errors import override_failed
from app.common.formatting import format_number, format_time
from app.runs.colors import color_for

from .axes import format_duration_tick
from .series_math import X_RELATIVE, X_STEP, value_at
from .x_metric import x_metric_key

MAX_ROWS = 12


@lru_cache(maxsize=256)
def _marker_brush(rgba: int):
    """One brush per color: pyqtgraph's symbol atlas keys on the brush object, so a new
    brush per hover rendered every marker again and grew the atlas without end."""
    return pg.mkBrush(QColor.fromRgba(rgba))


def x_text(x_axis: str, prepared, i: int) -> str:
    key = x_metric_key(x_axis)
    if key is not None:
        return f"{key} {format_number(float(prepared.x[i]))} (step {int(prepared.steps[i]):,})"
    if x_axis == X_STEP:
        return f"step {int(prepared.steps[i]):,}"
    if x_axis == X_RELATIVE:
        return format_duration_tick(float(prepared.x[i]), 1) + " since start"
    return format_time(int(float(prepared.x[i]) * 1000), seconds=True)


def readout_html(rows, x_axis: str) -> str:
    """``rows``: (run_id, name, prepared, index, raw, smoothed or None), any order.

    Highest value first; the smoothed value in bold with the raw one beside it.
    """
    def shown(row) -> float:
        value = row[5] if row[5] is not None else row[4]
        return value if math.isfinite(value) else -math.inf

    rows = sorted(rows, key=shown, reverse=True)
    _, _, prepared, i, _, _ = rows[0]
    lines = [f"<b>{html.escape(x_text(x_axis, prepared, i))}</b>"]
    for run_id, name, _, _, raw, smooth in rows[:MAX_ROWS]:
        color = color_for(run_id).name()
        value = format_number(smooth if smooth is not None else raw)
        extra = f" <span style='color:gray'>({format_number(raw)})</span>" if smooth is not None else ""
        lines.append(f"<span style='color:{color}'>●</span> {html.escape(_elide(name))}"
                     f"&nbsp;&nbsp;<b>{value}</b>{extra}")
    if len(rows) > MAX_ROWS:
        lines.append(f"… and {len(rows) - MAX_ROWS} more")
    return "<br>".join(lines)


def bar_readout_html(key: str, bar, x_axis: str) -> str:
    """The hovered bar (a ``bars.Bar``): the metric, the run in its color, the value as logged and when."""
    raw = float(bar.prepared.raw[0]) if len(bar.prepared.raw) else math.nan
    color = color_for(bar.run_id).name()
    when = x_text(x_axis, bar.prepared, 0)
    return (f"<b>{html.escape(key)}</b><br><span style='color:{color}'>●</span> {html.escape(bar.name)}"
            f"&nbsp;&nbsp;<b>{format_number(raw)}</b><br><span style='color:gray'>{html.escape(when)}</span>")


def _elide(name: str, limit: int = 32) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class CrosshairMixin:
    """MetricChart's hover behaviour; expects ``runs``, ``settings``, ``readout``, ``_vline``,
    ``_markers``, ``_marker_pen``, ``bar_mode``, ``bars``, ``groups`` and the ``hovered``/``hover_left`` signals."""

    @Slot(object)
    def _on_mouse_moved(self, pos: QPointF) -> None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hide_crosshair()
            self.hover_left.emit()
            return
        if self.bar_mode:
            self._show_bar_readout(vb.mapSceneToView(pos).y(), self.mapFromScene(pos))
            return
        x = vb.mapSceneToView(pos).x()
        self.show_crosshair(x, readout_at=self.mapFromScene(pos))
        self.hovered.emit(x)

    def leaveEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().leaveEvent(event)
            self.hide_crosshair()
            self.hover_left.emit()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MetricChart.leaveEvent")

    def hide_crosshair(self) -> None:
        self._vline.setVisible(False)
        self._markers.setData([], [])
        self.readout.hide()

    def show_crosshair(self, x: float, readout_at: QPoint | None = None) -> list[tuple[str, float, float | None]]:
        """Mark every run's point nearest ``x``; with ``readout_at``, list their values there.

        Returns ``(run_id, raw value, smoothed value or None)`` per run shown.
        """
        if self.bar_mode:  # no x to follow among bars
            self.hide_crosshair()
            return []
        self._vline.setPos(x)
        self._vline.setVisible(True)
        if self.groups.active:
            return self._show_group_crosshair(x, readout_at)
        rows, xs, ys, brushes = [], [], [], []
        for curves in self.runs.values():
            p = curves.drawn
            if p is None or not curves.visible:
                continue
            i = value_at(p.x, p.y, x)
            if i is None:
                continue
            raw = float(p.y[i])
            smooth = float(p.smoothed[i]) if p.smoothed is not None else None
            shown = smooth if smooth is not None else raw
            rows.append((curves.run_id, curves.name, p, i, raw, smooth))
            if np.isfinite(shown):
                xs.append(float(p.x[i]))
                ys.append(float(np.log10(shown)) if self.settings.log_y else shown)
                brushes.append(_marker_brush(color_for(curves.run_id).rgba()))
        self._markers.setData(xs, ys, brush=brushes, pen=self._marker_pen)
        if readout_at is not None:
            self._show_readout(rows, readout_at)
        return [(run_id, raw, smooth) for run_id, _, _, _, raw, smooth in rows]

    def _show_group_crosshair(self, x: float, readout_at: QPoint | None) -> list:
        """Grouped: each group's line marked, its value, band and size in the readout."""
        rows = self.groups.at(x)
        shown = [(a.x[j], a.center[j], c) for _, c, a, j in rows if np.isfinite(a.center[j])]
        ys = [float(np.log10(y)) if self.settings.log_y and y > 0 else float(y) for _, y, _ in shown]
        self._markers.setData([float(x) for x, _, _ in shown], ys,
                              brush=[_marker_brush(c.rgba()) for _, _, c in shown], pen=self._marker_pen)
        if readout_at is not None:
            if rows:
                self._place_readout(self.groups.readout_html(rows), readout_at)
            else:
                self.readout.hide()
        return [(label, float(a.center[j]), None) for label, _, a, j in rows]

    def _show_bar_readout(self, y: float, at: QPoint) -> None:
        bar = self.bars.at(y)
        if bar is None:
            self.readout.hide()
            return
        self._place_readout(bar_readout_html(self.key, bar, self.settings.x_axis), at)

    def _show_readout(self, rows, at: QPoint) -> None:
        if not rows:
            self.readout.hide()
            return
        self._place_readout(readout_html(rows, self.settings.x_axis), at)

    def _place_readout(self, text: str, at: QPoint) -> None:
        self.readout.setText(text)
        self.readout.adjustSize()
        w, h = self.readout.width(), self.readout.height()
        left = at.x() + 14 if at.x() + 14 + w < self.width() else at.x() - 14 - w
        top = min(max(4, at.y() - h // 2), max(4, self.height() - h - 4))
        self.readout.move(max(4, left), top)
        self.readout.show()
        self.readout.raise_()
