"""Whether a RUNNING run's writer still lives: its pid on this host, or its heartbeat file elsewhere."""
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
    if hasattr(os, "uname"):  # what socket.gethostname() returns there, without importing socket (its import: ~15 ms)
        return os.uname().nodename
    import socket
    return socket.gethostname()


_HOST = _hostname()


def this_host() -> str:
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


def effective_status(info: dict[str, Any], run_path: Path) -> str:
    """RUNNING only while the writer lives: a dead pid on this host, or a stale heartbeat elsewhere, reads KILLED."""
    status = info.get("status", RunStatus.RUNNING)
    if status != RunStatus.RUNNING:
        return status
    pid = info.get("pid")
    if info.get("host") == _HOST and isinstance(pid, int):
        return status if _pid_alive(pid, info.get("pid_start")) else RunStatus.KILLED
    try:
        beat = os.stat(run_path / layout.HEARTBEAT).st_mtime
    except OSError:
        beat = (info.get("start_time") or 0) / 1000.0
    return status if time.time() - beat < STALE_SECONDS else RunStatus.KILLED

