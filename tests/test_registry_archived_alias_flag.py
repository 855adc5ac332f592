"""An alias left on a version that gets archived is flagged in the lineage pane and in
``tracker models ls`` / ``show``, as the versions table already flags it."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QLabel

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, register_file, stage_of, wait_for_versions

import tracker
from tracker.cli import main

pytestmark = OFFSCREEN_NOISE
WARNING = "alias 'champion' points to an archived version (v1)"


def _archived_champion(tmp_path) -> None:
    """fraud v1 Archived with @champion, v2 Staging with @challenger."""
    register_file(tmp_path, "fraud", "one", stage="Production")
    register_file(tmp_path, "fraud", "two", stage="Staging")
    client = tracker.Client()
    client.set_registered_model_alias("fraud", "champion", 1)
    client.set_registered_model_alias("fraud", "challenger", 2)
    client.transition_model_version_stage("fraud", 1, "Archived")


def _lineage_label(panel, name: str) -> QLabel | None:
    return panel.ui.lineage.findChild(QLabel, name)


def test_the_lineage_pane_flags_an_alias_on_an_archived_version(qtbot, panel, tmp_path):
    _archived_champion(tmp_path)
    wait_for_versions(qtbot, panel, "fraud", 2)
    assert panel.select_version(1)
    qtbot.waitUntil(lambda: panel.ui.lineage.info is not None and panel.ui.lineage.info.lineage.version == 1)
    summary = _lineage_label(panel, "lineageSummary")
    assert "\u26a0 @champion" in summary.text() and "Archived" in summary.text()
    assert WARNING in summary.toolTip()
    warning = _lineage_label(panel, "lineageAliasWarning")
    assert warning is not None and WARNING in warning.text()

    assert panel.select_version(2)  # a live version's aliases are not flagged
    qtbot.waitUntil(lambda: panel.ui.lineage.info.lineage.version == 2)
    summary = _lineage_label(panel, "lineageSummary")
    assert "@challenger" in summary.text() and "\u26a0" not in summary.text() and summary.toolTip() == ""
    assert _lineage_label(panel, "lineageAliasWarning") is None


def test_moving_the_alias_to_a_live_version_clears_the_flag(qtbot, panel, tmp_path):
    _archived_champion(tmp_path)
    wait_for_versions(qtbot, panel, "fraud", 2)
    assert panel.select_version(2)
    tracker.Client().set_registered_model_alias("fraud", "champion", 2)
    qtbot.waitUntil(lambda: stage_of(panel, 1) == "Archived" and panel.ui.lineage.info is not None
                    and "champion" in (panel.ui.lineage.info.version.aliases or []), timeout=5000)
    summary = _lineage_label(panel, "lineageSummary")
    assert "@champion" in summary.text() and "\u26a0" not in summary.text()


def test_tracker_models_ls_and_show_flag_it(tmp_path, capsys):
    _archived_champion(tmp_path)
    assert main(["models", "ls"]) == 0
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("fraud"))
    assert "champion->v1(archived)" in row and "challenger->v2" in row and "challenger->v2(archived)" not in row
    assert WARNING in err

    assert main(["models", "show", "fraud"]) == 0
    out, _ = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isdigit()}
    assert "champion(archived)" in rows["1"] and "(archived)" not in rows["2"]
    assert WARNING in out and "models:/fraud@champion still loads it" in out

    assert main(["models", "ls", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["archived_aliases"] == {"champion": 1}
    assert main(["models", "show", "fraud", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["archived_aliases"] == {"champion": 1}

    tracker.Client().set_registered_model_alias("fraud", "champion", 2)
    assert main(["models", "ls"]) == 0
    out, err = capsys.readouterr()
    assert "(archived)" not in out and "archived" not in err
