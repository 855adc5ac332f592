"""Tests for tracker.context: run context capture and git state, on throwaway repositories."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types

import pytest

from tracker import context
from tracker.context import (capture_context, find_git_root, git_commit_details, git_info,
                             strip_credentials)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    """Isolate git from the machine's config, so tests pass with no ~/.gitconfig at all."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Ada Lovelace")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2024-05-06T07:08:09+02:00")


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(git_env, tmp_path):
    """A repository with one commit on ``main``, a tracked script and a .gitignore."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")  # independent of init.defaultBranch
    (path / "train.py").write_text("print('hi')\n")
    (path / ".gitignore").write_text("*.log\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "Initial commit\n\nWith a body.")
    return path


def git_tags(ctx) -> dict[str, str]:
    return {k: v for k, v in ctx.tags.items() if k.startswith("tracker.source.git.")}


@pytest.fixture
def outside_repo(tmp_path):
    if find_git_root(str(tmp_path)) is not None:
        pytest.skip("the temporary directory is itself inside a git repository")
    return tmp_path


@pytest.fixture
def no_subprocess(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError(f"unexpected subprocess: {args}")
    monkeypatch.setattr(subprocess, "run", fail)


# ------------------------------------------------------------------------------ git states

@needs_git
def test_clean_repository(repo):
    ctx = capture_context(script_path=str(repo / "train.py"), cwd=str(repo))
    assert git_tags(ctx) == {
        "tracker.source.git.commit": git(repo, "rev-parse", "HEAD"),
        "tracker.source.git.branch": "main",
        "tracker.source.git.repoURL": "",  # no remote
        "tracker.source.git.dirty": "false",
        "tracker.source.git.root": str(repo),
    }
    assert ctx.tags["tracker.source.cwd"] == str(repo)
    assert len(ctx.tags["tracker.source.git.commit"]) == 40
    assert ctx.git_diff is None


@needs_git
def test_modified_tracked_file_is_dirty_with_diff(repo):
    (repo / "train.py").write_text("print('changed')\n")
    ctx = capture_context(script_path=str(repo / "train.py"))
    assert ctx.tags["tracker.source.git.dirty"] == "true"
    assert "-print('hi')" in ctx.git_diff and "+print('changed')" in ctx.git_diff


@needs_git
def test_staged_new_file_appears_in_diff(repo):
    (repo / "model.py").write_text("W = 1\n")
    git(repo, "add", "model.py")
    ctx = capture_context(script_path=str(repo / "train.py"))
    assert ctx.tags["tracker.source.git.dirty"] == "true"
    assert "+W = 1" in ctx.git_diff


@needs_git
def test_untracked_files_are_dirty_but_ignored_ones_are_not(repo):
    (repo / "debug.log").write_text("ignored\n")
    assert git_info(str(repo))["dirty"] == "false"
    assert capture_context(script_path=str(repo / "train.py")).git_diff is None

    (repo / "notes.txt").write_text("untracked\n")
    ctx = capture_context(script_path=str(repo / "train.py"))
    assert ctx.tags["tracker.source.git.dirty"] == "true"
    assert "# untracked: notes.txt\n" in ctx.git_diff
    assert "debug.log" not in ctx.git_diff


@needs_git
def test_diff_with_untracked_header_still_applies(repo):
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "notes.txt").write_text("untracked\n")
    diff = capture_context(script_path=str(repo / "train.py")).git_diff
    git(repo, "checkout", "-q", "--", "train.py")
    subprocess.run(["git", "apply", "-"], cwd=repo, input=diff, text=True, check=True)
    assert (repo / "train.py").read_text() == "print('changed')\n"


@needs_git
def test_a_huge_diff_is_cut_at_a_line_and_says_so(repo, monkeypatch):
    monkeypatch.setattr(context, "MAX_DIFF_CHARS", 2_000)
    (repo / "train.py").write_text("".join(f"print({i})\n" for i in range(1_000)))
    diff = capture_context(script_path=str(repo / "train.py")).git_diff
    body, _, marker = diff.rstrip("\n").rpartition("\n")
    assert len(body) < 2_000 and body.startswith("diff --git")
    assert body.endswith(")")  # whole lines only
    assert marker.startswith("# tracker: diff truncated to its first") and "it will not apply" in marker


@needs_git
def test_detached_head_has_empty_branch(repo):
    git(repo, "checkout", "-q", "--detach")
    info = git_info(str(repo))
    assert info["branch"] == "" and info["commit"] == git(repo, "rev-parse", "HEAD")
    assert capture_context(cwd=str(repo), script_path="-c").tags[
        "tracker.source.git.branch"] == ""


@needs_git
def test_repository_without_commits(git_env, tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "train.py").write_text("x\n")
    assert git_info(str(tmp_path)) == {"commit": "", "branch": "", "repoURL": "", "dirty": ""}
    ctx = capture_context(script_path=str(tmp_path / "train.py"))
    assert git_tags(ctx) == {} and ctx.git_diff is None


@needs_git
def test_broken_repository_gives_empty_fields(tmp_path):
    (tmp_path / ".git").mkdir()  # looks like a repository to find_git_root, not to git
    assert git_info(str(tmp_path))["commit"] == ""
    assert git_tags(capture_context(cwd=str(tmp_path), script_path="-c")) == {}


def test_missing_git_binary_gives_empty_fields(monkeypatch, tmp_path):
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert git_info(str(tmp_path)) == {"commit": "", "branch": "", "repoURL": "", "dirty": ""}
    assert git_commit_details(str(tmp_path), "HEAD") is None


@needs_git
def test_inherited_git_dir_is_ignored(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # as inside a git hook
    assert git_info(str(repo))["commit"] == git(repo, "--git-dir", str(repo / ".git"),
                                                 "rev-parse", "HEAD")


@needs_git
def test_git_invocations_are_minimal(repo, monkeypatch):
    calls = []
    real_run = subprocess.run

    def counting_run(cmd, **kwargs):
        calls.append(cmd)
        return real_run(cmd, **kwargs)
    monkeypatch.setattr(subprocess, "run", counting_run)
    capture_context(script_path=str(repo / "train.py"))
    assert len(calls) == 2  # status + remote lookup
    calls.clear()
    (repo / "notes.txt").write_text("x\n")
    capture_context(script_path=str(repo / "train.py"))
    assert len(calls) == 3 and calls[-1][1:3] == ["diff", "HEAD"]
    assert all(c[0] == "git" for c in calls)


# ------------------------------------------------------------------------------ remotes

@needs_git
def test_origin_remote_is_preferred_and_credentials_stripped(repo):
    git(repo, "remote", "add", "backup", "https://backup.example.com/r.git")
    git(repo, "remote", "add", "origin", "https://ada:ghp_secret@github.com/o/r.git")
    assert git_info(str(repo))["repoURL"] == "https://github.com/o/r.git"


@needs_git
def test_first_remote_when_there_is_no_origin(repo):
    git(repo, "remote", "add", "upstream", "git@github.com:o/r.git")
    git(repo, "remote", "add", "zzz", "https://example.com/z.git")
    assert git_info(str(repo))["repoURL"] == "git@github.com:o/r.git"


@pytest.mark.parametrize("url, expected", [
    ("https://user:token@host/x.git", "https://host/x.git"),
    ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
    ("http://u:p@ss@host:8080/x.git", "http://host:8080/x.git"),
    ("HTTPS://oauth2:abc@gitlab.com/g/p.git", "HTTPS://gitlab.com/g/p.git"),
    ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ("ssh://git:secret@host:22/o/r.git", "ssh://git@host:22/o/r.git"),
    ("ssh://git@host/o/r.git", "ssh://git@host/o/r.git"),
    ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    ("/srv/git/r.git", "/srv/git/r.git"),
    ("file:///srv/git/r.git", "file:///srv/git/r.git"),
    ("", ""),
])
def test_strip_credentials(url, expected):
    assert strip_credentials(url) == expected


# ------------------------------------------------------------------------------ commit details

@needs_git
def test_git_commit_details(repo):
    sha = git(repo, "rev-parse", "HEAD")
    assert git_commit_details(str(repo), sha) == {
        "author": "Ada Lovelace", "author_email": "ada@example.com",
        "date": "2024-05-06T07:08:09+02:00", "message": "Initial commit\n\nWith a body.",
    }


@needs_git
def test_git_commit_details_unavailable(repo, tmp_path):
    assert git_commit_details(str(repo), "0" * 40) is None
    assert git_commit_details(str(repo), "--output=/tmp/x") is None
    sha = git(repo, "rev-parse", "HEAD")
    shutil.rmtree(repo)
    assert git_commit_details(str(repo), sha) is None


# ------------------------------------------------------------------------------ no repository

def test_no_repository_means_no_git_tags_and_no_subprocess(outside_repo, no_subprocess):
    script = outside_repo / "train.py"
    script.write_text("x\n")
    ctx = capture_context(script_path=str(script), cwd=str(outside_repo))
    assert git_tags(ctx) == {} and ctx.git_diff is None
    assert git_info(str(outside_repo))["commit"] == ""


def test_find_git_root(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / ".git").write_text("gitdir: /elsewhere\n")  # worktree/submodule form
    (nested / "f.py").write_text("")
    assert find_git_root(str(nested)) == str(tmp_path / "a")
    assert find_git_root(str(nested / "f.py")) == str(tmp_path / "a")


@needs_git
def test_script_directory_wins_then_working_directory(repo, git_env, tmp_path, outside_repo):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    git(other, "commit", "-q", "--allow-empty", "-m", "other")
    ctx = capture_context(script_path=str(repo / "train.py"), cwd=str(other))
    assert ctx.tags["tracker.source.git.commit"] == git(repo, "rev-parse", "HEAD")

    loose = outside_repo / "loose.py"  # e.g. a console script installed outside the checkout
    loose.write_text("x\n")
    ctx = capture_context(script_path=str(loose), cwd=str(other))
    assert ctx.tags["tracker.source.git.commit"] == git(other, "rev-parse", "HEAD")


# ------------------------------------------------------------------------------ source & env

def test_source_tags_for_a_script(tmp_path, monkeypatch):
    script = tmp_path / "train.py"
    script.write_text("x\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.1"])
    tags = capture_context().tags
    assert tags["tracker.source.name"] == str(script)  # made absolute
    assert tags["tracker.source.type"] == "SCRIPT"
    assert json.loads(tags["tracker.source.argv"]) == ["train.py", "--lr", "0.1"]


@pytest.mark.parametrize("argv0", ["-c", ""])
def test_source_tags_when_interactive(monkeypatch, argv0):
    monkeypatch.setattr(sys, "argv", [argv0])
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    tags = capture_context().tags
    assert tags["tracker.source.name"] == "<interactive>"
    assert tags["tracker.source.type"] == "INTERACTIVE"


def test_environment_tags(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    tags = capture_context(script_path="-c").tags
    assert tags["tracker.python.version"] == ".".join(map(str, sys.version_info[:3]))
    assert tags["tracker.pid"] == str(os.getpid())
    assert tags["tracker.host"] and tags["tracker.user"] and tags["tracker.platform"]
    assert "tracker.versions.numpy" in tags  # a dependency of the project
    assert "tracker.versions.torch" not in tags
    assert all(isinstance(v, str) for v in tags.values())


def test_torch_version_only_when_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(__version__="9.9.9"))
    tags = capture_context(script_path="-c").tags
    assert tags["tracker.versions.torch"]  # real metadata if installed, else the module's


def test_sklearn_version_is_read_without_importing_it(monkeypatch):
    context._static_tags.cache_clear()
    context._dist_version.cache_clear()
    monkeypatch.delitem(sys.modules, "sklearn", raising=False)
    tags = capture_context(script_path="-c").tags
    assert "sklearn" not in sys.modules
    assert "tracker.versions.sklearn" in tags  # a dependency of the project
