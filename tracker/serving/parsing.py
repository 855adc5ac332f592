"""MLflow's scoring protocol: a request body into model input, and predictions into a response body.

JSON bodies hold exactly one of ``dataframe_split``, ``dataframe_records``, ``instances`` or
``inputs`` (and optionally ``params``); ``text/csv`` bodies are a table with a header row. The input
is checked against the model's signature (or, without one, a scikit-learn model's
``n_features_in_`` and ``feature_names_in_``) before ``predict`` sees it, so a request with the wrong
columns or types is the client's error (``BadRequest``, a 4xx naming the problem), never the model's.
"""
from __future__ import annotations

import json
import math
from typing import Any

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON_TYPE, CSV_TYPE = "application/json", "text/csv"


class BadRequest(Exception):
    """A request the server refuses: ``status`` (4xx) and MLflow's ``error_code``; the message names the problem."""

    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def parse_request(body: bytes, content_type: str | None, schema: Any, model: Any = None) -> tuple[Any, Any]:
    """(model input, params) for a request body; ``schema`` is the model's input schema or None,
    ``model`` the raw model (for the column checks a scikit-learn model allows without a signature)."""
    mime, _, rest = (content_type or JSON_TYPE).partition(";")
    mime = mime.strip().lower()
    charset = rest.strip().lower().partition("charset=")[2].strip("\"' ") if "charset=" in rest.lower() else "utf-8"
    if charset not in ("utf-8", "utf8"):
        raise BadRequest(f"charset {charset!r} is not supported: send UTF-8", 415, "UNSUPPORTED_MEDIA_TYPE")
    if mime not in (JSON_TYPE, CSV_TYPE):
        raise BadRequest(f"Content-Type {mime!r} is not supported: send {JSON_TYPE} or {CSV_TYPE}", 415,
                         "UNSUPPORTED_MEDIA_TYPE")
    if not body.strip():
        raise BadRequest(f"the request body is empty: send a JSON object with one of {', '.join(FORMATS)}, "
                         "or a CSV table with a header row")
    if mime == CSV_TYPE:
        data, params = _csv(body), None
    else:
        columns = len(schema.inputs) if schema is not None and not schema.is_tensor_spec() else 0
        floats = bool(columns) and all(spec.type in ("double", "float") for spec in schema.inputs) \
            and b"true" not in body and b"false" not in body  # numpy would take a boolean for 1.0 or 0.0
        data, params = _json(body, columns, floats)
    return conform(data, schema, model), params


def _json(body: bytes, columns: int = 0, floats: bool = False) -> tuple[Any, Any]:
    """(data, params); ``columns``: how many columns the model's signature names (0: it has none or takes
    tensors), so rows of values become a table whose columns keep their own types; ``floats``: every one
    of them is a float column, so rows of numbers may go through one numpy array."""
    try:
        doc = json.loads(body.decode("utf-8"))  # json.loads(bytes) would also take UTF-16 and UTF-32
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except ValueError as e:
        raise BadRequest(f"malformed JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"the body must be a JSON object with exactly one of {', '.join(FORMATS)}; "
                         f"got a JSON {_kind(doc)}")
    found = [key for key in FORMATS if key in doc]
    unknown = sorted(set(doc) - set(FORMATS) - {"params"})
    if len(found) != 1 or unknown:
        extra = f"; unknown keys: {', '.join(unknown)}" if unknown else ""
        raise BadRequest(f"the body must hold exactly one of {', '.join(FORMATS)} (and optionally params); "
                         f"got {', '.join(found) or 'none of them'}{extra}")
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest(f"params must be a JSON object, got a JSON {_kind(params)}")
    key = found[0]
    value = doc[key]
    if key == "dataframe_split":
        return _split(value, floats), params
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise BadRequest("dataframe_records must be a list of objects (one per row, column name -> value)")
        return _frame(lambda pd: pd.DataFrame.from_records(value), key), params
    if key == "instances":
        if not isinstance(value, list):
            raise BadRequest(f"instances must be a list (one item per row), got a JSON {_kind(value)}")
        if value and all(isinstance(r, dict) for r in value):
            return _frame(lambda pd: pd.DataFrame.from_records(value), key), params
        return _rows(value, key, columns, floats), params
    if isinstance(value, dict):  # columnar inputs: column name -> list of values
        if not all(isinstance(v, list) for v in value.values()) or len({len(v) for v in value.values()}) > 1:
            raise BadRequest("inputs as an object must map each column name to a list of values, all as long")
        return _frame(lambda pd: pd.DataFrame(value), key), params
    if not isinstance(value, list):
        raise BadRequest(f"inputs must be a list or an object of columns, got a JSON {_kind(value)}")
    return _rows(value, key, columns, floats), params


