"""A disposable SQLite index (peewee) over a runs directory, so reopening 10,000 runs is instant.

The runs directory stays the single source of truth. The index holds one row per run:
the (mtime_ns, size, inode) of its ``run.json`` when it was read, its stored status, and
the run (info, params, tags, metric summaries) packed compactly. ``refresh`` lists the
directory, stats every ``run.json`` and re-reads only the runs whose key changed; new runs
are added, vanished ones dropped. RUNNING runs get their status re-derived on every
refresh and update (a dead writer reads KILLED) even when ``run.json`` did not change.

    index = RunIndex(root)
    result = index.refresh()            # IndexResult(runs, unreadable, ...)
    index.update([run_id, ...])         # re-read a few runs (the app's watcher)

Where it lives: ``<root>/.tracker-index.db``, or, when the root is not writable (or holds
an index from a newer tracker), ``$XDG_CACHE_HOME/tracker/index/<hash of root>.db``.
A corrupt file is deleted and rebuilt; one from an older schema version is emptied and
rebuilt in place. Several processes may refresh at once: writes are IMMEDIATE
transactions with a busy timeout, every row is validated by its file key and its checksum
on read, and a process that loses a race for the write lock skips writing (it re-reads next
time).

Rows are packed with ``marshal`` (several times faster to load than JSON; the format is in
``tracker/index_rows.py``). A packed row is only unpacked when its key matches the
``run.json`` on disk, inode included, so rows from an index copied from elsewhere are never
decoded, and when its checksum matches its contents, so a damaged row is read from disk
again (and rewritten) rather than served.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee

from .entities import Run, UnreadableRun
from .index_rows import KeySets, from_row, intact, read_row
from .store.layout import list_run_dirs, run_doc_key
from .store import layout
from .store.regular import check_regular

INDEX_NAME = ".tracker-index.db"
SCHEMA_VERSION = 4
APPLICATION_ID = 0x54524B49  # "TRKI": marks the file as a tracker index
BUSY_TIMEOUT = 5.0  # seconds to wait for another process's write lock

_BATCH = 500  # rows per INSERT; runs read per committed transaction is _COMMIT_EVERY
_COMMIT_EVERY = 2000

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
# (items, root_uri, keysets, build) -> (n, run or None, row) for each (n, name, path, key) item
ReadMany = Callable[[list[tuple], str, KeySets, bool], Iterator[tuple]]


def read_each(items: list[tuple], root_uri: str, keysets: KeySets, build: bool) -> Iterator[tuple]:
    """Read the run.json of each ``(n, name, path, key)`` in turn (``index_rows.read_row``)."""
    for n, name, path, key in items:
        item, row = read_row(name, path, key, root_uri, keysets, build)
        yield n, item, row


class IndexUnavailable(RuntimeError):
    """No index file could be opened or created (the caller falls back to a plain scan)."""


@dataclass
class IndexResult:
    runs: list[Run] = field(default_factory=list)
    unreadable: list[UnreadableRun] = field(default_factory=list)
    cached: int = 0  # runs served from the index
    reread: int = 0  # run.json files read this time
    removed: int = 0  # rows dropped for run directories that vanished
    cancelled: bool = False  # should_stop() said stop: runs holds what was done so far
    written: bool = True  # False when another process held the write lock (nothing lost)
    path: Path | None = None  # the index file


# ---- where the index lives -----------------------------------------------------------------

def user_cache_path(root: str | os.PathLike) -> Path:
    """The per-user fallback location for ``root``'s index."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha1(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return base / "tracker" / "index" / f"{digest}.db"


def _candidate_paths(root: Path) -> list[Path]:
    beside = root / INDEX_NAME
    paths = []
    if os.access(root, os.W_OK | os.X_OK) and (not beside.exists() or os.access(beside, os.W_OK)):
        paths.append(beside)
    paths.append(user_cache_path(root))
    return paths


# ---- the index -----------------------------------------------------------------------------

def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "no such table", "no such column",
                                   "disk i/o error"))


class _Rebuild(Exception):
    pass


