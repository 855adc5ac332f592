"""The runs table's rows without Qt: which rows of a ``RunTable`` show, in which order, how deep.

Everything works on whole columns with numpy (``tracker.query`` for filter expressions), so a
keystroke in the filter box or a click on a header over 100,000 runs touches no Python object
per run. A text test (plain-text search, an experiment) runs once per distinct value of a
column and reaches the rows through the column's codes.
"""
from __future__ import annotations

import bisect
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import repeat

import numpy as np

from tracker import query
from tracker.entities import Run, UnreadableRun
from tracker.filter import is_filter_expression, parse_filter
from tracker.index import RunTable, TableBuilder
from tracker.index.columns import TextColumn

from app.runs.column_choice import top_columns
from app.runs.columns import (  # noqa: F401  (the columns' names, where the rows' callers look for them)
    FIXED_COLUMNS, FIXED_KEYS, UNREADABLE, Column, column_for, is_unreadable, name_of, run_id_of, status_of,
    string_ranks,
)

AnyRun = Run | UnreadableRun


# ---- tables of runs made elsewhere --------------------------------------------------------------

def run_key(run: AnyRun) -> str:
    return run.run_id if isinstance(run, UnreadableRun) else run.info.run_id


def table_of_runs(root: str | os.PathLike, runs: Iterable[AnyRun]) -> RunTable:
    """``runs`` (an MLflow store's, or made in a test) as a table, one row each under its run id,
    each with the status it carries (``TableBuilder.add_run``)."""
    builder = TableBuilder(os.fspath(root))
    for run in runs:
        if isinstance(run, UnreadableRun):
            builder.add_unreadable(run.run_id, None, run.reason)
        else:
            builder.add_run(run.info.run_id, None, run)
    return builder.build()


# ---- comparing two tables -------------------------------------------------------------------------

def remap_rows(old: RunTable, new: RunTable) -> np.ndarray:
    """For each row of ``old``, the row of the same run folder in ``new`` (-1: gone)."""
    if old is new:
        return np.arange(old.n, dtype=np.int64)
    out = np.full(old.n, -1, dtype=np.int64)
    if not old.n or not new.n:
        return out
    a, b = old.text["dir"], new.text["dir"]
    if len(b.uniques) >= len(a.uniques) and (b.uniques is a.uniques or b.uniques[:len(a.uniques)] == a.uniques):
        # a table patched from ``old`` keeps its folder names' codes: no per-row lookups
        row_of_code = np.full(len(b.uniques) + 1, -1, dtype=np.int64)
        row_of_code[b.codes] = np.arange(new.n)
        return row_of_code[a.codes]
    position = new.position
    return np.fromiter((-1 if (j := position(d)) is None else j for d in old.dirs()), dtype=np.int64,
                       count=old.n)


# ---- order, filter, nesting -----------------------------------------------------------------------

def base_order(table: RunTable) -> np.ndarray:
    """Newest first, then by run id (unreadable runs last): ties never depend on read order."""
    starts = table.ints["start_time"].copy()
    starts[table.text["reason"].present()] = np.iinfo(np.int64).min + 1  # after every real run
    # Run ids are ranked only where start times tie: ranking 100,000 ids sorts them all in one
    # call that holds the GIL for ~50 ms (the loading thread works this out while the GUI waits)
    by_start = np.argsort(starts, kind="stable")
    ordered = starts[by_start]
    same = ordered[1:] == ordered[:-1]
    tied = np.zeros(table.n, dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    id_ranks = np.zeros(table.n, dtype=np.int64)
    tied_rows = by_start[tied]
    if len(tied_rows):
        ids = table.text["run_id"]
        codes = ids.codes[tied_rows]
        used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(ids.uniques)))
        rank_of_code = np.full(len(ids.uniques) + 1, -1, dtype=np.int64)  # the last slot: no run id
        rank_of_code[used] = string_ranks([ids.uniques[c] for c in used.tolist()])
        id_ranks[tied_rows] = rank_of_code[codes]
    return np.lexsort((id_ranks, -starts)).astype(np.int64)


