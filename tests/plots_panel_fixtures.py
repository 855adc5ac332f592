"""A charts panel with its settings in a file of the test's own, shown at 1000x700: shared by the
tests of sections, per-chart settings, maximise/pin and reordering."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from app.plots import MetricPlotPanel


def make_panel(qtbot, path) -> MetricPlotPanel:
    widget = MetricPlotPanel(settings=QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    return widget
