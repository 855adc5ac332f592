"""MLflow's ``pyfunc``: one ``predict`` for every model, and custom Python models.

A custom model is saved the way MLflow's models-from-code saves it: ``python_model`` is the path
of a Python file that builds the model and calls ``tracker.models.set_model(model)``; the file is
copied into the model folder and run again on load. ``artifacts`` (files or folders) are copied
beside it and handed to ``load_context`` through ``PythonModelContext.artifacts``.

Loading runs the model's code, so it needs the same explicit trust as a pickle: ``trust_code=True``
from the caller (``trust_pickle=True`` is the same decision) or the registry's record for a
``models:/`` version. A ``PythonModel`` instance can be given instead of a file: it is pickled
(with cloudpickle when installed), and loading it needs that same trust. scikit-learn models load
through their own flavor and need nothing beyond ``tracker.sklearn``'s rules. See docs/security.md.
"""
from __future__ import annotations

import inspect
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from . import models, store
from .model_trust import Trust, load_file, require_code_trust
from .models import ModelInfo, saving
from .models.code import run_model_file
from .models.metadata import Model

FLAVOR = "python_function"
_PICKLE_FILE = "python_model.pkl"
_UNSUPPORTED = ("loader_module", "data_path", "code_paths", "mlflow_model", "streamable", "resources",
                "auth_policy", "uv_project_path", "uv_groups", "uv_extras", "prompts")


class PythonModelContext:
    """What ``load_context`` receives: ``artifacts`` (name -> local path) and ``model_config``."""

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any] | None) -> None:
        self._artifacts = dict(artifacts)
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config


class PythonModel:
    """Base class of a custom model (MLflow's). Override ``predict`` as ``predict(self, context,
    model_input, params=None)`` or, as MLflow 3 allows, ``predict(self, model_input, params=None)``;
    ``load_context(self, context)`` runs once on load, before any prediction."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load what the model needs from ``context.artifacts``; nothing by default."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError("a PythonModel subclass must define predict")


class PyFuncModel:
    """A loaded model behind one ``predict(data, params=None)``; ``metadata`` describes it."""

    def __init__(self, metadata: Model, raw: Any, predict_fn: str = "predict",
                 context: PythonModelContext | None = None) -> None:
        self._metadata, self._raw, self._predict_fn, self._context = metadata, raw, predict_fn, context

    @property
    def metadata(self) -> Model:
        return self._metadata

    @property
    def model_config(self) -> dict[str, Any]:
        return self._context.model_config if self._context is not None else {}

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        data = _select_columns(data, self._metadata.get_input_schema())
        if self._context is None:  # a flavor's model (scikit-learn): params mean nothing to it
            if params:
                warnings.warn("params are ignored: this model's predict takes none", UserWarning, stacklevel=2)
            return getattr(self._raw, self._predict_fn)(data)
        return _call_predict(self._raw, self._context, data, params)

    def unwrap_python_model(self) -> Any:
        """The ``PythonModel`` (or callable) a custom model was built from."""
        if self._context is None:
            raise ValueError("unwrap_python_model: this model was not built from a PythonModel; use get_raw_model")
        return self._raw

    def get_raw_model(self) -> Any:
        return self._raw

    def __repr__(self) -> str:
        return f"PyFuncModel(flavors={sorted(self._metadata.flavors)}, run_id={self._metadata.run_id!r})"


def _select_columns(data: Any, schema: Any) -> Any:
    """MLflow's column rule for a DataFrame and a signature with named columns: missing required
    inputs are an error, extra ones are dropped (with a warning), the rest go in the signature's order."""
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return data
    if type(data).__module__.split(".")[0] != "pandas" or not hasattr(data, "columns"):
        return data
    labels = {str(c): c for c in data.columns}  # a frame built from lists has int labels; the schema has names
    columns = list(labels)
    if columns == schema.input_names():  # already the signature's columns in its order: no copy (a served request)
        return data
    missing = [spec.name for spec in schema.inputs if spec.required and spec.name not in columns]
    if missing:
        from .exceptions import InvalidParameterValue
        raise InvalidParameterValue(f"Failed to enforce schema of data with schema '{schema!r}'. "
                                    f"Error: Model is missing inputs {missing}.")
    extra = [c for c in columns if c not in schema.input_names()]
    if extra:
        warnings.warn(f"Found extra inputs in the model input that are not defined in the model signature: "
                      f"`{extra}`. These inputs will be ignored.", UserWarning, stacklevel=3)
    return data[[labels[spec.name] for spec in schema.inputs if spec.name in labels]]


