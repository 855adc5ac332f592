"""Models served from the app: ``ServingManager`` starts, watches and stops ``tracker models serve``
processes (``tracker.serving``), with every HTTP request and process call on a worker thread.

    manager = ServingManager(parent)
    key = manager.start("models:/fraud@champion", tracking_dir)  # a free port on 127.0.0.1; listed at once
    manager.try_it(key, '{"inputs": [[1, 2]]}')                  # -> replied(key, TryReply)
    manager.stop(key)                                            # -> removed(key) once the process is gone
    manager.shutdown()                                           # every process gone (panel shutdown, quit)

A server goes starting -> running -> stopping -> (removed); one that does not start is "failed"
(its log kept for the tooltip), one that dies while serving "exited". A timer polls start-up every
quarter second and each running server's ``/stats`` every ``STATS_S``; a changed version there (a
stage or alias it follows moved) fetches ``/metadata`` again.

A server is never left running: the manager stops its servers on ``shutdown`` (the panel's, which the
window's close calls), on ``aboutToQuit``, when it is destroyed and at exit; a server also stops itself
within a second once the app's process is gone.
"""
from __future__ import annotations

import atexit
import http.client
import itertools
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from tracker.registry import ModelVersion, RegisteredModel
from tracker.serving import ServerProcess, start_server

from app.common.worker import Worker

STARTING, RUNNING, STOPPING, FAILED, EXITED = "starting", "running", "stopping", "failed", "exited"
FOLLOWED_STAGES = ("Production", "Staging")  # a server may follow these; None and Archived are no target


@dataclass(frozen=True)
class ServeChoice:
    """One thing "Serve…" can start a server on: a fixed version, or a stage/alias/latest it follows."""

    uri: str
    label: str  # "Version 3", "Stage Production (v2)", "Alias @champion (v2)", "Latest version (v3)"
    detail: str  # what the server does when the registry changes
    kind: str  # "version", "stage", "alias" or "latest"


def serve_choices(name: str, model: RegisteredModel | None, mv: ModelVersion | None) -> list[ServeChoice]:
    """What can be served for ``name``: ``mv`` itself (fixed), then each stage and alias the model has
    now (followed), then its latest version (followed)."""
    out: list[ServeChoice] = []
    if mv is not None:
        out.append(ServeChoice(f"models:/{name}/{mv.version}", f"Version {mv.version}",
                               f"Fixed: always serves v{mv.version}, whatever happens to its stage or aliases.",
                               "version"))
    stages = dict((model.stage_versions if model is not None else {}) or {})
    if mv is not None and mv.current_stage in FOLLOWED_STAGES:
        stages.setdefault(mv.current_stage, [mv.version])
    for stage in FOLLOWED_STAGES:
        if numbers := stages.get(stage):
            out.append(ServeChoice(f"models:/{name}/{stage}", f"Stage {stage} (v{numbers[0]})",
                                   f"Follows the stage: serves v{numbers[0]} now, and switches without a "
                                   f"dropped request when another version is moved to {stage}.", "stage"))
    aliases = dict((model.aliases if model is not None else {}) or {})
    for alias in (mv.aliases if mv is not None else ()):
        aliases.setdefault(alias, mv.version)
    for alias, number in sorted(aliases.items()):
        out.append(ServeChoice(f"models:/{name}@{alias}", f"Alias @{alias} (v{number})",
                               f"Follows the alias: serves v{number} now, and switches without a dropped "
                               f"request when @{alias} is pointed at another version.", "alias"))
    latest = model.latest_version if model is not None else None
    if latest:
        out.append(ServeChoice(f"models:/{name}/latest", f"Latest version (v{latest})",
                               f"Follows the newest version: serves v{latest} now, and the next one once it "
                               "is registered.", "latest"))
    return out


@dataclass(frozen=True)
class TryReply:
    """What "Try it" got back: status, the version that answered, the body; or the error that stopped it."""

    status: int = 0
    version: str = ""
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""

    @property
    def reason(self) -> str:
        return http.client.responses.get(self.status, "")


