"""Parallel coordinates: brushing by dragging along an axis (brushes combine), the brushed runs
marked in the runs table and selected from there, a run lacking a param, log axes, labels that
fit at 1024x700, lines coloured by the metric."""
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

import tracker
from app.plots import CompareView
from app.plots.parallel import polylines
from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

pytestmark = OFFSCREEN_NOISE

# lr over four decades; accuracy best in the middle; "width" only in some runs
SWEEP = [("r0", 1e-5, "adam", 0.60), ("r1", 1e-4, "adam", 0.80), ("r2", 1e-3, "sgd", 0.95),
         ("r3", 1e-2, "sgd", 0.85), ("r4", 1e-1, "adam", 0.50)]


def log_sweep():
    for name, lr, opt, acc in SWEEP:
        params = {"lr": lr, "optimizer": opt}
        if name != "r2":
            params["width"] = 64 if name < "r2" else 256
        log_run(name, params=params, metrics={"accuracy": acc})
    return {r.info.run_name: r for r in tracker.Client().search_runs()}


@pytest.fixture(autouse=True)
def every_mouse_move(monkeypatch):
    """pyqtgraph drops moves closer than 10 ms to the last one; a test's synthesized drag sends
    them back to back, so a drag could end up a click depending on timing."""
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)


@pytest.fixture
def view(qtbot, tmp_path):
    widget = CompareView(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    return widget


def shown(view, runs, params=("lr", "optimizer", "width")):
    view.set_runs(sorted(runs.values(), key=lambda r: r.info.run_name))
    view.set_parallel_params(list(params))
    view.parallel_metric.setCurrentIndex(view.parallel_metric.findData("metrics.accuracy"))
    view.parallel.grab()  # laid out: data maps to pixels
    return view.parallel


def pixel(chart, axis: float, y: float) -> QPoint:
    vb = chart.getPlotItem().vb
    return chart.mapFromScene(vb.mapViewToScene(QPointF(axis, y)))


def drag(chart, start: QPoint, end: QPoint, steps: int = 6) -> None:
    """A left-button drag as the mouse makes it (QTest's moves carry no buttons)."""
    viewport = chart.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, pos, button, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)),
                                                     button, buttons, Qt.KeyboardModifier.NoModifier))
    send(QEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, start + (end - start) * (i / steps), none, left)
    send(QEvent.Type.MouseButtonRelease, end, left, none)


def names(runs, ids):
    by_id = {r.info.run_id: n for n, r in runs.items()}
    return sorted(by_id[i] for i in ids)


def test_dragging_along_axes_keeps_the_runs_in_every_brush(qtbot, view):
    runs = log_sweep()
    chart = shown(view, runs)
    said = []
    view.brushed.connect(said.append)
    lr = chart.keys.index("params.lr")
    # lr from a bit below 1e-4 to a bit above 1e-2 (a quarter to three quarters of the log axis)
    drag(chart, pixel(chart, lr, 0.78), pixel(chart, lr, 0.22))
    assert names(runs, said[-1]) == ["r1", "r2", "r3"]
    assert chart.brushes()["params.lr"] == pytest.approx((0.22, 0.78), abs=0.01)
    assert "3 of 5 runs" in view.brush_note.text()
    # a second brush on the metric: accuracy of 0.84 and more, and still within the lr brush
    acc = chart.keys.index("metrics.accuracy")
    top = (0.84 - 0.5) / (0.95 - 0.5)
    drag(chart, pixel(chart, acc, 1.0), pixel(chart, acc, top))
    assert names(runs, said[-1]) == ["r2", "r3"]
    assert chart.color_of(runs["r0"].info.run_id) is None  # brushed out: drawn faint
    # a click on the lr axis clears its brush; the metric's stays
    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=pixel(chart, lr, 0.5))
    assert names(runs, said[-1]) == ["r2", "r3"] and list(chart.brushes()) == ["metrics.accuracy"]
    view.clear_brushes.click()
    assert chart.brushes() == {} and chart.kept_run_ids() == [] and said[-1] == []
    # the line under the pointer is named, with its values
    r2 = runs["r2"].info.run_id
    scene = chart.getPlotItem().vb.mapViewToScene(QPointF(lr, 0.5))
    assert chart.run_at(scene) == r2
    assert chart.describe(r2).splitlines()[:2] == ["r2", "lr = 0.001"]


