"""An alias left on a version that gets archived is flagged wherever the panel shows aliases:
the versions table's chip and tooltip, the model's subtitle, the models list's tooltip."""
from __future__ import annotations

from PySide6.QtCore import Qt

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, register_file, stage_of, wait_for_versions

import tracker
from app.registry.item_models import VersionsTableModel

pytestmark = OFFSCREEN_NOISE
WARNING = "alias 'champion' points to an archived version"


def _alias_cell(panel, version: int):
    model = panel.ui.versions_model
    return model.index(model.row_of(version), VersionsTableModel.ALIASES)


def test_archiving_the_version_an_alias_points_to_flags_the_alias(qtbot, panel, tmp_path):
    register_file(tmp_path, "fraud", "one", stage="Production")
    register_file(tmp_path, "fraud", "two", stage="Staging")
    client = tracker.Client()
    client.set_registered_model_alias("fraud", "champion", 1)
    client.set_registered_model_alias("fraud", "challenger", 2)
    wait_for_versions(qtbot, panel, "fraud", 2)
    qtbot.waitUntil(lambda: "@champion" in panel.ui.subtitle.text())
    assert WARNING not in (_alias_cell(panel, 1).data(Qt.ItemDataRole.ToolTipRole) or "")
    assert "\u26a0" not in panel.ui.subtitle.text() and panel.ui.subtitle.toolTip() == ""

    assert panel.select_version(1)
    assert panel.transition_selected("Archived")
    qtbot.waitUntil(lambda: stage_of(panel, 1) == "Archived", timeout=5000)
    qtbot.waitUntil(lambda: "\u26a0" in panel.ui.subtitle.text())
    tip = _alias_cell(panel, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(WARNING)
    assert WARNING in _alias_cell(panel, 1).data(Qt.ItemDataRole.AccessibleTextRole)
    assert "challenger" not in tip and WARNING not in _alias_cell(panel, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert "\u26a0 @champion → v1" in panel.ui.subtitle.text() and "\u26a0 @challenger" not in panel.ui.subtitle.text()
    assert WARNING in panel.ui.subtitle.toolTip()
    row = panel.ui.models_model.index(panel.ui.models_model.row_of("fraud"))
    assert WARNING in row.data(Qt.ItemDataRole.ToolTipRole)

    client.set_registered_model_alias("fraud", "champion", 2)  # moved to a live version: no flag
    qtbot.waitUntil(lambda: "\u26a0" not in panel.ui.subtitle.text(), timeout=5000)
    assert panel.ui.subtitle.toolTip() == ""
    assert WARNING not in _alias_cell(panel, 1).data(Qt.ItemDataRole.ToolTipRole)
