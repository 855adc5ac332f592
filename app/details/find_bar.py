"""A find bar over a QPlainTextEdit (``FindBar``): a box, previous and next, and "Not found".

Matches as you type from where the current match starts; Enter or F3 goes to the next match,
Shift+Enter or Shift+F3 to the previous one, wrapping around as a browser's find does; Escape
gives the keys back to the text. Ctrl+F in the text focuses the box: the text and the box take the
shortcut before the window does (the window's Ctrl+F filters the runs).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QToolButton, QWidget

from app.shell.errors import override_failed

_KEYS = (QKeySequence.StandardKey.Find, QKeySequence.StandardKey.FindNext, QKeySequence.StandardKey.FindPrevious)


class FindBar(QWidget):
    """Emits ``notFound(text)`` when the text holds no match (a caller may look further)."""

    notFound = Signal(str)

    def __init__(self, text: QPlainTextEdit, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"{name}Find")
        self.edit.setAccessibleName("Find")
        self.edit.setPlaceholderText("Find (Ctrl+F)")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(140)
        self.edit.setMaximumWidth(360)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.returnPressed.connect(self.find_next)
        self.previous_button = self._button(f"{name}FindPrevious", "◀", "Previous match (Shift+Enter)",
                                            self.find_previous)
        self.next_button = self._button(f"{name}FindNext", "▶", "Next match (Enter)", self.find_next)
        self.status = QLabel(self)
        self.status.setObjectName(f"{name}FindStatus")
        self.status.setProperty("muted", True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)  # (from its minimum up to its maximum width, as there is room)
        for widget in (self.previous_button, self.next_button, self.status):
            layout.addWidget(widget)
        layout.addStretch(1)
        for widget in (self.text, self.edit):
            widget.installEventFilter(self)

    def _button(self, name: str, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.clicked.connect(slot)
        return button

    @Slot()
    def start(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        cursor = self.text.textCursor()
        cursor.setPosition(cursor.selectionStart())  # as you type, the match grows where it is
        self.text.setTextCursor(cursor)
        self._find(text, backward=False)

    @Slot()
    def find_next(self) -> bool:
        return self._find(self.edit.text(), backward=False)

    @Slot()
    def find_previous(self) -> bool:
        return self._find(self.edit.text(), backward=True)

    def _find(self, text: str, backward: bool) -> bool:
        if not text:
            self.status.setText("")
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.text.find(text, flags)
        if not found:  # wrap around
            cursor = self.text.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start)
            self.text.setTextCursor(cursor)
            found = self.text.find(text, flags)
        self.status.setText("" if found else "Not found")
        if not found:
            self.notFound.emit(text)
        return found

    def find_from_start(self) -> bool:
        """The first match in the whole text."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        self.text.setTextCursor(cursor)
        return self.find_next()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            kind = event.type()
            if kind == QEvent.Type.ShortcutOverride and any(event.matches(key) for key in _KEYS):
                event.accept()  # ours, here: not the window's shortcut
                return True
            if kind == QEvent.Type.KeyPress:
                if event.matches(QKeySequence.StandardKey.Find):
                    self.start()
                    return True
                if event.matches(QKeySequence.StandardKey.FindNext):
                    self.find_next()
                    return True
                if event.matches(QKeySequence.StandardKey.FindPrevious) or (
                        watched is self.edit and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                        and event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
                    self.find_previous()
                    return True
                if watched is self.edit and event.key() == Qt.Key.Key_Escape:
                    self.text.setFocus()
                    return True
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FindBar.eventFilter")
        return False
