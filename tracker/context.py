"""Capture where a run came from: script, git state, interpreter, host, library versions.

``capture_context`` is called at ``start_run``; the caller stores ``RunContext.tags`` as reserved
``tracker.*`` tags (MLflow's ``mlflow.source.*`` equivalents) and ``git_diff`` as an artifact.

Everything here is best effort: a missing git binary, a broken repository or one without commits
only leaves the git fields empty, it never fails a run. It is also cheap: outside a repository no
process is spawned, and what cannot change within a process (versions, host, platform) is cached.
"""
from __future__ import annotations

import functools
import json
import os
import platform
import re
import socket
import subprocess
import sys
from dataclasses import dataclass

from .arguments import escape_undecodable

__all__ = ["RunContext", "capture_context", "find_git_root", "git_info", "git_commit_details",
           "strip_credentials"]

INTERACTIVE_NAME = "<interactive>"
NOTEBOOK_NAME = "<notebook>"
_GIT_TIMEOUT = 5  # seconds; a huge or network-mounted repository must not hang start_run
# A regenerated tracked data file can make `git diff` hundreds of MB, and every run of the
# sweep would store its own copy: keep the first 10 MB (lines) and say so at the end.
MAX_DIFF_CHARS = 10 * 1024 * 1024


@dataclass
class RunContext:
    tags: dict[str, str]
    """Reserved ``tracker.*`` tags, all values strings."""
    git_diff: str | None
    """``git diff HEAD`` (preceded by a comment listing untracked files) when dirty, else None."""


# ---------------------------------------------------------------------------------------- git

