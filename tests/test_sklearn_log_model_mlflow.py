"""tracker.sklearn.log_model/save_model with MLflow 3's keywords, ModelInfo's fields, and the tutorial script."""
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import tracker
import tracker.sklearn
from tracker.models import ModelSignature, infer_signature

SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture
def fitted():
    x = pd.DataFrame({"sepal": [0.0, 1.0, 0.2, 0.9], "petal": [1.0, 0.0, 0.9, 0.1]})
    return LogisticRegression().fit(x, np.array([0, 1, 0, 1])), x


def _manifest(info) -> dict:
    return json.loads((Path(info.path) / "tracker-model.json").read_text())


def test_keywords_and_positions_are_mlflow_3s():
    names = list(inspect.signature(tracker.sklearn.log_model).parameters)
    assert names[:12] == ["sk_model", "artifact_path", "conda_env", "code_paths", "serialization_format",
                          "registered_model_name", "signature", "input_example", "await_registration_for",
                          "pip_requirements", "extra_pip_requirements", "pyfunc_predict_fn"]
    assert {"metadata", "params", "tags", "model_type", "step", "model_id", "name", "skops_trusted_types"} <= set(names)
    save = list(inspect.signature(tracker.sklearn.save_model).parameters)
    assert save[:8] == ["sk_model", "path", "conda_env", "code_paths", "mlflow_model", "serialization_format",
                        "signature", "input_example"]


def test_signature_and_dataframe_example_stored_and_read_back(fitted):
    model, x = fitted
    signature = infer_signature(x, model.predict(x))
    with tracker.start_run() as run:
        info = tracker.sklearn.log_model(model, name="iris", signature=signature, input_example=x.head(2),
                                         metadata={"team": "ml"}, params={"C": 1.0})
    assert info.signature == signature
    assert info.model_uri == f"runs:/{run.info.run_id}/iris"
    assert (info.name, info.artifact_path, info.run_id) == ("iris", "iris", run.info.run_id)
    assert re.fullmatch(r"m-[0-9a-f]{32}", info.model_id) and info.model_uuid == info.model_id
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    assert info.flavors["python_function"]["predict_fn"] == "predict"
    assert info.metadata == {"team": "ml"} and info.registered_model_version is None
    assert info.utc_time_created and info.saved_input_example_info["type"] == "dataframe"
    manifest = _manifest(info)
    assert manifest["signature"] == signature.to_dict()
    assert ModelSignature.from_dict(manifest["signature"]).inputs.input_names() == ["sepal", "petal"]
    assert manifest["params"] == {"C": "1.0"}
    example = json.loads((Path(info.path) / "input_example.json").read_text())
    assert example == {"columns": ["sepal", "petal"], "data": [[0.0, 1.0], [1.0, 0.0]]}  # MLflow's split form
    meta = tracker.models.Model.load(info.model_uri)
    pd.testing.assert_frame_equal(meta.load_input_example(), x.head(2))


def test_signature_inferred_from_example_and_model_output(fitted):
    model, x = fitted
    with tracker.start_run():
        inferred = tracker.sklearn.log_model(model, name="a", input_example=x.head(2))
        none = tracker.sklearn.log_model(model, name="b")
        off = tracker.sklearn.log_model(model, name="c", input_example=x.head(2), signature=False)
    assert inferred.signature == infer_signature(x.head(2), model.predict(x.head(2)))
    assert none.signature is None and _manifest(none)["signature"] is None
    assert off.signature is None and (Path(off.path) / "input_example.json").is_file()