class RunIndex:
    """The index of one runs directory. Plain objects in, plain objects out; usable from any thread."""

    def __init__(self, root: str | os.PathLike, path: str | os.PathLike | None = None,
                 busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.root = Path(root)
        self._root_str = os.fspath(self.root)
        self._wanted_path = Path(path) if path is not None else None
        self.busy_timeout = busy_timeout
        self.path: Path | None = None  # chosen on first use
        self._db: peewee.SqliteDatabase | None = None
        self._Row: type[peewee.Model] | None = None
        self._lock = threading.RLock()  # calls on one RunIndex run one at a time

    # -- public API ----------------------------------------------------------------------
    def refresh(self, progress: Progress | None = None, should_stop: ShouldStop | None = None) -> IndexResult:
        """Bring the index up to date with the directory and return every run.

        Raises FileNotFoundError / NotADirectoryError / PermissionError when the root
        itself cannot be listed, and IndexUnavailable when no index file can be opened.
        """
        return self._refresh_listed(progress, should_stop, None, None)

    def update(self, run_ids: Iterable[str]) -> list[Run | UnreadableRun]:
        """Re-check the given runs (a targeted refresh); runs whose directory is gone are dropped and omitted."""
        ids = list(dict.fromkeys(run_ids))
        if not ids or not os.path.isdir(self._root_str):
            return []
        return self._with_index(self._update, ids)

    def clear(self) -> None:
        """Empty the index (the next refresh reads every run)."""
        self._with_index(lambda: self._write_txn(lambda: self._Row.delete().execute()))

    def _exists(self) -> bool:
        if self._wanted_path is not None:
            return self._wanted_path.exists()
        return (self.root / INDEX_NAME).exists() or user_cache_path(self.root).exists()

    def _with_index(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` with the index open; a file found corrupt on the way is deleted and ``fn`` run again."""
        with self._lock:
            for attempt in (1, 2):
                self._open()
                try:
                    return fn(*args)
                except _Rebuild as e:
                    if attempt == 2:
                        raise IndexUnavailable(f"the run index {self.path} keeps failing: {e.__cause__}") from e
                    self._close()
                    _delete_database(self.path)
                finally:
                    self._close()

    def refresh_packed(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
                       read_many: ReadMany | None = None) -> tuple[IndexResult, list[tuple]]:
        """``refresh``, with the runs left packed: ``(name, key, row)`` each, in listing order,
        where ``row`` is None for a run to be read from disk. ``result.runs`` stays empty.

        For a helper process that refreshes the index and hands the runs to another process,
        which unpacks them (``tracker.index_prefetch.unpack``) without decoding them twice.
        ``read_many`` may replace ``read_each`` for the run.json files to read (only rows are
        needed here, not runs, so they may be read by other processes).
        """
        packed: list[tuple] = []
        return self._refresh_listed(progress, should_stop, packed, read_many), packed

    def _refresh_listed(self, progress: Progress | None, should_stop: ShouldStop | None,
                        packed: list[tuple] | None, read_many: ReadMany | None) -> IndexResult:
        entries = list_run_dirs(self._root_str)  # before opening: a missing root gets no index file
        if not entries and not self._exists():
            return IndexResult()  # nothing to index: leave an empty directory as it was
        with _no_gc():  # ~1.5 million new objects per 10,000 runs, all kept: collecting meanwhile is wasted work
            return self._with_index(self._refresh, entries, progress, should_stop, packed, read_many)

    def _refresh(self, entries: list[tuple[str, str]], progress: Progress | None, should_stop: ShouldStop | None,
                 packed: list[tuple] | None = None, read_many: ReadMany | None = None) -> IndexResult:
        root_uri = self.root.resolve().as_uri()
        keyed = [(name, path, run_doc_key(path)) for name, path in entries]
        result = IndexResult()
        rows = self._fetch_rows(None)
        result.path = self.path
        total = len(keyed)
        out: list[Run | UnreadableRun | None] = [None] * total
        todo: list[int] = []
        keysets = KeySets()
        for n, (name, path, key) in enumerate(keyed):
            row = rows.pop(name, None)
            if row is None:
                hit = None
            elif packed is None:
                hit = from_row(row, key, path, keysets)
            else:  # checked by key and checksum; the receiver decodes it (and re-reads it if damaged)
                hit = (name, key, row) if intact(row, key, keysets) else None
            if hit is None:
                todo.append(n)
            else:
                out[n] = hit
        result.cached = total - len(todo)
        if progress is not None:
            progress(result.cached, total)
        pending: list[tuple] = []
        reading = [(n, *keyed[n]) for n in todo]
        reader = read_each if packed is None or read_many is None else read_many
        for done, (n, item, row) in enumerate(reader(reading, root_uri, keysets, packed is None), 1):
            if should_stop is not None and done % 32 == 0 and should_stop():
                result.cancelled = True
                break
            name, _, key = keyed[n]
            out[n] = item if packed is None else (name, key, row)
            if row is not None:
                pending.append(row)
            result.reread += 1
            if len(pending) >= _COMMIT_EVERY:
                result.written &= self._write(pending, ())
                pending = []
            if progress is not None and done % 250 == 0:
                progress(result.cached + done, total)
        removed = list(rows) if not result.cancelled else []
        result.removed = len(removed)
        result.written &= self._write(pending, removed)
        if progress is not None and not result.cancelled:
            progress(total, total)
        if packed is not None:
            packed.extend(item for item in out if item is not None)
            return result
        for item in out:
            if item is None:
                continue
            (result.runs if isinstance(item, Run) else result.unreadable).append(item)
        return result

    def _update(self, ids: list[str]) -> list[Run | UnreadableRun]:
        root_uri = self.root.resolve().as_uri()
        present, gone = [], []
        for run_id in ids:
            path = os.path.join(self._root_str, run_id)
            if layout.is_run_dir_name(run_id) and os.path.isdir(path) and not os.path.islink(path):
                present.append((run_id, path, run_doc_key(path)))
            else:
                gone.append(run_id)
        out: list[Run | UnreadableRun] = []
        rows = self._fetch_rows(ids)
        pending = []
        keysets = KeySets()
        for run_id, path, key in present:
            row = rows.get(run_id)
            hit = from_row(row, key, path, keysets) if row is not None else None
            if hit is None:
                hit, row = read_row(run_id, path, key, root_uri, keysets)
                if row is not None:
                    pending.append(row)
            out.append(hit)
        self._write(pending, [run_id for run_id in gone if run_id in rows])
        return out

    # -- database ------------------------------------------------------------------------------
    def _open(self) -> None:
        """Connect to the first usable index file, creating or rebuilding it as needed."""
        candidates = [self._wanted_path] if self._wanted_path is not None else _candidate_paths(self.root)
        if self.path is not None and self.path in candidates:  # keep what worked last time
            candidates.remove(self.path)
            candidates.insert(0, self.path)
        problems = []
        for path in candidates:
            try:
                self._connect(path)
                self.path = path
                return
            except _NewerSchema as e:
                problems.append(f"{path}: {e}")
            except (peewee.PeeweeException, sqlite3.Error, OSError) as e:
                problems.append(f"{path}: {e}")
            self._close()
        raise IndexUnavailable("cannot open a run index: " + "; ".join(problems))

    def _connect(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        check_regular(path)  # SQLite would wait forever on a FIFO at our name: try the next place
        for attempt in (1, 2):
            db = peewee.SqliteDatabase(
                str(path), timeout=self.busy_timeout,
                pragmas={"synchronous": "NORMAL", "temp_store": "MEMORY", "trusted_schema": "OFF"})

            class RunRow(peewee.Model):
                run_id = peewee.TextField(primary_key=True)
                mtime_ns = peewee.BigIntegerField()
                size = peewee.BigIntegerField()
                ino = peewee.BigIntegerField()
                status = peewee.TextField(null=True)  # as stored in run.json; NULL: unreadable
                reason = peewee.TextField(null=True)  # why it is unreadable
                keys = peewee.BlobField(null=True)  # the packed run: its key sets...
                data = peewee.BlobField(null=True)  # ...and everything else
                checksum = peewee.BigIntegerField()  # CRC-32 of status, reason, keys, data (index_rows)

                class Meta:
                    database = db
                    table_name = "runs"

            self._db, self._Row = db, RunRow
            try:
                db.connect()
                self._ensure_schema()
                return
            except _NewerSchema:
                raise
            except peewee.DatabaseError as e:
                self._close()
                if attempt == 2 or _is_busy(e) or not _is_corrupt(e):
                    raise
                _delete_database(path)  # corrupt: start again from an empty file

    def _ensure_schema(self) -> None:
        db = self._db
        if (db.pragma("application_id"), db.pragma("user_version")) == (APPLICATION_ID, SCHEMA_VERSION):
            return
        with db.atomic("IMMEDIATE"):  # one process creates or migrates; the others wait, then see it done
            app_id, version = db.pragma("application_id"), db.pragma("user_version")
            if (app_id, version) == (APPLICATION_ID, SCHEMA_VERSION):
                return
            if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
                raise _NewerSchema(f"index schema {version} is newer than this tracker's {SCHEMA_VERSION}")
            for table in db.get_tables():  # an older index (or a foreign file at our name): start afresh
                db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
            self._Row.create_table(safe=True)
            db.pragma("application_id", APPLICATION_ID)
            db.pragma("user_version", SCHEMA_VERSION)

    def _close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:
                pass
        self._db = None
        self._Row = None

    def close(self) -> None:
        """Nothing stays open between calls; kept for symmetry and ``with RunIndex(...)``."""
        self._close()

    def __enter__(self) -> "RunIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fetch_rows(self, ids: list[str] | None) -> dict[str, tuple]:
        Row = self._Row
        fields = (Row.run_id, Row.mtime_ns, Row.size, Row.ino, Row.status, Row.reason, Row.keys, Row.data,
                  Row.checksum)
        try:
            # peewee builds the query; the raw cursor skips its per-value conversions (none are needed)
            if ids is None:
                return {row[0]: row for row in self._db.execute(Row.select(*fields)).fetchall()}
            rows = {}
            for chunk in _chunks(ids, _BATCH):
                query = Row.select(*fields).where(Row.run_id.in_(chunk))
                rows.update((row[0], row) for row in self._db.execute(query).fetchall())
            return rows
        except (peewee.DatabaseError, sqlite3.Error) as e:  # fetchall() raises sqlite3's own errors
            if _is_busy(e):
                return {}  # re-read everything this time; correct, only slower
            raise _Rebuild() from e

    def _write(self, rows: list[tuple], removed: Iterable[str]) -> bool:
        removed = list(removed)
        if not rows and not removed:
            return True
        Row = self._Row
        # peewee renders one row's SQL; executemany binds the rest (peewee's own insert_many
        # spends longer building SQL text for 10,000 rows than SQLite spends storing them)
        fields = [Row.run_id, Row.mtime_ns, Row.size, Row.ino, Row.status, Row.reason, Row.keys, Row.data,
                  Row.checksum]
        sql, _ = self._db.get_sql_context().sql(
            Row.insert_many([("", 0, 0, 0, None, None, None, None, 0)], fields=fields).on_conflict_replace()).query()

        def write() -> None:
            for chunk in _chunks(removed, _BATCH):
                Row.delete().where(Row.run_id.in_(chunk)).execute()
            if rows:
                self._db.cursor().executemany(sql, rows)

        return self._write_txn(write)

    def _write_txn(self, fn: Callable[[], Any]) -> bool:
        try:
            with self._db.atomic("IMMEDIATE"):
                fn()
            return True
        except (peewee.DatabaseError, sqlite3.Error) as e:  # executemany() raises sqlite3's own errors
            if _is_busy(e) or "readonly" in str(e).lower() or "read-only" in str(e).lower():
                return False  # another process holds the lock, or we cannot write: the index is a cache
            if _is_corrupt(e):
                raise _Rebuild() from e
            return False


class _NewerSchema(Exception):
    pass


@contextlib.contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _delete_database(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]

