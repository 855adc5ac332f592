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
transactions with a busy timeout, every row is validated by its file key on read, and a
process that loses a race for the write lock skips writing (it re-reads next time).

Rows are packed with ``marshal`` (several times faster to load than JSON). A packed row
is only unpacked when its key matches the ``run.json`` on disk, inode included, so rows
from an index copied from elsewhere are never decoded.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import marshal
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee

from . import store
from .entities import MetricSummary, Run, RunData, RunInfo, RunStatus, UnreadableRun
from .store import layout
from .store.rundoc import effective_status, read_document

INDEX_NAME = ".tracker-index.db"
SCHEMA_VERSION = 2
APPLICATION_ID = 0x54524B49  # "TRKI": marks the file as a tracker index
BUSY_TIMEOUT = 5.0  # seconds to wait for another process's write lock

_PACK_VERSION = 1  # bump when the packed tuple changes (the schema version covers it too)
_BATCH = 500  # rows per INSERT; runs read per committed transaction is _COMMIT_EVERY
_COMMIT_EVERY = 2000
_RUNNING = RunStatus.RUNNING

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


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


# ---- packing runs --------------------------------------------------------------------------

# A packed run is one tuple (marshal.dumps of it is the row's data):
#   (_PACK_VERSION, run_id, run_name, experiment, start_time, end_time, artifact_uri,
#    parent_run_id, description, user, host, pid, error, pid_start,
#    params, tags, {metric key: (last, min, max, count, last_step, last_timestamp)})
# The stored status is a column of its own: RUNNING is re-derived on every read.

def _packed_from_document(doc: dict[str, Any], artifact_uri: str) -> tuple:
    """What ``rundoc.document_to_run`` makes of a document, as a tuple (tests keep the two equal).

    Keys repeat across runs: interned, 10,000 runs share one copy of each once loaded.
    """
    intern = sys.intern
    info = doc["info"]
    run_id = info["run_id"]
    pid_start = info.get("pid_start")
    return (
        _PACK_VERSION, run_id, info.get("run_name") or run_id[:8],
        intern(info.get("experiment") or store.DEFAULT_EXPERIMENT),
        int(info.get("start_time") or 0), info.get("end_time"), artifact_uri, info.get("parent_run_id"),
        info.get("description") or "", intern(info.get("user") or ""), intern(info.get("host") or ""),
        info.get("pid"), info.get("error"), pid_start if isinstance(pid_start, int) else None,
        {intern(str(k)): str(v) for k, v in doc["params"].items()},
        {intern(str(k)): str(v) for k, v in doc["tags"].items()},
        {intern(k): (s["last"], s["min"], s["max"], s["count"], s["last_step"], s["last_timestamp"])
         for k, s in doc["metrics"].items()},
    )


def _summary_fields_are(*names: str) -> bool:
    try:
        fields = tuple(f.name for f in dataclasses.fields(MetricSummary))
    except TypeError:
        return False
    return (fields == names and "__slots__" not in MetricSummary.__dict__
            and not hasattr(MetricSummary, "__post_init__"))


# A frozen dataclass's __init__ sets each field through object.__setattr__, which is most
# of the cost of loading 100,000 summaries; while MetricSummary is the plain frozen
# dataclass it is, filling its __dict__ directly builds an equal object in half the time.
_FAST_SUMMARY = _summary_fields_are("key", "last", "min", "max", "count", "last_step", "last_timestamp")
_new = object.__new__
_set = object.__setattr__


