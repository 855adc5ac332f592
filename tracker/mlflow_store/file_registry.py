"""The model registry of an MLflow file store, read without MLflow.

    mlruns/models/<name>/meta.yaml                 name, times, description (and aliases)
    mlruns/models/<name>/tags/<key>  aliases/<alias>
    mlruns/models/<name>/version-<n>/meta.yaml     stage, source, run id, storage location, ...
    mlruns/models/<name>/version-<n>/tags/<key>

A damaged model or version is left out (the others are still read).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..registry.entities import ModelVersion, RegisteredModel
from . import files, mapping
from .registry_map import build_models, source_path, version_aliases, version_stage

if TYPE_CHECKING:
    from .file_store import FileStoreReader

MODELS = "models"
_VERSION_PREFIX = "version-"


def _model_dirs(reader: "FileStoreReader") -> list[tuple[str, str]]:
    return [(name, path) for name, path in files.subdirs(reader.path / MODELS) if not name.startswith(".")]


def _model_row(path: str) -> dict:
    meta = files.read_meta(os.path.join(path, "meta.yaml"))
    name = mapping.text(meta.get("name"))
    if not name:
        raise ValueError("a registered model without a name")
    return {"name": name, "creation_timestamp": _ms(meta.get("creation_timestamp")),
            "last_updated_timestamp": _ms(meta.get("last_updated_timestamp")),
            "description": mapping.text(meta.get("description")),
            "tags": files.read_key_values(os.path.join(path, "tags")),
            "aliases": _aliases(path, meta)}


def _aliases(path: str, meta: dict) -> dict[str, int]:
    """Aliases from ``aliases/<alias>`` files, else from meta.yaml's ``aliases`` mapping."""
    raw: dict[str, object] = {}
    recorded = meta.get("aliases")
    if isinstance(recorded, dict):
        raw.update(recorded)
    for alias, file_path in files.key_files(os.path.join(path, "aliases")):
        try:
            raw[alias] = files.read_text(file_path).strip()
        except (OSError, UnicodeDecodeError):
            continue
    out = {}
    for alias, version in raw.items():
        try:
            out[str(alias)] = int(str(version))
        except ValueError:
            continue
    return out


def _models(reader: "FileStoreReader") -> list[tuple[dict, str]]:
    out = []
    for _, path in _model_dirs(reader):
        try:
            out.append((_model_row(path), path))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return out


def read_versions(reader: "FileStoreReader", name: str | None, include_deleted: bool) -> list[ModelVersion]:
    versions = []
    for row, path in _models(reader):
        if name is not None and row["name"] != name:
            continue
        aliases = {row["name"]: row["aliases"]}
        for dir_name, version_path in files.subdirs(path):
            if not dir_name.startswith(_VERSION_PREFIX):
                continue
            try:
                version = _version(reader, row["name"], version_path, aliases)
            except (OSError, ValueError, TypeError, UnicodeDecodeError):
                continue
            if include_deleted or not version.deleted:
                versions.append(version)
    return sorted(versions, key=lambda v: (v.name, -v.version))


def _version(reader: "FileStoreReader", model: str, path: str, aliases: dict[str, dict[str, int]]) -> ModelVersion:
    meta = files.read_meta(os.path.join(path, "meta.yaml"))
    number = meta.get("version")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"version {number!r} is not a positive integer")
    stage, deleted = version_stage(meta.get("current_stage"))
    run_id = mapping.text(meta.get("run_id")) or None
    source = mapping.text(meta.get("source"))
    local = version_source_path(reader, source, mapping.text(meta.get("storage_location")))
    experiment = None
    if run_id is not None:
        try:
            experiment = reader.get_run(run_id).info.experiment
        except (LookupError, ValueError):
            experiment = None
    return ModelVersion(
        name=model, version=number, current_stage=stage, aliases=version_aliases(aliases, model, number),
        run_id=run_id, source=source, description=mapping.text(meta.get("description")),
        creation_timestamp=_ms(meta.get("creation_timestamp")),
        last_updated_timestamp=_ms(meta.get("last_updated_timestamp")),
        tags=files.read_key_values(os.path.join(path, "tags")), user=mapping.text(meta.get("user_id")),
        experiment=experiment, run_link="run" if experiment is not None else None,
        storage_path=str(local) if local is not None else "", deleted=deleted)


def version_source_path(reader, source: str, storage_location: str):
    """Where a version's files are on this machine: its source resolved through this store
    (``runs:/``, ``models:/m-...``, a path), else its storage location; None if neither is local."""
    def run_artifacts(run_id: str):
        try:
            return reader.artifact_dir(run_id)
        except (LookupError, ValueError):
            return None

    found = source_path(source, run_artifacts, reader.logged_model_dir, lambda s: mapping.local_path(s, reader.path))
    if found is not None and found.exists():
        return found
    stored = mapping.local_path(storage_location, reader.path) if storage_location else None
    return stored if stored is not None and stored.exists() else found


def read_models(reader: "FileStoreReader", include_deleted: bool) -> list[RegisteredModel]:
    rows = [row for row, _ in _models(reader)]
    aliases = {row["name"]: row["aliases"] for row in rows}
    return build_models(rows, read_versions(reader, None, True), aliases)


def _ms(raw: object) -> int:
    try:
        return mapping.as_millis(raw, "timestamp", optional=True) or 0
    except ValueError:
        return 0