def test_a_run_lacking_a_param_joins_the_axes_it_has(view):
    runs = log_sweep()
    chart = shown(view, runs)
    assert chart.keys == ["params.lr", "params.optimizer", "params.width", "metrics.accuracy"]
    r2 = runs["r2"].info.run_id  # no width
    assert chart.polyline(r2)[0] == [0, 1, 3]  # lr, optimizer, accuracy: it skips width
    for name in ("r0", "r1", "r3", "r4"):
        assert chart.polyline(runs[name].info.run_id)[0] == [0, 1, 2, 3]
    # as drawn: one path, r2's three points joined to each other only, every other run whole
    x, y, connect = polylines(chart.columns, np.arange(5))
    assert len(x) == 4 * 4 + 3
    assert int(np.count_nonzero(connect)) == 4 * 3 + 2  # segments inside runs, none between them


def test_learning_rates_over_decades_get_a_log_axis(view):
    runs = log_sweep()
    chart = shown(view, runs)
    lr = chart.keys.index("params.lr")
    assert chart.axes[lr].log and not chart.axes[chart.keys.index("params.width")].log  # 64..256
    assert chart.polyline(runs["r2"].info.run_id)[1][lr] == pytest.approx(0.5)  # 1e-3 in the middle
    names_shown = [text for label, text, row in chart._labels if row == "name"]
    assert "lr (log)" in names_shown


def test_lines_are_coloured_by_the_metric(view):
    runs = log_sweep()
    chart = shown(view, runs)
    best, worst = chart.color_of(runs["r2"].info.run_id), chart.color_of(runs["r4"].info.run_id)
    assert best != worst
    assert best.lightness() > worst.lightness()  # viridis: light for high values, dark for low


def test_labels_fit_at_1024_by_700(qtbot, runs_root):
    log_sweep()
    for i in range(3):
        log_run(f"long{i}", params={"lr": 0.01, "optimizer": "adam", "a_rather_long_parameter_name_here": i,
                                    "another_long_parameter_name": i * 2, "batch_size": 32 * (i + 1),
                                    "dropout": 0.1 * i}, metrics={"accuracy": 0.7 + i / 10})
    window = open_window(qtbot, runs_root)
    window.resize(1024, 700)
    window.runs_view.table.selectAll()
    compare = window.compare
    window.lower_tabs.setCurrentWidget(compare)
    compare.set_parallel_params(["a_rather_long_parameter_name_here", "another_long_parameter_name",
                                 "batch_size", "dropout", "lr", "optimizer", "width"])
    chart = compare.parallel
    qtbot.waitUntil(lambda: chart.isVisible() and chart.height() > 80)
    window.grab()
    view_rect = chart.getPlotItem().vb.sceneBoundingRect()
    shown_labels = [(label, text, row) for label, text, row in chart._labels if label.isVisible()]
    rects = [label.sceneBoundingRect() for label, _, _ in shown_labels]
    for rect in rects:  # inside the chart: nothing cut at an edge
        assert view_rect.adjusted(-1, -1, 1, 1).contains(rect), rect
    name_rects = [r for r, (_, _, row) in zip(rects, shown_labels) if row == "name"]
    assert len(name_rects) == 8
    for a, b in zip(name_rects, name_rects[1:]):  # names side by side, never over each other
        assert a.right() <= b.left() + 1
    assert any(label.toPlainText().endswith("…") is False and "…" in label.toPlainText()
               for label, _, row in shown_labels if row == "name")  # long names elided in the middle


def test_brushed_runs_are_marked_in_the_runs_table_and_selected_from_there(qtbot, runs_root):
    runs = log_sweep()
    window = open_window(qtbot, runs_root)
    window.runs_view.table.selectAll()
    compare = window.compare
    window.lower_tabs.setCurrentWidget(compare)
    compare.set_parallel_params(["lr", "optimizer"])
    marks = window.runs_view.table.findChild(QWidget, "runsBrushedRows")
    assert marks is not None and not marks.isVisible()
    compare.parallel.set_brush("params.lr", 1e-4, 1e-2)
    kept = {runs[n].info.run_id for n in ("r1", "r2", "r3")}
    assert marks.isVisible() and marks.run_ids() == kept
    model = window.runs_model
    assert sorted(marks.highlighted_rows()) == sorted(model.row_of(i) for i in kept)
    assert compare.select_brushed.isEnabled()
    compare.select_brushed.click()
    qtbot.waitUntil(lambda: {r.info.run_id for r in window.runs_view.selected_runs()} == kept)
    assert {r.info.run_id for r in compare.runs} == kept  # the compare view follows the selection
    assert not marks.isVisible()  # new runs to compare: the brushes start over
