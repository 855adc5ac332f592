"""The run document (``run.json``): info, params, tags and metric summaries in one small file.

One file per run keeps listing cheap (one read per run, never a metric history) and
lets it be replaced atomically as a whole.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..entities import DUPLICATE_REASON, MetricSummary, Run, RunData, RunInfo, RunStatus
from . import layout
from .atomic import read_json, write_json_atomic
from .experiments import DEFAULT_EXPERIMENT, legacy_experiment_id

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


class RunDocumentError(ValueError):
    """``run.json`` is not a valid run document; the message names the field and what is wrong."""


class CopiedRunFolder(RunDocumentError):
    """``run.json`` names another run than its folder: the folder was copied or renamed."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id  # the run the document belongs to


# Bounds that keep every later use safe: times that datetime can show (year 9999 at most),
# pids that os.kill takes (a C int). (A summary's counts are only shown: any integer will do.)
_MAX_TIME_MS = 253_402_128_000_000  # 9999-12-30: a day of slack for any local time zone
_INT64 = 2 ** 63
_PID_LIMIT = 2 ** 31
_TEXT_FIELDS = ("run_name", "experiment", "experiment_id", "parent_run_id", "description", "user", "host", "error")
_INT_FIELDS = (("start_time", 0, _MAX_TIME_MS), ("end_time", 0, _MAX_TIME_MS), ("pid", 1, _PID_LIMIT - 1),
               ("pid_start", 0, _INT64 - 1))
_SUMMARY_NUMBERS = ("last", "min", "max")
_SUMMARY_INTS = ("count", "last_step", "last_timestamp")


