"""A run's console output: the process's stdout and stderr teed into ``artifacts/output.log``.

The tee is at the file-descriptor level: descriptors 1 and 2 are pointed (``os.dup2``) at a pipe
while the run is active, and a thread copies what arrives both to where they pointed before
(the terminal, a file, a parent's pipe) and to the log. So output of C extensions, of
``os.system`` and of child processes (which inherit the descriptors) is in the log too. Each
line is written to the log as it is read (``output_pump``: no buffering, a reader following the
file sees it at once; a part line waits at most half a second), so a run that is killed keeps
everything up to the kill. The log is made at the first byte: a run that prints nothing has none.
When 1 and 2 are the same file (a terminal, ``2>&1``) one pipe carries both, so their order is kept.

What changes while capturing: descriptors 1 and 2 are pipes, so a child process asking
``isatty`` gets False (colours, progress bars and line buffering may change in children).
Python's own ``sys.stdout``/``sys.stderr`` keep the buffering they chose at start-up.

``stop`` puts the descriptors back exactly, after flushing Python's streams, and joins the
copying threads once they have drained the pipes; a child process that still holds a pipe
keeps the copying thread alive until it exits, writing where output went before.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from pathlib import Path

from .output_pump import Stream, start_copying
from .store import layout

ENV = "TRACKER_CAPTURE_OUTPUT"
JOIN_SECONDS = 2.0  # at stop, how long a copying thread may take to drain its pipe


def output_log_path(run_path: str | os.PathLike) -> Path:
    """Where a run's console output is (it may not exist: capture was off)."""
    return Path(run_path) / layout.ARTIFACTS_DIR / layout.OUTPUT_LOG


def traceback_path(run_path: str | os.PathLike) -> Path:
    """Where the full traceback of a failed run is (only when it failed with an exception)."""
    return Path(run_path) / layout.ARTIFACTS_DIR / layout.TRACEBACK_FILE


def read_output(run_path: str | os.PathLike, position: int = 0, max_bytes: int = 1 << 20) -> tuple[bytes, int]:
    """Up to ``max_bytes`` of a run's ``output.log`` from byte ``position``, and the position after them:
    call again with it to follow a live run (an empty read: nothing new yet). No log: ``(b"", 0)``.
    The bytes are what the process wrote (ANSI colours, ``\r`` progress bars); a chunk may end inside
    a UTF-8 character or a line."""
    from .store.regular import open_regular
    try:
        with open_regular(output_log_path(run_path)) as f:
            f.seek(position)
            data = f.read(max_bytes)
    except FileNotFoundError:
        return b"", 0
    return data, position + len(data)


def interactive() -> bool:
    """A notebook, an IPython shell or ``python -i``: nothing to capture that the user does not see."""
    if sys.flags.interactive or hasattr(sys, "ps1"):
        return True
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return (callable(get) and get() is not None) or "ipykernel" in sys.modules


def should_capture(capture_output: bool | None) -> bool:
    """``start_run``'s decision: its argument when given, else ``TRACKER_CAPTURE_OUTPUT`` (0/1), else on for a
    script's main process and off in interactive sessions and in worker processes (their output reaches
    the main process's descriptors, captured there)."""
    if capture_output is not None:
        return bool(capture_output)
    env = os.environ.get(ENV, "").strip().lower()
    if env:
        return env not in ("0", "false", "no", "off")
    return not interactive() and multiprocessing.parent_process() is None


class OutputCapture:
    """Tees descriptors 1 and 2 into ``log_path`` between ``start`` and ``stop``."""

    def __init__(self, log_path: str | os.PathLike) -> None:
        self.log_path = Path(log_path)
        self._saved: list[tuple[int, int]] = []  # (descriptor, a copy of what it was) to put back
        self._threads: list[threading.Thread] = []
        self._pid = os.getpid()

    @property
    def active(self) -> bool:
        return bool(self._saved)

    def start(self) -> bool:
        """Start capturing; False (and nothing changed) when there is nothing to capture (descriptors closed)."""
        targets = [fd for fd in (1, 2) if _is_open(fd)]
        if not targets or self._saved:
            return False
        _flush_python_streams()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        groups = [targets] if len(targets) == 2 and _same_file(1, 2) else [[fd] for fd in targets]
        streams: list[Stream] = []
        pipe_ends: list[int] = []  # the write end of each group's pipe
        try:
            for group in groups:
                read_fd, write_fd = os.pipe()
                pipe_ends.append(write_fd)
                streams.append(Stream(read_fd, -1))
                streams[-1].tee_fd = os.dup(group[0])
        except BaseException:
            for fd in pipe_ends:
                os.close(fd)
            for stream in streams:
                stream.close()
            raise
        self._threads = start_copying(streams, self.log_path)
        try:
            for group, write_fd in zip(groups, pipe_ends):
                for fd in group:
                    saved = os.dup(fd)
                    self._saved.append((fd, saved))
                    os.dup2(write_fd, fd)
        except BaseException:
            self.stop()
            raise
        finally:
            for fd in pipe_ends:  # only descriptors 1/2 hold the pipes now: putting them back ends the copying
                os.close(fd)
        return True

    def stop(self) -> None:
        """Put descriptors 1 and 2 back as they were and wait for the copies to finish. Idempotent."""
        if os.getpid() != self._pid:
            return  # a forked child: the descriptors and threads are the parent's
        if self._saved:
            _flush_python_streams()
        saved, self._saved = self._saved, []
        for fd, copy in saved:
            try:
                os.dup2(copy, fd)
            finally:
                os.close(copy)
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(JOIN_SECONDS)

    def forget(self) -> None:
        """In a forked child: drop the parent's capture without touching the descriptors."""
        for _, copy in self._saved:
            try:
                os.close(copy)
            except OSError:
                pass
        self._saved, self._threads = [], []


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _same_file(a: int, b: int) -> bool:
    try:
        return os.path.samestat(os.fstat(a), os.fstat(b))
    except OSError:
        return False


def _flush_python_streams() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - closed, its descriptor gone, or a reentrant call from a signal handler
            pass


# -- the fluent API's capture: one at a time in a process (descriptors are the process's) --------------
_current: tuple[str, OutputCapture] | None = None  # (run id, its capture)
_current_lock = threading.Lock()


def start_for_run(run_id: str, run_path: str | os.PathLike, capture_output: bool | None) -> bool:
    """Capture into the run's ``output.log`` when ``should_capture`` says so and no run of this process
    captures already (a nested run's output is in its parent's log)."""
    global _current
    if not should_capture(capture_output):
        return False
    with _current_lock:
        if _current is not None:
            return False
        capture = OutputCapture(output_log_path(run_path))
        try:
            started = capture.start()
        except OSError:  # no pipe, no log file: the run goes on without its output
            return False
        if started:
            _current = (run_id, capture)
        return started


def stop_for_run(run_id: str) -> None:
    """Stop capturing if ``run_id``'s run is the one capturing."""
    global _current
    with _current_lock:
        if _current is None or _current[0] != run_id:
            return
        capture, _current = _current[1], None
    capture.stop()


def keep_traceback(run_path: str | os.PathLike, text: str) -> None:
    """Store a failure's full traceback beside the run's artifacts; never raises (the failure matters more)."""
    try:
        from .artifacts import log_text
        log_text(Path(run_path) / layout.ARTIFACTS_DIR, text, layout.TRACEBACK_FILE)
    except Exception:  # noqa: BLE001 - a full disk must not hide the exception being reported
        pass


def _forget_after_fork() -> None:
    global _current, _current_lock
    if _current is not None:
        _current[1].forget()
    _current = None
    _current_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
