"""Adding, changing and removing a run's own tags on the Tags tab (``tagsEditor``).

Tags a person sets only: ``tracker.*`` and ``mlflow.*`` are the system's (shown apart, not
editable here). The edit goes through the library (``RunEdits``); the tags table updates when
the run's file changes, as it does for an edit from any other process.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableView, QWidget,
)

from tracker.entities import Run, UnreadableRun

from app.common.formatting import is_system_tag
from app.details.run_edits import RunEdits, editable

MAX_KEY = 250


def tag_problem(key: str, existing: set[str], original: str | None) -> str:
    """Why ``key`` cannot be a tag set here ("" when it can)."""
    if not key:
        return "A tag needs a name"
    if is_system_tag(key):
        return "Names starting with tracker. or mlflow. are the system's"
    if len(key) > MAX_KEY:
        return f"A tag's name has at most {MAX_KEY} characters"
    if key != original and key in existing:
        return f"The run has a tag {key} already: edit it instead"
    return ""


class TagDialog(QDialog):
    """Name and value of one tag; OK only while the name is one the user may set."""

    def __init__(self, key: str, value: str, existing: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagDialog")
        self.setWindowTitle("Edit Tag" if key else "Add Tag")
        self._existing, self._original = existing, key or None
        self.key_edit = QLineEdit(key, self)
        self.key_edit.setObjectName("tagKeyEdit")
        self.value_edit = QLineEdit(value, self)
        self.value_edit.setObjectName("tagValueEdit")
        self.problem = QLabel(self)
        self.problem.setObjectName("tagProblem")
        self.problem.setProperty("muted", True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Name", self.key_edit)
        form.addRow("Value", self.value_edit)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.key_edit.textChanged.connect(self._check)
        self._check()
        self.resize(420, self.sizeHint().height())
        (self.value_edit if key else self.key_edit).setFocus()

    @Slot()
    def _check(self) -> None:
        problem = tag_problem(self.key_edit.text().strip(), self._existing, self._original)
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def tag(self) -> tuple[str, str]:
        return self.key_edit.text().strip(), self.value_edit.text()


class TagsEditor(QWidget):
    """The bar above the user's tags: Add Tag…, Edit…, Remove, and what became of the last edit."""

    def __init__(self, table: QTableView, run_of: Callable[[], Run | UnreadableRun | None],
                 edits: RunEdits, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagsEditor")
        self._table, self._run_of, self._edits = table, run_of, edits
        self.add_button = self._button("addTagButton", "Add Tag…", "Set a tag of your own on this run", self.add_tag)
        self.edit_button = self._button("editTagButton", "Edit…", "Change the selected tag", self.edit_tag)
        self.remove_button = self._button("removeTagButton", "Remove", "Remove the selected tag from this run",
                                          self.remove_tag)
        self.message = QLabel(self)
        self.message.setObjectName("tagsMessage")
        self.message.setProperty("muted", True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        for button in (self.add_button, self.edit_button, self.remove_button):
            layout.addWidget(button)
        layout.addWidget(self.message, 1)
        table.doubleClicked.connect(self.edit_tag)
        edits.done.connect(self._on_done)
        edits.failed.connect(self.message.setText)
        self.update_buttons()

    def _button(self, name: str, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def update_buttons(self) -> None:
        """Enabled for a run the app may write; Edit and Remove for a selected tag."""
        can = editable(self._run_of())
        self.add_button.setEnabled(can)
        selected = can and self.selected_key() is not None
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
        self.setToolTip("" if can else "This run is read-only here (an MLflow store, or an unreadable run)")

    def selected_key(self) -> str | None:
        selection = self._table.selectionModel()
        rows = selection.selectedRows(0) if selection is not None else []
        if not rows and selection is not None and selection.currentIndex().isValid():
            rows = [selection.currentIndex().siblingAtColumn(0)]
        return str(rows[0].data(Qt.ItemDataRole.DisplayRole)) if rows else None

    def _user_tags(self) -> dict[str, str]:
        run = self._run_of()
        return {k: v for k, v in run.data.tags.items() if not is_system_tag(k)} if isinstance(run, Run) else {}

    # ---- actions ------------------------------------------------------------------------------

    @Slot()
    def add_tag(self) -> None:
        run = self._run_of()
        if not editable(run):
            return
        found = self._ask_tag("", "", set(self._user_tags()))
        if found is not None:
            self._edits.set_tag(run, *found)
            self.message.setText(f"Setting {found[0]}…")

    @Slot()
    def edit_tag(self) -> None:
        run, key = self._run_of(), self.selected_key()
        if not editable(run) or key is None:
            return
        tags = self._user_tags()
        found = self._ask_tag(key, tags.get(key, ""), set(tags))
        if found is None:
            return
        new_key, value = found
        self._edits.set_tag(run, new_key, value)
        if new_key != key:  # renamed: the old name goes once the new one is set (in that order)
            self._edits.delete_tag(run, key)
        self.message.setText(f"Setting {new_key}…")

    @Slot()
    def remove_tag(self) -> None:
        run, key = self._run_of(), self.selected_key()
        if editable(run) and key is not None and key in self._user_tags():
            self._edits.delete_tag(run, key)
            self.message.setText(f"Removing {key}…")

    @Slot(str)
    def _on_done(self, what: str) -> None:
        self.message.setText("")

    def _ask_tag(self, key: str, value: str, existing: set[str]) -> tuple[str, str] | None:
        """The tag dialog (tests replace this one method)."""
        dialog = TagDialog(key, value, existing, self.window())
        return dialog.tag() if dialog.exec() == QDialog.DialogCode.Accepted else None
