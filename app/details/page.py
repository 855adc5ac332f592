"""Run details (``runDetails``): overview, params, metrics, tags and artifacts of one run.

``set_tracking_dir(path)`` names the folder whose model registry says which versions came from
the shown run ("Registered as fraud v3" on the Overview; asked off the GUI thread).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMenu, QPushButton, QStackedWidget, QTableView,
    QTabWidget, QVBoxLayout, QWidget,
)

from tracker import store
from tracker.entities import Run, UnreadableRun

from app.shell import resources

from app.runs import access as run_access
from app.runs.registered import close_client, registry_client
from app.common.formatting import DIFF_TAG, format_size, is_system_tag
from app.common.table_model import TableModel
from app.common.worker import Worker
from app.details.copying import copy_from
from app.details.diff_window import DiffWindow  # (also app.registry's, by this name)
from app.details.overview import Overview
from app.details.tags_editor import TagsEditor
from app.details.tags_page import TagsPage, record_view

if TYPE_CHECKING:
    from app.details.artifacts import ArtifactsView
    from app.details.output_view import OutputView

MAX_DIFF_BYTES = 2 * 1024 * 1024


def _placeholder(name: str, title: str, parent: QWidget) -> QLabel:
    """A tab's page until its view is built (the moment the tab is first shown)."""
    label = QLabel(f"Loading {title.lower()}…", parent)
    label.setObjectName(name)
    label.setAccessibleName(f"{title}: loading")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setProperty("muted", True)
    return label


