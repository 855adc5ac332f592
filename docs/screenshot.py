"""Take the README's screenshots of the app with demo runs, headless, in both themes.

    .venv/bin/python docs/screenshot.py [--out docs] [--extra]

Writes ``screenshot-light.png`` and ``screenshot-dark.png`` (1400 x 850). ``--extra`` also
writes the artifacts tab, the welcome page and a filter error, for checking the look.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_runs(root: Path) -> None:
    from tracker.demo import write_demo_runs
    write_demo_runs(root)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--extra", action="store_true", help="also grab other views, for review")
    args = parser.parse_args()
    out = Path(args.out)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_runs(root)
        from shots import screenshot_app
        app = screenshot_app(Path(tmp) / "settings")
        from app.shell import theme
        from app.shell.window import MainWindow

        for name in ("light", "dark"):
            theme.apply_theme(app, name)
            window = MainWindow(root)
            window.resize(1400, 850)
            window.show()
            while window.runs_model.total_count() == 0:
                app.processEvents()
            _select(window, ["sgd-lr-0.1", "sgd-lr-0.01", "sgd-lr-0.001"])
            window.lower_tabs.setCurrentWidget(window.plots)
            plots = window.plots
            while plots.is_loading() or not plots.charts():
                app.processEvents()
            _settle(app)
            window.grab().save(str(out / f"screenshot-{name}.png"))
            print(out / f"screenshot-{name}.png")
            if args.extra:
                _extra(app, window, out, name)
            window.close()
            window.deleteLater()
            app.processEvents()
    return 0


def _select(window, names: list[str]) -> None:
    from PySide6.QtCore import QItemSelectionModel
    model, selection = window.runs_model, window.runs_view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    window.runs_view.select_run(_find(window, names[0]))
    for name in names[1:]:
        selection.select(model.index(model.row_of(_find(window, name)), 0), flags)


def _find(window, name: str) -> str:
    for run in window.runs_model.runs():
        if getattr(getattr(run, "info", None), "run_name", None) == name:
            return run.info.run_id
    return window.runs_model.runs()[0].info.run_id


def _settle(app) -> None:
    for _ in range(30):
        app.processEvents()


def _extra(app, window, out: Path, name: str) -> None:
    details = window.details
    window.lower_tabs.setCurrentWidget(details)
    window.runs_view.select_run(_find(window, "mlp-long-training"))
    details.tabs.setCurrentWidget(details.artifacts)
    root = details.artifacts.root()
    while root is not None and not details.artifacts.index_of(root / "config.json").isValid():
        app.processEvents()
    details.artifacts.select(root / "config.json")
    _settle(app)
    window.grab().save(str(out / f"extra-artifacts-{name}.png"))
    details.artifacts.select(root / "notes.csv")
    _settle(app)
    window.grab().save(str(out / f"extra-csv-{name}.png"))
    details.tabs.setCurrentIndex(2)
    _settle(app)
    window.grab().save(str(out / f"extra-metrics-{name}.png"))
    window.runs_view.filter_edit.setText("metrics.accuracy > ")
    _settle(app)
    window.grab().save(str(out / f"extra-filter-error-{name}.png"))
    window.runs_view.filter_edit.setText("")
    _settle(app)
    details.tabs.setCurrentIndex(0)
    window.runs_view.select_run(_find(window, "mlp-diverged"))
    _settle(app)
    window.grab().save(str(out / f"extra-failed-{name}.png"))
    bad = window.runs_dir / ("e" * 32)
    if not bad.exists():
        bad.mkdir()
        (bad / "run.json").write_text("{truncated", encoding="utf-8")
    while window.runs_model.get("e" * 32) is None:
        app.processEvents()
    window.runs_view.select_run("e" * 32)
    _settle(app)
    window.grab().save(str(out / f"extra-unreadable-{name}.png"))
    window.pages.setCurrentWidget(window.welcome)
    window.welcome.set_directory(None)
    _settle(app)
    window.grab().save(str(out / f"extra-welcome-{name}.png"))


if __name__ == "__main__":
    sys.exit(main())
