"""A chart's own settings (log y, y range, smoothing: over the panel's) and the chart's
"..." menu: those, maximise, pin to the top, and the exports."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QInputDialog, QMenu

from .chart import MetricChart
from .export import ChartExportActions
from .series_math import SMOOTH_EMA, SMOOTH_MAVG, SMOOTH_OFF, SMOOTHINGS, PlotSettings

_SMOOTHING_CHOICES = (
    (None, "As the panel"), ((SMOOTH_OFF, None, None), "No smoothing"),
    ((SMOOTH_EMA, 0.6, None), "EMA 0.6"), ((SMOOTH_EMA, 0.9, None), "EMA 0.9"),
    ((SMOOTH_EMA, 0.99, None), "EMA 0.99"), ((SMOOTH_MAVG, None, 9), "Moving average, 9 points"),
    ((SMOOTH_MAVG, None, 51), "Moving average, 51 points"),
)


@dataclass(frozen=True)
class ChartOverride:
    """What one chart sets for itself; None keeps the panel's."""

    log_y: bool | None = None
    smoothing: tuple | None = None  # (mode, ema weight or None, window or None)
    y_range: tuple[float, float] | None = None

    @property
    def empty(self) -> bool:
        return self == ChartOverride()

    def apply(self, s: PlotSettings) -> PlotSettings:
        if self.log_y is not None:
            s = replace(s, log_y=self.log_y)
        if self.smoothing is not None:
            mode, weight, window = self.smoothing
            s = replace(s, smoothing=mode, ema_weight=s.ema_weight if weight is None else weight,
                        window=s.window if window is None else window)
        return s

    def to_json(self) -> dict:
        return {"log_y": self.log_y, "smoothing": list(self.smoothing) if self.smoothing else None,
                "y_range": list(self.y_range) if self.y_range else None}

    @classmethod
    def from_json(cls, value) -> "ChartOverride":
        """A saved override, checked; anything malformed is dropped (a settings file is input)."""
        if not isinstance(value, dict):
            return cls()
        log_y = value.get("log_y") if isinstance(value.get("log_y"), bool) else None
        smoothing = None
        raw = value.get("smoothing")
        if isinstance(raw, list) and len(raw) == 3 and raw[0] in SMOOTHINGS:
            weight = raw[1] if isinstance(raw[1], (int, float)) and 0 <= raw[1] < 1 else None
            window = raw[2] if isinstance(raw[2], int) and 1 <= raw[2] <= 1001 else None
            smoothing = (raw[0], weight, window)
        return cls(log_y, smoothing, parse_range(value.get("y_range")))


def parse_range(value) -> tuple[float, float] | None:
    """``[low, high]`` or "low, high" as two finite floats with low < high, else None."""
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    try:
        lo, hi = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        return None
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) and lo < hi else None


class ChartMenu(ChartExportActions):
    """The panel's chart menu; expects ``layout_state``, ``manager``, ``chart(key)``,
    ``charts()``, ``_relayout`` and ``maximise``/``restore``."""

    def settings_for(self, key: str) -> PlotSettings:
        """What chart ``key`` applies: the panel's settings with the chart's own over them."""
        return self.override(key).apply(self.manager.settings)

    def override(self, key: str) -> ChartOverride:
        return self.layout_state.overrides.get(key, ChartOverride())

    def set_override(self, key: str, override: ChartOverride) -> None:
        """Set chart ``key``'s own log y, smoothing and y range (kept per experiment)."""
        if override.empty:
            self.layout_state.overrides.pop(key, None)
        else:
            self.layout_state.overrides[key] = override
        self.layout_state.save()
        self.manager.reprepare(key)
        chart = self.charts().get(key)
        if chart is not None:
            self._apply_override(chart)

    def _apply_override(self, chart: MetricChart) -> None:
        chart.apply_settings(self.settings_for(chart.key))
        chart.set_y_range(self.override(chart.key).y_range)

    def ask_y_range(self, key: str, current: tuple[float, float] | None) -> tuple[float, float] | None | bool:
        """The one y-range dialog (tests replace it): a range, None to follow the data, or
        False when cancelled."""
        text, ok = QInputDialog.getText(self, f"Y range of {key}", "Low, high (empty: follow the data):",
                                        text=f"{current[0]:g}, {current[1]:g}" if current else "")
        if not ok:
            return False
        return parse_range(text) if text.strip() else None

    def chart_menu(self, chart: MetricChart) -> QMenu:
        menu = super().chart_menu(chart)
        key = chart.key
        own = self.override(key)
        menu.addSeparator()
        big = menu.addAction("Restore" if self.maximised() == key else "Maximise")
        big.setObjectName("chartMaximise")
        big.triggered.connect(lambda: self.restore() if self.maximised() == key else self.maximise(key))
        pin = menu.addAction("Unpin" if key in self.layout_state.pinned else "Pin to top")
        pin.setObjectName("chartPin")
        pin.triggered.connect(lambda: self.set_pinned(key, key not in self.layout_state.pinned))
        menu.addSeparator()
        log = menu.addAction("Log y (this chart)")
        log.setObjectName("chartLogY")
        log.setCheckable(True)
        log.setChecked(self.settings_for(key).log_y)
        log.toggled.connect(lambda on: self.set_override(key, replace(self.override(key), log_y=on)))
        smoothing = menu.addMenu("Smoothing (this chart)")
        smoothing.setObjectName("chartSmoothing")
        group = QActionGroup(smoothing)
        for value, text in _SMOOTHING_CHOICES:
            action = QAction(text, smoothing, checkable=True, checked=own.smoothing == value)
            group.addAction(action)
            smoothing.addAction(action)
            action.triggered.connect(lambda _=False, v=value: self.set_override(
                key, replace(self.override(key), smoothing=v)))
        y_range = menu.addAction("Y range…")
        y_range.setObjectName("chartYRange")
        y_range.triggered.connect(lambda: self._ask_and_set_range(key))
        reset = menu.addAction("Use the panel's settings")
        reset.setObjectName("chartResetOwn")
        reset.setEnabled(not own.empty)
        reset.triggered.connect(lambda: self.set_override(key, ChartOverride()))
        return menu

    def _ask_and_set_range(self, key: str) -> None:
        answer = self.ask_y_range(key, self.override(key).y_range)
        if answer is not False:
            self.set_override(key, replace(self.override(key), y_range=answer))

    def set_pinned(self, key: str, pinned: bool) -> None:
        """Pin chart ``key`` above the sections (kept per experiment)."""
        pins = [k for k in self.layout_state.pinned if k != key]
        self.layout_state.pinned = pins + [key] if pinned else pins
        self.layout_state.save()
        self._relayout(force=True)
