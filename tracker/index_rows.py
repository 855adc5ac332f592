"""The rows of the run index (``tracker.index``): how a run is read from disk into one,
packed, and unpacked again. ``RunIndex`` owns the database file; this module the row format.

A row is ``(run_id, mtime_ns, size, ino, status, reason, keys, data, checksum)``: the key of
the run's ``run.json`` when it was read, its stored status (None: unreadable, and ``reason``
says why), the run packed into two blobs (both marshal), and a CRC-32 of status, reason and
blobs. A row whose checksum does not match (a changed byte in the index file) is never
served: the run is read from disk again and its row rewritten. (A changed file key or run id
needs no checksum: it no longer matches the ``run.json`` on disk, which has the same effect.)
The blobs:
  keys: (param keys, tag keys, metric keys): the same bytes for every run of a sweep, so
        decoded once per distinct set, and 10,000 runs share one copy of each key
  data: (PACK_VERSION, run_id, run_name, experiment, start_time, end_time, artifact_uri,
         parent_run_id, description, user, host, pid, error, pid_start,
         param values, tag values, metric last values, summaries, values at the highest step,
         experiment_id)
in the keys' order, where summaries is marshal bytes of one (min, max, count, last_step,
last_timestamp, max_step) per metric, decoded only when ``run.data.summaries`` is read: listing never
does, and decoding them for every run was a third of a warm refresh (measured). The params,
tags and latest-metrics dicts are likewise made when first read (``entities.Deferred``).
RUNNING is re-derived on every read (a dead writer reads KILLED).
"""
from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any

from . import store
from .entities import Deferred, MetricSummary, Run, RunData, RunInfo, RunStatus, UnreadableRun
from .store import layout
from .store.experiments import legacy_experiment_id
from .store.rundoc import effective_status, read_document

PACK_VERSION = 4  # bump when the packed tuples change, or what rundoc.check_document accepts
_RUNNING = RunStatus.RUNNING

FileKey = tuple[int, int, int]  # (mtime_ns, size, inode) of a run.json


def _packed_from_document(doc: dict[str, Any], artifact_uri: str) -> tuple[tuple, tuple]:
    """(keys, data) of what ``rundoc.document_to_run`` makes of a document (tests keep the two equal)."""
    intern = sys.intern
    info = doc["info"]
    run_id = info["run_id"]
    pid_start = info.get("pid_start")
    params, tags, metrics = doc["params"], doc["tags"], doc["metrics"]
    summaries = [(s["min"], s["max"], s["count"], s["last_step"], s["last_timestamp"],
                  s.get("max_step", s["last_step"])) for s in metrics.values()]
    keys = (tuple(map(str, params)), tuple(map(str, tags)), tuple(metrics))
    return keys, (
        PACK_VERSION, run_id, info.get("run_name") or run_id[:8],
        intern(info.get("experiment") or store.DEFAULT_EXPERIMENT),
        int(info.get("start_time") or 0), info.get("end_time"), artifact_uri, info.get("parent_run_id"),
        info.get("description") or "", intern(info.get("user") or ""), intern(info.get("host") or ""),
        info.get("pid"), info.get("error"), pid_start if isinstance(pid_start, int) else None,
        tuple(map(str, params.values())), tuple(map(str, tags.values())),
        tuple([s["last"] for s in metrics.values()]), marshal.dumps(tuple(summaries)),
        tuple([s.get("value_at_max_step", s["last"]) for s in metrics.values()]),
        info.get("experiment_id") or legacy_experiment_id(info.get("experiment") or store.DEFAULT_EXPERIMENT),
    )


def _summaries(keys: tuple[str, ...], lasts: tuple, packed: bytes, latest: tuple) -> dict[str, MetricSummary]:
    return {key: MetricSummary(key, last, lo, hi, count, last_step, last_ts, max_step, value)
            for key, last, (lo, hi, count, last_step, last_ts, max_step), value
            in zip(keys, lasts, marshal.loads(packed), latest, strict=True)}


def _run_from_packed(keys: tuple, data: tuple, status: str, path: str) -> Run:
    (version, run_id, name, experiment, start, end, uri, parent, description, user, host, pid, error,
     pid_start, param_values, tag_values, lasts, summaries, latest, experiment_id) = data
    param_keys, tag_keys, metric_keys = keys
    if version != PACK_VERSION or len(param_keys) != len(param_values) or len(tag_keys) != len(tag_values) \
            or len(metric_keys) != len(lasts):
        raise ValueError("a row packed by another version")
    if status == _RUNNING:  # is its writer still alive? (a dead one reads KILLED)
        status = effective_status(
            {"status": status, "pid": pid, "pid_start": pid_start, "host": host, "start_time": start}, Path(path))
    info = RunInfo(run_id, name, experiment, status, start, end, uri, parent, description, user, host, pid, error,
                   experiment_id)
    data = RunData(Deferred(_zipped, param_keys, param_values), Deferred(_zipped, tag_keys, tag_values),
                   Deferred(_zipped, metric_keys, latest), Deferred(_summaries, metric_keys, lasts, summaries, latest))
    return Run(info, data, path)


