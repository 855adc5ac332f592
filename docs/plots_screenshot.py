"""Screenshots of the metric charts and the compare view, offscreen, in both themes.

    .venv/bin/python docs/plots_screenshot.py            # writes docs/plots-light.png, plots-dark.png, compare.png

Writes the demo runs plus three longer noisy training runs into a temporary directory,
selects the training runs with EMA smoothing on and a crosshair readout showing, and
grabs the widgets.
"""
from __future__ import annotations

import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPointF, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import tracker  # noqa: E402
from tracker.demo import write_demo_runs  # noqa: E402

DOCS = ROOT / "docs"


def write_long_runs(root: Path) -> None:
    """Three more training runs with noise and a few spikes, so overlays have something to show."""
    tracker.set_tracking_dir(root)
    for name, lr, width, seed in (("mlp-lr-3e-3", 0.003, 256, 1), ("mlp-lr-1e-2", 0.01, 256, 2),
                                  ("mlp-wide-1e-3", 0.001, 1024, 3)):
        rng = random.Random(seed)
        speed = {0.001: 45, 0.003: 28, 0.01: 16}[lr]
        with tracker.start_run(run_name=name, experiment="mnist-mlp") as run:
            tracker.log_params({"lr": lr, "batch_size": 64, "optimizer": "adam", "epochs": 200, "width": width})
            # Timestamps as a real run would have them (a batch every 0.4 s, wider nets slower),
            # so the relative and wall time axes show minutes rather than milliseconds.
            start, per_step = run.info.start_time, 400 * (width // 256) ** 0.5
            for epoch in range(200):
                for batch in range(10):
                    step = epoch * 10 + batch
                    loss = 2.2 * math.exp(-step / (speed * 10)) + 0.04 + abs(rng.gauss(0, 0.06))
                    if rng.random() < 0.004:
                        loss += rng.uniform(0.5, 1.5)  # a spike: peak downsampling keeps it
                    tracker.log_metric("train/loss", loss, step=step, timestamp=int(start + step * per_step))
                val = 2.2 * math.exp(-epoch / speed) + 0.09 + 0.0008 * max(0, epoch - 90) * (lr * 300)
                acc = min(0.995, 1 - 0.9 * math.exp(-epoch / speed) - 0.02 - rng.uniform(0, 0.015))
                at = int(start + (epoch * 10 + 9) * per_step + 2000)
                tracker.log_metric("val/loss", val + rng.gauss(0, 0.015), step=epoch * 10 + 9, timestamp=at)
                tracker.log_metric("val/accuracy", acc, step=epoch * 10 + 9, timestamp=at)
    tracker.set_tracking_dir(None)


def settle(app: QApplication, done, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    for _ in range(5):
        app.processEvents()


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    from app.runs import colors as run_colors
    from app.shell import theme
    from app.plots import CompareView, MetricPlotPanel
    from app.plots.series_math import PlotSettings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_demo_runs(root)
        write_long_runs(root)
        runs = tracker.Client(root).search_runs()
        run_colors.assign(r.info.run_id for r in sorted(runs, key=lambda r: r.info.start_time))
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)

        theme.apply_theme(app, "light")
        panel = MetricPlotPanel(settings=settings)
        panel.resize(1280, 580)
        panel.show()
        # the diverged run (loss 41, then NaN) would squash every other curve; it has its own story
        training = sorted((r for r in runs if r.info.experiment == "mnist-mlp" and r.info.status != "FAILED"),
                          key=lambda r: r.info.run_name)
        panel.set_runs(training)
        panel.set_settings(PlotSettings(smoothing="ema", ema_weight=0.6))
        settle(app, lambda: panel.charts() and not panel.is_loading()
               and all(c.drawn is not None for ch in panel.charts().values() for c in ch.runs.values()))

        def hover() -> None:
            """Show the crosshair as if the mouse were over train/loss, 60% of the way across."""
            chart = panel.chart("train/loss")
            vb = chart.getPlotItem().vb
            (x0, x1), (y0, y1) = vb.viewRange()
            x = x0 + (x1 - x0) * 0.6
            at = chart.mapFromScene(vb.mapViewToScene(QPointF(x, y0 + (y1 - y0) * 0.7)))
            chart.show_crosshair(x, readout_at=at)
            for other in panel.charts().values():
                if other is not chart:
                    other.show_crosshair(x)

        for name in ("light", "dark"):
            theme.apply_theme(app, name)
            settle(app, lambda: False, timeout=0.3)
            hover()
            panel.grab().save(str(DOCS / f"plots-{name}.png"))
            print("wrote", DOCS / f"plots-{name}.png")

        theme.apply_theme(app, "light")
        compare = CompareView(settings=settings)
        compare.resize(1280, 720)
        compare.show()
        iris = sorted((r for r in runs if r.info.experiment == "iris-random-forest"), key=lambda r: r.info.run_name)
        compare.set_runs(iris)
        compare.only_differing.setChecked(True)
        compare.select_scatter("params.max_depth", "metrics.accuracy")
        settle(app, lambda: False, timeout=0.5)
        compare.grab().save(str(DOCS / "compare.png"))
        print("wrote", DOCS / "compare.png")
        if "--dark-compare" in sys.argv:  # a look at the dark theme, not kept in docs/
            theme.apply_theme(app, "dark")
            settle(app, lambda: False, timeout=0.3)
            compare.grab().save(str(Path(tempfile.gettempdir()) / "compare-dark.png"))
        panel.shutdown()


if __name__ == "__main__":
    main()
