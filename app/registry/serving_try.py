""""Try it" (``tryItDialog``): a window per server that sends a request to its ``/invocations`` and
shows the reply: status, the version that answered (``X-Model-Version``) and the predictions.

    dialog = TryItDialog(manager, key, parent)   # the request box starts as the model's saved input example
    dialog.send()                                # on the manager's worker; the reply shows when it comes

Not modal: the registry stays usable beside it, and several servers can be tried at once. It closes
when its server is stopped.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QToolButton, QWidget,
)

from app.registry.serving import RUNNING, ServingManager, TryReply
from app.registry.serving_ui import example_text, reply_body, reply_summary
from app.shell import desktop
from app.shell.theme import is_dark


def _text_box(name: str, accessible: str, read_only: bool, parent: QWidget) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setObjectName(name)
    box.setAccessibleName(accessible)
    box.setReadOnly(read_only)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    box.setTabChangesFocus(True)
    return box


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("muted", True)
    return label


class TryItDialog(QDialog):
    """Request (JSON or CSV, editable) | reply, for the server ``key`` of ``manager``."""

    def __init__(self, manager: ServingManager, key: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tryItDialog")
        self.manager, self.key = manager, key
        entry = manager.entry(key)
        self.setWindowTitle(f"Try {entry.short_uri}" if entry is not None else "Try It")
        self.target = QLabel(self)
        self.target.setObjectName("tryItTarget")
        self.target.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton(self)
        self.copy_button.setObjectName("tryItCopyUrl")
        self.copy_button.setText("Copy URL")
        self.copy_button.clicked.connect(self.copy_url)
        self.request = _text_box("tryItRequest", "Request body", False, self)
        self.request.setPlaceholderText('A JSON body, e.g. {"inputs": [[1, 2, 3]]}, or CSV rows under a header')
        self.response = _text_box("tryItResponse", "Response", True, self)
        self.response.setPlaceholderText("The reply shows here")
        self.status = QLabel(self)
        self.status.setObjectName("tryItStatus")
        self.status.setAccessibleName("Response status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.example_button = QPushButton("Example", self)
        self.example_button.setObjectName("tryItExample")
        self.example_button.setToolTip("Put the model's saved input example back in the request")
        self.example_button.clicked.connect(self.reset_request)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("tryItSend")
        self.send_button.setToolTip("POST the request to the server's /invocations (Ctrl+Return)")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        send = QAction(self)
        send.setShortcut(QKeySequence("Ctrl+Return"))
        send.triggered.connect(self.send)
        self.addAction(send)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        self._build_layout(close)
        manager.changed.connect(self._on_changed)
        manager.removed.connect(self._on_removed)
        manager.replied.connect(self._on_replied)
        self._on_changed(key)
        self.reset_request()
        self.request.setFocus()
        self.resize(640, 360)

    def _build_layout(self, close: QDialogButtonBox) -> None:
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        head = QHBoxLayout()
        head.addWidget(self.target, 1)
        head.addWidget(self.copy_button)
        grid.addLayout(head, 0, 0, 1, 2)
        grid.addWidget(_caption("Request", self), 1, 0)
        grid.addWidget(self.status, 1, 1)
        grid.addWidget(self.request, 2, 0)
        grid.addWidget(self.response, 2, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.example_button)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        grid.addLayout(buttons, 3, 0)
        grid.addWidget(close, 3, 1)
        grid.setRowStretch(2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    @Slot()
    def send(self) -> bool:
        """POST the request box; False when there is nothing to send or the server is not serving."""
        if not self.request.toPlainText().strip() or not self.manager.try_it(self.key, self.request.toPlainText()):
            return False
        self.status.setText("Sending…")
        self._set_error(False)
        return True

    @Slot()
    def reset_request(self) -> None:
        entry = self.manager.entry(self.key)
        if entry is not None and entry.input_example is not None:
            self.request.setPlainText(example_text(entry.input_example))

    @Slot()
    def copy_url(self) -> None:
        entry = self.manager.entry(self.key)
        if entry is not None and entry.url:
            desktop.copy_text(f"{entry.url}/invocations")

    @Slot(int)
    def _on_changed(self, key: int) -> None:
        entry = self.manager.entry(key)
        if key != self.key or entry is None:
            return
        running = entry.state == RUNNING
        self.target.setText(f"POST {entry.url}/invocations  ·  v{entry.version}" if running
                            else f"{entry.short_uri} is not serving ({entry.state})")
        self.send_button.setEnabled(running)
        self.copy_button.setEnabled(running)
        self.example_button.setEnabled(entry.input_example is not None)
        self.example_button.setToolTip("Put the model's saved input example back in the request"
                                       if entry.input_example is not None else "The model saved no input example")
        if not self.request.toPlainText():
            self.reset_request()

    @Slot(int)
    def _on_removed(self, key: int) -> None:
        if key == self.key:
            self.close()

    @Slot(int, object)
    def _on_replied(self, key: int, reply: TryReply) -> None:
        if key != self.key:
            return
        self.status.setText(reply_summary(reply))
        self._set_error(bool(reply.error) or reply.status >= 400)
        self.response.setPlainText(reply.error if reply.error else reply_body(reply))

    def _set_error(self, error: bool) -> None:
        self.status.setStyleSheet(f"color: {'#ff8a80' if is_dark(self.palette()) else '#b42318'};" if error else "")
