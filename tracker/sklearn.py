"""The scikit-learn flavor: ``log_model``, ``save_model``, ``load_model``.

Models are serialized with skops by default (MLflow's default too);
``serialization_format="pickle"`` is opt-in. What may run on load is decided by
``tracker.model_trust`` from the caller's arguments and the registry's record, never
from the model's folder: a pickle needs ``trust_pickle=True``, a skops file whose types
skops does not trust needs them in ``trusted=``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import models, store
from .model_trust import Trust, load_file
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
            # Information for a reader deciding what to trust; the loader never reads it.
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
            "skops_untrusted_types": untrusted,
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
              registered_model_name: str | None = None, serialization_format: str = "skops",
              skops_trusted_types: Any = None) -> ModelInfo:
    """Save ``model`` into the active run's artifacts under ``name``; optionally register it.

    ``skops_trusted_types`` (MLflow's name): types you trust beyond skops' defaults, recorded by
    the registry with the version ``registered_model_name`` creates, so ``load_model`` of that
    version needs no ``trusted=``. Nothing is written into the model's folder about trust.
    """
    from . import fluent
    writer = fluent._current()
    target = store.resolve_inside(writer.path / store.ARTIFACTS_DIR, name, "model name")
    save_model(model, target, input_example, signature, serialization_format, run_id=writer.run_id)
    uri = f"runs:/{writer.run_id}/{Path(name).as_posix()}"
    version = None
    if registered_model_name:
        from .registry import register_model
        version = register_model(uri, registered_model_name, trusted=skops_trusted_types).version
    return ModelInfo(uri, name, writer.run_id, FLAVOR, str(target), version)


def load_model(model_uri: str | os.PathLike, trust_pickle: bool = False, trusted: Any = None) -> Any:
    """Load a model directory (its files verified against the manifest), or a bare .skops/.pkl/.joblib file.

    ``trusted``: type names (or types) the caller trusts beyond skops' defaults and the library's
    reviewed list; ``trust_pickle``: load a pickle or joblib file. For a ``models:/`` version the
    trust recorded at its registration is added. Raises ``UntrustedModelError`` listing what is missing.
    """
    path, recorded = models.locate_model(model_uri)
    return load_located(path, recorded | Trust.of(trusted, trust_pickle))


def load_located(path: Path, trust: Trust) -> Any:
    """Load what ``models.locate_model`` found, with exactly ``trust`` (the manifest adds none)."""
    if path.is_file():
        return load_file(path, trust)
    manifest = models.read_manifest(path)
    if manifest.get("flavor") != FLAVOR:
        raise ValueError(f"{path} holds a {manifest.get('flavor')!r} model, not a scikit-learn one")
    files = manifest.get("files", {})
    models.verify_files(path, files if isinstance(files, dict) else {})  # catches accidents, not authors
    model_file = manifest.get("model_file")
    if not isinstance(model_file, str) or not model_file:
        raise ValueError(f"{path / MANIFEST} names no model file")
    return load_file(store.resolve_inside(path, model_file, "model file"), trust)
