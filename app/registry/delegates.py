"""Painting for the registry panel: stage pills, alias chips, two-line model rows, alias editing;
text a column is too narrow for is cut with "…" and shown whole on hover (``ElidingDelegate``)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView, QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip, QWidget,
)

from app.shell.errors import override_failed
from app.registry.item_models import MODEL_ROLE, WARNING_MARK, archived, stage_summary
from app.shell.theme import is_dark

# (background, text) per stage, light and dark.
_STAGE_COLORS = {
    False: {"Production": ("#d4f4dd", "#116329"), "Staging": ("#fff1c2", "#7a4b00"),
            "Archived": ("#eaeef2", "#57606a"), "None": ("#eef1f4", "#6e7781"), "alias": ("#ddf4ff", "#0550ae"),
            "alias_archived": ("#fff1c2", "#7a4b00")},
    True: {"Production": ("#1c3f2a", "#7ee2a8"), "Staging": ("#4a3a12", "#f5d08a"),
           "Archived": ("#2d3138", "#9aa0a6"), "None": ("#25282d", "#8b919a"), "alias": ("#132f4c", "#8cc8ff"),
           "alias_archived": ("#4a3a12", "#f5d08a")},
}


def stage_colors(stage: str, palette: QPalette) -> tuple[QColor, QColor]:
    bg, fg = _STAGE_COLORS[is_dark(palette)].get(stage, _STAGE_COLORS[False]["None"])
    return QColor(bg), QColor(fg)


def pill_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
    small.setWeight(QFont.Weight.DemiBold)
    return small


def pill_width(text: str, font: QFont) -> int:
    """The width ``draw_pill`` gives ``text`` in ``font`` (a pill font)."""
    return QFontMetrics(font).horizontalAdvance(text) + 14


def draw_pill(painter: QPainter, left: int, center_y: int, text: str, bg: QColor, fg: QColor,
              font: QFont, max_right: int | None = None) -> int:
    """A rounded label at (left, center_y); returns its right edge (nothing drawn if no room)."""
    metrics = QFontMetrics(font)
    width, height = pill_width(text, font), metrics.height() + 4
    if max_right is not None and left + width > max_right:
        return left
    rect = QRectF(left, center_y - height / 2, width, height)
    painter.save()
    try:  # restored whatever happens: the view paints its next cells with this painter
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(fg)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    finally:
        painter.restore()
    return int(rect.right())


def _background(option: QStyleOptionViewItem, index: QModelIndex, delegate: QStyledItemDelegate,
                painter: QPainter) -> None:
    """The item's background and selection, without its text."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    opt.text = ""
    style = opt.widget.style() if opt.widget else None
    if style is not None:
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)


# Every override is total (errors.override_failed): PySide6 segfaults when one raises.

def _editor(parent: QWidget, name: str, accessible: str, placeholder: str) -> QLineEdit:
    editor = QLineEdit(parent)
    editor.setObjectName(name)
    editor.setAccessibleName(accessible)
    editor.setPlaceholderText(placeholder)
    return editor