def _rows(value: list, what: str, columns: int, floats: bool = False) -> Any:
    """A list of rows (or of values) as a table when the signature names columns, else as an array."""
    if not columns or not value:
        return _array(value, what)
    fast = _numbers(value, None, None) if floats else None
    if fast is not None:
        return fast
    if all(isinstance(row, list) for row in value):
        width = {len(row) for row in value}
        if len(width) > 1:
            raise BadRequest(f"{what} must be rows of equal length; got rows of {sorted(width)} values")
        return _frame(lambda pd: pd.DataFrame(value), what)
    if any(isinstance(item, (list, dict)) for item in value):
        raise BadRequest(f"{what} must be a list of rows (each a list of values) or a list of objects")
    rows = [[v] for v in value] if columns == 1 else [value]  # one column's values, or one row
    return _frame(lambda pd: pd.DataFrame(rows), what)


def _numbers(rows: list, columns: Any, index: Any) -> Any:
    """Rows that are all numbers as a frame built through one numpy array (three times faster than
    from lists, for a signature whose columns are all floats); None for anything else."""
    import numpy as np
    import pandas as pd
    try:
        array = np.asarray(rows)
    except ValueError:  # ragged: the slow path says which row
        return None
    if array.ndim != 2 or array.dtype.kind not in "fiu" or (columns is not None and len(columns) != array.shape[1]):
        return None
    try:
        return pd.DataFrame(array, columns=columns, index=index)
    except (ValueError, TypeError):
        return None


def _split(value: Any, floats: bool = False) -> Any:
    if not isinstance(value, dict) or "data" not in value or set(value) - {"columns", "data", "index"}:
        raise BadRequest("dataframe_split must be an object with 'data' (a list of rows) and optionally "
                         "'columns' and 'index'")
    rows, columns = value["data"], value.get("columns")
    if floats and rows and isinstance(rows, list) and (columns is None or isinstance(columns, list)):
        fast = _numbers(rows, columns, value.get("index"))
        if fast is not None:
            return fast
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise BadRequest("dataframe_split.data must be a list of rows, each a list of values")
    if columns is not None and (not isinstance(columns, list) or any(isinstance(c, (list, dict)) for c in columns)):
        raise BadRequest("dataframe_split.columns must be a list of column names")
    width = len(columns) if columns is not None else (len(rows[0]) if rows else 0)
    for n, row in enumerate(rows):
        if len(row) != width:
            raise BadRequest(f"dataframe_split: row {n} has {len(row)} values, expected {width}"
                             + (f" (one per column: {_names(columns)})" if columns is not None else ""))
    return _frame(lambda pd: pd.DataFrame(rows, columns=columns, index=value.get("index")), "dataframe_split")


def _frame(build: Any, what: str) -> Any:
    import pandas as pd
    try:
        return build(pd)
    except (ValueError, TypeError) as e:
        raise BadRequest(f"{what} is not a table: {e}") from None


def _array(value: list, what: str) -> Any:
    import numpy as np
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged rows
        raise BadRequest(f"{what} must be rows of equal length: {e}") from None
    if array.dtype.kind in "US" and not all(isinstance(v, str) for v in _leaves(value)):
        array = np.array(value, dtype=object)  # numpy made strings of every value; keep each as it was sent
    return array


def _leaves(value: Any) -> Any:
    for item in value:
        if isinstance(item, list):
            yield from _leaves(item)
        else:
            yield item


def _csv(body: bytes) -> Any:
    import io

    import pandas as pd
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the CSV body is not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        return pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise BadRequest(f"the CSV body is not a table with a header row: {e}") from None


def conform(data: Any, schema: Any, model: Any = None) -> Any:
    """``data`` checked and converted as the model's input schema says (a 400 naming what is wrong)."""
    if schema is None:
        return _check_features(data, model)
    if schema.is_tensor_spec():
        return _tensor(data, schema)
    import pandas as pd
    specs = schema.inputs
    names = schema.input_names()
    if not isinstance(data, pd.DataFrame):
        if data.ndim == 1:
            data = data.reshape(-1, 1) if len(specs) == 1 else data.reshape(1, -1)
        if data.ndim != 2:
            raise BadRequest(f"expected rows of {len(specs)} values, got an array of shape {list(data.shape)}")
        if data.shape[1] != len(specs):
            raise BadRequest(f"expected {len(specs)} columns ({_names(names)}), got {data.shape[1]}")
        data = pd.DataFrame(data, columns=names if schema.has_input_names() else None)
    elif schema.has_input_names():
        columns = [str(c) for c in data.columns]
        if data.shape[1] and all(isinstance(c, int) for c in data.columns):  # rows given without column names
            if data.shape[1] != len(specs):
                raise BadRequest(f"expected {len(specs)} columns ({_names(names)}), got {data.shape[1]}")
            data = data.set_axis(names, axis=1)
        else:
            missing = [spec.name for spec in specs if spec.required and spec.name not in columns]
            if missing:
                raise BadRequest(f"missing column(s) {_names(missing)}: the model takes {_names(names)}; "
                                 f"got {_names(columns)}")
            if data.columns.dtype != object or columns != list(data.columns):
                data = data.set_axis(columns, axis=1)
    elif data.shape[1] != len(specs):
        raise BadRequest(f"expected {len(specs)} column(s), got {data.shape[1]}")
    for spec, name in zip(specs, names):
        if name in data.columns:
            column = data[name]
            converted = _column(column, spec.type, name)
            if converted is not column:  # assigning a column costs a copy; most already have their type
                data[name] = converted
    return data


