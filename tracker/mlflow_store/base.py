"""What both MLflow store readers offer, and the parts they share."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from pathlib import Path

from ..entities import Experiment, Metric, Run, UnreadableRun
from ..index.table import RunTable, experiment_counts
from ..registry.entities import ModelVersion, RegisteredModel
from ..store.metricfile import MetricSeries

if TYPE_CHECKING:
    from .listing import RunListing


@dataclass(frozen=True)
class MlflowExperiment:
    """An MLflow experiment as stored (tracker's ``Experiment`` has no id; runs name theirs)."""

    experiment_id: str
    name: str
    artifact_location: str = ""
    lifecycle_stage: str = "active"
    creation_time: int = 0
    last_update_time: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model of a run (``log_model(name=...)``), kept outside the run's artifacts."""

    name: str
    model_id: str
    artifact_dir: Path | None  # None when its artifacts are not on this machine


def _equal(a: Run | UnreadableRun | None, b: Run | UnreadableRun) -> bool:
    return a is not None and type(a) is type(b) and a == b


def safe_model_name(name: str) -> bool:
    """Whether a logged model's name (read from the store) can name a folder inside a run's artifacts."""
    parts = name.replace("\\", "/").split("/")
    return bool(name) and "\x00" not in name and all(p not in ("", ".", "..") for p in parts) \
        and not name.startswith("/") and ":" not in name


class RunNotInStoreError(LookupError):
    pass


class MlflowStoreReader:
    """Read-only access to one MLflow store; every method returns tracker's own objects.

    Deleted runs and experiments are hidden unless ``include_deleted`` is given. A damaged run
    is returned as an ``UnreadableRun`` with the reason; it never hides the other runs.
    """

    kind: str = ""
    path: Path
    _listed_runs: dict | None = None  # the runs of the last ``list_runs`` (the default one), by run id
    _listed_table: RunTable | None = None  # and their table

    # -- implemented by each store --------------------------------------------------------------
    def read_experiments(self, include_deleted: bool = False) -> list[MlflowExperiment]:
        raise NotImplementedError

    def scan(self, include_deleted: bool = False) -> tuple[list[Run], list[UnreadableRun]]:
        """Every run with its params, tags and metric summaries, read now; damaged runs with the reason."""
        raise NotImplementedError

    def list_runs(self, include_deleted: bool = False, run_ids: Iterable[str] | None = None,
                  keys_later: bool = False) -> "RunListing":
        """Every run as a row of a ``RunTable`` (what the app's runs table reads), each run as an
        object made when first asked for (``RunListing.runs``); damaged runs as rows with a reason.
        ``run_ids``: only these runs are looked at again (the others are as the last listing left them).
        ``read`` names the runs that changed (or may have) since this reader's last listing.
        ``keys_later``: what only serves the next listing is done by ``settle()`` (call it once the
        table is shown). Here: a ``scan`` (or ``get_run`` of ``run_ids``), the table patched where
        runs differ; the file store reads only the runs whose files changed since its last listing."""
        from .listing import RunListing, RunsOnDemand, run_id_of, table_of
        old, table = self._listed_runs, self._listed_table
        if run_ids is not None and old is not None:
            runs = dict(old)
            for run_id in set(run_ids) & runs.keys():
                try:
                    runs[run_id] = self.get_run(run_id)
                except LookupError:
                    del runs[run_id]
                except (OSError, ValueError) as e:
                    runs[run_id] = UnreadableRun(run_id, runs[run_id].path, f"MLflow run is damaged: {e}")
        else:
            found, unreadable = self.scan(include_deleted)
            runs = {run_id_of(r): r for r in (*found, *unreadable)}
        if old is None or table is None:
            read, removed, table = list(runs), [], table_of(self.path, runs.values())
        else:
            # equal runs are equal objects; a NaN metric makes a run unequal to itself: read again
            read = [rid for rid, run in runs.items() if not _equal(old.get(rid), run)]
            removed = [rid for rid in old if rid not in runs]
            if read or removed:
                table = table.patched(table_of(self.path, [runs[rid] for rid in read]), removed)
        self._listed_runs, self._listed_table = runs, table
        return RunListing(table, RunsOnDemand(table, runs.get), read, removed)

    def stored_listing(self, include_deleted: bool = False) -> "RunListing | None":
        """The runs as a cache kept them, unchecked, to show before ``list_runs`` (None: no cache, here)."""
        return None

    def settle(self) -> None:
        """Finish what ``list_runs(keys_later=True)`` left for later (nothing, here)."""

    def get_run(self, run_id: str) -> Run:
        """One run (deleted ones too); RunNotInStoreError, or ValueError for a damaged run."""
        raise NotImplementedError

    def metric_series(self, run_id: str, key: str, position: int = 0) -> MetricSeries:
        """A metric's history in logged order, from ``position`` (0, or a previous read's
        ``.position``) on: a live reader passes the last position to get only new points."""
        raise NotImplementedError

    def artifact_dir(self, run_id: str) -> Path | None:
        """The run's artifact directory when it is local (it may not exist if nothing was logged)."""
        raise NotImplementedError

    def logged_models(self, run_id: str) -> list[LoggedModel]:
        """The run's MLflow 3 logged models (active ones), oldest first; models whose names cannot
        name a folder are left out."""
        raise NotImplementedError

    def model_versions(self, name: str | None = None, include_deleted: bool = False) -> list[ModelVersion]:
        """Registered versions (of one model, or all), by name then newest version first."""
        raise NotImplementedError

    def registered_models(self, include_deleted: bool = False) -> list[RegisteredModel]:
        raise NotImplementedError

    def changed_token(self) -> tuple:
        """A cheap value that changes when the store does (compare with the last one to refresh)."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        s = self.metric_series(run_id, key)
        return [Metric(key, float(v), timestamp=int(ts), step=int(st))
                for st, ts, v in zip(s.steps.tolist(), s.timestamps.tolist(), s.values.tolist())]

    def search_experiments(self, runs: list[Run] | RunTable | None = None) -> list[Experiment]:
        """tracker's ``Experiment`` objects (with MLflow's experiment tags and run counts), counting
        ``runs`` (a list, or a listing's table; default: a ``scan``)."""
        if isinstance(runs, RunTable):
            counts = {name: count for name, (count, _) in experiment_counts(runs).items()}
        else:
            counts = Counter(r.info.experiment for r in (runs if runs is not None else self.scan()[0]))
        return [Experiment(e.name, e.creation_time, counts.get(e.name, 0), dict(e.tags), e.experiment_id,
                           e.artifact_location, e.lifecycle_stage, e.last_update_time or None)
                for e in self.read_experiments()]

    def get_registered_model(self, name: str) -> RegisteredModel:
        for model in self.registered_models():
            if model.name == name:
                return model
        raise LookupError(f"no registered model {name!r} in the MLflow store {self.path}")

    def __repr__(self) -> str:
        return f"<MLflow {self.kind} store {self.path}>"
