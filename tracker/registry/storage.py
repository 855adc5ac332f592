"""Registered files on disk: ``<tracking dir>/registry/<model>/<version>/``, or
``$TRACKER_REGISTRY_ARTIFACTS/<model>/<version>/`` when that folder is set (a team's shared mount).

The database records where a version is relative to one of the two roots (``stored_path``), never
as an absolute path: every machine resolves it under its own mount point (``version_path``).

A registration first copies its source into ``registry/.tmp/<random>/`` (hashing every file as it
is copied, and fsyncing it), makes the files read-only, and only then allocates a version number
and renames the copy into its numbered place; a failed copy never uses up a number.

Files are made read-only (0444) so nobody edits a registered model by accident; directories stay
writable, so ``shutil.rmtree`` (and pytest's tmp_path cleanup) can still remove them.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from ..integrity import new_hash
from ..store.regular import open_regular

REGISTRY_DIR = "registry"
ARTIFACTS_ENV = "TRACKER_REGISTRY_ARTIFACTS"
ARTIFACTS_MARK = f"${ARTIFACTS_ENV}/"  # how the database records a path under that folder
STAGING_DIR = ".tmp"  # registry/.tmp/<COPY_PREFIX><random>: copies in progress, private to this module
COPY_PREFIX = "copy-"
_CHUNK = 1 << 20
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def artifacts_folder() -> Path | None:
    """``$TRACKER_REGISTRY_ARTIFACTS`` as an absolute path, or None when it is not set."""
    value = os.environ.get(ARTIFACTS_ENV)
    return Path(value).expanduser().absolute() if value else None


def registry_root(tracking_dir: Path) -> Path:
    """Where new versions go: ``$TRACKER_REGISTRY_ARTIFACTS`` when set, else ``registry/`` beside the runs."""
    folder = artifacts_folder()
    return folder if folder is not None else Path(tracking_dir) / REGISTRY_DIR


def stored_path(tracking_dir: Path, version_dir: Path) -> str:
    """What the database records for ``version_dir``: ``$TRACKER_REGISTRY_ARTIFACTS/<model>/<n>`` under
    that folder, else the path relative to the runs folder (``registry/<model>/<n>``)."""
    folder = artifacts_folder()
    if folder is not None and Path(version_dir).is_relative_to(folder):
        return ARTIFACTS_MARK + Path(version_dir).relative_to(folder).as_posix()
    return Path(version_dir).relative_to(tracking_dir).as_posix()


class ArtifactsFolderUnset(FileNotFoundError):
    """A version lives in the registry's artifacts folder and this machine has not said where that is."""


def version_path(tracking_dir: Path, stored: str, strict: bool = True) -> Path:
    """The directory a recorded ``stored_path`` names on this machine.

    Under ``$TRACKER_REGISTRY_ARTIFACTS`` while it is unset: ``ArtifactsFolderUnset`` when ``strict``,
    else the recorded text itself (what a listing shows, so the missing setting is visible).
    """
    if not stored.startswith(ARTIFACTS_MARK):
        return Path(tracking_dir) / stored
    folder = artifacts_folder()
    if folder is None:
        if not strict:
            return Path(stored)
        raise ArtifactsFolderUnset(
            f"this version is stored in the registry's artifacts folder ({stored}), and {ARTIFACTS_ENV} is "
            "not set on this machine: set it to where that shared folder is mounted here")
    return folder / stored[len(ARTIFACTS_MARK):]


def listed_path(root: str, stored: str, entry: str) -> str:
    """``version_path`` (not strict) of the runs folder ``root``, joined with ``entry``, as text: a
    listing of thousands of versions builds no ``Path``."""
    sep = os.sep
    if stored.startswith(ARTIFACTS_MARK):
        base = str(version_path(Path(root), stored, strict=False))
        return base + sep + entry if entry else base
    return sep.join((root, stored, entry) if entry else (root, stored)).replace("/", sep)


def staging_root(tracking_dir: Path) -> Path:
    return registry_root(tracking_dir) / STAGING_DIR


