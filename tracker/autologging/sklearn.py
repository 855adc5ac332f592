"""scikit-learn autologging, as ``mlflow.sklearn.autolog``.

``autolog()`` replaces ``fit``, ``fit_transform`` and ``fit_predict`` on scikit-learn's
estimator classes (those of ``sklearn.utils.all_estimators()`` plus Pipeline, GridSearchCV and
RandomizedSearchCV, less the preprocessing, imputing and feature modules and ColumnTransformer,
as MLflow). A patched fit called with no active run starts one and ends it after fit (FAILED
when fit raises); inside a run it logs into that run. Only the outermost fit of a thread logs:
a Pipeline fitting its steps or a search fitting its clones logs once, for itself.

What a fit logs: params (``get_params(deep=True)``; a search's own params only, plus
``best_<param>``), the tags ``estimator_name`` and ``estimator_class``, training metrics under
MLflow's names (``training_score``; ``training_{accuracy,precision,recall,f1}_score``,
``training_log_loss``, ``training_roc_auc`` for classifiers; ``training_{mean_squared_error,
root_mean_squared_error, mean_absolute_error, r2_score}`` for regressors), the training data as a
dataset input (context "train"), ``estimator.html``, for a classifier MLflow's plots of the training
data (``sklearn_plots``; only with matplotlib), the fitted model (``tracker.sklearn.log_model``,
name "model"), and for a search: ``best_cv_score``, the best estimator as "best_estimator",
``cv_results.csv`` and one child run per candidate (the ``max_tuning_runs`` best by rank).
After training, ``model.score`` and ``sklearn.metrics`` calls on the model's predictions are
logged to the fit's run too (``post_training``). A failure while logging is reported as a
warning and never fails the user's fit.
"""
from __future__ import annotations

import copy
import functools
import inspect
import logging
import threading
import types
from typing import Any, Callable

from . import post_training

_logger = logging.getLogger(__name__)

FLAVOR = "sklearn"
AUTOLOGGING_TAG = "mlflow.autologging"
_FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_EXCLUDED_MODULES = ("sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction",
                     "sklearn.feature_selection")
_EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)

_config: dict[str, Any] | None = None
_patches: list[tuple[Any, str, bool, Any]] = []  # (class or module, name, had its own, its own attribute)
_patch_lock = threading.Lock()
_local = threading.local()  # .depth: patched fits running in this thread


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True, log_models: bool = True,
            log_datasets: bool = True, disable: bool = False, exclusive: bool = False,
            disable_for_unsupported_versions: bool = False, silent: bool = False, max_tuning_runs: int | None = 5,
            log_post_training_metrics: bool = True, serialization_format: str = "skops",
            registered_model_name: str | None = None, pos_label: Any = None,
            extra_tags: dict[str, Any] | None = None) -> None:
    """Enable (or with ``disable=True`` disable and undo) autologging for scikit-learn.

    MLflow's signature and meaning; the model is saved with skops by default (MLflow's default is
    cloudpickle). With ``log_post_training_metrics``, ``model.score`` and ``sklearn.metrics``
    calls on the model's predictions after training are logged to its run (``post_training``).
    """
    global _config
    if max_tuning_runs is not None and (not isinstance(max_tuning_runs, int) or max_tuning_runs < 0):
        raise ValueError(f"`max_tuning_runs` must be non-negative, instead got {max_tuning_runs}.")
    if serialization_format not in ("skops", "pickle"):
        raise ValueError(f"serialization_format {serialization_format!r}: use 'skops' or 'pickle'")
    with _patch_lock:
        _unpatch()
        post_training.reset()
        _config = None
        if disable:
            return
        _config = {
            "log_input_examples": log_input_examples, "log_model_signatures": log_model_signatures,
            "log_models": log_models, "log_datasets": log_datasets, "exclusive": exclusive, "silent": silent,
            "max_tuning_runs": max_tuning_runs, "serialization_format": serialization_format,
            "registered_model_name": registered_model_name, "pos_label": pos_label,
            "extra_tags": dict(extra_tags or {}), "log_post_training_metrics": log_post_training_metrics,
        }
        _patch(log_post_training_metrics)


def is_enabled() -> bool:
    return _config is not None


