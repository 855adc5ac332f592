"""The tracking half of ``Client`` (``MlflowClient``): experiments and run writes by id, in
MLflow's names, arguments and errors. Reading runs stays in ``client.py``."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable

from . import artifacts, client_writes, store
from .arguments import params_text, tags_text
from .entities import Experiment, LifecycleStage, Metric, Param, Run, RunStatus, RunTag, ViewType
from .exceptions import InvalidParameterValue, InvalidState, ResourceAlreadyExists, ResourceDoesNotExist
from .record_filter import NUMBER, TEXT, field_table, record_filter
from .store import experiments as experiment_docs
from .store import layout
from .store.tempfiles import is_temp_name


class PagedList(list):
    """A page of results (a list) and the ``token`` of the next page (None on the last)."""

    def __init__(self, items: Iterable[Any], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def page(items: list[Any], max_results: int | None, page_token: str | None) -> PagedList:
    """``items[offset:offset + max_results]`` where the token is the offset (as text)."""
    offset = 0
    if page_token:
        if not str(page_token).isdigit():
            raise InvalidParameterValue(f"Invalid page token, could not base64-decode: {page_token!r}")
        offset = int(page_token)
    if max_results is None:
        return PagedList(items[offset:], None)
    if type(max_results) is not int or max_results <= 0:
        raise InvalidParameterValue(
            f"Invalid value {max_results!r} for parameter 'max_results' supplied. It must be a positive integer")
    end = offset + max_results
    return PagedList(items[offset:end], str(end) if end < len(items) else None)


# MLflow's fields for search_experiments; the grammar is the runs' one (tracker.record_filter)
_EXPERIMENT_FIELDS = field_table({"name": ("name", TEXT), "creation_time": ("creation_time", NUMBER),
                                  "last_update_time": ("last_update_time", NUMBER)})


def _experiment_filter(filter_string: str | None) -> Callable[[Experiment], bool]:
    """A predicate for MLflow's experiment filter: ``name``, ``creation_time``, ``last_update_time``
    and ``tags.<key>``; ``RecordFilterError`` (MLflow's INVALID_PARAMETER_VALUE) when it is bad."""
    return record_filter(filter_string, _EXPERIMENT_FIELDS)


class TrackingClientMixin:
    tracking_dir: Path

    # -- experiments ---------------------------------------------------------------------------
    def _experiments(self) -> list[Experiment]:
        from .index.table import experiment_counts
        table = self.runs_table()  # type: ignore[attr-defined]
        return store.read_experiments(self.tracking_dir, counts=experiment_counts(table))

    def _experiment(self, experiment_id: str) -> Experiment:
        experiment_id = str(experiment_id)
        for e in self._experiments():
            if e.experiment_id == experiment_id:
                return e
        if experiment_id == experiment_docs.DEFAULT_EXPERIMENT_ID:  # always there, as in MLflow (recorded on first use)
            return Experiment(experiment_docs.DEFAULT_EXPERIMENT, 0, experiment_id=experiment_id,
                              artifact_location=self.tracking_dir.as_uri())
        raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")

    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: dict[str, Any] | None = None) -> str:
        """Create an experiment and return its id; raises RESOURCE_ALREADY_EXISTS when the name is taken."""
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(f"Invalid experiment name: {name!r}")
        layout.validate_key(name, "experiment name", path_like=False)
        tags = tags_text(tags) if tags else {}
        existing = experiment_docs.read_experiment_doc(self.tracking_dir, name)
        if existing is None and any(e.name == name for e in self._experiments()):  # named only by runs
            existing = {"lifecycle_stage": LifecycleStage.ACTIVE}
        if existing is None:
            doc, created = experiment_docs.ensure_experiment_doc(self.tracking_dir, name, artifact_location, tags)
            if created:
                return doc["experiment_id"]
            existing = doc
        if existing["lifecycle_stage"] == LifecycleStage.DELETED:
            raise ResourceAlreadyExists(
                f"Experiment {name!r} already exists in deleted state. You can restore the experiment, "
                "or permanently delete the experiment in order to use this experiment name again.")
        raise ResourceAlreadyExists(f"Experiment '{name}' already exists.")

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id (active or deleted)."""
        return self._experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = next((e for e in self._experiments() if e.name == name), None)
        if found is None and name == experiment_docs.DEFAULT_EXPERIMENT:
            return self._experiment(experiment_docs.DEFAULT_EXPERIMENT_ID)  # always there, as in MLflow
        return found

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList:
        """Experiments in ``view_type``'s lifecycle stages, matching ``filter_string``; Default first, then by name
        (``order_by`` takes ``name``, ``experiment_id``, ``creation_time``, ``last_update_time`` with ASC/DESC)."""
        stages = ViewType.stages(view_type)
        keep = _experiment_filter(filter_string)
        found = [e for e in self._experiments() if e.lifecycle_stage in stages and keep(e)]
        for clause in reversed(list(order_by or [])):
            field, _, direction = clause.strip().partition(" ")
            if field not in ("name", "experiment_id", "creation_time", "last_update_time"):
                raise InvalidParameterValue(f"Invalid order_by entity: {clause!r}")
            found.sort(key=lambda e, f=field: (getattr(e, f) is None, getattr(e, f) or 0),
                       reverse=direction.strip().upper() == "DESC")
        return page(found, max_results, page_token)

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        experiment = self._experiment(experiment_id)
        experiment_docs.update_experiment_doc(self.tracking_dir, experiment.name, lifecycle_stage=stage)

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark the experiment deleted and move its runs to the trash (as ``delete_run``; runs still being
        written stay, hidden with their experiment), until ``restore_experiment``."""
        if str(experiment_id) == experiment_docs.DEFAULT_EXPERIMENT_ID:
            raise InvalidParameterValue(
                "Cannot delete the default experiment '0'. This is an internally reserved experiment.")
        experiment = self._experiment(experiment_id)
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)
        self._trash_experiment_runs(experiment.experiment_id, {experiment.name})  # type: ignore[attr-defined]

    def restore_experiment(self, experiment_id: str) -> None:
        """Mark the experiment active again, with the runs its deletion moved to the trash."""
        experiment = self._experiment(experiment_id)
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)
        self._restore_experiment_runs(experiment.experiment_id)  # type: ignore[attr-defined]

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        tag = tags_text({key: value})
        experiment = self._experiment(experiment_id)
        experiment_docs.update_experiment_doc(self.tracking_dir, experiment.name, tags={**experiment.tags, **tag})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        experiment = self._experiment(experiment_id)
        experiment_docs.update_experiment_doc(
            self.tracking_dir, experiment.name, tags={k: v for k, v in experiment.tags.items() if k != key})

    # -- runs ------------------------------------------------------------------------------------
    def create_run(self, experiment_id: str, start_time: int | None = None, tags: dict[str, Any] | None = None,
                   run_name: str | None = None) -> Run:
        """Start a RUNNING run in the experiment; it stays open in this process until ``set_terminated``."""
        from .fluent import open_run
        experiment = self._experiment(experiment_id)
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidState(f"The experiment {experiment_id} must be in the 'active' state. "
                               f"Current state is {experiment.lifecycle_stage}.")
        experiment_docs.ensure_experiment_doc(self.tracking_dir, experiment.name)
        parent = (tags or {}).get("mlflow.parentRunId")  # how MLflow's client nests a run
        writer = open_run(self.tracking_dir, experiment.name, experiment.experiment_id, run_name, tags,
                          description=None, parent_run_id=str(parent) if parent else None, start_time=start_time,
                          source=False)
        client_writes.keep_open(self.tracking_dir, writer)
        return self.get_run(writer.run_id)  # type: ignore[attr-defined]

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """End a run: FINISHED unless ``status`` says otherwise; ``end_time`` defaults to now."""
        status = RunStatus.to_string(status) if status is not None else RunStatus.FINISHED
        if status not in RunStatus.ALL or status == RunStatus.RUNNING:
            raise InvalidParameterValue(f"Invalid run status {status!r} to end a run with")
        if client_writes.close(self.tracking_dir, run_id, status, end_time):
            return
        writer = client_writes.open_writer(self.tracking_dir, run_id)
        if writer is not None:  # the fluent API's active run
            from .fluent import _end
            _end(writer, status)
            return
        from .writer import RunWriter
        self._active_run_path(run_id)  # type: ignore[attr-defined]  # MLflow's errors when missing or deleted
        RunWriter.resume(self.tracking_dir, run_id).end(status, end_time=end_time)

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None,
                   synchronous: bool | None = None, **_mlflow_only: Any) -> None:
        with client_writes.writing(self.tracking_dir, run_id) as writer:
            writer.log_metric(key, value, step if step is not None else 0, timestamp)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        params = params_text({key: value})
        with client_writes.writing(self.tracking_dir, run_id) as writer:
            writer.log_params(params)
        return value

    def log_batch(self, run_id: str, metrics: Iterable[Metric] = (), params: Iterable[Param] = (),
                  tags: Iterable[RunTag] = (), synchronous: bool | None = None) -> None:
        """Params, tags and metric points of one run in one call; everything is checked before anything is written."""
        metrics, params_list, tags_list = list(metrics), list(params), list(tags)
        param_values = params_text({p.key: p.value for p in params_list})
        tag_values = tags_text({t.key: t.value for t in tags_list})
        for m in metrics:
            layout.validate_key(m.key, "metric key")
        with client_writes.writing(self.tracking_dir, run_id) as writer:
            if param_values:
                writer.log_params(param_values)
            if tag_values:
                writer.set_tags(tag_values)
            for m in metrics:
                writer.log_metric(m.key, m.value, m.step, m.timestamp)

    # -- artifacts ---------------------------------------------------------------------------------
    def _artifacts_of(self, run_id: str) -> Path:
        """The artifacts folder of a run to write to (MLflow's error for a deleted run)."""
        return self._active_run_path(run_id) / store.ARTIFACTS_DIR  # type: ignore[attr-defined]

    def log_artifact(self, run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None) -> None:
        artifacts.log_artifact(self._artifacts_of(run_id), local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None) -> None:
        artifacts.log_artifacts(self._artifacts_of(run_id), local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        artifacts.log_text(self._artifacts_of(run_id), text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        artifacts.log_dict(self._artifacts_of(run_id), dictionary, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        artifacts.log_figure(self._artifacts_of(run_id), figure, artifact_file)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | os.PathLike | None = None) -> str:
        """Copy the artifact file or folder ``path`` of the run to ``dst_path`` (default: a new temp
        directory) and return the local path of the copy."""
        import tempfile
        base = self._run_path(run_id) / store.ARTIFACTS_DIR  # type: ignore[attr-defined]  # (a deleted run's too)
        source = store.resolve_inside(base, path, "path")
        if not source.exists() or source.is_symlink() or is_temp_name(source.name):
            raise ResourceDoesNotExist(f"No such file or directory: artifact {path!r} of run {run_id}")
        dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / source.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():  # links stay links; writes in progress (temp files) are not artifacts yet
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True,
                            ignore=lambda _, names: [n for n in names if is_temp_name(n)])
        else:
            shutil.copy2(source, target)
        return str(target.absolute())
