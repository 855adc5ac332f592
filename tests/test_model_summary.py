"""A model folder's flavor and class, read from its description file without loading anything."""
from __future__ import annotations

import json

from tracker.models.summary import describe_model_dir

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    code: null
    pickled_model: model.pkl
mlflow_version: 3.1.0
run_id: 0123
"""


def test_an_mlflow_model_names_its_own_flavor(tmp_path):
    (tmp_path / "MLmodel").write_text(MLMODEL)
    (tmp_path / "model.pkl").write_bytes(b"never unpickled")
    summary = describe_model_dir(tmp_path)
    assert (summary.flavor, summary.model_class, summary.kind) == ("sklearn", "", "mlflow")
    assert summary.describe() == "sklearn"


def test_a_tracker_model_names_flavor_and_class(tmp_path):
    (tmp_path / "tracker-model.json").write_text(json.dumps(
        {"flavor": "sklearn", "model_class": "sklearn.ensemble._forest.RandomForestClassifier"}))
    assert describe_model_dir(tmp_path).describe() == "sklearn, RandomForestClassifier"


def test_other_folders_are_no_models(tmp_path):
    assert describe_model_dir(tmp_path) is None
    (tmp_path / "tracker-model.json").write_text("[not a manifest]")
    assert describe_model_dir(tmp_path) is None
    assert describe_model_dir(tmp_path / "missing") is None
