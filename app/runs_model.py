"""``RunsTableModel``: a thin Qt adapter over ``tracker`` runs, for the runs table.

DisplayRole is the text a cell shows, ``Qt.UserRole`` the raw value (numbers as numbers,
None when missing); sorting compares those raw values in Python (see ``app.run_rows``).
Filtering and sorting move rows with insert/remove or ``layoutChanged`` plus persistent
index updates, never a reset, so the selection and current run survive them and live updates.
"""
from __future__ import annotations

import operator
from collections import Counter
from typing import Any, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot

from tracker.entities import Run, UnreadableRun
from tracker.filter_compile import ValueColumns

from app import resources
from app.errors import override_failed, variant_safe
from app.position_ranges import missing_ranges, position_ranges
from app.run_colors import swatch_icon
from app.run_rows import (
    FIXED_COLUMNS, FIXED_KEYS, Column, Row, RowFilter, SlicedSelection, arrange, base_order, column_for,
    prepare_rows,
)

# How long one pass of filtering may hold the GUI thread before the rest waits for the event loop
# (the rule is 100 ms for any stall; sorting and applying the rows come after it).
FILTER_SLICE_SECONDS = 0.03

DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
RAW = int(Qt.ItemDataRole.UserRole)  # the raw value
RUN_ROLE = RAW + 1  # the Run or UnreadableRun of the row
RUN_ID_ROLE = RAW + 2
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_SERVED = frozenset((DISPLAY, DECORATION, TOOLTIP, ALIGNMENT, RAW, RUN_ROLE, RUN_ID_ROLE))
_FINE_GRAINED_LIMIT = 24  # more insert/remove ranges than this: one layout change instead

AnyRun = Run | UnreadableRun
_INFO = operator.attrgetter("info")  # None for unreadable runs
_EXPERIMENT = operator.attrgetter("experiment")


