"""Contiguous ranges of row positions, for telling Qt which rows a change inserts or removes
(one ``beginInsertRows``/``beginRemoveRows`` per range keeps selections and scroll position)."""
from __future__ import annotations

from typing import Hashable, Sequence


def position_ranges(indexes: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]"""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def missing_ranges(rows: Sequence[Hashable], present: set, limit: int) -> list[tuple[int, int]] | None:
    """The ranges of positions in ``rows`` whose row is not in ``present`` (as ``position_ranges``);
    None as soon as there are more than ``limit`` of them."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, row in enumerate(rows):
        if row in present:
            if start >= 0:
                if len(out) == limit:
                    return None
                out.append((start, i - 1))
                start = -1
        elif start < 0:
            start = i
    if start >= 0:
        if len(out) == limit:
            return None
        out.append((start, len(rows) - 1))
    return out