def base_order_after(old: RunTable, old_base: np.ndarray, new: RunTable, changed: np.ndarray,
                     most: int = 256) -> np.ndarray:
    """``base_order(new)`` from the base order of ``old``, when ``new`` is ``old`` with the rows
    ``changed`` (of ``new``) added or changed: the other rows keep their order and those few are
    put in place by binary search (a full order of 100,000 runs sorts every run id again)."""
    if len(old_base) != old.n or len(changed) > most:
        return base_order(new)
    kept = remap_rows(old, new)[old_base]
    kept = kept[kept >= 0]  # (-1: gone)
    moved = np.zeros(new.n, dtype=bool)
    moved[changed] = True
    order = kept[~moved[kept]].tolist()
    starts = new.ints["start_time"]
    unreadable = new.text["reason"].codes >= 0
    ids = new.text["run_id"]

    def key(r: int) -> tuple[int, str]:
        start = np.iinfo(np.int64).min + 1 if unreadable[r] else int(starts[r])
        return -start, (ids.get(r) or "").lower()
    for r in sorted(changed.tolist(), key=key):
        order.insert(bisect.bisect_left(order, key(r), key=key), r)
    return np.array(order, dtype=np.int64)


def common_columns(table: RunTable) -> list[str]:
    """The most common param and metric keys of all runs as column keys: what the table shows
    for all runs until the user picks columns (``column_choice.top_columns``)."""
    return top_columns(table, None)


def experiment_counts(table: RunTable) -> Counter:
    """Readable runs per experiment."""
    column = table.text["experiment"]
    codes = column.codes[~table.text["reason"].present() & (column.codes >= 0)]
    counts = np.bincount(codes, minlength=len(column.uniques))
    return Counter({name: int(c) for name, c in zip(column.uniques, counts.tolist()) if c})


class SearchText:
    """Plain-text search over one table: name, id, experiment, user and tags as key=value (an
    unreadable run: its id, path and reason), without case. Each column's distinct values are
    lowered once, on the first search."""

    FIELDS = ("run_name", "run_id", "experiment", "user")

    def __init__(self, table: RunTable) -> None:
        self.table = table
        self._lowered: dict[str, tuple[TextColumn, list[str]]] = {}

    def _columns(self) -> Iterator[tuple[TextColumn, list[str]]]:
        table, lowered = self.table, self._lowered
        if not lowered:
            for field in self.FIELDS:
                column = table.text[field]
                lowered[field] = (column, [u.lower() for u in column.uniques])
            for key, column in table.tags.items():
                lowered[f"tags.{key}"] = (column, [f"{key}={u}".lower() for u in column.uniques])
        return iter(lowered.values())

    def contains(self, word: str) -> np.ndarray:
        """Whether each row's text holds ``word`` (lower case)."""
        table = self.table
        out = np.zeros(table.n, dtype=bool)
        for column, lowered in self._columns():
            hits = np.fromiter((word in u for u in lowered), dtype=bool, count=len(lowered))
            if hits.any():
                out |= np.append(hits, False)[column.codes]
        for i in table.unreadable_rows().tolist():
            text = f"{run_id_of(table, i)}\n{table.path(i)}\n{table.text['reason'].get(i)}".lower()
            out[i] = word in text
        return out


