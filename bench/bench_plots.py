"""Benchmarks of the metric charts, headless. Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_plots.py

- a 1,000,000-point series: load (read + prepare on the worker) and first draw; then
  pan and zoom repaints;
- 100 runs x 10,000 points overlaid in one chart: draw, then repaints (pans and zooms
  between two column widths, and zoom steps that each need new min/max columns);
- 100 runs x 10,000 points grouped by a param into 10 groups with bands;
- a live run growing to 1,000,000 points: memory and update latency.

"Draw" and "repaint" are ``QWidget.grab()`` of the chart: a full synchronous paint of
the widget into a pixmap, what a screen update costs (offscreen raster).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from tracker import store
from tracker.entities import RunStatus

app = QApplication.instance() or QApplication(sys.argv)

from app.plots import MetricPlotPanel  # noqa: E402
from app.plots.data import LIVE_INTERVAL_MS  # noqa: E402
from app.plots.series_math import PlotSettings  # noqa: E402

T0 = 1_700_000_000_000


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_run(root: Path, name: str, n: int, key: str = "loss", seed: int = 0, running: bool = False,
              params: dict | None = None, first_step: int = 0):
    """A run directory with one metric of ``n`` points, written straight through the store."""
    run_id = uuid.uuid4().hex
    path = root / run_id
    (path / store.ARTIFACTS_DIR).mkdir(parents=True)
    info = {"pid": os.getpid(), "pid_start": store.process_start_ticks(os.getpid()), "host": store.this_host()}
    doc = store.new_document(run_id, name, "bench", T0, **info)
    if not running:
        doc["info"].update(status=RunStatus.FINISHED, end_time=T0 + n * 10)
    doc["params"].update(params or {})
    steps = np.arange(first_step, first_step + n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    values = np.exp(-steps / (n / 5 + 1)) + rng.normal(0, 0.05, n)
    if n:
        with store.open_for_append(store.metric_path(path, key)) as f:
            f.write(store.encode_records(steps, T0 + steps * 10, values))
        doc["metrics"][key] = {"last": float(values[-1]), "min": float(values.min()), "max": float(values.max()),
                               "count": n, "last_step": int(steps[-1]), "last_timestamp": int(T0 + steps[-1] * 10)}
    else:
        doc["metrics"][key] = {"last": 0.0, "min": 0.0, "max": 0.0, "count": 0, "last_step": -1, "last_timestamp": T0}
    store.write_document(path, doc)
    return store.read_run(path)


class Stalls:
    """The longest gap between 5 ms timer ticks: how long the GUI thread was blocked."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.worst = 0

    def _tick(self) -> None:
        self.worst = max(self.worst, self.clock.restart())

    def __enter__(self):
        self.worst = 0
        self.clock.start()
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.stop()


def wait(condition, timeout: float = 60.0) -> None:
    """Run the event loop until ``condition()``, sleeping between events as the app's loop does.

    (A busy ``processEvents`` loop holds the GIL between its calls and slowed the worker
    threads' reading and smoothing two to four times, inflating every "load" figure.)"""
    end = time.perf_counter() + timeout
    tick = QTimer()
    tick.start(2)  # wakes the loop to look at the condition and the clock
    try:
        while not condition():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents | QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.perf_counter() > end:
                raise TimeoutError("condition not met")
    finally:
        tick.stop()


def new_panel(width: int = 1000, height: int = 700) -> MetricPlotPanel:
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    panel = MetricPlotPanel(settings=settings)
    panel.resize(width, height)
    panel.show()
    app.processEvents()
    return panel


def loaded(panel: MetricPlotPanel, key: str, runs: int, points: int):
    def check():
        chart = panel.charts().get(key)
        if chart is None or panel.is_loading() or len(chart.runs) != runs:
            return False
        return all(c.raw is not None and c.raw.xData is not None and len(c.raw.xData) == points
                   for c in chart.runs.values())
    return check


def repaint_times(chart, ranges) -> tuple[list[float], list[float]]:
    """Wall and GUI-thread CPU milliseconds per pan or zoom: set the range, paint the chart.

    The CPU figure leaves out time spent waiting for a core, which on a busy machine
    (other jobs running) inflates the wall figure."""
    vb = chart.getPlotItem().vb
    wall, cpu = [], []
    for lo, hi in ranges:
        t, c = time.perf_counter(), time.thread_time()
        vb.setXRange(lo, hi, padding=0)
        chart.grab()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    return wall, cpu


