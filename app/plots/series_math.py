"""Numbers behind the metric charts: smoothing, dedupe, outlier range, display arrays.

Pure numpy, no Qt, so every function here is tested against hand-computed numbers.
All of it runs on a worker thread, on the full series, before pyqtgraph downsamples
anything (smoothing after sampling makes the result depend on the series length,
tensorboard#1518). The per-pixel-column drawing arrays are in ``pixel_columns``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .x_metric import join_on_step, x_metric_key

X_STEP, X_RELATIVE, X_WALL = "step", "relative", "wall"
X_AXES = (X_STEP, X_RELATIVE, X_WALL)
SMOOTH_OFF, SMOOTH_EMA, SMOOTH_MAVG = "off", "ema", "mavg"
SMOOTHINGS = (SMOOTH_OFF, SMOOTH_EMA, SMOOTH_MAVG)


@dataclass(frozen=True)
class PlotSettings:
    """What every chart applies; persisted by the panel."""

    x_axis: str = X_STEP
    log_y: bool = False
    smoothing: str = SMOOTH_OFF
    ema_weight: float = 0.6
    window: int = 9  # moving average width in points (made odd: centered)
    ignore_outliers: bool = False
    show_points: bool = False

    @property
    def smoothing_on(self) -> bool:
        return self.smoothing == SMOOTH_EMA and self.ema_weight > 0 or self.smoothing == SMOOTH_MAVG and self.window > 1


def natural_key(text: str) -> list:
    """Sort key that puts "layer2" before "layer10" and ignores case."""
    # isdecimal, not isdigit: "²" is a digit that int() refuses, and \d does not match it
    return [int(part) if part.isdecimal() else part.lower() for part in re.split(r"(\d+)", text)]


# -- growing storage -----------------------------------------------------------------------
class SeriesBuffer:
    """A metric's points in three numpy arrays that grow by doubling (no Python lists).

    ``steps``/``timestamps``/``values`` are views of the filled prefix; appending never
    writes into a prefix already handed out, and a reallocation leaves old views valid,
    so a worker thread may read a snapshot while the GUI thread appends.
    """

    __slots__ = ("_steps", "_timestamps", "_values", "n")

    def __init__(self, steps=None, timestamps=None, values=None) -> None:
        if steps is None:
            steps, timestamps, values = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
        # Adopt the first read as storage: a million points are not copied on load.
        self._steps = np.asarray(steps, np.int64)
        self._timestamps = np.asarray(timestamps, np.int64)
        self._values = np.asarray(values, np.float64)
        self.n = len(self._values)

    def append(self, steps, timestamps, values) -> None:
        k = len(values)
        if k == 0:
            return
        need = self.n + k
        if need > len(self._values):
            capacity = max(1024, len(self._values))
            while capacity < need:
                capacity *= 2
            self._steps = _grown(self._steps, self.n, capacity)
            self._timestamps = _grown(self._timestamps, self.n, capacity)
            self._values = _grown(self._values, self.n, capacity)
        self._steps[self.n:need] = steps
        self._timestamps[self.n:need] = timestamps
        self._values[self.n:need] = values
        self.n = need

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self.n]

    @property
    def timestamps(self) -> np.ndarray:
        return self._timestamps[: self.n]

    @property
    def values(self) -> np.ndarray:
        return self._values[: self.n]

    @property
    def capacity(self) -> int:
        return len(self._values)

    @property
    def nbytes(self) -> int:
        return self._steps.nbytes + self._timestamps.nbytes + self._values.nbytes

    def __len__(self) -> int:
        return self.n


def _grown(array: np.ndarray, n: int, capacity: int) -> np.ndarray:
    out = np.empty(capacity, array.dtype)
    out[:n] = array[:n]
    return out


# -- the math ------------------------------------------------------------------------------
def dedupe_by_step(steps, timestamps, values):
    """Sort by step and keep the last value logged for each step (a resumed run re-logs).

    Returns the inputs themselves when steps already increase strictly (the common case).
    """
    steps = np.asarray(steps)
    if len(steps) < 2 or bool(np.all(steps[1:] > steps[:-1])):
        return steps, np.asarray(timestamps), np.asarray(values)
    order = np.argsort(steps, kind="stable")  # stable: later records of a step stay later
    s = steps[order]
    last = np.empty(len(s), bool)
    last[:-1] = s[1:] != s[:-1]
    last[-1] = True
    keep = order[last]
    return steps[keep], np.asarray(timestamps)[keep], np.asarray(values)[keep]


def ema_smooth(values, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average, vectorised.

    As TensorBoard: non-finite points pass through unchanged and do not advance the
    average; a constant series is returned as is; ``last = last*w + (1-w)*v`` starting
    from 0, divided by ``1 - w**k`` where k counts the finite points so far.
    """
    y = np.asarray(values, np.float64)
    if len(y) == 0 or weight <= 0:
        return y.copy()
    if (len(y) == 1 or y[1] == y[0]) and np.all(y == y[0]):  # constant (NaN != NaN: not constant)
        return y.copy()
    weight = min(float(weight), 0.999999)
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    v = y if all_finite else y[finite]
    if len(v) == 0:
        return y.copy()
    last = _linear_recurrence(weight, v, 1.0 - weight)
    # 1 - w**k is exactly 1.0 in float64 once w**k < 2**-54: divide only the head.
    head = min(len(v), _debias_span(weight))
    last[:head] /= -np.expm1(np.arange(1, head + 1) * math.log(weight))  # 1 - w**k, exact near 0
    if all_finite:
        return last
    out = y.copy()
    out[finite] = last
    return out


