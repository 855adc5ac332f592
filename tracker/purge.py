"""Removing deleted runs for good (``tracker gc``), never one that a registered model version came from.

A run in the trash (``store.trash``) whose artifacts back a registered model version (the version's
``run_id`` names it) is kept, and the versions are named, so the lineage from a model to the run
that trained it is never cut by a clean-up: delete those versions first.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .store import trash


@dataclass
class Purged:
    """What ``purge_deleted_runs`` removed (or, dry, would remove), what it refused and why."""

    removed: list[str] = field(default_factory=list)  # run ids
    bytes: int = 0
    refused: dict[str, list[str]] = field(default_factory=dict)  # run id -> the versions it backs ("clf v2")
    errors: list[str] = field(default_factory=list)


def registered_versions_by_run(root: str | os.PathLike) -> dict[str, list[str]]:
    """``{run id: ["<model> v<version>", ...]}`` of every registered (not deleted) model version; none when
    the runs directory has no registry (it is not created for asking)."""
    from .registry.location import DB_FILE, registry_url
    if not registry_url() and not (Path(root) / DB_FILE).exists():  # (set_registry_uri's, or the variable's)
        return {}
    from .registry import Registry
    out: dict[str, list[str]] = {}
    for version in Registry.open(root).search_model_versions():
        if version.run_id:
            out.setdefault(version.run_id, []).append(f"{version.name} v{version.version}")
    return out


def purge_deleted_runs(root: str | os.PathLike, older_than: float = 0.0, dry_run: bool = False,
                       run_ids: list[str] | None = None) -> Purged:
    """Remove the files of runs deleted at least ``older_than`` seconds ago (``run_ids``: only those),
    except runs that back a registered model version (listed in ``refused``)."""
    out = Purged()
    cutoff = (time.time() - older_than) * 1000
    wanted = set(run_ids) if run_ids is not None else None
    candidates = [run_id for run_id in trash.trashed_run_ids(root) if wanted is None or run_id in wanted]
    for run_id in sorted(wanted - set(candidates)) if wanted is not None else []:
        out.errors.append(f"run {run_id} is not in the trash (only deleted runs are removed)")
    candidates = [r for r in candidates if trash.deleted_record(root, r)["deleted_time"] <= cutoff]
    backing = registered_versions_by_run(root) if candidates else {}
    for run_id in candidates:
        if run_id in backing:
            out.refused[run_id] = backing[run_id]
            continue
        try:
            path = trash.trashed_run_dir(root, run_id)
            out.bytes += trash.folder_size(path) if dry_run else trash.purge(root, run_id)
        except OSError as e:
            out.errors.append(f"run {run_id}: {e.strerror or e}")
            continue
        out.removed.append(run_id)
    return out


_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number of seconds ("3600"), or MLflow's ``gc --older-than`` form, units
    d, h, m, s in that order ("30d", "1d2h30m", "90s"). ValueError names what it cannot read."""
    import re
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?",
                             text)
        if not text or match is None:
            raise ValueError(f"could not read the duration {text!r}: give seconds, or e.g. 30d, 12h, 1d2h30m, 90s")
        seconds = sum(float(n) * unit for n, unit in zip(match.groups(), _UNITS.values()) if n)
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"the duration {text!r} must be a finite number of seconds, 0 or more")
    return seconds
