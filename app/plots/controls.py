"""The bar above the charts: key filter and the settings every chart applies, kept in QSettings."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget,
)

from .flow import FlowLayout, height_for_width_policy
from .x_metric import x_metric_axis, x_metric_key
from .series_math import SMOOTH_EMA, SMOOTH_MAVG, SMOOTH_OFF, X_RELATIVE, X_STEP, X_WALL, PlotSettings

SETTINGS_GROUP = "plots"
_X_CHOICES = ((X_STEP, "Step"), (X_RELATIVE, "Relative time"), (X_WALL, "Wall time"))
_SMOOTH_CHOICES = ((SMOOTH_OFF, "No smoothing"), (SMOOTH_EMA, "EMA"), (SMOOTH_MAVG, "Moving average"))


def load_settings(qs: QSettings) -> PlotSettings:
    d = PlotSettings()
    g = SETTINGS_GROUP
    x_axis = str(qs.value(f"{g}/x_axis", d.x_axis))
    smoothing = str(qs.value(f"{g}/smoothing", d.smoothing))
    try:
        weight = min(0.99, max(0.0, float(qs.value(f"{g}/ema_weight", d.ema_weight))))
        window = min(1001, max(1, int(qs.value(f"{g}/window", d.window))))
    except (TypeError, ValueError):
        weight, window = d.ema_weight, d.window
    return PlotSettings(
        x_axis=x_axis if x_axis in dict(_X_CHOICES) or x_metric_key(x_axis) else d.x_axis,
        log_y=_bool(qs.value(f"{g}/log_y", d.log_y)),
        smoothing=smoothing if smoothing in dict(_SMOOTH_CHOICES) else d.smoothing,
        ema_weight=weight,
        window=window,
        ignore_outliers=_bool(qs.value(f"{g}/ignore_outliers", d.ignore_outliers)),
        show_points=_bool(qs.value(f"{g}/show_points", d.show_points)),
    )


def save_settings(qs: QSettings, s: PlotSettings) -> None:
    g = SETTINGS_GROUP
    qs.setValue(f"{g}/x_axis", s.x_axis)
    qs.setValue(f"{g}/log_y", s.log_y)
    qs.setValue(f"{g}/smoothing", s.smoothing)
    qs.setValue(f"{g}/ema_weight", s.ema_weight)
    qs.setValue(f"{g}/window", s.window)
    qs.setValue(f"{g}/ignore_outliers", s.ignore_outliers)
    qs.setValue(f"{g}/show_points", s.show_points)


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class PlotControls(QWidget):
    """Emits ``settings_changed(PlotSettings)`` and ``filter_changed(str)``."""

    settings_changed = Signal(object)
    filter_changed = Signal(str)

    def __init__(self, settings: PlotSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotControls")
        self.setSizePolicy(height_for_width_policy())
        layout = FlowLayout(self, spacing=12, line_spacing=6)  # wraps when the panel is narrow

        self.key_filter = QLineEdit(self)
        self.key_filter.setObjectName("metricKeyFilter")
        self.key_filter.setAccessibleName("Filter metrics")
        self.key_filter.setPlaceholderText("Filter metrics…")
        self.key_filter.setToolTip("Show the charts whose key contains every word typed here")
        self.key_filter.setClearButtonEnabled(True)
        self.key_filter.setFixedWidth(200)
        self.key_filter.textChanged.connect(self.filter_changed)

        self.x_axis = self._combo("plotXAxis", "X axis", _X_CHOICES, settings.x_axis)
        self.x_axis.setToolTip("Step, time, or another metric of the same runs, joined on step")
        self.set_x_metrics([], settings.x_axis)
        self.smoothing = self._combo("plotSmoothing", "Smoothing", _SMOOTH_CHOICES, settings.smoothing)
        self.ema_weight = QDoubleSpinBox(self)
        self.ema_weight.setObjectName("plotEmaWeight")
        self.ema_weight.setAccessibleName("Smoothing weight")
        self.ema_weight.setToolTip("EMA weight: 0 is no smoothing, 0.99 the most (TensorBoard's slider)")
        self.ema_weight.setRange(0.0, 0.99)
        self.ema_weight.setSingleStep(0.05)
        self.ema_weight.setDecimals(2)
        self.ema_weight.setValue(settings.ema_weight)
        self.ema_weight.valueChanged.connect(self._on_changed)
        self.window = QSpinBox(self)
        self.window.setObjectName("plotWindow")
        self.window.setAccessibleName("Moving average window")
        self.window.setToolTip("Points in the centered moving average")
        self.window.setRange(1, 1001)
        self.window.setSingleStep(2)
        self.window.setSuffix(" pts")
        self.window.setValue(settings.window)
        self.window.valueChanged.connect(self._on_changed)
        self.log_y = self._check("plotLogY", "Log y", "Logarithmic y axis", settings.log_y)
        self.ignore_outliers = self._check(
            "plotIgnoreOutliers", "Ignore outliers", "Scale y to the 5th to 95th percentile of each run",
            settings.ignore_outliers)
        self.show_points = self._check("plotShowPoints", "Points", "Mark each logged point", settings.show_points)
        self.summary = QLabel(self)
        self.summary.setObjectName("plotSummary")
        self.summary.setEnabled(False)  # secondary text

        for group in ((self.key_filter,), (self._label("X axis", self.x_axis), self.x_axis),
                      (self.smoothing, self.ema_weight, self.window),
                      (self.log_y, self.ignore_outliers, self.show_points), (self.summary,)):
            layout.addWidget(_group(self, group))
        self._sync_enabled()

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _combo(self, name: str, accessible: str, choices, current: str) -> QComboBox:
        return choice_combo(self, name, accessible, choices, current, self._on_changed)

    def _check(self, name: str, text: str, tip: str, checked: bool) -> QCheckBox:
        box = QCheckBox(text, self)
        box.setObjectName(name)
        box.setAccessibleName(text)
        box.setToolTip(tip)
        box.setChecked(checked)
        box.toggled.connect(self._on_changed)
        return box

    def set_x_metrics(self, keys: list[str], current: str | None = None) -> None:
        """The metrics the x axis can be (the shown runs' keys); the current one stays."""
        current = self.x_axis.currentData() if current is None else current
        wanted = [x_metric_axis(k) for k in keys]
        if x_metric_key(current) and current not in wanted:
            wanted.append(current)  # restored before the runs that log it are shown
        have = [d for d in (self.x_axis.itemData(i) for i in range(self.x_axis.count())) if x_metric_key(d)]
        was = self.x_axis.blockSignals(True)
        if have == wanted:
            self.x_axis.setCurrentIndex(max(0, self.x_axis.findData(current)))
            self.x_axis.blockSignals(was)
            return
        while self.x_axis.count() > len(_X_CHOICES):
            self.x_axis.removeItem(self.x_axis.count() - 1)
        if wanted:
            self.x_axis.insertSeparator(len(_X_CHOICES))
        for value in wanted:
            self.x_axis.addItem(x_metric_key(value), value)
        self.x_axis.setCurrentIndex(max(0, self.x_axis.findData(current)))
        self.x_axis.blockSignals(was)

    def settings(self) -> PlotSettings:
        return PlotSettings(
            x_axis=self.x_axis.currentData(),
            log_y=self.log_y.isChecked(),
            smoothing=self.smoothing.currentData(),
            ema_weight=round(self.ema_weight.value(), 2),
            window=self.window.value(),
            ignore_outliers=self.ignore_outliers.isChecked(),
            show_points=self.show_points.isChecked(),
        )

    def set_settings(self, s: PlotSettings) -> None:
        """Set every control (tests and restoring); emits one ``settings_changed``."""
        widgets = (self.x_axis, self.smoothing, self.ema_weight, self.window, self.log_y,
                   self.ignore_outliers, self.show_points)
        for w in widgets:
            w.blockSignals(True)
        metrics = [x_metric_key(self.x_axis.itemData(i)) for i in range(self.x_axis.count())]
        self.set_x_metrics([k for k in metrics if k], s.x_axis)
        self.smoothing.setCurrentIndex(max(0, self.smoothing.findData(s.smoothing)))
        self.ema_weight.setValue(s.ema_weight)
        self.window.setValue(s.window)
        self.log_y.setChecked(s.log_y)
        self.ignore_outliers.setChecked(s.ignore_outliers)
        self.show_points.setChecked(s.show_points)
        for w in widgets:
            w.blockSignals(False)
        self._on_changed()

    @Slot()
    def _on_changed(self) -> None:
        self._sync_enabled()
        self.settings_changed.emit(self.settings())

    def _sync_enabled(self) -> None:
        mode = self.smoothing.currentData()
        self.ema_weight.setVisible(mode == SMOOTH_EMA)
        self.window.setVisible(mode == SMOOTH_MAVG)


def _group(parent: QWidget, widgets) -> QWidget:
    """Widgets that stay on one line when the bar wraps."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    for w in widgets:
        w.setParent(box)
        row.addWidget(w)
    return box


__all__ = ["PlotControls", "load_settings", "save_settings", "SETTINGS_GROUP"]


def choice_combo(parent: QWidget, name: str, accessible: str, choices, current: str, on_changed) -> QComboBox:
    """A combo box of ``(value, text)`` choices showing ``current``, calling ``on_changed`` on a change."""
    combo = QComboBox(parent)
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    for value, text in choices:
        combo.addItem(text, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.currentIndexChanged.connect(on_changed)
    return combo
