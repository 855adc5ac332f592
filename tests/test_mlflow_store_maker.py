"""Real MLflow stores for the MLflow tests, made by the ``mlflow`` package itself (no tests here).

``make_store(kind, folder)`` runs MLflow in a child process (so this test process never imports
it or shares its global state) to log runs into a file store or a SQLite database, and returns
what MLflow's own client reads back (``expected.json``): the reference the reader must match.
Stores are made once per test session and copied by tests that damage them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"

SCRIPT = r'''
import json, math, os, sys
kind, folder = sys.argv[1], sys.argv[2]
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
uri = f"file://{folder}/mlruns" if kind == "file" else f"sqlite:///{folder}/mlflow.db"
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
art = None if kind == "file" else f"{folder}/artifacts"
client = MlflowClient()
logged = {}  # run name -> key -> [(step, value)] in the order they were logged

def log(key, value, step):
    mlflow.log_metric(key, value, step=step)
    logged.setdefault(mlflow.active_run().info.run_name, {}).setdefault(key, []).append([step, value])

exp_id = client.create_experiment("vision", artifact_location=art, tags={"team": "cv"})
gone_exp = client.create_experiment("abandoned", artifact_location=art and f"{art}/abandoned")
mlflow.set_experiment(experiment_id=exp_id)
files = os.path.join(folder, "files")
os.makedirs(os.path.join(files, "plots", "deep"), exist_ok=True)
with open(os.path.join(files, "plots", "a.txt"), "w") as f: f.write("alpha")
with open(os.path.join(files, "plots", "deep", "b.bin"), "wb") as f: f.write(bytes(range(256)))
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"lr": 0.01, "layers": 3, "optimizer": "adam w/ decay: yes"})
    mlflow.set_tags({"mlflow.note.content": "first try\nwith a second line", "stage": "dev",
                     "mlflow.source.git.commit": "''' + GIT_COMMIT + r'''"})
    for step in [0, 1, 2, 5, 3, 4, 4]:
        log("loss", 1.0 / (step + 1), step)
    for step, value in [(0, 0.5), (1, float("nan")), (2, 0.7)]:
        log("train/acc", value, step)
    log("final", 42.0, 0)
    mlflow.log_artifacts(os.path.join(files, "plots"), artifact_path="plots")
    mlflow.log_text("hello", "notes/readme.txt")
    model_dir = os.path.join(files, "model")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "MLmodel"), "w") as f: f.write("flavors: {}\n")
    with open(os.path.join(model_dir, "weights.bin"), "wb") as f: f.write(b"\x00\x01weights")
    mlflow.log_artifacts(model_dir, artifact_path="model")
    for i in range(2):
        with mlflow.start_run(run_name=f"child-{i}", nested=True):
            mlflow.log_param("fold", i)
            for step in [2, 0, 1]:
                log("val_loss", 0.1 * step + i, step)
with mlflow.start_run(run_name="crashed") as crashed:
    log("loss", 3.0, 0)
mlflow.end_run()
client.set_terminated(crashed.info.run_id, "FAILED")
with mlflow.start_run(run_name="deleted-run") as deleted:
    log("loss", 9.0, 0)
client.delete_run(deleted.info.run_id)
mlflow.set_experiment(experiment_id=gone_exp)
with mlflow.start_run(run_name="in-deleted-experiment"):
    mlflow.log_param("x", 1)
client.delete_experiment(gone_exp)

pid = parent.info.run_id
client.create_registered_model("classifier", tags={"owner": "ml"}, description="the classifier")
client.create_model_version("classifier", f"runs:/{pid}/model", run_id=pid, tags={"quality": "ok"},
                            description="v1")
client.create_model_version("classifier", f"runs:/{pid}/model", run_id=pid)
client.create_model_version("classifier", f"runs:/{pid}/model", run_id=pid)
client.create_model_version("classifier", f"runs:/{pid}/model", run_id=pid)
client.transition_model_version_stage("classifier", "1", "Archived")
client.transition_model_version_stage("classifier", "2", "Production")
client.transition_model_version_stage("classifier", "4", "Staging")
client.delete_model_version("classifier", "3")
client.set_registered_model_alias("classifier", "champion", "2")
client.set_registered_model_alias("classifier", "challenger", "4")
if kind == "file":  # an MLflow 3 logged model (source models:/m-...), registered from log_model
    import numpy as np
    from sklearn.linear_model import LinearRegression
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name="sklearn"):
        mlflow.sklearn.log_model(LinearRegression().fit(np.eye(3), [1, 2, 3]), name="model",
                                 registered_model_name="regressor")

def metric_points(run_id, key):
    return [[m.step, m.timestamp, None if math.isnan(m.value) else m.value]
            for m in client.get_metric_history(run_id, key)]

def artifacts(run_id, path=None):
    out = {}
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            out.update(artifacts(run_id, item.path))
        else:
            out[item.path] = item.file_size
    return out

def logged_models(run):
    """name -> {file: size} of the run's MLflow 3 logged models, as MLflow downloads them."""
    import tempfile
    out = {}
    for m in client.search_logged_models(experiment_ids=[run.info.experiment_id]):
        if m.source_run_id == run.info.run_id:
            got = mlflow.artifacts.download_artifacts(m.artifact_location, dst_path=tempfile.mkdtemp())
            out[m.name] = {os.path.relpath(os.path.join(d, n), got).replace(os.sep, "/"):
                           os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(got) for n in names}
    return out

