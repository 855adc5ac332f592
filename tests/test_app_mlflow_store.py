"""The app on real MLflow stores (a file store and a SQLite database, made by the ``mlflow``
package in a child process): every view shows what MLflow recorded, nothing can be written,
the window says the store is MLflow's, and runs MLflow logs while the window is open appear."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE
from test_mlflow_store_maker import GIT_COMMIT, make_store, session_store

pytestmark = OFFSCREEN_NOISE

KINDS = ["file", "sqlite"]
DESCRIBED = {"file": "MLflow file store, read-only", "sqlite": "MLflow SQLite store, read-only"}

LOG_ONE = r'''
import os, sys
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow
uri, name = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("vision")
with mlflow.start_run(run_name=name):
    mlflow.log_param("lr", 0.5)
    for step in range(3):
        mlflow.log_metric("loss", 10.0 - step, step=step)
'''


def active(expected: dict) -> list[dict]:
    live = {e["id"] for e in expected["experiments"] if e["lifecycle_stage"] == "active"}
    return [r for r in expected["runs"] if r["lifecycle_stage"] == "active" and r["experiment_id"] in live]


def open_store_window(qtbot, path: Path, count: int):
    from app.shell.window import MainWindow
    window = MainWindow(path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.runs_model.total_count() == count and not window.progress.isVisible(),
                    timeout=15000)
    return window


@pytest.fixture(params=KINDS)
def made(request, tmp_path_factory):
    path, expected = session_store(request.param, tmp_path_factory)
    return request.param, path, expected


def cell(window, run_id: str, column: str):
    model = window.runs_model
    return model.index(model.row_of(run_id), model.column_index(column)).data(Qt.ItemDataRole.UserRole)


def test_every_run_is_a_row_with_its_params_and_latest_metrics(qtbot, made):
    kind, path, expected = made
    runs = active(expected)
    window = open_store_window(qtbot, path, len(runs))
    model = window.runs_model
    for r in runs:
        run = model.get(r["run_id"])
        assert run is not None, r["run_name"]
        assert run.info.run_name == r["run_name"] and run.info.status == r["status"]
        assert dict(run.data.params) == r["params"]
        for key, value in r["metrics"].items():
            got = run.data.metrics[key]
            assert (value is None and got != got) or got == pytest.approx(value), (r["run_name"], key)
    parent = next(r for r in runs if r["run_name"] == "parent")
    assert cell(window, parent["run_id"], "metrics.loss") == pytest.approx(parent["metrics"]["loss"])
    experiments = {e["name"] for e in expected["experiments"] if e["lifecycle_stage"] == "active"}
    assert set(window._experiment_names) == experiments


def test_the_window_says_the_store_is_mlflows_and_read_only(qtbot, made):
    kind, path, expected = made
    window = open_store_window(qtbot, path, len(active(expected)))
    assert window.store_label.isVisible() and window.store_label.text() == DESCRIBED[kind]
    assert DESCRIBED[kind] in window.windowTitle()
    assert not window.demo_action.isEnabled()


def test_charts_get_the_full_history_of_a_metric(qtbot, made):
    kind, path, expected = made
    window = open_store_window(qtbot, path, len(active(expected)))
    parent = next(r for r in active(expected) if r["run_name"] == "parent")
    window.runs_view.select_run(parent["run_id"])
    window.lower_tabs.setCurrentWidget(window.plots)
    qtbot.waitUntil(lambda: window.plots.chart("loss") is not None
                    and parent["run_id"] in window.plots.chart("loss").runs
                    and window.plots.chart("loss").runs[parent["run_id"]].drawn is not None, timeout=10000)
    data = window.plots.manager.series[(parent["run_id"], "loss")]
    logged = expected["logged"]["parent"]["loss"]
    assert data.buffer is not None and len(data.buffer.steps) == len(logged)
    assert sorted(data.buffer.values.tolist()) == sorted(v for _, v in logged)


def test_the_artifacts_tree_shows_the_runs_artifacts(qtbot, made):
    kind, path, expected = made
    window = open_store_window(qtbot, path, len(active(expected)))
    parent = next(r for r in active(expected) if r["run_name"] == "parent")
    window.runs_view.select_run(parent["run_id"])
    artifacts = window.details.artifacts
    window.details.tabs.setCurrentWidget(artifacts)
    qtbot.waitUntil(lambda: window.details.run() is not None
                    and window.details.run().info.run_id == parent["run_id"])
    root = artifacts.root()
    assert root is not None
    for rel in parent["artifacts"]:
        qtbot.waitUntil(lambda rel=rel: artifacts.index_of(root / rel).isValid())
    qtbot.waitUntil(lambda: artifacts.shown_index_of(root / "notes" / "readme.txt").isValid())
    assert artifacts.select(root / "notes" / "readme.txt")
    qtbot.waitUntil(lambda: artifacts.current_preview_kind() == "text")
    assert artifacts.text_view.toPlainText() == "hello"


def test_the_registry_panel_shows_mlflows_models_read_only(qtbot, made):
    kind, path, expected = made
    window = open_store_window(qtbot, path, len(active(expected)))
    panel = window.registry_panel
    names = sorted({m["name"] for m in expected["models"]})
    qtbot.waitUntil(lambda: sorted(panel.ui.models_model.names()) == names, timeout=10000)
    assert panel.select_model("classifier")
    live = [v for v in expected["versions"] if v["name"] == "classifier"]
    aliases = next(m["aliases"] for m in expected["models"] if m["name"] == "classifier")  # alias -> version
    versions = panel.ui.versions_model
    qtbot.waitUntil(lambda: versions.rowCount() == len(live))
    for v in live:
        assert panel.select_version(v["version"])
        mv = panel.selected_version()
        assert mv.current_stage == v["current_stage"] and sorted(mv.aliases) == sorted(
            a for a, n in aliases.items() if int(n) == v["version"])
        assert mv.run_id == v["run_id"]
        # writing actions are off, with a tooltip that says why
        for action in panel.ui.stage_actions.values():
            assert not action.isEnabled() and "MLflow" in action.toolTip()
        assert not panel.transition_selected("Archived" if v["current_stage"] != "Archived" else "Staging")
    assert not panel.ui.register_button.isEnabled() and "MLflow" in panel.ui.register_button.toolTip()
    assert not panel.acceptDrops() and not panel.ui.models.acceptDrops()
    assert panel.ui.read_only_label.isVisibleTo(panel) and DESCRIBED[kind] in panel.ui.read_only_label.text()
    assert panel.ui.no_history.isVisibleTo(panel) and not panel.ui.history.isVisibleTo(panel)
    menu = panel.version_menu()
    edits = [a for a in menu.actions() if a.text().startswith("Edit")]
    assert edits and not any(a.isEnabled() for a in edits)
    # lineage from the run MLflow recorded: its git commit
    assert panel.select_version(2)
    qtbot.waitUntil(lambda: panel.ui.lineage.info is not None and panel.ui.lineage.info.lineage.version == 2)
    assert panel.ui.lineage.info.lineage.git_commit == GIT_COMMIT


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_mlflow_logs_while_the_window_is_open_appears(qtbot, kind, tmp_path):
    pytest.importorskip("mlflow")
    path, expected = make_store(kind, tmp_path / "store")
    runs = active(expected)
    window = open_store_window(qtbot, path, len(runs))
    uri = f"file://{path}" if kind == "file" else f"sqlite:///{path}"
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet",
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    done = subprocess.run([sys.executable, "-c", LOG_ONE, uri, "late-arrival"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    model = window.runs_model
    qtbot.waitUntil(lambda: model.total_count() == len(runs) + 1, timeout=15000)
    row = next(model.run_at(i) for i in range(model.rowCount()) if model.run_at(i).info.run_name == "late-arrival")
    run_id = row.info.run_id
    qtbot.waitUntil(lambda: model.get(run_id).info.status == "FINISHED"
                    and model.get(run_id).data.metrics.get("loss") == 8.0, timeout=15000)
    assert dict(model.get(run_id).data.params) == {"lr": "0.5"}


def test_file_open_mlflow_database_and_back_to_a_tracker_directory(qtbot, tmp_path_factory, runs_root, monkeypatch):
    from app_fixtures import log_run
    path, expected = session_store("sqlite", tmp_path_factory)
    log_run("ours", metrics={"acc": 0.5})
    window = open_store_window(qtbot, runs_root, 1)
    assert not window.store_label.isVisible() and window.demo_action.isEnabled()
    monkeypatch.setattr("app.runs.store_kind.ask_database", lambda parent, start: str(path))
    window.open_mlflow_action.trigger()
    qtbot.waitUntil(lambda: window.runs_model.total_count() == len(active(expected)), timeout=15000)
    assert window.store_label.text() == DESCRIBED["sqlite"] and not window.demo_action.isEnabled()
    menu = QMenu()
    window.registry_panel.extend_artifact_menu(menu, str(path))
    register = [a for a in menu.actions() if a.text().startswith("Register")]
    assert register and not register[0].isEnabled() and "MLflow" in register[0].toolTip()
    window.open_directory(runs_root)  # a tracker directory again: everything writes as before
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 1 and not window.progress.isVisible())
    assert not window.store_label.isVisible() and window.demo_action.isEnabled()
    assert window.registry_panel.ui.register_button.isEnabled() and window.registry_panel.acceptDrops()


def test_an_empty_mlflow_store_offers_no_demo_runs_and_gets_none(qtbot, tmp_path):
    root = tmp_path / "mlruns"
    (root / "0").mkdir(parents=True)
    (root / "0" / "meta.yaml").write_text(f"artifact_location: file://{root}/0\ncreation_time: 1\nexperiment_id: '0'\n"
                                          "last_update_time: 1\nlifecycle_stage: active\nname: Default\n")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    window = open_store_window(qtbot, root, 0)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome)
    assert not window.welcome.demo_button.isVisible() and not window.demo_action.isEnabled()
    window.create_demo_runs()  # even if asked: nothing is written into MLflow's store
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
