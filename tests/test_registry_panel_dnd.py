"""Registering by drag and drop: files from the file manager, artifacts from a run's tree, refusals."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QMenu

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import (
    OFFSCREEN_NOISE, artifact_run, register_file, send_drop, wait_for_versions, wait_idle,
)

import tracker
from app.details.artifacts import ArtifactsView
from app.registry import jobs
from app.registry.dialogs import RegisterDialog, Registration, describe_source
from app.registry.panel import RegistryPanel

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def answers(monkeypatch):
    """Replace the registration dialog: records what it was shown, answers with ``answers.reply``."""
    class Answers:
        asked: list[tuple[jobs.DropSource, str | None]] = []
        reply: Registration | None = None

        def __call__(self, panel, source, model_name):
            self.asked.append((source, model_name))
            if self.reply is not None:
                return self.reply
            return Registration(model_name or source.suggested_name, "dropped", "None", True)
    answers = Answers()
    answers.asked = []
    monkeypatch.setattr(RegistryPanel, "_ask_registration",
                        lambda panel, source, model_name: answers(panel, source, model_name))
    return answers


def outside_file(tmp_path: Path, name: str = "model.skops", content: bytes = b"a model from elsewhere") -> Path:
    path = tmp_path / "downloads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_file_from_the_file_manager_dropped_on_the_panel(qtbot, panel, tmp_path, answers):
    path = outside_file(tmp_path)
    assert send_drop(panel.ui.lineage, [path])  # any part of the panel takes drops
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    source, model_name = answers.asked[0]
    assert model_name is None and source.path == path and source.suggested_name == "model"
    assert source.run_id is None and source.files == 1
    assert describe_source(source).startswith("No producing run found")
    wait_for_versions(qtbot, panel, "model", 1)
    mv = tracker.Client().get_model_version("model", 1)
    assert mv.description == "dropped" and mv.run_id is None
    assert panel.selected_version().version == 1
    assert "Registered model v1" in panel.ui.message.text()
    qtbot.waitUntil(lambda: "No producing run found" in panel.ui.lineage.text())


def test_a_file_dropped_on_a_model_row_becomes_its_next_version(qtbot, panel, tmp_path, answers):
    register_file(tmp_path, "fraud", "v1")
    register_file(tmp_path, "churn", "v1")
    qtbot.waitUntil(lambda: panel.ui.models_model.names() == ["churn", "fraud"])
    panel.show()
    view = panel.ui.models
    row = panel.ui.models_proxy.mapFromSource(panel.ui.models_model.index(panel.ui.models_model.row_of("fraud")))
    assert send_drop(view.viewport(), [outside_file(tmp_path)], view.visualRect(row).center())
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    assert answers.asked[0][1] == "fraud"  # pre-filled with the model dropped on
    qtbot.waitUntil(lambda: [v.version for v in tracker.Client().list_model_versions("fraud")] == [2, 1])
    wait_for_versions(qtbot, panel, "fraud", 2)


def test_a_content_match_names_the_producing_run(qtbot, panel, tmp_path, answers):
    run_id, model_dir = artifact_run("producer")
    copy = outside_file(tmp_path, "weights.bin", (model_dir / "weights.bin").read_bytes())
    send_drop(panel, [copy])
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    source = answers.asked[0][0]
    assert (source.run_id, source.found_by, source.artifact_path) == (run_id, "sha256", "model/weights.bin")
    assert source.run_name == "producer" and "found by content hash" in describe_source(source)
    wait_for_versions(qtbot, panel, "weights", 1)
    assert tracker.Client().get_model_version("weights", 1).run_id == run_id


def test_an_artifact_dragged_from_the_run_tree(qtbot, panel, answers):
    """The artifact tree is a QFileSystemModel: its drags carry file URLs, as the file manager's do."""
    run_id, model_dir = artifact_run("tree-run")
    tree = ArtifactsView()
    qtbot.addWidget(tree)
    tree.set_root(model_dir.parent)
    qtbot.waitUntil(lambda: tree.index_of(model_dir).isValid())
    index = tree.index_of(model_dir)
    assert tree.tree.dragEnabled() and tree.fs_model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    mime = tree.fs_model.mimeData([index])
    assert [u.toLocalFile() for u in mime.urls()] == [str(model_dir)]
    answers.reply = Registration("tree-model", "", "Staging", True)
    assert send_drop(panel, mime)
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    source = answers.asked[0][0]
    assert (source.run_id, source.found_by, source.artifact_path, source.files) == (run_id, "run", "model", 2)
    assert source.suggested_name == "tree-run"  # "model" says nothing: the run's name instead
    wait_for_versions(qtbot, panel, "tree-model", 1)
    mv = tracker.Client().get_model_version("tree-model", 1)
    assert (mv.run_id, mv.run_link, mv.current_stage) == (run_id, "run", "Staging")