def _call_predict(model: Any, context: PythonModelContext, data: Any, params: dict[str, Any] | None) -> Any:
    """Call a custom model's predict in whichever of MLflow's forms it is written."""
    function = model.predict if hasattr(model, "predict") else model
    parameters = inspect.signature(function).parameters
    positional = [p.name for p in parameters.values()
                  if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    takes_params = "params" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    takes_context = bool(positional) and (positional[0] == "context"
                                          or (len(positional) >= 2 and positional[1] != "params"))
    if params and not takes_params:
        warnings.warn("params are ignored: this model's predict takes none", UserWarning, stacklevel=3)
    args = (context, data) if takes_context else (data,)
    return function(*args, params=params) if takes_params else function(*args)


def save_model(path: str | os.PathLike, loader_module: Any = None, data_path: Any = None, code_paths: Any = None,
               infer_code_paths: bool = False, conda_env: Any = None, mlflow_model: Any = None,
               python_model: Any = None, artifacts: dict[str, Any] | None = None, signature: Any = None,
               input_example: Any = None, pip_requirements: Any = None, extra_pip_requirements: Any = None,
               metadata: dict[str, Any] | None = None, model_config: dict[str, Any] | str | os.PathLike | None = None,
               *, run_id: str | None = None, model_id: str | None = None, params: dict[str, Any] | None = None,
               tags: dict[str, Any] | None = None, model_type: str | None = None, step: int = 0,
               **unsupported: Any) -> Path:
    """Write a custom model's folder at ``path``: ``python_model`` is the path of a models-from-code file
    (MLflow's safe form) or a ``PythonModel`` instance (pickled; loading it needs ``trust_code=True``).
    MLflow's positions; ``loader_module``, ``data_path``, ``code_paths`` and ``mlflow_model`` are refused."""
    _refuse({"loader_module": loader_module, "data_path": data_path, "code_paths": code_paths,
             "infer_code_paths": infer_code_paths, "mlflow_model": mlflow_model, **unsupported})
    if python_model is None:
        raise ValueError("save_model: python_model is required (a .py file that calls set_model, or a PythonModel)")
    config = _model_config(model_config)
    code_file = Path(python_model) if isinstance(python_model, (str, os.PathLike)) else None
    if code_file is not None and (code_file.suffix != ".py" or not code_file.is_file()):
        raise ValueError(f"python_model {str(python_model)!r}: give a .py file that calls "
                         "tracker.models.set_model(model), or a PythonModel instance")
    if code_file is None and not (isinstance(python_model, PythonModel) or callable(python_model)):
        raise TypeError("python_model: a path to a models-from-code .py file or a tracker.pyfunc.PythonModel")
    built: dict[str, Any] = {}

    def write_files(tmp: Path) -> dict[str, Any]:
        built.update(dir=tmp, artifacts=_copy_artifacts(tmp, artifacts or {}))
        flavor: dict[str, Any] = {"loader_module": "tracker.pyfunc", "model_config": config,
                                  "artifacts": built["artifacts"],
                                  "python_version": models.environment_versions()["python"]}
        if code_file is not None:
            # Run the caller's own file once, as MLflow does, so a file that never calls set_model fails now.
            built["model"] = run_model_file(code_file)
            shutil.copyfile(code_file, tmp / code_file.name)
            flavor["model_code_path"] = code_file.name
        else:
            _pickle(python_model, tmp / _PICKLE_FILE)
            flavor["python_model"] = _PICKLE_FILE
        return {"flavor": FLAVOR, "flavors": {FLAVOR: flavor}, "run_id": run_id,
                "model_class": _class_name(python_model) if code_file is None else None,
                "versions": models.environment_versions()}

    def predict(example: Any) -> Any:  # the caller's own model, run only to infer the output schema
        model = built.get("model", python_model)
        context = PythonModelContext(_artifact_paths(built["dir"], built["artifacts"]), config)
        if hasattr(model, "load_context"):
            model.load_context(context)
        return _call_predict(model, context, example, None)

    return saving.build_model_dir(
        path, write_files, signature=signature, input_example=input_example, predict=predict,
        default_requirements=_default_requirements(), pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, conda_env=conda_env, metadata=metadata,
        extra={"model_id": model_id, "params": _strings(params), "tags": _strings(tags), "model_type": model_type,
               "step": int(step)})


def log_model(artifact_path: str | None = None, loader_module: Any = None, data_path: Any = None,
              code_paths: Any = None, infer_code_paths: bool = False, conda_env: Any = None, python_model: Any = None,
              artifacts: dict[str, Any] | None = None, registered_model_name: str | None = None, signature: Any = None,
              input_example: Any = None, await_registration_for: int = 300, pip_requirements: Any = None,
              extra_pip_requirements: Any = None, metadata: dict[str, Any] | None = None, model_config: Any = None,
              name: str | None = None, params: dict[str, Any] | None = None, tags: dict[str, Any] | None = None,
              model_type: str | None = None, step: int = 0, model_id: str | None = None, trust_code: bool = False,
              **unsupported: Any) -> ModelInfo:
    """Save a custom model into the active run under ``name`` and optionally register it (MLflow's
    keywords; ``artifact_path`` is the deprecated alias of ``name``). ``trust_code=True`` (tracker's
    own) has the registry record, with the version it creates, that you trust this code to run on load."""
    _refuse({"loader_module": loader_module, "data_path": data_path, "code_paths": code_paths,
             "infer_code_paths": infer_code_paths, **unsupported})

    def save(target: Path, run_id: str) -> None:
        save_model(target, conda_env=conda_env, python_model=python_model, artifacts=artifacts, signature=signature,
                   input_example=input_example, pip_requirements=pip_requirements,
                   extra_pip_requirements=extra_pip_requirements, metadata=metadata, model_config=model_config,
                   run_id=run_id, model_id=model_id, params=params, tags=tags, model_type=model_type, step=step)

    return saving.log_to_run(name, artifact_path, save, registered_model_name=registered_model_name,
                             trust_code=trust_code)


def load_model(model_uri: str | os.PathLike, suppress_warnings: bool = False, dst_path: str | None = None,
               model_config: dict[str, Any] | None = None, *, trusted: Any = None, trust_pickle: bool = False,
               trust_code: bool = False) -> PyFuncModel:
    """Load any model as a ``PyFuncModel``. ``trusted``/``trust_pickle`` as in ``tracker.load_model``;
    ``trust_code=True`` lets a custom model's code run (the same decision as ``trust_pickle``)."""
    if dst_path is not None:
        raise ValueError("dst_path is not supported: models are read in place from the tracking directory")
    path, recorded = models.locate_model(model_uri)
    return load_located(path, recorded | Trust.of(trusted, trust_pickle or trust_code), model_config)


def load_located(path: Path, trust: Trust, model_config: dict[str, Any] | None = None) -> PyFuncModel:
    """Load what ``models.locate_model`` found, with exactly ``trust`` (the manifest adds none)."""
    from . import sklearn as sklearn_flavor
    if path.is_file():
        return PyFuncModel(Model({"flavor": "sklearn"}), load_file(path, trust))
    manifest = models.read_manifest(path)
    if manifest.get("flavor") == sklearn_flavor.FLAVOR:
        predict_fn = ((manifest.get("flavors") or {}).get(FLAVOR) or {}).get("predict_fn", "predict")
        if predict_fn not in sklearn_flavor.PREDICT_FNS:
            raise ValueError(f"{path}: predict_fn {predict_fn!r} is not one of {sklearn_flavor.PREDICT_FNS}")
        return PyFuncModel(Model(manifest, path), sklearn_flavor.load_located(path, trust), predict_fn)
    if manifest.get("flavor") != FLAVOR:
        raise ValueError(f"{path} holds a {manifest.get('flavor')!r} model, which tracker.pyfunc cannot load")
    files = manifest.get("files")
    models.verify_files(path, files if isinstance(files, dict) else {})  # catches accidents, not authors
    flavor = (manifest.get("flavors") or {}).get(FLAVOR) or {}
    if isinstance(flavor.get("model_code_path"), str):
        code = store.resolve_inside(path, flavor["model_code_path"], "model code path")
        require_code_trust(code, trust)  # before anything from the folder runs
        model = run_model_file(code)
    elif isinstance(flavor.get("python_model"), str):
        model = load_file(store.resolve_inside(path, flavor["python_model"], "python model"), trust)
    else:
        raise ValueError(f"{path}: the manifest names neither model code nor a python model")
    config = {**(flavor.get("model_config") or {}), **(model_config or {})}
    context = PythonModelContext(_artifact_paths(path, flavor.get("artifacts") or {}), config)
    if hasattr(model, "load_context"):
        model.load_context(context)
    return PyFuncModel(Model(manifest, path), model, context=context)


def _refuse(unsupported: dict[str, Any]) -> None:
    for key, value in unsupported.items():
        if key not in _UNSUPPORTED and key not in {"infer_code_paths"}:
            raise TypeError(f"unexpected keyword argument {key!r}")
        if value not in (None, False):
            raise ValueError(f"{key} is not supported by tracker.pyfunc: give python_model as a models-from-code "
                             ".py file (with set_model) and its files as artifacts")


def _strings(values: dict[str, Any] | None) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in values.items()} if values else None


