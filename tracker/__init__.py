"""tracker: log ML runs to a local directory with MLflow's fluent API; no server, no Qt.

    import tracker
    with tracker.start_run():
        tracker.log_metric("loss", 0.1)

The names below are imported on first use (PEP 562), so ``import tracker`` stays cheap for
the app and the CLI, which need only a few modules: the fluent API brings the writer and
numpy, the sklearn flavor its model files, the registry its database layer.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the submodule that defines it
_EXPORTS = {
    "Client": "client", "MlflowClient": "client", "RunNotFoundError": "client",
    "MlflowException": "exceptions",
    "get_tracking_dir": "config", "set_tracking_dir": "config", "get_tracking_uri": "config",
    "set_tracking_uri": "config", "is_tracking_uri_set": "config",
    "Param": "entities", "RunTag": "entities", "ViewType": "entities",
    **dict.fromkeys(("delete_run", "get_parent_run", "get_run", "search_runs"), "fluent_search"),
    **dict.fromkeys((
        "create_experiment", "delete_experiment", "get_experiment", "get_experiment_by_name", "restore_experiment",
        "search_experiments", "set_experiment", "set_experiment_tag", "set_experiment_tags",
    ), "fluent_experiments"),
    "Experiment": "entities", "Metric": "entities", "MetricSummary": "entities", "Run": "entities",
    "RunData": "entities", "RunInfo": "entities", "RunStatus": "entities", "UnreadableRun": "entities",
    "FilterSyntaxError": "filter",
    "ModelInfo": "models", "ModelIntegrityError": "models", "load_model": "models",
    "UntrustedModelError": "model_trust",
    "register_model": "registry", "RegistryDamagedError": "registry",
    "get_registry_uri": "registry.location", "set_registry_uri": "registry.location",
    "RunLockedError": "store.runlock", "WriteError": "writer",
    "autolog": "autologging", "log_image": "images", "log_input": "data",
    "log_table": "tables", "load_table": "tables",
    **dict.fromkeys((
        "enable_system_metrics_logging", "disable_system_metrics_logging", "set_system_metrics_node_id",
        "set_system_metrics_samples_before_logging", "set_system_metrics_sampling_interval",
    ), "system_metrics"),
    **dict.fromkeys((
        "ActiveRun", "active_run", "delete_tag", "end_run", "get_artifact_uri", "last_active_run",
        "log_artifact", "log_artifacts", "log_dict", "log_figure", "log_metric", "log_metrics",
        "log_param", "log_params", "log_text", "set_tag", "set_tags", "start_run",
    ), "fluent"),
}

__all__ = sorted([*_EXPORTS, "sklearn", "pyfunc", "models", "data", "artifacts", "tracking", "exceptions"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    elif not name.startswith("__"):
        try:  # a submodule: tracker.sklearn (as mlflow.sklearn), tracker.store, ...
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what static tools and IDEs see
    from . import sklearn  # noqa: F401
    from .client import Client, MlflowClient, RunNotFoundError  # noqa: F401
    from .config import (  # noqa: F401
        get_tracking_dir, get_tracking_uri, is_tracking_uri_set, set_tracking_dir, set_tracking_uri,
    )
    from .exceptions import MlflowException  # noqa: F401
    from .fluent_experiments import (  # noqa: F401
        create_experiment, delete_experiment, get_experiment, get_experiment_by_name, restore_experiment,
        search_experiments, set_experiment, set_experiment_tag, set_experiment_tags,
    )
    from .fluent_search import get_parent_run, get_run, search_runs  # noqa: F401
    from .entities import (  # noqa: F401
        Experiment, Metric, MetricSummary, Param, Run, RunData, RunInfo, RunStatus, RunTag, UnreadableRun, ViewType,
    )
    from .filter import FilterSyntaxError  # noqa: F401
    from .fluent import (  # noqa: F401
        ActiveRun, active_run, delete_tag, end_run, get_artifact_uri, last_active_run, log_artifact,
        log_artifacts, log_dict, log_figure, log_metric, log_metrics, log_param, log_params, log_text,
        set_tag, set_tags, start_run,
    )
    from .model_trust import UntrustedModelError  # noqa: F401
    from .models import ModelInfo, ModelIntegrityError, load_model  # noqa: F401
    from .registry import RegistryDamagedError, register_model  # noqa: F401
    from .registry.location import get_registry_uri, set_registry_uri  # noqa: F401
    from .store.runlock import RunLockedError  # noqa: F401
    from .writer import WriteError  # noqa: F401
