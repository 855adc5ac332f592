"""MLflow's registered models and versions as tracker's registry objects (read-only views)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ..registry.entities import STAGES, ModelVersion, RegisteredModel, normalize_stage

DELETED_STAGE = "Deleted_Internal"  # what MLflow stores as the stage of a deleted version


def version_stage(raw: object) -> tuple[str, bool]:
    """(tracker stage, deleted) for MLflow's ``current_stage``; an unknown stage reads "None"."""
    if raw == DELETED_STAGE:
        return "None", True
    try:
        return normalize_stage(raw if raw not in ("", None) else None), False
    except ValueError:
        return "None", False


def source_path(source: str, run_artifacts: Callable[[str], Path | None],
                logged_model_dir: Callable[[str], Path | None], local: Callable[[str], Path | None]) -> Path | None:
    """The local path of a version's ``source``: ``runs:/<id>/<path>``, ``models:/m-<id>`` (an MLflow 3
    logged model), a ``file:`` URI or a path. None when it is elsewhere (s3:, http:, ...) or unknown."""
    if source.startswith("runs:/"):
        run_id, _, rel = source[len("runs:/"):].lstrip("/").partition("/")
        base = run_artifacts(run_id)
        if base is None:
            return None
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if ".." in parts:
            return None
        return base.joinpath(*parts)
    if source.startswith("models:/"):
        rest = source[len("models:/"):].strip("/")
        return logged_model_dir(rest) if rest.startswith("m-") and "/" not in rest else None
    return local(source)


def build_models(rows: list[dict], versions: list[ModelVersion],
                 aliases: dict[str, dict[str, int]]) -> list[RegisteredModel]:
    """RegisteredModel objects from model rows (name, creation/update times, description, tags)
    and their versions; latest_versions and stage_versions as tracker's registry computes them."""
    by_model: dict[str, list[ModelVersion]] = defaultdict(list)
    for v in versions:
        if not v.deleted:
            by_model[v.name].append(v)
    out = []
    for row in rows:
        visible = sorted(by_model.get(row["name"], []), key=lambda v: -v.version)
        stage_versions: dict[str, list[int]] = {}
        latest: dict[str, ModelVersion] = {}
        for v in visible:
            stage_versions.setdefault(v.current_stage, []).append(v.version)
            latest.setdefault(v.current_stage, v)
        out.append(RegisteredModel(
            name=row["name"], creation_timestamp=row.get("creation_timestamp") or 0,
            last_updated_timestamp=row.get("last_updated_timestamp") or 0,
            description=row.get("description") or "", tags=row.get("tags") or {},
            aliases=aliases.get(row["name"], {}),
            latest_versions=[latest[s] for s in STAGES if s in latest],
            latest_version=visible[0].version if visible else None, version_count=len(visible),
            stage_versions={s: stage_versions[s] for s in STAGES if s in stage_versions},
            deleted=bool(row.get("deleted")),
        ))
    return sorted(out, key=lambda m: m.name)


def version_aliases(aliases: dict[str, dict[str, int]], name: str, number: int) -> list[str]:
    return sorted(a for a, v in aliases.get(name, {}).items() if v == number)
