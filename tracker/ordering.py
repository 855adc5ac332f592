"""Order runs by MLflow's ``order_by`` clauses ("metrics.acc DESC", "params.lr", "start_time ASC").

Uses the filter grammar's field syntax (``tracker.filter``), so keys are written the same way.
"""
from __future__ import annotations

import operator
from typing import Callable, Iterable

from tracker.entities import Run
from tracker.filter import Field, _describe, _Parser
from tracker.filter_ast import to_float


def _parse_order_clause(clause: str) -> tuple[Field, bool]:
    parser = _Parser(clause, "order_by")
    tok = parser.next()
    if tok.kind != "ident":
        raise parser.error(f"expected a key such as metrics.accuracy, found {_describe(tok)}", tok.pos)
    field, descending = parser.field(tok), False
    tok = parser.next()
    if tok.kind == "ident" and tok.value[0] is None and tok.value[1].lower() in ("asc", "desc"):
        descending = tok.value[1].lower() == "desc"
        tok = parser.next()
    if tok.kind != "end":
        raise parser.error(f"expected ASC, DESC or the end, found {_describe(tok)}", tok.pos)
    return field, descending


def _sort_pass(runs: list[Run], field: Field, descending: bool) -> list[Run]:
    """Stable sort on one field, runs lacking it (or NaN) last whatever the direction."""
    values = list(map(field.getter(), runs))
    if field.kind == "param":
        # Sort numerically when every present value is a number: '9' before '10', 1e-3 before 0.01.
        numbers = [v if v is None else to_float(v) for v in values]
        if all(n is not None or v is None for n, v in zip(numbers, values)):
            values = numbers
    present, missing = [], []
    for value, run in zip(values, runs):
        if value is None or value != value:  # value != value only for NaN, which breaks sorting
            missing.append(run)
        else:
            present.append((value, run))
    present.sort(key=operator.itemgetter(0), reverse=descending)  # reverse=True stays stable
    return [run for _, run in present] + missing


def parse_order_by(clauses: str | list[str] | None) -> Callable[[Iterable[Run]], list[Run]]:
    """Parse MLflow order_by clauses ("metrics.acc DESC", "params.lr", "start_time ASC", ...).

    Returns a function that sorts runs into a new list. Later clauses break ties. As in
    MLflow, ``start_time DESC`` (unless already ordered on) and then ``run_id ASC`` are
    appended, so the order never depends on the order the runs were read in.
    """
    if isinstance(clauses, str):
        clauses = [clauses]
    keys = [_parse_order_clause(c) for c in clauses or ()]
    if not any(f == Field("attr", "start_time") for f, _ in keys):
        keys.append((Field("attr", "start_time"), True))
    keys.append((Field("attr", "run_id"), False))

    def sort(runs: Iterable[Run]) -> list[Run]:
        ordered = list(runs)
        for field, descending in reversed(keys):  # least significant first; each pass is stable
            ordered = _sort_pass(ordered, field, descending)
        return ordered
    return sort


def sort_runs(runs: Iterable[Run], order_by: str | list[str] | None = None) -> list[Run]:
    """``runs`` sorted by MLflow-style ``order_by`` clauses (default: newest first)."""
    return parse_order_by(order_by)(runs)
