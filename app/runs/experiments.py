"""The experiments list: "All runs" on top, then each experiment with its run count, and
"Deleted" below them (with the number of runs in the trash) while the trash holds any."""
from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import (
    QAbstractListModel, QItemSelectionModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt,
    Signal, Slot,
)
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QLabel, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from app.shell.errors import override_failed, variant_safe

ALL_RUNS = "All runs"
COUNT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
NAME_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # None for "All runs" (and "Deleted")
DELETED_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # True for "Deleted"
DELETED = "Deleted"


class ExperimentsModel(QAbstractListModel):
    """Row 0 is "All runs"; then experiments as (name, run count), in the order given; then
"Deleted" when the trash holds runs."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._total = 0
        self._items: list[tuple[str, int]] = []
        self._deleted = 0  # runs in the trash

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else 1 + len(self._items) + (1 if self._deleted else 0)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ExperimentsModel.rowCount")
            return 0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        try:
            return variant_safe(self._data(index, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ExperimentsModel.data")
            return None

    def _data(self, index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
        if index.isValid() and self._deleted and index.row() == len(self._items) + 1:
            return self._deleted_data(role)
        if not index.isValid() or not 0 <= index.row() <= len(self._items):
            return None
        name, count = (None, self._total) if index.row() == 0 else self._items[index.row() - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return ALL_RUNS if name is None else name
        if role == Qt.ItemDataRole.ToolTipRole:
            what = "run" if count == 1 else "runs"
            return f"{ALL_RUNS if name is None else name}: {count:,} {what}"
        if role == COUNT_ROLE:
            return count
        if role == NAME_ROLE:
            return name
        return None

    def _deleted_data(self, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return DELETED
        if role == Qt.ItemDataRole.ToolTipRole:
            what = "run" if self._deleted == 1 else "runs"
            return f"{self._deleted:,} deleted {what}, kept until “tracker gc”: select to see or restore them"
        if role == COUNT_ROLE:
            return self._deleted
        return True if role == DELETED_ROLE else None

    def deleted_row(self) -> int:
        """The row of "Deleted" (-1 while the trash is empty)."""
        return len(self._items) + 1 if self._deleted else -1

    def set_deleted(self, count: int) -> None:
        """The number of runs in the trash ("Deleted" shows while there are any)."""
        row = len(self._items) + 1
        if bool(count) != bool(self._deleted):
            if count:
                self.beginInsertRows(QModelIndex(), row, row)
                self._deleted = count
                self.endInsertRows()
            else:
                self.beginRemoveRows(QModelIndex(), row, row)
                self._deleted = 0
                self.endRemoveRows()
        elif count != self._deleted:
            self._deleted = count
            self.dataChanged.emit(self.index(row), self.index(row))

    def set_experiments(self, experiments: Iterable[tuple[str, int]], total: int) -> None:
        items = list(experiments)
        if [n for n, _ in items] == [n for n, _ in self._items]:
            self._items, self._total = items, total  # same names: only counts change
            self.dataChanged.emit(self.index(0), self.index(len(items)))
            return
        self.beginResetModel()
        self._items, self._total = items, total
        self.endResetModel()

    def row_of(self, name: str | None) -> int:
        if name is None:
            return 0
        for i, (n, _) in enumerate(self._items, 1):
            if n == name:
                return i
        return -1

    def names(self) -> list[str]:
        return [n for n, _ in self._items]


class _CountDelegate(QStyledItemDelegate):
    """The name on the left, the run count right-aligned in a muted color."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        try:
            self._paint(painter, option, index)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ExperimentList paint")

    def _paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if index.data(DELETED_ROLE):  # set apart from the experiments by a rule above it
            painter.save()
            painter.setPen(option.palette.color(QPalette.ColorRole.Mid))
            painter.drawLine(option.rect.left() + 8, option.rect.top(), option.rect.right() - 8, option.rect.top())
            painter.restore()
        count = index.data(COUNT_ROLE)
        text = f"{count:,}" if count is not None else ""
        metrics = option.fontMetrics
        width = metrics.horizontalAdvance(text) + 12
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        if index.row() == 0:
            opt.font.setBold(True)
        # Draw the item (background, name) with room kept for the count.
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = (QPalette.ColorGroup.Active if option.state & QStyle.StateFlag.State_Active
                 else QPalette.ColorGroup.Inactive)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect = option.rect.adjusted(8, 0, -8, 0)
        name_rect = QRect(rect.left(), rect.top(), rect.width() - width, rect.height())
        painter.save()
        try:  # restored whatever happens
            painter.setFont(opt.font)
            painter.setPen(option.palette.color(group, text_role))
            name = metrics.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "",
                                      Qt.TextElideMode.ElideRight, name_rect.width())
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            muted = option.palette.color(group, text_role if selected else QPalette.ColorRole.PlaceholderText)
            painter.setPen(muted)
            painter.setFont(option.font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        finally:
            painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        try:
            size = super().sizeHint(option, index)
            return QSize(size.width() + 40, max(size.height(), option.fontMetrics.height() + 12))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ExperimentList sizeHint")
            return QSize(150, 24)


class ExperimentList(QListView):
    """Emits ``experimentSelected(name)``, with None for "All runs"; ``deletedSelected(shown)``
    when "Deleted" is chosen or left (the experiment chosen before stays the runs table's)."""

    experimentSelected = Signal(object)
    deletedSelected = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentList")
        self.setAccessibleName("Experiments")
        self.setAccessibleDescription("Select an experiment to show only its runs")
        self.experiments_model = ExperimentsModel(self)
        self.setModel(self.experiments_model)
        self.setItemDelegate(_CountDelegate(self))
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.setMinimumWidth(150)
        self._current: str | None = None
        self._deleted_shown = False
        self.selectionModel().currentChanged.connect(self._on_current_changed)
        self.setCurrentIndex(self.experiments_model.index(0))

    def set_experiments(self, experiments: Iterable[tuple[str, int]], total: int) -> None:
        """Update names and counts, keeping the selected experiment when it still exists."""
        keep = self._current
        self.experiments_model.set_experiments(experiments, total)
        row = self.experiments_model.row_of(keep)
        if self._deleted_shown and self.experiments_model.deleted_row() >= 0:
            self._current = keep if row >= 0 else None
            self.show_deleted()
            return
        self.select(keep if row >= 0 else None)

    def set_deleted_count(self, count: int) -> None:
        """Runs in the trash: "Deleted" shows while there are any (leaving it for "All runs" when none are left)."""
        if not count and self._deleted_shown:
            self.select(self._current)  # back to the runs chosen before, before "Deleted" goes
        self.experiments_model.set_deleted(count)

    def is_deleted_shown(self) -> bool:
        return self._deleted_shown

    def show_deleted(self) -> bool:
        """Choose "Deleted"; False while the trash is empty."""
        row = self.experiments_model.deleted_row()
        if row < 0:
            return False
        index = self.experiments_model.index(row)
        if self.currentIndex() != index or not self.selectionModel().isSelected(index):
            self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._set_deleted(True)
        return True

    def current_experiment(self) -> str | None:
        return self._current

    def select(self, name: str | None) -> None:
        row = max(0, self.experiments_model.row_of(name))
        index = self.experiments_model.index(row)
        if self.currentIndex() != index:
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        elif not self.selectionModel().isSelected(index):
            self.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._set_deleted(False)
        self._set_current(index.data(NAME_ROLE))

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid() and current.data(DELETED_ROLE):
            self._set_deleted(True)
            return
        self._set_deleted(False)
        self._set_current(current.data(NAME_ROLE) if current.isValid() else None)

    def _set_deleted(self, shown: bool) -> None:
        if shown != self._deleted_shown:
            self._deleted_shown = shown
            self.deletedSelected.emit(shown)

    def _set_current(self, name: str | None) -> None:
        if name != self._current:
            self._current = name
            self.experimentSelected.emit(name)


class ExperimentsPanel(QWidget):
    """A small heading over the ``ExperimentList`` (``self.list``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        heading = QLabel("EXPERIMENTS", self)
        heading.setObjectName("panelHeading")
        self.list = ExperimentList(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(heading)
        layout.addWidget(self.list, 1)
