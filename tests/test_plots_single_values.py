"""Metrics logged once per run: a bar chart when every run has one point, a visible marker
when some runs have one point and others many, and smoothing never hides either."""
import csv
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings
from PySide6.QtGui import QImage

import tracker
from app.plots import MetricPlotPanel
from app.plots.series_math import PlotSettings
from app.runs.colors import color_for
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE


def log_run(name, key, values):
    """``values``: one value (logged once) or a list (one per step)."""
    with tracker.start_run(run_name=name) as run:
        for step, value in enumerate(values if isinstance(values, list) else [values]):
            tracker.log_metric(key, value, step=step)
    return run.info.run_id


def runs_by_name():
    return {r.info.run_name: r for r in tracker.Client().search_runs()}


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.shutdown()


def show(qtbot, panel, names, key):
    runs = runs_by_name()
    panel.set_runs([runs[n] for n in names])
    chart = panel.chart(key)
    qtbot.waitUntil(lambda: not panel.is_loading() and len(chart.runs) == len(names)
                    and all(c.drawn is not None for c in chart.runs.values()), timeout=5000)
    return chart


def pixels(chart) -> np.ndarray:
    image = chart.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, :image.width(), :3].astype(int)


def matches(a: np.ndarray, color) -> np.ndarray:
    return np.abs(a - np.array([color.red(), color.green(), color.blue()])).sum(axis=-1) < 30


def to_widget(chart, x, y):
    """A point in the chart's data units, in the chart widget's pixels."""
    scene = chart.getPlotItem().vb.mapViewToScene(QPointF(x, y))
    return chart.mapFromScene(scene)


def test_runs_with_one_value_each_are_a_bar_chart(qtbot, panel):
    values = {"first": 0.9, "second": 0.6, "third": 0.75}
    ids = {name: log_run(name, "test_acc", v) for name, v in values.items()}
    chart = show(qtbot, panel, list(values), "test_acc")
    assert chart.bar_mode
    a = pixels(chart)
    for i, (name, value) in enumerate(values.items()):
        row = len(values) - 1 - i  # the first run is the top bar
        start, end = to_widget(chart, 0.0, row), to_widget(chart, value, row)
        line = matches(a[start.y()], color_for(ids[name]))
        drawn = np.flatnonzero(line)
        assert len(drawn) > 20, name  # a bar in the run's color, on its row
        assert abs(drawn.min() - start.x()) <= 2 and abs(drawn.max() - end.x()) <= 2, name
    # the run names label the rows, first on top
    axis = chart.getPlotItem().getAxis("left")
    (_, rows), = axis.tickValues(-0.5, 2.5, 200)
    assert axis.tickStrings(rows, 1, 1) == ["third", "second", "first"]


def hover_until(qtbot, chart, x, y, shown):
    """Move over (x, y) until ``shown()``: pyqtgraph drops moves that come sooner than its
    rate limit, and Qt drops a move to where the mouse already is, so alternate a pixel."""
    target = to_widget(chart, x, y)
    jiggle = [0]

    def moved():
        jiggle[0] ^= 1
        qtbot.mouseMove(chart.viewport(), target + QPoint(jiggle[0], 0))
        return shown()
    qtbot.waitUntil(moved)


def test_hovering_a_bar_shows_its_run_and_value(qtbot, panel):
    log_run("first", "test_acc", 0.9)
    log_run("second", "test_acc", 0.625)
    chart = show(qtbot, panel, ["first", "second"], "test_acc")
    hover_until(qtbot, chart, 0.3, 0, lambda: chart.readout.isVisible())  # the lower bar: "second"
    text = chart.readout.text()
    assert "second" in text and "0.625" in text and "first" not in text
    hover_until(qtbot, chart, 0.3, 1, lambda: "first" in chart.readout.text())
    assert "0.9" in chart.readout.text() and "second" not in chart.readout.text()


@pytest.mark.parametrize("smoothing", ["off", "ema"])
def test_a_single_point_among_lines_is_a_visible_marker(qtbot, panel, smoothing):
    lines = log_run("curve", "val_acc", [0.5 + 0.01 * s for s in range(30)])
    single = log_run("once", "val_acc", 0.62)
    panel.set_settings(PlotSettings(smoothing=smoothing, ema_weight=0.6))
    chart = show(qtbot, panel, ["curve", "once"], "val_acc")
    assert not chart.bar_mode
    a = pixels(chart)
    at = to_widget(chart, 0.0, 0.62)
    around = a[at.y() - 6:at.y() + 7, max(0, at.x() - 6):at.x() + 7]
    assert matches(around, color_for(single)).sum() >= 20  # a dot, in the run's full color
    assert matches(a, color_for(lines)).sum() > 100  # and the other run's line is still a line
    (rid, raw, _), = [r for r in chart.show_crosshair(0.0) if r[0] == single]
    assert raw == pytest.approx(0.62)


def test_smoothing_and_log_scale_keep_the_bars(qtbot, panel):
    ids = [log_run("a", "score", 20.0), log_run("b", "score", 300.0)]
    panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.9, log_y=True))
    chart = show(qtbot, panel, ["a", "b"], "score")
    qtbot.waitUntil(lambda: chart.bar_mode and all(c.drawn.smoothed is not None for c in chart.runs.values()))
    assert chart.getPlotItem().getAxis("bottom").logMode  # values are along x on a bar chart
    a = pixels(chart)
    for rid, value, row in ((ids[0], 20.0, 1), (ids[1], 300.0, 0)):  # "a" is the top bar
        y = to_widget(chart, 0, row).y()
        drawn = np.flatnonzero(matches(a[y], color_for(rid)))
        assert len(drawn) > 20
        assert abs(drawn.max() - to_widget(chart, math.log10(value), 0).x()) <= 2


