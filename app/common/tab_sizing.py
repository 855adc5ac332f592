"""A tab widget sized by the page it shows, not by the largest of its pages.

QTabWidget's minimum size is the largest minimum among all its pages, shown or not, so a
tall page in a tab the user has not opened (the registry, the compare view) kept the details
pane from being made smaller while the Run tab was showing, and the pane's height restored
from settings depended on which pages happened to be built yet. Pages not shown ignore their
size hints (``QSizePolicy.Ignored``), so only the current page's minimum counts; when another
tab opens, its minimum counts again and the splitter makes room for it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QTabWidget, QWidget

from app.shell.errors import override_failed


class CurrentPageSizing(QObject):
    """Keeps the pages of ``tabs`` other than the current one out of its size hints."""

    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self._tabs = tabs
        self._own: dict[QWidget, QSizePolicy] = {}  # each page's policy before it was set aside
        tabs.currentChanged.connect(self._follow)
        stack = tabs.findChild(QStackedWidget, "qt_tabwidget_stackedwidget")
        if stack is not None:  # a page inserted (a panel built in its placeholder's place) counts from then on
            stack.installEventFilter(self)
        self._follow(tabs.currentIndex())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        try:
            if event.type() == QEvent.Type.ChildAdded:
                QTimer.singleShot(0, self, self.refresh)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("noticing a page added to the tabs")
        return False

    @Slot(int)
    def _follow(self, current: int) -> None:
        try:
            shown = self._tabs.widget(current)
            for i in range(self._tabs.count()):
                page = self._tabs.widget(i)
                if page is shown:
                    if page in self._own:
                        page.setSizePolicy(self._own.pop(page))
                elif page not in self._own:
                    self._own[page] = page.sizePolicy()
                    page.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("sizing the tabs by their current page")

    @Slot()
    def refresh(self) -> None:
        """Forget pages that were removed; set aside new ones that are not shown."""
        self._own = {page: policy for page, policy in self._own.items() if self._tabs.indexOf(page) >= 0}
        self._follow(self._tabs.currentIndex())
