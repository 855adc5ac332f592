"""The run document (``run.json``): info, params, tags and metric summaries in one small file.

One file per run keeps listing cheap (one read per run, never a metric history) and
lets it be replaced atomically as a whole.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..entities import MetricSummary, Run, RunData, RunInfo, RunStatus
from . import layout
from .atomic import read_json, write_json_atomic

# A writer on another host touches the heartbeat every HEARTBEAT_SECONDS; after
# STALE_SECONDS without one, a RUNNING run is taken to have died.
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0


def _hostname() -> str:
    if hasattr(os, "uname"):  # what socket.gethostname() returns there, without importing socket (~15 ms)
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


def new_document(run_id: str, run_name: str, experiment: str, start_time: int, **info: Any) -> dict[str, Any]:
    return {
        "format_version": layout.FORMAT_VERSION,
        "info": {
            "run_id": run_id, "run_name": run_name, "experiment": experiment,
            "status": RunStatus.RUNNING, "start_time": start_time, "end_time": None, **info,
        },
        "params": {},
        "tags": {},
        "metrics": {},
    }


def read_document(run_path: str | os.PathLike) -> dict[str, Any]:
    """Read and sanity-check ``run.json``; raise ValueError naming what is wrong."""
    doc = read_json(os.path.join(run_path, layout.RUN_DOC))
    if not isinstance(doc, dict) or not isinstance(doc.get("info"), dict):
        raise ValueError("run.json is not a run document (no 'info' object)")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > layout.FORMAT_VERSION:
        raise ValueError(f"run.json has format_version {version!r}; this tracker reads up to {layout.FORMAT_VERSION}")
    for section in ("params", "tags", "metrics"):
        if not isinstance(doc.setdefault(section, {}), dict):
            raise ValueError(f"run.json: '{section}' is not an object")
    if not isinstance(doc["info"].get("run_id"), str):
        raise ValueError("run.json: info.run_id is missing")
    return doc


def write_document(run_path: str | os.PathLike, doc: dict[str, Any]) -> None:
    write_json_atomic(Path(run_path) / layout.RUN_DOC, doc)


def document_to_run(doc: dict[str, Any], run_path: Path) -> Run:
    info = doc["info"]
    summaries = {
        key: MetricSummary(key, s["last"], s["min"], s["max"], s["count"], s["last_step"], s["last_timestamp"])
        for key, s in doc["metrics"].items()
    }
    run_info = RunInfo(
        run_id=info["run_id"],
        run_name=info.get("run_name") or info["run_id"][:8],
        experiment=info.get("experiment") or "Default",
        status=effective_status(info, run_path),
        start_time=int(info.get("start_time") or 0),
        end_time=info.get("end_time"),
        artifact_uri=(run_path / layout.ARTIFACTS_DIR).resolve().as_uri(),
        parent_run_id=info.get("parent_run_id"),
        description=info.get("description") or "",
        user=info.get("user") or "",
        host=info.get("host") or "",
        pid=info.get("pid"),
        error=info.get("error"),
    )
    data = RunData(
        params={str(k): str(v) for k, v in doc["params"].items()},
        tags={str(k): str(v) for k, v in doc["tags"].items()},
        metrics={k: s.last for k, s in summaries.items()},
        summaries=summaries,
    )
    return Run(run_info, data, str(run_path))
