"""The main window: experiments | runs table over run details, menus, status bar, settings.

Views get runs only from ``RunsSource`` (``app/runs/source.py``) and never touch the disk for
listing. The panels beside the runs (``app/shell/panels.py``) plug in without changing this
layout: charts, compare and the registry as tabs of ``lower_tabs``, each listed in the View menu.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
    QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget,
)

import tracker
from tracker.entities import Run, UnreadableRun

from app.shell import resources

from app.runs import access as run_access

from app.runs import store_kind

from app.shell import theme
from app.shell.errors import override_failed
from app.runs.edit_wiring import RunEditing
from app.runs.experiments import ExperimentsPanel
from app.common.tab_sizing import CurrentPageSizing
from app.details.page import RunDetails
from app.runs.model import RunsTableModel
from app.runs.source import RunsSource, Snapshot
from app.runs.view import RunsView, default_columns
from app.shell.settings import Settings
from app.shell.tasks import DemoRunsTask
from app.shell.welcome import WelcomePage
from app.shell.menus import build_menus
from app.shell.panels import install_panels
from app.shell.notifier import install_notifier
from app.shell import window_state
from app.shell.focus import KeyboardFocus
from app.shell.status import StatusMessages


def _run_id(run: Run | UnreadableRun) -> str:
    return run.run_id if isinstance(run, UnreadableRun) else run.info.run_id


def _can_open(path: str) -> bool:
    """Whether ``path`` is a folder or a file (an MLflow database); False when it cannot be looked at."""
    try:
        p = Path(path)
        return p.is_dir() or p.is_file()
    except (OSError, ValueError):
        return False


class MainWindow(QMainWindow):
    """``MainWindow(runs_dir)`` opens ``runs_dir``; ``None`` shows the welcome page."""

    directoryOpened = Signal(object)  # panels beside the runs (plots, registry) follow the directory
    closing = Signal()  # panels stop their workers before the window goes

    def __init__(self, runs_dir: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Tracker")
        self.setWindowIcon(resources.app_icon())
        self.settings = Settings()
        self.runs_dir: Path | None = None
        self.source = RunsSource(self)
        self.runs_model = RunsTableModel(self)
        self._experiment_names: list[str] = []
        self._load_status: str | None = None  # a message the source sent while loading
        self._has_columns = False
        self._loaded: Snapshot | None = None  # a snapshot shown in the table, its details to follow
        self._picked_while_loading: str | None = None  # the run the window selected from a partial table
        self._finish_loading_timer = QTimer(self)
        self._finish_loading_timer.setSingleShot(True)
        self._finish_loading_timer.setInterval(15)  # after the paint that was just asked for, not before
        self._finish_loading_timer.timeout.connect(self._finish_loading)
        self.demo_task = DemoRunsTask(self)
        self._build_ui()
        self.status = StatusMessages(self)  # every status message goes through it
        build_menus(self)
        self._connect()
        install_panels(self)
        install_notifier(self)  # desktop notifications when runs end or diverge (window.notifier)
        self.run_editing = RunEditing(self)  # rename, Move to Trash with Undo, the Deleted view
        self.keyboard = KeyboardFocus(self)  # Tab order between regions, the focus ring
        window_state.restore(self)
        self.runs_view.table.setFocus()  # the keys go to the runs first: arrows pick a run
        if runs_dir is not None:
            self.open_directory(runs_dir)

    # The panels beside the runs, built on first use (app/shell/panels.py).
    plots = property(lambda self: self.charts.plots, doc="The metric charts (MetricPlotPanel, tab Charts).")
    compare = property(lambda self: self.charts.compare, doc="The compare view (CompareView, tab Compare).")
    registry_panel = property(lambda self: self.registry_link.panel, doc="RegistryPanel, tab Registry.")

    # ---- building -----------------------------------------------------------------------

    def _build_ui(self) -> None:
        # Containers first, then what goes in them: moving a built subtree to a new parent
        # costs ~10 ms each time for the details panel (measured), so each moves only once.
        self.pages = QStackedWidget(self)
        self.setCentralWidget(self.pages)
        self.browser = QWidget()
        self.pages.addWidget(self.browser)
        browser_layout = QVBoxLayout(self.browser)
        browser_layout.setContentsMargins(8, 8, 8, 4)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        browser_layout.addWidget(self.splitter)
        self.experiments_panel = ExperimentsPanel(self)
        self.experiments = self.experiments_panel.list
        self.splitter.addWidget(self.experiments_panel)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.setObjectName("rightSplitter")
        self.splitter.addWidget(self.right_splitter)
        self.splitter.setStretchFactor(1, 1)
        self.runs_stack = QStackedWidget(self)  # the runs table, or the Deleted view (app.runs.edit_wiring)
        self.runs_stack.setObjectName("runsStack")
        self.right_splitter.addWidget(self.runs_stack)
        self.runs_view = RunsView(self.runs_model, self.runs_stack)
        self.runs_stack.addWidget(self.runs_view)
        # Below the runs: the current run's details, and (from window_panels) charts and
        # compare views of the selected runs, as tabs sharing the space.
        self.lower_tabs = QTabWidget(self)
        self.lower_tabs.setObjectName("lowerTabs")
        self.lower_tabs.setAccessibleName("Run details, charts and comparison")
        self.lower_tabs.setDocumentMode(True)
        self.right_splitter.addWidget(self.lower_tabs)
        CurrentPageSizing(self.lower_tabs)
        self.right_splitter.setChildrenCollapsible(False)
        window_state.set_default_sizes(self)
        self.details = RunDetails()
        self.details.set_name_resolver(self._run_name)
        self.lower_tabs.addTab(self.details, "Run")
        self.welcome = WelcomePage(self.pages)
        self.pages.insertWidget(0, self.welcome)
        self.pages.setCurrentWidget(self.welcome)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("loadProgress")
        self.progress.setAccessibleName("Loading progress")
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.dir_label = QLabel(self)
        self.dir_label.setObjectName("directoryLabel")
        self.dir_label.setProperty("muted", True)
        self.store_label = QLabel(self)  # names a store the app only reads (an MLflow store)
        self.store_label.setObjectName("readOnlyStoreLabel")
        self.store_label.setAccessibleName("Store kind")
        self.store_label.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.store_label)
        self.statusBar().addPermanentWidget(self.dir_label)
        self.resize(window_state.default_size(self))

    def _connect(self) -> None:
        self.source.progress.connect(self._on_progress)
        self.source.loaded.connect(self._on_loaded)
        self.source.runs_changed.connect(self._on_runs_changed)
        self.source.runs_removed.connect(self._on_runs_removed)
        self.source.status.connect(self._on_status)
        self.source.watch_status.connect(self.status.show_watch_mode)
        self.source.experiments_changed.connect(self._on_experiments_changed)
        self.experiments.experimentSelected.connect(self.runs_view.set_experiment)
        self.runs_view.currentRunChanged.connect(self.details.set_run)
        self.details.runRequested.connect(self.select_run)
        self.details.runsEdited.connect(self.source.reread)  # (a finished run's folder is not watched)
        self.welcome.openRequested.connect(self.choose_directory)
        self.welcome.demoRequested.connect(self.create_demo_runs)
        self.demo_task.progress.connect(self._on_demo_progress)
        self.demo_task.finished.connect(self._on_demo_finished)

    # ---- settings -----------------------------------------------------------------------

    def save_settings(self) -> None:
        window_state.save(self)

    def focusNextPrevChild(self, next: bool) -> bool:
        try:
            if self.keyboard.move(next):
                return True
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash)
            override_failed("MainWindow.focusNextPrevChild")
        return super().focusNextPrevChild(next)

    def closeEvent(self, event: QCloseEvent) -> None:
        # each step on its own: settings that fail to save must not leave the loader and its
        # watchdog threads running, or a server of the registry's up
        for step in (self.save_settings, self.closing.emit, self.source.close, self.demo_task.wait):
            try:
                step()
            except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash): closing goes on
                override_failed(f"MainWindow.closeEvent ({getattr(step, '__name__', step)})")
        super().closeEvent(event)

    # ---- directories --------------------------------------------------------------------

    def open_directory(self, path: str | Path) -> None:
        path = Path(path).expanduser().absolute()
        self.runs_dir = path
        self.settings.add_recent_directory(path)
        self.setWindowTitle(f"{path.name or path} — Tracker")
        self.dir_label.setText(str(path))
        self.details.set_run(None)
        self.runs_model.set_runs([])
        self._finish_loading_timer.stop()
        self._loaded = None
        self._load_status = None
        self._picked_while_loading = None
        self.pages.setCurrentWidget(self.browser)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.show_progress(f"Loading {path}…")
        self.source.open(path)
        store_kind.show(self, path)
        self.directoryOpened.emit(path)

    @Slot()
    def choose_directory(self) -> None:
        start = str(self.runs_dir or self.settings.last_directory or Path.cwd())
        path = self._ask_directory(start)
        if path:
            self.open_directory(path)

    @Slot()
    def reload(self) -> None:
        if self.runs_dir is not None:
            self.open_directory(self.runs_dir)

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_directories()
        for path in recent:
            action = self.recent_menu.addAction(path, lambda p=path: self.open_directory(p))
            action.setEnabled(_can_open(path))
        if not recent:
            self.recent_menu.addAction("No Recent Directories").setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Recent", self.settings.clear_recent_directories)
        clear.setEnabled(bool(recent))

    # ---- the runs source ----------------------------------------------------------------

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.show_progress(f"Reading runs… {done:,} of {total:,}")

    @Slot(object)
    def _on_loaded(self, snapshot: Snapshot) -> None:
        self._experiment_names = [e.name for e in snapshot.experiments]
        self.runs_model.set_table(snapshot.table, snapshot.base, snapshot.made)
        if not self._has_columns and snapshot.table.n:
            self.runs_view.set_columns(snapshot.columns if snapshot.columns is not None
                                       else default_columns(self.runs_model))
            self._has_columns = True
        self._refresh_experiments()
        # The first run's details and the status line follow one pass of the event loop later:
        # the table paints first, and no single pass holds the GUI thread for long (at 10,000
        # runs, filling the table and the first details took ~50 ms each, measured).
        self._loaded = snapshot
        self._finish_loading_timer.start()

    @Slot()
    def _finish_loading(self) -> None:
        snapshot, self._loaded = self._loaded, None
        if snapshot is None:
            return
        if not snapshot.partial:  # (a partial table: the rest is still being read, with progress)
            self.progress.hide()
        if not snapshot.table.n:
            self._show_welcome()
        elif self.runs_model.visible_count() and not self.runs_view.table.selectionModel().hasSelection():
            # the first run is shown unless the user chose already (the rows are clickable from
            # the moment they are painted, before this pass)
            first = self.runs_model.run_id_at(0)
            self.runs_view.select_run(first)
            self._picked_while_loading = first if snapshot.partial else None
        if self._load_status is None and not snapshot.partial:
            count, unreadable = snapshot.run_count, snapshot.unreadable_count
            message = f"Loaded {count:,} run{'s' if count != 1 else ''}"
            if snapshot.seconds >= 0.1:
                message += f" in {snapshot.seconds:.1f} s"
            if unreadable:
                message += f"; {unreadable:,} could not be read (marked with a warning)"
            self.status.show(message if snapshot.table.n else "No runs in this folder yet")

    def _keep_newest_picked(self, complete: bool) -> None:
        """While a first open reads runs, the run the window picked (not the user) moves to the
        newest run read so far: the first rows shown are some of the runs, not the newest."""
        picked = self._picked_while_loading
        if picked is None:
            return
        current = self.runs_view.current_run()
        if current is None or _run_id(current) != picked:  # the user chose
            self._picked_while_loading = None
            return
        first = self.runs_model.run_id_at(0) if self.runs_model.visible_count() else picked
        if first != picked:
            self.runs_view.select_run(first)
        self._picked_while_loading = None if complete else first

    def is_loading(self) -> bool:
        """Whether runs are still being read, or the pass that follows the first table is due."""
        return self.progress.isVisible() or self._loaded is not None

    @Slot(object)
    def _on_runs_changed(self, update) -> None:  # a RunsUpdate
        self.runs_model.update_table(update.table, update.changed_rows(), update.base, update.made)
        self._keep_newest_picked(update.complete)
        if update.complete:
            self.progress.hide()
        self._refresh_experiments()
        if self.pages.currentWidget() is self.welcome and self.runs_model.total_count():
            self.pages.setCurrentWidget(self.browser)
        shown = self.details.run()
        if shown is not None and _run_id(shown) in set(update.changed):
            self.details.set_run(self.runs_model.get(_run_id(shown)))

    @Slot(list)
    def _on_runs_removed(self, run_ids: list) -> None:
        self.runs_model.remove(run_ids)
        self._refresh_experiments()
        shown = self.details.run()
        if shown is not None and _run_id(shown) in set(run_ids):
            self.details.set_run(self.runs_view.current_run())

    @Slot(list)
    def _on_experiments_changed(self, experiments: list) -> None:
        self._experiment_names = [e.name for e in experiments]
        self._refresh_experiments()

    @Slot(str)
    def _on_status(self, message: str) -> None:
        self._load_status = message
        self.status.show(message)

    @Slot(str)
    def select_run(self, run_id: str) -> bool:
        """Select and show a run, clearing the filter and experiment when they hide it."""
        if self.runs_model.get(run_id) is None:
            return False
        if self.runs_model.row_of(run_id) is None:
            self.runs_view.filter_edit.clear()
            self.experiments.select(None)
            self.runs_view.apply_filter()
        return self.runs_view.select_run(run_id)

    def _refresh_experiments(self) -> None:
        counts = self.runs_model.experiment_counts()
        names = list(dict.fromkeys([*self._experiment_names, *counts]))
        names.sort(key=lambda n: (n != "Default", n.lower()))
        self.experiments.set_experiments([(n, counts.get(n, 0)) for n in names],
                                         self.runs_model.total_count())

    def _run_name(self, run_id: str) -> str | None:
        run = self.runs_model.get(run_id)
        return run.info.run_name if isinstance(run, Run) else None

    def _show_welcome(self) -> None:
        self.welcome.set_directory(self.runs_dir)
        self.welcome.demo_button.setVisible(not run_access.is_read_only(self.runs_dir))  # (MLflow's store)
        self.pages.setCurrentWidget(self.welcome)

    # ---- actions ------------------------------------------------------------------------

    @Slot()
    def create_demo_runs(self) -> None:
        """Write demo runs (in a worker thread) into the open directory, or the default one."""
        root = Path(self.runs_dir or tracker.get_tracking_dir())
        if run_access.is_read_only(root):
            self.status.show(f"{run_access.describe(root)}: demo runs are not written into it")
            return
        if self.demo_task.start(root):
            self.welcome.set_busy(True)
            self.status.show_progress(f"Creating demo runs in {root}…")

    @Slot(int, int)
    def _on_demo_progress(self, done: int, total: int) -> None:
        self.status.show_progress(f"Creating demo runs… {done} of {total}")

    @Slot(object, str)
    def _on_demo_finished(self, root: Path, error: str) -> None:
        self.welcome.set_busy(False)
        if error:
            self.status.show(error)
        else:
            self.open_directory(root)

    @Slot()
    def export_csv(self) -> None:
        """Write the runs and columns the table shows (filtered, in order) to a CSV file."""
        default = str((self.runs_dir or Path.cwd()) / "runs.csv")
        path = self._ask_save_path("Export Runs as CSV", default, "CSV files (*.csv)")
        if not path:
            return
        columns = [self.runs_model.columns()[i] for i in self.runs_view.visible_columns()]
        try:
            from app.runs.export import write_runs_csv  # (imported when used: start-up is measured)
            count = write_runs_csv(path, self.runs_model.rows(), columns)
        except OSError as e:
            self.status.show(f"Could not export to {path}: {e.strerror or e}")
            return
        self.status.show(f"Exported {count:,} runs to {path}")

    @Slot(QAction)
    def _on_theme_chosen(self, action: QAction) -> None:
        name = theme.apply_theme(QApplication.instance(), action.data())
        self.settings.set_str("appearance/theme", name)

    @Slot()
    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        self.runs_view.fill_column_menu(self.columns_menu)

    @Slot()
    def _focus_filter(self) -> None:
        self.runs_view.filter_edit.setFocus()
        self.runs_view.filter_edit.selectAll()

    # ---- dialogs: one small method each, so tests can replace them ------------------------

    def _ask_directory(self, start: str) -> str:
        return QFileDialog.getExistingDirectory(self, "Open Runs Directory", start)

    def _ask_save_path(self, caption: str, default: str, filters: str) -> str:
        return QFileDialog.getSaveFileName(self, caption, default, filters)[0]

    @Slot()
    def _show_about(self) -> None:
        from app.shell.about import about_text  # (imported when used: start-up is measured)
        QMessageBox.about(self, "About Tracker", about_text())

