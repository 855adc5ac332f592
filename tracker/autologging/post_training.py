"""Post-training metrics, as MLflow's sklearn autologging records them.

After an autologged fit, ``model.score(X_test, y_test)`` and the ``sklearn.metrics`` functions
called on that model's predictions are logged to the fit's run under
``{metric_name}[-{call_index}]_{dataset_name}``: the metric function's name (or
``{ModelClass}_score``), an index from 2 on for repeated calls, and the name of the variable
that held the prediction input in the outermost calling frame (``unknown_dataset`` when there
is none). ``metric_info.json`` in the run maps each key to the call that produced it.

As in MLflow: metric functions imported from ``sklearn.metrics`` before ``autolog()`` are not
patched, and only a prediction object itself (not a copy or a slice) is recognised.
"""
from __future__ import annotations

import inspect
import threading
import weakref
from pathlib import Path
from typing import Any, Callable

import numpy as np

PREDICT_METHODS = ("predict", "predict_proba", "transform", "predict_log_proba")
_EXCLUDED_METRICS = ("check_scoring", "get_scorer", "make_scorer", "get_scorer_names")

_lock = threading.Lock()
_local = threading.local()  # .busy: inside a patched call (a metric calling a metric logs once)
_model_runs: "weakref.WeakKeyDictionary[Any, tuple[Path, str]]" = weakref.WeakKeyDictionary()
_predictions: dict[int, tuple[Path, str, str]] = {}  # id(result) -> (root, run id, dataset name)
_datasets: dict[tuple[str, str], list[int]] = {}  # (run id, name) -> ids of the inputs seen under it
_calls: dict[str, dict[str, list[tuple[str, str]]]] = {}  # run id -> metric -> [(key, call)]


def reset() -> None:
    with _lock:
        _model_runs.clear()
        _predictions.clear()
        _datasets.clear()
        _calls.clear()


def busy() -> bool:
    return getattr(_local, "busy", False)


class _Busy:
    def __enter__(self) -> None:
        self.before = busy()
        _local.busy = True

    def __exit__(self, *exc: Any) -> None:
        _local.busy = self.before


def register_model(model: Any, writer: Any) -> None:
    """``model`` was fitted into ``writer``'s run: its later scores and predictions belong to it."""
    try:
        with _lock:
            _model_runs[model] = (writer.path.parent, writer.run_id)
    except TypeError:  # an estimator that cannot be weakly referenced or hashed
        pass


def variable_name(value: Any, fallback: str) -> str:
    """The name ``value`` has in the outermost frame that did not receive it as an argument."""
    if value is None:
        return fallback
    try:
        frame = inspect.currentframe().f_back
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith(__package__):  # autologging's own frames
                frame = frame.f_back
                continue
            info = inspect.getargvalues(frame)
            passed = [info.locals[a] for a in info.args]
            passed += list(info.locals[info.varargs]) if info.varargs else []
            passed += list(info.locals[info.keywords].values()) if info.keywords else []
            if any(value is arg for arg in passed):
                frame = frame.f_back
                continue
            return next((name for name, v in frame.f_locals.items() if v is value), fallback)
        return fallback
    except Exception:  # noqa: BLE001 - a frame that cannot be read gives the fallback
        return fallback
    finally:
        del frame


def _with_index(name: str, index: int) -> str:
    return name if index == 0 else f"{name}-{index + 1}"


def _dataset_name(run_id: str, dataset: Any) -> str:
    name = variable_name(dataset, "unknown_dataset")
    with _lock:
        seen = _datasets.setdefault((run_id, name), [])
        if id(dataset) not in seen:
            seen.append(id(dataset))
        return _with_index(name, seen.index(id(dataset)))