class RunDetails(QWidget):
    """``set_run(run)``; emits ``runRequested(run_id)`` when the parent-run link is clicked and
    ``modelVersionRequested(model, version)`` when a "Registered as" link is."""

    runRequested = Signal(str)
    modelVersionRequested = Signal(str, int)
    artifactMenuAboutToShow = Signal(QMenu, str)  # ArtifactsView.contextMenuAboutToShow, passed on
    runsEdited = Signal(list)  # run ids whose tags or description the page just wrote (to be read again)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDetails")
        self.setAccessibleName("Run details")
        self._run: Run | UnreadableRun | None = None
        self._name_of: Callable[[str], str | None] = lambda run_id: None  # for the parent link
        self.diff_window: DiffWindow | None = None
        self._tracking_dir: Path | None = None
        self._lookups: Worker | None = None  # asks the registry which versions came from the run
        self._lookup_job = -1
        self._artifacts: ArtifactsView | None = None
        self._output: OutputView | None = None

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
        self.copy_id_button.setObjectName("copyRunIdButton")
        self.copy_id_button.clicked.connect(self.copy_run_id)
        self.copy_path_button = QPushButton("Copy Path", content)
        self.copy_path_button.setAccessibleName("Copy run path")
        self.copy_path_button.setObjectName("copyRunPathButton")
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
        from app.details.run_edits import RunEdits
        self.edits = RunEdits(self)  # tags and description, written through the library
        self.edits.edited.connect(self.runsEdited)
        self.overview = Overview(edits=self.edits)
        self.overview.runRequested.connect(self.runRequested)
        self.overview.versionRequested.connect(self.modelVersionRequested)
        self.overview.diffRequested.connect(self.show_diff)
        self.params_model = TableModel(["Param", "Value"], self)
        self.metrics_model = TableModel(["Metric", "Last", "Min", "Max", "Count", "Last step"], self,
                                        numeric_columns=range(1, 6))
        self.tags_model = TableModel(["Tag", "Value"], self)  # the user's own
        self.system_tags_model = TableModel(["System tag", "Value"], self)  # tracker.*, mlflow.*
        self.tabs.addTab(self.overview, "Overview")
        # The other tabs are built when first shown (or asked for): every widget of the page is
        # polished when the page is first shown, hidden tabs' too, and the first run's page
        # held the GUI thread for 100-250 ms at start-up with them all built (measured).
        self._params_table: QTableView | None = None
        self._metrics_table: QTableView | None = None
        self._tags_page: TagsPage | None = None
        self._params_page = _placeholder("paramsPlaceholder", "Params", content)
        self._metrics_page = _placeholder("metricsPlaceholder", "Metrics", content)
        self._tags_placeholder = _placeholder("tagsPlaceholder", "Tags", content)
        self.tabs.addTab(self._params_page, "Params")
        self.tabs.addTab(self._metrics_page, "Metrics")
        self.tabs.addTab(self._tags_placeholder, "Tags")
        self._artifacts_page = _placeholder("artifactsPlaceholder", "Artifacts", content)
        self._output_page = _placeholder("outputPlaceholder", "Output", content)
        self.tabs.addTab(self._artifacts_page, "Artifacts")
        self.tabs.addTab(self._output_page, "Output")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(10, 8, 10, 0)
        content_layout.setSpacing(6)
        content_layout.addLayout(header)
        content_layout.addWidget(self.tabs, 1)
        self.stack.addWidget(content)
        self.built = True

    @property
    def params_table(self) -> QTableView:
        self.build()
        if self._params_table is None:
            self._params_table = record_view(self.params_model, "paramsTable", None)
            self._put_in_place(self._params_page, self._params_table)
        return self._params_table

    @property
    def metrics_table(self) -> QTableView:
        self.build()
        if self._metrics_table is None:
            view = self._metrics_table = record_view(self.metrics_model, "metricsTable", None)
            view.horizontalHeader().setStretchLastSection(False)
            for column in range(1, 6):
                view.horizontalHeader().resizeSection(column, 86)
            self._put_in_place(self._metrics_page, view)
        return self._metrics_table

    @property
    def tags_page(self) -> TagsPage:
        """The Tags tab (``tags_table``, ``tags_editor``...), built when first shown or asked for."""
        self.build()
        if self._tags_page is None:
            self._tags_page = TagsPage(self.tags_model, self.system_tags_model, self.run, self.edits)
            self._put_in_place(self._tags_placeholder, self._tags_page)
        return self._tags_page

    @property
    def tags_table(self) -> QTableView:
        return self.tags_page.tags_table

    @property
    def system_tags_table(self) -> QTableView:
        return self.tags_page.system_tags_table

    @property
    def tags_editor(self) -> TagsEditor:
        return self.tags_page.editor

    @property
    def system_heading(self) -> QLabel:
        return self.tags_page.system_heading

    @property
    def artifacts(self) -> "ArtifactsView":
        """The Artifacts tab's view (``artifactTree``...), built when first shown or asked for."""
        self.build()
        if self._artifacts is None:
            from app.details.artifacts import ArtifactsView
            view = ArtifactsView()
            view.contextMenuAboutToShow.connect(self.artifactMenuAboutToShow)
            self._artifacts = view
            self._put_in_place(self._artifacts_page, view)
            self._show_artifacts(self._run)
        return self._artifacts

    @property
    def output(self) -> "OutputView":
        """The Output tab's view (``outputView``), built when first shown or asked for."""
        self.build()
        if self._output is None:
            from app.details.output_view import OutputView
            view = OutputView()
            self._output = view
            self._put_in_place(self._output_page, view)
            view.set_run(self._run)
        return self._output

    def _put_in_place(self, placeholder: QWidget, page: QWidget) -> None:
        tabs = self.tabs
        index, current = tabs.indexOf(placeholder), tabs.currentIndex()
        tabs.blockSignals(True)  # the same tab stays current: nothing to tell
        try:
            tabs.insertTab(index, page, tabs.tabText(index))
            tabs.setTabEnabled(index, tabs.isTabEnabled(index + 1))
            tabs.removeTab(index + 1)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(False)
        placeholder.deleteLater()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        build = {self._params_page: "params_table", self._metrics_page: "metrics_table",
                 self._tags_placeholder: "tags_page", self._artifacts_page: "artifacts",
                 self._output_page: "output"}.get(self.tabs.widget(index))
        if build is not None:
            getattr(self, build)  # the property builds it

    def _show_artifacts(self, run: Run | UnreadableRun | None) -> None:
        if isinstance(run, Run):
            self._artifacts.set_root(run_access.artifact_dir(run), run_access.logged_models(run))
        else:
            self._artifacts.set_root(None)

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
            if self._artifacts is not None:
                self._artifacts.set_root(None)
            if self._output is not None:
                self._output.set_run(None)
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
        self.overview.show_run(run, self._name_of, readable and self._diff_path(run) is not None)
        if readable:
            self._fill_tables(run)
            self._look_up_registrations(run.info.run_id)
        if self._artifacts is not None:
            self._show_artifacts(run)
        if self._output is not None:
            self._output.set_run(run)
        if self._tags_page is not None:
            self._tags_page.editor.update_buttons()

    def _fill_tables(self, run: Run) -> None:
        data = run.data
        self.params_model.set_rows(sorted(data.params.items(), key=lambda kv: kv[0].lower()))
        self.metrics_model.set_rows(sorted(
            ([s.key, s.last, s.min, s.max, s.count, s.last_step] for s in data.summaries.values()),
            key=lambda r: r[0].lower()))
        mine = sorted(((k, v) for k, v in data.tags.items() if not is_system_tag(k)), key=lambda kv: kv[0].lower())
        system = sorted(((k, v) for k, v in data.tags.items() if is_system_tag(k)), key=lambda kv: kv[0].lower())
        self.tags_model.set_rows(mine)
        self.system_tags_model.set_rows(system)
        views = [self._params_table, self._metrics_table]  # those built: the others sort when they are
        if self._tags_page is not None:
            self._tags_page.show_counts()
            views += [self._tags_page.tags_table, self._tags_page.system_tags_table]
        for view in filter(None, views):
            header = view.horizontalHeader()
            if header.sortIndicatorSection() >= 0:
                view.model().sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.tabs.setTabText(1, f"Params ({len(data.params)})")
        self.tabs.setTabText(2, f"Metrics ({len(data.summaries)})")
        self.tabs.setTabText(3, f"Tags ({len(mine)})")

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
                text += f"\n# (diff cut at {format_size(MAX_DIFF_BYTES)})\n"
        self._open_diff_window(f"Uncommitted changes: {run.info.run_name}", text)

    def _open_diff_window(self, title: str, text: str) -> None:
        if self.diff_window is None:
            self.diff_window = DiffWindow(self.window())
        self.diff_window.show_diff(title, text)

    @Slot()
    def copy_run_id(self) -> None:
        run = self._run
        if run is not None:
            copy_from(self.copy_id_button, run.run_id if isinstance(run, UnreadableRun) else run.info.run_id)

    @Slot()
    def copy_path(self) -> None:
        if self._run is not None:
            copy_from(self.copy_path_button, self._run.path)

    # ---- registered versions ------------------------------------------------------------

    def set_tracking_dir(self, path: str | Path | None) -> None:
        """The folder whose registry is asked which versions came from the shown run."""
        self._tracking_dir = Path(path) if path is not None else None
        self.refresh_registrations()

    @Slot(object)
    def refresh_registrations(self, _changed: object = None) -> None:
        """Ask the registry again (it changed: a version was registered or deleted)."""
        if self.built and isinstance(self._run, Run):
            self._look_up_registrations(self._run.info.run_id)

    def _look_up_registrations(self, run_id: str) -> None:
        if self._lookups is not None:
            self._lookups.cancel(self._lookup_job)
        if self._tracking_dir is None:
            return
        if self._lookups is None:
            self._lookups = Worker("run-registrations", self)
        folder = self._tracking_dir
        self._lookup_job = self._lookups.submit(registered_versions, folder, run_id,
                                                on_done=lambda found: self._on_registered(run_id, found),
                                                on_error=lambda e: self._on_registered(run_id, []))

    def is_looking_up(self) -> bool:
        """Whether the registry has yet to answer for the shown run."""
        return self._lookups is not None and self._lookups.is_pending(self._lookup_job)

    def _on_registered(self, run_id: str, found: list) -> None:
        if isinstance(self._run, Run) and self._run.info.run_id == run_id:
            self.overview.show_registered(found)


def registered_versions(tracking_dir: Path, run_id: str) -> list[tuple[str, int]]:
    """(model, version) of every registered version made from ``run_id``'s files, by name then
    version; [] without a registry (never creates one, nor imports the registry's modules).
    Runs on a worker thread."""
    client = registry_client(tracking_dir)
    if client is None:
        return []
    try:
        search = getattr(client, "search_model_versions", None)
        if search is not None and "'" not in run_id:
            found = search(f"run_id = '{run_id}'")
        else:  # an MLflow store's registry reads have no search: its versions, model by model
            found = [v for m in client.search_registered_models() for v in client.list_model_versions(m.name)
                     if v.run_id == run_id]
    finally:
        close_client(client)
    return sorted((v.name, int(v.version)) for v in found)
