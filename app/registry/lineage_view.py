"""Where a registered version came from (``registryLineage``): version, run, params, metrics, git, files.

``set_lineage(info, model)`` shows a ``jobs.LineageInfo``; clicking the run emits ``run_requested(run_id)``.
Values stay on one line, cut with "…" in a narrow pane (whole on hover and in "Copy"); only
sentences (a status, a commit message, a description) wrap, between words.
"""
from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QStackedWidget, QVBoxLayout,
    QWidget,
)

from app.common.formatting import format_duration, format_number, format_time
from app.details.copying import copy_from
from app.details.links import LinkLabel
from app.registry.elided import ElidedLabel
from app.registry.item_models import WARNING_MARK, alias_warnings
from app.registry.jobs import LineageInfo
from tracker.registry import RegisteredModel

_HOW = {"run": "", "sha256": "found by content hash", "manifest": "named by the model's manifest",
        "model": "copied from another registered version"}


def _label(text: str, mono: bool = False, wrap: bool = False,
           elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> QLabel:
    """A value: one line cut with "…" (an id, hash, path or name has no place to wrap, and
    QLabel would break it at its hyphens and slashes), or a sentence that wraps (``wrap``)."""
    if wrap:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    else:
        label = ElidedLabel(text, mode=elide)
    if mono:
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label


def _git_date(iso: str) -> str:
    """Git's ISO 8601 date in local time, as the rest of the app shows times."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


class LineageView(QWidget):
    run_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registryLineage")
        self.setAccessibleName("Lineage")
        self.info: LineageInfo | None = None
        self.model: RegisteredModel | None = None
        self.two_columns = False  # run and code beside params, metrics and files (a wide, short pane)
        self.fields: dict[str, QLabel] = {}
        self.diff_window = None
        self.placeholder = QLabel("Select a version to see the run, code and files it came from", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("muted", True)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("lineageScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # buttons, in a narrow pane
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.copy_button: QPushButton | None = None
        self.diff_button: QPushButton | None = None
        self.run_link: LinkLabel | None = None

    # ---- public ----------------------------------------------------------------------------

    def clear(self, message: str = "Select a version to see the run, code and files it came from") -> None:
        self.info = None
        self.fields = {}
        self.placeholder.setText(message)
        self.stack.setCurrentWidget(self.placeholder)

    def text(self) -> str:
        """Everything shown, one "label: value" per line (tests, copying)."""
        return "\n".join(f"{k}: {v.text()}" for k, v in self.fields.items())

    @Slot()
    def copy_reproduce_command(self) -> None:
        if self.info is not None and self.info.reproduce and self.copy_button is not None:
            copy_from(self.copy_button, self.info.reproduce)

    @Slot()
    def show_diff(self) -> None:
        lin = self.info.lineage if self.info is not None else None
        if lin is None or not lin.git_diff:
            return
        from app.details.page import DiffWindow
        if self.diff_window is None:
            self.diff_window = DiffWindow(self.window())
        self.diff_window.show_diff(f"Uncommitted changes: {lin.name} v{lin.version}", lin.git_diff)

    def set_two_columns(self, on: bool) -> None:
        """Sections in two columns (in a tab under the versions table: wide and short) or one."""
        if on != self.two_columns:
            self.two_columns = on
            if self.info is not None:
                self.set_lineage(self.info, self.model)

    def set_lineage(self, info: LineageInfo, model: RegisteredModel | None = None) -> None:
        """``model`` (the version's registered model) says which aliases point at an archived
        version: they are flagged."""
        self.info, self.model = info, model
        self.fields = {}
        lin, mv = info.lineage, info.version
        content = QWidget()
        content.setObjectName("lineageContent")
        column = QVBoxLayout(content)
        column.setContentsMargins(*((6, 6, 8, 8) if self.two_columns else (12, 10, 12, 12)))
        column.setSpacing(6)

        title = _label(f"{lin.name}  v{lin.version}")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * (1.1 if self.two_columns else 1.25))  # a short tab: smaller
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(title)
        self.fields["version"] = title
        stale = {a: n for a, n in (model.archived_aliases() if model is not None else {}).items()
                 if mv is not None and n == mv.version and a in mv.aliases}
        aliases = " ".join(f"{WARNING_MARK if a in stale else ''}@{a}" for a in mv.aliases) if mv else ""
        bits = [mv.current_stage if mv else "", aliases]
        bits.append(f"registered {format_time(lin.creation_timestamp)}" + (f" by {lin.registered_by}"
                                                                          if lin.registered_by else ""))
        subtitle = _label("  ·  ".join(b for b in bits if b), wrap=True)
        subtitle.setObjectName("lineageSummary")
        subtitle.setProperty("muted", True)
        subtitle.setToolTip(alias_warnings(stale))
        column.addWidget(subtitle)
        self.fields["summary"] = subtitle
        if stale:  # scripts loading models:/name@alias still get this archived version
            warning = _label(WARNING_MARK + alias_warnings(stale).replace("\n", "\n" + WARNING_MARK), wrap=True)
            warning.setObjectName("lineageAliasWarning")
            warning.setAccessibleName("Alias warning")
            column.addWidget(warning)
            self.fields["alias warning"] = warning
        if mv is not None and mv.description:
            column.addWidget(_label(mv.description, wrap=True))

        first = second = column
        if self.two_columns:
            beside = QHBoxLayout()
            beside.setSpacing(20)
            first, second = QVBoxLayout(), QVBoxLayout()
            for part in (first, second):
                part.setSpacing(6)
                beside.addLayout(part, 1)
            column.addLayout(beside)
        form = self._section(first, "Run")
        self._run_rows(form, info)
        if lin.params:
            form = self._section(second, f"Parameters ({len(lin.params)})")
            for key, value in sorted(lin.params.items(), key=lambda kv: kv[0].lower()):
                self._row(form, key, value, mono=True, key=f"param:{key}")
        if lin.metrics:
            form = self._section(second, f"Final metrics ({len(lin.metrics)})")
            for key, value in sorted(lin.metrics.items(), key=lambda kv: kv[0].lower()):
                self._row(form, key, format_number(value), mono=True, key=f"metric:{key}")
        if lin.git_commit or lin.source_name or lin.source_argv:  # under the run's rows in either layout
            self._code_rows(self._section(first, "Code"), info, first)
        form = self._section(second, f"Files ({len(lin.files)})")
        small = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        small.setPointSizeF(small.pointSizeF() * 0.85)
        for path, sha in sorted(lin.files.items()):  # the path, and its sha256 below it
            entry = QWidget()
            lines = QVBoxLayout(entry)
            lines.setContentsMargins(0, 0, 0, 0)
            lines.setSpacing(1)
            digest = _label(sha)
            digest.setFont(small)
            digest.setProperty("muted", True)
            digest.setToolTip(f"sha256 of {path}")
            name = _label(path, elide=Qt.TextElideMode.ElideMiddle)  # the file's name stays in sight
            lines.addWidget(name)
            self.fields[f"path:{path}"] = name
            lines.addWidget(digest)
            form.addRow(entry)
            self.fields[f"file:{path}"] = digest
        for part in {id(first): first, id(second): second}.values():
            part.addStretch(1)
        self.scroll.setWidget(content)  # the previous content is deleted
        self.stack.setCurrentWidget(self.scroll)

    # ---- building ----------------------------------------------------------------------------

    def _section(self, column: QVBoxLayout, title: str) -> QFormLayout:
        heading = QLabel(title.upper())
        heading.setObjectName("panelHeading")  # the app's small-caps section style
        heading.setContentsMargins(0, 12, 0, 2)
        column.addWidget(heading)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(5)
        form.setContentsMargins(8, 2, 0, 0)
        column.addLayout(form)
        return form

    def _row(self, form: QFormLayout, name: str, value: str | QWidget, mono: bool = False,
             key: str | None = None, wrap: bool = False) -> QLabel | QWidget:
        widget = _label(value, mono, wrap) if isinstance(value, str) else value
        caption = QLabel(name)
        caption.setProperty("muted", True)
        form.addRow(caption, widget)
        if isinstance(widget, QLabel):
            self.fields[key or name.lower()] = widget
        return widget

    def _run_rows(self, form: QFormLayout, info: LineageInfo) -> None:
        lin = info.lineage
        self.run_link = None
        if not lin.run_id:
            self._row(form, "Run", "No producing run found: no run's artifacts hold this content", key="run",
                      wrap=True)
            self._row(form, "Source", lin.source, key="source")
            return
        name = html.escape(lin.run_name or lin.run_id[:8])
        how = _HOW.get(lin.run_link or "", "")
        if lin.run_exists:
            link = LinkLabel(f'<a href="{html.escape(lin.run_id)}">{name}</a>')
            link.setObjectName("lineageRunLink")
            link.setAccessibleName("Show the run that produced this version")
            link.setToolTip(f"Show run {lin.run_id} in the runs table")
            link.linkActivated.connect(self._on_link)
            self.run_link = link
        else:
            link = _label(f"{lin.run_name or lin.run_id[:8]} (deleted since; below is what was recorded)", wrap=True)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(link)
        note = QLabel(how)
        note.setProperty("muted", True)
        layout.addWidget(note)
        layout.addStretch(1)
        self._row(form, "Run", row)
        self.fields["run"], self.fields["found"] = link, note
        if lin.run_link == "sha256" and lin.run_artifact_path:
            self._row(form, "Matched", f"identical to {lin.run_artifact_path} in that run's artifacts", key="matched",
                      wrap=True)
        elif lin.run_artifact_path:
            self._row(form, "Artifact", lin.run_artifact_path, mono=True, key="artifact")
        if lin.other_runs:
            self._row(form, "Also in", ", ".join(r[:8] for r in lin.other_runs), mono=True, key="other runs")
        self._row(form, "Experiment", lin.experiment or "", key="experiment")
        status = (lin.run_status or "").capitalize()
        if lin.run_start_time:
            status += f", started {format_time(lin.run_start_time)}"
            if lin.run_end_time:
                status += f", took {format_duration(lin.run_end_time - lin.run_start_time)}"
        self._row(form, "Status", status, key="status", wrap=True)
        self._row(form, "Run ID", lin.run_id, mono=True, key="run id")

    def _code_rows(self, form: QFormLayout, info: LineageInfo, column: QVBoxLayout) -> None:
        lin = info.lineage
        details = lin.git_commit_details or {}
        if lin.git_commit:
            self._row(form, "Commit", lin.git_commit, mono=True, key="commit")
            self._row(form, "Branch", lin.git_branch or "detached HEAD", key="branch")
            if lin.git_repo_url:
                self._row(form, "Remote", lin.git_repo_url, key="remote")
            if details.get("author"):
                email = f" <{details['author_email']}>" if details.get("author_email") else ""
                self._row(form, "Author", details["author"] + email, key="author")
            if details.get("date"):
                self._row(form, "Date", _git_date(details["date"]), key="date")
            if details.get("message"):
                self._row(form, "Message", details["message"], key="message", wrap=True)
            tree = QWidget()
            row = QHBoxLayout(tree)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(8)
            self.diff_button = None
            if lin.git_dirty:
                badge = QLabel("uncommitted changes")
                badge.setObjectName("dirtyBadge")
                row.addWidget(badge)
                self.diff_button = QPushButton("View Diff")
                self.diff_button.setObjectName("lineageDiffButton")
                self.diff_button.setAccessibleName("View the saved git diff")
                self.diff_button.setEnabled(bool(lin.git_diff))
                self.diff_button.clicked.connect(self.show_diff)
                row.addWidget(self.diff_button)
            else:
                row.addWidget(QLabel("clean" if lin.git_dirty is False else "unknown"))
            row.addStretch(1)
            self._row(form, "Working tree", tree)
        if lin.source_name:
            self._row(form, "Script", lin.source_name, key="script")
        self.copy_button = None
        found = info.reproduction
        if not found.command:
            if found.problem:
                problem = self._row(form, "Reproduce", found.problem, key="reproduce", wrap=True)
                problem.setObjectName("reproduceProblem")
                problem.setProperty("muted", True)
            return
        command = self._row(form, "Reproduce", found.command, mono=True, key="reproduce", wrap=True)  # to read whole
        command.setObjectName("reproduceCommand")
        command.setStyleSheet("QLabel { background: palette(alternate-base); border: 1px solid palette(mid);"
                              " border-radius: 5px; padding: 5px 7px; }")
        if found.notes:
            notes = _label("\n".join(found.notes), wrap=True)
            notes.setObjectName("reproduceNotes")
            notes.setProperty("muted", True)
            form.addRow("", notes)
        self.copy_button = QPushButton("Copy Reproduce Command")
        self.copy_button.setObjectName("copyReproduceButton")
        self.copy_button.setAccessibleName("Copy reproduce command")
        self.copy_button.setToolTip("Copy the command that checks out this commit, applies its saved changes "
                                    "and reruns the script with the same interpreter")
        self.copy_button.clicked.connect(self.copy_reproduce_command)
        holder = QHBoxLayout()
        holder.addWidget(self.copy_button)
        holder.addStretch(1)
        form.addRow("", holder)

    @Slot(str)
    def _on_link(self, run_id: str) -> None:
        self.run_requested.emit(run_id)
