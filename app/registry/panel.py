"""The model registry panel (``registryPanel``): models, versions, stages, aliases, history, lineage.

    panel = RegistryPanel(tracking_dir)
    panel.run_requested.connect(window.select_run)     # the lineage's run link
    panel.register_paths([Path(".../artifacts/model")])  # "Register model..." in the artifact tree
    panel.shutdown()                                     # stops the timer, joins the workers

Every registry call runs on a worker thread (``worker.TaskRunner``): ``reads`` (loading, the
change check, lineage), ``writes`` (stages, aliases, descriptions) and ``files`` (checking a drop
and copying a registration, which can take long). Changes by scripts, other windows and other
machines show after a load: ``live.ChangeWatch`` polls SQLite's change token every ``POLL_MS`` and
listens to PostgreSQL's change announcements.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QWidget

import tracker
from tracker.registry import ModelVersion

from app.shell import theme
from app.shell.errors import override_failed
from app.registry import jobs
from app.registry.dialogs import PromoteDialog, Promotion, RegisterDialog, Registration
from app.registry.dnd import DropRefused, accepts, local_paths
from app.registry.live import READ_FAILED, ChangeWatch
from app.registry.item_models import MODEL_ROLE, history_row, model_alias_warnings, model_subtitle
from app.registry.panel_ui import PanelUi
from app.registry.registering import Registrar
from app.registry.worker import TaskRunner
from app.shell.settings import Settings


class RegistryPanel(QWidget):
    """Emits ``run_requested(run_id)``, ``message(text)`` (for a status bar) and ``show_requested()``
    (a registration started while the panel may be hidden: show its dock)."""

    run_requested = Signal(str)
    message = Signal(str)
    show_requested = Signal()
    POLL_MS = 500

    def __init__(self, tracking_dir: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registryPanel")
        self.setAccessibleName("Model registry")
        self.setAcceptDrops(True)
        self._dir = Path(tracking_dir).expanduser().absolute() if tracking_dir else tracker.get_tracking_dir()
        self._generation = 0
        self._model: str | None = None
        self._version: int | None = None
        self._newest_by_default = False  # the selected version was picked as the newest, not by the user
        self._shown: ModelVersion | None = None  # the version whose lineage is shown
        self._reload_job = -1
        self._reload_again = False
        self.reads = TaskRunner("registry-reads", self)
        self.writes = TaskRunner("registry-writes", self)
        self.files = TaskRunner("registry-files", self)
        self.ui = PanelUi(self)
        self.registrar = Registrar(self)
        self.ui.restore_layout(Settings())
        self._connect()
        self.changes = ChangeWatch(self, self.POLL_MS)
        self.poll_timer = self.changes.timer  # stopped while PostgreSQL's announcements are listened to
        self.changes.changed.connect(self.refresh)
        self._open = True
        self.ui.set_read_only(self, jobs.read_only(self._dir))
        self._update_actions()
        self.refresh()

    def _connect(self) -> None:
        ui = self.ui
        ui.search.textChanged.connect(self._on_search)
        ui.models.selectionModel().currentChanged.connect(self._on_model_current)
        ui.models.paths_dropped.connect(self.registrar.on_dropped)
        ui.models.drop_refused.connect(self.registrar.on_refused)
        ui.models.drop_hint.connect(self.registrar.on_hint)
        ui.versions.selectionModel().currentRowChanged.connect(self._on_version_current)
        ui.versions.customContextMenuRequested.connect(self._on_versions_menu)
        ui.versions_model.edit_requested.connect(self._on_edit_requested)
        ui.versions_model.edit_rejected.connect(self._on_edit_rejected)
        for action in ui.stage_actions.values():
            action.triggered.connect(self._on_stage_action)
        ui.register_file_action.triggered.connect(self.registrar.register_file)
        ui.register_folder_action.triggered.connect(self.registrar.register_folder)
        ui.lineage.run_requested.connect(self.run_requested)
        ui.models.customContextMenuRequested.connect(self._on_models_menu)
        ui.serving.manager.message.connect(self._on_serving_message)

    # ---- public ---------------------------------------------------------------------------

    def tracking_dir(self) -> Path:
        return self._dir

    @Slot(object)
    def set_tracking_dir(self, path: str | Path) -> None:
        """Show the registry of another tracking directory (results for the old one are dropped)."""
        path = Path(path).expanduser().absolute()
        if path == self._dir:
            return
        self._dir, self._generation = path, self._generation + 1
        self._model, self._version, self._shown = None, None, None
        self.changes.reset()
        self._reload_job, self._reload_again = -1, False
        self.ui.models_model.set_models([])
        self.ui.versions_model.set_rows([])
        self.ui.lineage.clear()
        self.ui.set_read_only(self, jobs.read_only(path))
        self._update_actions()
        self.refresh()

    def selected_model(self) -> str | None:
        return self._model

    def selected_version(self) -> ModelVersion | None:
        index = self.ui.versions.currentIndex()
        return index.data(MODEL_ROLE) if index.isValid() else None

    def select_model(self, name: str | None) -> bool:
        """Select a model in the list (False if it is not listed, or hidden by the search)."""
        row = self.ui.models_model.row_of(name)
        index = self.ui.models_proxy.mapFromSource(self.ui.models_model.index(row)) if row >= 0 else QModelIndex()
        if index.isValid() and self.ui.models.currentIndex() != index:
            self.ui.models.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return index.isValid()

    def select_version(self, version: int) -> bool:
        row = self.ui.versions_model.row_of(version)
        if row < 0:
            return False
        index = self.ui.versions_proxy.mapFromSource(self.ui.versions_model.index(row, 0))
        self.ui.versions.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return True

    def is_loading(self) -> bool:
        return self.reads.is_pending(self._reload_job)

    def is_busy(self) -> bool:
        return self.reads.busy() or self.writes.busy() or self.files.busy()

    @Slot()
    def refresh(self) -> None:
        """Reload models, and the selected model's versions and history (coalesced)."""
        if self.reads.is_pending(self._reload_job):
            self._reload_again = True
            return
        gen, model = self._generation, self._model
        self._reload_job = self.reads.submit(jobs.load_state, self._dir, model,
                                             on_done=lambda s: self._on_state(gen, s),
                                             on_error=lambda e: self.read_failed(gen, e))

    def transition_selected(self, stage: str) -> bool:
        """Move the selected version to ``stage``; Production asks first. False if nothing happened."""
        mv = self.selected_version()
        if mv is None or mv.current_stage == stage or self.ui.read_only:
            return False
        archive, comment = False, ""
        if stage == "Production":
            model = self.ui.models_model.get(mv.name)
            current = [n for n in (model.versions_in("Production") if model else []) if n != mv.version]
            choice = self._ask_promotion(mv.name, mv.version, current)
            if choice is None:
                return False
            archive, comment = choice.archive and bool(current), choice.comment
        gen = self._generation
        self.writes.submit(jobs.transition, self._dir, mv.name, mv.version, stage, archive, comment,
                           on_done=lambda v: self._on_written(
                               gen, f"{v.name} v{v.version} is now in {v.current_stage}"),
                           on_error=lambda e: self._on_write_error(gen, e))
        return True

    def register_paths(self, paths: list[Path], model_name: str | None = None) -> None:
        """Register files or a folder (drops, "Register model..."): check them and find their run in
        a worker, ask name/description/stage (pre-filled with ``model_name``), copy with progress."""
        if self.ui.read_only:
            self.show_message(f"{self.ui.read_only}: models cannot be registered into it", error=True)
            return
        self.show_requested.emit()
        self.registrar.register_paths(paths, model_name)

    def show_version(self, name: str, version: int, text: str = "") -> None:
        """Select ``name`` v``version`` once loaded (after a registration), with a message."""
        self._model, self._version = name, version
        self.show_message(text)
        self.refresh()

    def generation(self) -> int:
        """Bumped by ``set_tracking_dir``: results of older work are dropped."""
        return self._generation

    @Slot(QMenu, str)
    def extend_artifact_menu(self, menu: QMenu, path: str) -> None:
        """Connect ``ArtifactsView.contextMenuAboutToShow`` here: adds "Register Model..."."""
        menu.addSeparator()
        action = menu.addAction("Register Model…")
        action.setData(path)
        action.triggered.connect(self.registrar.register_action)
        if self.ui.read_only:
            action.setEnabled(False)
            action.setToolTip(f"{self.ui.read_only}: models cannot be registered into it")

    def serve_version(self, mv: ModelVersion | None, prefer: str = "version") -> int:
        """"Serve…": ask whether to serve ``mv`` itself, its stage or one of its aliases (``prefer``
        picks which is chosen first), then start a server; its key in ``ui.serving``, -1 if none."""
        if mv is None:
            return -1
        return self.ui.serving.serve(mv.name, self.ui.models_model.get(mv.name), mv, prefer, self._dir)

    @Slot()
    def shutdown(self) -> None:
        """Stop watching for changes and the servers, join every worker, remember the layout (the
        window's closeEvent calls it)."""
        if self._open:
            self.ui.save_layout(Settings())
        self._open = False
        self.changes.stop()
        self.ui.serving.shutdown()
        for runner in (self.writes, self.files, self.reads):
            runner.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt: closing goes on
            override_failed("RegistryPanel.closeEvent")
        super().closeEvent(event)

    # ---- dialogs: one method each, so tests can replace them ----------------------------------

    def _ask_promotion(self, name: str, version: int, in_production: list[int]) -> Promotion | None:
        dialog = PromoteDialog(name, version, in_production, self)
        return dialog.result_value() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _ask_registration(self, source: jobs.DropSource, model_name: str | None) -> Registration | None:
        dialog = RegisterDialog(source, self.ui.models_model.names(), model_name, self,
                                next_versions=self.ui.models_model.next_versions)
        return dialog.result_value() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def _ask_source_path(self, folder: bool) -> str:
        if folder:
            return QFileDialog.getExistingDirectory(self, "Register Model Folder", str(self._dir))
        return QFileDialog.getOpenFileName(self, "Register Model File", str(self._dir))[0]

    # ---- loading ------------------------------------------------------------------------------

    def _on_state(self, gen: int, state: jobs.RegistryState) -> None:
        if gen != self._generation:
            return
        again, self._reload_again = self._reload_again, False
        self.changes.loaded(state)
        ui = self.ui
        ui.models_model.set_models(state.models, state.next_versions)
        ui.models_stack.setCurrentWidget(ui.models if state.models else ui.no_models)
        if self._model is not None and ui.models_model.row_of(self._model) < 0:
            self._model = self._version = None  # deleted by someone else
        if self._model is None and ui.models_proxy.rowCount():
            self._model = ui.models_proxy.index(0, 0).data()
            again = True  # load its versions next
        self.select_model(self._model)
        if state.model is not None and state.model == self._model:
            self._show_versions(state)
        elif self._model is None:
            ui.versions_model.set_rows([])
            ui.history_model.set_rows([])
            ui.middle_stack.setCurrentWidget(ui.no_model)
            ui.lineage.clear()
            self._shown = None
        if again or (self._model is not None and state.model != self._model):
            self.refresh()

    def _show_versions(self, state: jobs.RegistryState) -> None:
        ui = self.ui
        model = ui.models_model.get(state.model)
        ui.title.setText(state.model)
        ui.subtitle.setText(model_subtitle(model, len(state.versions)))
        ui.subtitle.setToolTip(model_alias_warnings(model))
        ui.middle_stack.setCurrentWidget(ui.middle)
        wanted = None if self._newest_by_default else self._version  # a newer version moves a default pick
        ui.versions_model.set_rows(state.versions)
        ui.history_model.set_rows([history_row(e) for e in reversed(state.history)])
        if wanted is None or not self.select_version(wanted):
            if ui.versions_proxy.rowCount():
                index = ui.versions_proxy.index(0, 0)
                ui.versions.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                self._newest_by_default = True
        self._show_lineage()

    def _show_lineage(self) -> None:
        mv = self.selected_version()
        self._version = mv.version if mv is not None else None
        self._update_actions()
        if mv is None:
            self._shown = None
            self.ui.lineage.clear()
            return
        if mv == self._shown:
            return
        self._shown, gen = mv, self._generation
        self.reads.submit(jobs.load_lineage, self._dir, mv.name, mv.version,
                          on_done=lambda info: self._on_lineage(gen, mv, info),
                          on_error=lambda e: self.read_failed(gen, e))

    def _on_lineage(self, gen: int, mv: ModelVersion, info: jobs.LineageInfo) -> None:
        if gen == self._generation and self._shown == mv:
            self.ui.lineage.set_lineage(info, self.ui.models_model.get(mv.name))

    def read_failed(self, gen: int, error: Exception) -> None:
        text = f"{READ_FAILED}: {error}"
        if gen == self._generation and self.ui.message.text() != text:  # polling repeats it
            self._reload_again = False
            self.show_message(text, error=True)

    # ---- selection ----------------------------------------------------------------------------

    @Slot(str)
    def _on_search(self, text: str) -> None:
        self.ui.models_proxy.setFilterFixedString(text)

    @Slot(QModelIndex, QModelIndex)
    def _on_model_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        name = current.data() if current.isValid() else None
        if name is not None and name != self._model:
            self._model, self._version = name, None
            self.refresh()

    @Slot(QModelIndex, QModelIndex)
    def _on_version_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._newest_by_default = False  # (set again after this when the panel itself picked the newest)
        self._show_lineage()

    def _update_actions(self) -> None:
        mv = self.selected_version()
        for stage, action in self.ui.stage_actions.items():
            action.setEnabled(mv is not None and mv.current_stage != stage and not self.ui.read_only)

    # ---- writing ------------------------------------------------------------------------------

    @Slot()
    def _on_stage_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.transition_selected(action.data())

    @Slot(str, int, str, object)
    def _on_edit_requested(self, name: str, version: int, field: str, value: object) -> None:
        if self.ui.read_only:
            self.show_message(f"{self.ui.read_only}: {field} cannot be changed", error=True)
            self.refresh()
            return
        gen = self._generation
        if field == "aliases":
            job, done = jobs.set_aliases, ", ".join(f"@{a}" for a in value) or "no aliases"
        else:
            job, done = jobs.set_description, "description saved"
        self.writes.submit(job, self._dir, name, version, value,
                           on_done=lambda v: self._on_written(gen, f"{name} v{version}: {done}"),
                           on_error=lambda e: self._on_write_error(gen, e))

    @Slot(str)
    def _on_edit_rejected(self, reason: str) -> None:
        self.show_message(reason[:1].upper() + reason[1:], error=True)

    def _on_written(self, gen: int, text: str) -> None:
        if gen == self._generation:
            self.show_message(text)
            self.refresh()

    def _on_write_error(self, gen: int, error: Exception) -> None:
        if gen != self._generation:
            return
        text = str(error) or type(error).__name__
        self.show_message(text[:1].upper() + text[1:], error=True)
        self.refresh()  # undo what an edit showed before it failed

    # ---- drops on the panel outside the models list ------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        try:
            if accepts(event.mimeData()):
                event.acceptProposedAction()
                self.show_message("Drop to register a model", announce=False)
            else:
                event.ignore()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("RegistryPanel.dragEnterEvent")

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        try:
            event.acceptProposedAction() if accepts(event.mimeData()) else event.ignore()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("RegistryPanel.dragMoveEvent")

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        try:
            self.show_message("", announce=False)
            event.accept()
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("RegistryPanel.dragLeaveEvent")

    def dropEvent(self, event: QDropEvent) -> None:
        try:
            event.acceptProposedAction()
            try:
                paths = local_paths(event.mimeData())
            except DropRefused as e:
                self.registrar.on_refused(str(e))
                return
            self.register_paths(paths)
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("RegistryPanel.dropEvent")

    # ---- context menu and messages --------------------------------------------------------------

    def version_menu(self) -> QMenu:
        """The versions table's context menu for the selected version."""
        return self.ui.version_menu(self, self.selected_version())

    @Slot(QPoint)
    def _on_versions_menu(self, pos: QPoint) -> None:
        self.version_menu().exec(self.ui.versions.viewport().mapToGlobal(pos))

    @Slot(QPoint)
    def _on_models_menu(self, pos: QPoint) -> None:
        if (model := self.ui.models.indexAt(pos).data(MODEL_ROLE)) is not None:  # serve a stage or an alias
            self.ui.serving.model_menu(model, self._dir, self).exec(self.ui.models.viewport().mapToGlobal(pos))

    @Slot(str, bool)
    def _on_serving_message(self, text: str, error: bool) -> None:
        self.show_message(text, error=error)

    def show_message(self, text: str, error: bool = False, announce: bool = True) -> None:
        """Show ``text`` on the panel's message line (red when ``error``); ``message`` too if ``announce``."""
        label = self.ui.message
        label.setText(text)
        label.setStyleSheet(f"color: {'#ff8a80' if theme.is_dark(self.palette()) else '#b42318'};"
                            if error else "")
        label.setProperty("error", error)
        if text and announce:
            self.message.emit(text)
