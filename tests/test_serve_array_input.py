"""Rows of numbers reach a scikit-learn model as one array only where that gives the model's own
answers: a model fitted on the signature's columns in order, a request naming them in that order.
Everything else takes the general path (a pipeline that picks columns by name, reordered columns,
booleans, strings, extra keys), which answers as before."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tracker
from serve_fixtures import TREE, iris, register_forests
from tracker.model_trust import Trust
from tracker.serving.asgi import predict
from tracker.serving.served import Target
from tracker.serving.array_input import plain_rows

NAME = "iris"
# (the server's process silences it: array_input.quiet_feature_names; these tests run in-process)
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def load(root: Path, uri: str):
    return Target(uri, root, Trust((TREE,), False)).load()


@pytest.fixture
def forest(tmp_path):
    root = tmp_path / "runs"
    register_forests(root, sizes=(5,))
    return load(root, f"models:/{NAME}/1")


def split(columns, rows, **extra) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": rows}, **extra}).encode()


def test_a_forest_fitted_on_its_signatures_columns_takes_rows_as_one_array_with_the_same_answers(forest):
    X, _ = iris()
    columns = tuple(X.columns)
    assert forest.array_columns == columns
    body = split(list(columns), X.to_numpy().tolist())
    rows = plain_rows(body, "application/json", columns)
    assert rows.dtype == np.float64 and rows.shape == X.shape
    expected = forest.model.predict(X).tolist()
    assert json.loads(predict(forest, body, "application/json")) == {"predictions": expected}
    unnamed = json.dumps({"dataframe_split": {"data": X.to_numpy().tolist()}}).encode()  # columns not given
    assert np.array_equal(plain_rows(unnamed, None, columns), X.to_numpy())


@pytest.mark.parametrize("body", [
    json.dumps({"dataframe_split": {"columns": ["petal width (cm)", "sepal length (cm)", "sepal width (cm)",
                                                "petal length (cm)"], "data": [[0.2, 5.1, 3.5, 1.4]]}}),
    json.dumps({"dataframe_split": {"data": [[True, 5.1, 3.5, 1.4]]}}),
    json.dumps({"dataframe_split": {"data": [["0.2", 5.1, 3.5, 1.4]]}}),
    json.dumps({"dataframe_split": {"data": [[0.2, 5.1, 3.5], [1, 2, 3, 4]]}}),
    json.dumps({"dataframe_split": {"data": [[0.2, 5.1, 3.5, 1.4]]}, "params": {"x": 1}}),
    json.dumps({"dataframe_split": {"data": [[0.2, 5.1, 3.5, 1.4]], "index": [7]}}),
    json.dumps({"dataframe_split": {"data": []}}),
    json.dumps({"instances": [[0.2, 5.1, 3.5, 1.4]]}),
])
def test_other_requests_take_the_general_path_and_get_the_same_answers_as_before(forest, body):
    X, _ = iris()
    assert plain_rows(body.encode(), "application/json", tuple(X.columns)) is None


def test_reordered_columns_are_put_in_the_models_order_by_the_general_path(forest):
    X, _ = iris()
    shuffled = X[list(reversed(X.columns))]
    answer = json.loads(predict(forest, split(list(shuffled.columns), shuffled.to_numpy().tolist()), None))
    assert answer == {"predictions": forest.model.predict(X).tolist()}


def test_a_pipeline_that_picks_columns_by_name_stays_on_dataframes(tmp_path):
    X, y = iris()
    by_name = ColumnTransformer([("scaled", StandardScaler(), [X.columns[2], X.columns[0]])])
    model = make_pipeline(by_name, LogisticRegression(max_iter=500)).fit(X, y)
    tracker.sklearn.save_model(model, tmp_path / "model", input_example=X.iloc[:3])
    served = load(tmp_path / "runs", str(tmp_path / "model"))
    assert served.array_columns is None
    body = split(list(X.columns), X.to_numpy().tolist())
    assert json.loads(predict(served, body, None)) == {"predictions": model.predict(X).tolist()}


def test_integer_columns_and_models_fitted_without_names_stay_on_dataframes(tmp_path):
    X, y = iris()
    ints = pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 1]})
    tracker.sklearn.save_model(LogisticRegression().fit(ints, [0, 0, 1, 1]), tmp_path / "ints", input_example=ints)
    assert load(tmp_path / "runs", str(tmp_path / "ints")).array_columns is None
    plain = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    tracker.sklearn.save_model(plain, tmp_path / "plain", input_example=X.iloc[:3])
    assert load(tmp_path / "runs", str(tmp_path / "plain")).array_columns is None
