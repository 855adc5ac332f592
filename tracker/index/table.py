"""``RunTable``: every run of a directory as columns, the shape the runs table and searches need.

A row is a run folder. Fixed fields are columns of their own (text dictionary-encoded, times
and keys int64); each param and tag key is a ``TextColumn``, each metric key a ``MetricColumn``
of its summary. Filtering and sorting work on whole columns (``tracker.query``); a ``Run``
is made only for the rows somebody asks for (``run(i)``).

An unreadable folder is a row too: ``reason`` says why, ``run_id`` is the folder's name and
the other fields are missing. ``status`` is the status shown (a RUNNING run whose writer died
reads KILLED); ``stored_status`` is what ``run.json`` says.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..entities import Run, RunStatus, UnreadableRun
from ..store.experiments import DEFAULT_EXPERIMENT, legacy_experiment_id
from ..store.rundoc import description_of, effective_status
from .columns import (
    METRIC_FLOATS, METRIC_INTS, NO_INT, MetricColumn, TextColumn, concat_metrics, concat_texts,
)
from .table_runs import make_runs

TEXT_FIELDS = ("run_id", "dir", "run_name", "experiment", "experiment_id", "status", "stored_status", "user",
               "host", "parent_run_id", "description", "error", "reason")
INT_FIELDS = ("start_time", "end_time", "pid", "pid_start", "mtime_ns", "size", "ino")
FAMILIES = ("params", "tags", "metrics")

FileKey = tuple[int, int, int]  # (mtime_ns, size, inode) of a run.json
_KEY_FIELDS = ("mtime_ns", "size", "ino")  # the int columns that make up a FileKey


class RunTable:
    """Runs as columns. ``text[field]``, ``ints[field]``, ``params[key]``, ``tags[key]``, ``metrics[key]``."""

    def __init__(self, root: str, n: int, text: dict[str, TextColumn], ints: dict[str, np.ndarray],
                 params: dict[str, TextColumn], tags: dict[str, TextColumn],
                 metrics: dict[str, MetricColumn]) -> None:
        self.root = root
        self.n = n
        self.text = text
        self.ints = ints
        self.params = params
        self.tags = tags
        self.metrics = metrics
        self._positions: dict[str, int] | None = None
        self._root_uri: str | None = None

    @classmethod
    def empty(cls, root: str) -> "RunTable":
        return TableBuilder(root).build()

    def __len__(self) -> int:
        return self.n

    # ---- looking up ----------------------------------------------------------------------
    def run_ids(self) -> list[str]:
        return self.text["run_id"].values().tolist()

    def dirs(self) -> list[str]:
        return self.text["dir"].values().tolist()

    def positions(self) -> dict[str, int]:
        """``{run folder name: row}``."""
        if self._positions is None:
            self._positions = {d: i for i, d in enumerate(self.dirs())}
        return self._positions

    def position(self, name: str) -> int | None:
        """The row of the run folder ``name`` (its run id), or None."""
        return self.positions().get(name)

    def unreadable_rows(self) -> np.ndarray:
        return np.flatnonzero(self.text["reason"].present())

    def readable_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.text["reason"].present())

    def file_key(self, i: int) -> FileKey:
        """Row ``i``'s ``run.json`` key as read (``NO_INT`` three times: not to be trusted, read it again)."""
        return tuple(int(self.ints[f][i]) for f in _KEY_FIELDS)

    def file_key_array(self) -> np.ndarray:
        """Every row's ``file_key``, as int64 rows of mtime_ns, size and inode (shape (3, n))."""
        return np.stack([self.ints[f] for f in _KEY_FIELDS])

    def path(self, i: int) -> str:
        return os.path.join(self.root, self.text["dir"].get(i))

    # ---- whole runs, for the few that need them ----------------------------------------------
    def run(self, i: int) -> Run | UnreadableRun:
        return self.runs([i])[0]

    def root_uri(self) -> str:
        """The root's ``file:`` URI as ``Path.resolve()`` gives it (resolved once per table)."""
        if self._root_uri is None:
            self._root_uri = Path(self.root).resolve().as_uri()
        return self._root_uri

    def runs(self, rows: Iterable[int] | None = None) -> list[Run | UnreadableRun]:
        """The runs of ``rows`` (default: all), made column by column (``table_runs``)."""
        rows = np.arange(self.n) if rows is None else np.asarray(list(rows) if not isinstance(rows, np.ndarray)
                                                                   else rows, dtype=np.int64)
        return make_runs(self, rows, TEXT_FIELDS)

    # ---- status of live runs -------------------------------------------------------------------
    def has_running(self) -> bool:
        return RunStatus.RUNNING in self.text["stored_status"].uniques

    def rederive_status(self) -> list[int]:
        """Re-check every run stored as RUNNING (its writer may have died); the rows whose status changed."""
        stored = self.text["stored_status"]
        if RunStatus.RUNNING not in stored.uniques:
            return []
        running = np.flatnonzero(stored.codes == stored.code_of(RunStatus.RUNNING))
        status, changed = self.text["status"], []
        for i in running.tolist():
            info = {"status": RunStatus.RUNNING, "host": self.text["host"].get(i),
                    "start_time": int(self.ints["start_time"][i])}
            for name in ("pid", "pid_start"):
                value = int(self.ints[name][i])
                info[name] = None if value == NO_INT else value
            now = effective_status(info, Path(self.path(i)))
            if now != status.get(i):
                status.codes[i] = status.code_of(now)
                changed.append(i)
        return changed

    # ---- changing ------------------------------------------------------------------------------
    def take(self, rows: Sequence[int] | np.ndarray) -> "RunTable":
        """The table of ``rows`` only, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return RunTable(self.root, len(rows), {k: c.take(rows) for k, c in self.text.items()},
                        {k: a[rows] for k, a in self.ints.items()},
                        _drop_empty({k: c.take(rows) for k, c in self.params.items()}),
                        _drop_empty({k: c.take(rows) for k, c in self.tags.items()}),
                        _drop_empty_metrics({k: c.take(rows) for k, c in self.metrics.items()}))

    def concat(self, other: "RunTable") -> "RunTable":
        """This table's rows, then ``other``'s."""
        return RunTable.joined(self.root, [self, other])

    @staticmethod
    def joined(root: str, tables: list["RunTable"]) -> "RunTable":
        """The rows of ``tables`` in turn, in one pass: joining k parts one at a time would copy
        the first part k times. A single table is returned itself."""
        tables = [t for t in tables if t.n]
        if len(tables) <= 1:
            return tables[0] if tables else RunTable.empty(root)
        sizes = [t.n for t in tables]

        def texts(family: str) -> dict[str, TextColumn]:
            keys = dict.fromkeys(k for t in tables for k in getattr(t, family))
            return {k: concat_texts([getattr(t, family).get(k) for t in tables], sizes) for k in keys}

        metrics = dict.fromkeys(k for t in tables for k in t.metrics)
        return RunTable(root, sum(sizes), texts("text"),
                        {k: np.concatenate([t.ints[k] for t in tables]) for k in INT_FIELDS},
                        texts("params"), texts("tags"),
                        {k: concat_metrics([t.metrics.get(k) for t in tables], sizes) for k in metrics})

    def patched(self, changed: "RunTable", remove: Iterable[str] = ()) -> "RunTable":
        """A new table: ``changed``'s rows replace this table's rows of the same folders (or are
        added at the end), and the folders named in ``remove`` are dropped. This table is unchanged;
        ``changed`` itself is returned when this table is empty (tables are values: one handed on
        is not changed in place)."""
        if not self.n:  # nothing to keep or replace: the changed rows are the table
            return changed
        positions = self.positions()
        remove = [d for d in remove if d in positions]
        changed_dirs = changed.dirs()
        if not remove and all(d in positions for d in changed_dirs):  # runs that changed in place: one copy
            return self._replaced(changed, np.array([positions[d] for d in changed_dirs], dtype=np.int64))
        if not remove and not any(d in positions for d in changed_dirs):  # new runs only: appended, one copy
            appended = self.concat(changed)
            # the lookup grows rather than being made again: at 100,000 runs making it takes ~8 ms,
            # and the table handed to a viewer is looked up in at once, on its GUI thread
            appended._positions = dict(positions)
            appended._positions.update(zip(changed_dirs, range(self.n, appended.n)))
            return appended
        gone = set(remove) | set(changed_dirs)
        keep = [i for i, d in enumerate(self.dirs()) if d not in gone]
        if not changed.n:
            return self.take(keep)
        # rows keep their places: a replaced run stays where it was, a new one goes last
        merged = self.take(keep).concat(changed)
        slots = merged.positions()
        order = [slots[d] for d in self.dirs() if d in slots]
        order += [slots[d] for d in changed_dirs if d not in positions]
        return merged if order == list(range(merged.n)) else merged.take(order)

    def _replaced(self, changed: "RunTable", rows: np.ndarray) -> "RunTable":
        new = self.copy()
        new._positions = self._positions  # the same folders in the same rows
        theirs = np.arange(changed.n)
        for field in TEXT_FIELDS:
            new.text[field].assign(rows, changed.text[field], theirs)
        for field in INT_FIELDS:
            new.ints[field][rows] = changed.ints[field]
        for family in ("params", "tags"):
            mine, other = getattr(new, family), getattr(changed, family)
            for key in dict.fromkeys([*mine, *other]):
                if key not in mine:
                    mine[key] = TextColumn.empty(new.n)
                mine[key].assign(rows, other.get(key), theirs)
            for key in [k for k, c in mine.items() if not c.n_present()]:
                del mine[key]
        for key in dict.fromkeys([*new.metrics, *changed.metrics]):
            if key not in new.metrics:
                new.metrics[key] = MetricColumn.empty(new.n)
            new.metrics[key].assign(rows, changed.metrics.get(key), theirs)
        new.metrics = _drop_empty_metrics(new.metrics)
        return new

    def with_own_status(self) -> "RunTable":
        """This table with a copy of its ``status`` column, the one column ``rederive_status`` changes,
        and every other column shared: re-deriving a RUNNING run's status copies 10,000 statuses, not
        10,000 runs (a whole copy took ~7 ms on every search while a run was being written)."""
        text = dict(self.text)
        text["status"] = text["status"].copy()
        new = RunTable(self.root, self.n, text, dict(self.ints), dict(self.params), dict(self.tags),
                       dict(self.metrics))
        new._positions, new._root_uri = self._positions, self._root_uri
        return new

    def copy(self) -> "RunTable":
        return RunTable(self.root, self.n, {k: c.copy() for k, c in self.text.items()},
                        {k: a.copy() for k, a in self.ints.items()}, {k: c.copy() for k, c in self.params.items()},
                        {k: c.copy() for k, c in self.tags.items()}, {k: c.copy() for k, c in self.metrics.items()})


def experiment_counts(table: RunTable) -> dict[str, tuple[int, int]]:
    """``{experiment name: (readable runs, earliest start_time)}`` of the table's runs."""
    rows = table.readable_rows()
    codes = table.text["experiment"].codes[rows]
    starts = table.ints["start_time"][rows]
    out = {}
    for code, name in enumerate(table.text["experiment"].uniques):
        mine = codes == code
        count = int(np.count_nonzero(mine))
        if count:
            out[name] = (count, int(starts[mine].min()))
    return out


