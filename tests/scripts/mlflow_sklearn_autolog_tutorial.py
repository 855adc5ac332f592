"""Written the way MLflow's autolog quickstart and its sklearn_autolog examples use the API; only
the import is changed.

Autologs a random forest on the diabetes data (no run started by the script: autologging starts
and ends one), then a grid search over an SVC on iris; prints the two runs' ids, one per line.
"""
from sklearn import datasets, svm
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GridSearchCV, train_test_split

import tracker as mlflow

mlflow.autolog()

db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target, random_state=0)

rf = RandomForestRegressor(n_estimators=10, max_depth=6, max_features=3, random_state=0)
rf.fit(X_train, y_train)
predictions = rf.predict(X_test)
autolog_run = mlflow.last_active_run()
print(autolog_run.info.run_id)

mlflow.sklearn.autolog()
iris = datasets.load_iris()
parameters = {"kernel": ("linear", "rbf"), "C": [1, 10]}
svc = svm.SVC()
clf = GridSearchCV(svc, parameters)
clf.fit(iris.data, iris.target)
print(mlflow.last_active_run().info.run_id)
