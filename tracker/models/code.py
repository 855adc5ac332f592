"""Models from code, as MLflow's: a Python file that builds a model and calls ``set_model(model)``.

Logging copies the file into the model folder; loading runs it and takes the model it set.
Running a file is running its author's code, so ``tracker.pyfunc`` runs a saved one only with
the caller's ``trust_code=True`` or a registry record (``tracker.model_trust``); this module only
runs what it is handed.
"""
from __future__ import annotations

import runpy
import threading
from pathlib import Path
from typing import Any

_capture = threading.local()


def set_model(model: Any) -> None:
    """Name the model a models-from-code file defines (MLflow's ``mlflow.models.set_model``).

    Outside a load (the file run as a plain script) this only checks the model has a ``predict``.
    """
    if not callable(getattr(model, "predict", None)) and not callable(model):
        raise TypeError("set_model: the model must have a predict method (a tracker.pyfunc.PythonModel) "
                        "or be a callable")
    slots = getattr(_capture, "slots", None)
    if slots:
        slots[-1].append(model)


def run_model_file(path: str | Path) -> Any:
    """Run the file at ``path`` and return the model it passed to ``set_model``."""
    path = Path(path)
    if path.suffix != ".py" or not path.is_file():
        raise ValueError(f"{path}: a models-from-code model is a .py file")
    slots = _capture.__dict__.setdefault("slots", [])
    slots.append([])
    try:
        runpy.run_path(str(path), run_name="__tracker_model__")
    finally:
        found = slots.pop()
    if not found:
        raise ValueError(f"{path} did not call tracker.models.set_model(model) (mlflow.models.set_model)")
    return found[-1]
