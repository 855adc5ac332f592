"""``RunsTable``: the runs table's view, whose first columns (status and Name) stay in view
when it is scrolled sideways.

Qt's "frozen column" technique: a second ``QTableView`` over the same model and selection
model lies over the left edge, showing only those columns, scrolling with the table up and
down. It is shown only while the table is scrolled sideways (unscrolled, the table's own
columns are in that place), so it costs nothing most of the time. Its header sorts like the
table's, and its clicks, menus and disclosure marks are the table's.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.common.table_look import platform_sort_arrows
from app.runs import nesting
from app.shell.errors import override_failed

# Room on both sides of each cell's text, so a right-aligned number (Duration) and the
# left-aligned text of the next column (User) never touch.
CELL_PADDING = "QTableView::item { padding-left: 5px; padding-right: 7px; }"


def mark_row(view: QTableView, pos: QPoint) -> int:
    """The row whose disclosure mark (▾/▸ before a parent run's name, or its swatch) is at
    ``pos`` of ``view``'s viewport; -1 when there is none."""
    index = view.indexAt(pos)
    model = view.model()
    if not index.isValid() or not hasattr(model, "has_children_at") or not model.has_children_at(index.row()):
        return -1
    if index.column() != model.column_index("name"):
        return -1
    text = index.data() or ""
    ends = [text.find(mark) for mark in (nesting.EXPANDED_TEXT, nesting.COLLAPSED_TEXT)]
    end = max(ends)
    if end < 0:
        return -1
    rect = view.visualRect(index)
    icon = view.iconSize().width() if view.iconSize().isValid() else view.style().pixelMetric(
        view.style().PixelMetric.PM_SmallIconSize)
    reach = rect.left() + icon + 10 + view.fontMetrics().horizontalAdvance(text[:end + 2]) + 4
    return index.row() if pos.x() <= reach else -1


class _FrozenView(QTableView):
    """The columns that stay; a press on a disclosure mark is the table's."""

    def __init__(self, table: "RunsTable") -> None:
        super().__init__(table)
        self._table = table

    def mousePressEvent(self, event: Any) -> None:
        try:
            row = mark_row(self, event.position().toPoint())
            super().mousePressEvent(event)
            self._table.setFocus(Qt.FocusReason.MouseFocusReason)  # the keys go on in the table
            if row >= 0:
                self._table.markClicked.emit(row)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FrozenView.mousePressEvent")


class RunsTable(QTableView):
    """A QTableView whose columns up to ``frozen_key`` stay at the left edge; emits
    ``markClicked(row)`` when a parent run's disclosure mark is clicked."""

    markClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, frozen_key: str = "name") -> None:
        super().__init__(parent)
        self._frozen_key = frozen_key
        self._last_scroll = 0  # the sideways position before the last move (which way it went)
        self._snapping = False
        self.setStyleSheet(CELL_PADDING)
        # A scroll bar that came and went as a filter was typed (a few runs fit, then many do
        # not) narrowed the viewport and laid out and painted the whole table a second time,
        # after the first paint of each keystroke; the columns also jumped sideways by its width.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        frozen = self.frozen = _FrozenView(self)
        frozen.setObjectName("runsTableFrozen")
        frozen.setAccessibleName("Runs (names)")
        frozen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        frozen.verticalHeader().hide()
        frozen.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        frozen.horizontalHeader().setHighlightSections(False)
        frozen.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        frozen.horizontalHeader().setSortIndicatorShown(True)
        frozen.horizontalHeader().setSectionsClickable(True)
        frozen.horizontalHeader().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        frozen.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        frozen.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        frozen.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        frozen.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        frozen.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        frozen.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        frozen.setAlternatingRowColors(True)
        frozen.setShowGrid(False)
        frozen.setWordWrap(False)
        frozen.setTextElideMode(Qt.TextElideMode.ElideRight)
        frozen.setFrameShape(QTableView.Shape.NoFrame)
        frozen.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        platform_sort_arrows(frozen.horizontalHeader())
        frozen.hide()
        self.viewport().stackUnder(frozen)

        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled_sideways)
        self.horizontalScrollBar().sliderReleased.connect(self._on_slider_released)
        self.horizontalScrollBar().rangeChanged.connect(self._on_scroll_range)
        self.verticalScrollBar().valueChanged.connect(frozen.verticalScrollBar().setValue)
        frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.horizontalHeader().sectionResized.connect(self._on_section_resized)
        self.horizontalHeader().sortIndicatorChanged.connect(self._on_sort_indicator)
        frozen.horizontalHeader().sortIndicatorChanged.connect(self._on_frozen_sort_indicator)
        frozen.horizontalHeader().customContextMenuRequested.connect(
            self.horizontalHeader().customContextMenuRequested)
        frozen.customContextMenuRequested.connect(self.customContextMenuRequested)
        frozen.doubleClicked.connect(self.doubleClicked)

    # ---- following the table ----------------------------------------------------------------

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        self.frozen.setModel(model)
        self.frozen.setSelectionModel(self.selectionModel())
        for signal in (model.columnsInserted, model.columnsRemoved):
            signal.connect(self._on_columns_changed)
        model.modelReset.connect(self.sync_frozen)
        if hasattr(model, "arranged"):
            model.arranged.connect(self._on_arranged)
        self.sync_frozen()

    @Slot()
    def _on_arranged(self) -> None:
        """Rows moved, came or went: lay out now. Qt lays a view out on a zero-interval timer after
        its rows change, which ran after the paint the change had asked for, and repainted every
        cell again (QAbstractItemView.doItemsLayout updates the whole viewport)."""
        self.executeDelayedItemsLayout()
        self.frozen.executeDelayedItemsLayout()

    def frozen_count(self) -> int:
        """How many of the first columns stay in view (those up to the Name column)."""
        model = self.model()
        try:
            return model.column_index(self._frozen_key) + 1 if model is not None else 0
        except (AttributeError, ValueError):
            return 0

    def frozen_width(self) -> int:
        return sum(self.columnWidth(c) for c in range(self.frozen_count()) if not self.isColumnHidden(c))

    @Slot(QModelIndex, int, int)
    def _on_columns_changed(self, parent: QModelIndex, first: int, last: int) -> None:
        self.sync_frozen()

    @Slot()
    def sync_frozen(self) -> None:
        """Show in the overlay the columns that stay, as wide and as hidden as the table's own."""
        frozen, model = self.frozen, self.model()
        if model is None:
            return
        count = self.frozen_count()
        header = frozen.horizontalHeader()
        for c in range(model.columnCount()):
            frozen.setColumnHidden(c, c >= count or self.isColumnHidden(c))
            if c < count:
                header.resizeSection(c, self.columnWidth(c))
        frozen.verticalHeader().setDefaultSectionSize(self.verticalHeader().defaultSectionSize())
        frozen.setIconSize(self.iconSize())
        main = self.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(main.sortIndicatorSection(), main.sortIndicatorOrder())
        header.blockSignals(False)
        self._place()

    def setColumnHidden(self, column: int, hide: bool) -> None:
        super().setColumnHidden(column, hide)
        if column < self.frozen_count():
            self.frozen.setColumnHidden(column, hide)
            self._place()

    def _place(self) -> None:
        """Lay the overlay over the table's left edge, header included; shown only while scrolled."""
        frozen = getattr(self, "frozen", None)  # (QTableView lays itself out before __init__ makes it)
        if frozen is None:
            return
        width = self.frozen_width()
        scrolled = self.horizontalScrollBar().value() > 0
        frozen.setGeometry(self.verticalHeader().width() + self.frameWidth(), self.frameWidth(), width,
                           self.viewport().height() + self.horizontalHeader().height())
        frozen.setVisible(scrolled and width > 0 and self.model() is not None)
        if frozen.isVisible():
            frozen.verticalScrollBar().setValue(self.verticalScrollBar().value())

    @Slot(int)
    def _on_scrolled_sideways(self, value: int) -> None:
        self._place()
        if not self._snapping and not self.horizontalScrollBar().isSliderDown():
            self._snap(forward=value >= self._last_scroll)
        self._last_scroll = self.horizontalScrollBar().value()

    @Slot()
    def _on_slider_released(self) -> None:
        self._snap(forward=True)

    def _snap(self, forward: bool) -> None:
        """Never leave a column cut by the overlay's edge (a value missing its first digits reads
        as another number): going right, it goes under the overlay; going left, it comes out."""
        bar = self.horizontalScrollBar()
        edge = self.frozen_width()
        column = self.columnAt(edge)
        if bar.value() <= 0 or column < self.frozen_count():
            return
        left = self.columnViewportPosition(column)
        if left >= edge:
            return
        step = left + self.columnWidth(column) - edge if forward else left - edge
        if bar.value() + step > bar.maximum():  # (at the right end: bring it out instead)
            step = left - edge
        self._snapping = True
        try:
            bar.setValue(max(0, min(bar.maximum(), bar.value() + step)))
        finally:
            self._snapping = False

    @Slot(int, int)
    def _on_scroll_range(self, low: int, high: int) -> None:
        self._place()

    @Slot(int, int, int)
    def _on_section_resized(self, index: int, old: int, new: int) -> None:
        if index < self.frozen_count():
            self.frozen.horizontalHeader().resizeSection(index, new)
            self._place()

    @Slot(int, Qt.SortOrder)
    def _on_sort_indicator(self, section: int, order: Qt.SortOrder) -> None:
        header = self.frozen.horizontalHeader()
        header.blockSignals(True)  # (its own change would sort again)
        header.setSortIndicator(section, order)
        header.blockSignals(False)

    @Slot(int, Qt.SortOrder)
    def _on_frozen_sort_indicator(self, section: int, order: Qt.SortOrder) -> None:
        main = self.horizontalHeader()
        if (main.sortIndicatorSection(), main.sortIndicatorOrder()) != (section, order):
            self.sortByColumn(section, order)

    # ---- overrides --------------------------------------------------------------------------

    def resizeEvent(self, event: Any) -> None:
        try:
            super().resizeEvent(event)
            self._place()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTable.resizeEvent")

    def updateGeometries(self) -> None:
        try:
            super().updateGeometries()
            self._place()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTable.updateGeometries")

    def mousePressEvent(self, event: Any) -> None:
        try:
            row = mark_row(self, event.position().toPoint())
            super().mousePressEvent(event)
            if row >= 0:
                self.markClicked.emit(row)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTable.mousePressEvent")

    def scrollTo(self, index: QModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        try:
            bar = self.horizontalScrollBar()
            before = bar.value()
            super().scrollTo(index, hint)
            if not index.isValid():
                return
            if index.column() < self.frozen_count():
                bar.setValue(before)  # it is in view already, in the overlay
            elif bar.value() > 0:
                hidden = self.frozen_width() - self.visualRect(index).left()
                if hidden > 0:  # under the overlay: bring it out
                    bar.setValue(max(0, bar.value() - hidden))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("RunsTable.scrollTo")
