"""The run page's Artifacts and Output tabs are built when first shown (a light placeholder until
then), and then show the selected run as if they had always been there."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTreeView, QWidget

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
