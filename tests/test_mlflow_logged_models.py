"""MLflow 3 keeps ``log_model(name=...)`` outside the run's artifacts: the reader finds a run's
logged models, ``tracker import mlflow`` copies each into the run's artifacts under its name,
and the app's Artifacts tab offers them beside the run's artifacts."""
from __future__ import annotations

from pathlib import Path

import pytest

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE
from test_mlflow_store_latest import made_store
from tracker.mlflow_import import import_mlflow
from tracker.mlflow_store import open_store


@pytest.fixture(params=["file", "sqlite"])
def made(request, tmp_path_factory):
    return made_store(request.param, tmp_path_factory)


def files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_bytes().hex() for p in folder.rglob("*") if p.is_file()}


def test_the_reader_finds_a_runs_logged_model_with_mlflows_files(made):
    path, expected = made
    reader = open_store(path)
    models = reader.logged_models(expected["logged_run"])
    assert [(m.name, m.model_id) for m in models] == [("model", expected["model_id"])]
    assert "MLmodel" in expected["model_files"]
    assert files_under(models[0].artifact_dir) == expected["model_files"]
    other = next(r for r in expected["runs"] if r != expected["logged_run"])
    assert reader.logged_models(other) == []


def test_import_puts_the_logged_model_where_runs_uri_finds_it(made, tmp_path):
    import tracker
    import tracker.artifacts
    path, expected = made
    dest = tmp_path / "imported"
    import_mlflow(path, dest)
    run_id = expected["logged_run"]
    assert files_under(dest / run_id / "artifacts" / "model") == expected["model_files"]
    tracker.set_tracking_dir(dest)  # conftest sets it back
    got = tracker.artifacts.download_artifacts(f"runs:/{run_id}/model", dst_path=tmp_path / "out")
    assert files_under(Path(got)) == expected["model_files"]


def test_a_logged_model_that_would_overwrite_an_artifact_is_reported_not_copied(tmp_path_factory, tmp_path):
    import shutil
    path, expected = made_store("file", tmp_path_factory)
    store = tmp_path / "mlruns"
    shutil.copytree(path, store)
    run_dir = next(store.glob(f"*/{expected['logged_run']}"))
    (run_dir / "artifacts" / "model").mkdir(parents=True)
    (run_dir / "artifacts" / "model" / "mine.txt").write_text("kept")
    report = import_mlflow(store, tmp_path / "imported")
    folder = tmp_path / "imported" / expected["logged_run"] / "artifacts" / "model"
    assert files_under(folder) == {"mine.txt": b"kept".hex()}
    assert any("logged model 'model'" in p and expected["model_id"] in p for p in report.problems), report


@OFFSCREEN_NOISE
def test_the_artifacts_tab_offers_the_logged_model_and_previews_its_files(qtbot, made):
    from app.shell.window import MainWindow
    path, expected = made
    window = MainWindow(path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.runs_model.total_count() == len(expected["runs"])
                    and not window.progress.isVisible(), timeout=15000)
    window.runs_view.select_run(expected["logged_run"])
    artifacts = window.details.artifacts
    window.details.tabs.setCurrentWidget(artifacts)
    qtbot.waitUntil(lambda: window.details.run() is not None
                    and window.details.run().info.run_id == expected["logged_run"])
    assert artifacts.source_picker.isVisible()
    labels = [artifacts.source_picker.itemText(i) for i in range(artifacts.source_picker.count())]
    assert labels == ["Run artifacts", "Logged model: model"]
    assert artifacts.source_picker.currentIndex() == 1  # the run logged nothing else: its model is shown
    artifacts.source_picker.setCurrentIndex(0)
    assert artifacts.root() == artifacts.sources()[0][1]
    artifacts.source_picker.setCurrentIndex(1)
    root = artifacts.root()
    assert root is not None and files_under(root) == expected["model_files"]
    qtbot.waitUntil(lambda: artifacts.shown_index_of(root / "MLmodel").isValid())
    assert artifacts.select(root / "MLmodel")
    qtbot.waitUntil(lambda: artifacts.current_preview_kind() == "text")
    assert artifacts.text_view.toPlainText() == bytes.fromhex(expected["model_files"]["MLmodel"]).decode()
    other = next(r for r in expected["runs"] if r != expected["logged_run"])
    window.runs_view.select_run(other)
    qtbot.waitUntil(lambda: window.details.run().info.run_id == other)
    assert not artifacts.source_picker.isVisible()
