"""The run page's Tags tab: the user's own tags (``tagsTable``) with their editor (``tagsEditor``)
above them, or a note (``noUserTags``) when there are none, then the system tags
(``systemTagsTable``) under their heading."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from tracker.entities import Run, UnreadableRun

from app.common.table_look import record_table
from app.common.table_model import TableModel
from app.details.run_edits import RunEdits
from app.details.tags_editor import TagsEditor


def record_view(model: TableModel, name: str, parent: QWidget | None) -> QTableView:
    """A sorted, read-only table of ``model`` named ``name`` (``paramsTable``...), first column 220 px."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setAccessibleName(name.removesuffix("Table").capitalize())
    view.setModel(model)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    record_table(view)
    header = view.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(0, 220)
    return view


class TagsPage(QWidget):
    def __init__(self, tags: TableModel, system_tags: TableModel, run_of: Callable[[], Run | UnreadableRun | None],
                 edits: RunEdits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tags_table = record_view(tags, "tagsTable", self)
        self.system_tags_table = record_view(system_tags, "systemTagsTable", self)
        self.system_tags_table.setAccessibleName("System tags")
        self.no_tags = QLabel("No tags of your own yet: Add Tag…, or tracker.set_tag(key, value) in a script", self)
        self.no_tags.setObjectName("noUserTags")
        self.no_tags.setWordWrap(True)  # (a narrow pane wraps it rather than widening the page)
        self.no_tags.setProperty("muted", True)
        self.system_heading = QLabel(self)
        self.system_heading.setObjectName("panelHeading")  # the app's small-caps section style
        self.system_heading.setToolTip("Recorded by the tracker (tracker.*) or by MLflow (mlflow.*)")
        self.editor = TagsEditor(self.tags_table, run_of, edits, self)
        self.tags_table.selectionModel().selectionChanged.connect(self._on_selection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.editor)
        layout.addWidget(self.tags_table, 2)
        layout.addWidget(self.no_tags)
        layout.addWidget(self.system_heading)
        layout.addWidget(self.system_tags_table, 3)
        self.show_counts()

    @Slot()
    def _on_selection(self) -> None:
        self.editor.update_buttons()

    def show_counts(self) -> None:
        """The page laid out for the rows its models hold now."""
        mine, system = self.tags_table.model().rowCount(), self.system_tags_table.model().rowCount()
        self.tags_table.setVisible(bool(mine))
        _fit_rows(self.tags_table, mine)
        self.no_tags.setVisible(not mine)
        self.system_heading.setText(f"SYSTEM TAGS ({system})")
        self.editor.update_buttons()


def _fit_rows(view: QTableView, rows: int, most: int = 10) -> None:
    """No taller than its rows (up to ``most``): the system tags below get the rest."""
    if rows > most:
        view.setMaximumHeight(16777215)  # QWIDGETSIZE_MAX
        return
    row = view.verticalHeader().defaultSectionSize()
    view.setMaximumHeight(view.horizontalHeader().sizeHint().height() + (rows + 1) * row
                          + 2 * view.frameWidth())  # + a row for a horizontal scroll bar
