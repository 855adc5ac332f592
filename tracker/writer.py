"""Writing one run: params and tags synchronously, metrics through a background flusher.

``log_metric`` checks its arguments and appends the point to an in-memory buffer: no file
I/O on the caller's thread (which only waits, briefly, while a flush of its run writes
points). One daemon thread per process appends every writer's points to their files every
``FLUSH_SECONDS`` (from the start of one flush to the next), and rewrites the summaries in
``run.json`` every ``SUMMARY_SECONDS``; both at ``end``, interpreter exit and SIGTERM. What
a SIGKILL loses is one interval plus one flush.

A writer holds its run's lock (``store.runlock``) for its whole life, so it is the only
process writing the run and its in-memory document is what is on disk. A flush that
fails (a full disk) leaves the files and ``run.json`` agreeing, keeps the points buffered
for the next flush, and the run's next API call raises the error.
"""
from __future__ import annotations

import math
import os
import threading
import time
import uuid
import struct
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .arguments import INT64_MAX, INT64_MIN, params_text, tags_text, to_float, to_step, to_timestamp
from .entities import RunStatus
from .exceptions import InvalidParameterValue
from .flusher import FLUSH_SECONDS, FLUSHER, SUMMARY_SECONDS
from .store import layout
from .store.appender import MetricAppender
from .store.metricfile import RECORD_SIZE
from .store.runlock import RunLock
from .store.tempfiles import remove_run_temp_files

__all__ = ["FLUSH_SECONDS", "FLUSHER", "RunWriter", "WriteError", "to_float"]

_POINT = np.dtype([("step", "<i8"), ("time", "<i8"), ("value", "<f8")])
_pack_point = struct.Struct("<qqd").pack  # the same 24 bytes as _POINT
_PAUSE_LIMIT = 0.05  # seconds a logger waits for a flush at most, should a write hang
TEMP_FILE_GRACE_SECONDS = 60.0  # a resumed run removes temp files older than this

_LIVE: "weakref.WeakSet[RunWriter]" = weakref.WeakSet()  # writers of this process, for fork


class WriteError(RuntimeError):
    """The background flusher could not save a run's points (they stay buffered and are retried)."""


class _KeyState:
    """The pending points of one metric key; the caller appends, the flusher takes a prefix.

    Points are packed into one bytearray, 24 bytes each: an append is a single in-place
    extend (atomic under the GIL, so threads logging one key at once never interleave a
    point's fields), and the flusher copies memory. Converting Python objects (a list of
    tuples) would hold the GIL, and so the logging thread, for tens of milliseconds per
    flush (measured) and stretch what a SIGKILL loses.
    """

    __slots__ = ("key", "buffer", "next_step", "unsaved", "saved_end")

    def __init__(self, key: str, next_step: int) -> None:
        self.key = key
        self.buffer = bytearray()  # _POINT records
        self.next_step = next_step
        # Chunks in the file but not yet counted in run.json, and the file's end before them:
        # if run.json cannot be written, they are cut back out and logged again.
        self.unsaved: list[np.ndarray] = []
        self.saved_end = 0

    def take(self) -> np.ndarray | None:
        """The pending points, removed from the buffer (appends racing with this land after them)."""
        n = len(self.buffer)
        if not n:
            return None
        chunk = np.frombuffer(self.buffer[:n], _POINT)  # the slice is a copy: the buffer stays resizable
        del self.buffer[:n]
        return chunk

    def put_back(self, chunks: list[np.ndarray]) -> None:
        """Make ``chunks`` pending again, before anything logged since."""
        if chunks:
            self.buffer[0:0] = np.concatenate(chunks).tobytes()

    def pending_count(self) -> int:
        return len(self.buffer) // _POINT.itemsize


