"""The registry panel's Serving area (``servingArea``): the servers started from the app.

    SERVING  on this computer, until stopped or the app closes
    serving | version | URL | requests | last latency | [Try It…] [Stop]

    area.serve(name, model, version, prefer="alias", tracking_dir=root)  # asks (ServeDialog), then starts
    area.model_menu(model, root)   # "Serve Stage Production (v2)…", "Serve Alias @champion (v2)…", ...
    area.try_it(key)               # the server's Try It window (serving_try.TryItDialog)
    area.shutdown()                # every server stopped (the panel's shutdown calls it)

Hidden while nothing is served. The servers are the ``ServingManager``'s (``area.manager``); every
call that waits on a process or HTTP runs on its worker.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QPushButton, QTableView, QVBoxLayout, QWidget,
)

from tracker.registry import ModelVersion, RegisteredModel

from app.common.table_look import record_table
from app.registry.serving import EXITED, FAILED, RUNNING, STOPPING, ServeChoice, ServingManager, serve_choices
from app.registry.serving_try import TryItDialog
from app.registry.serving_ui import ServeDialog, ServersModel, compact_json
from app.shell import desktop

_MAX_ROWS = 3  # the area grows with its servers up to this many rows, then scrolls


class ServingArea(QWidget):
    """Lists the servers started from the app; each row has Try It… and Stop."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servingArea")
        self.setAccessibleName("Models being served")
        self.manager = ServingManager(self)
        self.model = ServersModel(self.manager, self)
        self.dialogs: dict[int, TryItDialog] = {}
        self.table = record_table(QTableView(self), row_padding=12)
        self.table.setObjectName("servingTable")
        self.table.setAccessibleName("Servers")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column, width in enumerate((200, 100, 160, 76, 92, 160)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(ServersModel.SERVES, QHeaderView.ResizeMode.Stretch)  # the rest is the URI's
        self.copy_url_action = QAction("Copy &URL", self.table)
        self.copy_url_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_url_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_url_action.triggered.connect(self.copy_url)
        self.table.addAction(self.copy_url_action)
        heading = QLabel("SERVING", self)
        heading.setObjectName("panelHeading")
        hint = QLabel("on this computer, until stopped or the app closes", self)
        hint.setObjectName("servingHint")
        hint.setProperty("muted", True)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.rowsRemoved.connect(self._on_rows_removed)
        self.manager.changed.connect(self._on_changed)
        self.table.customContextMenuRequested.connect(self._on_menu)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.hide()

    # ---- public -----------------------------------------------------------------------------

    def serve(self, name: str, model: RegisteredModel | None, mv: ModelVersion | None, prefer: str = "version",
              tracking_dir: str | Path | None = None) -> int:
        """Ask what to serve of ``name`` (``prefer``: the first choice of that kind, "version", "stage",
        "alias" or "latest", of ``mv`` when it has one), then start it; the server's key, -1 if cancelled."""
        choices = serve_choices(name, model, mv)
        if not choices or tracking_dir is None:
            return -1
        own = {f"models:/{name}/{mv.current_stage}", *(f"models:/{name}@{a}" for a in mv.aliases)} if mv else set()
        # mv's own stage or alias; a version with none is served itself, never another version's stage
        ranked = [i for i, c in enumerate(choices) if c.kind == prefer and (mv is None or c.uri in own)]
        choice = self.ask_choice(name, choices, ranked[0] if ranked else 0)
        return self.start(choice.uri, tracking_dir) if choice is not None else -1

    def start(self, uri: str, tracking_dir: str | Path) -> int:
        """Start a server for ``uri`` without asking; it is selected in the table."""
        key = self.manager.start(uri, tracking_dir)
        if key >= 0:
            self.table.selectRow(self.model.row_of(key))
        return key

    def ask_choice(self, name: str, choices: list[ServeChoice], selected: int) -> ServeChoice | None:
        """The Serve dialog (one method, so tests can replace it)."""
        dialog = ServeDialog(name, choices, selected, self)
        return dialog.result_value() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def model_menu(self, model: RegisteredModel, tracking_dir: str | Path | None, parent: QWidget | None = None
                   ) -> QMenu:
        """A registered model's menu: serve one of its stages or aliases, or its latest version."""
        menu = QMenu(parent or self)
        for choice in serve_choices(model.name, model, None):
            action = menu.addAction(f"Serve {choice.label}…")
            action.setData(choice.uri)
            action.setToolTip(choice.uri)
            action.triggered.connect(lambda _=False, u=choice.uri: self._serve_uri(model, u, tracking_dir))
        if menu.isEmpty():
            menu.addAction("Nothing to serve: no versions").setEnabled(False)
        return menu

    def selected_key(self) -> int | None:
        index = self.table.currentIndex()
        return self.model.key_at(index.row()) if index.isValid() else None

    def try_it(self, key: int | None = None) -> TryItDialog | None:
        """Show the Try It window of server ``key`` (default: the selected one), made on first use."""
        key = self.selected_key() if key is None else key
        if self.manager.entry(key if key is not None else -1) is None:
            return None
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = self.dialogs[key] = TryItDialog(self.manager, key, self)
            dialog.finished.connect(lambda _=0, k=key: self._forget_dialog(k))
        dialog.show()
        dialog.raise_()
        return dialog

    @Slot()
    def copy_url(self) -> None:
        entry = self.manager.entry(self.selected_key() or -1)
        if entry is not None and entry.url:
            desktop.copy_text(entry.url)

    def curl_command(self) -> str:
        """A shell command that sends the selected server its model's saved input example."""
        entry = self.manager.entry(self.selected_key() or -1)
        if entry is None or not entry.url:
            return ""
        body = compact_json(entry.input_example if entry.input_example is not None else {"inputs": []}, 10 ** 6)
        body = body.replace("'", "'\\''")
        return f"curl -s {entry.url}/invocations -H 'Content-Type: application/json' -d '{body}'"

    def server_menu(self) -> QMenu:
        """The servers table's menu: try it, copy the URL or a curl command, stop."""
        menu = QMenu(self)
        key = self.selected_key()
        entry = self.manager.entry(key) if key is not None else None
        running = entry is not None and entry.state == RUNNING
        menu.addAction("&Try It…", lambda: self.try_it(key)).setEnabled(running)
        menu.addAction(self.copy_url_action)
        self.copy_url_action.setEnabled(running)
        menu.addAction("Copy &curl Command", lambda: desktop.copy_text(self.curl_command())).setEnabled(running)
        menu.addSeparator()
        gone = entry is not None and entry.state in (FAILED, EXITED)
        stop = menu.addAction("&Remove" if gone else "&Stop", lambda: self.manager.stop(key) if key else None)
        stop.setEnabled(entry is not None and entry.state != STOPPING)
        return menu

    def buttons(self, key: int) -> tuple[QPushButton, QPushButton] | None:
        """The row's (Try It…, Stop) buttons."""
        row = self.model.row_of(key)
        cell = self.table.indexWidget(self.model.index(row, ServersModel.ACTIONS)) if row >= 0 else None
        return (cell.try_button, cell.stop_button) if isinstance(cell, _RowButtons) else None

    def shutdown(self) -> None:
        for dialog in list(self.dialogs.values()):
            dialog.close()
        self.manager.shutdown()

    # ---- reacting ---------------------------------------------------------------------------

    def _serve_uri(self, model: RegisteredModel, uri: str, tracking_dir: str | Path | None) -> None:
        choices = serve_choices(model.name, model, None)
        uris = [c.uri for c in choices]
        choice = self.ask_choice(model.name, choices, uris.index(uri) if uri in uris else 0)
        if choice is not None and tracking_dir is not None:
            self.start(choice.uri, tracking_dir)

    def _forget_dialog(self, key: int) -> None:
        dialog = self.dialogs.pop(key, None)
        if dialog is not None:
            dialog.deleteLater()

    @Slot(QModelIndex, int, int)
    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            key = self.model.key_at(row)
            entry = self.manager.entry(key)
            cell = _RowButtons(entry.uri if entry else "", self.table)
            cell.try_button.clicked.connect(lambda _=False, k=key: self.try_it(k))
            cell.stop_button.clicked.connect(lambda _=False, k=key: self.manager.stop(k))
            self.table.setIndexWidget(self.model.index(row, ServersModel.ACTIONS), cell)
            self._on_changed(key)
        self._fit()

    @Slot(QModelIndex, int, int)
    def _on_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        self._fit()

    def _fit(self) -> None:
        """Shown while there are servers, as tall as their rows (up to ``_MAX_ROWS``)."""
        rows = self.model.rowCount()
        self.setVisible(rows > 0)
        shown = max(1, min(rows, _MAX_ROWS))
        table = (self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
                 + shown * self.table.verticalHeader().defaultSectionSize())
        self.table.setFixedHeight(table + (self.table.horizontalScrollBar().sizeHint().height()
                                           if self.table.horizontalScrollBar().isVisible() else 0))

    @Slot(int)
    def _on_changed(self, key: int) -> None:
        entry, buttons = self.manager.entry(key), self.buttons(key)
        if entry is None or buttons is None:
            return
        try_button, stop_button = buttons
        try_button.setEnabled(entry.state == RUNNING)
        stop_button.setText("Remove" if entry.state in (FAILED, EXITED) else "Stop")
        stop_button.setEnabled(entry.state != STOPPING)

    @Slot(QPoint)
    def _on_menu(self, pos: QPoint) -> None:
        self.server_menu().exec(self.table.viewport().mapToGlobal(pos))

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() == ServersModel.URL:
            self.copy_url()
        else:
            self.try_it(self.model.key_at(index.row()))


class _RowButtons(QWidget):
    """A server row's last cell: Try It… and Stop."""

    def __init__(self, uri: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.try_button = QPushButton("Try It…", self)
        self.try_button.setObjectName("servingTryIt")
        self.try_button.setAccessibleName(f"Try {uri}")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("servingStop")
        self.stop_button.setAccessibleName(f"Stop serving {uri}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        layout.setSpacing(4)
        layout.addWidget(self.try_button)
        layout.addWidget(self.stop_button)
        layout.addStretch(1)
