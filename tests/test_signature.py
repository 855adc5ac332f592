"""tracker.models.infer_signature / ModelSignature with MLflow's meaning and MLflow's dict form."""
import json

import numpy as np
import pandas as pd
import pytest

from tracker.models import ModelSignature, infer_signature
from tracker.models.signature import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec


def test_dataframe_gives_named_columns_with_mlflow_types():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"], "d": [True, False],
                       "f": np.array([1.5, 2.5], dtype="float32"), "i": np.array([1, 2], dtype="int32")})
    sig = infer_signature(df)
    assert sig.inputs == Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c"),
                                 ColSpec("boolean", "d"), ColSpec("float", "f"), ColSpec("integer", "i")])
    assert sig.outputs is None and sig.params is None
    assert sig.inputs.input_names() == ["a", "b", "c", "d", "f", "i"]
    assert not sig.inputs.is_tensor_spec()


def test_ndarray_gives_a_tensor_with_a_variable_batch_dimension():
    x = np.zeros((5, 4), dtype="float64")
    sig = infer_signature(x, np.array([0, 1, 0, 1, 1]))
    assert sig.inputs == Schema([TensorSpec(np.dtype("float64"), (-1, 4))])
    assert sig.outputs == Schema([TensorSpec(np.dtype("int64"), (-1,))])
    assert sig.inputs.is_tensor_spec()
    assert sig.to_dict() == {  # exactly MLflow's to_dict (checked against mlflow 3.17)
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": None}


def test_dict_list_and_scalar_inputs():
    assert infer_signature({"a": 1, "b": "x"}).inputs == Schema([ColSpec("long", "a"), ColSpec("string", "b")])
    assert infer_signature({"a": np.zeros((2, 3))}).inputs == Schema([TensorSpec(np.dtype("float64"), (-1, 3), "a")])
    assert infer_signature([1, 2]).inputs == Schema([ColSpec("long")])
    assert infer_signature(["a", "b"]).inputs == Schema([ColSpec("string")])
    rows = infer_signature([{"a": 1, "b": 2.0}, {"a": 3}]).inputs
    assert rows == Schema([ColSpec("long", "a"), ColSpec("double", "b", required=False)])
    assert infer_signature("hello", "bye").to_dict() == {
        "inputs": '[{"type": "string", "required": true}]',
        "outputs": '[{"type": "string", "required": true}]', "params": None}


def test_series_output_and_params():
    sig = infer_signature(pd.DataFrame({"x": [1.0]}), pd.Series([1, 2], name="p"),
                          params={"k": 1, "t": 0.5, "s": "x", "l": [1, 2]})
    assert sig.outputs == Schema([ColSpec("long", "p")])
    assert sig.params == ParamSchema([ParamSpec("k", "long", 1), ParamSpec("t", "double", 0.5),
                                      ParamSpec("s", "string", "x"), ParamSpec("l", "long", [1, 2], (-1,))])
    assert json.loads(sig.to_dict()["params"])[3] == {"name": "l", "default": [1, 2], "shape": [-1], "type": "long"}


def test_to_dict_from_dict_round_trip_and_to_json():
    sig = infer_signature(pd.DataFrame({"a": [1.0], "b": ["x"]}), np.array([1]), params={"k": 2})
    d = sig.to_dict()
    assert all(isinstance(v, str) for v in d.values())
    assert ModelSignature.from_dict(d) == sig
    assert ModelSignature.from_dict(json.loads(json.dumps(d))).to_dict() == d
    assert sig.inputs.to_json() == d["inputs"]
    assert Schema.from_json(sig.inputs.to_json()) == sig.inputs
    assert ModelSignature.from_dict({"inputs": d["inputs"], "outputs": None}).outputs is None


def test_mistakes_are_refused():
    with pytest.raises(ValueError, match="mixed types"):
        infer_signature([1, "a"])
    with pytest.raises(ValueError, match="cannot describe"):
        infer_signature(object())
    with pytest.raises(ValueError, match="needs inputs or outputs"):
        ModelSignature()
    with pytest.raises(ValueError, match="unsupported type"):
        ColSpec("float128", "x")
    with pytest.raises(ValueError, match="mixes"):
        Schema([ColSpec("long", "a"), TensorSpec(np.dtype("float64"), (-1,), "b")])


_CASES = """
import numpy as np, pandas as pd
cases = [
    (np.zeros((3, 2)), np.array([0, 1, 1])),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"], "d": [True, False]}), pd.Series([1, 2], name="p")),
    ({"a": 1, "b": "x"}, None), ([1, 2], None), (["a"], None), ({"a": np.zeros((2, 3))}, None),
    ([{"a": 1, "b": 2.0}], None), ("hello", "bye"), (np.zeros((2, 2)), {"x": 1}),
]
"""


def test_same_dicts_as_mlflow_itself():
    """The manifests are meant to be read by MLflow users: compare with mlflow, run in a subprocess."""
    import subprocess
    import sys
    pytest.importorskip("mlflow")
    script = _CASES + (
        "import json, warnings\nwarnings.simplefilter('ignore')\nfrom mlflow.models import infer_signature\n"
        "print(json.dumps([infer_signature(i, o).to_dict() for i, o in cases]))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    namespace: dict = {}
    exec(_CASES, namespace)  # noqa: S102 - the test's own cases, the same source MLflow's process ran
    ours = [infer_signature(i, o).to_dict() for i, o in namespace["cases"]]
    assert ours == json.loads(out.stdout.strip().splitlines()[-1])


def test_mlflow_types_names_build_the_same_schema():
    from tracker.models.signature import ModelSignature as FromSubmodule
    from tracker.types import ColSpec as TypesColSpec, DataType, Schema as TypesSchema
    built = FromSubmodule(TypesSchema([TypesColSpec(DataType.double, "a"), TypesColSpec(DataType.string, "b")]))
    assert built == infer_signature(pd.DataFrame({"a": [1.0], "b": ["x"]}))