def _drop_empty(columns: dict[str, TextColumn]) -> dict[str, TextColumn]:
    """Keys no remaining run has are not columns any more."""
    return {k: c for k, c in columns.items() if c.n_present()} if columns else columns


def _drop_empty_metrics(columns: dict[str, MetricColumn]) -> dict[str, MetricColumn]:
    return {k: c for k, c in columns.items() if c.present.any()}


class TableBuilder:
    """Collects runs read from disk, one ``add_*`` call per folder, then ``build()``s a table."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.n = 0
        self._text: dict[str, list] = {f: [] for f in TEXT_FIELDS}
        self._ints: dict[str, list] = {f: [] for f in INT_FIELDS}
        # key -> (rows, values), so that a key few runs have costs only those runs; metrics: key ->
        # (rows, 4 floats per row, 4 ints per row). Flat lists, not a tuple per value: a chunk of
        # 4,096 runs made ~300,000 tuples, and the garbage collector went through them again and
        # again while they lived (full collections of 35-55 ms, holding the GIL, at 100,000 runs)
        self._families: dict[str, dict[str, tuple[list, ...]]] = {f: {} for f in FAMILIES}

    def add_unreadable(self, name: str, key: FileKey | None, reason: str) -> None:
        self._add_fixed({"run_id": name, "dir": name, "reason": reason, "status": "UNREADABLE"},
                        {"start_time": -1}, key)

    def add_document(self, name: str, key: FileKey | None, doc: dict[str, Any], path: str,
                     defaults: bool = True) -> None:
        """A checked ``run.json`` (``store.rundoc.read_document``) of the folder ``name`` at ``path``.

        With ``defaults``, an empty name or experiment reads as ``store.rundoc.document_to_run`` reads
        it and a RUNNING run is checked for a live writer; without, the document describes a run
        already made (``add_run``) and its fields are taken as they are."""
        info = doc["info"]
        run_id = info["run_id"]
        experiment = (info.get("experiment") or DEFAULT_EXPERIMENT) if defaults else info["experiment"]
        stored = info.get("status", RunStatus.RUNNING)
        pid, pid_start, end = info.get("pid"), info.get("pid_start"), info.get("end_time")
        row = self.n
        self._add_fixed(
            {"run_id": run_id, "dir": name,
             "run_name": (info.get("run_name") or run_id[:8]) if defaults else info["run_name"],
             "experiment": experiment,
             "experiment_id": info.get("experiment_id") or (
                 None if experiment is None else legacy_experiment_id(experiment)),
             # (a run made already carries the status to show; a document's RUNNING is checked)
             "status": stored if stored != RunStatus.RUNNING or not defaults else effective_status(info, Path(path)),
             "stored_status": stored,
             "user": info.get("user") or "", "host": info.get("host") or "",
             "parent_run_id": info.get("parent_run_id"), "description": description_of(doc),
             "error": info.get("error")},
            {"start_time": int(info.get("start_time") or 0), "end_time": end if isinstance(end, int) else NO_INT,
             "pid": pid if isinstance(pid, int) else NO_INT,
             "pid_start": pid_start if isinstance(pid_start, int) else NO_INT}, key)
        for family, mapping in (("params", doc["params"]), ("tags", doc["tags"])):
            columns = self._families[family]
            for k, v in mapping.items():
                k = str(k)
                try:
                    rows, values = columns[k]
                except KeyError:
                    rows, values = columns[k] = ([], [])
                rows.append(row)
                values.append(str(v))
        metrics = self._families["metrics"]
        for k, s in doc["metrics"].items():
            try:
                rows, floats, ints = metrics[k]
            except KeyError:
                rows, floats, ints = metrics[k] = ([], [], [])
            last, last_step = s["last"], s["last_step"]
            rows.append(row)
            floats += (last, s["min"], s["max"], s.get("value_at_max_step", last))
            ints += (s["count"], last_step, s["last_timestamp"], s.get("max_step", last_step))

    def add_run(self, name: str, key: FileKey | None, run: Run) -> None:
        """A run already made (by ``store.read_run``, an MLflow store's reader, a test), as it is: its
        status is not checked again. Each value is coerced to the type a checked document holds, so
        a run object holding anything (a fuzzed one) still makes a row; a metric known only by its
        value (no summary) is a metric logged once, at step 0."""
        i, d = run.info, run.data
        metrics = {}
        for k, value in d.metrics.items():
            if k not in d.summaries:
                v = _float(value)
                metrics[str(k)] = {"last": v, "min": v, "max": v, "count": 1, "last_step": 0,
                                   "last_timestamp": _int(i.start_time) or 0}
        for k, sm in d.summaries.items():
            last_step = _int(sm.last_step) or 0
            max_step = _int(sm.max_step)
            metrics[str(k)] = {
                "last": _float(sm.last), "min": _float(sm.min), "max": _float(sm.max), "count": _int(sm.count) or 0,
                "last_step": last_step, "last_timestamp": _int(sm.last_timestamp) or 0,
                "max_step": last_step if max_step is None else max_step,
                "value_at_max_step": _float(d.metrics.get(k, sm.value_at_max_step))}  # the value the run shows
        info = {"run_id": _text(i.run_id) or name, "start_time": _int(i.start_time) or 0,
                "end_time": _int(i.end_time), "pid": _int(i.pid), "status": _text(i.status) or RunStatus.RUNNING}
        for field in ("run_name", "experiment", "experiment_id", "user", "host", "parent_run_id", "description",
                      "error"):
            info[field] = _text(getattr(i, field, None))
        doc = {"info": info, "params": {str(k): str(v) for k, v in d.params.items()},
               "tags": {str(k): str(v) for k, v in d.tags.items()}, "metrics": metrics}
        self.add_document(name, key, doc, run.path, defaults=False)

    def _add_fixed(self, text: dict[str, Any], ints: dict[str, int], key: FileKey | None) -> None:
        for field, values in self._text.items():
            values.append(text.get(field))
        mtime, size, ino = key if key is not None else (NO_INT, NO_INT, NO_INT)
        ints = {"end_time": NO_INT, "pid": NO_INT, "pid_start": NO_INT, **ints,
                "mtime_ns": mtime, "size": size, "ino": ino}
        for field, values in self._ints.items():
            values.append(ints[field])
        self.n += 1

    def build(self) -> RunTable:
        """The table of the runs added; the builder is left empty.

        Each key's collected values are let go as soon as its column is made: freeing a whole chunk's
        values at once, when the builder was dropped, held the GIL for 60-90 ms in one step (a
        viewer's GUI thread waited that long for it).
        """
        n = self.n
        text = {f: TextColumn.from_values(self._text.pop(f)) for f in list(self._text)}
        ints = {f: np.array(self._ints.pop(f), dtype=np.int64) for f in list(self._ints)}
        families: dict[str, dict] = {}
        for family in ("params", "tags"):
            collected = self._families[family]
            families[family] = {k: _sparse_text(*collected.pop(k), n) for k in list(collected)}
        collected = self._families["metrics"]
        metrics = {k: MetricColumn.from_rows(n, *collected.pop(k)) for k in list(collected)}
        self.__init__(self.root)  # empty, and ready for more runs
        return RunTable(self.root, n, text, ints, families["params"], families["tags"], metrics)


def _text(value: object) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


def _int(value: object) -> int | None:
    """An int64 of ``value``, or None (not a number, infinite, NaN or out of range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = int(value)
    except (OverflowError, ValueError):
        return None
    return number if -2 ** 63 < number < 2 ** 63 else None


def _float(value: object) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _sparse_text(rows: list[int], values: list[str], n: int) -> TextColumn:
    lookup: dict[str, int] = {}
    codes = np.full(n, -1, dtype=np.int32)
    codes[rows] = [lookup.setdefault(v, len(lookup)) for v in values]
    return TextColumn(codes, list(lookup))


__all__ = ["RunTable", "TableBuilder", "TEXT_FIELDS", "INT_FIELDS", "METRIC_FLOATS", "METRIC_INTS", "NO_INT"]
