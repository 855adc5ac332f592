"""The reproduce command reruns a run made by a script in a real git repository, dirty tree included."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from tracker.reproduce import RunSource, reproduce

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ROOT = Path(__file__).resolve().parents[1]

TRAIN = """\
import argparse, sys
from pathlib import Path
import tracker

WORD = {word!r}
parser = argparse.ArgumentParser()
parser.add_argument("--out")
parser.add_argument("--suffix")
args = parser.parse_args()
with tracker.start_run(run_name="repro"):
    tracker.log_param("word", WORD)
    Path(args.out).write_text(WORD + args.suffix + "\\n" + sys.executable)
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True, env=_env()).stdout.strip()


def _env(runs: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "PYTHONPATH": str(ROOT)}
    if runs is not None:
        env["TRACKER_DIR"] = str(runs)
    return env


@pytest.fixture
def repo(tmp_path) -> Path:
    """src/train.py committed, writing WORD = "committed" to the file --out names."""
    path = tmp_path / "my repo"  # a space: every part of the command must be quoted
    (path / "src").mkdir(parents=True)
    git(path, "init", "-q")
    (path / "src" / "train.py").write_text(TRAIN.format(word="committed"))
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path


def run_script(repo: Path, runs: Path, out: Path) -> tracker.entities.Run:
    """Run src/train.py from src/ (argv[0] relative to a folder the run does not record)."""
    subprocess.run([sys.executable, "train.py", "--out", str(out), "--suffix", " it's & $HOME"], cwd=repo / "src",
                   env=_env(runs), check=True, capture_output=True, timeout=120)
    (run,) = tracker.Client(runs).search_runs()
    return run


def test_a_run_from_a_dirty_tree_is_reproduced_by_its_command(repo, tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out dir" / "result.txt"
    out.parent.mkdir()
    (repo / "src" / "train.py").write_text(TRAIN.format(word="uncommitted edit"))  # the tree is dirty
    (repo / "notes.txt").write_text("scratch\n")  # and has an untracked file
    run = run_script(repo, runs, out)
    assert out.read_text() == "uncommitted edit it's & $HOME\n" + sys.executable
    assert run.data.tags["tracker.python.executable"] == sys.executable

    # The repository moves on (the edit thrown away, a later commit changes the word), and the
    # folder the run came from is now a fresh clone of it, at that later commit.
    git(repo, "checkout", "--", ".")
    (repo / "notes.txt").unlink()
    (repo / "src" / "train.py").write_text(TRAIN.format(word="later"))
    git(repo, "commit", "-qam", "later")
    origin = tmp_path / "origin"
    repo.rename(origin)
    git(tmp_path, "clone", "-q", str(origin), str(repo))
    out.unlink()

    result = reproduce(RunSource.of_run(tracker.Client(runs).get_run(run.info.run_id)))
    assert not result.problem
    steps = [shlex.split(step) for step in result.command.split(" && ")]
    patch = Path(run.path) / "artifacts" / "tracker" / "git_diff.patch"
    assert steps[0] == ["cd", str(repo)]
    assert steps[1] == ["git", "checkout", run.data.tags["tracker.source.git.commit"]]
    assert steps[2] == ["git", "apply", str(patch)]
    assert steps[3] == ["cd", "src"]  # where it was started: argv is relative to that folder
    assert steps[4][:2] == [sys.executable, "train.py"]
    assert any("notes.txt" in note for note in result.notes)  # untracked files are not restored

    done = subprocess.run(["/bin/sh", "-c", result.command], env=_env(runs), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "uncommitted edit it's & $HOME\n" + sys.executable
    assert git(repo, "rev-parse", "HEAD") == run.data.tags["tracker.source.git.commit"]


def test_a_clean_run_checks_out_and_runs_without_applying(repo, tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "result.txt"
    run = run_script(repo, runs, out)
    result = reproduce(RunSource.of_run(run))
    assert "git apply" not in result.command
    assert result.command == shlex.join(["cd", str(repo)]) + " && git checkout " + \
        run.data.tags["tracker.source.git.commit"] + " && cd src && " + \
        shlex.join([sys.executable, "train.py", "--out", str(out), "--suffix", " it's & $HOME"])
    assert run.data.tags["tracker.source.git.root"] == str(repo)
    assert run.data.tags["tracker.source.cwd"] == str(repo / "src")


def test_a_run_started_outside_its_repository_goes_back_to_that_folder(repo, tmp_path):
    runs, elsewhere = tmp_path / "runs", tmp_path / "work"
    elsewhere.mkdir()
    subprocess.run([sys.executable, str(repo / "src" / "train.py"), "--out", "result.txt", "--suffix", "!"],
                   cwd=elsewhere, env=_env(runs), check=True, capture_output=True, timeout=120)
    (run,) = tracker.Client(runs).search_runs()
    (elsewhere / "result.txt").unlink()
    result = reproduce(RunSource.of_run(run))
    steps = [shlex.split(step) for step in result.command.split(" && ")]
    assert steps[0] == ["cd", str(repo)] and steps[2] == ["cd", str(elsewhere)]
    done = subprocess.run(["/bin/sh", "-c", result.command], env=_env(runs), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "result.txt").read_text().startswith("committed!")


def test_a_missing_repository_is_said_instead_of_a_command(repo, tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "result.txt"
    run = run_script(repo, runs, out)
    shutil.rmtree(repo)
    result = reproduce(RunSource.of_run(run))
    assert result.command == "" and not result
    assert result.problem.startswith(f"The repository this run came from ({repo}) no longer exists")


def test_a_dirty_run_whose_diff_is_gone_has_no_command(repo, tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "result.txt"
    (repo / "src" / "train.py").write_text(TRAIN.format(word="edit"))
    run = run_script(repo, runs, out)
    (Path(run.path) / "artifacts" / "tracker" / "git_diff.patch").unlink()
    result = reproduce(RunSource.of_run(run))
    assert result.command == ""
    assert result.problem == "The working tree had uncommitted changes, and the saved diff is gone"


def test_what_was_not_recorded_is_said():
    assert reproduce(RunSource()).problem == "This run recorded no command line"
    assert "notebook" in reproduce(RunSource(argv=("x",), source_type="NOTEBOOK")).problem
    old = reproduce(RunSource(argv=("/abs/train.py", "--a", "b c")))  # no git, no interpreter recorded
    assert old.command == "python /abs/train.py --a 'b c'"
    assert any("python" in note for note in old.notes) and any("git" in note for note in old.notes)
