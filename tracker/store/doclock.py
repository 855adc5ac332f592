"""The document lock: every change to a run's ``run.json`` is a read-modify-write under it.

``writer.lock`` (``runlock``) says which process *writes* a run (logs metrics and params) and
is held for the whole run. Tags, the name, the description and the status can also be edited
by another process (the app, a script) while that writer lives; both sides then read the
current ``run.json``, change it and replace it while holding ``run.json.lock``, for the few
milliseconds that takes, so neither writes back a copy that misses the other's change.

The lock is the kernel's (``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows) on a
file of its own: ``run.json`` itself is replaced by a rename, so a lock on it would be a lock
on a file that is no longer there. A process that dies holding it loses it with its descriptors.

``update_document`` is the one way code outside the writer edits a run's document.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from . import layout

if TYPE_CHECKING:
    from .rundoc import RunDocument

DOC_LOCK = "run.json.lock"

if os.name == "nt":
    import msvcrt

    _LOCK_OFFSET = 1 << 30

    def _lock(fd: int) -> None:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
                return
            except OSError:
                continue
else:
    import fcntl

    def _lock(fd: int) -> None:
        # flock: per open file, so two threads of one process (each opening the file) exclude each other
        fcntl.flock(fd, fcntl.LOCK_EX)


_held: set[int] = set()  # descriptors holding a document lock in this process (closed in a forked child)
_held_lock = threading.Lock()


@contextmanager
def document_lock(run_path: str | os.PathLike) -> Iterator[None]:
    """Hold ``run_path``'s document lock (waiting for another holder, who holds it only for one write).

    Raises FileNotFoundError when the run folder is gone (deleted, or moved to the trash while we waited).
    """
    path = Path(run_path)
    fd = os.open(path / DOC_LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0),
                 0o644)
    try:
        _lock(fd)
        with _held_lock:
            _held.add(fd)
        # the folder may have been moved (to the trash) while we waited: the lock we hold is then its lock
        if not os.path.exists(path / layout.RUN_DOC):
            raise FileNotFoundError(f"run folder {path} is gone")
        yield
    finally:
        with _held_lock:
            _held.discard(fd)
        os.close(fd)  # closing drops the kernel's lock


def update_document(run_path: str | os.PathLike, change: Callable[["RunDocument"], "RunDocument"]) -> "RunDocument":
    """Read ``run.json``, apply ``change`` and write the result, all under the document lock; the new document.

    ``change`` returns the document unchanged to write nothing. It may raise: nothing is written then.
    """
    from .rundoc import RunDocument
    with document_lock(run_path):
        document = RunDocument.read(run_path)
        changed = change(document)
        if changed is not document:
            changed.write(run_path)
        return changed


def _forget_after_fork() -> None:
    """A forked child must not keep a copy of a held lock's descriptor: with flock, the lock would last
    until the child closed it too, and every other editor of that run would wait for the child."""
    global _held_lock
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()
    _held_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
