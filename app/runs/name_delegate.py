"""The Name cell's registered-model badge: a small rounded label ("fraud v3") at the cell's
right end, for a run whose model is in the registry (``BADGE_ROLE``). Cells without one are
drawn by Qt as usual; the delegate is set on the Name column only."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.runs.model import BADGE_ROLE
from app.shell.errors import override_failed

_GAP = 4  # between the name and the badge, and after the badge


class NameDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        try:
            badge = index.data(BADGE_ROLE)
            if not badge:
                super().paint(painter, option, index)
                return
            labels = str(badge).split(", ")  # the tooltip names them all
            self._paint_with_badge(painter, option, index,
                                   labels[0] + (f" +{len(labels) - 1}" if len(labels) > 1 else ""))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("NameDelegate.paint")

    def _paint_with_badge(self, painter: QPainter, option: QStyleOptionViewItem,
                          index: QModelIndex | QPersistentModelIndex, badge: str) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        font = QFont(opt.font)  # (the option's own font draws the name)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        metrics = QFontMetrics(font)
        cell = QRect(opt.rect)
        width = min(metrics.horizontalAdvance(badge) + 12, cell.width() // 2)
        # the background (selection) across the whole cell, then the name beside the badge
        background = QStyleOptionViewItem(opt)
        background.text = ""
        background.icon = QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        opt.rect = cell.adjusted(0, 0, -(width + 2 * _GAP), 0)
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        active = bool(opt.state & QStyle.StateFlag.State_Active)
        group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
        ink = opt.palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Link)
        fill = QColor(ink)
        fill.setAlphaF(0.22 if selected else 0.14)
        height = min(cell.height() - 6, metrics.height() + 4)
        pill = QRect(cell.right() - width - _GAP, cell.center().y() - height // 2, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(ink)
        painter.setFont(font)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter,
                         metrics.elidedText(badge, Qt.TextElideMode.ElideRight, pill.width() - 8))
        painter.restore()
