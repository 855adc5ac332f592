"""Bottom axes for the three x modes, and chart colors taken from the Qt palette."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

from app.shell.errors import override_failed

from .series_math import X_RELATIVE, X_WALL
from .x_metric import x_metric_key

_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
               21600, 43200, 86400, 172800, 604800)


def short_number(value: float) -> str:
    """Tick text for steps: 950, 12k, 1.5M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            text = f"{value / limit:.2f}".rstrip("0").rstrip(".")
            return text + suffix
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def format_duration_tick(seconds: float, spacing: float) -> str:
    """Relative time: 45s, 2m, 1h30m, 2d4h."""
    s = round(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if spacing < 1:
        return f"{seconds:.3g}s"
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{sign}{m}m" + (f"{r:02d}s" if r else "")
    if s < 86400:
        h, r = divmod(s, 3600)
        return f"{sign}{h}h" + (f"{r // 60:02d}m" if r // 60 else "")
    d, r = divmod(s, 86400)
    return f"{sign}{d}d" + (f"{r // 3600}h" if r // 3600 else "")


def _blank(values) -> list[str]:
    """No label for each tick: what an axis shows when working out its labels failed."""
    try:
        return [""] * len(values)
    except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
        return []


class StepAxis(pg.AxisItem):
    """Steps: plain tick spacing, compact labels (1.5M rather than 1.5e+06)."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    # pyqtgraph calls these from the axis' paint(): they are total, as every override
    # (errors.override_failed), and answer no labels rather than raise.

    def tickValues(self, minVal, maxVal, size):
        """Whole steps only: zoomed in to a few steps, pyqtgraph would tick 0.5, 1.5..."""
        try:
            levels = super().tickValues(minVal, maxVal, size)
            if self.logMode:
                return levels
            whole = [(sp, [v for v in values if abs(v - round(v)) < 1e-9])
                     for sp, values in levels if sp is not None and sp >= 1 and abs(sp - round(sp)) < 1e-9]
            if whole:
                return whole
            lo, hi = math.ceil(minVal), math.floor(maxVal)
            return [(1.0, [float(v) for v in range(lo, hi + 1)] if 0 <= hi - lo <= 1000 else [])]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("StepAxis.tickValues")
            return []

    def tickStrings(self, values, scale, spacing):
        try:
            if self.logMode:
                return super().tickStrings(values, scale, spacing)
            return [short_number(v * scale) for v in values]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("StepAxis.tickStrings")
            return _blank(values)


class DurationAxis(pg.AxisItem):
    """Seconds since the run started, ticked at whole seconds, minutes, hours or days."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):
        try:
            return self._tick_spacing(minVal, maxVal, size)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DurationAxis.tickSpacing")
            return []

    def _tick_spacing(self, minVal, maxVal, size):
        span = abs(maxVal - minVal)
        if span == 0:
            return []
        target = span / max(2.0, size / 90.0)  # one label every ~90 px
        if target < 1:
            return super().tickSpacing(minVal, maxVal, size)
        major = next((t for t in _TIME_STEPS if t >= target), None)
        if major is None:
            major = 86400 * 10 ** math.ceil(math.log10(target / 86400))
        minor = next((t for t in reversed(_TIME_STEPS) if t <= major / 4), major / 5)
        return [(major, 0), (minor, 0)]

    def tickStrings(self, values, scale, spacing):
        try:
            return [format_duration_tick(v, spacing) for v in values]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DurationAxis.tickStrings")
            return _blank(values)


class ValueAxis(pg.AxisItem):
    """The y axis: on a log scale, labels only at 1, 2 and 5 of each decade (0.05, 0.1, 0.2...);
    on a range too narrow to hold two of those (0.31 to 0.35), evenly spaced values, each
    labelled (pyqtgraph draws no tick at all there)."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self._linear_spacing: float | None = None  # set while a narrow log range is ticked

    def tickValues(self, minVal, maxVal, size):
        try:
            self._linear_spacing = None
            levels = super().tickValues(minVal, maxVal, size)
            if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
                return levels
            labelled = [v for _, values in levels for v in values if minVal <= v <= maxVal
                        and self._log_tick_strings([v], 1.0) != [""]]
            if len(labelled) >= 2 or maxVal - minVal > 3:
                return levels
            lo, hi = 10.0 ** minVal, 10.0 ** maxVal
            spacing = pg.AxisItem.tickSpacing(self, lo, hi, size)[0][0]
            first = math.ceil(lo / spacing)
            values = [k * spacing for k in range(first, first + 50) if k * spacing <= hi and k * spacing > 0]
            self._linear_spacing = spacing
            return [(None, [math.log10(v) for v in values])]
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ValueAxis.tickValues")
            return []

    def logTickStrings(self, values, scale, spacing):
        try:
            if self._linear_spacing is not None:
                decimals = max(0, -math.floor(math.log10(self._linear_spacing)) + 1)
                return [f"{10.0 ** float(v) * scale:.{decimals}f}".rstrip("0").rstrip(".") for v in values]
            return self._log_tick_strings(values, scale)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ValueAxis.logTickStrings")
            return _blank(values)

    def _log_tick_strings(self, values, scale):
        labels = []
        for v in values:
            x = 10.0 ** float(v) * scale
            if x <= 0 or not math.isfinite(x):
                labels.append("")
                continue
            mantissa = round(x / 10.0 ** math.floor(math.log10(x) + 1e-9), 6)
            if mantissa not in (1.0, 2.0, 5.0):
                labels.append("")
            elif x < 1e-3 or x >= 1e5:
                labels.append(f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e"))
            else:
                labels.append(f"{x:.4g}")
        return labels


def make_bottom_axis(x_axis: str) -> pg.AxisItem:
    if x_metric_key(x_axis) is not None:
        return ValueAxis("bottom")
    if x_axis == X_WALL:
        return pg.DateAxisItem(orientation="bottom")
    if x_axis == X_RELATIVE:
        return DurationAxis("bottom")
    return StepAxis("bottom")


AXIS_LABELS = {"step": "step", X_RELATIVE: "time since start", X_WALL: "wall time"}


def axis_label(x_axis: str) -> str:
    """The bottom axis' title: "step", the time axes', or the x metric's key."""
    key = x_metric_key(x_axis)
    return key if key is not None else AXIS_LABELS.get(x_axis, "")


@dataclass(frozen=True)
class ChartColors:
    background: QColor
    text: QColor
    axis: QColor
    faint: QColor  # legend and readout frames
    dark: bool

    @classmethod
    def from_palette(cls, pal: QPalette) -> "ChartColors":
        background = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        dark = background.lightness() < 128
        axis = QColor(text)
        axis.setAlpha(150)
        faint = QColor(text)
        faint.setAlpha(40)
        return cls(background, text, axis, faint, dark)
