"""How MLflow's records become tracker's objects: the rules both store readers share.

* status: MLflow's ints (file store) or names (SQLite) -> tracker's RunStatus names;
* tags: ``mlflow.runName`` -> run name, ``mlflow.parentRunId`` -> parent, ``mlflow.user`` -> user,
  ``mlflow.note.content`` -> description; ``mlflow.source.git.*`` and ``mlflow.source.name`` are
  also given under tracker's own ``tracker.source.*`` names, which the CLI and lineage read;
* a metric's summary: the value at the highest step (MLflow's rule: the largest
  ``(step, timestamp, value)``), plus min, max and count;
* artifact locations: ``file:`` URIs and paths -> local directories, relative ones against the store.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from ..entities import MetricSummary, Run, RunData, RunInfo, RunStatus, UnreadableRun

# MLflow's RunStatus numbers (mlflow/protos/service.proto)
STATUS_BY_NUMBER = {1: RunStatus.RUNNING, 2: "SCHEDULED", 3: RunStatus.FINISHED, 4: RunStatus.FAILED,
                    5: RunStatus.KILLED}
DELETED = "deleted"
ACTIVE = "active"

TAG_RUN_NAME = "mlflow.runName"
TAG_PARENT = "mlflow.parentRunId"
TAG_USER = "mlflow.user"
TAG_NOTE = "mlflow.note.content"
# MLflow's source tags and the tracker tags that mean the same (what `tracker show` and lineage read)
TRACKER_EQUIVALENTS = {
    "mlflow.source.git.commit": "tracker.source.git.commit",
    "mlflow.source.git.branch": "tracker.source.git.branch",
    "mlflow.source.git.repoURL": "tracker.source.git.repoURL",
    "mlflow.source.name": "tracker.source.name",
    "mlflow.source.type": "tracker.source.type",
}


class MlflowStoreError(Exception):
    """The store as a whole cannot be read (not an MLflow store, a damaged database file, ...)."""


def run_status(raw: object) -> str:
    """tracker's status for MLflow's ``status`` field. SCHEDULED (not started) reads RUNNING, as
    tracker has no such state; anything else unknown is a ValueError."""
    if isinstance(raw, bool):
        raise ValueError(f"unknown run status {raw!r}")
    if isinstance(raw, int):
        status = STATUS_BY_NUMBER.get(raw)
    elif isinstance(raw, str):
        status = raw.strip().upper() if raw.strip().upper() in (*RunStatus.ALL, "SCHEDULED") else None
        if status is None and raw.strip().isdigit():
            status = STATUS_BY_NUMBER.get(int(raw))
    else:
        status = None
    if status is None:
        raise ValueError(f"unknown run status {raw!r}")
    return RunStatus.RUNNING if status == "SCHEDULED" else status


def as_millis(raw: object, what: str, optional: bool = False) -> int | None:
    """A timestamp in ms; None allowed only when ``optional``. Untrusted input: ValueError otherwise."""
    if raw is None or raw == "":
        if optional:
            return None
        raise ValueError(f"{what} is missing")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{what} is not a number: {raw!r}")
    try:
        value = int(raw)
    except (ValueError, OverflowError):
        raise ValueError(f"{what} is not a number: {raw!r}") from None
    return value


def text(raw: object) -> str:
    """A value read from a file or a database row as text (SQLite may hand back bytes or numbers)."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return str(raw)


def with_tracker_tags(tags: dict[str, str]) -> dict[str, str]:
    """MLflow's tags unchanged, plus tracker's names for the source and git tags MLflow recorded."""
    extra = {ours: tags[theirs] for theirs, ours in TRACKER_EQUIVALENTS.items() if theirs in tags and ours not in tags}
    return {**tags, **extra} if extra else tags


def summarize(key: str, steps: Iterable[int], timestamps: Iterable[int], values: Iterable[float]) -> MetricSummary:
    """MLflow's latest value (largest (step, timestamp, value)), min and max over non-NaN values, count."""
    if not isinstance(values, list):
        steps, timestamps, values = list(steps), list(timestamps), list(values)
    if values and not any(map(math.isnan, values)):  # the common case, at C speed
        step, ts, value = max(zip(steps, timestamps, values))
        return MetricSummary(key, value, min(values), max(values), len(values), step, ts)
    best: tuple[int, int, float] | None = None
    lo = hi = math.nan
    count = 0
    for step, ts, value in zip(steps, timestamps, values):
        count += 1
        if best is None or _later((step, ts, value), best):
            best = (step, ts, value)
        if value == value:  # not NaN
            if not lo <= value:
                lo = value
            if not hi >= value:
                hi = value
    if best is None:
        raise ValueError(f"metric {key!r} has no points")
    return MetricSummary(key, best[2], lo, hi, count, best[0], best[1])


def _later(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    """``a > b`` on (step, timestamp, value), with NaN values ordered below numbers (a tie on
    step and timestamp is then decided the same way every time)."""
    if a[:2] != b[:2]:
        return a[:2] > b[:2]
    av, bv = a[2], b[2]
    if av != av:
        return False
    return bv != bv or av > bv


def local_path(uri: str, base: Path) -> Path | None:
    """The local directory an artifact URI names, or None when it is not local (s3:, http:, ...).

    ``file:`` URIs and plain paths are local; a relative path is taken relative to ``base``.
    """
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):  # C:\... on Windows
        path = Path(uri).expanduser()
    else:
        return None
    return path if path.is_absolute() else (base / path)


def build_run(run_id: str, experiment: str, status_raw: object, start: object, end: object,
              run_name: str, user_id: str, params: dict[str, str], tags: dict[str, str],
              summaries: dict[str, MetricSummary], artifact_dir: Path | str | None, artifact_uri: str,
              run_path: str, experiment_id: str = "", lifecycle_stage: str = ACTIVE) -> Run:
    """A tracker ``Run`` from one MLflow run's fields (raises ValueError on a damaged field)."""
    name = tags.get(TAG_RUN_NAME) or run_name or run_id[:8]
    info = RunInfo(
        run_id=run_id,
        run_name=name,
        experiment=experiment,
        status=run_status(status_raw),
        start_time=as_millis(start, "start_time", optional=True) or 0,
        end_time=as_millis(end, "end_time", optional=True),
        artifact_uri=_file_uri(artifact_dir) if artifact_dir is not None else artifact_uri,
        parent_run_id=tags.get(TAG_PARENT) or None,
        description=tags.get(TAG_NOTE, ""),
        user=tags.get(TAG_USER) or user_id or "",
        experiment_id=experiment_id,
        lifecycle_stage=lifecycle_stage,
    )
    data = RunData(params=params, tags=with_tracker_tags(tags),
                   metrics={k: s.last for k, s in summaries.items()}, summaries=summaries)
    return Run(info, data, run_path)


def _file_uri(path: Path | str) -> str:
    """``path.resolve().as_uri()`` without a system call per path component (10,000 runs)."""
    path = os.path.normpath(os.path.abspath(path))
    if os.name == "nt":
        return Path(path).as_uri()
    return "file://" + quote(path)


def unreadable(run_id: str, path: str, error: BaseException) -> UnreadableRun:
    """The reason a damaged run is listed as unreadable, in one line."""
    if isinstance(error, UnicodeDecodeError):
        reason = f"text that is not UTF-8 ({error.reason})"
    elif isinstance(error, OSError):
        reason = f"cannot read {error.filename or 'a file'}: {error.strerror or error}"
    else:
        reason = str(error) or type(error).__name__
    return UnreadableRun(run_id, path, f"MLflow run is damaged: {reason}")
