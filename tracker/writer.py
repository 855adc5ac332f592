"""Writing one run: params and tags synchronously, metrics through a background flusher.

``log_metric`` only appends a tuple to an in-memory list: no file I/O on the caller's
thread. One daemon thread per process flushes every writer at least every
``FLUSH_SECONDS``, and at ``end``, interpreter exit and SIGTERM, so a SIGKILL loses
at most the last interval.
"""
from __future__ import annotations

import math
import os
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .entities import RunStatus

FLUSH_SECONDS = 0.2

_POINT = np.dtype([("step", "<i8"), ("time", "<f8"), ("value", "<f8")])


def to_float(key: str, value: Any) -> float:
    if isinstance(value, (str, bytes)) or not hasattr(type(value), "__float__"):
        raise TypeError(f"metric {key!r}: value {value!r} is a {type(value).__name__}, not a number")
    return float(value)


class _KeyState:
    """The pending points of one metric key; the caller appends, the flusher takes a prefix."""

    __slots__ = ("key", "pending", "next_step", "file")

    def __init__(self, key: str, next_step: int) -> None:
        self.key = key
        self.pending: list[tuple[int, float, float]] = []
        self.next_step = next_step
        self.file = None


class RunWriter:
    """Owns one run directory while a process writes it."""

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self.run_id: str = doc["info"]["run_id"]
        self._lock = threading.RLock()  # guards doc and the files; never held by log_metric
        self._keys: dict[str, _KeyState] = {
            key: _KeyState(key, int(s["last_step"]) + 1) for key, s in doc["metrics"].items()
        }
        self._last_beat = 0.0
        self.closed = False

    # -- creating and resuming ---------------------------------------------------------
    @classmethod
    def create(cls, root: str | os.PathLike, run_name: str, experiment: str, **info: Any) -> "RunWriter":
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        run_id = uuid.uuid4().hex
        start = int(time.time() * 1000)
        doc = store.new_document(run_id, run_name, experiment, start, **info, **_process_info())
        # Build the run in a hidden temp directory and rename it into place, so a
        # watcher or reader never sees a run directory without its run.json.
        tmp = root / f".tmp-{run_id}"
        (tmp / store.ARTIFACTS_DIR).mkdir(parents=True)
        store.write_document(tmp, doc)
        (tmp / "heartbeat").touch()
        final = root / run_id
        os.rename(tmp, final)
        return cls(final, doc)

    @classmethod
    def resume(cls, root: str | os.PathLike, run_id: str) -> "RunWriter":
        path = Path(root) / run_id
        if not store.is_run_dir_name(run_id) or not path.is_dir():
            raise ValueError(f"no run {run_id!r} in {root}")
        doc = store.read_document(path)
        info = doc["info"]
        info.update(status=RunStatus.RUNNING, end_time=None, error=None, **_process_info())
        writer = cls(path, doc)
        with writer._lock:
            store.write_document(path, doc)
        return writer

    # -- params and tags: small, written at once ----------------------------------------
    def log_params(self, params: dict[str, Any]) -> None:
        clean: dict[str, str] = {}
        with self._lock:
            existing = self.doc["params"]
            for key, value in params.items():
                store.validate_key(key, "param key")
                text = str(value)
                if len(text) > store.MAX_PARAM_VALUE_LENGTH:
                    raise ValueError(
                        f"param {key!r}: value is {len(text)} characters; the limit is {store.MAX_PARAM_VALUE_LENGTH}")
                old = existing.get(key, clean.get(key))
                if old is not None and old != text:
                    raise ValueError(
                        f"param {key!r} was already logged as {old!r}; params are immutable, cannot change it to {text!r}")
                clean[key] = text
            if all(existing.get(k) == v for k, v in clean.items()):
                return
            existing.update(clean)
            self._write_doc()

    def set_tags(self, tags: dict[str, Any]) -> None:
        clean = {store.validate_key(k, "tag key"): str(v) for k, v in tags.items()}
        with self._lock:
            self.doc["tags"].update(clean)
            self._write_doc()

    def delete_tag(self, key: str) -> None:
        with self._lock:
            if key not in self.doc["tags"]:
                raise KeyError(f"run {self.run_id} has no tag {key!r}")
            del self.doc["tags"][key]
            self._write_doc()

    def update_info(self, **fields: Any) -> None:
        with self._lock:
            self.doc["info"].update(fields)
            self._write_doc()

    # -- metrics: the hot path ------------------------------------------------------------
    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
        state = self._keys.get(key)
        if state is None:
            state = self._add_key(key)
        if type(value) is not float:
            value = to_float(key, value)
        if step is None:
            step = state.next_step
        elif type(step) is not int:
            step = _to_step(key, step)
        state.next_step = step + 1
        state.pending.append((step, time.time() if timestamp is None else timestamp / 1000.0, value))

    def _add_key(self, key: str) -> _KeyState:
        if self.closed:
            raise RuntimeError(f"run {self.run_id} has ended; start or resume a run to log to it")
        store.validate_key(key, "metric key")
        # setdefault: two threads adding the same key at once end up sharing one state
        return self._keys.setdefault(key, _KeyState(key, 0))

    # -- flushing -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Append pending points to their files and refresh summaries and heartbeat."""
        with self._lock:
            changed = False
            for state in list(self._keys.values()):
                n = len(state.pending)
                if n:
                    # Take a prefix, then delete it: appends racing with us land after
                    # index n and stay for the next flush (list ops are atomic).
                    chunk = state.pending[:n]
                    del state.pending[:n]
                    self._append(state, chunk)
                    changed = True
            if changed:
                self._write_doc()
            now = time.time()
            if now - self._last_beat >= store.HEARTBEAT_SECONDS:
                self._last_beat = now
                try:
                    os.utime(self.path / "heartbeat")
                except OSError:
                    pass

    def _append(self, state: _KeyState, chunk: list[tuple[int, float, float]]) -> None:
        points = np.array(chunk, dtype=_POINT)
        millis = np.round(points["time"] * 1000.0).astype(np.int64)
        if state.file is None:
            state.file = store.open_for_append(store.metric_path(self.path, state.key))
        state.file.write(store.encode_records(points["step"], millis, points["value"]))
        state.file.flush()
        values = points["value"]
        finite = values[~np.isnan(values)]
        summary = self.doc["metrics"].get(state.key)
        lo = float(finite.min()) if len(finite) else math.nan
        hi = float(finite.max()) if len(finite) else math.nan
        if summary is not None:
            lo = _nanmin(summary["min"], lo)
            hi = _nanmax(summary["max"], hi)
        self.doc["metrics"][state.key] = {
            "last": float(values[-1]), "min": lo, "max": hi,
            "count": (summary["count"] if summary else 0) + len(values),
            "last_step": int(points["step"][-1]), "last_timestamp": int(millis[-1]),
        }

    def _write_doc(self) -> None:
        store.write_document(self.path, self.doc)

    def end(self, status: str = RunStatus.FINISHED, error: str | None = None) -> None:
        if status not in RunStatus.ALL:
            raise ValueError(f"unknown run status {status!r}; use one of {', '.join(RunStatus.ALL)}")
        with self._lock:
            if self.closed:
                return
            self.flush()
            self.closed = True
            for state in self._keys.values():
                if state.file is not None:
                    try:
                        os.fsync(state.file.fileno())
                    finally:
                        state.file.close()
                        state.file = None
            self.doc["info"].update(status=status, end_time=int(time.time() * 1000))
            if error:
                self.doc["info"]["error"] = error
            self._write_doc()


def _to_step(key: str, step: Any) -> int:
    if isinstance(step, bool) or not hasattr(type(step), "__index__"):
        raise TypeError(f"metric {key!r}: step {step!r} is not an integer")
    return int(step)


def _nanmin(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _nanmax(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def _process_info() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "pid_start": store.process_start_ticks(pid), "host": store.this_host()}


class Flusher:
    """The process's single background thread that flushes every open writer."""

    def __init__(self) -> None:
        self._writers: set[RunWriter] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False

    def add(self, writer: RunWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="tracker-flusher", daemon=True)
                self._thread.start()

    def remove(self, writer: RunWriter) -> None:
        with self._lock:
            self._writers.discard(writer)

    def flush_all(self) -> None:
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            try:
                writer.flush()
            except OSError as e:
                # Keep logging alive on a full or vanished disk; say so once.
                if not self._warned:
                    self._warned = True
                    warnings.warn(f"tracker could not write run {writer.run_id}: {e}", RuntimeWarning, stacklevel=1)

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush_all()


FLUSHER = Flusher()
