"""Serving a registered model from the app, end to end: "Serve…" in the registry panel starts a real
``tracker models serve`` process, the Serving area shows its URL, version, requests and latency, Try It
gets predictions, a stage change swaps the version shown, and the process is gone after Stop, after
the window closes, and after the application's aboutToQuit."""
from __future__ import annotations

import json

import psutil
import pytest
from PySide6.QtCore import QCoreApplication, QItemSelectionModel

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, open_window
from serve_fixtures import NAME, iris, local_model, register_forests

import tracker
from app.registry.item_models import VersionsTableModel
from app.registry.serving import RUNNING
from app.registry.serving_area import ServingArea
from app.shell import desktop

pytestmark = OFFSCREEN_NOISE
START_MS = 180_000  # a model's start-up imports scikit-learn: ~3 s alone, far more on a busy machine


@pytest.fixture
def served_root(runs_root):
    """iris v1 (Production, @champion) and v2, random forests with a saved input example."""
    register_forests(runs_root)
    tracker.Client(runs_root).set_registered_model_alias(NAME, "champion", 1)
    return runs_root


@pytest.fixture
def pick(monkeypatch):
    """The Serve dialog answers with the choice whose URI is ``pick.uri`` (default: the one offered first)."""
    class Pick:
        uri = None
        offered: list[str] = []

    def ask(self, name, choices, selected):
        Pick.offered = [c.uri for c in choices]
        return next((c for c in choices if c.uri == Pick.uri), choices[selected])
    monkeypatch.setattr(ServingArea, "ask_choice", ask)
    return Pick


def _registry(qtbot, window):
    window.registry_link.set_shown(True)
    panel = window.registry_panel
    qtbot.waitUntil(lambda: panel.selected_model() == NAME and panel.ui.versions_model.rowCount() == 2,
                    timeout=10_000)
    return panel


def _serve_from_versions_menu(qtbot, panel, version: int, column: int) -> int:
    model, proxy = panel.ui.versions_model, panel.ui.versions_proxy
    index = proxy.mapFromSource(model.index(model.row_of(version), column))
    panel.ui.versions.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    action = next(a for a in panel.version_menu().actions() if a.text().replace("&", "") == "Serve…")
    action.trigger()
    (key,) = panel.ui.serving.manager.keys()
    area = panel.ui.serving
    qtbot.waitUntil(lambda: area.manager.entry(key).state == RUNNING and bool(area.manager.entry(key).version),
                    timeout=START_MS)
    return key


def _cells(area, key: int) -> dict[str, str]:
    model = area.model
    row = model.row_of(key)
    return {model.HEADERS[c]: model.index(row, c).data() for c in range(model.ACTIONS)}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_serve_try_it_and_close_the_window(qtbot, served_root, pick, monkeypatch):
    window = open_window(qtbot, served_root)
    panel = _registry(qtbot, window)
    pick.uri = f"models:/{NAME}@champion"
    key = _serve_from_versions_menu(qtbot, panel, 1, VersionsTableModel.ALIASES)
    assert pick.offered[0] == f"models:/{NAME}/1" and pick.uri in pick.offered
    area = panel.ui.serving
    entry = area.manager.entry(key)
    pid = entry.server.pid
    assert psutil.pid_exists(pid)
    cells = _cells(area, key)
    assert cells["Serving"] == f"{NAME}@champion" and cells["Version"] == "v1"
    assert cells["URL"].startswith("http://127.0.0.1:") and cells["URL"] == entry.url
    assert area.isVisibleTo(panel) and panel.ui.message.text().startswith(f"Serving models:/{NAME}@champion (v1)")

    copied: list[str] = []
    monkeypatch.setattr(desktop, "copy_text", copied.append)
    area.table.selectRow(area.model.row_of(key))
    area.copy_url_action.trigger()
    assert copied == [entry.url]

    try_button, _ = area.buttons(key)
    try_button.click()
    dialog = area.dialogs[key]
    assert json.loads(dialog.request.toPlainText()) == entry.input_example  # the saved input example
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("200 OK"), timeout=30_000)
    assert " v1 " in f"{dialog.status.text()} "
    X, _ = iris()
    expected = local_model(served_root, 1).predict(X.iloc[:3]).tolist()
    assert json.loads(dialog.response.toPlainText()) == {"predictions": expected}
    # an edited row is what gets sent
    dialog.request.setPlainText(json.dumps({"inputs": [X.iloc[100].tolist()]}))
    dialog.send()
    qtbot.waitUntil(lambda: dialog.response.toPlainText().count(",") == 0 and "200 OK" in dialog.status.text(),
                    timeout=30_000)
    assert json.loads(dialog.response.toPlainText())["predictions"] == \
        local_model(served_root, 1).predict(X.iloc[[100]]).tolist()
    # requests and last latency are polled off the GUI thread
    qtbot.waitUntil(lambda: _cells(area, key)["Requests"] == "2", timeout=10_000)
    assert _cells(area, key)["Last latency"].endswith(" ms")

    window.close()
    assert _gone(pid)
    assert area.manager.keys() == []


