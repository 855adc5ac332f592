"""The metric charts: curves for a selection, settings, gaps, resumed runs, pyqtgraph's configuration."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QLoggingCategory, QPointF, QSettings, Qt

import tracker
from app.plots import MetricPlotPanel
from app.plots.curve import RunCurve
from app.plots.series_math import PlotSettings
from app.runs.colors import color_for, palette, palette_index, swatch_icon

QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")  # a slot without @Slot fails
# The offscreen platform plugin warns whenever a top-level widget's minimum size changes.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def log_run(name, metrics, params=None, **kwargs):
    """metrics: {key: [(step, value), ...]}; returns the run id."""
    with tracker.start_run(run_name=name, **kwargs) as run:
        if params:
            tracker.log_params(params)
        for key, points in metrics.items():
            for step, value in points:
                tracker.log_metric(key, value, step=step)
    return run.info.run_id


def runs_by_name():
    return {r.info.run_name: r for r in tracker.Client().search_runs()}


@pytest.fixture
def panel(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    widget = MetricPlotPanel(settings=settings)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.shutdown()


def wait_loaded(qtbot, panel, keys=None):
    keys = keys if keys is not None else panel.visible_keys()
    charts = [panel.chart(k) for k in keys]

    def loaded():
        return not panel.is_loading() and all(
            c.drawn is not None for chart in charts for c in chart.runs.values())
    qtbot.waitUntil(loaded, timeout=5000)
    return {chart.key: chart for chart in charts}


def curve_data(chart, run_id, smoothed=False):
    item = chart.runs[run_id].smooth if smoothed else chart.runs[run_id].raw
    return item.xData.tolist(), item.yData.tolist()


def test_one_chart_per_key_one_curve_per_run(qtbot, panel):
    a = log_run("a", {"loss": [(0, 1.0), (1, 0.5), (2, 0.25)], "acc": [(0, 0.1), (1, 0.9)]})
    b = log_run("b", {"loss": [(0, 2.0), (1, 1.0)]})  # no "acc": absent from that chart
    runs = runs_by_name()
    panel.set_runs([runs["a"], runs["b"]])
    assert panel.keys() == ["acc", "loss"]
    charts = wait_loaded(qtbot, panel)
    assert sorted(charts["loss"].run_ids()) == sorted([a, b])
    assert charts["acc"].run_ids() == [a]
    assert curve_data(charts["loss"], a) == ([0, 1, 2], [1.0, 0.5, 0.25])
    assert curve_data(charts["loss"], b) == ([0, 1], [2.0, 1.0])
    assert curve_data(charts["acc"], a) == ([0, 1], [0.1, 0.9])
    pen = charts["loss"].runs[a].raw.opts["pen"]
    assert pen.color().name() == color_for(a).name()  # the run's color, everywhere

    panel.set_runs([runs["b"]])  # deselecting a removes its curves and the chart only it had
    assert panel.keys() == ["loss"]
    assert panel.chart("loss").run_ids() == [b]
    panel.set_runs([])
    assert panel.keys() == [] and panel.message.text().startswith("Select runs")


def write_metric(run_name, key, steps, values):
    """A run whose metric is written straight through the store (fast for long series)."""
    from tracker import store

    with tracker.start_run(run_name=run_name) as run:
        pass
    big = tracker.Client().get_run(run.info.run_id)
    with store.open_for_append(store.metric_path(big.path, key)) as f:
        f.write(store.encode_records(steps, np.zeros(len(steps), np.int64), values))
    big.data.metrics[key] = 0.0  # written behind the writer's back: run.json does not list it
    return big


def test_downsampling_and_clip_to_view_guard(qtbot, panel):
    """Every curve is a RunCurve (one per run, plus one smoothed), and it draws at most one
    min/max line per pixel column zoomed out and only the points in view zoomed in
    (it replaced pyqtgraph's PlotItem peak downsampling and clip-to-view)."""
    n = 200_000
    steps = np.arange(n)
    runs = [write_metric(name, "loss", steps, np.sin(steps / (500.0 + i)) + i) for i, name in enumerate("ab")]
    panel.set_runs(runs)
    panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.6))
    chart = wait_loaded(qtbot, panel)["loss"]
    qtbot.waitUntil(lambda: all(c.drawn.smoothed is not None for c in chart.runs.values()))
    data_items = chart.getPlotItem().listDataItems()
    assert len([c for c in data_items if isinstance(c, RunCurve)]) == 4  # raw + smoothed for each run
    assert [c for c in data_items if not isinstance(c, RunCurve)] == [chart._markers]  # no other curve
    chart.grab()  # paint
    columns = chart.getPlotItem().vb.width()
    for curves in chart.runs.values():
        for curve in (curves.raw, curves.smooth):
            mode, a, b = curve.drawn
            assert mode == "columns" and columns * 0.9 < b - a < columns * 1.1  # 200,000 points, one line a column
            lines = curve.drawn_data()
            assert np.all(np.diff(lines[:, 0]) > 0)  # vertical lines, one per column, left to right
    chart.getPlotItem().vb.setXRange(1000, 1100, padding=0)
    chart.grab()
    for curves in chart.runs.values():
        assert curves.raw.drawn == ("points", 999, 1102)  # the 101 points in view and a neighbour either side
        assert curves.raw.drawn_data()[:, 0].tolist() == list(range(999, 1102))


