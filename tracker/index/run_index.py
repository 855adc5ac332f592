"""``RunIndex``: keeps a runs directory's ``RunTable`` on disk, so reopening 10,000 runs reads one file.

The runs directory stays the single source of truth; the table file is a disposable cache.
``refresh`` lists the directory, stats every ``run.json`` and re-reads only the runs whose
(mtime_ns, size, inode) changed; new runs are added and vanished ones dropped. A RUNNING run
has its status re-derived on every refresh (a dead writer reads KILLED) even when its
``run.json`` did not change.

    index = RunIndex(root)
    result = index.refresh()            # IndexResult: .table, and .runs / .unreadable when wanted
    table = index.patch(table, names)   # re-read a few run folders (the app's watcher)

Where it lives: ``<root>/.tracker-index.npz``, or, when the root is not writable (or holds a
file from a newer tracker, or something that is not a regular file), ``$XDG_CACHE_HOME/
tracker/index/<hash of root>.npz``. A damaged file is read past (runs are read from disk) and
replaced. Several processes may refresh at once: each writes a whole new file and renames it
into place, so a reader sees one complete table or another.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from ..entities import Run, UnreadableRun
from ..store import layout
from ..store.layout import run_doc_key
from ..store.reader import read_run
from ..store.regular import NotRegularFile, check_regular
from ..store.rundoc import read_document
from . import table_file
from .table import RunTable, TableBuilder

INDEX_NAME = layout.INDEX_NAME
_OLD_INDEX_NAMES = (".tracker-index.db", ".tracker-index.db-wal", ".tracker-index.db-shm",
                    ".tracker-index.db-journal")
SCHEMA_VERSION = table_file.FORMAT_VERSION
PARTIAL_FIRST = 500  # runs read before the first partial table is offered (``refresh(partial=)``)
PARTIAL_SECONDS = 1.0  # then one at most this often,
PARTIAL_GROWTH = 1.5  # and only once the runs read have grown by half (each costs a copy of them)
CHUNK = 4096  # runs read before they become columns
_LOOK_WHEN_READ = object()  # the key of a folder new to the table: it is checked, and its key taken, when read

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
Partial = Callable[[RunTable], None]


class IndexUnavailable(RuntimeError):
    """No index file could be used or created (the caller falls back to a plain scan)."""


@dataclass
class IndexResult:
    table: RunTable | None = None
    cached: int = 0  # runs served from the index
    reread: int = 0  # run.json files read this time
    removed: int = 0  # rows dropped for run directories that vanished
    path: Path | None = None  # the index file used
    written: bool = True  # False when the file could not be written (read-only, another process)
    cancelled: bool = False  # should_stop() said stop: the table holds only what was read so far
    _runs: list | None = field(default=None, repr=False, compare=False)

    def _split(self) -> tuple[list[Run], list[UnreadableRun]]:
        if self._runs is None:
            table = self.table
            self._runs = [[], []]
            if table is not None:
                self._runs = [table.runs(table.readable_rows()), table.runs(table.unreadable_rows())]
        return self._runs[0], self._runs[1]

    @property
    def runs(self) -> list[Run]:
        """Every readable run, made on first read (a caller that needs only the table never pays for them)."""
        return self._split()[0]

    @property
    def unreadable(self) -> list[UnreadableRun]:
        return self._split()[1]


def user_cache_path(root: str | os.PathLike) -> Path:
    """The per-user fallback location for ``root``'s index."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha1(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return base / "tracker" / "index" / f"{digest}.npz"


def _writable_beside(root: Path) -> bool:
    beside = root / INDEX_NAME
    return os.access(root, os.W_OK | os.X_OK) and (not beside.exists() or os.access(beside, os.W_OK))


