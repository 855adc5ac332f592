"""The one owner of the status bar's messages: every part of the app says things through it.

A message is shown once, in the status bar, and goes after ``SECONDS`` (progress lines such as
"Reading runs… 10 of 200" stay until the next message replaces them). A panel that shows a
message on its own line while the user looks at it (the registry's message line) is not
repeated here: the same words in two places read as two events.

How the runs folder is watched, when it is polled rather than heard ("Watching by polling every
2 s (network folder)"), is a state, not an event: it stays in its own label, left of the folder's path.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

SECONDS = 6


class StatusMessages(QObject):
    """``show(text)`` for a passing message, ``show_progress(text)`` for one that stays."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.bar = window.statusBar()
        self.timeout_ms = SECONDS * 1000
        self.watch_label = QLabel(window)
        self.watch_label.setObjectName("watchModeLabel")
        self.watch_label.setAccessibleName("How the runs folder is watched")
        self.watch_label.hide()
        path = window.findChild(QLabel, "directoryLabel")  # stays the rightmost
        hidden = path is not None and path.isHidden()
        if path is not None:
            self.bar.removeWidget(path)
        self.bar.addPermanentWidget(self.watch_label)
        if path is not None:
            self.bar.addPermanentWidget(path)
            path.setHidden(hidden)

    @Slot(str)
    def show(self, text: str) -> None:
        self.bar.showMessage(text, self.timeout_ms)

    @Slot(str, str)
    def show_watch_mode(self, text: str, tooltip: str) -> None:
        """Say how the folder is watched ("" when file events arrive: nothing to say)."""
        self.watch_label.setText(text)
        self.watch_label.setToolTip(tooltip)
        self.watch_label.setVisible(bool(text))

    def show_progress(self, text: str) -> None:
        self.bar.showMessage(text)

    def clear(self) -> None:
        self.bar.clearMessage()

    def text(self) -> str:
        return self.bar.currentMessage()

    def forward_from(self, panel: QWidget, line_name: str):
        """A slot for ``panel``'s messages: shown here unless ``panel``'s own line (a QLabel
        named ``line_name``) shows the same words where the user is looking."""
        @Slot(str)
        def forward(text: str) -> None:
            line = panel.findChild(QLabel, line_name)
            if line is not None and line.isVisible() and line.text() == text:
                return
            self.show(text)
        return forward
