"""A 100 MB console log opens on the Output tab without freezing the window: its tail shows first,
read and converted on a worker, inserted a slice at a time; earlier pages the same way."""
from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

import tracker
from app.details.output_log import TAIL_BYTES
from tracker.output_capture import output_log_path

pytestmark = OFFSCREEN_NOISE

SIZE = 100 * 1024 * 1024
STALL_LIMIT = 0.1  # seconds the GUI thread may go without running a timer


def write_big_log(path) -> None:
    block = "".join(f"step {i:06d} \x1b[32mloss\x1b[0m {1 / (i + 1):.6f} \rprogress {i % 100:3d}%\r"
                    f"progress done\n" for i in range(2000)).encode()
    with open(path, "wb") as f:
        f.write(b"the very first line\n")
        written = 0
        while written < SIZE:
            f.write(block)
            written += len(block)
        f.write(b"the very last line\n")


def waited_to_run() -> float:
    """Seconds this thread has spent ready to run but not running (Linux's schedstat; 0 elsewhere):
    the time other processes had the cores, which says nothing about this program."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class StallMeter:
    """A 10 ms timer on the GUI thread: the longest gap between its ticks is the longest stall (less the
    time the thread waited for a core: the machine running other tests is not the app freezing)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.restart()

    def restart(self) -> None:
        self.longest = 0.0
        self.last, self.last_waited = time.perf_counter(), waited_to_run()
        self.timer.start()

    def tick(self) -> None:
        now, waited = time.perf_counter(), waited_to_run()
        self.longest = max(self.longest, (now - self.last) - (waited - self.last_waited))
        self.last, self.last_waited = now, waited


def test_a_100_mb_log_opens_without_stalling_the_gui(qtbot, runs_root):
    run_id = log_run("chatty")
    log = output_log_path(tracker.get_run(run_id).path)
    write_big_log(log)
    window = open_window(qtbot, runs_root)
    window.select_run(run_id)
    details = window.details
    qtbot.wait(50)  # (let the selection's own work settle before measuring)

    meter = StallMeter()
    details.tabs.setCurrentWidget(details.output)
    view = details.output
    # (conditions cheap to check: reading the view's 2 MB of text would stall the GUI by itself)
    qtbot.waitUntil(lambda: view.follow_position() > 0 and not view.is_loading(), timeout=20000)
    meter.timer.stop()
    assert meter.longest < STALL_LIMIT, f"the GUI thread stalled {meter.longest * 1000:.0f} ms"
    text = view.plain_text()
    assert text.endswith("the very last line\n")
    assert len(text.encode()) <= TAIL_BYTES  # the tail, not 100 MB in the view
    assert "progress 99%" not in text and "progress done" in text  # (each \r rewrote its line)
    assert view.earlier_button.isVisible() and "of 100" in view.info.text()

    meter.restart()
    view.earlier_button.click()
    qtbot.waitUntil(lambda: view.latest_button.isVisible() and not view.is_loading(), timeout=20000)
    meter.timer.stop()
    assert meter.longest < STALL_LIMIT, f"the GUI thread stalled {meter.longest * 1000:.0f} ms"
    earlier = view.plain_text()
    assert earlier and "the very last line" not in earlier and len(earlier.encode()) <= TAIL_BYTES
    view.latest_button.click()
    qtbot.waitUntil(lambda: not view.latest_button.isVisible() and not view.is_loading(), timeout=20000)
    assert view.plain_text().endswith("the very last line\n")

    # Find looks through the whole log when the part shown lacks the text, and shows the part with it
    meter.restart()
    view.find_edit.setText("THE VERY FIRST")
    assert not view.find_next()
    qtbot.waitUntil(lambda: view.text.textCursor().selectedText() == "the very first", timeout=20000)
    meter.timer.stop()
    assert meter.longest < STALL_LIMIT, f"the GUI thread stalled {meter.longest * 1000:.0f} ms"
    assert view.latest_button.isVisible() and view.find_status.text() == ""
