"""Run details (``runDetails``): overview, params, metrics, tags and artifacts of one run."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout, QFrame, QHBoxLayout, QHeaderView,
    QLabel, QMenu, QPlainTextEdit, QPushButton, QScrollArea, QStackedWidget, QTableView, QTabWidget,
    QVBoxLayout, QWidget,
)

from tracker import store
from tracker.entities import Run, UnreadableRun

from app.shell import desktop

from app.shell import resources

from app.runs import access as run_access
from app.common.formatting import (
    BRANCH_TAG, COMMIT_TAG, DIFF_TAG, DIRTY_TAG, HOST_TAG, REPO_TAG, SOURCE_TAG, argv_text,
    format_duration, format_time,
)
from app.common.table_look import record_table
from app.common.table_model import TableModel

MAX_DIFF_BYTES = 2 * 1024 * 1024


def _value_label(text: str, mono: bool = False, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if mono:
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label


def _table(model: TableModel, name: str, parent: QWidget) -> QTableView:
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


class DiffWindow(QDialog):
    """A non-modal window showing a saved ``git diff`` with colors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diffWindow")
        self.setModal(False)
        self.resize(860, 620)
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Diff")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        from app.details.highlight import Highlighter  # (imported when a diff is first shown)
        self._highlighter = Highlighter(self.text.document(), "diff")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: desktop.copy_text(self.text.toPlainText()))
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def show_diff(self, title: str, text: str) -> None:
        self.setWindowTitle(title)
        self._highlighter.set_kind("diff")
        self.text.setPlainText(text)
        self.show()
        self.raise_()