# -- patching ------------------------------------------------------------------------------------
def estimators_to_patch() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators
    classes = {cls for _, cls in all_estimators()} | {GridSearchCV, RandomizedSearchCV, Pipeline}
    return sorted((cls for cls in classes
                   if not cls.__module__.startswith(_EXCLUDED_MODULES)
                   and f"{cls.__module__}.{cls.__name__}" not in _EXCLUDED_CLASSES),
                  key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _patch(post_training_metrics: bool) -> None:
    # Read every original before replacing any: a subclass inheriting fit must wrap the
    # parent's real method, not the parent's wrapper.
    methods = {name: _patched_fit for name in _FIT_METHODS}
    if post_training_metrics:
        methods.update({name: post_training.patched_predict for name in post_training.PREDICT_METHODS})
        methods["score"] = post_training.patched_score
    found = []
    for cls in estimators_to_patch():
        for name, call in methods.items():
            raw = inspect.getattr_static(cls, name, None)
            if raw is not None:
                found.append((cls, name, raw, call))
    for cls, name, raw, call in found:
        patched = _wrap_attribute(raw, call)
        if patched is None:
            continue
        _replace(cls, name, patched)
    if post_training_metrics:
        import sklearn.metrics
        for name in post_training.metric_names():
            _replace(sklearn.metrics, name, _wrap_function(getattr(sklearn.metrics, name)))


def _replace(owner: Any, name: str, patched: Any) -> None:
    own = name in owner.__dict__
    _patches.append((owner, name, own, owner.__dict__.get(name)))
    setattr(owner, name, patched)


def _unpatch() -> None:
    while _patches:
        cls, name, own, original = _patches.pop()
        if own:
            setattr(cls, name, original)
        else:
            delattr(cls, name)


def _wrap_attribute(raw: Any, call: Callable) -> Any:
    """A patched copy of a class attribute: a plain function, or sklearn's ``available_if``
    descriptor (whose check decides whether the method exists) with its function wrapped."""
    if isinstance(raw, types.FunctionType):
        return _wrap(raw, call)
    fn = getattr(raw, "fn", None)
    if isinstance(fn, types.FunctionType):
        patched = copy.copy(raw)
        patched.fn = _wrap(fn, call)
        return patched
    return None


def _wrap(original: Callable, call: Callable) -> Callable:
    @functools.wraps(original)
    def patched(self, *args, **kwargs):
        return call(original, self, args, kwargs)
    patched.__tracker_autolog_original__ = original
    return patched


def _wrap_function(original: Callable) -> Callable:
    @functools.wraps(original)
    def patched(*args, **kwargs):
        return post_training.patched_metric(original, args, kwargs)
    patched.__tracker_autolog_original__ = original
    return patched


def _patched_fit(original: Callable, estimator: Any, args: tuple, kwargs: dict) -> Any:
    config = _config
    depth = getattr(_local, "depth", 0)
    if config is None or depth:
        return original(estimator, *args, **kwargs)
    _local.depth = depth + 1
    try:
        with post_training._Busy():  # training metrics are not post-training metrics
            return _fit_and_log(original, estimator, args, kwargs, config)
    finally:
        _local.depth = depth


# -- one outermost fit ---------------------------------------------------------------------------
def _warn(config: dict[str, Any], what: str, error: BaseException) -> None:
    if not config["silent"]:
        _logger.warning("tracker autolog: %s failed: %s", what, error)


def _safely(config: dict[str, Any], what: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception as e:  # noqa: BLE001 - logging must never break the user's training
        _warn(config, what, e)
        return None


def _fit_and_log(original: Callable, estimator: Any, args: tuple, kwargs: dict, config: dict[str, Any]) -> Any:
    from .. import fluent
    active = fluent.active_run() is not None
    if active and config["exclusive"]:
        return original(estimator, *args, **kwargs)
    if not active:
        try:
            fluent.start_run(tags={AUTOLOGGING_TAG: FLAVOR, **config["extra_tags"]})
        except Exception as e:  # noqa: BLE001 - no run to log into: train all the same, as MLflow
            _warn(config, "starting a run", e)
            return original(estimator, *args, **kwargs)
    X, y, sample_weight = _fit_data(original, args, kwargs)
    from . import sklearn_logging as logging_steps
    _safely(config, "logging params and tags", lambda: logging_steps.log_pretraining(estimator, X, y, config))
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as e:
        if not active:
            fluent.end_run("KILLED" if isinstance(e, KeyboardInterrupt) else "FAILED")
        raise
    try:
        logging_steps.log_posttraining(estimator, X, y, sample_weight, config, _safely)
        if config["log_post_training_metrics"]:
            post_training.register_model(estimator, fluent._current())
    finally:
        if not active:
            fluent.end_run()
    return result


def _fit_data(original: Callable, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """``(X, y, sample_weight)`` as passed to fit, whatever their parameter names."""
    try:
        names = list(inspect.signature(original).parameters)[1:]
    except (TypeError, ValueError):
        names = ["X", "y"]
    x_name = names[0] if names else "X"
    y_name = names[1] if len(names) > 1 else "y"
    X = args[0] if args else kwargs.get(x_name)
    y = args[1] if len(args) > 1 else kwargs.get(y_name)
    weight = None
    if "sample_weight" in names:
        index = names.index("sample_weight")
        weight = args[index] if len(args) > index else kwargs.get("sample_weight")
    return X, y, weight
