"""Registered random forests to serve, and small HTTP helpers, for the tests/test_serve_*.py files."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

TREE = "sklearn.tree._tree.Tree"
NAME = "iris"


def iris():
    from sklearn.datasets import load_iris
    return load_iris(return_X_y=True, as_frame=True)


def register_forests(root: Path, sizes: tuple[int, ...] = (5, 8)) -> list[int]:
    """One logged and registered random forest per size, as versions 1, 2, ... of ``iris`` in ``root``;
    the first is moved to Production. Each run records the git commit of this checkout."""
    import tracker
    from sklearn.ensemble import RandomForestClassifier
    X, y = iris()
    tracker.set_tracking_dir(root)
    try:
        for size in sizes:
            with tracker.start_run():
                model = RandomForestClassifier(n_estimators=size, max_depth=3, random_state=size).fit(X, y)
                tracker.sklearn.log_model(model, name="model", input_example=X.iloc[:3],
                                          registered_model_name=NAME, skops_trusted_types=[TREE])
    finally:
        tracker.set_tracking_dir(None)
    client = tracker.Client(root)
    client.transition_model_version_stage(NAME, 1, "Production")
    return [v.version for v in client.list_model_versions(NAME)]


def local_model(root: Path, version: int):
    """The registered version loaded in this process, to compare the server's answers with."""
    import tracker
    path = tracker.Client(root).resolve_models_uri(f"models:/{NAME}/{version}")
    return tracker.pyfunc.load_model(path, trusted=[TREE])


def sha256_tree(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def split_body(frame) -> bytes:
    return json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": frame.to_numpy().tolist()}}).encode()


def wait_for(condition, timeout: float = 60.0, what: str = "condition"):
    """Poll ``condition()`` until it returns something true; its value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)  # another process's state: polled, with a deadline
        delay = min(delay * 2, 0.1)
