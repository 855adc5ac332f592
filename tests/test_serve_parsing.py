"""Request bodies of MLflow's scoring protocol into model input: every format, and each refusal naming
its problem (no server: tracker.serving.parsing directly)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tracker.models.signature import ColSpec, Schema, TensorSpec
from tracker.serving.parsing import BadRequest, encode_predictions, parse_request

COLUMNS = ["a", "b", "c"]
SCHEMA = Schema([ColSpec("double", "a"), ColSpec("double", "b"), ColSpec("long", "c")])
ROWS = [[1.5, 2.0, 3], [4.0, 5.5, 6]]
EXPECTED = pd.DataFrame({"a": [1.5, 4.0], "b": [2.0, 5.5], "c": [3, 6]})


def parse(body, content_type="application/json", schema=SCHEMA, model=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_request(raw, content_type, schema, model)


@pytest.mark.parametrize("body", [
    {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
    {"dataframe_split": {"data": ROWS}},
    {"dataframe_records": [dict(zip(COLUMNS, row)) for row in ROWS]},
    {"instances": ROWS},
    {"instances": [dict(zip(COLUMNS, row)) for row in ROWS]},
    {"inputs": ROWS},
    {"inputs": {c: [row[i] for row in ROWS] for i, c in enumerate(COLUMNS)}},
], ids=["split", "split-no-columns", "records", "instances", "instances-records", "inputs", "inputs-columns"])
def test_every_json_format_gives_the_same_typed_frame(body):
    data, params = parse(body)
    pd.testing.assert_frame_equal(data.reset_index(drop=True), EXPECTED)
    assert params is None


def test_csv_and_params():
    data, _ = parse(b"a,b,c\n1.5,2.0,3\n4.0,5.5,6\n", "text/csv; charset=utf-8")
    pd.testing.assert_frame_equal(data, EXPECTED)
    _, params = parse({"inputs": ROWS, "params": {"k": 3}})
    assert params == {"k": 3}


def test_extra_named_columns_pass_through_to_the_models_own_selection():
    data, _ = parse({"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 3, "extra": "x"}]})
    assert list(data.columns) == ["a", "b", "c", "extra"] and data["a"].dtype == np.float64


@pytest.mark.parametrize("body, content_type, status, words", [
    (b"{\"inputs\": [1, 2", "application/json", 400, ["malformed JSON"]),
    (b"\xff\xfe{}", "application/json", 400, ["not UTF-8"]),
    (b"", "application/json", 400, ["empty"]),
    (b"   \n", "text/csv", 400, ["empty"]),
    (b"[[1, 2, 3]]", "application/json", 400, ["JSON object", "got a JSON array"]),
    (b"{\"rows\": [[1, 2, 3]]}", "application/json", 400, ["exactly one of", "unknown keys: rows"]),
    (b"{\"inputs\": [[1, 2, 3]], \"instances\": [[1, 2, 3]]}", "application/json", 400, ["exactly one of"]),
    (b"{\"inputs\": [[1.0, 2.0]]}", "application/json", 400, ["expected 3 columns", "a, b, c", "got 2"]),
    (b"{\"dataframe_split\": {\"data\": [[1.0, 2.0]]}}", "application/json", 400, ["expected 3 columns"]),
    (b"{\"dataframe_split\": {\"columns\": [\"a\", \"b\", \"c\"], \"data\": [[1.0, 2.0]]}}", "application/json",
     400, ["row 0 has 2 values, expected 3"]),
    (b"{\"dataframe_records\": [{\"a\": 1.0, \"b\": 2.0}]}", "application/json", 400, ["missing column(s) c"]),
    (b"{\"instances\": [[1.0, \"two\", 3]]}", "application/json", 400, ["column 'b' expects double", '"two"']),
    (b"{\"inputs\": [[1.0, 2.0, 3.5]]}", "application/json", 400, ["column 'c' expects long", "3.5"]),
    (b"{\"inputs\": [[1.0, true, 3]]}", "application/json", 400, ["column 'b' expects double", "true"]),
    (b"{\"inputs\": [[1, 2], [3]]}", "application/json", 400, ["equal length"]),
    (b"{\"dataframe_records\": {\"a\": 1}}", "application/json", 400, ["list of objects"]),
    (b"{\"inputs\": [[1, 2, 3]], \"params\": [1]}", "application/json", 400, ["params must be a JSON object"]),
    (b"a,b\n1,2\n", "text/csv", 400, ["missing column(s) c"]),
    (b"a,b,c\n1,x,3\n", "text/csv", 400, ["column 'b' expects double", '"x"']),
    (b"a=1", "application/x-www-form-urlencoded", 415, ["application/json or text/csv"]),
    (b"{}", "application/json; charset=latin-1", 415, ["UTF-8"]),
], ids=lambda v: v if isinstance(v, int) else None)
def test_refusals_name_the_problem(body, content_type, status, words):
    with pytest.raises(BadRequest) as caught:
        parse(body, content_type)
    assert caught.value.status == status
    for word in words:
        assert word in str(caught.value)


def test_without_a_signature_a_scikit_learn_model_still_says_how_many_columns():
    from sklearn.linear_model import LinearRegression
    model = LinearRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), [0.0, 1.0, 2.0])
    data, _ = parse({"inputs": [[1.0, 2.0]]}, schema=None, model=model)
    assert data.shape == (1, 2)
    with pytest.raises(BadRequest, match="expected 2 columns, got 3"):
        parse({"inputs": [[1.0, 2.0, 3.0]]}, schema=None, model=model)
    named = LinearRegression().fit(pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 0.0]}), [0.0, 1.0])
    with pytest.raises(BadRequest, match=r"missing column\(s\) y"):
        parse({"dataframe_records": [{"x": 1.0, "z": 2.0}]}, schema=None, model=named)


def test_tensor_signatures_get_arrays_of_their_dtype_and_shape():
    schema = Schema([TensorSpec("float32", (-1, 2))])
    data, _ = parse({"inputs": [[1, 2], [3, 4]]}, schema=schema)
    assert data.dtype == np.float32 and data.shape == (2, 2)
    with pytest.raises(BadRequest, match=r"shape \[-1, 2\]"):
        parse({"inputs": [[1, 2, 3]]}, schema=schema)
    with pytest.raises(BadRequest, match="expected float32"):
        parse({"inputs": [["a", "b"]]}, schema=schema)


def test_predictions_are_written_as_mlflow_writes_them():
    assert json.loads(encode_predictions(np.array([1, 2]))) == {"predictions": [1, 2]}
    frame = pd.DataFrame({"p": [0.25, 0.75]})
    assert json.loads(encode_predictions(frame)) == {"predictions": [{"p": 0.25}, {"p": 0.75}]}
    assert json.loads(encode_predictions({"a": np.float32(0.5)})) == {"predictions": {"a": 0.5}}


def test_rows_of_numbers_for_a_float_signature_keep_every_check():
    floats = Schema([ColSpec("double", "x"), ColSpec("double", "y")])
    data, _ = parse({"dataframe_split": {"columns": ["x", "y"], "data": [[1, 2.5], [3, 4]]}}, schema=floats)
    assert list(data.columns) == ["x", "y"] and data.dtypes.tolist() == [np.float64, np.float64]
    assert data.to_numpy().tolist() == [[1.0, 2.5], [3.0, 4.0]]
    data, _ = parse({"instances": [[1, 2], [3, 4]]}, schema=floats)
    assert data.dtypes.tolist() == [np.float64, np.float64] and list(data.columns) == ["x", "y"]
    with pytest.raises(BadRequest, match="column 'y' expects double values; row 0 holds true"):
        parse({"inputs": [[1.0, True]]}, schema=floats)
    with pytest.raises(BadRequest, match="row 1 has 1 values, expected 2"):
        parse({"dataframe_split": {"columns": ["x", "y"], "data": [[1.0, 2.0], [3.0]]}}, schema=floats)
    with pytest.raises(BadRequest, match="expected 2 columns"):
        parse({"inputs": [[1.0, 2.0, 3.0]]}, schema=floats)
