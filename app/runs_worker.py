"""The loading worker behind ``RunsSource``: all of the source's disk access, on its own thread.

It loads through the index, re-reads the runs that file events name, re-checks RUNNING
and unreadable runs every ``CHECK_MS``, and keeps the watchdog watches in step with the
runs that need them. Messages carry the generation of the ``open`` that started it.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tracker import store
from tracker.entities import Experiment, Run, RunStatus, UnreadableRun
from tracker.index import IndexUnavailable, RunIndex

from .run_rows import Row, base_order, common_columns, prepare_rows, start_order
from .watch_bridge import WatchBridge

if TYPE_CHECKING:
    from .watcher import RunsWatcher

CHECK_MS = 2000  # re-check RUNNING and unreadable runs, and whether the root still exists
RESCAN_EVERY = 5  # every 5th check also lists the root (a safety net for lost events)


@dataclass
class Snapshot:
    root: Path
    runs: list[Run] = field(default_factory=list)
    unreadable: list[UnreadableRun] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    index_path: Path | None = None  # where the index lives (None: read without one)
    seconds: float = 0.0  # how long loading took
    # the runs table's rows (app.run_rows.prepare_rows), built here so the GUI thread need not;
    # None: build them from runs and unreadable
    rows: list | None = None
    # Also worked out here, so that the pass of the GUI thread that fills the table stays
    # short (the rule is 100 ms, and painting the table alone takes ~40 ms, measured):
    colors: list[str] | None = None  # run ids in the order run colors go (app.run_rows.start_order)
    columns: list[str] | None = None  # the most common param and metric columns (common_columns)


def _key(run: Run | UnreadableRun) -> str:
    """The run's directory name (what watchers and the index know it by)."""
    path = run.path
    if os.altsep is None:  # what os.path.basename does there, without its calls (10,000 runs: ~30 ms)
        return path[path.rfind(os.sep) + 1:]
    return os.path.basename(path)


def _public_id(run: Run | UnreadableRun) -> str:
    """The id the views know the run by."""
    return run.info.run_id if isinstance(run, Run) else run.run_id


def _same(a: Run | UnreadableRun | None, b: Run | UnreadableRun) -> bool:
    """Equal runs, with NaN metric values equal to each other (dataclass equality says NaN != NaN)."""
    if a is None or type(a) is not type(b):
        return False
    if a == b:
        return True
    if not isinstance(a, Run):
        return False
    if a.info != b.info or a.path != b.path or a.data.params != b.data.params or a.data.tags != b.data.tags:
        return False
    sa, sb = a.data.summaries, b.data.summaries
    if sa.keys() != sb.keys():
        return False
    for k, x in sa.items():
        y = sb[k]
        for u, v in ((x.last, y.last), (x.min, y.min), (x.max, y.max)):
            if u != v and not (isinstance(u, float) and isinstance(v, float) and math.isnan(u) and math.isnan(v)):
                return False
        if (x.count, x.last_step, x.last_timestamp) != (y.count, y.last_step, y.last_timestamp):
            return False
    return True


