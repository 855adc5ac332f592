"""A layout that places widgets left to right and wraps them onto new lines (the legend's
chips, the controls bar when the panel is narrow). Qt has none built in; this follows its
flow layout example, with each line's items centred vertically."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QSizePolicy, QWidget

from app.shell.errors import override_failed


class FlowLayout(QLayout):
    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def __init__(self, parent: QWidget | None = None, spacing: int = 2, line_spacing: int | None = None) -> None:
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self._line_spacing = spacing if line_spacing is None else line_spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        try:
            self._items.append(item)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FlowLayout.addItem")

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        try:
            return self._arrange(QRect(0, 0, width, 0), move=False)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FlowLayout.heightForWidth")
            return 0

    def setGeometry(self, rect: QRect) -> None:
        try:
            super().setGeometry(rect)
            self._arrange(rect, move=True)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FlowLayout.setGeometry")

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        try:
            size = QSize()
            for item in self._items:
                size = size.expandedTo(item.minimumSize())
            return size
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FlowLayout.minimumSize")
            return QSize()

    def _arrange(self, rect: QRect, move: bool) -> int:
        lines: list[list] = [[]]
        x = rect.x()
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            width = item.sizeHint().width()
            if lines[-1] and x + width > rect.right() + 1:
                lines.append([])
                x = rect.x()
            lines[-1].append(item)
            x += width + self._spacing
        y = rect.y()
        for line in lines:
            height = max((item.sizeHint().height() for item in line), default=0)
            x = rect.x()
            for item in line:
                hint = item.sizeHint()
                if move:
                    item.setGeometry(QRect(QPoint(x, y + (height - hint.height()) // 2), hint))
                x += hint.width() + self._spacing
            y += height + self._line_spacing
        return max(0, y - self._line_spacing - rect.y())


def height_for_width_policy() -> QSizePolicy:
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    return policy
