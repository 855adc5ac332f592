"""``tracker.Client``: explicit, run-id based access to a runs directory (and, later, the registry)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from . import store
from .config import get_tracking_dir
from .entities import Experiment, FileInfo, Metric, Run, UnreadableRun
from .filter import parse_filter
from .ordering import sort_runs
from .registry.client_mixin import RegistryClientMixin
from .store import MetricSeries


class RunNotFoundError(LookupError):
    pass


class Client(RegistryClientMixin):
    """Read runs, experiments and metric histories from one runs directory."""

    def __init__(self, tracking_dir: str | os.PathLike | None = None) -> None:
        self.tracking_dir = Path(tracking_dir).absolute() if tracking_dir is not None else get_tracking_dir()
        self._run_index = None

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

    def search_experiments(self) -> list[Experiment]:
        return store.read_experiments(self.tracking_dir, self.scan()[0])

    def search_runs(self, experiments: list[str] | str | None = None, filter_string: str = "",
                    order_by: list[str] | str | None = None, max_results: int | None = None) -> list[Run]:
        """Runs matching ``filter_string`` (the filter grammar), sorted by ``order_by`` (default: newest first)."""
        matcher = parse_filter(filter_string)  # parse first: a bad filter fails before any reading
        if isinstance(experiments, str):
            experiments = [experiments]
        runs = [
            run for run in self.scan()[0]
            if (experiments is None or run.info.experiment in experiments) and matcher.matches(run)
        ]
        runs = sort_runs(runs, order_by)
        return runs[:max_results] if max_results is not None else runs

    def _run_path(self, run_id: str) -> Path:
        path = store.run_dir(self.tracking_dir, run_id)
        if not store.is_run_dir_name(run_id) or not path.is_dir():
            raise RunNotFoundError(f"no run {run_id!r} in {self.tracking_dir}")
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
            Metric(key, float(v), int(st), int(ts))
            for st, ts, v in zip(s.steps.tolist(), s.timestamps.tolist(), s.values.tolist())
        ]
