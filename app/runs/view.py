"""The runs panel: the filter box (``runFilter``) with its inline error, and the runs table
(``runsTable``) with a header menu that chooses param and metric columns."""
from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMenu, QVBoxLayout,
    QWidget,
)

from tracker.entities import Run, UnreadableRun
from tracker.filter import FilterSyntaxError

from app.shell import desktop
from app.shell.errors import override_failed
from app.common.table_look import platform_sort_arrows
from app.runs.rows import FIXED_KEYS
from app.runs.model import RUN_ROLE, RunsTableModel
from app.runs.filter_box import FilterBox
from app.runs.column_choice import ColumnChoices, top_columns
from app.runs.column_chooser import ColumnChooser, add_to_menu, choices
from app.runs.frozen_column import RunsTable
from app.runs.name_delegate import NameDelegate
from app.runs.registered import RegisteredRuns

DEFAULT_WIDTHS = {"status": 30, "name": 200, "experiment": 130, "started": 150, "duration": 78,
                  "user": 84, "commit": 74}
EXTRA_WIDTH = 92


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
        self._choices = ColumnChoices()  # the user's columns per experiment
        self._followed: tuple[Any, str | None] = (None, None)  # the table and experiment columns follow
        self.registered = RegisteredRuns(self)  # registered model versions, for the Name badge

        self.filter_box = FilterBox(model, self)  # the line, key completion, help, error and note
        self.filter_edit = self.filter_box.edit
        self.count_label = QLabel(self)
        self.count_label.setObjectName("runCount")
        self.count_label.setProperty("muted", True)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.table = RunsTable(self)
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
        platform_sort_arrows(header)
        self._name_delegate = NameDelegate(self)
        for view in (self.table, self.table.frozen):
            view.setItemDelegateForColumn(model.column_index("name"), self._name_delegate)
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
        self.edit_actions: list[QAction] = []  # Rename, Move to Trash (app.runs.edit_wiring), first in the menu

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
        model.countsChanged.connect(self._follow_columns)
        self.table.markClicked.connect(self._on_mark_clicked)
        self.registered.changed.connect(self._on_registered)
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
            row_filter = self.filter_box.parse(self._experiment)
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
        # As wide as the widest count of this many runs: a count changing width as a filter is
        # typed laid out the filter row again (and repainted it) at every keystroke.
        label = self.count_label
        margins = label.contentsMargins()
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance(f"{total:,} of {total:,} {noun}")
                              + margins.left() + margins.right() + 2 * label.margin())
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
                "hidden": sorted(self._hidden), "sort": key, "descending": descending,
                "experimentColumns": self._choices.state()}

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
        if "experimentColumns" in state:
            self._choices.restore(state.get("experimentColumns"))
        elif isinstance(columns, list):  # saved before choices were kept per experiment: all runs'
            self._choices.choose(None, self.model.extra_columns())
        self._apply_column_layout()
        key = state.get("sort")
        if isinstance(key, str) and key in self.model.column_keys():
            order = Qt.SortOrder.DescendingOrder if state.get("descending") else Qt.SortOrder.AscendingOrder
            self.table.sortByColumn(self.model.column_index(key), order)

    def set_columns(self, keys: list[str]) -> None:
        """Show these ``params.<key>``/``metrics.<key>``/``tags.<key>`` columns, keeping the selected
        rows: the shown experiment's choice from now on, unless they are its most common keys."""
        keys = [k for k in keys if k.startswith(("params.", "metrics.", "tags."))]
        table, experiment = self.model.table(), self.model.row_filter().experiment
        if table.n and keys not in (top_columns(table, experiment, self.model.extra_columns()),
                                    top_columns(table, experiment)):
            self._choices.choose(experiment, keys)
        self._show_columns(keys)

    def _show_columns(self, keys: list[str]) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        current = self.table.currentIndex()
        self.model.set_extra_columns(keys)
        self._reselect(rows, current.row() if current.isValid() else -1)
        self.columnsChanged.emit()

    def toggle_column(self, key: str, shown: bool) -> None:
        """Show or hide one column as the user asks: a param, metric or tag column is then this
        experiment's choice, kept for it (``experiment_columns``)."""
        if key in FIXED_KEYS:
            (self._hidden.discard if shown else self._hidden.add)(key)
            self._apply_column_layout()
            self.columnsChanged.emit()
            return
        keys = self.model.extra_columns()
        if shown and key not in keys:
            keys = keys + [key]
        elif not shown and key in keys:
            keys = [k for k in keys if k != key]
        else:
            return
        self.set_columns(keys)

    def experiment_columns(self, experiment: str | None) -> list[str] | None:
        """The columns the user chose for ``experiment`` (None: all runs), or None when they follow its keys."""
        return self._choices.chosen(experiment)

    @Slot()
    def _follow_columns(self) -> None:
        """A new table or another experiment: show its chosen columns, or its most common keys
        (keys runs log later take free places as they come)."""
        table, experiment = self.model.table(), self.model.row_filter().experiment
        if self._followed[0] is table and self._followed[1] == experiment:
            return
        self._followed = (table, experiment)
        self.registered.follow(table.root or None)
        if not table.n:
            return
        shown = self.model.extra_columns()
        keys = self._choices.columns_for(table, experiment, shown)
        if keys != shown:
            self._show_columns(keys)

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
        self.table.sync_frozen()

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

    def fill_column_menu(self, menu: QMenu) -> ColumnChooser:
        """Put the column chooser in ``menu`` (which stays open while keys are ticked)."""
        chooser = self.column_chooser(menu)
        add_to_menu(chooser, menu)
        return chooser

    def column_chooser(self, parent: QWidget | None = None) -> ColumnChooser:
        """A chooser of the shown experiment's attributes, params, metrics and tags."""
        experiment = self.model.row_filter().experiment
        title = "Columns for all runs" if experiment is None else f"Columns for \u201c{experiment}\u201d"
        groups = choices(self.model.table(), experiment, self.model.columns()[:len(FIXED_KEYS)], self._hidden,
                         self.model.extra_columns())
        chooser = ColumnChooser(title, groups, parent)
        chooser.toggled.connect(self._on_chooser_toggled)
        chooser.resetRequested.connect(self.reset_columns)
        return chooser

    @Slot(str, bool)
    def _on_chooser_toggled(self, key: str, shown: bool) -> None:
        self.toggle_column(key, shown)

    @Slot()
    def reset_columns(self) -> None:
        """Back to default widths, every attribute shown, and the experiment's most common keys."""
        self._widths = dict(DEFAULT_WIDTHS)
        self._hidden = set()
        self._choices.forget(self.model.row_filter().experiment)
        self._show_columns(default_columns(self.model, self.model.row_filter().experiment))
        self._apply_column_layout()

    # ---- nested runs and registered models --------------------------------------------

    @Slot(int)
    def _on_mark_clicked(self, row: int) -> None:
        self.model.toggle_collapsed(row)

    @Slot(object)
    def _on_registered(self, labels: dict) -> None:
        self.model.set_registered(labels)

    def _collapse_actions(self, menu: QMenu, runs: list[Run | UnreadableRun]) -> None:
        rows = [i.row() for i in self.table.selectionModel().selectedRows()]
        parents = [self.model.run_id_at(r) for r in rows if self.model.has_children_at(r)]
        if parents:
            collapsed = all(self.model.is_collapsed(p) for p in parents)
            menu.addAction("Expand Child Runs" if collapsed else "Collapse Child Runs",
                           lambda: self.model.set_collapsed(parents, not collapsed))
        if self.model.parent_run_ids():
            menu.addAction("Collapse All Child Runs",
                           lambda: self.model.set_collapsed(self.model.parent_run_ids(), True))
            menu.addAction("Expand All Child Runs",
                           lambda: self.model.set_collapsed(self.model.parent_run_ids(), False))
        if parents or self.model.parent_run_ids():
            menu.addSeparator()

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
        self._collapse_actions(menu, runs)
        for action in self.edit_actions:
            menu.addAction(action)
        if self.edit_actions:
            menu.addSeparator()
        menu.addAction("Copy Run IDs" if many else "Copy Run ID", self.copy_run_ids)
        menu.addAction("Copy Paths" if many else "Copy Path", self.copy_paths)
        reveal = menu.addAction("Reveal in File Manager", lambda: desktop.reveal(runs[0].path))
        reveal.setEnabled(os.path.isdir(runs[0].path))
        menu.exec(self.table.viewport().mapToGlobal(pos))


def default_columns(model: RunsTableModel, experiment: str | None = None) -> list[str]:
    """The most common param and metric keys of ``experiment`` (None: all runs), for a first start
    with no saved choice."""
    return top_columns(model.table(), experiment)
