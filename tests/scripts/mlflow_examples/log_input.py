"""MLflow's dataset tracking: build a dataset with mlflow.data.from_pandas(df, source=...,
targets=...), log it with log_input, and read it back from the run's inputs.
Only the import is changed.
"""
import pandas as pd
from sklearn.datasets import load_wine

import tracker as mlflow

df = load_wine(as_frame=True).frame
dataset_source_url = "https://example.com/winequality-red.csv"
dataset = mlflow.data.from_pandas(df, source=dataset_source_url, name="wine", targets="target")

with mlflow.start_run() as run:
    mlflow.log_input(dataset, context="training")
    mlflow.log_param("rows", len(df))

logged_run = mlflow.get_run(run.info.run_id)
dataset_info = logged_run.inputs.dataset_inputs[0].dataset
print(f"Dataset name: {dataset_info.name}")
print(f"Dataset digest: {dataset_info.digest}")
print(f"Dataset profile: {dataset_info.profile}")
print(f"Dataset schema: {dataset_info.schema}")
assert dataset_info.name == "wine"
dataset_source = mlflow.data.get_source(dataset_info)
print(dataset_source.url)
assert dataset_source.url == dataset_source_url