class RunDetails(QWidget):
    """``set_run(run)``; emits ``runRequested(run_id)`` when the parent-run link is clicked."""

    runRequested = Signal(str)
    artifactMenuAboutToShow = Signal(QMenu, str)  # ArtifactsView.contextMenuAboutToShow, passed on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDetails")
        self.setAccessibleName("Run details")
        self._run: Run | UnreadableRun | None = None
        self._name_of: Callable[[str], str | None] = lambda run_id: None  # for the parent link
        self.diff_window: DiffWindow | None = None

        self.placeholder = QLabel("Select a run to see its details", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("muted", True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.built = False  # the page that shows a run: built by the first set_run (~70 ms, measured)

    def build(self) -> None:
        """Build the page that shows a run, once; ``set_run`` does it, and so must a caller
        reaching for a part of the page (``tabs``, ``artifacts``...) before any run was shown."""
        if self.built:
            return
        # Built away from the window, then moved in once: widgets made inside a shown
        # window are polished and laid out one by one (measured: 80-120 ms against 40-70).
        content = QWidget()
        self.status_icon = QLabel(content)
        self.status_icon.setFixedSize(QSize(20, 20))
        self.title = QLabel(content)
        self.title.setObjectName("detailsTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel(content)
        self.subtitle.setProperty("muted", True)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_id_button = QPushButton("Copy Run ID", content)
        self.copy_id_button.setAccessibleName("Copy run ID")
        self.copy_id_button.clicked.connect(self.copy_run_id)
        self.copy_path_button = QPushButton("Copy Path", content)
        self.copy_path_button.setAccessibleName("Copy run path")
        self.copy_path_button.clicked.connect(self.copy_path)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.status_icon)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.copy_id_button)
        header.addWidget(self.copy_path_button)

        self.tabs = QTabWidget(content)
        self.tabs.setObjectName("runDetailsTabs")
        self.tabs.setAccessibleName("Run details sections")
        self.tabs.setDocumentMode(True)
        self.overview = QWidget()
        self.overview_form = QFormLayout(self.overview)
        self.overview_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.overview_form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.overview_form.setHorizontalSpacing(14)
        self.overview_form.setVerticalSpacing(7)
        self.overview_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        scroll = QScrollArea()
        scroll.setObjectName("overviewScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.overview)
        self.params_model = TableModel(["Param", "Value"], self)
        self.metrics_model = TableModel(["Metric", "Last", "Min", "Max", "Count", "Last step"], self,
                                        numeric_columns=range(1, 6))
        self.tags_model = TableModel(["Tag", "Value"], self)
        self.params_table = _table(self.params_model, "paramsTable", content)
        self.metrics_table = _table(self.metrics_model, "metricsTable", content)
        self.metrics_table.horizontalHeader().setStretchLastSection(False)
        for column in range(1, 6):
            self.metrics_table.horizontalHeader().resizeSection(column, 86)
        self.tags_table = _table(self.tags_model, "tagsTable", content)
        from app.details.artifacts import ArtifactsView
        self.artifacts = ArtifactsView(content)
        self.tabs.addTab(scroll, "Overview")
        self.tabs.addTab(self.params_table, "Params")
        self.tabs.addTab(self.metrics_table, "Metrics")
        self.tabs.addTab(self.tags_table, "Tags")
        self.tabs.addTab(self.artifacts, "Artifacts")

        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(10, 8, 10, 0)
        content_layout.setSpacing(6)
        content_layout.addLayout(header)
        content_layout.addWidget(self.tabs, 1)
        self.stack.addWidget(content)
        self.artifacts.contextMenuAboutToShow.connect(self.artifactMenuAboutToShow)
        self.built = True

    def add_tab(self, widget: QWidget, title: str, index: int = -1) -> int:
        self.build()
        return self.tabs.insertTab(index if index >= 0 else self.tabs.count(), widget, title)

    def run(self) -> Run | UnreadableRun | None:
        return self._run

    def set_name_resolver(self, name_of: Callable[[str], str | None]) -> None:
        """How to name a run from its id (the parent-run link)."""
        self._name_of = name_of

    # ---- showing a run ----------------------------------------------------------------

    @Slot(object)
    def set_run(self, run: Run | UnreadableRun | None) -> None:
        """Show ``run``; the same run again (a live update) keeps the tab and the artifact shown."""
        self._run = run
        if run is None:
            self.stack.setCurrentWidget(self.placeholder)
            if self.built:
                self.artifacts.set_root(None)
            return
        self.build()
        self.stack.setCurrentIndex(1)
        readable = isinstance(run, Run)
        for i in range(1, self.tabs.count()):
            self.tabs.setTabEnabled(i, readable)
        if not readable:
            self.tabs.setCurrentIndex(0)
            for i, title in enumerate(("Params", "Metrics", "Tags"), 1):
                self.tabs.setTabText(i, title)
        self.status_icon.setPixmap(resources.status_icon(
            run.info.status if readable else "UNREADABLE").pixmap(QSize(20, 20)))
        self.title.setText(run.info.run_name if readable else "Unreadable run")
        self.subtitle.setText(f"{run.info.experiment}  ·  {run.info.run_id}" if readable else run.run_id)
        self._fill_overview(run)
        if readable:
            self._fill_tables(run)
        if readable:
            self.artifacts.set_root(run_access.artifact_dir(run), run_access.logged_models(run))
        else:
            self.artifacts.set_root(None)

    def _clear_overview(self) -> None:
        while self.overview_form.rowCount():
            self.overview_form.removeRow(0)

    def _add(self, label: str, value: str | QWidget, mono: bool = False) -> None:
        if isinstance(value, str):
            if not value:
                return
            value = _value_label(value, mono)
        self.overview_form.addRow(label, value)

    def _fill_overview(self, run: Run | UnreadableRun) -> None:
        self._clear_overview()
        if isinstance(run, UnreadableRun):
            self._add("Status", "Duplicate: a copy of another run's folder" if run.is_duplicate
                      else "Unreadable: this run's files could not be read")
            self._add("Reason", run.reason)
            self._add("Run ID", run.run_id, mono=True)
            self._add("Path", run.path)
            return
        info, tags = run.info, run.data.tags
        self._add("Status", info.status.capitalize())
        if info.error:  # first thing to see on a failed run
            self._add("Error", self._error_view(info.error))
        self._add("Started", format_time(info.start_time, seconds=True))
        self._add("Ended", format_time(info.end_time, seconds=True) if info.end_time else "")
        self._add("Duration", format_duration(info.duration_ms))
        if info.parent_run_id:
            name = html.escape(self._name_of(info.parent_run_id) or info.parent_run_id[:8])
            link = _value_label(f'<a href="{info.parent_run_id}">{name}</a>')
            link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            link.setOpenExternalLinks(False)
            link.linkActivated.connect(self.runRequested)
            self._add("Parent run", link)
        self._add("Source", tags.get(SOURCE_TAG, ""))
        self._add("Command", argv_text(tags), mono=True)
        if tags.get(COMMIT_TAG):
            self._add("Git", self._git_row(run))
            self._add("Repository", tags.get(REPO_TAG, ""))
        self._add("User", info.user or tags.get("tracker.user", ""))
        self._add("Host", info.host or tags.get(HOST_TAG, ""))
        self._add("Description", info.description)
        self._add("Run ID", info.run_id, mono=True)
        self._add("Path", run.path)

    @staticmethod
    def _error_view(text: str) -> QPlainTextEdit:
        error = QPlainTextEdit(text.rstrip())
        error.setObjectName("errorText")
        error.setAccessibleName("Error")
        error.setReadOnly(True)
        error.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        error.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lines = min(10, text.rstrip().count("\n") + 1)
        error.setFixedHeight(error.fontMetrics().lineSpacing() * lines + 16)
        error.moveCursor(error.textCursor().MoveOperation.End)  # the exception is at the bottom
        return error

    def _git_row(self, run: Run) -> QWidget:
        tags = run.data.tags
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(_value_label(tags[COMMIT_TAG][:12], mono=True))
        branch = tags.get(BRANCH_TAG) or "detached HEAD"
        layout.addWidget(_value_label(f"on {branch}"))
        if tags.get(DIRTY_TAG) == "true":
            dirty = QLabel("uncommitted changes")
            dirty.setObjectName("dirtyBadge")
            dirty.setToolTip("The working tree had changes that were not committed when the run started")
            layout.addWidget(dirty)
        diff = QPushButton("View Diff")
        diff.setObjectName("viewDiffButton")
        diff.setAccessibleName("View saved git diff")
        diff.setEnabled(self._diff_path(run) is not None)
        diff.clicked.connect(self.show_diff)
        if tags.get(DIRTY_TAG) == "true":
            layout.addWidget(diff)
        layout.addStretch(1)
        return row

    def _fill_tables(self, run: Run) -> None:
        data = run.data
        self.params_model.set_rows(sorted(data.params.items(), key=lambda kv: kv[0].lower()))
        self.metrics_model.set_rows(sorted(
            ([s.key, s.last, s.min, s.max, s.count, s.last_step] for s in data.summaries.values()),
            key=lambda r: r[0].lower()))
        self.tags_model.set_rows(sorted(data.tags.items(), key=lambda kv: (kv[0].startswith("tracker."),
                                                                            kv[0].lower())))
        for view in (self.params_table, self.metrics_table, self.tags_table):
            header = view.horizontalHeader()
            if header.sortIndicatorSection() >= 0:
                view.model().sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.tabs.setTabText(1, f"Params ({len(data.params)})")
        self.tabs.setTabText(2, f"Metrics ({len(data.summaries)})")
        self.tabs.setTabText(3, f"Tags ({len(data.tags)})")

    # ---- actions ----------------------------------------------------------------------

    def _diff_path(self, run: Run) -> Path | None:
        relative = run.data.tags.get(DIFF_TAG)
        if not relative:
            return None
        try:
            folder = run_access.artifact_dir(run)
            if folder is None:
                return None
            path = store.resolve_inside(folder, relative, "diff")
        except ValueError:
            return None
        return path if path.is_file() else None

    @Slot()
    def show_diff(self) -> None:
        run = self._run
        if not isinstance(run, Run) or (path := self._diff_path(run)) is None:
            return
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_DIFF_BYTES + 1)
        except OSError as e:
            text = f"Cannot read {path}: {e.strerror or e}"
        else:
            text = data[:MAX_DIFF_BYTES].decode("utf-8", errors="replace")
            if len(data) > MAX_DIFF_BYTES:
                text += "\n# (diff cut at 2 MB)\n"
        self._open_diff_window(f"Uncommitted changes: {run.info.run_name}", text)

    def _open_diff_window(self, title: str, text: str) -> None:
        if self.diff_window is None:
            self.diff_window = DiffWindow(self.window())
        self.diff_window.show_diff(title, text)

    @Slot()
    def copy_run_id(self) -> None:
        run = self._run
        if run is not None:
            desktop.copy_text(run.run_id if isinstance(run, UnreadableRun) else run.info.run_id)

    @Slot()
    def copy_path(self) -> None:
        if self._run is not None:
            desktop.copy_text(self._run.path)
