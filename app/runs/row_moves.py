"""How the runs table model's rows change without a reset: insert/remove ranges when the change
is a few of them, else one ``layoutChanged`` with every persistent index (a selection, the
current run) moved to its run's new place. A mixin of ``RunsTableModel``, which holds
``_table``, ``_visible`` (table rows in display order) and ``_depth`` (each row's nesting
shape, ``app.runs.nesting``).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QModelIndex

from app.runs.position_ranges import array_ranges

_FINE_GRAINED_LIMIT = 24  # more insert/remove ranges than this: one layout change instead


class RowMoves:
    """``_apply(target, shape)``: make the visible rows ``target``; ``_emit_changed``: repaint runs.
    The model declares ``arranged``, a signal emitted once after each pass of row signals."""

    def _emit_changed(self, changed: Iterable[str] | np.ndarray) -> None:
        if not len(self._visible):
            return
        if not isinstance(changed, np.ndarray):
            found = [self._table.position(r) for r in changed]
            changed = np.array([i for i in found if i is not None], dtype=np.int64)
        if not len(changed):
            return
        self.row_of("")  # (makes the table row -> visible position lookup)
        rows = self._shown_at[changed]
        rows = rows[rows >= 0]
        if len(rows):
            self.dataChanged.emit(self.index(int(rows.min()), 0),
                                  self.index(int(rows.max()), len(self._columns) - 1))

    def _apply(self, target: np.ndarray, depth: np.ndarray | None) -> None:
        """Turn the visible rows into ``target`` keeping persistent indexes (selections) valid;
        ``arranged`` follows the row signals, once."""
        self._move_rows(target, depth)
        self.arranged.emit()

    def _move_rows(self, target: np.ndarray, depth: np.ndarray | None) -> None:
        old, n = self._visible, self._table.n
        old_depth = self._depth
        if len(old) == len(target) and np.array_equal(old, target):
            self._depth = depth
            if not _same_depth(old_depth, depth) and len(target):
                name = self.column_keys().index("name")
                self.dataChanged.emit(self.index(0, name), self.index(len(target) - 1, name))
            return
        shown = np.zeros(n + 1, dtype=bool)  # the last slot: a row that is gone (-1)
        shown[target] = True
        removed = ~shown[old]
        kept = old[~removed]
        was_shown = np.zeros(n + 1, dtype=bool)
        was_shown[kept] = True
        inserted = ~was_shown[target]
        removed_ranges = array_ranges(np.flatnonzero(removed), _FINE_GRAINED_LIMIT)
        inserted_ranges = array_ranges(np.flatnonzero(inserted), _FINE_GRAINED_LIMIT)
        if (removed_ranges is not None and inserted_ranges is not None
                and len(removed_ranges) + len(inserted_ranges) <= _FINE_GRAINED_LIMIT
                and np.array_equal(target[~inserted], kept)):
            self._depth = None  # (the name column's indent is settled once the rows are)
            for start, end in reversed(removed_ranges):
                self.beginRemoveRows(QModelIndex(), start, end)
                self._visible = np.concatenate([self._visible[:start], self._visible[end + 1:]])
                self._shown_at = None
                self.endRemoveRows()
            for start, end in inserted_ranges:
                self.beginInsertRows(QModelIndex(), start, end)
                self._visible = np.concatenate([self._visible[:start], target[start:end + 1], self._visible[start:]])
                self._shown_at = None
                self.endInsertRows()
            self._depth = depth
            if depth is not None or old_depth is not None:
                name = self.column_keys().index("name")
                self.dataChanged.emit(self.index(0, name), self.index(len(target) - 1, name))
            return
        self._relayout(target, depth)

    def _relayout(self, target: np.ndarray, depth: np.ndarray | None) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self._visible
        persistent = self.persistentIndexList()
        moved = []
        if persistent:
            position = np.full(self._table.n + 1, -1, dtype=np.int64)
            position[target] = np.arange(len(target))
            for index in persistent:
                i = index.row()
                j = int(position[old[i]]) if 0 <= i < len(old) else -1
                moved.append(self.createIndex(j, index.column()) if j >= 0 else QModelIndex())
        self._visible, self._depth, self._shown_at = target, depth, None
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()


def _same_depth(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and np.array_equal(a, b)
