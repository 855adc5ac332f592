"""The register dialog starts from the model selected in the panel, says which version the
registration will get, and makes the user confirm a new model whose name differs from an
existing one only in case or punctuation."""
from __future__ import annotations

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, artifact_run, register_file, wait_for_versions

import tracker
from app.registry import jobs
from app.registry.dialogs import RegisterDialog
from tracker.registry import name_key, similar_names

pytestmark = OFFSCREEN_NOISE


def test_names_that_differ_only_in_case_or_punctuation():
    assert name_key("Fraud-Model") == name_key("fraud_model") == name_key("fraud model") == "fraudmodel"
    assert similar_names("Fraud-Model", ["fraud_model", "fraud", "Fraud-Model", "fraudmodel2"]) == ["fraud_model"]
    assert similar_names("churn", ["fraud_model"]) == []
    assert similar_names("---", ["_"]) == []  # nothing but punctuation: no letters to compare


def test_the_dialog_defaults_to_the_selected_model_and_names_the_next_version(qtbot, panel, tmp_path,
                                                                             monkeypatch):
    for content in ("one", "two", "three"):
        register_file(tmp_path, "fraud", content)
    register_file(tmp_path, "churn", "c")
    tracker.Client().delete_model_version("fraud", 3)  # its number stays used: the next one is 4
    qtbot.waitUntil(lambda: panel.ui.models_model.names() == ["churn", "fraud"])
    assert panel.select_model("fraud")
    wait_for_versions(qtbot, panel, "fraud", 2)
    shown: list[RegisterDialog] = []

    def exec_(dialog):  # the modal loop is replaced: the dialog is inspected as it would appear
        shown.append(dialog)
        return 0
    monkeypatch.setattr(RegisterDialog, "exec", exec_)
    _, folder = artifact_run("rf-100-10")  # a run's model: the run's name would be the new model's
    panel.register_paths([folder])
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=10000)
    dialog = shown[0]
    assert dialog.name.currentText() == "fraud"
    assert dialog.name_note.text() == "Will be registered as fraud v4"
    assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.name.setEditText("churn")
    assert dialog.name_note.text() == "Will be registered as churn v2"
    dialog.name.setEditText("rf-100-10")
    assert dialog.name_note.text() == "Will be registered as a new model, rf-100-10 v1"
    qtbot.waitUntil(lambda: "cancelled" in panel.ui.message.text())


def test_a_near_copy_of_an_existing_name_must_be_confirmed(qtbot, tmp_path):
    source = jobs.DropSource(tmp_path / "m.bin", 1, 2048, None, None, None, None, None, suggested_name="m")
    dialog = RegisterDialog(source, ["fraud_model", "churn"], "Fraud-Model", next_versions={"fraud_model": 3})
    qtbot.addWidget(dialog)
    dialog.show()
    register = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    warning = dialog.findChild(object, "registerSimilarText")
    assert warning.isVisible() and "fraud_model" in warning.text() and "case or punctuation" in warning.text()
    assert dialog.name_note.text() == "Will be registered as a new model, Fraud-Model v1"
    assert not register.isEnabled()
    confirm = dialog.findChild(object, "registerConfirmNew")
    confirm.setChecked(True)
    assert register.isEnabled()
    dialog.findChild(object, "registerUseSimilar").click()
    assert dialog.name.currentText() == "fraud_model"
    assert not warning.isVisible() and register.isEnabled()
    assert dialog.name_note.text() == "Will be registered as fraud_model v3"
    dialog.name.setEditText("FRAUD MODEL")  # a new near-copy: asked again
    assert warning.isVisible() and not confirm.isChecked() and not register.isEnabled()
    dialog.name.setEditText("churn2")
    assert not warning.isVisible() and register.isEnabled()
