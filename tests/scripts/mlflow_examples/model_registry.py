"""MLflow's model registry workflow with MlflowClient: create a registered model, log a model and
register versions (create_model_version and register_model), move a version to Production, set an
alias, and load by `models:/name@alias` and `models:/name/Production`. Only the import is
changed, plus `trusted=[...]` when loading. MLflow 3 saves skops files too and reads the trusted
types that log_model's `skops_trusted_types` wrote into the model folder; the tracker never takes
trust from a folder (docs/security.md), and versions made by create_model_version carry no trust
record, so the caller names the tree type when loading.
"""
import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.datasets import make_regression

import tracker as mlflow
from tracker import MlflowClient

name = "sk-learn-random-forest-reg-model"
X, y = make_regression(n_features=4, n_informative=2, random_state=0, shuffle=False)
params = {"n_estimators": 3, "random_state": 42}
TREES = ["sklearn.tree._tree.Tree"]  # a random forest's skops file holds these

with mlflow.start_run() as run:
    rfr = RandomForestRegressor(**params).fit(X, y)
    signature = mlflow.models.infer_signature(X, rfr.predict(X))
    mlflow.log_params(params)
    model_info = mlflow.sklearn.log_model(sk_model=rfr, name="sklearn-model", signature=signature,
                                          skops_trusted_types=TREES)

client = MlflowClient()
client.create_registered_model(name, description="random forest regressor")
mv = client.create_model_version(name, model_info.model_uri, run.info.run_id)
print(f"Name: {mv.name}\nVersion: {mv.version}")
mv2 = mlflow.register_model(f"runs:/{run.info.run_id}/sklearn-model", name)
print(f"Registered version {mv2.version}")

client.transition_model_version_stage(name=name, version=mv.version, stage="Production")
client.set_registered_model_alias(name, "champion", mv2.version)
champion = client.get_model_version_by_alias(name, "champion")
print(f"champion is version {champion.version}")
client.update_model_version(name=name, version=mv.version, description="first version")

# trusted=: the one deliberate difference (docs/security.md)
model = mlflow.sklearn.load_model(f"models:/{name}@champion", trusted=TREES)
production = mlflow.pyfunc.load_model(f"models:/{name}/Production", trusted=TREES)
expected = rfr.predict(X[:5])
assert np.allclose(model.predict(X[:5]), expected)
assert np.allclose(production.predict(X[:5]), expected)
for rm in client.search_registered_models(f"name = '{name}'"):
    print(rm.name, [(v.version, v.current_stage) for v in rm.latest_versions])