class ElidingDelegate(QStyledItemDelegate):
    """Plain cells: text wider than its column is cut with "…" (Qt's default); hovering such a
    cell shows the whole text, then the model's own tooltip."""

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex) -> bool:
        try:
            if event is not None and event.type() == QEvent.Type.ToolTip and index.isValid():
                text = self.hover_text(option, index)
                if text:
                    QToolTip.showText(event.globalPos(), text, view)
                else:
                    QToolTip.hideText()
                return True
            return super().helpEvent(event, view, option, index)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ElidingDelegate.helpEvent")
            return False

    def hover_text(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> str:
        """The whole text when the cell cuts it, then the model's tooltip."""
        own = index.data(Qt.ItemDataRole.ToolTipRole) or ""
        whole = self.whole_text(index)
        if not whole or not self.is_cut(option, index) or whole in own:
            return own
        return whole + (f"\n\n{own}" if own else "")

    def whole_text(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return str(index.data(Qt.ItemDataRole.DisplayRole) or "")

    def is_cut(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> bool:
        return self.sizeHint(option, index).width() > option.rect.width()


class StageDelegate(ElidingDelegate):
    """The stage as a colored pill."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        try:
            _background(option, index, self, painter)
            stage = index.data(Qt.ItemDataRole.DisplayRole) or ""
            bg, fg = stage_colors(stage, option.palette)
            draw_pill(painter, option.rect.left() + 6, option.rect.center().y() + 1, stage, bg, fg,
                      pill_font(option.font), option.rect.right() - 2)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("StageDelegate.paint")

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        try:
            size = super().sizeHint(option, index)
            stage = index.data(Qt.ItemDataRole.DisplayRole) or ""
            return QSize(max(size.width() + 24, pill_width(stage, pill_font(option.font)) + 10), size.height())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("StageDelegate.sizeHint")
            return QSize(100, 24)


class AliasDelegate(ElidingDelegate):
    """Aliases as chips, amber with a warning mark on an archived version; edited as text
    ("champion, candidate")."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        try:
            self._paint(painter, option, index)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("AliasDelegate.paint")

    def _paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        _background(option, index, self, painter)
        version = index.data(MODEL_ROLE)
        aliases = version.aliases if version is not None else []
        stale = version is not None and archived(version)
        bg, fg = stage_colors("alias_archived" if stale else "alias", option.palette)
        font = pill_font(option.font)
        x, y = option.rect.left() + 6, option.rect.center().y() + 1
        metrics = QFontMetrics(font)
        for i, alias in enumerate(aliases):
            text = f"{WARNING_MARK if stale else ''}@{alias}"
            room = option.rect.right() - 2 - x
            if i == 0 and pill_width(text, font) > room:  # the first chip, cut: "@champ…" (whole on hover)
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(0, room - 14))
            right = draw_pill(painter, x, y, text, bg, fg, font, option.rect.right() - 2) if text else x
            if right == x:
                painter.save()
                try:
                    painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
                    painter.drawText(QRect(x, option.rect.top(), option.rect.right() - x, option.rect.height()),
                                     Qt.AlignmentFlag.AlignVCenter, "…")
                finally:
                    painter.restore()
                break
            x = right + 4

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        try:
            size = super().sizeHint(option, index)
            version = index.data(MODEL_ROLE)
            if version is None or not version.aliases:
                return QSize(24, size.height())
            mark = WARNING_MARK if archived(version) else ""
            font = pill_font(option.font)
            chips = sum(pill_width(f"{mark}@{a}", font) + 4 for a in version.aliases)
            return QSize(6 + chips + 2, size.height())
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("AliasDelegate.sizeHint")
            return QSize(100, 24)

    def whole_text(self, index: QModelIndex | QPersistentModelIndex) -> str:
        version = index.data(MODEL_ROLE)
        return "  ".join(f"@{a}" for a in version.aliases) if version is not None else ""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget | None:
        try:
            editor = _editor(parent, "aliasEditor", "Aliases", "champion, candidate")
            editor.setToolTip("Aliases separated by commas: letters, digits, '_' and '-'")
            return editor
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("AliasDelegate.createEditor")
            return None  # no editor: the cell stays as it is


class DescriptionDelegate(ElidingDelegate):
    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget | None:
        try:
            return _editor(parent, "descriptionEditor", "Description", "What is this version?")
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("DescriptionDelegate.createEditor")
            return None  # no editor: the cell stays as it is


class ModelItemDelegate(QStyledItemDelegate):
    """Two lines: the name and latest version; then the versions in Production and Staging."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        try:
            self._paint(painter, option, index)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ModelItemDelegate.paint")
        finally:  # restored whatever happens: the view paints its next rows with this painter
            painter.restore()

    def _paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        _background(option, index, self, painter)
        model = index.data(MODEL_ROLE)
        if model is None:
            return
        view = option.widget
        drop_row = view.property("dropRow") if view is not None else None
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        rect = option.rect.adjusted(10, 5, -10, -5)
        if drop_row == index.row():  # a drag hovers this model: registering goes here
            pen = QColor(pal.color(QPalette.ColorRole.Highlight))
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(option.rect.adjusted(2, 1, -2, -1)), 4, 4)
        text = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = text if selected else pal.color(QPalette.ColorRole.PlaceholderText)
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        metrics = QFontMetrics(bold)
        line = metrics.height()
        latest = f"v{model.latest_version}" if model.latest_version else "no versions"
        latest_w = option.fontMetrics.horizontalAdvance(latest) + 8
        painter.setFont(bold)
        painter.setPen(text)
        top = QRect(rect.left(), rect.top(), rect.width() - latest_w, line)
        painter.drawText(top, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(model.name, Qt.TextElideMode.ElideRight, top.width()))
        painter.setFont(option.font)
        painter.setPen(muted)
        painter.drawText(QRect(rect.right() - latest_w, rect.top(), latest_w, line),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, latest)
        y = rect.top() + line + 4 + line // 2 + 1
        x = rect.left()
        font = pill_font(option.font)
        summary = stage_summary(model)
        pill_metrics = QFontMetrics(font)
        full = sum(pill_metrics.horizontalAdvance(f"{stage} {versions}") + 19 for stage, versions in summary)
        for stage, versions in summary:
            bg, fg = stage_colors(stage, pal)
            # a narrow list keeps every stage: the pill's colour names it, the tooltip spells it out
            text = f"{stage} {versions}" if full <= rect.width() else versions
            right = draw_pill(painter, x, y, text, bg, fg, font, rect.right())
            x = right + 5 if right != x else x
        if not summary:  # nothing staged: say how many versions there are
            painter.setPen(muted)
            count = model.version_count
            painter.drawText(QRect(x, y - line // 2 - 2, rect.width(), line + 4), Qt.AlignmentFlag.AlignVCenter,
                             f"{count} version{'s' if count != 1 else ''}")

    @staticmethod
    def row_width(font: QFont, model, stage_names: bool = True) -> int:
        """The width a row needs to show ``model`` uncut: its name and latest version, and its
        stage pills (with the stages' names, or the version numbers alone)."""
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        latest = f"v{model.latest_version}" if model.latest_version else "no versions"
        name_line = QFontMetrics(bold).horizontalAdvance(model.name) + QFontMetrics(font).horizontalAdvance(latest) + 8
        small = pill_font(font)
        pills = sum(pill_width(f"{stage} {versions}" if stage_names else versions, small) + 5
                    for stage, versions in stage_summary(model))
        return max(name_line, pills) + 20

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        try:
            line = option.fontMetrics.height()
            return QSize(120, line * 2 + 18)  # the list's width is the splitter's: rows never scroll it sideways
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ModelItemDelegate.sizeHint")
            return QSize(200, 48)
