"""Which run produced a source, and a snapshot of that run taken at registration.

* a source inside ``<tracking dir>/<run_id>/artifacts/`` belongs to that run;
* a tracker model directory whose manifest names a run that still exists belongs to it;
* anything else is looked up by content: the run whose artifacts hold a file with the same
  sha256 ("who produced this file?"). Sizes are compared first; only files of equal size are hashed.

``find_origin`` applies these rules, for a registration and for the app showing a drop before it.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import store
from ..entities import Run
from ..integrity import MANIFEST, sha256_file
from .entities import ArtifactMatch

MAX_DIFF_BYTES = 1 << 20
_GIT = "tracker.source.git."


def run_of_path(tracking_dir: Path, path: Path) -> tuple[str, str] | None:
    """(run_id, artifact path) when ``path`` lies in a run's artifacts directory, else None."""
    try:
        rel = path.resolve().relative_to(Path(tracking_dir).resolve())
    except ValueError:
        return None
    parts = rel.parts
    if len(parts) >= 2 and store.is_run_dir_name(parts[0]) and parts[1] == store.ARTIFACTS_DIR:
        return parts[0], "/".join(parts[2:])
    return None


def manifest_run_id(path: Path) -> str | None:
    manifest = path / MANIFEST if path.is_dir() else None
    if manifest is None or not manifest.is_file():
        return None
    try:
        run_id = store.read_json(manifest).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return run_id if isinstance(run_id, str) and store.is_run_dir_name(run_id) else None


def _sha256(path: str) -> str | None:
    try:
        return sha256_file(path)
    except OSError:  # gone, unreadable, or no longer a regular file
        return None


# Directory listings by path: (mtime_ns, subdirectories, [(file, size)]). A listing is reused while
# the directory's mtime is unchanged, so a lookup costs one stat per directory instead of a scandir
# plus a stat per file. Adding, removing or atomically replacing a file (how tracker writes
# artifacts) changes the directory's mtime; listings younger than 2 s are not trusted, as a change
# within the file system's timestamp granularity would go unseen (git's "racy" entries).
_listings: dict[str, tuple[int, list[str], list[tuple[str, int]]]] = {}
_RACY_NS = 2_000_000_000


def _listing(path: str) -> tuple[list[str], list[tuple[str, int]]]:
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        _listings.pop(path, None)
        return [], []
    cached = _listings.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1], cached[2]
    dirs, files = [], []
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        dirs.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        files.append((entry.path, entry.stat(follow_symlinks=False).st_size))
                except OSError:
                    continue
    except OSError:
        return [], []
    if time.time_ns() - mtime > _RACY_NS:
        if len(_listings) > 200_000:  # bound the memory of a long-lived process
            _listings.clear()
        _listings[path] = (mtime, dirs, files)
    return dirs, files


def _walk_files(root: str) -> list[tuple[str, int]]:
    """(path, size) of every regular file under ``root``; symlinks are not followed."""
    out, stack = [], [root]
    while stack:
        dirs, files = _listing(stack.pop())
        stack.extend(dirs)
        out.extend(files)
    return out


def find_artifacts(tracking_dir: Path, sha256: str, size: int) -> list[ArtifactMatch]:
    """Every file in any run's artifacts with this content, oldest run first."""
    matches = []
    try:
        listed = store.list_run_dirs(os.fspath(tracking_dir))
    except FileNotFoundError:
        listed = []
    for run_id, run_path in listed:
        artifacts = os.path.join(run_path, store.ARTIFACTS_DIR)
        for path, file_size in _walk_files(artifacts):
            if file_size == size and _sha256(path) == sha256:
                rel = Path(path).relative_to(artifacts).as_posix()
                matches.append(ArtifactMatch(run_id, rel, _start_time(Path(run_path))))
    return sorted(matches, key=lambda m: (m.start_time, m.run_id, m.artifact_path))


def _start_time(run_path: Path) -> int:
    run = store.read_run(run_path)
    return run.info.start_time if isinstance(run, Run) else 0


