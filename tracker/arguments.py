"""Checking what the public API is given, at the call, before anything is buffered or written.

A value that the writer could not store later (a step past int64, a lone surrogate that
UTF-8 cannot encode, an object whose text is its memory address) is refused here with an
error naming the key, so nothing that passes can fail in the background flusher.
"""
from __future__ import annotations

import os
import types
from collections.abc import Mapping
from typing import Any

from .store import layout

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_NO_TEXT_FORM = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type)


def check_text(value: str, what: str) -> str:
    """Refuse text that UTF-8 cannot encode (a lone surrogate, as ``os.listdir`` returns for a
    file name that is not UTF-8): ``run.json`` is UTF-8, and such text would also break every reader."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"{what} is not valid Unicode text: {value[max(0, e.start - 20):e.end + 20]!r} holds a lone "
            f"surrogate at position {e.start} (a non-UTF-8 file name?); "
            f"convert it first, e.g. os.fsencode(value).decode('utf-8', 'backslashreplace')") from None
    return value


def value_text(value: Any, what: str, limit: int) -> str:
    """The text stored for a param or tag value: ``str(value)``, for values that have a text form."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} is {type(value).__name__}; decode it to str first (its encoding is unknown)")
    elif isinstance(value, _NO_TEXT_FORM) or (
            type(value).__str__ is object.__str__ and type(value).__repr__ is object.__repr__):
        raise TypeError(f"{what} is a {type(value).__name__}, which has no text form to store "
                        f"(str() would give its memory address); pass a string or a number")
    else:
        text = str(value)
        if not isinstance(text, str):
            raise TypeError(f"{what}: str() of the {type(value).__name__} did not return a string")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; the limit is {limit}")
    return check_text(text, what)


def optional_text(value: Any, what: str, limit: int) -> str | None:
    """A name or description argument: None or a string within ``limit`` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}: {value!r}")
    if len(value) > limit:
        raise ValueError(f"{what} is {len(value)} characters long; the limit is {limit}")
    return check_text(value, what)


def mapping(value: Any, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(value).__name__}: {value!r}")
    return value


def _checked_texts(values: Any, kind: str, limit: int) -> dict[str, str]:
    out = {}
    for key, value in mapping(values, f"{kind}s").items():
        layout.validate_key(key, f"{kind} key")
        out[key] = value_text(value, f"{kind} {key!r}: value", limit)
    return out


def params_text(params: Any) -> dict[str, str]:
    """Checked param keys and values as stored (MLflow's 6,000-character value limit)."""
    return _checked_texts(params, "param", layout.MAX_PARAM_VALUE_LENGTH)


def tags_text(tags: Any) -> dict[str, str]:
    """Checked tag keys and values as stored (MLflow's 8,000-character value limit)."""
    return _checked_texts(tags, "tag", layout.MAX_TAG_VALUE_LENGTH)


def to_float(key: str, value: Any) -> float:
    if isinstance(value, (str, bytes)) or not hasattr(type(value), "__float__"):
        raise TypeError(f"metric {key!r}: value {value!r} is a {type(value).__name__}, not a number")
    return float(value)


def to_step(key: str, step: Any) -> int:
    """A metric step: an integer that fits the format's int64."""
    if isinstance(step, bool) or not hasattr(type(step), "__index__"):
        raise TypeError(f"metric {key!r}: step {step!r} is not an integer")
    step = int(step)
    if not INT64_MIN <= step <= INT64_MAX:
        raise ValueError(f"metric {key!r}: step {step} is outside the int64 range [-2**63, 2**63 - 1]")
    return step


def to_timestamp(key: str, timestamp: Any) -> int:
    """A metric timestamp: integer milliseconds since the epoch that fit the format's int64."""
    if isinstance(timestamp, bool) or not hasattr(type(timestamp), "__index__"):
        raise TypeError(f"metric {key!r}: timestamp {timestamp!r} is not an integer (milliseconds since the epoch)")
    timestamp = int(timestamp)
    if not INT64_MIN <= timestamp <= INT64_MAX:
        raise ValueError(f"metric {key!r}: timestamp {timestamp} is outside the int64 range")
    return timestamp


def escape_undecodable(text: str) -> str:
    """Text safe to store: a lone surrogate becomes a backslash escape of the byte it stands for.

    For context the tracker records itself (the script's path, argv), which must never stop a
    run: ``/data/caf\\udce9.py`` (a Latin-1 name read as UTF-8) is stored as ``/data/caf\\xe9.py``.
    """
    try:
        return check_text(text, "text")
    except ValueError:
        pass
    try:
        raw = os.fsencode(text)  # surrogateescape: back to the bytes the name had on disk
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
