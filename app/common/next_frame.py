"""``after_next_frame(callback)``: call back once the window on screen has painted its next frame.

A change to a widget is painted later, when the window's update request comes (Qt paces them to
the display's frames), so a zero timer started by the change fires before the paint. This waits
for the next update request of a window on screen, and calls back once that request, the paint,
is over. With no window on screen (hidden, minimized, tests without one) there is no frame to wait
for: the callback comes from a zero timer; and it comes after ``GIVE_UP_MS`` at the latest.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QWindow

from app.shell.errors import override_failed

GIVE_UP_MS = 250  # a window that paints nothing (its content did not change) still lets the callback come

_waiting: set[_NextFrame] = set()  # held here: PySide lets a Python object held by nothing else go


class _NextFrame(QObject):
    """An event filter on the windows on screen (never on the whole application: a filter there
    sees every event of every object, those being destroyed too), gone after its one callback."""

    def __init__(self, windows: list[QWindow], callback: Callable[[], None]) -> None:
        super().__init__()  # (no parent: the give-up timer always ends it, its windows gone or not)
        self._windows, self._callback = windows, callback
        _waiting.add(self)
        for window in windows:
            window.installEventFilter(self)
        QTimer.singleShot(GIVE_UP_MS, self, self._done)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if event.type() == QEvent.Type.UpdateRequest and self._callback is not None:
                QTimer.singleShot(0, self, self._done)  # fires once the window has handled the request
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("after_next_frame")
        return False

    def _done(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        _waiting.discard(self)
        for window in self._windows:
            try:
                window.removeEventFilter(self)
            except RuntimeError:  # (a window already deleted)
                pass
        self.deleteLater()
        callback()


def after_next_frame(callback: Callable[[], None]) -> None:
    """Call ``callback`` on the GUI thread after the next frame (see the module's text)."""
    windows = [window for window in QGuiApplication.topLevelWindows() if window.isExposed()]
    if not windows:
        QTimer.singleShot(0, callback)
        return
    _NextFrame(windows, callback)