def _number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# schema type -> (dtype kinds taken as they are, the dtype to convert to, what an object column may hold)
_CONVERSIONS = {
    "double": ("fiu", "float64", _number), "float": ("fiu", "float32", _number),
    "long": ("iu", "int64", _integer), "integer": ("iu", "int32", _integer),
    "boolean": ("b", None, lambda v: isinstance(v, bool)), "string": ("", None, lambda v: isinstance(v, str)),
    "binary": ("", None, lambda v: isinstance(v, (str, bytes))),
}


def _column(series: Any, kind: Any, name: Any) -> Any:
    """One column converted to the schema's type, or a 400 naming the column and its first bad value."""
    if kind == "datetime":
        import pandas as pd
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError) as e:
            raise BadRequest(f"column {name!r} expects datetime values: {e}") from None
    if kind not in _CONVERSIONS:  # arrays and other nested types: the model checks them
        return series
    kinds, target, ok = _CONVERSIONS[kind]
    if series.dtype.kind in kinds:
        return series if target is None or str(series.dtype) == target else series.astype(target)
    bad = _first(series, ok)
    if bad is not None:
        raise _type_error(name, kind, *bad)
    return series if target is None else series.astype(target)


def _first(series: Any, ok: Any) -> tuple[int, Any] | None:
    for n, value in enumerate(series.tolist()):
        if not ok(value):
            return n, value
    return None


def _type_error(name: Any, kind: str, row: int, value: Any) -> BadRequest:
    shown = json.dumps(value) if isinstance(value, (str, bool, type(None))) else repr(value)
    return BadRequest(f"column {name!r} expects {kind} values; row {row} holds {shown} ({_kind(value)})")


def _tensor(data: Any, schema: Any) -> Any:
    import numpy as np
    spec = schema.inputs[0]
    if len(schema.inputs) > 1:
        raise BadRequest("this model takes several named tensors: send inputs as an object of arrays")
    array = data.to_numpy() if hasattr(data, "to_numpy") else data
    try:
        array = np.asarray(array).astype(spec.type, casting="same_kind" if spec.type.kind in "fc" else "safe")
    except (TypeError, ValueError) as e:
        raise BadRequest(f"expected {spec.type} values, got {np.asarray(array).dtype} ({e})") from None
    shape = spec.shape
    if len(shape) != array.ndim or any(want not in (-1, got) for want, got in zip(shape, array.shape)):
        raise BadRequest(f"expected an array of shape {list(shape)} (-1: any), got {list(array.shape)}")
    return array


def _check_features(data: Any, model: Any) -> Any:
    """Without a signature, a scikit-learn model still says how many (and which) columns it takes."""
    count = getattr(model, "n_features_in_", None)
    width = data.shape[1] if getattr(data, "ndim", 0) == 2 else None
    names = getattr(model, "feature_names_in_", None)
    if names is not None and hasattr(data, "columns") and not all(isinstance(c, int) for c in data.columns):
        missing = [str(n) for n in names if n not in data.columns]
        if missing:
            raise BadRequest(f"missing column(s) {_names(missing)}: the model takes {_names(list(names))}")
        return data
    if isinstance(count, int) and width is not None and width != count:
        raise BadRequest(f"expected {count} columns, got {width}")
    if names is not None and hasattr(data, "columns") and width == len(names):
        return data.set_axis([str(n) for n in names], axis=1)
    return data


def _names(names: Any) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null", int: "number",
            float: "number"}.get(type(value), type(value).__name__)


def encode_predictions(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as MLflow writes it: arrays as lists, a DataFrame as records."""
    return json.dumps({"predictions": jsonable(predictions)}, allow_nan=True).encode("utf-8")


def jsonable(value: Any) -> Any:
    import numpy as np
    if isinstance(value, np.ndarray):
        return value.tolist() if value.dtype != object else [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    module = type(value).__module__.split(".")[0]
    if module == "pandas" and hasattr(value, "to_dict"):
        import pandas as pd
        frame = value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
        return jsonable(frame.to_dict(orient="records"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return value
    if isinstance(value, (bytes, bytearray)):
        import base64
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
