"""MLflow's sklearn_autolog/grid_search_cv example: autolog a GridSearchCV (a parent run, a child
run per candidate), then find the children with search_runs on mlflow.parentRunId.
Only the import is changed.
"""
from pprint import pprint

import pandas as pd
from sklearn import datasets, svm
from sklearn.model_selection import GridSearchCV

import tracker as mlflow


def main():
    mlflow.sklearn.autolog()

    iris = datasets.load_iris()
    parameters = {"kernel": ("linear", "rbf"), "C": [1, 10]}
    svc = svm.SVC()
    clf = GridSearchCV(svc, parameters)

    clf.fit(iris.data, iris.target)
    run_id = mlflow.last_active_run().info.run_id

    # show data logged in the parent run
    print("========== parent run ==========")
    run = mlflow.get_run(run_id)
    pprint(run.data.params)
    pprint(run.data.metrics)

    # show data logged in the child runs
    filter_child_runs = f"tags.mlflow.parentRunId = '{run_id}'"
    runs = mlflow.search_runs(filter_string=filter_child_runs)
    param_cols = [f"params.{p}" for p in parameters.keys()]
    metric_cols = ["metrics.mean_test_score"]

    print("\n========== child runs ==========\n")
    pd.set_option("display.max_columns", None)
    runs = runs[["run_id", *param_cols, *metric_cols]]
    print(runs.sort_values(by=metric_cols[0], ascending=False))
    quoted = mlflow.search_runs(filter_string=f"tags.\"mlflow.parentRunId\" = '{run_id}'")
    assert len(runs) == 4 and len(quoted) == 4


if __name__ == "__main__":
    main()