class RunIndex:
    """The index of one runs directory. Plain objects in, plain objects out; usable from any thread."""

    def __init__(self, root: str | os.PathLike, path: str | os.PathLike | None = None, keep: bool = True) -> None:
        """``keep``: hold the table last loaded or saved, so that loading again while nobody wrote
        the file is a ``stat`` (a client's searches). A viewer that holds its own, newer table
        passes False: at 100,000 runs a table kept here after newer ones came is ~100 MB."""
        self.root = Path(root)
        self._root_str = os.fspath(self.root)
        self._wanted_path = Path(path) if path is not None else None
        self.path: Path | None = None  # chosen on first use
        self._lock = threading.RLock()  # calls on one RunIndex run one at a time
        self._keep = keep
        # the table last loaded or saved, with its file's key: loading again is a stat when nobody wrote since
        self._kept: tuple[tuple, RunTable] | None = None

    # ---- the file ------------------------------------------------------------------------------
    def _candidates(self) -> list[Path]:
        if self._wanted_path is not None:
            return [self._wanted_path]
        paths = [self.root / INDEX_NAME] if _writable_beside(self.root) else []
        return [*paths, user_cache_path(self.root)]

    def load(self) -> RunTable | None:
        """The stored table as it is, unchecked against the directory (None: none usable).

        For showing runs at once; ``refresh`` then brings it up to date."""
        with self._lock:
            for path in self._candidates():
                try:
                    check_regular(path)
                    key = _file_key(path)
                    if self._kept is not None and self._kept[0] == key and self.path == path:
                        return self._kept[1]
                    table = table_file.load(path, self._root_str)
                    self._kept = (key, table) if self._keep else None
                except FileNotFoundError:
                    if self.path is None:
                        self.path = path
                    return None
                except table_file.NewerTableFile:
                    continue
                except (table_file.TableFileError, OSError) as e:
                    if isinstance(e, NotRegularFile) or not isinstance(e, table_file.TableFileError):
                        continue  # not ours to read or replace: try the next place
                    self.path = path  # damaged: replaced by the next save
                    return None
                self.path = path
                return table
            raise IndexUnavailable(f"no usable place for the run index of {self.root}")

    def save(self, table: RunTable) -> bool:
        """Store ``table`` (False when it could not be written: the index is only a cache)."""
        with self._lock:
            if self.path is None:
                try:
                    self.load()
                except IndexUnavailable:
                    return False
            for path in [self.path, *[p for p in self._candidates() if p != self.path]]:
                try:
                    check_regular(path)
                    table_file.save(table, path)
                    self._kept = (_file_key(path), table) if self._keep else None
                except OSError:
                    continue
                self.path = path
                if path.parent == self.root:
                    _remove_old_index(self.root)
                return True
            return False

    def clear(self) -> None:
        """Forget the stored table (the next refresh reads every run)."""
        with self._lock:
            for path in self._candidates():
                try:
                    check_regular(path)
                    path.unlink()
                except OSError:
                    pass

    # ---- bringing it up to date -----------------------------------------------------------------
    def refresh(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
                partial: Partial | None = None, table: RunTable | None = None) -> IndexResult:
        """Bring the stored table (or ``table``, already loaded) up to date with the directory.

        ``progress(done, total)`` reports runs checked; ``partial(table)`` gets the table so far
        while many runs are being read (the first after ``PARTIAL_FIRST`` runs), so they can be
        shown before the end. Raises FileNotFoundError / NotADirectoryError / PermissionError
        when the root itself cannot be listed.
        """
        with self._lock:
            names = layout.run_dir_candidates(self._root_str)  # first: a missing root raises, and gets no index file
            if not names and not any(p.exists() for p in self._candidates()):
                return IndexResult(table=RunTable.empty(self._root_str))
            if table is None:
                try:
                    table = self.load()
                except IndexUnavailable:
                    table = None
            table = table if table is not None else RunTable.empty(self._root_str)
            return self._refresh(table, names, progress, should_stop, partial)

    def _refresh(self, table: RunTable, names: list[str], progress: Progress | None,
                 should_stop: ShouldStop | None, partial: Partial | None) -> IndexResult:
        result = IndexResult(path=self.path)
        todo, not_runs = [], set()
        known = table.positions()
        prefix = os.path.join(self._root_str, "")

        def check(name: str, key: tuple[int, int, int] | None) -> None:
            path = prefix + name
            if layout.is_plain_dir(path):
                todo.append((name, path, key))
            else:  # a file, or a link, named like a run: not a run
                not_runs.add(name)

        # The runs known and still listed: their run.json keys against the table's, as whole arrays
        # (the stats are most of a warm search: nothing else is done per run in Python).
        new = [name for name in names if name not in known]
        if len(names) - len(new) == len(known):  # (names in a listing are distinct)
            gone, checked = [], known
        else:
            listed = set(names)
            gone = [d for d in known if d not in listed]
            checked = {d: i for d, i in known.items() if d in listed}
        dirs = list(checked)
        stored = table.file_key_array()
        if len(dirs) != table.n:  # (else every row, in order: a folder is in one row)
            stored = stored[:, np.fromiter(checked.values(), dtype=np.int64, count=len(dirs))]
        keys, found = layout.run_doc_key_arrays(self._root_str, dirs)
        for j in np.flatnonzero(~found | (keys != stored).any(axis=0)).tolist():
            check(dirs[j], tuple(keys[:, j].tolist()) if found[j] else None)
        # Folders not in the table are looked at as they are read, not all first: on a first open of
        # 100,000 runs, the stats alone took ~0.5 s before the first rows could be shown.
        # (made as they are read: 100,000 tuples made at once outlived many collections of the
        # garbage collector, and each full one went through them all)
        to_read = len(todo) + len(new)
        todo = chain(todo, ((name, prefix + name, _LOOK_WHEN_READ) for name in new))
        gone += [d for d in not_runs if d in known]
        total = len(names) - len(not_runs)
        result.cached = total - to_read
        if progress is not None:
            progress(result.cached, total)
        # Read into chunks that become columns as they fill, so the Python objects of one chunk at a
        # time are alive; the chunks are joined once, at the end or when a partial table is offered.
        chunks, builder = [], TableBuilder(self._root_str)
        n_read, offered, offered_n, last_partial = 0, None, 0, None
        for done, (name, path, key) in enumerate(todo, 1):
            if should_stop is not None and done % 32 == 0 and should_stop():
                result.cancelled = True
                break
            if key is _LOOK_WHEN_READ:
                if not layout.is_plain_dir(path):  # a file, or a link, named like a run: not a run
                    total -= 1
                    continue
                key = layout.run_doc_key(path)
            read_into(builder, name, path, key)
            if progress is not None and done % 250 == 0:
                progress(result.cached + done, total)
            if builder.n >= (PARTIAL_FIRST if not n_read else CHUNK):
                n_read += builder.n
                chunks.append(builder.build())
                builder = TableBuilder(self._root_str)
                if partial is not None and n_read >= PARTIAL_GROWTH * offered_n and (
                        last_partial is None or time.monotonic() - last_partial >= PARTIAL_SECONDS):
                    chunks = [RunTable.joined(self._root_str, chunks)]
                    offered, offered_n = table.patched(chunks[0], gone), n_read
                    partial(offered)
                    last_partial = time.monotonic()
        read = RunTable.joined(self._root_str, [*chunks, builder.build()])
        result.reread = read.n
        result.removed = 0 if result.cancelled else len(gone)
        given = table
        if read.n or result.removed:
            table = table.patched(read, [] if result.cancelled else gone)
            result.written = self.save(table)
        if table.has_running() and (table is given or table is offered):
            table = table.with_own_status()  # status is re-derived in place: never in a table handed out
        table.rederive_status()
        result.table, result.path = table, self.path
        if progress is not None and not result.cancelled:
            progress(total, total)
        return result

    def patch(self, table: RunTable, names: Iterable[str], save: bool = False) -> RunTable:
        """``table`` with the run folders ``names`` read again (those gone removed), RUNNING runs re-checked."""
        builder, gone = TableBuilder(self._root_str), []
        for name in dict.fromkeys(names):
            path = os.path.join(self._root_str, name)
            if layout.is_run_dir_name(name) and os.path.isdir(path) and not os.path.islink(path):
                key = run_doc_key(path)
                i = table.position(name)
                if i is None or key is None or table.file_key(i) != key:
                    read_into(builder, name, path, key)
            elif table.position(name) is not None:
                gone.append(name)
        new = table.patched(builder.build(), gone) if builder.n or gone else table.with_own_status()
        new.rederive_status()
        if save and (builder.n or gone):
            with self._lock:
                self.save(new)
        return new

    def update(self, run_ids: Iterable[str]) -> list[Run | UnreadableRun]:
        """Re-check the given runs and store what changed; those whose folder is gone are omitted."""
        ids = list(dict.fromkeys(run_ids))
        if not ids or not os.path.isdir(self._root_str):
            return []
        with self._lock:
            try:
                table = self.load() or RunTable.empty(self._root_str)
            except IndexUnavailable:
                table = RunTable.empty(self._root_str)
            table = self.patch(table, ids, save=True)
        rows = [table.position(run_id) for run_id in ids]
        return [table.run(i) for i in rows if i is not None]

    def close(self) -> None:
        """Nothing stays open between calls; kept for ``with RunIndex(...)``."""

    def __enter__(self) -> "RunIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_into(builder: TableBuilder, name: str, path: str, key: tuple[int, int, int] | None) -> None:
    """Read the run folder ``name`` from disk into ``builder`` (unreadable: with the reason why)."""
    if key is not None:
        try:
            builder.add_document(name, key, read_document(path), path)
            return
        except Exception:  # noqa: BLE001 - any failure: store.read_run names the problem in its own words
            pass
    run = read_run(path)
    if isinstance(run, UnreadableRun):
        # cached only with the key it was read at: a changed run.json is read again
        builder.add_unreadable(name, key, run.reason)
    else:  # the file was just replaced: serve it, do not keep its key (read it again next time)
        builder.add_run(name, None, run)


def _file_key(path: Path) -> tuple:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size, st.st_ino


def _remove_old_index(root: Path) -> None:
    """The SQLite index earlier versions kept beside the runs: replaced by the table file."""
    for name in _OLD_INDEX_NAMES:
        try:
            check_regular(root / name)
            (root / name).unlink()
        except OSError:
            pass
