"""The run page's Artifacts and Output tabs are built when first shown (a light placeholder until
then), and then show the selected run as if they had always been there."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTableView, QTreeView, QWidget

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE


def _show_tab(window, title: str) -> None:
    tabs = window.details.tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i).startswith(title)))


def test_artifacts_tab_is_built_when_shown_and_follows_the_selected_run(qtbot, runs_root):
    first = log_run("first", artifacts={"first.txt": "one"})
    second = log_run("second", artifacts={"second.txt": "two"})
    window = open_window(qtbot, runs_root, 2)
    qtbot.waitUntil(lambda: window.details.run() is not None)
    assert window.findChild(QTreeView, "artifactTree") is None
    placeholder = window.findChild(QLabel, "artifactsPlaceholder")
    assert placeholder is not None and placeholder.accessibleName() == "Artifacts: loading"

    window.select_run(first)
    _show_tab(window, "Artifacts")
    tree = window.findChild(QTreeView, "artifactTree")
    assert tree is not None and tree.isVisible()
    assert window.details.tabs.currentWidget() is window.details.artifacts
    artifacts = window.details.artifacts
    qtbot.waitUntil(lambda: artifacts.index_of(artifacts.root() / "first.txt").isValid())

    window.select_run(second)  # the tab, built now, follows the selection
    qtbot.waitUntil(lambda: artifacts.root() is not None and (artifacts.root() / "second.txt").is_file())
    qtbot.waitUntil(lambda: artifacts.index_of(artifacts.root() / "second.txt").isValid())
    assert window.details.tabs.tabText(window.details.tabs.currentIndex()) == "Artifacts"


def test_output_tab_is_built_when_shown(qtbot, runs_root):
    log_run("quiet")
    window = open_window(qtbot, runs_root, 1)
    qtbot.waitUntil(lambda: window.details.run() is not None)
    assert window.findChild(QWidget, "outputView") is None
    _show_tab(window, "Output")
    output = window.findChild(QWidget, "outputView")
    assert output is not None and output is window.details.output
    qtbot.waitUntil(lambda: not output.is_loading())
    assert output.plain_text() == ""  # the run printed nothing
    assert window.findChild(QLabel, "outputPlaceholder") is None or \
        window.details.tabs.indexOf(window.findChild(QLabel, "outputPlaceholder")) < 0


def test_params_metrics_and_tags_tabs_are_built_when_shown(qtbot, runs_root):
    log_run("older", params={"lr": "0.1"}, metrics={"loss": 0.5}, tags={"team": "a"})
    newest = log_run("newest", params={"lr": "0.2", "depth": "3"}, metrics={"loss": 0.25}, tags={"team": "b"})
    window = open_window(qtbot, runs_root, 2)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.run().info.run_id == newest)
    tabs = window.details.tabs
    assert [tabs.tabText(i) for i in range(1, 4)] == ["Params (2)", "Metrics (1)", "Tags (1)"]
    for name in ("paramsTable", "metricsTable", "tagsTable", "tagsEditor"):
        assert window.findChild(QWidget, name) is None, name
    _show_tab(window, "Params")
    params = window.findChild(QTableView, "paramsTable")
    assert params is not None and params.isVisible()
    assert [params.model().index(r, 0).data() for r in range(params.model().rowCount())] == ["depth", "lr"]
    _show_tab(window, "Tags")
    assert window.findChild(QTableView, "tagsTable").model().index(0, 1).data() == "b"
    assert window.details.system_heading.text().startswith("SYSTEM TAGS (")
    third = log_run("third", params={"seed": "7"})
    qtbot.waitUntil(lambda: window.runs_model.get(third) is not None, timeout=10000)
    window.select_run(third)
    qtbot.waitUntil(lambda: window.details.run() is not None and window.details.run().info.run_name == "third")
    assert [params.model().index(r, 0).data() for r in range(params.model().rowCount())] == ["seed"]
    assert window.details.tabs.tabText(1) == "Params (1)"
