"""MLflow's ``order_by`` over a ``RunTable``: numpy sorts over columns, a partial sort for a top N.

Means what ``tracker.ordering.sort_runs`` means: runs lacking a key (or NaN) go last whatever
the direction; a param sorts numerically when every value present parses as a number; ties
are broken by ``start_time DESC`` then ``run_id ASC`` (MLflow's defaults).
"""
from __future__ import annotations

import numpy as np

from ..filter_ast import Field
from ..index.columns import NO_INT
from ..index.table import RunTable
from ..ordering import order_keys
from .evaluate import text_column


def sort_key(table: RunTable, field: Field) -> tuple[np.ndarray, np.ndarray]:
    """``(values, missing)`` per row for sorting on ``field``: values (float64 or int64) ascend in the
    field's order; ``missing`` marks rows without a value (they sort last either way)."""
    if field.kind == "metric":
        column = table.metrics.get(field.key)
        if column is None:
            return np.zeros(table.n), np.ones(table.n, dtype=bool)
        values = column.values()
        missing = ~column.present | np.isnan(values)
        return np.where(missing, 0.0, values), missing
    if field.kind == "attr" and field.key in ("start_time", "end_time"):
        values = table.ints[field.key]
        missing = values == NO_INT
        return np.where(missing, 0, values), missing
    column = text_column(table, field)
    if column is None:
        return np.zeros(table.n), np.ones(table.n, dtype=bool)
    codes = column.codes
    missing = codes < 0
    if field.kind == "param":
        used = column.used_codes()
        if column.unique_parsed()[used].all():  # every value a number: '9' before '10'
            numbers = np.append(column.unique_numbers(), np.nan)[codes]
            missing = missing | np.isnan(numbers)
            return np.where(missing, 0.0, numbers), missing
    return column.unique_ranks()[codes], missing


def order(table: RunTable, order_by: str | list[str] | None = None, rows: np.ndarray | None = None,
          limit: int | None = None) -> np.ndarray:
    """``rows`` (default: all) sorted by MLflow ``order_by`` clauses; only the first ``limit`` when given."""
    return order_fields(table, order_keys(order_by), rows, limit)


def order_fields(table: RunTable, fields: list[tuple[Field, bool]], rows: np.ndarray | None = None,
                 limit: int | None = None) -> np.ndarray:
    """``rows`` sorted by ``(field, descending)`` pairs, most significant first.

    With a ``limit`` well below the number of rows, only the rows that can make the top ``limit``
    on the first field are fully sorted (``np.partition``), not all of them.
    """
    rows = np.arange(table.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    keys = [(*sort_key(table, field), descending) for field, descending in fields]
    if keys and limit is not None and 0 <= limit < len(rows) // 2:
        values, missing, descending = keys[0]
        primary = _directed(values[rows], descending).astype(np.float64)
        primary[missing[rows]] = np.inf
        kth = np.partition(primary, limit)[limit] if limit else -np.inf
        rows = rows[primary <= kth]  # ties with the last place included: the full sort decides
    columns = []
    for values, missing, descending in reversed(keys):  # np.lexsort: the last key is the primary one
        columns.append(_directed(values[rows], descending))
        columns.append(missing[rows])
    ordered = rows[np.lexsort(columns)] if columns else rows
    return ordered if limit is None else ordered[:limit]


def _directed(values: np.ndarray, descending: bool) -> np.ndarray:
    return -values if descending else values
