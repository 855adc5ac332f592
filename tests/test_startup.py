"""Start-up stays light: what ``import tracker`` and the window import, and the panels built lazily."""
import subprocess
import sys
from pathlib import Path

from app_fixtures import *  # noqa: F403
from app_fixtures import log_run, open_window

REPO = Path(__file__).resolve().parent.parent

_IMPORTED = """
import sys
{imports}
heavy = ("numpy", "sklearn", "skops", "pyqtgraph", "app.plots", "app.registry.panel", "tracker.fluent")
print(" ".join(m for m in heavy if m in sys.modules) or "-")
"""


def _imported(imports: str) -> str:
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", _IMPORTED.format(imports=imports)], cwd=REPO, check=True,
                         capture_output=True, text=True, env=env)
    return out.stdout.strip()


def test_import_tracker_and_the_window_pull_nothing_heavy():
    assert _imported("import tracker") == "-"
    # the runs table is numpy columns; the charts, the registry and the logging API stay unloaded
    assert _imported("import app.runs.source\nfrom app import MainWindow") == "numpy"
    # the public names still resolve (on first use)
    assert _imported("import tracker\ntracker.start_run\ntracker.sklearn") == "numpy tracker.fluent"


def test_panels_are_built_when_their_tab_is_shown(qtbot):
    from app.shell.window import MainWindow
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.show()
    charts = window.charts
    assert charts._plots is None and charts._compare is None and not window.registry_link.built
    tabs = window.lower_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Run", "Charts", "Compare", "Registry"]
    placeholder = tabs.widget(1)
    assert placeholder.objectName() == "chartsPlaceholder" and "Charts" in placeholder.text()
    tabs.setCurrentIndex(1)  # the user clicks "Charts": built on the spot, and shown
    assert tabs.currentWidget() is window.plots and window.plots.objectName() == "metricPlot"
    assert charts._compare is None and tabs.widget(2).objectName() == "comparePlaceholder"
    tabs.setCurrentIndex(2)
    assert tabs.currentWidget() is window.compare and window.compare.objectName() == "compareView"
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Run", "Charts", "Compare", "Registry"]
    assert tabs.widget(3).objectName() == "registryPlaceholder"
    tabs.setCurrentIndex(3)
    qtbot.waitUntil(lambda: window.registry_link.built)
    assert tabs.widget(3) is window.registry_panel and tabs.currentIndex() == 3
    window.close()


def test_the_placeholder_is_painted_as_the_tab_opens_before_the_panel_is_built(qtbot, runs_root):
    """The first Charts tab imports pyqtgraph (~0.6 s): the click is answered with the placeholder."""
    from PySide6.QtCore import QEvent, QObject

    log_run("a", metrics={"loss": 1.0})
    window = open_window(qtbot, runs_root, 1)
    qtbot.waitExposed(window)
    painted = []

    class PaintSpy(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                painted.append(window.charts._plots is None)
            return False

    spy = PaintSpy(window)
    window.lower_tabs.widget(1).installEventFilter(spy)
    window.lower_tabs.setCurrentIndex(1)
    assert painted and painted[0] is True  # painted while the panel did not exist yet
    assert window.lower_tabs.currentWidget() is window.plots
    window.close()


def test_a_panel_asked_for_in_code_is_built_without_being_shown(qtbot):
    from app.shell.window import MainWindow
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.show()
    assert window.compare.objectName() == "compareView"  # built, in its tab, which stays behind
    assert window.lower_tabs.widget(2) is window.compare and window.lower_tabs.currentIndex() == 0
    assert window.charts._plots is None
    window.close()


def test_loading_runs_builds_no_panel_until_its_tab_is_shown(qtbot, runs_root):
    log_run("a", metrics={"loss": 1.0})
    window = open_window(qtbot, runs_root, 1)
    qtbot.waitUntil(lambda: window.details.run() is not None)
    qtbot.waitUntil(lambda: not window.is_loading())  # after the pass that follows loading: still nothing built
    assert window.charts._plots is None and window.charts._compare is None
    assert not window.registry_link.built
    window.lower_tabs.setCurrentIndex(1)
    assert window.charts._plots is not None
    assert window.plots.runs() and window.plots.runs()[0].info.run_name == "a"  # the selection followed
    window.lower_tabs.setCurrentIndex(2)
    assert window.compare.isVisibleTo(window)  # built when its tab is first shown
    assert [r.info.run_name for r in window.compare.runs] == ["a"]
    window.close()
