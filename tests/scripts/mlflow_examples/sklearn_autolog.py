"""MLflow's sklearn_autolog examples: turn autologging on, fit, then read back what was logged with
last_active_run and get_run. Only the import is changed.
"""
from pprint import pprint

import numpy as np
from sklearn.linear_model import LinearRegression

import tracker as mlflow
from tracker import MlflowClient


def yield_artifacts(run_id, path=None):
    """Yield all artifacts in the specified run"""
    client = MlflowClient()
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            yield from yield_artifacts(run_id, item.path)
        else:
            yield item.path


def fetch_logged_data(run_id):
    client = MlflowClient()
    data = client.get_run(run_id).data
    tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
    artifacts = list(yield_artifacts(run_id))
    return {"params": data.params, "metrics": data.metrics, "tags": tags, "artifacts": artifacts}


mlflow.sklearn.autolog()

X = np.array([[1, 1], [1, 2], [2, 2], [2, 3]])
y = np.dot(X, np.array([1, 2])) + 3

model = LinearRegression()
with mlflow.start_run() as run:
    model.fit(X, y)
    print("Logged data and model in run: {}".format(run.info.run_id))

for key, data in fetch_logged_data(run.info.run_id).items():
    print(f"---------- logged {key} ----------")
    pprint(data)

autolog_run = mlflow.last_active_run()
print(autolog_run.info.run_id)
print(mlflow.get_run(autolog_run.info.run_id).data.metrics)