def find_git_root(start: str) -> str | None:
    """The nearest directory at or above ``start`` holding a ``.git`` entry, without running git.

    ``.git`` may be a file (worktrees, submodules), hence ``exists`` rather than ``isdir``.
    """
    path = os.path.abspath(start)
    if os.path.isfile(path):
        path = os.path.dirname(path)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _git(repo_dir: str, *args: str) -> str | None:
    """Run git in ``repo_dir``; its stdout, or None on any failure (no git, timeout, exit != 0)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")  # no index.lock; parseable output
    # We located the repository ourselves: variables inherited from e.g. a git hook would
    # point git at another one.
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    try:
        proc = subprocess.run(["git", *args], capture_output=True, timeout=_GIT_TIMEOUT,
                              cwd=repo_dir, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8", errors="replace")  # commit messages and paths are UTF-8


def _git_state(repo_dir: str) -> tuple[dict[str, str], list[str]]:
    """``git_info`` plus the untracked paths; two git calls (status, config) at most."""
    info = {"commit": "", "branch": "", "repoURL": "", "dirty": ""}
    root = find_git_root(repo_dir)
    if root is None:
        return info, []
    # One status call yields commit, branch and dirtiness. Untracked files are forced on (a user's
    # status.showUntrackedFiles=no must not hide them); renames and ahead/behind counts are
    # skipped since they cost history walks and are not needed.
    out = _git(root, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal",
               "--no-renames", "--no-ahead-behind")
    if out is None:
        return info, []
    commit, branch, dirty, untracked = "", "", False, []
    for entry in out.split("\0"):
        if entry.startswith("# branch.oid "):
            commit = entry[len("# branch.oid "):]
        elif entry.startswith("# branch.head "):
            branch = entry[len("# branch.head "):]
        elif entry.startswith("? "):
            dirty = True
            untracked.append(entry[2:])
        elif entry and not entry.startswith("#"):
            dirty = True  # changed ("1 "), unmerged ("u ") entries
    if not commit or commit == "(initial)":  # no commits yet: nothing to point lineage at
        return info, []
    info.update(commit=commit, branch="" if branch == "(detached)" else branch,
                dirty="true" if dirty else "false", repoURL=_remote_url(root))
    return info, untracked


def _remote_url(root: str) -> str:
    # All remotes in config order in one call; exits 1 when there is none.
    out = _git(root, "config", "--get-regexp", r"^remote\..*\.url$") or ""
    urls: dict[str, str] = {}
    for line in out.splitlines():
        key, _, url = line.partition(" ")
        urls.setdefault(key[len("remote."):-len(".url")], url)
    url = urls.get("origin") or next(iter(urls.values()), "")
    return strip_credentials(url)


def git_info(repo_dir: str) -> dict[str, str]:
    """``commit``, ``branch``, ``repoURL``, ``dirty`` ("true"/"false") of the repository holding
    ``repo_dir``; every value is "" when there is no usable repository or no commit yet.

    ``branch`` is "" on a detached HEAD; untracked files that are not ignored make it dirty.
    """
    return _git_state(repo_dir)[0]


def git_commit_details(repo_dir: str, commit: str) -> dict[str, str] | None:
    """``author``, ``author_email``, ``date`` (ISO 8601) and ``message`` of ``commit``.

    None when unavailable: repository gone, commit unknown, git missing.
    """
    root = find_git_root(repo_dir) if os.path.isdir(repo_dir) else None
    if root is None or not commit or commit.startswith("-"):  # "-..." would be read as an option
        return None
    out = _git(root, "log", "-1", "--no-show-signature", "--format=%an%x00%ae%x00%aI%x00%B",
               commit, "--")
    if out is None or out.count("\0") < 3:
        return None
    author, email, date, message = out.split("\0", 3)
    return {"author": author, "author_email": email, "date": date, "message": message.strip()}


# Scheme, then userinfo+host (up to the first /, ? or #), then the rest.
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.DOTALL)


def strip_credentials(url: str) -> str:
    """Remove secrets from a remote URL, since it ends up in tags anyone can read.

    http(s) and other URLs lose their whole userinfo (``https://token@host`` is as secret as
    ``https://user:token@host``); ssh URLs keep the user name, which is not a secret, but lose any
    password. scp-like ``git@host:o/r.git`` and local paths are returned unchanged.
    """
    m = _URL_RE.match(url)
    if not m:
        return url
    scheme, netloc, rest = m.groups()
    userinfo, at, host = netloc.rpartition("@")  # rpartition: passwords may contain '@'
    if not at:
        return url
    if "ssh" in scheme.lower():
        user = userinfo.partition(":")[0]
        return f"{scheme}{user}@{host}{rest}" if user else f"{scheme}{host}{rest}"
    return f"{scheme}{host}{rest}"


# ------------------------------------------------------------------------------ source & env

@functools.lru_cache(maxsize=None)
def _dist_version(dist: str) -> str | None:
    # Package metadata, not an import: importing sklearn or torch costs seconds.
    from importlib import metadata
    try:
        return metadata.version(dist)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def _user() -> str:
    try:
        import getpass
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - KeyError/OSError when the uid has no passwd entry (containers)
        return os.environ.get("USER") or "unknown"


@functools.lru_cache(maxsize=None)
def _static_tags() -> dict[str, str]:
    """Tags that cannot change during the process; platform.platform() alone takes ms."""
    tags = {
        "tracker.python.version": platform.python_version(),
        "tracker.host": socket.gethostname(),
        "tracker.user": _user(),
        "tracker.platform": platform.platform(),
    }
    if sys.executable:  # the interpreter itself (its venv, its packages): what a rerun should use
        tags["tracker.python.executable"] = sys.executable
    for dist, key in (("numpy", "numpy"), ("scikit-learn", "sklearn")):
        version = _dist_version(dist)
        if version:
            tags[f"tracker.versions.{key}"] = version
    return tags


def _source(script_path: str | None) -> tuple[str, str, str | None]:
    """(name, type, script file or None) for the code being run."""
    if script_path is None and "ipykernel" in sys.modules:
        # argv[0] is ipykernel_launcher.py; Jupyter server passes the notebook path in env.
        return os.environ.get("JPY_SESSION_NAME") or NOTEBOOK_NAME, "NOTEBOOK", None
    path = script_path if script_path is not None else (sys.argv[0] if sys.argv else "")
    if script_path is None:
        ipython = sys.modules.get("IPython")
        if ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None:
            return INTERACTIVE_NAME, "INTERACTIVE", None  # argv[0] is the ipython launcher
    if os.path.isfile(path):
        path = os.path.abspath(path)
        return path, "NOTEBOOK" if path.endswith(".ipynb") else "SCRIPT", path
    if path in ("", "-c", "-"):  # REPL, python -c, script piped on stdin
        return INTERACTIVE_NAME, "INTERACTIVE", None
    return path, "SCRIPT", None  # named but not a file (e.g. deleted since); keep what we have


def user_context() -> RunContext:
    """Only who is logging (``tracker.user``): for runs made through the client, which, as MLflow's
    client, records no source, git state or command line of the process calling it."""
    return RunContext(tags={"tracker.user": _static_tags()["tracker.user"]}, git_diff=None)


def capture_context(script_path: str | None = None, cwd: str | None = None) -> RunContext:
    """Reserved ``tracker.*`` tags for a run starting now, plus the uncommitted diff if any.

    ``script_path`` defaults to ``sys.argv[0]``, ``cwd`` to the working directory. The repository
    is searched from the script's directory, then from ``cwd`` (e.g. a console script installed
    from a checkout that is run inside it).
    """
    name, source_type, script = _source(script_path)
    tags = {
        "tracker.source.name": name,
        "tracker.source.type": source_type,
        "tracker.source.argv": json.dumps(sys.argv),
        **_static_tags(),
        "tracker.pid": str(os.getpid()),  # not cached: forked workers have their own
    }
    if "torch" in sys.modules:  # only report torch when the run actually uses it
        version = _dist_version("torch") or getattr(sys.modules["torch"], "__version__", None)
        if version:
            tags["tracker.versions.torch"] = str(version)

    cwd = cwd or os.getcwd()
    tags["tracker.source.cwd"] = cwd  # what relative paths in argv are relative to
    root = (find_git_root(os.path.dirname(script)) if script else None) or find_git_root(cwd)
    git_diff = None
    if root is not None:
        info, untracked = _git_state(root)
        if info["commit"]:  # all four or none, so "branch" == "" reads as detached HEAD
            tags.update({f"tracker.source.git.{k}": v for k, v in info.items()})
            tags["tracker.source.git.root"] = root  # where a rerun checks the commit out
        if info["dirty"] == "true":
            git_diff = _dirty_diff(root, untracked)
    # A script under a non-UTF-8 path (or such an argv, user or host name) must not stop the
    # run: what UTF-8 cannot encode is stored as backslash escapes of its bytes.
    return RunContext(tags={key: escape_undecodable(value) for key, value in tags.items()}, git_diff=git_diff)


def _dirty_diff(root: str, untracked: list[str]) -> str:
    # Untracked files are not in `git diff HEAD`; list them as comment lines before the diff
    # (`git apply` skips text before the first "diff --git", so the result still applies).
    header = "".join(f"# untracked: {p}\n" for p in untracked)
    diff = _git(root, "diff", "HEAD", "--no-color", "--no-ext-diff") or ""
    text = header + diff
    if len(text) <= MAX_DIFF_CHARS:
        return text
    kept = text.rfind("\n", 0, MAX_DIFF_CHARS) + 1 or MAX_DIFF_CHARS
    return (text[:kept] + f"# tracker: diff truncated to its first {kept:,} of {len(text):,} characters "
            f"(limit {MAX_DIFF_CHARS:,}); it will not apply as it is\n")
