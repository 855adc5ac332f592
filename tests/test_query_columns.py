"""tracker.query: the filter and order_by evaluated over a RunTable's columns must agree with
``RunFilter.matches`` (the grammar's reference meaning) and with sorting the runs one by one."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filter_strategies import expressions, make_value_run, quote, run_lists
from tracker.entities import Run
from tracker.filter import parse_filter
from tracker.index import TableBuilder
from tracker.ordering import order_keys
from tracker.query import order, select


def table_of(runs: list[Run]):
    builder = TableBuilder("")
    for n, run in enumerate(runs):
        builder.add_run(f"{n:032x}", None, run)
    return builder.build()


def expected(runs, text):
    matches = parse_filter(text).matches
    return [n for n, run in enumerate(runs) if matches(run)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), text=expressions())
def test_column_evaluation_agrees_with_matches(runs, text):
    assert select(table_of(runs), text).tolist() == expected(runs, text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), first=expressions(), second=expressions(), data=st.data())
def test_one_table_serves_any_later_filter_and_a_subset_of_rows(runs, first, second, data):
    table = table_of(runs)
    rows = np.array(data.draw(st.permutations(range(len(runs)))), dtype=np.int64)
    for text in (first, second, first):
        want = set(expected(runs, text))
        assert select(table, text, rows).tolist() == [r for r in rows.tolist() if r in want]


@pytest.mark.parametrize("text", [
    "metrics.acc != 0.5",  # NaN and infinities: only != matches NaN
    "metrics.acc = 0 and metrics.acc >= -0",  # -0.0 equals 0.0
    "metrics.acc > -1e308 or metrics.loss < 1e308",
    "params.lr = 10",  # '10', '10.0', '1e1' and ' 10 ' all parse as 10
    "params.lr != 10 and params.lr = 'adam'",
    "params.lr > -1 or params.lr NOT IN ('1_0')",  # float('1_0') is 10, as in tracker.filter
    "params.lr = 0.5 or params.lr != 0.5",  # the text "nan" parses, as NaN: it matches != only
    "params.lr != 5",  # 'adam' does not parse: it matches != only
])
def test_edge_values(text):
    runs = [make_value_run(i, acc, lr) for i, (acc, lr) in enumerate([
        (math.nan, "10"), (math.inf, "10.0"), (-math.inf, "1e1"), (-0.0, " 10 "), (0.0, "adam"),
        (0.5, "nan"), (None, None), (1e308, "1_0"), (-1e308, "-0")])]
    assert select(table_of(runs), text).tolist() == expected(runs, text)


def test_values_are_data_never_code():
    runs = [make_value_run(0, 0.5, "'); import os; ('"), make_value_run(1, 0.5, "adam")]
    for text in [f"params.lr = {quote(runs[0].data.params['lr'])}", "params.lr LIKE '%import os%'",
                 "params.lr IN ('adam', '__import__(\"os\")')", "metrics.`acc'); x = (1` > 0"]:
        assert select(table_of(runs), text).tolist() == expected(runs, text)


@pytest.mark.parametrize("text", [
    "not (" * 50 + "metrics.acc > 0.1" + ")" * 50,  # the grammar's deepest
    "(metrics.acc > 0.1 or " * 99 + "metrics.acc < 0" + ")" * 99,
    " or ".join(f"metrics.acc = {i / 10}" for i in range(300)),
])
def test_deep_and_long_expressions(text):
    runs = [make_value_run(0, 0.5, "x"), make_value_run(1, 0.0, "y"), make_value_run(2, None, "z")]
    assert select(table_of(runs), text).tolist() == expected(runs, text)


def one_by_one(runs: list[Run], clauses) -> list[int]:
    """The reference order: a stable sort per key, least significant first, missing (and NaN) last."""
    indices = list(range(len(runs)))
    for field, descending in reversed(order_keys(clauses)):
        getter = field.getter()
        values = [getter(runs[i]) for i in indices]
        if field.kind == "param":
            numbers = [None if v is None else _float(v) for v in values]
            if all(n is not None or v is None for n, v in zip(numbers, values)):
                values = numbers
        present = [(v, i) for v, i in zip(values, indices) if v is not None and v == v]
        missing = [i for v, i in zip(values, indices) if v is None or v != v]
        present.sort(key=lambda p: p[0], reverse=descending)
        indices = [i for _, i in present] + missing
    return indices


def _float(text):
    try:
        return float(text)
    except ValueError:
        return None


ORDER_CLAUSES = st.lists(st.sampled_from([
    "metrics.acc", "metrics.acc DESC", "metrics.loss ASC", "params.lr", "params.lr DESC", "params.model",
    "tags.stage DESC", "start_time", "end_time DESC", "run_name", "status DESC", "attributes.user",
]), max_size=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), clauses=ORDER_CLAUSES, limit=st.none() | st.integers(0, 14))
def test_ordering_over_columns_agrees_with_sorting_runs(runs, clauses, limit):
    want = one_by_one(runs, clauses)
    got = order(table_of(runs), clauses, limit=limit).tolist()
    assert got == (want if limit is None else want[:limit])


def test_a_top_n_of_many_rows_is_the_head_of_the_full_order():
    rng = np.random.default_rng(7)
    runs = [make_value_run(i, float(v), str(int(v * 10))) for i, v in enumerate(rng.integers(0, 50, 2000) / 7)]
    table = table_of(runs)
    full = order(table, ["metrics.acc DESC"])
    assert order(table, ["metrics.acc DESC"], limit=100).tolist() == full[:100].tolist()
    assert order(table, ["params.lr"], limit=5).tolist() == order(table, ["params.lr"])[:5].tolist()
