"""MLflow's getting-started tutorial on experiments: look up the Default experiment, create one with
tags (its description in mlflow.note.content), find it by a backquoted tag filter, then log a named
run into it with params, metrics and a model with an input example. Only the import is changed.
"""
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

import tracker as mlflow
from tracker import MlflowClient

client = MlflowClient()
all_experiments = client.search_experiments()
print([{"name": e.name, "lifecycle_stage": e.lifecycle_stage} for e in all_experiments])

experiment_description = "This is the grocery forecasting project. It contains the apple models."
experiment_tags = {"project_name": "grocery-forecasting", "store_dept": "produce", "team": "stores-ml",
                   "project_quarter": "Q3-2023", "mlflow.note.content": experiment_description}
produce_apples_experiment = client.create_experiment(name="Apple_Models", tags=experiment_tags)
apples_experiment = client.search_experiments(filter_string="tags.`project_name` = 'grocery-forecasting'")
print(apples_experiment[0])
assert apples_experiment[0].experiment_id == produce_apples_experiment

rng = np.random.default_rng(9999)
data = pd.DataFrame({"average_temperature": rng.uniform(10, 35, 500), "rainfall": rng.uniform(0, 5, 500),
                     "weekend": rng.integers(0, 2, 500), "holiday": rng.integers(0, 2, 500),
                     "price_per_kg": rng.uniform(0.5, 3, 500)})
data["demand"] = 1000 + 10 * data["average_temperature"] - 50 * data["price_per_kg"] + rng.normal(0, 10, 500)

apple_experiment = mlflow.set_experiment("Apple_Models")
run_name = "apples_rf_test"
artifact_path = "rf_apples"

X = data.drop(columns=["demand"])
y = data["demand"]
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42)
params = {"n_estimators": 10, "max_depth": 6, "min_samples_split": 10, "min_samples_leaf": 4,
          "bootstrap": True, "oob_score": False, "random_state": 888}
rf = RandomForestRegressor(**params)
rf.fit(X_train, y_train)
y_pred = rf.predict(X_val)
mae = mean_absolute_error(y_val, y_pred)
mse = mean_squared_error(y_val, y_pred)
rmse = np.sqrt(mse)
r2 = r2_score(y_val, y_pred)
metrics = {"mae": mae, "mse": mse, "rmse": rmse, "r2": r2}

with mlflow.start_run(run_name=run_name) as run:
    mlflow.log_params(params)
    mlflow.log_metrics(metrics)
    mlflow.sklearn.log_model(sk_model=rf, input_example=X_val, name=artifact_path,
                             skops_trusted_types=["sklearn.tree._tree.Tree"])
print(run.info.run_id, apple_experiment.experiment_id)
