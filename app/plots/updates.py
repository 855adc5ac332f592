"""Curve work in slices: creating 100 curves or handing them new data never stalls the GUI.

Creating a pyqtgraph curve costs about 2 ms and a ``setData`` on 10,000 points about 1 ms;
a selection of 100 runs done at once would block the GUI thread for half a second. Charts
queue that work here, and it runs in slices of ``BUDGET_MS`` per event-loop turn.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

if TYPE_CHECKING:
    from app.plots.chart import MetricChart

BUDGET_MS = 25


class UpdateQueue(QObject):
    """Applies charts' pending curve work in slices of ``BUDGET_MS`` per event-loop turn."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._charts: dict[int, MetricChart] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_flush)

    def add(self, chart: "MetricChart") -> None:
        self._charts[id(chart)] = chart
        self._timer.start()

    def discard(self, chart: "MetricChart") -> None:
        self._charts.pop(id(chart), None)

    @property
    def busy(self) -> bool:
        return bool(self._charts)

    @Slot()
    def _on_flush(self) -> None:
        deadline = time.perf_counter() + BUDGET_MS / 1000
        for key, chart in list(self._charts.items()):
            if chart.apply_pending(deadline):
                self._charts.pop(key, None)
            if time.perf_counter() > deadline:
                break
        if self._charts:
            self._timer.start()
