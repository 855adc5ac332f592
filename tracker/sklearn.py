"""The scikit-learn flavor: ``log_model``, ``save_model``, ``load_model``.

Models are serialized with skops by default (loading it runs no code; MLflow's
default too); ``serialization_format="pickle"`` is opt-in, and loading a pickle
needs ``trust_pickle=True`` unless the manifest proves we wrote it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import models, store
from .models import MANIFEST, ModelInfo

FLAVOR = "sklearn"
_FILES = {"skops": "model.skops", "pickle": "model.pkl"}


def infer_signature(model: Any, input_example: Any) -> dict[str, Any] | None:
    """A column/tensor description of the input, and of the output when the model can predict it."""
    if input_example is None:
        return None
    import numpy as np

    def describe(value: Any) -> dict[str, Any]:
        if hasattr(value, "dtypes") and hasattr(value, "columns"):  # a pandas DataFrame
            return {"type": "columns", "columns": [{"name": str(c), "type": str(t)} for c, t in value.dtypes.items()]}
        array = np.asarray(value)
        return {"type": "tensor", "dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]}

    signature = {"inputs": describe(input_example)}
    try:
        signature["outputs"] = describe(model.predict(input_example))
    except Exception:  # noqa: BLE001 - an unfitted model or odd example leaves outputs unknown
        pass
    return signature


def _example_json(input_example: Any) -> str:
    import numpy as np
    if hasattr(input_example, "to_dict"):
        return json.dumps(input_example.to_dict(orient="split"), default=str)
    return json.dumps(np.asarray(input_example).tolist())


def save_model(model: Any, path: str | os.PathLike, input_example: Any = None, signature: dict | None = None,
               serialization_format: str = "skops", run_id: str | None = None) -> Path:
    """Write a model directory at ``path`` (which must not exist yet, or be empty)."""
    if serialization_format not in _FILES:
        raise ValueError(f"serialization_format {serialization_format!r}: use 'skops' or 'pickle'")
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"save_model: {path} already exists and is not empty")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: a crash never leaves half a model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        model_file = tmp / _FILES[serialization_format]
        untrusted: list[str] = []
        if serialization_format == "skops":
            import skops.io as sio
            sio.dump(model, model_file)
            untrusted = sorted(sio.get_untrusted_types(file=model_file))
        else:
            import pickle
            with open(model_file, "wb") as f:
                pickle.dump(model, f)
        if input_example is not None:
            (tmp / "input_example.json").write_text(_example_json(input_example), encoding="utf-8")
        import sklearn
        manifest = {
            "flavor": FLAVOR,
            "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
            "model_file": model_file.name,
            "serialization_format": serialization_format,
            "skops_trusted_types": untrusted,
            "versions": models.environment_versions({"sklearn": sklearn.__version__}),
            "run_id": run_id,
            "signature": signature if signature is not None else infer_signature(model, input_example),
        }
        models.write_manifest(tmp, manifest)
        if path.exists():
            path.rmdir()
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def log_model(model: Any, name: str, input_example: Any = None, signature: dict | None = None,
              registered_model_name: str | None = None, serialization_format: str = "skops") -> ModelInfo:
    """Save ``model`` into the active run's artifacts under ``name``; optionally register it."""
    from . import fluent
    writer = fluent._current()
    target = store.resolve_inside(writer.path / store.ARTIFACTS_DIR, name, "model name")
    save_model(model, target, input_example, signature, serialization_format, run_id=writer.run_id)
    uri = f"runs:/{writer.run_id}/{Path(name).as_posix()}"
    version = None
    if registered_model_name:
        from .registry import register_model
        version = register_model(uri, registered_model_name).version
    return ModelInfo(uri, name, writer.run_id, FLAVOR, str(target), version)


def _load_file(model_file: Path, fmt: str, trusted: list[str] | None, trust_pickle: bool) -> Any:
    if fmt == "skops":
        import skops.io as sio
        found = sorted(sio.get_untrusted_types(file=model_file))
        if trusted is None:
            # A bare .skops from elsewhere: trust scikit-learn's and numpy's own types only.
            trusted = [t for t in found if t.split(".")[0] in ("sklearn", "numpy", "scipy")]
        unexpected = [t for t in found if t not in trusted]
        if unexpected:
            raise ValueError(f"{model_file}: refusing to load types that were not recorded as trusted: {unexpected}")
        return sio.load(model_file, trusted=found)
    if not trust_pickle:
        raise ValueError(
            f"{model_file} is a pickle; loading a pickle runs code from the file. "
            "Pass trust_pickle=True if you trust its origin")
    if fmt == "joblib":
        import joblib
        return joblib.load(model_file)
    import pickle
    with open(model_file, "rb") as f:
        return pickle.load(f)


def load_model(model_uri: str | os.PathLike, trust_pickle: bool = False) -> Any:
    """Load a model directory (its files verified against the manifest), or a bare .skops/.pkl/.joblib file."""
    path = models.resolve_model_uri(model_uri)
    if path.is_file():
        fmt = {".skops": "skops", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib"}.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"{path}: not a model file this flavor loads (.skops, .pkl, .joblib)")
        return _load_file(path, fmt, None, trust_pickle)
    manifest = models.read_manifest(path)
    if manifest.get("flavor") != FLAVOR:
        raise ValueError(f"{path} holds a {manifest.get('flavor')!r} model, not a scikit-learn one")
    models.verify_files(path, manifest.get("files", {}))
    fmt = manifest.get("serialization_format", "skops")
    # We wrote this pickle ourselves and its sha256 matches: trusting it needs no flag.
    return _load_file(path / manifest["model_file"], fmt, manifest.get("skops_trusted_types", []), True)
