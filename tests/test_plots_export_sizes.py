"""PNG at 1x, 2x or a chosen width from the chart's menu; "Copy data as CSV" puts the
chart's points on the clipboard."""
import csv
import io

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import tracker
from app.plots import MetricPlotPanel
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    with tracker.start_run(run_name="a"):
        for step in range(5):
            tracker.log_metric("loss", 1.0 / (step + 1), step=step)
    widget.set_runs(tracker.Client().search_runs())
    chart = widget.chart("loss")
    qtbot.waitUntil(lambda: not widget.is_loading() and all(c.drawn is not None for c in chart.runs.values()))
    yield widget
    widget.shutdown()


def menu_action(panel, text):
    return [a for a in panel.chart_menu(panel.chart("loss")).actions() if a.text() == text][0]


def test_png_at_1x_2x_and_a_chosen_width(panel, tmp_path):
    paths = iter([str(tmp_path / "one.png"), str(tmp_path / "two.png"), str(tmp_path / "wide.png")])
    panel.ask_save_path = lambda caption, suggested, name_filter: next(paths)
    panel.ask_width = lambda key, current: 1500
    menu_action(panel, "Export as PNG…").trigger()
    menu_action(panel, "Export as PNG at 2x…").trigger()
    menu_action(panel, "Export as PNG at a width…").trigger()
    one, two, wide = (QImage(str(tmp_path / n)) for n in ("one.png", "two.png", "wide.png"))
    assert not one.isNull() and two.width() == pytest.approx(2 * one.width(), abs=2)
    assert two.height() == pytest.approx(2 * one.height(), abs=2)
    assert wide.width() == pytest.approx(1500, abs=2)
    assert wide.height() == pytest.approx(one.height() * 1500 / one.width(), abs=3)


def test_copy_data_as_csv(panel):
    menu_action(panel, "Copy data as CSV").trigger()
    rows = list(csv.DictReader(io.StringIO(QApplication.clipboard().text())))
    assert [r["step"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert [float(r["value"]) for r in rows] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert {r["run"] for r in rows} == {"a"} and {r["metric"] for r in rows} == {"loss"}
