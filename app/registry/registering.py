"""Registering files and folders from the panel: check the drop, ask, copy with progress.

    drop / "Register model..."  ->  files worker: jobs.inspect_paths (refusals, the producing run)
        ->  panel._ask_registration (name, description, stage)  ->  files worker: jobs.register
        (progress in the panel's bar)  ->  the panel reloads and selects the new version
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction

from tracker.registry import ModelVersion

from app.registry import jobs

if TYPE_CHECKING:
    from app.registry.panel import RegistryPanel


class Registrar(QObject):
    def __init__(self, panel: "RegistryPanel") -> None:
        super().__init__(panel)
        self.panel = panel
        self.active = 0  # registrations copying now

    def register_paths(self, paths: list[Path], model_name: str | None = None) -> None:
        panel, paths = self.panel, [Path(p) for p in paths]
        gen = panel.generation()
        panel.show_message(f"Checking {paths[0].name if paths else 'the drop'}…")
        panel.files.submit(jobs.inspect_paths, panel.tracking_dir(), paths,
                           on_done=lambda src: self._on_inspected(gen, src, model_name),
                           on_error=lambda e: self._on_refused(gen, e))

    @Slot(list, object)
    def on_dropped(self, paths: list, model_name: object) -> None:
        """Paths dropped on the models list (on a model: ``model_name``)."""
        self.panel.register_paths(paths, model_name if isinstance(model_name, str) else None)

    @Slot(str)
    def on_refused(self, reason: str) -> None:
        self.panel.show_message(f"Nothing registered. {reason}", error=True)

    @Slot(str)
    def on_hint(self, text: str) -> None:
        self.panel.show_message(text, announce=False)

    @Slot()
    def register_action(self) -> None:
        """An action whose data is a path ("Register Model..." in the artifact tree's menu)."""
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.panel.register_paths([Path(action.data())])

    @Slot()
    def register_file(self) -> None:
        if path := self.panel._ask_source_path(False):
            self.panel.register_paths([Path(path)], self.panel.selected_model())

    @Slot()
    def register_folder(self) -> None:
        if path := self.panel._ask_source_path(True):
            self.panel.register_paths([Path(path)], self.panel.selected_model())

    def _on_refused(self, gen: int, error: Exception) -> None:
        if gen == self.panel.generation():
            text = str(error) or type(error).__name__
            self.panel.show_message(f"Nothing registered. {text[:1].upper() + text[1:]}", error=True)

    def _on_inspected(self, gen: int, source: jobs.DropSource, model_name: str | None) -> None:
        panel = self.panel
        if gen != panel.generation():
            return
        panel.show_message("")
        # the model dropped on, else the one selected: registering a new version is the common case
        choice = panel._ask_registration(source, model_name or panel.selected_model())
        if choice is None:
            panel.show_message("Registration cancelled: nothing was registered")
            return
        self.active += 1
        panel.ui.progress.setRange(0, 0)
        panel.ui.progress.show()
        panel.show_message(f"Registering {source.path.name} as {choice.name}…")
        panel.files.submit(jobs.register, panel.tracking_dir(), source, choice.name, choice.description,
                           choice.stage, choice.archive, trust=choice.trust,
                           on_done=lambda mv: self._on_registered(gen, mv),
                           on_error=lambda e: self._on_failed(gen, e), on_progress=self._on_progress)

    def _on_progress(self, done: int, total: int) -> None:
        scale = max(1, total // 1_000_000)  # QProgressBar counts in ints: count in MB above 1 TB/1e6
        bar = self.panel.ui.progress
        bar.setRange(0, max(1, total // scale))
        bar.setValue(done // scale)

    def _ended(self) -> None:
        self.active = max(0, self.active - 1)
        if self.active == 0:
            self.panel.ui.progress.hide()

    def _on_registered(self, gen: int, mv: ModelVersion) -> None:
        self._ended()
        if gen != self.panel.generation():
            return
        stage = f", in {mv.current_stage}" if mv.current_stage != "None" else ""
        self.panel.show_version(mv.name, mv.version, f"Registered {mv.name} v{mv.version}{stage}")

    def _on_failed(self, gen: int, error: Exception) -> None:
        self._ended()
        self.panel._on_write_error(gen, error)
