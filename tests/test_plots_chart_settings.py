"""A chart's own log y, y range and smoothing, set from its "..." menu over the panel's,
kept per experiment; "Use the panel's settings" gives them back."""
import pytest
from PySide6.QtCore import QSettings

import tracker
from app.plots.series_math import PlotSettings
from app_fixtures import OFFSCREEN_NOISE
from plots_panel_fixtures import make_panel

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = make_panel(qtbot, tmp_path / "s.ini")
    yield widget
    widget.shutdown()


def log():
    with tracker.start_run(run_name="a") as run:
        for step in range(4):
            tracker.log_metric("loss", 10.0 ** -step, step=step)
            tracker.log_metric("acc", 0.25 * step + 0.1, step=step)
    return run.info.run_id


def action(menu, name):
    found = [a for a in menu.actions() if a.objectName() == name or (a.menu() and a.menu().objectName() == name)]
    assert found, name
    return found[0]


def wait(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.is_loading() and all(
        c.drawn is not None for chart in panel.charts().values() for c in chart.runs.values()), timeout=5000)


def test_log_y_and_smoothing_for_one_chart(qtbot, panel):
    rid = log()
    panel.set_runs(tracker.Client().search_runs())
    loss, acc = panel.chart("loss"), panel.chart("acc")
    wait(qtbot, panel)
    action(panel.chart_menu(loss), "chartLogY").trigger()
    assert loss.settings.log_y and not acc.settings.log_y
    assert loss.getPlotItem().getAxis("left").logMode and not acc.getPlotItem().getAxis("left").logMode
    qtbot.waitUntil(lambda: loss.runs[rid].drawn.y_draw.tolist() == [0.0, -1.0, -2.0, -3.0])
    smoothing = action(panel.chart_menu(loss), "chartSmoothing").menu()
    [a for a in smoothing.actions() if a.text() == "EMA 0.6"][0].trigger()
    qtbot.waitUntil(lambda: loss.runs[rid].drawn.smoothed is not None)
    assert acc.runs[rid].drawn.smoothed is None  # the other chart keeps the panel's: none
    panel.set_settings(PlotSettings(show_points=True))  # the panel's change keeps the chart's own
    qtbot.waitUntil(lambda: not panel.is_loading())
    assert loss.settings.log_y and loss.settings.smoothing == "ema" and loss.settings.show_points
    assert acc.settings.show_points and not acc.settings.log_y
    action(panel.chart_menu(loss), "chartResetOwn").trigger()
    qtbot.waitUntil(lambda: loss.runs[rid].drawn.smoothed is None)
    assert not loss.settings.log_y


def test_y_range_for_one_chart_persists_per_experiment(qtbot, panel, tmp_path):
    log()
    panel.set_runs(tracker.Client().search_runs())
    acc = panel.chart("acc")
    wait(qtbot, panel)
    panel.ask_y_range = lambda key, current: (0.0, 1.0)  # the dialog's answer
    action(panel.chart_menu(acc), "chartYRange").trigger()
    assert acc.getPlotItem().vb.viewRange()[1] == pytest.approx([0.0, 1.0])
    loss = panel.chart("loss")
    assert loss.getPlotItem().vb.viewRange()[1] != pytest.approx([0.0, 1.0])
    panel.ask_y_range = lambda key, current: "not a range"  # never raises: ignored like a cancel
    again = make_panel(qtbot, tmp_path / "s.ini")
    again.set_runs(tracker.Client().search_runs())
    chart = again.chart("acc")
    qtbot.waitUntil(lambda: not again.is_loading())
    assert chart.getPlotItem().vb.viewRange()[1] == pytest.approx([0.0, 1.0])
    again.shutdown()


def test_saved_overrides_that_are_garbage_are_ignored(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    log()
    run = tracker.Client().search_runs()[0]
    qs.setValue(f"plots/layout/{run.info.experiment_id}",
                '{"overrides": {"acc": {"log_y": "yes", "smoothing": ["x", 2, -1], "y_range": [1, 0]}}, '
                '"pinned": 3, "collapsed": [1]}')
    qs.sync()
    widget = make_panel(qtbot, tmp_path / "s.ini")
    widget.set_runs([run])
    assert widget.override("acc").empty and widget.settings_for("acc") == widget.settings()
    widget.shutdown()
