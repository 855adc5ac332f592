"""Keyboard focus in the main window: where Tab goes, and a focus ring drawn around the focused widget.

Tab and Shift+Tab move between regions, in this order, and wrap: the experiments list, the
runs bar (filter box and its buttons), the runs table, the lower tabs (their tab bar, then the
open page's controls: the run's details, the charts, compare or the registry). Arrows move
within a list or table; no table of the window walks its cells with Tab. The order is worked
out at each press from the regions, not from Qt's focus chain alone: the panels are built
lazily, and a widget built later joins the chain at its end, wherever it sits on screen.

The ring is one overlay on top of the window, in the palette's Highlight color (3:1 against
Window and Base in both themes), so every focusable widget shows its focus the same way
whatever its style draws (Fusion draws none for tables and tab bars).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QRegion
from PySide6.QtWidgets import (
    QAbstractItemView, QAbstractScrollArea, QApplication, QTabBar, QWidget,
)

from app.shell.errors import override_failed

if TYPE_CHECKING:
    from app.shell.window import MainWindow

RING_WIDTH = 2


def _takes_tab(w: QWidget) -> bool:
    """Whether Tab may land on ``w`` (Qt's own test: policy, no proxy, shown, enabled)."""
    return (bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus) and w.focusProxy() is None
            and w.isVisible() and w.isEnabled())


class KeyboardFocus(QObject):
    """Owns Tab order and the focus ring of ``window``; ``window.focusNextPrevChild`` asks ``move``."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.ring = FocusRing(window)
        app = QApplication.instance()
        app.focusChanged.connect(self._on_focus_changed)

    def regions(self) -> list[tuple[QWidget, Callable[[QWidget], bool]]]:
        """(root, accepts) for each region in Tab order; ``accepts`` filters the root's widgets."""
        w = self.window
        table = w.runs_view.table

        def everything(_widget: QWidget) -> bool:
            return True

        return [
            (w.experiments_panel, everything),
            (w.runs_view, lambda x: x is not table and not table.isAncestorOf(x)),
            (table, everything),
            (w.lower_tabs, everything),  # its tab bar, then the open page (Run, Charts, Compare, Registry)
        ]

    def order(self, current: QWidget | None = None) -> list[QWidget]:
        """The widgets Tab visits, in order (``current`` kept in place even if Tab would skip it)."""
        regions = self.regions()
        found: list[list[QWidget]] = [[] for _ in regions]
        start = self.window
        w = start.nextInFocusChain()
        seen = 0
        while w is not start and seen < 100_000:  # (a chain is a ring; the bound is a guard)
            seen += 1
            if w is current or _takes_tab(w):
                for i, (root, accepts) in enumerate(regions):
                    if (w is root or root.isAncestorOf(w)) and accepts(w):
                        found[i].append(w)
                        break
            w = w.nextInFocusChain()
        return [w for region in found for w in region]

    def move(self, forward: bool) -> bool:
        """Focus the next (or previous) widget in region order; False when focus is outside them."""
        current = QApplication.focusWidget()
        if current is None or not self.window.isAncestorOf(current):
            return False
        order = self.order(current)
        if current not in order or len(order) < 2:
            return False
        target = order[(order.index(current) + (1 if forward else -1)) % len(order)]
        target.setFocus(Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason)
        return True

    def _ring_for(self, widget: QWidget) -> FocusRing | None:
        """The ring of ``widget``'s window: the main window's, or one made for a dialog it owns."""
        top = widget.window()
        if top is self.window:
            return self.ring
        owner = top.parentWidget()
        while owner is not None and owner is not self.window:
            owner = owner.parentWidget()
        if owner is None or top.windowType() == Qt.WindowType.Popup:  # (menus and pop-ups draw their own)
            return None
        ring = top.findChild(FocusRing, "focusRing", Qt.FindChildOption.FindDirectChildrenOnly)
        return ring if ring is not None else FocusRing(top)

    @Slot(QWidget, QWidget)
    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        try:
            if not shiboken6.isValid(self.window):
                return
            ring = self._ring_for(new) if new is not None else None
            if ring is not None and isinstance(new, QAbstractItemView):
                new.setTabKeyNavigation(False)  # arrows move within a table; Tab leaves it
            left = self._ring_for(old) if old is not None and shiboken6.isValid(old) else None
            if left is not None and left is not ring:
                left.follow(None)
            if ring is not None:
                ring.follow(new)
            elif new is None or self.window.isAncestorOf(new):
                self.ring.follow(None)
        except Exception:  # noqa: BLE001 - a slot called from Qt's focus handling never raises
            override_failed("KeyboardFocus._on_focus_changed")


