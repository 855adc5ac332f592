"""Runs grouped by a param or tag, drawn as one line per group with a band around it.

Pure numpy, no Qt. Runs are aligned on step: the group's steps are the union of its runs'
steps, and at each step the centre (mean or median) and the band (min to max, or the
centre ± one standard deviation) are taken over the runs that logged that step with a
finite value, so a run that lacks a step, or has NaN there, does not drag the line. The
x of a group's point is the mean of its runs' x at that step (the step itself on a step
axis; the mean time, or the mean of the x metric, otherwise).

The work is per run, never per point: one fancy-indexed write per run into a
(runs x steps) matrix, then column reductions.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .series_math import natural_key

CENTER_MEAN, CENTER_MEDIAN = "mean", "median"
BAND_MINMAX, BAND_STD, BAND_NONE = "minmax", "std", "none"
NO_GROUP = ""
MISSING = "(none)"  # the group of runs that lack the param or tag


@dataclass(frozen=True)
class GroupSpec:
    """``by``: "param:<name>" or "tag:<name>" ("" is no grouping)."""

    by: str = NO_GROUP
    center: str = CENTER_MEAN
    band: str = BAND_MINMAX

    @property
    def on(self) -> bool:
        return bool(self.by)


@dataclass
class Aggregate:
    """One group's line: ``x``, ``center``, ``lo``, ``hi`` and ``count`` (runs with a
    finite value) per step, in x order."""

    steps: np.ndarray
    x: np.ndarray
    center: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


def group_value(run, by: str) -> str:
    """The value ``run`` has for ``by`` ("param:lr", "tag:config"), or ``MISSING``."""
    kind, _, name = by.partition(":")
    values = run.data.params if kind == "param" else run.data.tags if kind == "tag" else {}
    value = values.get(name)
    return MISSING if value is None or value == "" else str(value)


def group_runs(runs, by: str) -> list[tuple[str, list[str]]]:
    """``[(value, [run ids in the given order]), ...]``, values in natural order, the
    runs lacking it last."""
    groups: dict[str, list[str]] = {}
    for run in runs:
        groups.setdefault(group_value(run, by), []).append(run.info.run_id)
    return sorted(groups.items(), key=lambda item: (item[0] == MISSING, natural_key(item[0])))


def aggregate(series, center: str = CENTER_MEAN, band: str = BAND_MINMAX) -> Aggregate:
    """``series``: ``[(steps, x, values), ...]``, one per run (steps unique within a run).

    Steps where no run has a finite value are left out."""
    series = [(np.asarray(s, np.int64), np.asarray(x, np.float64), np.asarray(v, np.float64))
              for s, x, v in series if len(s)]
    if not series:
        empty = np.empty(0)
        return Aggregate(np.empty(0, np.int64), empty, empty, empty, empty, np.empty(0, np.int64))
    steps = _union(s for s, _, _ in series)
    values = np.full((len(series), len(steps)), np.nan)
    xs = np.full((len(series), len(steps)), np.nan)
    for row, (s, x, v) in enumerate(series):
        at = np.searchsorted(steps, s)
        values[row, at] = v
        xs[row, at] = x
    finite = np.isfinite(values)
    values[~finite] = np.nan  # inf counts as missing, as NaN: it has no place in a mean
    xs[~finite] = np.nan
    count = finite.sum(axis=0)
    keep = count > 0
    values, xs, steps, count = values[:, keep], xs[:, keep], steps[keep], count[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no all-NaN column is left; belt and braces
        mid = np.nanmedian(values, axis=0) if center == CENTER_MEDIAN else np.nanmean(values, axis=0)
        if band == BAND_STD:
            spread = np.nanstd(values, axis=0)  # population (ddof=0): one run has no spread
            lo, hi = mid - spread, mid + spread
        elif band == BAND_MINMAX:
            lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        else:
            lo = hi = mid
        x = np.nanmean(xs, axis=0)
    if len(x) > 1 and not bool(np.all(x[1:] >= x[:-1])):
        order = np.argsort(x, kind="stable")
        steps, x, mid, lo, hi, count = steps[order], x[order], mid[order], lo[order], hi[order], count[order]
    return Aggregate(steps, x, mid, lo, hi, count)


def _union(arrays) -> np.ndarray:
    """Sorted unique values of several arrays (a sort and a mask: numpy's ``unique`` hashes
    integers, several times slower on 100,000 steps)."""
    merged = np.sort(np.concatenate(list(arrays)))
    if len(merged) < 2:
        return merged
    keep = np.empty(len(merged), bool)
    keep[0] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged[keep]


def axis_units(a: np.ndarray, log_y: bool) -> np.ndarray:
    """Values as the y axis plots them: log10 on a log axis (non-positive: NaN)."""
    if not log_y:
        return a
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)
