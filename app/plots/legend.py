"""The panel's legend: one chip per displayed run (swatch and name), shared by every chart.

Colors are the same in every chart, so one legend above the grid names them all without
covering any curve. Clicking a chip hides or shows that run in every chart; a hidden run's
chip stays in place, struck through, its name and swatch in the theme's placeholder grey.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QToolButton, QWidget, QWidgetItem

from app.runs.colors import swatch_icon
from app.shell.errors import override_failed
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
        self._names: dict[str, str] = {}
        # The grey is the theme's, looked up by the style sheet whenever the theme changes
        # (a color or palette set on the chip would keep the old theme's grey).
        self.setStyleSheet('QToolButton#plotLegendChip[shown="false"] { color: palette(placeholder-text); }')

    def set_runs(self, runs: list[Run], hidden: set[str]) -> None:
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            widget.hide()  # deleteLater waits for the event loop; the old chip must not show meanwhile
            widget.deleteLater()
        self.chips = {}
        self._names = {}
        for run in runs[:MAX_CHIPS]:
            chip = self._chip(run, run.info.run_id not in hidden)
            # Added to the layout as an item (not addWidget): shown explicitly, or a chip made
            # while the legend is visible stays hidden and takes no room.
            chip.show()
            self._layout.addItem(QWidgetItem(chip))
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
        chip.setToolTip(f"<b>{html.escape(run.info.run_name)}</b><br>{run_id}<br>{run.info.status.lower()}"
                        "<br>Click to hide or show this run in every chart")
        chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        chip.setAutoRaise(True)
        chip.setProperty("run_id", run_id)
        chip.clicked.connect(self._on_clicked)
        self.chips[run_id] = chip
        self._names[run_id] = run.info.run_name
        self._show_state(chip, visible)
        return chip

    def is_shown(self, run_id: str) -> bool:
        return bool(self.chips[run_id].property("shown"))

    @Slot()
    def _on_clicked(self) -> None:
        chip = self.sender()
        shown = not chip.property("shown")
        self._show_state(chip, shown)
        self.visibility_changed.emit(chip.property("run_id"), shown)

    def _show_state(self, chip: QToolButton, shown: bool) -> None:
        """A hidden run's chip: struck through, name and swatch in the placeholder grey."""
        run_id = chip.property("run_id")
        name = self._names.get(run_id, "")
        if chip.property("shown") != shown:
            chip.setProperty("shown", shown)
            chip.style().unpolish(chip)  # the style sheet's [shown="false"] rule
            chip.style().polish(chip)
        font = chip.font()
        font.setStrikeOut(not shown)
        chip.setFont(font)
        icon = swatch_icon(run_id)
        if not shown:  # the swatch as Qt draws a disabled icon: grey, not the run's color
            size = chip.iconSize() if not chip.iconSize().isEmpty() else QSize(16, 16)
            icon = QIcon(icon.pixmap(size, QIcon.Mode.Disabled))
        chip.setIcon(icon)
        state = "shown in the charts" if shown else "hidden from the charts"
        chip.setAccessibleName(f"{name}: {state}; click to {'hide' if shown else 'show'} it")

    def changeEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().changeEvent(event)
            if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                for chip in self.chips.values():  # the grey swatch is drawn from the palette
                    self._show_state(chip, bool(chip.property("shown")))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunLegend.changeEvent")