def test_a_stage_server_swaps_version_and_stop_ends_it(qtbot, served_root, pick):
    window = open_window(qtbot, served_root)
    panel = _registry(qtbot, window)
    key = _serve_from_versions_menu(qtbot, panel, 1, VersionsTableModel.STAGE)
    area = panel.ui.serving
    entry = area.manager.entry(key)
    assert entry.uri == f"models:/{NAME}/Production" and _cells(area, key)["Version"] == "v1"
    pid = entry.server.pid

    tracker.Client(served_root).transition_model_version_stage(NAME, 2, "Production", archive_existing_versions=True)
    qtbot.waitUntil(lambda: _cells(area, key)["Version"] == "v2", timeout=30_000)
    dialog = area.try_it(key)
    assert dialog.target.text().endswith("v2")
    dialog.send()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("200 OK"), timeout=30_000)
    assert "v2" in dialog.status.text()

    _, stop_button = area.buttons(key)
    stop_button.click()
    qtbot.waitUntil(lambda: area.manager.keys() == [], timeout=30_000)
    assert _gone(pid)
    assert area.isHidden() and key not in area.dialogs  # the Try It window went with its server
    assert panel.ui.message.text() == f"Stopped the server for models:/{NAME}/Production"


def test_servers_stop_when_the_application_quits(qtbot, served_root, pick):
    window = open_window(qtbot, served_root)
    panel = _registry(qtbot, window)
    key = _serve_from_versions_menu(qtbot, panel, 2, VersionsTableModel.VERSION)
    area = panel.ui.serving
    assert area.manager.entry(key).uri == f"models:/{NAME}/2"
    pid = area.manager.entry(key).server.pid
    QCoreApplication.instance().aboutToQuit.emit()  # what QApplication.quit() sends before the loop ends
    assert _gone(pid)
    assert area.manager.start(f"models:/{NAME}/2", served_root) == -1  # nothing starts afterwards


def test_a_server_that_dies_is_shown_exited(qtbot, served_root, pick):
    window = open_window(qtbot, served_root)
    panel = _registry(qtbot, window)
    key = _serve_from_versions_menu(qtbot, panel, 2, VersionsTableModel.VERSION)
    area = panel.ui.serving
    psutil.Process(area.manager.entry(key).server.pid).kill()
    qtbot.waitUntil(lambda: _cells(area, key)["Version"] == "Exited", timeout=30_000)
    assert panel.ui.message.text() == f"The server for models:/{NAME}/2 stopped by itself"
    try_button, stop_button = area.buttons(key)
    assert not try_button.isEnabled() and stop_button.text() == "Remove"
    stop_button.click()
    assert area.manager.keys() == [] and area.isHidden()
