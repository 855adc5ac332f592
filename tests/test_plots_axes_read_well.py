"""Axes that read well: whole-step ticks on the step axis, labelled ticks on a narrow log
range, and NaN or infinite values marked at the chart's edges with their value on hover."""
import pytest
from PySide6.QtCore import QSettings

import tracker
from app.plots import MetricPlotPanel
from app.plots.series_math import PlotSettings
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    yield widget
    widget.shutdown()


def log(points, key="loss", name="a"):
    with tracker.start_run(run_name=name) as run:
        for step, value in points:
            tracker.log_metric(key, value, step=step)
    return run.info.run_id


def loaded(qtbot, panel, key="loss"):
    chart = panel.chart(key)
    qtbot.waitUntil(lambda: not panel.is_loading() and all(c.drawn is not None for c in chart.runs.values()))
    chart.grab()
    return chart


def labels(axis):
    """The tick labels the axis draws now."""
    lo, hi = axis.range
    size = axis.width() if axis.orientation in ("top", "bottom") else axis.height()
    out = []
    for spacing, values in axis.tickValues(lo, hi, size):
        out += [t for t in axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing) if t]
    return out


def test_steps_get_whole_ticks(qtbot, panel):
    log([(0, 1.0), (1, 2.0), (2, 1.5), (3, 1.0)])
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded(qtbot, panel)
    ticks = labels(chart.getPlotItem().getAxis("bottom"))
    assert ticks and all(t.lstrip("-").isdigit() for t in ticks), ticks
    assert {"0", "1", "2", "3"} <= set(ticks)


def test_log_y_on_a_narrow_range_is_labelled(qtbot, panel):
    log([(s, 0.31 + 0.01 * s) for s in range(5)])  # 0.31 to 0.35: no 1, 2 or 5 of a decade
    panel.set_runs(tracker.Client().search_runs())
    panel.set_settings(PlotSettings(log_y=True))
    chart = loaded(qtbot, panel)
    qtbot.waitUntil(lambda: next(iter(chart.runs.values())).drawn.y_draw[0] < 0)
    chart.reset_zoom()
    chart.grab()
    ticks = labels(chart.getPlotItem().getAxis("left"))
    assert len(ticks) >= 2, ticks
    assert all(0.3 <= float(t) <= 0.36 for t in ticks)


def test_nan_and_infinities_are_marked_at_the_edges(qtbot, panel):
    log([(0, 1.0), (1, 2.0), (2, float("inf")), (3, 1.5), (4, float("nan")), (5, float("-inf")), (6, 1.0)])
    panel.set_runs(tracker.Client().search_runs())
    chart = loaded(qtbot, panel)
    marks = chart.nonfinite
    assert marks.marks() == [(2.0, 1, "a", 2), (4.0, 0, "a", 4), (5.0, -1, "a", 5)]
    y0, y1 = chart.getPlotItem().vb.viewRange()[1]
    points = {p.data()[1]: p for p in marks.points()}
    assert y1 - 0.1 * (y1 - y0) < points[2].pos().y() <= y1  # +inf: at the top edge
    assert y0 <= points[5].pos().y() < y0 + 0.1 * (y1 - y0)  # -inf and NaN: at the bottom
    assert y0 <= points[4].pos().y() < y0 + 0.1 * (y1 - y0)
    chart.getPlotItem().vb.setYRange(10, 20, padding=0)  # the marks follow the view
    assert 19 < {p.data()[1]: p for p in marks.points()}[2].pos().y() <= 20
    tip = marks.opts["tip"]
    assert tip(x=2.0, y=0, data=points[2].data()) == "a: +inf at step 2"
    assert tip(x=4.0, y=0, data=points[4].data()) == "a: NaN at step 4"
