"""Metric charts and the compare view: self-contained widgets the main window embeds.

- ``MetricPlotPanel`` (objectName ``metricPlot``): ``set_runs(runs)``, slots
  ``on_runs_changed(list)`` and ``on_runs_removed(list)``, signal ``status_message(str)``.
- ``CompareView`` (objectName ``compareView``): ``set_runs(runs)``, signal
  ``run_clicked(str)``.
"""
from .compare import CompareView
from .panel import MetricPlotPanel

__all__ = ["CompareView", "MetricPlotPanel"]
