"""The MLflow-style fluent API: module-level functions acting on the active run.

A thin layer over ``RunWriter`` (writing) and ``Client`` (reading), as MLflow's
``fluent.py`` is over its client.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from . import artifacts, fluent_experiments, store
from .arguments import mapping, optional_text, params_text, tags_text, to_float, to_step, to_timestamp
from .config import get_tracking_dir
from .client_runs import RunOperations, active_run_path
from .context import capture_context, user_context
from .entities import Run, RunInfo, RunStatus
from .exceptions import InvalidParameterType, InvalidParameterValue, InvalidState
from .names import generate_run_name
from .store import layout
from .writer import FLUSHER, RunWriter

_stack: list[RunWriter] = []  # active runs, innermost last
_stack_lock = threading.RLock()
_last_active: RunWriter | None = None
_uncaught: str | None = None
_uncaught_traceback: str | None = None
_hooks_installed = False


class ActiveRun:
    """What ``start_run`` returns; a context manager that ends the run (FINISHED, or FAILED on an exception)."""

    def __init__(self, writer: RunWriter) -> None:
        self._writer = writer

    @property
    def info(self) -> RunInfo:
        return _info_of(self._writer)

    @property
    def data(self):
        return self._writer.document.run_data()

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            _end(self._writer, RunStatus.FINISHED)
        else:
            error = "".join(traceback.format_exception_only(exc_type, exc)).strip()
            from .output_capture import keep_traceback
            keep_traceback(self._writer.path, "".join(traceback.format_exception(exc_type, exc, tb)))
            status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
            _end(self._writer, status, error)
        return False

    def __repr__(self) -> str:
        return f"<ActiveRun {self._writer.run_id[:8]} {self._writer.document.info['run_name']!r}>"


def _info_of(writer: RunWriter) -> RunInfo:
    return writer.document.run_info(writer.path)


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
    *,
    experiment: str | None = None,
    capture_output: bool | None = None,
) -> ActiveRun:
    """Start a run, or resume ``run_id`` (also taken from ``MLFLOW_RUN_ID``), and make it the active run.

    As MLflow's ``start_run``, in its argument order. ``experiment`` (keyword only, this library's
    extension) names the experiment instead of ``experiment_id``; by default runs go to the
    experiment ``set_experiment`` chose. ``capture_output`` (keyword only, this library's) tees the process's
    stdout and stderr into the run's ``output.log`` artifact (``tracker.output_capture``; default: on in a
    script's main process, off interactively and with ``TRACKER_CAPTURE_OUTPUT=0``). The traceback of an
    exception that ends the run is kept whole in ``tracker/traceback.txt``, its last line in ``info.error``.
    Every argument is checked before anything is written:
    a wrong type is a TypeError, a name or description over its limit (250 / 8,000 characters)
    a ValueError (both MlflowException INVALID_PARAMETER_VALUE).
    """
    global _last_active
    if run_id is None and os.environ.get("MLFLOW_RUN_ID"):
        run_id = os.environ["MLFLOW_RUN_ID"]
    run_name = optional_text(run_name, "run_name", layout.MAX_RUN_NAME_LENGTH)
    if experiment is not None:
        store.validate_key(experiment, "experiment name", path_like=False)
    tags = tags_text(tags) if tags is not None else None
    description = optional_text(description, "description", layout.MAX_DESCRIPTION_LENGTH)
    if not isinstance(nested, bool):
        raise InvalidParameterType(f"nested must be True or False, got {type(nested).__name__}: {nested!r}")
    for name, value in (("run_id", run_id), ("parent_run_id", parent_run_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidParameterType(f"{name} must be a string, got {type(value).__name__}: {value!r}")
    with _stack_lock:
        if _stack and not nested and parent_run_id is None:
            raise InvalidState(
                f"Run with UUID {_stack[-1].run_id} is already active. To start a new run, first end the "
                "current run with end_run(). To start a nested run, call start_run with nested=True")
        if _stack and parent_run_id is not None and parent_run_id != _stack[-1].run_id:
            raise InvalidParameterValue(
                f"Current run with UUID {_stack[-1].run_id} does not match the specified parent_run_id "
                f"{parent_run_id}. To start a new nested run under the parent run with UUID {_stack[-1].run_id}, "
                "first end the current run with end_run().")
        root = get_tracking_dir()
        if run_id is not None:
            active_run_path(root, run_id)  # MLflow's errors for a missing or deleted run
            existing = store.read_run(root / run_id)
            if (experiment_id is not None and isinstance(existing, Run)
                    and str(experiment_id) != existing.info.experiment_id):
                raise InvalidParameterValue(
                    f"Cannot start run with ID {run_id} in experiment {experiment_id}: "
                    f"it belongs to experiment {existing.info.experiment_id}")
            writer = RunWriter.resume(root, run_id)
            if run_name is not None:
                writer.update_info(run_name=run_name)
            system = {"mlflow.runName": run_name} if run_name else {}
            if description is not None:
                system["mlflow.note.content"] = description
            if system:
                writer.set_tags(system)
        else:
            name, exp_id = fluent_experiments.resolve_experiment(root, experiment_id, experiment)
            parent = parent_run_id or (_stack[-1].run_id if _stack else None)
            writer = open_run(root, name, exp_id, run_name, tags, description, parent)
        if tags:
            writer.set_tags(tags)
        _stack.append(writer)
        _last_active = writer
        FLUSHER.add(writer)
        _install_hooks()
        _start_system_metrics(writer, log_system_metrics)
        from .output_capture import start_for_run
        start_for_run(writer.run_id, writer.path, capture_output)
        return ActiveRun(writer)


def _start_system_metrics(writer: RunWriter, log_system_metrics: bool | None) -> None:
    """Sample system metrics into the run when asked (``None``: ``enable_system_metrics_logging`` decides)."""
    from . import system_metrics
    if system_metrics.should_log(log_system_metrics):
        system_metrics.start(writer)


def open_run(root: Path, experiment: str, experiment_id: str, run_name: str | None, tags: dict[str, str] | None,
             description: str | None, parent_run_id: str | None, start_time: int | None = None,
             source: bool = True) -> RunWriter:
    """Create a run's directory with this library's context tags and MLflow's system tags; the open writer.

    ``source``: record this process's script, command line and git state as the run's source (the
    fluent API does, as MLflow's does; the client does not)."""
    tags = dict(tags or {})
    run_name = run_name or tags.get("mlflow.runName") or generate_run_name()
    if description is None and "mlflow.note.content" in tags:
        description = tags["mlflow.note.content"]
    context = capture_context() if source else user_context()
    writer = RunWriter.create(
        root, run_name, experiment, experiment_id=experiment_id, parent_run_id=parent_run_id,
        user=context.tags.get("tracker.user", ""),
    )
    if start_time is not None:
        writer.update_info(start_time=to_timestamp("start_time", start_time))
    auto_tags = {key: _clip(value) for key, value in context.tags.items()}
    if context.git_diff:
        artifacts.log_text(writer.path / store.ARTIFACTS_DIR, context.git_diff, "tracker/git_diff.patch")
        auto_tags["tracker.source.git.diff"] = "tracker/git_diff.patch"
    auto_tags.update(_mlflow_system_tags(context.tags, run_name, parent_run_id, description))
    writer.set_tags({**auto_tags, **tags})
    return writer


def _mlflow_system_tags(context: dict[str, str], run_name: str, parent_run_id: str | None,
                        description: str | None) -> dict[str, str]:
    """MLflow's ``mlflow.*`` tags, beside ours, so MLflow's tools and scripts read them."""
    out = {"mlflow.runName": run_name, "mlflow.user": context.get("tracker.user", "")}
    if "tracker.source.name" in context:
        out["mlflow.source.name"] = _clip(context["tracker.source.name"])
        out["mlflow.source.type"] = "NOTEBOOK" if context.get("tracker.source.type") == "NOTEBOOK" else "LOCAL"
    for key in ("commit", "branch", "repoURL"):
        if context.get(f"tracker.source.git.{key}"):
            out[f"mlflow.source.git.{key}"] = context[f"tracker.source.git.{key}"]
    if parent_run_id:
        out["mlflow.parentRunId"] = parent_run_id
    if description:
        out["mlflow.note.content"] = description
    return out


def _clip(text: str) -> str:
    """A tag the tracker records itself (e.g. a long argv) is cut to the tag limit, never refused."""
    limit = layout.MAX_TAG_VALUE_LENGTH
    if len(text) <= limit:
        return text
    note = f" [cut to {limit} of {len(text)} characters]"
    return text[: limit - len(note)] + note


def _end(writer: RunWriter, status: str, error: str | None = None) -> None:
    """End ``writer`` and the runs nested in it; every one is ended even if one raises."""
    with _stack_lock:
        ending = []
        if writer in _stack:  # ending a parent ends the nested runs still open inside it
            while _stack:
                top = _stack.pop()
                if top is writer:
                    break
                ending.append(top)
        ending.append(writer)
        first_error = None
        monitors = sys.modules.get("tracker.system_metrics")
        output = sys.modules.get("tracker.output_capture")
        for run in ending:
            if monitors is not None:
                monitors.stop(run)  # its last samples go into the run before it ends
            if output is not None:
                output.stop_for_run(run.run_id)  # the descriptors are put back, the log complete
            FLUSHER.remove(run)
            try:
                run.end(status, error)
            except Exception as e:  # noqa: BLE001 - e.g. points a full disk could not take: raised after ending them all
                first_error = first_error or e
        if first_error is not None:
            raise first_error


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when none is active)."""
    status = RunStatus.to_string(status) if type(status) is int else status  # MLflow passes numbers too
    with _stack_lock:
        if _stack:
            _end(_stack[-1], status)


def active_run() -> ActiveRun | None:
    return ActiveRun(_stack[-1]) if _stack else None


def last_active_run() -> Run | None:
    """The active run, or else the run that was last active in this process."""
    writer = _stack[-1] if _stack else _last_active
    if writer is None:
        return None
    return writer.document.to_run(writer.path)


def _current() -> RunWriter:
    """The active run; logging with none active starts one, as MLflow does."""
    if _stack:
        return _stack[-1]
    with _stack_lock:
        if not _stack:
            start_run()
        return _stack[-1]


def _done(synchronous: bool | None) -> RunOperations | None:
    return RunOperations() if synchronous is False else None


# Params and tags are checked before _current(): a bad value must not start a run either.
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    params = params_text({key: value})
    _current().log_params(params)
    return value


def log_params(params: dict[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    params = params_text(params)
    _current().log_params(params)
    return _done(synchronous)


def log_metric(key: str, value: Any, step: int | None = None, synchronous: bool | None = None,
               timestamp: int | None = None, run_id: str | None = None, **_mlflow_only: Any) -> RunOperations | None:
    """Log one point of ``key`` (MLflow's argument order; ``model_id``/``dataset`` are accepted and ignored)."""
    if run_id is not None:
        from .client import Client
        Client().log_metric(run_id, key, value, timestamp, step if step is not None else 0)
        return _done(synchronous)
    writer = _stack[-1] if _stack else _current()
    writer.log_metric(key, value, step, timestamp)
    return _done(synchronous)


def log_metrics(metrics: dict[str, Any], step: int | None = None, synchronous: bool | None = None,
                run_id: str | None = None, timestamp: int | None = None, **_mlflow_only: Any) -> RunOperations | None:
    # validate every value first, so a bad one logs none of the batch
    values = {store.validate_key(key, "metric key"): value if type(value) is float else to_float(key, value)
              for key, value in mapping(metrics, "metrics").items()}
    if step is not None:
        step = to_step(next(iter(values), "metrics"), step)
    if timestamp is not None:
        timestamp = to_timestamp(next(iter(values), "metrics"), timestamp)
    if run_id is not None:
        from .client import Client
        from .entities import Metric
        now = timestamp if timestamp is not None else int(time.time() * 1000)
        Client().log_batch(run_id, [Metric(k, v, now, step or 0) for k, v in values.items()])
        return _done(synchronous)
    writer = _stack[-1] if _stack else _current()
    for key, value in values.items():
        writer.log_metric(key, value, step, timestamp)
    return _done(synchronous)


def _set_tags(writer: RunWriter, tags: dict[str, str]) -> None:
    writer.set_tags(tags)  # (``mlflow.runName`` renames the run: RunDocument.with_tags)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    tags = tags_text({key: value})
    _set_tags(_current(), tags)
    return _done(synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    tags = tags_text(tags)
    _set_tags(_current(), tags)
    return _done(synchronous)


def delete_tag(key: str) -> None:
    """Remove a tag of the active run; MLflow's RESOURCE_DOES_NOT_EXIST (also a KeyError) when it has none."""
    writer = _current()
    try:
        writer.delete_tag(key)
    except KeyError:
        from .client_runs import TagNotFoundError
        raise TagNotFoundError(writer.run_id, key) from None


def _artifacts_dir() -> Path:
    return _current().path / store.ARTIFACTS_DIR


def log_artifact(local_path: str | os.PathLike, artifact_path: str | None = None) -> None:
    artifacts.log_artifact(_artifacts_dir(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike, artifact_path: str | None = None) -> None:
    artifacts.log_artifacts(_artifacts_dir(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    artifacts.log_text(_artifacts_dir(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    artifacts.log_dict(_artifacts_dir(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    artifacts.log_figure(_artifacts_dir(), figure, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The active run's artifact URI, or the last active run's; never starts a run."""
    writer = _stack[-1] if _stack else _last_active
    if writer is None:
        raise RuntimeError("get_artifact_uri: no run is active and none has been in this process")
    base = writer.path / store.ARTIFACTS_DIR
    return store.resolve_inside(base, artifact_path).resolve().as_uri()


# -- process exit and signals ---------------------------------------------------------------
def _end_all(status: str, error: str | None) -> None:
    """At exit or on a signal: end every open run, reporting (not raising) what could not be saved."""
    with _stack_lock:
        while _stack:
            try:
                _end(_stack[-1], status, error)
            except Exception as e:  # noqa: BLE001 - at exit: report it and end the runs below it too
                print(f"tracker: {e}", file=sys.stderr)


def _at_exit() -> None:
    if _uncaught_traceback:
        from .output_capture import keep_traceback
        for writer in list(_stack):
            keep_traceback(writer.path, _uncaught_traceback)
    _end_all(RunStatus.FAILED if _uncaught else RunStatus.FINISHED, _uncaught)


def _on_sigterm(signum, frame) -> None:
    _end_all(RunStatus.KILLED, "terminated by SIGTERM")
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


_previous_sigterm: Any = None


def _install_hooks() -> None:
    global _hooks_installed, _previous_sigterm
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    previous_hook = sys.excepthook

    def _record_uncaught(exc_type, exc, tb):
        global _uncaught, _uncaught_traceback
        _uncaught = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        _uncaught_traceback = "".join(traceback.format_exception(exc_type, exc, tb))
        previous_hook(exc_type, exc, tb)

    sys.excepthook = _record_uncaught
    if threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGTERM)
        if current in (signal.SIG_DFL, None) or callable(current):
            _previous_sigterm = current
            signal.signal(signal.SIGTERM, _on_sigterm)


def _forget_parent_runs() -> None:
    """A forked child starts with no active run: the parent's runs are the parent's to end."""
    global _stack_lock
    _stack.clear()
    _stack_lock = threading.RLock()  # another thread of the parent may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_runs)
