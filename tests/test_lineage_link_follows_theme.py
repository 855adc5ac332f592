"""The lineage pane's run link takes the theme's Link colour, also after the theme changes."""
from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE

from app.registry.jobs import LineageInfo
from app.registry.lineage_view import LineageView
from app.shell import theme
from tracker.registry import Lineage
from tracker.reproduce import Reproduction

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def restore_theme(qapp):
    yield
    theme.apply_theme(qapp, "system")


def colours(widget) -> Counter:
    image = widget.grab().toImage()
    return Counter(image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height()))


def test_run_link_is_drawn_in_the_palette_link_colour_after_a_theme_switch(qtbot, qapp, restore_theme):
    theme.apply_theme(qapp, "system")  # the app starts in the platform's look
    view = LineageView()
    qtbot.addWidget(view)
    lineage = Lineage(name="fraud", version=3, source="/m", run_id="a" * 32, run_link="run", run_exists=True,
                      run_name="forest-50-trees-with-a-long-name")
    view.set_lineage(LineageInfo(lineage, None, None, Reproduction()))
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    system_link = QApplication.palette().color(QPalette.ColorRole.Link).name()
    qtbot.waitUntil(lambda: colours(view.run_link)[system_link] > 20)
    for name in ("dark", "light"):
        theme.apply_theme(qapp, name)
        link = QApplication.palette().color(QPalette.ColorRole.Link).name()
        assert link != system_link
        qtbot.waitUntil(lambda: colours(view.run_link)[link] > 20)
        assert colours(view.run_link)[system_link] == 0
