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
inotify only sees local changes, or ``TRACKER_POLLING=1``) a ``PollingObserver`` takes over,
reading the folders every ``poll_interval`` seconds (``app.runs.watch_mode``: 2 s unless set),
which ``set_poll_interval`` changes while it runs.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import sys
from collections.abc import Iterable
from functools import partial

from watchdog.events import (
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent, FileDeletedEvent,
    FileModifiedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingEmitter, PollingObserver

from tracker.store import layout

from app.runs import watch_mode
from app.runs.watch_bridge import EDITED, EXPERIMENTS, GONE, ROOT, RUN, TRASH, WatchBridge

log = logging.getLogger(__name__)

MAX_USER_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
MIN_WATCH_LIMIT = 256  # a max_user_watches below this is treated as exhausted from the start
MAX_RUN_WATCHES = 512  # more active runs than this are re-checked by the periodic check only
MOUNTINFO = "/proc/self/mountinfo"

# Leave out opened and close-nowrite events (every reader would trigger them) and
# directory-modified events (they repeat every create and delete). Polling reports a
# file changed in place as "modified", inotify as "closed" (after the write).
_INOTIFY_EVENTS = [FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
                   DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
_POLLING_EVENTS = [*_INOTIFY_EVENTS, FileModifiedEvent]

# File systems whose files other machines change without this kernel hearing of it.
NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "smb2", "ncpfs", "9p", "afs", "openafs", "coda", "ceph", "glusterfs",
    "lustre", "gpfs", "beegfs", "ocfs2", "gfs2", "virtiofs", "davfs", "vboxsf", "prl_fs", "vmhgfs",
    "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.davfs2", "fuse.glusterfs", "fuse.cephfs",
    "fuse.juicefs", "fuse.lizardfs", "fuse.moosefs", "fuse.smbnetfs", "fuse.vmhgfs-fuse", "fuse.goofys",
})
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")  # mountinfo writes a space in a path as \040


class _Interval:
    """An interval an observer's emitters read at every poll, so it can change while they run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class _PollingEmitter(PollingEmitter):
    def __init__(self, *args, interval: _Interval, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._every = interval

    @property
    def timeout(self) -> float:  # what the emitter waits between two polls
        return self._every.seconds


class TunablePollingObserver(PollingObserver):
    """watchdog's PollingObserver with ``interval`` (seconds between polls) changeable while it runs."""

    def __init__(self, seconds: float) -> None:
        self.interval = _Interval(seconds)
        BaseObserver.__init__(self, partial(_PollingEmitter, interval=self.interval), timeout=seconds)


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


def _unescape(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: str) -> str | None:
    """The type of the file system holding ``path``, from ``/proc/self/mountinfo`` (Linux; None elsewhere,
    or when it cannot be read). The mount whose point is the longest prefix of the real path wins; of
    mounts stacked on one point, the last."""
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        # "<id> <parent> <major:minor> <root> <mount point> <options> [optional...] - <type> <source> <options>"
        before, dash, after = line.partition(" - ")
        fields, tail = before.split(" "), after.split(" ")
        if not dash or len(fields) < 6 or not tail[0]:
            continue
        point = _unescape(fields[4])
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, _unescape(tail[0])
    return kind


def network_filesystem(path: str) -> str | None:
    """The network file system ``path`` is on ("nfs4", "cifs", "UNC path"...), or None for a local one."""
    if os.name == "nt":
        drive = os.path.splitdrive(os.path.abspath(path))[0]
        return "UNC path" if drive.startswith(("\\\\", "//")) else None
    kind = filesystem_type(path)
    return kind if kind in NETWORK_FS else None


def polling_reason(root: str, polling: bool | None = None) -> str | None:
    """Why ``root`` should be polled rather than watched with inotify (None: inotify is fine)."""
    if polling is not None:
        return watch_mode.ASKED_REASON if polling else None
    if os.environ.get("TRACKER_POLLING", "").strip().lower() not in ("", "0", "false", "no"):
        return watch_mode.ENV_REASON
    kind = network_filesystem(root)
    if kind is not None:
        return f"{root} {watch_mode.NETWORK_REASON} ({kind})"
    return inotify_problem()


class RunsWatcher:
    """The observers of one runs directory (use from one thread at a time); ``stop()`` joins their threads."""

    def __init__(self, root: str | os.PathLike, bridge: WatchBridge, generation: int = 0,
                 polling: bool | None = None, poll_interval: float | None = None) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.handler = _Handler(self.root, bridge, generation)
        self.poll_interval = watch_mode.parse_seconds(poll_interval) or watch_mode.env_seconds() \
            or watch_mode.DEFAULT_SECONDS
        self.polling_reason = polling_reason(self.root, polling)
        self.observer: BaseObserver | None = None
        self._runs: dict[str, tuple[BaseObserver, ObservedWatch]] = {}
        self._experiments: ObservedWatch | None = None
        self._trash: ObservedWatch | None = None
        self.exhausted = False  # inotify ran out of watches: further run directories are polled
        self._poller: TunablePollingObserver | None = None

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
        self._start(TunablePollingObserver(self.poll_interval))

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
            self._poller = TunablePollingObserver(self.poll_interval)
            self._poller.start()
        return self._poller

    def set_poll_interval(self, seconds: float) -> None:
        """Poll every ``seconds`` from the next poll on (the wait in progress ends first)."""
        self.poll_interval = watch_mode.parse_seconds(seconds) or self.poll_interval
        for observer in (self.observer, self._poller):
            if isinstance(observer, TunablePollingObserver):
                observer.interval.seconds = self.poll_interval

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
