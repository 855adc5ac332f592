"""The registry panel's two small dialogs: promoting to Production, and registering a drop.

Each is opened by one method of the panel (``_ask_promotion``, ``_ask_registration``), so tests
replace that method and never see a modal window.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QVBoxLayout, QWidget,
)

from tracker.model_trust import Trust
from tracker.registry import similar_names, validate_name

from app.common.formatting import format_size
from app.shell.theme import is_dark
from app.registry.jobs import DropSource


@dataclass(frozen=True)
class Promotion:
    archive: bool
    comment: str = ""


@dataclass(frozen=True)
class Registration:
    name: str
    description: str = ""
    stage: str = "None"
    archive: bool = True
    trust: Trust = Trust()  # what the person trusts when this version is loaded


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _muted(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("muted", True)
    label.setWordWrap(True)
    return label


class PromoteDialog(QDialog):
    """"Move fraud v4 to Production?" with "archive the version now in Production" ticked."""

    def __init__(self, name: str, version: int, in_production: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promoteDialog")
        self.setWindowTitle("Promote to Production")
        title = QLabel(f"Move <b>{name}</b> version <b>{version}</b> to Production?", self)
        current = ", ".join(f"v{n}" for n in in_production)
        self.archive = QCheckBox(f"Archive the version now in Production ({current})" if in_production
                                 else "Archive the version now in Production", self)
        self.archive.setObjectName("archiveExisting")
        self.archive.setAccessibleName("Archive the version now in Production")
        self.archive.setChecked(True)
        self.archive.setEnabled(bool(in_production))
        note = _muted("Scripts loading models:/{}/Production get version {} from now on.".format(name, version)
                      if in_production else "No version is in Production yet.", self)
        self.comment = QLineEdit(self)
        self.comment.setObjectName("promoteComment")
        self.comment.setAccessibleName("Comment")
        self.comment.setPlaceholderText("Why (optional, kept in the history)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Promote")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        for widget in (title, note, self.archive, self.comment, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(420)

    def result_value(self) -> Promotion:
        return Promotion(self.archive.isChecked() and self.archive.isEnabled(), self.comment.text().strip())


def describe_source(source: DropSource) -> str:
    """"rf-100-10 (iris-random-forest), found from its path in the run's artifacts"."""
    if not source.run_id:
        return "No producing run found (no run's artifacts hold this content)"
    who = source.run_name or source.run_id[:8]
    if source.experiment:
        who += f" ({source.experiment})"
    how = {"run": "found from its path in the run's artifacts",
           "manifest": "named by the model's manifest",
           "sha256": f"found by content hash: the run's artifacts hold an identical {source.artifact_path}"}
    text = f"{who}, {how.get(source.found_by or '', '')}"
    if source.other_runs:
        text += f"; {len(source.other_runs)} other run{'s' if len(source.other_runs) > 1 else ''} hold it too"
    return text


class RegisterDialog(QDialog):
    """Model name (new or existing), description, initial stage; shows the source and its run.

    The name starts as ``model_name`` (the model dropped on or selected in the panel), else the
    producing run's name. ``next_versions`` (model -> the number its next version gets) lets the
    dialog say "Will be registered as fraud v4". A new name that differs from an existing model's
    only in case or punctuation must be confirmed (``registerConfirmNew``) before Register works.
    """

    def __init__(self, source: DropSource, models: list[str], model_name: str | None = None,
                 parent: QWidget | None = None, next_versions: Mapping[str, int] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registerDialog")
        self.setWindowTitle("Register Model Version")
        self._models = set(models)
        self._next = dict(next_versions or {})
        self._valid = False
        self.name = QComboBox(self)
        self.name.setObjectName("registerName")
        self.name.setAccessibleName("Model name")
        self.name.setEditable(True)
        self.name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.name.addItems(sorted(models, key=str.lower))
        self.name.setEditText(model_name or source.suggested_name)
        self.name_note = QLabel(self)
        self.name_note.setObjectName("registerVersionNote")
        self.name_note.setWordWrap(True)
        self.similar = self._similar_row()
        self.description = QLineEdit(self)
        self.description.setObjectName("registerDescription")
        self.description.setAccessibleName("Description")
        self.description.setPlaceholderText("What is this version? (optional)")
        self.stage = QComboBox(self)
        self.stage.setObjectName("registerStage")
        self.stage.setAccessibleName("Initial stage")
        self.stage.addItems(["None", "Staging", "Production"])
        self.archive = QCheckBox("Archive the version now in that stage", self)
        self.archive.setObjectName("registerArchive")
        self.archive.setAccessibleName("Archive the version now in that stage")
        self.archive.setChecked(True)
        kind = "folder" if source.is_dir else "file"
        what = QLabel(f"{source.path.name} <span>({kind}, {source.files} file{'s' if source.files != 1 else ''}, "
                      f"{format_size(source.size)})</span>", self)
        what.setToolTip(str(source.path))
        run = QLabel(describe_source(source), self)
        run.setObjectName("registerRun")
        run.setWordWrap(True)
        self.trust_types = self._trust_box(
            "registerTrustTypes", f"Trust {', '.join(source.needs.types)} when loading this version",
            "Loading it needs types that skops does not trust by default. Tick only if you trust "
            "whoever made this model: the registry records your decision.", bool(source.needs.types))
        self.trust_pickle = self._trust_box(
            "registerTrustPickle", "Trust the pickle: loading it runs any code its author put in it",
            "Loading a pickle runs code from the file. Tick only if you trust whoever made it.", source.needs.pickle)
        self._needs = source.needs
        self.error = QLabel(self)
        self.error.setObjectName("filterError")  # the app's inline error style
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.addRow("Source", what)
        form.addRow("Run", run)
        model_box = QWidget(self)  # the name, what it will become and any warning, kept together
        model_layout = QVBoxLayout(model_box)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.setSpacing(4)
        for widget in (self.name, self.name_note, self.similar):
            model_layout.addWidget(widget)
        form.addRow("Model", model_box)
        form.addRow("Description", self.description)
        form.addRow("Stage", self.stage)
        form.addRow("", self.archive)
        if source.needs:
            form.addRow("Trust", self.trust_types if source.needs.types else self.trust_pickle)
            if source.needs.types and source.needs.pickle:
                form.addRow("", self.trust_pickle)
            form.addRow("", _muted("Loading this model needs what skops does not trust by default. Tick only "
                                   "if you trust whoever made it: the registry keeps your decision.", self))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Register")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)
        self.name.editTextChanged.connect(self._on_name_changed)
        self.confirm_new.toggled.connect(self._on_confirm_toggled)
        self.stage.currentTextChanged.connect(self._on_stage_changed)
        self._on_name_changed(self.name.currentText())
        self._on_stage_changed(self.stage.currentText())

    def _trust_box(self, name: str, text: str, tip: str, shown: bool) -> QCheckBox:
        """Unticked: trust is a decision the person makes here, never a default."""
        box = QCheckBox(text, self)
        box.setObjectName(name)
        box.setAccessibleName(text)
        box.setToolTip(tip)
        box.setChecked(False)
        box.setVisible(shown)
        return box

    def _similar_row(self) -> QWidget:
        """"A model named fraud_model exists..." with a button to use it and a box to go on anyway."""
        box = QWidget(self)
        box.setObjectName("registerSimilar")
        self.similar_text = QLabel(box)
        self.similar_text.setObjectName("registerSimilarText")
        self.similar_text.setWordWrap(True)
        self.similar_text.setTextFormat(Qt.TextFormat.RichText)
        self.similar_text.setStyleSheet(f"color: {'#f5d08a' if is_dark(self.palette()) else '#7a4b00'};")
        self.use_similar = QPushButton(box)
        self.use_similar.setObjectName("registerUseSimilar")
        self.use_similar.clicked.connect(self._on_use_similar)
        self.confirm_new = QCheckBox(box)
        self.confirm_new.setObjectName("registerConfirmNew")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.similar_text)
        row = QHBoxLayout()
        row.addWidget(self.use_similar)
        row.addWidget(self.confirm_new, 1)
        layout.addLayout(row)
        box.hide()
        return box

    def version_text(self, name: str) -> str:
        """"Will be registered as fraud v4" (or "... as a new model, fraud v1")."""
        if name in self._models:
            number = self._next.get(name)
            return f"Will be registered as {name} v{number}" if number else f"Will be a new version of {name}"
        return f"Will be registered as a new model, {name} v1"

    @Slot(str)
    def _on_name_changed(self, text: str) -> None:
        name = text.strip()
        try:
            validate_name(name)
        except ValueError as e:
            self.error.setText(str(e).capitalize())
            self.name_note.setText("")
            self.similar.hide()
            ok = False
        else:
            self.error.setText("")
            self.name_note.setText(self.version_text(name))
            ok = True
            self._show_similar(name)
        self.error.setVisible(not ok)
        self._valid = ok
        self._set_ok()

    def _show_similar(self, name: str) -> None:
        alike = [] if name in self._models else similar_names(name, self._models)
        if alike:
            listed = ", ".join(f"<b>{_escape(a)}</b>" for a in alike)
            self.similar_text.setText(
                f"\u26a0 A model named {listed} exists: <b>{_escape(name)}</b> differs from it only in case "
                "or punctuation, and would be a separate model with its own versions.")
            self.use_similar.setText(f"Use {alike[0]}")
            self.use_similar.setProperty("target", alike[0])
            self.confirm_new.setText(f"Create {name} anyway")
            self.confirm_new.setChecked(False)
        self.similar.setVisible(bool(alike))

    @Slot()
    def _on_use_similar(self) -> None:
        target = self.use_similar.property("target")
        if isinstance(target, str):
            self.name.setEditText(target)

    @Slot(bool)
    def _on_confirm_toggled(self, checked: bool) -> None:
        self._set_ok()

    def _set_ok(self) -> None:
        """Register works for a valid name that is not an unconfirmed near-copy of another."""
        unconfirmed = self.similar.isVisibleTo(self) and not self.confirm_new.isChecked()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self._valid and not unconfirmed)

    @Slot(str)
    def _on_stage_changed(self, stage: str) -> None:
        self.archive.setVisible(stage != "None")
        self.archive.setText(f"Archive the version now in {stage}")

    def result_value(self) -> Registration:
        trust = Trust(self._needs.types if self.trust_types.isChecked() else (),
                      self._needs.pickle and self.trust_pickle.isChecked())
        return Registration(self.name.currentText().strip(), self.description.text().strip(),
                            self.stage.currentText(), self.archive.isChecked(), trust)