def _zipped(keys: tuple, values: tuple) -> dict:
    return dict(zip(keys, values))


class KeySets:
    """The key sets of one refresh: one copy of each, decoded or encoded once; and the part of
    the rows' checksums that comes from a key set (and status), computed once."""

    def __init__(self) -> None:
        self._by_blob: dict[bytes, tuple] = {}
        self._blobs: dict[tuple, tuple[tuple, bytes]] = {}
        self._prefixes: dict[tuple, int] = {}

    def checksum(self, status: str | None, reason: str | None, keys: bytes | None, data: bytes | None) -> int:
        """The CRC-32 of a row's status, reason and blobs (what its ``checksum`` column holds)."""
        part = (status, reason, keys, data is None)
        prefix = self._prefixes.get(part)
        if prefix is None:
            head = (f"{status is None:d}{status or ''}\x00{reason is None:d}{reason or ''}\x00"
                    f"{keys is None:d}{data is None:d}")
            prefix = zlib.crc32(keys or b"", zlib.crc32(head.encode("utf-8", "surrogatepass")))
            if len(self._prefixes) < 10_000:  # (unreadable runs each have their own reason)
                self._prefixes[part] = prefix
        return zlib.crc32(data, prefix) if data else prefix

    def decode(self, blob: bytes) -> tuple:
        keys = self._by_blob.get(blob)
        if keys is None:
            keys = marshal.loads(blob)
            if type(keys) is not tuple or len(keys) != 3:
                raise ValueError("not a key set")
            self._by_blob[blob] = keys
        return keys

    def shared(self, keys: tuple) -> tuple[tuple, bytes]:
        """The copy of ``keys`` in use (interned: shared with other key sets too) and its blob."""
        known = self._blobs.get(keys)
        if known is None:
            interned = tuple(tuple(map(sys.intern, part)) for part in keys)
            known = self._blobs[keys] = (interned, marshal.dumps(interned))
        return known


def intact(row: tuple, key: FileKey | None, keysets: KeySets) -> bool:
    """Whether a row may be served: its key still matches the file and its checksum its contents."""
    return key is not None and (row[1], row[2], row[3]) == key \
        and row[8] == keysets.checksum(row[4], row[5], row[6], row[7])


def from_row(row: tuple, key: FileKey | None, path: str, keysets: KeySets) -> Run | UnreadableRun | None:
    """The run a row holds, when it is ``intact``; None means re-read it."""
    if not intact(row, key, keysets):
        return None
    name, _, _, _, status, reason, keys, data, _ = row
    if status is None:
        return UnreadableRun(name, path, reason or "unreadable")
    try:
        data = marshal.loads(data)
    except Exception:
        return None
    return from_parts(status, keys, data, path, keysets)


def from_parts(status: str, keys: bytes, data: tuple, path: str, keysets: KeySets) -> Run | None:
    """The readable run of a row whose ``data`` blob is already decoded; None: re-read it."""
    try:
        return _run_from_packed(keysets.decode(keys), data, status, path)
    except Exception:  # a damaged or foreign row: read the file instead
        return None


def read_row(name: str, path: str, key: FileKey | None, root_uri: str, keysets: KeySets,
             build: bool = True) -> tuple[Run | UnreadableRun | None, tuple | None]:
    """Read one run from disk; returns it and the row to store (None: do not cache).
    Without ``build``, a run that makes a row is not made itself (None): its row is enough."""
    if key is None:  # no run.json, or no permission: say why, cache nothing
        return store.read_run(path), None
    try:
        doc = read_document(path)
        artifacts = os.path.join(path, layout.ARTIFACTS_DIR)
        if os.path.islink(artifacts):
            uri = Path(artifacts).resolve().as_uri()
        else:  # what Path.resolve() gives, without its per-component lstat calls
            uri = f"{root_uri}/{name}/{layout.ARTIFACTS_DIR}"
        keys, data = _packed_from_document(doc, uri)
        keys, keys_blob = keysets.shared(keys)
        status = doc["info"].get("status", _RUNNING)
        if not isinstance(status, str):
            raise TypeError(f"status {status!r} is not text")
        run = _run_from_packed(keys, data, status, path) if build else None
        blob = marshal.dumps(data)
    except Exception:
        # store.read_run names the problem in its own words; if it manages to read the
        # run after all (the file was just replaced, or holds something unusual), the
        # run is served but not cached.
        result = store.read_run(path)
        if isinstance(result, UnreadableRun):
            return result, (name, *key, None, result.reason, None, None,
                            keysets.checksum(None, result.reason, None, None))
        return result, None
    return run, (name, *key, status, None, keys_blob, blob, keysets.checksum(status, None, keys_blob, blob))
