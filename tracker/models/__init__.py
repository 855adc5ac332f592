"""Model directories: a manifest with the sha256 of every file, and URIs that name them.

A model directory (written by a flavor's ``save_model``/``log_model``)::

    tracker-model.json   flavor(s), model class, versions, run id, ids, signature (MLflow's dict),
                         input example info, metadata, files + sha256
    model.skops          the model (skops by default; pickle only when asked), or a python_function
                         model's code file and artifacts (``tracker.pyfunc``)
    input_example.json   when an input example was given (``tracker.models.example``)
    requirements.txt     the model's pip requirements, as MLflow writes them

The manifest describes a model; it never decides what may run when it is loaded (its author
wrote the model too): ``tracker.model_trust`` owns that rule.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import store
from ..integrity import (  # noqa: F401  (MANIFEST, ModelIntegrityError, sha256_file: also read from here)
    MANIFEST, ModelIntegrityError, hash_tree, read_manifest, sha256_file, verify_tree,
)
from ..model_trust import Trust

MODEL_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns: MLflow's ``ModelInfo`` fields, plus ``flavor`` (the primary one) and
    ``path`` (the folder on disk). ``model_uri`` is ``runs:/<run_id>/<name>``."""

    model_uri: str
    artifact_path: str
    run_id: str | None
    flavor: str
    path: str
    registered_model_version: int | None = None
    name: str | None = None
    model_id: str | None = None
    model_uuid: str | None = None
    signature: Any = None  # a ModelSignature, or None
    flavors: dict[str, Any] = field(default_factory=dict)
    utc_time_created: str | None = None
    metadata: dict[str, Any] | None = None
    saved_input_example_info: dict[str, Any] | None = None


def verify_files(root: str | os.PathLike, expected: dict[str, str]) -> None:
    """Raise ModelIntegrityError naming every file the manifest lists that is missing or changed
    (an accident check: the manifest's author wrote the model too; see ``tracker.integrity``)."""
    verify_tree(root, expected, "model", complete=False)


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> None:
    manifest = {"format_version": MODEL_FORMAT_VERSION, **manifest, "files": hash_tree(model_dir)}
    store.write_json_atomic(model_dir / MANIFEST, manifest)


def environment_versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    try:
        tracker_version = version("tracker")
    except PackageNotFoundError:
        tracker_version = "unknown"
    return {"python": platform.python_version(), "tracker": tracker_version, **(extra or {})}


def resolve_model_uri(uri: str | os.PathLike, tracking_dir: str | os.PathLike | None = None) -> Path:
    """A local path for ``runs:/<run_id>/<path>``, ``models:/...``, ``file://...`` or a plain path.

    ``runs:/`` URIs are looked up in ``tracking_dir`` (default: the current tracking directory).
    """
    return locate_model(uri, tracking_dir)[0]


def locate_model(uri: str | os.PathLike, tracking_dir: str | os.PathLike | None = None) -> tuple[Path, Trust]:
    """``resolve_model_uri``, plus the trust a person recorded when registering a ``models:/`` version
    (nothing for any other URI: a folder on disk cannot vouch for itself)."""
    text = str(uri)
    if text.startswith("models:/"):
        from ..registry import locate_models_uri  # the registry owns models:/ names and its trust records
        path, trust = locate_models_uri(text)
        if not path.exists():
            raise FileNotFoundError(f"{text}: nothing at {path}")
        return path, trust
    from ..registry.uri import local_path  # runs:/, file:// and plain paths: no registry opened
    path = local_path(text, tracking_dir)
    if not path.exists():
        raise FileNotFoundError(f"{text}: nothing at {path}")
    return path, Trust()


def load_model(model_uri: str | os.PathLike, trust_pickle: bool = False, trusted: Any = None,
               trust_code: bool = False) -> Any:
    """Load any model by URI, dispatching on its manifest's flavor (or a bare model file's suffix).

    skops files load with skops' trusted types, the library's reviewed ones, ``trusted`` and, for a
    ``models:/`` version, the types recorded when it was registered; pickles only with
    ``trust_pickle=True`` or a recorded decision. Raises ``UntrustedModelError`` naming what is missing.
    A ``python_function`` model (``tracker.pyfunc``) loads as a ``PyFuncModel``; its code runs only with
    ``trust_code=True`` (or ``trust_pickle=True``, the same decision) or a registry record.
    """
    path, recorded = locate_model(model_uri)
    if path.is_dir() and not (path / MANIFEST).is_file():
        raise ValueError(f"{model_uri}: {path} is a directory without {MANIFEST}; it holds files, not a loadable model")
    trust = recorded | Trust.of(trusted, trust_pickle or trust_code)
    if path.is_dir() and read_manifest(path).get("flavor") == "python_function":
        from .. import pyfunc
        return pyfunc.load_located(path, trust)
    from .. import sklearn as sklearn_flavor
    return sklearn_flavor.load_located(path, trust)



# MLflow's names under ``mlflow.models``; these modules import nothing heavy.
from .code import set_model as set_model  # noqa: E402
from .metadata import Model as Model  # noqa: E402
from .signature import ModelSignature as ModelSignature, infer_signature as infer_signature  # noqa: E402
