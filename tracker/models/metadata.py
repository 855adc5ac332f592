"""A saved model's description, as MLflow's ``mlflow.models.Model`` shows it (``PyFuncModel.metadata``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import example
from .signature import ModelSignature, ParamSchema, Schema


class Model:
    """What a model's manifest says: flavors, ids, signature, input example, metadata.

    Built from ``tracker-model.json``; describes the model and decides nothing about loading it.
    """

    def __init__(self, manifest: dict[str, Any], model_dir: str | os.PathLike | None = None) -> None:
        self._dir = Path(model_dir) if model_dir is not None else None
        self.flavors: dict[str, Any] = manifest.get("flavors") or {manifest.get("flavor", ""): {}}
        self.run_id: str | None = manifest.get("run_id")
        self.model_uuid: str | None = manifest.get("model_uuid")
        self.model_id: str | None = manifest.get("model_id")
        self.utc_time_created: str | None = manifest.get("utc_time_created")
        self.metadata: dict[str, Any] | None = manifest.get("metadata")
        self.saved_input_example_info: dict[str, Any] | None = manifest.get("saved_input_example_info")
        self.signature = signature_of(manifest)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Model":
        """The description of the model at a URI or path (reads the manifest only)."""
        from . import locate_model, read_manifest
        folder = locate_model(path)[0]
        return cls(read_manifest(folder), folder)

    def get_input_schema(self) -> Schema | None:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> ParamSchema | None:
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str | os.PathLike | None = None) -> Any:
        """The saved input example (None when there is none)."""
        folder = Path(path) if path is not None else self._dir
        return example.load(folder, self.saved_input_example_info) if folder is not None else None

    def __repr__(self) -> str:
        return f"Model(flavors={sorted(self.flavors)}, run_id={self.run_id!r}, model_id={self.model_id!r})"


def signature_of(manifest: dict[str, Any]) -> ModelSignature | None:
    """The manifest's signature, or None (also for models saved before signatures had MLflow's form)."""
    value = manifest.get("signature")
    if not isinstance(value, dict) or not all(isinstance(v, (str, type(None))) for v in value.values()):
        return None
    try:
        return ModelSignature.from_dict(value)
    except (ValueError, KeyError, TypeError):
        return None
