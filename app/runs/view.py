"""The runs panel: the filter box (``runFilter``) with its inline error, and the runs table
(``runsTable``) with a header menu that chooses param and metric columns."""
from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMenu, QTableView, QVBoxLayout,
    QWidget,
)

from tracker.entities import Run, UnreadableRun
from tracker.filter import FilterSyntaxError

from app.shell import desktop
from app.shell.errors import override_failed
from app.runs.rows import FIXED_KEYS, RowFilter, common_columns
from app.runs.model import RUN_ROLE, RunsTableModel
from app.runs.filter_box import FilterBox, parse_row_filter

DEFAULT_WIDTHS = {"status": 30, "name": 200, "experiment": 130, "started": 122, "duration": 72,
                  "user": 76, "commit": 74}
EXTRA_WIDTH = 92
_MENU_KEYS_LIMIT = 60  # per submenu; more keys are reachable by typing them in the filter


class RunsView(QWidget):
    """Emits ``currentRunChanged(run or None)`` and ``selectionChanged(list of runs)``."""

    currentRunChanged = Signal(object)
    selectionChanged = Signal(list)
    columnsChanged = Signal()

    def __init__(self, model: RunsTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._experiment: str | None = None
        self._widths: dict[str, int] = dict(DEFAULT_WIDTHS)
        self._hidden: set[str] = set()

        self.filter_box = FilterBox(model, self)  # the line, key completion, help, error and note
        self.filter_edit = self.filter_box.edit
        self.count_label = QLabel(self)
        self.count_label.setObjectName("runCount")
        self.count_label.setProperty("muted", True)

        self.table = QTableView(self)
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Runs")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move within it)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionsMovable(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(model.column_index("started"), Qt.SortOrder.DescendingOrder)

        self.empty_label = QLabel("No runs match the filter", self.table.viewport())
        self.empty_label.setObjectName("emptyTable")
        self.empty_label.setProperty("muted", True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_box, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.filter_box.messages)
        layout.addWidget(self.table, 1)

        self._copy_ids = QAction("Copy Run ID", self)
        self._copy_ids.setShortcut(QKeySequence.StandardKey.Copy)
        self._copy_ids.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._copy_ids.triggered.connect(self.copy_run_ids)
        self.table.addAction(self._copy_ids)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(0)  # coalesce a burst of keystrokes into one pass
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        header.customContextMenuRequested.connect(self._on_header_menu)
        header.sectionResized.connect(self._on_section_resized)
        self.table.customContextMenuRequested.connect(self._on_table_menu)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        model.countsChanged.connect(self._update_counts)
        model.modelReset.connect(self._on_model_reset)
        model.columnsInserted.connect(self._on_columns_changed)
        model.columnsRemoved.connect(self._on_columns_changed)
        self._apply_column_layout()
        self._update_counts()

    # ---- filtering --------------------------------------------------------------------

    @Slot(object)
    def set_experiment(self, experiment: str | None) -> None:
        self._experiment = experiment
        self.apply_filter()

    @Slot()
    def apply_filter(self) -> None:
        """Filter now; a malformed expression shows its error and keeps the last good filter."""
        self._filter_timer.stop()
        error = None
        try:
            row_filter = parse_row_filter(self._experiment, self.filter_edit.text())
        except FilterSyntaxError as e:
            error, row_filter = e, self.model.row_filter().with_experiment(self._experiment)
        self.model.set_filter(row_filter)
        self.filter_box.show_result(row_filter, error)

    def filter_error(self) -> str:
        return self.filter_box.error_text()

    def filter_note(self) -> str:
        """What the box says about keys no shown run has ("" when it says nothing)."""
        return self.filter_box.note_text()

    @Slot(str)
    def _on_filter_text_changed(self, text: str) -> None:
        self._filter_timer.start()

    @Slot()
    def _update_counts(self) -> None:
        total, shown = self.model.total_count(), self.model.visible_count()
        noun = "run" if total == 1 else "runs"
        if self.model.is_filtering():
            self.count_label.setText(f"Filtering {total:,} {noun}…")
        else:
            self.count_label.setText(f"{total:,} {noun}" if shown == total else f"{shown:,} of {total:,} {noun}")
        self.empty_label.setVisible(total > 0 and shown == 0 and not self.model.is_filtering())
        self.empty_label.resize(self.table.viewport().size())

    def resizeEvent(self, event: Any) -> None:
        try:  # total: PySide6 segfaults when an override raises (errors.override_failed)
            super().resizeEvent(event)
            self.empty_label.resize(self.table.viewport().size())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsView.resizeEvent")

    # ---- selection --------------------------------------------------------------------

    def current_run(self) -> Run | UnreadableRun | None:
        index = self.table.currentIndex()
        return index.data(RUN_ROLE) if index.isValid() else None

    def selected_runs(self) -> list[Run | UnreadableRun]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.run_at(r) for r in rows]

    @Slot(str)
    def select_run(self, run_id: str) -> bool:
        """Make ``run_id`` the current, only selected row; False when it is not shown."""
        row = self.model.row_of(run_id)
        if row is None:
            return False
        index = self.model.index(row, self.model.column_index("name"))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    @Slot(QModelIndex, QModelIndex)
    def _on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.currentRunChanged.emit(current.data(RUN_ROLE) if current.isValid() else None)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self.selectionChanged.emit(self.selected_runs())

    @Slot()
    def _on_model_reset(self) -> None:
        self.currentRunChanged.emit(None)
        self._update_counts()

    # ---- columns ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        key, descending = self.model.sort_state()
        return {"columns": self.model.extra_columns(), "widths": self._widths,
                "hidden": sorted(self._hidden), "sort": key, "descending": descending}

    def restore_state(self, state: dict[str, Any]) -> None:
        widths = state.get("widths")
        if isinstance(widths, dict):
            self._widths.update({str(k): int(v) for k, v in widths.items() if isinstance(v, int) and v > 0})
        hidden = state.get("hidden")
        if isinstance(hidden, list):
            self._hidden = {str(k) for k in hidden if k in FIXED_KEYS and k != "name"}
        columns = state.get("columns")
        if isinstance(columns, list):
            self.set_columns([str(c) for c in columns])
        self._apply_column_layout()
        key = state.get("sort")
        if isinstance(key, str) and key in self.model.column_keys():
            order = Qt.SortOrder.DescendingOrder if state.get("descending") else Qt.SortOrder.AscendingOrder
            self.table.sortByColumn(self.model.column_index(key), order)

    def set_columns(self, keys: list[str]) -> None:
        """Show these ``params.<key>``/``metrics.<key>`` columns, keeping the selected rows."""
        keys = [k for k in keys if k.startswith(("params.", "metrics."))]
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        current = self.table.currentIndex()
        self.model.set_extra_columns(keys)
        self._reselect(rows, current.row() if current.isValid() else -1)
        self.columnsChanged.emit()

    def toggle_column(self, key: str, shown: bool) -> None:
        if key in FIXED_KEYS:
            (self._hidden.discard if shown else self._hidden.add)(key)
            self._apply_column_layout()
            self.columnsChanged.emit()
            return
        keys = self.model.extra_columns()
        if shown and key not in keys:
            self.set_columns(keys + [key])
        elif not shown and key in keys:
            self.set_columns([k for k in keys if k != key])

    def visible_columns(self) -> list[int]:
        return [i for i in range(self.model.columnCount()) if not self.table.isColumnHidden(i)]

    def _reselect(self, rows: list[int], current_row: int) -> None:
        last = self.model.columnCount() - 1
        selection = QItemSelection()
        for row in rows:
            selection.select(self.model.index(row, 0), self.model.index(row, last))
        sel = self.table.selectionModel()
        if current_row >= 0:
            sel.setCurrentIndex(self.model.index(current_row, self.model.column_index("name")),
                                QItemSelectionModel.SelectionFlag.NoUpdate)
        sel.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    @Slot(QModelIndex, int, int)
    def _on_columns_changed(self, parent: QModelIndex, first: int, last: int) -> None:
        self._apply_column_layout()

    def _apply_column_layout(self) -> None:
        header = self.table.horizontalHeader()
        header.blockSignals(True)  # our own resizes are not the user's widths
        for i, column in enumerate(self.model.columns()):
            self.table.setColumnHidden(i, column.key in self._hidden)
            header.resizeSection(i, self._widths.get(column.key, EXTRA_WIDTH))
            header.setSectionResizeMode(
                i, QHeaderView.ResizeMode.Fixed if column.key == "status" else QHeaderView.ResizeMode.Interactive)
        header.blockSignals(False)

    @Slot(int, int, int)
    def _on_section_resized(self, index: int, old: int, new: int) -> None:
        keys = self.model.column_keys()
        if 0 <= index < len(keys) and new > 0:
            self._widths[keys[index]] = new

    @Slot(QPoint)
    def _on_header_menu(self, pos: QPoint) -> None:
        self.column_menu().exec(self.table.horizontalHeader().mapToGlobal(pos))

    def column_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setAccessibleName("Columns")
        self.fill_column_menu(menu)
        return menu

    def fill_column_menu(self, menu: QMenu) -> None:
        """Checkable columns: the fixed ones, then Params and Metrics submenus."""
        for column in self.model.columns()[:len(FIXED_KEYS)]:
            if column.key == "name":
                continue
            action = menu.addAction(column.title or "Status")
            action.setCheckable(True)
            action.setChecked(column.key not in self._hidden)
            action.toggled.connect(lambda on, k=column.key: self.toggle_column(k, on))
        params, metrics = self.model.available_keys()
        shown = set(self.model.extra_columns())
        for title, prefix, keys in (("Params", "params.", params), ("Metrics", "metrics.", metrics)):
            sub = menu.addMenu(title)
            sub.setEnabled(bool(keys))
            wanted = [prefix + k for k in keys]
            wanted += [k for k in self.model.extra_columns() if k.startswith(prefix) and k not in wanted]
            for key in wanted[:_MENU_KEYS_LIMIT]:
                action = sub.addAction(key[len(prefix):])
                action.setCheckable(True)
                action.setChecked(key in shown)
                action.toggled.connect(lambda on, k=key: self.toggle_column(k, on))
            if len(wanted) > _MENU_KEYS_LIMIT:
                sub.addAction(f"{len(wanted) - _MENU_KEYS_LIMIT} more keys not listed").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Reset Columns", self.reset_columns)

    @Slot()
    def reset_columns(self) -> None:
        self._widths = dict(DEFAULT_WIDTHS)
        self._hidden = set()
        self.set_columns(default_columns(self.model))
        self._apply_column_layout()

    # ---- context menu -----------------------------------------------------------------

    @Slot()
    def copy_run_ids(self) -> None:
        ids = [self.model.run_id_at(i.row()) for i in sorted(self.table.selectionModel().selectedRows(),
                                                             key=lambda i: i.row())]
        if ids:
            desktop.copy_text("\n".join(ids))

    @Slot()
    def copy_paths(self) -> None:
        paths = [run.path for run in self.selected_runs()]
        if paths:
            desktop.copy_text("\n".join(paths))

    @Slot(QPoint)
    def _on_table_menu(self, pos: QPoint) -> None:
        runs = self.selected_runs()
        if not runs:
            return
        many = len(runs) > 1
        menu = QMenu(self)
        menu.addAction("Copy Run IDs" if many else "Copy Run ID", self.copy_run_ids)
        menu.addAction("Copy Paths" if many else "Copy Path", self.copy_paths)
        reveal = menu.addAction("Reveal in File Manager", lambda: desktop.reveal(runs[0].path))
        reveal.setEnabled(os.path.isdir(runs[0].path))
        menu.exec(self.table.viewport().mapToGlobal(pos))


def default_columns(model: RunsTableModel, metrics: int = 3, params: int = 2) -> list[str]:
    """The most common metric and param keys, for a first start with no saved choice."""
    return common_columns(model.table(), metrics, params)
