"""The loading worker for an MLflow store (``mlruns/`` or ``mlflow.db``), read-only.

It speaks ``LoadWorker``'s signals, so ``RunsSource`` and every view treat both alike. Keeping
up is polling, for both kinds, every ``POLL_MS``: the store's ``changed_token()`` (a few
``stat`` calls) says when runs came, went or changed state (the store is listed again, no
sooner than ``RESCAN_SPACING`` times the last listing took), and the runs still RUNNING are
checked on each poll (metrics appended to an MLflow file store's run touch no folder the token
looks at). The runs come as the reader's ``RunListing``: a table, each run made as an object only
when asked for; a file store's reader reads only the runs whose files changed since its last
listing or the last process's (its cache file). A watchdog watcher is not reused: MLflow's layout
(experiment folders, one file per key) is not the one ``app/runs/watcher.py`` knows, and a 1 s poll
costs well under a millisecond.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tracker.entities import Experiment, RunStatus
from tracker.index import RunTable
from tracker.mlflow_store import MlflowStoreError, MlflowStoreReader
from tracker.mlflow_store.listing import RunListing

from app.runs import access as run_access
from app.runs.snapshot import RunsUpdate, Snapshot, prepare, snapshot_of, table_changes

POLL_MS = 1000
RESCAN_SPACING = 4  # after a listing that took t, the next one waits 4 t (RUNNING runs: every poll)


class MlflowLoadWorker(QObject):
    """Lives on the source's worker thread: owns the reader and the known runs of one MLflow store."""

    progress = Signal(int, int, int)
    loaded = Signal(int, object)
    changed = Signal(int, object)  # RunsUpdate: the runs are handed over as a table
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
        self.table = RunTable.empty(str(root))  # the runs as last handed over
        self.experiment_list: list[Experiment] = []
        self.token: tuple | None = None
        self.timer: QTimer | None = None
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
            stored = self.reader.stored_listing()  # a file store's runs as the last open left them
            listing = stored or self.reader.list_runs(keys_later=True)
        except (MlflowStoreError, OSError, ValueError) as e:
            self.status.emit(gen, f"Cannot read the MLflow store {self.root}: {e}")
            self.loaded.emit(gen, Snapshot(self.root))
            return
        if self.stop.is_set():
            return
        self.table = listing.table
        self.experiment_list = self._experiments()
        self.watching.emit(gen, f"polling (MLflow store, every {self.poll_ms / 1000:g} s)")
        # (the store's kind is in the window's permanent label, not repeated here)
        count = int(np.count_nonzero(~self.table.text["reason"].present()))
        self.status.emit(gen, f"Loaded {count:,} run{'s' if count != 1 else ''} from {self.root}" if self.table.n
                         else f"No runs in {self.root} yet")
        self.loaded.emit(gen, snapshot_of(self.root, self.table, self.experiment_list, None,
                                          time.perf_counter() - started, made=self._made(listing)))
        if stored is not None:  # shown at once: now checked against the store, changed runs patched in
            self._rescan()
        self.reader.settle()  # the reader's keys for its next listing, once the table is on its way
        self.timer.start()

    def _made(self, listing: RunListing):
        """The listing's runs, each routed to this reader when it is made (for the details and charts)."""
        reader = self.reader
        listing.runs.on_made = lambda run: run_access.remember_runs(reader, [run])
        return listing.runs

    def _experiments(self) -> list[Experiment]:
        try:
            return self.reader.search_experiments(self.table)
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
        statuses = self.table.text["status"].values()
        running = self.table.text["dir"].values(np.flatnonzero(statuses == RunStatus.RUNNING)).tolist()
        if running:
            try:
                self._take(self.reader.list_runs(run_ids=running), gen)
            except (OSError, ValueError) as e:
                self.status.emit(gen, f"Cannot read the MLflow store {self.root}: {e}")

    def _rescan(self) -> None:
        gen = self.generation
        try:
            self._take(self.reader.list_runs(), gen)
        except (OSError, ValueError) as e:
            self.status.emit(gen, f"Cannot read the MLflow store {self.root}: {e}")
            return
        found_experiments = self._experiments()
        if found_experiments != self.experiment_list:
            self.experiment_list = found_experiments
            self.experiments.emit(gen, found_experiments)

    def _take(self, listing: RunListing, gen: int) -> None:
        """Hand over the listing's table when a run in it was added, changed or removed."""
        changed, removed = table_changes(self.table, listing.table, set(listing.read))
        self.table = listing.table
        if changed or removed:
            if gen == self.generation:
                self.changed.emit(gen, RunsUpdate(self.table, changed, removed, prepare(self.table),
                                                  made=self._made(listing)))
