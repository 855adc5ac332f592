"""MLflow example scripts, written as MLflow's docs and tutorials use the API with only the import
changed (tests/scripts/mlflow_examples/), run as a user runs them and checked through tracker's
own API: a script that exits 0 but records nothing, or that imports the real mlflow, fails."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from tracker import MlflowClient
from tracker.models import MANIFEST

EXAMPLES = Path(__file__).parent / "scripts" / "mlflow_examples"
# runs the script as `python script.py ARGS` would, then proves MLflow itself was never imported
RUNNER = ("import runpy, sys; path = sys.argv[1]; sys.argv = sys.argv[1:]; "
          "runpy.run_path(path, run_name='__main__'); "
          "assert 'mlflow' not in sys.modules, 'the script imported the real mlflow'")


def run_example(name: str, tmp_path: Path, runs: Path, *args: str) -> str:
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKER_", "MLFLOW_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env["MLFLOW_TRACKING_URI"] = runs.as_uri()  # what an MLflow user sets; TRACKER_DIR is left unset
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(EXAMPLES / f"{name}.py"), *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout


def artifact_paths(run_id: str, path: str | None = None) -> set[str]:
    out = set()
    for item in MlflowClient().list_artifacts(run_id, path):
        out |= artifact_paths(run_id, item.path) if item.is_dir else {item.path}
    return out


def only_run(**search) -> tracker.Run:
    runs = tracker.search_runs(output_format="list", search_all_experiments=True, **search)
    assert len(runs) == 1, runs
    return runs[0]


def all_runs() -> list[tracker.Run]:
    return tracker.search_runs(output_format="list", search_all_experiments=True)


def test_quickstart_logs_registers_and_reloads_the_model(tmp_path, tracking_dir):
    run_example("quickstart", tmp_path, tracking_dir)
    experiment = tracker.get_experiment_by_name("MLflow Quickstart")
    run = only_run(experiment_ids=[experiment.experiment_id])
    assert run.data.params == {"solver": "lbfgs", "max_iter": "1000", "random_state": "8888"}
    assert 0.9 <= run.data.metrics["accuracy"] <= 1.0
    assert run.data.tags["Training Info"] == "Basic LR model for iris data"
    assert run.info.status == "FINISHED"
    assert {f"iris_model/{MANIFEST}", "iris_model/model.skops"} <= artifact_paths(run.info.run_id)
    version = MlflowClient().get_model_version("tracking-quickstart", 1)
    assert version.run_id == run.info.run_id
    model = tracker.pyfunc.load_model("models:/tracking-quickstart/1")
    assert model.metadata.get_input_schema() is not None and model.metadata.get_output_schema() is not None


def test_sklearn_logistic_regression_logs_the_score_and_model_in_the_run_it_prints(tmp_path, tracking_dir):
    out = run_example("sklearn_logistic_regression", tmp_path, tracking_dir)
    run = only_run()
    assert f"Model saved in run {run.info.run_id}" in out
    assert run.data.metrics["score"] == pytest.approx(4 / 6)
    assert run.info.status == "FINISHED"
    assert "model/" + MANIFEST in artifact_paths(run.info.run_id)


def test_elasticnet_wine_takes_alpha_and_l1_ratio_from_the_command_line(tmp_path, tracking_dir):
    run_example("elasticnet_wine", tmp_path, tracking_dir, "0.3", "0.7")
    run = only_run()
    assert run.data.params == {"alpha": "0.3", "l1_ratio": "0.7"}
    assert set(run.data.metrics) == {"rmse", "mae", "r2"} and run.data.metrics["rmse"] > 0
    model = tracker.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert (model.alpha, model.l1_ratio) == (0.3, 0.7)


def test_elasticnet_diabetes_logs_its_plot_as_an_artifact_and_a_figure(tmp_path, tracking_dir):
    out = run_example("elasticnet_diabetes", tmp_path, tracking_dir)
    run = only_run()
    assert run.info.run_id in out
    assert run.data.params == {"alpha": "0.05", "l1_ratio": "0.05"}
    assert {"rmse", "mae", "r2"} <= set(run.data.metrics)
    paths = artifact_paths(run.info.run_id)
    assert {"ElasticNet-paths.png", "figures/ElasticNet-paths.png", "model/" + MANIFEST} <= paths
    for name in ("ElasticNet-paths.png", "figures/ElasticNet-paths.png"):
        local = tracker.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=name)
        assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sklearn_autolog_logs_params_training_metrics_and_model(tmp_path, tracking_dir):
    out = run_example("sklearn_autolog", tmp_path, tracking_dir)
    run = only_run()
    assert f"Logged data and model in run: {run.info.run_id}" in out
    assert run.data.params["fit_intercept"] == "True"
    assert run.data.metrics["training_r2_score"] == pytest.approx(1.0)
    assert run.data.tags["estimator_name"] == "LinearRegression"  # mlflow.autologging: only on runs autolog starts
    assert "model/" + MANIFEST in artifact_paths(run.info.run_id)


def test_autolog_grid_search_makes_a_parent_and_a_child_run_per_candidate(tmp_path, tracking_dir):
    run_example("autolog_grid_search", tmp_path, tracking_dir)
    runs = all_runs()
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == 4
    assert {(c.data.params["kernel"], c.data.params["C"]) for c in children} == {
        ("linear", "1"), ("linear", "10"), ("rbf", "1"), ("rbf", "10")}
    assert all("mean_test_score" in c.data.metrics for c in children)
    assert "best_C" in parents[0].data.params


def test_model_registry_versions_stages_and_aliases(tmp_path, tracking_dir):
    run_example("model_registry", tmp_path, tracking_dir)
    client = MlflowClient()
    name = "sk-learn-random-forest-reg-model"
    run = only_run()
    assert client.get_registered_model(name).description == "random forest regressor"
    versions = {int(v.version): v for v in client.search_model_versions(f"name = '{name}'")}
    assert set(versions) == {1, 2} and {v.run_id for v in versions.values()} == {run.info.run_id}
    assert versions[1].current_stage == "Production" and versions[1].description == "first version"
    assert client.get_model_version_by_alias(name, "champion").version in (2, "2")


def test_runs_uri_loading_logs_a_model_with_its_input_example(tmp_path, tracking_dir):
    run_example("runs_uri_loading", tmp_path, tracking_dir)
    run = only_run()
    assert {"model/" + MANIFEST, "model/model.skops"} <= artifact_paths(run.info.run_id)
    assert any(p.startswith("model/input_example") for p in artifact_paths(run.info.run_id))


def test_pyfunc_custom_model_in_both_forms(tmp_path, tracking_dir):
    run_example("pyfunc_custom_model", tmp_path, tracking_dir)
    run = only_run()
    paths = artifact_paths(run.info.run_id)
    assert {f"add_n_code/{MANIFEST}", f"add_n_model/{MANIFEST}"} <= paths
    with pytest.raises(tracker.UntrustedModelError):  # the folder's code runs only when the caller says so
        tracker.pyfunc.load_model(f"runs:/{run.info.run_id}/add_n_code")


def test_system_metrics_are_sampled_during_the_run(tmp_path, tracking_dir):
    run_example("system_metrics", tmp_path, tracking_dir)
    run = only_run()
    history = MlflowClient().get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")
    assert len(history) >= 1
    assert all(0 <= m.value <= 100 * os.cpu_count() for m in history)
    # the script keeps a core busy the whole run: every reading, the first too, covers that work
    assert history[0].value > 0
    assert "system/system_memory_usage_megabytes" in run.data.metrics


def test_artifacts_example_logs_every_kind_of_artifact(tmp_path, tracking_dir):
    run_example("artifacts", tmp_path, tracking_dir)
    run = only_run()
    paths = artifact_paths(run.info.run_id)
    assert {"features/features.txt", "states/x.csv", "states/sub/notes.md", "file1.txt", "data.json",
            "dir/data.yml", "image.png", "qabot_eval_results.json"} <= paths
    table = tracker.load_table("qabot_eval_results.json", run_ids=[run.info.run_id])
    assert list(table["inputs"]) == ["What is MLflow?", "What is Databricks?"]


def test_nested_runs_are_children_of_the_parent_with_their_tags(tmp_path, tracking_dir):
    run_example("nested_runs", tmp_path, tracking_dir)
    experiment = tracker.get_experiment_by_name("nested-runs")
    runs = tracker.search_runs([experiment.experiment_id], output_format="list")
    parent = next(r for r in runs if r.data.tags.get("mlflow.runName") == "tuning")
    assert parent.data.tags["team"] == "search"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(c.data.params["lr"] for c in children) == ["0.001", "0.01", "0.1"]
    assert all(c.data.tags["kind"] == "trial" for c in children)


def test_client_tracking_log_batch_history_and_experiment_lifecycle(tmp_path, tracking_dir):
    run_example("client_tracking", tmp_path, tracking_dir)
    client = MlflowClient()
    experiment = client.get_experiment_by_name("client-batch")
    assert experiment.lifecycle_stage == "active" and experiment.tags["project"] == "examples"
    run = only_run(experiment_ids=[experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"p": "p", "q": "7"}
    assert run.data.tags["t"] == "t" and run.data.tags["stage"] == "demo"
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "m")] == [
        (0, 3.0), (1, 2.0), (2, 1.5), (3, 1.0)]


def test_log_input_records_the_dataset_on_the_run(tmp_path, tracking_dir):
    run_example("log_input", tmp_path, tracking_dir)
    run = only_run()
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "wine" and dataset_input.dataset.source_type == "http"
    assert {(t.key, t.value) for t in dataset_input.tags} == {("mlflow.data.context", "training")}
    assert run.data.params == {"rows": "178"}



def test_experiments_tutorial_creates_a_tagged_experiment_and_a_named_run_in_it(tmp_path, tracking_dir):
    out = run_example("experiments_tutorial", tmp_path, tracking_dir)
    experiment = MlflowClient().get_experiment_by_name("Apple_Models")
    assert experiment.tags["project_name"] == "grocery-forecasting"
    assert experiment.tags["mlflow.note.content"].startswith("This is the grocery forecasting project")
    run = only_run(experiment_ids=[experiment.experiment_id])
    assert f"{run.info.run_id} {experiment.experiment_id}" in out
    assert run.info.run_name == "apples_rf_test" and run.data.params["n_estimators"] == "10"
    assert {"mae", "mse", "rmse", "r2"} == set(run.data.metrics)
    assert f"rf_apples/{MANIFEST}" in artifact_paths(run.info.run_id)
