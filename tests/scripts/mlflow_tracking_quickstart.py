"""Written the way MLflow's tracking quickstart uses the API; only the import is changed.

Usage: python mlflow_tracking_quickstart.py TRACKING_URI. Trains a small logistic regression
on iris, logs params, per-epoch metrics with steps, tags and an artifact, then reads back with
``search_runs`` and ``MlflowClient``; prints one JSON object with what it read.
"""
import json
import sys

from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

import tracker as mlflow
from tracker import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
experiment = mlflow.set_experiment("MLflow Quickstart")

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
params = {"loss": "log_loss", "alpha": 0.001, "random_state": 8888}

with mlflow.start_run(run_name="sgd-quickstart") as run:
    mlflow.log_params(params)
    model = SGDClassifier(**params)
    for epoch in range(5):
        model.partial_fit(X_train, y_train, classes=[0, 1, 2])
        mlflow.log_metrics({"train_accuracy": accuracy_score(y_train, model.predict(X_train)),
                            "test_accuracy": accuracy_score(y_test, model.predict(X_test))}, step=epoch)
    mlflow.set_tag("Training Info", "Basic SGD model for iris data")
    mlflow.log_text("notes about this run", "notes.txt")

df = mlflow.search_runs(experiment_ids=[experiment.experiment_id], order_by=["metrics.test_accuracy DESC"])
client = MlflowClient()
history = client.get_metric_history(run.info.run_id, "test_accuracy")
fetched = mlflow.get_run(run.info.run_id)
print(json.dumps({
    "experiment_id": experiment.experiment_id,
    "run_id": run.info.run_id,
    "columns": list(df.columns),
    "df_run_ids": df["run_id"].tolist(),
    "df_test_accuracy": df["metrics.test_accuracy"].tolist(),
    "df_alpha": df["params.alpha"].tolist(),
    "df_tag": df["tags.Training Info"].tolist(),
    "history": [[m.step, m.value] for m in history],
    "run_experiment_id": fetched.info.experiment_id,
    "status": fetched.info.status,
    "run_name": fetched.data.tags["mlflow.runName"],
    "params": fetched.data.params,
    "metrics": fetched.data.metrics,
    "artifacts": [f.path for f in client.list_artifacts(run.info.run_id)],
}))
