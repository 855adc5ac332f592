"""tracker.sklearn: model directories with a manifest, skops by default, integrity on load."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import tracker
import tracker.sklearn
from tracker import ModelIntegrityError


@pytest.fixture
def fitted():
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    return LogisticRegression().fit(x, y), x


def test_log_model_writes_manifest_and_loads_back(fitted):
    model, x = fitted
    with tracker.start_run() as run:
        info = tracker.sklearn.log_model(model, "clf", input_example=x[:2])
    assert info.model_uri == f"runs:/{run.info.run_id}/clf"
    model_dir = Path(info.path)
    manifest = json.loads((model_dir / "tracker-model.json").read_text())
    assert manifest["flavor"] == "sklearn"
    assert manifest["model_class"].endswith("LogisticRegression")
    assert manifest["serialization_format"] == "skops"
    assert manifest["run_id"] == run.info.run_id
    assert set(manifest["versions"]) >= {"python", "sklearn", "tracker"}
    assert set(manifest["files"]) == {"model.skops", "input_example.json", "requirements.txt"}
    # MLflow's rule and form: inputs from the example, outputs from the model's predict on it
    assert manifest["signature"] == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]', "params": None}
    assert manifest["saved_input_example_info"] == {"artifact_path": "input_example.json", "type": "ndarray"}
    assert json.loads((model_dir / "input_example.json").read_text()) == x[:2].tolist()
    for loaded in (tracker.sklearn.load_model(info.model_uri), tracker.load_model(info.model_uri),
                   tracker.load_model(model_dir)):
        assert loaded.predict(x).tolist() == model.predict(x).tolist()


def test_tampered_model_is_refused(fitted):
    model, _ = fitted
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, "clf")
    path = Path(info.path) / "model.skops"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ModelIntegrityError, match="model.skops has changed"):
        tracker.load_model(info.model_uri)


def test_pickle_is_opt_in_and_every_pickle_needs_trust(fitted, tmp_path):
    model, x = fitted
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, "clf", serialization_format="pickle")
    manifest = json.loads((Path(info.path) / "tracker-model.json").read_text())
    assert manifest["serialization_format"] == "pickle" and "model.pkl" in manifest["files"]
    with pytest.raises(ValueError, match="trust_pickle=True"):  # our own manifest proves nothing either
        tracker.load_model(info.model_uri)
    assert tracker.load_model(info.model_uri, trust_pickle=True).predict(x).tolist() == model.predict(x).tolist()
    bare = tmp_path / "model.pkl"
    bare.write_bytes(pickle.dumps(model))
    with pytest.raises(ValueError, match="trust_pickle=True"):
        tracker.load_model(bare)
    assert tracker.load_model(bare, trust_pickle=True).predict(x).tolist() == model.predict(x).tolist()


def test_save_model_refuses_a_non_empty_target_and_bad_format(fitted, tmp_path):
    model, _ = fitted
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        tracker.sklearn.save_model(model, tmp_path / "full")
    with pytest.raises(ValueError, match="serialization_format"):
        tracker.sklearn.save_model(model, tmp_path / "m", serialization_format="json")
    assert not (tmp_path / "m").exists()


def test_bad_model_uris(tmp_path):
    with pytest.raises(ValueError, match="no run"):
        tracker.load_model("runs:/" + "0" * 32 + "/clf")
    with pytest.raises(FileNotFoundError):
        tracker.load_model(tmp_path / "nothing")
    with tracker.start_run() as run:
        pass
    with pytest.raises(ValueError, match="escapes"):
        tracker.load_model(f"runs:/{run.info.run_id}/../../etc")
