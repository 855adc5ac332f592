"""Hypothesis strategies for runs directories holding damaged and malformed run documents.

``runs_dirs()`` draws a list of ``Planned`` runs; ``write_runs(root, planned)`` writes them.
Each planned run says what a reader must make of it: ``good`` (listed as a run, with this
name, experiment, params and metrics), ``bad`` (listed as unreadable) or ``either`` (a random
document: listed once, one way or the other). Shared by the library's tests and the app's fuzz.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tracker import store
from tracker.entities import RunStatus
from tracker.store import layout

MAX_TIME = 253_402_128_000_000

# Text as people type it, and as they should not: control characters, escapes, right-to-left
# overrides, NUL, emoji (Hypothesis' default alphabet: all of Unicode but lone surrogates).
texts = st.text(max_size=24) | st.sampled_from(
    ["", " ", "\x1b[31mred\x1b[0m", "\u202eevil", "a\x00b", "tab\there", "line\nbreak", "é" * 40, "🙂", "x" * 300,
     "long " * 4000])
json_scalars = (st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
                | st.floats(allow_nan=True, allow_infinity=True) | texts)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=6)
not_text = json_values.filter(lambda v: v is not None and not isinstance(v, str))
not_int = json_values.filter(lambda v: v is not None and type(v) is not int)
not_number = json_values.filter(lambda v: type(v) not in (int, float))  # (None included: a missing value)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-2 ** 53, max_value=2 ** 53)


@dataclass
class Planned:
    run_id: str
    kind: str  # "good", "bad" or "either"
    content: bytes  # what run.json holds
    doc: dict | None = None  # for a good run: the document written
    why: str = ""  # for a bad run: what was done to it
    metric_files: dict[str, bytes] = field(default_factory=dict)  # key -> bytes of its metric file

    @property
    def name(self) -> str:
        return self.doc["info"].get("run_name") or self.run_id[:8]

    @property
    def experiment(self) -> str:
        return self.doc["info"].get("experiment") or "Default"


def _encode(doc: Any, ascii_only: bool = False) -> bytes:
    """JSON as the writer writes it (UTF-8), or all ASCII with \\u escapes (lone surrogates as such)."""
    return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8")


@st.composite
def summaries(draw: st.DrawFn) -> dict:
    return {"last": draw(numbers), "min": draw(numbers), "max": draw(numbers),
            "count": draw(st.integers(0, 2 ** 40)), "last_step": draw(st.integers(-2 ** 63, 2 ** 63 - 1)),
            "last_timestamp": draw(st.integers(0, MAX_TIME))}


@st.composite
def valid_documents(draw: st.DrawFn, run_id: str) -> dict:
    def maybe(strategy: st.SearchStrategy) -> Any:
        return draw(st.none() | strategy)

    doc = store.new_document(run_id, draw(texts), draw(texts), draw(st.integers(0, MAX_TIME)))
    info = doc["info"]
    info.update(
        status=draw(st.sampled_from(RunStatus.ALL)), end_time=maybe(st.integers(0, MAX_TIME)),
        parent_run_id=maybe(st.sampled_from(["0" * 32, run_id]) | texts), description=maybe(texts),
        user=maybe(texts), host=maybe(texts), pid=maybe(st.integers(1, 2 ** 31 - 1)),
        pid_start=maybe(st.integers(0, 2 ** 40)), error=maybe(texts))
    for optional in draw(st.sets(st.sampled_from(["run_name", "experiment", "end_time", "user", "host", "pid"]))):
        info.pop(optional, None)
    doc["params"] = draw(st.dictionaries(texts, texts, max_size=4))
    doc["tags"] = draw(st.dictionaries(texts, texts, max_size=3))
    doc["metrics"] = draw(st.dictionaries(texts.filter(bool), summaries(), max_size=4))
    return doc


_TEXT_FIELDS = ("run_name", "experiment", "parent_run_id", "description", "user", "host", "error")
_INT_FIELDS = {"start_time": (0, MAX_TIME), "end_time": (0, MAX_TIME), "pid": (1, 2 ** 31 - 1),
               "pid_start": (0, 2 ** 63 - 1)}


@st.composite
def broken(draw: st.DrawFn, doc: dict) -> tuple[bytes, str]:
    """A document made invalid in one drawn way: (what run.json holds, what was done)."""
    info = doc["info"]
    how = draw(st.sampled_from([
        "text field", "status", "int field", "int range", "run id", "copied id", "no run id", "param", "tag",
        "summary", "summary field", "version", "section", "not an object", "truncated", "garbage bytes",
        "utf-16", "bom", "lone surrogate"]))
    if how == "text field":
        info[draw(st.sampled_from(_TEXT_FIELDS))] = draw(not_text)
    elif how == "status":
        info["status"] = draw(json_values.filter(lambda v: v not in RunStatus.ALL and v is not None))
    elif how == "int field":
        info[draw(st.sampled_from(sorted(_INT_FIELDS)))] = draw(not_int)
    elif how == "int range":
        name = draw(st.sampled_from(sorted(_INT_FIELDS)))
        low, high = _INT_FIELDS[name]
        info[name] = draw(st.integers(max_value=low - 1) | st.integers(min_value=high + 1))
    elif how == "run id":
        info["run_id"] = draw(json_values.filter(lambda v: not (isinstance(v, str) and layout.is_run_dir_name(v))))
    elif how == "copied id":
        info["run_id"] = "0" * 31 + "1" if info["run_id"] != "0" * 31 + "1" else "0" * 31 + "2"
    elif how == "no run id":
        del info["run_id"]
    elif how in ("param", "tag"):
        doc["params" if how == "param" else "tags"][draw(texts)] = draw(not_text)
    elif how == "summary":
        doc["metrics"][draw(texts)] = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    elif how == "summary field":
        summary = draw(summaries())
        name = draw(st.sampled_from(sorted(summary)))
        if name in ("last", "min", "max"):
            summary[name] = draw(not_number)
        else:
            summary[name] = draw(not_int)
        if summary[name] is None and draw(st.booleans()):
            del summary[name]
        doc["metrics"][draw(texts)] = summary
    elif how == "version":
        doc["format_version"] = draw(json_values.filter(lambda v: not (type(v) is int and 1 <= v <= 1)))
    elif how == "section":
        doc[draw(st.sampled_from(["info", "params", "tags", "metrics"]))] = draw(
            json_values.filter(lambda v: not isinstance(v, dict) and v is not None))
    elif how == "not an object":
        return _encode(draw(json_values.filter(lambda v: not isinstance(v, dict)))), how
    elif how == "truncated":
        data = _encode(doc)
        return data[:draw(st.integers(0, len(data) - 1))], how
    elif how == "garbage bytes":
        return draw(st.binary(max_size=64)), how
    elif how == "utf-16":
        return json.dumps(doc).encode("utf-16"), how
    elif how == "bom":
        return b"\xef\xbb\xbf" + _encode(doc), how
    elif how == "lone surrogate":
        info[draw(st.sampled_from(["run_name", "experiment", "user"]))] = "name\ud800"
        return _encode(doc, ascii_only=True), how
    return _encode(doc, ascii_only=draw(st.booleans())), how


@st.composite
def planned_runs(draw: st.DrawFn, run_id: str) -> Planned:
    kind = draw(st.sampled_from(["good", "good", "bad", "bad", "either"]))
    if kind == "either":  # anything at all: a random document, or a valid one with a random field
        if draw(st.booleans()):
            return Planned(run_id, kind, _encode(draw(json_values), ascii_only=draw(st.booleans())))
        doc = draw(valid_documents(run_id))
        doc[draw(st.sampled_from(["info", "params", "tags", "metrics"]))][draw(texts)] = draw(json_values)
        return Planned(run_id, kind, _encode(doc))
    doc = draw(valid_documents(run_id))
    if kind == "bad":
        content, why = draw(broken(doc))
        return Planned(run_id, kind, content, why=why)
    metric_files = {key: draw(st.binary(max_size=100)) for key in doc["metrics"] if draw(st.booleans())}
    return Planned(run_id, kind, _encode(doc, ascii_only=draw(st.booleans())), doc=doc, metric_files=metric_files)


@st.composite
def runs_dirs(draw: st.DrawFn, max_runs: int = 6) -> list[Planned]:
    count = draw(st.integers(1, max_runs))
    return [draw(planned_runs(f"{n + 16:032x}")) for n in range(count)]  # (ids that "copied id" never takes)


def write_runs(root: Path, planned: list[Planned]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for run in planned:
        folder = root / run.run_id
        (folder / layout.ARTIFACTS_DIR).mkdir(parents=True)
        (folder / layout.RUN_DOC).write_bytes(run.content)
        for key, data in run.metric_files.items():
            path = layout.metric_path(folder, key)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)


def same_number(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
