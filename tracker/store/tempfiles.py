"""Temp files that writers make and rename into place, and removing the ones a killed writer left.

Three kinds, all named so that nothing else is mistaken for one:
  ``.<name>.<8 random>.part``  an artifact being written (``tracker.artifacts``)
  ``.<name>.<8 random>.tmp``   a document being replaced (``atomic.write_json_atomic``)
  ``.tmp-<run id>/``           a run being created, before it is renamed to ``<run id>/``

A writer renames each within moments, so one older than ``STALE_SECONDS`` in a run that no
live writer holds (``runlock``) was left by a writer that died. ``collect`` (``tracker gc``)
removes those; a run's next writer, which holds the run, may remove all of its own.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..entities import Run, RunStatus
from . import layout
from .liveness import this_host
from .runlock import RunLock, RunLockedError

PART_SUFFIX = ".part"
STALE_SECONDS = 3600.0

# mkstemp's random part is 8 characters of [a-z0-9_]
_TEMP_FILE = re.compile(r"^\..*\.[a-z0-9_]{8}\.(part|tmp)$", re.DOTALL)
_STAGING_DIR = re.compile("^" + re.escape(layout.STAGING_PREFIX) + "[0-9a-f]{32}$")


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of a writer's temp files (never an artifact or a document)."""
    return name.startswith(".") and _TEMP_FILE.match(name) is not None


@dataclass
class Collected:
    """What ``collect`` removed (or, dry, would remove), and what it could not."""

    removed: list[Path] = field(default_factory=list)
    bytes: int = 0
    skipped_live: list[str] = field(default_factory=list)  # runs whose writer is still alive
    errors: list[str] = field(default_factory=list)


def _older(path: str, cutoff: float) -> bool:
    try:
        return os.lstat(path).st_mtime < cutoff
    except OSError:
        return False


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _remove(path: str, out: Collected, dry_run: bool, is_dir: bool = False) -> None:
    size = 0
    if is_dir:
        for folder, _, files in os.walk(path):
            size += sum(_size(os.path.join(folder, f)) for f in files)
    else:
        size = _size(path)
    try:
        if dry_run:
            pass
        elif is_dir:
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return  # renamed into place, or removed by someone else, meanwhile
    except OSError as e:
        out.errors.append(f"{path}: {e.strerror or e}")
        return
    out.removed.append(Path(path))
    out.bytes += size


def run_temp_files(run_path: str | os.PathLike, older_than: float = 0.0) -> list[str]:
    """The temp files inside one run (its documents and, at any depth, its artifacts) last
    changed more than ``older_than`` seconds ago. Symbolic links are not followed."""
    cutoff = time.time() - older_than
    found = []
    for folder, dirs, files in os.walk(os.fspath(run_path)):
        found.extend(p for name in files if is_temp_name(name) and _older(p := os.path.join(folder, name), cutoff))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return found


def remove_run_temp_files(run_path: str | os.PathLike, older_than: float = 0.0) -> list[Path]:
    """Remove the temp files of one run: for its next writer, which holds the run (so every
    temp file in it is a dead writer's), or for ``collect``. Returns what was removed."""
    out = Collected()
    for path in run_temp_files(run_path, older_than):
        _remove(path, out, False)
    return out.removed


def _writer_alive(run_path: str) -> bool:
    from .reader import read_run  # (reader imports this module's neighbours; late keeps it a leaf)
    run = read_run(run_path)
    return isinstance(run, Run) and run.info.status == RunStatus.RUNNING


def collect(root: str | os.PathLike, older_than: float = STALE_SECONDS, dry_run: bool = False) -> Collected:
    """Remove what killed writers left in a runs directory: temp files (in runs whose writer
    is not alive, and in ``experiments/``) and half-created runs, when older than ``older_than`` seconds.

    Raises FileNotFoundError / NotADirectoryError / PermissionError when ``root`` cannot be listed.
    """
    root = os.fspath(root)
    out = Collected()
    cutoff = time.time() - older_than
    with os.scandir(root) as it:
        staging = [e.path for e in it if _STAGING_DIR.match(e.name) and e.is_dir(follow_symlinks=False)]
    for path in staging:
        if _older(path, cutoff):
            _remove(path, out, dry_run, is_dir=True)
    experiments = os.path.join(root, layout.EXPERIMENTS_DIR)
    if os.path.isdir(experiments) and not os.path.islink(experiments):
        for name in sorted(os.listdir(experiments)):
            path = os.path.join(experiments, name)
            if is_temp_name(name) and _older(path, cutoff):
                _remove(path, out, dry_run)
    for name, path in layout.list_run_dirs(root):
        if not run_temp_files(path, older_than):
            continue
        if _writer_alive(path):
            out.skipped_live.append(name)
            continue
        try:  # held while removing: no writer can take the run up meanwhile
            lock = RunLock.acquire(path, name, this_host())
        except RunLockedError:
            out.skipped_live.append(name)
            continue
        except OSError as e:
            out.errors.append(f"{path}: cannot lock the run: {e.strerror or e}")
            continue
        try:
            for temp in run_temp_files(path, older_than):
                _remove(temp, out, dry_run)
        finally:
            lock.release()
    return out
