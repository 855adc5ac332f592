"""A small read-only table model for key/value lists (params, metrics, tags) and CSV previews."""
from __future__ import annotations

import math
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.shell.errors import override_failed, variant_safe
from app.common.formatting import format_number

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class TableModel(QAbstractTableModel):
    """Rows of raw values; floats show with ~4 digits (full value in the tooltip and UserRole).

    Sorting happens here, in Python, with missing values last (``sortable=True``).
    """

    def __init__(self, headers: Sequence[str], parent=None, sortable: bool = True,
                 numeric_columns: Sequence[int] = ()) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._numeric = set(numeric_columns)  # right-aligned headers over right-aligned numbers
        self._rows: list[list[Any]] = []
        self._sortable = sortable

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._rows)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TableModel.rowCount")
            return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._headers)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TableModel.columnCount")
            return 0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        try:
            return self._data(index.row(), index.column(), role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TableModel.data")
            return None

    def _data(self, row_number: int, column: int, role: int) -> Any:
        if not 0 <= row_number < len(self._rows) or column < 0:
            return None
        row = self._rows[row_number]
        value = row[column] if column < len(row) else None
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, float):
                return format_number(value)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.UserRole:
            return variant_safe(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if isinstance(value, float):
                return repr(value)
            text = "" if value is None else str(value)
            return text if len(text) > 40 or "\n" in text else None
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return _RIGHT
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        try:
            return self._header(section, orientation, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TableModel.headerData")
            return None

    def _header(self, section: int, orientation: Qt.Orientation, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and orientation == Qt.Orientation.Horizontal:
            return _RIGHT if section in self._numeric else None
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
                return self._headers[section]
            if orientation == Qt.Orientation.Vertical:
                return str(section + 1)
        return None

    def set_headers(self, headers: Sequence[str]) -> None:
        self.beginResetModel()
        self._headers = list(headers)
        self.endResetModel()

    def set_rows(self, rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None) -> None:
        self.beginResetModel()
        if headers is not None:
            self._headers = list(headers)
        self._rows = [list(r) for r in rows]
        self.endResetModel()

    def rows(self) -> list[list[Any]]:
        return [list(r) for r in self._rows]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        try:
            self._sort(column, order)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TableModel.sort")

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        if not self._sortable or not 0 <= column < len(self._headers):
            return

        def missing(r: list[Any]) -> bool:
            v = r[column] if column < len(r) else None
            return v is None or v == "" or (isinstance(v, float) and math.isnan(v))

        def key(r: list[Any]) -> tuple[int, Any]:
            v = r[column]
            return (0, v) if isinstance(v, (int, float)) else (1, str(v).lower())
        old = self._rows
        present = sorted((r for r in old if not missing(r)), key=key,
                         reverse=order == Qt.SortOrder.DescendingOrder)
        ordered = present + [r for r in old if missing(r)]  # worked out before the layout starts changing
        self.layoutAboutToBeChanged.emit()
        self._rows = ordered
        position = {id(r): i for i, r in enumerate(self._rows)}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.createIndex(position[id(old[p.row()])], p.column()) for p in persistent])
        self.layoutChanged.emit()
