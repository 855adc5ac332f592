"""Where the app reads a run's data, whoever wrote it: tracker's run directories or an MLflow store.

The views know a run by its ``Run`` (and its ``path``). For a tracker runs directory these calls
are tracker's own (``tracker.store``); for a run listed from an MLflow store (opened with
``open_mlflow``) they go to that store's read-only reader (``tracker.mlflow_store``). Thread-safe
enough for the readers' pool threads: only whole-dict lookups and replacements.
"""
from __future__ import annotations

import os
from pathlib import Path

from tracker import store
from tracker.entities import Run, UnreadableRun
from tracker.mlflow_store import MlflowStoreReader, detect, open_store
from tracker.mlflow_store.client_view import ReadOnlyRegistry
from tracker.store.metricfile import MetricSeries

KIND_NAMES = {"file": "MLflow file store", "sqlite": "MLflow SQLite store"}

_stores: dict[str, MlflowStoreReader] = {}  # store path -> its reader
_run_paths: dict[str, tuple[MlflowStoreReader, str]] = {}  # a listed MLflow run's path -> (reader, run id)


def mlflow_kind(path: str | os.PathLike) -> str | None:
    """"file" or "sqlite" for an MLflow store, None for anything else (see tracker.mlflow_store.detect)."""
    return detect(path)


def open_mlflow(path: str | os.PathLike, artifact_root: str | os.PathLike | None = None) -> MlflowStoreReader:
    """A reader for the MLflow store at ``path``, known to the calls below from now on."""
    reader = open_store(path, artifact_root)
    _stores[_name(path)] = reader
    return reader


def forget(path: str | os.PathLike) -> None:
    reader = _stores.pop(_name(path), None)
    if reader is not None:
        global _run_paths
        _run_paths = {p: v for p, v in _run_paths.items() if v[0] is not reader}


def mlflow_reader(path: str | os.PathLike | None) -> MlflowStoreReader | None:
    """The open MLflow store at ``path`` (a store's path, as opened), or None."""
    return _stores.get(_name(path)) if path is not None else None


def is_read_only(path: str | os.PathLike | None) -> bool:
    return mlflow_reader(path) is not None


def describe(path: str | os.PathLike | None) -> str:
    """"MLflow file store, read-only" for an open MLflow store; "" for a tracker directory."""
    reader = mlflow_reader(path)
    return f"{KIND_NAMES.get(reader.kind, 'MLflow store')}, read-only" if reader is not None else ""


def remember_runs(reader: MlflowStoreReader, runs: list[Run | UnreadableRun]) -> None:
    """Route reads of these runs (by path) to ``reader``."""
    found = dict(_run_paths)
    for run in runs:
        if run.path:
            found[run.path] = (reader, run.info.run_id if isinstance(run, Run) else run.run_id)
    _replace(found)


def _replace(found: dict) -> None:
    global _run_paths
    _run_paths = found


def read_run(path: str | os.PathLike) -> Run | UnreadableRun:
    """One run as it is now; a damaged one as an ``UnreadableRun`` (never raises)."""
    owner = _run_paths.get(os.fspath(path))
    if owner is None:
        return store.read_run(path)
    reader, run_id = owner
    try:
        return reader.get_run(run_id)
    except (LookupError, ValueError, OSError) as e:
        return UnreadableRun(run_id, os.fspath(path), f"MLflow run cannot be read: {e}")


def read_metric(path: str | os.PathLike, key: str, position: int = 0) -> MetricSeries:
    """A metric's history from ``position`` on (as ``tracker.store.read_metric``)."""
    owner = _run_paths.get(os.fspath(path))
    if owner is None:
        return store.read_metric(path, key, position)
    reader, run_id = owner
    return reader.metric_series(run_id, key, position)


def artifact_dir(run: Run) -> Path | None:
    """The local folder of the run's artifacts (None when they are not on this machine)."""
    owner = _run_paths.get(run.path)
    if owner is None:
        return Path(run.path) / store.ARTIFACTS_DIR
    reader, run_id = owner
    try:
        return reader.artifact_dir(run_id)
    except (LookupError, ValueError, OSError):
        return None


def logged_models(run: Run) -> list[tuple[str, Path | None]]:
    """(name, local folder) of an MLflow run's logged models (MLflow 3 keeps them outside the
    run's artifacts); [] for tracker's runs, whose models are artifacts."""
    owner = _run_paths.get(run.path)
    if owner is None:
        return []
    reader, run_id = owner
    try:
        return [(m.name, m.artifact_dir) for m in reader.logged_models(run_id)]
    except (LookupError, ValueError, OSError):
        return []


def registry_for(path: str | os.PathLike | None) -> ReadOnlyRegistry | None:
    """The registry reads of an open MLflow store, or None (a tracker directory: use tracker.Client)."""
    reader = mlflow_reader(path)
    return ReadOnlyRegistry(reader) if reader is not None else None


def _name(path: str | os.PathLike) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
