"""The compare table: one column per run, one row per param and metric (last value).

A thin adapter over ``tracker``'s ``Run`` objects. Section rows ("Parameters",
"Metrics") head each group; ``DifferingRowsProxy`` can hide the rows where every run
agrees (a run lacking the key counts as differing).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from app.shell.errors import override_failed, variant_safe
from app.common.formatting import format_number, to_number
from app.runs.colors import swatch_icon
from tracker.entities import Run

from .series_math import natural_key

PARAM, METRIC, HEADER = "param", "metric", "header"
_Index = QModelIndex | QPersistentModelIndex


@dataclass
class _Row:
    kind: str  # PARAM, METRIC or HEADER
    key: str
    values: list  # per run: str for params, float for metrics, None when missing
    section: str = ""  # PARAM or METRIC (for HEADER rows: the section they head)
    differs: bool = False


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class CompareTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.rows: list[_Row] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_runs(self, runs: list[Run]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.rows = []
        for section, title, getter in ((PARAM, "Parameters", lambda r: r.data.params),
                                       (METRIC, "Metrics", lambda r: r.data.metrics)):
            keys = sorted({k for r in self.runs for k in getter(r)}, key=natural_key)
            if not keys:
                continue
            header = _Row(HEADER, title, [], section)
            self.rows.append(header)
            for key in keys:
                values = [getter(r).get(key) for r in self.runs]
                differs = len(self.runs) > 1 and any(not _same(v, values[0]) for v in values[1:])
                header.differs |= differs
                self.rows.append(_Row(section, key, values, section, differs))
        self.endResetModel()

    def row(self, row: int) -> _Row:
        return self.rows[row]

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self.rows)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.rowCount")
            return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else 1 + len(self.runs)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.columnCount")
            return 0

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        try:
            return variant_safe(self._data(index, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.data")
            return None

    def _data(self, index: _Index, role: int):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.FontRole:
            if row.kind == HEADER or (col == 0 and row.differs):
                return self._bold
            return None
        if row.kind == HEADER:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole) and col == 0:
                return row.key
            if role == Qt.ItemDataRole.BackgroundRole:
                return QApplication.palette().brush(QPalette.ColorGroup.Active, QPalette.ColorRole.Button)
            return None
        value = row.key if col == 0 else row.values[col - 1]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if col == 0 or value is None:
                return value if value is not None else "—"
            return format_number(value) if row.kind == METRIC else str(value)
        if role == Qt.ItemDataRole.UserRole:
            if col == 0 or value is None:
                return value
            return value if row.kind == METRIC else (to_number(value) if to_number(value) is not None else value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return f"{'param' if row.kind == PARAM else 'metric (last value)'} {row.key}" + (
                    "\nThe runs differ here" if row.differs else "")
            return None if value is None else repr(value) if row.kind == METRIC else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            numeric = row.kind == METRIC or (value is not None and to_number(value) is not None)
            horizontal = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        try:
            return self._header(section, orientation, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.headerData")
            return None

    def _header(self, section: int, orientation: Qt.Orientation, role: int):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section <= len(self.runs):
            return None
        if section == 0:
            return "Key" if role == Qt.ItemDataRole.DisplayRole else None
        run = self.runs[section - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return run.info.run_name
        if role == Qt.ItemDataRole.DecorationRole:
            return swatch_icon(run.info.run_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{run.info.run_name}\n{run.info.run_id}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        try:
            if not index.isValid() or not 0 <= index.row() < len(self.rows):
                return Qt.ItemFlag.NoItemFlags
            if self.rows[index.row()].kind == HEADER:
                return Qt.ItemFlag.ItemIsEnabled
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.flags")
            return Qt.ItemFlag.NoItemFlags


class DifferingRowsProxy(QSortFilterProxyModel):
    """Hides rows where all runs agree when ``only_differing`` is on (never with < 2 runs)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._only_differing = False

    @property
    def only_differing(self) -> bool:
        return self._only_differing

    def set_only_differing(self, on: bool) -> None:
        if on != self._only_differing:
            self.beginFilterChange()
            self._only_differing = on
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        try:  # total, as every override (errors.override_failed)
            model = self.sourceModel()
            if not self._only_differing or len(model.runs) < 2:
                return True
            return model.row(source_row).differs
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DifferingRowsProxy.filterAcceptsRow")
            return True
