"""The registry half of ``tracker.Client`` (MLflow's ``MlflowClient`` names).

``Client`` inherits ``RegistryClientMixin``; every method works on the registry of
``self.tracking_dir``, in the database of ``Client(registry_uri=...)``, else of
``tracker.get_registry_uri()``. Versions are ints (``"3"`` is accepted too); stages are
case-insensitive and come back as "None", "Staging", "Production" or "Archived".
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .entities import ArtifactMatch, HistoryEntry, Lineage, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from .registry import Registry


class RegistryClientMixin:
    tracking_dir: Path
    _registry_url: str | None = None  # the client's registry_uri, as a database URL

    @property
    def registry(self) -> "Registry":
        """The ``Registry`` behind these methods (opened once per process, directory and database)."""
        from .registry import Registry
        return Registry.open(self.tracking_dir, self._registry_url)

    @property
    def registry_uri(self) -> str:
        """Where this client's registry is (MLflow's ``MlflowClient._registry_uri``)."""
        from .location import get_registry_uri
        return getattr(self, "_registry_uri", None) or get_registry_uri()

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(self, name: str, tags: dict[str, Any] | None = None,
                                description: str | None = None) -> RegisteredModel:
        return self.registry.create_registered_model(name, tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.get_registered_model(name)

    def search_registered_models(self, filter_string: str | None = None, max_results: int | None = None,
                                 order_by: list[str] | str | None = None,
                                 include_deleted: bool = False) -> list[RegisteredModel]:
        """Each with ``latest_version``, ``latest_versions`` (per stage) and ``stage_versions``."""
        return self.registry.search_registered_models(filter_string, max_results, order_by, include_deleted)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        return self.registry.update_registered_model(name, description)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.registry.rename_registered_model(name, new_name)

    def delete_registered_model(self, name: str) -> None:
        """Soft delete: hidden with all its versions; ``restore_registered_model`` brings it back."""
        self.registry.delete_registered_model(name)

    def restore_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.restore_registered_model(name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.registry.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry.delete_registered_model_tag(name, key)

    # -- versions ------------------------------------------------------------------------------
    def register_model(self, model_uri: str | os.PathLike, name: str, tags: dict[str, Any] | None = None,
                       description: str | None = None, trusted: Any = None, trust_pickle: bool = False,
                       progress: Callable[[int, int], None] | None = None) -> ModelVersion:
        """``trusted`` (skops type names) and ``trust_pickle`` record your decision about the model file:
        ``load_model`` of this version honours it (and never anything written in the model's folder).
        ``progress(done_bytes, total_bytes)`` is called as the files are copied (the last call: done == total)."""
        return self.registry.register_model(model_uri, name, tags=tags, description=description, trusted=trusted,
                                            trust_pickle=trust_pickle, progress=progress)

    def create_model_version(self, name: str, source: str | os.PathLike, run_id: str | None = None,
                             tags: dict[str, Any] | None = None, description: str | None = None,
                             trusted: Any = None, trust_pickle: bool = False,
                             progress: Callable[[int, int], None] | None = None) -> ModelVersion:
        """MLflow's form of ``register_model``; ``run_id`` links a source that is not in the run's artifacts."""
        return self.registry.register_model(source, name, tags=tags, description=description, run_id=run_id,
                                            trusted=trusted, trust_pickle=trust_pickle, progress=progress)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.registry.get_model_version(name, version)

    def list_model_versions(self, name: str, include_deleted: bool = False) -> list[ModelVersion]:
        """Every version of ``name``, newest first."""
        return self.registry.list_model_versions(name, include_deleted)

    def search_model_versions(self, filter_string: str | None = None, max_results: int | None = None,
                              order_by: list[str] | str | None = None,
                              include_deleted: bool = False) -> list[ModelVersion]:
        """E.g. ``"name='fraud' AND current_stage='production'"``, ``"tags.team = 'ml'"``, ``"run_id = '...'"``."""
        return self.registry.search_model_versions(filter_string, max_results, order_by, include_deleted)

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        return self.registry.get_latest_versions(name, stages)

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        return self.registry.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Soft delete (hidden, restorable); aliases pointing at it are removed."""
        self.registry.delete_model_version(name, version)

    def restore_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.registry.restore_model_version(name, version)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self.registry.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self.registry.delete_model_version_tag(name, version, key)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self.registry.get_model_version_download_uri(name, version)

    def verify_model_version(self, name: str, version: int | str) -> None:
        """Raise ``ModelIntegrityError`` if a registered file is missing, changed or was added."""
        self.registry.verify_model_version(name, version)

    # -- stages and aliases ------------------------------------------------------------------------
    def transition_model_version_stage(self, name: str, version: int | str, stage: str,
                                       archive_existing_versions: bool = False,
                                       comment: str | None = None) -> ModelVersion:
        return self.registry.transition_model_version_stage(name, version, stage, archive_existing_versions,
                                                            comment)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        self.registry.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.registry.get_model_version_by_alias(name, alias)

    # -- audit, lineage, lookups ----------------------------------------------------------------
    def get_model_history(self, name: str, version: int | str | None = None) -> list[HistoryEntry]:
        return self.registry.get_model_history(name, version)

    def get_model_lineage(self, name: str, version: int | str) -> Lineage:
        return self.registry.get_model_lineage(name, version)

    def find_runs_by_file(self, path: str | os.PathLike) -> list[ArtifactMatch]:
        """"Who produced this file?": runs whose artifacts hold a file with the same sha256."""
        return self.registry.find_runs_by_file(path)

    def resolve_models_uri(self, uri: str, verify: bool = True) -> Path:
        return self.registry.resolve_models_uri(uri, verify)

    def registry_changed_token(self) -> tuple[int, int]:
        """Changes whenever the registry does (any process); compare with the previous value to refresh."""
        return self.registry.registry_changed_token()