@dataclass
class Served:
    """One server the app started, as its row shows it (read and written on the GUI thread)."""

    key: int
    uri: str
    tracking_dir: Path
    state: str = STARTING
    server: ServerProcess | None = None
    url: str = ""
    version: str = ""  # what X-Model-Version says: the version number answering now
    name: str = ""
    follows: str = ""  # "stage Production", "alias champion", "" for a fixed version
    input_example: Any = None  # a ready request body, from the model's saved input example
    requests: int | None = None
    last_latency_ms: float | None = None
    swaps: int = 0
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    next_stats: float = 0.0

    @property
    def short_uri(self) -> str:
        return self.uri.removeprefix("models:/")


class ServingClosed(RuntimeError):
    """The app is quitting: no new server starts."""


class Processes:
    """The processes one manager started and has not stopped, for any thread: plain Python, no Qt, so
    they can be stopped as the manager is destroyed and by exit handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[ServerProcess] = set()
        self.closing = False  # set once: no process starts afterwards

    def spawn(self, uri: str, tracking_dir: Path) -> ServerProcess:
        """Start a server process (on a worker thread), unless closing: then ``ServingClosed``."""
        if self.closing:
            raise ServingClosed("the app is quitting")
        server = start_server(uri, tracking_dir=tracking_dir, wait=False)
        with self._lock:
            self._live.add(server)
            closing = self.closing
        if closing:  # closed while the process started: it goes too
            self.halt(server)
            raise ServingClosed("the app is quitting")
        return server

    def halt(self, server: ServerProcess) -> None:
        """Stop one process (blocks until it is gone)."""
        try:
            server.stop()
        finally:
            self.forget(server)

    def forget(self, server: ServerProcess | None) -> None:
        with self._lock:
            self._live.discard(server)

    def stop_all(self) -> None:
        """Stop every process, and start none afterwards."""
        with self._lock:
            self.closing = True
            live = list(self._live)
        for server in live:
            try:
                self.halt(server)
            except Exception:  # noqa: BLE001 - stopping the others matters more than why this one failed
                pass


_all_processes: "weakref.WeakSet[Processes]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """A manager never shut down (a script, a test): its processes go before this one does."""
    for processes in list(_all_processes):
        processes.stop_all()


class ServingManager(QObject):
    """The servers started from the app; signals carry a server's key (``entry(key)`` gives its state)."""

    added = Signal(int)
    changed = Signal(int)
    removed = Signal(int)
    replied = Signal(int, object)  # key, TryReply
    message = Signal(str, bool)  # text, is an error
    TICK_MS = 250
    STATS_S = 1.5
    HTTP_TIMEOUT_S = 5.0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[int, Served] = {}
        self._busy: set[tuple[int, str]] = set()  # (key, what) of jobs not answered yet: one poll at a time
        self._ids = itertools.count(1)
        self.processes = Processes()
        _all_processes.add(self.processes)
        self.destroyed.connect(self.processes.stop_all)  # deleted without shutdown: no process outlives it
        app = QCoreApplication.instance()
        if app is not None:  # connected before the worker connects its own: servers stop first
            app.aboutToQuit.connect(self.shutdown)
        # Two threads: a slow "Try it" request never holds back the start-up and stats polls.
        self.worker = Worker("serving", self, threads=2)
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self._tick)

    # ---- public -----------------------------------------------------------------------------

    def keys(self) -> list[int]:
        return list(self._entries)

    def entry(self, key: int) -> Served | None:
        return self._entries.get(key)

    def entries(self) -> list[Served]:
        return list(self._entries.values())

    def start(self, uri: str, tracking_dir: str | Path) -> int:
        """Start a server for ``uri`` on a free port (its row shows at once, "starting"); its key, or -1
        once shut down."""
        if self.processes.closing:
            return -1
        key = next(self._ids)
        self._entries[key] = entry = Served(key, uri, Path(tracking_dir))
        self.added.emit(key)
        self._submit(entry, "start", self.processes.spawn, uri, entry.tracking_dir,
                     on_done=lambda server: self._on_spawned(key, server),
                     on_error=lambda e: self._on_failed(key, e))
        self.timer.start()
        self.message.emit(f"Starting a server for {uri}…", False)
        return key

    def stop(self, key: int) -> None:
        """Stop a server (a failed or exited one is only taken off the list)."""
        entry = self._entries.get(key)
        if entry is None or entry.state == STOPPING:
            return
        if entry.state in (FAILED, EXITED) or (entry.server is None and (key, "start") not in self._busy):
            self._forget(entry)
            return
        entry.state = STOPPING
        self.changed.emit(key)
        if entry.server is not None:  # else: stopped as soon as its process exists (_on_spawned)
            self._stop_process(entry)

    def try_it(self, key: int, text: str) -> bool:
        """Send ``text`` to the server's ``/invocations`` (JSON; CSV when it does not start with { or [);
        ``replied`` carries the answer. False when the server is not serving."""
        entry = self._entries.get(key)
        if entry is None or entry.state != RUNNING or entry.server is None:
            return False
        self.worker.submit(_invoke, entry.server, text, self.HTTP_TIMEOUT_S * 6,
                           on_done=lambda reply: self.replied.emit(key, reply),
                           on_error=lambda e: self.replied.emit(key, TryReply(error=str(e) or type(e).__name__)))
        return True

    def running_count(self) -> int:
        return sum(1 for e in self._entries.values() if e.state in (STARTING, RUNNING, STOPPING))

    @Slot()
    def shutdown(self) -> None:
        """Stop every server and the worker; nothing starts afterwards. Blocks until the processes are
        gone (a second or so each): called as the window closes or the app quits. Idempotent."""
        self.processes.closing = True
        self.timer.stop()
        self.processes.stop_all()
        self.worker.stop(drain=False)  # a start between its two checks of closing has finished now
        self.processes.stop_all()
        for entry in list(self._entries.values()):
            self._forget(entry)

    # ---- GUI side ---------------------------------------------------------------------------

    def _submit(self, entry: Served, what: str, fn, *args, on_done, on_error=None) -> None:
        flag = (entry.key, what)
        self._busy.add(flag)

        def done(value: Any) -> None:
            self._busy.discard(flag)
            on_done(value)

        def failed(error: Exception) -> None:
            self._busy.discard(flag)
            if on_error is not None:
                on_error(error)
        if self.worker.submit(fn, *args, on_done=done, on_error=failed) < 0:
            self._busy.discard(flag)

    def _on_spawned(self, key: int, server: ServerProcess) -> None:
        entry = self._entries.get(key)
        if entry is None:
            self.worker.submit(self.processes.halt, server)
            return
        entry.server = server
        if entry.state == STOPPING:  # Stop was pressed while the process started
            self._stop_process(entry)

    def _on_failed(self, key: int, error: Exception) -> None:
        entry = self._entries.get(key)
        if entry is None or isinstance(error, ServingClosed):
            return
        if entry.state == STOPPING:
            self._forget(entry)
            return
        if entry.server is not None:
            self.processes.forget(entry.server)  # poll_ready stopped it when it saw it exit
        entry.state, entry.error = FAILED, str(error).strip() or type(error).__name__
        self.changed.emit(key)
        self.message.emit(f"The server for {entry.uri} did not start: {failure_summary(entry.error)}", True)

    def _stop_process(self, entry: Served) -> None:
        server = entry.server
        self._submit(entry, "stop", self.processes.halt, server, on_done=lambda _: self._forget(entry),
                     on_error=lambda _: self._forget(entry))

    def _forget(self, entry: Served) -> None:
        if self._entries.pop(entry.key, None) is not None:
            self.removed.emit(entry.key)
            if entry.state == STOPPING:
                self.message.emit(f"Stopped the server for {entry.uri}", False)
        if not self._entries:
            self.timer.stop()

    @Slot()
    def _tick(self) -> None:
        now = time.monotonic()
        for entry in list(self._entries.values()):
            key, server = entry.key, entry.server
            if server is None or entry.state not in (STARTING, RUNNING):
                continue
            if entry.state == STARTING:
                self.changed.emit(key)  # its row counts the seconds
            if entry.state == STARTING and (key, "ready") not in self._busy:
                self._submit(entry, "ready", server.poll_ready, on_done=lambda ok, k=key: self._on_ready(k, ok),
                             on_error=lambda e, k=key: self._on_failed(k, e))
            elif entry.state == RUNNING and now >= entry.next_stats and (key, "stats") not in self._busy:
                entry.next_stats = now + self.STATS_S
                self._submit(entry, "stats", _stats, server, self.HTTP_TIMEOUT_S,
                             on_done=lambda s, k=key: self._on_stats(k, s), on_error=lambda e: None)

    def _on_ready(self, key: int, ready: bool) -> None:
        entry = self._entries.get(key)
        if not ready or entry is None or entry.state != STARTING or entry.server is None:
            return
        entry.state, entry.url = RUNNING, entry.server.url or ""
        entry.next_stats = time.monotonic() + self.STATS_S
        self.changed.emit(key)
        self._fetch_metadata(entry, announce=True)

    def _fetch_metadata(self, entry: Served, announce: bool = False) -> None:
        if entry.server is None or (entry.key, "metadata") in self._busy:
            return
        key = entry.key
        self._submit(entry, "metadata", entry.server.metadata, self.HTTP_TIMEOUT_S,
                     on_done=lambda m: self._on_metadata(key, m, announce), on_error=lambda e: None)

    def _on_metadata(self, key: int, meta: dict, announce: bool) -> None:
        entry = self._entries.get(key)
        if entry is None or not isinstance(meta, dict):
            return
        label = meta.get("version")
        entry.version = str(label) if label is not None else entry.version
        entry.name = str(meta.get("name") or "")
        follows = meta.get("follows") or {}
        entry.follows = " ".join(f"{k} {v}" for k, v in follows.items()) if isinstance(follows, dict) else ""
        entry.input_example = meta.get("input_example")
        entry.swaps = int(meta.get("swaps") or 0)
        entry.error = str(meta.get("swap_error") or "")
        self.changed.emit(key)
        if announce:
            self.message.emit(f"Serving {entry.uri} (v{entry.version}) at {entry.url}", False)

    def _on_stats(self, key: int, stats: dict) -> None:
        entry = self._entries.get(key)
        if entry is None or entry.state != RUNNING:
            return
        if stats.get("exited"):
            self.worker.submit(self.processes.halt, entry.server)  # reaps it and removes its log file
            entry.state, entry.error = EXITED, str(stats.get("log") or "").strip()
            self.changed.emit(key)
            self.message.emit(f"The server for {entry.uri} stopped by itself", True)
            return
        entry.requests, entry.last_latency_ms = stats.get("requests"), stats.get("last_latency_ms")
        version = str(stats.get("version") or "")
        if version and version != entry.version:  # swapped to the version its stage or alias names now
            entry.version = version
            self._fetch_metadata(entry)
        self.changed.emit(key)


def failure_summary(text: str) -> str:
    """The line of a server's log that says why it stopped (its last non-empty line, without the
    command's "tracker: error: " prefix)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("tracker: error: ") if lines else "no reason given"


def _stats(server: ServerProcess, timeout: float) -> dict:
    if not server.is_running():
        return {"exited": True, "log": server.log_text()}
    return server.stats(timeout=timeout)


def _invoke(server: ServerProcess, text: str, timeout: float) -> TryReply:
    stripped = text.strip()
    content_type = "application/json" if stripped[:1] in ("{", "[") else "text/csv"
    started = time.perf_counter()
    reply = server.invoke(stripped.encode("utf-8"), content_type=content_type, timeout=timeout)
    elapsed = (time.perf_counter() - started) * 1000
    return TryReply(reply.status, reply.headers.get("x-model-version", ""),
                    reply.body.decode("utf-8", errors="replace"), elapsed)
