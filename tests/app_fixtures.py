"""Fixtures and helpers for the app's tests: import them into a test module with

    from app_fixtures import *  # noqa: F401,F403

``qt_settings`` is autouse there: every test gets its own QSettings file under tmp_path.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLoggingCategory, QSettings

import tracker

# A slot connected without @Slot logs through this category; with it on, such a slot fails
# the test (qt_log_level_fail = WARNING).
QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")

# The offscreen platform warns about a feature it lacks whenever a window is shown.
OFFSCREEN_NOISE = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise|requestActivate)")

__all__ = ["qt_settings", "runs_root", "OFFSCREEN_NOISE", "log_run", "write_unreadable",
           "open_window", "names_shown"]


@pytest.fixture(autouse=True)
def qt_settings(tmp_path, qapp):
    """QSettings of this test only, in tmp_path."""
    folder = tmp_path / "qsettings"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("tracker-tests")
    QCoreApplication.setApplicationName("Tracker")
    yield folder


@pytest.fixture
def runs_root(tracking_dir) -> Path:
    """The runs directory the fluent API writes to in this test (conftest's tracking_dir)."""
    return Path(tracking_dir)


def log_run(name: str, experiment: str = "Default", params: dict | None = None,
            metrics: dict | None = None, tags: dict | None = None, nested: bool = False,
            fail: bool = False, artifacts: dict | None = None) -> str:
    """Log one finished (or failed) run through the fluent API; return its id."""
    try:
        with tracker.start_run(run_name=name, experiment=experiment, nested=nested,
                               tags=tags) as run:
            if params:
                tracker.log_params(params)
            for key, value in (metrics or {}).items():
                tracker.log_metric(key, value)
            for path, content in (artifacts or {}).items():
                if isinstance(content, (dict, list)):
                    tracker.log_dict(content, path)
                else:
                    tracker.log_text(content, path)
            run_id = run.info.run_id
            if fail:
                raise RuntimeError("boom")
    except RuntimeError:
        pass
    return run_id


def write_unreadable(root: Path, run_id: str = "f" * 32) -> Path:
    """A run directory whose run.json is garbage."""
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text("{not json", encoding="utf-8")
    return folder


def open_window(qtbot, root: Path | None, count: int | None = None):
    """A MainWindow on ``root``, shown, once ``count`` runs (default: all on disk) are listed."""
    from app.shell.window import MainWindow
    window = MainWindow(root)
    qtbot.addWidget(window)
    window.show()
    if root is not None:
        expected = count if count is not None else sum(
            1 for p in root.iterdir() if len(p.name) == 32 and p.is_dir()) if root.is_dir() else 0
        qtbot.waitUntil(lambda: window.runs_model.total_count() == expected
                        and not window.progress.isVisible(), timeout=10000)
    return window


def names_shown(window) -> list[str]:
    """The run names in the runs table, top to bottom, as displayed."""
    model = window.runs_model
    column = model.column_index("name")
    return [model.index(r, column).data() for r in range(model.rowCount())]
