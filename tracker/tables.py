"""``log_table`` / ``load_table``: a table as a JSON (or Parquet) artifact, in MLflow's format.

A table is written with pandas' ``to_json(orient="split", index=False)``: ``{"columns": [...],
"data": [[...], ...]}``. Logging to a file that already exists appends the new rows. Each
table is listed in the run's ``mlflow.loggedArtifacts`` tag (a JSON list of
``{"path": ..., "type": "table"}``), which is how ``load_table`` finds the runs that have it.
Columns of PIL images are saved as images under ``table_images/<table>/`` and stored as
``{"type": "image", "filepath": ..., "compressed_filepath": ...}``, as MLflow does.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import uuid
from typing import Any, Iterator

from . import artifacts, store

_logger = logging.getLogger(__name__)

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
_FORBIDDEN = ['"', "'", ",", ":", "[", "]", "{", "}"]


def _not_found(message: str) -> Exception:
    try:
        from .exceptions import ResourceDoesNotExist
        return ResourceDoesNotExist(message)
    except ImportError:
        return LookupError(message)


def _check_artifact_file(artifact_file: Any) -> None:
    if not isinstance(artifact_file, str):
        raise TypeError(f"artifact_file must be a string such as 'results.json', got {type(artifact_file).__name__}")
    for char in _FORBIDDEN:
        if char in artifact_file:
            raise ValueError(f"The artifact_file contains forbidden character: {char}")


def _read(path: str) -> Any:
    import pandas as pd
    if path.endswith(".json"):
        return pd.read_json(path, orient="split")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    raise ValueError(f"Unsupported file type in {path}. Expected .json or .parquet")


@contextlib.contextmanager
def _writer_of(run_id: str | None) -> Iterator[Any]:
    """The writer of ``run_id`` (the active run when None); a run not open in this process is
    resumed for the call and released with its status and end time as they were."""
    from . import fluent
    if run_id is None:
        yield fluent._current()
        return
    from .client_writes import writing
    from .config import get_tracking_dir
    with writing(get_tracking_dir(), run_id) as writer:
        yield writer


def _image_cells(data: Any, artifact_file: str, folder: Any) -> None:
    """Replace columns of PIL images with references to image files saved beside the table."""
    from .images import _compressed, _image_bytes, _is_pil
    for column in data.columns:
        is_image = data[column].map(_is_pil)
        if is_image.any() and not is_image.all():
            raise ValueError(f"Column `{column}` contains a mix of images and non-images. "
                             "Please ensure that all elements in the column are of the same type.")
        if not is_image.all() or not len(is_image):
            continue

        def save(image: Any) -> dict[str, str]:
            stem = posixpath.join("table_images", os.path.splitext(artifact_file)[0], str(uuid.uuid4()))
            artifacts._write_bytes_atomic(artifacts.artifact_file(folder, stem + ".png"),
                                          _image_bytes(image, "png"), folder)
            cell = {"type": "image", "filepath": stem + ".png"}
            preview = _compressed(image)
            if preview is not None:
                artifacts._write_bytes_atomic(artifacts.artifact_file(folder, stem + ".webp"), preview, folder)
                cell["compressed_filepath"] = stem + ".webp"
            return cell
        data[column] = data[column].map(save)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log ``data`` (a dict of columns or a pandas DataFrame) as a table artifact; rows are
    appended when the run already has ``artifact_file``. Without ``run_id``: the active run."""
    import pandas as pd
    _check_artifact_file(artifact_file)
    if not artifact_file.endswith((".json", ".parquet")):
        raise ValueError(f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are trying to "
                         "log as a table has a file name with either '.json' or '.parquet' extension.")
    if not isinstance(data, (pd.DataFrame, dict)):
        raise TypeError("data must be a pandas.DataFrame or a dictionary")
    if isinstance(data, dict):
        try:
            data = pd.DataFrame(data)
        except ValueError:  # scalars: one row
            data = pd.DataFrame([data])
    else:
        data = data.copy()
    with _writer_of(run_id) as writer:
        folder = writer.path / store.ARTIFACTS_DIR
        dest = artifacts.artifact_file(folder, artifact_file)
        if any(data[column].dtype.kind == "O" for column in data.columns):  # where images can be
            _image_cells(data, artifact_file, folder)
        if dest.is_file():
            data = pd.concat([_read(str(dest)), data], ignore_index=True)

        def write(tmp: str) -> None:
            if artifact_file.endswith(".json"):
                data.to_json(tmp, orient="split", index=False, date_format="iso")
            else:
                data.to_parquet(tmp, index=False)
        try:
            artifacts._atomically(dest, folder, write)
        except (TypeError, OverflowError, ValueError) as e:
            raise ValueError(f"Failed to save {data} as table as the data is not JSON serializable. Error: {e}") from e
        entries = _logged_tables(writer.document.tags)
        entry = {"path": artifact_file, "type": "table"}
        if entry not in entries:
            writer.set_tags({LOGGED_ARTIFACTS_TAG: json.dumps([*entries, entry])})


