"""MLflow's examples/sklearn_logistic_regression: fit, log a score and the model, print the run id.
Only the import is changed (and `from tracker.models import infer_signature` for
`from mlflow.models import infer_signature`).
"""
import numpy as np
from sklearn.linear_model import LogisticRegression

import tracker as mlflow
import tracker.sklearn  # as `import mlflow.sklearn`
from tracker.models import infer_signature

if __name__ == "__main__":
    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    lr = LogisticRegression()
    lr.fit(X, y)
    score = lr.score(X, y)
    print(f"Score: {score}")
    mlflow.log_metric("score", score)
    predictions = lr.predict(X)
    signature = infer_signature(X, predictions)
    mlflow.sklearn.log_model(lr, name="model", signature=signature)
    print(f"Model saved in run {mlflow.active_run().info.run_id}")
