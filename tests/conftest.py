"""Shared test set-up: headless Qt, and every test writes into its own temporary directories."""
import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_configure(config):
    # A slot connected without @Slot logs through this category; with it on, such a slot
    # fails the test (qt_log_level_fail = WARNING in pyproject.toml).
    from PySide6.QtCore import QLoggingCategory
    QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")


@pytest.fixture(autouse=True)
def tracking_dir(tmp_path, monkeypatch):
    """Point runs, settings and the registry at tmp_path; end any run a test left active."""
    import tracker
    from tracker import fluent

    runs = tmp_path / "runs"
    monkeypatch.setenv("TRACKER_DIR", str(runs))
    monkeypatch.delenv("TRACKER_REGISTRY_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    tracker.set_tracking_dir(runs)
    fluent._experiment = None
    yield runs
    while fluent._stack:
        tracker.end_run()
    fluent._last_active = None
    tracker.set_tracking_dir(None)
