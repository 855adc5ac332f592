"""tracker.pyfunc: one predict for sklearn and custom models; models-from-code; trust for code and pickles."""
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import tracker
import tracker.pyfunc
import tracker.sklearn
from tracker.model_trust import UntrustedModelError, needed_trust
from tracker.models import infer_signature


@pytest.fixture
def fitted():
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    return LogisticRegression().fit(x, np.array([0, 1, 0, 1])), x


# A models-from-code file, as MLflow's guide writes them: the model reads an artifact in load_context.
MODEL_CODE = """
import tracker.pyfunc
from tracker.models import set_model


class AddN(tracker.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["offset"]) as f:
            self.n = float(f.read()) * context.model_config.get("scale", 1)

    def predict(self, context, model_input, params=None):
        extra = (params or {}).get("extra", 0)
        return [value + self.n + extra for value in model_input]


set_model(AddN())
"""

# MLflow 3's form without a context argument.
MODEL_CODE_NO_CONTEXT = """
from tracker.models import set_model
from tracker.pyfunc import PythonModel


class Upper(PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]


set_model(Upper())
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_pyfunc_predict_equals_the_sklearn_models(fitted):
    model, x = fitted
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, name="clf", input_example=x[:2])
    loaded = tracker.pyfunc.load_model(info.model_uri)  # skops with default types: no trust needed
    assert loaded.predict(x).tolist() == model.predict(x).tolist()
    assert loaded.metadata.run_id == info.run_id
    assert loaded.metadata.get_input_schema() == infer_signature(x).inputs
    assert loaded.metadata.signature == info.signature
    assert loaded.metadata.load_input_example().tolist() == x[:2].tolist()
    assert isinstance(loaded.get_raw_model(), LogisticRegression)


def test_pyfunc_predict_fn_is_followed(fitted):
    model, x = fitted
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, name="clf", pyfunc_predict_fn="predict_proba")
    assert np.allclose(tracker.pyfunc.load_model(info.model_uri).predict(x), model.predict_proba(x))


def test_models_from_code_with_an_artifact(tmp_path):
    code = _write(tmp_path, "add_n.py", MODEL_CODE)
    (tmp_path / "offset.txt").write_text("5")
    with tracker.start_run() as run:
        info = tracker.pyfunc.log_model(name="adder", python_model=str(code),
                                        artifacts={"offset": str(tmp_path / "offset.txt")},
                                        model_config={"scale": 2}, input_example=[1.0, 2.0], params={"n": 5})
    (tmp_path / "offset.txt").write_text("999")  # the model keeps its own copy
    assert info.model_uri == f"runs:/{run.info.run_id}/adder" and info.flavor == "python_function"
    manifest = json.loads((Path(info.path) / "tracker-model.json").read_text())
    assert manifest["flavors"]["python_function"]["model_code_path"] == "add_n.py"
    assert manifest["params"] == {"n": "5"} and info.model_id.startswith("m-") and info.name == "adder"
    assert (Path(info.path) / "add_n.py").read_text() == code.read_text()
    assert manifest["signature"] == {"inputs": '[{"type": "double", "required": true}]',
                                     "outputs": '[{"type": "double", "required": true}]', "params": None}
    with pytest.raises(UntrustedModelError, match="trust_code=True") as err:
        tracker.pyfunc.load_model(info.model_uri)
    assert err.value.pickle
    loaded = tracker.pyfunc.load_model(info.model_uri, trust_code=True)
    assert loaded.predict([1.0, 2.0]) == [11.0, 12.0]
    assert loaded.predict([1.0], params={"extra": 1}) == [12.0]
    assert loaded.model_config == {"scale": 2}
    assert tracker.load_model(info.model_uri, trust_code=True).predict([0.0]) == [10.0]  # the short form dispatches


def test_predict_without_context_as_mlflow_3_allows(tmp_path):
    code = _write(tmp_path, "upper.py", MODEL_CODE_NO_CONTEXT)
    path = tracker.pyfunc.save_model(tmp_path / "m", python_model=code, input_example=["a"])
    assert tracker.pyfunc.load_model(path, trust_code=True).predict(["ab", "c"]) == ["AB", "C"]
    assert tracker.pyfunc.load_model(path, trust_pickle=True).predict(["x"]) == ["X"]  # the same decision


def test_loading_code_without_trust_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    code = _write(tmp_path, "evil.py", f"""
        from tracker.models import set_model
        from tracker.pyfunc import PythonModel
        import pathlib
        if __name__ != "__main__":
            pathlib.Path({str(marker)!r}).write_text("x")
        class M(PythonModel):
            def predict(self, model_input):
                return model_input
        set_model(M())
    """)
    path = tracker.pyfunc.save_model(tmp_path / "m", python_model=code)
    marker.unlink()  # saving ran the author's own file once, as MLflow does to check it
    assert needed_trust(path).pickle  # the register dialog offers the (unticked) trust box
    with pytest.raises(UntrustedModelError):
        tracker.load_model(path)
    with pytest.raises(UntrustedModelError):
        tracker.pyfunc.load_model(path)
    assert not marker.exists()


def test_a_python_model_instance_is_pickled_and_needs_trust(tmp_path):
    from tracker.pyfunc import PythonModel

    class Double(PythonModel):
        def predict(self, context, model_input, params=None):
            return [2 * v for v in model_input]

    with tracker.start_run():
        info = tracker.pyfunc.log_model(name="double", python_model=Double())
    with pytest.raises(UntrustedModelError, match="trust_pickle=True"):
        tracker.pyfunc.load_model(info.model_uri)
    assert tracker.pyfunc.load_model(info.model_uri, trust_pickle=True).predict([1, 2]) == [2, 4]


def test_register_and_load_models_uri_through_pyfunc(fitted, tmp_path):
    model, x = fitted
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, name="clf", registered_model_name="iris-clf")
    assert info.registered_model_version == 1
    assert tracker.pyfunc.load_model("models:/iris-clf/1").predict(x).tolist() == model.predict(x).tolist()

    code = _write(tmp_path, "upper.py", MODEL_CODE_NO_CONTEXT)
    with tracker.start_run():
        tracker.pyfunc.log_model(name="plain", python_model=str(code), registered_model_name="upper")
        tracker.pyfunc.log_model(name="trusted", python_model=str(code), registered_model_name="upper",
                                 trust_code=True)
    with pytest.raises(UntrustedModelError):  # registering alone trusts nothing
        tracker.pyfunc.load_model("models:/upper/1")
    assert tracker.pyfunc.load_model("models:/upper/2").predict(["a"]) == ["A"]  # the recorded decision
    versions = tracker.Client().search_model_versions("name='upper'")
    assert sorted((v.version, v.trust_pickle) for v in versions) == [(1, False), (2, True)]


def test_unsupported_arguments_are_refused_clearly(tmp_path):
    code = _write(tmp_path, "upper.py", MODEL_CODE_NO_CONTEXT)
    with pytest.raises(ValueError, match="loader_module is not supported"):
        tracker.pyfunc.save_model(tmp_path / "a", python_model=code, loader_module="x")
    with pytest.raises(ValueError, match="set_model"):
        tracker.pyfunc.save_model(tmp_path / "b", python_model=tmp_path / "missing.py")
    no_set = _write(tmp_path, "noset.py", "x = 1\n")
    with pytest.raises(ValueError, match="did not call"):
        tracker.pyfunc.save_model(tmp_path / "c", python_model=no_set, input_example=["a"])
    assert not any(p.name.startswith((".a", ".b", ".c", "a", "b", "c")) for p in tmp_path.iterdir() if p.is_dir())


def test_keywords_and_positions_are_mlflow_3s():
    import inspect
    assert list(inspect.signature(tracker.pyfunc.log_model).parameters)[:16] == [
        "artifact_path", "loader_module", "data_path", "code_paths", "infer_code_paths", "conda_env", "python_model",
        "artifacts", "registered_model_name", "signature", "input_example", "await_registration_for",
        "pip_requirements", "extra_pip_requirements", "metadata", "model_config"]
    assert list(inspect.signature(tracker.pyfunc.save_model).parameters)[:8] == [
        "path", "loader_module", "data_path", "code_paths", "infer_code_paths", "conda_env", "mlflow_model",
        "python_model"]
    assert list(inspect.signature(tracker.pyfunc.load_model).parameters)[:4] == [
        "model_uri", "suppress_warnings", "dst_path", "model_config"]


def test_named_columns_are_checked_and_ordered_by_the_signature():
    import pandas as pd
    from tracker.exceptions import MlflowException
    x = pd.DataFrame({"sepal": [0.0, 1.0, 0.2, 0.9], "petal": [1.0, 0.0, 0.9, 0.1]})
    model = LogisticRegression().fit(x, [0, 1, 0, 1])
    with tracker.start_run():
        info = tracker.sklearn.log_model(model, name="m", signature=infer_signature(x, model.predict(x)))
    loaded = tracker.pyfunc.load_model(info.model_uri)
    with pytest.warns(UserWarning, match="extra"):
        shuffled = loaded.predict(x[["petal", "sepal"]].assign(extra=1))
    assert shuffled.tolist() == model.predict(x).tolist()
    with pytest.raises(MlflowException, match=r"missing inputs \['sepal'\]") as err:
        loaded.predict(x[["petal"]])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
