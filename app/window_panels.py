"""The panels beside the runs browser: metric charts, the compare view, the model registry.

Kept out of ``main_window.py`` so the window's own layout stays one concern; each panel
follows the window through its ``directoryOpened`` and ``closing`` signals.

The panels are built lazily, so that their modules stay off the path to a filled runs table
(measured: ``app.plots`` with pyqtgraph and numpy ~0.6 s of imports, the registry panel
~0.05 s, against a start-up target of 1 s). The tab and dock they live in exist from the
start, holding an empty placeholder; each panel is built at the first of:
- its tab or dock being shown (built on the spot, so nobody sees the placeholder),
- code asking for it (``window.plots``, ``window.compare``, ``window.registry_panel``),
- after the first snapshot of runs is shown and the user is idle (``_Imports``): a
  background thread imports the panels' modules (on the GUI thread that import would
  freeze it for ~0.6 s; beside it, the GUI thread's longest stall was ~60 ms), then the
  panels are built on the GUI thread, one per pass of the event loop (each ~10-40 ms).
"""
from __future__ import annotations

import importlib
import operator
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

import tracker
from tracker.entities import Run

from app import run_colors

if TYPE_CHECKING:
    from app.main_window import MainWindow

_start_time = operator.attrgetter("info.start_time")
PANEL_MODULES = ("app.plots", "app.registry.panel")
IDLE_MS = 500  # no key press, click or wheel for this long: import the panels' modules
MAX_WAIT_MS = 10_000  # ...or this long after the first snapshot, whatever the user does


def install_panels(window: "MainWindow") -> None:
    """Sets ``window.charts``, ``window.registry_link`` and ``window.registry_dock``; the window's
    ``plots``, ``compare`` and ``registry_panel`` properties build the panels on first use."""
    window.charts = _ChartsLink(window)
    window.registry_link = _RegistryLink(window)


class _Imports(QObject):
    """Imports the panels' modules once per process, on a plain thread; ``done`` says when.

    The thread starts once the user has left keyboard and mouse alone for ``IDLE_MS`` (at
    most ``MAX_WAIT_MS`` after ``request``): while it runs (~0.6-0.9 s) the GUI thread shares
    the GIL with it, so GUI work runs slower (a table repaint took ~2x, measured), though it
    never stalled for more than ~60 ms. PySide creates its Python types on first use; the
    import touching them off the GUI thread while the GUI thread touched ~700 of them for the
    first time was run 20 times without a failure or a duplicated type.
    """

    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._thread: threading.Thread | None = None
        self._hurry = threading.Event()
        self._watching = False
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(self._start)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(MAX_WAIT_MS)
        self._deadline.timeout.connect(self._start)

    def ready(self) -> bool:
        return all(name in sys.modules for name in PANEL_MODULES)

    def request(self) -> None:
        if self._thread is not None or self._watching:
            return
        self._watching = True
        QCoreApplication.instance().installEventFilter(self)
        self._idle.start()
        self._deadline.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            _note_input()
            self._idle.start()  # the user is busy: wait for a quiet moment
        return False

    def hurry(self) -> None:
        """The GUI thread needs the modules now: the import thread stops pausing for input
        (it may hold a module's import lock the GUI thread is about to wait for)."""
        self._hurry.set()

    @Slot()
    def _start(self) -> None:
        self._idle.stop()
        self._deadline.stop()
        if self._watching:
            self._watching = False
            QCoreApplication.instance().removeEventFilter(self)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="panel-imports")
            self._thread.start()

    def _run(self) -> None:
        pause = YieldToInput(threading.current_thread(), self._hurry)
        sys.meta_path.insert(0, pause)
        try:
            for name in PANEL_MODULES:
                try:
                    importlib.import_module(name)
                except Exception:  # the GUI thread imports it again when it builds the panel, and says why
                    pass
        finally:
            sys.meta_path.remove(pause)
        self.done.emit()  # queued to the GUI thread, where this object lives


_last_input = 0.0  # time.monotonic() of the last key press, click or wheel seen by a filter here


def _note_input() -> None:
    global _last_input
    _last_input = time.monotonic()


def quiet_ms() -> float:
    """How long since the last input that a filter installed here saw."""
    return (time.monotonic() - _last_input) * 1000


def user_busy() -> bool:
    """Input came in the last IDLE_MS."""
    return quiet_ms() < IDLE_MS


