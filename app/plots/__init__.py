"""Metric charts (``MetricPlotPanel``, objectName ``metricPlot``) and the compare view (``CompareView``,
``compareView``): self-contained widgets the main window embeds and feeds with ``set_runs(runs)``."""
from .compare import CompareView
from .panel import MetricPlotPanel

__all__ = ["CompareView", "MetricPlotPanel"]
