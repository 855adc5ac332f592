"""``tracker.Client`` (also ``MlflowClient``): explicit, id-based access to a runs directory and the registry.

Reading runs lives here; experiments and run writes in ``client_tracking``, editing runs (tags,
name, description, status) and the trash in ``client_runs``, the registry in ``registry.client_mixin``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import store
from .config import get_tracking_dir
from .client_runs import RunEditsMixin
from .client_tracking import PagedList, TrackingClientMixin, page
from .config import uri_to_dir
from .entities import FileInfo, LifecycleStage, Metric, Run, UnreadableRun, ViewType
from .exceptions import InvalidParameterValue, RunNotFoundError
from .filter import parse_filter
from .index.table import RunTable, TableBuilder, experiment_counts
from .ordering import order_keys
from .query import order_fields, select
from .registry.client_mixin import RegistryClientMixin
from .store import MetricSeries

__all__ = ["Client", "MlflowClient", "PagedList", "RunNotFoundError"]


class Client(RunEditsMixin, TrackingClientMixin, RegistryClientMixin):
    """Runs, experiments, metric histories and registered models of one runs directory.

    ``tracking_uri`` is a path or ``file:`` URI (default: ``get_tracking_dir()``);
    ``registry_uri`` puts this client's registry in that database (``postgresql://...``; see
    ``tracker.set_registry_uri``); default: ``tracker.get_registry_uri()``'s.
    """

    def __init__(self, tracking_uri: str | os.PathLike | None = None, registry_uri: str | None = None) -> None:
        self.tracking_dir = uri_to_dir(tracking_uri) if tracking_uri is not None else get_tracking_dir()
        self._registry_uri = registry_uri
        if registry_uri is not None:
            from .registry.location import database_url
            self._registry_url = database_url(registry_uri)  # checked now, connected at first use
        self._run_index = None

    @property
    def tracking_uri(self) -> str:
        return self.tracking_dir.as_uri()

    # -- runs ------------------------------------------------------------------------------
    def runs_table(self) -> RunTable:
        """Every run of the directory as columns (``tracker.index.RunTable``).

        Served through the directory's index so only changed runs are read; read in full
        when the index cannot be used or ``TRACKER_NO_INDEX`` is set.
        """
        root = str(self.tracking_dir)
        if not self.tracking_dir.exists():  # (a file there is listed, and raises NotADirectoryError)
            return RunTable.empty(root)
        if not os.environ.get("TRACKER_NO_INDEX"):
            from .index import IndexUnavailable, RunIndex
            if self._run_index is None:
                self._run_index = RunIndex(self.tracking_dir)
            try:
                return self._run_index.refresh().table
            except IndexUnavailable:
                pass
        from .index.run_index import read_into
        from .store.layout import run_doc_key
        builder = TableBuilder(root)
        for name, path in store.list_run_dirs(root):
            read_into(builder, name, path, run_doc_key(path))
        return builder.build()

    def deleted_runs_table(self) -> RunTable:
        """Every deleted run (in the trash) as columns, rooted like ``runs_table``: folders are ``.trash/<id>``."""
        from .index.trash_table import trash_table
        return trash_table(self.tracking_dir)

    def scan(self) -> tuple[list[Run], list[UnreadableRun]]:
        """Every readable run, and every unreadable one with the reason."""
        table = self.runs_table()
        return table.runs(table.readable_rows()), table.runs(table.unreadable_rows())

    def unreadable_runs(self) -> list[UnreadableRun]:
        table = self.runs_table()
        return table.runs(table.unreadable_rows())

    def search_runs(self, experiment_ids: list[str] | str | None = None, filter_string: str = "",
                    run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int | None = None,
                    order_by: list[str] | str | None = None, page_token: str | None = None) -> PagedList:
        """Runs matching ``filter_string`` (the filter grammar), sorted by ``order_by`` (default: newest first),
        as MLflow's ``search_runs``: a page of ``max_results`` (default: all) and its ``.token`` for the next.

        ``experiment_ids`` are experiment ids or names (None: every experiment). ``run_view_type`` (MLflow's
        ``ViewType``): ACTIVE_ONLY (default), DELETED_ONLY (runs in the trash, and runs of deleted
        experiments) or ALL. The filter and the ordering run over the runs' columns (``tracker.query``);
        a ``Run`` is made only for each run returned.
        """
        matcher = parse_filter(filter_string)  # parse first: a bad filter fails before any reading
        if isinstance(run_view_type, (str, list, tuple)):  # this library's older order: (experiments, filter, order_by)
            order_by, run_view_type = run_view_type, ViewType.ACTIVE_ONLY
        keys = order_keys(order_by)
        stages = ViewType.stages(run_view_type)
        table = self.runs_table()
        experiments = store.read_experiments(self.tracking_dir, counts=experiment_counts(table))
        names = self._experiment_names(experiment_ids, experiments)
        shown = {e.name for e in experiments if (names is None or e.name in names) and e.lifecycle_stage in stages}
        active = table.n
        if LifecycleStage.DELETED in stages:
            deleted = self.deleted_runs_table()
            if deleted.n:
                table = table.concat(deleted)  # rows from ``active`` on are deleted runs, in any experiment
        rows = table.readable_rows()
        column = table.text["experiment"]
        in_shown = np.array([u in shown for u in column.uniques] + [False], dtype=bool)
        keep = in_shown[column.codes[rows]] & (rows < active)
        if table.n > active:
            wanted = np.array([names is None or u in names for u in column.uniques] + [False], dtype=bool)
            keep |= wanted[column.codes[rows]] & (rows >= active)
        rows = select(table, matcher, rows[keep])
        window = page(range(len(rows)), max_results, page_token)  # checks the arguments, says where the page is
        if not window:
            return PagedList([], window.token)
        start = window[0]
        ordered = order_fields(table, keys, rows, limit=start + len(window))
        return PagedList(table.runs(ordered[start:]), window.token)

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
        """The run's folder, for reading: in the runs directory, or in the trash for a deleted run."""
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
            raise RunNotFoundError(run_id)
        path = store.run_dir(self.tracking_dir, run_id)
        if not path.is_dir():
            from .store.trash import is_trashed, trashed_run_dir
            if is_trashed(self.tracking_dir, run_id):
                return trashed_run_dir(self.tracking_dir, run_id)
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
