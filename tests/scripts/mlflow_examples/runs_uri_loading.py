"""MLflow's "load a logged model" pattern: log a model, then load it by `runs:/<run_id>/model`
with the sklearn flavor and with pyfunc, and predict. Only the import is changed, plus
`trusted=[...]` when loading. MLflow 3 saves skops files too and reads the trusted types that
log_model's `skops_trusted_types` wrote into the model folder; the tracker never takes trust from
a folder (docs/security.md), so the caller names sklearn.tree._tree.Tree again when loading.
"""
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

import tracker as mlflow

TREES = ["sklearn.tree._tree.Tree"]  # a random forest's skops file holds these
db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target, random_state=0)

with mlflow.start_run() as run:
    rf = RandomForestRegressor(n_estimators=20, max_depth=6, max_features=3, random_state=0)
    rf.fit(X_train, y_train)
    mlflow.sklearn.log_model(rf, name="model", input_example=X_train[:3], skops_trusted_types=TREES)
    run_id = run.info.run_id

logged_model = f"runs:/{run_id}/model"
# trusted=: the one deliberate difference (docs/security.md)
sk_model = mlflow.sklearn.load_model(logged_model, trusted=TREES)
loaded_model = mlflow.pyfunc.load_model(logged_model, trusted=TREES)
print(loaded_model.metadata.run_id if loaded_model.metadata else None)
predictions = loaded_model.predict(X_test)
assert np.allclose(predictions, rf.predict(X_test))
assert np.allclose(sk_model.predict(X_test), predictions)
print(predictions[:3])
