"""The look shared by the app's tables: ``record_table`` for the small record tables (a run's
params, metrics and tags; the registry's versions and history): whole-row selection, banded
rows, no grid, no row numbers, left-aligned headers, the last column stretched; and
``platform_sort_arrows`` for every sortable header (the runs table's too).

Sort arrows: Qt hands a style ``SortDown`` for an ascending sort, and Fusion (the app's light
and dark themes) draws ``SortDown`` as a downward arrow, where Windows, macOS and Qt's own
documentation show ascending as an upward one. The headers get a style that swaps the two
when they draw the arrow, so "newest first" on a time column shows the descending (down) arrow.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QHeaderView, QProxyStyle, QStyle, QStyleOption, QStyleOptionHeader, QTableView,
)

from app.shell.errors import override_failed

_FLIPPED = {QStyleOptionHeader.SortIndicator.SortUp: QStyleOptionHeader.SortIndicator.SortDown,
            QStyleOptionHeader.SortIndicator.SortDown: QStyleOptionHeader.SortIndicator.SortUp}
_probed: dict[tuple[int, str], bool] = {}  # (style object, its name) -> draws ascending pointing down


class _SortArrowStyle(QProxyStyle):
    """Its base style, with the header's sort arrow pointing up for an ascending sort."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter, widget=None) -> None:
        try:
            if element == QStyle.PrimitiveElement.PE_IndicatorHeaderArrow and isinstance(option, QStyleOptionHeader):
                flipped = QStyleOptionHeader(option)
                flipped.sortIndicator = _FLIPPED.get(option.sortIndicator, option.sortIndicator)
                option = flipped
            super().drawPrimitive(element, option, painter, widget)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("SortArrowStyle.drawPrimitive")


def ascending_points_down(style: QStyle) -> bool:
    """Whether ``style`` draws the arrow Qt asks for an ascending sort pointing down (Fusion
    does; the app's theme wraps it in a style sheet style that has no name, so it is drawn
    and looked at rather than named)."""
    key = (id(style), style.name())
    found = _probed.get(key)
    if found is None:
        size = 16
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        option = QStyleOptionHeader()
        option.rect = QRect(0, 0, size, size)
        option.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown  # what QHeaderView gives ascending
        painter = QPainter(image)
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorHeaderArrow, option, painter, None)
        painter.end()
        ink = [sum(image.pixelColor(x, y).alpha() for x in range(size)) for y in range(size)]
        drawn = [y for y in range(size) if ink[y]]
        # a downward arrow is widest at its top row
        found = _probed[key] = bool(drawn) and ink[drawn[0]] > ink[drawn[-1]]
    return found


def platform_sort_arrows(header: QHeaderView) -> QHeaderView:
    """Make ``header`` draw ascending as an upward arrow and descending as a downward one."""
    if header.findChild(_SortArrowStyle) is not None:
        return header
    app = QApplication.instance()
    if app is not None and ascending_points_down(app.style()):
        style = _SortArrowStyle("fusion")  # (the style that draws them so: the app's light and dark themes')
        style.setParent(header)  # a widget does not own the style it is given
        header.setStyle(style)
    return header


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
    platform_sort_arrows(header)
    return view
