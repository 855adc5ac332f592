"""What scikit-learn autologging records for one fit, under MLflow's names (see ``sklearn.py``).

Every function here logs to the active run through the fluent API.
"""
from __future__ import annotations

import inspect
from numbers import Number
from typing import Any, Callable

from ..store import layout

TRAINING_PREFIX = "training_"
DATASET_CONTEXT = "train"
INPUT_EXAMPLE_ROWS = 5


def is_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    return isinstance(estimator, (GridSearchCV, RandomizedSearchCV))


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def param_text(params: dict[str, Any]) -> dict[str, str]:
    """Params as logged by autologging: keys and values cut to MLflow's limits, not refused."""
    return {str(key)[: layout.MAX_KEY_LENGTH]: str(value)[: layout.MAX_PARAM_VALUE_LENGTH]
            for key, value in params.items()}


def search_params(estimator: Any) -> dict[str, Any]:
    # A search's seed estimator holds untuned values: log the search's own params only.
    return estimator.get_params(deep=not is_search(estimator))


def log_pretraining(estimator: Any, X: Any, y: Any, config: dict[str, Any]) -> None:
    import tracker
    tracker.log_params(param_text(search_params(estimator)))
    tracker.set_tags(estimator_tags(estimator))
    if config["log_datasets"]:
        dataset = training_dataset(X, y)
        if dataset is not None:
            from .. import data
            data.log_input(dataset, context=DATASET_CONTEXT)


def training_dataset(X: Any, y: Any) -> Any:
    """The training data as a ``tracker.data`` dataset (None for data it cannot describe)."""
    import numpy as np
    import pandas as pd
    from .. import data
    if hasattr(X, "toarray"):  # a scipy sparse matrix
        X = X.toarray()
    if hasattr(y, "toarray"):
        y = y.toarray()
    if isinstance(X, pd.DataFrame):
        return data.from_pandas(X)
    if isinstance(X, (np.ndarray, list)):
        return data.from_numpy(np.asarray(X), targets=None if y is None else np.asarray(y))
    return None


def log_posttraining(estimator: Any, X: Any, y: Any, sample_weight: Any, config: dict[str, Any],
                     safely: Callable[[dict[str, Any], str, Callable[[], Any]], Any]) -> None:
    import tracker
    example = _input_example(X)
    if config["log_models"]:
        safely(config, "logging the model", lambda: log_model(estimator, "model", example, config,
                                                              config["registered_model_name"]))
    safely(config, "computing training metrics", lambda: log_training_metrics(estimator, X, y, sample_weight,
                                                                              config["pos_label"]))
    from .sklearn_plots import log_classifier_plots
    safely(config, "logging classifier plots",
           lambda: log_classifier_plots(estimator, X, y, sample_weight, config, safely))
    safely(config, "logging estimator.html", lambda: _log_html(estimator))
    if not is_search(estimator):
        return
    if config["log_models"] and hasattr(estimator, "best_estimator_"):
        safely(config, "logging the best estimator",
               lambda: log_model(estimator.best_estimator_, "best_estimator", example, config, None))
    if hasattr(estimator, "best_score_"):
        safely(config, "logging best_cv_score",
               lambda: tracker.log_metrics({"best_cv_score": float(estimator.best_score_)}, step=0))
    if hasattr(estimator, "best_params_"):
        safely(config, "logging the best params", lambda: tracker.log_params(
            param_text({f"best_{key}": value for key, value in estimator.best_params_.items()})))
    if hasattr(estimator, "cv_results_"):
        safely(config, "creating child runs", lambda: log_child_runs(estimator, config))
        safely(config, "logging cv_results.csv", lambda: tracker.log_text(
            _cv_results(estimator).to_csv(index=False), "cv_results.csv"))


def _input_example(X: Any) -> Any:
    """The first rows of the training data, copied before anything can change them."""
    import copy
    try:
        return copy.deepcopy(X[:INPUT_EXAMPLE_ROWS])
    except Exception:  # noqa: BLE001 - data that cannot be sliced has no example
        return None


def log_model(estimator: Any, name: str, example: Any, config: dict[str, Any], registered_name: str | None) -> Any:
    import tracker.sklearn as flavor
    accepted = inspect.signature(flavor.log_model).parameters
    kwargs: dict[str, Any] = {"name": name, "serialization_format": config["serialization_format"]}
    if registered_name:
        kwargs["registered_model_name"] = registered_name
    if config["log_input_examples"] and example is not None:
        kwargs["input_example"] = example
    if config["log_model_signatures"] and example is not None:
        signature = _signature(estimator, example)
        if signature is not None:
            kwargs["signature"] = signature
    if "params" in accepted:
        params = search_params(estimator)
        params.update({f"best_{k}": v for k, v in getattr(estimator, "best_params_", {}).items()})
        kwargs["params"] = param_text(params)
    return flavor.log_model(estimator, **kwargs)