def _needs_watching(run: Run | UnreadableRun) -> bool:
    return isinstance(run, UnreadableRun) or run.info.status == RunStatus.RUNNING


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
    """Lives on the worker thread: owns the index, the watcher and the known runs of one directory."""

    progress = Signal(int, int, int)  # generation, done, total
    loaded = Signal(int, object)  # generation, Snapshot
    changed = Signal(int, list)
    removed = Signal(int, list)
    status = Signal(int, str)
    experiments = Signal(int, list)
    watching = Signal(int, str)  # generation, watch mode

    def __init__(self, root: Path, generation: int, bridge: WatchBridge, stop: threading.Event,
                 watching: Watching, polling: bool | None, poll_interval: float | None, check_ms: int) -> None:
        super().__init__()
        self.root = root
        self.generation = generation
        self.bridge = bridge
        self.stop = stop
        self.polling = polling
        self.poll_interval = poll_interval
        self.check_ms = check_ms
        self.index = RunIndex(root)
        self.use_index = True
        self.watching_state = watching
        self.runs: dict[str, Run | UnreadableRun] = {}  # by directory name
        self.experiment_list: list[Experiment] = []
        self.gone = False  # the root is missing (never there, or deleted while open)
        self.denied = False  # listing the root failed with a permission error (said once)
        self.checks = 0
        self.timer: QTimer | None = None

    # -- loading ------------------------------------------------------------------------------
    @Slot()
    def load(self) -> None:
        self.timer = QTimer(self)  # created here, so it lives and fires on this thread
        self.timer.setInterval(self.check_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self._load()

    def _load(self) -> None:
        started = time.perf_counter()
        gen = self.generation
        root = self.root
        problem = self._root_problem()
        if problem is not None:
            self.gone = True
            self.status.emit(gen, problem)
            self.loaded.emit(gen, Snapshot(root))
            return
        self.gone = False
        try:
            result = self._read_all()
            if result is not None:
                rows = prepare_rows([*result[0], *result[1]])  # the table's rows, off the GUI thread
                colors, columns = start_order(rows), common_columns(result[0])
        except PermissionError:
            self.status.emit(gen, f"Permission denied: cannot list {root}")
            self.loaded.emit(gen, Snapshot(root))
            return
        except OSError as e:  # vanished meanwhile, I/O errors, a stale network handle
            self.status.emit(gen, f"Cannot read {root}: {e.strerror or e}")
            self.loaded.emit(gen, Snapshot(root))
            return
        if result is None:  # close() asked us to stop
            return
        runs, unreadable, index_path = result
        self.runs = {_key(r): r for r in (*runs, *unreadable)}
        self.experiment_list = self._read_experiments()
        if not self.runs:
            self.status.emit(gen, f"No runs in {root} yet: they appear here as soon as a script logs one")
        elif unreadable and len(unreadable) == len(self.runs):
            self.status.emit(gen, f"None of the {len(unreadable):,} run directories in {root} could be read")
        newly_watched = self._watch_runs()
        snapshot = Snapshot(root, runs, unreadable, self.experiment_list, index_path,
                            time.perf_counter() - started, rows, colors, columns)
        self.loaded.emit(gen, snapshot)
        if newly_watched:  # changed between reading them and watching them?
            self._apply(newly_watched, rescan=False, experiments=False)

    def _progress(self, done: int, total: int) -> None:
        self.progress.emit(self.generation, done, total)

    def _read_all(self) -> tuple[list[Run], list[UnreadableRun], Path | None] | None:
        """Every run (None: close() asked us to stop)."""
        progress = self._progress
        self._start_watcher()  # before reading, so runs created meanwhile are not missed
        if self.use_index:
            try:
                result = self.index.refresh(progress, self.stop.is_set)
                return None if result.cancelled else (result.runs, result.unreadable, result.path)
            except IndexUnavailable as e:
                self.use_index = False
                self.status.emit(self.generation, f"Reading without an index ({e}); this may be slow")
        runs, unreadable = [], []
        entries = store.list_run_dirs(str(self.root))
        for n, (_, path) in enumerate(entries, 1):
            if self.stop.is_set():
                return None
            result = store.read_run(path)
            (runs if isinstance(result, Run) else unreadable).append(result)
            if n % 250 == 0:
                progress(n, len(entries))
        return runs, unreadable, None

    def _read(self, names: list[str]) -> list[Run | UnreadableRun]:
        if self.use_index:
            try:
                return self.index.update(names)
            except IndexUnavailable:
                self.use_index = False
        out = []
        for name in names:
            path = self.root / name
            if store.is_run_dir_name(name) and path.is_dir() and not path.is_symlink():
                out.append(store.read_run(path))
        return out

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

    def _read_experiments(self) -> list[Experiment]:
        try:
            return store.read_experiments(self.root, [r for r in self.runs.values() if isinstance(r, Run)])
        except OSError:
            return self.experiment_list

    # -- watching -------------------------------------------------------------------------------
    def _start_watcher(self) -> None:
        if self.stop.is_set():
            return
        from .watcher import RunsWatcher  # here, on this thread: watchdog takes ~30 ms to import

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
            running = RunStatus.RUNNING
            return state.watcher.watch_runs([name for name, run in self.runs.items()  # _needs_watching, inlined
                                             if type(run) is UnreadableRun or run.info.status == running])

    # -- keeping up -----------------------------------------------------------------------------
    @Slot(int, list, bool, bool)
    def sync(self, generation: int, names: list, rescan: bool, experiments: bool) -> None:
        """Re-read the named runs; with ``rescan``, also list the root for runs added or removed."""
        if generation != self.generation or self.stop.is_set():
            return
        if self._check_root():
            self._apply(set(names), rescan, experiments)

    @Slot()
    def check(self) -> None:
        """Every CHECK_MS: runs still RUNNING (a dead writer reads KILLED) or unreadable, and the root."""
        self.checks += 1
        if self.stop.is_set() or not self._check_root():
            return
        names = {name for name, run in self.runs.items() if _needs_watching(run)}
        self._apply(names, rescan=self.checks % RESCAN_EVERY == 0, experiments=False)

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
            gone = [_public_id(run) for run in self.runs.values()]
            self.runs.clear()
            if problem.endswith("does not exist"):
                problem = f"{self.root} was deleted or moved; its runs are no longer listed"
            self.status.emit(gen, problem)
            if gone:
                self.removed.emit(gen, gone)
        return False

    def _apply(self, names: set[str], rescan: bool, experiments: bool) -> None:
        gen = self.generation
        removed: list[str] = []
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
            known = set(self.runs)
            names |= on_disk - known
            removed.extend(known - on_disk)
            names -= set(removed)
        results = self._read(sorted(names)) if names else []
        got = {_key(r): r for r in results}
        removed.extend(name for name in names if name not in got and name in self.runs)
        changed = [run for name, run in got.items() if not _same(self.runs.get(name), run)]
        membership = bool(removed) or any(name not in self.runs for name in got)
        renamed = any(isinstance(r, Run) and isinstance(self.runs.get(_key(r)), Run)
                      and self.runs[_key(r)].info.experiment != r.info.experiment for r in changed)
        gone_ids = [_public_id(self.runs.pop(name)) for name in removed if name in self.runs]
        self.runs.update((_key(r), r) for r in changed)
        # Watch new RUNNING runs before anyone hears of them: a writer that flushes as soon
        # as its run is shown must not slip in between our read and the watch.
        newly_watched = self._watch_runs() if changed or gone_ids else set()
        if gone_ids:
            self.removed.emit(gen, gone_ids)
        if changed:
            self.changed.emit(gen, changed)
        if membership or renamed or experiments:
            found = self._read_experiments()
            if found != self.experiment_list:
                self.experiment_list = found
                self.experiments.emit(gen, found)
        if newly_watched:  # what changed between reading them and watching them (usually nothing)
            self._apply(newly_watched, rescan=False, experiments=False)
