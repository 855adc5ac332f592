"""The part of ``tracker.Client``'s registry API a viewer calls, answered from an MLflow store.

``ReadOnlyRegistry(reader)`` answers ``search_registered_models``, ``list_model_versions``,
``get_model_version``, ``get_model_history``, ``get_model_lineage`` and
``registry_changed_token`` as a tracking directory's ``Client`` does, so a viewer reads either
through the same calls. MLflow keeps no stage history, so the history is empty; lineage is
taken from the source run's tags (``mlflow.source.git.commit`` and friends) as it is now.
"""
from __future__ import annotations

from ..entities import Run
from ..registry.entities import HistoryEntry, Lineage, ModelVersion, RegisteredModel, RegistryNotFoundError
from .base import MlflowStoreReader

GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO = "mlflow.source.git.repoURL"
SOURCE_NAME = "mlflow.source.name"
USER = "mlflow.user"


# The registry's writing calls (tracker.Client's names): each is refused with ReadOnlyStoreError.
WRITING_METHODS = (
    "create_registered_model", "create_model_version", "register_model", "rename_registered_model",
    "update_registered_model", "update_model_version", "delete_registered_model", "delete_model_version",
    "restore_registered_model", "restore_model_version", "transition_model_version_stage",
    "set_registered_model_alias", "delete_registered_model_alias", "set_registered_model_tag",
    "delete_registered_model_tag", "set_model_version_tag", "delete_model_version_tag",
)


class RegistryNotInStoreError(RegistryNotFoundError):
    pass


class ReadOnlyStoreError(PermissionError):
    """A writing call on an MLflow store, which this library only reads."""


class ReadOnlyRegistry:
    """Registry reads over an MLflow store (no writes: the store belongs to MLflow)."""

    read_only = True

    def __init__(self, reader: MlflowStoreReader) -> None:
        self.reader = reader

    def search_registered_models(self) -> list[RegisteredModel]:
        return self.reader.registered_models()

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        versions = self.reader.model_versions(name)
        if not versions and name not in {m.name for m in self.reader.registered_models()}:
            raise RegistryNotInStoreError(f"no registered model {name!r} in {self.reader.path}")
        return versions

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        for mv in self.reader.model_versions(name):
            if mv.version == int(version):
                return mv
        raise RegistryNotInStoreError(f"no version {version} of {name!r} in {self.reader.path}")

    def get_model_history(self, name: str) -> list[HistoryEntry]:
        return []  # MLflow records no stage history

    def registry_changed_token(self) -> tuple:
        return self.reader.changed_token()

    def get_model_lineage(self, name: str, version: int) -> Lineage:
        mv = self.get_model_version(name, version)
        run = self._run(mv.run_id)
        base = dict(name=mv.name, version=mv.version, source=mv.source, run_id=mv.run_id,
                    run_link="run" if mv.run_id else None, run_exists=run is not None,
                    registered_by=mv.user, creation_timestamp=mv.creation_timestamp)
        if run is None:
            return Lineage(**base)
        tags = run.data.tags
        return Lineage(**base, run_name=run.info.run_name, run_status=run.info.status,
                       run_start_time=run.info.start_time, run_end_time=run.info.end_time,
                       experiment=run.info.experiment, params=dict(run.data.params),
                       metrics=dict(run.data.metrics), git_commit=tags.get(GIT_COMMIT) or None,
                       git_branch=tags.get(GIT_BRANCH) or None, git_repo_url=tags.get(GIT_REPO) or None,
                       source_name=tags.get(SOURCE_NAME) or None)

    def _refuse(self, method: str) -> None:
        raise ReadOnlyStoreError(f"{method}: the MLflow store {self.reader.path} is read-only here "
                                 "(change it with MLflow, or import it with `tracker import mlflow`)")

    def _run(self, run_id: str | None) -> Run | None:
        if not run_id:
            return None
        try:
            return self.reader.get_run(run_id)
        except (LookupError, ValueError, OSError):
            return None


def _refusing(method: str):
    def refuse(self: ReadOnlyRegistry, *args: object, **kwargs: object) -> None:
        self._refuse(method)
    refuse.__name__ = method
    return refuse


for _method in WRITING_METHODS:
    setattr(ReadOnlyRegistry, _method, _refusing(_method))
