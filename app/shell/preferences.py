"""Preferences (File → Preferences…): which events notify, and the metric notifications quote.

Written to QSettings through ``Settings`` when OK is pressed; the notifier reads them at each event.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from app.shell.settings import NOTIFY_EVENTS, Settings

if TYPE_CHECKING:
    from app.shell.window import MainWindow


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        box = QGroupBox("Notify me when", self)
        box_layout = QVBoxLayout(box)
        self.checks: dict[str, QCheckBox] = {}
        for event, text in NOTIFY_EVENTS.items():
            check = QCheckBox(text, box)
            check.setObjectName(f"notify_{event}")
            check.setChecked(settings.notify_on(event))
            box_layout.addWidget(check)
            self.checks[event] = check
        note = QLabel("Only for runs of the open directory, while the app is open: runs that ended "
                      "while it was closed never notify.", box)
        note.setWordWrap(True)
        note.setProperty("muted", True)
        box_layout.addWidget(note)
        self.main_metric = QLineEdit(settings.main_metric, self)
        self.main_metric.setObjectName("mainMetricEdit")
        self.main_metric.setPlaceholderText("the run's first metric by name")
        self.main_metric.setToolTip("The metric whose last value a notification gives")
        form = QFormLayout()
        form.addRow("Main metric", self.main_metric)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.accepted.connect(self.save)
        self.resize(420, self.sizeHint().height())

    @Slot()
    def save(self) -> None:
        for event, check in self.checks.items():
            self.settings.set_notify_on(event, check.isChecked())
        self.settings.set_main_metric(self.main_metric.text())


def open_preferences(window: MainWindow) -> PreferencesDialog:
    """Show the dialog, window-modal and without blocking (``window.preferences_dialog``)."""
    dialog = PreferencesDialog(window.settings, window)
    window.preferences_dialog = dialog
    dialog.open()
    return dialog