def figures(label: str, samples: tuple[list[float], list[float]]) -> str:
    wall, cpu = samples
    return (f"{label} median {statistics.median(wall):.1f} ms, max {max(wall):.1f} ms "
            f"(GUI thread CPU median {statistics.median(cpu):.1f} ms)")


def bench_million(root: Path, smoothing: str) -> None:
    n = 1_000_000
    run = write_run(root, f"million-{smoothing}", n)
    panel = new_panel()
    panel.set_settings(PlotSettings(smoothing=smoothing, ema_weight=0.9))
    with Stalls() as stalls:
        t, c = time.perf_counter(), time.process_time()
        panel.set_runs([run])
        chart = panel.chart("loss")
        wait(loaded(panel, "loss", 1, n))
        chart.grab()
        total = (time.perf_counter() - t) * 1000
        cpu = (time.process_time() - c) * 1000
    t = time.perf_counter()
    chart.grab()
    first_repaint = (time.perf_counter() - t) * 1000
    zooms = [(0, n), (0, n / 2), (n / 4, n / 2), (n / 4, n / 4 + 10_000), (500_000, 500_500)]
    pans = [(i * 20_000, i * 20_000 + 200_000) for i in range(20)]
    zoom = repaint_times(chart, zooms * 4)
    pan = repaint_times(chart, pans)
    label = "EMA 0.9" if smoothing == "ema" else "no smoothing"
    print(f"1,000,000 points, {label}: load + first draw {total:.0f} ms, {cpu:.0f} ms CPU in all threads "
          f"(GUI thread blocked at most {stalls.worst} ms); full-view repaint {first_repaint:.1f} ms")
    print("    " + figures("pan repaint", pan) + "; " + figures("zoom repaint", zoom))
    panel.shutdown()
    panel.deleteLater()


def bench_overlay(root: Path) -> None:
    runs = [write_run(root / "overlay", f"run-{i:03d}", 10_000, seed=i) for i in range(100)]
    panel = new_panel()
    with Stalls() as stalls:
        t, c = time.perf_counter(), time.process_time()
        panel.set_runs(runs)
        chart = panel.chart("loss")
        wait(loaded(panel, "loss", 100, 10_000))
        chart.grab()
        total = (time.perf_counter() - t) * 1000
        cpu = (time.process_time() - c) * 1000
    ranges = [(i * 200, i * 200 + 5000) for i in range(20)] + [(0, 10_000)] * 5
    print(f"100 runs x 10,000 points overlaid: load + first draw {total:.0f} ms, {cpu:.0f} ms CPU "
          f"(GUI blocked at most {stalls.worst} ms)")
    print(f"    at {chart.width()} px wide: " + figures("pan/zoom repaint", repaint_times(chart, ranges)))
    still = []
    for i in range(20):  # what a hover costs: the crosshair moves, the curves stay
        t, c = time.perf_counter(), time.thread_time()
        chart.show_crosshair(1000.0 + i * 100, readout_at=chart.rect().center())
        chart.grab()
        still.append(((time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000))
    print("    " + figures("crosshair move + repaint", ([w for w, _ in still], [c for _, c in still])))
    app.processEvents()
    hover = []
    for i in range(20):  # as on screen: Qt repaints only the regions the move changed
        t, c = time.perf_counter(), time.thread_time()
        chart.show_crosshair(1050.0 + i * 100, readout_at=chart.rect().center())
        app.processEvents()
        hover.append(((time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000))
    print("    " + figures("crosshair move, on-screen repaint", ([w for w, _ in hover], [c for _, c in hover])))
    chart.hide_crosshair()
    steps = [(0, 10_000 / 1.08 ** i) for i in range(25)]  # 8% a step: new column widths almost every time
    print("    " + figures("zoom-in step repaint", repaint_times(chart, steps)))
    chart.getPlotItem().vb.setXRange(0, 10_000, padding=0)
    panel.resize(440, 700)  # a chart in a three-column grid of a 1280 px window
    app.processEvents()
    print(f"    at {chart.width()} px wide: " + figures("pan/zoom repaint", repaint_times(chart, ranges)))
    panel.resize(1000, 700)
    app.processEvents()
    t = time.perf_counter()
    panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.9))
    wait(lambda: not panel.is_loading() and all(
        c.prepared is not None and c.prepared.smoothed is not None for c in chart.runs.values()))
    chart.grab()
    print(f"    switching on EMA smoothing for all 100 runs: {(time.perf_counter() - t) * 1000:.0f} ms to redrawn")
    panel.shutdown()
    panel.deleteLater()


