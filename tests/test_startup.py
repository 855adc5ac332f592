"""Start-up stays light: what ``import tracker`` and the window import, and the panels built lazily."""
import copy
import pickle
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QWidget

from app_fixtures import *  # noqa: F401,F403
from app_fixtures import log_run, open_window
from tracker.index import RunIndex

REPO = Path(__file__).resolve().parent.parent

_IMPORTED = """
import sys
{imports}
heavy = ("numpy", "sklearn", "skops", "pyqtgraph", "app.plots", "app.registry.panel", "tracker.fluent")
print(" ".join(m for m in heavy if m in sys.modules) or "-")
"""


def _imported(imports: str) -> str:
    out = subprocess.run([sys.executable, "-c", _IMPORTED.format(imports=imports)], cwd=REPO, check=True,
                         capture_output=True, text=True, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    return out.stdout.strip()


def test_import_tracker_and_the_window_pull_nothing_heavy():
    assert _imported("import tracker") == "-"
    assert _imported("import app.runs_source\nfrom app import MainWindow") == "-"
    # the public names still resolve (on first use)
    assert _imported("import tracker\ntracker.start_run\ntracker.sklearn") == "numpy tracker.fluent"


def test_panels_are_built_when_their_tab_or_dock_is_shown(qtbot):
    from app.main_window import MainWindow
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.show()
    charts = window.charts
    assert charts._plots is None and charts._compare is None and not window.registry_link.built
    tabs = window.lower_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Run", "Charts", "Compare"]
    tabs.setCurrentIndex(1)  # the user clicks "Charts": built on the spot, and shown
    assert tabs.currentWidget() is window.plots and window.plots.objectName() == "metricPlot"
    assert charts._compare is None
    assert window.compare.objectName() == "compareView" and tabs.widget(2) is window.compare
    assert tabs.currentIndex() == 1 and tabs.count() == 3
    window.registry_dock.show()  # View > Model Registry
    qtbot.waitUntil(lambda: window.registry_link.built)
    assert window.registry_dock.widget() is window.registry_panel
    assert window.registry_dock.objectName() == "registryPanelDock"
    window.close()


def test_panels_are_built_after_the_first_load(qtbot, runs_root):
    log_run("a", metrics={"loss": 1.0})
    window = open_window(qtbot, runs_root, 1)
    qtbot.waitUntil(lambda: window.charts._plots is not None and window.charts._compare is not None
                    and window.registry_link.built, timeout=15000)
    assert not any(type(w) is QWidget for w in (window.lower_tabs.widget(1), window.lower_tabs.widget(2)))
    assert window.plots.runs() and window.plots.runs()[0].info.run_name == "a"  # the selection followed
    # the compare view's charts were made in passes of their own, ahead of it, and are the ones it shows
    assert [window.compare.scatter, window.compare.parallel] == window.charts._charts_made
    assert window.compare.scatter.isVisibleTo(window.compare)
    window.close()


def test_runs_from_the_index_build_their_dicts_on_first_read(runs_root):
    log_run("a", params={"lr": "0.1"}, metrics={"loss": 0.5, "acc": 0.9})
    RunIndex(runs_root).refresh()
    run = RunIndex(runs_root).refresh().runs[0]
    for name in ("params", "tags", "metrics", "summaries"):  # listing 10,000 runs reads none of them
        assert not isinstance(run.data.__dict__[name], dict)
    assert run.data.params == {"lr": "0.1"} and isinstance(run.data.__dict__["params"], dict)
    assert run.data.metrics == {"loss": 0.5, "acc": 0.9} and "tracker.user" in run.data.tags
    copied = pickle.loads(pickle.dumps(run))
    assert copied == run and copy.deepcopy(run) == run
    assert run.data.summaries["loss"].last == 0.5 and run.data.summaries["acc"].count == 1
    assert isinstance(run.data.__dict__["summaries"], dict)  # decoded once, then kept


def test_panels_wait_for_the_user_to_pause_before_being_built(qtbot):
    """A panel is built in one pass of the GUI thread (the compare view ~100-140 ms): never while typing."""
    from PySide6.QtCore import Qt

    from app.main_window import MainWindow
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.show()
    charts = window.charts
    charts._input.install()  # as the first load does
    qtbot.keyClick(window.runs_view.filter_edit, Qt.Key.Key_A)  # the user types...
    assert charts._input.quiet_ms() < 1000
    charts._build_next()  # ...so a build step that comes now waits
    assert charts._plots is None and charts._compare is None and not window.registry_link.built
    assert charts._build_step.isActive() and charts._build_step.interval() > 0
    qtbot.waitUntil(lambda: charts._plots is not None and charts._compare is not None
                    and window.registry_link.built, timeout=15000)  # ...and the rest follows the pause
    assert not charts._input._installed  # nothing left watching every event
    window.close()


def test_the_panel_import_thread_pauses_while_the_user_types(tmp_path, monkeypatch):
    """It shares the GIL with the GUI thread: between modules it waits for a pause in the input."""
    import threading
    import time

    from app import window_panels
    (tmp_path / "panel_mod_a.py").write_text("VALUE = 1\n")
    (tmp_path / "panel_mod_b.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hurry = threading.Event()
    started = threading.Event()

    def run(name):
        started.set()
        __import__(name)

    for name, unblock in (("panel_mod_a", "input stops"), ("panel_mod_b", "hurry")):
        hurry.clear()
        started.clear()
        monkeypatch.setattr(window_panels, "_last_input", time.monotonic() + 3600)  # typing, for now
        thread = threading.Thread(target=run, args=(name,))
        pause = window_panels.YieldToInput(thread, hurry)
        monkeypatch.setattr(sys, "meta_path", [pause, *sys.meta_path])
        thread.start()
        started.wait(5)
        thread.join(0.3)
        assert thread.is_alive() and name not in sys.modules  # waiting for the user to pause
        if unblock == "input stops":
            monkeypatch.setattr(window_panels, "_last_input", 0.0)
        else:
            hurry.set()  # the GUI thread needs the modules now
        thread.join(5)
        assert not thread.is_alive() and sys.modules[name].VALUE in (1, 2)
        monkeypatch.undo()
        monkeypatch.syspath_prepend(str(tmp_path))


def test_other_threads_import_without_pausing(monkeypatch):
    import threading
    import time

    from app import window_panels
    monkeypatch.setattr(window_panels, "_last_input", time.monotonic() + 3600)
    pause = window_panels.YieldToInput(threading.Thread(target=lambda: None), threading.Event())
    t0 = time.monotonic()
    assert pause.find_spec("anything") is None
    assert time.monotonic() - t0 < 0.05
