"""A model's input example, saved as MLflow saves it: ``input_example.json`` and an info dict.

A pandas DataFrame is stored in pandas' "split" orient without the index
(``{"columns": [...], "data": [[...], ...]}``), a numpy array as nested lists, a dict of
arrays as a dict of nested lists, anything else JSON-able as itself. The info dict
(``saved_input_example_info`` in the manifest) says which, so ``load`` can rebuild it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLE_FILE = "input_example.json"


def to_json(example: Any) -> tuple[str, dict[str, Any]]:
    """The file's text and the ``saved_input_example_info`` describing it."""
    import numpy as np
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE}
    module = type(example).__module__.split(".")[0]
    if module == "pandas" and hasattr(example, "columns"):
        split = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        data = {"columns": split["columns"], "data": split["data"]}
        info.update(type="dataframe", pandas_orient="split")
    elif isinstance(example, np.ndarray):
        data = example.tolist()
        info["type"] = "ndarray"
    elif isinstance(example, dict) and example and all(isinstance(v, np.ndarray) for v in example.values()):
        data = {str(k): v.tolist() for k, v in example.items()}
        info["type"] = "ndarray"
    else:
        data = example.tolist() if hasattr(example, "tolist") else example
        info["type"] = "json_object"
    try:
        return json.dumps(data), info
    except TypeError as e:
        raise ValueError(f"input_example: {type(example).__name__} cannot be saved as JSON ({e})") from None


def load(model_dir: str | Path, info: dict[str, Any] | None) -> Any:
    """The saved example, rebuilt as the type it was saved from (None when there is none)."""
    if not isinstance(info, dict) or info.get("artifact_path") != EXAMPLE_FILE:
        return None
    path = Path(model_dir) / EXAMPLE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if info.get("type") == "dataframe":
        import pandas as pd
        return pd.DataFrame(data["data"], columns=data["columns"])
    if info.get("type") == "ndarray":
        import numpy as np
        return {k: np.asarray(v) for k, v in data.items()} if isinstance(data, dict) else np.asarray(data)
    return data
