"""The model file of pyfunc_custom_model.py, in MLflow's models-from-code form: it defines the
model and hands it to set_model. Only the import is changed (`from tracker.models import
set_model` where MLflow's docs write `from mlflow.models import set_model`).
"""
import pandas as pd

import tracker as mlflow
from tracker.models import set_model


class AddN(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["n"]) as f:
            self.n = int(f.read())

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


set_model(AddN())
