"""The runs browser: where runs come from (loading, watching, MLflow stores), the table's rows,
model and view, the experiments list, export and run colours."""
