"""The registry panel's "Serve…": what it offers to serve (a fixed version, a stage or an alias it follows),
which choice it starts on, the dialog's URI, and a server that cannot start. No model is loaded here."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, register_file, wait_for_versions

import tracker
from app.registry.item_models import VersionsTableModel
from app.registry.serving import FAILED
from app.registry.serving_area import ServingArea
from app.registry.serving_ui import ServeDialog

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def asked(monkeypatch):
    """Replaces the Serve dialog: records (name, choice URIs, the one chosen first) and cancels."""
    calls = []

    def ask(self, name, choices, selected):
        calls.append((name, [c.uri for c in choices], choices[selected].uri))
        return None
    monkeypatch.setattr(ServingArea, "ask_choice", ask)
    return calls


@pytest.fixture
def fraud(tmp_path):
    """fraud v1 Production @champion, v2 Staging @challenger, v3 with no stage."""
    for i, stage in enumerate(("Production", "Staging", None)):
        register_file(tmp_path, "fraud", f"weights {i}", stage)
    client = tracker.Client()
    client.set_registered_model_alias("fraud", "champion", 1)
    client.set_registered_model_alias("fraud", "challenger", 2)


def _serve_action(menu):
    return next(a for a in menu.actions() if a.text().replace("&", "") == "Serve…")


def _select_cell(panel, version: int, column: int) -> None:
    row = panel.ui.versions_model.row_of(version)
    index = panel.ui.versions_proxy.mapFromSource(panel.ui.versions_model.index(row, column))
    panel.ui.versions.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def test_versions_menu_serves_the_version_its_stage_or_its_alias(qtbot, panel, fraud, asked):
    wait_for_versions(qtbot, panel, "fraud", 3)
    offered = ["models:/fraud/2", "models:/fraud/Production", "models:/fraud/Staging", "models:/fraud@challenger",
               "models:/fraud@champion", "models:/fraud/latest"]
    for column, first in ((VersionsTableModel.VERSION, "models:/fraud/2"),
                          (VersionsTableModel.STAGE, "models:/fraud/Staging"),
                          (VersionsTableModel.ALIASES, "models:/fraud@challenger")):
        _select_cell(panel, 2, column)
        action = _serve_action(panel.version_menu())
        assert action.isEnabled()
        action.trigger()
        assert asked[-1] == ("fraud", offered, first)
    assert panel.ui.serving.isHidden()  # cancelled: nothing started
    assert panel.ui.serving.manager.keys() == []


def test_a_version_without_stage_or_alias_is_offered_fixed_first(qtbot, panel, fraud, asked):
    wait_for_versions(qtbot, panel, "fraud", 3)
    _select_cell(panel, 3, VersionsTableModel.STAGE)
    _serve_action(panel.version_menu()).trigger()
    name, uris, first = asked[-1]
    assert first == "models:/fraud/3"  # no stage of its own to follow: the version itself


def test_models_list_menu_serves_each_stage_and_alias(qtbot, panel, fraud, asked):
    wait_for_versions(qtbot, panel, "fraud", 3)
    menu = panel.ui.serving.model_menu(panel.ui.models_model.get("fraud"), panel.tracking_dir(), panel)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Serve Stage Production (v1)…", "Serve Stage Staging (v2)…", "Serve Alias @challenger (v2)…",
                     "Serve Alias @champion (v1)…", "Serve Latest version (v3)…"]
    menu.actions()[3].trigger()
    assert asked[-1][2] == "models:/fraud@champion"


def test_dialog_shows_the_uri_and_what_happens_when_the_registry_changes(qtbot, panel, fraud):
    wait_for_versions(qtbot, panel, "fraud", 3)
    from app.registry.serving import serve_choices
    choices = serve_choices("fraud", panel.ui.models_model.get("fraud"), panel.ui.versions_model.version_at(
        panel.ui.versions_model.row_of(1)))
    dialog = ServeDialog("fraud", choices, 0, panel)
    qtbot.addWidget(dialog)
    assert dialog.uri.text() == "models:/fraud/1"
    assert "Fixed" in dialog.detail.text()
    alias = next(i for i, c in enumerate(choices) if c.uri == "models:/fraud@champion")
    dialog.group.button(alias).click()
    assert dialog.uri.text() == "models:/fraud@champion"
    assert "Follows the alias" in dialog.detail.text() and "v1" in dialog.detail.text()
    assert dialog.result_value().uri == "models:/fraud@champion"


def test_a_server_that_cannot_start_says_why_and_can_be_removed(qtbot, panel, fraud, monkeypatch):
    """A plain file registered is no servable model: the row says Failed, its tooltip and the message line
    say why, and Remove takes the row away."""
    wait_for_versions(qtbot, panel, "fraud", 3)
    monkeypatch.setattr(ServingArea, "ask_choice", lambda self, name, choices, selected: choices[selected])
    _select_cell(panel, 1, VersionsTableModel.VERSION)
    _serve_action(panel.version_menu()).trigger()
    area = panel.ui.serving
    (key,) = area.manager.keys()
    assert area.isVisibleTo(panel)
    qtbot.waitUntil(lambda: area.manager.entry(key).state == FAILED, timeout=120_000)
    model = area.model
    assert model.index(0, model.VERSION).data() == "Failed"
    assert model.index(0, model.SERVES).data() == "fraud/1"
    reason = model.index(0, model.VERSION).data(3)  # ToolTipRole: the reason, from the server's log
    assert reason and model.index(0, model.URL).data() == reason  # shown where its URL would be
    assert "did not start" in panel.ui.message.text() and panel.ui.message.property("error")
    try_button, stop_button = area.buttons(key)
    assert not try_button.isEnabled() and stop_button.text() == "Remove"
    stop_button.click()
    assert area.manager.keys() == [] and model.rowCount() == 0
    assert area.isHidden()


def test_nothing_to_serve_without_versions(qtbot, panel, asked):
    menu = panel.ui.serving.model_menu(tracker.registry.RegisteredModel("empty"), Path("."), panel)
    assert [a.isEnabled() for a in menu.actions()] == [False]


def test_a_panel_deleted_without_shutdown_leaves_no_server(qtbot, tracking_dir, fraud):
    import psutil
    from app.registry import RegistryPanel
    panel = RegistryPanel(tracking_dir)
    wait_for_versions(qtbot, panel, "fraud", 3)
    area = panel.ui.serving
    key = area.start("models:/fraud/1", panel.tracking_dir())
    qtbot.waitUntil(lambda: area.manager.entry(key).server is not None, timeout=30_000)
    process = psutil.Process(area.manager.entry(key).server.pid)
    assert process.is_running()  # still starting: the interpreter takes longer than this to import tracker
    with qtbot.waitSignal(panel.destroyed):
        panel.deleteLater()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
