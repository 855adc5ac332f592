"""Copy buttons that say they copied: the button reads "Copied" for a moment, then its own text."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton

from app.shell import desktop

COPIED = "Copied ✓"
FEEDBACK_MS = 1500


def copy_from(button: QPushButton, text: str) -> None:
    """Copy ``text`` to the clipboard and show it on ``button`` for ``FEEDBACK_MS``."""
    desktop.copy_text(text)
    timer = button.findChild(QTimer, "copiedTimer")
    if timer is None:  # one per button, parented to it: it goes with the button
        own_text = button.text()
        # As wide as either text, so the row does not jump when it changes.
        button.setMinimumWidth(max(button.sizeHint().width(),
                                   button.fontMetrics().horizontalAdvance(COPIED) + 32))
        timer = QTimer(button)
        timer.setObjectName("copiedTimer")
        timer.setSingleShot(True)
        timer.setInterval(FEEDBACK_MS)
        timer.timeout.connect(lambda: button.setText(own_text))
    button.setText(COPIED)
    timer.start()  # a second click restarts the moment
