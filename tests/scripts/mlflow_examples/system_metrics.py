"""MLflow's system metrics guide: start a run with log_system_metrics=True and a 1 s sampling
interval, do some work, then read system/cpu_utilization_percentage back with MlflowClient.
Only the import is changed.
"""
import time

import tracker as mlflow
from tracker import MlflowClient

mlflow.set_system_metrics_sampling_interval(1)
mlflow.set_system_metrics_samples_before_logging(1)

with mlflow.start_run(log_system_metrics=True) as run:
    deadline = time.time() + 2.5
    total = 0
    while time.time() < deadline:
        total += sum(i * i for i in range(10_000))

client = MlflowClient()
history = client.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")
print(f"{len(history)} samples")
for m in history:
    print(m.step, m.timestamp, m.value)
run = mlflow.get_run(run.info.run_id)
print(sorted(k for k in run.data.metrics if k.startswith("system/")))
