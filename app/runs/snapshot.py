"""What the loading workers hand the GUI: a ``Snapshot`` when a directory opens, then a
``RunsUpdate`` for each newer table. Both carry the ``RunTable`` itself; ``Run`` objects are
made from it only for the few runs somebody asks for. A table handed over is never changed
again (every change makes a new one), so the GUI thread reads it without locks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracker.entities import Experiment, Run, UnreadableRun
from tracker.index import RunTable
from tracker.index.columns import NO_INT

from app.runs.rows import base_order, base_order_after, common_columns, remap_rows

AnyRun = Run | UnreadableRun


@dataclass
class Snapshot:
    root: Path
    table: RunTable | None = None  # None: no runs
    experiments: list[Experiment] = field(default_factory=list)
    index_path: Path | None = None  # where the index lives (None: read without one)
    seconds: float = 0.0  # how long loading took until this snapshot
    # Worked out on the loading thread, so the pass of the GUI thread that fills the table stays short:
    columns: list[str] | None = None  # the most common param and metric columns (run_rows.common_columns)
    base: np.ndarray | None = None  # the table's rows in base order (run_rows.base_order)
    partial: bool = False  # runs are still being read: RunsUpdates bring the rest, the last one ``complete``
    made: dict[str, AnyRun] | None = None  # runs already made as objects (an MLflow store's), by run id

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = RunTable.empty(str(self.root))

    @property
    def run_count(self) -> int:
        """Readable runs."""
        return int(np.count_nonzero(~self.table.text["reason"].present()))

    @property
    def unreadable_count(self) -> int:
        return int(np.count_nonzero(self.table.text["reason"].present()))

    @property
    def runs(self) -> list[Run]:
        """Every readable run, made now (for callers that want objects; the window never does)."""
        return self.table.runs(self.table.readable_rows()) if self.made is None else [
            r for r in self.made.values() if isinstance(r, Run)]

    @property
    def unreadable(self) -> list[UnreadableRun]:
        return self.table.runs(self.table.unreadable_rows()) if self.made is None else [
            r for r in self.made.values() if isinstance(r, UnreadableRun)]


@dataclass
class RunsUpdate:
    """A newer table: ``changed`` runs (by folder name, which is the run id) were added or
    changed, ``removed`` ones are gone."""

    table: RunTable
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    base: np.ndarray | None = None
    complete: bool = False  # the last update of a load that showed a partial table first
    made: dict[str, AnyRun] | None = None
    rows: np.ndarray | None = None  # the table rows of ``changed``, when known

    def changed_rows(self) -> np.ndarray:
        if self.rows is None:
            found = [self.table.position(r) for r in self.changed]
            self.rows = np.array([i for i in found if i is not None], dtype=np.int64)
        return self.rows

    def runs(self, run_ids: list[str] | set[str] | None = None) -> list[AnyRun]:
        """The changed runs (those among ``run_ids`` only, when given), made now."""
        wanted = self.changed if run_ids is None else [r for r in self.changed if r in run_ids]
        if self.made is not None:
            return [self.made[r] for r in wanted if r in self.made]
        rows = [self.table.position(r) for r in wanted]
        return [self.table.run(i) for i in rows if i is not None]


def prepare(table: RunTable, after: tuple[RunTable, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Work out, on the loading thread, what the GUI thread would otherwise compute first: the
    table's base order (returned) and its folder positions (kept by the table). ``after``:
    (the previous table, its base order, the rows of ``table`` added or changed since)."""
    table.position("")  # builds the table's folder -> row lookup now, before it is handed over
    return base_order(table) if after is None else base_order_after(after[0], after[1], table, after[2])


def snapshot_of(root: Path, table: RunTable, experiments: list[Experiment], index_path: Path | None,
                seconds: float, partial: bool = False, made: dict[str, AnyRun] | None = None) -> Snapshot:
    base = prepare(table)
    return Snapshot(root, table, experiments, index_path, seconds, common_columns(table), base, partial, made)


def table_changes(old: RunTable, new: RunTable, names: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(added or changed, removed) run folders from ``old`` to ``new`` (see ``table_changes_rows``)."""
    changed, removed, _ = table_changes_rows(old, new, names)
    return changed, removed


def table_changes_rows(old: RunTable, new: RunTable,
                       names: set[str] | None = None) -> tuple[list[str], list[str], np.ndarray]:
    """(added or changed, removed) run folders from ``old`` to ``new``, and the rows of ``new``
    that were added or changed. A row changed when its
    ``run.json`` identity or its status did; a row kept without a file identity (read again
    each time) when its run differs, among ``names`` (default: all)."""
    remap = remap_rows(old, new)
    kept = remap >= 0
    removed = old.text["dir"].values(np.flatnonzero(~kept)).tolist()
    hit = np.zeros(new.n, dtype=bool)
    o = np.flatnonzero(kept)
    j = remap[o]
    hit[j] = True
    differ = np.zeros(len(o), dtype=bool)
    for name in ("mtime_ns", "size", "ino"):
        differ |= old.ints[name][o] != new.ints[name][j]
    differ |= old.text["status"].values(o) != new.text["status"].values(j)
    unkeyed = np.flatnonzero(~differ & (new.ints["mtime_ns"][j] == NO_INT))
    for k in unkeyed.tolist():
        if names is None or new.text["dir"].get(int(j[k])) in names:
            differ[k] = not same_run(old.run(int(o[k])), new.run(int(j[k])))
    rows = np.sort(np.concatenate([j[differ], np.flatnonzero(~hit)]))
    return new.text["dir"].values(rows).tolist(), removed, rows


def same_run(a: AnyRun | None, b: AnyRun) -> bool:
    """Equal runs, with NaN metric values equal to each other (dataclass equality says NaN != NaN)."""
    if a is None or type(a) is not type(b):
        return False
    if a == b:
        return True
    if not isinstance(a, Run):
        return False
    if a.info != b.info or a.path != b.path or a.data.params != b.data.params or a.data.tags != b.data.tags:
        return False
    sa, sb = a.data.summaries, b.data.summaries
    if sa.keys() != sb.keys():
        return False
    for k, x in sa.items():
        y = sb[k]
        for u, v in ((x.last, y.last), (x.min, y.min), (x.max, y.max)):
            if u != v and not (isinstance(u, float) and isinstance(v, float) and math.isnan(u) and math.isnan(v)):
                return False
        if (x.count, x.last_step, x.last_timestamp) != (y.count, y.last_step, y.last_timestamp):
            return False
    return True
