"""The shipped example end to end, the CLI, and the rule that tracker never imports Qt."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from tracker import Client
from tracker.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_iris_example_inside_a_git_repository(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    shutil.copy(ROOT / "examples" / "iris_random_forest.py", repo / "train.py")
    subprocess.run([*GIT, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*GIT, "add", "train.py"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "train"], cwd=repo, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    runs = tmp_path / "runs"
    result = subprocess.run([sys.executable, "train.py"], cwd=repo, capture_output=True, text=True,
                            env={**os.environ, "TRACKER_DIR": str(runs)}, timeout=120)
    assert result.returncode == 0, result.stderr
    run = Client(runs).search_runs()[0]
    assert result.stdout.strip() == f"MLflow Run completed. Artifacts logged to: {run.info.artifact_uri}"
    assert run.info.run_name == "Iris RF Example" and run.info.status == "FINISHED"
    assert run.data.params == {"n_estimators": "100", "max_depth": "10"}
    assert 0.9 < run.data.metrics["accuracy"] <= 1.0
    assert run.data.tags["tracker.source.git.commit"] == commit
    assert run.data.tags["tracker.source.git.dirty"] == "false"
    assert run.data.tags["tracker.source.name"].endswith("train.py")
    tracker.set_tracking_dir(runs)
    model = tracker.load_model(f"runs:/{run.info.run_id}/random-forest-model", trusted=["sklearn.tree._tree.Tree"])
    assert model.n_estimators == 100


def test_cli_ls_filter_sort_and_show(capsys):
    for depth, acc in ((2, 0.8), (10, 0.95), (5, 0.91)):
        with tracker.start_run(run_name=f"d{depth}"):
            tracker.log_param("max_depth", depth)
            tracker.log_metric("accuracy", acc)
    assert cli(["ls", "--filter", "metrics.accuracy > 0.9", "--sort", "metrics.accuracy DESC"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["RUN", "ID"]
    assert [line.split()[1] for line in lines[1:]] == ["d10", "d5"]
    run = Client().search_runs(filter_string="params.max_depth = '10'")[0]
    assert cli(["show", run.info.run_id[:8]]) == 0
    out = capsys.readouterr().out
    assert "d10" in out and "max_depth = 10" in out and "accuracy: 0.95" in out


def test_cli_reports_bad_filters_and_unknown_runs(capsys):
    assert cli(["ls", "--filter", "metrics.accuracy >"]) == 2
    assert "position" in capsys.readouterr().err
    assert cli(["show", "f" * 32]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_demo_writes_the_grid_and_a_training_curve(tmp_path, capsys):
    assert cli(["demo", str(tmp_path / "demo")]) == 0
    runs = Client(tmp_path / "demo").search_runs()
    grid = [r for r in runs if r.info.experiment == "iris-random-forest"]
    assert len(grid) == 9
    assert {(r.data.params["n_estimators"], r.data.params["max_depth"]) for r in grid} == {
        (n, d) for n in ("2", "10", "100") for d in ("1", "2", "10")}
    long = next(r for r in runs if r.info.run_name == "mlp-long-training")
    assert long.data.summaries["train/loss"].count == 200
    out = capsys.readouterr().out
    assert "Wrote demo runs" in out
    assert "Registered model iris-classifier: v1 Archived, v2 Production @champion, v3 Staging @challenger" in out


def test_tracker_never_imports_qt():
    code = ("import sys, tracker, tracker.cli, tracker.sklearn, tracker.demo\n"
            "tracker.Client().search_runs()\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'app')]\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_ui_hands_over_to_the_app_without_importing_it(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    assert cli(["ui", str(tmp_path)]) == 0
    assert calls == [[sys.executable, "-m", "app.main", str(tmp_path)]]