def storage_dir_name(name: str) -> str:
    """A directory name for a model name: safe on every file system, readable when possible.

    Everything but ``[A-Za-z0-9_.-]`` is percent-encoded, a leading dot too (no ``.``/``..``/hidden
    names); long names are cut and get a hash. Case collisions are resolved by the caller.
    """
    readable = quote(name, safe="-_.")
    if readable.startswith("."):
        readable = "%2E" + readable[1:]
    if len(readable) > 120:
        readable = readable[:100] + "~" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]
    return readable


def validate_source(path: Path, shown: str) -> list[tuple[Path, str]]:
    """Every file to register as (absolute path, relative posix path); FileNotFoundError/ValueError
    for a missing source, an empty file or a directory without files."""
    if not path.exists():
        raise FileNotFoundError(f"cannot register {shown}: nothing at {path}")
    if path.is_file():
        if path.stat().st_size == 0:
            raise ValueError(f"cannot register {shown}: {path} is an empty file")
        return [(path, path.name)]
    if not path.is_dir():
        raise ValueError(f"cannot register {shown}: {path} is neither a file nor a directory")
    files = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        dirnames.sort()
        for fn in sorted(filenames):
            full = Path(dirpath) / fn
            if full.is_file():  # follows a symlink to a file; skips sockets, fifos, dangling links
                files.append((full, full.relative_to(path).as_posix()))
    if not files:
        raise ValueError(f"cannot register {shown}: {path} is an empty directory (no files in it)")
    return files


Progress = Callable[[int, int], None]


def _copy_hash(src: Path, dst: Path, copied: Callable[[int], None]) -> str:
    h = new_hash()
    with open_regular(src) as fin, open(dst, "xb") as fout:
        while block := fin.read(_CHUNK):
            h.update(block)
            fout.write(block)
            copied(len(block))
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dst, _READ_ONLY)
    return h.hexdigest()


def stage_copy(tracking_dir: Path, files: list[tuple[Path, str]],
               progress: Progress | None = None) -> tuple[Path, dict[str, str]]:
    """Copy ``files`` into a fresh temp directory under ``registry/.tmp``; (temp dir, {rel: sha256}).

    ``progress(done_bytes, total_bytes)`` is called as the copy goes (at least at the start and the
    end, then about every MiB); ``done`` only grows, and the last call has ``done == total``. A file
    that changes size while it is copied moves ``total`` to what was really copied. An exception
    from ``progress`` stops the copy (and so the registration).
    """
    total = sum(_size(src) for src, _ in files)
    done = 0

    def copied(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, max(total, done))

    tmp = staging_root(tracking_dir) / f"{COPY_PREFIX}{uuid.uuid4().hex}"
    try:
        tmp.mkdir()  # not mkdtemp: its 0700 would stick to the version directory; this follows the umask
    except FileNotFoundError:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    digests: dict[str, str] = {}
    try:
        if progress is not None:
            progress(0, total)
        for src, rel in files:
            dst = tmp / rel
            if "/" in rel:
                dst.parent.mkdir(parents=True, exist_ok=True)
            digests[rel] = _copy_hash(src, dst, copied)
        if progress is not None and done != total:
            progress(done, done)
    except BaseException:
        remove_tree(tmp)
        raise
    return tmp, digests


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def place(tmp: Path, version_dir: Path) -> None:
    """Rename a finished copy into its numbered place (creating the model's directory if needed)."""
    try:
        os.rename(tmp, version_dir)
    except FileNotFoundError:
        version_dir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, version_dir)


def clean_stale_copies(tracking_dir: Path, older_than_s: float = 24 * 3600) -> None:
    """Remove temp copies left by processes killed mid-registration (a day old: never a live one)."""
    tmp_root = staging_root(tracking_dir)
    try:
        entries = list(os.scandir(tmp_root))
    except OSError:
        return
    cutoff = time.time() - older_than_s
    for entry in entries:
        try:
            if entry.name.startswith(COPY_PREFIX) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                remove_tree(Path(entry.path))
        except OSError:
            continue


def remove_tree(path: Path) -> None:
    """Remove a registered copy (or a temp copy) whatever the permissions left on it."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return

    def _retry(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
        except OSError:
            pass
        func(target)

    if path.is_dir() and not path.is_symlink():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=_retry)
        else:
            shutil.rmtree(path, onerror=_retry)
    else:
        path.unlink()
