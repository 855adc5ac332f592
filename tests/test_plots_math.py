"""The charts' numbers (app/plots/series_math.py), against values worked out by hand."""
import math

import numpy as np
import pytest

from app.plots.pixel_columns import column_lines, column_polyline, columns
from app.plots.series_math import (
    PlotSettings, SeriesBuffer, dedupe_by_step, ema_smooth, gap_connect, moving_average,
    natural_key, outlier_range, prepare, value_at,
)

nan, inf = math.nan, math.inf


def test_ema_matches_tensorboard_by_hand():
    # w = 0.5: last = 0.5, 1.25, 2.125, 3.0625; debias by 1 - 0.5**k = 0.5, 0.75, 0.875, 0.9375
    assert ema_smooth([1, 2, 3, 4], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7, 49 / 15])
    # w = 0.9 on [10, 0]: last = 1.0, 0.9; debias 0.1, 0.19 -> 10, 0.9 / 0.19
    assert ema_smooth([10, 0], 0.9) == pytest.approx([10.0, 0.9 / 0.19])


def test_ema_skips_non_finite_points_and_keeps_them():
    # The NaN does not advance the average: the third point is the second finite one.
    out = ema_smooth([1, nan, 3, inf], 0.5)
    assert out[0] == pytest.approx(1.0)
    assert math.isnan(out[1])
    assert out[2] == pytest.approx((0.25 + 1.5) / 0.75)  # 2.3333
    assert out[3] == inf


def test_ema_edge_cases():
    assert ema_smooth([], 0.6).tolist() == []
    assert ema_smooth([2, 2, 2], 0.9).tolist() == [2, 2, 2]  # constant: returned as is
    assert ema_smooth([1, 5, 2], 0.0).tolist() == [1, 5, 2]  # weight 0: no smoothing
    assert ema_smooth([nan, nan], 0.6)[0] != ema_smooth([nan, nan], 0.6)[0]


def test_ema_long_series_equals_the_loop():
    rng = np.random.default_rng(0)
    values = rng.normal(size=5000)
    for w in (0.3, 0.9, 0.99):
        last, k, expected = 0.0, 0, []
        for v in values:
            last = last * w + (1 - w) * v
            k += 1
            expected.append(last / (1 - w ** k))
        assert np.allclose(ema_smooth(values, w), expected, rtol=0, atol=1e-12)


