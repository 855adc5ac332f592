"""tracker.filter_compile: the generated filter loop must agree with ``RunFilter.matches``."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

from filter_strategies import expressions, make_value_run, quote, run_lists
from tracker.filter import parse_filter
from tracker.filter_compile import ValueColumns, compile_selector


def expected(runs, text):
    matches = parse_filter(text).matches
    return [run for run in runs if matches(run)]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), text=expressions())
def test_generated_loop_agrees_with_matches(runs, text):
    selector = compile_selector(parse_filter(text).ast)
    want = expected(runs, text)
    assert selector.select(runs) == want
    assert [run for run in runs if selector.accepts(run)] == want


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), first=expressions(), second=expressions())
def test_kept_columns_serve_any_later_filter(runs, first, second):
    columns = ValueColumns(runs)
    for text in (first, second, first):
        assert compile_selector(parse_filter(text).ast).select(columns) == expected(runs, text)


@pytest.mark.parametrize("text", [
    "metrics.acc != 0.5",  # NaN and infinities: only != matches NaN
    "metrics.acc = 0 and metrics.acc >= -0",  # -0.0 equals 0.0
    "metrics.acc > -1e308 or metrics.loss < 1e308",
    "params.lr = 10",  # '10', '10.0', '1e1' and ' 10 ' all parse as 10
    "params.lr != 10 and params.lr = 'adam'",
    "params.lr > -1 or params.lr NOT IN ('1_0')",  # float('1_0') is 10, as in tracker.filter
])
def test_edge_values(text):
    runs = [make_value_run(i, acc, lr) for i, (acc, lr) in enumerate([
        (math.nan, "10"), (math.inf, "10.0"), (-math.inf, "1e1"), (-0.0, " 10 "), (0.0, "adam"),
        (0.5, "nan"), (None, None), (1e308, "1_0"), (-1e308, "-0")])]
    assert compile_selector(parse_filter(text).ast).select(runs) == expected(runs, text)


def test_values_never_reach_the_source():
    runs = [make_value_run(0, 0.5, "'); import os; ('"), make_value_run(1, 0.5, "adam")]
    for text in [f"params.lr = {quote(runs[0].data.params['lr'])}", "params.lr LIKE '%import os%'",
                 "params.lr IN ('adam', '__import__(\"os\")')", "metrics.`acc'); x = (1` > 0"]:
        assert compile_selector(parse_filter(text).ast).select(runs) == expected(runs, text)


@pytest.mark.parametrize("text, compiled", [
    ("not (" * 50 + "metrics.acc > 0.1" + ")" * 50, True),  # the grammar's deepest
    ("(metrics.acc > 0.1 or " * 99 + "metrics.acc < 0" + ")" * 99, True),
    (" or ".join(f"metrics.acc = {i / 10}" for i in range(300)), False),  # left to the closures
])
def test_deep_and_long_expressions(text, compiled):
    runs = [make_value_run(0, 0.5, "x"), make_value_run(1, 0.0, "y"), make_value_run(2, None, "z")]
    selector = compile_selector(parse_filter(text).ast)
    assert bool(selector.specs) == compiled
    want = expected(runs, text)
    assert selector.select(runs) == want
    assert [run for run in runs if selector.accepts(run)] == want


def test_columns_for_the_wrong_layout_are_refused():
    selector = compile_selector(parse_filter("metrics.acc > 0").ast, "run")
    with pytest.raises(ValueError):
        selector.select(ValueColumns([], "row"))


def test_compacted_columns_keep_signs_nan_and_strings():
    runs = [make_value_run(0, -0.0, "adam"), make_value_run(1, math.nan, "adam"),
            make_value_run(2, None, None)]
    columns = ValueColumns(runs)
    acc = columns.column(("metric", "acc", False))
    assert math.copysign(1, acc[0]) == -1 and math.isnan(acc[1]) and acc[2] is None
    lr = columns.column(("param", "lr", False))
    assert lr[0] == lr[1] == "adam" and lr[0] is lr[1] and lr[2] is None
    assert columns.column(("param", "lr", True)) == [None, None, None]  # 'adam' is no number
