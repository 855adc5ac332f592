"""Writing one run: params and tags synchronously, metrics through a background flusher.

``log_metric`` checks its arguments and packs the point into its key's buffer; every 4,096
points of a key the same call frames and summarises them (``store.pending``): no file I/O
and no lock on the caller's thread, which never waits for the flusher. One daemon thread
per process appends every writer's points to their files every ``FLUSH_SECONDS`` (from the
start of one flush to the next), and rewrites the summaries in ``run.json`` every
``SUMMARY_SECONDS``; both at ``end``, interpreter exit and SIGTERM. What a SIGKILL loses is
one interval plus one flush.

A writer holds its run's lock (``store.runlock``) for its whole life, so it is the only
process logging to the run. Others may still edit the run's tags, name or description
(``store.doclock``): every write of ``run.json`` is a read-modify-write under the document
lock, and the writer starts from the file on disk whenever someone else replaced it since
its own last write, so neither side loses the other's change. A flush that
fails (a full disk) leaves the files and ``run.json`` agreeing, keeps the points pending
for the next flush, and the run's next API call raises the error.

Locks, always taken in this order: ``_lock`` (the document and ``run.json``: params, tags,
info and the summary writes), ``_files_lock`` (the metric files: the flusher's appends),
``_summary_lock`` (the summaries not yet in ``run.json``, a few dict operations),
``_take_lock`` (a key's pending points: one list slice and one short copy). A param logged
during a flush waits at most for a ``run.json`` write in progress, never for points being
converted or appended.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable

from . import store
from .arguments import INT64_MAX, INT64_MIN, params_text, tags_text, to_float, to_step, to_timestamp
from .entities import RunStatus
from .flusher import FLUSH_SECONDS, FLUSHER, SUMMARY_SECONDS
from .store import layout
from .store import runids
from .store.appender import MetricAppender
from .store.doclock import document_lock
from .store.pending import CHUNK_BYTES, Chunk, KeyState, combine, pack_point, seal_points
from .store.rundoc import RunDocument, summary_after
from .store.runlock import RunLock
from .store.tempfiles import remove_run_temp_files

__all__ = ["FLUSH_SECONDS", "FLUSHER", "RunWriter", "WriteError", "to_float"]

TEMP_FILE_GRACE_SECONDS = 60.0  # a resumed run removes temp files older than this
# A logger pauses for _GIVE_WAY_FOR once every _GIVE_WAY_EVERY while a flush that has run
# _GIVE_WAY_AFTER appends points: a flush of one or ten keys is done before the first pause.
_GIVE_WAY_AFTER = 0.004
_GIVE_WAY_EVERY = 0.004
_GIVE_WAY_FOR = 0.001

_LIVE: "weakref.WeakSet[RunWriter]" = weakref.WeakSet()  # writers of this process, for fork


class WriteError(RuntimeError):
    """The background flusher could not save a run's points (they stay buffered and are retried)."""


