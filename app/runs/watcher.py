"""watchdog over a runs directory, bridged into Qt.

What is watched (measured here: recursive inotify over thousands of run directories
overflows the event queue and exhausting ``max_user_watches`` fails silently):

- the root, without recursion: run directories appearing (a writer renames
  ``.tmp-<id>`` to ``<id>``) or disappearing;
- ``experiments/``, without recursion;
- ``.trash/``, without recursion: runs deleted (moved in) or restored (moved out), and their records;
- each directory the caller names (the runs still RUNNING, or not yet readable), without
  recursion: ``run.json`` being replaced means that run changed.

watchdog calls its handlers on its own thread. The handler here only classifies the
event and emits a signal of ``WatchBridge``, a QObject created in the GUI thread, so Qt
queues the call into the GUI thread (``QMetaObject.invokeMethod`` with a Python callable
does not work in PySide6). Everything else (timers, reading) happens on the Qt side.

inotify is used when it is there and has watches to spare; otherwise (no inotify,
a low ``max_user_watches``, ``ENOSPC`` when adding a watch, a network file system where
inotify only sees local changes, or ``TRACKER_POLLING=1``) a ``PollingObserver`` takes over.
"""
from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterable

from watchdog.events import (
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent, FileDeletedEvent,
    FileModifiedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from tracker.store import layout

from app.runs.watch_bridge import EDITED, EXPERIMENTS, GONE, ROOT, RUN, TRASH, WatchBridge

log = logging.getLogger(__name__)

MAX_USER_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
MIN_WATCH_LIMIT = 256  # a max_user_watches below this is treated as exhausted from the start
MAX_RUN_WATCHES = 512  # more active runs than this are re-checked by the periodic check only
POLL_INTERVAL = 1.0  # seconds between polls when polling

# Leave out opened and close-nowrite events (every reader would trigger them) and
# directory-modified events (they repeat every create and delete). Polling reports a
# file changed in place as "modified", inotify as "closed" (after the write).
_INOTIFY_EVENTS = [FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
                   DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
_POLLING_EVENTS = [*_INOTIFY_EVENTS, FileModifiedEvent]

_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs",
               "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "davfs", "fuse.davfs2", "ncpfs", "virtiofs"}

class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: classify, drop what does not matter, emit the rest."""

    def __init__(self, root: str, bridge: WatchBridge, generation: int) -> None:
        super().__init__()
        self.root = root
        self.bridge = bridge
        self.generation = generation
        self.experiments = os.path.join(root, layout.EXPERIMENTS_DIR)
        self.trash = os.path.join(root, layout.TRASH_DIR)

    def dispatch(self, event: FileSystemEvent) -> None:
        hits = [self._classify(event.src_path, event.event_type)]
        dest = getattr(event, "dest_path", "")
        if dest:  # a move: ".tmp-<id>" -> "<id>" is a new run; "<tmp>" -> "run.json" a changed one
            hits.append(self._classify(dest, "created"))
        for hit in dict.fromkeys(h for h in hits if h is not None):
            try:
                self.bridge.event.emit((self.generation, *hit))
            except RuntimeError:  # the bridge is gone: the app is shutting down
                return

    def _classify(self, path: str | bytes, event_type: str) -> tuple[str, str] | None:
        path = os.fsdecode(path)
        if path == self.root:
            return (GONE, "") if event_type in ("deleted", "moved") else None
        parent, name = os.path.split(path)
        if parent == self.root:
            if layout.is_run_dir_name(name):
                return ROOT, name
            if name == layout.EXPERIMENTS_DIR:
                return EXPERIMENTS, ""
            if name == layout.TRASH_DIR:
                return TRASH, ""
            if name == layout.EDITS_NOTE:
                return EDITED, ""
            return None  # the index, temp directories, anything else
        if parent == self.experiments:
            return EXPERIMENTS, ""
        if parent == self.trash:  # a deleted run's folder or its record (not the trash's own index)
            if layout.is_run_dir_name(name) or (name.endswith(".json") and layout.is_run_dir_name(name[:-5])):
                return TRASH, ""
            return None
        grand, run_id = os.path.split(parent)
        if grand == self.root and name == layout.RUN_DOC and layout.is_run_dir_name(run_id):
            return RUN, run_id
        return None


def inotify_problem() -> str | None:
    """Why inotify cannot be used here, or None when it can (always None off Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open(MAX_USER_WATCHES) as f:
            limit = int(f.read().strip())
    except (OSError, ValueError):
        return "inotify is not available"
    if limit < MIN_WATCH_LIMIT:
        return f"fs.inotify.max_user_watches is only {limit}"
    return None


def filesystem_type(path: str) -> str | None:
    """The type of the file system holding ``path`` (Linux, from /proc/self/mounts)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def polling_reason(root: str, polling: bool | None = None) -> str | None:
    """Why ``root`` should be polled rather than watched with inotify (None: inotify is fine)."""
    if polling is not None:
        return "polling was asked for" if polling else None
    if os.environ.get("TRACKER_POLLING", "").strip().lower() not in ("", "0", "false", "no"):
        return "TRACKER_POLLING is set"
    kind = filesystem_type(root)
    if kind in _NETWORK_FS:
        return f"{root} is on a network file system ({kind})"
    return inotify_problem()


class RunsWatcher:
    """The observers of one runs directory (use from one thread at a time); ``stop()`` joins their threads."""

    def __init__(self, root: str | os.PathLike, bridge: WatchBridge, generation: int = 0,
                 polling: bool | None = None, poll_interval: float | None = None) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.handler = _Handler(self.root, bridge, generation)
        self.poll_interval = poll_interval or float(os.environ.get("TRACKER_POLL_INTERVAL") or POLL_INTERVAL)
        self.polling_reason = polling_reason(self.root, polling)
        self.observer: BaseObserver | None = None
        self._runs: dict[str, tuple[BaseObserver, ObservedWatch]] = {}
        self._experiments: ObservedWatch | None = None
        self._trash: ObservedWatch | None = None
        self.exhausted = False  # inotify ran out of watches: further run directories are polled
        self._poller: PollingObserver | None = None

    @property
    def polling(self) -> bool:
        return self.polling_reason is not None

    def start(self) -> None:
        """Watch the root (raises OSError if even polling cannot read it)."""
        if not self.polling:
            try:
                self._start(self._native_observer())
                return
            except OSError as e:
                self.stop()
                self.polling_reason = _describe_inotify_error(e)
            except Exception as e:  # noqa: BLE001  (an unsupported platform, a missing libc symbol)
                self.stop()
                self.polling_reason = f"native file watching failed: {e}"
        self._start(PollingObserver(timeout=self.poll_interval))

    def _native_observer(self) -> BaseObserver:
        from watchdog.observers import Observer
        return Observer()

    def _start(self, observer: BaseObserver) -> None:
        self.observer = observer
        observer.start()
        observer.schedule(self.handler, self.root, recursive=False, event_filter=self._events())
        self._watch_experiments()
        self.watch_trash()

    def _events(self, observer: BaseObserver | None = None) -> list[type[FileSystemEvent]]:
        polled = isinstance(observer or self.observer, PollingObserver)
        return _POLLING_EVENTS if polled else _INOTIFY_EVENTS

    def _watch_experiments(self) -> None:
        path = os.path.join(self.root, layout.EXPERIMENTS_DIR)
        if self._experiments is None and os.path.isdir(path):
            try:
                self._experiments = self.observer.schedule(
                    self.handler, path, recursive=False, event_filter=self._events())
            except OSError:
                pass

    def watch_trash(self) -> None:
        """Watch ``.trash/`` once it exists (it is made by the first deletion, which the root watch reports)."""
        path = os.path.join(self.root, layout.TRASH_DIR)
        if self._trash is None and self.observer is not None and os.path.isdir(path) and not os.path.islink(path):
            try:
                self._trash = self.observer.schedule(self.handler, path, recursive=False, event_filter=self._events())
            except OSError:
                pass

    def watch_runs(self, run_ids: Iterable[str]) -> set[str]:
        """Watch exactly these run directories (at most MAX_RUN_WATCHES), no others; returns those newly watched."""
        if self.observer is None:
            return set()
        before = set(self._runs)
        wanted = list(dict.fromkeys(run_ids))[:MAX_RUN_WATCHES]
        keep = set(wanted)
        for run_id in [r for r in self._runs if r not in keep]:
            observer, watch = self._runs.pop(run_id)
            try:
                observer.unschedule(watch)
            except (KeyError, OSError):
                pass
        for run_id in wanted:
            if run_id in self._runs:
                continue
            path = os.path.join(self.root, run_id)
            observer = self._poll() if self.exhausted else self.observer
            try:
                self._runs[run_id] = observer, observer.schedule(
                    self.handler, path, recursive=False, event_filter=self._events(observer))
            except OSError as e:
                if e.errno not in (errno.ENOSPC, errno.EMFILE) or self.exhausted:
                    continue  # ENOENT: the run was deleted meanwhile; the root watch reports that
                # inotify ran out of watches (silently, for other processes): poll the rest
                log.warning("polling run directories from now on: %s", _describe_inotify_error(e))
                self.exhausted = True
                observer = self._poll()
                try:
                    self._runs[run_id] = observer, observer.schedule(
                        self.handler, path, recursive=False, event_filter=self._events(observer))
                except OSError:
                    pass
        self._watch_experiments()
        self.watch_trash()
        return set(self._runs) - before

    def _poll(self) -> PollingObserver:
        if self._poller is None:
            self._poller = PollingObserver(timeout=self.poll_interval)
            self._poller.start()
        return self._poller

    @property
    def watched_runs(self) -> set[str]:
        return set(self._runs)

    def stop(self) -> None:
        """Stop every observer and join its threads."""
        observers = [self.observer, self._poller]
        self.observer = self._poller = None
        self._runs.clear()
        self._experiments = self._trash = None
        for observer in observers:
            if observer is None:
                continue
            try:
                observer.stop()
            finally:
                if observer.is_alive():
                    observer.join()


def _describe_inotify_error(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return "inotify watches are exhausted (raise fs.inotify.max_user_watches)"
    if e.errno == errno.EMFILE:
        return "too many inotify instances (raise fs.inotify.max_user_instances)"
    return f"inotify failed: {e.strerror or e}"
