"""The MLflow store reader against stores MLflow made: experiment ids, the latest metric value by
MLflow's rule (highest step, then latest timestamp, then largest value) for out-of-order steps,
MLflow 3 logged models, and the read-only registry view, each compared with what MlflowClient
reports for the same store."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.mlflow_store import open_store
from tracker.mlflow_store.client_view import ReadOnlyRegistry

GIT_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"

SCRIPT = r'''
import json, os, sys
kind, folder = sys.argv[1], sys.argv[2]
import mlflow, numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression
uri = f"file://{folder}/mlruns" if kind == "file" else f"sqlite:///{folder}/mlflow.db"
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
client = MlflowClient()
exp_id = client.create_experiment("steps", artifact_location=None if kind == "file" else f"{folder}/artifacts")
other = client.create_experiment("other", artifact_location=None if kind == "file" else f"{folder}/other")
mlflow.set_experiment(experiment_id=exp_id)
with mlflow.start_run(run_name="out-of-order") as r1:
    mlflow.set_tag("mlflow.source.git.commit", sys.argv[3])
    mlflow.log_metric("loss", 0.5, step=5)
    mlflow.log_metric("loss", 0.9, step=2)           # logged last, lower step: not the latest
    client.log_metric(r1.info.run_id, "tie_ts", 1.0, timestamp=2000, step=3)
    client.log_metric(r1.info.run_id, "tie_ts", 7.0, timestamp=1000, step=3)  # same step, earlier
    client.log_metric(r1.info.run_id, "tie_value", 4.0, timestamp=1000, step=1)
    client.log_metric(r1.info.run_id, "tie_value", 9.0, timestamp=1000, step=1)
    client.log_metric(r1.info.run_id, "tie_value", 6.0, timestamp=1000, step=1)
    client.log_metric(r1.info.run_id, "tie_value", 2.0, timestamp=1000, step=0)
    info = mlflow.sklearn.log_model(LinearRegression().fit(np.eye(3), [1, 2, 3]), name="model",
                                    registered_model_name="regressor")
mlflow.set_experiment(experiment_id=other)
with mlflow.start_run(run_name="second") as r2:
    mlflow.log_metric("loss", 3.0, step=1)
    mlflow.log_metric("loss", 1.0, step=0)
client.create_model_version("regressor", f"runs:/{r2.info.run_id}/model", run_id=r2.info.run_id)
client.create_model_version("regressor", f"runs:/{r1.info.run_id}/model", run_id=r1.info.run_id)
client.transition_model_version_stage("regressor", "2", "Production")
client.transition_model_version_stage("regressor", "3", "Staging")
client.set_registered_model_alias("regressor", "champion", "1")
client.set_registered_model_alias("regressor", "backup", "1")
runs = {}
for r in (r1, r2):
    got = client.get_run(r.info.run_id)
    runs[r.info.run_id] = {"experiment_id": got.info.experiment_id, "metrics": got.data.metrics}
experiments = {e.experiment_id: e.name for e in client.search_experiments()}
versions = [client.get_model_version("regressor", v.version)  # search leaves aliases out on SQLite
            for v in client.search_model_versions("name = 'regressor'")]
versions = [{"version": int(v.version), "stage": v.current_stage, "run_id": v.run_id,
             "aliases": sorted(v.aliases)} for v in versions]
model = client.get_registered_model("regressor")
import tempfile
location = client.get_logged_model(info.model_id).artifact_location
got = mlflow.artifacts.download_artifacts(location, dst_path=tempfile.mkdtemp())
model_files = {os.path.relpath(os.path.join(d, n), got).replace(os.sep, "/"):
               open(os.path.join(d, n), "rb").read().hex()
               for d, _, names in os.walk(got) for n in names}
with open(os.path.join(folder, "expected.json"), "w") as f:
    json.dump({"runs": runs, "experiments": experiments, "versions": versions,
               "aliases": dict(model.aliases), "model_id": info.model_id,
               "logged_run": r1.info.run_id, "model_files": model_files}, f)
'''

_STORES: dict[str, tuple[Path, dict]] = {}


def made_store(kind: str, tmp_path_factory) -> tuple[Path, dict]:
    """A store of ``kind`` made by MLflow in a child process, and what MlflowClient read back."""
    pytest.importorskip("mlflow")
    pytest.importorskip("sklearn")
    if kind not in _STORES:
        folder = tmp_path_factory.mktemp(f"mlflow-latest-{kind}")
        env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet",
               "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
        done = subprocess.run([sys.executable, "-c", SCRIPT, kind, str(folder), GIT_COMMIT], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        expected = json.loads((folder / "expected.json").read_text())
        _STORES[kind] = (folder / "mlruns" if kind == "file" else folder / "mlflow.db"), expected
    return _STORES[kind]


@pytest.fixture(params=["file", "sqlite"])
def made(request, tmp_path_factory):
    return made_store(request.param, tmp_path_factory)


def test_latest_metric_and_experiment_ids_read_as_mlflow_reports_them(made):
    path, expected = made
    reader = open_store(path)
    runs, bad = reader.scan()
    assert bad == []
    by_id = {r.info.run_id: r for r in runs}
    assert set(by_id) == set(expected["runs"])
    for run_id, want in expected["runs"].items():
        run = by_id[run_id]
        assert dict(run.data.metrics) == want["metrics"]
        assert run.info.experiment_id == want["experiment_id"]
        assert run.info.experiment == expected["experiments"][want["experiment_id"]]
    for run_id, want in expected["runs"].items():
        run = reader.get_run(run_id)
        assert dict(run.data.metrics) == want["metrics"]
        assert run.info.experiment_id == want["experiment_id"]
        assert {k: s.last for k, s in run.data.summaries.items()} == want["metrics"]
    first = expected["runs"][expected["logged_run"]]["metrics"]
    assert first == {"loss": 0.5, "tie_ts": 1.0, "tie_value": 9.0}  # the store really holds the cases
    assert {e.experiment_id: e.name for e in reader.search_experiments()} == expected["experiments"]


def test_read_only_registry_matches_mlflow_client(made):
    path, expected = made
    registry = ReadOnlyRegistry(open_store(path))
    assert [m.name for m in registry.search_registered_models()] == ["regressor"]
    versions = registry.list_model_versions("regressor")
    got = sorted(({"version": v.version, "stage": v.current_stage, "run_id": v.run_id, "aliases": sorted(v.aliases)}
                  for v in versions), key=lambda v: v["version"])
    assert got == sorted(expected["versions"], key=lambda v: v["version"])
    assert {k: int(v) for k, v in expected["aliases"].items()} == \
        registry.search_registered_models()[0].aliases
    assert registry.get_model_version("regressor", 2).current_stage == "Production"
    with pytest.raises(LookupError):
        registry.get_model_version("regressor", 9)
    with pytest.raises(LookupError):
        registry.list_model_versions("missing")
    lineage = registry.get_model_lineage("regressor", 1)
    assert lineage.run_id == expected["logged_run"] and lineage.run_exists
    assert lineage.git_commit == GIT_COMMIT
    assert lineage.run_name == "out-of-order"
    assert lineage.metrics == expected["runs"][expected["logged_run"]]["metrics"]
    assert registry.get_model_lineage("regressor", 2).git_commit is None  # the second run recorded none
    assert registry.get_model_history("regressor") == []


@pytest.mark.parametrize("call", [
    ("transition_model_version_stage", ("regressor", 1, "Production")),
    ("set_registered_model_alias", ("regressor", "x", 1)),
    ("delete_registered_model_alias", ("regressor", "champion")),
    ("register_model", ("runs:/abc/model", "regressor")),
    ("delete_model_version", ("regressor", 1)),
    ("delete_registered_model", ("regressor",)),
    ("set_model_version_tag", ("regressor", 1, "k", "v")),
    ("update_model_version", ("regressor", 1, "text")),
])
def test_read_only_registry_refuses_every_write(made, call):
    path, expected = made
    registry = ReadOnlyRegistry(open_store(path))
    before = registry.list_model_versions("regressor")
    name, args = call
    with pytest.raises(PermissionError, match="read-only"):
        getattr(registry, name)(*args)
    assert registry.list_model_versions("regressor") == before