class RunWriter:
    """Owns one run directory while a process writes it."""

    def __init__(self, path: Path, doc: dict[str, Any], lock: RunLock) -> None:
        self.path = path
        self.doc = doc  # replaced as a whole after each successful write, never edited in place
        self.run_id: str = doc["info"]["run_id"]
        self._lock = threading.RLock()  # guards doc and the files; never held by log_metric
        self._keys: dict[str, _KeyState] = {
            key: _KeyState(key, int(s["last_step"]) + 1) for key, s in doc["metrics"].items()
        }
        self._files = MetricAppender(path)
        self._run_lock = lock
        self._pid = os.getpid()
        self._failure: BaseException | None = None  # set by the flusher, raised by the next call
        self._pause: threading.Event | None = None  # set while the flusher writes points; see flush
        self._next_metrics: dict[str, dict[str, Any]] = {}  # summaries of the unsaved chunks
        self._summaries_written = time.monotonic()
        self._last_beat = 0.0
        self.closed = False
        _LIVE.add(self)
        # A writer dropped without end() must not keep its descriptors and the run's lock.
        weakref.finalize(self, _close_files, self._files, self._run_lock).atexit = False

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
        lock = RunLock.acquire(tmp, run_id, store.this_host())  # the descriptor follows the rename
        try:
            store.write_document(tmp, doc)
            (tmp / "heartbeat").touch()
            final = root / run_id
            os.rename(tmp, final)
        except BaseException:
            lock.release()
            raise
        return cls(final, doc, lock)

    @classmethod
    def resume(cls, root: str | os.PathLike, run_id: str) -> "RunWriter":
        """Continue a run; raises RunLockedError while another writer holds it."""
        path = Path(root) / run_id
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id) or not path.is_dir():
            raise ValueError(f"no run {run_id!r} in {root}")
        lock = RunLock.acquire(path, run_id, store.this_host())
        try:
            # Temp files a killed writer left (an older one could still be another process's
            # artifact upload in progress): the run's lock holder cleans them up.
            remove_run_temp_files(path, older_than=TEMP_FILE_GRACE_SECONDS)
            # Read under the lock: edits start from what is on disk now, whoever wrote it last.
            doc = store.read_document(path)
            doc["info"].update(status=RunStatus.RUNNING, end_time=None, error=None, **_process_info())
            store.write_document(path, doc)
        except BaseException:
            lock.release()
            raise
        return cls(path, doc, lock)

    # -- params and tags: small, written at once ----------------------------------------
    def log_params(self, params: dict[str, Any]) -> None:
        clean = params_text(params)
        with self._lock:
            self._check_usable()
            existing = self.doc["params"]
            for key, text in clean.items():
                old = existing.get(key)
                if old is not None and old != text:  # MLflow's message (params are immutable)
                    raise InvalidParameterValue(
                        f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                        f"value='{old}' for run ID='{self.run_id}'. Attempted logging new value '{text}'.")
            if all(existing.get(k) == v for k, v in clean.items()):
                return
            self._commit(params={**existing, **clean})

    def set_tags(self, tags: dict[str, Any]) -> None:
        clean = tags_text(tags)
        with self._lock:
            self._check_usable()
            self._commit(tags={**self.doc["tags"], **clean})

    def delete_tag(self, key: str) -> None:
        store.validate_key(key, "tag key")
        with self._lock:
            self._check_usable()
            if key not in self.doc["tags"]:
                raise KeyError(f"run {self.run_id} has no tag {key!r}")
            self._commit(tags={k: v for k, v in self.doc["tags"].items() if k != key})

    def update_info(self, **fields: Any) -> None:
        with self._lock:
            self._check_usable()
            self._commit(info={**self.doc["info"], **fields})

    def _commit(self, **sections: Any) -> None:
        """Write the document with ``sections`` replaced and the latest summaries; keep it only
        once it is on disk. When it cannot be written, the points that only the new summaries
        counted are cut back out of their files and buffered again, so files and run.json agree."""
        doc = {**self.doc, **sections}
        if self._next_metrics:
            doc["metrics"] = {**doc["metrics"], **self._next_metrics}
        try:
            store.write_document(self.path, doc)
        except BaseException:
            self._take_back_unsaved()
            raise
        self.doc = doc
        for key in self._next_metrics:
            self._keys[key].unsaved = []
        self._next_metrics = {}
        self._summaries_written = time.monotonic()

    def _take_back_unsaved(self) -> None:
        for key in self._next_metrics:
            state = self._keys[key]
            try:
                self._files.rollback(key, state.saved_end)
            except OSError:
                pass  # the points stay in the file; buffering them again would save them twice
            else:
                state.put_back(state.unsaved)
            state.unsaved = []
        self._next_metrics = {}

    def _check_usable(self) -> None:
        if self._failure is not None:
            self._raise_failure()
        if self.closed:
            raise RuntimeError(f"run {self.run_id} has ended; start or resume a run to log to it")

    def keep_failure(self, error: BaseException) -> None:
        """A background flush failed: the run's next API call raises it."""
        self._failure = error

    def _raise_failure(self) -> None:
        error, self._failure = self._failure, None
        if error is not None:
            raise WriteError(
                f"tracker could not save run {self.run_id}'s metrics: {error}; the unsaved points stay "
                f"buffered and are retried at the next flush") from error

    # -- metrics: the hot path ------------------------------------------------------------
    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
        if self._failure is not None:
            self._raise_failure()
        pause = self._pause
        if pause is not None:
            pause.wait(_PAUSE_LIMIT)
        try:
            state = self._keys.get(key)
        except TypeError:  # an unhashable key: say what a key must be
            store.validate_key(key, "metric key")
            raise
        if state is None:
            state = self._add_key(key)
        if type(value) is not float:
            value = to_float(key, value)
        if step is None:
            step = state.next_step
            if step > INT64_MAX:
                raise ValueError(f"metric {key!r}: the next step would pass 2**63 - 1; pass step= explicitly")
        elif type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            step = to_step(key, step)
        timestamp = time.time_ns() // 1_000_000 if timestamp is None else to_timestamp(key, timestamp)
        state.next_step = step + 1
        buffer = state.buffer  # a local: `state.buffer += ...` would store the attribute again
        buffer += _pack_point(step, timestamp, value)

    def _add_key(self, key: str) -> _KeyState:
        if self.closed:
            raise RuntimeError(f"run {self.run_id} has ended; start or resume a run to log to it")
        store.validate_key(key, "metric key")
        # setdefault: two threads adding the same key at once end up sharing one state
        return self._keys.setdefault(key, _KeyState(key, 0))

    # -- flushing -----------------------------------------------------------------------------
    def flush(self, summaries: bool = True) -> None:
        """Append pending points to their files; rewrite the summaries when ``summaries`` is
        true or SUMMARY_SECONDS have passed. Raises what failed.

        Either a key's points are in its file and (once the summaries are written) counted
        in ``run.json``, or they are neither and are still pending.
        """
        with self._lock:
            if self.closed or self._pid != os.getpid():
                return
            # Loggers of this run wait (at most _PAUSE_LIMIT) while the points are written: each
            # numpy call or write releases the GIL, and a thread logging flat out would then keep
            # it for a whole switch interval (5 ms) each time, stretching a 5 ms flush past 100 ms.
            pause = self._pause = threading.Event()
            try:
                taken = []
                for state in list(self._keys.values()):
                    chunk = state.take()
                    if chunk is not None:
                        taken.append((state, chunk))
                error = self._append(taken) if taken else None
            finally:
                self._pause = None
                pause.set()
            if self._next_metrics and (summaries or time.monotonic() - self._summaries_written >= SUMMARY_SECONDS):
                try:
                    self._commit()
                except Exception as e:
                    error = error or e
            now = time.time()
            if now - self._last_beat >= store.HEARTBEAT_SECONDS:
                self._last_beat = now
                try:
                    os.utime(self.path / layout.HEARTBEAT)
                except OSError:
                    pass
            if error is not None:
                raise error

    def _append(self, taken: list[tuple[_KeyState, np.ndarray]]) -> BaseException | None:
        """Append each key's chunk to its file and summarise it; a chunk that fails is pending again."""
        # Every key at once, in a fixed number of numpy calls, rather than calls per key.
        try:
            points = taken[0][1] if len(taken) == 1 else np.concatenate([chunk for _, chunk in taken])
            data = memoryview(store.encode_records(points["step"], points["time"], points["value"]))
            ends = np.cumsum([len(chunk) for _, chunk in taken])
            starts = ends - ends[0] if len(taken) == 1 else np.concatenate(([0], ends[:-1]))
            lows = np.fmin.reduceat(points["value"], starts).tolist()  # NaN only when all values are NaN
            highs = np.fmax.reduceat(points["value"], starts).tolist()
            lasts = points[ends - 1].tolist()  # (step, time, value) of each key's last point
            highest = _highest_steps(points, ends, len(taken))
            starts, ends = starts.tolist(), ends.tolist()
        except Exception as e:
            for state, chunk in taken:
                state.put_back([chunk])
            return e
        error = None
        for i, (state, chunk) in enumerate(taken):
            try:
                old_end = self._files.append(state.key, data[starts[i] * RECORD_SIZE:ends[i] * RECORD_SIZE])
            except Exception as e:
                state.put_back([chunk])
                error = error or e
            else:
                if not state.unsaved:
                    state.saved_end = old_end
                state.unsaved.append(chunk)
                key = state.key
                previous = self._next_metrics.get(key) or self.doc["metrics"].get(key)
                self._next_metrics[key] = _summary(previous, len(chunk), lows[i], highs[i], lasts[i], highest[i])
        return error

    def end(self, status: str = RunStatus.FINISHED, error: str | None = None, end_time: int | None = None) -> None:
        """Flush, make the metric files durable, write the final status (and ``end_time``, default now)
        and release the run.

        Raises WriteError when points could not be saved; the run is ended all the same.
        """
        if status not in RunStatus.ALL:
            raise ValueError(f"unknown run status {status!r}; use one of {', '.join(RunStatus.ALL)}")
        if self._pid != os.getpid():
            return  # a forked child: the run is its parent's
        with self._lock:
            if self.closed:
                return
            failure = None
            try:
                self.flush()
                self._failure = None  # whatever failed before has been saved since
            except Exception as e:
                failure = e
            self.closed = True
            try:
                self._files.sync()
            except OSError as e:
                failure = failure or e
            finally:
                self._files.close()
            unsaved = sum(s.pending_count() for s in self._keys.values())
            info = {**self.doc["info"], "status": status,
                    "end_time": end_time if end_time is not None else int(time.time() * 1000)}
            if error:
                info["error"] = error
            try:
                self._commit(info=info)
            finally:
                self._run_lock.release()
                _LIVE.discard(self)
            if failure is not None:
                lost = f"save {unsaved} metric points" if unsaved else "sync the metric files"
                raise WriteError(f"tracker could not {lost} of run {self.run_id}: {failure}") from failure

    def _forget(self) -> None:
        """In a forked child: drop the parent's buffers and descriptors without writing anything."""
        self._lock = threading.RLock()  # the parent's flusher may have held it at the fork
        self._pause = None
        self.closed = True
        for state in self._keys.values():
            state.buffer = bytearray()
        self._files.forget()
        self._run_lock.forget()


