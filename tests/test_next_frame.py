"""``app.common.next_frame.after_next_frame``: a callback waits for the window's next paint.

The runs loader waits for it before reading on, so that the GUI thread paints a table it was
handed without sharing the GIL with the reader; a callback that came before the paint would let
the reader run through it."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app_fixtures import OFFSCREEN_NOISE

from app.common.next_frame import after_next_frame

pytestmark = OFFSCREEN_NOISE


class Painted(QWidget):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def paintEvent(self, event) -> None:
        self.log.append("painted")


def test_the_callback_comes_after_the_paint_a_change_asked_for(qtbot):
    log: list[str] = []
    widget = Painted(log)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: "painted" in log)
    log.clear()
    widget.update()
    after_next_frame(lambda: log.append("called"))
    qtbot.waitUntil(lambda: "called" in log)
    assert log == ["painted", "called"]


def test_with_no_window_on_screen_the_callback_comes_at_once(qtbot):
    log: list[str] = []
    after_next_frame(lambda: log.append("called"))
    qtbot.waitUntil(lambda: log == ["called"])


def test_a_window_that_paints_nothing_still_lets_the_callback_come(qtbot):
    log: list[str] = []
    widget = Painted(log)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: "painted" in log)
    log.clear()
    after_next_frame(lambda: log.append("called"))  # nothing changed: no frame is asked for
    qtbot.waitUntil(lambda: log == ["called"])
