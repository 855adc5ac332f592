"""MLflow's MlflowClient tracking API: create an experiment and a run, log_batch with Metric, Param
and RunTag entities, read get_metric_history, set_terminated, delete and restore the experiment.
Only the import is changed (`from tracker.entities import ...` where MLflow's docs write
`from mlflow.entities import ...`).
"""
import time

import tracker as mlflow
from tracker import MlflowClient
from tracker.entities import Metric, Param, RunTag, ViewType


def print_run_info(r):
    print(f"run_id: {r.info.run_id}")
    print(f"params: {r.data.params}")
    print(f"metrics: {r.data.metrics}")
    print(f"tags: {r.data.tags}")
    print(f"status: {r.info.status}")


client = MlflowClient()
experiment_id = client.create_experiment("client-batch", tags={"project": "examples"})
run = client.create_run(experiment_id)
run_id = run.info.run_id

timestamp = int(time.time() * 1000)
metrics = [Metric("m", v, timestamp, step) for step, v in enumerate((3.0, 2.0, 1.5))]
params = [Param("p", "p")]
tags = [RunTag("t", "t")]
client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
client.log_metric(run_id, "m", 1.0, step=3)
client.log_param(run_id, "q", 7)
client.set_tag(run_id, "stage", "demo")
client.set_terminated(run_id)
run = client.get_run(run_id)
print_run_info(run)

history = client.get_metric_history(run_id, "m")
print([(m.step, m.value) for m in history])
assert [m.value for m in history] == [3.0, 2.0, 1.5, 1.0]

client.delete_experiment(experiment_id)
deleted = client.get_experiment(experiment_id)
print(f"lifecycle_stage after delete: {deleted.lifecycle_stage}")
assert deleted.lifecycle_stage == "deleted"
names = [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
assert "client-batch" in names
client.restore_experiment(experiment_id)
print(f"lifecycle_stage after restore: {client.get_experiment(experiment_id).lifecycle_stage}")
assert client.get_experiment_by_name("client-batch").lifecycle_stage == "active"