experiments = client.search_experiments(view_type=ViewType.ALL)
runs = client.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL)
expected = {
    "experiments": [{"id": e.experiment_id, "name": e.name, "lifecycle_stage": e.lifecycle_stage,
                     "tags": dict(e.tags)} for e in experiments],
    "runs": [{
        "run_id": r.info.run_id, "run_name": r.info.run_name, "experiment_id": r.info.experiment_id,
        "status": r.info.status, "start_time": r.info.start_time, "end_time": r.info.end_time,
        "lifecycle_stage": r.info.lifecycle_stage, "artifact_uri": r.info.artifact_uri,
        "user_id": r.info.user_id, "params": r.data.params, "tags": r.data.tags,
        "metrics": {k: (None if math.isnan(v) else v) for k, v in r.data.metrics.items()},
        "histories": {k: metric_points(r.info.run_id, k) for k in r.data.metrics},
        "artifacts": artifacts(r.info.run_id) if r.info.lifecycle_stage == "active" else {},
        "logged_models": logged_models(r) if r.info.lifecycle_stage == "active" else {},
    } for r in runs],
    "logged": logged,
    "models": [{"name": m.name, "description": m.description, "tags": m.tags, "aliases": m.aliases}
               for m in client.search_registered_models()],
    "versions": [{"name": v.name, "version": int(v.version), "current_stage": v.current_stage,
                  "run_id": v.run_id, "source": v.source, "tags": v.tags, "description": v.description,
                  "aliases": list(v.aliases)}
                 for m in client.search_registered_models()
                 for v in client.search_model_versions(f"name = '{m.name}'")],
}
with open(os.path.join(folder, "expected.json"), "w") as f:
    json.dump(expected, f)
'''

_STORES: dict[str, tuple[Path, dict]] = {}


def make_store(kind: str, folder: Path) -> tuple[Path, dict]:
    """Log the runs above with MLflow into a new ``kind`` ("file" or "sqlite") store in ``folder``;
    returns (the store's path, what MLflow's client reads back)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet",
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, kind, str(folder)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = json.loads((folder / "expected.json").read_text())
    return (folder / "mlruns" if kind == "file" else folder / "mlflow.db"), expected


def session_store(kind: str, tmp_path_factory) -> tuple[Path, dict]:
    """One store of each kind per test session (making one takes a few seconds)."""
    pytest.importorskip("mlflow")
    if kind not in _STORES:
        _STORES[kind] = make_store(kind, tmp_path_factory.mktemp(f"mlflow-{kind}"))
    return _STORES[kind]