def identifying_file(files: list[tuple[Path, str]]) -> tuple[Path, str]:
    """The file whose content identifies a source (of ``validate_source``'s list): the largest, the
    manifest left out unless it is the only file (it holds a run id, not the model); ties go to the
    last relative path."""
    candidates = [(p, rel) for p, rel in files if Path(rel).name != MANIFEST] or files
    return max(candidates, key=lambda f: (_size(f[0]), f[1]))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def lookup_by_content(tracking_dir: Path, files: list[tuple[Path, str]],
                      digests: dict[str, str] | None = None) -> tuple[ArtifactMatch | None, list[str]]:
    """The run that produced this content (earliest match) and the other runs that also hold it,
    matched on ``identifying_file``; ``digests`` (by relative path) saves hashing it again."""
    key_path, key_rel = identifying_file(files)
    size = _size(key_path)
    if size <= 0:  # empty files match everything and prove nothing
        return None, []
    digest = digests[key_rel] if digests is not None else _sha256(os.fspath(key_path))
    matches = find_artifacts(tracking_dir, digest, size) if digest is not None else []
    if not matches:
        return None, []
    others = sorted({m.run_id for m in matches[1:]} - {matches[0].run_id})
    return matches[0], others


@dataclass(frozen=True)
class Origin:
    """The run that produced a source, and how that was found. ``link`` is what the version
    records as its ``run_link``: "run" (the source lies in that run's artifacts, or the caller
    named the run), "manifest" (the model's manifest names a run that exists), "sha256" (a run's
    artifacts hold the same content), or None (no run found)."""

    run_id: str | None = None
    artifact_path: str | None = None
    link: str | None = None
    other_runs: tuple[str, ...] = ()


def find_origin(tracking_dir: Path, path: Path, files: list[tuple[Path, str]],
                digests: dict[str, str] | None = None, run_id: str | None = None) -> Origin:
    """Which run produced the source at ``path`` (``files``: its ``validate_source`` list), in this
    order: its place in a run's artifacts, the ``run_id`` the caller gives, the run its manifest
    names, its content. Reads only the runs directory: no registry is opened (or created)."""
    found = run_of_path(tracking_dir, path)
    if found is not None:
        return Origin(found[0], found[1], "run")
    if run_id is not None:
        return Origin(run_id, None, "run")
    owner = manifest_run_id(path)
    if owner and (Path(tracking_dir) / owner).is_dir():
        return Origin(owner, None, "manifest")
    match, others = lookup_by_content(tracking_dir, files, digests)
    if match is not None:
        return Origin(match.run_id, match.artifact_path, "sha256", tuple(others))
    return Origin()


def run_snapshot(tracking_dir: Path, run_id: str) -> dict[str, Any]:
    """What lineage keeps of a run: experiment, params, final metrics, git state, source, argv."""
    run = store.read_run(store.run_dir(tracking_dir, run_id))
    if not isinstance(run, Run):
        return {}
    tags = run.data.tags
    snap: dict[str, Any] = {
        "run_name": run.info.run_name,
        "run_status": run.info.status,
        "run_start_time": run.info.start_time,
        "run_end_time": run.info.end_time,
        "experiment": run.info.experiment,
        "params": dict(run.data.params),
        "metrics": {k: float(v) for k, v in run.data.metrics.items()},
        "git_commit": tags.get(_GIT + "commit") or None,
        "git_branch": tags.get(_GIT + "branch") or None,
        "git_repo_url": tags.get(_GIT + "repoURL") or None,
        "git_dirty": {"true": True, "false": False}.get(tags.get(_GIT + "dirty", "")),
        "git_diff_artifact": tags.get(_GIT + "diff") or None,
        "source_name": tags.get("tracker.source.name") or None,
        "source_argv": _argv(tags.get("tracker.source.argv")),
    }
    if snap["git_diff_artifact"]:
        snap["git_diff"] = _read_diff(Path(run.path), snap["git_diff_artifact"])
    if snap["git_commit"] and snap["source_name"] and os.path.isfile(snap["source_name"]):
        from ..context import git_commit_details
        snap["git_commit_details"] = git_commit_details(os.path.dirname(snap["source_name"]), snap["git_commit"])
    return snap


def _argv(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return [str(a) for a in value] if isinstance(value, list) else None


def _read_diff(run_path: Path, artifact: str) -> str | None:
    try:
        path = store.resolve_inside(run_path / store.ARTIFACTS_DIR, artifact, "diff artifact")
        with open(path, "rb") as f:
            data = f.read(MAX_DIFF_BYTES + 1)
    except (OSError, ValueError):
        return None
    text = data[:MAX_DIFF_BYTES].decode("utf-8", errors="replace")
    return text + ("\n# ... diff truncated at 1 MiB\n" if len(data) > MAX_DIFF_BYTES else "")
