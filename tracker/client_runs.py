"""Editing runs through ``Client`` (``MlflowClient``): tags, name, description, status, the trash.

In MLflow's names, arguments and errors. A run's tags, name and description may be edited by any
process, while the run's writer lives too: each edit is a read-modify-write of ``run.json`` under
its document lock (``store.doclock``), through the run's writer when this process has it open.
The description is the tag ``mlflow.note.content`` and the name also the tag ``mlflow.runName``,
as in MLflow (``client.set_tag(run_id, "mlflow.note.content", text)``).

``delete_run`` moves the run to the trash (``store.trash``), ``restore_run`` moves it back as it was;
a deleted run is read (``get_run``, ``search_runs(run_view_type=DELETED_ONLY)``) but not written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from . import client_writes, store
from .arguments import optional_text, tags_text
from .entities import RunStatus
from .exceptions import InvalidParameterValue, InvalidState, ResourceDoesNotExist, RunNotFoundError
from .store import layout, trash
from .store.doclock import update_document
from .store.rundoc import RUN_NAME_TAG, RunDocument


class RunOperations:
    """What a call with ``synchronous=False`` returns, as MLflow's: ``wait()`` returns once the data is
    handed to the run's writer, which it already is (the writer buffers metrics and flushes them in the
    background; tags are written at once)."""

    def wait(self) -> None:
        return None


class TagNotFoundError(ResourceDoesNotExist, KeyError):
    """MLflow's RESOURCE_DOES_NOT_EXIST for deleting a tag the run does not have (a KeyError too)."""

    def __init__(self, run_id: str, key: str) -> None:
        super().__init__(f"No tag with name: {key} in run with id {run_id}")


def not_active(run_id: str) -> InvalidParameterValue:
    """MLflow's error for writing to a deleted run."""
    return InvalidParameterValue(f"The run {run_id} must be in the 'active' state. Current state is deleted.")


def active_run_path(root: Path, run_id: str) -> Path:
    """The folder of a run that may be written; MLflow's errors for a deleted or missing one."""
    if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
        raise RunNotFoundError(run_id)
    path = store.run_dir(root, run_id)
    if path.is_dir():
        return path
    if trash.is_trashed(root, run_id):
        raise not_active(run_id)
    raise RunNotFoundError(run_id)


