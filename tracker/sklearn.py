"""The scikit-learn flavor: ``log_model``, ``save_model``, ``load_model``, with MLflow 3's keywords.

Models are serialized with skops by default (MLflow's default too);
``serialization_format="pickle"`` is opt-in. What may run on load is decided by
``tracker.model_trust`` from the caller's arguments and the registry's record, never
from the model's folder: a pickle needs ``trust_pickle=True``, a skops file whose types
skops does not trust needs them in ``trusted=``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import models, store
from .model_trust import Trust, load_file
from .models import MANIFEST, ModelInfo, saving

FLAVOR = "sklearn"
_FILES = {"skops": "model.skops", "pickle": "model.pkl", "cloudpickle": "model.pkl"}
PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


def save_model(sk_model: Any, path: str | os.PathLike, conda_env: Any = None, code_paths: Any = None,
               mlflow_model: Any = None, serialization_format: str | None = "skops", signature: Any = None,
               input_example: Any = None, pip_requirements: Any = None, extra_pip_requirements: Any = None,
               pyfunc_predict_fn: str = "predict", metadata: dict[str, Any] | None = None,
               skops_trusted_types: Any = None, extra_files: Any = None, *, run_id: str | None = None,
               model_id: str | None = None, params: dict[str, Any] | None = None,
               tags: dict[str, Any] | None = None, model_type: str | None = None, step: int = 0) -> Path:
    """Write a model folder at ``path`` (absent or empty), with MLflow's keywords.

    ``signature``: a ``ModelSignature`` (``tracker.models.infer_signature``); without one, an
    ``input_example`` gives one inferred from it and ``sk_model``'s ``pyfunc_predict_fn`` output, as in
    MLflow. ``conda_env`` is saved as ``conda.yaml`` and the pip requirements as ``requirements.txt``;
    nothing here installs them. ``code_paths``, ``mlflow_model`` and ``extra_files`` are refused.
    ``skops_trusted_types`` is never written into the folder (a folder cannot vouch for itself): pass
    it to ``log_model`` with ``registered_model_name`` to have the registry record it.
    """
    serialization_format = serialization_format or "skops"
    if serialization_format not in _FILES:
        raise ValueError(f"serialization_format {serialization_format!r}: use 'skops' or 'pickle'")
    if pyfunc_predict_fn not in PREDICT_FNS:
        raise ValueError(f"pyfunc_predict_fn {pyfunc_predict_fn!r}: use one of {', '.join(PREDICT_FNS)}")
    for keyword, value in (("code_paths", code_paths), ("mlflow_model", mlflow_model), ("extra_files", extra_files)):
        if value is not None:
            raise ValueError(f"{keyword} is not supported by tracker.sklearn: a scikit-learn model saved with "
                             "skops needs no code beside it; put other files in the run with log_artifact")
    import sklearn

    def write_files(tmp: Path) -> dict[str, Any]:
        model_file = tmp / _FILES[serialization_format]
        untrusted: list[str] = []
        if serialization_format == "skops":
            import skops.io as sio
            sio.dump(sk_model, model_file)
            # Information for a reader deciding what to trust; the loader never reads it.
            untrusted = sorted(sio.get_untrusted_types(file=model_file))
        else:
            import pickle
            with open(model_file, "wb") as f:
                pickle.dump(sk_model, f)
        versions = models.environment_versions({"sklearn": sklearn.__version__})
        return {
            "flavor": FLAVOR,
            "flavors": {
                "python_function": {"loader_module": "tracker.sklearn", "model_path": model_file.name,
                                    "predict_fn": pyfunc_predict_fn, "python_version": versions["python"]},
                FLAVOR: {"pickled_model": model_file.name, "sklearn_version": sklearn.__version__,
                         "serialization_format": serialization_format, "code": None},
            },
            "model_class": f"{type(sk_model).__module__}.{type(sk_model).__qualname__}",
            "model_file": model_file.name,
            "serialization_format": serialization_format,
            "skops_untrusted_types": untrusted,
            "versions": versions,
            "run_id": run_id,
        }

    predict = getattr(sk_model, pyfunc_predict_fn, None)
    requirements = [f"scikit-learn=={sklearn.__version__}"]
    if serialization_format == "skops":
        from importlib.metadata import version
        requirements.append(f"skops=={version('skops')}")
    return saving.build_model_dir(
        path, write_files, signature=signature, input_example=input_example, predict=predict,
        default_requirements=requirements, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, conda_env=conda_env, metadata=metadata,
        extra={"model_id": model_id, "params": _jsonable(params), "tags": _jsonable(tags),
               "model_type": model_type, "step": int(step)})


def log_model(sk_model: Any, artifact_path: str | None = None, conda_env: Any = None, code_paths: Any = None,
              serialization_format: str | None = "skops", registered_model_name: str | None = None,
              signature: Any = None, input_example: Any = None, await_registration_for: int = 300,
              pip_requirements: Any = None, extra_pip_requirements: Any = None, pyfunc_predict_fn: str = "predict",
              metadata: dict[str, Any] | None = None, extra_files: Any = None, params: dict[str, Any] | None = None,
              tags: dict[str, Any] | None = None, model_type: str | None = None, step: int = 0,
              model_id: str | None = None, name: str | None = None, skops_trusted_types: Any = None) -> ModelInfo:
    """Save ``sk_model`` into the active run's artifacts under ``name`` and optionally register it
    (MLflow 3's signature and order; ``artifact_path`` is its deprecated alias of ``name``).

    Returns ``ModelInfo`` with ``model_uri`` ``runs:/<run_id>/<name>``. ``skops_trusted_types`` (MLflow's
    name): types you trust beyond skops' defaults, recorded by the registry with the version
    ``registered_model_name`` creates, so loading that version needs no ``trusted=``. Nothing is written
    into the model's folder about trust. ``await_registration_for`` is accepted; registration here is
    immediate.
    """
    def save(target: Path, run_id: str) -> None:
        save_model(sk_model, target, conda_env, code_paths, None, serialization_format, signature, input_example,
                   pip_requirements, extra_pip_requirements, pyfunc_predict_fn, metadata, None, extra_files,
                   run_id=run_id, model_id=model_id, params=params, tags=tags, model_type=model_type, step=step)

    return saving.log_to_run(name, artifact_path, save, registered_model_name=registered_model_name,
                             trusted=skops_trusted_types)


def _jsonable(values: dict[str, Any] | None) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in values.items()} if values else None


def load_model(model_uri: str | os.PathLike, dst_path: str | None = None, *, trust_pickle: bool = False,
               trusted: Any = None) -> Any:
    """Load a model directory (its files verified against the manifest), or a bare .skops/.pkl/.joblib file.

    MLflow's positions (``dst_path`` is refused: models are read in place, never copied first).
    ``trusted``: type names (or types) the caller trusts beyond skops' defaults and the library's
    reviewed list; ``trust_pickle``: load a pickle or joblib file. For a ``models:/`` version the
    trust recorded at its registration is added. Raises ``UntrustedModelError`` listing what is missing.
    """
    if dst_path is not None:
        raise ValueError("dst_path is not supported: models are read in place from the tracking directory")
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

from .autologging.sklearn import autolog  # noqa: E402,F401  (mlflow.sklearn.autolog)
