"""Model signatures with MLflow's meaning: what a model takes, returns and accepts as params.

``infer_signature(model_input, model_output=None, params=None)`` describes example data:
a pandas DataFrame, a dict of scalars, a list of dicts or scalars, a scalar become a ``Schema`` of
``ColSpec`` (one per column, named when the data names them); a numpy array (or a dict of arrays)
becomes ``TensorSpec`` (its dtype, and its shape with the first dimension -1 for "any batch size").
``ModelSignature.to_dict()`` gives MLflow's form (each schema as a JSON string), which is what a
model's manifest stores, and ``from_dict`` reads it back.
"""
from __future__ import annotations

import json
from enum import Enum
from typing import Any

# numpy dtype kind/size -> MLflow's column type name
_NUMPY_TYPES = {"b": "boolean", "i8": "long", "i4": "integer", "i2": "integer", "i1": "integer",
                "u1": "integer", "u2": "integer", "u4": "long", "f8": "double", "f4": "float", "f2": "float",
                "U": "string", "S": "binary", "M": "datetime"}
COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")


DataType = Enum("DataType", {name: n for n, name in enumerate(COLUMN_TYPES, 1)})
DataType.__doc__ = "MLflow's column types: ``ColSpec(DataType.double, 'x')`` is ``ColSpec('double', 'x')``."


class ColSpec:
    """One column: MLflow type name (``double``, ``long``, ``string``, ...), optional name, required."""

    def __init__(self, type: str, name: str | None = None, required: bool = True) -> None:
        type = getattr(type, "name", type)  # a DataType-like enum member
        if type not in COLUMN_TYPES and not isinstance(type, Array):
            raise ValueError(f"ColSpec: unsupported type {type!r}; use one of {', '.join(COLUMN_TYPES)}")
        self.type, self.name, self.required = type, name, bool(required)

    def to_dict(self) -> dict[str, Any]:
        out = self.type.to_dict() if isinstance(self.type, Array) else {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> "ColSpec":
        kind = Array.from_dict(d) if d.get("type") == "array" else d["type"]
        return cls(kind, d.get("name"), d.get("required", True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        text = f"{self.type} ({'required' if self.required else 'optional'})"
        return f"{self.name!r}: {text}" if self.name is not None else text


class Array:
    """A column whose values are lists of one type (MLflow's ``Array``)."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": self.dtype}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Array":
        return cls(d["items"]["type"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return f"Array({self.dtype})"


class TensorSpec:
    """A tensor input or output: numpy dtype, shape (-1 for a variable dimension), optional name."""

    def __init__(self, type: Any, shape: tuple[int, ...] | list[int], name: str | None = None) -> None:
        import numpy as np
        self.type = np.dtype(type)
        self.shape = tuple(int(n) for n in shape)
        self.name = name

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": str(self.type), "shape": list(self.shape)}}
        return {"name": self.name, **spec} if self.name is not None else spec

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> "TensorSpec":
        spec = d["tensor-spec"]
        return cls(spec["dtype"], spec["shape"], d.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        text = f"Tensor({str(self.type)!r}, {self.shape})"
        return f"{self.name!r}: {text}" if self.name is not None else text


class Schema:
    """A list of ``ColSpec`` or of ``TensorSpec`` (never both); all named or none."""

    def __init__(self, inputs: list[ColSpec | TensorSpec]) -> None:
        inputs = list(inputs)
        if not inputs:
            raise ValueError("Schema: needs at least one ColSpec or TensorSpec")
        if len({type(i) for i in inputs}) > 1:
            raise ValueError("Schema: mixes ColSpec and TensorSpec; use one kind")
        if any(i.name is None for i in inputs) and len(inputs) > 1:
            raise ValueError("Schema: with more than one input, every input needs a name")
        self.inputs = inputs

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [i.name if i.name is not None else n for n, i in enumerate(self.inputs)]

    def input_types(self) -> list[Any]:
        return [i.type for i in self.inputs]

    def column_names(self) -> list[str | int]:
        return self.input_names()

    def to_dict(self) -> list[dict[str, Any]]:
        return [i.to_dict() for i in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        return cls([TensorSpec.from_json_dict(d) if d.get("type") == "tensor" else ColSpec.from_json_dict(d)
                    for d in json.loads(text)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return repr(self.inputs)


class ParamSpec:
    """One inference parameter: name, MLflow type, default and shape (None, or (-1,) for a list)."""

    def __init__(self, name: str, dtype: str, default: Any, shape: tuple[int, ...] | None = None) -> None:
        self.name, self.dtype, self.default = name, getattr(dtype, "name", dtype), default
        self.shape = tuple(shape) if shape is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default,
                "shape": list(self.shape) if self.shape is not None else None, "type": self.dtype}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        shape = f", shape: {self.shape}" if self.shape else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default!r}{shape})"


class ParamSchema:
    def __init__(self, params: list[ParamSpec]) -> None:
        self.params = list(params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "ParamSchema":
        return cls([ParamSpec(d["name"], d["type"], d.get("default"), d.get("shape")) for d in json.loads(text)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return repr(self.params)


class ModelSignature:
    """``inputs`` and ``outputs`` schemas and ``params``, as MLflow's ``ModelSignature``."""

    def __init__(self, inputs: Schema | None = None, outputs: Schema | None = None,
                 params: ParamSchema | None = None) -> None:
        if inputs is None and outputs is None:
            raise ValueError("ModelSignature: needs inputs or outputs")
        self.inputs, self.outputs, self.params = inputs, outputs, params

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's form: each part as a JSON string, or None."""
        return {name: part.to_json() if part is not None else None
                for name, part in (("inputs", self.inputs), ("outputs", self.outputs), ("params", self.params))}

    @classmethod
    def from_dict(cls, signature_dict: dict[str, Any]) -> "ModelSignature":
        def part(key: str, kind: type) -> Any:
            text = signature_dict.get(key)
            return kind.from_json(text) if text else None
        return cls(part("inputs", Schema), part("outputs", Schema), part("params", ParamSchema))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"inputs: \n  {self.inputs!r}\noutputs: \n  {self.outputs!r}\nparams: \n  {self.params!r}\n"


def infer_signature(model_input: Any = None, model_output: Any = None,
                    params: dict[str, Any] | None = None) -> ModelSignature:
    """MLflow's ``infer_signature``: schemas describing ``model_input`` and ``model_output``."""
    return ModelSignature(
        _infer_schema(model_input) if model_input is not None else None,
        _infer_schema(model_output) if model_output is not None else None,
        _infer_params(params) if params else None)


def _infer_schema(data: Any) -> Schema:
    import numpy as np
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        return Schema([ColSpec(_series_type(data[c]), str(c)) for c in data.columns])
    if module == "pandas" and hasattr(data, "dtype"):
        return Schema([ColSpec(_series_type(data), None if data.name is None else str(data.name))])
    if isinstance(data, np.ndarray):
        return Schema([_tensor(data)])
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor(v, str(k)) for k, v in data.items()])
        return Schema([ColSpec(_value_type(v), str(k)) for k, v in data.items()])
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(row, dict) for row in data):
            keys = list(dict.fromkeys(k for row in data for k in row))
            return Schema([ColSpec(_common_type([row[k] for row in data if k in row]), str(k),
                                   all(k in row for row in data)) for k in keys])
        if not data:
            raise ValueError("infer_signature: cannot describe an empty list")
        return Schema([ColSpec(_common_type(list(data)))])
    return Schema([ColSpec(_scalar_type(data))])


