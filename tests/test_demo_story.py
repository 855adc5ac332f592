"""``tracker demo`` tells a plausible story: runs spread over the last days with durations and
per-step timestamps like real training, the newest run a good one, and a registered model with
versions in Staging, Production and Archived, aliases, and lineage to the demo's runs."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import tracker
from tracker.demo import MODEL_NAME, write_demo_runs

NOW = 1_780_000_000.0  # a fixed "now" (seconds): the timeline is relative to it
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "runs"
    write_demo_runs(root, now=NOW)
    return root


def _runs(root: Path) -> dict[str, tracker.entities.Run]:
    return {r.info.run_name: r for r in tracker.Client(root).search_runs()}


def test_runs_start_over_the_last_days_and_last_as_long_as_training_does(demo):
    runs = _runs(demo)
    starts = sorted(r.info.start_time for r in runs.values())
    assert starts[-1] < NOW * 1000 and starts[0] > NOW * 1000 - 7 * DAY_MS
    assert starts[-1] - starts[0] > 2 * DAY_MS  # not all in one minute: days apart
    assert len({s // 60_000 for s in starts}) >= 10  # hardly two runs start in the same minute
    for run in runs.values():
        duration = run.info.end_time - run.info.start_time
        assert 1_000 <= duration <= 3_600_000, (run.info.run_name, duration)
    long = runs["mlp-long-training"].info
    assert 5 * 60_000 < long.end_time - long.start_time < 60 * 60_000  # 200 epochs: minutes, not 41 ms
    forest = runs["rf-2-1"].info
    assert forest.end_time - forest.start_time < 30_000  # a small forest: seconds


def test_each_steps_timestamp_is_when_its_epoch_ended(demo):
    client = tracker.Client(demo)
    for name in ("mlp-long-training", "sgd-lr-0.01", "mlp-diverged"):
        run = _runs(demo)[name]
        series = client.metric_series(run.info.run_id, "train/loss")
        gaps = np.diff(series.timestamps)
        assert len(series.timestamps) > 2 and (np.diff(series.steps) == 1).all()
        assert (gaps >= 1_000).all() and (gaps <= 10_000).all(), name  # seconds per epoch
        assert run.info.start_time < series.timestamps[0] and series.timestamps[-1] <= run.info.end_time


def test_the_newest_run_is_not_a_failed_one(demo):
    runs = tracker.Client(demo).search_runs()  # newest first, as the app's table
    assert runs[0].info.status == "FINISHED"
    assert runs[0].info.run_name == "mlp-long-training"  # curves to show on the Charts tab at once
    top_level = [r for r in runs if not r.info.parent_run_id]
    assert top_level[0].info.status == "FINISHED"
    failed = [r.info.run_name for r in runs if r.info.status == "FAILED"]
    assert failed == ["mlp-diverged"]


def test_sweep_runs_are_nested_under_their_parent(demo):
    runs = _runs(demo)
    parent = runs["lr-sweep"].info
    children = [r.info for r in runs.values() if r.info.parent_run_id == parent.run_id]
    assert sorted(c.run_name for c in children) == ["sgd-lr-0.001", "sgd-lr-0.01", "sgd-lr-0.1"]
    assert all(parent.start_time < c.start_time and c.end_time <= parent.end_time for c in children)
    sweep = runs["lr-sweep"].data
    best = max(children, key=lambda c: runs[c.run_name].data.metrics["val/accuracy"])
    assert sweep.params["best_lr"] == runs[best.run_name].data.params["lr"]
    assert sweep.metrics["best/val_accuracy"] == runs[best.run_name].data.metrics["val/accuracy"]


def test_a_registered_model_with_stages_aliases_and_lineage(demo):
    client = tracker.Client(demo)
    model = client.get_registered_model(MODEL_NAME)
    assert set(model.stage_versions) == {"Archived", "Production", "Staging"}
    assert model.aliases["champion"] in model.stage_versions["Production"]
    assert model.aliases["challenger"] in model.stage_versions["Staging"]
    assert model.archived_aliases() == {}
    runs = {r.info.run_id: r for r in client.search_runs()}
    for mv in client.list_model_versions(MODEL_NAME):
        lineage = client.get_model_lineage(MODEL_NAME, mv.version)
        run = runs[mv.run_id]
        assert lineage.run_exists and lineage.run_name == run.info.run_name
        assert lineage.experiment == "iris-random-forest"
        assert lineage.params["n_estimators"] == run.data.params["n_estimators"]
    history = [e.action for e in client.get_model_history(MODEL_NAME)]
    assert history.count("register") == 3 and "alias_set" in history and "stage" in history
    previous = tracker.get_tracking_dir()
    tracker.set_tracking_dir(demo)
    try:
        from tracker import sklearn as tracker_sklearn
        champion = tracker_sklearn.load_model(f"models:/{MODEL_NAME}@champion")
        assert champion.predict([[5.1, 3.5, 1.4, 0.2]]).tolist() == [0]
    finally:
        tracker.set_tracking_dir(previous)


def test_demo_written_again_into_the_same_folder(tmp_path):
    write_demo_runs(tmp_path, now=time.time())
    client = tracker.Client(tmp_path)
    client.delete_registered_model(MODEL_NAME)  # the person cleared the demo's model: it stays gone
    write_demo_runs(tmp_path, now=time.time())
    assert len(client.search_runs()) == 30
    assert client.search_registered_models() == []
    assert len(client.list_model_versions(MODEL_NAME, include_deleted=True)) == 3


def test_the_app_opens_the_demo_on_a_finished_run_with_the_registry_filled(qtbot, demo):
    from app_fixtures import open_window
    window = open_window(qtbot, demo)
    qtbot.waitUntil(lambda: window.runs_view.current_run() is not None, timeout=10000)
    assert window.runs_view.current_run().info.status == "FINISHED"
    panel = window.registry_panel
    qtbot.waitUntil(lambda: panel.selected_model() == MODEL_NAME
                    and panel.ui.versions_model.rowCount() == 3, timeout=10000)
    stages = {v.current_stage for v in panel.ui.versions_model.versions()}
    assert stages == {"Archived", "Production", "Staging"}
    panel.shutdown()
