"""The MLflow iris example, ported by changing its imports: `mlflow` became `tracker`."""
import tracker
import tracker.sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

iris = load_iris()
X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.3, random_state=42)
with tracker.start_run(run_name="Iris RF Example"):
    n_estimators = 100
    max_depth = 10
    tracker.log_param("n_estimators", n_estimators)
    tracker.log_param("max_depth", max_depth)
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=42)
    rf.fit(X_train, y_train)
    accuracy = rf.score(X_test, y_test)
    tracker.log_metric("accuracy", accuracy)
    tracker.sklearn.log_model(rf, "random-forest-model")
print(f"MLflow Run completed. Artifacts logged to: {tracker.get_artifact_uri()}")