def _tensor(array: Any, name: str | None = None) -> TensorSpec:
    return TensorSpec(array.dtype, (-1, *array.shape[1:]) if array.ndim else (), name)


def _numpy_type(dtype: Any) -> str | None:
    return _NUMPY_TYPES.get(f"{dtype.kind}{dtype.itemsize}") or _NUMPY_TYPES.get(dtype.kind)


def _series_type(series: Any) -> str:
    found = _numpy_type(series.dtype) if getattr(series.dtype, "kind", "O") != "O" else None
    if found:
        return found
    values = [v for v in series.tolist() if v is not None]
    return _common_type(values) if values else "string"


def _scalar_type(value: Any) -> str:
    import numpy as np
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, np.generic):
        return _numpy_type(value.dtype) or _fail(value)
    for kind, name in ((int, "long"), (float, "double"), (str, "string"), (bytes, "binary")):
        if isinstance(value, kind):
            return name
    import datetime
    if isinstance(value, datetime.datetime):
        return "datetime"
    return _fail(value)


def _value_type(value: Any) -> str | Array:
    if isinstance(value, (list, tuple)):
        return Array(_common_type(list(value))) if value else _fail(value)
    return _scalar_type(value)


def _common_type(values: list[Any]) -> str:
    types = {_scalar_type(v) for v in values}
    if types <= {"long", "double"} and len(types) == 2:
        return "double"
    if len(types) != 1:
        raise ValueError(f"infer_signature: values of mixed types {sorted(types)} in one column")
    return types.pop()


def _fail(value: Any) -> str:
    raise ValueError(f"infer_signature: cannot describe a value of type {type(value).__name__}")


def _infer_params(params: dict[str, Any]) -> ParamSchema:
    specs = []
    for name, value in params.items():
        if isinstance(value, (list, tuple)):
            specs.append(ParamSpec(name, _common_type(list(value)), list(value), (-1,)))
        else:
            specs.append(ParamSpec(name, _scalar_type(value), value.item() if hasattr(value, "item") else value))
    return ParamSchema(specs)
