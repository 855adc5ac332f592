"""A run's artifacts: a file tree (``artifactTree``) and a preview of the selected file.

The tree never lists the temp files a killed writer left (``tracker.store.tempfiles``).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QBuffer, QByteArray, QDir, QIODevice, QItemSelection, QModelIndex, QPersistentModelIndex, QPoint, QSize,
    QSortFilterProxyModel, Qt, Signal, Slot,
)
from PySide6.QtGui import QFontDatabase, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QComboBox, QFileSystemModel, QHeaderView, QLabel, QMenu, QPlainTextEdit,
    QScrollArea, QSplitter, QStackedWidget, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
    QTableView, QTreeView, QVBoxLayout, QWidget,
)

from tracker.models.summary import describe_model_dir
from tracker.store.tempfiles import is_temp_name

from app.shell import desktop
from app.shell.errors import override_failed
from app.details.highlight import Highlighter
from app.details.preview import Preview, load_preview
from app.common.formatting import format_size
from app.common.table_look import platform_sort_arrows
from app.common.table_model import TableModel


class _ImageView(QScrollArea):
    """An image scaled down to fit (never up), crisp at the device pixel ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._label = QLabel(self)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWidget(self._label)
        self.setWidgetResizable(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self._rescale()

    def pixmap(self) -> QPixmap:
        return self._pixmap

    def resizeEvent(self, event) -> None:
        try:  # total, as every override (errors.override_failed)
            super().resizeEvent(event)
            self._rescale()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ArtifactsView image resizeEvent")

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            self._label.clear()
            return
        room = self.viewport().size() - QSize(16, 16)
        size = self._pixmap.size()
        if size.width() > room.width() or size.height() > room.height():
            ratio = self.devicePixelRatioF()
            scaled = self._pixmap.scaled(room * ratio, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
            scaled.setDevicePixelRatio(ratio)
            self._label.setPixmap(scaled)
        else:
            self._label.setPixmap(self._pixmap)


class WithoutTempFiles(QSortFilterProxyModel):
    """A ``QFileSystemModel`` without writers' temp files (``.<name>.<8 random>.part``...): a
    killed writer leaves them behind, and they are never artifacts. Rows keep the file
    system model's own order (folders first); sorting is asked of it. Sizes read as everywhere
    in the app (``format_size``), not in Qt's own style."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        try:  # total, as every override (errors.override_failed)
            if index.column() == 1 and role == Qt.ItemDataRole.DisplayRole:
                model = self.sourceModel()
                source = self.mapToSource(index)
                return "" if model.isDir(source) else format_size(model.size(source))
            return super().data(index, role)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("WithoutTempFiles.data")
            return None

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        try:  # total, as every override (errors.override_failed)
            model = self.sourceModel()
            index = model.index(source_row, 0, source_parent)
            return not (is_temp_name(model.fileName(index)) and not model.isDir(index))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("WithoutTempFiles.filterAcceptsRow")
            return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        try:
            self.sourceModel().sort(column, order)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("WithoutTempFiles.sort")


class _FileDelegate(QStyledItemDelegate):
    """Folder and file icons from the style when the platform has no icon theme (offscreen,
    minimal desktops), and rows with a little air."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        try:  # total, as every override (errors.override_failed)
            super().initStyleOption(option, index)
            if index.column() == 0 and option.icon.isNull():
                style = option.widget.style() if option.widget else QApplication.style()
                model = index.model()
                if isinstance(model, QSortFilterProxyModel):
                    index, model = model.mapToSource(index), model.sourceModel()
                folder = isinstance(model, QFileSystemModel) and model.isDir(index)
                option.icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon if folder
                                                 else QStyle.StandardPixmap.SP_FileIcon)
                option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ArtifactsView initStyleOption")

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        try:
            size = super().sizeHint(option, index)
            return QSize(size.width(), max(size.height(), option.fontMetrics.height() + 8))
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("ArtifactsView sizeHint")
            return QSize(100, 24)


RUN_ARTIFACTS = "Run artifacts"


class ArtifactsView(QWidget):
    """``set_root(folder)`` shows that folder; selecting a file previews it. A run's MLflow 3
    logged models, kept outside its artifacts folder, are offered beside it in a picker above the tree.

    ``contextMenuAboutToShow(menu, path)`` lets other panels add actions (the registry panel adds
    "Register Model…"). On a model folder, the actions added for that path (``data()`` is the
    path) come first, named with the flavor and class the folder holds. Items can be dragged
    out as file URLs.
    """

    contextMenuAboutToShow = Signal(QMenu, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._root: Path | None = None
        self._sources: list[tuple[str, Path | None]] = []
        self.fs_model = QFileSystemModel(self)
        self.fs_model.setReadOnly(True)
        self.fs_model.setFilter(QDir.Filter.AllEntries | QDir.Filter.NoDotAndDotDot | QDir.Filter.Hidden)
        self.files_model = WithoutTempFiles(self)  # what the tree shows
        self.files_model.setSourceModel(self.fs_model)

        self.tree = QTreeView(self)
        self.tree.setObjectName("artifactTree")
        self.tree.setAccessibleName("Artifacts")
        self.tree.setModel(self.files_model)
        self.tree.setItemDelegate(_FileDelegate(self.tree))
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for column in (2, 3):  # type, date modified: name and size are what matter here
            self.tree.setColumnHidden(column, True)
        header = platform_sort_arrows(self.tree.header())
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

        self.no_artifacts = QLabel("This run has no artifacts", self)
        self.no_artifacts.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_artifacts.setProperty("muted", True)
        self.tree_stack = QStackedWidget(self)
        self.tree_stack.addWidget(self.tree)
        self.tree_stack.addWidget(self.no_artifacts)
        self.source_picker = QComboBox(self)
        self.source_picker.setObjectName("artifactSource")
        self.source_picker.setAccessibleName("Artifacts shown")
        self.source_picker.hide()
        self.source_picker.currentIndexChanged.connect(self._on_source_chosen)
        files_side = QWidget(self)
        files_layout = QVBoxLayout(files_side)
        files_layout.setContentsMargins(0, 0, 0, 0)
        files_layout.addWidget(self.source_picker)
        files_layout.addWidget(self.tree_stack, 1)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.preview_title = QLabel(self)
        self.preview_title.setObjectName("previewTitle")
        self.preview_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview_note = QLabel(self)
        self.preview_note.setProperty("muted", True)
        self.text_view = QPlainTextEdit(self)
        self.text_view.setObjectName("artifactText")
        self.text_view.setAccessibleName("Artifact text preview")
        self.text_view.setReadOnly(True)
        self.text_view.setFont(mono)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = Highlighter(self.text_view.document())
        self.table_model = TableModel([], self, sortable=False)
        self.table_view = QTableView(self)
        self.table_view.setObjectName("artifactTable")
        self.table_view.setAccessibleName("Artifact table preview")
        self.table_view.setModel(self.table_model)
        self.table_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table_view.setAlternatingRowColors(True)
        self.table_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.image_view = _ImageView(self)
        self.image_view.setObjectName("artifactImage")
        self.image_view.setAccessibleName("Artifact image preview")
        self.message = QLabel("Select a file to preview it", self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setProperty("muted", True)
        self.preview_stack = QStackedWidget(self)
        for widget in (self.message, self.text_view, self.table_view, self.image_view):
            self.preview_stack.addWidget(widget)

        preview = QWidget(self)
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.setSpacing(2)
        preview_layout.addWidget(self.preview_title)
        preview_layout.addWidget(self.preview_stack, 1)
        preview_layout.addWidget(self.preview_note)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(files_side)
        self.splitter.addWidget(preview)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.tree.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.clear_preview()

    # ---- root -------------------------------------------------------------------------

    def set_root(self, folder: str | Path | None,
                 logged_models: Sequence[tuple[str, Path | None]] = ()) -> None:
        """Show ``folder`` (a run's artifacts directory); None or a missing folder: none.

        ``logged_models``: (name, folder) of the run's logged models, offered in the picker. The
        run's artifacts are shown first, unless there are none and a model has files."""
        sources = [(RUN_ARTIFACTS, Path(folder) if folder is not None else None)]
        sources += [(f"Logged model: {name}", Path(path) if path is not None else None)
                    for name, path in logged_models]
        if sources == self._sources:
            return
        self._sources = sources
        self.source_picker.blockSignals(True)
        self.source_picker.clear()
        for label, _ in sources:
            self.source_picker.addItem(label)
        shown = 0
        if not _has_files(sources[0][1]):
            shown = next((i for i, (_, path) in enumerate(sources) if _has_files(path)), 0)
        self.source_picker.setCurrentIndex(shown)
        self.source_picker.blockSignals(False)
        self.source_picker.setVisible(len(sources) > 1)
        self._show(sources[shown][1])

    def sources(self) -> list[tuple[str, Path | None]]:
        """(label, folder) of what the picker offers: the run's artifacts, then its logged models."""
        return list(self._sources)

    @Slot(int)
    def _on_source_chosen(self, row: int) -> None:
        if 0 <= row < len(self._sources):
            self._show(self._sources[row][1])

    def _show(self, folder: Path | None) -> None:
        if folder == self._root:
            return
        self._root = folder
        self.clear_preview()
        if folder is None or not folder.is_dir():
            self.tree.setRootIndex(QModelIndex())
            self.tree_stack.setCurrentWidget(self.no_artifacts)
            return
        index = self.fs_model.setRootPath(str(folder))
        self.tree.setRootIndex(self.files_model.mapFromSource(index))
        self.tree_stack.setCurrentWidget(self.tree)

    def root(self) -> Path | None:
        return self._root

    def index_of(self, path: str | Path) -> QModelIndex:
        """The file system model's index of ``path`` (valid once listed, even if the tree hides it)."""
        return self.fs_model.index(str(path))

    def shown_index_of(self, path: str | Path) -> QModelIndex:
        """The tree's index of ``path``: invalid when it is not listed, or is a hidden temp file."""
        return self.files_model.mapFromSource(self.index_of(path))

    def select(self, path: str | Path) -> bool:
        index = self.shown_index_of(path)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        return True

    # ---- preview ----------------------------------------------------------------------

    def clear_preview(self) -> None:
        self.preview_title.setText("")
        self.preview_note.setText("")
        self.preview_note.hide()
        self.message.setText("Select a file to preview it")
        self.preview_stack.setCurrentWidget(self.message)

    def preview_file(self, path: str | Path) -> Preview:
        """Show a preview of ``path`` (capped reads; see ``app.details.preview``) and return it."""
        preview = load_preview(path)
        self.preview_title.setText(Path(path).name)
        self.preview_note.setText(preview.note)
        self.preview_note.setVisible(bool(preview.note))
        if preview.kind in ("text", "json", "yaml", "diff"):
            self._highlighter.set_kind(preview.kind)
            self.text_view.setPlainText(preview.text)
            self.preview_stack.setCurrentWidget(self.text_view)
        elif preview.kind == "table":
            header, body = (preview.rows[0], preview.rows[1:]) if preview.rows else ([], [])
            self.table_model.set_rows(body, header)
            self.table_view.resizeColumnsToContents()
            self.preview_stack.setCurrentWidget(self.table_view)
        elif preview.kind == "image":
            # From the bytes load_preview read (a regular file, size-capped): the path itself is
            # never opened here, so nothing put in its place since can block the GUI thread.
            buffer = QBuffer()
            buffer.setData(QByteArray(preview.data))
            buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            reader = QImageReader(buffer, Path(preview.path).suffix.lstrip(".").lower().encode())
            reader.setDecideFormatFromContent(True)  # the name's suffix is only a hint, as with a path
            reader.setAutoTransform(True)
            image = reader.read()
            buffer.close()
            if image.isNull():
                self.message.setText(f"Cannot show this image: {reader.errorString()}")
                self.preview_stack.setCurrentWidget(self.message)
            else:
                self.image_view.set_pixmap(QPixmap.fromImage(image))
                self.preview_note.setText(f"{image.width()} × {image.height()} px, {preview.note}")
                self.preview_note.show()
                self.preview_stack.setCurrentWidget(self.image_view)
        else:
            self.message.setText(preview.text)
            self.preview_stack.setCurrentWidget(self.message)
        return preview

    def current_preview_kind(self) -> str:
        widget = self.preview_stack.currentWidget()
        return {self.text_view: "text", self.table_view: "table", self.image_view: "image"}.get(
            widget, "message")

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        indexes = self.tree.selectionModel().selectedRows(0)
        if not indexes:
            self.clear_preview()
            return
        self.preview_file(self.fs_model.filePath(self.files_model.mapToSource(indexes[0])))

    # ---- context menu -----------------------------------------------------------------

    def context_menu(self, path: str) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Reveal in File Manager", lambda: desktop.reveal(path))
        menu.addAction("Copy Path", lambda: desktop.copy_text(path))
        self.contextMenuAboutToShow.emit(menu, path)
        model = describe_model_dir(path) if Path(path).is_dir() else None
        if model is not None:
            offered = [a for a in menu.actions() if not a.isSeparator() and a.data() == path]
            first = menu.actions()[0]
            for action in offered:  # what other panels offer for this model, ahead of the rest
                menu.removeAction(action)
                menu.insertAction(first, action)
                base = action.text().rstrip("…").rstrip(".")
                action.setText(f"{base} ({model.describe().replace('&', '&&')})…")  # no mnemonic
                action.setToolTip(f"A {model.flavor} model" + (f" ({model.model_class})" if model.model_class else ""))
            if offered:
                menu.insertSeparator(first)
        return menu

    @Slot(QPoint)
    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.files_model.mapToSource(self.tree.indexAt(pos))
        path = self.fs_model.filePath(index) if index.isValid() else str(self._root or "")
        if path:
            self.context_menu(path).exec(self.tree.viewport().mapToGlobal(pos))


def _has_files(path: Path | None) -> bool:
    """Whether ``path`` is a folder with something in it (a missing or odd path: no)."""
    try:
        return path is not None and path.is_dir() and next(path.iterdir(), None) is not None
    except OSError:
        return False
