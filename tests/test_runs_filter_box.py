"""The runs filter box: unknown keys named with the nearest one, a syntax error keeping the last
good result, Escape clearing, keys completing as they are typed, and the help with examples."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QToolButton

from app.runs.filter_box import EXAMPLES
from app.runs.filter_keys import parse_row_filter

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, names_shown, open_window

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def runs(runs_root):
    log_run("big", "vision", params={"depth": "10"}, metrics={"val_acc": 0.95, "acc": 0.97}, tags={"team": "a"})
    log_run("small", "vision", params={"depth": "2"}, metrics={"val_acc": 0.7, "acc": 0.8})
    log_run("text", "nlp", params={"lr": "0.1"}, metrics={"bleu": 30.0, "acc": 0.92})
    return runs_root


def completions(box) -> list[str]:
    popup = box.completer.popup()
    model = popup.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())] if popup.isVisible() else []


def test_a_key_no_shown_run_has_is_named_with_the_nearest_existing_key(qtbot, runs):
    window = open_window(qtbot, runs, 3)
    view = window.runs_view
    view.filter_edit.setText("metrics.val_accc > 0.5")
    qtbot.waitUntil(lambda: view.filter_note() != "")
    assert view.filter_note() == "no run has metrics.val_accc — did you mean metrics.val_acc?"
    assert window.findChild(QLabel, "filterNote").isVisible()
    assert view.filter_error() == ""  # a valid filter, only about keys nobody has

    view.filter_edit.setText("metrics.lr < 1 and tags.teem = 'a'")  # lr is a param; teem a typo
    qtbot.waitUntil(lambda: "params.lr" in view.filter_note())
    assert view.filter_note() == ("no run has metrics.lr — did you mean params.lr?; "
                                  "no run has tags.teem — did you mean tags.team?")

    view.filter_edit.setText("metrics.val_acc > 0.5")
    qtbot.waitUntil(lambda: view.filter_note() == "")
    assert sorted(names_shown(window)) == ["big", "small"]

    window.experiments.select("nlp")  # shown runs: the experiment's; val_acc is elsewhere
    qtbot.waitUntil(lambda: view.filter_note() != "")
    assert view.filter_note().startswith("no run in nlp has metrics.val_acc")

    view.filter_edit.setText("metrics.blue > 1")
    qtbot.waitUntil(lambda: "did you mean metrics.bleu?" in view.filter_note())
    log_run("late", "nlp", metrics={"blue": 2.0})  # the key appears live: the note goes
    qtbot.waitUntil(lambda: view.filter_note() == "", timeout=10000)
    assert names_shown(window) == ["late"]


def test_a_syntax_error_keeps_the_last_valid_result_with_the_error_shown(qtbot, runs):
    window = open_window(qtbot, runs, 3)
    view = window.runs_view
    view.filter_edit.setText("metrics.acc > 0.9")
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["big", "text"])
    view.filter_edit.clear()
    qtbot.waitUntil(lambda: len(names_shown(window)) == 3)
    view.filter_edit.setText("metrics.acc > 0.9")
    qtbot.waitUntil(lambda: sorted(names_shown(window)) == ["big", "text"])
    view.filter_edit.setText("metrics.")  # a key being typed is not a plain-text search for "metrics."
    qtbot.waitUntil(lambda: view.filter_error() != "")
    assert "expected a key after 'metrics.'" in view.filter_error()
    assert sorted(names_shown(window)) == ["big", "text"]
    assert view.filter_edit.property("invalid") is True
    view.filter_edit.setText("(params.")
    qtbot.waitUntil(lambda: "params." in view.filter_error())
    assert sorted(names_shown(window)) == ["big", "text"]

    window.experiments.select("vision")  # the kept filter follows the experiment
    qtbot.waitUntil(lambda: names_shown(window) == ["big"])
    assert view.filter_error() != "" and view.filter_note() == ""

    view.filter_edit.setText("metrics.acc > 0.5")
    qtbot.waitUntil(lambda: view.filter_error() == "")
    assert sorted(names_shown(window)) == ["big", "small"] and view.filter_edit.property("invalid") is False

    view.filter_edit.setText("metrcs.acc > 0.9")  # a misspelt prefix or attribute is a syntax error...
    qtbot.waitUntil(lambda: view.filter_error() != "")
    assert view.filter_error().endswith("— did you mean metrics.acc?")  # ...that names the nearest key
    view.filter_edit.setText("stauts = 'FINISHED'")
    qtbot.waitUntil(lambda: view.filter_error().endswith("— did you mean status?"))
    assert sorted(names_shown(window)) == ["big", "small"]
    view.filter_edit.setText("lr=0.1")  # no near miss: plain words, as a sweep's run names have them
    qtbot.waitUntil(lambda: view.filter_error() == "")
    assert names_shown(window) == []


def test_escape_clears_the_box(qtbot, runs):
    window = open_window(qtbot, runs, 3)
    box = window.runs_view.filter_edit
    box.setFocus()
    box.setText("metrics.acc > 0.9")
    qtbot.waitUntil(lambda: len(names_shown(window)) == 2)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == ""
    qtbot.waitUntil(lambda: len(names_shown(window)) == 3)
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # already empty: nothing happens
    assert box.text() == ""


def test_keys_complete_as_they_are_typed(qtbot, runs):
    window = open_window(qtbot, runs, 3)
    view = window.runs_view
    fbox = view.filter_box
    box = view.filter_edit
    box.setFocus()
    qtbot.keyClicks(box, "val")
    qtbot.waitUntil(lambda: "metrics.val_acc" in completions(fbox))
    assert fbox.completer.popup().objectName() == "filterCompletions"
    qtbot.keyClick(fbox.completer.popup(), Qt.Key.Key_Return)  # a first word may be a search: kept
    assert box.text() == "val" and not fbox.completer.popup().isVisible()
    qtbot.keyClicks(box, "_")
    qtbot.waitUntil(lambda: "metrics.val_acc" in completions(fbox))
    qtbot.keyClick(fbox.completer.popup(), Qt.Key.Key_Down)  # chosen
    qtbot.keyClick(fbox.completer.popup(), Qt.Key.Key_Return)
    assert box.text() == "metrics.val_acc"
    assert not fbox.completer.popup().isVisible()

    qtbot.keyClicks(box, " > 0.5 and dep")  # the token under the cursor, not the whole text
    qtbot.waitUntil(lambda: completions(fbox) == ["params.depth"])
    qtbot.keyClick(fbox.completer.popup(), Qt.Key.Key_Tab)
    assert box.text() == "metrics.val_acc > 0.5 and params.depth"
    assert not fbox.completer.popup().isVisible() and box.hasFocus()
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # a completion is undone as typing is
    assert box.text() == "metrics.val_acc > 0.5 and dep"
    box.redo()
    assert box.text() == "metrics.val_acc > 0.5 and params.depth"
    qtbot.keyClicks(box, " = 'dep")  # inside a string: values are not keys
    assert completions(fbox) == []
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == ""

    qtbot.keyClicks(box, "stat")  # attributes too
    qtbot.waitUntil(lambda: completions(fbox) == ["attributes.status"])
    qtbot.keyClick(fbox.completer.popup(), Qt.Key.Key_Escape)  # closes the list, keeps the text
    assert not fbox.completer.popup().isVisible() and box.text() == "stat"
    box.clear()

    log_run("fresh", "nlp", metrics={"fresh_loss": 1.0}, tags={"fresh tag": "x"})  # keys appear live
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 4, timeout=10000)
    qtbot.keyClicks(box, "fres")
    qtbot.waitUntil(lambda: completions(fbox) == ["metrics.fresh_loss", "tags.`fresh tag`"])
    popup = fbox.completer.popup()
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert box.text() == "tags.`fresh tag`"
    parse_row_filter(None, box.text() + " = 'x'")  # what it inserts is what the grammar reads


def test_the_help_button_shows_the_grammar_with_examples(qtbot, runs):
    window = open_window(qtbot, runs, 3)
    button = window.findChild(QToolButton, "filterHelp")
    assert button.isVisible() and button.accessibleName() == "Filter help"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    popup = window.findChild(QFrame, "filterHelpPopup")
    qtbot.waitUntil(lambda: popup is not None and popup.isVisible())
    text = popup.findChild(QLabel, "filterHelpText").text()
    for part in ("metrics.", "params.", "tags.", "LIKE", "ILIKE", "IN (...)", "AND", "OR", "NOT"):
        assert part in text
    for example, _ in EXAMPLES:
        parse_row_filter(None, example)  # every example is valid
    label = popup.findChild(QLabel, "filterHelpText")
    qtbot.keyClick(label, Qt.Key.Key_Tab)  # the keyboard reaches the examples too
    qtbot.keyClick(label, Qt.Key.Key_Tab)
    qtbot.keyClick(label, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert window.runs_view.filter_edit.text() == EXAMPLES[1][0]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(popup.isVisible)
    label.linkActivated.emit("example:0")  # as a click on the first
    assert not popup.isVisible()
    assert window.runs_view.filter_edit.text() == EXAMPLES[0][0]
    qtbot.waitUntil(lambda: "no run has metrics.accuracy" in window.runs_view.filter_note())