def _run_from_packed(packed: tuple, status: str, path: str) -> Run:
    (version, run_id, name, experiment, start, end, uri, parent, description, user, host, pid, error,
     pid_start, params, tags, metric_summaries) = packed
    if version != _PACK_VERSION:
        raise ValueError(f"run packed by version {version!r}")
    if status == _RUNNING:  # is its writer still alive? (a dead one reads KILLED)
        status = effective_status(
            {"status": status, "pid": pid, "pid_start": pid_start, "host": host, "start_time": start}, Path(path))
    summaries = {}
    metrics = {}
    if _FAST_SUMMARY:
        for key, (last, lo, hi, count, last_step, last_ts) in metric_summaries.items():
            summary = _new(MetricSummary)
            _set(summary, "__dict__", {"key": key, "last": last, "min": lo, "max": hi, "count": count,
                                       "last_step": last_step, "last_timestamp": last_ts})
            summaries[key] = summary
            metrics[key] = last
    else:
        for key, (last, lo, hi, count, last_step, last_ts) in metric_summaries.items():
            summaries[key] = MetricSummary(key, last, lo, hi, count, last_step, last_ts)
            metrics[key] = last
    info = RunInfo(run_id, name, experiment, status, start, end, uri, parent, description, user, host, pid, error)
    return Run(info, RunData(params, tags, metrics, summaries), path)


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
        entries = self._list_root()  # before opening: a missing root gets no index file
        if not entries and not self._exists():
            return IndexResult()  # nothing to index: leave an empty directory as it was
        with _no_gc():  # ~1.5 million new objects per 10,000 runs, all kept: collecting meanwhile is wasted work
            return self._with_index(self._refresh, entries, progress, should_stop)

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

    def _refresh(self, entries: list[tuple[str, str]], progress: Progress | None,
                 should_stop: ShouldStop | None) -> IndexResult:
        root_uri = self.root.resolve().as_uri()
        keyed = [(name, path, self._stat(path)) for name, path in entries]
        result = IndexResult()
        rows = self._fetch_rows(None)
        result.path = self.path
        total = len(keyed)
        out: list[Run | UnreadableRun | None] = [None] * total
        todo: list[int] = []
        from_row = self._from_row
        for n, (name, path, key) in enumerate(keyed):
            row = rows.pop(name, None)
            hit = from_row(row, key, path) if row is not None else None
            if hit is None:
                todo.append(n)
            else:
                out[n] = hit
        result.cached = total - len(todo)
        if progress is not None:
            progress(result.cached, total)
        pending: list[tuple] = []
        for done, n in enumerate(todo, 1):
            if should_stop is not None and done % 32 == 0 and should_stop():
                result.cancelled = True
                break
            name, path, key = keyed[n]
            out[n], row = self._read(name, path, key, root_uri)
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
                present.append((run_id, path, self._stat(path)))
            else:
                gone.append(run_id)
        out: list[Run | UnreadableRun] = []
        rows = self._fetch_rows(ids)
        pending = []
        for run_id, path, key in present:
            row = rows.get(run_id)
            hit = self._from_row(row, key, path) if row is not None else None
            if hit is None:
                hit, row = self._read(run_id, path, key, root_uri)
                if row is not None:
                    pending.append(row)
            out.append(hit)
        self._write(pending, [run_id for run_id in gone if run_id in rows])
        return out

    # -- the directory ---------------------------------------------------------------------
    def _list_root(self) -> list[tuple[str, str]]:
        out = []
        root = self._root_str
        with os.scandir(root) as it:  # FileNotFoundError / PermissionError reach the caller
            for entry in it:
                name = entry.name
                if len(name) == 32 and layout.is_run_dir_name(name):
                    try:
                        if not entry.is_dir(follow_symlinks=False):
                            continue
                    except OSError:
                        continue
                    out.append((name, os.path.join(root, name)))
        return out

    @staticmethod
    def _stat(run_path: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(os.path.join(run_path, layout.RUN_DOC))
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    # -- rows ---------------------------------------------------------------------------------
    @staticmethod
    def _from_row(row: tuple, key: tuple[int, int, int] | None, path: str) -> Run | UnreadableRun | None:
        """The run a row holds, when its key still matches the file; None means re-read it."""
        if key is None or (row[1], row[2], row[3]) != key:
            return None
        name, _, _, _, status, reason, blob = row
        if status is None:
            return UnreadableRun(name, path, reason or "unreadable")
        try:
            return _run_from_packed(marshal.loads(blob), status, path)
        except Exception:  # a damaged or foreign row: read the file instead
            return None

    @staticmethod
    def _read(name: str, path: str, key: tuple[int, int, int] | None,
              root_uri: str) -> tuple[Run | UnreadableRun, tuple | None]:
        """Read one run from disk; returns it and the row to store (None: do not cache)."""
        if key is None:  # no run.json, or no permission: say why, cache nothing
            return store.read_run(path), None
        try:
            doc = read_document(path)
            artifacts = os.path.join(path, layout.ARTIFACTS_DIR)
            if os.path.islink(artifacts):
                uri = Path(artifacts).resolve().as_uri()
            else:  # what Path.resolve() gives, without its per-component lstat calls
                uri = f"{root_uri}/{name}/{layout.ARTIFACTS_DIR}"
            packed = _packed_from_document(doc, uri)
            status = doc["info"].get("status", _RUNNING)
            if not isinstance(status, str):
                raise TypeError(f"status {status!r} is not text")
            run = _run_from_packed(packed, status, path)
            blob = marshal.dumps(packed)
        except Exception:
            # store.read_run names the problem in its own words; if it manages to read the
            # run after all (the file was just replaced, or holds something unusual), the
            # run is served but not cached.
            result = store.read_run(path)
            if isinstance(result, UnreadableRun):
                return result, (name, *key, None, result.reason, None)
            return result, None
        return run, (name, *key, status, None, blob)

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
                data = peewee.BlobField(null=True)  # the packed run

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
        fields = (Row.run_id, Row.mtime_ns, Row.size, Row.ino, Row.status, Row.reason, Row.data)
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
        fields = [Row.run_id, Row.mtime_ns, Row.size, Row.ino, Row.status, Row.reason, Row.data]
        sql, _ = self._db.get_sql_context().sql(
            Row.insert_many([("", 0, 0, 0, None, None, None)], fields=fields).on_conflict_replace()).query()

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

