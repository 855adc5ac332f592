"""Writing a model folder for any flavor, and logging one into the active run.

A flavor writes its own files (``write_files``); this module adds what MLflow adds to every
model: the signature (given, or inferred from the input example and the model's output),
``input_example.json``, ``requirements.txt`` (and ``conda.yaml`` when a conda env is given),
metadata, ids, the manifest with every file's sha256, all built beside the target and
renamed into place so a crash never leaves half a model.
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import store
from . import ModelInfo, example, read_manifest, write_manifest
from .metadata import signature_of
from .signature import ModelSignature, infer_signature


def new_model_id() -> str:
    """An id in MLflow 3's form (``m-`` and 32 hex digits)."""
    return f"m-{uuid.uuid4().hex}"


def build_model_dir(path: str | os.PathLike, write_files: Callable[[Path], dict[str, Any]], *,
                    signature: Any = None, input_example: Any = None,
                    predict: Callable[[Any], Any] | None = None, default_requirements: list[str] = (),
                    pip_requirements: Any = None, extra_pip_requirements: Any = None, conda_env: Any = None,
                    metadata: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Write a model folder at ``path`` (absent or empty). ``write_files(tmp)`` writes the flavor's files
    into ``tmp`` and returns its manifest fields (``flavor``, ``flavors``, ...); ``predict`` is used only to
    infer the output schema when no signature is given but an input example is."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"save_model: {path} already exists and is not empty")
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise ValueError("pip_requirements and extra_pip_requirements cannot both be given (as in MLflow)")
    signature_dict = _signature_dict(signature)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        manifest = dict(write_files(tmp))
        example_info = None
        if input_example is not None:
            text, example_info = example.to_json(input_example)
            (tmp / example.EXAMPLE_FILE).write_text(text, encoding="utf-8")
            if signature is None:
                signature_dict = _inferred(input_example, predict)
        requirements = _requirements(default_requirements, pip_requirements, extra_pip_requirements)
        (tmp / "requirements.txt").write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
        if conda_env is not None:
            _write_conda_env(tmp / "conda.yaml", conda_env)
        extra = dict(extra or {})
        model_id = extra.pop("model_id", None) or new_model_id()
        manifest.update(
            model_uuid=model_id, model_id=model_id, utc_time_created=str(datetime.datetime.utcnow()),
            signature=signature_dict, saved_input_example_info=example_info,
            metadata=dict(metadata) if metadata is not None else None, **extra)
        write_manifest(tmp, manifest)
        if path.exists():
            path.rmdir()
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def log_to_run(name: str | None, artifact_path: str | None, save: Callable[[Path, str], Any], *,
               registered_model_name: str | None = None, trusted: Any = None,
               trust_code: bool = False) -> ModelInfo:
    """Save into the active run's artifacts under ``name`` (``artifact_path``: MLflow 3's deprecated
    alias), register it when asked, and return MLflow's ``ModelInfo``. ``trusted``/``trust_code`` are
    recorded by the registry with the version it creates, never in the folder."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise ValueError("log_model: give name (artifact_path is its deprecated alias), not both")
    name = name if name is not None else artifact_path
    if not name:
        name = "model"
    from .. import fluent
    writer = fluent._current()
    target = store.resolve_inside(writer.path / store.ARTIFACTS_DIR, name, "model name")
    save(target, writer.run_id)
    uri = f"runs:/{writer.run_id}/{Path(name).as_posix()}"
    version = None
    if registered_model_name:
        from ..registry import register_model
        version = register_model(uri, registered_model_name, trusted=trusted, trust_pickle=trust_code).version
    return model_info(target, uri, name, writer.run_id, version)


def model_info(target: Path, uri: str, name: str, run_id: str | None, version: int | None) -> ModelInfo:
    m = read_manifest(target)
    return ModelInfo(
        model_uri=uri, artifact_path=name, run_id=run_id, flavor=m["flavor"], path=str(target),
        registered_model_version=version, name=name, model_id=m.get("model_id"), model_uuid=m.get("model_uuid"),
        signature=signature_of(m),
        flavors=m.get("flavors") or {}, utc_time_created=m.get("utc_time_created"), metadata=m.get("metadata"),
        saved_input_example_info=m.get("saved_input_example_info"))


def _signature_dict(signature: Any) -> dict[str, Any] | None:
    if signature is None or signature is False:
        return None
    if isinstance(signature, ModelSignature):
        return signature.to_dict()
    if isinstance(signature, dict):
        return ModelSignature.from_dict(signature).to_dict()  # a dict in MLflow's form, checked by parsing it
    raise TypeError(f"signature: expected a ModelSignature (see tracker.models.infer_signature), "
                    f"got {type(signature).__name__}")


def _inferred(input_example: Any, predict: Callable[[Any], Any] | None) -> dict[str, Any] | None:
    """MLflow's rule: inputs from the example, outputs from the model's prediction on it; a failure
    warns and leaves the model without a signature (it never stops the model being saved)."""
    try:
        output = predict(input_example) if predict is not None else None
    except Exception as e:  # noqa: BLE001 - the model may not accept the example; saving goes on
        warnings.warn(f"Failed to infer the model's output schema from the input example: {e}", UserWarning,
                      stacklevel=4)
        output = None
    try:
        return infer_signature(input_example, output).to_dict()
    except Exception as e:  # noqa: BLE001
        warnings.warn(f"Failed to infer the model signature from the input example: {e}", UserWarning,
                      stacklevel=4)
        return None


def _requirements(default: list[str], pip_requirements: Any, extra: Any) -> list[str]:
    if pip_requirements is not None:
        return _requirement_lines(pip_requirements)
    return [*default, *(_requirement_lines(extra) if extra is not None else [])]


def _requirement_lines(value: Any) -> list[str]:
    """A list of requirement strings, or the path of a requirements file (as MLflow accepts)."""
    if isinstance(value, (str, os.PathLike)):
        text = Path(value).read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    lines = [str(item) for item in value]
    if any("\n" in line for line in lines):
        raise ValueError("pip_requirements: one requirement per item, without newlines")
    return lines


def _write_conda_env(target: Path, conda_env: Any) -> None:
    if isinstance(conda_env, dict):
        target.write_text(json.dumps(conda_env, indent=2) + "\n", encoding="utf-8")  # JSON is valid YAML
    elif isinstance(conda_env, (str, os.PathLike)):
        shutil.copyfile(conda_env, target)
    else:
        raise TypeError("conda_env: a dict or the path of a conda YAML file")
