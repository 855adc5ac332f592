"""A chart opened large inside the panel (Escape returns), pinned above the sections, and
the layout kept per experiment."""
from PySide6.QtCore import Qt

import tracker
from app_fixtures import OFFSCREEN_NOISE
from plots_panel_fixtures import make_panel

pytestmark = OFFSCREEN_NOISE


def log():
    with tracker.start_run(run_name="a"):
        for key in ("loss", "train/loss", "train/acc", "val/acc"):
            tracker.log_metric(key, 1.0, step=0)
            tracker.log_metric(key, 2.0, step=1)


def action(menu, name):
    return [a for a in menu.actions() if a.objectName() == name][0]


def test_maximise_fills_the_panel_and_escape_returns(qtbot, tmp_path):
    log()
    panel = make_panel(qtbot, tmp_path / "s.ini")
    panel.set_runs(tracker.Client().search_runs())
    chart = panel.chart("train/acc")
    small = chart.height()
    action(panel.chart_menu(chart), "chartMaximise").trigger()
    assert panel.maximised() == "train/acc" and panel.visible_keys() == ["train/acc"]
    qtbot.waitUntil(lambda: chart.height() > small + 100)
    assert chart.height() >= panel.scroll.viewport().height() - 10
    assert not any(s.isVisibleTo(panel) for k, s in panel._slots.items() if k != "train/acc")
    assert action(panel.chart_menu(chart), "chartMaximise").text() == "Restore"
    qtbot.keyClick(chart, Qt.Key.Key_Escape)
    assert panel.maximised() is None
    assert len(panel.visible_keys()) == 4 and panel.section("train").isVisibleTo(panel)
    panel.shutdown()


def test_pinned_chart_goes_first_and_layout_persists(qtbot, tmp_path):
    log()
    panel = make_panel(qtbot, tmp_path / "s.ini")
    panel.set_runs(tracker.Client().search_runs())
    action(panel.chart_menu(panel.chart("val/acc")), "chartPin").trigger()
    assert panel.section_names()[0] == "\x00pinned"
    assert panel.section(panel.section_names()[0]).header.text().startswith("Pinned")
    assert panel.visible_keys()[0] == "val/acc"
    assert "val" not in panel.section_names()  # its only chart is pinned
    panel.shutdown()
    again = make_panel(qtbot, tmp_path / "s.ini")
    again.set_runs(tracker.Client().search_runs())
    assert again.visible_keys()[0] == "val/acc"
    action(again.chart_menu(again.chart("val/acc")), "chartPin").trigger()  # now "Unpin"
    assert "\x00pinned" not in again.section_names() and "val" in again.section_names()
    again.shutdown()
