"""No exception reaches the user as a crash: log it and show a non-modal error window.

``install()`` replaces ``sys.excepthook`` and ``threading.excepthook``. Errors may come from
any thread; they reach the GUI thread through a signal of an object living there.
"""
from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("app")


class ErrorReporter(QObject):
    errorRaised = Signal(str, str)  # summary, details

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.box: QMessageBox | None = None
        self._more = 0
        self.errorRaised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def report(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("Unexpected error\n%s", details)
        summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        self.errorRaised.emit(summary, details)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        if self.box is not None and self.box.isVisible():
            self._more += 1
            self.box.setInformativeText(f"{summary}\n\n({self._more} more error"
                                        f"{'s' if self._more > 1 else ''} since; see the log)")
            return
        self._more = 0
        parent = QApplication.activeWindow()
        box = QMessageBox(QMessageBox.Icon.Warning, "Something went wrong",
                          "Tracker hit an unexpected error. It keeps running; the error was logged.",
                          QMessageBox.StandardButton.Close, parent)
        box.setObjectName("errorBox")
        box.setInformativeText(summary)
        box.setDetailedText(details)
        box.setModal(False)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._on_box_destroyed)
        self.box = box
        box.show()

    @Slot()
    def _on_box_destroyed(self) -> None:
        self.box = None


_reporter: ErrorReporter | None = None
_failed_overrides: set[str] = set()


_INT64 = 2 ** 63


def variant_safe(value: Any) -> Any:
    """``value`` as a model override may return it: an int a QVariant cannot hold (beyond 64
    bits) fails after the override has returned, where nothing can catch it; it goes as a float."""
    if type(value) is int and not -_INT64 <= value < _INT64:
        return float(value) if abs(value) < 2 ** 1023 else None
    return value


def override_failed(where: str) -> None:
    """Log, once per ``where``, the exception a Qt override caught to answer an empty value.

    Overrides (``data()``, ``sort()``, a delegate's ``paint()``...) never raise: PySide6
    segfaults when one raises with Python code below it on the stack. Called from ``except``.
    """
    if where not in _failed_overrides:
        _failed_overrides.add(where)
        log.exception("%s failed; it answers an empty value instead (logged once)", where)


def install(app: QApplication) -> ErrorReporter:
    """Route uncaught exceptions (any thread) to the log and a non-modal window."""
    global _reporter
    _reporter = ErrorReporter(app)

    def excepthook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        _reporter.report(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        excepthook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    return _reporter
