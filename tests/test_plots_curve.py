"""RunCurve (app/plots/curve.py): zoomed out it draws min/max per pixel column, and that
must look like drawing every point. Rendered offscreen and compared pixel column by column."""
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from app.plots.chart import MetricChart
from app.plots.curve import NOTHING, RunCurve
from app.plots.export import chart_image
from app.plots.series_math import PlotSettings, gap_connect, prepare

RED = QColor(255, 0, 0)


def plot(qtbot, item, x_range, y_range, size=(500, 260)):
    """A bare chart (no axes, white) showing ``item`` over the given ranges."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.setBackground("w")
    widget.resize(*size)
    plot_item = widget.getPlotItem()
    for axis in ("left", "bottom"):
        plot_item.hideAxis(axis)
    plot_item.hideButtons()
    plot_item.vb.disableAutoRange()
    plot_item.addItem(item)
    plot_item.vb.setRange(xRange=x_range, yRange=y_range, padding=0)
    widget.show()
    return widget


def red_rows(widget) -> list[np.ndarray]:
    """Per pixel column of the view box, the rows where the (pure red, not antialiased) curve is."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    vb = widget.getPlotItem().vb
    box = vb.mapRectToScene(vb.boundingRect()).toAlignedRect()
    pixels = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)[:, : image.width()]
    red = pixels[box.top(): box.bottom() + 1, box.left(): box.right() + 1] == RED.rgba()
    return [np.flatnonzero(red[:, c]) for c in range(red.shape[1])]


def extents(rows):
    lo = np.array([r.min() if len(r) else np.iinfo(np.int32).max for r in rows])
    hi = np.array([r.max() if len(r) else -1 for r in rows])
    return lo, hi


def covers(a_rows, b_rows, slack=1):
    """Columns where ``b`` draws pixels that ``a`` draws nowhere near (same or next column, 1 px)."""
    lo, hi = extents(a_rows)
    missing = []
    for c, rows in enumerate(b_rows):
        if len(rows) == 0:
            continue
        near = slice(max(0, c - 1), c + 2)
        if rows.min() < lo[near].min() - slack or rows.max() > hi[near].max() + slack:
            missing.append(c)
    return missing


@pytest.fixture
def walk():
    """100,000 points: a random walk, one spike up, one down, and a gap of 2,000 NaN."""
    rng = np.random.default_rng(7)
    y = rng.normal(0, 1, 100_000).cumsum() / 30
    y[54_321] += 25
    y[20_000] -= 25
    y[70_000:72_000] = np.nan
    return np.arange(len(y), dtype=np.float64), y


def test_columns_draw_what_every_point_would(qtbot, walk):
    x, y = walk
    filled, connect = gap_connect(y)
    ranges = ((0, len(x)), (float(np.nanmin(y)) - 1, float(np.nanmax(y)) + 1))

    curve = RunCurve()
    curve.setPen(pg.mkPen(RED, width=1))
    curve.set_series(x, filled, connect)
    ours = red_rows(plot(qtbot, curve, *ranges))
    assert curve.drawn[0] == "columns" and len(curve.drawn_data()) < 1_000  # 100,000 points, ~500 lines

    every_point = pg.PlotCurveItem(x, filled, connect=connect, pen=pg.mkPen(RED, width=1), antialias=False)
    truth = red_rows(plot(qtbot, every_point, *ranges))

    assert len(ours) == len(truth)
    assert covers(ours, truth) == []  # nothing the full line draws is missing
    assert covers(truth, ours) == []  # and nothing is drawn that it does not draw
    drawn = np.array([len(r) > 0 for r in ours])
    full = np.array([len(r) > 0 for r in truth])
    assert 0.95 < drawn.mean() < 1  # the gap of 2,000 points (10 columns) stays a gap...
    for c in np.flatnonzero(drawn != full):  # ...the same one, give or take a column at its ends
        assert not full[max(0, c - 1): c + 2].all() or c in (0, len(full) - 1)


def breaks(rows) -> list[int]:
    """Columns whose pixels do not touch the next column's: where a line looks broken."""
    lo, hi = extents(rows)
    return [c for c in range(len(rows) - 1)
            if len(rows[c]) and len(rows[c + 1]) and (lo[c + 1] > hi[c] + 1 or hi[c + 1] < lo[c] - 1)]


def test_columns_stay_joined_where_the_line_is_steep(qtbot):
    """Three points a column, 20 pixels apart: each column's line must reach its neighbours'."""
    x = np.arange(1_500, dtype=np.float64)
    y = 100 * np.sin(x / 15)
    ranges = ((0, len(x)), (-110, 110))
    curve = RunCurve()
    curve.setPen(pg.mkPen(RED, width=1))
    curve.set_series(x, y)
    ours = red_rows(plot(qtbot, curve, *ranges))
    assert curve.drawn[0] == "columns"
    truth = red_rows(plot(qtbot, pg.PlotCurveItem(x, y, pen=pg.mkPen(RED, width=1), antialias=False), *ranges))
    assert breaks(truth) == [] and breaks(ours) == []
    assert covers(ours, truth) == [] and covers(truth, ours) == []


