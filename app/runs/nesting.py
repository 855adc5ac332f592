"""Collapsing nested runs under their parent, without Qt and without a tree of objects.

``rows.nest`` puts each child right after its parent (pre-order) with its depth; here the
subtrees of collapsed parents are cut out of that flat order with numpy, so collapsing or
expanding 100,000 runs is a few array passes. What a row shows is packed in one integer per
row, its *shape*: ``depth * 4 + mark``, the mark saying whether it is a parent and whether
its children are shown.
"""
from __future__ import annotations

import numpy as np

NO_MARK, EXPANDED, COLLAPSED = 0, 1, 2
_MARK_BITS = 2
EXPANDED_TEXT = "\u25be "  # ▾
COLLAPSED_TEXT = "\u25b8 "  # ▸


def collapse(rows: np.ndarray, depth: np.ndarray, collapsed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` in nested pre-order with their ``depth``, without the descendants of the rows in
    ``collapsed`` (table rows): (rows, shape per row)."""
    n = len(rows)
    has_children = np.zeros(n, dtype=bool)
    if n > 1:
        has_children[:-1] = depth[1:] > depth[:-1]
    folded = has_children & np.isin(rows, collapsed) if len(collapsed) else np.zeros(n, dtype=bool)
    marks = np.where(folded, COLLAPSED, np.where(has_children, EXPANDED, NO_MARK)).astype(np.int64)
    if folded.any():
        # A subtree ends at the next row that is no deeper than its root: mark each hidden
        # span with +1 at its start and -1 past its end; a row is hidden where the sum is > 0.
        spans = np.zeros(n + 1, dtype=np.int64)
        for level in np.unique(depth[folded]).tolist():
            stops = np.append(np.flatnonzero(depth <= level), n)
            starts = np.flatnonzero(folded & (depth == level))
            ends = stops[np.searchsorted(stops, starts, side="right")]
            np.add.at(spans, starts + 1, 1)
            np.add.at(spans, ends, -1)
        keep = np.cumsum(spans[:n]) == 0
        rows, depth, marks = rows[keep], depth[keep], marks[keep]
    return rows, (depth << _MARK_BITS) | marks


def depth_of(shape: int) -> int:
    return shape >> _MARK_BITS


def mark_of(shape: int) -> int:
    return shape & ((1 << _MARK_BITS) - 1)


def depths(shape: np.ndarray | None) -> np.ndarray | None:
    return None if shape is None else shape >> _MARK_BITS


def name_prefix(shape: int) -> str:
    """What goes before a run's name: its indent and ↳ when nested, ▾/▸ when it has children."""
    depth, mark = shape >> _MARK_BITS, shape & ((1 << _MARK_BITS) - 1)
    prefix = "\u2003" * (depth - 1) + "\u21b3 " if depth else ""
    if mark == EXPANDED:
        prefix += EXPANDED_TEXT
    elif mark == COLLAPSED:
        prefix += COLLAPSED_TEXT
    return prefix
