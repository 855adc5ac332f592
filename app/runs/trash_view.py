"""The Deleted view: the runs in the trash, newest deletion first, read-only, with Restore.

Shown in place of the runs table when "Deleted" is chosen in the experiments list. Its rows come
from ``TrashContents`` (read by the loading thread, live through the trash's file events); the
Restore button (``restoreRuns``) and the context menu's Restore ask for the selected runs back
with ``restoreRequested(run_ids)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMenu, QPushButton, QTableView, QVBoxLayout, QWidget,
)

from app.common.formatting import format_time
from app.runs.columns import column_for, name_of, run_id_of
from app.runs.frozen_column import CELL_PADDING
from app.runs.trash_contents import TrashContents, empty
from app.shell import desktop
from app.shell.errors import override_failed, variant_safe

DISPLAY = int(Qt.ItemDataRole.DisplayRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
RAW = int(Qt.ItemDataRole.UserRole)
RUN_ID_ROLE = RAW + 2  # as the runs table's
HEADERS = ("Name", "Experiment", "Started", "Deleted")
WIDTHS = (220, 140, 150, 150)


class TrashModel(QAbstractTableModel):
    """One row per deleted run, most recently deleted first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._contents = empty("")
        self._order = np.zeros(0, dtype=np.int64)
        self._experiment, self._started = column_for("experiment"), column_for("started")

    def set_contents(self, contents: TrashContents) -> None:
        self.beginResetModel()
        self._contents = contents
        self._order = np.argsort(-contents.deleted_ms, kind="stable") if contents.count else self._order[:0]
        self.endResetModel()

    def contents(self) -> TrashContents:
        return self._contents

    def run_id_at(self, row: int) -> str:
        return run_id_of(self._contents.table, int(self._order[row]))

    def run_at(self, row: int) -> Any:
        """The deleted run at ``row`` (its path in the trash, ``lifecycle_stage`` "deleted")."""
        return self._contents.table.run(int(self._order[row]))

    def name_at(self, row: int) -> str:
        return name_of(self._contents.table, int(self._order[row]))

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._order)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TrashModel.rowCount")
            return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = DISPLAY) -> Any:
        if role not in (DISPLAY, TOOLTIP, RAW, RUN_ID_ROLE):
            return None
        try:
            row, column = index.row(), index.column()
            if not (0 <= row < len(self._order) and 0 <= column < len(HEADERS)):
                return None
            return variant_safe(self._value(int(self._order[row]), column, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TrashModel.data")
            return None

    def _value(self, i: int, column: int, role: int) -> Any:
        table = self._contents.table
        if role == RUN_ID_ROLE:
            return run_id_of(table, i)
        if role == TOOLTIP:
            return f"{name_of(table, i)}\n{run_id_of(table, i)}" if column == 0 else None
        if column == 0:
            return name_of(table, i)
        if column == 1:
            return (self._experiment.text if role == DISPLAY else self._experiment.value)(table, i)
        if column == 2:
            return (self._started.text if role == DISPLAY else self._started.value)(table, i)
        deleted = int(self._contents.deleted_ms[i])
        return (format_time(deleted, seconds=True) if deleted else "") if role == DISPLAY else deleted

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        try:
            if orientation == Qt.Orientation.Horizontal and role == DISPLAY and 0 <= section < len(HEADERS):
                return HEADERS[section]
            return None
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("TrashModel.headerData")
            return None


class TrashView(QWidget):
    """The deleted runs (``deletedRunsTable``) with a Restore button; ``restoreRequested(run_ids)``,
    ``currentRunChanged(run or None)`` (the run page shows the deleted run chosen here)."""

    restoreRequested = Signal(list)
    currentRunChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deletedView")
        self.model = TrashModel(self)
        self.title = QLabel(self)
        self.title.setObjectName("deletedCount")
        self.note = QLabel("Deleted runs stay here until \u201ctracker gc\u201d removes them for good.", self)
        self.note.setProperty("muted", True)
        self.restore_button = QPushButton("Restore", self)
        self.restore_button.setObjectName("restoreRuns")
        self.restore_button.setToolTip("Bring the selected runs back to the runs table")
        self.restore_button.setEnabled(False)
        self.table = QTableView(self)
        self.table.setObjectName("deletedRunsTable")
        self.table.setStyleSheet(CELL_PADDING)  # as the runs table's cells
        self.table.setAccessibleName("Deleted runs")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        for i, width in enumerate(WIDTHS):
            header.resizeSection(i, width)
        self.restore_action = QAction("Restore", self)
        self.restore_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_R))
        self.restore_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.addAction(self.restore_action)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title)
        top.addWidget(self.note, 1)
        top.addWidget(self.restore_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self.restore_button.clicked.connect(self.restore_selected)
        self.restore_action.triggered.connect(self.restore_selected)
        self.table.customContextMenuRequested.connect(self._on_menu)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.model.modelReset.connect(self._on_selection)
        self.set_contents(empty(""))

    def set_contents(self, contents: TrashContents) -> None:
        """Show these deleted runs, keeping the selected ones selected."""
        keep = set(self.selected_run_ids())
        self.model.set_contents(contents)
        noun = "run" if contents.count == 1 else "runs"
        self.title.setText(f"{contents.count:,} deleted {noun}")
        selection = self.table.selectionModel()
        for row in range(self.model.rowCount()):
            if self.model.run_id_at(row) in keep:
                selection.select(self.model.index(row, 0), selection.SelectionFlag.Select
                                 | selection.SelectionFlag.Rows)
        self._on_selection()

    def selected_run_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.run_id_at(r) for r in rows if r < self.model.rowCount()]

    def select_run_ids(self, run_ids: list[str]) -> None:
        wanted, selection = set(run_ids), self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.model.rowCount()):
            if self.model.run_id_at(row) in wanted:
                selection.select(self.model.index(row, 0), selection.SelectionFlag.Select
                                 | selection.SelectionFlag.Rows)

    @Slot()
    def restore_selected(self) -> None:
        run_ids = self.selected_run_ids()
        if run_ids:
            self.restoreRequested.emit(run_ids)

    @Slot()
    def _on_selection(self) -> None:
        count = len(self.table.selectionModel().selectedRows())
        self.restore_button.setEnabled(count > 0)
        self.restore_button.setText(f"Restore {count:,} Runs" if count > 1 else "Restore")
        self.restore_action.setEnabled(count > 0)

    def current_run(self) -> Any:
        index = self.table.currentIndex()
        return self.model.run_at(index.row()) if index.isValid() and index.row() < self.model.rowCount() else None

    @Slot(QModelIndex, QModelIndex)
    def _on_current_row(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.currentRunChanged.emit(self.current_run())

    @Slot(QPoint)
    def _on_menu(self, pos: QPoint) -> None:
        run_ids = self.selected_run_ids()
        if not run_ids:
            return
        menu = QMenu(self)
        menu.addAction(self.restore_action)
        menu.addAction("Copy Run IDs" if len(run_ids) > 1 else "Copy Run ID",
                       lambda: desktop.copy_text("\n".join(run_ids)))
        menu.exec(self.table.viewport().mapToGlobal(pos))
