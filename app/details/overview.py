"""A run's Overview tab (``overviewScroll``): status, times, where it came from, how to rerun it.

The form keeps its natural row heights at the top of a tall pane (a stretch below it takes the
rest). "Registered as" is filled in later, once the registry has been asked off the GUI thread.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from tracker.entities import Run, UnreadableRun
from tracker.output_capture import traceback_path
from tracker.reproduce import RunSource, reproduce

from app.common.formatting import (
    BRANCH_TAG, COMMIT_TAG, DIRTY_TAG, HOST_TAG, REPO_TAG, SOURCE_TAG, argv_text, format_duration, format_time,
    user_tags,
)
from app.details.copying import copy_from
from app.details.description import DescriptionPanel
from app.details.links import LinkLabel
from app.details.run_edits import RunEdits

MAX_TRACEBACK_BYTES = 256 * 1024  # the end of a longer one is shown (the exception is at the end)


def full_traceback(run: Run) -> str:
    """The traceback the run kept when it failed with an exception ("" when it kept none)."""
    from tracker.store.regular import open_regular
    try:
        with open_regular(traceback_path(run.path)) as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - MAX_TRACEBACK_BYTES))
            data = f.read(MAX_TRACEBACK_BYTES)
    except (OSError, ValueError):
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > MAX_TRACEBACK_BYTES:
        text = "…\n" + text[text.find("\n") + 1:]
    return text


def value_label(text: str, mono: bool = False, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if mono:
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label


def _row_widget(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(8)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return row


class Overview(QScrollArea):
    """``show_run(run)``, then ``show_registered([(model, version), ...])`` when known.

    Emits ``runRequested(run_id)`` (the parent-run link), ``versionRequested(model, version)``
    (the "Registered as" link) and ``diffRequested()`` (View Diff)."""

    runRequested = Signal(str)
    versionRequested = Signal(str, int)
    diffRequested = Signal()

    def __init__(self, parent: QWidget | None = None, edits: RunEdits | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overviewScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.page = QWidget()
        self.page.setObjectName("overview")
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.form.setHorizontalSpacing(14)
        self.form.setVerticalSpacing(7)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        column = QVBoxLayout(self.page)
        column.setContentsMargins(4, 6, 4, 6)
        self.description = DescriptionPanel(edits or RunEdits(self), self.page)
        column.addWidget(self.description)
        column.addLayout(self.form)
        column.addStretch(1)  # a tall pane leaves room below the rows, not between them
        self.setWidget(self.page)
        self.registered: LinkLabel | None = None
        self.copy_command_button: QPushButton | None = None
        self._versions: list[tuple[str, int]] = []
        self._command = ""

    # ---- filling ------------------------------------------------------------------------

    def add(self, label: str, value: str | QWidget, mono: bool = False) -> QWidget | None:
        if isinstance(value, str):
            if not value:
                return None
            value = value_label(value, mono)
        self.form.addRow(label, value)
        return value

    def clear(self) -> None:
        # Rows are taken out and their widgets deleted later, not at once (removeRow): deleting the
        # widget that has the focus at once, from this call, left PySide's wrappers of the window's
        # menu actions invalid ("Internal C++ object already deleted") though the actions live on.
        while self.form.rowCount():
            row = self.form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.hide()
                    widget.deleteLater()
        self.registered = self.copy_command_button = None
        self._versions, self._command = [], ""

    def show_run(self, run: Run | UnreadableRun, name_of: Callable[[str], str | None],
                 has_diff: bool = False) -> None:
        """Fill the form; ``name_of`` names the parent run, ``has_diff``: the saved diff can be shown."""
        self.clear()
        self.description.show_run(run)
        if isinstance(run, UnreadableRun):
            self.add("Status", "Duplicate: a copy of another run's folder" if run.is_duplicate
                     else "Unreadable: this run's files could not be read")
            self.add("Reason", run.reason)
            self.add("Run ID", run.run_id, mono=True)
            self.add("Path", run.path)
            return
        info, tags = run.info, run.data.tags
        self.add("Status", info.status.capitalize())
        error = (full_traceback(run) or info.error or "") if info.error or info.status == "FAILED" else ""
        if error.strip():  # first thing to see on a failed run: the whole traceback, its end in view
            self.add("Error", self._error_view(error))
        self.registered = LinkLabel()
        self.registered.setObjectName("registeredAs")
        self.registered.setAccessibleName("Registered model versions of this run")
        self.registered.setToolTip("Show this version in the model registry")
        self.registered.linkActivated.connect(self._on_version_link)
        self.add("Registry", self.registered)
        self.form.setRowVisible(self.registered, False)  # until the registry has answered
        self.add("Started", format_time(info.start_time, seconds=True))
        self.add("Ended", format_time(info.end_time, seconds=True) if info.end_time else "")
        self.add("Duration", format_duration(info.duration_ms))
        if info.parent_run_id:
            name = html.escape(name_of(info.parent_run_id) or info.parent_run_id[:8])
            link = LinkLabel(f'<a href="{html.escape(info.parent_run_id)}">{name}</a>')
            link.setObjectName("parentRunLink")
            link.linkActivated.connect(self.runRequested)
            self.add("Parent run", link)
        mine = user_tags(tags)
        if mine:
            text = ", ".join(f"{key}: {value}" for key, value in sorted(mine.items(), key=lambda kv: kv[0].lower()))
            self.add("Tags", text).setObjectName("overviewTags")
        self.add("Source", tags.get(SOURCE_TAG, ""))
        self.add("Command", argv_text(tags), mono=True)
        if tags.get(COMMIT_TAG):
            self.add("Git", self._git_row(tags, has_diff))
            self.add("Repository", tags.get(REPO_TAG, ""))
        self._reproduce_row(run)
        self.add("User", info.user or tags.get("tracker.user", ""))
        self.add("Host", info.host or tags.get(HOST_TAG, ""))
        self.add("Run ID", info.run_id, mono=True)
        self.add("Path", run.path)

    def show_registered(self, versions: Sequence[tuple[str, int]]) -> None:
        """"Registered as fraud v3" (one link per version), or no row when there are none."""
        if self.registered is None:
            return
        self._versions = list(versions)
        links = ", ".join(f'<a href="{i}">{html.escape(name)} v{version}</a>'
                          for i, (name, version) in enumerate(self._versions))
        self.registered.set_html(f"Registered as {links}" if links else "")
        self.form.setRowVisible(self.registered, bool(self._versions))

    def registered_versions(self) -> list[tuple[str, int]]:
        return list(self._versions)

    # ---- rows ---------------------------------------------------------------------------

    @staticmethod
    def _error_view(text: str) -> QPlainTextEdit:
        error = QPlainTextEdit(text.rstrip())
        error.setObjectName("errorText")
        error.setAccessibleName("Error")
        error.setReadOnly(True)
        error.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        error.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lines = min(14, text.rstrip().count("\n") + 1)
        error.setFixedHeight(error.fontMetrics().lineSpacing() * lines + 16)
        error.moveCursor(error.textCursor().MoveOperation.End)  # the exception is at the bottom
        return error

    def _git_row(self, tags: dict[str, str], has_diff: bool) -> QWidget:
        parts: list[QWidget] = [value_label(tags[COMMIT_TAG][:12], mono=True),
                                value_label(f"on {tags.get(BRANCH_TAG) or 'detached HEAD'}")]
        if tags.get(DIRTY_TAG) == "true":
            dirty = QLabel("uncommitted changes")
            dirty.setObjectName("dirtyBadge")
            dirty.setToolTip("The working tree had changes that were not committed when the run started")
            diff = QPushButton("View Diff")
            diff.setObjectName("viewDiffButton")
            diff.setAccessibleName("View saved git diff")
            diff.setEnabled(has_diff)
            diff.clicked.connect(self.diffRequested)
            parts += [dirty, diff]
        return _row_widget(*parts)

    def _reproduce_row(self, run: Run) -> None:
        found = reproduce(RunSource.of_run(run))
        if not found.command:
            if found.problem and run.data.tags.get(SOURCE_TAG):
                problem = self.add("Reproduce", found.problem)
                problem.setObjectName("reproduceProblem")
                problem.setProperty("muted", True)
            return
        self._command = found.command
        command = value_label(found.command, mono=True)
        command.setObjectName("reproduceCommand")
        command.setToolTip("\n".join(found.notes))
        self.copy_command_button = QPushButton("Copy")
        self.copy_command_button.setObjectName("copyReproduceButton")
        self.copy_command_button.setAccessibleName("Copy reproduce command")
        self.copy_command_button.setToolTip("Copy the command that reruns this run from its commit, with its "
                                            "saved changes and its interpreter")
        self.copy_command_button.clicked.connect(self.copy_command)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(command, 1)
        layout.addWidget(self.copy_command_button, 0, Qt.AlignmentFlag.AlignTop)
        self.add("Reproduce", row)

    @Slot()
    def copy_command(self) -> None:
        if self._command and self.copy_command_button is not None:
            copy_from(self.copy_command_button, self._command)

    @Slot(str)
    def _on_version_link(self, href: str) -> None:
        try:
            name, version = self._versions[int(href)]
        except (ValueError, IndexError):
            return
        self.versionRequested.emit(name, version)
