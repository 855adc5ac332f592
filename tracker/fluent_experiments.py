"""The fluent API's experiments: the active experiment (``set_experiment``) and MLflow's
module-level experiment functions, over ``Client``."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import store
from .config import get_tracking_dir
from .entities import Experiment, LifecycleStage, ViewType
from .exceptions import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from .store import experiments as experiment_docs

# (runs directory, name, id) of the experiment set_experiment chose: it is the active one while
# runs go to that directory (an id means nothing in another one)
_active: tuple[Path, str, str] | None = None


def _client():
    from .client import Client
    return Client()


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment the active one for runs started from now on, and return it.

    By name it is created when missing; by id it must exist. A deleted experiment is refused.
    """
    global _active
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    root = get_tracking_dir()
    if experiment_name is not None:
        store.validate_key(experiment_name, "experiment name", path_like=False)
        doc = experiment_docs.read_experiment_doc(root, experiment_name)
        if doc is None:
            doc = experiment_docs.ensure_experiment_doc(root, experiment_name)[0]
        if doc["lifecycle_stage"] == LifecycleStage.DELETED:
            raise InvalidParameterValue(
                f"Cannot set a deleted experiment {experiment_name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create a new one.")
        _active = (root, doc["name"], doc["experiment_id"])
    else:
        experiment = _experiment_by_id(root, str(experiment_id))
        if experiment is None:
            raise ResourceDoesNotExist(f"Experiment with ID '{experiment_id}' does not exist.")
        if experiment.lifecycle_stage == LifecycleStage.DELETED:
            raise InvalidParameterValue(
                f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create a new one.")
        _active = (root, experiment.name, experiment.experiment_id)
    from .client import Client
    return Client(root).get_experiment(_active[2])


def _experiment_by_id(root: Path, experiment_id: str) -> Experiment | None:
    """The experiment with this id: from the experiment documents, else (a legacy one only runs name) a scan."""
    from .client import Client
    for doc in experiment_docs.read_experiment_docs(root):
        if doc["experiment_id"] == experiment_id:
            return Client(root).get_experiment_by_name(doc["name"])
    try:
        return Client(root).get_experiment(experiment_id)
    except ResourceDoesNotExist:
        return None


def resolve_experiment(root: Path, experiment_id: str | None, experiment: str | None) -> tuple[str, str]:
    """(name, id) of the experiment a new run goes to: the arguments, else the active experiment,
    else ``MLFLOW_EXPERIMENT_NAME``/``MLFLOW_EXPERIMENT_ID``/``TRACKER_EXPERIMENT_NAME``, else Default."""
    if experiment_id is None and experiment is None:
        if _active is not None and _active[0] == root:
            return _active[1], _active[2]
        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or None
        if experiment is None and os.environ.get("MLFLOW_EXPERIMENT_ID"):
            experiment_id = os.environ["MLFLOW_EXPERIMENT_ID"]
        elif experiment is None:
            experiment = os.environ.get("TRACKER_EXPERIMENT_NAME") or store.DEFAULT_EXPERIMENT
    if experiment_id is not None:
        found = _experiment_by_id(root, str(experiment_id))
        if found is None:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")
        if found.lifecycle_stage == LifecycleStage.DELETED:
            raise InvalidState(
                f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted.")
        return found.name, found.experiment_id
    store.validate_key(experiment, "experiment name", path_like=False)
    doc = experiment_docs.ensure_experiment_doc(root, experiment)[0]
    if doc["lifecycle_stage"] == LifecycleStage.DELETED:
        raise InvalidState(f"The experiment {doc['experiment_id']} must be in the 'active' state. "
                           "Current state is deleted.")
    return doc["name"], doc["experiment_id"]


def create_experiment(name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    _client().restore_experiment(experiment_id)


def search_experiments(view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                       filter_string: str | None = None, order_by: list[str] | None = None) -> list[Experiment]:
    return list(_client().search_experiments(view_type, max_results, filter_string, order_by))


def _active_experiment_id() -> str:
    """The id of the experiment new runs would go to, found without creating anything."""
    root = get_tracking_dir()
    if _active is not None and _active[0] == root:
        return _active[2]
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if not name and os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    name = name or os.environ.get("TRACKER_EXPERIMENT_NAME") or store.DEFAULT_EXPERIMENT
    doc = experiment_docs.read_experiment_doc(root, name)
    return doc["experiment_id"] if doc is not None else experiment_docs.legacy_experiment_id(name)


def set_experiment_tag(key: str, value: Any) -> None:
    """Tag the active experiment (the one new runs go to)."""
    _client().set_experiment_tag(_active_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    client, experiment_id = _client(), _active_experiment_id()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


def _forget_active() -> None:
    """No experiment is active any more: runs go to the environment's or Default."""
    global _active
    _active = None
