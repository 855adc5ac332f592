"""MLflow's custom pyfunc model, in both of its documented forms: models-from-code (a file that
calls set_model, see model_code/add_n.py) and a PythonModel instance. Only the import is changed, plus
`trust_code=True` / `trust_pickle=True` when loading: the tracker runs a model folder's code or
unpickles it only when the caller says so (docs/security.md), where MLflow loads it silently.
"""
import os

import pandas as pd

import tracker as mlflow

HERE = os.path.dirname(os.path.abspath(__file__))


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


with open("n.txt", "w") as f:
    f.write("5")

model_input = pd.DataFrame([range(10)])
with mlflow.start_run() as run:
    code_info = mlflow.pyfunc.log_model(
        name="add_n_code",
        python_model=os.path.join(HERE, "model_code", "add_n.py"),
        artifacts={"n": "n.txt"},
        input_example=model_input,
    )
    instance_info = mlflow.pyfunc.log_model(name="add_n_model", python_model=AddN(n=5))

# trust_code / trust_pickle: the tracker's one deliberate difference (docs/security.md)
from_code = mlflow.pyfunc.load_model(code_info.model_uri, trust_code=True)
from_instance = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/add_n_model", trust_pickle=True)
expected = pd.DataFrame([range(5, 15)])
assert from_code.predict(model_input).equals(expected)
assert from_instance.predict(model_input).equals(expected)
print(from_code.predict(model_input))
