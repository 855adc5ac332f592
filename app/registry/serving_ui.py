"""The pieces the Serving area is built from: the "Serve…" dialog, the servers table's model, and how
a request body or a reply is shown (``compact_json``, ``reply_summary``).
"""
from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QDialogButtonBox, QLabel, QLineEdit, QRadioButton, QVBoxLayout, QWidget,
)

from app.registry.serving import FAILED, EXITED, RUNNING, STARTING, STOPPING, ServeChoice, ServingManager, TryReply
from app.registry.serving import failure_summary
from app.shell.errors import override_failed
from app.shell.theme import is_dark

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ServeDialog(QDialog):
    """"Serve iris": one radio button per choice (a version, a stage, an alias, latest), the exact URI
    the server will be started on, and what it does when the registry changes."""

    def __init__(self, name: str, choices: list[ServeChoice], selected: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serveDialog")
        self.setWindowTitle("Serve Model")
        self._choices = choices
        title = QLabel(f"Serve <b>{_escape(name)}</b> over HTTP, with MLflow's scoring protocol", self)
        title.setWordWrap(True)
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(title)
        for i, choice in enumerate(choices):
            button = QRadioButton(choice.label, self)
            button.setObjectName(f"serveChoice{i}")
            self.group.addButton(button, i)
            layout.addWidget(button)
        self.uri = QLineEdit(self)
        self.uri.setObjectName("serveUri")
        self.uri.setAccessibleName("Model URI to serve")
        self.uri.setReadOnly(True)
        self.uri.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail = QLabel(self)
        self.detail.setObjectName("serveDetail")
        self.detail.setWordWrap(True)
        where = QLabel("On 127.0.0.1 at a free port, until you stop it or close the app.", self)
        where.setProperty("muted", True)
        where.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Serve")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (self.uri, self.detail, where, buttons):
            layout.addWidget(widget)
        self.group.idToggled.connect(self._on_toggled)
        if choices:
            checked = self.group.button(min(max(selected, 0), len(choices) - 1))
            checked.setChecked(True)
            checked.setFocus()
        self.setMinimumWidth(460)

    @Slot(int, bool)
    def _on_toggled(self, index: int, checked: bool) -> None:
        if checked and 0 <= index < len(self._choices):
            self.uri.setText(self._choices[index].uri)
            self.detail.setText(self._choices[index].detail)

    def result_value(self) -> ServeChoice | None:
        index = self.group.checkedId()
        return self._choices[index] if 0 <= index < len(self._choices) else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ServersModel(QAbstractTableModel):
    """One row per server of a ``ServingManager``: what it serves, the version answering, its URL,
    requests and last latency. The last column is left empty for the row's Stop button."""

    SERVES, VERSION, URL, REQUESTS, LATENCY, ACTIONS = range(6)
    HEADERS = ("Serving", "Version", "URL", "Requests", "Last latency", "")

    def __init__(self, manager: ServingManager, parent=None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._keys: list[int] = []
        manager.added.connect(self._on_added)
        manager.changed.connect(self._on_changed)
        manager.removed.connect(self._on_removed)

    def key_at(self, row: int) -> int | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def row_of(self, key: int) -> int:
        return self._keys.index(key) if key in self._keys else -1

    # Every override is total (errors.override_failed): PySide6 segfaults when one raises.

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self._keys)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ServersModel.rowCount")
            return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        try:
            return 0 if parent.isValid() else len(self.HEADERS)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ServersModel.columnCount")
            return 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        try:
            if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
                return None
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in (self.REQUESTS, self.LATENCY):
                return _RIGHT
            return None
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ServersModel.headerData")
            return None

    def data(self, index: _Index, role: int = 0) -> Any:
        try:
            return self._data(index, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ServersModel.data")
            return None

    def _data(self, index: _Index, role: int) -> Any:
        key = self.key_at(index.row()) if index.isValid() else None
        entry = self.manager.entry(key) if key is not None else None
        if entry is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, col)
        if role == Qt.ItemDataRole.UserRole:
            return key
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.REQUESTS, self.LATENCY):
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and entry.state in (FAILED, EXITED) and col == self.URL:
            return _error_colour()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{entry.uri}, {self._display(entry, self.VERSION)}, {entry.url or 'no address yet'}"
        return None

    def _display(self, entry, col: int) -> str:
        if col == self.SERVES:
            return entry.short_uri
        if col == self.VERSION:
            if entry.state == STARTING:  # a model's start-up takes seconds: show that it is moving
                return f"Starting… {int(time.monotonic() - entry.started)} s"
            state = {STOPPING: "Stopping…", FAILED: "Failed", EXITED: "Exited"}
            if entry.state in state:
                return state[entry.state]
            return f"v{entry.version}" if entry.version.isdigit() else entry.version
        if col == self.URL:  # a server that is not serving says why here
            return failure_summary(entry.error) if entry.state in (FAILED, EXITED) else entry.url
        if col == self.REQUESTS:
            return "" if entry.requests is None else f"{entry.requests:,}"
        if col == self.LATENCY:
            return "" if entry.last_latency_ms is None else format_ms(entry.last_latency_ms)
        return ""

    def _tooltip(self, entry, col: int) -> str | None:
        if entry.state in (FAILED, EXITED):
            return failure_summary(entry.error)
        if col == self.SERVES:
            how = f"follows the {entry.follows}" if entry.follows else "a fixed version"
            return f"{entry.uri}\n{how}; the registry in {entry.tracking_dir}"
        if col == self.VERSION and entry.state == RUNNING:
            text = f"Version {entry.version} answers" + (f" ({entry.swaps} swap{'s' * (entry.swaps != 1)})"
                                                          if entry.swaps else "")
            return text + (f"\nLast swap failed: {entry.error}" if entry.error else "")
        if col == self.URL and entry.url:
            return f"{entry.url}/invocations takes MLflow's scoring requests (double-click or Ctrl+C copies the URL)"
        return None

    @Slot(int)
    def _on_added(self, key: int) -> None:
        self.beginInsertRows(QModelIndex(), len(self._keys), len(self._keys))
        self._keys.append(key)
        self.endInsertRows()

    @Slot(int)
    def _on_changed(self, key: int) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

    @Slot(int)
    def _on_removed(self, key: int) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._keys[row]
            self.endRemoveRows()


