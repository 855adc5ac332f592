"""The loading worker for an MLflow store (``mlruns/`` or ``mlflow.db``), read-only.

It speaks ``LoadWorker``'s signals, so ``RunsSource`` and every view treat both alike. Keeping
up is polling, for both kinds, every ``POLL_MS``: the store's ``changed_token()`` (a few
``stat`` calls) says when runs came, went or changed state (the store is listed again, no
sooner than ``RESCAN_SPACING`` times the last listing took), and the runs still RUNNING are
re-read on each poll (metrics appended to an MLflow file store's run touch no folder the token
looks at). A watchdog watcher is not reused: MLflow's layout (experiment folders, one file per
key) is not the one ``app/watcher.py`` knows, and a 1 s poll costs well under a millisecond.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tracker.entities import Experiment, Run, RunStatus, UnreadableRun
from tracker.mlflow_store import MlflowStoreError, MlflowStoreReader

from . import run_access
from .runs_snapshot import MadeRuns, Snapshot, same_run as _same

POLL_MS = 1000
RESCAN_SPACING = 4  # after a listing that took t, the next one waits 4 t (RUNNING runs: every poll)
WARM_BATCH = 200  # runs read ahead per pass of the worker's event loop


def _id(run: Run | UnreadableRun) -> str:
    return run.info.run_id if isinstance(run, Run) else run.run_id


class MlflowLoadWorker(QObject):
    """Lives on the source's worker thread: owns the reader and the known runs of one MLflow store."""

    progress = Signal(int, int, int)
    loaded = Signal(int, object)
    changed = Signal(int, object)  # RunsUpdate: the runs are handed over as a table (runs_snapshot.MadeRuns)
    removed = Signal(int, list)
    status = Signal(int, str)
    experiments = Signal(int, list)
    watching = Signal(int, str)

    def __init__(self, root: Path, generation: int, stop: threading.Event, poll_ms: int = POLL_MS) -> None:
        super().__init__()
        self.root = root
        self.generation = generation
        self.stop = stop
        self.poll_ms = poll_ms
        self.reader: MlflowStoreReader | None = None
        self.runs: dict[str, Run | UnreadableRun] = {}  # by run id
        self.experiment_list: list[Experiment] = []
        self.token: tuple | None = None
        self.timer: QTimer | None = None
        self._to_warm: list[Run] = []
        self._next_rescan = 0.0

    @Slot()
    def load(self) -> None:
        self.timer = QTimer(self)  # created here, so it fires on this thread
        self.timer.setInterval(self.poll_ms)
        self.timer.timeout.connect(self.check)
        started = time.perf_counter()
        gen = self.generation
        try:
            self.reader = run_access.mlflow_reader(self.root) or run_access.open_mlflow(self.root)
            self.token = self.reader.changed_token()
            runs, unreadable = self.reader.scan()
        except (MlflowStoreError, OSError, ValueError) as e:
            self.status.emit(gen, f"Cannot read the MLflow store {self.root}: {e}")
            self.loaded.emit(gen, Snapshot(self.root))
            return
        if self.stop.is_set():
            return
        run_access.remember_runs(self.reader, [*runs, *unreadable])
        self.runs = {_id(r): r for r in (*runs, *unreadable)}
        self.experiment_list = self._experiments()
        self.watching.emit(gen, f"polling (MLflow store, every {self.poll_ms / 1000:g} s)")
        # (the store's kind is in the window's permanent label, not repeated here)
        self.status.emit(gen, f"Loaded {len(runs):,} run{'s' if len(runs) != 1 else ''} from {self.root}" if self.runs
                         else f"No runs in {self.root} yet")
        self.made = MadeRuns(self.root)
        self.loaded.emit(gen, self.made.snapshot([*runs, *unreadable], self.experiment_list,
                                                 time.perf_counter() - started))
        self.timer.start()
        self._to_warm = [r for r in runs if isinstance(r, Run)]
        QTimer.singleShot(0, self, self._warm)

    @Slot()
    def _warm(self) -> None:
        """Read the listed runs' params, tags and metrics here, a batch per pass, rather than on the
        GUI thread when a sort or filter first asks (a file store keeps ~13 files a run)."""
        batch, self._to_warm = self._to_warm[:WARM_BATCH], self._to_warm[WARM_BATCH:]
        if self.stop.is_set():
            return
        for run in batch:
            run.data.params, run.data.tags, run.data.metrics  # noqa: B018 (reading is the point)
        if self._to_warm:
            QTimer.singleShot(0, self, self._warm)

    def _experiments(self) -> list[Experiment]:
        runs = [r for r in self.runs.values() if isinstance(r, Run)]
        try:
            return self.reader.search_experiments(runs)
        except (OSError, ValueError):
            return self.experiment_list

    @Slot(int, list, bool, bool)
    def sync(self, generation: int, names: list, rescan: bool, experiments: bool) -> None:
        """File events never come for an MLflow store (it is polled); here for RunsSource's contract."""

    @Slot()
    def check(self) -> None:
        """Every POLL_MS: the whole list when the token moved, else only the runs still RUNNING."""
        if self.stop.is_set() or self.reader is None:
            return
        gen = self.generation
        token = self.reader.changed_token()
        if token != self.token and time.monotonic() >= self._next_rescan:
            self.token = token
            started = time.monotonic()
            self._rescan()
            # A SQLite store's token moves with every metric logged: listing 10,000 runs (~0.5 s)
            # each second would keep a core busy, so a long listing waits a while before the next.
            self._next_rescan = time.monotonic() + RESCAN_SPACING * (time.monotonic() - started)
            return
        running = [rid for rid, r in self.runs.items()
                   if isinstance(r, Run) and r.info.status == RunStatus.RUNNING]
        changed = []
        for run_id in running:
            fresh = self._get(run_id)
            if fresh is not None and not _same(self.runs.get(run_id), fresh):
                changed.append(fresh)
        if changed:
            self._take(changed, [])
            if gen == self.generation:
                self.changed.emit(gen, self.made.update(changed, []))

    def _get(self, run_id: str) -> Run | UnreadableRun | None:
        try:
            return self.reader.get_run(run_id)
        except LookupError:
            return None
        except (ValueError, OSError) as e:
            old = self.runs.get(run_id)
            return UnreadableRun(run_id, old.path if old is not None else "", f"MLflow run is damaged: {e}")

    def _rescan(self) -> None:
        gen = self.generation
        try:
            runs, unreadable = self.reader.scan()
        except (OSError, ValueError) as e:
            self.status.emit(gen, f"Cannot read the MLflow store {self.root}: {e}")
            return
        found = {_id(r): r for r in (*runs, *unreadable)}
        removed = [rid for rid in self.runs if rid not in found]
        changed = []
        for rid, run in found.items():
            old = self.runs.get(rid)
            if old is None or type(old) is not type(run):
                changed.append(run)
            elif isinstance(run, Run) and (old.info != run.info or run.info.status == RunStatus.RUNNING):
                if not _same(old, run):
                    changed.append(run)
        self._take(changed, removed)
        if removed or changed:
            self.changed.emit(gen, self.made.update(changed, removed))
        found_experiments = self._experiments()
        if found_experiments != self.experiment_list:
            self.experiment_list = found_experiments
            self.experiments.emit(gen, found_experiments)

    def _take(self, changed: list, removed: list[str]) -> None:
        for rid in removed:
            self.runs.pop(rid, None)
        for run in changed:
            self.runs[_id(run)] = run
        run_access.remember_runs(self.reader, changed)
