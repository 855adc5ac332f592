"""The app and untrusted models: registering and viewing one runs none of its code; a damaged
registry.db shows the registry's message while the runs stay browsable."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from model_payloads import crafted_folder, pickle_opening, skops_opening
from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, send_drop, wait_for_versions, wait_idle

import tracker
from app.registry.dialogs import Registration
from app.registry.panel import RegistryPanel
from app_fixtures import log_run, open_window
from tracker.model_trust import UntrustedModelError

pytestmark = OFFSCREEN_NOISE


def test_registering_and_viewing_a_crafted_folder_runs_none_of_its_code(qtbot, panel, tmp_path, monkeypatch):
    markers = {kind: tmp_path / f"ran-{kind}" for kind in ("pickle", "skops")}
    folder = crafted_folder(tmp_path / "downloads" / "evil-model", "model.pkl", pickle_opening(markers["pickle"]),
                            {"serialization_format": "pickle", "skops_trusted_types": ["builtins.open"]})
    (folder / "model.skops").write_bytes(skops_opening(markers["skops"]))
    asked = []
    monkeypatch.setattr(RegistryPanel, "_ask_registration", lambda panel, source, model_name: (
        asked.append(source), Registration("evil", "dropped", "Staging", True))[1])
    assert send_drop(panel, [folder])
    wait_for_versions(qtbot, panel, "evil", 1)
    assert asked[0].is_dir and asked[0].files == 3
    qtbot.waitUntil(lambda: "model.pkl" in panel.ui.lineage.text())  # the version's page, with its files
    panel.refresh()
    wait_idle(qtbot, panel)
    assert not any(m.exists() for m in markers.values())
    mv = tracker.Client().get_model_version("evil", 1)
    assert (mv.trusted_types, mv.trust_pickle) == ([], False)  # the drop recorded no trust
    with pytest.raises(UntrustedModelError):
        tracker.load_model(mv.uri)
    assert not any(m.exists() for m in markers.values())
    tracker.load_model(mv.uri, trust_pickle=True)  # the payload is live: only explicit trust runs it
    assert markers["pickle"].exists()


def test_a_damaged_registry_shows_its_message_and_the_runs_stay_browsable(qtbot, tracking_dir, tmp_path):
    runs_root = Path(tracking_dir)
    first, second = log_run("first"), log_run("second")
    source = tmp_path / "w.bin"
    source.write_bytes(b"weights")
    description = "première version du modèle"
    tracker.Client().register_model(source, "fraud", description=description)
    tracker.registry.open_registry().close()  # the last connection folds the WAL into registry.db
    db_file = Path(runs_root) / "registry.db"
    data = bytearray(db_file.read_bytes())
    at = data.find(description.encode())
    data[at + description.encode().index("è".encode()) + 1] = 0x41  # half a character: not UTF-8
    db_file.write_bytes(bytes(data))
    with closing(sqlite3.connect(db_file)) as db:  # still a database: only the text is bad
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    window = open_window(qtbot, runs_root, 2)
    panel = window.registry_panel
    qtbot.waitUntil(lambda: "is damaged" in panel.ui.message.text(), timeout=10000)
    text = panel.ui.message.text()
    assert "registry database" in text and "runs are not affected" in text and panel.ui.message.property("error")
    assert window.select_run(first) and window.details.run().info.run_id == first
    assert window.select_run(second) and window.details.run().info.run_id == second
    window.close()


def test_the_register_dialog_records_the_trust_the_person_ticks(qtbot, panel, tmp_path, monkeypatch):
    from sklearn.ensemble import RandomForestClassifier

    from app.registry.dialogs import RegisterDialog
    X, y = [[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0]
    folder = tmp_path / "downloads" / "forest"
    tracker.sklearn.save_model(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), folder)
    dialogs = []

    def ask(panel, source, model_name):
        dialog = RegisterDialog(source, [], model_name, panel)
        dialogs.append(dialog)
        assert not dialog.trust_types.isChecked() and dialog.trust_types.isVisibleTo(dialog)
        assert not dialog.trust_pickle.isVisibleTo(dialog)
        assert "sklearn.tree._tree.Tree" in dialog.trust_types.text()
        if len(dialogs) == 2:
            dialog.trust_types.setChecked(True)  # the person's decision, on the second registration
        return dialog.result_value()

    monkeypatch.setattr(RegistryPanel, "_ask_registration", ask)
    assert send_drop(panel, [folder])
    wait_for_versions(qtbot, panel, "forest", 1)
    assert send_drop(panel, [folder])
    wait_for_versions(qtbot, panel, "forest", 2)
    client = tracker.Client()
    assert client.get_model_version("forest", 1).trusted_types == []
    with pytest.raises(UntrustedModelError, match="sklearn.tree._tree.Tree"):
        tracker.load_model("models:/forest/1")
    assert client.get_model_version("forest", 2).trusted_types == ["sklearn.tree._tree.Tree"]
    assert tracker.load_model("models:/forest/2").predict([[1, 0]]).tolist() == [1]
