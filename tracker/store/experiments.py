"""Experiment documents: ``<runs>/experiments/<name-file>.json``, one per experiment.

A document holds ``name``, ``experiment_id`` (text, as MLflow's), ``creation_time``,
``last_update_time``, ``lifecycle_stage`` ("active" or "deleted"), ``artifact_location``
and ``tags``. Only ``name`` is required: documents written before experiments had ids get
the id their name determines (``legacy_experiment_id``), so every reader agrees on it
without rewriting the file. "Default" is "0", as in MLflow.

Creating is atomic and never overwrites: the document is written to a temp file and
hard-linked into place; when another process linked first, its document (and id) wins.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import Any

from . import layout
from .atomic import read_json, write_json_atomic

DEFAULT_EXPERIMENT = "Default"
DEFAULT_EXPERIMENT_ID = "0"
ACTIVE, DELETED = "active", "deleted"


def legacy_experiment_id(name: str) -> str:
    """The id of an experiment recorded without one: fixed by its name (so every process agrees)."""
    if name == DEFAULT_EXPERIMENT:
        return DEFAULT_EXPERIMENT_ID
    return str(int(hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:15], 16))


def new_experiment_id() -> str:
    """A random positive integer id, as MLflow's file store makes (never "0")."""
    return str(secrets.randbelow(2 ** 62) + 1)


def _path(root: str | os.PathLike, name: str) -> Path:
    return Path(root) / layout.EXPERIMENTS_DIR / layout.experiment_file_name(name)


def _complete(doc: Any) -> dict[str, Any] | None:
    """``doc`` with every field present and well typed, or None when it is not an experiment document."""
    if type(doc) is not dict:
        return None
    name = doc.get("name")
    if type(name) is not str or not name:
        return None
    exp_id = doc.get("experiment_id")
    created = doc.get("creation_time")
    created = created if type(created) is int else 0
    updated = doc.get("last_update_time")
    tags = doc.get("tags")
    stage = doc.get("lifecycle_stage")
    location = doc.get("artifact_location")
    return {
        "name": name,
        "experiment_id": exp_id if type(exp_id) is str and exp_id else legacy_experiment_id(name),
        "creation_time": created,
        "last_update_time": updated if type(updated) is int else created,
        "lifecycle_stage": stage if stage in (ACTIVE, DELETED) else ACTIVE,
        "artifact_location": location if type(location) is str else "",
        "tags": {k: v for k, v in tags.items() if type(k) is str and type(v) is str} if type(tags) is dict else {},
    }


def read_experiment_doc(root: str | os.PathLike, name: str) -> dict[str, Any] | None:
    """The experiment named ``name``, completed; None when it is not recorded (or unreadable)."""
    try:
        doc = _complete(read_json(_path(root, name)))
    except (OSError, ValueError):
        return None
    return doc if doc is not None and doc["name"] == name else None


def read_experiment_docs(root: str | os.PathLike) -> list[dict[str, Any]]:
    """Every readable experiment document, completed; damaged ones are skipped (their runs still name them)."""
    folder = Path(root) / layout.EXPERIMENTS_DIR
    out = []
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return out
    for path in paths:
        try:
            doc = _complete(read_json(path))
        except (OSError, ValueError):
            continue
        if doc is not None:
            out.append(doc)
    return out


def ensure_experiment_doc(root: str | os.PathLike, name: str, artifact_location: str | None = None,
                          tags: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
    """The experiment named ``name``, created when missing: ``(document, created_by_this_call)``.

    Safe when many processes create one experiment at once: exactly one document is linked
    into place and every caller returns its id.
    """
    layout.validate_key(name, "experiment name", path_like=False)
    path = _path(root, name)
    existing = read_experiment_doc(root, name)
    if existing is not None:
        return existing, False
    now = int(time.time() * 1000)
    doc = {
        "name": name,
        "experiment_id": DEFAULT_EXPERIMENT_ID if name == DEFAULT_EXPERIMENT else new_experiment_id(),
        "creation_time": now, "last_update_time": now, "lifecycle_stage": ACTIVE,
        "artifact_location": artifact_location or Path(root).absolute().as_uri(),
        "tags": dict(tags or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    write_json_atomic(tmp, doc)
    try:
        os.link(tmp, path)  # atomic, and fails when the name exists: the first link wins
        created = True
    except FileExistsError:
        created = False
    finally:
        os.unlink(tmp)
    if created:
        return doc, True
    winner = read_experiment_doc(root, name)
    if winner is None:
        raise ValueError(f"experiment document {path} exists but cannot be read")
    return winner, False


def update_experiment_doc(root: str | os.PathLike, name: str, **fields: Any) -> dict[str, Any]:
    """Replace fields of the recorded experiment ``name`` (atomically); returns the new document."""
    doc = read_experiment_doc(root, name)
    if doc is None:
        doc, _ = ensure_experiment_doc(root, name)
    doc = {**doc, **fields, "last_update_time": int(time.time() * 1000)}
    write_json_atomic(_path(root, name), doc)
    return doc


def remove_experiment_doc(root: str | os.PathLike, name: str) -> None:
    """Forget the document of ``name`` (after a rename)."""
    try:
        os.unlink(_path(root, name))
    except FileNotFoundError:
        pass
