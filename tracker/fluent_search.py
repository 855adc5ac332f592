"""``tracker.search_runs``, ``tracker.get_run`` and ``tracker.delete_run``: MLflow's module-level calls by run id.

``search_runs`` returns a pandas DataFrame by default, with MLflow's columns: ``run_id``,
``experiment_id``, ``status``, ``artifact_uri``, ``start_time`` and ``end_time`` (UTC
datetimes), then ``metrics.<key>`` (NaN where a run lacks it), ``params.<key>`` and
``tags.<key>`` (None where a run lacks it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .entities import Run, ViewType
from .exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import pandas

SEARCH_MAX_RESULTS_PANDAS = 100_000


_kept: list = []  # the last Client made, reused while the tracking directory is the same


def _client():
    """A ``Client`` of the tracking directory, the same one from call to call: its run index keeps the
    table it last checked in memory (each search still checks it against the directory), where a new
    client would read the index file again (~25 ms for 10,000 runs)."""
    from .client import Client
    from .config import get_tracking_dir
    root = get_tracking_dir()
    kept = _kept[0] if _kept else None
    if kept is None or kept.tracking_dir != root:
        kept = Client(root)
        _kept[:] = [kept]
    return kept


def get_run(run_id: str) -> Run:
    """The run with this id; raises MlflowException RESOURCE_DOES_NOT_EXIST (``Run '<id>' not found``)."""
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Move the run to the trash, as ``Client.delete_run`` (MLflow's ``mlflow.delete_run``)."""
    _client().delete_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """The run that ``run_id`` is nested in, or None."""
    run = get_run(run_id)
    parent = run.data.tags.get("mlflow.parentRunId") or run.info.parent_run_id
    return get_run(parent) if parent else None


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: list[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> "list[Run] | pandas.DataFrame":
    """Runs matching ``filter_string`` in the given experiments (ids or, with ``experiment_names``,
    names); with neither, the active experiment's (or every experiment's with ``search_all_experiments``)."""
    if output_format not in ("pandas", "list"):
        raise ValueError(f"Unsupported output format: {output_format}. Supported string values are "
                         "'pandas' or 'list'")
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    if isinstance(experiment_names, str):
        experiment_names = [experiment_names]
    if experiment_ids and experiment_names:
        raise InvalidParameterValue("Only experiment_ids or experiment_names can be used, but not both")
    client = _client()
    if experiment_names:
        found = [client.get_experiment_by_name(name) for name in experiment_names if name is not None]
        experiment_ids = [e.experiment_id for e in found if e is not None]
    elif not experiment_ids:
        if search_all_experiments and run_view_type == ViewType.ACTIVE_ONLY:
            experiment_ids = None  # every active experiment, as the search itself lists them (one check of the runs)
        elif search_all_experiments:
            experiment_ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
        else:
            from .fluent_experiments import _active_experiment_id
            experiment_ids = [_active_experiment_id()]
    runs: list[Run] = []
    if experiment_ids or (experiment_ids is None and search_all_experiments):
        runs = list(client.search_runs(experiment_ids, filter_string, run_view_type, max_results, order_by))
    if output_format == "list":
        return runs
    return runs_to_dataframe(runs)


def runs_to_dataframe(runs: list[Run]) -> "pandas.DataFrame":
    """MLflow's search_runs DataFrame of ``runs``, in their order."""
    import numpy as np
    import pandas as pd

    def column(rows: list[dict[str, Any]], key: str, missing: Any) -> list[Any]:
        return [row.get(key, missing) for row in rows]

    data: dict[str, Any] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": pd.to_datetime([r.info.start_time for r in runs], unit="ms", utc=True),
        "end_time": pd.to_datetime([r.info.end_time for r in runs], unit="ms", utc=True),
    }
    for prefix, rows, missing in (("metrics.", [r.data.metrics for r in runs], np.nan),
                                  ("params.", [r.data.params for r in runs], None),
                                  ("tags.", [r.data.tags for r in runs], None)):
        keys = dict.fromkeys(key for row in rows for key in row)  # first-seen order, as MLflow's
        for key in keys:
            data[prefix + key] = column(rows, key, missing)
    return pd.DataFrame(data)