class FocusRing(QWidget):
    """A ring around the focused widget of a window (the main window, or a dialog of it).

    A child of the window, on top, placed over the ring only and masked to it: it covers no
    other pixel, so a table scrolling under it keeps Qt's fast scrolling (a widget overlapped
    by a sibling is repainted whole instead).
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("focusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.target: QWidget | None = None
        self._watched: list[QWidget] = []  # the target and its parents up to the window
        window.installEventFilter(self)
        self.hide()

    def follow(self, widget: QWidget | None) -> None:
        for w in self._watched:
            if shiboken6.isValid(w):  # (a widget may have gone since it had focus)
                w.removeEventFilter(self)
        if isinstance(self.target, QTabBar) and shiboken6.isValid(self.target):
            self.target.currentChanged.disconnect(self._on_tab_changed)
        self.target, self._watched = widget, []
        if widget is None:
            self.hide()
            return
        if isinstance(widget, QTabBar):  # the ring goes round the current tab, and moves with it
            widget.currentChanged.connect(self._on_tab_changed)
        while widget is not None and widget is not self.parentWidget():  # (a splitter moves a parent)
            widget.installEventFilter(self)
            self._watched.append(widget)
            widget = widget.parentWidget()
        self.place()

    def place(self) -> None:
        """Put the ring where ``ring_rect`` says (hidden when there is nothing to ring)."""
        rect = self.ring_rect()
        if rect.width() <= 2 * RING_WIDTH or rect.height() <= 2 * RING_WIDTH:
            self.hide()
            return
        self.setGeometry(rect)
        local = QRect(QPoint(0, 0), rect.size())
        self.setMask(QRegion(local).subtracted(QRegion(local.adjusted(RING_WIDTH, RING_WIDTH,
                                                                        -RING_WIDTH, -RING_WIDTH))))
        self.raise_()
        self.show()
        self.update()

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        self.place()

    def ring_rect(self) -> QRect:
        """Where the ring is drawn, in window coordinates: around the visible part of the target,
        just outside it (inside, it would cover a small widget's text), within its parent."""
        target = self.target
        if target is None or not target.isVisible():
            return QRect()
        visible = target.visibleRegion().boundingRect()
        if isinstance(target, QTabBar) and target.currentIndex() >= 0:
            visible = visible.intersected(target.tabRect(target.currentIndex()))
        if visible.isEmpty():
            return QRect()
        window = self.parentWidget()
        rect = QRect(target.mapTo(window, visible.topLeft()), visible.size())
        rect = rect.adjusted(-RING_WIDTH, -RING_WIDTH, RING_WIDTH, RING_WIDTH)
        ancestor = target.parentWidget()
        while ancestor is not None and ancestor is not window:  # no ring over a scroll area's edge
            area = ancestor.parentWidget()
            if isinstance(area, QAbstractScrollArea) and ancestor is area.viewport():
                rect = rect.intersected(QRect(ancestor.mapTo(window, QPoint(0, 0)), ancestor.size()))
            ancestor = area
        return rect

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            kind = event.type()
            if self.target is not None and (watched is self.parentWidget() or watched in self._watched) \
                    and kind in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide):
                self.place()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FocusRing.eventFilter")
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        try:
            painter = QPainter(self)  # (the mask leaves only the ring to fill)
            painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Highlight))
            painter.end()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("FocusRing.paintEvent")
