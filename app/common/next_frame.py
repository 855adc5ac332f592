"""``after_next_frame(callback)``: call back once the window on screen has painted its next frame.

A change to a widget is painted later, when the window's update request comes (Qt paces them to
the display's frames), so a zero timer started by the change fires before the paint. This waits
for the next update request of any window, and calls back once that request, the paint, is over.
With no window on screen (hidden, minimized, tests without one) there is no frame to wait for:
the callback comes from a zero timer.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication

from app.shell.errors import override_failed


class _NextFrame(QObject):
    """An application event filter while callbacks wait: it sees the update request before the
    window does, and the zero timer it starts fires after the window has handled it."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: list[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        if not self._waiting:
            QCoreApplication.instance().installEventFilter(self)
        self._waiting.append(callback)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if event.type() == QEvent.Type.UpdateRequest and self._waiting:
                QCoreApplication.instance().removeEventFilter(self)
                for callback in self._waiting:
                    QTimer.singleShot(0, callback)
                self._waiting = []
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("after_next_frame")
        return False


_next_frame: _NextFrame | None = None


def after_next_frame(callback: Callable[[], None]) -> None:
    """Call ``callback`` on the GUI thread after the next frame (see the module's text)."""
    global _next_frame
    if not any(window.isExposed() for window in QGuiApplication.topLevelWindows()):
        QTimer.singleShot(0, callback)
        return
    if _next_frame is None:
        _next_frame = _NextFrame()
    _next_frame.add(callback)