def test_curves_are_updated_in_place(qtbot, panel):
    log_run("a", {"loss": [(i, float(i)) for i in range(20)]})
    panel.set_runs(list(runs_by_name().values()))
    chart = wait_loaded(qtbot, panel)["loss"]
    raw = next(iter(chart.runs.values())).raw
    panel.set_settings(PlotSettings(x_axis="relative", log_y=True, smoothing="mavg", window=5))
    qtbot.waitUntil(lambda: not panel.is_loading())
    assert next(iter(chart.runs.values())).raw is raw
    assert len([c for c in chart.getPlotItem().listDataItems() if isinstance(c, RunCurve)]) == 2


def test_smoothing_drawn_over_faded_raw_curve(qtbot, panel):
    rid = log_run("a", {"loss": [(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)]})
    panel.set_runs(list(runs_by_name().values()))
    panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.5))
    chart = wait_loaded(qtbot, panel)["loss"]
    qtbot.waitUntil(lambda: chart.runs[rid].drawn.smoothed is not None)
    x, y = curve_data(chart, rid, smoothed=True)
    assert x == [0, 1, 2, 3] and y == pytest.approx([1.0, 5 / 3, 17 / 7, 49 / 15])
    assert curve_data(chart, rid)[1] == [1.0, 2.0, 3.0, 4.0]
    curves = chart.runs[rid]
    assert curves.raw.opts["pen"].color().alpha() < 255 == curves.smooth.opts["pen"].color().alpha()
    assert curves.smooth.zValue() > curves.raw.zValue()
    panel.set_settings(PlotSettings(smoothing="off"))
    qtbot.waitUntil(lambda: chart.runs[rid].drawn.smoothed is None)
    assert chart.runs[rid].smooth.xData is None
    assert curves.raw.opts["pen"].color().alpha() == 255


