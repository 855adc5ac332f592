"""The registry panel: models list, versions table, stages (UI <-> scripts), aliases, descriptions."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import (
    OFFSCREEN_NOISE, artifact_run, make_panel, register_file, stage_of, version_cells, wait_for_versions, wait_idle,
)

import tracker
from app.registry.dialogs import PromoteDialog, Promotion
from app.registry.item_models import MODEL_ROLE, stage_summary
from app.registry.panel import RegistryPanel
from tracker.registry import Registry

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def two_models(tmp_path):
    """fraud v1 Archived, v2 Production, v3 Staging; churn v1 (no stage)."""
    register_file(tmp_path, "fraud", "one", "Archived")
    register_file(tmp_path, "fraud", "two", "Production")
    register_file(tmp_path, "fraud", "three", "Staging")
    register_file(tmp_path, "churn", "c1")


def test_lists_models_with_latest_and_stage_versions(qtbot, panel, two_models):
    qtbot.waitUntil(lambda: panel.ui.models_model.names() == ["churn", "fraud"])
    fraud = panel.ui.models_model.get("fraud")
    assert fraud.latest_version == 3
    assert stage_summary(fraud) == [("Production", "v2"), ("Staging", "v3")]
    assert stage_summary(panel.ui.models_model.get("churn")) == []
    row = panel.ui.models_model.row_of("fraud")
    text = panel.ui.models_model.index(row).data(Qt.ItemDataRole.AccessibleTextRole)
    assert "latest version 3" in text and "Production v2" in text and "Staging v3" in text
    # every control has a stable objectName and an accessibleName
    for name in ("registrySearch", "registryModels", "registryVersions", "registryHistory", "registryLineage",
                 "registerButton", "stageButtonStaging", "stageButtonProduction", "stageButtonArchived",
                 "stageButtonNone", "registryProgress", "registryMessage"):
        widget = panel.findChild(QWidget, name)
        assert widget is not None and widget.accessibleName(), name
    assert panel.objectName() == "registryPanel"


def test_search_filters_the_models(qtbot, panel, two_models):
    qtbot.waitUntil(lambda: len(panel.ui.models_model.names()) == 2)
    panel.ui.search.setText("FRA")
    assert panel.ui.models_proxy.rowCount() == 1
    assert panel.ui.models_proxy.index(0, 0).data() == "fraud"
    panel.ui.search.clear()
    assert panel.ui.models_proxy.rowCount() == 2


def test_versions_table_and_history_of_the_selected_model(qtbot, panel, two_models, tmp_path):
    run_id, model_dir = artifact_run("trainer")
    tracker.Client().register_model(model_dir, "fraud", description="from a run")

    def latest_seen() -> bool:  # the panel has read the registration (else v3 is newest when fraud is chosen)
        row = panel.ui.models_model.row_of("fraud")
        return row is not None and "latest version 4" in (
            panel.ui.models_model.index(row).data(Qt.ItemDataRole.AccessibleTextRole) or "")
    qtbot.waitUntil(latest_seen)
    panel.select_model("fraud")
    wait_for_versions(qtbot, panel, "fraud", 4)
    version, stage, aliases, created, run, sha, description = version_cells(panel, 4)
    assert (version, stage, aliases, run, description) == ("v4", "None", "", "trainer", "from a run")
    assert created and len(sha) == 12
    assert version_cells(panel, 2)[1] == "Production" and version_cells(panel, 1)[4] == "—"
    one_file = tracker.Client().get_model_lineage("fraud", 1).files
    assert version_cells(panel, 1)[5] == next(iter(one_file.values()))[:12]
    assert panel.selected_version().version == 4  # the newest is selected
    changes = [panel.ui.history_model.rows()[r][2] for r in range(panel.ui.history_model.rowCount())]
    assert changes[0].startswith("Registered from") and "None → Production" in changes
    assert panel.ui.title.text() == "fraud" and "4 versions" in panel.ui.subtitle.text()


def test_stage_change_from_the_buttons_is_seen_by_tracker(qtbot, panel, tmp_path, no_dialogs):
    register_file(tmp_path, "m", "weights")
    wait_for_versions(qtbot, panel, "m", 1)
    assert not panel.ui.stage_actions["None"].isEnabled()  # already there
    qtbot.mouseClick(panel.ui.stage_buttons["Staging"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tracker.Client().get_model_version("m", 1).current_stage == "Staging")
    qtbot.waitUntil(lambda: stage_of(panel, 1) == "Staging")
    assert "now in Staging" in panel.ui.message.text()
    assert not panel.ui.stage_actions["Staging"].isEnabled()
    panel.ui.stage_actions["Archived"].trigger()  # the context menu and shortcuts use these actions
    qtbot.waitUntil(lambda: tracker.Client().get_model_version("m", 1).current_stage == "Archived")
    history = tracker.Client().get_model_history("m", 1)
    assert [(h.from_value, h.to_value) for h in history if h.action == "stage"] == [
        ("None", "Staging"), ("Staging", "Archived")]


def test_keyboard_shortcut_changes_the_stage(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "weights")
    wait_for_versions(qtbot, panel, "m", 1)
    panel.show()
    with qtbot.waitActive(panel):
        panel.activateWindow()
    panel.ui.versions.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.ui.versions)
    qtbot.keyClick(panel.ui.versions, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: tracker.Client().get_model_version("m", 1).current_stage == "Staging")


def test_context_menu_offers_stage_changes_and_edits(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "weights")
    wait_for_versions(qtbot, panel, "m", 1)
    texts = [a.text().replace("&", "") for a in panel.version_menu().actions() if a.text()]
    assert texts[:4] == ["Move to Staging", "Promote to Production…", "Archive", "Move to None"]
    assert {"Edit Aliases", "Edit Description", "Copy URI", "Show Producing Run"} <= set(texts)
    shortcuts = {s: a.shortcut().toString() for s, a in panel.ui.stage_actions.items()}
    assert shortcuts == {"Staging": "Ctrl+Shift+S", "Production": "Ctrl+Shift+P", "Archived": "Ctrl+Shift+A",
                         "None": "Ctrl+Shift+N"}


@pytest.mark.parametrize("archive", [True, False])
def test_promoting_to_production_asks_and_archives_the_previous_one(qtbot, panel, tmp_path, monkeypatch, archive):
    register_file(tmp_path, "m", "old", "Production")
    register_file(tmp_path, "m", "new")
    wait_for_versions(qtbot, panel, "m", 2)
    asked = []

    def ask(self, name, version, in_production):
        asked.append((name, version, in_production))
        return Promotion(archive=archive, comment="better recall")
    monkeypatch.setattr(RegistryPanel, "_ask_promotion", ask)
    assert panel.select_version(2)
    qtbot.mouseClick(panel.ui.stage_buttons["Production"], Qt.MouseButton.LeftButton)
    assert asked == [("m", 2, [1])]
    client = tracker.Client()
    qtbot.waitUntil(lambda: client.get_model_version("m", 2).current_stage == "Production")
    assert client.get_model_version("m", 1).current_stage == ("Archived" if archive else "Production")
    qtbot.waitUntil(lambda: stage_of(panel, 1) == client.get_model_version("m", 1).current_stage)
    assert [h.comment for h in client.get_model_history("m", 2) if h.action == "stage"] == ["better recall"]


def test_cancelling_the_promotion_changes_nothing(qtbot, panel, tmp_path, monkeypatch):
    register_file(tmp_path, "m", "new")
    wait_for_versions(qtbot, panel, "m", 1)
    monkeypatch.setattr(RegistryPanel, "_ask_promotion", lambda self, *a: None)
    assert panel.transition_selected("Production") is False
    wait_idle(qtbot, panel)
    assert tracker.Client().get_model_version("m", 1).current_stage == "None"


def test_promote_dialog_ticks_archive_by_default(qtbot):
    dialog = PromoteDialog("m", 3, [2])
    qtbot.addWidget(dialog)
    assert dialog.archive.isChecked() and dialog.archive.isEnabled() and "v2" in dialog.archive.text()
    dialog.comment.setText("why")
    assert dialog.result_value() == Promotion(True, "why")
    dialog.archive.setChecked(False)
    assert dialog.result_value().archive is False
    nothing_in_production = PromoteDialog("m", 1, [])
    qtbot.addWidget(nothing_in_production)
    assert nothing_in_production.result_value().archive is False


def test_stage_changes_by_another_registry_instance_appear_within_a_second(qtbot, panel, tmp_path, tracking_dir):
    register_file(tmp_path, "m", "weights")
    wait_for_versions(qtbot, panel, "m", 1)
    other = Registry(tracking_dir)  # not the cached instance the panel's workers use
    try:
        other.transition_model_version_stage("m", 1, "Staging")
        qtbot.waitUntil(lambda: stage_of(panel, 1) == "Staging", timeout=1500)
        other.set_registered_model_alias("m", "candidate", 1)
        qtbot.waitUntil(lambda: version_cells(panel, 1)[2] == "@candidate", timeout=1500)
    finally:
        other.close()


def test_stage_changes_by_a_script_appear_in_the_panel(qtbot, panel, tmp_path, tracking_dir):
    register_file(tmp_path, "m", "weights")
    register_file(tmp_path, "m", "more weights")
    wait_for_versions(qtbot, panel, "m", 2)
    script = ("import tracker; c = tracker.Client(); "
              "c.transition_model_version_stage('m', 1, 'Production'); c.register_model(__file__, 'm')")
    path = tmp_path / "promote.py"
    path.write_text(script)
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, str(path)], env=env, check=True, timeout=60)
    qtbot.waitUntil(lambda: panel.ui.versions_model.rowCount() == 3 and stage_of(panel, 1) == "Production",
                    timeout=1500)
    qtbot.waitUntil(lambda: panel.ui.models_model.get("m").stage_versions.get("Production") == [1])


def test_aliases_edited_in_place(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "one")
    register_file(tmp_path, "m", "two")
    wait_for_versions(qtbot, panel, "m", 2)
    client = tracker.Client()
    client.set_registered_model_alias("m", "old", 2)
    qtbot.waitUntil(lambda: version_cells(panel, 2)[2] == "@old")
    panel.select_version(2)
    view = panel.ui.versions
    index = view.currentIndex().siblingAtColumn(panel.ui.versions_model.ALIASES)
    panel.show()
    view.edit(index)
    editor = view.findChild(QLineEdit, "aliasEditor")
    assert editor is not None and editor.text() == "old"
    editor.setText("champion, @candidate")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: client.get_model_version("m", 2).aliases == ["candidate", "champion"])
    qtbot.waitUntil(lambda: version_cells(panel, 2)[2] == "@candidate  @champion")
    # moving an alias onto another version through the model, as the delegate does
    proxy = panel.ui.versions_proxy
    cell = proxy.mapFromSource(panel.ui.versions_model.index(panel.ui.versions_model.row_of(1), 2))
    assert proxy.setData(cell, "champion")
    qtbot.waitUntil(lambda: client.get_model_version_by_alias("m", "champion").version == 1)
    assert client.get_model_version("m", 2).aliases == ["candidate"]


def test_a_bad_alias_is_refused_inline(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "one")
    wait_for_versions(qtbot, panel, "m", 1)
    proxy = panel.ui.versions_proxy
    assert not proxy.setData(proxy.index(0, 2), "no spaces! allowed?")
    assert "may only contain" in panel.ui.message.text() and panel.ui.message.property("error")
    assert not proxy.setData(proxy.index(0, 2), "latest")  # reserved
    wait_idle(qtbot, panel)
    assert tracker.Client().get_model_version("m", 1).aliases == []


def test_description_edited_in_place(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "one")
    wait_for_versions(qtbot, panel, "m", 1)
    proxy = panel.ui.versions_proxy
    index = proxy.index(0, panel.ui.versions_model.DESCRIPTION)
    assert proxy.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not proxy.flags(proxy.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    assert proxy.setData(index, "  retrained on May data ")
    assert index.data() == "retrained on May data"  # shown at once
    qtbot.waitUntil(lambda: tracker.Client().get_model_version("m", 1).description == "retrained on May data")
    history = tracker.Client().get_model_history("m", 1)
    assert history[-1].action == "description"


def test_switching_tracking_directory(qtbot, panel, tmp_path):
    register_file(tmp_path, "m", "one")
    wait_for_versions(qtbot, panel, "m", 1)
    other = tmp_path / "elsewhere"
    other.mkdir()
    panel.set_tracking_dir(other)
    qtbot.waitUntil(lambda: panel.ui.models_stack.currentWidget() is panel.ui.no_models)
    assert panel.selected_model() is None and not (other / "registry.db").exists()  # viewing creates nothing
    assert panel.ui.models_model.names() == []


def test_a_new_registry_appears_once_created(qtbot, tmp_path, tracking_dir):
    panel = make_panel(qtbot, Path(tracking_dir))
    try:
        qtbot.waitUntil(lambda: panel.ui.models_stack.currentWidget() is panel.ui.no_models)
        register_file(tmp_path, "first", "w")
        wait_for_versions(qtbot, panel, "first", 1, timeout=1500)
        assert panel.ui.models.currentIndex().data(MODEL_ROLE).name == "first"
    finally:
        panel.shutdown()


def test_the_layout_is_remembered(qtbot, tmp_path, tracking_dir):
    first = make_panel(qtbot, Path(tracking_dir))
    first.ui.splitter.setSizes([300, 500, 480])
    sizes = first.ui.splitter.sizes()
    first.shutdown()
    second = make_panel(qtbot, Path(tracking_dir))
    try:
        assert second.ui.splitter.sizes() == sizes
    finally:
        second.shutdown()
