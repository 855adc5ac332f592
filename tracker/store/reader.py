"""Reading a runs directory: runs, experiments and metric histories as plain objects."""
from __future__ import annotations

import os
from pathlib import Path

from ..entities import Experiment, Run, UnreadableRun
from . import layout
from .experiments import DEFAULT_EXPERIMENT, ensure_experiment_doc, legacy_experiment_id, read_experiment_docs
from .metricfile import MetricSeries, read_series
from .rundoc import RunDocumentError, document_to_run, read_document

def read_run(run_path: str | os.PathLike) -> Run | UnreadableRun:
    """One run, or an ``UnreadableRun`` saying why: a damaged run never raises here."""
    path = Path(run_path)
    try:
        return document_to_run(read_document(path), path)
    except FileNotFoundError:
        reason = "run.json is missing"
    except PermissionError as e:
        reason = f"permission denied: {e.filename}"
    except RunDocumentError as e:  # a field of the wrong type or range, or a copied run folder
        reason = str(e)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        # json.JSONDecodeError is a ValueError: truncated or garbage run.json lands here
        reason = f"run.json is damaged: {e}"
    except OSError as e:
        reason = f"cannot read run.json: {e.strerror or e}"
    return UnreadableRun(path.name, str(path), reason)


def read_all_runs(root: str | os.PathLike) -> tuple[list[Run], list[UnreadableRun]]:
    runs: list[Run] = []
    bad: list[UnreadableRun] = []
    try:
        listed = layout.list_run_dirs(os.fspath(root))
    except FileNotFoundError:
        listed = []
    for _, path in listed:
        result = read_run(path)
        (runs if isinstance(result, Run) else bad).append(result)
    return runs, bad


def read_metric(run_path: str | os.PathLike, key: str, position: int = 0) -> MetricSeries:
    return read_series(layout.metric_path(run_path, key), position)


def ensure_experiment(root: str | os.PathLike, name: str) -> str:
    """Record an experiment so it is listed even before it has runs; returns its id (harmless when it exists)."""
    return ensure_experiment_doc(root, name)[0]["experiment_id"]


def read_experiments(root: str | os.PathLike, runs: list[Run] | None = None,
                     counts: dict[str, tuple[int, int]] | None = None) -> list[Experiment]:
    """Experiments recorded in ``experiments/`` plus any named by a run, with run counts (deleted ones too:
    ``lifecycle_stage`` says which). ``counts`` (``{name: (runs, earliest start_time)}``) may stand
    for ``runs``, which are otherwise read from ``root``."""
    docs = {doc["name"]: doc for doc in read_experiment_docs(root)}
    if counts is None:
        counts = {}
        for run in runs if runs is not None else read_all_runs(root)[0]:
            n, first = counts.get(run.info.experiment, (0, run.info.start_time))
            counts[run.info.experiment] = (n + 1, min(first, run.info.start_time))
    if not docs.keys() >= counts.keys():  # experiments only runs name: created with their first run
        first = {name: start for name, (_, start) in counts.items()}
        location = Path(root).absolute().as_uri()
        for name in counts.keys() - docs.keys():
            docs[name] = {"name": name, "experiment_id": legacy_experiment_id(name), "creation_time": first[name],
                          "last_update_time": first[name], "lifecycle_stage": "active",
                          "artifact_location": location, "tags": {}}
    return sorted(
        (Experiment(name, d["creation_time"], counts.get(name, (0, 0))[0], d["tags"], d["experiment_id"],
                    d["artifact_location"], d["lifecycle_stage"], d["last_update_time"])
         for name, d in docs.items()),
        key=lambda e: (e.name != DEFAULT_EXPERIMENT, e.name.lower()),
    )