def test_the_chart_switches_between_bars_and_lines_with_the_selection(qtbot, panel):
    log_run("once-a", "acc", 0.7)
    log_run("once-b", "acc", 0.8)
    log_run("many", "acc", [0.1, 0.5, 0.9])
    chart = show(qtbot, panel, ["once-a", "once-b"], "acc")
    assert chart.bar_mode
    chart = show(qtbot, panel, ["once-a", "once-b", "many"], "acc")
    assert not chart.bar_mode
    assert chart.getPlotItem().getAxis("bottom").labelText == "step"
    assert all(c.raw.isVisible() for c in chart.runs.values())
    assert not chart.bars.item.scene()  # no bars left behind
    chart = show(qtbot, panel, ["once-a", "once-b"], "acc")
    assert chart.bar_mode and chart.bars.item.scene() is chart.scene()
    assert not any(c.raw.isVisible() for c in chart.runs.values())


def rgb(color) -> np.ndarray:
    return np.array([color.red(), color.green(), color.blue()])


def apart_from_blends(a, b, background) -> bool:
    """``a``'s colour is far from ``b``'s and from every blend of ``b`` with the background (its
    anti-aliased edges), so that a pixel in ``a``'s colour can only be ``a``'s."""
    blends = rgb(b) + np.linspace(0, 1, 51)[:, None] * (background - rgb(b))
    return bool(np.abs(blends - rgb(a)).sum(axis=-1).min() > 90)


def test_hiding_a_run_in_the_legend_removes_its_bar(qtbot, panel):
    a = log_run("a", "acc", 0.7)
    candidates = [log_run(f"b{i}", "acc", 0.8) for i in range(16)]  # (all 16 too close: < 1e-5)
    chart = show(qtbot, panel, ["a", "b0"], "acc")
    background = pixels(chart)[2, 2]
    # run colours come from the random run ids: take a b whose bar cannot be mistaken for a's
    i = next(i for i, b in enumerate(candidates) if apart_from_blends(color_for(a), color_for(b), background))
    chart = show(qtbot, panel, ["a", f"b{i}"], "acc")
    assert matches(pixels(chart), color_for(a)).sum() > 100  # a's bar is drawn
    panel.legend.chips[a].click()
    assert [bar.name for bar in chart.bars.bars] == [f"b{i}"]
    assert matches(pixels(chart), color_for(a)).sum() == 0  # and nothing in its colour is left


def test_the_demo_iris_experiment_charts_are_bars(qtbot, panel, tracking_dir):
    from tracker.demo import write_demo_runs
    write_demo_runs(tracking_dir)
    iris = [r for r in tracker.Client().search_runs() if r.info.run_name.startswith("rf-")]
    assert len(iris) == 9
    panel.set_runs(iris)
    assert panel.keys() == ["accuracy", "train_accuracy"]
    for key in panel.keys():
        chart = panel.chart(key)
        qtbot.waitUntil(lambda: not panel.is_loading() and all(c.drawn is not None for c in chart.runs.values()),
                        timeout=5000)
        assert chart.bar_mode and len(chart.bars.bars) == 9
        a = pixels(chart)
        for run in iris:
            assert matches(a, color_for(run.info.run_id)).sum() > 100, (key, run.info.run_name)


def test_a_bar_charts_csv_has_every_bar(qtbot, panel, tmp_path):
    """Its x axis is values: the steps the values were logged at are not a range to clip to."""
    log_run("a", "score", 150.0)
    with tracker.start_run(run_name="late"):
        tracker.log_metric("score", 120.0, step=40)
    panel.set_settings(PlotSettings(log_y=True))
    chart = show(qtbot, panel, ["a", "late"], "score")
    assert chart.bar_mode
    path = tmp_path / "score.csv"
    panel.export_chart("score", "csv", path)
    rows = {r["run"]: (int(r["step"]), float(r["value"])) for r in csv.DictReader(path.open())}
    assert rows == {"a": (0, 150.0), "late": (40, 120.0)}


def test_a_run_that_logs_again_turns_the_bars_into_lines(qtbot):
    """Live: every run's first point makes bars; the next point arriving makes lines again."""
    from app.plots.chart import MetricChart
    from app.plots.series_math import prepare

    chart = MetricChart("loss")
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    for rid in ("a" * 32, "b" * 32):
        chart.ensure_run(rid, rid[:1])
        chart.set_series(rid, prepare([0], [0], [1.0], PlotSettings()))
    assert chart.bar_mode and [b.name for b in chart.bars.bars] == ["a", "b"]
    chart.set_series("a" * 32, prepare([0, 1, 2], [0, 1, 2], [1.0, 0.7, 0.5], PlotSettings()))
    assert not chart.bar_mode
    assert chart.runs["a" * 32].raw.isVisible() and chart.runs["b" * 32].raw.isVisible()
    assert chart.getPlotItem().getAxis("bottom").labelText == "step"
    chart.remove_run("a" * 32)  # the many-point run goes: bars again
    assert chart.bar_mode and [b.name for b in chart.bars.bars] == ["b"]
