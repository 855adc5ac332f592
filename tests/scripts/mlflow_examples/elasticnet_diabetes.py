"""MLflow's sklearn_elasticnet_diabetes example: fit ElasticNet on the diabetes data, log params and
metrics, plot the regularisation path with matplotlib, save it and log it as an artifact and as a
figure. Only the import is changed.
"""
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn import datasets
from sklearn.linear_model import ElasticNet, enet_path
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

import tracker as mlflow
import tracker.sklearn

warnings.filterwarnings("ignore")
np.random.seed(40)
diabetes = datasets.load_diabetes()
X, y = diabetes.data, diabetes.target
train_x, test_x, train_y, test_y = train_test_split(X, y)

alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05

with mlflow.start_run() as run:
    lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
    lr.fit(train_x, train_y)
    predicted = lr.predict(test_x)
    mlflow.log_param("alpha", alpha)
    mlflow.log_param("l1_ratio", l1_ratio)
    mlflow.log_metric("rmse", np.sqrt(mean_squared_error(test_y, predicted)))
    mlflow.log_metric("r2", r2_score(test_y, predicted))
    mlflow.log_metric("mae", mean_absolute_error(test_y, predicted))
    mlflow.sklearn.log_model(lr, name="model")

    alphas_enet, coefs_enet, _ = enet_path(X, y, l1_ratio=l1_ratio)
    fig = plt.figure(1)
    neg_log_alphas_enet = -np.log10(alphas_enet)
    for coef_e in coefs_enet:
        plt.plot(neg_log_alphas_enet, coef_e)
    plt.xlabel("-Log(alpha)")
    plt.ylabel("coefficients")
    plt.title(f"ElasticNet Path by alpha for l1_ratio = {l1_ratio}")
    plt.axis("tight")
    fig.savefig("ElasticNet-paths.png")
    plt.close(fig)
    mlflow.log_artifact("ElasticNet-paths.png")
    mlflow.log_figure(fig, "figures/ElasticNet-paths.png")
    os.remove("ElasticNet-paths.png")
    print(run.info.run_id)
