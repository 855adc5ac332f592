"""What a listing of an MLflow file store read, kept for the next listing, in this process and
in the user's cache directory (``$XDG_CACHE_HOME/tracker/mlflow/<hash of the store's real path>.npz``;
the store itself is never written to).

The file is a ``RunTable`` (``tracker.index.table_file``: checked, no pickle) holding every run
of the store, deleted ones too, plus three columns of its own whose keys no MLflow tag can have
(they start with NUL): the run's experiment folder, whether it is deleted, and the names of the
files and folders that make up the run (``meta.yaml``, ``params``, ``params/<key>``, ``tags``, ...,
``metrics/<key>``). The row's file key (``mtime_ns``, ``size``, ``ino``) holds a digest of
their ``lstat`` (mode, size, mtime, ctime, inode) and of the experiment's name and stage.

A run is read again when that digest differs: a file written in place, appended to or
replaced changes its own stat, and a file added or removed changes its folder's mtime. The
stat is taken after the run was read; a run with a file whose ctime is later than ``RACY_NS``
before the listing began is stored without a key (read again next time): it may have changed
after it was read, and a file system's clock ticks coarsely, so a second write within the same
tick could leave every stat as it was. A file that cannot be used for any reason is ignored,
and replaced after the listing.
"""
from __future__ import annotations

import hashlib
import os
import struct
from array import array
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..index import table_file
from ..index.columns import NO_INT, TextColumn
from ..index.table import RunTable

RACY_NS = 2_000_000_000
SEP = "\x00"  # joins a run's file names (no file name holds it)
WHERE, DELETED, FILES = "\x00where.1", "\x00deleted.1", "\x00files.1"
_OWN = (WHERE, DELETED, FILES)
FAMILIES = ("params", "tags", "metrics")
_lstat = os.lstat


class Entry(NamedTuple):
    where: str  # the run's experiment folder, relative to the store ("<id>" or ".trash/<id>")
    names: tuple[str, ...]  # what was stat'd, relative to the run's folder
    key: tuple[int, int, int] | None  # the digest of their stat; None: read the run again next time
    deleted: bool


def cache_path(root: str | os.PathLike) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha1(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return base / "tracker" / "mlflow" / f"{digest}.npz"


def run_files(run_path: str) -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
    """The names to stat for a run: its meta.yaml, and its params, tags and metrics folders with
    everything under them (a nested key's folders too, so a key added there is seen); and, by
    family, (key, path) of each regular file in them (``files.key_files``), found by the same walk."""
    names = ["meta.yaml"]
    found: dict[str, list[tuple[str, str]]] = {}
    for family in FAMILIES:
        names.append(family)
        _walk(run_path + os.sep + family, family + "/", len(family) + 1, names, found.setdefault(family, []))
    return names, found


def _walk(folder: str, prefix: str, cut: int, names: list[str], out: list[tuple[str, str]]) -> None:
    try:
        it = os.scandir(folder)
    except OSError:
        return
    with it:
        for entry in it:
            name = prefix + entry.name
            names.append(name)
            try:
                if entry.is_file(follow_symlinks=False):
                    out.append((name[cut:], entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    _walk(entry.path, name + "/", cut, names, out)
            except OSError:
                continue


def experiment_signature(exp_id: str, name: str, stage: str, where: str) -> bytes:
    """What a run's row takes from its experiment: a rename or a deletion reads its runs again."""
    return SEP.join((exp_id, name, stage, where)).encode("utf-8", "surrogateescape")


def digest(run_path: str, names: tuple[str, ...] | list[str], signature: bytes,
           racy_after: int | None = None) -> tuple[int, int, int] | None:
    """The key of a run's files as they are now; None when ``racy_after`` is given and a file
    changed after it (too recently to trust the stat next time)."""
    ints = array("q")
    prefix = run_path + os.sep
    for name in names:
        try:
            st = _lstat(prefix + name)
        except (OSError, ValueError):
            ints.append(-1)
            continue
        if racy_after is not None and st.st_ctime_ns >= racy_after:
            return None
        ints.extend((st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    h = hashlib.blake2b(ints.tobytes(), digest_size=24)
    h.update(signature)
    key = struct.unpack("<3q", h.digest())
    return key if key[0] != NO_INT else (NO_INT + 1, *key[1:])


def _valid_names(names: list[str]) -> bool:
    for name in names:
        parts = name.split("/")
        if name != "meta.yaml" and (parts[0] not in FAMILIES or any(p in ("", ".", "..") for p in parts)):
            return False
    return bool(names) and names[0] == "meta.yaml" and set(FAMILIES) <= set(names)


def load(path: Path, root: str) -> tuple[RunTable, dict[str, Entry]] | None:
    """The stored runs of the store at ``root`` (without this module's columns) and each run's
    entry by run id; None when there is no usable file."""
    try:
        table = table_file.load(path, root)
    except (table_file.TableFileError, OSError):
        return None
    tags = dict(table.tags)
    own = {name: tags.pop(name, None) for name in _OWN}
    if own[WHERE] is None or own[FILES] is None or any(k.startswith(SEP) for k in tags):
        return None
    n = table.n
    if n and (own[WHERE].codes.min() < 0 or own[FILES].codes.min() < 0):
        return None
    dirs = table.dirs()
    if dirs != table.run_ids():  # every row is a run folder named by its run id
        return None
    names_of = [tuple(joined.split(SEP)) for joined in own[FILES].uniques]
    if not all(_valid_names(list(names)) for names in names_of):
        return None
    wheres = own[WHERE].values().tolist()
    deleted = own[DELETED].present().tolist() if own[DELETED] is not None else [False] * n
    files = own[FILES].codes.tolist()
    keys = zip(*(table.ints[f].tolist() for f in ("mtime_ns", "size", "ino")))
    entries = {}
    for run_id, where, gone, code, key in zip(dirs, wheres, deleted, files, keys):
        entries[run_id] = Entry(where, names_of[code], None if key[0] == NO_INT else key, gone)
    clean = RunTable(table.root, n, table.text, table.ints, table.params, tags, table.metrics)
    return clean, entries


def save(path: Path, table: RunTable, entries: dict[str, Entry]) -> bool:
    """Store ``table`` (every run, with each row's digest as its file key) and the entries; False
    when the file cannot be written (a read-only cache directory: the next open reads everything)."""
    dirs = table.dirs()
    try:
        rows = [entries[d] for d in dirs]
    except KeyError:
        return False
    own = {WHERE: TextColumn.from_values([e.where for e in rows]),
           DELETED: TextColumn.from_values(["1" if e.deleted else None for e in rows]),
           FILES: TextColumn.from_values([SEP.join(e.names) for e in rows])}
    ints = dict(table.ints)
    for j, field in enumerate(("mtime_ns", "size", "ino")):
        ints[field] = np.array([NO_INT if e.key is None else e.key[j] for e in rows], dtype=np.int64)
    stored = RunTable(table.root, table.n, table.text, ints, table.params, {**table.tags, **own}, table.metrics)
    try:
        table_file.save(stored, path)
    except (OSError, ValueError):
        return False
    return True
