"""The checks between the bytes of ``run.json`` and every reader: what passes has the types
``entities.Run`` promises."""
from __future__ import annotations

import os
from typing import Any

from ..entities import DUPLICATE_REASON, RunStatus
from . import layout


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
                    raise RunDocumentError(f"run.json: {section}[{_key(key)}] holds text that is not valid Unicode"
                                           " (a lone surrogate)") from None


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


def copied_folder_reason(path: str, run_id: str) -> str:
    """Why a folder whose run.json names ``run_id`` is not listed as that run."""
    original = os.path.join(os.path.dirname(path.rstrip("/" + os.sep)), run_id)
    if os.path.isdir(original):
        return f"{DUPLICATE_REASON}{run_id}: this folder is a copy of {original}"
    return f"run.json belongs to run {run_id}, not to this folder (it was renamed or copied)"

