"""Opening files found in a runs directory: regular files only, never blocking.

Anything under a runs directory may have been replaced by something that is not a file:
opening a FIFO for reading waits for a writer forever, and opening a device can have
side effects. Every reader of a run-directory file opens it through ``open_regular``,
which looks before it opens (``stat``), opens non-blocking (a FIFO that appears between
the look and the open does not block either) and checks what it opened (``fstat``).
"""
from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_APPEND_FLAGS = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
                 | getattr(os, "O_CLOEXEC", 0))

_KINDS = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """The path names something other than a regular file (a FIFO, a device, a directory...).

    ``strerror`` is the whole explanation, e.g. "run.json is not a regular file (it is a named pipe (FIFO))".
    """


def describe_mode(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _refuse(path: str | os.PathLike, mode: int) -> NotRegularFile:
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    return NotRegularFile(errno.EINVAL, f"{name} is not a regular file (it is {describe_mode(mode)})",
                          os.fspath(path))


def _open_checked(path: str | os.PathLike, flags: int, mode: int = 0o666) -> int:
    try:
        before = os.stat(path)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
    else:
        if not stat.S_ISREG(before.st_mode):
            raise _refuse(path, before.st_mode)
    fd = os.open(path, flags, mode)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, st.st_mode)
        if flags & getattr(os, "O_NONBLOCK", 0) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: plain blocking I/O from here on
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_regular(path: str | os.PathLike) -> None:
    """Raise NotRegularFile when ``path`` exists and is not a regular file (for files that
    another library opens, such as SQLite's database file: it would block on a FIFO)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file (symlinks are followed).

    Raises NotRegularFile (an OSError) for anything else, and the usual OSErrors
    (FileNotFoundError, PermissionError...) when it cannot be opened.
    """
    return os.fdopen(_open_checked(path, _READ_FLAGS), "rb")


def open_regular_append(path: str | os.PathLike) -> BinaryIO:
    """Open (creating if needed) a regular file for appending in binary mode; NotRegularFile otherwise.

    Opening a FIFO for writing without a reader fails at once (ENXIO) rather than waiting.
    """
    return os.fdopen(_open_checked(path, _APPEND_FLAGS), "ab")