class RunsTableModel(QAbstractTableModel):
    """Rows are runs (filtered, sorted, nested); columns are fixed ones plus chosen keys."""

    countsChanged = Signal()  # the number of runs, or of visible runs, changed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._by_id: dict[str, Row] = {}
        self._base: list[Row] | None = []  # every row in base order; None: to recompute
        self._rows: list[Row] = []  # the visible rows, in display order
        self._columns: list[Column] = list(FIXED_COLUMNS)
        self._filter = RowFilter()
        self._values: ValueColumns | None = None  # field values of _base, for filtering
        self._sort_key: str | None = "started"
        self._descending = True
        # Plain-text search strings are built lazily; after loading, a few hundred rows at a
        # time in idle moments, so neither the load nor the first keystroke pays for all.
        self._warm: list[Row] = []
        self._warm_timer = QTimer(self)
        self._warm_timer.setInterval(0)
        self._warm_timer.timeout.connect(self._on_warm)
        # A filter pass longer than FILTER_SLICE_SECONDS goes on in later passes of the event
        # loop, so no expression (a LIKE over long values) holds the GUI thread for long.
        self._filtering: SlicedSelection | None = None
        self._filtering_with: RowFilter | None = None  # the filter of the pass under way
        self._rerun = False  # rows changed during the pass: filter again once it is done
        self._filter_timer = QTimer(self)
        self._filter_timer.setInterval(0)
        self._filter_timer.timeout.connect(self._on_filter_slice)

    # ---- Qt ----------------------------------------------------------------------------
    # Every override is total (errors.override_failed): an exception inside one, with Python
    # below it on the stack, would take PySide6 down.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._rows)
        except Exception:
            override_failed("RunsTableModel.rowCount")
            return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._columns)
        except Exception:
            override_failed("RunsTableModel.columnCount")
            return 0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = DISPLAY) -> Any:
        # A repaint asks seven roles a cell (font, colors, check state...), ~1,400 calls: turn
        # away the four we never serve before touching the index.
        if role not in _SERVED:
            return None
        try:
            row, column = index.row(), index.column()
            if not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
                return None
            return variant_safe(self._value(self._rows[row], self._columns[column], role))
        except Exception:
            override_failed("RunsTableModel.data")
            return None

    def _value(self, row: Row, column: Column, role: int) -> Any:
        if role == DISPLAY:
            return column.text(row)
        if role == RAW:
            return column.value(row)
        if role == DECORATION:
            if column.key == "status":
                return resources.status_icon(row.status)
            if column.key == "name" and row.info is not None:
                return swatch_icon(row.run_id)  # the run's color in the charts
            return None
        if role == ALIGNMENT:
            return _RIGHT if column.numeric else None
        if role == TOOLTIP:
            return (column.tooltip(row) or None) if column.tooltip is not None else None
        if role == RUN_ROLE:
            return row.run
        if role == RUN_ID_ROLE:
            return row.run_id
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        try:
            return self._header(section, orientation, role)
        except Exception:
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
        except Exception:
            override_failed("RunsTableModel.sort")

    # ---- reading ---------------------------------------------------------------------------

    def run_at(self, row: int) -> AnyRun:
        return self._rows[row].run

    def row_of(self, run_id: str) -> int | None:
        target = self._by_id.get(run_id)
        if target is None:
            return None
        for i, row in enumerate(self._rows):
            if row is target:
                return i
        return None

    def get(self, run_id: str) -> AnyRun | None:
        row = self._by_id.get(run_id)
        return None if row is None else row.run

    def runs(self) -> list[AnyRun]:
        return [row.run for row in self._by_id.values()]

    def rows(self) -> list[Row]:
        """The visible rows, in display order."""
        return list(self._rows)

    def visible_runs(self) -> list[AnyRun]:
        return [row.run for row in self._rows]

    def total_count(self) -> int:
        return len(self._by_id)

    def visible_count(self) -> int:
        return len(self._rows)

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
        params: set[str] = set()
        metrics: set[str] = set()
        for row in self._by_id.values():
            if not row.unreadable:
                params.update(row.run.data.params)
                metrics.update(row.run.data.metrics)
        return sorted(params, key=str.lower), sorted(metrics, key=str.lower)

    def experiment_counts(self) -> Counter:
        # map/filter rather than a generator: 10,000 rows in ~2 ms instead of ~12 (on the GUI thread)
        return Counter(map(_EXPERIMENT, filter(None, map(_INFO, self._by_id.values()))))

    def sort_state(self) -> tuple[str | None, bool]:
        return self._sort_key, self._descending

    def row_filter(self) -> RowFilter:
        return self._filter

    # ---- changing ---------------------------------------------------------------------

    def set_runs(self, runs: Iterable[AnyRun]) -> None:
        """Replace every run (opening a directory): the one place that resets the model."""
        self.set_rows(prepare_rows(runs))

    def set_rows(self, rows: list[Row]) -> None:
        """``set_runs`` with rows from ``run_rows.prepare_rows``, built off the GUI thread.

        The model owns them from here on (they must not be shared with another model).
        """
        self.beginResetModel()
        self._by_id = {row.run_id: row for row in rows}
        # (ids are unique: the store lists a copied run folder as unreadable, under its folder's name)
        self._base = list(rows) if len(self._by_id) == len(rows) else None
        self._rows = self._arranged() or []
        self.endResetModel()
        self.countsChanged.emit()
        self._warm = list(self._by_id.values())
        self._warm_timer.start()

    @Slot()
    def _on_warm(self) -> None:
        batch, self._warm = self._warm[-500:], self._warm[:-500]
        try:
            for row in batch:
                row.search  # noqa: B018 (builds and caches it)
                row.params, row.metrics  # noqa: B018 (the run index builds a run's dicts on first read)
        except Exception:  # only a head start: a row that cannot be warmed is built when asked
            override_failed("RunsTableModel._on_warm")
        if not self._warm:
            self._warm_timer.stop()

    def upsert(self, runs: Iterable[AnyRun]) -> None:
        """Runs that appeared or changed on disk: insert rows or update them in place."""
        changed: list[Row] = []
        for run in runs:
            run_id = run.run_id if isinstance(run, UnreadableRun) else run.info.run_id
            row = self._by_id.get(run_id)
            if row is None:
                self._by_id[run_id] = Row(run)
            else:
                row.update(run)
                changed.append(row)
        self._base = None
        self._apply(self._arranged())
        self._emit_changed(changed)
        self.countsChanged.emit()

    def remove(self, run_ids: Iterable[str]) -> None:
        removed = [self._by_id.pop(run_id) for run_id in run_ids if run_id in self._by_id]
        if removed:
            self._base = None
            self._apply(self._arranged())
            self.countsChanged.emit()

    def set_filter(self, row_filter: RowFilter) -> None:
        self._filter = row_filter
        self._apply(self._arranged())
        self.countsChanged.emit()

    def set_sort(self, key: str | None, descending: bool = False) -> None:
        if (key, descending) == (self._sort_key, self._descending):
            return  # QTableView.sortByColumn asks twice; rows are kept sorted anyway
        self._sort_key, self._descending = key, descending
        self._apply(self._arranged())

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

    def is_filtering(self) -> bool:
        """Whether a long filter pass is still going on (the rows shown are the previous ones)."""
        return self._filtering is not None

    def _arranged(self) -> list[Row] | None:
        """The visible rows in display order; None when filtering takes longer than a slice of
        time: the rest of the pass then runs from the event loop and applies its rows itself."""
        if self._base is None:
            self._base = base_order(self._by_id.values())
        if self._filtering is not None and self._filtering_with is self._filter:
            # Runs changed (or the sort) during a long pass of the same filter: it finishes
            # and applies its rows first, so live updates cannot keep restarting it; then the
            # changed rows get a pass of their own.
            self._rerun = self._rerun or self._values is None or self._values.items is not self._base
            return None
        self._filtering = None
        self._filter_timer.stop()
        if self._filter.is_empty:
            return self._sorted(self._base)
        # The filter reads field values from columns kept while the base rows stay the same
        # list (every change to rows replaces it), so a keystroke touches no row's dicts.
        if self._values is None or self._values.items is not self._base:
            self._values = ValueColumns(self._base, "row")
        selection = SlicedSelection(self._filter.select_in_slices(self._values))
        visible = selection.run(FILTER_SLICE_SECONDS)
        if visible is None:
            self._filtering, self._filtering_with, self._rerun = selection, self._filter, False
            self._filter_timer.start()
            return None
        return self._sorted(visible)

    def _sorted(self, visible: list[Row]) -> list[Row]:
        column = column_for(self._sort_key) if self._sort_key in self.column_keys() else None
        return arrange(visible, None, column, self._descending)

    @Slot()
    def _on_filter_slice(self) -> None:
        selection = self._filtering
        if selection is None:
            self._filter_timer.stop()
            return
        try:
            visible = selection.run(FILTER_SLICE_SECONDS)
        except Exception:  # a filter that fails part-way shows what it had; never raise into Qt
            override_failed("RunsTableModel._on_filter_slice")
            visible = []
        if visible is None:
            return
        self._filtering = None
        self._filter_timer.stop()
        if self._rerun:
            self._rerun = False
            live = self._by_id
            self._apply(self._sorted([row for row in visible if live.get(row.run_id) is row]))
            self._apply(self._arranged())  # the rows that changed meanwhile
        else:
            self._apply(self._sorted(visible))
        self.countsChanged.emit()

    def _emit_changed(self, rows: list[Row]) -> None:
        if not rows or not self._rows:
            return
        wanted = set(rows)
        positions = [i for i, row in enumerate(self._rows) if row in wanted]
        if positions:
            last = len(self._columns) - 1
            self.dataChanged.emit(self.index(positions[0], 0), self.index(positions[-1], last))

    def _apply(self, target: list[Row] | None) -> None:
        """Turn the visible rows into ``target`` keeping persistent indexes (selections) valid
        (None: a filter pass is still going on, and applies its rows when it is done)."""
        if target is None:
            return
        old = self._rows
        if len(old) == len(target) and all(map(operator.is_, old, target)):
            return
        # A keystroke in the filter box usually scatters its changes over hundreds of ranges:
        # missing_ranges gives up after the limit, a few dozen rows in, instead of visiting all 10,000
        # (~3 ms on this machine: every row is a cache miss). Only when the change is a few
        # ranges are the kept rows compared.
        new_set = set(target)
        removed = missing_ranges(old, new_set, _FINE_GRAINED_LIMIT)
        if removed is not None:
            old_set = set(old)
            inserted = missing_ranges(target, old_set, _FINE_GRAINED_LIMIT - len(removed))
            if inserted is not None and all(map(operator.is_, filter(new_set.__contains__, old),
                                                filter(old_set.__contains__, target))):
                for start, end in reversed(removed):
                    self.beginRemoveRows(QModelIndex(), start, end)
                    del self._rows[start:end + 1]
                    self.endRemoveRows()
                for start, end in inserted:
                    self.beginInsertRows(QModelIndex(), start, end)
                    self._rows[start:start] = target[start:end + 1]
                    self.endInsertRows()
                return
        self._relayout(target)

    def _relayout(self, target: list[Row]) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self._rows
        persistent = self.persistentIndexList()
        position = {row: i for i, row in enumerate(target)} if persistent else {}
        moved = []
        for index in persistent:
            i = index.row()
            j = position.get(old[i]) if 0 <= i < len(old) else None
            moved.append(self.createIndex(j, index.column()) if j is not None else QModelIndex())
        self._rows = list(target)
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
