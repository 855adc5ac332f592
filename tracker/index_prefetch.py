"""Refresh a runs directory's index in a helper process while the caller is still starting up.

The desktop app spends its first half second importing Qt. Reading the index of 10,000
runs is a few hundred milliseconds of pure Python, and a thread cannot overlap the two:
both hold the GIL (measured: no gain at all). A helper process can, on the other core.

    prefetch = IndexPrefetch.start(root)   # first thing, before the heavy imports
    ...
    prefetch = IndexPrefetch.take(root)    # later, where the runs are loaded
    result = prefetch.result(progress, should_stop) if prefetch else None
    if result is None: ...                 # the helper failed: refresh in process instead

The helper runs ``RunIndex.refresh_packed`` (the index is updated exactly as by
``refresh``) and streams frames on its stdout: ``("progress", done, total)`` while it
works, then ``("runs", packed runs)`` in chunks of ``CHUNK`` runs and
``("done", index path, cached, reread, removed, written)``, or ``("error", message)``.
Each frame is a 4-byte little-endian length and a marshal payload. The runs cross as
packed index rows and are decoded once, here, by ``unpack``, a chunk at a time while the
helper is still writing the next.

What the helper listed is only as fresh as the moment it listed it: a caller that watches
the directory starts watching, then asks ``stale_runs`` which runs changed since, and
re-reads those.
"""
from __future__ import annotations

import atexit
import marshal
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:  # imported where used: starting the helper should not wait for peewee to import
    from .entities import Run, UnreadableRun
    from .index import IndexResult, Progress, ShouldStop
    from .index_rows import FileKey

_LENGTH = struct.Struct("<I")
CHUNK = 500  # runs per frame: decoding one holds the GIL for a few ms, not for all 10,000 at once
MAX_AGE_S = 60.0  # an unclaimed prefetch older than this is not used (and is killed)
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)  # so the helper imports this tracker

_started: dict[str, "IndexPrefetch"] = {}
_lock = threading.Lock()


