"""The trash: deleted runs, kept whole until ``tracker gc`` removes them for good.

Deleting a run renames its folder ``<root>/<run_id>/`` to ``<root>/.trash/<run_id>/`` and records
when (``<root>/.trash/<run_id>.json``: ``{"deleted_time": ms, "experiment_id": id or null}``, the id
of the experiment whose deletion took the run along). Nothing inside the folder is touched, so
restoring (the rename back) gives the run exactly as it was, metric files byte for byte.

Listing the root never sees a deleted run (only 32-hex names directly under the root are runs),
so every view, search and the index drop it without a lifecycle check per run; the trash is a
runs directory of its own, with its own index, for the few views that show deleted runs.

A run is moved only while nobody writes it: its writer lock (``runlock``) is taken for the move
(a live writer's run raises ``RunLockedError``) and its document lock, so an edit waiting for it
finds the run gone instead of writing into the trash.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from . import layout
from .atomic import read_json, write_json_atomic
from .doclock import document_lock
from .liveness import this_host
from .runlock import RunLock

TRASH_DIR = layout.TRASH_DIR


def trash_root(root: str | os.PathLike) -> Path:
    return Path(root) / TRASH_DIR


def trashed_run_dir(root: str | os.PathLike, run_id: str) -> Path:
    return trash_root(root) / run_id


def _record_path(root: str | os.PathLike, run_id: str) -> Path:
    return trash_root(root) / f"{run_id}.json"


def is_trashed(root: str | os.PathLike, run_id: str) -> bool:
    return layout.is_run_dir_name(run_id) and layout.is_plain_dir(os.fspath(trashed_run_dir(root, run_id)))


def move_to_trash(root: str | os.PathLike, run_id: str, experiment_id: str | None = None) -> None:
    """Move the run to the trash. Raises ``RunLockedError`` while a live writer holds it,
    FileNotFoundError when there is no such run, FileExistsError when the trash already holds one."""
    path = layout.run_dir(root, run_id)
    lock = RunLock.acquire(path, run_id, this_host())
    try:
        with document_lock(path):
            target = trashed_run_dir(root, run_id)
            target.parent.mkdir(exist_ok=True)
            if os.path.lexists(target):
                raise FileExistsError(f"the trash already holds a run {run_id}; remove it with tracker gc first")
            os.rename(path, target)
    finally:
        lock.release()
    write_json_atomic(_record_path(root, run_id),
                      {"deleted_time": int(time.time() * 1000), "experiment_id": experiment_id})


def restore_from_trash(root: str | os.PathLike, run_id: str) -> None:
    """Move a deleted run back into the root. FileExistsError when the root holds a run of that id."""
    source = trashed_run_dir(root, run_id)
    target = layout.run_dir(root, run_id)
    if os.path.lexists(target):
        raise FileExistsError(f"run {run_id} is both in the trash and in {root}; remove one of them first")
    os.rename(source, target)
    _remove_record(root, run_id)


def deleted_record(root: str | os.PathLike, run_id: str) -> dict[str, Any]:
    """``{"deleted_time": ms, "experiment_id": id or None}`` of a deleted run. When its record is missing
    or damaged (a crash between the move and the record), the folder's change time stands for the time."""
    try:
        record = read_json(_record_path(root, run_id))
        if isinstance(record, dict) and isinstance(record.get("deleted_time"), int):
            experiment = record.get("experiment_id")
            return {"deleted_time": record["deleted_time"],
                    "experiment_id": experiment if isinstance(experiment, str) else None}
    except (OSError, ValueError):
        pass
    try:
        changed = os.lstat(trashed_run_dir(root, run_id)).st_ctime
    except OSError:
        changed = time.time()
    return {"deleted_time": int(changed * 1000), "experiment_id": None}


def trashed_run_ids(root: str | os.PathLike) -> list[str]:
    """The ids of every deleted run (none when there is no trash)."""
    trash = os.fspath(trash_root(root))
    try:
        names = layout.run_dir_candidates(trash)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(name for name in names if layout.is_plain_dir(os.path.join(trash, name)))


def purge(root: str | os.PathLike, run_id: str) -> int:
    """Remove a deleted run's files for good; the bytes they held."""
    path = trashed_run_dir(root, run_id)
    size = folder_size(path)
    shutil.rmtree(path)
    _remove_record(root, run_id)
    return size


def folder_size(path: str | os.PathLike) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def _remove_record(root: str | os.PathLike, run_id: str) -> None:
    try:
        os.unlink(_record_path(root, run_id))
    except FileNotFoundError:
        pass
