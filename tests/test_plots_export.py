"""Exporting a chart: PNG, SVG (through QSvgGenerator), CSV of what is on screen, clipboard."""
import csv
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QLoggingCategory, QSettings
from PySide6.QtWidgets import QApplication

import tracker
from app.plots import MetricPlotPanel
from app.plots.series_math import PlotSettings

QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def chart_panel(qtbot, tmp_path):
    for name, scale in (("first", 1.0), ("second", 2.0)):
        with tracker.start_run(run_name=name):
            for step in range(10):
                tracker.log_metric("loss", scale * (step + 1), step=step)
    panel = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.set_runs(tracker.Client().search_runs())
    panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.5))
    chart = panel.chart("loss")
    qtbot.waitUntil(lambda: not panel.is_loading() and all(
        c.drawn is not None and c.drawn.smoothed is not None for c in chart.runs.values()))
    yield panel
    panel.shutdown()


def test_png_export(chart_panel, tmp_path):
    path = tmp_path / "loss.png"
    assert chart_panel.export_chart("loss", "png", path) == str(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 2000


def test_svg_export_has_the_curves(chart_panel, tmp_path):
    path = tmp_path / "loss.svg"
    chart_panel.export_chart("loss", "svg", path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    drawn = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("path", "polyline")]
    assert len(drawn) >= 4  # two runs, raw and smoothed, plus axes
    text = path.read_text()
    assert "loss" in text  # the title
    assert "first" in text and "second" in text  # exports carry a legend naming the runs
    assert not chart_panel.chart("loss").legend.isVisible()  # only while exporting


def test_csv_export_writes_raw_and_smoothed_points_on_screen(chart_panel, tmp_path):
    path = tmp_path / "loss.csv"
    chart_panel.export_chart("loss", "csv", path)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 20
    first = [r for r in rows if r["run"] == "first"]
    assert [int(r["step"]) for r in first] == list(range(10))
    assert [float(r["value"]) for r in first[:3]] == [1.0, 2.0, 3.0]
    # EMA 0.5 of 1, 2, 3 by hand: 1, 1.25/0.75, 2.125/0.875
    assert [float(r["smoothed"]) for r in first[:3]] == pytest.approx([1.0, 5 / 3, 17 / 7])
    assert first[0]["metric"] == "loss" and len(first[0]["run_id"]) == 32
    assert float(first[0]["relative_s"]) >= 0 and first[0]["wall_time"].endswith("+00:00")

    chart = chart_panel.chart("loss")
    chart.getPlotItem().vb.setXRange(2, 5, padding=0)  # zoomed in: only what is on screen
    chart_panel.export_chart("loss", "csv", path)
    steps = sorted({int(r["step"]) for r in csv.DictReader(path.open())})
    assert steps == [2, 3, 4, 5]


def test_save_dialog_is_one_method(chart_panel, tmp_path, monkeypatch):
    target = tmp_path / "chosen.png"
    asked = []
    monkeypatch.setattr(chart_panel, "ask_save_path",
                        lambda caption, suggested, filt: asked.append((suggested, filt)) or str(target))
    assert chart_panel.export_chart("loss", "png") == str(target)
    assert asked[0][0].endswith("loss.png") and "PNG" in asked[0][1]
    assert target.read_bytes()[:4] == b"\x89PNG"
    monkeypatch.setattr(chart_panel, "ask_save_path", lambda *a: "")  # cancelled
    assert chart_panel.export_chart("loss", "svg") is None


def test_copy_image_to_clipboard(chart_panel):
    chart_panel.copy_chart_image("loss")
    image = QApplication.clipboard().image()
    assert not image.isNull() and image.width() > 100


def test_chart_menu_offers_the_exports(chart_panel):
    menu = chart_panel.chart_menu(chart_panel.chart("loss"))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:8] == ["Export as PNG…", "Export as PNG at 2x…", "Export as PNG at a width…", "Export as SVG…",
                         "Export data as CSV…", "Copy image", "Copy data as CSV", "Reset zoom"]
