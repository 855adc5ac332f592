"""The offer to undo a move to the trash, in the status bar for a few seconds (``undoOffer``).

"Moved 3 runs to the Trash  Undo": the Undo button (``undoDelete``) and Ctrl+Z (``action``,
enabled only while the offer shows) ask for the runs back with ``undoRequested(run_ids)``. It
sits with the status bar's permanent widgets, so a passing message does not cover it.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QToolButton, QWidget

SECONDS = 10


class UndoOffer(QWidget):
    undoRequested = Signal(list)

    def __init__(self, bar: QStatusBar, window: QWidget) -> None:
        super().__init__(bar)
        self.setObjectName("undoOffer")
        self.label = QLabel(self)
        self.label.setObjectName("undoOfferText")
        self.button = QToolButton(self)  # compact: the status bar keeps its height
        self.button.setText("Undo")
        self.button.setObjectName("undoDelete")
        self.button.setAccessibleName("Undo move to Trash")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.action = QAction("&Undo Move to Trash", window)
        self.action.setObjectName("undoDeleteAction")
        self.action.setShortcut(QKeySequence.StandardKey.Undo)
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setEnabled(False)
        window.addAction(self.action)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SECONDS * 1000)
        self.timer.timeout.connect(self.withdraw)
        self.button.clicked.connect(self.undo)
        self.action.triggered.connect(self.undo)
        self._run_ids: list[str] = []
        bar.insertPermanentWidget(0, self)
        self.hide()

    def run_ids(self) -> list[str]:
        return list(self._run_ids)

    def offer(self, run_ids: list[str], names: list[str]) -> None:
        """Offer to bring back ``run_ids`` (named ``names``) for ``SECONDS``."""
        self._run_ids = list(run_ids)
        what = f"\u201c{names[0]}\u201d" if len(names) == 1 else f"{len(run_ids):,} runs"
        self.label.setText(f"Moved {what} to the Trash")
        shortcut = self.action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.button.setToolTip(f"Bring {'it' if len(run_ids) == 1 else 'them'} back ({shortcut})")
        self.action.setEnabled(True)
        self.show()
        self.timer.start()

    @Slot()
    def undo(self) -> None:
        run_ids = self._run_ids
        self.withdraw()
        if run_ids:
            self.undoRequested.emit(run_ids)

    @Slot()
    def withdraw(self) -> None:
        self.timer.stop()
        self._run_ids = []
        self.action.setEnabled(False)
        self.hide()
