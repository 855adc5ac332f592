"""The shell command that reruns a run as it started: its code, its uncommitted changes, its
interpreter and its command line.

    source = RunSource.of_run(run)          # what the run recorded, and what is on this machine now
    result = reproduce(source)              # pure: the command, or why there can be none
    result.command  # cd /repo && git checkout 3f2c... && git apply /runs/<id>/artifacts/tracker/git_diff.patch
                    #   && /repo/.venv/bin/python train.py --lr 0.1

``reproduce`` decides nothing from the disk; ``RunSource.of_run`` / ``of_lineage`` read the tags,
find the repository holding the script and look at the saved diff. Every part of the command
is shell-quoted.
"""
from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .context import find_git_root

if TYPE_CHECKING:
    from .entities import Run
    from .registry.entities import Lineage

__all__ = ["RunSource", "Reproduction", "reproduce"]

_GIT = "tracker.source.git."
EXECUTABLE_TAG = "tracker.python.executable"
_PATCH_HEAD_BYTES = 64 * 1024  # the "# untracked:" lines lead the saved diff
_TRUNCATED_MARK = "# tracker: diff truncated"


@dataclass(frozen=True)
class RunSource:
    """What a run recorded about how it started, and what of it is on this machine now."""

    argv: tuple[str, ...] = ()
    source_type: str = ""  # "SCRIPT", "NOTEBOOK", "INTERACTIVE" (tracker.source.type)
    script: str = ""  # the script's absolute path as recorded (tracker.source.name)
    executable: str = ""  # the run's sys.executable; "" for runs recorded before it was
    commit: str = ""
    dirty: bool = False
    repo_url: str = ""
    repo_root: str = ""  # the repository the run came from, on this machine now ("" if gone)
    recorded_root: str = ""  # the repository's root as the run recorded it ("" for runs recorded before roots were)
    cwd: str = ""  # the working directory the run started in (likewise)
    patch: str = ""  # absolute path of the saved diff on this machine ("" if there is none)
    patch_has_changes: bool = False  # the diff changes tracked files (not only lists untracked ones)
    patch_truncated: bool = False
    patch_binary: bool = False  # git diff without --binary: git apply cannot restore those files
    untracked: tuple[str, ...] = ()  # files that were untracked: listed, not saved

    @classmethod
    def of_tags(cls, tags: Mapping[str, str], artifacts_dir: str | os.PathLike | None = None) -> RunSource:
        """From a run's ``tracker.*`` tags; ``artifacts_dir`` is where its saved diff would be."""
        patch = None
        relative = tags.get(_GIT + "diff")
        if relative and artifacts_dir is not None:
            try:
                patch = store.resolve_inside(Path(artifacts_dir), relative, "diff")
            except ValueError:
                patch = None
        return cls._found(argv=_argv(tags.get("tracker.source.argv")), source_type=tags.get("tracker.source.type", ""),
                          script=tags.get("tracker.source.name", ""), executable=tags.get(EXECUTABLE_TAG, ""),
                          commit=tags.get(_GIT + "commit", ""), dirty=tags.get(_GIT + "dirty") == "true",
                          repo_url=tags.get(_GIT + "repoURL", ""), patch=patch,
                          recorded_root=tags.get(_GIT + "root", ""), cwd=tags.get("tracker.source.cwd", ""))

    @classmethod
    def of_run(cls, run: Run) -> RunSource:
        return cls.of_tags(run.data.tags, Path(run.path) / store.ARTIFACTS_DIR)

    @classmethod
    def of_lineage(cls, lin: Lineage, tracking_dir: str | os.PathLike | None = None) -> RunSource:
        """A registered version's producing run: read afresh when it is still in ``tracking_dir``
        (its tags hold the interpreter), else from what the registry kept of it."""
        if lin.run_id and lin.run_exists and tracking_dir is not None:
            from .entities import Run
            try:
                run = store.read_run(store.run_dir(tracking_dir, lin.run_id))
            except (OSError, ValueError):
                run = None
            if isinstance(run, Run):
                return cls.of_run(run)
        return cls._found(argv=tuple(lin.source_argv or ()), script=lin.source_name or "",
                          source_type="SCRIPT" if lin.source_name else "", commit=lin.git_commit or "",
                          dirty=bool(lin.git_dirty), repo_url=lin.git_repo_url or "", patch=None)

    @classmethod
    def _found(cls, *, patch: Path | None, script: str, commit: str, recorded_root: str = "",
               **fields: Any) -> RunSource:
        """Look on this machine for the repository the run came from (the one it recorded, or for
        runs recorded before roots were, the one holding the script), and for the saved diff."""
        root = ""
        if commit and recorded_root:
            root = recorded_root if find_git_root(recorded_root) == recorded_root else ""
        elif commit and os.path.isabs(script) and os.path.isdir(os.path.dirname(script)):
            root = find_git_root(os.path.dirname(script)) or ""
        saved = _read_patch(patch) if patch is not None else None
        return cls(script=script, commit=commit, repo_root=root, patch=str(patch) if saved is not None else "",
                   recorded_root=recorded_root, **(saved or {}), **fields)