def _logged_tables(tags: dict[str, str]) -> list[dict[str, str]]:
    try:
        entries = json.loads(tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _current_experiment() -> str:
    from . import fluent
    if fluent._stack:
        return fluent._stack[-1].document.info.get("experiment") or store.DEFAULT_EXPERIMENT
    return (getattr(fluent, "_experiment", None) or os.environ.get("TRACKER_EXPERIMENT_NAME")
            or store.DEFAULT_EXPERIMENT)


def _extra_value(run: Any, column: str) -> Any:
    """A search_runs column of ``run``: ``run_id``, an info field, or ``params.x``/``metrics.x``/``tags.x``."""
    section, _, key = column.partition(".")
    if key and section in ("params", "metrics", "tags"):
        return getattr(run.data, section).get(key)
    return getattr(run.info, column, None)


def load_table(artifact_file: str, run_ids: list[str] | None = None,
               extra_columns: list[str] | None = None) -> Any:
    """The table ``artifact_file`` of the given runs (default: every run of the current experiment
    that logged it), concatenated into one pandas DataFrame; ``extra_columns`` (such as
    ``"run_id"``) add each row's run information."""
    import pandas as pd
    from .config import get_tracking_dir
    from .entities import UnreadableRun
    _check_artifact_file(artifact_file)
    root = get_tracking_dir()
    if run_ids:
        runs = []
        for run_id in run_ids:
            path = store.run_dir(root, run_id)
            run = store.read_run(path) if store.is_run_dir_name(run_id) and path.is_dir() else None
            if run is not None and not isinstance(run, UnreadableRun):
                runs.append(run)
    else:
        experiment = _current_experiment()
        runs = [run for run in store.read_all_runs(root)[0]
                if experiment in (run.info.experiment, getattr(run.info, "experiment_id", None))]
        runs.sort(key=lambda r: r.info.start_time, reverse=True)
    entry = {"path": artifact_file, "type": "table"}
    with_table = [run for run in runs if entry in _logged_tables(run.data.tags)]
    if run_ids and len(with_table) != len(run_ids):
        _logger.warning("Not all runs have the specified table artifact. Some runs will be skipped.")
    if not with_table:
        raise _not_found("No runs found with the corresponding table artifact.")
    frames = []
    for run in with_table:
        folder = store.run_dir(root, run.info.run_id) / store.ARTIFACTS_DIR
        path = artifacts.artifact_file(folder, artifact_file)
        if not path.is_file():
            raise _not_found(f"Artifact {artifact_file} not found for run {run.info.run_id}.")
        frame = _read(str(path))
        for column in extra_columns or ():
            name = f"{column}_" if column in frame else column
            frame[name] = _extra_value(run, column)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
