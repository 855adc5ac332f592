"""``tracker.Client`` (also ``MlflowClient``): explicit, id-based access to a runs directory and the registry.

Reading runs lives here; experiments and run writes in ``client_tracking``, the registry in
``registry.client_mixin``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from . import store
from .config import get_tracking_dir
from .client_tracking import PagedList, TrackingClientMixin, page
from .config import uri_to_dir
from .entities import FileInfo, LifecycleStage, Metric, Run, UnreadableRun, ViewType
from .exceptions import InvalidParameterValue, RunNotFoundError
from .filter import parse_filter
from .ordering import sort_runs
from .registry.client_mixin import RegistryClientMixin
from .store import MetricSeries

__all__ = ["Client", "MlflowClient", "PagedList", "RunNotFoundError"]


class Client(TrackingClientMixin, RegistryClientMixin):
    """Runs, experiments, metric histories and registered models of one runs directory.

    ``tracking_uri`` is a path or ``file:`` URI (default: ``get_tracking_dir()``);
    ``registry_uri`` is accepted for MLflow's signature (the registry has its own setting).
    """

    def __init__(self, tracking_uri: str | os.PathLike | None = None, registry_uri: str | None = None) -> None:
        self.tracking_dir = uri_to_dir(tracking_uri) if tracking_uri is not None else get_tracking_dir()
        self._run_index = None

    @property
    def tracking_uri(self) -> str:
        return self.tracking_dir.as_uri()

    # -- runs ------------------------------------------------------------------------------
    def scan(self) -> tuple[list[Run], list[UnreadableRun]]:
        """Every readable run, and every unreadable one with the reason.

        Served through the directory's index (``tracker.index``) so only changed runs are
        read; a plain scan when the index cannot be used or ``TRACKER_NO_INDEX`` is set.
        """
        if os.environ.get("TRACKER_NO_INDEX") or not self.tracking_dir.is_dir():
            return store.read_all_runs(self.tracking_dir)
        from .index import IndexUnavailable, RunIndex
        if self._run_index is None:
            self._run_index = RunIndex(self.tracking_dir)
        try:
            result = self._run_index.refresh()
        except IndexUnavailable:
            return store.read_all_runs(self.tracking_dir)
        return result.runs, result.unreadable

    def unreadable_runs(self) -> list[UnreadableRun]:
        return self.scan()[1]

    def search_runs(self, experiment_ids: list[str] | str | None = None, filter_string: str = "",
                    run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                    order_by: list[str] | str | None = None, page_token: str | None = None) -> PagedList:
        """Runs matching ``filter_string`` (the filter grammar), sorted by ``order_by`` (default: newest first),
        as MLflow's ``search_runs``: a page of ``max_results`` (default: all) and its ``.token`` for the next.

        ``experiment_ids`` are experiment ids or names (None: every experiment). Runs of deleted
        experiments count as deleted for ``run_view_type``.
        """
        matcher = parse_filter(filter_string)  # parse first: a bad filter fails before any reading
        if isinstance(run_view_type, (str, list, tuple)):  # this library's older order: (experiments, filter, order_by)
            order_by, run_view_type = run_view_type, ViewType.ACTIVE_ONLY
        stages = ViewType.stages(run_view_type)
        runs, _ = self.scan()
        experiments = store.read_experiments(self.tracking_dir, runs)
        deleted = {e.name for e in experiments if e.lifecycle_stage == LifecycleStage.DELETED}
        names = self._experiment_names(experiment_ids, experiments)
        runs = [
            run for run in runs
            if (names is None or run.info.experiment in names)
            and (LifecycleStage.DELETED if run.info.experiment in deleted else LifecycleStage.ACTIVE) in stages
            and matcher.matches(run)
        ]
        return page(sort_runs(runs, order_by), max_results, page_token)

    @staticmethod
    def _experiment_names(experiment_ids, experiments) -> set[str] | None:
        """The experiment names that ``experiment_ids`` (ids or names) select; None selects all."""
        if experiment_ids is None:
            return None
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        by_id = {e.experiment_id: e.name for e in experiments}
        names = set()
        for wanted in experiment_ids:
            if not isinstance(wanted, (str, int)) or isinstance(wanted, bool):
                raise InvalidParameterValue(f"experiment_ids must be ids (strings), got {wanted!r}")
            names.add(by_id.get(str(wanted), str(wanted)))
        return names

    def _run_path(self, run_id: str) -> Path:
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
            raise RunNotFoundError(run_id)
        path = store.run_dir(self.tracking_dir, run_id)
        if not path.is_dir():
            raise RunNotFoundError(run_id)
        return path

    def get_run(self, run_id: str) -> Run:
        result = store.read_run(self._run_path(run_id))
        if isinstance(result, UnreadableRun):
            raise ValueError(f"run {run_id} is unreadable: {result.reason}")
        return result

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The artifacts directly inside ``path`` (default: the top), as MLflow's ``list_artifacts``."""
        from .artifacts import list_artifacts
        return list_artifacts(self._run_path(run_id) / store.ARTIFACTS_DIR, path)

    def delete_run(self, run_id: str) -> None:
        """Remove a run's directory from disk (registered models keep their own copies)."""
        shutil.rmtree(self._run_path(run_id))

    # -- metrics -----------------------------------------------------------------------------
    def metric_series(self, run_id: str, key: str) -> MetricSeries:
        """The whole history of ``key`` as numpy arrays (steps, timestamps, values)."""
        return store.read_metric(self._run_path(run_id), key)

    def read_metric_tail(self, run_id: str, key: str, position: int) -> MetricSeries:
        """Only what was appended since ``position`` (from a previous read's ``.position``)."""
        return store.read_metric(self._run_path(run_id), key, position)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        s = self.metric_series(run_id, key)
        return [
            Metric(key, float(v), int(ts), int(st), run_id)
            for st, ts, v in zip(s.steps.tolist(), s.timestamps.tolist(), s.values.tolist())
        ]


MlflowClient = Client
