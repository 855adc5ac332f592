"""scikit-learn autologging, checked against what MLflow's ``mlflow.sklearn.autolog`` documents."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import tracker
from tracker import store
from tracker.autologging import sklearn as sk_autolog

SCRIPTS = Path(__file__).parent / "scripts"
CLASSIFIER_METRICS = {"training_score", "training_accuracy_score", "training_precision_score",
                      "training_recall_score", "training_f1_score", "training_log_loss", "training_roc_auc"}
REGRESSOR_METRICS = {"training_score", "training_mean_squared_error", "training_root_mean_squared_error",
                     "training_mean_absolute_error", "training_r2_score"}


@pytest.fixture
def autolog():
    tracker.sklearn.autolog()
    yield
    tracker.sklearn.autolog(disable=True)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def all_runs(root):
    return store.read_all_runs(root)[0]


def test_a_fit_with_no_active_run_logs_params_metrics_tags_and_model_in_a_run_of_its_own(
        autolog, iris, tracking_dir):
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)

    run = tracker.last_active_run()
    assert tracker.active_run() is None and run.info.status == "FINISHED"
    assert run.data.params == {k: str(v) for k, v in model.get_params(deep=True).items()}
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(accuracy_score(y, model.predict(X)))
    assert run.data.metrics["training_f1_score"] == pytest.approx(f1_score(y, model.predict(X), average="weighted"))
    assert run.data.metrics["training_score"] == pytest.approx(model.score(X, y))
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    names = {f.path for f in tracker.Client().list_artifacts(run.info.run_id)}
    assert {"model", "estimator.html"} <= names
    loaded = tracker.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    model_dir = Path(store.run_dir(tracking_dir, run.info.run_id)) / "artifacts" / "model"
    assert tracker.models.read_manifest(model_dir)["signature"]["inputs"]  # log_model_signatures=True
    assert not (model_dir / "input_example.json").exists()  # log_input_examples=False
    [dataset_input] = tracker.data.get_inputs(run.info.run_id)
    assert [(t.key, t.value) for t in dataset_input.tags] == [("mlflow.data.context", "train")]
    assert dataset_input.dataset["digest"] == tracker.data.from_numpy(X, targets=y).digest
    assert len(all_runs(tracking_dir)) == 1


def test_a_regressor_gets_mlflows_regression_metrics(autolog):
    X = np.array([[1, 1], [1, 2], [2, 2], [2, 3], [3, 5]], dtype=float)
    y = np.array([6.0, 8.2, 9.1, 11.0, 16.5])
    model = LinearRegression().fit(X, y)
    metrics = tracker.last_active_run().data.metrics
    assert set(metrics) == REGRESSOR_METRICS
    assert metrics["training_mean_squared_error"] == pytest.approx(mean_squared_error(y, model.predict(X)))
    assert metrics["training_root_mean_squared_error"] == pytest.approx(
        math.sqrt(metrics["training_mean_squared_error"]))


def test_a_fit_inside_a_run_logs_into_it_and_leaves_it_open(autolog, iris, tracking_dir):
    X, y = iris
    with tracker.start_run() as run:
        LogisticRegression(max_iter=300).fit(X, y)
        assert tracker.active_run().info.run_id == run.info.run_id
    [logged] = all_runs(tracking_dir)
    assert logged.info.run_id == run.info.run_id and set(logged.data.metrics) == CLASSIFIER_METRICS


def test_a_pipeline_logs_once_for_its_outer_fit_with_its_steps_params(autolog, iris, tracking_dir):
    X, y = iris
    Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())]).fit(X, y)
    [run] = all_runs(tracking_dir)
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["lr__C"] == "1.0" and "scale__with_mean" in run.data.params
    assert set(run.data.metrics) == CLASSIFIER_METRICS


def test_fit_predict_is_autologged_once(autolog, iris, tracking_dir):
    from sklearn.cluster import KMeans
    KMeans(n_clusters=3, n_init=1, random_state=0).fit_predict(iris[0])
    [run] = all_runs(tracking_dir)
    assert run.data.tags["estimator_name"] == "KMeans" and run.data.params["n_clusters"] == "3"


def test_a_grid_search_logs_best_params_cv_results_and_the_best_candidates_as_child_runs(iris, tracking_dir):
    tracker.sklearn.autolog(max_tuning_runs=2)
    try:
        X, y = iris
        search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.001, 0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    finally:
        tracker.sklearn.autolog(disable=True)
    parent = tracker.last_active_run()
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert "estimator__C" not in parent.data.params  # the seed's untuned params are not the search's
    names = {f.path for f in tracker.Client().list_artifacts(parent.info.run_id)}
    assert {"model", "best_estimator", "cv_results.csv"} <= names

    children = [r for r in all_runs(tracking_dir) if r.info.parent_run_id == parent.info.run_id]
    results = search.cv_results_
    best_two = {str(results["params"][i]["C"]) for i in np.argsort(results["rank_test_score"])[:2]}
    assert {c.data.params["C"] for c in children} == best_two
    for child in children:
        i = [str(p["C"]) for p in results["params"]].index(child.data.params["C"])
        assert child.data.metrics["mean_test_score"] == pytest.approx(results["mean_test_score"][i])
        assert child.data.metrics["rank_test_score"] == results["rank_test_score"][i]
        assert not any(key.startswith(("split", "param")) for key in child.data.metrics)
        assert child.data.params["max_iter"] == "300" and child.info.status == "FINISHED"
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert len(all_runs(tracking_dir)) == 3  # the clones the search fitted logged nothing


def test_disable_restores_every_original_method_and_stops_logging(iris, tracking_dir):
    inherits_fit = next(cls for cls in sk_autolog.estimators_to_patch() if "fit" not in cls.__dict__)
    import sklearn.metrics
    before = {cls: dict(cls.__dict__) for cls in (LogisticRegression, Pipeline, inherits_fit)}
    accuracy_score = sklearn.metrics.accuracy_score
    tracker.autolog()
    assert sklearn.metrics.accuracy_score is not accuracy_score
    assert LogisticRegression.__dict__["fit"] is not before[LogisticRegression]["fit"]
    assert "fit" in inherits_fit.__dict__
    tracker.autolog(disable=True)
    for cls, attributes in before.items():
        for name in ("fit", "fit_transform", "fit_predict", "predict", "predict_proba", "score", "transform"):
            assert cls.__dict__.get(name) is attributes.get(name), (cls, name)
    assert sklearn.metrics.accuracy_score is accuracy_score
    X, y = iris
    LogisticRegression(max_iter=300).fit(X, y)
    assert not hasattr(Pipeline([("lr", LogisticRegression())]), "fit_transform")  # its availability check kept
    assert all_runs(tracking_dir) == []


def test_a_failing_fit_raises_and_ends_the_run_it_started_as_failed(autolog, tracking_dir):
    with pytest.raises(ValueError):
        LogisticRegression().fit(np.array([[np.nan], [1.0]]), np.array([0, 1]))
    [run] = all_runs(tracking_dir)
    assert run.info.status == "FAILED" and tracker.active_run() is None


def test_a_logging_failure_is_a_warning_and_never_fails_the_fit(autolog, iris, caplog):
    X, y = iris
    with tracker.start_run():
        tracker.log_param("C", "999")  # autologging's C=1.0 cannot change it
        model = LogisticRegression(max_iter=300).fit(X, y)
    assert hasattr(model, "coef_")
    assert any("tracker autolog" in r.getMessage() for r in caplog.records)


def test_bad_extra_tags_are_a_warning_and_the_model_is_still_trained(iris, caplog, tracking_dir):
    tracker.sklearn.autolog(extra_tags={"note": "x" * 9000})  # over the tag limit: start_run refuses it
    try:
        model = LogisticRegression(max_iter=300).fit(*iris)
    finally:
        tracker.sklearn.autolog(disable=True)
    assert hasattr(model, "coef_") and all_runs(tracking_dir) == []
    assert any("starting a run" in r.getMessage() for r in caplog.records)


def test_post_training_metrics_are_logged_to_the_fit_run_under_mlflows_keys(iris, tracking_dir):
    from sklearn.model_selection import train_test_split
    X_train, X_test, y_train, y_test = train_test_split(*iris, random_state=0)
    tracker.sklearn.autolog()
    try:
        import sklearn.metrics
        model = LogisticRegression(max_iter=300).fit(X_train, y_train)
        run_id = tracker.last_active_run().info.run_id
        test_score = model.score(X_test, y_test)
        pred_test = model.predict(X_test)
        accuracy = sklearn.metrics.accuracy_score(y_test, pred_test)
        correct = sklearn.metrics.accuracy_score(y_test, pred_test, normalize=False)
        sklearn.metrics.accuracy_score(y_test, pred_test.copy())  # a copy is not the prediction
    finally:
        tracker.sklearn.autolog(disable=True)
    sklearn.metrics.accuracy_score(y_test, pred_test)  # after disable: nothing more is logged
    run = store.read_run(store.run_dir(tracking_dir, run_id))
    post = {k: v for k, v in run.data.metrics.items() if not k.startswith("training_")}
    assert post == {"LogisticRegression_score_X_test": pytest.approx(test_score),
                    "accuracy_score_X_test": pytest.approx(accuracy), "accuracy_score-2_X_test": correct}
    info = json.loads((Path(run.info.artifact_uri.removeprefix("file://")) / "metric_info.json").read_text())
    assert info["accuracy_score-2_X_test"] == "accuracy_score(y_true=y_test, y_pred=pred_test, normalize=False)"
    assert info["LogisticRegression_score_X_test"] == "LogisticRegression.score(X=X_test, y=y_test)"
    assert run.info.status == "FINISHED"


def test_exclusive_leaves_user_runs_alone(iris):
    tracker.sklearn.autolog(exclusive=True)
    try:
        with tracker.start_run() as run:
            LogisticRegression(max_iter=300).fit(*iris)
    finally:
        tracker.sklearn.autolog(disable=True)
    assert run.data.params == {} and run.data.metrics == {}


def test_the_autolog_tutorial_script_runs_with_only_its_import_changed(tmp_path):
    env = {**os.environ, "TRACKER_DIR": str(tmp_path / "script-runs")}
    out = subprocess.run([sys.executable, str(SCRIPTS / "mlflow_sklearn_autolog_tutorial.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    forest_id, search_id = out.stdout.split()
    runs = {r.info.run_id: r for r in all_runs(tmp_path / "script-runs")}
    forest, search = runs[forest_id], runs[search_id]
    assert forest.info.status == "FINISHED" and forest.data.params["n_estimators"] == "10"
    assert set(forest.data.metrics) == REGRESSOR_METRICS
    assert search.data.params["best_kernel"] in ("linear", "rbf")
    assert len([r for r in runs.values() if r.info.parent_run_id == search_id]) == 4
    assert len(runs) == 6


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CLASSIFIER_PLOTS = {"training_confusion_matrix.png", "training_roc_curve.png", "training_precision_recall_curve.png"}


def plot_files(tracking_dir, run_id):
    artifacts = Path(store.run_dir(tracking_dir, run_id)) / "artifacts"
    return {p.name: p.read_bytes() for p in artifacts.glob("*.png")}


def test_a_binary_classifier_logs_mlflows_three_plots_without_touching_matplotlibs_global_state(
        autolog, iris, tracking_dir):
    import matplotlib
    import matplotlib.pyplot as plt
    X, y = iris
    backend, rc, figures = matplotlib.rcParams._get_backend_or_none(), matplotlib.rcParams.copy(), plt.get_fignums()
    LogisticRegression(max_iter=300).fit(X[y < 2], y[y < 2])

    plots = plot_files(tracking_dir, tracker.last_active_run().info.run_id)
    assert set(plots) == CLASSIFIER_PLOTS
    for content in plots.values():
        assert content.startswith(PNG_SIGNATURE) and len(content) > 10_000  # a drawn figure, not an empty canvas
    assert matplotlib.rcParams._get_backend_or_none() == backend  # no matplotlib.use, no backend resolved
    assert matplotlib.rcParams.copy() == rc and plt.get_fignums() == figures


def test_a_multiclass_classifier_logs_only_the_confusion_matrix(autolog, iris, tracking_dir):
    LogisticRegression(max_iter=300).fit(*iris)
    assert set(plot_files(tracking_dir, tracker.last_active_run().info.run_id)) == {"training_confusion_matrix.png"}


def test_a_regressor_logs_no_plots(autolog, tracking_dir):
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    LinearRegression().fit(X, 2 * X[:, 0] + 1)
    assert plot_files(tracking_dir, tracker.last_active_run().info.run_id) == {}


def test_curves_that_cannot_be_drawn_are_warnings_and_the_confusion_matrix_is_still_logged(
        autolog, iris, caplog, tracking_dir):
    from sklearn.multiclass import OutputCodeClassifier  # neither predict_proba nor decision_function
    X, y = iris
    model = OutputCodeClassifier(LogisticRegression(max_iter=300), random_state=0).fit(X[y < 2], y[y < 2])
    assert hasattr(model, "estimators_")
    # sklearn's curve displays need scores: MLflow warns and keeps the plots it could draw.
    assert set(plot_files(tracking_dir, tracker.last_active_run().info.run_id)) == {"training_confusion_matrix.png"}
    messages = [r.getMessage() for r in caplog.records]
    for curve in ("training_roc_curve.png", "training_precision_recall_curve.png"):
        assert any(curve in m and "tracker autolog" in m for m in messages)


def test_without_matplotlib_a_classifier_still_trains_and_logs_everything_but_the_plots(tmp_path):
    script = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # any import of matplotlib now raises ImportError\n"
        "import numpy as np, tracker\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "tracker.sklearn.autolog()\n"
        "X, y = load_iris(return_X_y=True)\n"
        "model = LogisticRegression(max_iter=300).fit(X[y < 2], y[y < 2])\n"
        "assert hasattr(model, 'coef_')\n"
        "print(tracker.last_active_run().info.run_id)\n")
    env = {**os.environ, "TRACKER_DIR": str(tmp_path / "runs")}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.split()[-1]
    [run] = all_runs(tmp_path / "runs")
    assert run.info.run_id == run_id and run.info.status == "FINISHED"
    assert set(run.data.metrics) == CLASSIFIER_METRICS
    assert plot_files(tmp_path / "runs", run_id) == {}
    assert (Path(store.run_dir(tmp_path / "runs", run_id)) / "artifacts" / "model").is_dir()
    assert "matplotlib is not installed" in out.stderr  # a warning, as MLflow's