def _highest_steps(points: np.ndarray, ends: np.ndarray, keys: int) -> list[tuple]:
    """(step, time, value) of each key's point at its highest step, the latest timestamp on a tie, then the
    last logged (MLflow's rule for a run's metric value); ``ends`` bound each key's chunk in ``points``."""
    segment = np.repeat(np.arange(keys), np.diff(ends, prepend=0))
    return points[np.lexsort((points["time"], points["step"], segment))[ends - 1]].tolist()  # lexsort is stable


def _summary(old: dict | None, count: int, low: float, high: float, last: tuple, highest: tuple) -> dict[str, Any]:
    """A key's summary after appending ``count`` points (min ``low``, max ``high``, ``last`` and ``highest``,
    the point at the highest step, as (step, time, value)) to what ``old`` summarised; min and max ignore NaN."""
    if old is not None:
        low = _nanmin(old["min"], low)
        high = _nanmax(old["max"], high)
        if highest[0] < old.get("max_step", old["last_step"]):  # (an equal step logged later wins)
            highest = (old.get("max_step", old["last_step"]), 0, old.get("value_at_max_step", old["last"]))
    step, timestamp, value = last
    return {"last": value, "min": low, "max": high, "count": (old["count"] if old else 0) + count,
            "last_step": step, "last_timestamp": timestamp, "max_step": highest[0], "value_at_max_step": highest[2]}


def _close_files(files: MetricAppender, lock: RunLock) -> None:
    files.close()
    lock.release()


def _nanmin(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _nanmax(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def _process_info() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "pid_start": store.process_start_ticks(pid), "host": store.this_host()}




def _forget_parent_runs() -> None:
    """A forked child neither writes nor ends its parent's runs: their buffers are the parent's."""
    for writer in list(_LIVE):
        writer._forget()
    _LIVE.clear()
    FLUSHER.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_runs)
