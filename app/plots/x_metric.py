"""Another metric of the same run as the x axis (W&B's and Aim's "custom x"), joined on step.

A point is drawn at (x metric at step s, y metric at step s) only when both were logged at
step s: a step one of them lacks drops the point, nothing is interpolated. Points whose x
is NaN or infinite have no place on the axis and are dropped too. Pure numpy.
"""
from __future__ import annotations

import numpy as np

X_METRIC_PREFIX = "metric:"


def x_metric_axis(key: str) -> str:
    """The ``PlotSettings.x_axis`` value that plots against metric ``key``."""
    return X_METRIC_PREFIX + key


def x_metric_key(x_axis: str) -> str | None:
    """The metric an ``x_axis`` value names, or None for step and the time axes."""
    if isinstance(x_axis, str) and x_axis.startswith(X_METRIC_PREFIX) and len(x_axis) > len(X_METRIC_PREFIX):
        return x_axis[len(X_METRIC_PREFIX):]
    return None


def join_on_step(steps: np.ndarray, x_steps: np.ndarray, x_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(index, x)``: the positions in ``steps`` (unique, any order) whose step the x
    metric also has with a finite value, and that value for each. ``x_steps`` must be
    unique (deduped: the last record of a step wins, as everywhere in the charts)."""
    steps = np.asarray(steps, np.int64)
    x_steps = np.asarray(x_steps, np.int64)
    x_values = np.asarray(x_values, np.float64)
    if len(steps) == 0 or len(x_steps) == 0:
        return np.empty(0, np.intp), np.empty(0, np.float64)
    order = np.argsort(x_steps, kind="stable")
    sorted_steps = x_steps[order]
    at = np.searchsorted(sorted_steps, steps)
    at_clipped = np.minimum(at, len(sorted_steps) - 1)
    found = sorted_steps[at_clipped] == steps
    x = np.full(len(steps), np.nan)
    x[found] = x_values[order[at_clipped[found]]]
    keep = np.flatnonzero(found & np.isfinite(x))
    return keep, x[keep]