def test_spikes_survive_zoomed_out(qtbot, walk):
    x, y = walk
    filled, connect = gap_connect(y)
    curve = RunCurve()
    curve.setPen(pg.mkPen(RED, width=1))
    curve.set_series(x, filled, connect)
    widget = plot(qtbot, curve, (0, len(x)), (float(np.nanmin(y)) - 1, float(np.nanmax(y)) + 1))
    widget.grab()
    lines = curve.drawn_data()
    assert lines[:, 3].max() == np.nanmax(y) and lines[:, 1].min() == np.nanmin(y)  # single points, not lost


def test_zoomed_in_draws_the_points_in_view(qtbot, walk):
    x, y = walk
    filled, connect = gap_connect(y)
    curve = RunCurve()
    curve.set_series(x, filled, connect)
    plot(qtbot, curve, (69_900.5, 70_100.5), (-20, 20)).grab()
    assert curve.drawn == ("points", 69_900, 70_102)  # the 200 points in view, a neighbour either side
    assert curve.drawn_data()[:, 0].tolist() == list(range(69_900, 70_102))


def test_a_strip_of_the_view_repaints_only_its_columns(qtbot, walk):
    """A moving crosshair invalidates a strip a few pixels wide: only its lines are drawn."""
    x, y = walk
    curve = RunCurve()
    curve.set_series(x, *gap_connect(y))
    widget = plot(qtbot, curve, (0, len(x)), (-20, 20))
    qtbot.waitExposed(widget)
    QApplication.processEvents()  # the first, full paint
    mode, a, b = curve.drawn
    assert mode == "columns" and b - a > 400
    vb = widget.getPlotItem().vb
    left = widget.mapFromScene(vb.mapViewToScene(QPointF(50_000, 0))).x()
    widget.viewport().repaint(QRect(left, 0, 4, widget.height()))
    mode, a, b = curve.drawn
    assert mode == "columns" and b - a < 12
    assert abs(curve.drawn_data()[:, 0].mean() - 50_000) < 10 * len(x) / vb.width()


def test_hidden_curves_cost_nothing(qtbot, walk):
    x, y = walk
    curve = RunCurve()
    curve.set_series(x, *gap_connect(y))
    curve.setVisible(False)
    plot(qtbot, curve, (0, len(x)), (-20, 20)).grab()
    assert curve.drawn == NOTHING


def test_bounds_are_the_full_series_whatever_the_view(qtbot, walk):
    x, y = walk
    curve = RunCurve()
    curve.set_series(x, *gap_connect(y))
    plot(qtbot, curve, (10, 20), (-1, 1)).grab()
    assert curve.dataBounds(0) == (0.0, len(x) - 1.0)
    assert curve.dataBounds(1) == (np.nanmin(y), np.nanmax(y))
    rect = curve.boundingRect()
    assert rect.left() < 0 and rect.right() > len(x) - 1


def test_show_points_skips_gap_fillers(qtbot):
    x = np.arange(3.0)
    y = np.array([1.0, np.nan, 3.0])
    curve = RunCurve()
    curve.set_series(x, *gap_connect(y), gaps=y)
    curve.set_points(RED)
    widget = plot(qtbot, curve, (-0.5, 2.5), (0, 4), size=(300, 200))
    image = widget.grab().toImage()
    vb = widget.getPlotItem().vb

    def red_at(px, py):
        pos = widget.mapFromScene(vb.mapViewToScene(QPointF(px, py)))
        return image.pixelColor(pos) == RED

    assert red_at(0, 1) and red_at(2, 3)
    assert not red_at(1, 1)  # the NaN at x=1 holds its neighbour's value for drawing, but is no point


def test_an_export_at_twice_the_size_draws_twice_the_columns(qtbot):
    chart = MetricChart("loss")
    qtbot.addWidget(chart)
    chart.resize(600, 300)
    chart.show()
    n = 200_000
    steps = np.arange(n)
    chart.ensure_run("a" * 32, "a")
    chart.set_series("a" * 32, prepare(steps, steps, np.sin(steps / 300.0), PlotSettings()))
    curve = chart.runs["a" * 32].raw
    chart.grab()
    mode, a, b = curve.drawn
    assert mode == "columns"  # one vertical line per column on screen (200,000 points: not antialiased)
    image = chart_image(chart, scale=2.0)
    assert image.width() > 1.9 * chart.getPlotItem().sceneBoundingRect().width()
    # Exports are antialiased: the same min/max columns, as one polyline, of the image's pixels.
    mode, i, j = curve.drawn
    assert mode == "polyline" and 1.8 * (b - a) < j - i < 2.2 * (b - a)
    assert len(curve.drawn_data()) == 2 * (j - i)
