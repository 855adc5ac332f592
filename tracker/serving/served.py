"""What a server serves: the URI it was asked for (``Target``) and the loaded version (``ServedModel``).

A ``models:/`` URI naming a stage, an alias or ``latest`` is followed: ``Target.resolve`` says which
version it names now, and ``Target.load`` loads exactly that version number, its files checked against
the sha256 the registry recorded (a tampered version is refused, as ``tracker.load_model`` refuses it),
with the trust the caller gave plus the trust recorded when the version was registered.
"""
from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..integrity import MANIFEST, hash_tree, read_manifest, tree_digest
from ..model_trust import Trust
from . import array_input

FOLLOWED_KINDS = ("stage", "alias", "latest")
_EXAMPLE_LIMIT = 64 * 1024  # a larger saved example is left out of /metadata


@dataclass(frozen=True)
class ServedModel:
    """One loaded model and what ``/metadata`` says about it."""

    model: Any  # a tracker.pyfunc.PyFuncModel
    uri: str  # the exact URI loaded: models:/name/<number> for a registered version
    path: str
    files: dict[str, str]  # relative path -> sha256 of what was loaded
    name: str | None = None
    version: int | None = None
    stage: str | None = None
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    git_commit: str | None = None
    flavor: str | None = None
    loaded_at: float = field(default_factory=time.time)
    load_seconds: float = 0.0
    input_example: dict[str, Any] | None = None  # a request body built from the saved input example
    array_columns: tuple[str, ...] | None = None  # set when rows of numbers may reach it as one array (array_input)

    @property
    def label(self) -> str:
        """What the ``X-Model-Version`` header says: the version number, or ``sha256:<12 hex>`` of the files."""
        return str(self.version) if self.version is not None else f"sha256:{tree_digest(self.files)[:12]}"

    @property
    def schema(self) -> Any:
        return self.model.metadata.get_input_schema()

    def with_registry_state(self, stage: str | None, aliases: tuple[str, ...]) -> "ServedModel":
        from dataclasses import replace
        return replace(self, stage=stage, aliases=aliases)

    def describe(self) -> dict[str, Any]:
        signature = self.model.metadata.signature
        return {
            "name": self.name, "version": self.version, "stage": self.stage, "aliases": list(self.aliases),
            "run_id": self.run_id, "git_commit": self.git_commit, "model_uri": self.uri, "path": self.path,
            "flavor": self.flavor, "files": dict(self.files),
            "loaded_at": datetime.datetime.fromtimestamp(self.loaded_at, datetime.timezone.utc).isoformat(),
            "load_seconds": round(self.load_seconds, 4),
            "signature": signature.to_dict() if signature is not None else None,
            "input_example": self.input_example,
        }


@dataclass(frozen=True)
class Target:
    """The URI a server was started on, and the trust its caller gave."""

    uri: str
    tracking_dir: Path
    trust: Trust = Trust()

    def parsed(self) -> tuple[str, str, str] | None:
        """(name, kind, value) of a ``models:/`` URI, else None."""
        if not self.uri.startswith("models:/"):
            return None
        from ..registry.uri import parse_models_uri
        return parse_models_uri(self.uri)

    @property
    def follows(self) -> dict[str, str] | None:
        """``{"stage": "Production"}``, ``{"alias": "champion"}``, ``{"latest": "latest"}`` or None."""
        parsed = self.parsed()
        return {parsed[1]: parsed[2]} if parsed is not None and parsed[1] in FOLLOWED_KINDS else None

    def client(self) -> Any:
        from ..client import Client
        return Client(self.tracking_dir)

    def resolve(self) -> Any:
        """The ``ModelVersion`` the URI names now (registry errors list the valid choices); None for a
        URI outside the registry."""
        parsed = self.parsed()
        if parsed is None:
            return None
        name, kind, value = parsed
        client = self.client()
        if kind == "version":
            return client.get_model_version(name, value)
        if kind == "alias":
            return client.get_model_version_by_alias(name, value)
        if kind == "stage":
            found = client.get_latest_versions(name, [value])
            if not found:
                from ..registry import ModelVersionNotFoundError
                raise ModelVersionNotFoundError(f"{self.uri}: model {name!r} has no version in stage {value}")
            return found[0]
        versions = client.list_model_versions(name)
        if not versions:
            from ..registry import ModelVersionNotFoundError
            raise ModelVersionNotFoundError(f"{self.uri}: model {name!r} has no versions")
        return versions[0]

    def load(self, version: Any = None) -> ServedModel:
        """Load ``version`` (a ``ModelVersion``; default: what the URI names now), files verified first."""
        from .. import pyfunc
        started = time.perf_counter()
        if version is None:
            version = self.resolve()
        if version is None:
            from ..models import locate_model
            path, recorded = locate_model(self.uri, self.tracking_dir)
            if path.is_dir() and not (path / MANIFEST).is_file():
                raise ValueError(f"{self.uri}: {path} is a directory without {MANIFEST}; it holds no loadable model")
            files = hash_tree(path)
            model = pyfunc.load_located(path, recorded | self.trust)
            run_id = model.metadata.run_id
            return ServedModel(model, self.uri, str(path), files, run_id=run_id, git_commit=self._run_commit(run_id),
                               flavor=_flavor(path), load_seconds=time.perf_counter() - started,
                               input_example=example_request(model.metadata, path),
                               array_columns=array_input.columns_for(model, _flavor(path)))
        from ..registry import open_registry
        exact = f"models:/{version.name}/{version.version}"
        path, recorded = open_registry(self.tracking_dir).locate_models_uri(exact)  # sha256 of every file checked
        model = pyfunc.load_located(path, recorded | self.trust)
        lineage = self.client().get_model_lineage(version.name, version.version)
        return ServedModel(model, exact, str(path), dict(lineage.files), name=version.name, version=version.version,
                           stage=version.current_stage, aliases=tuple(version.aliases),
                           run_id=version.run_id or model.metadata.run_id, git_commit=lineage.git_commit,
                           flavor=_flavor(path), load_seconds=time.perf_counter() - started,
                           input_example=example_request(model.metadata, path),
                           array_columns=array_input.columns_for(model, _flavor(path)))

    def _run_commit(self, run_id: str | None) -> str | None:
        if not run_id:
            return None
        try:
            return self.client().get_run(run_id).data.tags.get("tracker.source.git.commit")
        except (LookupError, ValueError, OSError):
            return None


def _flavor(path: Path) -> str | None:
    if path.is_file():
        return "sklearn"
    try:
        return read_manifest(path).get("flavor")
    except (OSError, ValueError):
        return None


def example_request(metadata: Any, folder: Path) -> dict[str, Any] | None:
    """The saved input example of the model at ``folder`` (``metadata``: its ``Model``) as a request
    body for ``/invocations``; None when there is none, or when it is too large to hand out."""
    info = metadata.saved_input_example_info or {}
    if not info or not folder.is_dir():
        return None
    try:
        if os.path.getsize(folder / str(info.get("artifact_path", ""))) > _EXAMPLE_LIMIT:
            return None
        example = metadata.load_input_example(folder)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if example is None:
        return None
    from .parsing import jsonable
    if hasattr(example, "columns"):
        return {"dataframe_split": {"columns": [str(c) for c in example.columns],
                                    "data": jsonable(example.to_numpy().tolist())}}
    if isinstance(example, dict) and all(hasattr(v, "tolist") for v in example.values()):
        return {"inputs": jsonable(example)}
    if isinstance(example, list) and example and all(isinstance(r, dict) for r in example):
        return {"dataframe_records": jsonable(example)}
    return {"inputs": jsonable(example)}
