"""The diff table of the compare view: the selected runs' params, metrics and tags side by side.

Rows where the runs differ are tinted (and can be the only ones shown); each metric's best
value carries a star. Right-click a metric to flip whether its lowest or highest value is
best; the choice is kept in the settings.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QTableView, QVBoxLayout, QWidget,
)

from tracker.entities import Run

from .compare_model import HEADER, MAX, METRIC, MIN, CompareTableModel, DifferingRowsProxy


class DiffTable(QWidget):
    def __init__(self, parent: QWidget | None, settings: QSettings) -> None:
        super().__init__(parent)
        self.setObjectName("compareDiff")
        self._qsettings = settings
        self._selected = 0
        self._shown = 0
        self.model = CompareTableModel(self)
        self.proxy = DifferingRowsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setObjectName("compareTable")
        self.table.setAccessibleName("Params, metrics and tags of the selected runs")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_menu)
        for signal in (self.proxy.modelReset, self.proxy.layoutChanged, self.proxy.rowsInserted,
                       self.proxy.rowsRemoved):
            signal.connect(self.update_spans)
        self.only_differing = QCheckBox("Only rows where runs differ", self)
        self.only_differing.setObjectName("compareOnlyDiffering")
        self.only_differing.setAccessibleName("Show only the rows where the runs differ")
        self.only_differing.setChecked(_bool(settings.value("compare/only_differing", False)))
        self.proxy.set_only_differing(self.only_differing.isChecked())
        self.only_differing.toggled.connect(self._on_only_differing)
        self.note = QLabel(self)
        self.note.setEnabled(False)
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.only_differing)
        top.addWidget(self.note)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_runs(self, runs: list[Run], selected: int) -> None:
        """Compare ``runs`` (the first ones of ``selected`` selected runs)."""
        self._selected, self._shown = selected, len(runs)
        metrics = {k for r in runs for k in r.data.metrics}
        for metric in metrics:
            chosen = self._qsettings.value(f"compare/best/{metric}")
            if chosen in (MIN, MAX):
                self.model.directions[metric] = chosen
        self.model.set_runs(runs)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Each column as wide as its texts, within bounds. Measured here from the texts rather
        than by resizeColumnsToContents, which asks the model for every role of every cell
        (1.3 s for 100 runs)."""
        model, plain, bold = self.model, self.fontMetrics(), QFontMetrics(self.model._bold)
        display = Qt.ItemDataRole.DisplayRole
        pad = 2 * self.style().pixelMetric(self.style().PixelMetric.PM_FocusFrameHMargin) + 16
        for col in range(model.columnCount()):
            header = str(model.headerData(col, Qt.Orientation.Horizontal, display) or "")
            widest = plain.horizontalAdvance(header) + (22 if col else 0)  # the swatch
            for row in range(len(model.rows)):
                if model.rows[row].kind == HEADER:
                    continue
                text = model.data(model.index(row, col), display)
                widest = max(widest, bold.horizontalAdvance(str(text or "")))
            low, high = (120, 260) if col == 0 else (90, 220)
            self.table.setColumnWidth(col, min(max(widest + pad, low), high))

    def set_direction(self, metric: str, direction: str) -> None:
        """Whether ``metric``'s lowest (``"min"``) or highest (``"max"``) value is marked best; kept."""
        self._qsettings.setValue(f"compare/best/{metric}", direction)
        self.model.set_direction(metric, direction)

    def wanted_height(self) -> int:
        rows = self.table.verticalHeader().length() + self.table.horizontalHeader().height()
        wanted = rows + self.only_differing.sizeHint().height() + 16
        if self.table.horizontalScrollBar().isVisible() or self.table.horizontalHeader().length() > self.table.width():
            wanted += self.table.horizontalScrollBar().sizeHint().height()
        return wanted

    @Slot()
    def update_spans(self) -> None:
        self.table.clearSpans()
        columns = self.model.columnCount()
        hidden = 0
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0)).row()
            if self.model.row(source).kind == HEADER and columns > 1:
                self.table.setSpan(row, 0, 1, columns)
        if self.proxy.only_differing and self._shown > 1:
            hidden = sum(1 for r in self.model.rows if r.kind != HEADER and not r.differs)
        notes = [f"{hidden} equal row{'s' if hidden != 1 else ''} hidden"] if hidden else []
        if self._selected > self._shown:
            notes.append(f"comparing the first {self._shown} of {self._selected:,} runs")
        self.note.setText("; ".join(notes))

    @Slot(bool)
    def _on_only_differing(self, on: bool) -> None:
        self._qsettings.setValue("compare/only_differing", on)
        self.proxy.set_only_differing(on)

    def direction_menu(self, metric: str) -> QMenu:
        """The menu a metric's row opens: which of its values is the best."""
        menu = QMenu(self)
        current = self.model.direction(metric)
        for direction, text in ((MIN, f"Best {metric}: the lowest"), (MAX, f"Best {metric}: the highest")):
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setChecked(current == direction)
            action.triggered.connect(lambda _=False, d=direction: self.set_direction(metric, d))
            menu.addAction(action)
        return menu

    @Slot(QPoint)
    def _on_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        row = self.model.row(self.proxy.mapToSource(index).row())
        if row.kind == METRIC:
            self.direction_menu(row.key).exec(self.table.viewport().mapToGlobal(pos))


def _bool(value) -> bool:
    return value.strip().lower() in ("1", "true", "yes") if isinstance(value, str) else bool(value)


__all__ = ["DiffTable"]
