"""The page shown with no runs directory, or an empty one: how to log a run, and two ways in."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.shell import resources

SNIPPET = """import tracker
with tracker.start_run():
    tracker.log_metric("loss", 0.1)"""


class WelcomePage(QWidget):
    openRequested = Signal()
    demoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        icon = QLabel(self)
        icon.setPixmap(resources.app_icon().pixmap(QSize(88, 88)))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setObjectName("welcomeTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.text = QLabel(self)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.code = QPlainTextEdit(SNIPPET, self)
        self.code.setObjectName("codeBlock")
        self.code.setAccessibleName("Example: log a run from Python")
        self.code.setReadOnly(True)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.code.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lines = SNIPPET.count("\n") + 1
        self.code.setFixedHeight(self.code.fontMetrics().lineSpacing() * lines + 30)
        self.hint = QLabel(self)
        self.hint.setProperty("muted", True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.open_button = QPushButton("Open Folder…", self)
        self.open_button.setObjectName("openFolderButton")
        self.open_button.setAccessibleName("Open folder")
        self.open_button.clicked.connect(self.openRequested)
        self.demo_button = QPushButton("Create Demo Runs", self)
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setAccessibleName("Create demo runs")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self.demoRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)

        column = QVBoxLayout()
        column.setSpacing(12)
        column.addWidget(icon)
        column.addWidget(self.title)
        column.addWidget(self.text)
        column.addWidget(self.code)
        column.addWidget(self.hint)
        column.addSpacing(6)
        column.addLayout(buttons)
        box = QWidget(self)
        box.setLayout(column)
        box.setMaximumWidth(520)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.set_directory(None)

    def set_directory(self, directory: Path | None) -> None:
        """No directory ("welcome") or an empty one ("no runs yet")."""
        if directory is None:
            self.title.setText("Welcome to Tracker")
            self.text.setText("Open a folder of runs, or log your first run from Python:")
            self.hint.setText("Runs are written to ./runs, or to $TRACKER_DIR when it is set.")
        else:
            self.title.setText("No runs here yet")
            self.text.setText(f"Runs logged to <b>{html.escape(str(directory))}</b> appear here as soon as they start:")
            self.hint.setText(f"TRACKER_DIR={directory} python train.py")

    def set_busy(self, busy: bool) -> None:
        self.demo_button.setEnabled(not busy)
        self.open_button.setEnabled(not busy)
        self.demo_button.setText("Creating Demo Runs…" if busy else "Create Demo Runs")
