"""Preferences (File → Preferences…): which events notify, the metric notifications quote, and how
often a runs folder on a network file system is read again.

Written to QSettings through ``Settings`` when OK is pressed; the notifier reads them at each event,
and the open folder's polling takes the new interval at once (``RunsSource.set_poll_interval``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout,
    QWidget,
)

from app.runs import watch_mode
from app.shell.settings import NOTIFY_EVENTS, Settings

if TYPE_CHECKING:
    from app.runs.source import RunsSource
    from app.shell.window import MainWindow

POLL_SPIN_MIN = 0.5  # seconds: the spin box's range (TRACKER_POLL_INTERVAL may go lower, for tests)


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None, source: RunsSource | None = None) -> None:
        super().__init__(parent)
        self.source = source  # told the new poll interval on OK
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
        network = self._network_box()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(form)
        layout.addWidget(network)
        layout.addWidget(buttons)
        self.accepted.connect(self.save)
        self.resize(420, self.sizeHint().height())

    def _network_box(self) -> QGroupBox:
        box = QGroupBox("Runs folders on a network file system", self)
        self.poll_interval = QDoubleSpinBox(box)
        self.poll_interval.setObjectName("pollIntervalSpin")
        self.poll_interval.setAccessibleName("Seconds between two reads of a network runs folder")
        self.poll_interval.setRange(POLL_SPIN_MIN, watch_mode.MAX_SECONDS)
        self.poll_interval.setDecimals(1)
        self.poll_interval.setSingleStep(0.5)
        self.poll_interval.setSuffix(" s")
        self.poll_interval.setValue(watch_mode.parse_seconds(self.settings.get_json(watch_mode.SETTINGS_KEY))
                                    or watch_mode.DEFAULT_SECONDS)
        form = QFormLayout(box)
        form.addRow("Check for changes every", self.poll_interval)
        env = watch_mode.env_seconds()
        text = ("Changes made on other machines send no file events over NFS, SMB or sshfs, so the app "
                "reads such a folder again at this interval.")
        if env is not None:
            self.poll_interval.setEnabled(False)
            text += f" {watch_mode.ENV} is set: every {watch_mode.format_seconds(env)} while it is."
        note = QLabel(text, box)
        note.setObjectName("pollIntervalNote")
        note.setWordWrap(True)
        note.setProperty("muted", True)
        form.addRow(note)
        return box

    @Slot()
    def save(self) -> None:
        for event, check in self.checks.items():
            self.settings.set_notify_on(event, check.isChecked())
        self.settings.set_main_metric(self.main_metric.text())
        self.settings.set_json(watch_mode.SETTINGS_KEY, self.poll_interval.value())
        if self.source is not None:
            self.source.set_poll_interval(watch_mode.poll_interval())


def open_preferences(window: MainWindow) -> PreferencesDialog:
    """Show the dialog, window-modal and without blocking (``window.preferences_dialog``)."""
    dialog = PreferencesDialog(window.settings, window, window.source)
    window.preferences_dialog = dialog
    dialog.open()
    return dialog
