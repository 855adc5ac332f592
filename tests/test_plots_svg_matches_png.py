"""An exported SVG, drawn by Qt's SVG renderer, puts axes, ticks and curves where the PNG does."""
import re

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

import tracker
from app.plots import MetricPlotPanel
from app.plots.export import picture_dpi
from app.runs.colors import color_for
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE

TOLERANCE_PX = 3


@pytest.fixture
def chart_panel(qtbot, tmp_path):
    with tracker.start_run(run_name="falling") as run:
        for step in range(10):
            tracker.log_metric("loss", 10.0 - step, step=step)
    panel = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.set_runs(tracker.Client().search_runs())
    chart = panel.chart("loss")
    qtbot.waitUntil(lambda: not panel.is_loading() and all(c.drawn is not None for c in chart.runs.values()))
    panel.run_id = run.info.run_id
    yield panel
    panel.shutdown()


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, :image.width(), :3].astype(int)


def groups(mask: np.ndarray) -> list[float]:
    """Centres of the runs of True (a gap of more than 2 pixels starts a new one)."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    return [float(g.mean()) for g in np.split(idx, np.flatnonzero(np.diff(idx) > 2) + 1)]


def measure(image: QImage, plot, curve_color: QColor) -> dict:
    """Where the curve's pixels reach, and where the tick labels of both axes sit."""
    a = pixels(image)
    background = a[2, 2]
    rgb = np.array([curve_color.red(), curve_color.green(), curve_color.blue()])
    curve = np.abs(a - rgb).sum(axis=2) < 60
    ys, xs = np.nonzero(curve)
    ink = np.abs(a - background).sum(axis=2) > 200  # text and axis lines, not the antialiasing
    left, top, right, bottom = int(plot.left()), int(plot.top()), int(plot.right()), int(plot.bottom())
    return {
        "curve": (xs.min(), xs.max(), ys.min(), ys.max()) if len(xs) else None,
        "x_labels": groups(ink[bottom + 6:bottom + 22, left:right].any(axis=0)),  # below the ticks
        "y_labels": groups(ink[top:bottom, :max(1, left - 6)].any(axis=1)),  # left of the ticks
    }


def test_svg_rendered_matches_the_png(chart_panel, tmp_path):
    png_path, svg_path = tmp_path / "loss.png", tmp_path / "loss.svg"
    chart_panel.export_chart("loss", "png", png_path)
    chart_panel.export_chart("loss", "svg", svg_path)
    png = QImage(str(png_path))
    renderer = QSvgRenderer(str(svg_path))
    assert renderer.isValid()
    svg = QImage(png.size(), QImage.Format.Format_ARGB32)
    svg.fill(QColor("white"))
    painter = QPainter(svg)
    renderer.render(painter)  # the whole drawing, fitted to the PNG's size
    painter.end()

    item = chart_panel.chart("loss").getPlotItem()
    plot = item.vb.sceneBoundingRect().translated(-item.sceneBoundingRect().topLeft())
    color = color_for(chart_panel.run_id)
    from_png, from_svg = measure(png, plot, color), measure(svg, plot, color)

    assert from_png["curve"] is not None and from_svg["curve"] is not None
    assert np.abs(np.subtract(from_png["curve"], from_svg["curve"])).max() <= TOLERANCE_PX
    for axis in ("x_labels", "y_labels"):
        assert len(from_png[axis]) >= 5, axis  # the PNG shows the ticks' labels: a fair reference
        assert len(from_svg[axis]) == len(from_png[axis]), axis
        assert np.abs(np.subtract(from_png[axis], from_svg[axis])).max() <= TOLERANCE_PX, axis
    # the curve's first point (10 at step 0) sits level with the "10" label, in both
    first_label_y = from_png["y_labels"][0] + plot.top()
    assert abs(from_svg["curve"][2] - first_label_y) <= 2 * TOLERANCE_PX


def test_svg_size_is_the_charts_in_css_pixels(chart_panel, tmp_path):
    """At 96 dpi, a chart 800 pixels wide is 800 px (211.7 mm) wide in the file, not 282 mm."""
    svg_path = tmp_path / "loss.svg"
    chart_panel.export_chart("loss", "svg", svg_path)
    text = svg_path.read_text()
    width_px = chart_panel.chart("loss").getPlotItem().sceneBoundingRect().width()
    width_mm = float(re.search(r'<svg[^>]*\swidth="([\d.]+)mm"', text).group(1))
    assert width_mm == pytest.approx(int(width_px) / picture_dpi() * 25.4, abs=0.6)
    assert 'transform="matrix(0.75' not in text
