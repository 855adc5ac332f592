"""``ElidedLabel``: one line of plain text, cut with "…" where its pane is too narrow.

An id, hash, path or name has no place to wrap, and a QLabel that word-wraps it breaks it at
its hyphens and slashes ("random-" / "forest-" / "model"). This label keeps it on one line,
ends it with "…" when it does not fit, and shows the whole of it on hover; "Copy" in its
context menu copies the whole value. ``text()`` is the whole text.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QContextMenuEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QToolTip, QWidget

from app.shell import desktop
from app.shell.errors import override_failed


class ElidedLabel(QLabel):
    """Its own ``toolTip()`` (a warning, a note) is shown after the whole text when the text is cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        # the pane decides the width; the text never widens it
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = "" if text is None else str(text)
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is drawn: the text, or its start and "…"."""
        return QLabel.text(self)

    def is_elided(self) -> bool:
        return self.shown_text() != self._one_line()

    def hover_text(self) -> str:
        """What hovering shows: the whole text when it is cut, then the label's own tooltip."""
        own = self.toolTip()
        if not self.is_elided():
            return own
        return self._full + (f"\n\n{own}" if own else "")

    def full_width(self) -> int:
        """The width the whole text needs, margins included."""
        margins = self.contentsMargins()
        return (self.fontMetrics().horizontalAdvance(self._one_line()) + margins.left() + margins.right()
                + 2 * self.margin() + 2)

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def sizeHint(self) -> QSize:
        try:
            return QSize(self.full_width(), super().sizeHint().height())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.sizeHint")
            return QSize(100, 20)

    def minimumSizeHint(self) -> QSize:
        try:
            return QSize(self.fontMetrics().horizontalAdvance("Mm…"), super().minimumSizeHint().height())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.minimumSizeHint")
            return QSize(20, 20)

    def resizeEvent(self, event: QResizeEvent) -> None:
        try:
            super().resizeEvent(event)
            self._elide()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.resizeEvent")

    def changeEvent(self, event: QEvent) -> None:
        try:
            super().changeEvent(event)
            if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
                self._elide()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.changeEvent")

    def event(self, event: QEvent) -> bool:
        try:
            if event.type() == QEvent.Type.ToolTip and self.is_elided():
                QToolTip.showText(event.globalPos(), self.hover_text(), self)
                return True
            return super().event(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.event")
            return False

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        try:
            menu = QMenu(self)
            menu.addAction("&Copy", lambda: desktop.copy_text(self._full))
            menu.exec(event.globalPos())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidedLabel.contextMenuEvent")

    def _one_line(self) -> str:
        return " ".join(self._full.split("\n"))

    def _elide(self) -> None:
        rect = self.contentsRect()
        width = rect.width() - 2 * self.margin()
        text = self._one_line()
        shown = self.fontMetrics().elidedText(text, self._mode, width) if width > 0 else text
        if shown != QLabel.text(self):
            QLabel.setText(self, shown)
