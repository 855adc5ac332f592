"""Screenshots of the model registry panel, headless, in both themes.

    .venv/bin/python docs/registry_screenshot.py [--out docs]

Writes ``registry-light.png`` and ``registry-dark.png`` (the panel, 1440 x 820, with a version
in Production selected) and ``registry-lineage-light.png`` / ``registry-lineage-dark.png`` (its
lineage view). The registry holds a few models with versions in every stage, registered from
``tracker.demo``'s runs, a few more trained here, and a file from outside any run.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tracker


def _train(name: str, experiment: str, params: dict, model, x, y, x_test, y_test) -> str:
    import tracker.sklearn
    with tracker.start_run(run_name=name, experiment=experiment, tags={"team": "demo"}) as run:
        tracker.log_params(params)
        model.fit(x, y)
        tracker.log_metric("accuracy", model.score(x_test, y_test))
        tracker.log_metric("train_accuracy", model.score(x, y))
        tracker.sklearn.log_model(model, "model", input_example=x_test[:2])
    return run.info.run_id


def write_registry(root: Path) -> None:
    """Demo runs, three more trained models, and a registry with versions in every stage."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from tracker.demo import write_demo_runs
    write_demo_runs(root)
    tracker.set_tracking_dir(root)
    client = tracker.Client(root)
    rf_100 = next(r for r in client.search_runs() if r.info.run_name == "rf-100-10").info.run_id
    iris = load_iris()
    x, x_test, y, y_test = train_test_split(iris.data, iris.target, test_size=0.3, random_state=7)
    rf_10 = _train("rf-10-2", "iris-random-forest", {"n_estimators": 10, "max_depth": 2},
                   RandomForestClassifier(n_estimators=10, max_depth=2, random_state=1), x, y, x_test, y_test)
    rf_300 = _train("rf-300-12", "iris-random-forest", {"n_estimators": 300, "max_depth": 12},
                    RandomForestClassifier(n_estimators=300, max_depth=12, random_state=1), x, y, x_test, y_test)
    gbm_1 = _train("gbm-lr-0.1", "iris-boosting", {"learning_rate": 0.1, "n_estimators": 50},
                   GradientBoostingClassifier(learning_rate=0.1, n_estimators=50, random_state=1),
                   x, y, x_test, y_test)
    gbm_2 = _train("gbm-lr-0.05", "iris-boosting", {"learning_rate": 0.05, "n_estimators": 120},
                   GradientBoostingClassifier(learning_rate=0.05, n_estimators=120, random_state=1),
                   x, y, x_test, y_test)
    logreg = _train("logreg-c1", "iris-baselines", {"C": 1.0},
                    LogisticRegression(C=1.0, max_iter=500), x, y, x_test, y_test)

    def register(run_id: str, name: str, stage: str = "None", description: str = "", aliases=()) -> None:
        mv = client.register_model(f"runs:/{run_id}/{'random-forest-model' if run_id == rf_100 else 'model'}",
                                   name, description=description or None)
        if stage != "None":
            client.transition_model_version_stage(name, mv.version, stage,
                                                  archive_existing_versions=stage in ("Staging", "Production"))
        for alias in aliases:
            client.set_registered_model_alias(name, alias, mv.version)
        time.sleep(0.01)

    register(rf_10, "iris-classifier", "Production", "First forest: shallow, 10 trees")
    register(rf_100, "iris-classifier", "Production", "100 trees, depth 10: +4 points of accuracy", ["champion"])
    register(rf_300, "iris-classifier", "Staging", "300 trees: checking latency before release", ["candidate"])
    register(logreg, "iris-classifier", "None", "Linear baseline for comparison")
    register(gbm_1, "iris-boosted", "Production", "Gradient boosting baseline", ["champion"])
    register(gbm_2, "iris-boosted", "Staging", "Slower learning rate, more trees")
    register(logreg, "iris-baseline", "Archived", "Kept for the audit trail")
    outside = root.parent / "downloads" / "fraud-detector.onnx"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_bytes(os.urandom(200_000))
    mv = client.register_model(outside, "fraud-detector", description="Received from the fraud team")
    client.transition_model_version_stage("fraud-detector", mv.version, "Staging")


def _settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _wait(app, condition, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the registry panel did not load in time")
        app.processEvents()
        time.sleep(0.01)


def _grab_lineage(app, info, path: Path, width: int = 540) -> None:
    """The whole lineage of a version (no scrolling), as a standalone view at ``width``."""
    from app.registry.lineage_view import LineageView
    view = LineageView()
    view.set_lineage(info)
    view.resize(width, 1400)
    view.show()
    _settle(app, 0.2)
    content = view.scroll.widget()
    view.resize(width, content.layout().totalHeightForWidth(content.width()) + 2)
    _settle(app, 0.2)
    view.grab().save(str(path))
    print(path)
    view.close()
    view.deleteLater()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_registry(root)
        from shots import screenshot_app
        app = screenshot_app(Path(tmp) / "settings")
        from app.shell import theme
        from app.registry import RegistryPanel
        for name in ("light", "dark"):
            theme.apply_theme(app, name)
            panel = RegistryPanel(root)
            panel.setWindowTitle("Model Registry — Tracker")
            panel.resize(1440, 820)
            panel.show()
            _wait(app, lambda: "iris-classifier" in panel.ui.models_model.names())
            panel.select_model("iris-classifier")
            _wait(app, lambda: panel.ui.versions_model.rowCount() == 4)
            panel.select_version(2)
            _wait(app, lambda: panel.ui.lineage.info is not None and panel.ui.lineage.info.lineage.version == 2
                  and panel.ui.lineage.info.lineage.name == "iris-classifier")
            panel.show_message("Drop a model file or folder on a model to register its next version")
            _settle(app)
            panel.grab().save(str(out / f"registry-{name}.png"))
            print(out / f"registry-{name}.png")
            _grab_lineage(app, panel.ui.lineage.info, out / f"registry-lineage-{name}.png")
            panel.shutdown()
            panel.close()
            panel.deleteLater()
            _settle(app, 0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
