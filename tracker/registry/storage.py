"""Registered files on disk: ``<tracking dir>/registry/<model>/<version>/``.

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
STAGING_DIR = ".tmp"  # registry/.tmp/<COPY_PREFIX><random>: copies in progress, private to this module
COPY_PREFIX = "copy-"
_CHUNK = 1 << 20
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def registry_root(tracking_dir: Path) -> Path:
    return Path(tracking_dir) / REGISTRY_DIR


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
