"""A run whose model is registered shows a badge in the runs table's Name cell, found with one
registry read for all runs (not one per row), and follows registrations made later."""
from __future__ import annotations

from PySide6.QtCore import Qt

import tracker

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

from app.runs import registered
from app.runs.model import BADGE_ROLE

pytestmark = OFFSCREEN_NOISE


def _name_cell(window, run_id: str):
    model = window.runs_model
    return model.index(model.row_of(run_id), model.column_index("name"))


def test_a_registered_run_shows_its_versions_from_one_registry_read(qtbot, runs_root, monkeypatch):
    monkeypatch.setattr(registered, "POLL_MS", 50)
    model_run = log_run("trained", "fraud", artifacts={"model/weights.txt": "w"})
    others = [log_run(f"other-{i}", "fraud") for i in range(40)]
    for _ in range(3):
        tracker.register_model(f"runs:/{model_run}/model", "fraud")
    reads = []  # reads of every version (the run page asks about its one run with a filter)
    real = tracker.Client.search_model_versions

    def counted(self, filter_string=None, *args, **kwargs):
        if filter_string is None:
            reads.append(1)
        return real(self, filter_string, *args, **kwargs)
    monkeypatch.setattr(tracker.Client, "search_model_versions", counted)
    window = open_window(qtbot, runs_root, 41)
    qtbot.waitUntil(lambda: _name_cell(window, model_run).data(BADGE_ROLE) is not None, timeout=10000)
    assert _name_cell(window, model_run).data(BADGE_ROLE) == "fraud v3, fraud v2, fraud v1"
    assert "Registered as fraud v3, fraud v2, fraud v1" in _name_cell(window, model_run).data(
        Qt.ItemDataRole.ToolTipRole)
    assert all(_name_cell(window, r).data(BADGE_ROLE) is None for r in others)
    assert len(reads) == 1  # every run's badge from one read
    window.runs_view.table.viewport().repaint()  # the badge is painted without error
    window.runs_view.table.grab()

    # a registration made later (the registry panel, a script) shows within a poll
    tracker.register_model(f"runs:/{model_run}/model", "churn")
    qtbot.waitUntil(lambda: "churn v1" in (_name_cell(window, model_run).data(BADGE_ROLE) or ""), timeout=10000)
    assert len(reads) == 2


def test_browsing_a_folder_never_creates_a_registry(qtbot, runs_root, monkeypatch):
    monkeypatch.setattr(registered, "POLL_MS", 20)
    log_run("plain", "exp")
    window = open_window(qtbot, runs_root, 1)
    qtbot.waitUntil(lambda: window.runs_view.registered.root() is not None)
    polls = []
    monkeypatch.setattr(registered, "changed_token", lambda root: polls.append(root) or None)
    qtbot.waitUntil(lambda: len(polls) >= 2, timeout=5000)
    assert not (runs_root / "registry.db").exists()
    assert window.runs_model.registered() == {}