def bench_grouping(root: Path) -> None:
    """100 runs x 10,000 points grouped into 10 groups, mean with a min-max band and with a
    ±1 std band; runs of a group start at different steps (aligned on step)."""
    from app.plots.grouping import GroupSpec, aggregate

    runs = [write_run(root / "grouped", f"run-{i:03d}", 10_000, seed=i, params={"config": str(i % 10)},
                      first_step=(i // 10) * 7) for i in range(100)]
    panel = new_panel()
    panel.set_runs(runs)
    chart = panel.chart("loss")
    wait(loaded(panel, "loss", 100, 10_000))
    chart.grab()
    for band in ("minmax", "std"):
        with Stalls() as stalls:
            t, c = time.perf_counter(), time.process_time()
            panel.set_grouping(GroupSpec("param:config", band=band))
            wait(lambda: len(chart.groups.aggregates) == 10)
            chart.grab()
            total = (time.perf_counter() - t) * 1000
            cpu = (time.process_time() - c) * 1000
        print(f"grouping 100 runs x 10,000 points into 10 groups ({band} band): {total:.0f} ms to drawn, "
              f"{cpu:.0f} ms CPU (GUI blocked at most {stalls.worst} ms)")
        print("    " + figures("grouped pan/zoom repaint", repaint_times(
            chart, [(i * 200, i * 200 + 5000) for i in range(20)] + [(0, 10_100)] * 5)))
        panel.set_grouping(GroupSpec())
        app.processEvents()
    members = [(c.drawn.steps, c.drawn.x, c.drawn.raw) for c in list(chart.runs.values())[:10]]
    t = time.perf_counter()
    for _ in range(10):
        aggregate(members)
    print(f"    aggregate() of one group of 10 runs: {(time.perf_counter() - t) * 100:.1f} ms")
    panel.shutdown()
    panel.deleteLater()


def bench_live(root: Path) -> None:
    run = write_run(root / "live", "live", 0, running=True)
    path = store.metric_path(run.path, "loss")
    panel = new_panel()
    panel.set_runs([run])
    chart = panel.chart("loss")
    chunk = 10_000
    base = rss_mb()
    latencies, report = [], {100_000, 250_000, 500_000, 1_000_000}
    rows = []
    with store.open_for_append(path) as f, Stalls() as stalls:
        for start in range(0, 1_000_000, chunk):
            steps = np.arange(start, start + chunk, dtype=np.int64)
            f.write(store.encode_records(steps, T0 + steps * 10, np.sin(steps / 5000.0)))
            f.flush()
            t = time.perf_counter()
            end = start + chunk
            wait(lambda: (c := next(iter(chart.runs.values()))).raw is not None and c.raw.xData is not None
                 and len(c.raw.xData) == end)
            latencies.append((time.perf_counter() - t) * 1000)
            if end in report:
                chart.grab()
                buffers = panel.manager.memory_bytes() / 2**20
                rows.append(f"{end:>9,} points: RSS +{rss_mb() - base:6.1f} MB (series buffers {buffers:5.1f} MB)")
        settled = rss_mb()
        end_at = time.perf_counter() + 3
        wait(lambda: time.perf_counter() > end_at)  # 20 more polls with nothing new
        rows.append(f"then 3 s more of polling: RSS {rss_mb() - settled:+.1f} MB")
    print(f"live run growing to 1,000,000 points in 10,000-point appends (polled every {LIVE_INTERVAL_MS} ms):")
    for row in rows:
        print("    " + row)
    print(f"    append-to-curve latency median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms "
          f"(includes waiting for the poll); GUI blocked at most {stalls.worst} ms")
    panel.shutdown()
    panel.deleteLater()


def main() -> None:
    import platform

    import PySide6
    import pyqtgraph

    print(f"bench_plots: Python {platform.python_version()}, PySide6 {PySide6.__version__}, "
          f"pyqtgraph {pyqtgraph.__version__}, {os.cpu_count()} cores, {os.environ['QT_QPA_PLATFORM']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_million(root, "off")
        bench_million(root, "ema")
        bench_overlay(root)
        bench_grouping(root)
        bench_live(root)


if __name__ == "__main__":
    main()
