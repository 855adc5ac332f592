"""The lineage view: a version registered from a run of a script in a temporary git repository."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from registry_panel_fixtures import *  # noqa: F403
from registry_panel_fixtures import OFFSCREEN_NOISE, artifact_run, register_file, wait_for_versions

import tracker
from app.registry.dialogs import Registration
from app.registry.panel import RegistryPanel

pytestmark = [OFFSCREEN_NOISE, pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")]

TRAIN = """\
import argparse
import numpy as np
from sklearn.linear_model import LogisticRegression
import tracker
import tracker.sklearn

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=1.0)
args = parser.parse_args()
x = np.array([[0.0], [1.0], [2.0], [3.0]])
y = np.array([0, 0, 1, 1])
with tracker.start_run(run_name="logreg", experiment="lineage-exp"):
    tracker.log_param("lr", args.lr)
    model = LogisticRegression(C=args.lr).fit(x, y)
    tracker.log_metric("accuracy", 0.5, step=0)
    tracker.log_metric("accuracy", model.score(x, y), step=1)
    tracker.sklearn.log_model(model, "model")
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory) -> dict:
    """train.py committed in a fresh repository, run twice with TRACKER_DIR (clean, then with an
    uncommitted edit): {"repo", "head", "runs": folder, "clean": run id, "dirty": run id}."""
    base = tmp_path_factory.mktemp("lineage")
    repo, runs = base / "repo", base / "runs"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "experiments")
    (repo / "train.py").write_text(TRAIN)
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "Logistic baseline")
    git(repo, "remote", "add", "origin", "https://example.com/team/models.git")
    env = {**os.environ, "TRACKER_DIR": str(runs), "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ids = []
    for dirty in (False, True):
        if dirty:
            (repo / "train.py").write_text(TRAIN + "# tuned by hand\n")
        subprocess.run([sys.executable, "train.py", "--lr", "0.1"], cwd=repo, env=env, check=True, timeout=120,
                       capture_output=True)
        ids.append(next(r.info.run_id for r in tracker.Client(runs).search_runs() if r.info.run_id not in ids))
    return {"repo": repo, "head": git(repo, "rev-parse", "HEAD"), "runs": runs, "clean": ids[0], "dirty": ids[1]}


@pytest.fixture
def trained(trained_runs, tracking_dir):
    """Copy one of the module's runs into this test's tracking dir; (repo, head sha, run id)."""
    def take(dirty: bool = False) -> tuple[Path, str, str]:
        run_id = trained_runs["dirty" if dirty else "clean"]
        shutil.copytree(trained_runs["runs"] / run_id, Path(tracking_dir) / run_id)
        return trained_runs["repo"], trained_runs["head"], run_id
    return take


def register_through_the_panel(qtbot, panel, monkeypatch, path: Path, name: str = "logreg") -> None:
    monkeypatch.setattr(RegistryPanel, "_ask_registration",
                        lambda self, source, model_name: Registration(name, "baseline", "Production", True))
    panel.register_paths([path])
    wait_for_versions(qtbot, panel, name, 1, timeout=10000)


def test_lineage_of_a_version_from_a_run_in_a_git_repository(qtbot, panel, trained, tracking_dir, monkeypatch):
    repo, head, run_id = trained()
    register_through_the_panel(qtbot, panel, monkeypatch, Path(tracking_dir) / run_id / "artifacts" / "model")
    view = panel.ui.lineage
    qtbot.waitUntil(lambda: view.info is not None and view.info.lineage.name == "logreg")
    fields = {k: w.text() for k, w in view.fields.items()}
    assert fields["version"].split() == ["logreg", "v1"]
    assert "logreg" in fields["run"] and run_id in fields["run"]  # the link to the run
    assert fields["experiment"] == "lineage-exp" and fields["run id"] == run_id
    assert fields["param:lr"] == "0.1" and fields["metric:accuracy"] == "1"  # the final value
    assert fields["commit"] == head and len(head) == 40
    assert fields["branch"] == "experiments" and fields["remote"] == "https://example.com/team/models.git"
    assert fields["message"] == "Logistic baseline" and fields["author"] == "t <t@t>"
    command = f"cd {shlex.quote(str(repo))} && git checkout {head} && {shlex.quote(sys.executable)} train.py --lr 0.1"
    assert fields["reproduce"] == command
    assert {"file:model.skops", "file:tracker-model.json"} <= set(fields)
    assert len(fields["file:model.skops"]) == 64
    assert view.diff_button is None  # a clean tree has no diff
    order = list(view.fields)  # version, then run, experiment, params, metrics, commit, files
    assert order.index("version") < order.index("run") < order.index("experiment") < order.index("param:lr") \
        < order.index("metric:accuracy") < order.index("commit") < order.index("file:model.skops")
    copied = []
    monkeypatch.setattr("app.shell.desktop.copy_text", copied.append)
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert copied == [command]


def test_clicking_the_run_requests_it(qtbot, panel, trained, tracking_dir, monkeypatch):
    repo, head, run_id = trained()
    register_through_the_panel(qtbot, panel, monkeypatch, Path(tracking_dir) / run_id / "artifacts" / "model")
    view = panel.ui.lineage
    qtbot.waitUntil(lambda: view.run_link is not None)
    panel.show()
    qtbot.waitExposed(panel)
    link = view.run_link
    with qtbot.waitSignal(panel.run_requested, timeout=2000) as blocker:
        point = QPoint(link.fontMetrics().horizontalAdvance("log"), link.height() // 2)
        qtbot.mouseClick(link, Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [run_id]
    with qtbot.waitSignal(panel.run_requested) as blocker:  # the context menu's "Show Producing Run"
        next(a for a in panel.version_menu().actions() if a.text() == "Show Producing &Run").trigger()
    assert blocker.args == [run_id]


def test_a_dirty_tree_shows_its_saved_diff(qtbot, panel, trained, tracking_dir, monkeypatch):
    repo, head, run_id = trained(dirty=True)
    register_through_the_panel(qtbot, panel, monkeypatch, Path(tracking_dir) / run_id / "artifacts" / "model")
    view = panel.ui.lineage
    qtbot.waitUntil(lambda: view.diff_button is not None)
    assert view.diff_button.isEnabled()
    qtbot.mouseClick(view.diff_button, Qt.MouseButton.LeftButton)
    assert view.diff_window is not None and view.diff_window.isVisible()
    assert "+# tuned by hand" in view.diff_window.text.toPlainText()
    patch = Path(tracking_dir) / run_id / "artifacts" / "tracker" / "git_diff.patch"
    assert f" && git checkout {head} && git apply {shlex.quote(str(patch))} && " in view.fields["reproduce"].text()
    view.diff_window.close()


def test_an_outside_file_shows_the_run_found_by_content_or_none(qtbot, panel, tmp_path):
    run_id, model_dir = artifact_run("producer")
    copy = tmp_path / "copy.bin"
    copy.write_bytes((model_dir / "weights.bin").read_bytes())
    client = tracker.Client()
    client.register_model(copy, "found")
    register_file(tmp_path, "lost", "nobody made this")
    panel.select_model("found") or qtbot.waitUntil(lambda: panel.select_model("found"))
    view = panel.ui.lineage
    qtbot.waitUntil(lambda: view.info is not None and view.info.lineage.name == "found")
    assert view.fields["found"].text() == "found by content hash" and "producer" in view.fields["run"].text()
    assert view.fields["matched"].text() == "identical to model/weights.bin in that run's artifacts"
    panel.select_model("lost")
    qtbot.waitUntil(lambda: view.info is not None and view.info.lineage.name == "lost")
    assert view.fields["run"].text().startswith("No producing run found")
    assert view.run_link is None


def test_reproduce_command_without_git_or_argv():
    from tracker.registry import Lineage
    from tracker.reproduce import RunSource, reproduce
    bare = Lineage(name="m", version=1, source="/x", run_id=None, run_link=None, run_exists=False)
    assert reproduce(RunSource.of_lineage(bare)).command == ""
    gone = Lineage(name="m", version=1, source="/x", run_id="r", run_link="run", run_exists=False,
                   source_name="/nowhere/sub/train.py", source_argv=["/nowhere/sub/train.py", "--name", "a b"],
                   git_commit="abc")
    found = reproduce(RunSource.of_lineage(gone))
    assert found.command == "" and found.problem.startswith("The repository this run came from (/nowhere/sub)")
