"""A table the window has replaced is let go: at 100,000 runs a table is ~100 MB, and every part
of the app that kept one after newer runs arrived held that much memory for nothing."""
from __future__ import annotations

import gc
import weakref

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE


def test_the_table_shown_before_new_runs_came_is_freed(qtbot, runs_root):
    log_run("first", params={"lr": "0.1"}, metrics={"loss": 0.5})
    window = open_window(qtbot, runs_root)
    view = window.runs_view
    view.filter_edit.setFocus()
    qtbot.keyClicks(view.filter_edit, "params.l")  # key completion and the filter's note look at the table
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 1)
    before = weakref.ref(window.runs_model.table())

    log_run("second", params={"lr": "0.2"}, metrics={"loss": 0.4})
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 2, timeout=10000)
    qtbot.keyClicks(view.filter_edit, "r")
    gc.collect()
    assert before() is None
