"""Written the way MLflow's quickstart and sklearn tutorials use the API; only the import is changed.

Trains a logistic regression on iris, infers a signature, logs and registers the model with an
input example, then loads it back through pyfunc (by run URI and by registered version) and predicts.
"""
import sys

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

import tracker as mlflow
import tracker.pyfunc  # as `import mlflow.pyfunc`
import tracker.sklearn  # as `import mlflow.sklearn`
from tracker.models import infer_signature

X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

params = {"solver": "lbfgs", "max_iter": 1000, "random_state": 8888}
lr = LogisticRegression(**params)
lr.fit(X_train, y_train)
y_pred = lr.predict(X_test)
accuracy = accuracy_score(y_test, y_pred)

mlflow.set_experiment("MLflow Quickstart")
with mlflow.start_run():
    mlflow.log_params(params)
    mlflow.log_metric("accuracy", accuracy)
    mlflow.set_tag("Training Info", "Basic LR model for iris data")
    signature = infer_signature(X_train, lr.predict(X_train))
    model_info = mlflow.sklearn.log_model(
        sk_model=lr,
        name="iris_model",
        signature=signature,
        input_example=X_train,
        registered_model_name="tracking-quickstart",
    )

print("model uri:", model_info.model_uri)
print("signature inputs:", model_info.signature.inputs)
loaded_model = mlflow.pyfunc.load_model(model_info.model_uri)
predictions = loaded_model.predict(X_test)
result = pd.DataFrame(X_test, columns=load_iris().feature_names)
result["actual_class"] = y_test
result["predicted_class"] = predictions
print(result[:4])

registered = mlflow.pyfunc.load_model(f"models:/tracking-quickstart/{model_info.registered_model_version}")
same = (list(predictions) == list(y_pred)) and (list(registered.predict(X_test)) == list(y_pred))
print("predictions match:", same)
print("registered version:", model_info.registered_model_version)
print("imported mlflow:", "mlflow" in sys.modules)