def _error_colour() -> QColor:
    return QColor("#ff8a80" if is_dark() else "#b42318")  # the panel's message line's error colours


def compact_json(value: Any, width: int = 64, indent: str = "") -> str:
    """JSON with one row of numbers per line: what a request body or predictions read best as."""
    flat = json.dumps(value)
    if len(flat) + len(indent) <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict) and len(value) == 1:  # {"inputs": [ ... ]}: the one key stays on the first line
        (k, v), = value.items()
        return "{" + json.dumps(str(k)) + ": " + compact_json(v, width, indent) + "}"
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(str(k))}: {compact_json(v, width, inner).lstrip()}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + compact_json(v, width, inner).lstrip() for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def format_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.2f} ms"


def example_text(example: Any) -> str:
    """A saved input example as the request box shows it (empty when the model saved none)."""
    return compact_json(example) if example is not None else ""


def reply_summary(reply: TryReply) -> str:
    """"200 OK · v2 · 11.3 ms", or why no reply came."""
    if reply.error:
        return f"No reply: {reply.error}"
    bits = [f"{reply.status} {reply.reason}".strip()]
    if reply.version:
        bits.append(f"v{reply.version}" if reply.version.isdigit() else reply.version)
    bits.append(format_ms(reply.elapsed_ms))
    return "  ·  ".join(bits)


def reply_body(reply: TryReply) -> str:
    """The reply's JSON laid out (predictions one per line when they do not fit one), else as sent."""
    try:
        return compact_json(json.loads(reply.body))
    except ValueError:
        return reply.body
