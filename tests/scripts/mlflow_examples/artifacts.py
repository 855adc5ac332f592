"""MLflow's artifact logging calls, each as the docs show it: log_artifact, log_artifacts of a
folder, log_text, log_dict, log_image of a numpy array, log_table, then list_artifacts and
download_artifacts. Only the import is changed.
"""
import os
import tempfile

import numpy as np
import pandas as pd

import tracker as mlflow
from tracker import MlflowClient

features = "rooms, zipcode, median_price, school_rating, transport"
with open("features.txt", "w") as f:
    f.write(features)

os.makedirs("data/sub", exist_ok=True)
pd.DataFrame({"x": [1, 2, 3]}).to_csv("data/x.csv", index=False)
with open("data/sub/notes.md", "w") as f:
    f.write("# notes\n")

with mlflow.start_run() as run:
    mlflow.log_artifact("features.txt", artifact_path="features")
    mlflow.log_artifacts("data", artifact_path="states")
    mlflow.log_text("text1", "file1.txt")
    mlflow.log_dict({"mlflow-version": "0.28", "n_cores": "10"}, "data.json")
    mlflow.log_dict({"k": [1, 2]}, "dir/data.yml")
    image = np.random.randint(0, 256, size=(100, 100, 3), dtype=np.uint8)
    mlflow.log_image(image, "image.png")
    table_dict = {"inputs": ["What is MLflow?", "What is Databricks?"],
                  "outputs": ["MLflow is ...", "Databricks is ..."], "toxicity": [0.0, 0.0]}
    mlflow.log_table(data=table_dict, artifact_file="qabot_eval_results.json")
    run_id = run.info.run_id

client = MlflowClient()
print([f.path for f in client.list_artifacts(run_id)])
print([f.path for f in client.list_artifacts(run_id, "states")])
local_dir = tempfile.mkdtemp()
local_path = client.download_artifacts(run_id, "features", local_dir)
print(f"Artifacts downloaded in: {local_path}")
with open(os.path.join(local_path, "features.txt")) as f:
    assert f.read() == features
path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="states/sub/notes.md")
with open(path) as f:
    assert f.read() == "# notes\n"
table = mlflow.load_table("qabot_eval_results.json", run_ids=[run_id])
print(table)
