"""The window that shows a run's saved ``git diff`` (``diffWindow``), with colours; opened from
the run page's Overview."""
from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.details.copying import copy_from


class DiffWindow(QDialog):
    """A non-modal window showing a saved ``git diff`` with colors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diffWindow")
        self.setModal(False)
        self.resize(860, 620)
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Diff")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        from app.details.highlight import Highlighter  # (imported when a diff is first shown)
        self._highlighter = Highlighter(self.text.document(), "diff")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: copy_from(copy, self.text.toPlainText()))
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def show_diff(self, title: str, text: str) -> None:
        self.setWindowTitle(title)
        self._highlighter.set_kind("diff")
        self.text.setPlainText(text)
        self.show()
        self.raise_()
