"""The runs table on disk: one uncompressed numpy ``.npz`` of a few stacked arrays, loaded without pickle.

Members (``n`` runs; ``T`` text columns: table.TEXT_FIELDS, then each param key's, then each tag
key's; ``M`` metric keys):
  format            int64 [FORMAT_VERSION, n, params, tags, metrics]  (the key counts)
  codes             int32 (T, n)    each text column's codes (-1: no value)
  ints              int64 (7, n)    table.INT_FIELDS
  strings.chars     uint8           every string below, UTF-8, joined
  strings.ends      int64           where each string ends, in characters of the joined text
  strings.groups    int64           how many strings each group holds, in this order: the T
                                    columns' distinct values, then the param, tag and metric keys
  metrics.present   bool (M, n)
  metrics.floats    float64 (M, 4, n)   columns.METRIC_FLOATS
  metrics.ints      int64 (M, 4, n)     columns.METRIC_INTS

Few members because each costs a zip entry and a header to parse: 10,000 runs with 20 params
kept one file per column took ~0.1 s to open (212 members), most of it per member.

Everything is checked before use (shapes, dtypes, codes in range, offsets in order, zip CRCs);
a file that fails is ``TableFileError`` and the caller reads the runs from disk instead. Only
stored (uncompressed) members are accepted, so a file cannot make the reader allocate more
memory than its own size.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..store.atomic import replace_atomically
from ..store.regular import open_regular
from .columns import METRIC_FLOATS, METRIC_INTS, MetricColumn, TextColumn
from .table import INT_FIELDS, TEXT_FIELDS, RunTable

FORMAT_VERSION = 2


class TableFileError(ValueError):
    """The file is not a runs table this version can use (damaged, foreign, newer or older)."""


class NewerTableFile(TableFileError):
    """The file was written by a newer tracker: leave it alone."""


Stacked = tuple[np.dtype, tuple[int, ...], list[np.ndarray]]  # a member's dtype, shape, and its rows in order


def members(table: RunTable) -> dict[str, np.ndarray | Stacked]:
    """The file's members: small ones as arrays, the stacked ones as the rows they are made of.

    Stacked members are written row by row (``_write_member``), never built whole: at 100,000
    runs building them was a second copy of the table (~100 MB) at the moment memory peaks.
    """
    n = table.n
    columns = [table.text[f] for f in TEXT_FIELDS] + list(table.params.values()) + list(table.tags.values())
    groups = [column.uniques for column in columns] + [list(table.params), list(table.tags), list(table.metrics)]
    strings = [s for group in groups for s in group]
    joined = "".join(strings)
    metrics = list(table.metrics.values())
    return {
        "format": np.array([FORMAT_VERSION, n, len(table.params), len(table.tags), len(metrics)], dtype=np.int64),
        "codes": (np.dtype(np.int32), (len(columns), n), [c.codes for c in columns]),
        "ints": (np.dtype(np.int64), (len(INT_FIELDS), n), [table.ints[f] for f in INT_FIELDS]),
        "strings.chars": np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8),
        "strings.ends": np.cumsum([len(s) for s in strings], dtype=np.int64),
        "strings.groups": np.array([len(g) for g in groups], dtype=np.int64),
        "metrics.present": (np.dtype(bool), (len(metrics), n), [m.present for m in metrics]),
        "metrics.floats": (np.dtype(np.float64), (len(metrics), len(METRIC_FLOATS), n),
                           [m.arrays[k] for m in metrics for k in METRIC_FLOATS]),
        "metrics.ints": (np.dtype(np.int64), (len(metrics), len(METRIC_INTS), n),
                         [m.arrays[k] for m in metrics for k in METRIC_INTS]),
    }


def save(table: RunTable, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (a reader sees the old file or the new one, whole).
    Not fsynced: a file lost in a crash is a cache, rebuilt from the runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = members(table)

    def write(f) -> None:
        with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            for name, member in parts.items():
                _write_member(z, name, member)
    replace_atomically(path, write, fsync=False)


def _write_member(z: zipfile.ZipFile, name: str, member: np.ndarray | Stacked) -> None:
    """One ``.npy`` entry, as ``np.savez`` writes it; a stacked member row by row."""
    if isinstance(member, np.ndarray):
        dtype, shape, rows = member.dtype, member.shape, [member]
    else:
        dtype, shape, rows = member
    with z.open(name + ".npy", "w", force_zip64=True) as fp:
        np.lib.format.write_array_header_1_0(
            fp, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
        for row in rows:
            fp.write(np.ascontiguousarray(row, dtype=dtype).data)


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


def _member(files: np.lib.npyio.NpzFile, name: str, dtype: type, shape: tuple | None) -> np.ndarray:
    if name not in files.files:
        raise TableFileError(f"missing {name}")
    a = files[name]
    if a.dtype != np.dtype(dtype) or (shape is not None and a.shape != shape) or (shape is None and a.ndim != 1):
        raise TableFileError(f"{name}: {a.dtype} {a.shape}")
    return a


def _strings(files: np.lib.npyio.NpzFile) -> list[list[str]]:
    chars = _member(files, "strings.chars", np.uint8, None)
    ends = _member(files, "strings.ends", np.int64, None)
    groups = _member(files, "strings.groups", np.int64, None)
    try:
        joined = chars.tobytes().decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise TableFileError("strings: not UTF-8") from None
    if len(ends) != int(groups.sum()) or np.any(groups < 0):
        raise TableFileError("strings: groups do not add up")
    if len(ends) and (ends[-1] != len(joined) or ends[0] < 0 or np.any(np.diff(ends) < 0)):
        raise TableFileError("strings: offsets out of order")
    if not len(ends) and joined:
        raise TableFileError("strings: text without offsets")
    bounds = ends.tolist()
    strings = [joined[a:b] for a, b in zip([0, *bounds[:-1]], bounds)]
    out, at = [], 0
    for size in groups.tolist():
        out.append(strings[at:at + size])
        at += size
    return out


def _read(files: np.lib.npyio.NpzFile, root: str) -> RunTable:
    head = files["format"] if "format" in files.files else None
    if head is None or head.dtype != np.int64 or head.ndim != 1 or len(head) < 1:
        raise TableFileError("not a runs table")
    version = int(head[0])
    if version > FORMAT_VERSION:
        raise NewerTableFile(f"format {version} is newer than this tracker's {FORMAT_VERSION}")
    if version != FORMAT_VERSION or head.shape != (5,) or np.any(head < 0):
        raise TableFileError(f"format {version}")
    n, n_params, n_tags, n_metrics = (int(v) for v in head[1:])
    n_text = len(TEXT_FIELDS) + n_params + n_tags
    groups = _strings(files)
    if len(groups) != n_text + 3:
        raise TableFileError("strings: wrong number of groups")
    codes = _member(files, "codes", np.int32, (n_text, n))
    if n and (codes.min() < -1 or np.any(codes.max(axis=1) >= [len(g) for g in groups[:n_text]])):
        raise TableFileError("codes out of range")
    param_keys, tag_keys, metric_keys = groups[n_text:]
    if (len(param_keys), len(tag_keys), len(metric_keys)) != (n_params, n_tags, n_metrics) or any(
            len(set(keys)) != len(keys) for keys in (param_keys, tag_keys, metric_keys)):
        raise TableFileError("keys missing or repeated")
    columns = [TextColumn(codes[i], groups[i]) for i in range(n_text)]
    text = dict(zip(TEXT_FIELDS, columns))
    if n and (text["dir"].codes.min() < 0 or np.count_nonzero(np.bincount(text["dir"].codes)) != n):
        raise TableFileError("run folders missing or repeated")
    ints = _member(files, "ints", np.int64, (len(INT_FIELDS), n))
    present = _member(files, "metrics.present", np.bool_, (n_metrics, n))
    floats = _member(files, "metrics.floats", np.float64, (n_metrics, len(METRIC_FLOATS), n))
    whole = _member(files, "metrics.ints", np.int64, (n_metrics, len(METRIC_INTS), n))
    metrics = {key: MetricColumn(present[j], dict(zip(METRIC_FLOATS + METRIC_INTS, [*floats[j], *whole[j]])))
               for j, key in enumerate(metric_keys)}
    first_param = len(TEXT_FIELDS)
    return RunTable(root, n, text, dict(zip(INT_FIELDS, ints)),
                    dict(zip(param_keys, columns[first_param:first_param + n_params])),
                    dict(zip(tag_keys, columns[first_param + n_params:])), metrics)