def _signature(estimator: Any, example: Any) -> Any:
    """MLflow's ``infer_signature(example, prediction)`` (None where this library has no such function)."""
    import copy
    try:
        from ..models import infer_signature
    except ImportError:
        return None
    if hasattr(estimator, "predict"):
        output = estimator.predict(copy.deepcopy(example))
    elif hasattr(estimator, "transform"):
        output = estimator.transform(copy.deepcopy(example))
    else:
        return None
    return infer_signature(example, output)


def _metric(function: Callable, y_true: Any, prediction: Any, **arguments: Any) -> float:
    # The prediction goes by position: sklearn renames it (log_loss's y_pred became y_proba).
    accepted = inspect.signature(function).parameters
    return float(function(y_true, prediction, **{k: v for k, v in arguments.items() if k in accepted}))


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any, pos_label: Any) -> dict[str, float]:
    """MLflow's training metrics for a classifier or regressor (none without labels)."""
    import numpy as np
    import sklearn.base
    from sklearn import metrics
    if y is None:
        return {}
    p = TRAINING_PREFIX
    out: dict[str, float] = {}
    if sklearn.base.is_classifier(estimator):
        y_pred = estimator.predict(X)
        average = "weighted" if pos_label is None else "binary"
        for name, function in (("precision_score", metrics.precision_score), ("recall_score", metrics.recall_score),
                               ("f1_score", metrics.f1_score)):
            out[p + name] = _metric(function, y, y_pred, pos_label=pos_label, average=average,
                                    sample_weight=sample_weight)
        out[p + "accuracy_score"] = _metric(metrics.accuracy_score, y, y_pred, normalize=True,
                                            sample_weight=sample_weight)
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            out[p + "log_loss"] = _metric(metrics.log_loss, y, proba, sample_weight=sample_weight)
            scores = proba[:, 1] if proba.shape[1] == 2 else proba
            try:
                out[p + "roc_auc"] = _metric(metrics.roc_auc_score, y, scores, average="weighted",
                                             sample_weight=sample_weight, multi_class="ovo")
            except ValueError:  # e.g. one class only: ROC AUC is undefined
                pass
    elif sklearn.base.is_regressor(estimator):
        y_pred = estimator.predict(X)
        for name, function in (("mean_squared_error", metrics.mean_squared_error),
                               ("mean_absolute_error", metrics.mean_absolute_error),
                               ("r2_score", metrics.r2_score)):
            out[p + name] = _metric(function, y, y_pred, sample_weight=sample_weight, multioutput="uniform_average")
        out[p + "root_mean_squared_error"] = float(np.sqrt(out[p + "mean_squared_error"]))
    return out


def log_training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any, pos_label: Any) -> None:
    import tracker
    values = training_metrics(estimator, X, y, sample_weight, pos_label)
    if hasattr(estimator, "score") and y is not None:
        accepted = inspect.signature(estimator.score).parameters
        score_args = (X, y, sample_weight) if "sample_weight" in accepted else (X, y)
        values[TRAINING_PREFIX + "score"] = float(estimator.score(*score_args))
    if values:
        tracker.log_metrics(values, step=0)


def _log_html(estimator: Any) -> None:
    import tracker
    from sklearn.utils import estimator_html_repr
    html = ('<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8"/>\n  </head>\n  <body>\n'
            f"    {estimator_html_repr(estimator)}\n  </body>\n</html>\n")
    tracker.log_text(html, "estimator.html")


def _cv_results(estimator: Any) -> Any:
    import pandas as pd
    return pd.DataFrame.from_dict(estimator.cv_results_)


def log_child_runs(search: Any, config: dict[str, Any]) -> None:
    """One finished child run per candidate of ``search``: the ``max_tuning_runs`` best by rank
    (all when None), each with the seed's params updated by the candidate's and the candidate's
    aggregate results (``mean_test_score``, ``rank_test_score``, ...; per-split columns left out)."""
    from .. import fluent
    results = _cv_results(search)
    limit = config["max_tuning_runs"]
    if limit is not None:
        rank = "rank_test_score" if "rank_test_score" in results.columns else next(
            (c for c in results.columns if "rank_test_" in c), None)
        results = results.nsmallest(limit, rank) if rank is not None else results.head(limit)
    seed = search.estimator
    base = seed.get_params(deep=not is_search(seed))
    parent = fluent.active_run().info.run_id
    # MLflow creates child runs through its client: last_active_run() stays the search's run.
    last_active = fluent._last_active
    try:
        _start_children(results, base, seed, parent)
    finally:
        fluent._last_active = last_active


def _start_children(results: Any, base: dict[str, Any], seed: Any, parent: str) -> None:
    import tracker
    for _, row in results.iterrows():
        params = {**base, **(row.get("params") or {})}
        metrics = {key: float(value) for key, value in row.items()
                   if not key.startswith(("param", "split")) and isinstance(value, Number)
                   and not isinstance(value, bool)}
        tags = {"mlflow.autologging": "sklearn", "mlflow.parentRunId": parent, **estimator_tags(seed)}
        with tracker.start_run(nested=True, tags=tags):
            tracker.log_params(param_text(params))
            tracker.log_metrics(metrics, step=0)
