"""A metric logged once per run, as a bar chart: one horizontal bar per run, in its color.

A final ``test_acc``, or every metric of a grid search, has one point per run: a line
through one point draws nothing. When every run a chart shows has exactly one point, the
chart (chart.py) switches to these bars. They are horizontal so that run names read along
the left axis however many there are (pyqtgraph cannot rotate tick labels, and names under
vertical bars would overlap beyond a handful of runs). The first run is the top bar, as in
the legend and the runs table.

Each bar carries its value as text: inside its end when it fits there, just past it when
not, left out when the rows are too thin for a line of text. The hover readout has it too.

Bars start at zero; on a log axis, where zero cannot be drawn, at the decade below the
smallest value. A run whose one value is not finite (or not positive on a log axis) keeps
its row, with no bar: the readout says what it logged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QTransform

from app.common.formatting import format_number
from app.runs.colors import color_for
from app.shell.errors import override_failed

from .series_math import Prepared

THICKNESS = 0.7  # of a row
NAME_WIDTH_PX = 150  # longer run names are elided in the middle (the readout has them whole)
RANGE_PAD = 0.05
MIN_ROWS = 5  # the view is never fewer rows tall: one run's bar is a bar, not a block
LABEL_PT = 8
LABEL_MARGIN_PX = 4


@dataclass(frozen=True)
class Bar:
    run_id: str
    name: str
    prepared: Prepared
    row: int  # y position: the first run is the highest row
    value: float  # in axis units (log10 on a log axis); NaN when there is nothing to draw


class CategoryAxis(pg.AxisItem):
    """The left axis of a bar chart: a run's name level with its bar, at every row while the
    rows are tall enough for a line of text, at every other (third...) row when they are not."""

    def __init__(self) -> None:
        super().__init__("left")
        self.enableAutoSIPrefix(False)
        self.setStyle(tickLength=0)  # a tick into every bar's start would only add noise
        self.names: dict[int, str] = {}

    def set_names(self, names: dict[int, str]) -> None:
        if names == self.names:
            return
        self.names = dict(names)
        # As wide as the widest name, now: pyqtgraph would widen the axis only after a paint
        # that found its labels clipped, and never narrow it.
        metrics = QFontMetricsF(self._label_font())
        widest = max((metrics.horizontalAdvance(self._elided(n)) for n in self.names.values()), default=0)
        self.setWidth(int(math.ceil(widest)) + self.style["tickTextOffset"][0] + 4)
        self.picture = None
        self.update()

    def _label_font(self):
        return self.style["tickFont"] or self.font()

    def _elided(self, name: str) -> str:
        metrics = QFontMetricsF(self._label_font())
        return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, NAME_WIDTH_PX)

    # pyqtgraph calls these from the axis' paint(): total, as every override
    # (errors.override_failed), they answer no ticks rather than raise.

    def tickValues(self, minVal, maxVal, size):
        try:
            rows = [r for r in sorted(self.names) if minVal - 0.5 <= r <= maxVal + 0.5]
            if not rows or size <= 0 or maxVal <= minVal:
                return []
            per_row = size / (maxVal - minVal)
            line = QFontMetricsF(self._label_font()).height()
            stride = max(1, math.ceil(line / per_row))
            return [(1.0, [float(r) for r in rows if r % stride == 0])]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CategoryAxis.tickValues")
            return []

    def tickStrings(self, values, scale, spacing):
        try:
            return [self._elided(self.names.get(int(round(v)), "")) for v in values]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CategoryAxis.tickStrings")
            return [""] * len(values)


def bar_value(prepared: Prepared) -> float:
    """The one point's value in axis units, NaN when it cannot be drawn."""
    bounds = prepared.y_bounds
    return float(bounds[0]) if bounds is not None else math.nan


def bar_base(values: list[float], log_y: bool) -> float:
    """Where bars start: zero, or on a log axis the decade below the smallest value."""
    if not log_y:
        return 0.0
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0
    low = min(finite)
    return float(math.floor(low)) if math.floor(low) < low else low - 1.0


def ink_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    lum = 0.2126 * channel(background.redF()) + 0.7152 * channel(background.greenF()) \
        + 0.0722 * channel(background.blueF())
    return QColor("#000000") if lum > 0.179 else QColor("#ffffff")


