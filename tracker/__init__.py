"""tracker: log ML runs to a local directory with MLflow's fluent API; no server, no Qt.

    import tracker
    with tracker.start_run():
        tracker.log_metric("loss", 0.1)
"""
from . import sklearn  # noqa: F401  (tracker.sklearn.log_model, as mlflow.sklearn)
from .client import Client, RunNotFoundError
from .config import get_tracking_dir, set_tracking_dir
from .entities import Experiment, Metric, MetricSummary, Run, RunData, RunInfo, RunStatus, UnreadableRun
from .filter import FilterSyntaxError
from .fluent import (
    ActiveRun, active_run, delete_tag, end_run, get_artifact_uri, last_active_run, log_artifact,
    log_artifacts, log_dict, log_figure, log_metric, log_metrics, log_param, log_params, log_text,
    set_experiment, set_tag, set_tags, start_run,
)
from .models import ModelInfo, ModelIntegrityError, load_model
from .registry import register_model


def search_runs(experiments=None, filter_string: str = "", order_by=None, max_results=None) -> list[Run]:
    """Fluent form of ``Client().search_runs``."""
    return Client().search_runs(experiments, filter_string, order_by, max_results)


__version__ = "0.1.0"