def test_requirements_and_conda_env_are_recorded(fitted, tmp_path):
    model, _ = fitted
    req_file = tmp_path / "req.txt"
    req_file.write_text("# pinned\nscikit-learn\npandas>=2\n")
    with tracker.start_run():
        default = tracker.sklearn.log_model(model, name="d")
        extra = tracker.sklearn.log_model(model, name="e", extra_pip_requirements=["pandas"])
        given = tracker.sklearn.log_model(model, name="g", pip_requirements=str(req_file),
                                          conda_env={"name": "env", "dependencies": ["python=3.11"]})
    lines = (Path(default.path) / "requirements.txt").read_text().splitlines()
    assert [line.split("==")[0] for line in lines] == ["scikit-learn", "skops"]
    assert (Path(extra.path) / "requirements.txt").read_text().splitlines() == [*lines, "pandas"]
    assert (Path(given.path) / "requirements.txt").read_text().splitlines() == ["scikit-learn", "pandas>=2"]
    assert json.loads((Path(given.path) / "conda.yaml").read_text())["name"] == "env"
    with tracker.start_run(), pytest.raises(ValueError, match="cannot both"):
        tracker.sklearn.log_model(model, name="x", pip_requirements=["a"], extra_pip_requirements=["b"])


def test_artifact_path_is_the_deprecated_alias_and_unsupported_values_refused(fitted, tmp_path):
    model, x = fitted
    with tracker.start_run() as run:
        info = tracker.sklearn.log_model(model, "model")  # MLflow 2 scripts pass it positionally
        assert info.model_uri == f"runs:/{run.info.run_id}/model"
        with pytest.raises(ValueError, match="code_paths is not supported"):
            tracker.sklearn.log_model(model, name="m2", code_paths=["helpers.py"])
        with pytest.raises(ValueError, match="not both"):
            tracker.sklearn.log_model(model, artifact_path="a", name="b")
    assert not (Path(info.path).parent / "m2").exists()
    assert tracker.load_model(info.model_uri).predict(x).tolist() == model.predict(x).tolist()


def test_skops_trusted_types_go_to_the_registry_not_the_folder(tmp_path):
    from sklearn.tree import DecisionTreeClassifier
    tree = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    with tracker.start_run():
        info = tracker.sklearn.log_model(tree, name="tree", registered_model_name="trees",
                                         skops_trusted_types=["sklearn.tree._tree.Tree"])
    assert info.registered_model_version == 1
    assert "sklearn.tree._tree.Tree" not in json.dumps(info.flavors)
    with pytest.raises(ValueError, match="sklearn.tree._tree.Tree"):
        tracker.load_model(info.model_uri)  # the folder vouches for nothing
    assert tracker.load_model("models:/trees/1").predict([[1]]).tolist() == [1]


def test_mlflow_tutorial_script_runs_with_only_the_import_changed(tmp_path):
    env = {**os.environ, "TRACKER_DIR": str(tmp_path / "runs"), "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop("MLFLOW_TRACKING_URI", None)
    out = subprocess.run([sys.executable, str(SCRIPTS / "mlflow_sklearn_pyfunc_tutorial.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "predictions match: True" in out.stdout
    assert "registered version: 1" in out.stdout
    assert "imported mlflow: False" in out.stdout


def test_lineage_cli_shows_the_registered_versions_signature(fitted, capsys):
    import argparse

    from tracker.registry_cli import add_models_parser
    model, x = fitted
    with tracker.start_run():
        tracker.sklearn.log_model(model, name="iris", input_example=x.head(2), registered_model_name="iris")
    parser = argparse.ArgumentParser(prog="tracker")
    add_models_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", "lineage", "iris", "1"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "inputs       ['sepal': double (required), 'petal': double (required)]" in out
    assert "outputs      [Tensor('int64', (-1,))]" in out


def test_models_saved_with_the_old_signature_form_still_load(fitted, tmp_path):
    import tracker.pyfunc
    model, x = fitted
    path = tracker.sklearn.save_model(model, tmp_path / "m", input_example=x.head(2))
    manifest = json.loads((path / "tracker-model.json").read_text())
    manifest["signature"] = {"inputs": {"type": "tensor", "dtype": "float64", "shape": [-1, 2]}}  # before MLflow's form
    for key in ("flavors", "model_id", "model_uuid", "saved_input_example_info"):
        manifest.pop(key)
    (path / "tracker-model.json").write_text(json.dumps(manifest))
    loaded = tracker.pyfunc.load_model(path)
    assert loaded.metadata.signature is None  # never misread as a signature
    assert loaded.predict(x).tolist() == model.predict(x).tolist()
    assert tracker.load_model(path).predict(x).tolist() == model.predict(x).tolist()
