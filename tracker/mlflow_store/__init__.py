"""Read-only access to MLflow's stores (a file store ``mlruns/`` or a SQLite ``mlflow.db``), without MLflow.

    from tracker.mlflow_store import detect, open_store
    kind = detect("mlruns")                  # "file", "sqlite" or None
    store = open_store("mlruns")             # FileStoreReader / SqliteStoreReader
    runs, unreadable = store.scan()          # tracker's Run objects, deleted runs hidden
    listing = store.list_runs()              # the same runs as a RunTable; Run objects made when asked for
    series = store.metric_series(run_id, "loss")
    models = store.registered_models()

Every file and row is untrusted input: a damaged run is listed as an ``UnreadableRun`` with its
reason and never hides the others. The readers never write to the store; the file store's
reader keeps what ``list_runs`` read in the user's cache directory (``file_cache``), so that the
next process reads only the runs whose files changed.
"""
from __future__ import annotations

import os
from pathlib import Path

from .base import LoggedModel, MlflowExperiment, MlflowStoreReader, RunNotInStoreError
from .detect import detect, sqlite_path
from .mapping import MlflowStoreError

__all__ = ["LoggedModel", "MlflowExperiment", "MlflowStoreError", "MlflowStoreReader", "RunNotInStoreError", "detect",
           "open_store"]


def open_store(path: str | os.PathLike, artifact_root: str | os.PathLike | None = None) -> MlflowStoreReader:
    """A reader for the MLflow store at ``path`` (a directory, a ``.db`` file, or a ``file:``/``sqlite:``
    URI). ``artifact_root``: where a SQLite store's ``mlflow-artifacts:`` and relative artifact
    locations live (default: beside the database). MlflowStoreError when ``path`` is no MLflow store."""
    kind = detect(path)
    if kind == "file":
        from .file_store import FileStoreReader
        return FileStoreReader(_plain(path))
    if kind == "sqlite":
        from .sqlite_store import SqliteStoreReader
        return SqliteStoreReader(sqlite_path(path), artifact_root)
    raise MlflowStoreError(f"{path} is not an MLflow store (an mlruns directory or an MLflow SQLite database)")


def _plain(path: str | os.PathLike) -> Path:
    text = os.fspath(path)
    if text.startswith("file://"):
        from urllib.parse import unquote, urlparse
        return Path(unquote(urlparse(text).path))
    return Path(text).expanduser()
