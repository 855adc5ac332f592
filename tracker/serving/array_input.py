"""Rows of numbers handed to a scikit-learn model as one float64 array instead of a DataFrame.

For a one-row request to a small forest, scikit-learn spends about a millisecond checking a
DataFrame's feature names and converting it (measured: 2.9 ms predict from a frame, 2.0 ms from
the same values as an array), and building the frame costs another 0.4 ms. When the columns were
already checked against the signature here, that work says nothing new, so a model qualifies for
the array when, decided once at load:

* it is a scikit-learn model whose signature names its columns, every one ``double``;
* it was fitted on exactly those names, in that order (``feature_names_in_``);
* it gives the same predictions for a probe table as a DataFrame and as an array (a pipeline that
  picks columns by name fails on an array, and is left on DataFrames).

A request qualifies when it is ``dataframe_split`` JSON whose columns are the signature's, in its
order (or not given), with rows of plain numbers; anything else takes the general path, which also
words every error. Either way the model sees the same float64 values in the same order.
"""
from __future__ import annotations

import json
import warnings
from typing import Any

# What scikit-learn says on each call when a model fitted on a DataFrame is given an array; the
# columns were checked here, so the server (its own process) silences it (``quiet_feature_names``).
FEATURE_NAMES_WARNING = "X does not have valid feature names"
_MARK = b'"dataframe_split"'


def columns_for(model: Any, flavor: str | None) -> tuple[str, ...] | None:
    """The column names when ``model`` (a ``PyFuncModel``) may take an array of them, else None."""
    if flavor != "sklearn":
        return None
    schema = model.metadata.get_input_schema()
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return None
    if any(spec.type != "double" for spec in schema.inputs):
        return None
    names = tuple(schema.input_names())
    fitted = getattr(model.get_raw_model(), "feature_names_in_", None)
    if fitted is None or tuple(str(n) for n in fitted) != names:
        return None
    return names if _same_predictions(model, names) else None


def _same_predictions(model: Any, names: tuple[str, ...]) -> bool:
    import numpy as np
    import pandas as pd
    probe = np.vstack([np.zeros(len(names)), np.ones(len(names)), np.linspace(-1.0, 1.0, len(names))])
    try:
        with warnings.catch_warnings():  # (at load, in the server's own process)
            warnings.simplefilter("ignore")
            from_frame = model.predict(pd.DataFrame(probe, columns=list(names)))
            from_array = model.predict(probe)
    except Exception:  # noqa: BLE001 - any failure on the probe keeps the model on DataFrames
        return False
    try:
        return bool(np.array_equal(np.asarray(from_frame), np.asarray(from_array)))
    except (TypeError, ValueError):
        return False


def plain_rows(body: bytes, content_type: str | None, columns: tuple[str, ...]) -> Any:
    """The request's rows as a float64 array (n, len(columns)) when it qualifies, else None."""
    if _MARK not in body or (content_type or "application/json").split(";")[0].strip().lower() != "application/json":
        return None
    if b"true" in body or b"false" in body:  # numpy would read a boolean as 1.0 or 0.0
        return None
    import numpy as np
    try:
        doc = json.loads(body.decode("utf-8"))
    except ValueError:  # (UnicodeDecodeError too) the general path words the error
        return None
    split = doc.get("dataframe_split") if type(doc) is dict and len(doc) == 1 else None
    if type(split) is not dict or not set(split) <= {"columns", "data"}:
        return None
    given, rows = split.get("columns"), split.get("data")
    if (given is not None and (type(given) is not list or tuple(given) != columns)) or type(rows) is not list:
        return None
    try:
        array = np.asarray(rows)
    except ValueError:  # ragged rows
        return None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != len(columns) or array.dtype.kind not in "fiu":
        return None
    return array.astype(np.float64, copy=False)


def quiet_feature_names() -> None:
    """In the server's process: arrays given to a model fitted on a DataFrame were checked here."""
    warnings.filterwarnings("ignore", message=FEATURE_NAMES_WARNING, category=UserWarning)
