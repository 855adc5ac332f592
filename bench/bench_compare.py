"""Benchmarks of the compare view, headless. Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_compare.py

- 1,000 runs x 20 params on parallel coordinates (8 axes): a brush drag step (the masks,
  the lines redrawn, the runs table told) alone and with a full repaint (``grab()``);
- parameter importance for 1,000 runs x 20 params, in the view's worker: from the request
  to the bars drawn, the first time (scikit-learn imported on the worker when the view is
  made, so a request soon after waits for it) and once warm.
"""
from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from tracker.entities import Run, RunData, RunInfo

app = QApplication.instance() or QApplication(sys.argv)

from app.plots import CompareView  # noqa: E402

RUNS, PARAMS = 1000, 20


def sweep(n: int = RUNS, seed: int = 0) -> list[Run]:
    """Runs of a random search: lr over four decades, an optimizer, 18 more params, 3 metrics."""
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        lr = 10 ** rng.uniform(-5, -1)
        params = {"lr": repr(lr), "optimizer": rng.choice(["adam", "adamw", "sgd"])}
        params.update({f"p{j:02d}": repr(round(rng.uniform(0, 1), 4)) for j in range(PARAMS - 2)})
        acc = 0.9 - 0.05 * (math.log10(lr) + 3) ** 2 + (0.02 if params["optimizer"] != "sgd" else 0)
        metrics = {"accuracy": acc + rng.gauss(0, 0.01), "loss": -math.log(max(acc, 0.05)), "time": rng.uniform(1, 9)}
        info = RunInfo(uuid.uuid4().hex, f"run-{i}", "bench", "FINISHED", 0, 1, "")
        runs.append(Run(info, RunData(params=params, metrics=metrics)))
    return runs


def wait(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_brushing(view: CompareView, runs: list[Run]) -> None:
    view.show_chart("parallel")
    start = time.perf_counter()
    view.set_runs(runs)
    view.set_parallel_params(["lr", "optimizer", "p00", "p01", "p02", "p03", "p04"])
    app.processEvents()
    print(f"set_runs, {len(runs)} runs x {PARAMS} params, 8 axes: {ms(time.perf_counter() - start)}")
    chart = view.parallel
    chart.grab()
    steps, painted = [], []
    for i in range(60):  # a drag along the lr axis, then along p00 with lr's brush kept
        hi = 1e-1 * 0.93 ** i
        key = "params.lr" if i < 30 else "params.p00"
        lo = 1e-5 if key == "params.lr" else 0.1
        top = hi if key == "params.lr" else 1.0 - i / 60
        t = time.perf_counter()
        chart.set_brush(key, lo, top)
        steps.append(time.perf_counter() - t)
        chart.grab()
        painted.append(time.perf_counter() - t)
    print(f"brush drag step (masks, lines, signal): median {ms(statistics.median(steps))}, max {ms(max(steps))}")
    print(f"  with a full repaint of the chart: median {ms(statistics.median(painted))}, max {ms(max(painted))}"
          f" ({len(chart.kept_run_ids())} runs kept at the end)")


def bench_importance(view: CompareView, runs: list[Run]) -> None:
    importance = view.importance
    view.set_runs(runs)  # the parallel coordinates' tab is in front: nothing computed yet
    for label in ("first (scikit-learn importing on the worker)", "warm", "warm", "warm"):
        got = []
        importance.computed.connect(got.append)
        start = time.perf_counter()
        view.show_chart("importance")
        importance.metric.setCurrentIndex(importance.metric.findText("accuracy"))
        importance.compute()
        wait(lambda: got and got[-1].runs == len(runs))
        elapsed = time.perf_counter() - start
        importance.computed.disconnect(got.append)
        top = ", ".join(p.param for p in got[-1].params[:3])
        print(f"importance, {len(runs)} runs x {PARAMS} params, {label}: {ms(elapsed)} (top: {top})")


def main() -> None:
    settings = QSettings(os.devnull, QSettings.Format.IniFormat)
    view = CompareView(settings=settings)
    view.resize(1400, 900)
    view.show()
    runs = sweep()
    bench_importance(view, runs)  # first: the import the view started on its worker is still running
    bench_brushing(view, runs)


if __name__ == "__main__":
    main()
