"""Shared test set-up: headless Qt, and every test writes into its own temporary directories."""
import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


def pytest_configure(config):
    # A slot connected without @Slot logs through this category; with it on, such a slot
    # fails the test (qt_log_level_fail = WARNING in pyproject.toml).
    from PySide6.QtCore import QLoggingCategory
    QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")


@pytest.fixture(autouse=True)
def tracking_dir(tmp_path, monkeypatch):
    """Point runs, settings and the registry at tmp_path; end any run a test left active."""
    import tracker
    from tracker import fluent, fluent_experiments

    runs = tmp_path / "runs"
    monkeypatch.setenv("TRACKER_DIR", str(runs))
    # A developer's shell may point MLflow (and so this library) somewhere else.
    for name in ("TRACKER_REGISTRY_URL", "TRACKER_EXPERIMENT_NAME", "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID",
                 "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "TRACKER_LOG_SYSTEM_METRICS",
                 "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # readers keep caches there
    tracker.set_tracking_dir(runs)
    tracker.set_registry_uri(None)
    monkeypatch.setattr(fluent_experiments, "_active", None)
    yield runs
    while fluent._stack:
        tracker.end_run()
    fluent._last_active = None
    tracker.set_tracking_dir(None)
    tracker.set_registry_uri(None)  # a test that set it and failed leaves no registry to the next


@pytest.fixture(autouse=True)
def qt_garbage_collected_on_the_gui_thread(request):
    """Widgets a Qt test leaves unreferenced are collected here, on the GUI thread, when the test
    ends. Left to Python's cyclic collector, they were collected whenever it next ran, at times
    on a worker thread reading metrics, and a widget destroyed off the GUI thread crashed the
    process (a segfault in the next test, seen in CI)."""
    yield
    if "qtbot" in request.fixturenames or "qapp" in request.fixturenames:
        import gc
        gc.collect()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole session (tests/postgres_server.py)."""
    from postgres_server import start_or_skip
    server = start_or_skip()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database of this test's own."""
    return postgres_server.new_database()