def test_settings_persist(qtbot, tmp_path):
    path = str(tmp_path / "settings.ini")
    first = MetricPlotPanel(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    wanted = PlotSettings(x_axis="wall", log_y=True, smoothing="mavg", ema_weight=0.3, window=15,
                          ignore_outliers=True, show_points=True)
    first.set_settings(wanted)
    first.shutdown()
    second = MetricPlotPanel(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.settings() == wanted
    assert second.controls.settings() == wanted
    second.shutdown()


def test_resumed_run_shows_latest_values_without_zigzag(qtbot, panel):
    rid = log_run("a", {"loss": [(i, float(i)) for i in range(5)]})
    with tracker.start_run(run_id=rid):  # resume and log steps 3 and 4 again, then 5
        for step, value in ((3, 30.0), (4, 40.0), (5, 50.0)):
            tracker.log_metric("loss", value, step=step)
    panel.set_runs(list(runs_by_name().values()))
    chart = wait_loaded(qtbot, panel)["loss"]
    assert curve_data(chart, rid) == ([0, 1, 2, 3, 4, 5], [0.0, 1.0, 2.0, 30.0, 40.0, 50.0])


def test_nan_and_inf_are_gaps(qtbot, panel):
    rid = log_run("a", {"loss": [(0, 1.0), (1, 2.0), (2, math.nan), (3, 4.0), (4, math.inf), (5, 6.0)]})
    panel.set_runs(list(runs_by_name().values()))
    chart = wait_loaded(qtbot, panel)["loss"]
    raw = chart.runs[rid].raw
    connect = raw.opts["connect"]
    # No line into or out of the NaN and inf points; the finite neighbours keep their values.
    assert list(connect) == [True, False, False, False, False, False]
    assert np.isfinite(raw.yData).all()
    p = chart.runs[rid].drawn
    assert math.isnan(p.y[2]) and math.isnan(p.y[4]) and p.y[5] == 6.0
    (_, at_nan, _), = chart.show_crosshair(2.0)
    assert math.isnan(at_nan)


def test_sparse_nan_does_not_erase_a_downsampled_curve(qtbot, panel):
    """A min/max column turns NaN when any of its points is NaN; gaps are drawn with connect instead."""
    n = 200_000
    values = np.sin(np.arange(n) / 1000.0)
    values[::100] = np.nan
    big = write_metric("big", "signal", np.arange(n), values)
    panel.set_runs([big])
    chart = wait_loaded(qtbot, panel)["signal"]
    chart.grab()  # paint: the columns are worked out now
    curve = chart.runs[big.info.run_id].raw
    lines = curve.drawn_data()
    assert curve.drawn[0] == "columns" and len(lines) < n / 100  # downsampled
    assert np.isfinite(lines).all()
    assert len(lines) > 0.9 * chart.getPlotItem().vb.width()  # a line in every column, none erased
    assert lines[:, 3].max() == pytest.approx(1.0, abs=1e-4) and lines[:, 1].min() == pytest.approx(-1.0, abs=1e-4)


def test_log_axis_draws_log10_of_the_values(qtbot, panel):
    rid = log_run("a", {"loss": [(0, 1.0), (1, 10.0), (2, 0.0), (3, 1000.0)]})
    panel.set_runs(list(runs_by_name().values()))
    panel.set_settings(PlotSettings(log_y=True))
    chart = wait_loaded(qtbot, panel)["loss"]
    qtbot.waitUntil(lambda: chart.runs[rid].drawn.y_bounds == (0.0, 3.0))
    raw = chart.runs[rid].raw
    assert raw.yData.tolist() == [0.0, 1.0, 1.0, 3.0]  # log10; 0 has no log: a gap, filled for drawing
    assert list(raw.opts["connect"]) == [True, False, False, False]
    y0, y1 = chart.getPlotItem().vb.viewRange()[1]
    assert y0 < 0 and 3 < y1 < 4  # the axis in log10 units
    (_, value, _), = chart.show_crosshair(1.0)
    assert value == 10.0  # the readout in the values as logged


def test_ignore_outliers_sets_y_range_to_percentiles(qtbot, panel):
    values = [float(i) for i in range(101)]
    values[50] = 1e9  # a spike
    log_run("a", {"loss": list(enumerate(values))})
    panel.set_runs(list(runs_by_name().values()))
    panel.set_settings(PlotSettings(ignore_outliers=True))
    chart = wait_loaded(qtbot, panel)["loss"]
    lo, hi = np.percentile(values, [5, 95])
    assert chart.runs[next(iter(chart.runs))].drawn.robust == pytest.approx((lo, hi))
    y0, y1 = chart.getPlotItem().vb.viewRange()[1]
    assert y0 < lo and hi < y1 < 200  # the spike is off the chart
    panel.set_settings(PlotSettings(ignore_outliers=False))
    qtbot.waitUntil(lambda: chart.getPlotItem().vb.viewRange()[1][1] > 1e8)


def test_key_filter(qtbot, panel):
    log_run("r", {"train/loss": [(0, 1.0)], "val/loss": [(0, 1.0)], "val/accuracy": [(0, 0.5)]})
    panel.set_runs(list(runs_by_name().values()))
    assert panel.visible_keys() == ["train/loss", "val/accuracy", "val/loss"]
    panel.set_key_filter("val")
    assert panel.visible_keys() == ["val/accuracy", "val/loss"]
    panel.set_key_filter("LOSS val")  # every word, any case
    assert panel.visible_keys() == ["val/loss"]
    assert panel.controls.summary.text() == "1 run · 1 of 3 metrics"
    panel.set_key_filter("nothing")
    assert panel.visible_keys() == [] and "nothing" in panel.message.text()
    panel.set_key_filter("")
    assert len(panel.visible_keys()) == 3


def test_legend_chips_hide_a_run_in_every_chart(qtbot, panel):
    a = log_run("a", {"loss": [(0, 1.0), (1, 0.5)], "acc": [(0, 0.1), (1, 0.2)]})
    b = log_run("b", {"loss": [(0, 2.0), (1, 1.0)], "acc": [(0, 0.3), (1, 0.4)]})
    runs = runs_by_name()
    panel.set_runs([runs["a"], runs["b"]])
    charts = wait_loaded(qtbot, panel)
    assert [c.text() for c in panel.legend.chips.values()] == ["a", "b"]
    assert not panel.legend.chips[a].icon().isNull()
    qtbot.mouseClick(panel.legend.chips[a], Qt.MouseButton.LeftButton)
    assert not panel.legend.is_shown(a)
    for chart in charts.values():
        assert not chart.runs[a].raw.isVisible() and chart.runs[b].raw.isVisible()
    assert {rid for rid, _, _ in charts["loss"].show_crosshair(1.0)} == {b}
    y0, y1 = charts["loss"].getPlotItem().vb.viewRange()[1]
    assert y0 > 0.5 - 0.1  # the range follows the runs still shown (b: 1.0 to 2.0)
    panel.set_runs([runs["a"], runs["b"]])  # the same selection again keeps the choice
    assert not panel.legend.is_shown(a)
    qtbot.mouseClick(panel.legend.chips[a], Qt.MouseButton.LeftButton)
    assert all(chart.runs[a].raw.isVisible() for chart in charts.values())


def test_crosshair_reads_every_run_at_the_hovered_step(qtbot, panel):
    a = log_run("a", {"loss": [(0, 1.0), (10, 2.0), (20, 3.0)]})
    b = log_run("b", {"loss": [(0, 5.0), (10, 6.0)]})
    panel.set_runs(list(runs_by_name().values()))
    chart = wait_loaded(qtbot, panel)["loss"]
    values = {rid: raw for rid, raw, _ in chart.show_crosshair(11.0, readout_at=chart.rect().center())}
    assert values == {a: 2.0, b: 6.0}
    assert chart.readout.isVisible() and "step 10" in chart.readout.text()
    assert {rid for rid, _, _ in chart.show_crosshair(19.0)} == {a}  # b ended at step 10
    chart.hide_crosshair()
    assert not chart.readout.isVisible()


def test_hovering_a_chart_shows_the_readout_and_a_line_on_every_chart(qtbot, panel):
    log_run("a", {"loss": [(i, float(i)) for i in range(10)], "acc": [(i, i / 10) for i in range(10)]})
    panel.set_runs(list(runs_by_name().values()))
    charts = wait_loaded(qtbot, panel)
    chart, other = charts["loss"], charts["acc"]
    vb = chart.getPlotItem().vb
    pos = chart.mapFromScene(vb.mapViewToScene(QPointF(5.0, 5.0)))
    qtbot.mouseMove(chart.viewport(), pos)
    qtbot.waitUntil(chart.readout.isVisible)
    assert "step 5" in chart.readout.text()
    assert other._vline.isVisible() and abs(other._vline.value() - 5.0) < 0.5
    assert not other.readout.isVisible()  # the readout only where the mouse is


def test_charts_are_built_lazily(qtbot, panel):
    log_run("many", {f"metric{i:03d}": [(0, float(i))] for i in range(40)})
    panel.set_runs(list(runs_by_name().values()))
    qtbot.waitUntil(lambda: len(panel.charts()) > 0)
    assert len(panel.charts()) < 40
    panel.scroll.verticalScrollBar().setValue(panel.scroll.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: "metric039" in panel.charts())


def test_run_colors_are_a_function_of_the_run_id(qapp):
    ids = [f"{i:032x}" for i in range(30)]
    assert color_for(ids[5]).name() == palette()[palette_index(ids[5])]
    assert palette_index(ids[20]) == palette_index(ids[20])
    assert not swatch_icon(ids[3]).isNull()


def test_a_huge_selection_plots_its_first_runs(qtbot, panel, monkeypatch):
    from app.plots import panel as panel_module
    monkeypatch.setattr(panel_module, "MAX_RUNS", 2)
    for name in "abc":
        log_run(name, {"loss": [(0, 1.0)]})
    runs = sorted(runs_by_name().values(), key=lambda r: r.info.run_name)
    panel.set_runs(runs)
    assert [r.info.run_name for r in panel.runs()] == ["a", "b"]
    assert panel.controls.summary.text() == "first 2 of 3 runs · 1 metric"