class IndexPrefetch:
    """One helper process refreshing one root's index, for one caller to ``take`` and read."""

    def __init__(self, root: Path, proc: subprocess.Popen) -> None:
        self.root = root
        self.started = time.monotonic()
        self._proc = proc
        self.keys: dict[str, FileKey | None] = {}  # run directory name -> run.json key, as the helper saw it
        self._stale_asked = False
        self._open = False  # result() succeeded and the helper still waits for a question
        self._result: IndexResult | None = None

    @classmethod
    def start(cls, root: str | os.PathLike) -> "IndexPrefetch | None":
        """Start the helper for ``root`` (None when it cannot be started: the caller just reads later)."""
        path = Path(root).expanduser().absolute()
        try:
            is_dir = path.is_dir()
        except OSError:  # not even reachable (EACCES on a parent): the app says so when it opens it
            is_dir = False
        if not is_dir or not sys.executable or getattr(sys, "frozen", False):
            return None  # (a frozen app's executable is the app itself, not a Python to run the helper)
        # -S: no site initialisation (~30 ms); the helper gets this process's module path instead,
        # with the folder holding this tracker first.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
            [_PACKAGE_PARENT, *(p for p in sys.path if p and os.path.isdir(p))]))
        try:
            proc = subprocess.Popen([sys.executable, "-S", "-m", "tracker.index_prefetch", str(path)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env)
        except OSError:
            return None
        _widen_pipe(proc.stdout)
        prefetch = cls(path, proc)
        with _lock:
            old = _started.pop(str(path), None)
            _started[str(path)] = prefetch
        if old is not None:
            old.discard()
        return prefetch

    @staticmethod
    def take(root: str | os.PathLike) -> "IndexPrefetch | None":
        """Claim the prefetch started for ``root``, if any and recent; others left unclaimed are cancelled."""
        key = str(Path(root).expanduser().absolute())
        with _lock:
            mine = _started.pop(key, None)
            others = list(_started.values())
            _started.clear()
        for other in others:
            other.discard()
        if mine is not None and time.monotonic() - mine.started > MAX_AGE_S:
            mine.discard()
            return None
        return mine

    def result(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
               each: Callable[[list], None] | None = None) -> IndexResult | None:
        """Wait for the helper and return what ``RunIndex.refresh`` would have; None if it failed.
        Once it has succeeded, it returns the same result again. ``each`` is called with every
        batch of runs (and unreadable runs) as it is decoded: work done there fits in the
        moments spent waiting for the helper's next batch.

        ``result.cancelled`` is set when ``should_stop()`` said stop (or ``cancel`` was called).
        """
        from .index import IndexResult

        if self._result is not None:  # asked again: the same answer (and ``each`` sees it all)
            if each is not None:
                each([*self._result.runs, *self._result.unreadable])
            return self._result
        stream = self._proc.stdout
        root_uri = self.root.resolve().as_uri()  # (for runs read here: once, not once a batch)
        runs: list[Run] = []
        unreadable: list[UnreadableRun] = []
        try:
            while True:
                if should_stop is not None and should_stop():
                    self.cancel()
                    return IndexResult(cancelled=True)
                frame = _read_frame(stream)
                if frame is None:  # it died (or was cancelled)
                    self.cancel()
                    return IndexResult(cancelled=True) if should_stop is not None and should_stop() else None
                kind = frame[0]
                if kind == "progress":
                    if progress is not None:
                        progress(frame[1], frame[2])
                elif kind == "runs":
                    batch = unpack(self.root, frame[1], runs, unreadable, self.keys, root_uri)
                    if each is not None:
                        each(batch)
                elif kind == "done":
                    _, path, cached, reread, removed, written = frame
                    self._open = True  # the helper waits to be asked what changed since (stale_runs)
                    self._result = IndexResult(runs, unreadable, cached=cached, reread=reread, removed=removed,
                                               written=written, path=Path(path) if path else None)
                    return self._result
                else:  # "error", or something unexpected
                    return None
        except (OSError, ValueError, EOFError, TypeError, IndexError):
            self.cancel()
            return None
        finally:
            if not self._open:
                self._reap()

    def request_stale(self) -> None:
        """Ask the helper to look again once it has sent the runs, and name what changed since
        its first look (``stale_runs`` reads the answer). Call it as soon as watching has
        started: the helper's second look then covers the moment between its first one and
        the watch, and it looks while this process is still decoding the runs."""
        if self._stale_asked:
            return
        try:
            self._proc.stdin.write(b"stale\n")
            self._proc.stdin.flush()
            self._stale_asked = True
        except (OSError, ValueError):
            pass  # it has gone: stale_runs looks itself

    def stale_runs(self) -> list[str]:
        """Run directories whose ``run.json`` changed (or appeared, or went) since the helper looked:
        the helper's answer to ``request_stale`` (it looks in its own process, not holding
        this one's GIL), or else found here."""
        if self._open:
            self.request_stale()
            try:
                frame = _read_frame(self._proc.stdout) if self._stale_asked else None
                if frame is not None and frame[0] == "stale":
                    return list(frame[1])
            except (OSError, ValueError, EOFError, TypeError, IndexError):
                pass
            finally:
                self.close()
        return _changed_since(self.keys, str(self.root))

    def close(self) -> None:
        """Let the helper go (after ``result``, when ``stale_runs`` will not be asked)."""
        self._open = False
        self._reap()

    def cancel(self) -> None:
        """Stop the helper (a refresh it leaves half done is simply redone next time).

        Safe from any thread: a ``result`` waiting in another thread returns at once."""
        if self._proc.poll() is None:
            try:
                self._proc.kill()
            except OSError:
                pass

    def discard(self) -> None:
        """Cancel a prefetch nobody will read, and reap the helper."""
        self.cancel()
        self._reap()

    def _reap(self) -> None:
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                if stream is not None:
                    stream.close()  # (the helper exits when its stdin closes)
            except OSError:
                pass
        if self._proc.poll() is None:  # exiting frees its objects for a while: not our wait
            threading.Thread(target=self._proc.wait, name="index-helper-reaper", daemon=True).start()


def unpack(root: Path, packed: list[tuple], runs: list[Run], unreadable: list[UnreadableRun],
           keys: dict[str, FileKey | None], root_uri: str | None = None) -> list[Run | UnreadableRun]:
    """Add the runs of a ``("runs", ...)`` frame to ``runs``/``unreadable`` and their ``run.json``
    keys to ``keys``; return them, in order. Each is ``(name, key, status, reason, key-set blob, data)``, a row of the
    index with its data already decoded by the helper (``_for_frame``); what it could not
    give (no row, or a row that does not decode) is read from disk here."""
    from .entities import Run, UnreadableRun
    from .index_rows import KeySets, from_parts, read_row

    prefix = os.path.join(str(root), "")
    root_uri = root_uri or root.resolve().as_uri()
    keysets = KeySets()
    batch: list[Run | UnreadableRun] = []
    for name, key, status, reason, keyset, data in packed:
        path = prefix + name
        if status is None and reason is not None:
            item = UnreadableRun(name, path, reason)
        else:
            item = from_parts(status, keyset, data, path, keysets) if data is not None else None
            if item is None:
                item = read_row(name, path, key, root_uri, keysets)[0]
        keys[name] = key
        (runs if isinstance(item, Run) else unreadable).append(item)
        batch.append(item)
    return batch


def _newest_first(item: tuple) -> tuple[int, str]:
    data = item[5]
    return (-data[4] if data is not None and type(data[4]) is int else 1, item[0])  # data[4]: start time


def _for_frame(name: str, key: FileKey | None, row: tuple | None, blobs: dict[bytes, bytes]) -> tuple:
    """What ``unpack`` expects of one run, from an index row (decoding its data here, in the helper)."""
    if row is None:
        return name, key, None, None, None, None
    status, reason, keyset, data = row[4], row[5], row[6], row[7]
    if status is None:
        return name, key, None, reason or "unreadable", None, None
    try:
        data = marshal.loads(data)
    except Exception:  # damaged: the receiver reads the run itself
        data = None
    # The runs of a sweep share one key-set blob; as one object, marshal writes it once per
    # frame and the receiver gets one copy.
    return name, key, status, None, blobs.setdefault(keyset, keyset), data


def _changed_since(seen: dict[str, FileKey | None], root: str) -> list[str]:
    """Run directories under ``root`` whose run.json key is not the one in ``seen``, or that came or went."""
    from .store.layout import list_run_dirs, run_doc_key

    try:
        listed = list_run_dirs(root)
    except OSError:
        return []
    current = {name: run_doc_key(path) for name, path in listed}
    return sorted({name for name, key in current.items() if seen.get(name, ...) != key}
                  | (seen.keys() - current.keys()))


def _widen_pipe(stream) -> None:
    """Let the helper write up to 1 MB (two frames) ahead of the reader, where the system allows
    (Linux; the default 64 kB holds an eighth of a frame)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is None:
        return
    try:
        fcntl.fcntl(stream.fileno(), set_size, 1 << 20)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: keep the default


def _read_frame(stream) -> tuple | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = stream.read(length)
    if len(body) < length:
        return None
    frame = marshal.loads(body)
    if type(frame) is not tuple or not frame:
        raise ValueError("not a frame")
    return frame


def _write_frame(stream, frame: tuple) -> None:
    body = marshal.dumps(frame)
    stream.write(_LENGTH.pack(len(body)))
    stream.write(body)
    stream.flush()


@atexit.register
def discard_unclaimed() -> None:
    """Stop every helper nobody claimed (at exit, and in tests)."""
    with _lock:
        left = list(_started.values())
        _started.clear()
    for prefetch in left:
        prefetch.discard()


PARALLEL_FROM = 2000  # run.json files to read before a second process is worth its start


def _read_in_two(items: list[tuple], root_uri: str, keysets, build: bool):
    """``RunIndex``'s ``read_many`` for the helper: with many run.json files to read (a first
    start), a forked process reads the second half while this one reads the first, and
    sends its rows back. Parsing JSON is most of a cold start (10,000 runs: ~1.9 s in one
    process), and while the app waits for the helper, the app's own core is idle."""
    from .index import read_each

    if build or len(items) < PARALLEL_FROM or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        yield from read_each(items, root_uri, keysets, build)
        return
    half = len(items) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()  # (the helper has no other threads: forking is safe)
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            from .index_rows import KeySets
            rows = [(n, row) for n, _, row in read_each(items[half:], root_uri, KeySets(), False)]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(marshal.dumps(rows))
            status = 0
        finally:
            os._exit(status)  # never back into the caller's code (nor its open database)
    os.close(write_end)
    try:
        yield from read_each(items[:half], root_uri, keysets, build)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        rows = marshal.loads(data) if status == 0 else None
    except BaseException:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise
    if rows is None:  # the other process failed: read its half here
        yield from read_each(items[half:], root_uri, keysets, build)
        return
    for n, row in rows:
        yield n, None, row


