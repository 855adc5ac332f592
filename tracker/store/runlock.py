"""The writer lock: one process writes a run at a time.

A live writer holds an exclusive lock on ``<run>/writer.lock`` for as long as it writes the run.
The lock is the kernel's (``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows), so
it goes away with the process however it dies: a killed writer never leaves a run stuck.
The file's text names the holder (pid and host) for the error a second writer gets; it
decides nothing, the kernel's lock does.

On a runs folder shared by several machines the kernel's lock may not reach across them
(SMB servers, sshfs, NFS mounted ``nolock``): a run that ``run.json`` says is RUNNING on
another host, with a fresh heartbeat (``liveness.held_elsewhere``), is refused as well.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..exceptions import InvalidState
from . import layout
from .atomic import read_json
from .liveness import STALE_SECONDS, heartbeat_time, held_elsewhere

if os.name == "nt":
    import msvcrt

    # Windows locks are mandatory: lock a byte far past the text so that it stays readable.
    _LOCK_OFFSET = 1 << 30

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        # flock, not fcntl's POSIX locks: those are per process, so two writers in one process
        # would not exclude each other, and closing any copy of the file would drop the lock.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class RunLockedError(InvalidState):
    """Another live writer (process, writer in this process, or a process on another machine) holds
    the run; MLflow's ``MlflowException`` with error code INVALID_STATE, and a RuntimeError."""


class RunLock:
    """An acquired writer lock; ``release`` at the end of the run, ``forget`` in a forked child."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_path: str | os.PathLike, run_id: str, host: str) -> "RunLock":
        """Lock the run for this process, or raise RunLockedError naming the writer that holds it."""
        path = Path(run_path) / layout.WRITER_LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            if not _try_lock(fd):
                holder = _holder(fd)
                raise RunLockedError(
                    f"run {run_id} is being written by another live writer ({holder}); "
                    "one process writes a run at a time: end that run first, or wait for it to finish")
            elsewhere = _writer_elsewhere(path.parent)
            if elsewhere is not None:
                raise RunLockedError(
                    f"run {run_id} is being written by another live writer ({elsewhere}); "
                    "one process writes a run at a time: end that run there first, or, if that "
                    f"machine stopped, resume it here once its heartbeat is {STALE_SECONDS:.0f} s old")
            text = f"pid {os.getpid()} on host {host}\n".encode("utf-8", "backslashreplace")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def release(self) -> None:
        """Unlock: closing the file drops the kernel's lock."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def forget(self) -> None:
        """In a forked child: close the inherited copy. The lock stays the parent's (with flock,
        a lock lives until every copy of the descriptor is closed, so the child must not keep one)."""
        self.release()


def _writer_elsewhere(run_path: Path) -> str | None:
    """The writer on another machine that holds the run, as ``liveness.held_elsewhere`` says; None for
    a run being created (no ``run.json`` yet) or one whose document cannot be read (nothing to defer to)."""
    beat = heartbeat_time(run_path)
    if beat is not None and time.time() - beat >= STALE_SECONDS:
        return None  # no writer anywhere has beaten lately: the document need not be read
    try:
        info = read_json(run_path / layout.RUN_DOC).get("info")
    except (OSError, ValueError, AttributeError):
        return None
    return held_elsewhere(info, run_path) if isinstance(info, dict) else None


def _holder(fd: int) -> str:
    """Who holds the lock, as its text says; shown in the error, never trusted for anything."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 200).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text if text.isprintable() and text else "holder unknown"
