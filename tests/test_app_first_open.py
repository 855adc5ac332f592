"""A first open read in parts: the window shows the runs as they are read, and the run it picked
for the details page (not the user) ends on the newest."""
from __future__ import annotations

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, open_window

from tracker import store
from tracker.entities import RunStatus
from tracker.index import run_index

pytestmark = OFFSCREEN_NOISE


def test_a_first_open_read_in_parts_ends_on_the_newest_run(qtbot, runs_root, monkeypatch):
    # The first rows shown are whichever runs were read first; the run the window picked from
    # them gives way to the newest once it is read (the user picked nothing).
    monkeypatch.setattr(run_index, "PARTIAL_FIRST", 10)
    monkeypatch.setattr(run_index, "PARTIAL_SECONDS", 0.0)
    for i in range(200):
        path = runs_root / f"{i:032x}"
        path.mkdir(parents=True)
        doc = store.new_document(f"{i:032x}", f"r{i}", "Default", 1000 + i)
        doc["info"]["status"] = RunStatus.FINISHED
        store.write_document(path, doc)
    window = open_window(qtbot, runs_root, 200)
    qtbot.waitUntil(lambda: window.details.run() is not None and not window.is_loading(), timeout=10000)
    assert window.runs_view.current_run().info.run_name == "r199"
    assert window.details.run().info.run_name == "r199"
