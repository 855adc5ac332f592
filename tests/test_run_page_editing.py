"""The run page edits the run through the library: the user's tags (add, change, remove), the
description (Markdown, rendered; Edit, Save, Cancel), and shows a failed run's whole traceback.
Every change comes back through the watched run folder, as an edit from another process would."""
from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QUrl, Qt

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

import tracker
from app.details.tags_editor import tag_problem

pytestmark = OFFSCREEN_NOISE


def user_tags_shown(window) -> dict[str, str]:
    model = window.details.tags_model
    return {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}


def select_tag(window, qtbot, key: str) -> None:
    table = window.details.tags_table
    model = window.details.tags_model
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == key)
    table.selectRow(row)
    qtbot.waitUntil(lambda: window.details.tags_editor.selected_key() == key)


def test_tags_are_added_changed_and_removed_from_the_tags_tab(qtbot, runs_root, monkeypatch):
    run_id = log_run("tagged", tags={"stage": "draft"})
    window = open_window(qtbot, runs_root)
    window.select_run(run_id)
    details = window.details
    details.tabs.setCurrentWidget(details.tags_page)
    editor = details.tags_editor
    answers = iter([("team", "vision"), ("team", "audio"), ("owner", "ana")])
    monkeypatch.setattr(editor, "_ask_tag", lambda key, value, existing: next(answers))

    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: user_tags_shown(window).get("team") == "vision", timeout=5000)
    assert tracker.get_run(run_id).data.tags["team"] == "vision"
    assert details.tabs.tabText(details.tabs.indexOf(details.tags_page)) == "Tags (2)"

    select_tag(window, qtbot, "team")
    qtbot.mouseClick(editor.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: user_tags_shown(window).get("team") == "audio", timeout=5000)

    select_tag(window, qtbot, "stage")  # renaming a tag: the new name is set, the old one goes
    qtbot.mouseClick(editor.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: user_tags_shown(window) == {"team": "audio", "owner": "ana"}, timeout=5000)

    select_tag(window, qtbot, "team")
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: user_tags_shown(window) == {"owner": "ana"}, timeout=5000)
    tags = tracker.get_run(run_id).data.tags
    assert "team" not in tags and "stage" not in tags and tags["owner"] == "ana"
    assert "mlflow.runName" in tags  # the system's tags stay, and are not offered for editing


def test_system_tag_names_are_refused_and_a_tag_from_another_process_shows_live(qtbot, runs_root):
    assert tag_problem("mlflow.note.content", set(), None)
    assert tag_problem("tracker.user", set(), None)
    assert tag_problem("team", {"team"}, None)  # (edit it instead)
    assert not tag_problem("team", {"team"}, "team")
    run_id = log_run("watched")
    window = open_window(qtbot, runs_root)
    window.select_run(run_id)
    assert not window.details.tags_editor.edit_button.isEnabled()  # nothing selected
    tracker.Client(str(runs_root)).set_tag(run_id, "note", "from a script")
    # (another process's edit of a finished run is found by the source's periodic check: ~10 s at most)
    qtbot.waitUntil(lambda: user_tags_shown(window) == {"note": "from a script"}, timeout=15000)


def test_the_description_is_markdown_rendered_on_the_overview_and_edited_there(qtbot, runs_root, monkeypatch):
    opened = []
    monkeypatch.setattr("app.shell.desktop.open_url", lambda url: opened.append(url.toString()) or True)
    run_id = log_run("described")
    tracker.Client(str(runs_root)).set_tag(
        run_id, "mlflow.note.content",
        "# Baseline\n\nA **bold** try, see [the paper](https://example.org/p).\n\n![plot](https://example.org/a.png)")
    window = open_window(qtbot, runs_root)
    window.select_run(run_id)
    panel = window.details.overview.description
    view = panel.view
    qtbot.waitUntil(lambda: "Baseline" in view.toPlainText())
    text = view.toPlainText()
    assert "**" not in text and "#" not in text and "A bold try" in text  # rendered, not shown as source
    assert "image: plot" in text  # an image is a link to it: nothing is fetched to show it
    view.anchorClicked.emit(QUrl("https://example.org/p"))
    assert opened == ["https://example.org/p"]

    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    assert panel.editor.isVisible() and panel.editor.toPlainText().startswith("# Baseline")
    panel.editor.setPlainText("Cancelled text")
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.editor.isVisible() and "Baseline" in view.toPlainText()

    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    panel.editor.setPlainText("Second try: *lr* halved")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tracker.get_run(run_id).info.description == "Second try: *lr* halved", timeout=5000)
    qtbot.waitUntil(lambda: window.details.run().info.description == "Second try: *lr* halved", timeout=5000)
    assert window.details.overview.description.view.toPlainText().strip() == "Second try: lr halved"


def test_an_edit_in_progress_survives_a_live_update_of_the_same_run(qtbot, runs_root, monkeypatch):
    run_id = log_run("busy")
    window = open_window(qtbot, runs_root)
    window.select_run(run_id)
    panel = window.details.overview.description
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    panel.editor.setPlainText("half written")
    editor = window.details.tags_editor  # a tag set meanwhile: the run is read again and shown again
    monkeypatch.setattr(editor, "_ask_tag", lambda key, value, existing: ("other", "change"))
    editor.add_tag()
    qtbot.waitUntil(lambda: window.details.run().data.tags.get("other") == "change", timeout=5000)
    panel = window.details.overview.description
    assert panel.is_editing() and panel.editor.toPlainText() == "half written"


def test_a_failed_run_shows_its_whole_traceback(qtbot, runs_root):
    def deep_failure():
        raise ValueError("bad shape in layer 3")

    with pytest.raises(ValueError):
        with tracker.start_run(run_name="crashed", capture_output=False) as run:
            deep_failure()
    window = open_window(qtbot, runs_root)
    window.select_run(run.info.run_id)
    error = window.details.overview.findChild(type(window.details.overview.description.editor), "errorText")
    assert error is not None
    text = error.toPlainText()
    assert text.startswith("Traceback (most recent call last)")
    assert "in deep_failure" in text and text.rstrip().endswith("ValueError: bad shape in layer 3")


def test_the_window_s_actions_stay_usable_after_editing_then_showing_another_run(qtbot, runs_root):
    # (deleting the Overview's rows while one had the focus once left PySide's wrappers of every File
    # menu action invalid: "Internal C++ object already deleted" at the next use)
    plain = log_run("plain", metrics={"loss": 0.3})
    failed = log_run("failed", fail=True)
    window = open_window(qtbot, runs_root)
    window.select_run(plain)
    panel = window.details.overview.description
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    panel.editor.setFocus()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    window.select_run(failed)
    window.select_run(plain)
    assert shiboken6.isValid(window.export_action) and shiboken6.isValid(window.preferences_action)
    assert window.preferences_action.text() == "Pr&eferences…"