def main(argv: list[str]) -> int:
    """The helper: refresh the index of ``argv[0]`` and stream the frames to stdout."""
    from .index import RunIndex

    out = sys.stdout.buffer
    try:
        result, packed = RunIndex(argv[0]).refresh_packed(
            lambda done, total: _write_frame(out, ("progress", done, total)), read_many=_read_in_two)
        # Rows go decoded, so the receiver makes their objects in one marshal.loads a frame
        # rather than one call a run (10,000 runs: ~200 -> ~160 ms there, measured).
        # Newest first, as the app lists them: its sorts then find the work done.
        blobs: dict[bytes, bytes] = {}
        items = sorted((_for_frame(name, key, row, blobs) for name, key, row in packed), key=_newest_first)
        for start in range(0, len(items), CHUNK):
            _write_frame(out, ("runs", items[start:start + CHUNK]))
        _write_frame(out, ("done", str(result.path) if result.path else "", result.cached, result.reread,
                           result.removed, result.written))
        if sys.stdin.readline().strip() == "stale":  # (EOF: the caller does not ask)
            _write_frame(out, ("stale", _changed_since({name: key for name, key, _ in packed}, argv[0])))
    except BrokenPipeError:  # the caller went away
        return 1
    except Exception as e:  # the caller falls back to reading in process, which reports it properly
        _write_frame(out, ("error", f"{type(e).__name__}: {e}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