def _debias_span(weight: float) -> int:
    """Points after which ``1 - weight**k`` rounds to 1.0 (w**k below 2**-54)."""
    return int(math.ceil(-54 * math.log(2) / math.log(weight))) + 1


EMA_BLOCK = 1024  # points per block of the closed form (fewer when a**-block would pass 1e50)


def _linear_recurrence(a: float, b: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``s[k] = a*s[k-1] + scale*b[k]`` with ``s[-1] = 0`` and ``0 < a < 1``, in four numpy passes.

    In blocks of up to ``EMA_BLOCK`` points the recurrence has a closed form: from the
    block's start, ``s[k] = a**k * cumsum(scale * b[j] * a**-j)``, plus what the previous
    block ended with times ``a**(k+1)``. Blocks stay short enough that ``a**-j`` never
    passes 1e50 (no overflow, and the rounding is that of the plain loop). The blocks' end
    values are the same recurrence again, ``EMA_BLOCK`` times shorter, with factor
    ``a**size``: a doubling scan does it. Matches a Python loop to 1e-12; scipy's
    ``lfilter`` would be about twice as fast but importing ``scipy.signal`` takes 1.7 s.
    """
    n = len(b)
    size = int(max(1, min(EMA_BLOCK, math.log(1e50) / -math.log(a))))
    out = np.empty(n)
    full = n // size * size
    prev = 0.0
    if full:
        k = np.arange(size)
        up, down = scale * a ** -k, a ** k
        blocks = out[:full].reshape(-1, size)
        np.multiply(b[:full].reshape(-1, size), up, out=blocks)
        np.cumsum(blocks, axis=1, out=blocks)
        ends = _doubling_scan(a ** size, blocks[:, -1] * down[-1])  # s at the end of each block
        blocks[1:] += (ends[:-1] * a)[:, None]
        blocks *= down
        prev = float(ends[-1])
    if full < n:
        k = np.arange(n - full)
        out[full:] = (np.cumsum(b[full:] * (scale * a ** -k)) + prev * a) * a ** k
    return out


def _doubling_scan(a: float, b: np.ndarray) -> np.ndarray:
    """``s[k] = a*s[k-1] + b[k]`` by a doubling scan (log2(n) numpy passes): after the pass
    with offset d, ``s[k]`` holds the sum over the last 2d terms; it stops once ``a**d``
    is below float64 resolution, where older terms can no longer count."""
    s = b.astype(np.float64, copy=True)
    d, ad = 1, a
    n = len(s)
    while d < n and ad > 1e-18:
        s[d:] += ad * s[:-d]  # numpy reads the right side fully before writing: no aliasing
        d *= 2
        ad *= ad
    return s


def moving_average(values, window: int) -> np.ndarray:
    """Centered moving average over ``window`` points (even widths grow by one).

    Each point averages the finite values from ``window // 2`` points before it to as many
    after it. Near the ends the window shrinks symmetrically (the first and last points keep
    their values), so a trend is neither shifted nor bent where the window would run out.
    Non-finite points stay as they are (gaps stay gaps).
    """
    y = np.asarray(values, np.float64)
    out = y.copy()
    half = max(0, int(window) // 2)
    n = len(y)
    if n == 0 or half == 0:
        return out
    finite = np.isfinite(y)
    if not finite.any():
        return out
    offset = float(np.mean(y[finite]))  # centred sums keep the running totals precise
    filled = np.where(finite, y - offset, 0.0)
    csum = np.concatenate(([0.0], np.cumsum(filled)))
    ccount = np.concatenate(([0], np.cumsum(finite)))
    idx = np.arange(n)
    reach = np.minimum(np.minimum(idx, n - 1 - idx), half)
    lo, hi = idx - reach, idx + reach + 1
    total = csum[hi] - csum[lo]
    count = ccount[hi] - ccount[lo]
    out[finite] = total[finite] / count[finite] + offset
    return out


def outlier_range(values, low: float = 5.0, high: float = 95.0) -> tuple[float, float] | None:
    """The ``low``-th to ``high``-th percentile of the finite values (linear interpolation)."""
    y = np.asarray(values, np.float64)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        return None
    lo, hi = np.percentile(y, [low, high])
    return float(lo), float(hi)


def gap_connect(y: np.ndarray) -> tuple[np.ndarray, np.ndarray | str]:
    """Display arrays for a series with gaps: ``(y_filled, connect)``.

    Drawing zoomed out takes the min and max per pixel column (``columns``), and one NaN
    makes a whole column NaN: a NaN every thousand points would erase a zoomed-out
    million-point curve. So non-finite points get their previous finite neighbour's value
    (they add nothing to any column's min or max) and a ``connect`` array breaks the line
    around them. Returns ``(y, "all")`` unchanged when every point is finite (the fastest
    path), and ``(y, "finite")`` when no point is.
    """
    finite = np.isfinite(y)
    if finite.all():
        return y, "all"
    n = len(y)
    if not finite.any():
        return np.full(n, np.nan), "finite"
    index = np.where(finite, np.arange(n), -1)
    np.maximum.accumulate(index, out=index)
    index[index < 0] = int(np.argmax(finite))  # leading gap: take the first finite value
    connect = np.zeros(n, bool)
    connect[:-1] = finite[:-1] & finite[1:]
    return y[index], connect


# -- one series, ready to draw --------------------------------------------------------------
@dataclass
class Prepared:
    """One run's metric as drawn: sorted by x, raw and smoothed, plus display copies."""

    steps: np.ndarray
    timestamps: np.ndarray
    x: np.ndarray  # float64, increasing
    raw: np.ndarray  # the values as logged (after dedupe), NaN and inf included
    smoothed_raw: np.ndarray | None  # smoothing of raw, before any display mapping
    y: np.ndarray  # raw values, NaN where non-finite (or non-positive on a log axis)
    smoothed: np.ndarray | None
    y_draw: np.ndarray  # y in axis units (log10 on a log axis), gaps filled (see gap_connect)
    connect: np.ndarray | str
    smoothed_draw: np.ndarray | None  # the same for smoothed
    smoothed_connect: np.ndarray | str
    robust: tuple[float, float] | None  # 5th-95th percentile of y, in axis units (log10 on a log axis)
    x_bounds: tuple[float, float] | None  # first and last x
    y_bounds: tuple[float, float] | None  # min and max of y, in axis units

    @property
    def finite(self) -> bool:
        """True when the draw arrays hold no NaN (every point, or the gaps filled)."""
        return not isinstance(self.connect, str) or self.connect == "all"

    def __len__(self) -> int:
        return len(self.x)


def x_values(steps, timestamps, x_axis: str, start_ms: int) -> np.ndarray:
    if x_axis == X_RELATIVE:
        return (np.asarray(timestamps, np.float64) - float(start_ms)) / 1000.0
    if x_axis == X_WALL:
        return np.asarray(timestamps, np.float64) / 1000.0
    return np.asarray(steps, np.float64)


def prepare(steps, timestamps, values, settings: PlotSettings, start_ms: int = 0, x_series=None) -> Prepared:
    """Dedupe by step, smooth the full series, compute x, then the arrays the chart draws.

    ``x_series``: ``(steps, values)`` of the metric on the x axis when ``settings.x_axis``
    names one (x_metric.py): the series is joined to it on step.
    Arrays are shared where nothing changes them (no copy of a million finite values);
    nothing downstream writes into a ``Prepared``."""
    steps, timestamps, values = dedupe_by_step(steps, timestamps, values)
    values = np.asarray(values, np.float64)
    smoothed = None
    if settings.smoothing == SMOOTH_EMA and settings.ema_weight > 0:
        smoothed = ema_smooth(values, settings.ema_weight)
    elif settings.smoothing == SMOOTH_MAVG and settings.window > 1:
        smoothed = moving_average(values, settings.window)
    if x_metric_key(settings.x_axis) is not None:
        x_steps, _, x_vals = dedupe_by_step(*x_series) if x_series is not None else (np.empty(0), None, np.empty(0))
        keep, x = join_on_step(steps, x_steps, x_vals)
        steps, timestamps, values = steps[keep], np.asarray(timestamps)[keep], values[keep]
        smoothed = smoothed[keep] if smoothed is not None else None
    else:
        x = x_values(steps, timestamps, settings.x_axis, start_ms)
    if len(x) > 1 and not bool(np.all(x[1:] >= x[:-1])):
        # time axes after a resume: clipping to the view needs increasing x
        order = np.argsort(x, kind="stable")
        steps, timestamps, x, values = steps[order], timestamps[order], x[order], values[order]
        smoothed = smoothed[order] if smoothed is not None else None
    y = _displayable(values, settings.log_y)
    axis_y = _axis_units(y, settings.log_y)
    y_draw, connect = gap_connect(axis_y)
    shown, smoothed_draw, smoothed_connect = None, None, "finite"
    if smoothed is not None:
        shown = _displayable(smoothed, settings.log_y)
        smoothed_draw, smoothed_connect = gap_connect(_axis_units(shown, settings.log_y))
    robust = outlier_range(axis_y) if settings.ignore_outliers else None
    x_bounds = (float(x[0]), float(x[-1])) if len(x) else None
    # y_draw holds the finite values of axis_y (gaps take a neighbour's): same min and max
    has_y = len(y_draw) and not (isinstance(connect, str) and connect == "finite")
    y_bounds = (float(y_draw.min()), float(y_draw.max())) if has_y else None
    return Prepared(steps, timestamps, x, values, smoothed, y, shown, y_draw, connect,
                    smoothed_draw, smoothed_connect, robust, x_bounds, y_bounds)


def _axis_units(y: np.ndarray, log_y: bool) -> np.ndarray:
    """What the y axis plots: log10 on a log axis (NaN stays NaN)."""
    if not log_y:
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(y)


def _displayable(values: np.ndarray, log_y: bool) -> np.ndarray:
    """NaN for inf (and for values a log axis cannot show); the input itself when all can show."""
    ok = np.isfinite(values)
    if log_y:
        ok &= values > 0
    if ok.all():
        return values
    return np.where(ok, values, np.nan)


def value_at(x: np.ndarray, y: np.ndarray, at: float) -> int | None:
    """Index of the point nearest ``at`` when ``at`` lies within the series' x span."""
    n = len(x)
    if n == 0 or at < x[0] - _half_gap(x, 0) or at > x[-1] + _half_gap(x, n - 1):
        return None
    i = int(np.searchsorted(x, at))
    if i >= n:
        return n - 1
    if i > 0 and at - x[i - 1] <= x[i] - at:
        return i - 1
    return i


def _half_gap(x: np.ndarray, i: int) -> float:
    if len(x) < 2:
        return 0.5
    j = 1 if i == 0 else len(x) - 2
    return abs(float(x[i] - x[j])) / 2
