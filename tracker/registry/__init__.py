"""The model registry: versions, stages, aliases, audit history and lineage (peewee over SQLite, or PostgreSQL).

    import tracker
    mv = tracker.register_model("runs:/<run_id>/model", "fraud")   # -> ModelVersion(version=1, ...)
    tracker.Client().transition_model_version_stage("fraud", 1, "production")
    tracker.load_model("models:/fraud/Production")

Storage: ``<tracking dir>/registry.db``, or the database ``tracker.set_registry_uri(...)`` or
``$TRACKER_REGISTRY_URL`` names (``postgresql://user@host/db`` for a team: ``pip install 'tracker[postgres]'``),
and read-only copies of every registered version under ``<tracking dir>/registry/<model>/<version>/``.
Importing this package is cheap: peewee is imported on first use.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .entities import (
    STAGES, AliasNotFoundError, ArtifactMatch, HistoryEntry, Lineage, ModelExistsError, ModelNotFoundError,
    ModelVersion, ModelVersionNotFoundError, RegisteredModel, RegistryDamagedError, RegistryError,
    RegistryNotFoundError, name_key, normalize_stage, similar_names, validate_alias, validate_name,
)

if TYPE_CHECKING:
    from ..model_trust import Trust

__all__ = [
    "STAGES", "AliasNotFoundError", "ArtifactMatch", "HistoryEntry", "Lineage", "ModelExistsError",
    "ModelNotFoundError", "ModelVersion", "ModelVersionNotFoundError", "RegisteredModel", "Registry",
    "RegistryDamagedError", "RegistryError", "RegistryNotFoundError", "name_key", "normalize_stage",
    "similar_names", "validate_alias", "validate_name", "register_model", "resolve_models_uri",
    "locate_models_uri", "open_registry",
]


def open_registry(tracking_dir: str | os.PathLike | None = None):
    """The (per-process cached) ``Registry`` of ``tracking_dir``, default the current tracking dir."""
    from .registry import Registry
    return Registry.open(tracking_dir)


def register_model(model_uri: str | os.PathLike, name: str, tags: dict[str, Any] | None = None,
                   description: str | None = None, trusted: Any = None, trust_pickle: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> ModelVersion:
    """Register ``model_uri`` (``runs:/...``, ``models:/...`` or a path) as the next version of ``name``.

    ``trusted``/``trust_pickle`` record your decision about its model file (see ``tracker.model_trust``).
    ``progress(done_bytes, total_bytes)`` is called as the files are copied; the last call has done == total.
    """
    return open_registry().register_model(model_uri, name, tags=tags, description=description, trusted=trusted,
                                          trust_pickle=trust_pickle, progress=progress)


def resolve_models_uri(uri: str) -> Path:
    """The registered file or directory a ``models:/`` URI names, after checking every file's sha256."""
    return open_registry().resolve_models_uri(uri)


def locate_models_uri(uri: str) -> tuple[Path, Trust]:
    """``resolve_models_uri`` and the trust recorded when that version was registered."""
    return open_registry().locate_models_uri(uri)


def __getattr__(name: str):
    if name == "Registry":
        from .registry import Registry
        return Registry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