class RowFilter:
    """Which rows show: one experiment (or all), then a grammar expression or plain words.

    Raises ``FilterSyntaxError`` (with ``.position``) for a malformed expression.
    """

    def __init__(self, experiment: str | None = None, text: str = "") -> None:
        self.experiment = experiment
        self.text = text
        parsed = parse_filter(text) if is_filter_expression(text) else None
        self.expression = parsed if parsed is not None and parsed.ast is not None else None
        self.words = () if parsed is not None else tuple(text.lower().split())

    def with_experiment(self, experiment: str | None) -> "RowFilter":
        return RowFilter(experiment, self.text)

    @property
    def is_empty(self) -> bool:
        return self.experiment is None and self.expression is None and not self.words

    def select(self, table: RunTable, rows: np.ndarray | None = None, search: SearchText | None = None) -> np.ndarray:
        """The ``rows`` (default: every row, in table order) that show, in their order."""
        rows = np.arange(table.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        if self.is_empty:
            return rows
        keep = np.ones(table.n, dtype=bool)
        if self.experiment is not None or self.expression is not None:
            keep &= ~table.text["reason"].present()  # an unreadable run has neither
        if self.experiment is not None:
            column = table.text["experiment"]
            same = np.array([u == self.experiment for u in column.uniques] + [False], dtype=bool)
            keep &= same[column.codes]
        if self.words:
            search = search if search is not None and search.table is table else SearchText(table)
            for word in self.words:
                keep &= search.contains(word)
        rows = rows[keep[rows]]
        if self.expression is not None:
            rows = query.select(table, self.expression, rows)
        return rows


def arrange(table: RunTable, base: np.ndarray, row_filter: RowFilter | None, column: Column | None,
            descending: bool = False, search: SearchText | None = None, keys: tuple | None = None,
            parents: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows that pass ``row_filter``, sorted on ``column`` (missing values last in either
    direction, ties in ``base`` order), each nested run right after its parent: (rows, depth
    per row or None when nothing nests). ``keys``: the column's sort keys, and ``parents``:
    ``parent_rows(table)``, when already made."""
    rows = base if row_filter is None or row_filter.is_empty else row_filter.select(table, base, search)
    if column is not None and not (column.key == "started" and descending) and len(rows) > 1:
        values, missing = keys if keys is not None else column.sort_keys(table)
        parts = [(-v if descending else v)[rows] for v in values]
        rows = rows[np.lexsort((*reversed(parts), missing[rows]))]  # stable: ties keep base order
    return nest(table, rows, parents)


def parent_rows(table: RunTable) -> np.ndarray:
    """The table row of each distinct ``parent_run_id`` (-1: not in the table), then -1 for "no parent"."""
    uniques = table.text["parent_run_id"].uniques
    rows = np.empty(len(uniques) + 1, dtype=np.int64)
    rows[:-1] = np.fromiter(map(table.positions().get, uniques, repeat(-1)), dtype=np.int64, count=len(uniques))
    rows[-1] = -1
    return rows


def nest(table: RunTable, rows: np.ndarray, parents: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Move each run right after its parent (siblings keep their relative order): (rows, depth)."""
    codes = table.text["parent_run_id"].codes[rows]
    if not len(rows) or not (codes >= 0).any():
        return rows, None
    n = len(rows)
    position = np.full(table.n + 1, -1, dtype=np.int64)  # the last slot: "no row"
    position[rows] = np.arange(n)
    parent_row = (parent_rows(table) if parents is None else parents)[codes]
    parent = position[parent_row]  # the parent's position among the rows (-1: none, or not shown)
    parent[parent_row == rows] = -1
    if not (parent >= 0).any():
        return rows, None
    # Walk up one level at a time for every row at once: chain[k] is each row's k-th ancestor.
    chain = [np.arange(n)]
    up = parent
    while (up >= 0).any() and len(chain) <= n:
        chain.append(up)
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
    cyclic = up >= 0  # a parent cycle (damaged data): never reaches a root
    depth = np.zeros(n, dtype=np.int64)
    for ancestors in chain[1:]:
        depth += ancestors >= 0
    depth[cyclic] = 0
    # Pre-order is the order of each row's path from its root: (root, child, ..., row), shorter
    # paths (a parent) first. Rows in a cycle go last, in their order.
    levels = int(depth.max()) + 1
    keys = np.full((levels, n), -1, dtype=np.int64)
    ancestors = np.stack(chain)
    for k in range(levels):
        at = np.flatnonzero(depth >= k)
        keys[k, at] = ancestors[depth[at] - k, at]
    keys[0, cyclic] = n + np.flatnonzero(cyclic)
    keys[1:, cyclic] = -1
    order = np.lexsort(keys[::-1])
    return rows[order], depth[order]


class TableRows:
    """Rows of a table in display order (what the runs table shows, for an export)."""

    def __init__(self, table: RunTable, rows: np.ndarray, depth: np.ndarray | None = None) -> None:
        self.table, self.rows, self.depth = table, rows, depth

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows.tolist())

    def run_ids(self) -> list[str]:
        return [run_id_of(self.table, i) for i in self]