def _call_text(owner: Any, function: Callable, args: tuple, kwargs: dict) -> str:
    def text(arg: Any) -> str:
        if arg is None or np.isscalar(arg):
            return repr(arg[:32] + "...") if isinstance(arg, str) and len(arg) > 32 else repr(arg)
        return variable_name(arg, f"<{type(arg).__name__}>")
    names = list(inspect.signature(function).parameters)[1 if owner is not None else 0:]
    parts = [f"{n}={text(a)}" for n, a in zip(names, args)] + [f"{n}={text(a)}" for n, a in kwargs.items()]
    prefix = f"{type(owner).__name__}.{function.__name__}" if owner is not None else function.__name__
    return f"{prefix}({', '.join(parts)})"


def _loggable(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _log(root: Path, run_id: str, metric: str, dataset: str, call: str, value: Any) -> None:
    from .. import artifacts, store
    from ..client_writes import writing
    with _lock:
        calls = _calls.setdefault(run_id, {}).setdefault(metric, [])
        key = f"{_with_index(metric, len(calls))}_{dataset}"
        calls.append((key, call))
        info = dict(sorted(pair for entries in _calls[run_id].values() for pair in entries))
    with writing(root, run_id) as writer:
        writer.log_metric(key, float(value), 0)
        artifacts.log_dict(writer.path / store.ARTIFACTS_DIR, info, "metric_info.json")


def _owner(model: Any) -> tuple[Path, str] | None:
    """The run ``model`` was autologged into, outside any other patched call."""
    if busy():
        return None
    try:
        return _model_runs.get(model)
    except TypeError:  # an estimator that defines __eq__ without __hash__
        return None


def patched_predict(original: Callable, model: Any, args: tuple, kwargs: dict) -> Any:
    owner = _owner(model)
    if owner is None:
        return original(model, *args, **kwargs)
    with _Busy():
        result = original(model, *args, **kwargs)
    dataset = args[0] if args else next(iter(kwargs.values()), None)
    name = _dataset_name(owner[1], dataset)
    try:
        weakref.finalize(result, _forget_prediction, id(result))
    except TypeError:  # a result that cannot be weakly referenced: its id could be reused
        return result
    with _lock:
        _predictions[id(result)] = (*owner, name)
    return result


def _forget_prediction(result_id: int) -> None:
    with _lock:
        _predictions.pop(result_id, None)


def patched_score(original: Callable, model: Any, args: tuple, kwargs: dict) -> Any:
    owner = _owner(model)
    if owner is None:
        return original(model, *args, **kwargs)
    with _Busy():
        value = original(model, *args, **kwargs)
    if _loggable(value):
        dataset = args[0] if args else next(iter(kwargs.values()), None)
        _safely_log(owner[0], owner[1], f"{type(model).__name__}_score", _dataset_name(owner[1], dataset),
                    _call_text(model, original, args, kwargs), value)
    return value


def patched_metric(original: Callable, args: tuple, kwargs: dict) -> Any:
    if busy():
        return original(*args, **kwargs)
    with _Busy():
        value = original(*args, **kwargs)
    if _loggable(value):
        with _lock:
            found = next((_predictions[id(a)] for a in [*args, *kwargs.values()]
                          if a is not None and not np.isscalar(a) and id(a) in _predictions), None)
        if found is not None:
            root, run_id, dataset = found
            _safely_log(root, run_id, original.__name__, dataset, _call_text(None, original, args, kwargs), value)
    return value


def _safely_log(root: Path, run_id: str, metric: str, dataset: str, call: str, value: Any) -> None:
    import logging
    try:
        _log(root, run_id, metric, dataset, call, value)
    except Exception as e:  # noqa: BLE001 - a metric that cannot be logged never fails the user's call
        logging.getLogger(__name__).warning("tracker autolog: logging post-training metric %s failed: %s",
                                            metric, e)


def metric_names() -> list[str]:
    from sklearn import metrics
    return [name for name in metrics.__all__
            if name not in _EXCLUDED_METRICS and not name.startswith("plot_")
            and callable(getattr(metrics, name, None)) and not inspect.isclass(getattr(metrics, name))]
