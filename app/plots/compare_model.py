"""The compare (diff) table: one column per run, one row per param, metric (last value) and tag.

A thin adapter over ``tracker``'s ``Run`` objects. Section rows ("Parameters", "Metrics",
"Tags") head each group; rows where the runs differ are tinted, and ``DifferingRowsProxy``
can hide the others (a run lacking the key counts as differing). Each metric's best value
is marked with a star: the lowest for metrics that read as losses or errors, else the
highest, which ``set_direction`` flips. System tags (``mlflow.*``, ``tracker.*``) are left out.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from app.shell.errors import override_failed, variant_safe
from app.common.formatting import format_number, to_number
from app.runs.colors import swatch_icon
from tracker.entities import Run

from .series_math import natural_key

PARAM, METRIC, TAG, HEADER = "param", "metric", "tag", "header"
MIN, MAX = "min", "max"
BEST_ROLE = Qt.ItemDataRole.UserRole + 1  # True on the cell holding a metric's best value
DIRECTION_ROLE = Qt.ItemDataRole.UserRole + 2  # MIN or MAX on a metric row
STAR = "★"
_LOWER_IS_BETTER = ("loss", "error", "err", "mse", "rmse", "mae", "mape", "perplexity", "ppl",
                    "wer", "cer", "time", "latency", "duration", "seconds", "memory", "regret")
_Index = QModelIndex | QPersistentModelIndex


@dataclass
class _Row:
    kind: str  # PARAM, METRIC or HEADER
    key: str
    values: list  # per run: str for params, float for metrics, None when missing
    section: str = ""  # PARAM, METRIC or TAG (for HEADER rows: the section they head)
    differs: bool = False
    best: int | None = None  # a metric row's column (run index) holding its best value


def default_direction(metric: str) -> str:
    """MIN for names that read as a cost (``val/loss``, ``error_rate``, ``rmse``), else MAX."""
    words = [w for w in re.split(r"[^a-z0-9]+", metric.lower()) if w]
    return MIN if any(w in _LOWER_IS_BETTER for w in words) else MAX


def _system_tag(key: str) -> bool:
    return key.startswith(("mlflow.", "tracker."))

def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class CompareTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.rows: list[_Row] = []
        self.directions: dict[str, str] = {}  # a metric's direction the user chose
        self._bold = QFont()
        self._bold.setBold(True)

    def set_runs(self, runs: list[Run]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.rows = []
        for section, title, getter in ((PARAM, "Parameters", lambda r: r.data.params),
                                       (METRIC, "Metrics", lambda r: r.data.metrics),
                                       (TAG, "Tags", lambda r: {k: v for k, v in r.data.tags.items()
                                                                if not _system_tag(k)})):
            keys = sorted({k for r in self.runs for k in getter(r)}, key=natural_key)
            if not keys:
                continue
            header = _Row(HEADER, title, [], section)
            self.rows.append(header)
            for key in keys:
                values = [getter(r).get(key) for r in self.runs]
                differs = len(self.runs) > 1 and any(not _same(v, values[0]) for v in values[1:])
                header.differs |= differs
                self.rows.append(_Row(section, key, values, section, differs))
        self._mark_best()
        self.endResetModel()

    def direction(self, metric: str) -> str:
        return self.directions.get(metric) or default_direction(metric)

    def set_direction(self, metric: str, direction: str) -> None:
        """Whether the lowest (MIN) or highest (MAX) value of ``metric`` is its best."""
        self.directions[metric] = MIN if direction == MIN else MAX
        self._mark_best()
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.runs)))

    def best_run(self, metric: str) -> str | None:
        """The run id holding the metric's best value, None without one."""
        row = next((r for r in self.rows if r.kind == METRIC and r.key == metric), None)
        return None if row is None or row.best is None else self.runs[row.best].info.run_id

    def _mark_best(self) -> None:
        for row in self.rows:
            if row.kind != METRIC:
                continue
            values = np.array([v if isinstance(v, int | float) else np.nan for v in row.values], dtype=float)
            finite = np.isfinite(values)
            row.best = None
            if len(self.runs) > 1 and finite.any() and values[finite].max() > values[finite].min():
                pick = np.nanargmin if self.direction(row.key) == MIN else np.nanargmax
                row.best = int(pick(np.where(finite, values, np.nan)))

    def row(self, row: int) -> _Row:
        return self.rows[row]

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self.rows)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.rowCount")
            return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else 1 + len(self.runs)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.columnCount")
            return 0

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        try:
            return variant_safe(self._data(index, role))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.data")
            return None

    def _data(self, index: _Index, role: int):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        col = index.column()
        best = row.kind == METRIC and row.best is not None and col == row.best + 1
        if role == Qt.ItemDataRole.FontRole:
            if row.kind == HEADER or (col == 0 and row.differs) or best:
                return self._bold
            return None
        if row.kind == HEADER:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole) and col == 0:
                return row.key
            if role == Qt.ItemDataRole.BackgroundRole:
                return QApplication.palette().brush(QPalette.ColorGroup.Active, QPalette.ColorRole.Button)
            return None
        if role == BEST_ROLE:
            return best
        if role == DIRECTION_ROLE:
            return self.direction(row.key) if row.kind == METRIC else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return _tint(best, row.differs)
        value = row.key if col == 0 else row.values[col - 1]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if col == 0 and row.kind == METRIC:
                return f"{row.key}  {'↓' if self.direction(row.key) == MIN else '↑'}"
            if col == 0 or value is None:
                return value if value is not None else "—"
            text = format_number(value) if row.kind == METRIC else str(value)
            if best:
                return f"{STAR} {text}" if role == Qt.ItemDataRole.DisplayRole else f"{text}, best"
            return text
        if role == Qt.ItemDataRole.UserRole:
            if col == 0 or value is None:
                return value
            return value if row.kind == METRIC else (to_number(value) if to_number(value) is not None else value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                what = {PARAM: "param", METRIC: "metric (last value)", TAG: "tag"}[row.kind]
                tip = f"{what} {row.key}" + ("\nThe runs differ here" if row.differs else "")
                if row.kind == METRIC:
                    lower = self.direction(row.key) == MIN
                    tip += (f"\n{STAR} marks the best: the {'lowest' if lower else 'highest'} value"
                            " (right-click to flip)")
                return tip
            if value is None:
                return None
            return (repr(value) if row.kind == METRIC else str(value)) + (f"\nthe best {row.key}" if best else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            numeric = row.kind == METRIC or (value is not None and to_number(value) is not None)
            horizontal = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        try:
            return self._header(section, orientation, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.headerData")
            return None

    def _header(self, section: int, orientation: Qt.Orientation, role: int):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section <= len(self.runs):
            return None
        if section == 0:
            return "Key" if role == Qt.ItemDataRole.DisplayRole else None
        run = self.runs[section - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return run.info.run_name
        if role == Qt.ItemDataRole.DecorationRole:
            return swatch_icon(run.info.run_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{run.info.run_name}\n{run.info.run_id}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        try:
            if not index.isValid() or not 0 <= index.row() < len(self.rows):
                return Qt.ItemFlag.NoItemFlags
            if self.rows[index.row()].kind == HEADER:
                return Qt.ItemFlag.ItemIsEnabled
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("CompareTableModel.flags")
            return Qt.ItemFlag.NoItemFlags


def _tint(best: bool, differs: bool) -> QColor | None:
    """A best value in the theme's green, a differing row faintly in its highlight color."""
    pal = QApplication.palette()
    if best:
        color = QColor("#2e9d5b")
        color.setAlpha(70)
        return color
    if differs:
        color = QColor(pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight))
        color.setAlpha(28)
        return color
    return None


class DifferingRowsProxy(QSortFilterProxyModel):
    """Hides rows where all runs agree when ``only_differing`` is on (never with < 2 runs)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._only_differing = False

    @property
    def only_differing(self) -> bool:
        return self._only_differing

    def set_only_differing(self, on: bool) -> None:
        if on != self._only_differing:
            self.beginFilterChange()
            self._only_differing = on
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        try:  # total, as every override (errors.override_failed)
            model = self.sourceModel()
            if not self._only_differing or len(model.runs) < 2:
                return True
            return model.row(source_row).differs
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DifferingRowsProxy.filterAcceptsRow")
            return True
