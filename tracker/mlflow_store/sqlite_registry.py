"""The model registry of an MLflow SQLite database, read without MLflow (default workspace)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..registry.entities import ModelVersion, RegisteredModel
from . import mapping
from .registry_map import build_models, source_path, version_aliases, version_stage

if TYPE_CHECKING:
    from .sqlite_store import SqliteStoreReader


def _aliases(reader: "SqliteStoreReader", conn) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    sql = reader.select(conn, "registered_model_aliases", ["name", "alias", "version"])
    if not sql:
        return out  # MLflow before 2.3 had no aliases
    for name, alias, version in conn.execute(sql + reader.default_workspace(conn, "registered_model_aliases")):
        try:
            out[mapping.text(name)][mapping.text(alias)] = int(version)
        except (ValueError, TypeError):
            continue
    return out


def _tags(reader: "SqliteStoreReader", conn, table: str, owner: list[str]) -> dict[tuple, dict[str, str]]:
    out: dict[tuple, dict[str, str]] = defaultdict(dict)
    sql = reader.select(conn, table, [*owner, "key", "value"])
    if not sql:
        return out
    for row in conn.execute(sql + reader.default_workspace(conn, table)):
        out[tuple(mapping.text(v) for v in row[:-2])][mapping.text(row[-2])] = mapping.text(row[-1])
    return out


def read_versions(reader: "SqliteStoreReader", name: str | None, include_deleted: bool) -> list[ModelVersion]:
    with reader.connect() as conn:
        sql = reader.select(conn, "model_versions", [
            "name", "version", "creation_time", "last_updated_time", "description", "user_id", "current_stage",
            "source", "run_id", "storage_location"])
        if not sql:
            return []
        rows = conn.execute(sql + reader.default_workspace(conn, "model_versions")).fetchall()
        tags = _tags(reader, conn, "model_version_tags", ["name", "version"])
        aliases = _aliases(reader, conn)
        experiments = {mapping.text(rid): mapping.text(ename) for rid, ename in conn.execute(
            "SELECT runs.run_uuid, experiments.name FROM runs JOIN experiments "
            "ON runs.experiment_id = experiments.experiment_id")}
    out = []
    for model, number, created, updated, description, user, stage_raw, source, run_id, storage in rows:
        model = mapping.text(model)
        if name is not None and model != name:
            continue
        try:
            number = int(number)
        except (ValueError, TypeError):
            continue  # a damaged row: the other versions still read
        stage, deleted = version_stage(mapping.text(stage_raw))
        if deleted and not include_deleted:
            continue
        run_id = mapping.text(run_id) or None
        source = mapping.text(source)
        local = _local_source(reader, source, mapping.text(storage))
        experiment = experiments.get(run_id) if run_id else None
        out.append(ModelVersion(
            name=model, version=number, current_stage=stage, aliases=version_aliases(aliases, model, number),
            run_id=run_id, source=source, description=mapping.text(description), creation_timestamp=_ms(created),
            last_updated_timestamp=_ms(updated), tags=tags.get((model, str(number)), {}), user=mapping.text(user),
            experiment=experiment, run_link="run" if experiment is not None else None,
            storage_path=str(local) if local is not None else "", deleted=deleted))
    return sorted(out, key=lambda v: (v.name, -v.version))


def _local_source(reader: "SqliteStoreReader", source: str, storage_location: str):
    """The version's source resolved through this store, else its storage location (see file_registry)."""
    def run_artifacts(run_id: str):
        try:
            return reader.artifact_dir(run_id)
        except (LookupError, ValueError):
            return None

    def local(uri: str) -> Path | None:
        found = reader.artifact_location(uri)
        return Path(found) if found is not None else None

    found = source_path(source, run_artifacts, reader.logged_model_dir, local)
    if found is not None and found.exists():
        return found
    stored = local(storage_location) if storage_location else None
    return stored if stored is not None and stored.exists() else found


def read_models(reader: "SqliteStoreReader") -> list[RegisteredModel]:
    with reader.connect() as conn:
        sql = reader.select(conn, "registered_models", ["name", "creation_time", "last_updated_time", "description"])
        if not sql:
            return []
        rows = conn.execute(sql + reader.default_workspace(conn, "registered_models")).fetchall()
        tags = _tags(reader, conn, "registered_model_tags", ["name"])
        aliases = _aliases(reader, conn)
    models = [{"name": mapping.text(n), "creation_timestamp": _ms(c), "last_updated_timestamp": _ms(u),
               "description": mapping.text(d), "tags": tags.get((mapping.text(n),), {})} for n, c, u, d in rows]
    return build_models(models, read_versions(reader, None, True), aliases)


def _ms(raw: object) -> int:
    try:
        return mapping.as_millis(raw, "timestamp", optional=True) or 0
    except ValueError:
        return 0
