"""MLflow's hyperparameter-tuning pattern: a parent run with nested child runs, tags on each, then
search_runs ordered by a metric. Only the import is changed.
"""
import tracker as mlflow

mlflow.set_experiment("nested-runs")

with mlflow.start_run(run_name="tuning", tags={"team": "search"}) as parent:
    mlflow.log_param("n_trials", 3)
    for lr in (0.1, 0.01, 0.001):
        with mlflow.start_run(run_name=f"lr={lr}", nested=True) as child:
            mlflow.log_param("lr", lr)
            mlflow.set_tags({"kind": "trial", "lr_bucket": "high" if lr >= 0.01 else "low"})
            for step in range(3):
                mlflow.log_metric("loss", lr * (3 - step), step=step)
            mlflow.log_metric("val_loss", abs(lr - 0.01))
    mlflow.log_metric("best_val_loss", 0.0)

runs = mlflow.search_runs(
    filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    order_by=["metrics.val_loss ASC"],
)
print(runs[["run_id", "params.lr", "metrics.val_loss", "tags.mlflow.runName"]])
best = runs.iloc[0]
print(f"best lr: {best['params.lr']}")
assert best["params.lr"] == "0.01"
listed = mlflow.search_runs(experiment_names=["nested-runs"], filter_string="tags.kind = 'trial'",
                            order_by=["params.lr DESC"], output_format="list")
print([r.data.params["lr"] for r in listed])
assert [r.data.params["lr"] for r in listed] == ["0.1", "0.01", "0.001"]
