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
import traceback
from pathlib import Path
from typing import Any

from . import artifacts, store
from .arguments import mapping, optional_text, params_text, tags_text, to_float, to_step
from .config import get_tracking_dir
from .context import capture_context
from .entities import Run, RunInfo, RunStatus
from .names import generate_run_name
from .store import layout
from .writer import FLUSHER, RunWriter

_stack: list[RunWriter] = []  # active runs, innermost last
_stack_lock = threading.RLock()
_experiment: str | None = None
_last_active: RunWriter | None = None
_uncaught: str | None = None
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
        from .store.rundoc import document_to_run
        return document_to_run(self._writer.doc, self._writer.path).data

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            _end(self._writer, RunStatus.FINISHED)
        else:
            error = "".join(traceback.format_exception_only(exc_type, exc)).strip()
            status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
            _end(self._writer, status, error)
        return False

    def __repr__(self) -> str:
        return f"<ActiveRun {self._writer.run_id[:8]} {self._writer.doc['info']['run_name']!r}>"


def _info_of(writer: RunWriter) -> RunInfo:
    info = writer.doc["info"]
    return RunInfo(
        run_id=info["run_id"], run_name=info["run_name"], experiment=info["experiment"],
        status=info["status"], start_time=info["start_time"], end_time=info.get("end_time"),
        artifact_uri=(writer.path / store.ARTIFACTS_DIR).resolve().as_uri(),
        parent_run_id=info.get("parent_run_id"), description=info.get("description") or "",
        user=info.get("user") or "", host=info.get("host") or "", pid=info.get("pid"), error=info.get("error"),
    )


def set_experiment(name: str) -> str:
    """Make ``name`` the experiment of the runs started from now on (created when missing)."""
    global _experiment
    store.ensure_experiment(get_tracking_dir(), name)
    _experiment = name
    return name


def start_run(
    run_name: str | None = None,
    experiment: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    nested: bool = False,
    run_id: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the active run.

    Every argument is checked before anything is written: a wrong type is a TypeError,
    a name or description over its limit (250 / 8,000 characters) a ValueError.
    """
    global _last_active
    run_name = optional_text(run_name, "run_name", layout.MAX_RUN_NAME_LENGTH)
    if experiment is not None:
        store.validate_key(experiment, "experiment name")
    tags = tags_text(tags) if tags is not None else None
    description = optional_text(description, "description", layout.MAX_DESCRIPTION_LENGTH)
    if not isinstance(nested, bool):
        raise TypeError(f"nested must be True or False, got {type(nested).__name__}: {nested!r}")
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id must be a string, got {type(run_id).__name__}: {run_id!r}")
    with _stack_lock:
        if _stack and not nested:
            raise RuntimeError(
                f"run {_stack[-1].run_id} is already active; end it with end_run() first, "
                "or start a nested run with start_run(nested=True)")
        root = get_tracking_dir()
        if run_id is not None:
            writer = RunWriter.resume(root, run_id)
            if run_name:
                writer.update_info(run_name=run_name)
        else:
            name = experiment or _experiment or os.environ.get("TRACKER_EXPERIMENT_NAME") or store.DEFAULT_EXPERIMENT
            store.validate_key(name, "experiment name")
            store.ensure_experiment(root, name)
            context = capture_context()
            writer = RunWriter.create(
                root, run_name or generate_run_name(), name,
                parent_run_id=_stack[-1].run_id if _stack else None,
                description=description or "",
                user=context.tags.get("tracker.user", ""),
            )
            auto_tags = {key: _clip(value) for key, value in context.tags.items()}
            if context.git_diff:
                artifacts.log_text(writer.path / store.ARTIFACTS_DIR, context.git_diff, "tracker/git_diff.patch")
                auto_tags["tracker.source.git.diff"] = "tracker/git_diff.patch"
            writer.set_tags(auto_tags)
        if tags:
            writer.set_tags(tags)
        if description is not None and run_id is not None:
            writer.update_info(description=description)
        _stack.append(writer)
        _last_active = writer
        FLUSHER.add(writer)
        _install_hooks()
        return ActiveRun(writer)


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
        for run in ending:
            FLUSHER.remove(run)
            try:
                run.end(status, error)
            except Exception as e:  # e.g. points a full disk could not take: say so after ending them all
                first_error = first_error or e
        if first_error is not None:
            raise first_error


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when none is active)."""
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
    from .store.rundoc import document_to_run
    return document_to_run(writer.doc, writer.path)


def _current() -> RunWriter:
    """The active run; logging with none active starts one, as MLflow does."""
    if _stack:
        return _stack[-1]
    with _stack_lock:
        if not _stack:
            start_run()
        return _stack[-1]


# Params and tags are checked before _current(): a bad value must not start a run either.
def log_param(key: str, value: Any) -> Any:
    params = params_text({key: value})
    _current().log_params(params)
    return value


def log_params(params: dict[str, Any]) -> None:
    params = params_text(params)
    _current().log_params(params)


def log_metric(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
    writer = _stack[-1] if _stack else _current()
    writer.log_metric(key, value, step, timestamp)


def log_metrics(metrics: dict[str, Any], step: int | None = None) -> None:
    # validate every value first, so a bad one logs none of the batch
    values = {store.validate_key(key, "metric key"): value if type(value) is float else to_float(key, value)
              for key, value in mapping(metrics, "metrics").items()}
    if step is not None:
        step = to_step(next(iter(values), "metrics"), step)
    writer = _stack[-1] if _stack else _current()
    for key, value in values.items():
        writer.log_metric(key, value, step)


def set_tag(key: str, value: Any) -> None:
    tags = tags_text({key: value})
    _current().set_tags(tags)


def set_tags(tags: dict[str, Any]) -> None:
    tags = tags_text(tags)
    _current().set_tags(tags)


def delete_tag(key: str) -> None:
    _current().delete_tag(key)


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
            except Exception as e:
                print(f"tracker: {e}", file=sys.stderr)


def _at_exit() -> None:
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
        global _uncaught
        _uncaught = "".join(traceback.format_exception_only(exc_type, exc)).strip()
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
