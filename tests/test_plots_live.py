"""Live charts: a real writer process appends; curves extend by tail reads, never re-reading."""
import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QLoggingCategory, QSettings

import tracker
from app.plots import MetricPlotPanel, data as plot_data

QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

WRITER = """
import pathlib, sys, time
import tracker
gate = pathlib.Path(sys.argv[1])
with tracker.start_run(run_name="live"):
    for i in range(5):
        tracker.log_metric("loss", 1.0 / (i + 1), step=i)
    while not (gate / "more").exists():
        time.sleep(0.01)
    for i in range(5, 10):
        tracker.log_metric("loss", 1.0 / (i + 1), step=i)
    tracker.log_metric("acc", 0.5, step=9)  # a key that appears while the chart is open
    while not (gate / "stop").exists():
        time.sleep(0.01)
"""


@pytest.fixture
def writer(tmp_path, tracking_dir):
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(gate)], env=env)
    yield proc, gate
    (gate / "stop").touch()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = MetricPlotPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    yield widget
    widget.shutdown()


def first_run(qtbot, points):
    client = tracker.Client()
    found = []

    def ready():
        runs = client.search_runs()
        summary = runs[0].data.summaries.get("loss") if runs else None
        found[:] = runs
        return summary is not None and summary.count >= points
    qtbot.waitUntil(ready, timeout=20000)
    return found[0]


def points(panel, key):
    chart = panel.charts().get(key)
    if chart is None:
        return []
    curves = next(iter(chart.runs.values()), None)
    if curves is None or curves.raw is None or curves.raw.xData is None:
        return []
    return curves.raw.xData.tolist()


@pytest.fixture
def read_log(monkeypatch):
    calls = []
    real = plot_data.read_metric  # what the chart data reads metric files through

    def spy(path, key, position=0):
        calls.append((key, position))
        return real(path, key, position)
    monkeypatch.setattr(plot_data, "read_metric", spy)
    return calls


def test_curves_extend_live_from_tail_reads(qtbot, panel, writer, read_log):
    proc, gate = writer
    run = first_run(qtbot, 5)
    panel.set_runs([run])
    panel.chart("loss")
    qtbot.waitUntil(lambda: points(panel, "loss") == [0, 1, 2, 3, 4], timeout=10000)
    assert panel.manager.timer.isActive()  # RUNNING: polled

    (gate / "more").touch()
    started = time.monotonic()
    qtbot.waitUntil(lambda: len(points(panel, "loss")) == 10, timeout=10000)
    latency = time.monotonic() - started
    assert points(panel, "loss") == list(range(10))
    # The writer flushes every 200 ms and the panel polls every 250 ms.
    assert latency < 3.0, f"curve extended {latency:.2f} s after the writer logged"
    qtbot.waitUntil(lambda: "acc" in panel.keys(), timeout=10000)  # the new key got its chart
    qtbot.waitUntil(lambda: points(panel, "acc") == [9], timeout=10000)

    loss_reads = [pos for key, pos in read_log if key == "loss"]
    assert loss_reads[0] == 0 and all(pos > 0 for pos in loss_reads[1:])  # only new records

    (gate / "stop").touch()
    assert proc.wait(timeout=20) == 0
    qtbot.waitUntil(lambda: not panel.manager.timer.isActive(), timeout=10000)  # FINISHED: stops
    assert panel.runs()[0].info.status == "FINISHED"


def test_runs_changed_extends_curves_without_polling(qtbot, panel, writer, read_log):
    proc, gate = writer
    panel.manager.poll_live = False  # only the app's watcher (on_runs_changed) drives updates
    run = first_run(qtbot, 5)
    panel.set_runs([run])
    panel.chart("loss")
    qtbot.waitUntil(lambda: len(points(panel, "loss")) == 5, timeout=10000)
    assert not panel.manager.timer.isActive()
    (gate / "more").touch()
    client = tracker.Client()

    def extended():
        panel.on_runs_changed(client.search_runs())  # what RunsSource.runs_changed delivers
        return len(points(panel, "loss")) == 10 and points(panel, "acc") == [9]
    qtbot.waitUntil(extended, timeout=10000)
    loss_reads = [pos for key, pos in read_log if key == "loss"]
    assert loss_reads[0] == 0 and all(pos > 0 for pos in loss_reads[1:])
