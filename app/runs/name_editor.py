"""Renaming a run in place: a line edit laid over the run's Name cell (``runNameEditor``).

The table's model stays read-only (a ``flags()`` override would be one more Python call per
painted cell), so the editor is a plain ``QLineEdit`` on the table's viewport that follows its
run: rows that move under it (a live update, a sort) take it along, and a run that goes away
ends the edit. Enter commits (``committed(run_id, name)``), Escape cancels, and leaving the
field commits, as renaming a file does.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from tracker.store import layout

from app.shell.errors import override_failed


class NameEditor(QLineEdit):
    committed = Signal(str, str)  # run id, new name
    cancelled = Signal()

    def __init__(self, table: QTableView) -> None:
        super().__init__(table.viewport())
        self.setObjectName("runNameEditor")
        self.setAccessibleName("Run name")
        self.setMaxLength(layout.MAX_RUN_NAME_LENGTH)
        self.setFrame(True)
        self.hide()
        self._table = table
        self.run_id: str | None = None
        self._original = ""
        model = table.model()
        for signal in (model.layoutChanged, model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.columnsInserted, model.columnsRemoved):
            signal.connect(self._follow)
        table.verticalScrollBar().valueChanged.connect(self._follow)
        table.horizontalScrollBar().valueChanged.connect(self._follow)
        table.horizontalHeader().sectionResized.connect(self._follow)

    def is_editing(self) -> bool:
        return self.run_id is not None

    def start(self, run_id: str, name: str) -> bool:
        """Edit the name of ``run_id`` (shown in the table); False when it is not shown."""
        if self.run_id is not None:
            self._finish(commit=False)
        self.run_id, self._original = run_id, name
        self._table.horizontalScrollBar().setValue(0)  # the Name cell in the table itself, not the overlay
        row = self._table.model().row_of(run_id)
        if row is not None:
            self._table.scrollTo(self._table.model().index(row, self._table.model().column_index("name")))
        if not self._place():
            self.run_id = None
            return False
        self.setText(name)
        self.selectAll()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _place(self) -> bool:
        model, table = self._table.model(), self._table
        row = model.row_of(self.run_id) if self.run_id is not None else None
        if row is None:
            return False
        index = model.index(row, model.column_index("name"))
        rect = table.visualRect(index)
        if not rect.isValid() or rect.isEmpty():
            return False
        # The swatch stays in view (it says which run this is in the charts); the field takes the
        # rest, its text where the cell's text is (the style knows the cell's padding and icon).
        option = QStyleOptionViewItem()
        table.initViewItemOption(option)
        option.rect = rect
        delegate = table.itemDelegateForIndex(index)
        if isinstance(delegate, QStyledItemDelegate):
            delegate.initStyleOption(option, index)
        text = table.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, table)
        left = text.left() - 4 if text.isValid() and rect.left() < text.left() < rect.right() - 24 else rect.left()
        self.setGeometry(left, rect.top(), rect.right() - left + 1, rect.height())
        return True

    @Slot()
    def _follow(self) -> None:
        if self.run_id is not None and self.isVisible() and not self._place():
            self._finish(commit=False)

    def _finish(self, commit: bool) -> None:
        run_id, self.run_id = self.run_id, None
        if run_id is None:
            return
        text = self.text().strip()
        had_focus = self.hasFocus()
        self.hide()
        if had_focus:
            self._table.setFocus(Qt.FocusReason.OtherFocusReason)
        if commit and text and text != self._original:
            self.committed.emit(run_id, text)
        else:
            self.cancelled.emit()

    def commit(self) -> None:
        self._finish(commit=True)

    def cancel(self) -> None:
        self._finish(commit=False)

    # ---- overrides (total: PySide6 can crash when one raises) --------------------------------

    def keyPressEvent(self, event: Any) -> None:
        try:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._finish(commit=True)
            elif event.key() == Qt.Key.Key_Escape:
                self._finish(commit=False)
            else:
                super().keyPressEvent(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("NameEditor.keyPressEvent")

    def focusOutEvent(self, event: Any) -> None:
        try:
            super().focusOutEvent(event)
            if self.run_id is not None and event.reason() != Qt.FocusReason.PopupFocusReason:
                self._finish(commit=True)  # (its own context menu takes the focus for a moment)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("NameEditor.focusOutEvent")