def test_ema_in_blocks_equals_the_loop_across_block_ends():
    """The closed form works in blocks (of 1,024 points, or fewer for small weights): the
    carry from block to block, a tail, gaps and weights near 1 against the plain loop."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=5_000).cumsum()
    values[::997] = nan
    finite = np.isfinite(values)
    for w in (0.05, 0.3, 0.9, 0.999, 0.999999):
        last, k, expected = 0.0, 0, []
        for v in values[finite]:
            last = last * w + (1 - w) * v
            k += 1
            # 1 - w**k, without the cancellation that costs 1 - 0.999999**2 six digits
            expected.append(last / -math.expm1(k * math.log(w)))
        out = ema_smooth(values, w)
        assert np.isnan(out[~finite]).all()
        assert np.allclose(out[finite], expected, rtol=1e-12, atol=1e-12)


def test_columns_by_hand():
    # width 2: points 0,1 | 2,3 | 4,5 | (column 3 empty) | 9
    x = np.array([0.0, 1, 2, 3, 4, 5, 9])
    y = np.array([1.0, 5, 2, 2, 7, 3, 4])
    c = columns(x, y, "all", 2.0, 0.0, 10.0)
    assert c.index.tolist() == [0, 1, 2, 4]
    assert c.center.tolist() == [1, 3, 5, 9]
    assert c.low.tolist() == [1, 2, 3, 4] and c.high.tolist() == [5, 2, 7, 4]
    assert c.first.tolist() == [1, 2, 7, 4] and c.last.tolist() == [5, 2, 3, 4]
    assert c.inner.tolist() == [True, True, True, False] and c.link.tolist() == [True, True, True]
    # Each column's line reaches half way to its neighbour's first or last point: column 1
    # runs from its low (2) up to 4.5, where the line from its last point (2) to column 2's
    # first (7) leaves it. Column 4 is not adjacent: the line from 3 to 4 is drawn as is.
    assert column_lines(c).tolist() == [
        [1, 1, 1, 5], [3, 2, 3, 4.5], [5, 3, 5, 7], [5, 3, 9, 4], [9, 4, 9, 4]]


def test_column_polyline_by_hand():
    """Antialiased, the columns are one line: each column from the extreme nearer its first
    point to the other (a smooth stretch stays smooth), then on to the next column."""
    x = np.array([0.0, 1, 2, 3, 4, 5, 9])
    y = np.array([1.0, 5, 2, 2, 7, 3, 4])
    xs, ys, connect = column_polyline(columns(x, y, "all", 2.0, 0.0, 10.0), True)
    assert xs.tolist() == [1, 1, 3, 3, 5, 5, 9, 9]
    assert ys.tolist() == [1, 5, 2, 2, 7, 3, 4, 4]  # column 2 starts at 7: its first point is its max
    assert connect == "all"
    y, gaps = gap_connect(np.array([1.0, 2.0, nan, nan, 5.0, 6.0]))
    xs, ys, connect = column_polyline(columns(np.arange(6.0), y, gaps, 2.0, 0.0, 6.0), False)
    assert ys.tolist() == [1, 2, 2, 2, 5, 6]
    assert connect.tolist() == [True, False, False, False, True, False]  # the gap's column joins nothing


def test_columns_keep_gaps_and_the_neighbours_of_the_range():
    y, connect = gap_connect(np.array([1.0, 2.0, nan, nan, 5.0, 6.0]))
    c = columns(np.arange(6.0), y, connect, 2.0, 0.0, 6.0)
    assert c.inner.tolist() == [True, False, True] and c.link.tolist() == [False, False]
    assert column_lines(c).tolist() == [[1, 1, 1, 2], [5, 5, 5, 6]]  # the gap's column draws nothing
    # The range widens to whole columns plus the nearest point outside on either side,
    # so a line from a point outside the view into it is still drawn.
    x = np.array([0.0, 4, 5, 6, 20])
    c = columns(x, x, "all", 1.0, 4.2, 6.5)
    assert c.index.tolist() == [0, 4, 5, 6, 20]
    assert column_lines(c)[:2].tolist() == [[0.5, 0, 0.5, 0], [0.5, 0, 4.5, 4]]  # the line in from the point at 0
    assert columns(x, x, "all", 1.0, 8.0, 9.0).index.tolist() == [6, 20]  # no point inside: the line across
    assert len(columns(x, x, "all", 1.0, 30.0, 40.0)) == 1  # beyond the data: the last point only


def test_columns_match_a_brute_force_binning():
    rng = np.random.default_rng(2)
    for trial in range(200):
        n = int(rng.integers(1, 300))
        x = np.sort(rng.uniform(0, 100, n)) if trial % 2 else np.arange(n, dtype=float)
        raw = rng.normal(size=n)
        raw[rng.random(n) < (0.2 if trial % 3 == 0 else 0.0)] = nan
        y, connect = gap_connect(raw)
        if isinstance(connect, str) and connect == "finite":
            continue
        joined = np.ones(n, bool) if isinstance(connect, str) else connect
        width = float(rng.uniform(0.3, 5))
        lo = float(rng.uniform(-10, 110))
        hi = lo + float(rng.uniform(0.5, 60))
        c = columns(x, y, connect, width, lo, hi)
        k = np.floor(x / width).astype(int)
        inside = np.flatnonzero((k >= np.floor(lo / width)) & (k <= np.floor(hi / width)))
        i0 = inside[0] if len(inside) else int(np.searchsorted(x, np.floor(lo / width) * width))
        i1 = inside[-1] + 1 if len(inside) else i0
        points = range(max(0, i0 - 1), min(n, i1 + 1))
        groups = {}
        for i in points:
            groups.setdefault(k[i], []).append(i)
        assert c.index.tolist() == sorted(groups)
        for j, key in enumerate(sorted(groups)):
            g = groups[key]
            assert (c.low[j], c.high[j]) == (y[g].min(), y[g].max())
            assert (c.first[j], c.last[j]) == (y[g[0]], y[g[-1]])
            assert c.inner[j] == any(joined[i] for i in g[:-1])
            if j < len(groups) - 1:
                assert c.link[j] == joined[g[-1]]
        lines = column_lines(c)
        assert np.all(np.diff(lines[:, 0]) >= 0)  # by x: the chart draws a slice of them


def test_centered_moving_average_by_hand():
    # window 3: each point with its two neighbours; the ends have none on one side, so the
    # window shrinks to the point itself
    assert moving_average([1, 5, 3, 7, 5], 3) == pytest.approx([1, 3, 5, 5, 5])
    # window 5 over [0, 10, 40, 30, 20]: 0 | (0+10+40)/3 | (0+10+40+30+20)/5 | (40+30+20)/3 | 20
    assert moving_average([0, 10, 40, 30, 20], 5) == pytest.approx([0, 50 / 3, 20, 30, 20])
    # an even width grows to the next odd one: 4 behaves as 5
    assert moving_average([0, 10, 40, 30, 20], 4) == pytest.approx([0, 50 / 3, 20, 30, 20])
    # a straight line stays straight, ends included (a truncated window would bend it)
    assert moving_average(np.arange(10.0), 7) == pytest.approx(np.arange(10.0))
    # NaN: stays a gap and is left out of its neighbours' averages
    out = moving_average([1, nan, 3, 4, 8], 3)
    assert out[0] == 1 and math.isnan(out[1]) and out[2] == 3.5 and out[3] == 5 and out[4] == 8


def test_outlier_range_is_5th_to_95th_percentile():
    # 0..100: percentiles with linear interpolation are exactly 5 and 95
    assert outlier_range(np.arange(101.0)) == (5.0, 95.0)
    # 0..10: 5th = 0.5, 95th = 9.5; one huge spike and NaN/inf do not count
    assert outlier_range([*range(11), nan, inf]) == pytest.approx((0.5, 9.5))
    values = np.r_[np.zeros(98), 1e9, -1e9]
    assert outlier_range(values) == (0.0, 0.0)
    assert outlier_range([nan, inf]) is None


def test_dedupe_keeps_the_last_value_of_each_step():
    steps = [0, 1, 2, 3, 2, 3, 4]  # a resumed run logged steps 2 and 3 again
    stamps = [0, 1, 2, 3, 4, 5, 6]
    values = [10, 11, 12, 13, 22, 23, 24]
    s, t, v = dedupe_by_step(steps, stamps, values)
    assert s.tolist() == [0, 1, 2, 3, 4]
    assert v.tolist() == [10, 11, 22, 23, 24]
    assert t.tolist() == [0, 1, 4, 5, 6]
    increasing = np.arange(5)
    assert dedupe_by_step(increasing, increasing, increasing)[0] is increasing  # fast path: no copy


def test_gap_connect_breaks_lines_without_nan_for_the_downsampler():
    y, connect = gap_connect(np.array([1.0, 2.0, nan, 4.0, nan, nan, 7.0]))
    assert np.isfinite(y).all()  # a peak bin never sees a NaN
    assert y.tolist() == [1, 2, 2, 4, 4, 4, 7]
    assert connect.tolist() == [True, False, False, False, False, False, False]
    y, connect = gap_connect(np.array([nan, 1.0, 2.0]))
    assert y.tolist() == [1, 1, 2] and connect.tolist() == [False, True, False]
    same = np.array([1.0, 2.0])
    assert gap_connect(same) == (same, "all")


def test_prepare_smooths_the_full_series_then_maps_for_display():
    steps = np.array([0, 1, 2, 3, 2, 3])
    values = np.array([1.0, 2.0, 9.0, 9.0, 3.0, 4.0])
    stamps = np.arange(6) * 1000 + 5000  # logged one second apart
    p = prepare(steps, stamps, values, PlotSettings(smoothing="ema", ema_weight=0.5), start_ms=5000)
    assert p.x.tolist() == [0, 1, 2, 3]
    assert p.y.tolist() == [1, 2, 3, 4]
    assert p.smoothed == pytest.approx([1.0, 5 / 3, 17 / 7, 49 / 15])
    rel = prepare(steps, stamps, values, PlotSettings(x_axis="relative"), start_ms=5000)
    assert rel.x.tolist() == [0.0, 1.0, 4.0, 5.0]  # seconds since the run started; re-logged later
    log = prepare([0, 1, 2], [0, 0, 0], [10.0, 0.0, -1.0], PlotSettings(log_y=True))
    assert log.y[0] == 10 and math.isnan(log.y[1]) and math.isnan(log.y[2])
    assert log.raw.tolist() == [10.0, 0.0, -1.0]  # CSV exports what was logged


def test_prepare_outlier_range_in_axis_units():
    values = np.r_[np.arange(1.0, 101.0), 1e12]
    p = prepare(np.arange(101), np.zeros(101), values, PlotSettings(ignore_outliers=True))
    assert p.robust == pytest.approx(tuple(np.percentile(values, [5, 95])))
    assert p.robust[1] < 1e3
    p = prepare(np.arange(101), np.zeros(101), values, PlotSettings(ignore_outliers=True, log_y=True))
    assert p.robust == pytest.approx(tuple(np.percentile(np.log10(values), [5, 95])))


def test_series_buffer_grows_by_doubling_and_keeps_old_views():
    buf = SeriesBuffer()
    buf.append([0], [0], [0.5])
    view = buf.values
    for i in range(1, 3000):
        buf.append([i], [i], [i * 0.5])
    assert len(buf) == 3000 and buf.capacity == 4096  # 1024 -> 2048 -> 4096
    assert buf.steps.tolist() == list(range(3000))
    assert view.tolist() == [0.5]  # a snapshot handed to a worker is untouched
    big = SeriesBuffer(np.arange(10), np.arange(10), np.arange(10.0))
    assert big.capacity == 10  # the first read is adopted, not copied
    big.append(np.arange(10, 15), np.arange(10, 15), np.arange(10.0, 15))
    assert big.capacity == 1024 and big.values.tolist() == list(range(15))


def test_value_at_finds_the_nearest_point_within_the_series():
    x = np.array([0.0, 10.0, 20.0])
    assert value_at(x, x, 4) == 0 and value_at(x, x, 6) == 1 and value_at(x, x, 24) == 2
    assert value_at(x, x, 26) is None and value_at(x, x, -6) is None
    assert value_at(np.array([]), np.array([]), 1) is None


def test_natural_key_orders_numbers_as_numbers():
    keys = ["layer10/loss", "Layer2/loss", "layer1/loss", "acc"]
    assert sorted(keys, key=natural_key) == ["acc", "layer1/loss", "Layer2/loss", "layer10/loss"]


def test_natural_key_takes_keys_with_superscript_digits():
    """Was: a metric named "r²" raised ValueError ("²" is a digit int() refuses), so the charts
    and the compare table could not order a run's keys."""
    keys = ["r²", "layer10", "r2", "layer2", "x³y"]
    assert sorted(keys, key=natural_key) == ["layer2", "layer10", "r2", "r²", "x³y"]