def _shown(value: Any) -> str:
    """A short, printable account of a bad value for an error message."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _key(key: str) -> str:
    """A key as error messages show it: quoted, escaped, at most ~60 characters."""
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_int(where: str, value: Any, low: int, high: int) -> None:
    if type(value) is not int:
        raise RunDocumentError(f"run.json: {where} must be an integer, not {_shown(value)}")
    if not low <= value <= high:
        raise RunDocumentError(f"run.json: {where} {value} is out of range ({low} to {high})")


def _texts_of(section: str, mapping: dict) -> str:
    """The values of ``mapping`` joined, checking they are text (the loop only names the culprit)."""
    try:
        return "".join(mapping.values())
    except TypeError:
        for key, value in mapping.items():
            if type(value) is not str:
                raise RunDocumentError(f"run.json: {section}[{_key(key)}] must be text, not {_shown(value)}") from None
        raise


def _check_summary(key: str, summary: Any) -> None:
    if type(summary) is not dict:
        raise RunDocumentError(f"run.json: metrics[{_key(key)}] must be an object, not {_shown(summary)}")
    for field in _SUMMARY_NUMBERS:
        value = summary.get(field)
        kind = type(value)
        if kind is float:
            continue
        if kind is int:  # a hand-written whole number: stored as the float every reader expects
            try:
                summary[field] = float(value)
            except OverflowError:
                raise RunDocumentError(f"run.json: metrics[{_key(key)}].{field} is too large for a float") from None
            continue
        if field not in summary:
            raise RunDocumentError(f"run.json: metrics[{_key(key)}] has no {field!r}")
        raise RunDocumentError(f"run.json: metrics[{_key(key)}].{field} must be a number, not {_shown(value)}")
    for field in _SUMMARY_INTS:
        value = summary.get(field)
        if type(value) is not int:
            if field not in summary:
                raise RunDocumentError(f"run.json: metrics[{_key(key)}] has no {field!r}")
            raise RunDocumentError(f"run.json: metrics[{_key(key)}].{field} must be an integer, not {_shown(value)}")
    _check_highest_step(key, summary)


def _check_highest_step(key: str, summary: dict) -> None:
    """The optional pair (``max_step``, ``value_at_max_step``): both or neither (older documents have neither)."""
    if "max_step" not in summary and "value_at_max_step" not in summary:
        return
    step, value = summary.get("max_step"), summary.get("value_at_max_step")
    if type(step) is not int:
        raise RunDocumentError(f"run.json: metrics[{_key(key)}].max_step must be an integer, not {_shown(step)}")
    if type(value) is int:
        try:
            summary["value_at_max_step"] = float(value)
        except OverflowError:
            raise RunDocumentError(
                f"run.json: metrics[{_key(key)}].value_at_max_step is too large for a float") from None
    elif type(value) is not float:
        raise RunDocumentError(
            f"run.json: metrics[{_key(key)}].value_at_max_step must be a number, not {_shown(value)}")


def _check_metrics(metrics: dict) -> None:
    """Every summary is well formed: one plain pass for the common case (10 metrics: ~2.5 us),
    then summary by summary, which names the culprit, when anything is off."""
    try:
        for s in metrics.values():
            if not (type(s["last"]) is float and type(s["min"]) is float and type(s["max"]) is float
                    and type(s["count"]) is int and type(s["last_step"]) is int
                    and type(s["last_timestamp"]) is int
                    and (type(s.get("max_step", 0)) is int and type(s.get("value_at_max_step", 0.0)) is float)
                    and ("max_step" in s) == ("value_at_max_step" in s)):
                break
        else:
            return
    except (TypeError, KeyError):  # a summary that is not an object, or lacks a field
        pass
    for key, summary in metrics.items():
        _check_summary(key, summary)


def _check_unicode(doc: dict, joined: str) -> None:
    """No text holds a lone surrogate (JSON's \\ud800 escapes decode to one; nothing can print or store it)."""
    try:
        joined.encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    for section in ("info", "params", "tags", "metrics"):
        for key, value in doc[section].items():
            for text in (key, value if type(value) is str else ""):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise RunDocumentError(
                        f"run.json: {section}[{_key(key)}] holds text that is not valid Unicode (a lone surrogate)") from None


def check_document(doc: Any, folder: str | None = None) -> dict[str, Any]:
    """Check every field ``document_to_run`` and the run index read; raise RunDocumentError naming the first bad one.

    The one gate between the bytes of ``run.json`` and every reader: whatever passes has the
    types ``entities.Run`` promises. Whole-number metric values are turned into floats in place.
    ``folder``, the name of the run's directory, must be the run id the document holds.
    """
    if type(doc) is not dict or type(doc.get("info")) is not dict:
        raise RunDocumentError("run.json is not a run document (no 'info' object)")
    version = doc.get("format_version")
    if type(version) is not int or version > layout.FORMAT_VERSION or version < 1:
        raise RunDocumentError(
            f"run.json has format_version {version!r}; this tracker reads 1 to {layout.FORMAT_VERSION}")
    for section in ("params", "tags", "metrics"):
        if type(doc.setdefault(section, {})) is not dict:
            raise RunDocumentError(f"run.json: '{section}' must be an object, not {_shown(doc[section])}")
    info = doc["info"]
    run_id = info.get("run_id")
    if run_id is None:
        raise RunDocumentError("run.json: info.run_id is missing")
    if type(run_id) is not str or not layout.is_run_dir_name(run_id):
        raise RunDocumentError(f"run.json: info.run_id must be 32 lowercase hex characters, not {_shown(run_id)}")
    texts = [value for value in map(info.get, _TEXT_FIELDS) if value is not None]
    try:
        joined = "".join(texts)
    except TypeError:
        for field in _TEXT_FIELDS:
            value = info.get(field)
            if value is not None and type(value) is not str:
                raise RunDocumentError(f"run.json: info.{field} must be text, not {_shown(value)}") from None
    status = info.get("status", RunStatus.RUNNING)
    if type(status) is not str or status not in RunStatus.ALL:
        raise RunDocumentError(f"run.json: info.status must be one of {', '.join(RunStatus.ALL)}, not {_shown(status)}")
    for field, low, high in _INT_FIELDS:
        value = info.get(field)
        if value is not None and (type(value) is not int or not low <= value <= high):
            _check_int(f"info.{field}", value, low, high)
    params, tags, metrics = doc["params"], doc["tags"], doc["metrics"]
    parts = (joined, "".join(params), _texts_of("params", params), "".join(tags), _texts_of("tags", tags),
             "".join(metrics))
    _check_metrics(metrics)
    if not all(map(str.isascii, parts)):  # (a flag of each string: free) is the rest all valid Unicode?
        _check_unicode(doc, "".join(parts))
    if folder is not None and run_id != folder:
        raise CopiedRunFolder(f"run.json belongs to run {run_id}, not to a folder named {_key(folder)}", run_id)
    return doc


def read_document(run_path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``run.json``; raise ValueError (``RunDocumentError`` for a bad field) naming what is wrong."""
    path = os.fspath(run_path)
    doc = read_json(os.path.join(path, layout.RUN_DOC))
    try:
        return check_document(doc, os.path.basename(path.rstrip("/" + os.sep)))
    except CopiedRunFolder as e:
        raise CopiedRunFolder(copied_folder_reason(path, e.run_id), e.run_id) from None


def copied_folder_reason(path: str, run_id: str) -> str:
    """Why a folder whose run.json names ``run_id`` is not listed as that run."""
    original = os.path.join(os.path.dirname(path.rstrip("/" + os.sep)), run_id)
    if os.path.isdir(original):
        return f"{DUPLICATE_REASON}{run_id}: this folder is a copy of {original}"
    return f"run.json belongs to run {run_id}, not to this folder (it was renamed or copied)"


def write_document(run_path: str | os.PathLike, doc: dict[str, Any]) -> None:
    write_json_atomic(Path(run_path) / layout.RUN_DOC, doc)


def document_to_run(doc: dict[str, Any], run_path: Path) -> Run:
    info = doc["info"]
    summaries = {
        key: MetricSummary(key, s["last"], s["min"], s["max"], s["count"], s["last_step"], s["last_timestamp"],
                           s.get("max_step", s["last_step"]), s.get("value_at_max_step", s["last"]))
        for key, s in doc["metrics"].items()
    }
    run_info = RunInfo(
        run_id=info["run_id"],
        run_name=info.get("run_name") or info["run_id"][:8],
        experiment=info.get("experiment") or DEFAULT_EXPERIMENT,
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
        experiment_id=info.get("experiment_id") or legacy_experiment_id(info.get("experiment") or DEFAULT_EXPERIMENT),
    )
    data = RunData(
        params={str(k): str(v) for k, v in doc["params"].items()},
        tags={str(k): str(v) for k, v in doc["tags"].items()},
        metrics={k: s.value_at_max_step for k, s in summaries.items()},
        summaries=summaries,
    )
    return Run(run_info, data, str(run_path))