@dataclass(frozen=True)
class Reproduction:
    """``command`` to paste into a shell, or ``problem`` saying why no command would work;
    ``notes`` say what the command cannot restore."""

    command: str = ""
    problem: str = ""
    notes: tuple[str, ...] = ()
    repo_root: str = ""

    def __bool__(self) -> bool:
        return bool(self.command)


def reproduce(source: RunSource) -> Reproduction:
    """The command that reruns ``source``: ``cd`` into its repository, check out its commit, apply
    its saved diff when the tree was dirty, run its interpreter with its command line."""
    if source.source_type in ("NOTEBOOK", "INTERACTIVE"):
        where = "a notebook" if source.source_type == "NOTEBOOK" else "an interactive session"
        return Reproduction(problem=f"Started from {where}: there is no command line to rerun")
    if not source.argv:
        return Reproduction(problem="This run recorded no command line")
    notes = []
    if source.executable:
        python = source.executable
    else:
        python = "python"
        notes.append("The run did not record its interpreter: `python` is assumed")
    script, args = _script(source), list(source.argv[1:])
    if not source.commit:
        if not os.path.isabs(script):
            return Reproduction(problem=f"Not in a git repository, and {script} was run from a folder "
                                        "that was not recorded")
        notes.append("Not in a git repository: the script may have changed since")
        return Reproduction(command=shlex.join([python, script, *args]), notes=tuple(notes))
    if not source.repo_root:
        where = source.recorded_root or (
            os.path.dirname(source.script) if os.path.isabs(source.script) else "this machine")
        clone = f"; clone {source.repo_url} and check out {source.commit}" if source.repo_url else ""
        return Reproduction(problem=f"The repository this run came from ({where}) no longer exists{clone}")
    steps = [["cd", source.repo_root], ["git", "checkout", source.commit]]
    if source.dirty:
        if not source.patch:
            return Reproduction(problem="The working tree had uncommitted changes, and the saved diff is gone",
                                repo_root=source.repo_root)
        if source.patch_truncated or source.patch_binary:
            why = "was cut at its size limit" if source.patch_truncated else "has binary changes it cannot restore"
            return Reproduction(problem=f"The working tree had uncommitted changes, and the saved diff {why}",
                                repo_root=source.repo_root)
        if source.patch_has_changes:
            steps.append(["git", "apply", source.patch])
        if source.untracked:
            notes.append("Untracked files were not saved: " + ", ".join(source.untracked))
    if source.cwd:  # argv as it was typed, from the folder it was typed in
        inside = os.path.relpath(source.cwd, source.repo_root)
        if inside.startswith(os.pardir) or os.path.isabs(inside):
            steps.append(["cd", source.cwd])
        elif inside != os.curdir:
            steps.append(["cd", inside])
        script = source.argv[0]
    elif os.path.isabs(script):
        relative = os.path.relpath(script, source.repo_root)
        script = script if relative.startswith(os.pardir) else relative
    steps.append([python, script, *args])
    notes.append("Checks out a commit (detached HEAD): run it in a clean working tree")
    return Reproduction(command=" && ".join(shlex.join(step) for step in steps), notes=tuple(notes),
                        repo_root=source.repo_root)


def _script(source: RunSource) -> str:
    """argv[0], made absolute from the recorded script path when it names the same file (argv[0]
    is relative to a working directory that was not recorded)."""
    first = source.argv[0]
    if (not os.path.isabs(first) and os.path.isabs(source.script)
            and os.path.basename(first) == os.path.basename(source.script)):
        return source.script
    return first


def _argv(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(str(a) for a in value) if isinstance(value, list) else ()


def _read_patch(path: Path) -> dict | None:
    """What the saved diff holds (changes to tracked files, untracked paths, whether it was cut
    or has binary changes); None when it is not a readable regular file."""
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as f:
            head = f.read(_PATCH_HEAD_BYTES)
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 512))
            tail = f.read()
    except OSError:
        return None
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    return {"patch_has_changes": "diff --git " in text or size > len(head),
            "patch_truncated": _TRUNCATED_MARK.encode() in tail,
            "patch_binary": any(line.startswith("Binary files ") for line in lines),
            "untracked": tuple(line[len("# untracked: "):] for line in lines if line.startswith("# untracked: "))}
