"""A run whose model is registered says so on its page, with a link to that version in the
registry; a model folder in its artifacts offers registering first, naming what it holds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from sklearn.linear_model import LogisticRegression

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, open_window

import tracker
import tracker.sklearn
from app.details.links import LinkLabel

pytestmark = OFFSCREEN_NOISE


def model_run(name: str) -> tracker.entities.Run:
    with tracker.start_run(run_name=name, experiment="fraud") as run:
        tracker.log_text("a note", "notes/readme.txt")
        model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
        tracker.sklearn.log_model(model, "model")
    return tracker.get_run(run.info.run_id)


@pytest.fixture
def registered(runs_root):
    """Two runs with a model each, registered as fraud v1 and v2; the second run is returned."""
    client = tracker.Client(runs_root)
    first, second = model_run("first"), model_run("second")
    for run in (first, second):
        client.register_model(Path(run.path) / "artifacts" / "model", "fraud")
    return second


def test_the_run_page_says_registered_as_and_links_to_the_version(qtbot, runs_root, registered):
    window = open_window(qtbot, runs_root, 2)
    window.resize(1024, 700)
    assert window.select_run(registered.info.run_id)
    label = window.details.findChild(LinkLabel, "registeredAs")
    qtbot.waitUntil(lambda: label is not None and label.isVisible() and "fraud" in label.text(), timeout=10000)
    assert label.html() == 'Registered as <a href="0">fraud v2</a>'
    assert window.details.overview.registered_versions() == [("fraud", 2)]

    point = QPoint(label.fontMetrics().horizontalAdvance("Registered as fra"), label.height() // 2)
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=point)
    registry = window.registry_link
    qtbot.waitUntil(lambda: window.lower_tabs.currentWidget() is registry.page() and registry.built
                    and registry.panel.selected_version() is not None, timeout=10000)
    version = registry.panel.selected_version()
    assert (version.name, version.version) == ("fraud", 2)


def test_a_run_with_no_registered_model_shows_no_registry_row(qtbot, runs_root, registered):
    plain = model_run("unregistered")
    window = open_window(qtbot, runs_root, 3)
    window.select_run(registered.info.run_id)
    qtbot.waitUntil(lambda: window.details.overview.registered_versions() == [("fraud", 2)], timeout=10000)
    window.select_run(plain.info.run_id)
    qtbot.waitUntil(lambda: window.details.run().info.run_id == plain.info.run_id
                    and not window.details.is_looking_up(), timeout=10000)
    label = window.details.findChild(LinkLabel, "registeredAs")
    assert not label.isVisible() and window.details.overview.registered_versions() == []


def test_a_model_folder_offers_register_model_first_with_its_flavor_and_class(qtbot, runs_root, registered):
    window = open_window(qtbot, runs_root, 2)
    window.select_run(registered.info.run_id)
    artifacts = window.details.artifacts
    model_dir = Path(registered.path) / "artifacts" / "model"
    menu = artifacts.context_menu(str(model_dir))
    first = menu.actions()[0]
    assert first.text() == "Register Model (sklearn, LogisticRegression)…"
    assert first.data() == str(model_dir) and first.isEnabled()
    assert "sklearn.linear_model._logistic.LogisticRegression" in first.toolTip()
    plain = [a.text() for a in artifacts.context_menu(str(model_dir.parent / "notes")).actions()]
    assert plain[0] == "Reveal in File Manager" and "Register Model…" in plain  # not a model: no lead


def test_a_version_registered_while_the_run_is_shown_appears_on_its_page(qtbot, runs_root):
    run = model_run("later")
    tracker.Client(runs_root).register_model(Path(run.path) / "artifacts" / "model", "other")  # a registry
    window = open_window(qtbot, runs_root, 1)
    window.select_run(run.info.run_id)
    qtbot.waitUntil(lambda: window.details.overview.registered_versions() == [("other", 1)], timeout=10000)
    tracker.Client(runs_root).register_model(Path(run.path) / "artifacts" / "model", "fraud")
    qtbot.waitUntil(lambda: window.details.overview.registered_versions() == [("fraud", 1), ("other", 1)],
                    timeout=15000)
    label = window.details.findChild(LinkLabel, "registeredAs")
    assert label.html() == 'Registered as <a href="0">fraud v1</a>, <a href="1">other v1</a>'
