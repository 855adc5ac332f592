"""What a model folder holds, from its description file alone: flavor and model class.

Reads ``tracker-model.json`` (through ``read_manifest``) or MLflow's ``MLmodel``; never loads,
unpickles or imports anything, so it is safe on any folder (the app calls it for a context menu).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..integrity import MANIFEST, read_manifest

__all__ = ["ModelSummary", "describe_model_dir"]

MLMODEL = "MLmodel"
_MAX_MLMODEL_BYTES = 256 * 1024  # an MLmodel is a few hundred bytes; anything huge is not one
_GENERIC = "python_function"  # every flavor also offers it: the other one says more


@dataclass(frozen=True)
class ModelSummary:
    flavor: str  # "sklearn", "python_function", ...
    model_class: str  # the class's qualified name as recorded, "" when the file does not say
    kind: str  # "tracker" (tracker-model.json) or "mlflow" (MLmodel)

    @property
    def class_name(self) -> str:
        """The class without its module: "RandomForestClassifier"."""
        return self.model_class.rpartition(".")[2]

    def describe(self) -> str:
        """"sklearn, RandomForestClassifier" (or only the flavor when the class is not recorded)."""
        return f"{self.flavor}, {self.class_name}" if self.class_name else self.flavor


def describe_model_dir(path: str | os.PathLike) -> ModelSummary | None:
    """The summary of the model saved in folder ``path``; None when it is not a model folder (or
    its description cannot be read)."""
    folder = Path(path)
    try:
        if (folder / MANIFEST).is_file():
            manifest = read_manifest(folder)
            model_class = manifest.get("model_class")
            return ModelSummary(str(manifest.get("flavor") or _GENERIC),
                                model_class if isinstance(model_class, str) else "", "tracker")
        if (folder / MLMODEL).is_file():
            return _mlmodel(folder / MLMODEL)
    except (OSError, ValueError):
        return None
    return None


def _mlmodel(path: Path) -> ModelSummary | None:
    """MLflow's YAML, read for the names under its top-level ``flavors:`` (no YAML parser needed:
    MLflow writes them as keys indented one level below it)."""
    if path.stat().st_size > _MAX_MLMODEL_BYTES:
        return None
    flavors: list[str] = []
    inside, indent = False, None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            inside = line.rstrip() == "flavors:"
            continue
        if inside and line.rstrip().endswith(":"):
            indent = depth if indent is None else indent
            if depth == indent:
                flavors.append(line.strip()[:-1].strip("'\""))
    if not flavors:
        return None
    specific = [f for f in flavors if f != _GENERIC]
    return ModelSummary(specific[0] if specific else flavors[0], "", "mlflow")