class RunEditsMixin:
    tracking_dir: Path

    def _active_run_path(self, run_id: str) -> Path:
        return active_run_path(self.tracking_dir, run_id)

    def _edit(self, run_id: str, change: Callable[[RunDocument], RunDocument]) -> RunDocument:
        """Apply ``change`` to the run's document under its document lock (through this process's writer of it)."""
        path = self._active_run_path(run_id)
        writer = client_writes.open_writer(self.tracking_dir, run_id)
        if writer is not None:
            return writer.edit(change)
        try:
            document = update_document(path, change)
        except FileNotFoundError:  # deleted while we waited for the lock
            self._active_run_path(run_id)
            raise
        layout.note_edit(self.tracking_dir)
        return document

    # -- tags, name, description -----------------------------------------------------------------
    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
        """Set a tag on a run, finished or not (``mlflow.runName`` renames it, ``mlflow.note.content`` is its
        description). Returns ``RunOperations`` when ``synchronous=False``, as MLflow."""
        tags = tags_text({key: value})
        self._edit(run_id, lambda d: d.with_tags(tags))
        return RunOperations() if synchronous is False else None

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; MLflow's RESOURCE_DOES_NOT_EXIST when the run has none of that name."""
        store.validate_key(key, "tag key")

        def without(document: RunDocument) -> RunDocument:
            if key not in document.tags:
                raise TagNotFoundError(run_id, key)
            return document.without_tag(key)

        self._edit(run_id, without)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Rename a run (``name``, also its ``mlflow.runName`` tag) and/or end it with ``status`` (FINISHED,
        FAILED or KILLED; the end time is now, as MLflow sets it). RUNNING is accepted only for a run that is
        running: a run is RUNNING while a process writes it, so resume it with ``start_run(run_id=...)``."""
        name = optional_text(name, "name", layout.MAX_RUN_NAME_LENGTH)
        if status is not None:
            status = RunStatus.to_string(status)
        self._active_run_path(run_id)
        if name:
            self._edit(run_id, lambda d: d.with_tags({RUN_NAME_TAG: name}))
        if status is None:
            return
        if status in (RunStatus.RUNNING, RunStatus.SCHEDULED):
            if self.get_run(run_id).info.status != RunStatus.RUNNING:  # type: ignore[attr-defined]
                raise InvalidParameterValue(
                    f"Run {run_id} can not be set to {status}: a run is RUNNING only while a process writes it; "
                    "resume it with start_run(run_id=...)")
            return
        self.set_terminated(run_id, status)  # type: ignore[attr-defined]

    # -- the trash ----------------------------------------------------------------------------------
    def delete_run(self, run_id: str) -> None:
        """Move the run to the trash: hidden from every listing and search until ``restore_run``, removed
        for good by ``tracker gc``. A deleted run is left as it is. Raises ``RunLockedError`` while another
        process writes the run, MLflow's INVALID_STATE while this process does (end the run first)."""
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
            raise RunNotFoundError(run_id)
        if not store.run_dir(self.tracking_dir, run_id).is_dir():
            if trash.is_trashed(self.tracking_dir, run_id):
                return
            raise RunNotFoundError(run_id)
        if client_writes.open_writer(self.tracking_dir, run_id) is not None:
            raise InvalidState(f"Run {run_id} is active in this process; end it (end_run or set_terminated) "
                               "before deleting it")
        try:
            trash.move_to_trash(self.tracking_dir, run_id)
        except FileNotFoundError:
            if not trash.is_trashed(self.tracking_dir, run_id):  # (deleted by another process meanwhile: done)
                raise RunNotFoundError(run_id) from None

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back exactly as it was. A run that is not deleted is left as it is."""
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
            raise RunNotFoundError(run_id)
        if trash.is_trashed(self.tracking_dir, run_id):
            try:
                trash.restore_from_trash(self.tracking_dir, run_id)
            except FileExistsError as e:
                raise InvalidState(str(e)) from None
            return
        if not store.run_dir(self.tracking_dir, run_id).is_dir():
            raise RunNotFoundError(run_id)

    def deleted_time(self, run_id: str) -> int | None:
        """When a deleted run was deleted (ms since the epoch); None for a run that is not deleted."""
        if not isinstance(run_id, str) or not trash.is_trashed(self.tracking_dir, run_id):
            return None
        return trash.deleted_record(self.tracking_dir, run_id)["deleted_time"]

    def _trash_experiment_runs(self, experiment_id: str, names: set[str]) -> None:
        """Move the runs of an experiment being deleted to the trash with it (runs being written stay)."""
        from .store.runlock import RunLockedError
        table = self.runs_table()  # type: ignore[attr-defined]
        rows = table.readable_rows()
        experiments = table.text["experiment"].values(rows).tolist()
        for run_id, experiment in zip(table.text["run_id"].values(rows).tolist(), experiments):
            if experiment in names and client_writes.open_writer(self.tracking_dir, run_id) is None:
                try:
                    trash.move_to_trash(self.tracking_dir, run_id, experiment_id)
                except (RunLockedError, FileNotFoundError, FileExistsError):
                    continue

    def _restore_experiment_runs(self, experiment_id: str) -> None:
        """Bring back the runs that went to the trash with the experiment (not those deleted before it)."""
        for run_id in trash.trashed_run_ids(self.tracking_dir):
            if trash.deleted_record(self.tracking_dir, run_id)["experiment_id"] == experiment_id:
                try:
                    trash.restore_from_trash(self.tracking_dir, run_id)
                except (FileExistsError, FileNotFoundError):
                    continue

