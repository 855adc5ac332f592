"""The Registry tab's two layouts: three columns (models | versions and history | lineage) when
the panel has room for them, the lineage as a tab beside History when it has not; switching
with the window's width, both ways, each layout keeping the splitter sizes the user set."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QTableView, QWidget

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, open_window

from app.shell.settings import Settings
from tracker.demo import MODEL_NAME, write_demo_runs

pytestmark = OFFSCREEN_NOISE
WIDE, NARROW = (1600, 1000), (1024, 700)


def _window(qtbot, root, size):
    window = open_window(qtbot, root)
    window.resize(*size)
    window.registry_link.set_shown(True)
    panel = window.registry_panel
    qtbot.waitUntil(lambda: panel.ui.versions_model.rowCount() == 3 and panel.ui.lineage.info is not None
                    and panel.selected_model() == MODEL_NAME, timeout=10000)
    return window, panel


def _parts(panel):
    return (panel.findChild(QSplitter, "registrySplitter"), panel.findChild(QTabWidget, "registryDetailTabs"),
            panel.findChild(QWidget, "registryLineagePage"))


def _three_columns(panel) -> bool:
    splitter, tabs, page = _parts(panel)
    return splitter.count() == 3 and splitter.widget(2) is page and tabs.count() == 1 and page.isVisible()


def _lineage_tab(panel) -> bool:
    splitter, tabs, page = _parts(panel)
    return splitter.count() == 2 and tabs.indexOf(page) == 1


def test_the_lineage_becomes_a_tab_beside_history_when_narrow_and_a_column_again_when_wide(qtbot, runs_root):
    write_demo_runs(runs_root, now=1_790_000_000)
    window, panel = _window(qtbot, runs_root, WIDE)
    splitter, tabs, page = _parts(panel)
    lineage = panel.findChild(QWidget, "registryLineage")
    history = panel.findChild(QTableView, "registryHistory")
    qtbot.waitUntil(lambda: _three_columns(panel))
    assert not tabs.tabBar().isVisible()  # History alone: its heading, no tab bar
    assert lineage.isVisible() and history.isVisible()
    shown = lineage.info

    window.resize(*NARROW)
    qtbot.waitUntil(lambda: _lineage_tab(panel))
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["History", "Lineage"]
    assert tabs.tabBar().isVisible() and history.isVisible() and not lineage.isVisible()
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(1).center())
    qtbot.waitUntil(lambda: lineage.isVisible())
    assert lineage.info is shown and "rf-" in lineage.fields["run"].text()
    headings = [w.text() for w in panel.findChildren(QLabel, "panelHeading") if w.isVisible()]
    assert "LINEAGE" not in headings and "HISTORY" not in headings  # the tabs name them

    window.resize(*WIDE)
    qtbot.waitUntil(lambda: _three_columns(panel))
    assert lineage.isVisible() and history.isVisible() and lineage.info is shown
    headings = [w.text() for w in panel.findChildren(QLabel, "panelHeading") if w.isVisible()]
    assert "LINEAGE" in headings and "HISTORY" in headings


def test_each_layout_keeps_and_restores_the_sizes_the_user_dragged(qtbot, runs_root):
    write_demo_runs(runs_root, now=1_790_000_000)
    window, panel = _window(qtbot, runs_root, WIDE)
    splitter = _parts(panel)[0]
    qtbot.waitUntil(lambda: _three_columns(panel))
    splitter.moveSplitter(300, 1)  # what a drag of the handle does: the models list 300 px wide
    splitter.moveSplitter(splitter.width() - 420, 2)  # the lineage 420 px
    wide = splitter.sizes()
    assert wide[0] == 300 and abs(wide[2] - (420 - splitter.handleWidth())) <= 1
    sides = [wide[0], wide[2]]  # (the middle column takes what the window's width leaves)

    window.resize(*NARROW)
    qtbot.waitUntil(lambda: _lineage_tab(panel))
    assert splitter.sizes()[0] != 300  # the narrow layout has sizes of its own
    splitter.moveSplitter(200, 1)
    narrow = splitter.sizes()
    assert narrow[0] == 200

    window.resize(*WIDE)
    qtbot.waitUntil(lambda: _three_columns(panel))
    qtbot.waitUntil(lambda: splitter.sizes()[::2] == sides)
    window.resize(*NARROW)
    qtbot.waitUntil(lambda: _lineage_tab(panel) and splitter.sizes()[0] == narrow[0])
    window.close()  # saves both

    again, panel = _window(qtbot, runs_root, NARROW)
    splitter = _parts(panel)[0]
    qtbot.waitUntil(lambda: _lineage_tab(panel) and splitter.sizes()[0] == narrow[0])
    again.resize(*WIDE)
    qtbot.waitUntil(lambda: _three_columns(panel) and splitter.sizes()[::2] == sides)


def test_sizes_that_would_leave_a_column_unusable_are_not_restored(qtbot, runs_root):
    write_demo_runs(runs_root, now=1_790_000_000)
    probe = QSplitter()
    for _ in range(3):
        probe.addWidget(QWidget())
    probe.setSizes([4, 1320, 4])  # a models list and a lineage a few pixels wide
    Settings().set_bytes("registry/splitter", probe.saveState())
    probe.deleteLater()
    window, panel = _window(qtbot, runs_root, WIDE)
    splitter, _, page = _parts(panel)
    models = panel.findChild(QWidget, "registryModelsBox")
    qtbot.waitUntil(lambda: _three_columns(panel))
    qtbot.waitUntil(lambda: splitter.sizes()[0] >= models.minimumWidth() > 100
                    and splitter.sizes()[2] >= page.minimumWidth() > 200)


def test_the_versions_sort_survives_a_restart_and_the_columns_are_fitted_again(qtbot, runs_root):
    write_demo_runs(runs_root, now=1_790_000_000)
    window, panel = _window(qtbot, runs_root, NARROW)
    versions = panel.findChild(QTableView, "registryVersions")
    versions.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: versions.model().index(0, 0).data() == "v1")
    window.close()
    _, panel = _window(qtbot, runs_root, WIDE)
    versions = panel.findChild(QTableView, "registryVersions")
    qtbot.waitUntil(lambda: versions.model().index(0, 0).data() == "v1")
    header = versions.horizontalHeader()
    last = header.count() - 1  # the description takes what is left (cut with an ellipsis if it must)
    qtbot.waitUntil(lambda: header.length() == versions.viewport().width()
                    and all(header.sectionSize(c) >= versions.sizeHintForColumn(c) for c in range(last)))
