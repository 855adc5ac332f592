"""The runs table on disk: one uncompressed numpy ``.npz``, loaded without pickle.

Members (``n`` runs; ``texts`` is a list of strings stored as ``.chars``, UTF-8 bytes of the
strings joined, and ``.ends``, int64 cumulative lengths in characters):
  format                 int64 [FORMAT_VERSION, n]
  t.<field>.codes        int32 (n,)  with texts t.<field>      for each of table.TEXT_FIELDS
  i.<field>              int64 (n,)                             for each of table.INT_FIELDS
  params.keys, tags.keys, metrics.keys                          texts: the keys in column order
  params.<j>.codes ...   as a text field, for the j-th key      (tags alike)
  metrics.<j>.present    bool (n,), metrics.<j>.<name> float64/int64 (n,)

Everything in the file is checked before use (shapes, dtypes, codes in range, offsets in
order); a file that fails any check, or whose zip CRC fails, is ``TableFileError``: the caller
reads the runs from disk instead. Only stored (uncompressed) members are accepted, so a file
cannot make the reader allocate more memory than its own size.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..store.regular import open_regular
from .columns import METRIC_FLOATS, METRIC_INTS, MetricColumn, TextColumn
from .table import INT_FIELDS, TEXT_FIELDS, RunTable

FORMAT_VERSION = 1


class TableFileError(ValueError):
    """The file is not a runs table this version can use (damaged, foreign, newer or older)."""


class NewerTableFile(TableFileError):
    """The file was written by a newer tracker: leave it alone."""


def _texts(strings: list[str], prefix: str, out: dict[str, np.ndarray]) -> None:
    joined = "".join(strings)
    out[f"{prefix}.chars"] = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    out[f"{prefix}.ends"] = np.cumsum([len(s) for s in strings], dtype=np.int64)


def _text_column(column: TextColumn, prefix: str, out: dict[str, np.ndarray]) -> None:
    out[f"{prefix}.codes"] = column.codes
    _texts(column.uniques, prefix, out)


def to_arrays(table: RunTable) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"format": np.array([FORMAT_VERSION, table.n], dtype=np.int64)}
    for field in TEXT_FIELDS:
        _text_column(table.text[field], f"t.{field}", out)
    for field in INT_FIELDS:
        out[f"i.{field}"] = table.ints[field]
    for family in ("params", "tags"):
        columns = getattr(table, family)
        _texts(list(columns), f"{family}.keys", out)
        for j, column in enumerate(columns.values()):
            _text_column(column, f"{family}.{j}", out)
    _texts(list(table.metrics), "metrics.keys", out)
    for j, column in enumerate(table.metrics.values()):
        out[f"metrics.{j}.present"] = column.present
        for name, array in column.arrays.items():
            out[f"metrics.{j}.{name}"] = array
    return out


def save(table: RunTable, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (a reader sees the old file or the new one, whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **to_arrays(table))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class _Reader:
    def __init__(self, files: np.lib.npyio.NpzFile, n: int) -> None:
        self.files, self.n = files, n

    def array(self, name: str, dtype: type, length: int | None = -1) -> np.ndarray:
        try:
            a = self.files[name]
        except KeyError:
            raise TableFileError(f"missing {name}") from None
        if a.dtype != np.dtype(dtype) or a.ndim != 1 or (length is not None and len(a) != (self.n if length == -1
                                                                                          else length)):
            raise TableFileError(f"{name}: {a.dtype} {a.shape}")
        return a

    def texts(self, prefix: str) -> list[str]:
        chars = self.array(f"{prefix}.chars", np.uint8, None)
        ends = self.array(f"{prefix}.ends", np.int64, None)
        try:
            joined = chars.tobytes().decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise TableFileError(f"{prefix}: not UTF-8") from None
        if len(ends) and (ends[-1] != len(joined) or ends[0] < 0 or np.any(np.diff(ends) < 0)):
            raise TableFileError(f"{prefix}: offsets out of order")
        if not len(ends) and joined:
            raise TableFileError(f"{prefix}: text without offsets")
        bounds = ends.tolist()
        return [joined[a:b] for a, b in zip([0, *bounds[:-1]], bounds)]

    def text_column(self, prefix: str) -> TextColumn:
        uniques = self.texts(prefix)
        codes = self.array(f"{prefix}.codes", np.int32)
        if self.n and (codes.min() < -1 or codes.max() >= len(uniques)):
            raise TableFileError(f"{prefix}: codes out of range")
        return TextColumn(codes, uniques)

    def keys(self, family: str) -> list[str]:
        keys = self.texts(f"{family}.keys")
        if len(set(keys)) != len(keys):
            raise TableFileError(f"{family}: repeated keys")
        return keys


def load(path: Path, root: str) -> RunTable:
    """The table stored at ``path``; ``TableFileError`` when it cannot be used, OSError when it cannot be read."""
    with open_regular(path) as f:
        try:
            with zipfile.ZipFile(f) as z:
                if any(info.compress_type != zipfile.ZIP_STORED for info in z.infolist()):
                    raise TableFileError("compressed members")
            f.seek(0)
            with np.load(f, allow_pickle=False) as files:
                return _read(files, root)
        except TableFileError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, IndexError, TypeError) as e:
            raise TableFileError(f"unreadable: {e}") from None


def _read(files: np.lib.npyio.NpzFile, root: str) -> RunTable:
    head = files["format"] if "format" in files.files else None
    if head is None or head.dtype != np.int64 or head.shape != (2,):
        raise TableFileError("not a runs table")
    version, n = int(head[0]), int(head[1])
    if version > FORMAT_VERSION:
        raise NewerTableFile(f"format {version} is newer than this tracker's {FORMAT_VERSION}")
    if version != FORMAT_VERSION or n < 0:
        raise TableFileError(f"format {version}")
    r = _Reader(files, n)
    text = {field: r.text_column(f"t.{field}") for field in TEXT_FIELDS}
    ints = {field: r.array(f"i.{field}", np.int64) for field in INT_FIELDS}
    families = {family: {key: r.text_column(f"{family}.{j}") for j, key in enumerate(r.keys(family))}
                for family in ("params", "tags")}
    metrics = {}
    for j, key in enumerate(r.keys("metrics")):
        arrays = {name: r.array(f"metrics.{j}.{name}", np.float64) for name in METRIC_FLOATS}
        arrays.update({name: r.array(f"metrics.{j}.{name}", np.int64) for name in METRIC_INTS})
        metrics[key] = MetricColumn(r.array(f"metrics.{j}.present", np.bool_), arrays)
    if n and (text["dir"].codes.min() < 0 or len(np.unique(text["dir"].codes)) != n):
        raise TableFileError("run folders missing or repeated")
    return RunTable(root, n, text, ints, families["params"], families["tags"], metrics)
