"""The filter grammar's syntax tree (``tracker.filter`` parses text into it) and what it means,
as plain closures over a run: ``compile_predicate``. ``tracker.query`` evaluates the same tree
over a runs table's columns and must agree with these closures (tests compare the two).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

from tracker.entities import Run
from tracker.filter_like import like_matcher

Predicate = Callable[[Run], bool]

ATTRIBUTES = {  # accepted name -> RunInfo field
    "status": "status", "run_name": "run_name", "name": "run_name", "run_id": "run_id",
    "experiment": "experiment", "start_time": "start_time", "end_time": "end_time", "user": "user",
}
NUMERIC_ATTRIBUTES = {"start_time", "end_time"}
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {"=": operator.eq, "!=": operator.ne, ">": operator.gt,
                                                      ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Field:
    """What a comparison looks at: ``kind`` is metric/param/tag/attr, ``key`` the name."""

    kind: str
    key: str

    @property
    def numeric(self) -> bool:
        return self.kind == "metric" or (self.kind == "attr" and self.key in NUMERIC_ATTRIBUTES)

    def getter(self) -> Callable[[Run], Any]:
        """A function returning the run's value for this field, or None when it has none."""
        key = self.key
        if self.kind == "metric":
            return lambda run: run.data.metrics.get(key)
        if self.kind == "param":
            return lambda run: run.data.params.get(key)
        if self.kind == "tag":
            return lambda run: run.data.tags.get(key)
        return operator.attrgetter(f"info.{key}")


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # one of COMPARISONS, "like", "ilike", "in"
    value: Any  # float, str, or a tuple of str for "in"
    literal: str = ""  # the number as written, for the non-numeric-param fallback
    negate: bool = False  # NOT IN / NOT LIKE / NOT ILIKE


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    children: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    child: Any


def to_float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _value_test(c: Compare) -> Callable[[Any], bool]:
    """A test on a value known to be present (not None)."""
    if c.op == "in":
        return frozenset(c.value).__contains__
    if c.op in ("like", "ilike"):
        return like_matcher(c.value, c.op == "ilike")
    cmp, target = COMPARISONS[c.op], c.value
    if c.field.kind == "param" and c.literal:  # a param against a number literal
        op, literal = c.op, c.literal

        def param_test(v: str) -> bool:
            number = to_float(v)
            if number is None:  # fall back to comparing text: never equal, never ordered
                return op == "!=" or (op == "=" and v == literal)
            return cmp(number, target)
        return param_test
    return lambda v: cmp(v, target)


def compile_predicate(node: Any) -> Predicate:
    """The AST as nested closures: the reference meaning of every filter (``tracker.query`` must agree)."""
    if isinstance(node, BoolOp):
        preds = [compile_predicate(child) for child in node.children]
        if len(preds) == 2:  # the common case, without the generator overhead
            a, b = preds
            return (lambda r: a(r) and b(r)) if node.op == "and" else (lambda r: a(r) or b(r))
        if node.op == "and":
            return lambda r: all(p(r) for p in preds)
        return lambda r: any(p(r) for p in preds)
    if isinstance(node, Not):
        inner = compile_predicate(node.child)
        return lambda r: not inner(r)
    get, test = node.field.getter(), _value_test(node)
    if node.negate:
        return lambda r: (v := get(r)) is not None and not test(v)
    return lambda r: (v := get(r)) is not None and test(v)
