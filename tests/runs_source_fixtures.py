"""Shared by the RunsSource tests (test_runs_source.py, test_runs_source_index.py): a recorder of the
source's signals, the source made and closed per test, real writer processes, and run helpers."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QLoggingCategory
from watchdog.utils import BaseThread

from app.runs.source import RunsSource, Snapshot
from tracker.entities import Run, UnreadableRun
from tracker.writer import RunWriter

# A slot connected across threads without @Slot logs through this category; with it on,
# such a slot fails the test (qt_log_level_fail = WARNING).
QLoggingCategory.setFilterRules("qt.pyside.libpyside.warning=true")

WAIT_MS = 15_000  # generous: a writer process has to start Python and import tracker first

WRITER = """
import sys, tracker
with tracker.start_run(run_name=sys.argv[1]) as run:
    print(run.info.run_id, flush=True)
    for line in sys.stdin:  # one metric value per line; "stop" ends the run, EOF too
        if line.strip() == "stop":
            break
        tracker.log_metric("loss", float(line))
"""


class Recorder:
    """Everything a RunsSource emitted, in order."""

    def __init__(self, source: RunsSource) -> None:
        self.loaded: list[Snapshot] = []
        self.changed: list[Run | UnreadableRun] = []
        self.removed: list[str] = []
        self.status: list[str] = []
        self.progress: list[tuple[int, int]] = []
        self.experiments: list[list] = []
        self.updates: list = []  # the RunsUpdates themselves
        source.loaded.connect(self.loaded.append)
        source.runs_changed.connect(self._on_changed)
        source.runs_removed.connect(self.removed.extend)
        source.status.connect(self.status.append)
        source.progress.connect(lambda done, total: self.progress.append((done, total)))
        source.experiments_changed.connect(self.experiments.append)

    def _on_changed(self, update) -> None:
        self.updates.append(update)
        self.changed.extend(update.runs())

    def latest(self, run_id: str) -> Run | UnreadableRun | None:
        for run in reversed(self.changed):
            if (run.info.run_id if isinstance(run, Run) else run.run_id) == run_id:
                return run
        return None


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, BaseThread) and t.is_alive()]


@pytest.fixture
def root(tracking_dir) -> Path:
    tracking_dir.mkdir(parents=True, exist_ok=True)
    return tracking_dir


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRACKER_POLLING", raising=False)


@pytest.fixture
def make_source(qtbot):
    """RunsSource factory; every source is closed, and every watchdog thread joined, at teardown."""
    sources = []

    def make(**kwargs) -> tuple[RunsSource, Recorder]:
        kwargs.setdefault("check_ms", 250)
        source = RunsSource(**kwargs)
        sources.append(source)
        return source, Recorder(source)

    yield make
    for source in sources:
        source.close()
    assert watchdog_threads() == []


@pytest.fixture
def writers(root):
    """Start writer processes (WRITER above) that log into ``root``; all are ended at teardown."""
    procs = []

    def start(name: str = "live") -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([sys.executable, "-c", WRITER, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env={**os.environ, "TRACKER_DIR": str(root)})
        procs.append(proc)
        return proc, proc.stdout.readline().strip()

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()


def send(proc: subprocess.Popen, line: str) -> None:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def finished_run(root: Path, name: str, experiment: str = "Default", **params) -> str:
    writer = RunWriter.create(root, name, experiment)
    if params:
        writer.log_params(params)
    writer.log_metric("acc", 0.5)
    writer.end()
    return writer.run_id


def open_and_wait(qtbot, source: RunsSource, rec: Recorder, root: Path) -> Snapshot:
    with qtbot.waitSignal(source.loaded, timeout=WAIT_MS):
        source.open(root)
    return rec.loaded[-1]


