"""The runs the compare view's brushes keep, shown in the runs table, and selected from there.

``BrushedRows`` is a see-through layer over the runs table's rows (mouse events pass through)
that tints the rows of the brushed runs and marks their left edge, over the selection's
colours too; it paints only the rows in view, so 10,000 rows cost what 30 do.
``select_runs(table_view, run_ids)`` selects exactly those runs' rows.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QObject, Qt, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QTableView, QWidget

from app.shell.errors import override_failed

MARK = QColor("#f0a020")  # amber: apart from the selection's blue and the runs' own colours
EDGE = 4  # pixels of solid mark at the row's left edge


class BrushedRows(QWidget):
    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.setObjectName("runsBrushedRows")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._table = table
        self._ids: frozenset[str] = frozenset()
        table.installEventFilter(self)
        table.verticalScrollBar().valueChanged.connect(self._refresh)
        model = table.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._refresh)
        self.hide()

    @Slot(list)
    def set_run_ids(self, run_ids: list) -> None:
        self._ids = frozenset(run_ids)
        self.setVisible(bool(self._ids))
        self._refresh()

    @Slot(list)
    def select(self, run_ids: list) -> None:
        """Select these runs in the table (the compare view's "Select in runs table")."""
        select_runs(self._table, run_ids)

    def run_ids(self) -> frozenset[str]:
        return self._ids

    def highlighted_rows(self) -> list[int]:
        """The table rows marked, in order (rows of runs the table does not show are not)."""
        model = self._table.model()
        rows = (model.row_of(rid) for rid in self._ids)
        return sorted(r for r in rows if r is not None)

    @Slot()
    def _refresh(self) -> None:
        if self._ids:
            self.setGeometry(self._table.viewport().geometry())
            self.raise_()
            self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest, QEvent.Type.Show):
                self._refresh()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("BrushedRows.eventFilter")
        return False

    def paintEvent(self, event) -> None:
        try:
            self._paint()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("BrushedRows.paintEvent")

    def _paint(self) -> None:
        table, model = self._table, self._table.model()
        first = table.rowAt(0)
        if first < 0 or not self._ids:
            return
        last = table.rowAt(self.height() - 1)
        last = model.rowCount() - 1 if last < 0 else last
        fill = QColor(MARK)
        fill.setAlpha(48)
        painter = QPainter(self)
        for row in range(first, last + 1):
            if model.run_id_at(row) not in self._ids:
                continue
            y, h = table.rowViewportPosition(row), table.rowHeight(row)
            painter.fillRect(0, y, self.width(), h, fill)
            painter.fillRect(0, y, EDGE, h, MARK)
        painter.end()


def select_runs(table: QTableView, run_ids: list[str]) -> int:
    """Select the rows of ``run_ids`` (and only them) in the runs table; returns how many."""
    model = table.model()
    rows = sorted(r for r in (model.row_of(rid) for rid in run_ids) if r is not None)
    if not rows:
        return 0
    selection = QItemSelection()
    last_column = model.columnCount() - 1
    start = previous = rows[0]
    for row in rows[1:] + [None]:  # contiguous rows as one range: 1,000 rows select at once
        if row is not None and row == previous + 1:
            previous = row
            continue
        selection.select(model.index(start, 0), model.index(previous, last_column))
        if row is not None:
            start = previous = row
    flags = QItemSelectionModel.SelectionFlag
    table.selectionModel().setCurrentIndex(model.index(rows[0], 0), flags.NoUpdate)
    table.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
    table.scrollTo(model.index(rows[0], 0))
    return len(rows)


__all__ = ["BrushedRows", "select_runs"]