def test_register_model_from_the_artifact_context_menu(qtbot, panel, answers):
    run_id, model_dir = artifact_run("menu-run")
    shown = []
    panel.show_requested.connect(lambda: shown.append(True))
    tree = ArtifactsView()
    qtbot.addWidget(tree)
    tree.contextMenuAboutToShow.connect(panel.extend_artifact_menu)
    menu = tree.context_menu(str(model_dir / "weights.bin"))
    action = next(a for a in menu.actions() if a.text() == "Register Model…")
    action.trigger()
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    assert shown and answers.asked[0][0].path == model_dir / "weights.bin"
    wait_for_versions(qtbot, panel, "weights", 1)
    assert isinstance(menu, QMenu)


def test_every_file_of_a_folder_dropped_together_is_that_folder(qtbot, panel, answers):
    run_id, model_dir = artifact_run("many")
    send_drop(panel, sorted(model_dir.iterdir()))
    qtbot.waitUntil(lambda: len(answers.asked) == 1)
    assert answers.asked[0][0].path == model_dir and answers.asked[0][0].run_id == run_id


@pytest.mark.parametrize("case", ["remote", "mixed", "empty file", "empty folder", "unrelated", "part of a folder",
                                  "missing", "no urls"])
def test_refused_drops_register_nothing(qtbot, panel, tmp_path, no_dialogs, case):
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    (tmp_path / "empty.bin").write_bytes(b"")
    a, b = outside_file(tmp_path, "a.bin"), tmp_path / "elsewhere" / "b.bin"
    b.parent.mkdir()
    b.write_bytes(b"other")
    c = outside_file(tmp_path, "c.bin", b"third")
    items = {"remote": ["https://example.com/model.pkl"], "mixed": [a, "https://example.com/m.pkl"],
             "empty file": [tmp_path / "empty.bin"], "empty folder": [empty_dir], "unrelated": [a, b],
             "part of a folder": [a, c], "missing": [tmp_path / "gone.bin"]}
    expected = {"remote": "not a local file", "mixed": "not a local file", "empty file": "empty file",
                "empty folder": "empty directory", "unrelated": "Several unrelated files",
                "part of a folder": "are not one model", "missing": "does not exist",
                "no urls": "carries no file"}[case]
    outside_file(tmp_path, "d.bin", b"fourth")  # so that a and c are not the whole folder
    if case == "no urls":
        mime = QMimeData()
        mime.setUrls([QUrl()])
        mime.setText("just text")
    else:
        mime = items[case]
    messages = []
    panel.message.connect(messages.append)
    send_drop(panel, mime)
    qtbot.waitUntil(lambda: expected in panel.ui.message.text())
    wait_idle(qtbot, panel)
    assert panel.ui.message.property("error") and panel.ui.message.text().startswith("Nothing registered")
    assert any(expected in m for m in messages)  # also sent to the window's status bar
    assert not (tmp_path / "runs" / "registry.db").exists() or tracker.Client().search_registered_models() == []


def test_plain_text_drags_are_not_accepted(qtbot, panel):
    mime = QMimeData()
    mime.setText("not a file")
    assert send_drop(panel, mime) is False


def test_a_large_model_is_copied_off_the_gui_thread_with_progress(qtbot, panel, tmp_path, answers, monkeypatch):
    big = tmp_path / "big" / "model.bin"
    big.parent.mkdir()
    with open(big, "wb") as f:
        for _ in range(48):
            f.write(b"\x01" * (1 << 20))
    seen, threads = [], set()
    real = panel.registrar._on_progress

    def on_progress(done, total):
        seen.append((done, total))
        threads.update(t.name for t in threading.enumerate())
        real(done, total)

    monkeypatch.setattr(panel.registrar, "_on_progress", on_progress)
    panel.register_paths([big])
    qtbot.waitUntil(lambda: panel.ui.progress.isVisibleTo(panel) or bool(seen), timeout=5000)
    wait_for_versions(qtbot, panel, "model", 1, timeout=20000)
    assert seen[0] == (0, 48 << 20) and seen[-1] == (48 << 20, 48 << 20)
    assert len(seen) > 2 and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))
    assert "register-progress" not in threads  # reported by the registry as it copies: nothing polls its folder
    assert not panel.ui.progress.isVisibleTo(panel)
    assert tracker.Client().resolve_models_uri("models:/model/1").stat().st_size == 48 << 20


def test_the_register_dialog(qtbot, tmp_path):
    source = jobs.DropSource(tmp_path / "m.bin", 1, 2048, "r" * 32, "rf-100", "iris", "run", "m.bin",
                             suggested_name="m")
    dialog = RegisterDialog(source, ["fraud", "m"], "fraud")
    qtbot.addWidget(dialog)
    assert dialog.name.currentText() == "fraud" and "new version" in dialog.name_note.text()
    assert "rf-100 (iris), found from its path" in dialog.findChild(object, "registerRun").text()
    dialog.name.setEditText("brand-new")
    assert "new model" in dialog.name_note.text()
    dialog.name.setEditText("bad/name")
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.name.setEditText("ok")
    dialog.stage.setCurrentText("Production")
    dialog.description.setText("desc")
    assert dialog.archive.isChecked()
    assert dialog.result_value() == Registration("ok", "desc", "Production", True)
