"""The look shared by the app's small record tables (a run's params, metrics and tags; the
registry's versions and history): whole-row selection, banded rows, no grid, no row numbers,
left-aligned headers, the last column stretched."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView


def record_table(view: QTableView, row_padding: int = 8) -> QTableView:
    """Give ``view`` that look; rows are the font's height plus ``row_padding`` pixels."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + row_padding)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(True)
    return view
