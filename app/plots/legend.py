"""The panel's legend: one chip per displayed run (swatch and name), shared by every chart.

Colors are the same in every chart, so one legend above the grid names them all without
covering any curve. Clicking a chip hides or shows that run in every chart.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QToolButton, QWidget, QWidgetItem

from app.runs.colors import swatch_icon
from tracker.entities import Run

from .flow import FlowLayout, height_for_width_policy

MAX_CHIPS = 40  # beyond this the runs table is the legend


class RunLegend(QWidget):
    """Emits ``visibility_changed(run_id, visible)`` when a chip is clicked."""

    visibility_changed = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotLegend")
        self.setAccessibleName("Runs shown in the charts")
        self.setSizePolicy(height_for_width_policy())
        self._layout = FlowLayout(self)
        self.chips: dict[str, QToolButton] = {}

    def set_runs(self, runs: list[Run], hidden: set[str]) -> None:
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            widget.hide()  # deleteLater waits for the event loop; the old chip must not show meanwhile
            widget.deleteLater()
        self.chips = {}
        for run in runs[:MAX_CHIPS]:
            self._layout.addItem(QWidgetItem(self._chip(run, run.info.run_id not in hidden)))
        if len(runs) > MAX_CHIPS:
            more = QToolButton(self)
            more.setText(f"+{len(runs) - MAX_CHIPS} more")
            more.setAccessibleName(f"{len(runs) - MAX_CHIPS} more runs")
            more.setAutoRaise(True)
            more.setEnabled(False)
            self._layout.addItem(QWidgetItem(more))
        self.setVisible(bool(runs))
        self._layout.invalidate()
        self.updateGeometry()

    def _chip(self, run: Run, visible: bool) -> QToolButton:
        run_id = run.info.run_id
        chip = QToolButton(self)
        chip.setObjectName("plotLegendChip")
        chip.setText(run.info.run_name)
        chip.setAccessibleName(f"{run.info.run_name}: click to hide or show it in the charts")
        chip.setToolTip(f"<b>{html.escape(run.info.run_name)}</b><br>{run_id}<br>{run.info.status.lower()}"
                        "<br>Click to hide or show this run in every chart")
        chip.setIcon(swatch_icon(run_id))
        chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        chip.setAutoRaise(True)
        chip.setProperty("run_id", run_id)
        chip.clicked.connect(self._on_clicked)
        self.chips[run_id] = chip
        _show_state(chip, visible)
        return chip

    def is_shown(self, run_id: str) -> bool:
        return bool(self.chips[run_id].property("shown"))

    @Slot()
    def _on_clicked(self) -> None:
        chip = self.sender()
        shown = not chip.property("shown")
        _show_state(chip, shown)
        self.visibility_changed.emit(chip.property("run_id"), shown)


def _show_state(chip: QToolButton, shown: bool) -> None:
    """A hidden run's chip: struck through, in the placeholder color."""
    chip.setProperty("shown", shown)
    font = chip.font()
    font.setStrikeOut(not shown)
    chip.setFont(font)
    if shown:
        chip.setStyleSheet("")
    else:
        color = chip.palette().color(QPalette.ColorRole.PlaceholderText).name()
        chip.setStyleSheet(f"QToolButton {{ color: {color}; }}")
