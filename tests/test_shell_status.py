"""Status messages: each appears once, in the status bar, and goes after a few seconds."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE


def _places_showing(window, text: str) -> int:
    """How many visible places in the window show ``text``: the status bar's message and labels."""
    labels = [w for w in window.findChildren(QLabel) if w.isVisible() and w.text() == text]
    return len(labels) + (window.statusBar().currentMessage() == text)


def test_a_status_message_shows_once_and_goes_after_a_few_seconds(qtbot, runs_root, tmp_path, monkeypatch):
    log_run("a")
    log_run("b")
    window = open_window(qtbot, runs_root, 2)
    assert 2000 <= window.status.timeout_ms <= 10000  # "a few seconds"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Loaded 2 runs"))
    window.status.timeout_ms = 300  # (the test does not wait the real few seconds)
    target = tmp_path / "out.csv"
    monkeypatch.setattr(window, "_ask_save_path", lambda *args: str(target))
    window.export_csv()
    text = f"Exported 2 runs to {target}"
    assert _places_showing(window, text) == 1
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "", timeout=5000)
    window.close()


def test_the_registry_line_and_the_status_bar_do_not_say_the_same_thing(qtbot, runs_root):
    log_run("a")
    window = open_window(qtbot, runs_root, 1)
    window.show_registry_action.trigger()  # the registry in front: its own line speaks
    panel = window.registry_panel
    qtbot.waitUntil(lambda: panel.isVisible())
    panel.show_message("Moved fraud v1 to Staging")
    assert _places_showing(window, "Moved fraud v1 to Staging") == 1
    window.lower_tabs.setCurrentIndex(0)  # the registry out of sight: the status bar says it
    panel.message.emit("Registered churn v2")
    assert window.statusBar().currentMessage() == "Registered churn v2"
    assert _places_showing(window, "Registered churn v2") == 1
    window.close()


def test_charts_messages_reach_the_status_bar_once(qtbot, runs_root):
    log_run("a", metrics={"loss": 1.0})
    window = open_window(qtbot, runs_root, 1)
    window.page_actions[1].trigger()
    window.plots.status_message.emit("Copied the chart of loss")
    assert _places_showing(window, "Copied the chart of loss") == 1
    window.close()
