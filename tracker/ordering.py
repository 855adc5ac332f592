"""Order runs by MLflow's ``order_by`` clauses ("metrics.acc DESC", "params.lr", "start_time ASC").

Uses the filter grammar's field syntax (``tracker.filter``), so keys are written the same way.
"""
from __future__ import annotations

from typing import Iterable

from tracker.entities import Run
from tracker.filter import Field, _describe, _Parser


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


def order_keys(clauses: str | list[str] | None) -> list[tuple[Field, bool]]:
    """Parse MLflow order_by clauses ("metrics.acc DESC", "params.lr", "start_time ASC", ...) into
    ``(field, descending)`` pairs, most significant first.

    As in MLflow, ``start_time DESC`` (unless already ordered on) and then ``run_id ASC`` are
    appended, so the order never depends on the order the runs were read in.
    """
    if isinstance(clauses, str):
        clauses = [clauses]
    keys = [_parse_order_clause(c) for c in clauses or ()]
    if not any(f == Field("attr", "start_time") for f, _ in keys):
        keys.append((Field("attr", "start_time"), True))
    keys.append((Field("attr", "run_id"), False))
    return keys


def sort_runs(runs: Iterable[Run], order_by: str | list[str] | None = None) -> list[Run]:
    """``runs`` sorted by MLflow-style ``order_by`` clauses (default: newest first).

    Runs lacking a key (or NaN) go last whatever the direction; a param sorts numerically
    when every value present is a number. The work is ``tracker.query.order``'s, over columns.
    """
    from .index.table import TableBuilder
    from .query.order import order_fields
    runs = list(runs)
    keys = order_keys(order_by)  # parse first: a bad clause fails before any work
    builder = TableBuilder("")
    for n, run in enumerate(runs):
        builder.add_run(f"{n:032x}", None, run)
    return [runs[i] for i in order_fields(builder.build(), keys).tolist()]
