"""Fitting a small table's columns to its width: ``ColumnFit(view, floors, shrink_order)``.

Every column gets the width its header and cells need. When the table is narrower than that,
the columns of ``shrink_order`` give way in turn, each down to its floor (their cells are cut
with "…" and shown whole on hover, see ``delegates.ElidingDelegate``); the other columns
(a version number, a stage, a time) keep their width and are never cut. The last column takes
what is left. When even the floors do not fit, the table scrolls sideways.

The fit runs again when the table is resized and when its rows change; a column the user
drags keeps its width until then.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QTableView

from app.shell.errors import override_failed


class ColumnFit(QObject):
    """``floors``: column -> the narrowest it may get, in characters of the table's font (its
    header's text is never cut below that either); ``caps``: column -> the widest it gets, so
    one long value does not take the room of the columns after it. ``fitted`` follows a fit
    that changed a width (the table may have lost or gained its sideways scroll bar)."""

    fitted = Signal()

    def __init__(self, view: QTableView, floors: dict[int, int], shrink_order: Sequence[int],
                 caps: dict[int, int] | None = None) -> None:
        super().__init__(view)
        self.view = view
        self.floors = dict(floors)
        self.caps = dict(caps or {})
        self.shrink_order = list(shrink_order)
        self._timer = QTimer(self)  # rows arrive in bursts (reset, then data): one fit after them
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged,
                       model.layoutChanged):
            signal.connect(self.schedule)

    def natural_widths(self) -> list[int]:
        """Per column, the width its header and every shown cell need."""
        view, header = self.view, self.view.horizontalHeader()
        rows = view.model().rowCount()
        em = view.fontMetrics().averageCharWidth()
        widths = [max(header.sectionSizeHint(c), view.sizeHintForColumn(c) if rows else 0)
                  for c in range(header.count())]
        return [min(w, self.caps[c] * em) if c in self.caps else w for c, w in enumerate(widths)]

    def floor_width(self, column: int, natural: int) -> int:
        chars = self.floors.get(column)
        if chars is None:
            return natural
        metrics = self.view.fontMetrics()
        header_text = str(self.view.model().headerData(column, self.view.horizontalHeader().orientation()) or "")
        floor = max(metrics.horizontalAdvance("n" * chars + "…"), metrics.horizontalAdvance(header_text)) + 14
        return min(natural, floor)

    def needed_width(self, floored: Sequence[int] | None = None) -> int:
        """The table's width (frame included) with the columns of ``floored`` (default: every
        column that may shrink) at their floors and the others at their natural widths."""
        floored = self.shrink_order if floored is None else floored
        natural = self.natural_widths()
        return (sum(self.floor_width(c, w) if c in floored else w for c, w in enumerate(natural))
                + 2 * self.view.frameWidth() + 2)

    def widths(self, available: int) -> list[int]:
        natural = self.natural_widths()
        widths = list(natural)
        excess = sum(widths) - available
        for column in self.shrink_order:
            if excess <= 0:
                break
            give = min(excess, widths[column] - self.floor_width(column, natural[column]))
            if give > 0:
                widths[column] -= give
                excess -= give
        last = len(widths) - 1
        if last >= 0:
            widths[last] = max(widths[last] - excess, self.floor_width(last, natural[last])) if excess > 0 \
                else widths[last] - excess  # the last column takes what is left
        return widths

    @Slot()
    def fit(self) -> None:
        view = self.view
        header = view.horizontalHeader()
        if header.count() == 0:
            return
        widths = self.widths(view.viewport().width())
        stretch = sum(widths) <= view.viewport().width()
        before = [header.sectionSize(c) for c in range(header.count())], header.stretchLastSection()
        header.setStretchLastSection(False)
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        header.setStretchLastSection(stretch)
        if ([header.sectionSize(c) for c in range(header.count())], stretch) != before:
            self.fitted.emit()

    @Slot()
    def schedule(self) -> None:
        """Fit once the events being handled are done."""
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
                self.schedule()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ColumnFit.eventFilter")
        return False
