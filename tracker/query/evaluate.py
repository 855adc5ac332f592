"""The filter grammar evaluated over a ``RunTable``'s columns: one boolean array per comparison.

Means exactly what ``tracker.filter_ast.compile_predicate`` means for one run (tests compare the
two under Hypothesis). A text comparison is decided once per distinct value of the column and
reaches the runs through its codes, so ``params.optimizer LIKE '%adam%'`` over 100,000 runs of a
sweep costs a handful of LIKE matches and one numpy take.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..filter import RunFilter, parse_filter
from ..filter_ast import COMPARISONS, BoolOp, Compare, Field, Not
from ..filter_like import like_matcher
from ..index.columns import NO_INT, TextColumn
from ..index.table import RunTable

_NUMPY_OPS = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt,
              "<=": operator.le}
_TEXT_ATTRIBUTES = {"status", "run_name", "run_id", "experiment", "user"}


def mask(table: RunTable, node: Any) -> np.ndarray:
    """A bool per row of ``table``: does the row's run match the syntax tree ``node``?"""
    if isinstance(node, BoolOp):
        parts = [mask(table, child) for child in node.children]
        combine = np.logical_and if node.op == "and" else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    if isinstance(node, Not):
        return ~mask(table, node.child)
    return _compare(table, node)


def select(table: RunTable, filter: RunFilter | str, rows: np.ndarray | None = None) -> np.ndarray:
    """The rows (int64 indices of ``table``) that match, in the order of ``rows`` (default: every row)."""
    if isinstance(filter, str):
        filter = parse_filter(filter)
    rows = np.arange(table.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    if filter.ast is None:
        return rows
    return rows[mask(table, filter.ast)[rows]]


def text_column(table: RunTable, field: Field) -> TextColumn | None:
    """The text column a param, tag or text attribute lives in (None: no run has it)."""
    if field.kind == "param":
        return table.params.get(field.key)
    if field.kind == "tag":
        return table.tags.get(field.key)
    return table.text[field.key]


def _compare(table: RunTable, c: Compare) -> np.ndarray:
    field = c.field
    if field.kind == "metric":
        column = table.metrics.get(field.key)
        if column is None:
            return np.zeros(table.n, dtype=bool)
        return column.present & _NUMPY_OPS[c.op](column.values(), c.value)
    if field.kind == "attr" and field.key not in _TEXT_ATTRIBUTES:  # start_time, end_time
        values = table.ints[field.key]
        with np.errstate(invalid="ignore"):
            return (values != NO_INT) & _NUMPY_OPS[c.op](values.astype(np.float64), c.value)
    column = text_column(table, field)
    if column is None:
        return np.zeros(table.n, dtype=bool)
    tests = _unique_tests(column, c)
    if c.negate:
        tests = ~tests
    return np.append(tests, False)[column.codes]  # a run without a value never matches


def _unique_tests(column: TextColumn, c: Compare) -> np.ndarray:
    """The comparison's result for each distinct value of ``column``."""
    uniques = column.uniques
    if c.op == "in":
        wanted = frozenset(c.value)
        return np.fromiter((u in wanted for u in uniques), dtype=bool, count=len(uniques))
    if c.op in ("like", "ilike"):
        match = like_matcher(c.value, c.op == "ilike")
        return np.fromiter((match(u) for u in uniques), dtype=bool, count=len(uniques))
    objects = column.objects()[:-1]
    if c.field.kind == "param" and c.literal:  # a param against a number: numerically where it parses
        numbers, parsed = column.unique_numbers(), column.unique_parsed()
        with np.errstate(invalid="ignore"):
            numeric = _NUMPY_OPS[c.op](numbers, c.value)
        fallback = np.full(len(uniques), c.op == "!=")
        if c.op == "=":
            fallback = objects == c.literal
        return np.where(parsed, numeric, fallback).astype(bool)
    if c.op not in COMPARISONS:
        raise ValueError(f"unknown operator {c.op!r}")
    return np.asarray(_NUMPY_OPS[c.op](objects, c.value), dtype=bool).reshape(len(uniques))