class ValueLabels(pg.GraphicsObject):
    """The bars' values as text, laid out in device pixels at paint time (so at any zoom,
    and in exports, the text keeps its size and is placed by what fits)."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[Bar] = []
        self.base = 0.0
        self.text_color = QColor("#000000")
        self.font = QFont()
        self.font.setPointSize(LABEL_PT)
        self._rect = QRectF()

    def set_bars(self, bars: list[Bar], base: float) -> None:
        self.prepareGeometryChange()
        self.bars = [b for b in bars if math.isfinite(b.value)]
        self.base = base
        if self.bars:
            lo = min([b.value for b in self.bars] + [base])
            hi = max([b.value for b in self.bars] + [base])
            span = hi - lo or 1.0
            # text past a bar's end reaches beyond it; the view clips what passes its edge
            self._rect = QRectF(lo - span, -0.5, 3 * span, len(bars))
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        try:  # total, as every override (errors.override_failed)
            self._paint(p)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ValueLabels.paint")

    def _paint(self, p: QPainter) -> None:
        if not self.bars:
            return
        t = p.worldTransform()  # data units to the painter's pixels (an export's too)
        metrics = QFontMetricsF(self.font)
        row_px = abs(t.map(QPointF(0, 0)).y() - t.map(QPointF(0, THICKNESS)).y())
        if row_px < metrics.height():
            return  # thin rows: the readout tells the values
        p.save()
        p.setWorldTransform(QTransform())  # text in pixels; window and viewport stay
        p.setFont(self.font)
        for bar in self.bars:
            start, end = t.map(QPointF(self.base, bar.row)), t.map(QPointF(bar.value, bar.row))
            text = format_number(float(bar.prepared.raw[0]))
            width = metrics.horizontalAdvance(text)
            length = abs(end.x() - start.x())
            rightward = end.x() >= start.x()
            inside = length >= width + 2 * LABEL_MARGIN_PX
            if inside:  # within the bar, against its end, in black or white
                x = end.x() - LABEL_MARGIN_PX - width if rightward else end.x() + LABEL_MARGIN_PX
                p.setPen(ink_on(color_for(bar.run_id)))
            else:  # past the end, in the chart's text color
                x = end.x() + LABEL_MARGIN_PX if rightward else end.x() - LABEL_MARGIN_PX - width
                p.setPen(self.text_color)
            box = QRectF(x, end.y() - metrics.height() / 2, width + 1, metrics.height())
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.restore()


class RunBars:
    """The bars of a chart in bar mode, the rows they sit on, and the range that shows them."""

    def __init__(self) -> None:
        self.item = pg.BarGraphItem(x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=THICKNESS,
                                    pen=pg.mkPen(None))
        self.item.setZValue(1)
        self.labels = ValueLabels()
        self.labels.setZValue(2)
        self.bars: list[Bar] = []
        self.base = 0.0

    def set_runs(self, runs: list[tuple[str, str, Prepared]], log_y: bool) -> dict[int, str]:
        """``runs``: (run_id, name, prepared) top to bottom. Returns the row names for the axis."""
        n = len(runs)
        self.bars = [Bar(rid, name, p, n - 1 - i, bar_value(p)) for i, (rid, name, p) in enumerate(runs)]
        values = [b.value for b in self.bars]
        self.base = bar_base(values, log_y)
        drawn = [b for b in self.bars if math.isfinite(b.value)]
        self.item.setOpts(
            x0=np.full(len(drawn), self.base),
            width=np.array([b.value - self.base for b in drawn], float),
            y=np.array([b.row for b in drawn], float),
            height=THICKNESS,
            brushes=[pg.mkBrush(color_for(b.run_id)) for b in drawn],
            pen=pg.mkPen(None),
        )
        self.labels.set_bars(self.bars, self.base)
        return {b.row: b.name for b in self.bars}

    def view_range(self) -> tuple[float, float, float, float] | None:
        """x (values, with the base) and y (rows) spans that show every bar."""
        if not self.bars:
            return None
        values = [b.value for b in self.bars if math.isfinite(b.value)]
        lo, hi = min(values + [self.base]), max(values + [self.base])
        middle, rows = (len(self.bars) - 1) / 2, max(len(self.bars), MIN_ROWS)
        y0, y1 = middle - rows / 2, middle + rows / 2
        if hi == lo:  # every value at the base (zeros): a unit span beyond it
            return lo, lo + 1.0, y0, y1
        pad = (hi - lo) * RANGE_PAD  # none on the side where the bars start: they sit on the axis
        x0 = lo if lo == self.base else lo - pad
        x1 = hi if hi == self.base else hi + pad
        return x0, x1, y0, y1

    def at(self, y: float) -> Bar | None:
        """The bar whose row is under ``y`` (view units)."""
        row = int(round(y))
        return next((b for b in self.bars if b.row == row), None)

