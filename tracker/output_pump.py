"""Copying captured output (``output_capture``): each pipe's bytes to where its descriptor pointed
before, at once and untouched, and to the run's log, a line at a time.

Lines: when stdout and stderr go to different places they come through two pipes, and a line
printed in two writes (``print`` to stderr writes its text, then its newline) could be cut by
the other stream's output in the log. So the log gets each pipe's bytes up to its last line end
(``\\n``, or ``\\r`` for progress bars), and a part line waits for its end, or ``PARTIAL_SECONDS``.
On POSIX one thread waits on every pipe (``selectors``), so lines land in the order they were
written; on Windows, where pipes cannot be selected, a thread per pipe.
"""
from __future__ import annotations

import os
import selectors
import threading
import time
from pathlib import Path

PARTIAL_SECONDS = 0.5  # a line without its end yet goes to the log after this long (so at least once a second)
CHUNK = 65536


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Log:
    """The log file: opened at the first byte (a run that prints nothing has no log), one descriptor and
    one lock for every copying thread (appends through separate descriptors are not atomic on every
    file system), closed when the last of its ``users`` threads is done."""

    def __init__(self, path: Path, users: int) -> None:
        self.path = path
        self._fd = -1
        self._users = users
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            try:
                if self._fd < 0:
                    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
                    self._fd = os.open(self.path, flags, 0o644)
                write_all(self._fd, data)
            except OSError:  # a full disk, the run folder gone: the terminal still gets everything
                pass

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._fd >= 0:
                fd, self._fd = self._fd, -1
                os.close(fd)


class Stream:
    """One pipe, where its bytes went before (``tee_fd``), and its part line not yet in the log."""

    def __init__(self, read_fd: int, tee_fd: int) -> None:
        self.read_fd = read_fd
        self.tee_fd = tee_fd
        self.partial = b""
        self.since = 0.0  # when the part line began

    def take(self, data: bytes) -> bytes:
        """What of ``data`` (after the part line kept before) goes to the log now: up to its last line end."""
        buffer = self.partial + data
        cut = max(buffer.rfind(b"\n"), buffer.rfind(b"\r")) + 1
        if not self.partial:
            self.since = time.monotonic()
        self.partial = buffer[cut:]
        return buffer[:cut]

    def rest(self) -> bytes:
        rest, self.partial = self.partial, b""
        return rest

    def tee(self, data: bytes) -> None:
        try:
            write_all(self.tee_fd, data)
        except OSError:  # the terminal went away: the log still gets everything
            pass

    def close(self) -> None:
        for fd in (self.read_fd, self.tee_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def _read(stream: Stream) -> bytes:
    while True:
        try:
            return os.read(stream.read_fd, CHUNK)
        except InterruptedError:
            continue
        except OSError:
            return b""


def copy_selecting(streams: list[Stream], log: Log) -> None:
    """POSIX: copy every stream from one thread until every writer of every pipe has closed it."""
    selector = selectors.DefaultSelector()
    for stream in streams:
        selector.register(stream.read_fd, selectors.EVENT_READ, stream)
    try:
        while selector.get_map():
            open_streams = [key.data for key in selector.get_map().values()]
            waiting = [s.since for s in open_streams if s.partial]
            timeout = max(0.0, min(waiting) + PARTIAL_SECONDS - time.monotonic()) if waiting else None
            for key, _ in selector.select(timeout):
                stream = key.data
                data = _read(stream)
                if not data:  # every writer closed the pipe
                    log.write(stream.rest())
                    selector.unregister(stream.read_fd)
                    stream.close()
                    continue
                log.write(stream.take(data))  # the log first: what the terminal has shown is in the log
                stream.tee(data)
            now = time.monotonic()
            for stream in open_streams:
                if stream.partial and now - stream.since >= PARTIAL_SECONDS:
                    log.write(stream.rest())
    finally:
        for key in list(selector.get_map().values()):
            log.write(key.data.rest())
            key.data.close()
        selector.close()
        log.release()


def copy_blocking(stream: Stream, log: Log) -> None:
    """Windows: copy one stream until every writer has closed its pipe (a part line waits for more bytes)."""
    try:
        while True:
            data = _read(stream)
            if not data:
                break
            log.write(stream.take(data))
            stream.tee(data)
    finally:
        log.write(stream.rest())
        stream.close()
        log.release()


def start_copying(streams: list[Stream], log_path: Path) -> list[threading.Thread]:
    """Start the copying thread(s) of ``streams`` into the log at ``log_path``."""
    if os.name != "nt":
        jobs = [(copy_selecting, (streams, Log(log_path, 1)), "tracker-output")]
    else:
        log = Log(log_path, len(streams))
        jobs = [(copy_blocking, (stream, log), f"tracker-output-{n}") for n, stream in enumerate(streams)]
    threads = [threading.Thread(target=target, args=args, daemon=True, name=name) for target, args, name in jobs]
    for thread in threads:
        thread.start()
    return threads
