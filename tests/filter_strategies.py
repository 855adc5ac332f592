"""Hypothesis strategies for filter texts and runs that exercise the grammar's edge cases:
NaN, infinities and -0.0 metrics, params that parse as numbers or not, missing keys, an
unset end_time, LIKE wildcards, quotes and text that looks like code."""
from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from tracker.entities import Run, RunData, RunInfo

METRIC_KEYS = ("acc", "loss", "val/acc")
PARAM_KEYS = ("lr", "opt", "depth")
TAG_KEYS = ("stage", "note")

_FLOATS = (0.0, -0.0, 0.5, 0.9, 1.0, 10.0, -1.0, 1e-3, math.nan, math.inf, -math.inf)
_NUMBERS = ("0", "-0", "0.5", ".9", "1", "10", "1e1", "-1", "1e-3", "1e308", "2.5E+1")
_PARAM_VALUES = ("10", "10.0", "1e1", " 10 ", "0.5", "-0", "nan", "inf", "1_0", "adam", "Adam",
                 "ADAM", "", "a%b", "a_b", "x'y", "10abc", "'); import os; ('")
_STRINGS = ("adam", "Adam", "prod", "dev", "", "10", "a%b", "a_b", "x'y", "%", "_", "\\%",
            "'); import os; ('", "{0}", "é")
_PATTERNS = ("%", "_", "ad%", "%am", "a_am", "%d%", "a\\%b", "a\\_b", "", "%'%", "A%")


def quote(text: str) -> str:
    """``text`` as a filter string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _key(prefix: str, key: str) -> str:
    return f"{prefix}.`{key}`" if "/" in key else f"{prefix}.{key}"


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(("metric", "param", "tag", "numattr", "strattr")))
    if kind in ("metric", "numattr"):
        field = (_key("metrics", draw(st.sampled_from(METRIC_KEYS))) if kind == "metric"
                 else draw(st.sampled_from(("start_time", "attributes.end_time"))))
        op = draw(st.sampled_from(("=", "==", "!=", ">", ">=", "<", "<=")))
        return f"{field} {op} {draw(st.sampled_from(_NUMBERS))}"
    if kind == "param":
        field = _key("params", draw(st.sampled_from(PARAM_KEYS)))
    elif kind == "tag":
        field = _key("tags", draw(st.sampled_from(TAG_KEYS)))
    else:
        field = draw(st.sampled_from(("status", "attributes.user", "run_name", "run.experiment")))
    ops = ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN"]
    if kind == "param":
        ops += ["=#", "!=#", ">", ">=", "<", "<="]  # '#': against a number literal
    op = draw(st.sampled_from(ops))
    if op.endswith("IN"):
        items = draw(st.lists(st.sampled_from(_STRINGS + ("FINISHED", "RUNNING", "ana")),
                              min_size=1, max_size=3))
        return f"{field} {op} ({', '.join(map(quote, items))})"
    if op.endswith("LIKE"):
        return f"{field} {op} {quote(draw(st.sampled_from(_PATTERNS)))}"
    if op.endswith("#") or op in (">", ">=", "<", "<="):
        return f"{field} {op.rstrip('#')} {draw(st.sampled_from(_NUMBERS))}"
    return f"{field} {op} {quote(draw(st.sampled_from(_STRINGS + ('FINISHED', 'ana'))))}"


def expressions(max_leaves: int = 6) -> st.SearchStrategy[str]:
    """Filter texts that parse: comparisons joined with AND/OR, under NOT and parentheses."""
    return st.recursive(
        comparisons(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from((" and ", " or ", " AND ", " OR ")), inner).map("".join),
            inner.map(lambda e: f"not ({e})"),
            inner.map(lambda e: f"NOT {e}"),
            inner.map(lambda e: f"({e})"),
        ),
        max_leaves=max_leaves,
    )


def _some(keys: tuple[str, ...], values: tuple[Any, ...]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=len(keys))


def _run(index: int, start: int, end: int | None, name: str, experiment: str, status: str, user: str,
         params: dict, tags: dict, metrics: dict) -> Run:
    info = RunInfo(run_id=f"{index:032x}", run_name=name, experiment=experiment, status=status,
                   start_time=start, end_time=None if end is None else start + end, artifact_uri="",
                   user=user)
    return Run(info, RunData(params=params, tags=tags, metrics=metrics))


# Built once: strategies made inside a composite on every draw made the tests 5x slower.
_RUN_PARTS = st.tuples(
    st.sampled_from((0, 1, 10, 100)), st.sampled_from((None, 0, 10)),
    st.sampled_from(("adam", "run-1", "Adam", "a%b", "")), st.sampled_from(("default", "adam", "é")),
    st.sampled_from(("FINISHED", "RUNNING", "FAILED")), st.sampled_from(("ana", "", "x'y")),
    _some(PARAM_KEYS, _PARAM_VALUES), _some(TAG_KEYS, _STRINGS), _some(METRIC_KEYS, _FLOATS),
)


def run_lists(max_size: int = 12, min_size: int = 0) -> st.SearchStrategy[list[Run]]:
    """Runs with distinct ids, covering missing keys, NaN, -0.0, unset end_time, quotes."""
    return st.lists(_RUN_PARTS, min_size=min_size, max_size=max_size).map(
        lambda parts: [_run(i, *p) for i, p in enumerate(parts)])


def make_value_run(index: int, acc: float | None, lr: str | None) -> Run:
    """A run with at most one metric (acc) and one param (lr), for hand-picked edge values."""
    info = RunInfo(run_id=f"{index:032x}", run_name=f"run-{index}", experiment="default",
                   status="FINISHED", start_time=index, end_time=None, artifact_uri="")
    return Run(info, RunData(params={} if lr is None else {"lr": lr}, tags={},
                             metrics={} if acc is None else {"acc": acc}))
