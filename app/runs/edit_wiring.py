"""Editing runs from the main window: rename in place (F2), Move to Trash (Delete) with Undo in
the status bar, and the Deleted view with Restore. Built once by ``MainWindow`` (``RunEditing``).

The runs table's actions: ``rename_action`` ("Rename…", F2) and ``delete_action`` ("Move to
Trash", Delete), on the table and in its context menu. The window's ``runs_stack`` shows the
runs table, or the Deleted view (``deletedView``, made when first shown) while "Deleted" is
chosen in the experiments list. Nothing is offered for a store the app only reads (MLflow's).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from tracker.entities import Run

from app.runs import access as run_access
from app.runs.editing import RunEditor, TrashResult
from app.runs.name_editor import NameEditor
from app.runs.trash_contents import TrashContents, empty
from app.runs.undo_offer import UndoOffer

if TYPE_CHECKING:
    from pathlib import Path

    from app.runs.trash_view import TrashView
    from app.shell.window import MainWindow


class RunEditing(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        view = window.runs_view
        self.editor = RunEditor(self._writable_root, self)
        self.name_editor = NameEditor(view.table)
        self.offer = UndoOffer(window.statusBar(), window)
        self.trash = empty("")
        self.trash_view: TrashView | None = None  # made when "Deleted" is first chosen

        self.rename_action = self._table_action("Rename\u2026", QKeySequence(Qt.Key.Key_F2), self.rename_current)
        self.rename_action.setObjectName("renameRunAction")
        self.delete_action = self._table_action("Move to Trash", QKeySequence(QKeySequence.StandardKey.Delete),
                                                self.delete_selected)
        self.delete_action.setObjectName("deleteRunsAction")
        view.rename_action, view.delete_action = self.rename_action, self.delete_action
        view.edit_actions = [self.rename_action, self.delete_action]

        self.name_editor.committed.connect(self._on_name_committed)
        self.editor.edited.connect(window.source.reread)
        self.editor.failed.connect(window.status.show)
        self.editor.deleted.connect(self._on_deleted)
        self.editor.restored.connect(self._on_restored)
        self.offer.undoRequested.connect(self.editor.restore)
        window.source.trash_changed.connect(self._on_trash_changed)
        window.experiments.deletedSelected.connect(self._on_deleted_selected)
        window.directoryOpened.connect(self._on_directory_opened)
        self._pending_names: dict[str, str] = {}  # run id -> name, of runs being moved to the trash

    def _table_action(self, text: str, shortcut: QKeySequence, slot) -> QAction:
        table = self.window.runs_view.table
        action = QAction(text, table)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(slot)
        table.addAction(action)
        return action

    def _writable_root(self) -> Path | None:
        root = self.window.runs_dir
        return None if root is None or run_access.is_read_only(root) else root

    # ---- rename -------------------------------------------------------------------------

    @Slot()
    def rename_current(self) -> bool:
        """Open the name editor on the current run (a readable run of a writable directory)."""
        run = self.window.runs_view.current_run()
        if not isinstance(run, Run) or self._writable_root() is None:
            return False
        return self.name_editor.start(run.info.run_id, run.info.run_name or "")

    @Slot(str, str)
    def _on_name_committed(self, run_id: str, name: str) -> None:
        if self.editor.rename(run_id, name):
            self.window.status.show(f"Renamed to \u201c{name}\u201d")

    # ---- the trash ----------------------------------------------------------------------

    @Slot()
    def delete_selected(self) -> None:
        """Move the selected runs to the trash (all of them, or none with the library's reason)."""
        if self._writable_root() is None or self.name_editor.is_editing():
            return
        model = self.window.runs_model
        rows = sorted(i.row() for i in self.window.runs_view.table.selectionModel().selectedRows())
        run_ids = [model.run_id_at(r) for r in rows]
        if not run_ids:
            return
        self._pending_names.update({model.run_id_at(r): model.index(r, model.column_index("name")).data(
            Qt.ItemDataRole.UserRole) or model.run_id_at(r) for r in rows})
        self.offer.withdraw()
        self.editor.delete(run_ids)

    @Slot(object)
    def _on_deleted(self, result: TrashResult) -> None:
        names = [self._pending_names.pop(r, r) for r in result.run_ids]
        if result.run_ids:
            self.offer.offer(result.run_ids, names)
            self.window.status.clear()
        else:
            self._pending_names.clear()

    @Slot(object)
    def _on_restored(self, result: TrashResult) -> None:
        if result.run_ids and not result.error:
            count = len(result.run_ids)
            self.window.status.show(f"Restored {count:,} run{'s' if count != 1 else ''}")

    @Slot(list)
    def restore(self, run_ids: list) -> None:
        if self._writable_root() is not None:
            self.editor.restore(list(run_ids))

    @Slot(object)
    def _on_trash_changed(self, contents: TrashContents) -> None:
        self.trash = contents
        self.window.experiments.set_deleted_count(contents.count)
        if self.trash_view is not None:
            self.trash_view.set_contents(contents)

    @Slot(bool)
    def _on_deleted_selected(self, shown: bool) -> None:
        stack, window = self.window.runs_stack, self.window
        if shown:  # the run page shows the deleted run chosen there, as it was
            view = self._trash_view()
            self._move_focus(window.runs_view, view.table)
            stack.setCurrentWidget(view)
            if not view.table.currentIndex().isValid() and view.model.rowCount():
                view.table.selectRow(0)  # (the run page follows: currentRunChanged)
            else:
                window.details.set_run(view.current_run())
        else:
            if self.trash_view is not None:
                self._move_focus(self.trash_view, window.runs_view.table)
            stack.setCurrentWidget(window.runs_view)
            window.details.set_run(window.runs_view.current_run())

    @staticmethod
    def _move_focus(leaving: QWidget, to: QWidget) -> None:
        """The keys go to the page shown when the one being hidden had them (not to whatever is next)."""
        focus = QApplication.focusWidget()
        if focus is not None and (focus is leaving or leaving.isAncestorOf(focus)):
            to.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(object)
    def _on_deleted_run_chosen(self, run: object) -> None:
        if self.window.experiments.is_deleted_shown():
            self.window.details.set_run(run)

    def _trash_view(self) -> TrashView:
        if self.trash_view is None:
            from app.runs.trash_view import TrashView  # (made on first use: start-up is measured)
            self.trash_view = TrashView(self.window.runs_stack)
            self.trash_view.restoreRequested.connect(self.restore)
            self.trash_view.currentRunChanged.connect(self._on_deleted_run_chosen)
            self.trash_view.set_contents(self.trash)
            self.window.runs_stack.addWidget(self.trash_view)
        return self.trash_view

    @Slot(object)
    def _on_directory_opened(self, path: object) -> None:
        self.name_editor.cancel()
        self.offer.withdraw()
        self._pending_names.clear()
        writable = self._writable_root() is not None
        self.rename_action.setEnabled(writable)
        self.delete_action.setEnabled(writable)
        self._on_trash_changed(empty(str(path)))
