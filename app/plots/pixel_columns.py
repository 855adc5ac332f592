"""Zoomed out, a chart draws one vertical line per pixel column, from the lowest to the
highest point in it: every point represented, at the cost of one line per column.

Pure numpy, no Qt; ``app/plots/curve.py`` draws what these functions return.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


# -- zoomed out: one vertical line per pixel column ----------------------------------------
class Columns(NamedTuple):
    """The points of a series gathered into columns ``width`` data units wide.

    Column ``k`` holds the points with ``k*width <= x < (k+1)*width``; only non-empty
    columns are listed, in order. ``first``/``last`` are the values of a column's first and
    last point, ``inner`` tells whether any two of its points are joined by a line, and
    ``link[i]`` whether the last point of column i is joined to the first of column i+1.
    """

    index: np.ndarray  # k, int64
    low: np.ndarray
    high: np.ndarray
    first: np.ndarray
    last: np.ndarray
    inner: np.ndarray  # bool
    link: np.ndarray  # bool, one shorter
    width: float

    @property
    def center(self) -> np.ndarray:
        return (self.index + 0.5) * self.width

    def __len__(self) -> int:
        return len(self.index)

    def part(self, i: int, j: int) -> Columns:
        """Columns ``i`` to ``j - 1`` (views, no copies)."""
        return Columns(self.index[i:j], self.low[i:j], self.high[i:j], self.first[i:j], self.last[i:j],
                       self.inner[i:j], self.link[i:max(i, j - 1)], self.width)


def columns(x: np.ndarray, y: np.ndarray, connect, width: float, lo: float, hi: float) -> Columns:
    """Min and max per column, for the columns that meet ``lo <= x < hi``.

    ``x`` increasing, ``y`` without NaN, ``connect`` "all" or a boolean array
    (``connect[i]``: a line from point i to i+1), as ``gap_connect`` returns them.
    Columns sit on the fixed grid ``k*width``, so a pan at the same zoom finds the same
    columns. The range is widened to whole columns, plus the nearest point beyond it on
    either side (alone in its column here): the line to it may cross the range.
    Cost: a binary search per column, then one pass over the points for min and max.
    """
    n = len(x)
    k_lo, k_hi = math.floor(lo / width), math.floor(hi / width) + 1
    edges = x.searchsorted(np.arange(k_lo, k_hi + 1, dtype=np.float64) * width)
    full = edges[1:] > edges[:-1]
    at = edges[:-1][full]
    index = np.arange(k_lo, k_hi, dtype=np.int64)[full]
    i0, i1 = int(edges[0]), int(edges[-1])
    if i0 > 0:  # the point before: its own column
        at = np.concatenate(([i0 - 1], at))
        index = np.concatenate(([math.floor(x[i0 - 1] / width)], index))
        i0 -= 1
    if i1 < n:  # the point after
        at = np.append(at, i1)
        index = np.append(index, math.floor(x[i1] / width))
        i1 += 1
    if len(at) == 0:
        empty = np.empty(0)
        return Columns(np.empty(0, np.int64), empty, empty, empty, empty, np.empty(0, bool), np.empty(0, bool), width)
    span = y[i0:i1]
    at -= i0
    low, high = np.minimum.reduceat(span, at), np.maximum.reduceat(span, at)
    first = span[at]
    ends = np.append(at[1:], i1 - i0)
    last = span[ends - 1]
    if isinstance(connect, str):
        inner = (ends - at) > 1
        link = np.ones(len(at) - 1, bool)  # consecutive columns hold consecutive points
    else:
        joined = np.array(connect[i0:i1], bool)
        link = joined[ends[:-1] - 1]
        joined[ends - 1] = False  # a column's last point: its line leaves the column
        inner = np.logical_or.reduceat(joined, at)
    return Columns(index, low, high, first, last, inner, link, width)


def column_lines(c: Columns) -> np.ndarray:
    """The lines that draw ``c``: an ``(n, 4)`` float64 array of x0, y0, x1, y1, by x0.

    A column gets one vertical line from its lowest to its highest point, extended to
    where the line joining it to a neighbouring column crosses between them (half way:
    the columns are adjacent). Where columns in between are empty, that joining line is
    drawn as it is. This is what the full-resolution polyline covers in each pixel
    column: every point is drawn, in about one line per column. Columns whose points
    join nothing (isolated by gaps) draw nothing, as a polyline draws nothing for them.
    """
    n = len(c)
    if n == 0:
        return np.empty((0, 4))
    center = c.center
    link = c.link
    adjacent = np.diff(c.index) == 1
    near = link & adjacent
    low, high = c.low.copy(), c.high.copy()
    if n > 1:
        mid = c.last[:-1] + c.first[1:]
        mid *= 0.5
        for part in (slice(None, -1), slice(1, None)):  # both columns reach the crossing
            np.minimum(low[part], mid, out=low[part], where=near)
            np.maximum(high[part], mid, out=high[part], where=near)
    drawn = c.inner.copy()
    drawn[:-1] |= link
    drawn[1:] |= link
    jump = np.zeros(n, bool)
    jump[:-1] = link & ~adjacent
    if drawn.all() and not jump.any():  # the usual case: one line per column
        lines = np.empty((n, 4))
        lines[:, 0] = lines[:, 2] = center
        lines[:, 1], lines[:, 3] = low, high
        return lines
    rows = drawn.astype(np.int64) + jump
    at = np.cumsum(rows) - rows
    lines = np.empty((int(rows.sum()), 4))
    v = at[drawn]
    lines[v, 0] = lines[v, 2] = center[drawn]
    lines[v, 1], lines[v, 3] = low[drawn], high[drawn]
    j = np.flatnonzero(jump)
    if len(j):
        r = at[j] + drawn[j]
        lines[r, 0], lines[r, 1] = center[j], c.last[j]
        lines[r, 2], lines[r, 3] = center[j + 1], c.first[j + 1]
    return lines


def column_polyline(c: Columns, connect_all: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | str]:
    """``c`` as one antialiased line can draw it: ``(x, y, connect)``, two points a column.

    Each column goes from its extreme nearer its first point to the other extreme, then on
    to the next column, so a smooth stretch stays one smooth line (one extreme a column
    apart from the next) and a noisy one covers its min to max. Vertical lines per column
    (``column_lines``) are cheaper, but antialiased they would blur or step."""
    n = len(c)
    low_first = (c.first - c.low) <= (c.high - c.first)
    x = np.repeat(c.center, 2)
    y = np.empty(2 * n)
    y[0::2] = np.where(low_first, c.low, c.high)
    y[1::2] = np.where(low_first, c.high, c.low)
    if connect_all:
        return x, y, "all"
    joined = np.zeros(2 * n, bool)
    joined[0::2] = c.inner
    joined[1:-1:2] = c.link
    return x, y, joined
