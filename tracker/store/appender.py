"""Appending to a run's metric files with a bounded number of open files.

A run may have 100,000 metric keys while a process may open only 256 files (macOS) or
1,024 (Linux desktops): at most ``MAX_OPEN`` files stay open, least recently written
closed first. Each file's end is remembered, so reopening costs one ``open`` and no read.
A failed append (a full disk) is cut back to the last whole record, and ``rollback``
takes a flush's records back out, so a file only ever holds what its summary counts.
"""
from __future__ import annotations

import os
import sys
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import layout
from .metricfile import open_for_append
from .regular import open_regular_append

MAX_OPEN = 32
# Up to this many files are fsynced one by one; more at once, since each fsync waits for a
# journal commit (15,000 files: 7.9 s one by one on ext4, 0.2 s with one syncfs).
_FSYNC_EACH_UP_TO = 64
_O_BINARY = getattr(os, "O_BINARY", 0)
_WRITEV_PARTS = 512  # below every system's IOV_MAX (1,024 on Linux and macOS)


class MetricAppender:
    """The open metric files of one run, and where each ends."""

    def __init__(self, run_path: str | os.PathLike) -> None:
        self.run_path = Path(run_path)
        self._open: OrderedDict[str, int] = OrderedDict()  # key -> fd, least recently used first
        self._ends: dict[str, int] = {}  # key -> byte offset just past its last whole record
        self._unsynced: set[str] = set()
        self._paths: dict[str, str] = {}  # key -> its file (building the path is a measurable part of a flush)

    def open_count(self) -> int:
        return len(self._open)

    def append(self, key: str, data: bytes | memoryview) -> int:
        """Append whole records; return the file's previous end (for ``rollback``).

        On an error nothing of ``data`` stays in the file.
        """
        return self.append_parts(key, [data])

    def append_parts(self, key: str, parts: list[bytes | memoryview]) -> int:
        """``append`` of the concatenation of ``parts``, without building it: one ``writev`` per
        ``_WRITEV_PARTS`` parts (a system call, so the GIL is released while the bytes are copied)."""
        fd = self._fd(key)
        old_end = self._ends[key]
        size = 0
        try:
            for first in range(0, len(parts), _WRITEV_PARTS):
                batch = [memoryview(part).cast("B") for part in parts[first:first + _WRITEV_PARTS]]
                size += _writev_all(fd, batch)
        except OSError:
            try:
                os.ftruncate(fd, old_end)
            finally:
                self._close(key)
            raise
        self._ends[key] = old_end + size
        self._unsynced.add(key)
        return old_end

    def rollback(self, key: str, end: int) -> None:
        """Cut ``key``'s file back to ``end`` (a previous end returned by ``append``)."""
        fd = self._open.get(key)
        if fd is not None:
            os.ftruncate(fd, end)
        else:
            os.truncate(self._path(key), end)
        self._ends[key] = end

    def _fd(self, key: str) -> int:
        fd = self._open.get(key)
        if fd is not None:
            self._open.move_to_end(key)
            return fd
        while len(self._open) >= MAX_OPEN:
            self._close(next(iter(self._open)))
        path = self._path(key)
        end = self._ends.get(key)
        if end is None:  # first write in this writer's life: create the header, or cut a torn tail
            with open_for_append(path) as f:
                end = self._ends[key] = f.tell()
                fd = os.dup(f.fileno())  # same open file (append mode), without a second lookup
        else:  # reopened after the LRU closed it: still only a regular file (never block on a FIFO)
            with open_regular_append(path) as f:
                fd = os.dup(f.fileno())
        try:
            size = os.fstat(fd).st_size
            if size > end:  # bytes past our last whole record: a write that failed half way
                os.ftruncate(fd, end)
            elif size < end:
                raise OSError(f"metric file {path} shrank from {end} to {size} bytes while this run was writing it")
        except BaseException:
            os.close(fd)
            raise
        self._open[key] = fd
        return fd

    def _path(self, key: str) -> str:
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = os.fspath(layout.metric_path(self.run_path, key))
        return path

    def _close(self, key: str) -> None:
        fd = self._open.pop(key, None)
        if fd is not None:
            os.close(fd)

    def sync(self) -> None:
        """Make every file written since the last sync durable, in one pass."""
        keys, self._unsynced = self._unsynced, set()
        if not keys:
            return
        if len(keys) > _FSYNC_EACH_UP_TO and _syncfs(self.run_path):
            return
        paths = [self._path(key) for key in keys]
        if len(paths) <= _FSYNC_EACH_UP_TO:
            for path in paths:
                _fsync_path(path)
        else:  # a journaling file system commits concurrent fsyncs together
            with ThreadPoolExecutor(max_workers=16, thread_name_prefix="tracker-fsync") as pool:
                list(pool.map(_fsync_path, paths))
        _fsync_path(self.run_path / layout.METRICS_DIR)  # the new files' names

    def close(self) -> None:
        while self._open:
            self._close(next(iter(self._open)))

    def forget(self) -> None:
        """In a forked child: close the inherited descriptors, write nothing."""
        self._unsynced.clear()
        self.close()


def _writev_all(fd: int, parts: list[memoryview]) -> int:
    """Write every byte of ``parts`` (a short write continues where it stopped); the bytes written."""
    total = sum(len(part) for part in parts)
    if not hasattr(os, "writev"):  # Windows
        for part in parts:
            while part:
                part = part[os.write(fd, part):]
        return total
    left = total
    while left:
        done = os.writev(fd, parts)
        left -= done
        while parts and done >= len(parts[0]):
            done -= len(parts[0])
            parts = parts[1:]
        if done:
            parts = [parts[0][done:], *parts[1:]]
    return total


def _fsync_path(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | _O_BINARY)
    except (IsADirectoryError, PermissionError):
        return  # Windows cannot open a directory to fsync it
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(path: Path) -> bool:
    """Linux's syncfs: flush the one file system holding ``path``. False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs failed: {os.strerror(errno)}", str(path))
    finally:
        os.close(fd)
    return True
