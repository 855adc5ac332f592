"""The run document (``run.json``): info, params, tags and metric summaries in one small file.

One file per run keeps listing cheap (one read per run, never a metric history) and
lets it be replaced atomically as a whole. ``RunDocument`` is the one decoder of the file
and the one place that edits it; the functions below are its plain-dict forms, for code
that keeps documents as dicts (the run index).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..entities import MetricSummary, Run, RunData, RunInfo, RunStatus
from . import layout
from .atomic import read_json, write_bytes_atomic
from .experiments import DEFAULT_EXPERIMENT, legacy_experiment_id
from .liveness import HEARTBEAT_SECONDS, STALE_SECONDS, effective_status, process_start_ticks, this_host
from .rundoc_check import CopiedRunFolder, RunDocumentError, check_document, copied_folder_reason

_ENCODE_SLICE = 256  # metric summaries per json.dumps call (about 1 ms)
# A run's description is this tag, as in MLflow. Documents written before kept it in info.description,
# which is still read when the tag is absent and dropped once the tag is set or removed.
NOTE_TAG = "mlflow.note.content"
RUN_NAME_TAG = "mlflow.runName"  # MLflow's way to rename a run: setting it sets info.run_name too

__all__ = [
    "HEARTBEAT_SECONDS", "NOTE_TAG", "RUN_NAME_TAG", "STALE_SECONDS", "CopiedRunFolder", "RunDocument",
    "RunDocumentError", "check_document", "copied_folder_reason", "description_of", "document_to_run",
    "effective_status", "new_document", "process_start_ticks", "read_document", "summary_after", "this_host",
    "write_document",
]


class RunDocument:
    """One run's checked ``run.json``.

    Never changed in place: every edit returns a new document (sharing the sections it
    leaves alone), so a writer keeps the document that is on disk until the edited one
    has been written. The sections are read-only views.
    """

    __slots__ = ("_doc",)

    def __init__(self, doc: dict[str, Any]) -> None:
        """Wrap a document ``check_document`` passed; build one with ``new``, ``read`` or ``from_dict``."""
        self._doc = doc

    # -- making and reading -------------------------------------------------------------
    @classmethod
    def new(cls, run_id: str, run_name: str, experiment: str, start_time: int, **info: Any) -> "RunDocument":
        return cls({
            "format_version": layout.FORMAT_VERSION,
            "info": {
                "run_id": run_id, "run_name": run_name, "experiment": experiment,
                "status": RunStatus.RUNNING, "start_time": start_time, "end_time": None, **info,
            },
            "params": {},
            "tags": {},
            "metrics": {},
        })

    @classmethod
    def from_dict(cls, doc: Any, folder: str | None = None) -> "RunDocument":
        """Check a decoded ``run.json`` (RunDocumentError names the first bad field); whole-number
        metric values become floats in place. ``folder`` must be the run id the document holds."""
        return cls(check_document(doc, folder))

    @classmethod
    def read(cls, run_path: str | os.PathLike) -> "RunDocument":
        """Read and check ``run.json``; raise ValueError (``RunDocumentError`` for a bad field) naming what is wrong."""
        path = os.fspath(run_path)
        doc = read_json(os.path.join(path, layout.RUN_DOC))
        try:
            return cls(check_document(doc, os.path.basename(path.rstrip("/" + os.sep))))
        except CopiedRunFolder as e:
            raise CopiedRunFolder(copied_folder_reason(path, e.run_id), e.run_id) from None

    def write(self, run_path: str | os.PathLike) -> None:
        """Replace ``run.json`` atomically (a reader sees the old document or this one)."""
        write_bytes_atomic(Path(run_path) / layout.RUN_DOC, self.encode())

    def encode(self) -> bytes:
        """The document as JSON. Many metric summaries are encoded a slice at a time: json's C encoder
        holds the GIL for its whole call (15,000 summaries in one call: 50-160 ms, measured), and the
        threads logging to the run would wait that long."""
        doc = self._doc
        metrics = doc["metrics"]
        if len(metrics) <= _ENCODE_SLICE:
            return json.dumps(doc, ensure_ascii=False).encode("utf-8")
        head = json.dumps({k: v for k, v in doc.items() if k != "metrics"}, ensure_ascii=False)
        items = list(metrics.items())
        parts = [json.dumps(dict(items[i:i + _ENCODE_SLICE]), ensure_ascii=False)[1:-1]
                 for i in range(0, len(items), _ENCODE_SLICE)]
        return (head[:-1] + ', "metrics": {' + ", ".join(parts) + "}}").encode("utf-8")

    # -- reading fields -------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self._doc["info"]["run_id"]

    @property
    def info(self) -> Mapping[str, Any]:
        return MappingProxyType(self._doc["info"])

    @property
    def params(self) -> Mapping[str, str]:
        return MappingProxyType(self._doc["params"])

    @property
    def tags(self) -> Mapping[str, str]:
        return MappingProxyType(self._doc["tags"])

    @property
    def metrics(self) -> Mapping[str, Mapping[str, Any]]:
        """Each metric's summary (``last``, ``min``, ``max``, ``count``, ``last_step``, ``max_step``, ...)."""
        return MappingProxyType(self._doc["metrics"])

    @property
    def description(self) -> str:
        """The run's description: its ``mlflow.note.content`` tag (``info.description`` in older documents)."""
        return description_of(self._doc)

    @property
    def experiment_id(self) -> str:
        info = self._doc["info"]
        return info.get("experiment_id") or legacy_experiment_id(info.get("experiment") or DEFAULT_EXPERIMENT)

    def next_steps(self) -> dict[str, int]:
        """The step each metric's next point gets when logged without one."""
        return {key: int(s["last_step"]) + 1 for key, s in self._doc["metrics"].items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object itself, for code that keeps documents as dicts: never edit it."""
        return self._doc

    def run_info(self, run_path: str | os.PathLike) -> RunInfo:
        """The run's ``entities.RunInfo``: RUNNING only while its writer lives (``effective_status``)."""
        run_path = Path(run_path)
        info = self._doc["info"]
        return RunInfo(
            run_id=info["run_id"],
            run_name=info.get("run_name") or info["run_id"][:8],
            experiment=info.get("experiment") or DEFAULT_EXPERIMENT,
            status=effective_status(info, run_path),
            start_time=int(info.get("start_time") or 0),
            end_time=info.get("end_time"),
            artifact_uri=(run_path / layout.ARTIFACTS_DIR).resolve().as_uri(),
            parent_run_id=info.get("parent_run_id"),
            description=description_of(self._doc),
            user=info.get("user") or "",
            host=info.get("host") or "",
            pid=info.get("pid"),
            error=info.get("error"),
            experiment_id=self.experiment_id,
            lifecycle_stage=layout.lifecycle_stage(run_path),
        )

    def run_data(self) -> RunData:
        """Params, tags and metric summaries as ``entities.RunData``; ``metrics`` holds each metric's value at
        its highest step, as MLflow's ``run.data.metrics`` does."""
        doc = self._doc
        summaries = {
            key: MetricSummary(key, s["last"], s["min"], s["max"], s["count"], s["last_step"], s["last_timestamp"],
                               s.get("max_step", s["last_step"]), s.get("value_at_max_step", s["last"]))
            for key, s in doc["metrics"].items()
        }
        return RunData(
            params={str(k): str(v) for k, v in doc["params"].items()},
            tags={str(k): str(v) for k, v in doc["tags"].items()},
            metrics={k: s.value_at_max_step for k, s in summaries.items()},
            summaries=summaries,
        )

    def to_run(self, run_path: str | os.PathLike) -> Run:
        return Run(self.run_info(run_path), self.run_data(), str(run_path))

    # -- edits: each returns a new document ------------------------------------------------
    def _with(self, **sections: Any) -> "RunDocument":
        return RunDocument({**self._doc, **sections})

    def with_info(self, **fields: Any) -> "RunDocument":
        return self._with(info={**self._doc["info"], **fields})

    def resumed(self, **process: Any) -> "RunDocument":
        """RUNNING again, written by the process ``process`` describes (pid, pid_start, host)."""
        return self.with_info(status=RunStatus.RUNNING, end_time=None, error=None, **process)

    def ended(self, status: str, end_time: int, error: str | None = None) -> "RunDocument":
        if status not in RunStatus.ALL:
            raise ValueError(f"unknown run status {status!r}; use one of {', '.join(RunStatus.ALL)}")
        fields: dict[str, Any] = {"status": status, "end_time": end_time}
        if error:
            fields["error"] = error
        return self.with_info(**fields)

    def with_params(self, params: Mapping[str, str]) -> "RunDocument":
        """``params`` added; a key logged before with another value raises (params are immutable, as in MLflow).
        Returns this same document when nothing is new."""
        existing = self._doc["params"]
        for key, text in params.items():
            old = existing.get(key)
            if old is not None and old != text:  # MLflow's message
                from ..exceptions import InvalidParameterValue
                raise InvalidParameterValue(
                    f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                    f"value='{old}' for run ID='{self.run_id}'. Attempted logging new value '{text}'.")
        if all(existing.get(k) == v for k, v in params.items()):
            return self
        return self._with(params={**existing, **params})

    def with_tags(self, tags: Mapping[str, str]) -> "RunDocument":
        """``tags`` set; ``mlflow.runName`` renames the run, ``mlflow.note.content`` is its description."""
        changed = self._with(tags={**self._doc["tags"], **tags}, **self._note_moved(tags))
        if RUN_NAME_TAG in tags and tags[RUN_NAME_TAG] != self._doc["info"].get("run_name"):
            return changed.with_info(run_name=tags[RUN_NAME_TAG])
        return changed

    def without_tag(self, key: str) -> "RunDocument":
        """Raises KeyError when the run has no tag ``key``."""
        if key not in self._doc["tags"]:
            raise KeyError(f"run {self.run_id} has no tag {key!r}")
        return self._with(tags={k: v for k, v in self._doc["tags"].items() if k != key}, **self._note_moved([key]))

    def _note_moved(self, keys: Any) -> dict[str, Any]:
        """The info without an older document's ``description`` once the description tag is written or removed."""
        info = self._doc["info"]
        if "description" in info and NOTE_TAG in keys:
            return {"info": {k: v for k, v in info.items() if k != "description"}}
        return {}

    def with_summaries(self, summaries: Mapping[str, dict[str, Any]]) -> "RunDocument":
        """Metric summaries replaced or added (each made by ``summary_after``)."""
        if not summaries:
            return self
        return self._with(metrics={**self._doc["metrics"], **summaries})


def summary_after(old: Mapping[str, Any] | None, count: int, low: float, high: float, last: tuple,
                  highest: tuple) -> dict[str, Any]:
    """A metric's summary after ``count`` more points (min ``low``, max ``high``, ``last`` and ``highest``, the
    point at the highest step, as (step, time, value)) were appended to what ``old`` summarised.

    Min and max ignore NaN; at an equal highest step the later point wins.
    """
    if old is not None:
        low = _nanmin(old["min"], low)
        high = _nanmax(old["max"], high)
        if highest[0] < old.get("max_step", old["last_step"]):
            highest = (old.get("max_step", old["last_step"]), 0, old.get("value_at_max_step", old["last"]))
    step, timestamp, value = last
    return {"last": value, "min": low, "max": high, "count": (old["count"] if old else 0) + count,
            "last_step": step, "last_timestamp": timestamp, "max_step": highest[0], "value_at_max_step": highest[2]}


def _nanmin(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _nanmax(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def description_of(doc: Mapping[str, Any]) -> str:
    """A checked document's description (see ``NOTE_TAG``)."""
    note = doc["tags"].get(NOTE_TAG)
    return note if note is not None else doc["info"].get("description") or ""


# -- the same as plain dicts ------------------------------------------------------------------
def new_document(run_id: str, run_name: str, experiment: str, start_time: int, **info: Any) -> dict[str, Any]:
    return RunDocument.new(run_id, run_name, experiment, start_time, **info).to_dict()


def read_document(run_path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``run.json``; raise ValueError (``RunDocumentError`` for a bad field) naming what is wrong."""
    return RunDocument.read(run_path).to_dict()


def write_document(run_path: str | os.PathLike, doc: dict[str, Any]) -> None:
    RunDocument(doc).write(run_path)


def document_to_run(doc: dict[str, Any], run_path: Path) -> Run:
    """``doc`` (a checked document) as ``entities.Run``."""
    return RunDocument(doc).to_run(run_path)