class RunWriter:
    """Owns one run directory while a process writes it."""

    def __init__(self, path: Path, document: RunDocument, lock: RunLock,
                 disk_key: tuple[int, int, int] | None = None) -> None:
        self.path = path
        self.document = document  # what run.json holds; replaced as a whole once a new one is written
        self._disk_key = disk_key  # run.json's (mtime_ns, size, inode) after this writer's last write
        self.run_id: str = document.run_id
        self._lock = threading.RLock()
        self._files_lock = threading.RLock()
        self._summary_lock = threading.Lock()
        self._take_lock = threading.Lock()
        self._keys: dict[str, KeyState] = {key: KeyState(key, step) for key, step in document.next_steps().items()}
        self._files = MetricAppender(path)
        self._run_lock = lock
        self._pid = os.getpid()
        self._failure: BaseException | None = None  # set by the flusher, raised by the next call
        self._pause: threading.Event | None = None  # set while a flush appends points; see _give_way
        self._give_way_at = 0.0
        self._next_metrics: dict[str, dict[str, Any]] = {}  # summaries of the chunks not yet in run.json
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
        for _ in range(runids.ATTEMPTS):
            # Build the run in a hidden staging folder and rename it into place, so a watcher
            # or reader never sees a run directory without its run.json. The id is claimed by
            # making that folder (``store.runids``): unique across every machine writing here.
            run_id, tmp = runids.claim_staging(root)
            document = RunDocument.new(run_id, run_name, experiment, int(time.time() * 1000), **info,
                                       **_process_info())
            lock, published = None, False
            try:
                (tmp / layout.ARTIFACTS_DIR).mkdir()
                lock = RunLock.acquire(tmp, run_id, store.this_host())  # the descriptor follows the rename
                document.write(tmp)
                key = layout.run_doc_key(str(tmp))  # (a folder's rename leaves its files as they are)
                (tmp / layout.HEARTBEAT).touch()
                published = runids.publish(tmp, layout.run_dir(root, run_id))
            finally:
                if not published:  # failed, or a run of this id appeared meanwhile: draw another id
                    if lock is not None:
                        lock.release()
                    shutil.rmtree(tmp, ignore_errors=True)
            if published:
                return cls(layout.run_dir(root, run_id), document, lock, key)
        raise runids.RunIdsExhausted(f"{runids.ATTEMPTS} new run ids in a row were already taken in {root}")

    @classmethod
    def resume(cls, root: str | os.PathLike, run_id: str) -> "RunWriter":
        """Continue a run; RunLockedError while another writer holds it, here or (its heartbeat says) elsewhere."""
        path = layout.run_dir(root, run_id) if isinstance(run_id, str) else None
        if path is None or not layout.is_run_dir_name(run_id) or not path.is_dir():
            raise ValueError(f"no run {run_id!r} in {root}")
        lock = RunLock.acquire(path, run_id, store.this_host())
        try:
            # Temp files a killed writer left (an older one could still be another process's
            # artifact upload in progress): the run's lock holder cleans them up.
            remove_run_temp_files(path, older_than=TEMP_FILE_GRACE_SECONDS)
            # Read under the locks: edits start from what is on disk now, whoever wrote it last.
            with document_lock(path):
                document = RunDocument.read(path).resumed(**_process_info())
                document.write(path)
                key = layout.run_doc_key(str(path))
            _touch(path / layout.HEARTBEAT)  # alive from now, to readers on other machines too
        except BaseException:
            lock.release()
            raise
        return cls(path, document, lock, key)

    # -- params and tags: small, written at once ----------------------------------------
    def log_params(self, params: dict[str, Any]) -> None:
        clean = params_text(params)
        with self._lock:
            self._check_usable()
            if self.document.with_params(clean) is not self.document:  # (raises on a changed value first)
                self._commit(lambda d: d.with_params(clean))

    def set_tags(self, tags: dict[str, Any]) -> None:
        clean = tags_text(tags)
        self.edit(lambda d: d.with_tags(clean))

    def delete_tag(self, key: str) -> None:
        """Raises KeyError when the run has no tag ``key``."""
        store.validate_key(key, "tag key")
        self.edit(lambda d: d.without_tag(key))

    def update_info(self, **fields: Any) -> None:
        self.edit(lambda d: d.with_info(**fields))

    def edit(self, change: Callable[[RunDocument], RunDocument]) -> RunDocument:
        """Apply ``change`` to the run's document as it is on disk now, and write it (``store.doclock``)."""
        with self._lock:
            self._check_usable()
            self._commit(change)
            return self.document

    def _on_disk(self) -> RunDocument:
        """The document as on disk: this writer's own unless another process replaced the file since. Holds
        the document lock. A file that cannot be read any more (damaged by hand) is replaced by the writer's."""
        key = layout.run_doc_key(str(self.path))
        if key is not None and key == self._disk_key:
            return self.document
        try:
            return RunDocument.read(self.path)
        except (OSError, ValueError):
            return self.document

    def _commit(self, change: Callable[[RunDocument], RunDocument] | None = None) -> None:
        """Write the document (``change`` applied to it, when given) with the latest summaries, under the
        document lock; keep it only once it is on disk. When it cannot be written, the points that only the
        new summaries counted are cut back out of their files and made pending again, so files and run.json
        agree. A ``change`` that raises writes nothing. Holds ``_lock``."""
        with self._summary_lock:
            pending = dict(self._next_metrics)
            counted = {key: len(self._keys[key].unsaved) for key in pending}
        with document_lock(self.path):
            base = self._on_disk()
            written = (change(base) if change is not None else base).with_summaries(pending)
            try:
                written.write(self.path)
            except BaseException:
                self._take_back_unsaved()
                raise
            self._disk_key = layout.run_doc_key(str(self.path))
        with self._summary_lock:
            self.document = written
            for key, summary in pending.items():
                state = self._keys[key]
                saved, state.unsaved = state.unsaved[:counted[key]], state.unsaved[counted[key]:]
                state.saved_end += sum(len(chunk.data) for chunk in saved)
                if self._next_metrics.get(key) is summary:  # (not replaced by a flush meanwhile)
                    del self._next_metrics[key]
        self._summaries_written = time.monotonic()

    def _take_back_unsaved(self) -> None:
        with self._files_lock, self._summary_lock:
            for key in self._next_metrics:
                state = self._keys[key]
                try:
                    self._files.rollback(key, state.saved_end)
                except OSError:
                    pass  # the points stay in the file; making them pending again would save them twice
                else:
                    state.put_back(state.unsaved, self._take_lock)
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
        if self._pause is not None:
            self._give_way()
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
        buffer += pack_point(step, timestamp, value)
        if len(buffer) >= CHUNK_BYTES:
            state.seal(self._take_lock)

    def _give_way(self) -> None:
        """While a flush writes points, pause for at most _GIVE_WAY_FOR every _GIVE_WAY_EVERY.

        Every system call of a flush lets a thread logging flat out take the GIL, which it then
        keeps until the flusher forces a switch (5 ms): a flush of 1,000 keys makes a few thousand
        calls and took 0.3-2 s without these pauses. Paused, the logger leaves the GIL to the
        flusher, which makes its calls back to back.
        """
        now = time.perf_counter()
        if now >= self._give_way_at:
            self._give_way_at = now + _GIVE_WAY_EVERY
            pause = self._pause
            if pause is not None:
                pause.wait(_GIVE_WAY_FOR)

    def _add_key(self, key: str) -> KeyState:
        if self.closed:
            raise RuntimeError(f"run {self.run_id} has ended; start or resume a run to log to it")
        store.validate_key(key, "metric key")
        # setdefault: two threads adding the same key at once end up sharing one state
        return self._keys.setdefault(key, KeyState(key, 0))

    # -- flushing -----------------------------------------------------------------------------
    def flush(self, summaries: bool = True) -> None:
        """Append pending points to their files; rewrite the summaries when ``summaries`` is
        true or SUMMARY_SECONDS have passed. Raises what failed.

        Either a key's points are in its file and (once the summaries are written) counted
        in ``run.json``, or they are neither and are still pending.
        """
        if self.closed or self._pid != os.getpid():
            return
        with self._files_lock:
            if self.closed:
                return
            # Loggers give way to a long flush now and then (see _give_way); a short one they never notice.
            self._give_way_at = time.perf_counter() + _GIVE_WAY_AFTER
            pause = self._pause = threading.Event()
            try:
                error = self._append(self._take_all())
            finally:
                self._pause = None
                pause.set()
        if summaries or time.monotonic() - self._summaries_written >= SUMMARY_SECONDS:
            with self._lock:
                if self._next_metrics and not self.closed:
                    try:
                        self._commit()
                    except Exception as e:  # noqa: BLE001 - raised below, after the heartbeat
                        error = error or e
        now = time.time()
        if now - self._last_beat >= store.HEARTBEAT_SECONDS:
            self._last_beat = now
            _touch(self.path / layout.HEARTBEAT)
        if error is not None:
            raise error

    def _take_all(self) -> list[tuple[KeyState, list[Chunk]]]:
        """Every key's pending points as chunks; the points not sealed yet are sealed here, every key's
        at once in a fixed number of numpy calls (a key logged a few times per flush costs no numpy call)."""
        taken, partial, raws = [], [], []
        for state in list(self._keys.values()):
            chunks, raw = state.take(self._take_lock)
            if raw:
                partial.append(len(taken))
                raws.append(raw)
            if chunks or raw:
                taken.append((state, chunks))
        if raws:
            try:
                sealed = seal_points(raws)
            except BaseException:  # (memory) everything pending again; a chunk sealed meanwhile lands before raw
                raw_of = dict(zip(partial, raws))
                with self._take_lock:
                    for i, (state, chunks) in enumerate(taken):
                        state.sealed[0:0] = chunks
                        state.buffer[0:0] = raw_of.get(i, b"")
                raise
            for i, chunk in zip(partial, sealed):
                taken[i][1].append(chunk)
        return taken

    def _append(self, taken: list[tuple[KeyState, list[Chunk]]]) -> BaseException | None:
        """Append each key's chunks to its file and summarise them; chunks that fail are pending again."""
        error = None
        for state, chunks in taken:
            key = state.key
            try:
                old_end = self._files.append_parts(key, [chunk.data for chunk in chunks])
            except Exception as e:  # noqa: BLE001 - its points pending again; the other keys still go out
                state.put_back(chunks, self._take_lock)
                error = error or e
                continue
            count, low, high, last, highest = combine(chunks)
            with self._summary_lock:
                if not state.unsaved:
                    state.saved_end = old_end
                state.unsaved.extend(chunks)
                previous = self._next_metrics.get(key) or self.document.to_dict()["metrics"].get(key)
                self._next_metrics[key] = summary_after(previous, count, low, high, last, highest)
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
            except Exception as e:  # noqa: BLE001 - the run is ended all the same, then this is raised
                failure = e
            with self._files_lock:
                self.closed = True
                try:
                    self._files.sync()
                except OSError as e:
                    failure = failure or e
                finally:
                    self._files.close()
            unsaved = sum(s.pending_count() for s in self._keys.values())
            end_time = end_time if end_time is not None else int(time.time() * 1000)
            try:
                self._commit(lambda d: d.ended(status, end_time, error))
            finally:
                self._run_lock.release()
                _LIVE.discard(self)
            if failure is not None:
                lost = f"save {unsaved} metric points" if unsaved else "sync the metric files"
                raise WriteError(f"tracker could not {lost} of run {self.run_id}: {failure}") from failure

    def _forget(self) -> None:
        """In a forked child: drop the parent's buffers and descriptors without writing anything."""
        # Locks the parent's flusher may have held at the fork stay locked forever in the child.
        self._lock = threading.RLock()
        self._files_lock = threading.RLock()
        self._summary_lock = threading.Lock()
        self._take_lock = threading.Lock()
        self._pause = None
        self.closed = True
        for state in self._keys.values():
            state.forget()
        self._files.forget()
        self._run_lock.forget()


def _touch(heartbeat: Path) -> None:
    """Touch the heartbeat (made again if someone removed it): its mtime tells other machines this writer lives."""
    try:
        heartbeat.touch()
    except OSError:
        pass


def _close_files(files: MetricAppender, lock: RunLock) -> None:
    files.close()
    lock.release()


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