class YieldToInput:
    """A ``sys.meta_path`` entry for the panel-import thread: before each module it loads, it
    waits while the user is typing or clicking (at most ``MAX_PAUSE_S`` a module), unless
    ``hurry`` is set. The import shares the GIL with the GUI thread: keystrokes made while it
    ran took up to 2-3x as long (the first filter keystroke after loading: 72-220 ms, measured).
    It finds nothing itself; the usual finders go on as before."""

    MAX_PAUSE_S = 10.0

    def __init__(self, thread: threading.Thread, hurry: threading.Event) -> None:
        self.thread = thread
        self.hurry = hurry

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if threading.current_thread() is self.thread:
            deadline = time.monotonic() + self.MAX_PAUSE_S
            while user_busy() and not self.hurry.is_set() and time.monotonic() < deadline:
                self.hurry.wait(0.05)
        return None


_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
})
_imports: _Imports | None = None


def _panel_imports() -> _Imports:
    global _imports
    if _imports is None:  # created by the GUI thread, on first use
        _imports = _Imports()
    return _imports


class _InputClock(QObject):
    """Notes key presses, clicks and wheel turns (``quiet_ms``) while installed on the application."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            self._installed = True
            QCoreApplication.instance().installEventFilter(self)

    def remove(self) -> None:
        if self._installed:
            self._installed = False
            QCoreApplication.instance().removeEventFilter(self)

    quiet_ms = staticmethod(quiet_ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            _note_input()
        return False


class _ChartsLink(QObject):
    """Charts and the compare view of the selected runs, as tabs beside the run's details.

    Also assigns the run colors (the runs table's swatches need them before any chart exists)
    and, after the first snapshot, has every lazy panel of the window built.
    """

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self._plots: Any = None  # MetricPlotPanel, once built
        self._compare: Any = None  # CompareView, once built
        self._plots_page = QWidget(window)  # placeholders until then
        self._compare_page = QWidget(window)
        self._replacing = False
        tabs = window.lower_tabs
        tabs.addTab(self._plots_page, "Charts")
        tabs.addTab(self._compare_page, "Compare")
        tabs.currentChanged.connect(self._on_tab_changed)
        self._build_step = QTimer(self)  # builds the panels one per event-loop pass
        self._build_step.setSingleShot(True)
        self._build_step.setInterval(0)
        self._build_step.timeout.connect(self._build_next)
        # Building a panel holds the GUI thread for one pass (the compare view ~100-140 ms,
        # measured): only while the user has left keyboard and mouse alone for IDLE_MS.
        self._input = _InputClock(self)
        self._charts_made: list = []  # the compare view's charts, made ahead of it by _build_next
        self._preload_started = False
        self._closed = False
        window.runs_view.selectionChanged.connect(self._on_selection_changed)
        window.source.loaded.connect(self._on_loaded)
        window.source.runs_changed.connect(self._on_runs_changed)
        window.directoryOpened.connect(self._on_directory_opened)
        window.closing.connect(self._on_closing)

    # -- the panels, built on first use ---------------------------------------------------------
    @property
    def plots(self) -> Any:
        if self._plots is None:
            _panel_imports().hurry()
            from app.plots import MetricPlotPanel
            window = self.window
            self._plots = MetricPlotPanel(window, settings=window.settings.qsettings)
            window.source.runs_removed.connect(self._plots.on_runs_removed)
            self._plots.status_message.connect(window.statusBar().showMessage)
            self._replace(self._plots_page, self._plots, "Charts")
            self._plots.set_runs(self._selection())
        return self._plots

    @property
    def compare(self) -> Any:
        if self._compare is None:
            _panel_imports().hurry()
            from app.plots import CompareView
            window = self.window
            made = tuple(self._charts_made) if len(self._charts_made) == 2 else None
            self._compare = CompareView(window, settings=window.settings.qsettings, charts=made)
            self._compare.run_clicked.connect(window.select_run)
            self._replace(self._compare_page, self._compare, "Compare")
            self._compare.set_runs(self._selection())
        return self._compare

    def _selection(self) -> list[Run]:
        return [r for r in self.window.runs_view.selected_runs() if isinstance(r, Run)]

    def _replace(self, placeholder: QWidget, panel: QWidget, title: str) -> None:
        tabs = self.window.lower_tabs
        index, current = tabs.indexOf(placeholder), tabs.currentIndex()
        self._replacing = True  # no tab changes reach _on_tab_changed meanwhile
        try:
            tabs.insertTab(index, panel, title)
            tabs.removeTab(index + 1)
            tabs.setCurrentIndex(current)
        finally:
            self._replacing = False
        placeholder.deleteLater()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if self._replacing:
            return
        page = self.window.lower_tabs.widget(index)
        if page is self._plots_page:
            self.plots  # noqa: B018 (builds it)
        elif page is self._compare_page:
            self.compare  # noqa: B018

    def _preload(self) -> None:
        """After the first load: import the panels' modules in the background, then build them."""
        if self._preload_started:
            return
        self._preload_started = True
        self._input.install()
        imports = _panel_imports()
        if imports.ready():
            self._build_step.start()
        else:
            imports.done.connect(self._on_imported)
            imports.request()

    @Slot()
    def _on_imported(self) -> None:
        _panel_imports().done.disconnect(self._on_imported)
        if not self._closed:
            self._build_step.start()

    @Slot()
    def _build_next(self) -> None:
        if self._closed:
            return
        quiet = self._input.quiet_ms()
        if quiet < IDLE_MS:  # the user is busy: come back when they pause
            self._build_step.start(int(IDLE_MS - quiet) + 1)
            return
        self._build_step.setInterval(0)
        registry = self.window.registry_link
        if self._plots is None:
            self.plots  # noqa: B018
        elif self._compare is None and len(self._charts_made) < 2:
            # the compare view's two charts first, a pass each: at once it was one 100-140 ms pass
            _panel_imports().hurry()
            from app.plots.compare_charts import ParallelCoordinates, ScatterChart
            self._charts_made.append((ScatterChart, ParallelCoordinates)[len(self._charts_made)]())
        elif self._compare is None:
            self.compare  # noqa: B018
        elif not registry.built:
            registry.panel  # noqa: B018
        if self._plots is None or self._compare is None or not registry.built:
            self._build_step.start()
        else:
            self._input.remove()

    # -- following the window -------------------------------------------------------------------
    @Slot(list)
    def _on_selection_changed(self, runs: list) -> None:
        readable = [r for r in runs if isinstance(r, Run)]
        if self._plots is not None:
            self._plots.set_runs(readable)
        if self._compare is not None:
            self._compare.set_runs(readable)

    @Slot(object)
    def _on_directory_opened(self, _path) -> None:
        run_colors.reset()
        self._on_selection_changed([])

    @Slot(object)
    def _on_loaded(self, snapshot) -> None:
        # In start-time order, so neighbouring runs get different colors.
        run_colors.assign(snapshot.colors if snapshot.colors is not None
                          else [r.info.run_id for r in sorted(snapshot.runs, key=_start_time)])
        self._preload()

    @Slot(list)
    def _on_runs_changed(self, runs: list) -> None:
        run_colors.assign(r.info.run_id for r in runs if isinstance(r, Run))
        if self._plots is not None:
            self._plots.on_runs_changed(runs)

    @Slot()
    def _on_closing(self) -> None:
        self._closed = True
        self._build_step.stop()
        self._input.remove()
        if self._plots is not None:
            self._plots.shutdown()


class _RegistryLink(QObject):
    """The registry panel in a dock (View > Model Registry, Ctrl+3), built when first shown."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self._panel: Any = None
        placeholder = QWidget()
        dock = window.add_panel(placeholder, "Model Registry", Qt.DockWidgetArea.BottomDockWidgetArea)
        dock.setObjectName("registryPanelDock")  # the name saved window states know it by
        dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+3"))
        self.dock: QDockWidget = dock
        window.registry_dock = dock
        dock.visibilityChanged.connect(self._on_visibility_changed)
        window.details.artifactMenuAboutToShow.connect(self._on_artifact_menu)
        window.directoryOpened.connect(self._on_directory_opened)
        window.closing.connect(self._on_closing)
        # Hidden until there is a registry to show (or the user asks, Ctrl+3), so a directory
        # of runs alone keeps the whole window for browsing; the saved window state wins later.
        dock.hide()

    @property
    def built(self) -> bool:
        return self._panel is not None

    @property
    def panel(self) -> Any:
        if self._panel is None:
            _panel_imports().hurry()
            from app.registry import RegistryPanel
            window, dock = self.window, self.dock
            panel = RegistryPanel(window.runs_dir or tracker.get_tracking_dir(), window)
            self._panel = panel
            panel.run_requested.connect(window.select_run)
            panel.message.connect(window.statusBar().showMessage)
            # raise_ is no registered Qt slot; a plain callable avoids PySide's dynamic-slot warning
            panel.show_requested.connect(lambda: (dock.show(), dock.raise_()))
            placeholder = dock.widget()
            dock.setWidget(panel)
            if placeholder is not None:
                placeholder.deleteLater()
        return self._panel

    @Slot(bool)
    def _on_visibility_changed(self, visible: bool) -> None:
        if visible:
            self.panel  # noqa: B018 (builds it)

    @Slot(QMenu, str)
    def _on_artifact_menu(self, menu: QMenu, path: str) -> None:
        self.panel.extend_artifact_menu(menu, path)

    @Slot(object)
    def _on_directory_opened(self, path) -> None:
        if self._panel is not None:
            self._panel.set_tracking_dir(path)
        if (path / "registry.db").exists():
            self.dock.show()

    @Slot()
    def _on_closing(self) -> None:
        if self._panel is not None:
            self._panel.shutdown()
