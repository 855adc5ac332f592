"""A run hidden from the charts through its legend chip: the chip shows it (struck through, grey)
in both themes, and the chart's CSV export says which runs were hidden."""
import csv

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication

import tracker
from app.plots import MetricPlotPanel
from app.shell import theme
from app_fixtures import OFFSCREEN_NOISE

pytestmark = OFFSCREEN_NOISE


def log_loss(name, scale):
    with tracker.start_run(run_name=name) as run:
        for step in range(5):
            tracker.log_metric("loss", scale * (5 - step), step=step)
    return run.info.run_id


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    yield widget
    widget.shutdown()
    theme.apply_theme(QApplication.instance(), "system")


def runs_by_name():
    return {r.info.run_name: r for r in tracker.Client().search_runs()}


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, :image.width(), :3].astype(int)


def text_look(chip) -> tuple[QColor, bool]:
    """The chip's text as drawn: its strongest ink color, and whether one row of ink runs
    through most of the text's width (a strike-through line)."""
    a = pixels(chip.grab().toImage())
    text_left = chip.iconSize().width() + 6  # right of the swatch
    region = a[:, text_left:-2]
    background = np.median(region.reshape(-1, 3), axis=0)
    distance = np.abs(region - background).sum(axis=2)
    ink = distance > 90
    columns = np.flatnonzero(ink.any(axis=0))
    width = columns.max() - columns.min() + 1
    struck = bool((ink.sum(axis=1) >= 0.8 * width).any())
    y, x = np.unravel_index(np.argmax(distance), distance.shape)
    return QColor(*region[y, x].tolist()), struck


def close(a: QColor, b: QColor, tolerance=40) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance


@pytest.mark.parametrize("name", ["light", "dark"])
def test_a_hidden_runs_chip_is_struck_through_and_grey(qtbot, panel, name):
    qapp = QApplication.instance()
    a, b = log_loss("alpha-run", 1.0), log_loss("beta-run", 2.0)
    runs = runs_by_name()
    panel.set_runs([runs["alpha-run"], runs["beta-run"]])
    theme.apply_theme(qapp, name)
    chip_a, chip_b = panel.legend.chips[a], panel.legend.chips[b]
    qtbot.waitUntil(lambda: chip_a.isVisible() and chip_b.isVisible())
    pal = panel.palette()
    text, grey = pal.color(QPalette.ColorRole.ButtonText), pal.color(QPalette.ColorRole.PlaceholderText)

    qtbot.mouseClick(chip_a, Qt.MouseButton.LeftButton)
    assert not panel.legend.is_shown(a)
    hidden_color, hidden_struck = text_look(chip_a)
    shown_color, shown_struck = text_look(chip_b)
    assert hidden_struck and not shown_struck
    assert close(hidden_color, grey), (hidden_color.name(), grey.name())
    assert close(shown_color, text), (shown_color.name(), text.name())
    assert "hidden" in chip_a.accessibleName()

    # the other theme: the hidden chip takes that theme's grey, not the old one's
    other = "dark" if name == "light" else "light"
    theme.apply_theme(qapp, other)
    qtbot.waitUntil(lambda: panel.palette().color(QPalette.ColorRole.PlaceholderText) != grey)
    new_grey = panel.palette().color(QPalette.ColorRole.PlaceholderText)
    color, struck = text_look(chip_a)
    assert struck and close(color, new_grey), (color.name(), new_grey.name())

    qtbot.mouseClick(chip_a, Qt.MouseButton.LeftButton)  # shown again: plain text
    color, struck = text_look(chip_a)
    assert not struck and close(color, panel.palette().color(QPalette.ColorRole.ButtonText))


def test_chips_added_while_the_legend_is_visible_are_shown(qtbot, panel):
    a = log_loss("alpha-run", 1.0)
    log_loss("beta-run", 2.0)
    runs = runs_by_name()
    panel.set_runs([runs["alpha-run"]])
    qtbot.waitUntil(lambda: panel.legend.chips[a].isVisible())
    panel.set_runs([runs["alpha-run"], runs["beta-run"]])  # a selection growing row by row
    qtbot.waitUntil(lambda: all(c.isVisible() and c.height() > 10 for c in panel.legend.chips.values()))
    assert panel.legend.height() > 10


def test_csv_export_marks_the_runs_hidden_in_the_chart(qtbot, panel, tmp_path):
    log_loss("alpha-run", 1.0)
    b = log_loss("beta-run", 2.0)
    runs = runs_by_name()
    panel.set_runs([runs["alpha-run"], runs["beta-run"]])
    chart = panel.chart("loss")
    qtbot.waitUntil(lambda: not panel.is_loading() and all(c.drawn is not None for c in chart.runs.values()))
    qtbot.mouseClick(panel.legend.chips[b], Qt.MouseButton.LeftButton)
    messages = []
    panel.status_message.connect(messages.append)
    path = tmp_path / "loss.csv"
    panel.export_chart("loss", "csv", path)
    rows = list(csv.DictReader(path.open()))
    assert {r["run"]: r["hidden"] for r in rows} == {"alpha-run": "false", "beta-run": "true"}
    assert len(rows) == 10  # the hidden run's points are there too, marked
    assert "beta-run" in messages[-1] and "hidden" in messages[-1]
