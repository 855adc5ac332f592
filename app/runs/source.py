"""The app's single source of runs: loads a runs directory off the GUI thread and keeps it live.

Views never touch the disk: they connect to these signals and receive the runs as a
``tracker.index.RunTable`` (``Run`` objects are made from it only for what needs a whole run).

Contract (stable; the UI builds on it):
- ``open(root)``: start loading ``root``; emits ``loaded(snapshot)`` with the table (the stored
  one first, unchecked, when the directory has an index; else, for many runs, the runs read
  so far with ``snapshot.partial``), and ``progress(done, total)`` while runs are checked or
  read. ``open(None)`` closes.
- ``runs_changed(RunsUpdate)``: a newer table, with the run ids that appeared or changed on disk
  and those that went (checking the stored table, reading the rest, live updates).
- ``runs_removed(list[str])``: run ids whose directories disappeared (also in ``runs_changed``).
- ``status(str)``: a human message for the status bar (errors included: a missing or
  unreadable directory, permission problems, an empty directory).
- ``close()``: stop workers and watchers and join them (tests call it).
Added: ``experiments_changed(list[Experiment])`` when the experiments or their run counts
change after loading; ``watch_mode`` says "inotify" or "polling (why)", and ``watch_status(text, tooltip)``
says it in the user's words while the folder is polled ("Watching by polling every 2 s (network folder)";
empty text when file events arrive). ``set_poll_interval(seconds)`` changes the polling interval at once
(``app.runs.watch_mode`` decides it otherwise: ``TRACKER_POLL_INTERVAL``, Preferences, 2 s).
``trash_changed(TrashContents)``: the deleted runs (``.trash/``), after loading and when they change.
``reread(run_ids)``: re-read these runs and the trash now (after this process edited them); every
source of this process showing the same directory does so too (``app.runs.edits_hub``).
An MLflow store (``mlruns/`` or an MLflow SQLite database) opens the same way, read-only:
``mlflow_kind`` is then "file" or "sqlite" and ``app/runs/mlflow_loading.py`` loads and polls it.

How (see tracker/index/ and app/runs/watcher.py):
- One worker QObject (``app/runs/loading.py``), hosted on its own thread by ``app.common.worker``,
  does all disk access: the stored table (``tracker.index.RunIndex.load``) and its check
  (``RunIndex.refresh``), targeted re-reads (``RunIndex.patch``), a re-check every ``CHECK_MS``
  of the runs still RUNNING or unreadable (a SIGKILLed writer sends no file event, yet reads
  KILLED), and saving the table.
- watchdog watches the root without recursion plus each RUNNING run's directory; its
  events come through ``WatchBridge`` (created here, in the GUI thread), collect in a set,
  and a restartable single-shot QTimer (``DEBOUNCE_MS``, never postponed beyond
  ``MAX_DELAY_MS``) sends them to the worker in one batch.
- Every message from the worker carries the generation of the ``open`` that started it;
  anything from an earlier generation is dropped, so a reopen never mixes directories.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot


from app.common.next_frame import after_next_frame
from app.common.worker import Worker
from app.runs import access as run_access
from app.runs.mlflow_loading import MlflowLoadWorker
from app.runs.loading import CHECK_MS, LoadWorker, RunsUpdate, Snapshot, Watching
from app.runs import edits_hub, watch_mode
from app.runs.watch_bridge import EDITED, EXPERIMENTS, GONE, ROOT, RUN, TRASH, WatchBridge

DEBOUNCE_MS = 150  # quiet time after the last file event before re-reading
MAX_DELAY_MS = 600  # ...but never later than this after the first one (steady writers)


class RunsSource(QObject):
    progress = Signal(int, int)
    loaded = Signal(object)  # Snapshot
    runs_changed = Signal(object)  # RunsUpdate
    runs_removed = Signal(list)
    status = Signal(str)
    experiments_changed = Signal(list)  # list[Experiment], after loading
    trash_changed = Signal(object)  # TrashContents: the deleted runs
    watch_status = Signal(str, str)  # how the folder is watched, for the status bar: text, tooltip

    _sync_requested = Signal(int, list, bool, bool, bool)

    def __init__(self, parent: QObject | None = None, *, polling: bool | None = None,
                 poll_interval: float | None = None, check_ms: int = CHECK_MS,
                 debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.polling = polling  # None: decide (inotify unless missing, exhausted, remote or TRACKER_POLLING)
        self.poll_interval = poll_interval  # None: watch_mode.poll_interval() decides at each open
        self.poll_seconds = watch_mode.DEFAULT_SECONDS  # what the open folder is polled with, when it is
        self.check_ms = check_ms
        self.watch_mode = ""  # "inotify" or "polling (why)", once watching
        self.mlflow_kind: str | None = None  # "file" or "sqlite" while an MLflow store is open
        self._generation = 0
        self._thread: Worker | None = None  # the loader's thread (app.common.worker), one per open()
        self._worker: LoadWorker | MlflowLoadWorker | None = None
        self._stop = threading.Event()
        self._watching = Watching()
        self._bridge = WatchBridge(self)  # here, in the GUI thread
        self._bridge.event.connect(self._on_file_event)
        self._pending: set[str] = set()
        self._rescan = False
        self._experiments_dirty = False
        self._trash_dirty = False
        self._first_pending = 0.0
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._flush_events)
        app = QCoreApplication.instance()
        if app is not None:  # watchdog's threads and the loader's end before the application does
            app.aboutToQuit.connect(self.close)
        edits_hub.hub().edited.connect(self._on_edited)

    def open(self, root: str | Path | None) -> None:
        self.close()
        self.root = Path(root).expanduser().absolute() if root is not None else None
        if self.root is None:
            return
        self._generation += 1
        self._stop = threading.Event()
        self._watching = Watching()
        self.mlflow_kind = run_access.mlflow_kind(self.root)
        self.poll_seconds = watch_mode.poll_interval(self.poll_interval)
        if self.mlflow_kind is not None:
            run_access.open_mlflow(self.root)  # now, so the registry panel and details can ask at once
            worker: LoadWorker | MlflowLoadWorker = MlflowLoadWorker(self.root, self._generation, self._stop)
            finish = None
        else:
            worker = LoadWorker(self.root, self._generation, self._bridge, self._stop, self._watching,
                                self.polling, self.poll_seconds, self.check_ms)
            finish = worker.save  # its last table is stored as its thread ends (close)
        self._worker = worker
        self._thread = Worker("RunsSource", self, finish=finish)
        worker.progress.connect(self._on_progress)
        worker.loaded.connect(self._on_loaded)
        worker.changed.connect(self._on_changed)
        worker.status.connect(self._on_status)
        worker.experiments.connect(self._on_experiments)
        worker.watching.connect(self._on_watching)
        if isinstance(worker, LoadWorker):
            worker.trash.connect(self._on_trash)
        self._sync_requested.connect(worker.sync)
        self._thread.host(worker)  # its slots and timers run on the loader's thread from now on
        self._thread.submit(worker.load)

    @Slot()
    def close(self) -> None:
        """Stop the worker and every watchdog thread, and wait for them."""
        self._generation += 1  # whatever is still queued from them is dropped
        self._debounce.stop()
        self._pending.clear()
        self._rescan = self._experiments_dirty = self._trash_dirty = False
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is None:
            return
        if self.mlflow_kind is not None and self.root is not None:
            run_access.forget(self.root)
            self.mlflow_kind = None
        self._stop.set()  # a load in progress returns at its next check
        try:
            self._sync_requested.disconnect(worker.sync)
        except (RuntimeError, TypeError):
            pass
        thread.stop(drain=False)  # joins the thread (the worker stops with the app too)
        self._watching.stop()  # watchdog's threads: stopped and joined
        self._set_watch_mode("")

    def set_poll_interval(self, seconds: float) -> None:
        """Poll every ``seconds`` (clamped to watch_mode's bounds), from the next poll of the open folder on."""
        seconds = watch_mode.parse_seconds(seconds)
        if seconds is None:
            return
        self.poll_interval = self.poll_seconds = seconds
        with self._watching.lock:
            if self._watching.watcher is not None:
                self._watching.watcher.set_poll_interval(seconds)
        self._set_watch_mode(self.watch_mode)

    def _set_watch_mode(self, mode: str) -> None:
        self.watch_mode = mode
        self.watch_status.emit(*watch_mode.describe(mode, self.poll_seconds))

    @property
    def watched_runs(self) -> set[str]:
        """Run directories watched individually (for tests and diagnostics)."""
        with self._watching.lock:
            watcher = self._watching.watcher
            return watcher.watched_runs if watcher is not None else set()

    # -- from the worker ------------------------------------------------------------------------
    @Slot(int, int, int)
    def _on_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation:
            self.progress.emit(done, total)

    @Slot(int, object)
    def _on_loaded(self, generation: int, snapshot: Snapshot) -> None:
        if generation == self._generation:
            self.loaded.emit(snapshot)
            self._taken()

    @Slot(int, object)
    def _on_changed(self, generation: int, update: RunsUpdate) -> None:
        if generation == self._generation:
            self.runs_changed.emit(update)
            if update.removed and generation == self._generation:
                self.runs_removed.emit(update.removed)
            self._taken()

    def _taken(self) -> None:
        """Tell the loader its table is in once the window has painted it (``LoadWorker.taken``)."""
        taken = getattr(self._worker, "taken", None)
        if taken is not None:
            after_next_frame(taken.set)

    @Slot(int, str)
    def _on_status(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.status.emit(message)

    @Slot(int, list)
    def _on_experiments(self, generation: int, experiments: list) -> None:
        if generation == self._generation:
            self.experiments_changed.emit(experiments)

    @Slot(int, str)
    def _on_watching(self, generation: int, mode: str) -> None:
        if generation == self._generation:
            self._set_watch_mode(mode)

    @Slot(int, object)
    def _on_trash(self, generation: int, contents: object) -> None:
        if generation == self._generation:
            self.trash_changed.emit(contents)

    # -- edits made by this process ---------------------------------------------------------------
    @Slot(list)
    def reread(self, run_ids: list[str]) -> None:
        """Re-read these runs and the trash now, without waiting for file events (this process edited
        them); tells every source of this process, so each window showing the directory follows."""
        if self.root is not None:
            edits_hub.hub().edited.emit(str(self.root), list(run_ids))

    @Slot(str, list)
    def _on_edited(self, root: str, run_ids: list) -> None:
        if self._worker is None or self.mlflow_kind is not None or self.root is None or str(self.root) != root:
            return
        self._pending.update(run_ids)
        self._trash_dirty = True
        self._flush_events()

    # -- from watchdog, through the bridge ---------------------------------------------------
    @Slot(object)
    def _on_file_event(self, event: tuple) -> None:
        generation, kind, name = event
        if generation != self._generation or self._worker is None:
            return
        if kind == RUN:
            self._pending.add(name)
        elif kind == ROOT:
            self._pending.add(name)
            self._rescan = True
        elif kind == EXPERIMENTS:
            self._experiments_dirty = True
        elif kind == TRASH:
            self._trash_dirty = True
        elif kind == GONE:
            self._rescan = True  # the worker finds the root missing and says so
        elif kind == EDITED:
            self._rescan = True  # the rescan looks for edited runs now that the note says there are
        now = time.monotonic()
        if not self._debounce.isActive():
            self._first_pending = now
            self._debounce.start()
        elif (now - self._first_pending) * 1000 < MAX_DELAY_MS - self._debounce.interval():
            self._debounce.start()  # restart: wait for the burst to end, within MAX_DELAY_MS

    @Slot()
    def _flush_events(self) -> None:
        if self._worker is None:
            return
        names, self._pending = sorted(self._pending), set()
        rescan, self._rescan = self._rescan, False
        experiments, self._experiments_dirty = self._experiments_dirty, False
        trash, self._trash_dirty = self._trash_dirty, False
        self._debounce.stop()
        self._sync_requested.emit(self._generation, names, rescan, experiments, trash)
