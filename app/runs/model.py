"""``RunsTableModel``: a thin Qt adapter over a ``RunTable``, for the runs table.

The model holds the table and a numpy array of the visible table rows in display order (plus
each one's nesting shape: depth, and whether its child runs are collapsed, ``app.runs.nesting``);
a cell reads its column at that row. DisplayRole is the text a cell shows, ``Qt.UserRole`` the
raw value (numbers as numbers, None when missing). ``RUN_ROLE`` makes the row's ``Run`` when
asked (the details page, charts, compare): nothing else does. ``BADGE_ROLE`` names the
registered model versions made from a run, from one mapping the view sets for every run.

Filtering, sorting and new tables move rows with insert/remove or ``layoutChanged`` plus
persistent index updates (matched by run folder), never a reset once the table is filled, so
the selection and current run survive them and every live update.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from tracker.entities import Run, UnreadableRun
from tracker.index import RunTable

from app.shell import resources
from app.shell.errors import override_failed, variant_safe
from app.runs import nesting
from app.runs.position_ranges import position_ranges
from app.runs.row_moves import RowMoves
from app.runs.colors import swatch_icon
from app.runs.columns import FIXED_COLUMNS, FIXED_KEYS, Column, column_for, is_unreadable, run_id_of, status_of
from app.runs.rows import (
    RowFilter, SearchText, TableRows, arrange, base_order, experiment_counts, parent_rows, remap_rows, run_key,
    table_of_runs,
)

DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
RAW = int(Qt.ItemDataRole.UserRole)  # the raw value
RUN_ROLE = RAW + 1  # the Run or UnreadableRun of the row
RUN_ID_ROLE = RAW + 2
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
BADGE_ROLE = RAW + 3  # "fraud v3" when the run's model is registered, else None
_SERVED = frozenset((DISPLAY, DECORATION, TOOLTIP, ALIGNMENT, RAW, RUN_ROLE, RUN_ID_ROLE, BADGE_ROLE))
_RUN_CACHE = 256  # runs made for RUN_ROLE kept per table (a selection asks for the same ones again)

AnyRun = Run | UnreadableRun


class RunsTableModel(RowMoves, QAbstractTableModel):
    """Rows are runs (filtered, sorted, nested); columns are fixed ones plus chosen keys."""

    countsChanged = Signal()  # the number of runs, or of visible runs, changed
    # The visible rows were reset, or moved, came or went: emitted once after the row signals of
    # a change (a filter, a sort, a new table), so a view can lay itself out once, before its paint.
    arranged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._table = RunTable.empty("")
        self._base = np.zeros(0, dtype=np.int64)  # every row in base order
        self._visible = np.zeros(0, dtype=np.int64)  # the visible table rows, in display order
        self._depth: np.ndarray | None = None  # nesting shape per visible row (nesting.collapse; None: none nested)
        self._collapsed: set[str] = set()  # run ids whose child runs are hidden
        self._registered: dict[str, str] = {}  # run id -> "fraud v3, churn v1" (registered versions)
        self._shown_at: np.ndarray | None = None  # table row -> visible position, made when asked
        self._columns: list[Column] = list(FIXED_COLUMNS)
        self._filter = RowFilter()
        self._sort_key: str | None = "started"
        self._descending = True
        self._made: dict[str, AnyRun] = {}  # runs given as objects (an MLflow store's): served as they are
        self._runs: dict[int, AnyRun] = {}  # runs made from this table, by row
        self._keys: dict[str, Any] = {}  # sort keys of this table, by column (and " parents": parent_rows)
        self._search: SearchText | None = None

    # ---- Qt ----------------------------------------------------------------------------
    # Every override is total (errors.override_failed): an exception inside one, with Python
    # below it on the stack, would take PySide6 down.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._visible)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTableModel.rowCount")
            return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._columns)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTableModel.columnCount")
            return 0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = DISPLAY) -> Any:
        # A repaint asks seven roles a cell (font, colors, check state...), ~1,400 calls: turn
        # away the four we never serve before touching the index.
        if role not in _SERVED:
            return None
        try:
            row, column = index.row(), index.column()
            if not (0 <= row < len(self._visible) and 0 <= column < len(self._columns)):
                return None
            i = int(self._visible[row])
            if i < 0:  # a row on its way out of a change
                return None
            return variant_safe(self._value(row, i, self._columns[column], role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTableModel.data")
            return None

    def _value(self, row: int, i: int, column: Column, role: int) -> Any:
        table = self._table
        if role == DISPLAY:
            text = column.text(table, i)
            if column.key == "name" and self._depth is not None and row < len(self._depth):
                shape = int(self._depth[row])
                if shape:
                    return nesting.name_prefix(shape) + text
            return text
        if role == RAW:
            return column.value(table, i)
        if role == DECORATION:
            if column.key == "status":
                return resources.status_icon(status_of(table, i))
            if column.key == "name" and not is_unreadable(table, i):
                return swatch_icon(run_id_of(table, i))  # the run's color in the charts
            return None
        if role == ALIGNMENT:
            return _RIGHT if column.numeric else None
        if role == TOOLTIP:
            tip = (column.tooltip(table, i) or None) if column.tooltip is not None else None
            if column.key == "name" and self._registered:
                badge = self._registered.get(run_id_of(table, i))
                if badge:
                    tip = f"{tip}\nRegistered as {badge}" if tip else f"Registered as {badge}"
            return tip
        if role == BADGE_ROLE:
            return self._registered.get(run_id_of(table, i)) if self._registered and column.key == "name" else None
        if role == RUN_ROLE:
            return self._run(i)
        if role == RUN_ID_ROLE:
            return run_id_of(table, i)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        try:
            return self._header(section, orientation, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTableModel.headerData")
            return None

    def _header(self, section: int, orientation: Qt.Orientation, role: int) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role == DISPLAY:
            return column.title
        if role == TOOLTIP:
            return {"status": "Status", "commit": "Git commit (* = uncommitted changes)"}.get(
                column.key, column.key)
        if role == ALIGNMENT:
            return (_RIGHT if column.numeric
                    else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        try:
            key = self._columns[column].key if 0 <= column < len(self._columns) else None
            self.set_sort(key, order == Qt.SortOrder.DescendingOrder)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTableModel.sort")

    # ---- reading ---------------------------------------------------------------------------

    def table(self) -> RunTable:
        """Every run, as the table it came in (never changed: a new one replaces it)."""
        return self._table

    def _run(self, i: int) -> AnyRun:
        table = self._table
        made = self._made.get(run_id_of(table, i)) if self._made else None
        if made is not None:
            return made
        run = self._runs.get(i)
        if run is None:
            if len(self._runs) >= _RUN_CACHE:
                self._runs.clear()
            run = self._runs[i] = table.run(i)
        return run

    def run_at(self, row: int) -> AnyRun:
        return self._run(int(self._visible[row]))

    def run_id_at(self, row: int) -> str:
        return run_id_of(self._table, int(self._visible[row]))

    def row_of(self, run_id: str) -> int | None:
        i = self._table.position(run_id)
        if self._shown_at is None:
            shown = np.full(self._table.n + 1, -1, dtype=np.int64)
            shown[self._visible] = np.arange(len(self._visible))
            self._shown_at = shown
        if i is None:
            return None
        row = int(self._shown_at[i])
        return row if row >= 0 else None

    def get(self, run_id: str) -> AnyRun | None:
        i = self._table.position(run_id)
        return None if i is None else self._run(i)

    def contains(self, run_id: str) -> bool:
        return self._table.position(run_id) is not None

    def runs(self) -> list[AnyRun]:
        """Every run, made now (for callers that need them all; the table itself never does)."""
        return [self._run(i) for i in range(self._table.n)]

    def rows(self) -> TableRows:
        """The visible rows, in display order."""
        return TableRows(self._table, self._visible.copy(), nesting.depths(self._depth))

    def visible_runs(self) -> list[AnyRun]:
        return [self._run(i) for i in self._visible.tolist()]

    def total_count(self) -> int:
        return self._table.n

    def visible_count(self) -> int:
        return len(self._visible)

    def columns(self) -> list[Column]:
        return list(self._columns)

    def column_keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def column_index(self, key: str) -> int:
        return self.column_keys().index(key)

    def extra_columns(self) -> list[str]:
        return [c.key for c in self._columns[len(FIXED_COLUMNS):]]

    def available_keys(self) -> tuple[list[str], list[str]]:
        """(param keys, metric keys) over all runs, sorted."""
        return sorted(self._table.params, key=str.lower), sorted(self._table.metrics, key=str.lower)

    def registered(self) -> dict[str, str]:
        """Run id -> the registered versions made from it ("fraud v3, churn v1")."""
        return dict(self._registered)

    def set_registered(self, versions: dict[str, str]) -> None:
        """Badge these runs as registered (one mapping for every run: looked up once, not per row)."""
        if versions == self._registered:
            return
        self._registered = dict(versions)
        if len(self._visible):
            name = self.column_index("name")
            self.dataChanged.emit(self.index(0, name), self.index(len(self._visible) - 1, name))

    # ---- nested runs ------------------------------------------------------------------

    def has_children_at(self, row: int) -> bool:
        """Whether the run at ``row`` shows as a parent (its child runs shown or collapsed)."""
        depth = self._depth
        return depth is not None and 0 <= row < len(depth) and nesting.mark_of(int(depth[row])) != nesting.NO_MARK

    def is_collapsed(self, run_id: str) -> bool:
        return run_id in self._collapsed

    def set_collapsed(self, run_ids: Iterable[str], collapsed: bool) -> None:
        """Hide (or show again) the child runs of these parents; selections follow their runs."""
        before = set(self._collapsed)
        if collapsed:
            self._collapsed.update(run_ids)
        else:
            self._collapsed.difference_update(run_ids)
        if self._collapsed != before:
            self._apply(*self._arranged())
            self.countsChanged.emit()

    def toggle_collapsed(self, row: int) -> None:
        if self.has_children_at(row):
            run_id = self.run_id_at(row)
            self.set_collapsed([run_id], run_id not in self._collapsed)

    def parent_run_ids(self) -> list[str]:
        """Every run of the table that has a child run in it."""
        table = self._table
        parents = self._keys.get(" parents")
        if parents is None:
            parents = self._keys[" parents"] = parent_rows(table)
        rows = np.unique(parents[parents >= 0])
        return [run_id_of(table, int(i)) for i in rows.tolist()]

    def experiment_counts(self) -> Counter:
        return experiment_counts(self._table)

    def sort_state(self) -> tuple[str | None, bool]:
        return self._sort_key, self._descending

    def row_filter(self) -> RowFilter:
        return self._filter

    def is_filtering(self) -> bool:
        """Whether a filter pass is under way (never: a pass is one numpy evaluation)."""
        return False

    # ---- changing ---------------------------------------------------------------------

    def set_table(self, table: RunTable, base: np.ndarray | None = None,
                  made: dict[str, AnyRun] | None = None) -> None:
        """Show ``table`` (opening a directory): the one place that resets the model.

        ``base``: its rows in base order (``run_rows.base_order``), when worked out already;
        ``made``: runs already made as objects (an MLflow store's), served for RUN_ROLE as they are.
        """
        self.beginResetModel()
        self._take(table, base, made)
        self._visible, self._depth = self._arranged()
        self._shown_at = None
        self.endResetModel()
        self.arranged.emit()
        self.countsChanged.emit()

    def update_table(self, table: RunTable, changed: Iterable[str] | np.ndarray = (), base: np.ndarray | None = None,
                     made: dict[str, AnyRun] | None = None) -> None:
        """A newer table of the same runs (some changed, added or removed: ``changed`` names
        those whose values changed, by run id or as rows of ``table``): rows move, appear and
        go; selections follow their runs."""
        if not self._table.n and not len(self._visible):
            self.set_table(table, base, made)
            return
        old_table = self._table
        remap = remap_rows(old_table, table)
        self._take(table, base, made)
        self._visible = remap[self._visible] if len(self._visible) else self._visible  # -1: gone
        self._shown_at = None
        self._apply(*self._arranged())
        self._emit_changed(changed)
        self.countsChanged.emit()

    def set_runs(self, runs: Iterable[AnyRun]) -> None:
        """Show these runs (made elsewhere): a reset, as ``set_table``."""
        runs = list(runs)
        self.set_table(table_of_runs(_root_of(runs), runs), made={run_key(r): r for r in runs})

    def upsert(self, runs: Iterable[AnyRun]) -> None:
        """Runs (made elsewhere) that appeared or changed: insert rows or update them in place."""
        runs = list(runs)
        if not runs:
            return
        table = self._table.patched(table_of_runs(self._table.root or _root_of(runs), runs))
        made = {**self._made, **{run_key(r): r for r in runs}}
        self.update_table(table, [run_key(r) for r in runs], made=made)

    def remove(self, run_ids: Iterable[str]) -> None:
        gone = [run_id for run_id in run_ids if self._table.position(run_id) is not None]
        if gone:
            made = {k: r for k, r in self._made.items() if k not in set(gone)} if self._made else None
            self.update_table(self._table.patched(RunTable.empty(self._table.root), gone), made=made)

    def set_filter(self, row_filter: RowFilter) -> None:
        self._filter = row_filter
        self._apply(*self._arranged())
        self.countsChanged.emit()

    def set_sort(self, key: str | None, descending: bool = False) -> None:
        if (key, descending) == (self._sort_key, self._descending):
            return  # QTableView.sortByColumn asks twice; rows are kept sorted anyway
        self._sort_key, self._descending = key, descending
        self._apply(*self._arranged())

    def set_extra_columns(self, keys: Iterable[str]) -> None:
        """Show these param/metric columns after the fixed ones (kept ones keep their place)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in FIXED_KEYS]
        fixed = len(FIXED_COLUMNS)
        current = self.extra_columns()
        gone = [fixed + i for i, k in enumerate(current) if k not in wanted]
        for start, end in reversed(position_ranges(gone)):
            self.beginRemoveColumns(QModelIndex(), start, end)
            del self._columns[start:end + 1]
            self.endRemoveColumns()
        new = [column_for(k) for k in wanted if k not in current]
        if new:
            start = len(self._columns)
            self.beginInsertColumns(QModelIndex(), start, start + len(new) - 1)
            self._columns.extend(new)
            self.endInsertColumns()
        if self._sort_key is not None and self._sort_key not in self.column_keys():
            self.set_sort("started", True)

    # ---- internals --------------------------------------------------------------------

    def _take(self, table: RunTable, base: np.ndarray | None, made: dict[str, AnyRun] | None) -> None:
        self._table = table
        self._base = base if base is not None and len(base) == table.n else base_order(table)
        if made is not None:
            self._made = made
        elif not table.n:
            self._made = {}
        self._runs, self._keys, self._search = {}, {}, None

    def _arranged(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The visible rows in display order, and their nesting depth."""
        table = self._table
        column = column_for(self._sort_key) if self._sort_key in self.column_keys() else None
        keys = None
        if column is not None:
            keys = self._keys.get(column.key)
            if keys is None:
                keys = self._keys[column.key] = column.sort_keys(table)
        if self._filter.words and self._search is None:
            self._search = SearchText(table)
        parents = self._keys.get(" parents")
        if parents is None:
            parents = self._keys[" parents"] = parent_rows(table)
        rows, depth = arrange(table, self._base, self._filter, column, self._descending, self._search, keys, parents)
        if depth is None:
            return rows, None
        found = (table.position(r) for r in self._collapsed)
        collapsed = np.array([i for i in found if i is not None], dtype=np.int64)
        return nesting.collapse(rows, depth, collapsed)


def _root_of(runs: list[AnyRun]) -> str:
    """The folder the runs' paths share (where a table of them is said to live)."""
    parents = {os.path.dirname(r.path) for r in runs if r.path}
    return parents.pop() if len(parents) == 1 else ""
