"""The fluent API in MLflow's names and semantics: start_run's argument order, set_experiment,
tracking URIs, search_runs' DataFrame, the value at the highest step, synchronous=, errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracker
from tracker import MlflowClient
from tracker.entities import RunStatus, ViewType
from tracker.exceptions import MlflowException

SCRIPTS = Path(__file__).parent / "scripts"


def test_a_positional_run_id_resumes_that_run():
    with tracker.start_run(run_name="first") as run:
        tracker.log_metric("loss", 1.0)
    with tracker.start_run(run.info.run_id) as resumed:  # MLflow's first argument is run_id
        tracker.log_metric("loss", 0.5)
    assert resumed.info.run_id == run.info.run_id
    assert len(MlflowClient().search_runs()) == 1
    assert [m.value for m in MlflowClient().get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5]


def test_mlflow_run_id_env_is_honoured(monkeypatch):
    with tracker.start_run() as run:
        pass
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    with tracker.start_run() as again:
        tracker.set_tag("resumed", "yes")
    assert again.info.run_id == run.info.run_id
    assert tracker.get_run(run.info.run_id).data.tags["resumed"] == "yes"


def test_start_run_experiment_id_run_name_parent_and_system_tags():
    exp_id = tracker.create_experiment("exp")
    with tracker.start_run(None, exp_id, "parent", description="why") as parent:
        with tracker.start_run(run_name="child", nested=True) as child:
            pass
    info = tracker.get_run(parent.info.run_id).info
    assert (info.experiment_id, info.experiment, info.run_name) == (exp_id, "exp", "parent")
    tags = tracker.get_run(parent.info.run_id).data.tags
    assert tags["mlflow.runName"] == "parent" and tags["mlflow.note.content"] == "why"
    assert tags["mlflow.user"] == tags["tracker.user"] and tags["mlflow.source.name"] == tags["tracker.source.name"]
    if "tracker.source.git.commit" in tags:
        assert tags["mlflow.source.git.commit"] == tags["tracker.source.git.commit"]
    child_run = tracker.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.parent_run_id == parent.info.run_id
    assert child_run.info.experiment_id == "0"  # MLflow's rule: the active experiment, not the parent's
    assert tracker.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id


def test_parent_run_id_nests_a_run_under_another():
    with tracker.start_run() as parent:
        pass
    with tracker.start_run(parent_run_id=parent.info.run_id) as child:
        pass
    assert tracker.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    with tracker.start_run():
        with pytest.raises(MlflowException, match="does not match the specified parent_run_id"):
            tracker.start_run(parent_run_id=parent.info.run_id)
        with pytest.raises(MlflowException, match="is already active"):
            tracker.start_run()


def test_set_experiment_returns_the_experiment_by_name_or_id():
    exp = tracker.set_experiment("resnet")
    assert isinstance(exp, tracker.Experiment) and exp.name == "resnet" and exp.experiment_id.isdigit()
    assert tracker.set_experiment("resnet").experiment_id == exp.experiment_id  # the same one again
    with tracker.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    other = tracker.create_experiment("other")
    assert tracker.set_experiment(experiment_id=other).name == "other"
    with pytest.raises(MlflowException, match="Must specify exactly one"):
        tracker.set_experiment()
    with pytest.raises(MlflowException, match="Experiment with ID '999' does not exist.") as e:
        tracker.set_experiment(experiment_id="999")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    tracker.delete_experiment(other)
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment 'other'"):
        tracker.set_experiment("other")
    assert tracker.get_experiment_by_name("nope") is None


def test_tracking_uri_path_file_uri_env_and_refused_schemes(tmp_path, monkeypatch):
    tracker.set_tracking_uri(tmp_path / "a")
    assert tracker.get_tracking_uri() == str(tmp_path / "a") and tracker.get_tracking_dir() == tmp_path / "a"
    tracker.set_tracking_uri((tmp_path / "b").as_uri())
    with tracker.start_run() as run:
        pass
    assert (tmp_path / "b" / run.info.run_id / "run.json").is_file()
    tracker.set_tracking_uri(None)
    monkeypatch.delenv("TRACKER_DIR")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "c").as_uri())
    assert tracker.get_tracking_dir() == tmp_path / "c" and tracker.get_tracking_uri() == (tmp_path / "c").as_uri()
    monkeypatch.setenv("TRACKER_DIR", str(tmp_path / "d"))  # TRACKER_DIR comes first
    assert tracker.get_tracking_dir() == tmp_path / "d"
    for uri in ("http://localhost:5000", "https://x", "databricks", "databricks://profile", "sqlite:///mlflow.db"):
        with pytest.raises(MlflowException, match="local directory") as e:
            tracker.set_tracking_uri(uri)
        assert isinstance(e.value, ValueError)
    assert tracker.get_tracking_dir() == tmp_path / "d"  # a refused URI changes nothing
    monkeypatch.delenv("TRACKER_DIR")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://server:5000")
    with pytest.raises(MlflowException, match="local directory"):
        tracker.get_tracking_dir()


def test_search_runs_returns_mlflows_dataframe():
    exp = tracker.set_experiment("frame")
    with tracker.start_run() as a:
        tracker.log_param("depth", 3)
        tracker.log_metric("acc", 0.5)
        tracker.set_tag("team", "x")
    with tracker.start_run() as b:
        tracker.log_metric("loss", 2.0)
    df = tracker.search_runs(order_by=["start_time ASC"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    assert {"metrics.acc", "metrics.loss", "params.depth", "tags.team", "tags.mlflow.runName"} <= set(df.columns)
    assert df["run_id"].tolist() == [a.info.run_id, b.info.run_id]
    assert df["experiment_id"].tolist() == [exp.experiment_id] * 2 and df["status"].tolist() == ["FINISHED"] * 2
    assert isinstance(df["start_time"].dtype, pd.DatetimeTZDtype) and str(df["start_time"].dt.tz) == "UTC"
    assert df["start_time"][0] == pd.Timestamp(a.info.start_time, unit="ms", tz="UTC")
    assert df["metrics.acc"][0] == 0.5 and np.isnan(df["metrics.acc"][1])
    assert df["params.depth"][0] == "3" and pd.isna(df["params.depth"][1])  # (None or NaN, as pandas stores it)
    assert df["tags.team"][0] == "x" and pd.isna(df["tags.team"][1])
    runs = tracker.search_runs(experiment_names=["frame"], output_format="list", filter_string="metrics.acc > 0")
    assert [r.info.run_id for r in runs] == [a.info.run_id]
    assert tracker.get_run(a.info.run_id).info.run_id == a.info.run_id


def test_search_runs_defaults_to_the_active_experiment():
    with tracker.start_run(experiment="elsewhere"):
        pass
    tracker.set_experiment("here")
    with tracker.start_run() as here:
        pass
    assert tracker.search_runs()["run_id"].tolist() == [here.info.run_id]
    assert len(tracker.search_runs(search_all_experiments=True)) == 2
    assert tracker.search_runs(experiment_names=["missing"]).empty
    with pytest.raises(MlflowException, match="not both"):
        tracker.search_runs(experiment_ids=["0"], experiment_names=["here"])


def test_run_metrics_hold_the_value_at_the_highest_step():
    with tracker.start_run() as run:
        tracker.log_metric("acc", 0.9, step=10)
        tracker.log_metric("acc", 0.1, step=2)  # logged last, at a lower step
        tracker.log_metric("loss", 1.0, step=3, timestamp=2_000)
        tracker.log_metric("loss", 2.0, step=3, timestamp=1_000)  # same step, older timestamp
    stored = tracker.get_run(run.info.run_id)
    assert stored.data.metrics == {"acc": 0.9, "loss": 1.0}
    assert stored.to_dictionary()["data"]["metrics"] == {"acc": 0.9, "loss": 1.0}
    assert stored.to_dictionary()["info"]["experiment_id"] == "0"
    assert stored.data.summaries["acc"].last == 0.1  # the last logged value is still known
    assert MlflowClient(tracker.get_tracking_dir()).search_runs()[0].data.metrics == {"acc": 0.9, "loss": 1.0}


def test_the_highest_step_survives_later_flushes_and_resumes():
    with tracker.start_run() as run:
        tracker.log_metric("m", 5.0, step=100)
    with tracker.start_run(run.info.run_id):
        tracker.log_metric("m", 1.0, step=4)
    assert tracker.get_run(run.info.run_id).data.metrics == {"m": 5.0}
    with tracker.start_run(run.info.run_id):
        tracker.log_metric("m", 7.0, step=100)  # an equal step logged later wins
    assert tracker.get_run(run.info.run_id).data.metrics == {"m": 7.0}


def test_artifact_paths_are_normalised_and_empty_folders_kept(tmp_path):
    src = tmp_path / "src"
    (src / "empty" / "deeper").mkdir(parents=True)
    (src / "f.txt").write_text("x")
    with tracker.start_run() as run:
        tracker.log_text("inside", "dir/../file.txt")
        tracker.log_artifacts(src, "bundle")
        with pytest.raises(ValueError, match="escapes"):
            tracker.log_text("outside", "dir/../../file.txt")
    artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
    assert (artifacts / "file.txt").read_text() == "inside" and not (artifacts / "dir").exists()
    assert (artifacts / "bundle" / "empty" / "deeper").is_dir()
    assert not (artifacts.parent / "file.txt").exists()


def test_synchronous_is_accepted_and_entities_have_mlflows_helpers():
    with tracker.start_run() as run:
        assert tracker.log_metric("a", 1.0, 0, False) is not None  # (key, value, step, synchronous)
        tracker.log_metrics({"b": 2.0}, synchronous=False).wait()
        tracker.log_params({"p": 1}, synchronous=True)
        tracker.set_tag("t", 1, synchronous=False).wait()
    assert tracker.get_run(run.info.run_id).data.metrics == {"a": 1.0, "b": 2.0}
    assert RunStatus.to_string(3) == "FINISHED" and RunStatus.is_terminated("FAILED")
    assert ViewType.from_string("ALL") == ViewType.ALL and ViewType.to_string(ViewType.ACTIVE_ONLY) == "ACTIVE_ONLY"
    assert tracker.Param("k", "v").key == "k" and tracker.RunTag("k", "v").value == "v"
    assert tracker.Metric("m", 1.0, 123, 4).step == 4  # MLflow's order: key, value, timestamp, step


def test_exceptions_module_and_error_codes():
    from tracker.exceptions import MlflowException as FromModule
    assert FromModule is tracker.MlflowException
    e = MlflowException("boom", error_code="INVALID_PARAMETER_VALUE")
    assert (e.message, e.error_code, e.get_http_status_code()) == ("boom", "INVALID_PARAMETER_VALUE", 400)
    assert MlflowException("x").error_code == "INTERNAL_ERROR"
    with tracker.start_run():
        tracker.log_param("p", 1)
        with pytest.raises(MlflowException) as info:
            tracker.log_param("p", 2)
        assert isinstance(info.value, ValueError) and info.value.error_code == "INVALID_PARAMETER_VALUE"
        for bad in ("/abs", "a/../b", ".", "a//b"):
            with pytest.raises(MlflowException, match="Names may be treated as files"):
                tracker.log_metric(bad, 1.0)


def test_the_quickstart_script_runs_with_only_the_import_changed(tmp_path):
    runs = tmp_path / "mlruns"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "MLFLOW_"))}
    out = subprocess.run([sys.executable, str(SCRIPTS / "mlflow_tracking_quickstart.py"), runs.as_uri()],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    client = tracker.Client(runs)  # read back independently of the script
    run = client.get_run(seen["run_id"])
    exp = client.get_experiment_by_name("MLflow Quickstart")
    assert seen["experiment_id"] == exp.experiment_id == run.info.experiment_id == seen["run_experiment_id"]
    assert seen["status"] == run.info.status == "FINISHED" and seen["run_name"] == "sgd-quickstart"
    assert seen["params"] == run.data.params == {"loss": "log_loss", "alpha": "0.001", "random_state": "8888"}
    history = [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "test_accuracy")]
    assert seen["history"] == history and [step for step, _ in history] == [0, 1, 2, 3, 4]
    assert seen["metrics"] == run.data.metrics and run.data.metrics["test_accuracy"] == history[-1][1]
    assert seen["df_run_ids"] == [run.info.run_id] and seen["df_test_accuracy"] == [history[-1][1]]
    assert seen["df_alpha"] == ["0.001"] and seen["df_tag"] == ["Basic SGD model for iris data"]
    assert seen["columns"][:6] == ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    assert "notes.txt" in seen["artifacts"]
    assert run.data.tags["Training Info"] == "Basic SGD model for iris data"


def test_searching_records_no_experiment_and_a_resume_checks_the_experiment(tmp_path):
    tracker.set_tracking_uri(tmp_path / "fresh")
    (tmp_path / "fresh").mkdir()
    assert tracker.search_runs().empty and tracker.search_runs(output_format="list") == []
    assert not (tmp_path / "fresh" / "experiments").exists()  # a read creates no experiment
    with tracker.start_run() as run:
        pass
    other = tracker.create_experiment("other")
    with pytest.raises(MlflowException, match="belongs to experiment 0"):
        tracker.start_run(run.info.run_id, experiment_id=other)
    assert tracker.get_run(run.info.run_id).info.end_time == run.info.end_time  # the run was left as it was
