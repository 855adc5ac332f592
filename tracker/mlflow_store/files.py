"""Reading an MLflow file store's small files as untrusted input.

Only regular files are opened (a FIFO would block forever, a symlink could point anywhere), and
keys that MLflow stores as nested paths (``train/loss`` -> ``metrics/train/loss``) are found by
walking the directory, never by joining a caller's string onto a path unchecked.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .metayaml import parse_meta

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
MAX_META_BYTES = 1 << 20
MAX_VALUE_BYTES = 1 << 20  # MLflow's params and tags are at most 8,000 characters


def read_bytes(path: str, limit: int | None = None, offset: int = 0) -> bytes:
    """The bytes of a regular file from ``offset`` (up to ``limit`` of them); OSError for anything
    else or a missing file, ValueError when there are more than ``limit``."""
    return read_identified(path, limit, offset)[0]


def identity(st: os.stat_result) -> tuple[int, ...]:
    """What tells a file's content apart from an earlier read's: MLflow only appends to a metric
    file (its size grows) or replaces it (another inode); any write moves the change time too."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def read_identified(path: str, limit: int | None = None, offset: int = 0) -> tuple[bytes, tuple[int, ...]]:
    """``read_bytes`` and the file's ``identity`` as it was read (the bytes are its first ``size``)."""
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file", path)
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        size = max(0, st.st_size - offset)
        size = size if limit is None else min(size, limit + 1)
        chunks = []
        while size > 0:
            chunk = os.read(fd, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:
        raise ValueError(f"{path} is larger than {limit} bytes")
    return data, identity(st)


def read_small(path: str, limit: int = MAX_VALUE_BYTES) -> bytes:
    """A param's or tag's file: like ``read_bytes`` without the ``fstat`` (a third fewer system
    calls over 10,000 runs' files). The directory listing said it is a regular file; opening it
    non-blocking and without following links keeps a file swapped in since from blocking or
    leading elsewhere, and ``limit`` bounds what is read."""
    fd = os.open(path, _FLAGS)
    try:
        data = os.read(fd, 65536)
        if len(data) == 65536:
            chunks = [data]
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
                if sum(map(len, chunks)) > limit:
                    raise ValueError(f"{path} is larger than {limit} bytes")
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data


def read_text(path: str) -> str:
    return read_small(path).decode("utf-8")


def read_meta(path: str) -> dict:
    """A parsed ``meta.yaml``; ValueError (with the file's name) when it is damaged."""
    data = read_small(path, MAX_META_BYTES)
    try:
        return parse_meta(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{os.path.basename(os.path.dirname(path))}/meta.yaml is damaged: {e}") from None


def key_files(folder: str) -> list[tuple[str, str]]:
    """(key, path) of every regular file under ``folder``; a key is its relative path with '/'."""
    out: list[tuple[str, str]] = []
    _walk(folder, "", out)
    return out


def _walk(folder: str, prefix: str, out: list[tuple[str, str]]) -> None:
    try:
        it = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    with it:
        for entry in it:
            try:
                if entry.is_file(follow_symlinks=False):
                    out.append((prefix + entry.name, entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    _walk(entry.path, prefix + entry.name + "/", out)
            except OSError:
                continue


def read_key_values(folder: str) -> dict[str, str]:
    """Params or tags: one file per key holding the value."""
    return read_values(key_files(folder))


def read_values(found: list[tuple[str, str]]) -> dict[str, str]:
    """``read_key_values`` of the (key, path) pairs ``key_files`` found."""
    return {key: read_small(path).decode("utf-8") for key, path in found}


def key_path(folder: str, key: str) -> str | None:
    """The file of ``key`` under ``folder`` when the key is a plain relative path, else None."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts) or "\\" in key or "\x00" in key:
        return None
    return os.path.join(folder, *parts)


def subdirs(folder: str | Path) -> list[tuple[str, str]]:
    """(name, path) of the real (not symlinked) directories in ``folder``; [] when it is missing."""
    try:
        it = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    with it:
        for entry in it:
            try:
                if entry.is_dir(follow_symlinks=False):
                    out.append((entry.name, entry.path))
            except OSError:
                continue
    return out
