"""Contiguous ranges of row positions, for telling Qt which rows a change inserts or removes
(one ``beginInsertRows``/``beginRemoveRows`` per range keeps selections and scroll position)."""
from __future__ import annotations

import numpy as np


def position_ranges(indexes: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]"""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def array_ranges(positions: np.ndarray, limit: int | None = None) -> list[tuple[int, int]] | None:
    """``position_ranges`` of a sorted int array, in numpy: [1, 2, 3, 7, 8] -> [(1, 3), (7, 8)];
    None when there are more than ``limit`` ranges."""
    if not len(positions):
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    if limit is not None and len(breaks) + 1 > limit:
        return None
    starts = np.concatenate([positions[:1], positions[breaks + 1]])
    ends = np.concatenate([positions[breaks], positions[-1:]])
    return list(zip(starts.tolist(), ends.tolist()))
