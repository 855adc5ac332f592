"""Hashing files, and checking a file tree against recorded sha256 digests: the one place for both.

What a check proves depends on who recorded the digests, so the caller passes them in and
nothing here reads them from the tree it checks:

* the registry keeps the digest of every file it copied in its database. A registered version
  is checked as a complete record (``complete=True``): a file missing, changed, unreadable or
  added since registration is a problem;
* a model folder's manifest (``MANIFEST``) lists its files' digests, but whoever wrote the model
  wrote the manifest too. Checking a folder against it catches a file changed or truncated by
  accident and proves nothing about the author; files it does not list are not looked at
  (``complete=False``). Trust never comes from it (``tracker.model_trust``).

Files are opened only when they are regular files, without blocking (a FIFO put in place of a
model file would otherwise hang the reader).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Any

from .store.regular import NotRegularFile, open_regular

MANIFEST = "tracker-model.json"  # a model folder's description, with its files' digests
ALGORITHM = "sha256"


class ModelIntegrityError(ValueError):
    """A model's files do not match the sha256 recorded when it was saved or registered."""


def new_hash() -> "hashlib._Hash":
    """An empty digest of the kind every record holds (for hashing while copying)."""
    return hashlib.new(ALGORITHM)


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a regular file; NotRegularFile (an OSError) for anything else."""
    with open_regular(path) as f:
        return hashlib.file_digest(f, ALGORITHM).hexdigest()


def hash_tree(root: str | os.PathLike, skip: tuple[str, ...] = (MANIFEST,)) -> dict[str, str]:
    """sha256 of every file under ``root`` (or of ``root`` itself when it is a file), by relative
    posix path; ``skip`` names relative paths left out (the manifest cannot list itself)."""
    root = Path(root)
    if root.is_file():
        return {root.name: sha256_file(root)}
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in skip
    }


def tree_digest(digests: dict[str, str]) -> str:
    """One digest for a recorded tree: a single file's own sha256, else one over every path and sha256."""
    if len(digests) == 1:
        return next(iter(digests.values()))
    text = "".join(f"{rel}\0{sha}\n" for rel, sha in sorted(digests.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _inside(rel: Any) -> bool:
    parts = PurePosixPath(rel).parts if isinstance(rel, str) and rel else ("..",)
    return not PurePosixPath(rel).is_absolute() and ".." not in parts and "\\" not in rel


def _present(root: Path) -> set[str]:
    """Every entry under ``root`` that is not a directory (files, links, pipes...), by relative path."""
    found = set()
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.add(Path(folder, name).relative_to(root).as_posix())
    return found


def verify_tree(root: str | os.PathLike, expected: dict[str, str], what: str = "model", *,
                complete: bool) -> None:
    """Raise ModelIntegrityError naming each recorded file that is missing, not a regular file,
    unreadable or changed, and, when the record is ``complete``, each file added since.

    ``root`` is a folder (``expected`` by relative posix path) or a single file (its one entry).
    """
    root = Path(root)
    single = root.is_file()
    problems = []
    for rel, digest in expected.items():
        if not _inside(rel) or not isinstance(digest, str):
            problems.append(f"{rel!r} is not a file of this model")
            continue
        path = root if single else root / rel
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            problems.append(f"{rel} is missing")
            continue
        except NotRegularFile as e:
            problems.append(e.strerror)
            continue
        except OSError as e:
            problems.append(f"{rel} cannot be read ({e.strerror or e})")
            continue
        if actual != digest:
            problems.append(f"{rel} has changed (its sha256 differs from the one recorded)")
    if complete and not single and root.is_dir():
        problems += [f"{rel} was added after registration" for rel in sorted(_present(root) - set(expected))]
    if problems:
        raise ModelIntegrityError(f"{what} at {root} failed its integrity check: " + "; ".join(problems))


def read_manifest(model_dir: str | os.PathLike) -> dict[str, Any]:
    """A model folder's manifest (``MANIFEST``): FileNotFoundError without one, ValueError when it
    is not a manifest. What it says describes the model; it decides nothing about trust."""
    from .store import read_json
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{model_dir} is not a tracker model directory (no {MANIFEST})")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or "flavor" not in manifest:
        raise ValueError(f"{path} is not a model manifest")
    return manifest


def verify_against_manifest(model_dir: str | os.PathLike, manifest: dict[str, Any]) -> None:
    """Check a model folder against the digests its own manifest lists: accidents only (see above)."""
    files = manifest.get("files")
    verify_tree(model_dir, files if isinstance(files, dict) else {}, "model", complete=False)
