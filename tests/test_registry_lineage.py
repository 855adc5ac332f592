"""Lineage (run, params, metrics, git commit) of registered versions, and "who produced this file?"."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import tracker

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo, *args) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A throwaway repository with a committed train.py, made the running script."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("print('training')\n")
    git(path, "add", "train.py")
    git(path, "commit", "-q", "-m", "first model")
    git(path, "remote", "add", "origin", "https://token@example.com/team/models.git")
    monkeypatch.setattr(sys, "argv", [str(path / "train.py"), "--epochs", "3"])
    return path


def train_and_register(tmp_path, name="clf"):
    with tracker.start_run(experiment="exp") as run:
        tracker.log_params({"lr": 0.1, "depth": 3})
        tracker.log_metric("loss", 0.5, step=0)
        tracker.log_metric("loss", 0.25, step=1)
        weights = tmp_path / "weights.bin"
        weights.write_bytes(b"trained weights")
        tracker.log_artifact(weights, "model")
    mv = tracker.register_model(f"runs:/{run.info.run_id}/model/weights.bin", name)
    return run.info.run_id, mv


@needs_git
def test_lineage_shows_the_commit_of_a_temporary_repository(repo, tmp_path):
    head = git(repo, "rev-parse", "HEAD")
    run_id, mv = train_and_register(tmp_path)
    client = tracker.Client()
    lin = client.get_model_lineage("clf", mv.version)
    assert lin.git_commit == head and len(head) == 40
    assert lin.git_branch == "main" and lin.git_dirty is False and lin.git_diff_artifact is None
    assert lin.git_repo_url == "https://example.com/team/models.git"  # credentials stripped
    assert lin.git_commit_details["message"] == "first model" and lin.git_commit_details["author"] == "t"
    assert lin.run_id == run_id and lin.run_link == "run" and lin.run_exists
    assert lin.run_artifact_path == "model/weights.bin" and lin.experiment == "exp"
    assert lin.params == {"lr": "0.1", "depth": "3"} and lin.metrics == {"loss": 0.25}
    assert lin.source_name == str(repo / "train.py") and lin.source_argv[1:] == ["--epochs", "3"]
    assert list(lin.files) == ["weights.bin"]
    assert client.get_model_version("clf", mv.version).experiment == "exp"


@needs_git
def test_lineage_of_a_dirty_tree_keeps_the_diff_and_survives_run_deletion(repo, tmp_path):
    (repo / "train.py").write_text("print('training harder')\n")
    run_id, mv = train_and_register(tmp_path)
    client = tracker.Client()
    client.delete_run(run_id)
    lin = client.get_model_lineage("clf", mv.version)
    assert not lin.run_exists and lin.run_id == run_id
    assert lin.git_commit == git(repo, "rev-parse", "HEAD") and lin.git_dirty is True
    assert lin.git_diff_artifact == "tracker/git_diff.patch" and "training harder" in lin.git_diff
    assert lin.params["lr"] == "0.1" and lin.metrics == {"loss": 0.25}
    assert client.resolve_models_uri(f"models:/clf/{mv.version}").read_bytes() == b"trained weights"


def test_reverse_lookup_links_a_file_from_outside_any_run(tmp_path):
    with tracker.start_run() as first:
        tracker.log_text("same content", "out/model.txt")
    with tracker.start_run() as second:
        tracker.log_text("same content", "copy.txt")
        tracker.log_text("same size!!!", "decoy.txt")  # equal size, other content: never matched
        tracker.log_param("p", 1)
    outside = tmp_path / "downloads" / "model.txt"
    outside.parent.mkdir()
    outside.write_text("same content")
    client = tracker.Client()
    matches = client.find_runs_by_file(outside)
    assert [(m.run_id, m.artifact_path) for m in matches] == [
        (first.info.run_id, "out/model.txt"), (second.info.run_id, "copy.txt")]
    mv = client.register_model(outside, "found")
    assert (mv.run_id, mv.run_link) == (first.info.run_id, "sha256")  # the earliest run produced it
    lin = client.get_model_lineage("found", 1)
    assert lin.run_artifact_path == "out/model.txt" and lin.other_runs == [second.info.run_id]
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("nobody made this")
    mv = client.register_model(unknown, "lost")
    assert mv.run_id is None and mv.run_link is None
    assert client.get_model_lineage("lost", 1).run_id is None


def test_reverse_lookup_only_hashes_files_of_equal_size(tmp_path, monkeypatch):
    from tracker.registry import lineage
    with tracker.start_run():
        for i in range(5):
            tracker.log_text("x" * (100 + i), f"f{i}.txt")
    target = tmp_path / "t.txt"
    target.write_text("x" * 103)
    hashed = []
    real = lineage._sha256
    monkeypatch.setattr(lineage, "_sha256", lambda p: hashed.append(p) or real(p))
    assert [m.artifact_path for m in tracker.Client().find_runs_by_file(target)] == ["f3.txt"]
    assert [os.path.basename(p) for p in hashed] == ["f3.txt"]


def test_directory_lookup_by_content_and_manifest(tmp_path):
    from sklearn.linear_model import LinearRegression
    model = LinearRegression().fit([[0], [1]], [0, 1])
    with tracker.start_run() as run:
        tracker.sklearn.log_model(model, "model")
    client = tracker.Client()
    art = client.tracking_dir / run.info.run_id / "artifacts" / "model"
    copy = tmp_path / "exported"
    shutil.copytree(art, copy)
    mv = client.register_model(copy, "by-manifest")
    assert (mv.run_id, mv.run_link) == (run.info.run_id, "manifest")
    manifest = json.loads((copy / "tracker-model.json").read_text())
    manifest["run_id"] = None  # a manifest that names no run: found by the largest file's content
    os.chmod(copy / "tracker-model.json", 0o644)
    (copy / "tracker-model.json").write_text(json.dumps(manifest))
    mv = client.register_model(copy, "by-content")
    assert (mv.run_id, mv.run_link) == (run.info.run_id, "sha256")
    assert client.get_model_lineage("by-content", 1).run_artifact_path == "model/model.skops"


def test_create_model_version_with_explicit_run_and_copy_from_models_uri(tmp_path):
    with tracker.start_run() as run:
        tracker.log_param("seed", 7)
    client = tracker.Client()
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"w")
    mv = client.create_model_version("m", str(weights), run_id=run.info.run_id)
    assert (mv.run_id, mv.run_link) == (run.info.run_id, "run")
    with pytest.raises(ValueError, match="no run"):
        client.create_model_version("m", str(weights), run_id="f" * 32)
    copied = client.register_model("models:/m/1", "m-prod")
    assert (copied.run_id, copied.run_link) == (run.info.run_id, "model")
    assert client.get_model_lineage("m-prod", 1).params == {"seed": "7"}
