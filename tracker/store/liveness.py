"""Whether a RUNNING run's writer still lives: its pid on this host, or its heartbeat file elsewhere.

A runs folder on a network file system (NFS, SMB) is written from many machines. A pid means
nothing on another machine, so a run whose ``info.host`` is not this host is alive while its
``heartbeat`` file is fresh: its writer touches it every HEARTBEAT_SECONDS, and a reader takes
the run for dead STALE_SECONDS after the last touch. The difference leaves room for the
clocks of the machines to differ by a few seconds (an NFS server stamps the touch with its own).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..entities import RunStatus
from . import layout

# A writer on another host touches the heartbeat every HEARTBEAT_SECONDS; after
# STALE_SECONDS without one, a RUNNING run is taken to have died.
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0


def _hostname() -> str:
    # TRACKER_HOSTNAME names this machine where its host name does not tell it apart (containers
    # or cloned machines sharing one name); it is also how a test plays a second machine.
    named = os.environ.get("TRACKER_HOSTNAME", "").strip()
    if named:
        return named
    if hasattr(os, "uname"):  # what socket.gethostname() returns there, without importing socket (its import: ~15 ms)
        return os.uname().nodename
    import socket
    return socket.gethostname()


_HOST = _hostname()


def this_host() -> str:
    """The name run documents and writer locks give this machine (``TRACKER_HOSTNAME``, else its host name)."""
    return _HOST


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (Linux), so a reused pid is not mistaken for the writer."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _pid_alive(pid: int, start_ticks: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    except OSError:
        return True
    if start_ticks is not None:
        now = process_start_ticks(pid)
        if now is not None and now != start_ticks:
            return False  # the pid was reused by another process
    return True


def heartbeat_time(run_path: str | os.PathLike) -> float | None:
    """When the run's writer last touched its heartbeat (seconds since the epoch); None without one.

    The file is opened before it is read: on NFS an open revalidates the attributes a plain
    ``stat`` may take from the client's cache, up to a minute old.
    """
    path = os.path.join(os.fspath(run_path), layout.HEARTBEAT)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        return os.fstat(fd).st_mtime
    except OSError:
        return None
    finally:
        os.close(fd)


def heartbeat_age(info: dict[str, Any], run_path: str | os.PathLike) -> float:
    """Seconds since the run's writer last touched its heartbeat (since the run started when there is none)."""
    beat = heartbeat_time(run_path)
    if beat is None:
        start = info.get("start_time")
        beat = start / 1000.0 if isinstance(start, (int, float)) else 0.0
    return time.time() - beat


def effective_status(info: dict[str, Any], run_path: Path) -> str:
    """RUNNING only while the writer lives: a dead pid on this host, or a stale heartbeat elsewhere, reads KILLED."""
    status = info.get("status", RunStatus.RUNNING)
    if status != RunStatus.RUNNING:
        return status
    pid = info.get("pid")
    if info.get("host") == _HOST and isinstance(pid, int):
        return status if _pid_alive(pid, info.get("pid_start")) else RunStatus.KILLED
    return status if heartbeat_age(info, run_path) < STALE_SECONDS else RunStatus.KILLED


def held_elsewhere(info: dict[str, Any], run_path: str | os.PathLike) -> str | None:
    """Who writes the run from another machine, while its heartbeat says that writer lives
    (``"pid 12 on host gpu-2, heartbeat 3 s ago"``); None when the run is free to take up here.

    A writer lock (flock) reaches across machines only where the network file system carries
    locks (NFS with its lock manager, not SMB on every server, never sshfs): this is the check
    that holds everywhere.
    """
    host = info.get("host")
    if info.get("status", RunStatus.RUNNING) != RunStatus.RUNNING or not isinstance(host, str) or host == _HOST:
        return None
    age = heartbeat_age(info, run_path)
    if age >= STALE_SECONDS:
        return None
    pid = info.get("pid")
    who = f"pid {pid} on host {host}" if isinstance(pid, int) else f"host {host}"
    return f"{who}, heartbeat {max(age, 0.0):.0f} s ago"
