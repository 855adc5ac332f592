"""Marks where a run logged NaN or an infinity: a diverged run should be visible, not a
silent gap in its line.

+inf is a triangle pointing up at the top edge of the view, -inf one pointing down at the
bottom edge, NaN a cross at the bottom edge; each in the run's colour, at the x where it
was logged, its value and step on hover. The marks stay at the edges as the view pans
and zooms (their y follows the view's range).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot

from app.runs.colors import color_for
from app.shell.errors import override_failed

MAX_MARKS = 2_000  # per chart: past that a run's line is mostly marks anyway
EDGE_PX = 7  # the marks' centres, in pixels from the edge


def nonfinite_points(x: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the non-finite values and their kind: 1 for +inf, -1 for -inf, 0 for NaN."""
    bad = np.flatnonzero(~np.isfinite(raw))
    values = raw[bad]
    kind = np.where(np.isnan(values), 0, np.sign(values)).astype(np.int8)
    return bad, kind


class NonFiniteMarks(pg.ScatterPlotItem):
    """One scatter item per chart holding every run's marks (few, and hoverable)."""

    def __init__(self) -> None:
        super().__init__(pxMode=True, size=10, hoverable=True, tip=self._tip)
        self.setZValue(20)
        self._marks: list[tuple[float, int, str, str, int]] = []  # x, kind, run id, run name, step
        self._view = None

    def implements(self, interface=None):
        # Not one of the chart's data items (pyqtgraph lists those, legends take them): a
        # decoration over the curves.
        return [] if interface is None else False

    def marks(self) -> list[tuple[float, int, str, int]]:
        """``(x, kind, run name, step)`` of each mark shown."""
        return [(x, kind, name, step) for x, kind, _, name, step in self._marks]

    def refresh(self, runs) -> None:
        """``runs``: the chart's ``_RunCurves``; visible ones with data are marked."""
        marks = []
        for curves in runs:
            p = curves.drawn
            if p is None or not curves.visible or bool(np.isfinite(p.raw).all()):
                continue
            bad, kind = nonfinite_points(p.x, p.raw)
            for i, k in zip(bad[:MAX_MARKS].tolist(), kind[:MAX_MARKS].tolist()):
                marks.append((float(p.x[i]), int(k), curves.run_id, curves.name, int(p.steps[i])))
            if len(marks) >= MAX_MARKS:
                break
        if marks == self._marks:
            return
        self._marks = marks[:MAX_MARKS]
        self._place()

    def attach(self, view: pg.ViewBox) -> None:
        self._view = view
        view.sigRangeChanged.connect(self._on_range)

    @Slot(object, object, object)  # sigRangeChanged(view, range, changed)
    def _on_range(self, *_args) -> None:
        if self._marks:
            self._place()

    def _place(self) -> None:
        if not self._marks or self._view is None:
            self.setData([], [])
            return
        (_, _), (y0, y1) = self._view.viewRange()
        height = max(1.0, self._view.height())
        offset = (y1 - y0) * EDGE_PX / height
        top, bottom = y1 - offset, y0 + offset
        spots = []
        for x, kind, run_id, name, step in self._marks:
            color = color_for(run_id)
            symbol = "t1" if kind > 0 else "t" if kind < 0 else "x"  # t1: up, t: down
            spots.append({"pos": (x, top if kind > 0 else bottom), "symbol": symbol,
                          "brush": pg.mkBrush(color), "pen": pg.mkPen(color),
                          "data": (name, step, kind)})
        self.setData(spots)

    @staticmethod
    def _tip(x, y, data) -> str:
        try:  # called from pyqtgraph's hover handling: total, as every override
            name, step, kind = data
            value = "+inf" if kind > 0 else "-inf" if kind < 0 else "NaN"
            return f"{name}: {value} at step {step:,}"
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("NonFiniteMarks.tip")
            return ""
