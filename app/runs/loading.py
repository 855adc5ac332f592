"""The loading worker behind ``RunsSource``: all of the source's disk access, on its own thread.

Opening a directory shows the stored table first (``RunIndex.load``: one file, tens of
milliseconds), then checks it against the directory (``RunIndex.refresh``: a stat per run)
and hands over what changed while the app was closed. Without a stored table, partial tables
are handed over while the runs are read. Afterwards it re-reads the runs that file events
name, re-checks RUNNING and unreadable runs every ``CHECK_MS`` (``RunIndex.patch``), keeps the
watchdog watches in step with the runs that need them, and saves the table when it changed
(at most every ``SAVE_MS``, and when the source closes). Messages carry the generation of the
``open`` that started it.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tracker import store
from tracker.entities import Experiment
from tracker.index import IndexUnavailable, RunIndex, RunTable
from tracker.index.table import experiment_counts
from tracker.store import layout

from app.runs import trash_contents

from app.runs.snapshot import (  # noqa: F401  (Snapshot, RunsUpdate and same_run are the workers' shared vocabulary)
    RunsUpdate, Snapshot, prepare, same_run, snapshot_of, table_changes, table_changes_rows,
)
from app.runs.watch_bridge import WatchBridge

if TYPE_CHECKING:
    from app.runs.watcher import RunsWatcher

CHECK_MS = 2000  # re-check RUNNING and unreadable runs, and whether the root still exists
RESCAN_EVERY = 5  # every 5th check also lists the root (a safety net for lost events)
SAVE_MS = 10_000  # a table changed by live updates is saved at most this often (and at close)
EDIT_CHECK_SHARE = 0.01  # looking for edits of unwatched runs takes at most this share of the loader's time
EDIT_CHECK_MAX_S = 0.5  # the opening's time counted as a look for edits (a first open reads every run)
# While a load goes on, the loader waits after handing a table over until the GUI thread has taken
# it in and painted it, at most this long. Both threads need the GIL: a repaint makes ~1,100 calls
# into Python, and each waited for the loading thread to let the GIL go (10,000 runs read on a
# first open: the GUI thread was unresponsive for 61-72 ms when the first rows came, 36-51 ms with
# the loader waiting; 100,000 runs: 97-110 ms, 70-73 ms).
TAKEN_WAIT_S = 0.25

_same = same_run  # (the MLflow worker's name for it)


def needs_watching(table: RunTable) -> list[str]:
    """The run folders still RUNNING or unreadable."""
    mask = table.text["reason"].present()
    status = table.text["status"]
    if "RUNNING" in status.uniques:
        mask = mask | (status.codes == status.uniques.index("RUNNING"))
    return table.text["dir"].values(np.flatnonzero(mask)).tolist()


class Watching:
    """The watcher of one open directory, shared by the worker (which starts and steers it)
    and RunsSource (which stops it in close(), after the worker's thread has ended)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watcher: RunsWatcher | None = None

    def replace(self, watcher: RunsWatcher | None) -> None:
        with self.lock:
            old, self.watcher = self.watcher, watcher
        if old is not None:
            old.stop()

    def stop(self) -> None:
        self.replace(None)


class LoadWorker(QObject):
    """Lives on the worker thread: owns the index, the watcher and the table of one directory."""

    progress = Signal(int, int, int)  # generation, done, total
    loaded = Signal(int, object)  # generation, Snapshot
    changed = Signal(int, object)  # generation, RunsUpdate
    status = Signal(int, str)
    experiments = Signal(int, list)
    watching = Signal(int, str)  # generation, watch mode
    trash = Signal(int, object)  # generation, TrashContents (the deleted runs), when they change

    def __init__(self, root: Path, generation: int, bridge: WatchBridge, stop: threading.Event,
                 watching: Watching, polling: bool | None, poll_interval: float | None, check_ms: int,
                 save_ms: int | None = None) -> None:
        super().__init__()
        self.root = root
        self.generation = generation
        self.bridge = bridge
        self.stop = stop
        self.polling = polling
        self.poll_interval = poll_interval
        self.check_ms = check_ms
        self.save_ms = SAVE_MS if save_ms is None else save_ms
        self.index = RunIndex(root, keep=False)  # (its own table is self.table)
        self.index_path: Path | None = None
        self.watching_state = watching
        self.table = RunTable.empty(str(root))  # the table the GUI has (the last one handed over)
        self.base: np.ndarray | None = None  # its rows in base order
        self.shown = False  # a table of this load was handed over
        self._partial = False  # ...and it held only the runs read so far
        self._reading = False  # runs are being read (not only checked): progress is shown
        self.last_changes: tuple[list[str], list[str]] = ([], [])  # of the last table compared
        self.dirty = False  # changed since the index last stored it
        self.experiment_list: list[Experiment] = []
        self.counts: dict = {}
        self.gone = False  # the root is missing (never there, or deleted while open)
        self.denied = False  # listing the root failed with a permission error (said once)
        self.checks = 0
        self.trash_shown: trash_contents.TrashContents | None = None  # the deleted runs last handed over
        self.next_edit_check = 0.0  # (time.monotonic) when _edited looks again
        self.edits_seen: int | None = None  # the edits note's time at the last look
        self.taken = threading.Event()  # set by the GUI thread once it has shown a table handed over
        self.started = 0.0
        self.timer: QTimer | None = None
        self.save_timer: QTimer | None = None

    # -- loading ------------------------------------------------------------------------------
    @Slot()
    def load(self) -> None:
        self.timer = QTimer(self)  # created here, so it lives and fires on this thread
        self.timer.setInterval(self.check_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(self.save_ms)
        self.save_timer.timeout.connect(self.save)
        self._load()

    def _load(self) -> None:
        self.started = time.perf_counter()
        gen, root = self.generation, self.root
        self.table, self.shown, self.base = RunTable.empty(str(root)), False, None
        problem = self._root_problem()
        if problem is not None:
            self.gone = True
            self.status.emit(gen, problem)
            self.loaded.emit(gen, Snapshot(root))
            return
        self.gone = False
        self._start_watcher()  # before reading, so runs created meanwhile are not missed
        cached = self._cached()
        if cached is not None and cached.n:
            self._show(cached, self.index.path)  # the window fills now; checking the runs comes after
        self._reading = not self.shown  # checking a stored table says nothing until a run must be read
        noted, checking = layout.edits_noted(str(root)), time.perf_counter()
        try:
            result = self.index.refresh(self._progress, self.stop.is_set, None if self.shown else self._on_partial,
                                        table=cached if cached is not None else RunTable.empty(str(root)))
        except PermissionError:
            self._failed(f"Permission denied: cannot list {root}")
            return
        except OSError as e:  # vanished meanwhile, I/O errors, a stale network handle
            self._failed(f"Cannot read {root}: {e.strerror or e}")
            return
        if result.cancelled or self.stop.is_set():  # close() asked us to stop
            return
        # The refresh has just compared every run.json with the table: the next look for edits of
        # unwatched runs (_edited) is due one spacing from now, not at the first change (at 100,000
        # runs that look is ~0.45 s, and it held up the first new run). An edit noted meanwhile is
        # still looked for at once.
        self.edits_seen = noted
        spent = min(time.perf_counter() - checking, EDIT_CHECK_MAX_S)
        self.next_edit_check = time.monotonic() + spent / EDIT_CHECK_SHARE
        table, self.index_path = result.table, result.path
        unreadable = int(np.count_nonzero(table.text["reason"].present()))
        if not table.n:
            self.status.emit(gen, f"No runs in {root} yet: they appear here as soon as a script logs one")
        elif unreadable == table.n:
            self.status.emit(gen, f"None of the {unreadable:,} run directories in {root} could be read")
        if not self.shown:
            self._read_experiments(table)
            self.table = table
            newly_watched = self._watch_runs()  # before anyone hears of the runs (see _hand_over)
            self._show(table, self.index_path)
        else:
            was_partial = self._partial
            newly_watched = self._hand_over(table, complete=was_partial, watch=True)
            if newly_watched is None:
                newly_watched = self._watch_runs()
            elif not was_partial:  # the stored table was shown: say what changed since
                changed, removed = self.last_changes
                self.status.emit(gen, f"{len(changed):,} run{'s' if len(changed) != 1 else ''} new or changed, "
                                      f"{len(removed):,} gone since {root.name or root} was last open")
            if was_partial and table.n and unreadable < table.n:
                seconds = time.perf_counter() - self.started
                self.status.emit(gen, f"Loaded {table.n - unreadable:,} runs in {seconds:.1f} s"
                                 + (f"; {unreadable:,} could not be read" if unreadable else ""))
        if newly_watched:  # changed between reading them and watching them?
            self._apply(newly_watched, rescan=False, experiments=False)
        self.read_trash()

    def _cached(self) -> RunTable | None:
        try:
            return self.index.load()
        except IndexUnavailable as e:
            self.status.emit(self.generation, f"Reading without an index ({e}); this may be slow")
            return None

    def _show(self, table: RunTable, index_path: Path | None, partial: bool = False) -> None:
        if not self.experiment_list:
            self._read_experiments(table)
        self.table, self.shown, self._partial = table, True, partial
        snapshot = snapshot_of(self.root, table, self.experiment_list, index_path,
                               time.perf_counter() - self.started, partial)
        self.base = snapshot.base
        self.taken.clear()
        self.loaded.emit(self.generation, snapshot)
        self._wait_taken()

    def _wait_taken(self) -> None:
        """Let the GUI thread take in the table just handed over before reading on (TAKEN_WAIT_S)."""
        if not self.stop.is_set():
            self.taken.wait(TAKEN_WAIT_S)

    def _on_partial(self, table: RunTable) -> None:
        """Called by ``refresh`` while it reads many runs: show what is read so far (it offers a
        table only once the runs read have grown by half, so the copies cost time linear in all)."""
        if self.stop.is_set():
            return
        if not self.shown:
            self._read_experiments(table)
            self._show(table, self.index.path, partial=True)
        else:
            self.taken.clear()
            if self._hand_over(table) is not None:
                self._wait_taken()

    def _failed(self, message: str) -> None:
        self.status.emit(self.generation, message)
        self.table, self.shown, self.base = RunTable.empty(str(self.root)), False, None
        self.loaded.emit(self.generation, Snapshot(self.root))

    def _progress(self, done: int, total: int) -> None:
        if done < total:
            self._reading = True
        if self._reading:
            self.progress.emit(self.generation, done, total)

    def _hand_over(self, table: RunTable, names: set[str] | None = None, complete: bool = False,
                   watch: bool = False) -> set[str] | None:
        """Send ``table`` to the GUI when it differs from the one it has (or ``complete`` says a load
        ended); None when it did not. With ``watch``, the runs that need it are watched first, and
        those newly watched are returned."""
        changed, removed, rows = table_changes_rows(self.table, table, names)
        self.last_changes = (changed, removed)
        if not changed and not removed and not complete:
            return None
        base = prepare(table, (self.table, self.base, rows) if self.base is not None else None)
        self.table, self.base = table, base
        # Watch new RUNNING runs before anyone hears of them: a writer that flushes as soon as
        # its run is shown must not slip in between our read and the watch.
        newly_watched = self._watch_runs() if watch else set()
        self.changed.emit(self.generation, RunsUpdate(table, changed, removed, base, complete, rows=rows))
        if changed or removed:
            self._experiments_after_change(False)
        return newly_watched

    def _root_problem(self) -> str | None:
        root = self.root
        try:
            if root.is_dir():
                if not os.access(root, os.R_OK | os.X_OK):
                    return f"Permission denied: cannot read {root}"
                return None
            if root.exists():
                return f"{root} is not a directory"
        except PermissionError:
            return f"Permission denied: cannot reach {root}"
        except OSError as e:
            return f"Cannot reach {root}: {e.strerror or e}"
        except ValueError as e:  # a path no file system can hold (a NUL in it)
            return f"Cannot open {root!r}: {e}"
        return f"{root} does not exist"

    def _read_experiments(self, table: RunTable) -> list[Experiment]:
        self.counts = experiment_counts(table)
        try:
            self.experiment_list = store.read_experiments(self.root, counts=self.counts)
        except OSError:
            pass
        return self.experiment_list

    def _experiments_after_change(self, asked: bool) -> None:
        if asked or experiment_counts(self.table) != self.counts:
            before = self.experiment_list
            if self._read_experiments(self.table) != before:
                self.experiments.emit(self.generation, self.experiment_list)

    # -- saving ---------------------------------------------------------------------------------
    @Slot()
    def save(self) -> None:
        """Store the table when live updates changed it (the index is only a cache: failures are quiet)."""
        if self.dirty and self.shown and not self.gone:
            self.dirty = False
            self.index.save(self.table)

    def _changed_live(self) -> None:
        self.dirty = True
        if self.save_timer is not None and not self.save_timer.isActive():
            self.save_timer.start()  # not restarted by later changes: a steady writer still gets saved

    # -- watching -------------------------------------------------------------------------------
    def _start_watcher(self) -> None:
        if self.stop.is_set():
            return
        from app.runs.watcher import RunsWatcher  # here, on this thread: watchdog takes ~30 ms to import

        watcher = RunsWatcher(self.root, self.bridge, self.generation, self.polling, self.poll_interval)
        try:
            watcher.start()
        except OSError as e:
            watcher.stop()
            self.watching_state.stop()
            self.status.emit(self.generation, f"Not watching {self.root} for changes: {e.strerror or e}")
            return
        self.watching_state.replace(watcher)
        if self.stop.is_set():  # close() came meanwhile and may have missed it
            self.watching_state.stop()
            return
        mode = f"polling ({watcher.polling_reason})" if watcher.polling else "inotify"
        self.watching.emit(self.generation, mode)

    def _watch_runs(self) -> set[str]:
        """Watch the runs still RUNNING or unreadable (and no others); returns those newly watched."""
        state = self.watching_state
        with state.lock:
            if state.watcher is None or self.stop.is_set():
                return set()
            return state.watcher.watch_runs(needs_watching(self.table))

    # -- the trash -------------------------------------------------------------------------------
    def read_trash(self) -> None:
        """Hand over the deleted runs when they differ from those the GUI has (and watch the trash)."""
        if self.stop.is_set() or self.gone:
            return
        with self.watching_state.lock:
            if self.watching_state.watcher is not None:
                self.watching_state.watcher.watch_trash()
        contents = trash_contents.read_trash(self.root)
        if not contents.same_as(self.trash_shown) and (self.trash_shown is not None or contents.count):
            self.trash_shown = contents
            self.trash.emit(self.generation, contents)
        elif self.trash_shown is None:
            self.trash_shown = contents

    # -- keeping up -----------------------------------------------------------------------------
    @Slot(int, list, bool, bool, bool)
    def sync(self, generation: int, names: list, rescan: bool, experiments: bool, trash: bool = False) -> None:
        """Re-read the named runs; with ``rescan``, also list the root for runs added or removed;
        with ``trash``, the deleted runs."""
        if generation != self.generation or self.stop.is_set():
            return
        if self._check_root():
            self._apply(set(names), rescan, experiments)
            if trash:
                self.read_trash()

    @Slot()
    def check(self) -> None:
        """Every CHECK_MS: runs still RUNNING (a dead writer reads KILLED) or unreadable, and the root."""
        self.checks += 1
        if self.stop.is_set() or not self._check_root() or not self.shown:
            return
        self._apply(set(needs_watching(self.table)), rescan=self.checks % RESCAN_EVERY == 0, experiments=False)

    def _check_root(self) -> bool:
        """True while the root can be read. Says so once when it goes; reloads when it is back."""
        problem = self._root_problem()
        if problem is None and not self.gone:
            return True
        gen = self.generation
        if problem is None:  # back (created, restored, permission given): load it afresh
            self.status.emit(gen, f"{self.root} is back; reloading")
            self._load()
            return False
        if not self.gone:
            self.gone = True
            self.watching_state.stop()
            gone = self.table.dirs()
            if problem.endswith("does not exist"):
                problem = f"{self.root} was deleted or moved; its runs are no longer listed"
            if gone:  # (first: whoever reads the message finds the runs gone already)
                self.table, self.base = RunTable.empty(str(self.root)), None
                self.changed.emit(gen, RunsUpdate(self.table, [], gone, prepare(self.table)))
            self.status.emit(gen, problem)
        return False

    def _edited(self, table: RunTable) -> set[str]:
        """Runs whose ``run.json`` was replaced since it was read: edits (a rename, tags) of runs nobody
        watches, made by another process: a stat per run, with rescans, spaced so that it takes at most
        EDIT_CHECK_SHARE of the time (every rescan up to ~20,000 runs here; 100,000 took ~0.45 s: every ~45 s)."""
        noted = layout.edits_noted(str(self.root))
        if noted == self.edits_seen and time.monotonic() < self.next_edit_check:
            return set()  # (an editor that touched the edits note since the last look: look now)
        self.edits_seen = noted
        started = time.perf_counter()
        dirs = table.dirs()
        try:
            keys, found = layout.run_doc_key_arrays(str(self.root), dirs)
        except OSError:
            return set()
        edited = {dirs[i] for i in np.flatnonzero(found & (keys != table.file_key_array()).any(axis=0)).tolist()}
        self.next_edit_check = time.monotonic() + (time.perf_counter() - started) / EDIT_CHECK_SHARE
        return edited

    def _apply(self, names: set[str], rescan: bool, experiments: bool) -> None:
        gen = self.generation
        old = self.table
        if rescan:
            try:
                on_disk = {name for name, _ in store.list_run_dirs(str(self.root))}
            except PermissionError:
                if not self.denied:
                    self.denied = True
                    self.status.emit(gen, f"Permission denied: cannot list {self.root} any more")
                return
            except OSError:
                return  # vanished: the next check says so
            self.denied = False
            known = set(old.dirs())
            names = names | (on_disk - known) | (known - on_disk) | self._edited(old)
        if names or old.has_running():
            newly_watched = self._hand_over(self.index.patch(old, sorted(names)), names, watch=True)
            if newly_watched is not None:
                self._changed_live()
                if newly_watched:  # what changed between reading them and watching them (usually nothing)
                    self._apply(newly_watched, rescan=False, experiments=False)
        if experiments:
            self._experiments_after_change(True)