def _model_config(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    import json
    text = Path(value).read_text(encoding="utf-8")  # MLflow also takes a file's path
    return json.loads(text) if Path(value).suffix == ".json" else _yaml(text)


def _yaml(text: str) -> dict[str, Any]:
    import yaml  # only for a YAML model_config file
    return yaml.safe_load(text) or {}


def _copy_artifacts(tmp: Path, artifacts: dict[str, Any]) -> dict[str, str]:
    """Copy each artifact (a local path or a runs:/ or file:// URI) to ``artifacts/<name>/``."""
    recorded = {}
    for key, source in artifacts.items():
        src = models.resolve_model_uri(source)
        target_dir = store.resolve_inside(tmp / "artifacts", str(key), "artifact name")
        if len(target_dir.relative_to(tmp / "artifacts").parts) != 1:
            raise ValueError(f"artifacts: {key!r} must be a plain name, without '/'")
        target_dir.mkdir(parents=True)
        if src.is_dir():
            shutil.copytree(src, target_dir / src.name)
        else:
            shutil.copyfile(src, target_dir / src.name)
        recorded[str(key)] = f"artifacts/{key}/{src.name}"
    return recorded


def _artifact_paths(root: Path, recorded: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(store.resolve_inside(root, str(v), "artifact path")) for k, v in recorded.items()}


def _pickle(model: Any, target: Path) -> None:
    try:
        import cloudpickle as pickler  # saves classes defined in __main__ by value, as MLflow does
    except ImportError:
        import pickle as pickler
    with open(target, "wb") as f:
        pickler.dump(model, f)


def _class_name(model: Any) -> str:
    kind = model if isinstance(model, type) else type(model)
    return f"{kind.__module__}.{kind.__qualname__}"


def _default_requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return [f"tracker=={version('tracker')}"]
    except PackageNotFoundError:
        return []
