"""The x axis can be another metric of the same runs, joined on step: a step either metric
lacks drops the point (nothing interpolated); the axis is titled with the metric."""
import pytest
from PySide6.QtCore import QSettings

import tracker
from app.plots import MetricPlotPanel
from app.plots.series_math import PlotSettings
from app.plots.x_metric import x_metric_axis
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    widget.shutdown()


def log(name, series):
    with tracker.start_run(run_name=name) as run:
        for key, points in series.items():
            for step, value in points:
                tracker.log_metric(key, value, step=step)
    return run.info.run_id


def drawn(chart, rid):
    p = chart.runs[rid].drawn
    return p.x.tolist(), p.raw.tolist(), p.steps.tolist()


def test_val_acc_against_train_loss_joined_on_step(qtbot, panel):
    a = log("a", {"train/loss": [(0, 2.0), (1, 1.5), (2, 1.0), (4, 0.5), (5, float("nan"))],
                  "val/acc": [(0, 0.1), (2, 0.4), (3, 0.6), (4, 0.7), (5, 0.8)]})
    b = log("b", {"train/loss": [(0, 3.0), (1, 2.5)], "val/acc": [(1, 0.2)]})
    panel.set_runs(tracker.Client().search_runs())
    combo = panel.controls.x_axis
    combo.setCurrentIndex(combo.findData(x_metric_axis("train/loss")))  # the user's choice
    assert panel.settings().x_axis == "metric:train/loss"
    chart = panel.chart("val/acc")
    qtbot.waitUntil(lambda: not panel.is_loading() and all(
        c.drawn is not None and c.drawn.x.tolist() != c.drawn.steps.tolist() for c in chart.runs.values()),
        timeout=5000)
    # step 1: no val/acc; step 3: no train/loss; step 5: train/loss is NaN -> no place on x
    assert drawn(chart, a) == ([0.5, 1.0, 2.0], [0.7, 0.4, 0.1], [4, 2, 0])  # sorted by x
    assert drawn(chart, b) == ([2.5], [0.2], [1])
    assert chart.getPlotItem().getAxis("bottom").labelText == "train/loss"
    own = panel.chart("train/loss")  # the x metric against itself: its diagonal, NaN dropped
    qtbot.waitUntil(lambda: own.runs[a].drawn is not None and own.runs[a].drawn.x.tolist() == [0.5, 1.0, 1.5, 2.0])
    assert own.runs[a].drawn.raw.tolist() == [0.5, 1.0, 1.5, 2.0]

    panel.set_settings(PlotSettings())  # back to steps
    qtbot.waitUntil(lambda: chart.runs[a].drawn.x.tolist() == [0, 2, 3, 4, 5])
    assert chart.getPlotItem().getAxis("bottom").labelText == "step"


def test_x_metric_choice_persists_and_lists_the_runs_metrics(qtbot, panel, tmp_path):
    log("a", {"loss": [(0, 1.0)], "tokens": [(0, 100.0)]})
    panel.set_runs(tracker.Client().search_runs())
    combo = panel.controls.x_axis
    assert [combo.itemText(i) for i in range(combo.count()) if combo.itemData(i)] == \
        ["Step", "Relative time", "Wall time", "loss", "tokens"]
    combo.setCurrentIndex(combo.findData(x_metric_axis("tokens")))
    again = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.settings().x_axis == "metric:tokens"
    assert again.controls.x_axis.currentText() == "tokens"
    again.shutdown()
