"""Drops of ``text/uri-list``: which local paths a drop holds, and the models list as a drop target.

The panel accepts drops anywhere; a drop on a row of the models list registers a new version of
that model. Only URL checks happen here (no disk access): the worker checks the files.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QListView

from app.registry.item_models import MODEL_ROLE
from app.shell.errors import override_failed


class DropRefused(ValueError):
    pass


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders a drop carries; DropRefused (with a message) otherwise."""
    urls: list[QUrl] = [u for u in (mime.urls() if mime.hasUrls() else []) if u.isValid() and not u.isEmpty()]
    if not urls:
        raise DropRefused("Only files and folders can be registered: this drop carries no file")
    remote = [u for u in urls if not u.isLocalFile()]
    if remote:
        shown = remote[0].toDisplayString()
        if len(shown) > 60:
            shown = shown[:57] + "…"
        raise DropRefused(f"Only local files and folders can be registered: {shown} is not a local file"
                          + (f" ({len(remote)} such items)" if len(remote) > 1 else ""))
    return [Path(u.toLocalFile()) for u in urls]


def accepts(mime: QMimeData | None) -> bool:
    return mime is not None and mime.hasUrls()


class ModelsList(QListView):
    """The registered models; a file dropped on a model registers it as that model's next version.

    Emits ``paths_dropped(paths, model name or None)`` and ``drop_refused(message)``;
    ``drop_hint(text)`` while a drag hovers ("" when it leaves).
    """

    paths_dropped = Signal(list, object)
    drop_refused = Signal(str)
    drop_hint = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(False)  # the delegate outlines the model dropped on
        self.setProperty("dropRow", -1)

    def _model_at(self, event: QDropEvent) -> str | None:
        index = self.indexAt(event.position().toPoint())
        model = index.data(MODEL_ROLE) if index.isValid() else None
        return model.name if model is not None else None

    def _set_drop_row(self, row: int) -> None:
        if self.property("dropRow") != row:
            self.setProperty("dropRow", row)
            self.viewport().update()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        try:
            if not accepts(event.mimeData()):
                event.ignore()
                return
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.dragMoveEvent(event)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("ModelsList.dragEnterEvent")

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        try:
            if not accepts(event.mimeData()):
                event.ignore()
                return
            index = self.indexAt(event.position().toPoint())
            self._set_drop_row(index.row() if index.isValid() else -1)
            name = self._model_at(event)
            self.drop_hint.emit(f"Drop to register a new version of {name}" if name
                                else "Drop to register a model")
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("ModelsList.dragMoveEvent")

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        try:
            self._set_drop_row(-1)
            self.drop_hint.emit("")
            event.accept()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("ModelsList.dragLeaveEvent")

    def dropEvent(self, event: QDropEvent) -> None:
        try:
            self._set_drop_row(-1)
            self.drop_hint.emit("")
            name = self._model_at(event)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            try:
                paths = local_paths(event.mimeData())
            except DropRefused as e:
                self.drop_refused.emit(str(e))
                return
            self.paths_dropped.emit(paths, name)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("ModelsList.dropEvent")
