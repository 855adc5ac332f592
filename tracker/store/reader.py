"""Reading a runs directory: runs, experiments and metric histories as plain objects."""
from __future__ import annotations

import operator
import os
import time
from collections import Counter
from pathlib import Path

from ..entities import Experiment, Run, UnreadableRun
from . import layout
from .atomic import read_json, write_json_atomic
from .metricfile import MetricSeries, read_series
from .rundoc import RunDocumentError, document_to_run, read_document

DEFAULT_EXPERIMENT = "Default"


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


def ensure_experiment(root: str | os.PathLike, name: str) -> None:
    """Record an experiment so it is listed even before it has runs; harmless when it exists."""
    layout.validate_key(name, "experiment name")
    folder = Path(root) / layout.EXPERIMENTS_DIR
    path = folder / layout.experiment_file_name(name)
    if path.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"name": name, "creation_time": int(time.time() * 1000)})


def read_experiments(root: str | os.PathLike, runs: list[Run] | None = None) -> list[Experiment]:
    """Experiments recorded in ``experiments/`` plus any named by a run, with run counts."""
    created: dict[str, int] = {}
    folder = Path(root) / layout.EXPERIMENTS_DIR
    if folder.is_dir():
        for path in folder.glob("*.json"):
            try:
                doc = read_json(path)
            except (OSError, ValueError):
                continue  # a damaged experiment file hides nothing: its runs still name it
            name = doc.get("name") if type(doc) is dict else None
            if type(name) is not str or not name:
                continue  # (nor does one whose name is not text)
            created_at = doc.get("creation_time")
            created[name] = created_at if type(created_at) is int else 0
    runs = runs if runs is not None else read_all_runs(root)[0]
    experiment = operator.attrgetter("info.experiment")
    counts = Counter(map(experiment, runs))
    if not created.keys() >= counts.keys():  # experiments only runs name: created with their first run
        first = dict(zip(map(experiment, reversed(runs)), map(operator.attrgetter("info.start_time"), reversed(runs))))
        for name in counts.keys() - created.keys():
            created[name] = first[name]
    return sorted(
        (Experiment(name, ts, counts.get(name, 0)) for name, ts in created.items()),
        key=lambda e: (e.name != DEFAULT_EXPERIMENT, e.name.lower()),
    )
